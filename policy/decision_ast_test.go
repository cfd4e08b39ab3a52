package policy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/util"
)

// fullDecision sets every field of Decision, so that a field added to
// the type without a case in decodeDecisionValue fails
// TestDecodeDecisionEveryField.
var fullDecision = Decision{
	Action:         ActionRedact,
	Provider:       "openai-baa",
	Model:          "gpt-4o",
	Redact:         &Redact{Types: []string{"NAME", "SSN"}, Operator: OperatorMask},
	ResponseRedact: &ResponseRedact{Types: []string{"NAME"}},
	Reasons:        []string{"PHI found", "operations: masked SSN"},
	Status:         451,
	Headers:        map[string]string{"x-route": "small"},
	Template:       "operations",
}

func TestDecodeDecisionEveryField(t *testing.T) {
	value := reflect.ValueOf(fullDecision)
	for i := range value.NumField() {
		if value.Field(i).IsZero() {
			t.Fatalf("fullDecision leaves %s unset; set it here and decode it in decodeDecisionValue", value.Type().Field(i).Name)
		}
	}

	v, err := ast.InterfaceToValue(fullDecision)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeDecisionValue(v)
	if err != nil {
		t.Fatalf("decodeDecisionValue(%v) = %v, want it decoded without JSON", v, err)
	}
	if !reflect.DeepEqual(got, fullDecision) {
		t.Errorf("decodeDecisionValue = %+v, want %+v", got, fullDecision)
	}
}

// The cases the direct path leaves to encoding/json must decode as JSON
// does, with its error messages.
func TestDecodeDecisionFallsBackToJSON(t *testing.T) {
	tests := []struct {
		name    string
		value   ast.Value
		want    Decision
		wantErr string
	}{
		{name: "null field", value: ast.MustParseTerm(`{"action": "deny", "model": null, "reasons": ["r"]}`).Value, want: Decision{Action: "deny", Reasons: []string{"r"}}},
		{name: "set of reasons", value: ast.MustParseTerm(`{"action": "deny", "reasons": {"r"}}`).Value, want: Decision{Action: "deny", Reasons: []string{"r"}}},
		{name: "field name case", value: ast.MustParseTerm(`{"Action": "deny", "reasons": ["r"]}`).Value, want: Decision{Action: "deny", Reasons: []string{"r"}}},
		{
			name: "invalid UTF-8",
			value: ast.NewObject(
				ast.Item(ast.StringTerm("action"), ast.StringTerm("deny")),
				ast.Item(ast.StringTerm("reasons"), ast.ArrayTerm(ast.StringTerm("a\xffb"))),
			),
			want: Decision{Action: "deny", Reasons: []string{"a\uFFFDb"}},
		},
		{name: "unknown field", value: ast.MustParseTerm(`{"action": "deny", "priority": 1}`).Value, wantErr: `json: unknown field "priority"`},
		{name: "fractional status", value: ast.MustParseTerm(`{"action": "deny", "status": 403.5}`).Value, wantErr: "cannot unmarshal number 403.5"},
		{name: "wrong type", value: ast.MustParseTerm(`{"action": "deny", "reasons": "r"}`).Value, wantErr: "cannot unmarshal string"},
		{name: "not an object", value: ast.String("deny"), wantErr: "cannot unmarshal string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeDecisionValue(tc.value); err == nil {
				t.Fatalf("decodeDecisionValue decoded %v, want it left to encoding/json", tc.value)
			}

			got, err := decodeDecision(tc.value)

			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("decodeDecision error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeDecision: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("decodeDecision = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// FuzzDecodeDecision checks that whatever the direct path decodes, it
// decodes exactly as encoding/json does. The input is JSON; with sets
// true, its arrays become Rego sets.
func FuzzDecodeDecision(f *testing.F) {
	for _, seed := range []string{
		`{"action": "allow", "provider": "openai", "reasons": ["no PHI found"], "template": "treatment"}`,
		`{"action": "redact", "provider": "openai", "redact": {"types": ["NAME", "SSN"], "operator": "mask"}, "reasons": ["r", "s"]}`,
		`{"action": "deny", "status": 403, "reasons": ["r"], "headers": {"x-a": "1"}, "model": "m"}`,
		`{"action": "allow", "provider": "p", "response_redact": {"types": ["NAME"]}, "reasons": ["r"]}`,
		`{"action": "deny", "status": 4.03e2, "reasons": ["r"], "redact": null}`,
		`{"action": ["deny"], "headers": {"a": 1}, "Status": 1}`,
		`{"redact": {"types": [1], "operator": null, "extra": true}}`,
		`[1, 2]`,
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, text string, sets bool) {
		var generic any
		if err := util.UnmarshalJSON([]byte(text), &generic); err != nil {
			return
		}
		value, err := ast.InterfaceToValue(generic)
		if err != nil {
			return
		}
		if sets {
			value = arraysToSets(value)
		}

		direct, err := decodeDecisionValue(value)
		if err != nil {
			return
		}
		viaJSON, err := decodeDecisionJSON(value)
		if err != nil {
			t.Fatalf("direct decoding of %v succeeded, JSON decoding failed: %v", value, err)
		}
		if !reflect.DeepEqual(direct, viaJSON) {
			t.Fatalf("decoding %v:\ndirect %+v\n  JSON %+v", value, direct, viaJSON)
		}
	})
}

func arraysToSets(v ast.Value) ast.Value {
	switch v := v.(type) {
	case *ast.Array:
		set := ast.NewSet()
		v.Foreach(func(t *ast.Term) { set.Add(ast.NewTerm(arraysToSets(t.Value))) })
		return set
	case ast.Object:
		obj := ast.NewObject()
		v.Foreach(func(k, t *ast.Term) { obj.Insert(k, ast.NewTerm(arraysToSets(t.Value))) })
		return obj
	default:
		return v
	}
}
