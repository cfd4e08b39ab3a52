package policy

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"
)

// matchSchema validates doc against schema with OPA's json.match_schema,
// the same validator policy authors can call from Rego.
func matchSchema(t *testing.T, doc any, schema []byte) (bool, any) {
	t.Helper()
	var s any
	if err := json.Unmarshal(schema, &s); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	rs, err := rego.New(
		rego.Query("x := json.match_schema(input.doc, input.schema)"),
		rego.Input(map[string]any{"doc": generic, "schema": s}),
	).Eval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	result := rs[0].Bindings["x"].([]any)
	return result[0].(bool), result[1]
}

func TestInputMatchesSchema(t *testing.T) {
	tests := []struct {
		name string
		in   Input
	}{
		{name: "full", in: benchLikeInput()},
		{name: "without PHI", in: Input{
			Version: ContractVersion,
			Request: RequestInfo{API: "unknown", Format: "openai", Method: "GET", Path: "/v1/models", RequestedProvider: "openai"},
			PHI:     PHISummary{Types: map[string]int{}, MaxConfidence: map[string]float64{}, Fields: []string{}},
			Risk:    Risk{Parts: map[string]int{}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if ok, errs := matchSchema(t, tc.in, InputSchema); !ok {
				t.Errorf("input does not match input.schema.json: %v", errs)
			}
		})
	}
}

func benchLikeInput() Input {
	return Input{
		Version: ContractVersion,
		Request: RequestInfo{
			API: "openai.chat_completions", Format: "openai", Method: "POST", Path: "/v1/chat/completions",
			Model: "gpt-4o-mini", Stream: true, BodyValid: false, BodyError: "invalid JSON", Attachments: 1,
			RequestedProvider: "openai", Tenant: "t", Purpose: "treatment", Headers: map[string]string{},
			Claims: map[string]any{"sub": "clinician-1", "purpose_of_use": "treatment"},
		},
		PHI: PHISummary{
			Total: 2, Types: map[string]int{"SSN": 2}, MaxConfidence: map[string]float64{"SSN": 0.9},
			Fields: []string{"messages[0].content"},
		},
		Health: HealthContext{Present: true, ICD10Codes: 1},
		Risk:   Risk{Score: 70, Parts: map[string]int{"identifiers": 41}},
		Providers: map[string]Provider{
			"openai": {Name: "openai", Cluster: "openai", Format: "openai", Regions: []string{"us"}, Models: []string{}},
		},
	}
}

// The Go validation and the published schema must agree on every case;
// the registry check is Go's alone, so every case names a known provider.
func TestDecisionValidationMatchesSchema(t *testing.T) {
	providers := map[string]Provider{"openai": {Name: "openai"}}
	tests := []struct {
		name  string
		doc   string
		valid bool
	}{
		{"allow", `{"action":"allow","provider":"openai","reasons":["r"]}`, true},
		{"deny with status", `{"action":"deny","status":451,"reasons":["r"]}`, true},
		{"redact", `{"action":"redact","provider":"openai","redact":{"types":["SSN"],"operator":"mask"},"reasons":["r"],"template":"research"}`, true},
		{"allow with model and headers", `{"action":"allow","provider":"openai","model":"m","headers":{"x-a":"1"},"reasons":["r"]}`, true},
		{"unknown action", `{"action":"route","provider":"openai","reasons":["r"]}`, false},
		{"allow without provider", `{"action":"allow","reasons":["r"]}`, false},
		{"redact without types", `{"action":"redact","provider":"openai","redact":{"types":[],"operator":"mask"},"reasons":["r"]}`, false},
		{"redact without redact", `{"action":"redact","provider":"openai","reasons":["r"]}`, false},
		{"unknown operator", `{"action":"redact","provider":"openai","redact":{"types":["SSN"],"operator":"hash"},"reasons":["r"]}`, false},
		{"no reasons", `{"action":"deny","reasons":[]}`, false},
		{"empty reason", `{"action":"deny","reasons":[""]}`, false},
		{"status out of range", `{"action":"deny","status":302,"reasons":["r"]}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var generic any
			if err := json.Unmarshal([]byte(tc.doc), &generic); err != nil {
				t.Fatal(err)
			}
			schemaOK, errs := matchSchema(t, generic, DecisionSchema)
			if schemaOK != tc.valid {
				t.Errorf("schema says valid=%v (%v), want %v", schemaOK, errs, tc.valid)
			}

			var d Decision
			goErr := json.Unmarshal([]byte(tc.doc), &d)
			if goErr == nil {
				goErr = d.Validate(providers)
			}
			if (goErr == nil) != tc.valid {
				t.Errorf("Validate error = %v, want valid=%v", goErr, tc.valid)
			}
		})
	}
}

func TestCheckInput(t *testing.T) {
	valid, err := json.Marshal(benchLikeInput())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"valid", string(valid), ""},
		{"version only", `{"version": 1}`, "request is required"},
		{"wrong version", strings.Replace(string(valid), `"version":1`, `"version":2`, 1), "version"},
		{"not json", `{`, "decoding input document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckInput(context.Background(), []byte(tt.doc))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckInput = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckInput = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
