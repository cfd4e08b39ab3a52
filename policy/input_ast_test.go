package policy

import (
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/util"
)

// The direct conversion must give exactly what OPA derives from the JSON
// encoding of the input, which is the documented contract.
func TestInputValueMatchesJSON(t *testing.T) {
	tests := []struct {
		name string
		in   Input
	}{
		{name: "zero", in: Input{}},
		{name: "full", in: Input{
			Request: RequestInfo{
				API: "openai.chat_completions", Format: "openai", Method: "POST", Path: "/v1/chat/completions",
				Model: "gpt-4o", Stream: true, BodyValid: false, BodyError: "invalid JSON: unexpected end", Attachments: 2,
				RequestedProvider: "openai", Tenant: "t1", Purpose: "treatment", Headers: map[string]string{"x-a": "1", "x-b": "2"},
			},
			PHI: PHISummary{
				Total: 3, Types: map[string]int{"SSN": 1, "NAME": 2},
				MaxConfidence: map[string]float64{"SSN": 0.95, "NAME": 0.5}, Fields: []string{"messages[0].content"},
			},
			Risk: Risk{Score: 70},
			Providers: map[string]Provider{
				"openai": {Name: "openai", Cluster: "openai", Format: "openai", Regions: []string{"us"}, Models: []string{}},
				"b":      {Name: "b", Cluster: "b", Format: "anthropic", BAA: true, ZeroDataRetention: true, Default: true},
			},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := json.Marshal(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var generic any
			if err := util.UnmarshalJSON(data, &generic); err != nil {
				t.Fatal(err)
			}
			want, err := ast.InterfaceToValue(generic)
			if err != nil {
				t.Fatal(err)
			}

			got := tc.in.value()

			if got.Compare(want) != 0 {
				t.Errorf("direct conversion differs from JSON:\n got %v\nwant %v", got, want)
			}
		})
	}
}
