package policy_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	"github.com/phigate/phigate/config"
	"github.com/phigate/phigate/internal/gctune"
	"github.com/phigate/phigate/phi"
	"github.com/phigate/phigate/policy"
)

// benchRegistry is the registry of etc/providers.yaml plus a BAA-covered
// OpenAI-format provider in the EU, so that tenants limited to the eu
// region have somewhere to go.
var benchRegistry = map[string]policy.Provider{
	"openai":     {Name: "openai", Cluster: "openai", Format: "openai", Default: true, Regions: []string{"us"}, Models: []string{}, APIs: openAIAPIs},
	"openai-baa": {Name: "openai-baa", Cluster: "openai_baa", Format: "openai", BAA: true, ZeroDataRetention: true, Regions: []string{"us"}, Models: []string{}, APIs: openAIAPIs},
	"anthropic":  {Name: "anthropic", Cluster: "anthropic", Format: "anthropic", BAA: true, Default: true, Regions: []string{"us"}, Models: []string{}, APIs: anthropicAPIs},
	"openai-eu":  {Name: "openai-eu", Cluster: "openai_eu", Format: "openai", BAA: true, Regions: []string{"eu"}, Models: []string{"gpt-4o"}, APIs: openAIAPIs},
}

// The APIs each kind of provider serves, as the server lists them in the
// input.
var (
	openAIAPIs    = []string{"openai.chat_completions", "openai.responses", "openai.embeddings", "anthropic.messages"}
	anthropicAPIs = []string{"anthropic.messages", "anthropic.count_tokens", "openai.chat_completions"}
)

// benchInput is a request with PHI bound for a provider without a BAA:
// the default bundle reroutes it, which walks most of the rule chain.
func benchInput() policy.Input {
	return policy.Input{
		Version: policy.ContractVersion,
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
		Risk:      policy.Risk{Score: 80},
		Providers: benchRegistry,
	}
}

// benchFindings are the PHI mixes of the varied benchmark, from none to
// six types.
var benchFindings = []map[string]int{
	nil,
	{"NAME": 1},
	{"NAME": 1, "SSN": 1, "DATE": 2},
	{"MRN": 1, "PHONE": 1, "EMAIL": 1, "ADDRESS": 1, "ZIP": 1, "DATE": 3},
	{"HEALTH_PLAN_ID": 1, "ACCOUNT": 1, "NAME": 2},
}

