package policy

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phigate/phigate/internal/bundletest"
)

// registry mirrors etc/providers.yaml: a default OpenAI account without a
// BAA, a BAA-covered zero-retention OpenAI account and a BAA-covered
// Anthropic account.
var registry = map[string]Provider{
	"openai":     {Name: "openai", Cluster: "openai", Format: "openai", Default: true, Regions: []string{"us"}},
	"openai-baa": {Name: "openai-baa", Cluster: "openai_baa", Format: "openai", BAA: true, ZeroDataRetention: true, Regions: []string{"us"}},
	"anthropic":  {Name: "anthropic", Cluster: "anthropic", Format: "anthropic", BAA: true, Default: true, Regions: []string{"us"}},
}

// input returns a valid OpenAI chat request to provider with the given PHI
// type counts.
func input(provider string, phi map[string]int) Input {
	in := Input{
		Request: RequestInfo{
			API:               "openai.chat_completions",
			Format:            "openai",
			Method:            "POST",
			Path:              "/v1/chat/completions",
			Model:             "gpt-4o",
			BodyValid:         true,
			RequestedProvider: provider,
			Tenant:            "clinic-a",
			Purpose:           "treatment",
			Headers:           map[string]string{},
		},
		PHI: PHISummary{
			Types:         map[string]int{},
			MaxConfidence: map[string]float64{},
			Fields:        []string{},
		},
		Providers: registry,
	}
	for typ, n := range phi {
		in.PHI.Total += n
		in.PHI.Types[typ] = n
		in.PHI.MaxConfidence[typ] = 0.9
		in.PHI.Fields = append(in.PHI.Fields, "messages[0].content")
	}
	return in
}

// withPurpose sets the purpose-of-use header of in.
func withPurpose(in Input, purpose string) Input {
	in.Request.Purpose = purpose
	return in
}

// euRegistry is registry plus a BAA-covered OpenAI-format provider in the
// eu region, the only region the bundle's example-eu-clinic tenant allows.
func euRegistry() map[string]Provider {
	providers := maps.Clone(registry)
	providers["openai-eu"] = Provider{Name: "openai-eu", Cluster: "openai_eu", Format: "openai", BAA: true, Regions: []string{"eu"}}
	return providers
}

// loadBundle compiles dir without the self-test, so that tests can check
// Decide on bundles that Load itself would reject.
func loadBundle(t *testing.T, dir string) *Engine {
	t.Helper()
	b, _, err := (&DirSource{Path: dir}).Fetch(context.Background(), "")
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	e, err := compile(context.Background(), b, dir)
	if err != nil {
		t.Fatalf("compiling %s: %v", dir, err)
	}
	return e
}

