package policy

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// value converts the input to OPA's value type directly. Passing a Go
// struct to OPA instead costs a JSON encode and decode per request, which
// took about two thirds of a decision's time. A test checks that both
// conversions give the same value, so the JSON tags stay the contract.
func (in Input) value() ast.Value {
	return in.valueWith(providersTerm(in.Providers))
}

// inputValue is value with the registry's conversion reused from earlier
// calls while the registry is unchanged.
func (e *Engine) inputValue(in Input) ast.Value {
	return in.valueWith(e.registry.term(in.Providers))
}

func (in Input) valueWith(providers *ast.Term) ast.Value {
	return ast.NewObject(
		item("version", intTerm(in.Version)),
		item("request", in.Request.term()),
		item("phi", in.PHI.term()),
		item("health", ast.ObjectTerm(
			item("present", ast.InternedTerm(in.Health.Present)),
			item("icd10_codes", intTerm(in.Health.ICD10Codes)),
			item("cpt_codes", intTerm(in.Health.CPTCodes)),
			item("medications", intTerm(in.Health.Medications)),
			item("diagnoses", intTerm(in.Health.Diagnoses)),
		)),
		item("risk", ast.ObjectTerm(
			item("score", intTerm(in.Risk.Score)),
			item("parts", mapTerm(in.Risk.Parts, intTerm)),
		)),
		item("providers", providers),
	)
}

func (r RequestInfo) term() *ast.Term {
	items := make([][2]*ast.Term, 0, 14)
	items = append(items,
		item("api", stringTerm(r.API)),
		item("format", stringTerm(r.Format)),
		item("method", stringTerm(r.Method)),
		item("path", stringTerm(r.Path)),
		item("model", stringTerm(r.Model)),
		item("stream", ast.InternedTerm(r.Stream)),
		item("body_valid", ast.InternedTerm(r.BodyValid)),
		item("attachments", intTerm(r.Attachments)),
		item("requested_provider", stringTerm(r.RequestedProvider)),
		item("tenant", stringTerm(r.Tenant)),
		item("purpose", stringTerm(r.Purpose)),
		item("headers", mapTerm(r.Headers, stringTerm)),
		item("claims", claimsTerm(r.Claims)),
	)
	if r.BodyError != "" {
		items = append(items, item("body_error", stringTerm(r.BodyError)))
	}
	return ast.ObjectTerm(items...)
}

func (p PHISummary) term() *ast.Term {
	return ast.ObjectTerm(
		item("total", intTerm(p.Total)),
		item("types", mapTerm(p.Types, intTerm)),
		item("max_confidence", mapTerm(p.MaxConfidence, ast.FloatNumberTerm)),
		item("fields", stringsTerm(p.Fields)),
	)
}

func providersTerm(providers map[string]Provider) *ast.Term {
	return mapTerm(providers, func(p Provider) *ast.Term {
		return ast.ObjectTerm(
			item("name", stringTerm(p.Name)),
			item("cluster", stringTerm(p.Cluster)),
			item("format", stringTerm(p.Format)),
			item("baa", ast.InternedTerm(p.BAA)),
			item("zero_data_retention", ast.InternedTerm(p.ZeroDataRetention)),
			item("default", ast.InternedTerm(p.Default)),
			item("regions", stringsTerm(p.Regions)),
			item("models", stringsTerm(p.Models)),
			item("apis", stringsTerm(p.APIs)),
		)
	})
}

// sharedStrings holds one term for each key of the input document and
// for common values: API names, formats, paths, purposes and PHI types.
// Evaluation does not modify input terms (OPA v1.22 itself shares its
// interned terms and, with StoreReadAST, its stored data across concurrent
// evaluations), so inputs share these instead of allocating two objects
// per string.
var sharedStrings = func() map[string]*ast.Term {
	terms := map[string]*ast.Term{}
	for _, s := range []string{
		"version", "request", "phi", "health", "risk", "providers",
		"api", "format", "method", "path", "model", "stream", "body_valid", "body_error", "attachments",
		"requested_provider", "tenant", "purpose", "headers", "claims",
		"total", "types", "max_confidence", "fields",
		"present", "icd10_codes", "cpt_codes", "medications", "diagnoses",
		"score", "parts", "identifiers", "volume", "health_context", "destination",
		"name", "cluster", "baa", "zero_data_retention", "default", "regions", "models", "apis",
		"NAME", "DATE", "PHONE", "FAX", "EMAIL", "SSN", "MRN", "ADDRESS", "ZIP", "URL", "IP_ADDRESS",
		"LOCATION", "HEALTH_PLAN_ID", "ACCOUNT", "LICENSE", "NPI", "OTHER_ID",
		"", "POST", "openai", "anthropic", "unknown", "openai.chat_completions", "anthropic.messages",
		"openai.responses", "openai.embeddings", "anthropic.count_tokens",
		"/v1/chat/completions", "/v1/messages", "treatment", "payment", "operations", "research",
	} {
		terms[s] = ast.StringTerm(s)
	}
	return terms
}()

// stringTerm returns the shared term for s, or a new one.
func stringTerm(s string) *ast.Term {
	if t, ok := sharedStrings[s]; ok {
		return t
	}
	return ast.StringTerm(s)
}

// nullTerm and emptyObjectTerm are shared for the same reason as
// sharedStrings.
var (
	nullTerm        = ast.NullTerm()
	emptyObjectTerm = ast.ObjectTerm()
)

func item(key string, value *ast.Term) [2]*ast.Term {
	return ast.Item(stringTerm(key), value)
}

// intTerm returns a shared term for small integers, which most counts are.
func intTerm(i int) *ast.Term {
	return ast.InternedTerm(i)
}

// stringsTerm converts a slice; nil becomes null, as encoding/json does.
func stringsTerm(s []string) *ast.Term {
	if s == nil {
		return nullTerm
	}
	terms := make([]*ast.Term, len(s))
	for i, v := range s {
		terms[i] = stringTerm(v)
	}
	return ast.ArrayTerm(terms...)
}

// mapTerm converts a map with the given value conversion; nil becomes
// null, as encoding/json does. The keys need no sorting because OPA
// objects always iterate in key order.
func mapTerm[V any](m map[string]V, convert func(V) *ast.Term) *ast.Term {
	if m == nil {
		return nullTerm
	}
	if len(m) == 0 {
		return emptyObjectTerm
	}
	items := make([][2]*ast.Term, 0, len(m))
	for k, v := range m {
		items = append(items, item(k, convert(v)))
	}
	return ast.ObjectTerm(items...)
}

// claimsTerm converts JWT claims, which hold only JSON values; nil becomes
// null. Claims that OPA cannot represent become an empty object rather
// than failing the request, since the contract promises only JSON claims.
func claimsTerm(claims map[string]any) *ast.Term {
	if claims == nil {
		return nullTerm
	}
	v, err := ast.InterfaceToValue(claims)
	if err != nil {
		return ast.ObjectTerm()
	}
	return ast.NewTerm(v)
}