// benchInputs returns every combination of tenant, purpose (as a header
// or a JWT claim), requested provider, API and PHI mix, in a fixed
// shuffled order, with risk scores from the engine's model. Each input has
// maps of its own, as requests do; the registry is shared, as in the
// server. Evaluating them in turn walks every template and most rules, so
// the benchmark does not repeat one path.
func benchInputs(engine *policy.Engine) []policy.Input {
	tenants := []string{"", "clinic-a", "example-research-lab", "example-eu-clinic"}
	purposes := []string{"", "treatment", "payment", "operations", "research", "marketing", "quality-review"}
	apis := []struct{ api, format, path, provider string }{
		{"openai.chat_completions", "openai", "/v1/chat/completions", "openai"},
		{"openai.chat_completions", "openai", "/v1/chat/completions", "openai-baa"},
		{"anthropic.messages", "anthropic", "/v1/messages", "anthropic"},
		{"openai.chat_completions", "openai", "/v1/chat/completions", "gemini"},
	}

	var inputs []policy.Input
	for _, tenant := range tenants {
		for pi, purpose := range purposes {
			for _, api := range apis {
				for fi, findings := range benchFindings {
					in := policy.Input{
						Version: policy.ContractVersion,
						Request: policy.RequestInfo{
							API: api.api, Format: api.format, Method: "POST", Path: api.path, Model: "gpt-4o",
							Stream: fi%2 == 1, BodyValid: true, RequestedProvider: api.provider, Tenant: tenant,
							Purpose: purpose, Headers: map[string]string{},
						},
						PHI: policy.PHISummary{
							Types:         map[string]int{},
							MaxConfidence: map[string]float64{},
							Fields:        []string{},
						},
						Health:    policy.HealthContext{Present: fi%2 == 0, Medications: fi % 2},
						Providers: benchRegistry,
					}
					if pi%2 == 1 {
						in.Request.Claims = map[string]any{"sub": "clinician-17", "purpose_of_use": purpose}
					}
					for typ, n := range findings {
						in.PHI.Total += n
						in.PHI.Types[typ] = n
						in.PHI.MaxConfidence[typ] = 0.6 + 0.1*float64(n)
						in.PHI.Fields = append(in.PHI.Fields, fmt.Sprintf("messages[%d].content", n))
					}
					requested := benchRegistry[api.provider]
					in.Risk = engine.RiskModelFor(tenant).Score(in.PHI, in.Health, requested.BAA)
					inputs = append(inputs, in)
				}
			}
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(inputs), func(i, j int) { inputs[i], inputs[j] = inputs[j], inputs[i] })
	return inputs
}

// BenchmarkDecide measures single decisions and reports the 50th, 99th
// and 99.9th percentile latency of the individual evaluations:
//   - mixed cycles through benchInputs with the default bundle.
//   - reroute repeats benchInput, which walks most of the rule chain.
//   - minimal cycles through benchInputs with a bundle whose decision is a
//     constant. What it measures is input conversion, OPA's per-query
//     setup and decision decoding, plus the machine's scheduling and
//     garbage collection noise.
func BenchmarkDecide(b *testing.B) {
	servedRuntime(b)
	ctx := context.Background()
	engine, err := policy.Load(ctx, "../rego")
	if err != nil {
		b.Fatal(err)
	}
	minimal, err := policy.Load(ctx, "testdata/minimal")
	if err != nil {
		b.Fatal(err)
	}
	inputs := benchInputs(engine)

	b.Run("mixed", func(b *testing.B) {
		actions := map[string]int{}
		runDecisions(b, func(i int) {
			d, err := engine.Decide(ctx, inputs[i%len(inputs)])
			if err != nil {
				b.Fatalf("input %d: %v", i%len(inputs), err)
			}
			actions[d.Action]++
		})
		if len(actions) != 3 {
			b.Fatalf("actions taken %v, want allow, redact and deny", actions)
		}
	})

	b.Run("reroute", func(b *testing.B) {
		in := benchInput()
		runDecisions(b, func(int) {
			d, err := engine.Decide(ctx, in)
			if err != nil || d.Provider != "openai-baa" {
				b.Fatalf("decision %+v, error %v", d, err)
			}
		})
	})

	b.Run("minimal", func(b *testing.B) {
		runDecisions(b, func(i int) {
			if _, err := minimal.Decide(ctx, inputs[i%len(inputs)]); err != nil {
				b.Fatalf("input %d: %v", i%len(inputs), err)
			}
		})
	})
}

// servedRuntime sets up the process as phigate serve runs: with its
// garbage collector targets (config.Runtime's defaults, unless GOGC or
// GOMEMLIMIT are set, as for the server) and with the name and place lists
// the server loads at start. Those lists are most of the server's live
// heap, and the live heap sets how often the collector runs. Without
// them the benchmark's live heap is about 1 MB, and collections run
// several times as often as in the server.
func servedRuntime(b *testing.B) {
	// SetGCPercent is the only way to read the target, so set it back.
	oldPercent := debug.SetGCPercent(100)
	debug.SetGCPercent(oldPercent)
	oldLimit := debug.SetMemoryLimit(-1)
	b.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})
	applied, err := gctune.Apply(config.Default().Runtime.Settings(), os.Getenv, "/sys/fs/cgroup")
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("garbage collector target %d (from %s)", applied.GCPercent, applied.GCPercentFrom)
	phi.Preload()
	runtime.GC()
}

// runDecisions times each call of decide and reports latency percentiles.
func runDecisions(b *testing.B, decide func(i int)) {
	durations := make([]time.Duration, 0, b.N)

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		decide(i)
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()

	slices.Sort(durations)
	pick := func(q float64) float64 {
		return float64(durations[int(q*float64(len(durations)-1))].Nanoseconds()) / 1000
	}
	b.ReportMetric(pick(0.50), "p50-µs")
	b.ReportMetric(pick(0.99), "p99-µs")
	b.ReportMetric(pick(0.999), "p999-µs")
}
