package processor

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// metrics are the processor's instruments. Attributes are limited to the
// API, action, provider registry name and PHI type.
type metrics struct {
	requests         metric.Int64Counter
	findings         metric.Int64Counter
	decisionDuration metric.Float64Histogram
	shadowDiffs      metric.Int64Counter
	auditErrors      metric.Int64Counter
}

func newMetrics(meter metric.Meter) *metrics {
	if meter == nil {
		meter = noop.NewMeterProvider().Meter("")
	}
	m := &metrics{}
	// The OpenTelemetry SDK (v1.47) returns a usable instrument even when
	// it reports an error, which flags an invalid name; these are constants.
	m.requests, _ = meter.Int64Counter("phigate_requests",
		metric.WithDescription("Requests decided, by API, action and provider."))
	m.findings, _ = meter.Int64Counter("phigate_phi_findings",
		metric.WithDescription("PHI values found in requests, by type."))
	m.decisionDuration, _ = meter.Float64Histogram("phigate_decision_duration",
		metric.WithUnit("s"),
		metric.WithDescription("Time from a complete request body to phigate's answer to Envoy: parsing, scanning, policy and the audit write."),
		metric.WithExplicitBucketBoundaries(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1))
	m.shadowDiffs, _ = meter.Int64Counter("phigate_shadow_differences",
		metric.WithDescription("Requests the shadow policy decided differently from the active one."))
	m.auditErrors, _ = meter.Int64Counter("phigate_audit_write_errors",
		metric.WithDescription("Audit records that could not be written; a failed decision record denies its request."))
	return m
}

func attrs(kv ...string) metric.MeasurementOption {
	list := make([]attribute.KeyValue, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		list = append(list, attribute.String(kv[i], kv[i+1]))
	}
	return metric.WithAttributes(list...)
}
