package policy

import (
	"maps"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
)

// value converts the input to OPA's value type directly. Passing a Go
// struct to OPA instead costs a JSON encode and decode per request, which
// took about two thirds of a decision's time. A test checks that both
// conversions give the same value, so the JSON tags stay the contract.
func (in Input) value() ast.Value {
	return ast.NewObject(
		item("version", ast.IntNumberTerm(in.Version)),
		item("request", in.Request.term()),
		item("phi", in.PHI.term()),
		item("health", ast.ObjectTerm(
			item("present", ast.BooleanTerm(in.Health.Present)),
			item("icd10_codes", ast.IntNumberTerm(in.Health.ICD10Codes)),
			item("cpt_codes", ast.IntNumberTerm(in.Health.CPTCodes)),
			item("medications", ast.IntNumberTerm(in.Health.Medications)),
			item("diagnoses", ast.IntNumberTerm(in.Health.Diagnoses)),
		)),
		item("risk", ast.ObjectTerm(
			item("score", ast.IntNumberTerm(in.Risk.Score)),
			item("parts", mapTerm(in.Risk.Parts, ast.IntNumberTerm)),
		)),
		item("providers", providersTerm(in.Providers)),
	)
}

func (r RequestInfo) term() *ast.Term {
	items := [][2]*ast.Term{
		item("api", ast.StringTerm(r.API)),
		item("format", ast.StringTerm(r.Format)),
		item("method", ast.StringTerm(r.Method)),
		item("path", ast.StringTerm(r.Path)),
		item("model", ast.StringTerm(r.Model)),
		item("stream", ast.BooleanTerm(r.Stream)),
		item("body_valid", ast.BooleanTerm(r.BodyValid)),
		item("attachments", ast.IntNumberTerm(r.Attachments)),
		item("requested_provider", ast.StringTerm(r.RequestedProvider)),
		item("tenant", ast.StringTerm(r.Tenant)),
		item("purpose", ast.StringTerm(r.Purpose)),
		item("headers", mapTerm(r.Headers, ast.StringTerm)),
		item("claims", claimsTerm(r.Claims)),
	}
	if r.BodyError != "" {
		items = append(items, item("body_error", ast.StringTerm(r.BodyError)))
	}
	return ast.ObjectTerm(items...)
}

func (p PHISummary) term() *ast.Term {
	return ast.ObjectTerm(
		item("total", ast.IntNumberTerm(p.Total)),
		item("types", mapTerm(p.Types, ast.IntNumberTerm)),
		item("max_confidence", mapTerm(p.MaxConfidence, ast.FloatNumberTerm)),
		item("fields", stringsTerm(p.Fields)),
	)
}

func providersTerm(providers map[string]Provider) *ast.Term {
	return mapTerm(providers, func(p Provider) *ast.Term {
		return ast.ObjectTerm(
			item("name", ast.StringTerm(p.Name)),
			item("cluster", ast.StringTerm(p.Cluster)),
			item("format", ast.StringTerm(p.Format)),
			item("baa", ast.BooleanTerm(p.BAA)),
			item("zero_data_retention", ast.BooleanTerm(p.ZeroDataRetention)),
			item("default", ast.BooleanTerm(p.Default)),
			item("regions", stringsTerm(p.Regions)),
			item("models", stringsTerm(p.Models)),
		)
	})
}

func item(key string, value *ast.Term) [2]*ast.Term {
	return ast.Item(ast.StringTerm(key), value)
}

// stringsTerm converts a slice; nil becomes null, as encoding/json does.
func stringsTerm(s []string) *ast.Term {
	if s == nil {
		return ast.NullTerm()
	}
	terms := make([]*ast.Term, len(s))
	for i, v := range s {
		terms[i] = ast.StringTerm(v)
	}
	return ast.ArrayTerm(terms...)
}

// mapTerm converts a map with the given value conversion, keys sorted;
// nil becomes null, as encoding/json does.
func mapTerm[V any](m map[string]V, convert func(V) *ast.Term) *ast.Term {
	if m == nil {
		return ast.NullTerm()
	}
	items := make([][2]*ast.Term, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		items = append(items, item(k, convert(m[k])))
	}
	return ast.ObjectTerm(items...)
}

// claimsTerm converts JWT claims, which hold only JSON values; nil becomes
// null. Claims that OPA cannot represent become an empty object rather
// than failing the request, since the contract promises only JSON claims.
func claimsTerm(claims map[string]any) *ast.Term {
	if claims == nil {
		return ast.NullTerm()
	}
	v, err := ast.InterfaceToValue(claims)
	if err != nil {
		return ast.ObjectTerm()
	}
	return ast.NewTerm(v)
}
