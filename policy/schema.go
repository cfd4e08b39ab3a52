package policy

import _ "embed"

// InputSchema and DecisionSchema are the JSON Schemas of the policy
// contract, published for policy authors and tools.
var (
	//go:embed schema/input.schema.json
	InputSchema []byte
	//go:embed schema/decision.schema.json
	DecisionSchema []byte
)
