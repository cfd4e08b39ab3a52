// Package telemetry sets up phigate's OpenTelemetry metrics and serves
// them in the Prometheus text format on the admin port.
//
// Metric names start with phigate_ and carry only low-cardinality
// attributes (API, action, provider, PHI type, policy slot, result). No
// metric ever carries a request id, a tenant-supplied string or a PHI
// value.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Metrics owns the meter provider and the Prometheus registry behind the
// /metrics handler.
type Metrics struct {
	provider *sdkmetric.MeterProvider
	registry *prometheus.Registry
}

// New returns Metrics with a Prometheus exporter on a registry of its own,
// so that nothing else in the process leaks into /metrics.
func New() (*Metrics, error) {
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(
		otelprom.WithRegisterer(registry),
		otelprom.WithoutScopeInfo(),
		otelprom.WithoutTargetInfo(),
	)
	if err != nil {
		return nil, fmt.Errorf("creating Prometheus exporter: %w", err)
	}
	return &Metrics{
		provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter)),
		registry: registry,
	}, nil
}

// Meter returns the meter components create their instruments from.
func (m *Metrics) Meter(component string) metric.Meter {
	return m.provider.Meter("github.com/phigate/phigate/" + component)
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Shutdown flushes and stops the meter provider.
func (m *Metrics) Shutdown(ctx context.Context) error {
	if err := m.provider.Shutdown(ctx); err != nil && !errors.Is(err, sdkmetric.ErrReaderShutdown) {
		return fmt.Errorf("stopping metrics: %w", err)
	}
	return nil
}
