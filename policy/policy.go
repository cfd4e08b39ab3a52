// Package policy evaluates the Rego bundle that decides what happens to each
// request: allow it, redact it or deny it, and which provider receives it.
//
// The package does not depend on gRPC or Envoy. Callers build an Input, ask a
// Manager for the current Engine, call Decide and act on the Decision. A
// decision that the bundle leaves undefined, or that does not have the
// documented shape, is an error, which callers must treat as a deny.
//
// The input and decision documents are the contract with policy authors.
// Their JSON Schemas are schema/input.schema.json and
// schema/decision.schema.json, and a test checks the Go types against them.
package policy

// ContractVersion is the version of the input and decision documents. It
// changes when a field is removed or changes meaning.
const ContractVersion = 1

// Query is the Rego query phigate evaluates for every request.
const Query = "data.phigate.decision"

// Actions a decision may take.
const (
	ActionAllow  = "allow"
	ActionRedact = "redact"
	ActionDeny   = "deny"
)

// Input is the document the policy reads as `input`. It carries PHI types,
// counts and confidences, never PHI values.
type Input struct {
	Version   int                 `json:"version"`
	Request   RequestInfo         `json:"request"`
	PHI       PHISummary          `json:"phi"`
	Health    HealthContext       `json:"health"`
	Risk      Risk                `json:"risk"`
	Providers map[string]Provider `json:"providers"`
}

// RequestInfo describes the request as the client sent it.
type RequestInfo struct {
	API       string `json:"api"`
	Format    string `json:"format"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Model     string `json:"model"`
	Stream    bool   `json:"stream"`
	BodyValid bool   `json:"body_valid"`
	// BodyError is the reason the body did not parse. It names a
	// position, never body content.
	BodyError         string `json:"body_error,omitempty"`
	Attachments       int    `json:"attachments"`
	RequestedProvider string `json:"requested_provider"`
	Tenant            string `json:"tenant"`
	// Purpose is the purpose of use the client declared in a header.
	// Verified claims, when present, are in Claims.
	Purpose string            `json:"purpose"`
	Headers map[string]string `json:"headers"`
	// Claims are the payload of a JWT that Envoy's jwt_authn filter
	// verified and forwarded as dynamic metadata; empty without one.
	Claims map[string]any `json:"claims"`
}

// PHISummary counts the PHI found in the texts of a request.
type PHISummary struct {
	Total int            `json:"total"`
	Types map[string]int `json:"types"`
	// MaxConfidence is the highest detector confidence seen for each type.
	MaxConfidence map[string]float64 `json:"max_confidence"`
	// Fields lists the JSON paths of the texts that contained PHI.
	Fields []string `json:"fields"`
}

// HealthContext counts health information found in the request: it is not
// PHI on its own, but an identifier next to it is.
type HealthContext struct {
	Present     bool `json:"present"`
	ICD10Codes  int  `json:"icd10_codes"`
	CPTCodes    int  `json:"cpt_codes"`
	Medications int  `json:"medications"`
	Diagnoses   int  `json:"diagnoses"`
}

// Risk is a score from 0 to 100 of how identifying the request is, and the
// parts it was added up from. See RiskModel.
type Risk struct {
	Score int            `json:"score"`
	Parts map[string]int `json:"parts"`
}

// Provider is the registry entry as the policy receives it.
type Provider struct {
	Name              string   `json:"name"`
	Cluster           string   `json:"cluster"`
	Format            string   `json:"format"`
	BAA               bool     `json:"baa"`
	ZeroDataRetention bool     `json:"zero_data_retention"`
	Default           bool     `json:"default"`
	Regions           []string `json:"regions"`
	Models            []string `json:"models"`
	// APIs lists the client APIs the provider serves, such as
	// "openai.chat_completions"; chat APIs of the other format are served
	// by translation.
	APIs []string `json:"apis"`
}

// Decision is the policy's result for one request.
type Decision struct {
	Action string `json:"action"`
	// Provider names the registry entry that receives the request; it is
	// required unless Action is deny.
	Provider string `json:"provider,omitempty"`
	// Model, when set, replaces the model the client asked for.
	Model  string  `json:"model,omitempty"`
	Redact *Redact `json:"redact,omitempty"`
	// ResponseRedact, when set, masks PHI of its types in the model's
	// output unless the request contained the same value.
	ResponseRedact *ResponseRedact `json:"response_redact,omitempty"`
	// Reasons explain the decision to the client (in deny responses) and to
	// auditors. They must not contain PHI, and the policy never receives any.
	Reasons []string `json:"reasons"`
	// Status is the HTTP status of a deny response, 403 when unset.
	Status int `json:"status,omitempty"`
	// Headers are added to the request forwarded upstream.
	Headers map[string]string `json:"headers,omitempty"`
	// Template names the policy template that decided, such as
	// "treatment"; it is recorded in the audit log.
	Template string `json:"template,omitempty"`
}

// Redact lists the PHI types to remove and the operator that removes them.
type Redact struct {
	Types    []string `json:"types"`
	Operator string   `json:"operator"`
}

// Redaction operators.
const (
	// OperatorMask replaces each value with its type: "[PHI:NAME]".
	OperatorMask = "mask"
	// OperatorPseudonymize replaces each distinct value with a numbered
	// placeholder, "[NAME_1]", and restores the values in the response.
	OperatorPseudonymize = "pseudonymize"
)

// ResponseRedact lists the PHI types masked in a model's output.
type ResponseRedact struct {
	Types []string `json:"types"`
}
