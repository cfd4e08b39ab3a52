package policy

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/rego"
)

// InputSchema and DecisionSchema are the JSON Schemas of the policy
// contract, published for policy authors and tools.
var (
	//go:embed schema/input.schema.json
	InputSchema []byte
	//go:embed schema/decision.schema.json
	DecisionSchema []byte
)

// CheckInput returns an error listing every way a JSON input document
// breaks InputSchema, checked with OPA's json.match_schema built-in. It
// lets tools such as phigate policy eval reject hand-written documents
// that phigate itself would never send.
func CheckInput(ctx context.Context, doc []byte) error {
	var value, schema any
	if err := json.Unmarshal(doc, &value); err != nil {
		return fmt.Errorf("decoding input document: %w", err)
	}
	if err := json.Unmarshal(InputSchema, &schema); err != nil {
		return fmt.Errorf("decoding the input schema: %w", err)
	}
	query := rego.New(
		rego.Query("result := json.match_schema(input.document, input.schema)"),
		rego.Input(map[string]any{"document": value, "schema": schema}),
	)
	rs, err := query.Eval(ctx)
	if err != nil {
		return fmt.Errorf("checking input document against the schema: %w", err)
	}
	if len(rs) != 1 {
		return errors.New("checking input document against the schema: no result")
	}
	result, ok := rs[0].Bindings["result"].([]any)
	if !ok || len(result) != 2 {
		return errors.New("checking input document against the schema: unexpected result")
	}
	if match, _ := result[0].(bool); match {
		return nil
	}
	var problems []string
	issues, _ := result[1].([]any)
	for _, issue := range issues {
		if m, ok := issue.(map[string]any); ok {
			problems = append(problems, fmt.Sprintf("%v: %v", m["field"], m["desc"]))
		}
	}
	return fmt.Errorf("input document does not match the input schema: %s", strings.Join(problems, "; "))
}
