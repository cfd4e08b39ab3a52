package policy_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/phigate/phigate/policy"
)

// benchInput is a typical request with PHI bound for a provider without a
// BAA, which walks most of the default bundle's rules.
func benchInput() policy.Input {
	return policy.Input{
		Request: policy.RequestInfo{
			API: "openai.chat_completions", Format: "openai", Method: "POST", Path: "/v1/chat/completions",
			Model: "gpt-4o-mini", BodyValid: true, RequestedProvider: "openai", Purpose: "treatment", Headers: map[string]string{},
		},
		PHI: policy.PHISummary{
			Total:         4,
			Types:         map[string]int{"NAME": 1, "SSN": 1, "DATE": 2},
			MaxConfidence: map[string]float64{"NAME": 0.8, "SSN": 0.95, "DATE": 0.9},
			Fields:        []string{"messages[1].content"},
		},
		Risk: policy.Risk{Score: 80},
		Providers: map[string]policy.Provider{
			"openai":     {Name: "openai", Cluster: "openai", Format: "openai", Regions: []string{}, Models: []string{}},
			"openai-baa": {Name: "openai-baa", Cluster: "openai_baa", Format: "openai", BAA: true, ZeroDataRetention: true, Regions: []string{}, Models: []string{}},
			"anthropic":  {Name: "anthropic", Cluster: "anthropic", Format: "anthropic", BAA: true, Regions: []string{}, Models: []string{}},
		},
	}
}

// BenchmarkDecide measures one decision of the default bundle and reports
// the 50th and 99th percentile latency of the individual evaluations.
func BenchmarkDecide(b *testing.B) {
	ctx := context.Background()
	engine, err := policy.Load(ctx, "../rego")
	if err != nil {
		b.Fatal(err)
	}
	in := benchInput()
	durations := make([]time.Duration, 0, b.N)

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		d, err := engine.Decide(ctx, in)
		durations = append(durations, time.Since(start))
		if err != nil || d.Provider != "openai-baa" {
			b.Fatalf("decision %+v, error %v", d, err)
		}
	}
	b.StopTimer()

	slices.Sort(durations)
	pick := func(q float64) float64 {
		return float64(durations[int(q*float64(len(durations)-1))].Nanoseconds()) / 1000
	}
	b.ReportMetric(pick(0.50), "p50-µs")
	b.ReportMetric(pick(0.99), "p99-µs")
}