func TestDefaultBundleDecisions(t *testing.T) {
	engine := loadBundle(t, filepath.Join("..", "rego"))

	tests := []struct {
		name       string
		input      func() Input
		action     string
		provider   string
		status     int
		redact     []string
		reasonPart string
	}{
		{
			name:       "clean request",
			input:      func() Input { return input("openai", nil) },
			action:     ActionAllow,
			provider:   "openai",
			reasonPart: "no PHI found",
		},
		{
			name:       "PHI to BAA provider",
			input:      func() Input { return input("anthropic", map[string]int{"NAME": 1, "SSN": 1}) },
			action:     ActionAllow,
			provider:   "anthropic",
			reasonPart: "has a BAA",
		},
		{
			name:       "PHI rerouted",
			input:      func() Input { return input("openai", map[string]int{"PHONE": 2}) },
			action:     ActionAllow,
			provider:   "openai-baa",
			reasonPart: "rerouted from openai to openai-baa, which has a BAA",
		},
		{
			name: "reroute prefers zero retention",
			input: func() Input {
				in := input("openai", map[string]int{"NAME": 1})
				in.Providers = map[string]Provider{
					"openai":   {Name: "openai", Format: "openai"},
					"a-baa":    {Name: "a-baa", Format: "openai", BAA: true},
					"z-baa":    {Name: "z-baa", Format: "openai", BAA: true, ZeroDataRetention: true},
					"claude-x": {Name: "claude-x", Format: "anthropic", BAA: true, ZeroDataRetention: true},
				}
				return in
			},
			action:     ActionAllow,
			provider:   "z-baa",
			reasonPart: "to z-baa",
		},
		{
			name: "PHI without BAA alternative",
			input: func() Input {
				in := input("openai", map[string]int{"SSN": 1, "NAME": 2})
				in.Providers = map[string]Provider{
					"openai":    {Name: "openai", Format: "openai"},
					"anthropic": {Name: "anthropic", Format: "anthropic", BAA: true},
				}
				return in
			},
			action:     ActionRedact,
			provider:   "openai",
			redact:     []string{"NAME", "SSN"},
			reasonPart: "pseudonymized NAME, SSN",
		},
		{
			name: "invalid body",
			input: func() Input {
				in := input("openai", nil)
				in.Request.BodyValid = false
				in.Request.BodyError = "invalid JSON: unexpected end of JSON input"
				return in
			},
			action:     ActionDeny,
			status:     400,
			reasonPart: "not valid JSON",
		},
		{
			name: "invalid body unknown API",
			input: func() Input {
				in := input("openai", nil)
				in.Request.API = "unknown"
				in.Request.BodyValid = false
				return in
			},
			action:   ActionAllow,
			provider: "openai",
		},
		{
			name: "marketing with PHI",
			input: func() Input {
				in := input("anthropic", map[string]int{"EMAIL": 1})
				in.Request.Purpose = "marketing"
				return in
			},
			action:     ActionDeny,
			status:     403,
			reasonPart: "marketing",
		},
		{
			name: "marketing without PHI",
			input: func() Input {
				in := input("anthropic", nil)
				in.Request.Purpose = "marketing"
				return in
			},
			action:   ActionAllow,
			provider: "anthropic",
		},
		{
			name:       "payment reroutes like treatment",
			input:      func() Input { return withPurpose(input("openai", map[string]int{"HEALTH_PLAN_ID": 1}), "payment") },
			action:     ActionAllow,
			provider:   "openai-baa",
			reasonPart: "which has a BAA",
		},
		{
			name: "operations masks what it does not need",
			input: func() Input {
				return withPurpose(input("anthropic", map[string]int{"NAME": 1, "SSN": 1}), "operations")
			},
			action:     ActionRedact,
			provider:   "anthropic",
			redact:     []string{"SSN"},
			reasonPart: "operations: pseudonymized SSN",
		},
		{
			name:       "research masks every type",
			input:      func() Input { return withPurpose(input("anthropic", map[string]int{"NAME": 1, "DATE": 2}), "research") },
			action:     ActionRedact,
			provider:   "anthropic",
			redact:     []string{"DATE", "NAME"},
			reasonPart: "only de-identified data",
		},
		{
			name: "research out of region rerouted and masked",
			input: func() Input {
				in := withPurpose(input("openai-baa", map[string]int{"NAME": 1, "SSN": 1}), "research")
				in.Request.Tenant = "example-eu-clinic"
				in.Providers = euRegistry()
				return in
			},
			action:     ActionRedact,
			provider:   "openai-eu",
			redact:     []string{"NAME", "SSN"},
			reasonPart: "rerouted to openai-eu",
		},
		{
			name: "region-limited tenant rerouted to a BAA provider in region",
			input: func() Input {
				in := input("openai-baa", map[string]int{"NAME": 1})
				in.Request.Tenant = "example-eu-clinic"
				in.Providers = euRegistry()
				return in
			},
			action:     ActionAllow,
			provider:   "openai-eu",
			reasonPart: "rerouted from openai-baa to openai-eu",
		},
		{
			name: "unknown purpose is strict",
			input: func() Input {
				in := withPurpose(input("openai", map[string]int{"NAME": 1}), "curiosity")
				in.Providers = map[string]Provider{
					"openai":    {Name: "openai", Format: "openai"},
					"anthropic": {Name: "anthropic", Format: "anthropic", BAA: true},
				}
				return in
			},
			action:     ActionDeny,
			status:     403,
			reasonPart: "strict template",
		},
		{
			name:       "unknown provider",
			input:      func() Input { return input("gemini", nil) },
			action:     ActionDeny,
			status:     400,
			reasonPart: `unknown provider "gemini"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := engine.Decide(context.Background(), tt.input())
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if d.Action != tt.action {
				t.Errorf("Action = %q, want %q (reasons %q)", d.Action, tt.action, d.Reasons)
			}
			if d.Provider != tt.provider {
				t.Errorf("Provider = %q, want %q", d.Provider, tt.provider)
			}
			if d.Status != tt.status {
				t.Errorf("Status = %d, want %d", d.Status, tt.status)
			}
			var redact []string
			if d.Redact != nil {
				redact = d.Redact.Types
			}
			if !slices.Equal(redact, tt.redact) {
				t.Errorf("Redact types = %q, want %q", redact, tt.redact)
			}
			if len(d.Reasons) == 0 {
				t.Fatal("Reasons is empty, want at least one")
			}
			if !strings.Contains(strings.Join(d.Reasons, "; "), tt.reasonPart) {
				t.Errorf("Reasons = %q, want one containing %q", d.Reasons, tt.reasonPart)
			}
		})
	}
}

// writeBundle writes files, given as name and content pairs, into a new
// bundle directory.
func writeBundle(t *testing.T, files map[string]string) string {
	return bundletest.WriteDir(t, files)
}

func TestDecidePHICountsDisagree(t *testing.T) {
	engine := loadBundle(t, filepath.Join("..", "rego"))
	tests := []struct {
		name  string
		total int
		types map[string]int
		want  string
	}{
		{name: "total without types", total: 3, types: nil, want: "phi.total is 3 but phi.types counts 0 values"},
		{name: "types without total", total: 0, types: map[string]int{"SSN": 1}, want: "phi.total is 0 but phi.types counts 1 values"},
		{name: "negative total", total: -1, types: nil, want: "phi.total is -1 but phi.types counts 0 values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input("anthropic", nil)
			in.PHI.Total = tt.total
			in.PHI.Types = tt.types
			_, err := engine.Decide(context.Background(), in)
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("Decide error = %v, want ErrInvalidInput", err)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decide error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDecideUndefined(t *testing.T) {
	tests := []struct {
		name   string
		module string
	}{
		{name: "no decision rule", module: "package phigate\n\nother := 1\n"},
		{name: "rule never true", module: "package phigate\n\ndecision := {\"action\": \"deny\", \"reasons\": [\"r\"]} if input.never\n"},
		{name: "other package", module: "package elsewhere\n\ndecision := {\"action\": \"deny\", \"reasons\": [\"r\"]}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engine := loadBundle(t, writeBundle(t, map[string]string{"policy.rego": tt.module}))
			_, err := engine.Decide(context.Background(), input("openai", nil))
			if !errors.Is(err, ErrUndefined) {
				t.Errorf("Decide = %v, want ErrUndefined", err)
			}
		})
	}
}

func TestDecideMalformed(t *testing.T) {
	tests := []struct {
		name     string
		decision string
		want     string
	}{
		{
			name:     "unknown action",
			decision: `{"action": "block", "provider": "openai", "reasons": ["r"]}`,
			want:     `invalid action "block"`,
		},
		{
			name:     "missing action",
			decision: `{"provider": "openai", "reasons": ["r"]}`,
			want:     `invalid action ""`,
		},
		{
			name:     "unknown provider",
			decision: `{"action": "allow", "provider": "gemini", "reasons": ["r"]}`,
			want:     `unknown provider "gemini"`,
		},
		{
			name:     "allow without provider",
			decision: `{"action": "allow", "reasons": ["r"]}`,
			want:     `unknown provider ""`,
		},
		{
			name:     "redact without types",
			decision: `{"action": "redact", "provider": "openai", "redact": {"types": [], "operator": "mask"}, "reasons": ["r"]}`,
			want:     "redact decision lists no PHI types",
		},
		{
			name:     "redact without redact",
			decision: `{"action": "redact", "provider": "openai", "reasons": ["r"]}`,
			want:     "redact decision lists no PHI types",
		},
		{
			name:     "redact operator",
			decision: `{"action": "redact", "provider": "openai", "redact": {"types": ["SSN"], "operator": "hash"}, "reasons": ["r"]}`,
			want:     `unsupported operator "hash"`,
		},
		{
			name:     "extra field",
			decision: `{"action": "deny", "reasons": ["r"], "priority": 1}`,
			want:     `unknown field "priority"`,
		},
		{
			name:     "no reasons",
			decision: `{"action": "deny", "status": 403}`,
			want:     "decision gives no reasons",
		},
		{
			name:     "empty reasons",
			decision: `{"action": "deny", "reasons": []}`,
			want:     "decision gives no reasons",
		},
		{
			name:     "redirect status",
			decision: `{"action": "deny", "status": 302, "reasons": ["r"]}`,
			want:     "invalid status 302",
		},
		{
			name:     "wrong type",
			decision: `{"action": "deny", "reasons": "r"}`,
			want:     "invalid policy decision",
		},
		{
			name:     "not an object",
			decision: `"deny"`,
			want:     "invalid policy decision",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			module := "package phigate\n\ndecision := " + tt.decision + "\n"
			engine := loadBundle(t, writeBundle(t, map[string]string{"policy.rego": module}))

			_, err := engine.Decide(context.Background(), input("openai", nil))
			if err == nil {
				t.Fatalf("Decide accepted %s, want an error containing %q", tt.decision, tt.want)
			}
			if errors.Is(err, ErrUndefined) {
				t.Fatalf("Decide = ErrUndefined, want a validation error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decide error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDecideListsEveryProblem(t *testing.T) {
	module := "package phigate\n\ndecision := {\"action\": \"redact\", \"provider\": \"gemini\", \"status\": 200}\n"
	engine := loadBundle(t, writeBundle(t, map[string]string{"policy.rego": module}))

	_, err := engine.Decide(context.Background(), input("openai", nil))
	if err == nil {
		t.Fatal("Decide succeeded, want an error")
	}
	for _, want := range []string{`unknown provider "gemini"`, "lists no PHI types", "invalid status 200", "gives no reasons"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Decide error does not contain %q; full error:\n%s", want, err)
		}
	}
}

func TestDecideSmallBundle(t *testing.T) {
	module := `package phigate

decision := {"action": "allow", "provider": input.request.requested_provider, "model": "gpt-4o-mini", "headers": {"x-route": "small"}, "reasons": [data.phigate.reason]}
`
	dir := writeBundle(t, map[string]string{
		"policy.rego":          module,
		"phigate/data.json":    `{"reason": "from data.json"}`,
		"policy_test.rego":     "package phigate_test\n\nthis is not valid rego\n",
		"phigate/notes/README": "not loaded",
	})
	engine := loadBundle(t, dir)

	d, err := engine.Decide(context.Background(), input("openai-baa", nil))
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	if d.Action != ActionAllow || d.Provider != "openai-baa" {
		t.Errorf("decision = %s to %q, want allow to openai-baa", d.Action, d.Provider)
	}
	if d.Model != "gpt-4o-mini" {
		t.Errorf("Model = %q, want gpt-4o-mini", d.Model)
	}
	if d.Headers["x-route"] != "small" {
		t.Errorf("Headers = %v, want x-route: small", d.Headers)
	}
	if !slices.Equal(d.Reasons, []string{"from data.json"}) {
		t.Errorf("Reasons = %q, want the reason from data.json", d.Reasons)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{name: "no rego files", files: map[string]string{"data.json": "{}"}, want: "has no .rego files"},
		{name: "only tests", files: map[string]string{"x_test.rego": "package x\n"}, want: "has no .rego files"},
		{name: "syntax error", files: map[string]string{"policy.rego": "package phigate\n\ndecision := {\n"}, want: "rego_parse_error"},
		{name: "bad manifest", files: map[string]string{".manifest": "{", "policy.rego": "package phigate\n"}, want: "manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(context.Background(), writeBundle(t, tt.files))
			if err == nil {
				t.Fatalf("Load succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestRevision(t *testing.T) {
	const module = "package phigate\n\ndecision := {\"action\": \"deny\", \"reasons\": [\"r\"]}\n"
	dir := writeBundle(t, map[string]string{"policy.rego": module})
	first := loadBundle(t, dir).Revision()

	if !strings.HasPrefix(first, "sha256:") || len(first) != len("sha256:")+16 {
		t.Errorf("Revision = %q, want sha256: and 16 hex digits", first)
	}
	if again := loadBundle(t, dir).Revision(); again != first {
		t.Errorf("Revision changed from %q to %q with no file changed", first, again)
	}

	copied := writeBundle(t, map[string]string{"policy.rego": module})
	if got := loadBundle(t, copied).Revision(); got != first {
		t.Errorf("Revision of the same files in another directory = %q, want %q", got, first)
	}

	steps := []struct {
		name    string
		file    string
		content string
		changes bool
	}{
		{name: "test file added", file: "policy_test.rego", content: "package phigate_test\n", changes: false},
		{name: "readme added", file: "README.md", content: "# policy\n", changes: false},
		{name: "policy edited", file: "policy.rego", content: module + "\n# edited\n", changes: true},
		{name: "data added", file: "data.json", content: `{"limit": 1}`, changes: true},
		{name: "data edited", file: "data.json", content: `{"limit": 2}`, changes: true},
		{name: "module added", file: "extra/extra.rego", content: "package phigate.extra\n", changes: true},
		// A bundle loads data only from files named data.json or data.yaml.
		{name: "other JSON added", file: "phigate/settings.json", content: `{"no_baa_action": "deny"}`, changes: false},
		{name: "other JSON edited", file: "phigate/settings.json", content: `{"no_baa_action": "redact"}`, changes: false},
		{name: "nested data added", file: "phigate/limits/data.yaml", content: "max: 1\n", changes: true},
	}
	previous := first
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			path := filepath.Join(dir, step.file)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(step.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got := loadBundle(t, dir).Revision()
			if step.changes && got == previous {
				t.Errorf("Revision stayed %q, want a new revision", got)
			}
			if !step.changes && got != previous {
				t.Errorf("Revision changed from %q to %q, want it unchanged", previous, got)
			}
			previous = got
		})
	}
}

func TestRevisionFromManifest(t *testing.T) {
	const module = "package phigate\n\ndecision := {\"action\": \"deny\", \"reasons\": [\"r\"]}\n"

	dir := writeBundle(t, map[string]string{
		"policy.rego": module,
		".manifest":   `{"revision": "2031-01-15-abc123", "roots": ["phigate"]}`,
	})
	if got := loadBundle(t, dir).Revision(); got != "2031-01-15-abc123" {
		t.Errorf("Revision = %q, want the manifest revision 2031-01-15-abc123", got)
	}

	noRevision := writeBundle(t, map[string]string{
		"policy.rego": module,
		".manifest":   `{"roots": ["phigate"]}`,
	})
	if got := loadBundle(t, noRevision).Revision(); !strings.HasPrefix(got, "sha256:") {
		t.Errorf("Revision with a manifest without revision = %q, want a sha256: digest", got)
	}
}
