package policy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// virtualCache must behave exactly like OPA's own cache for any sequence
// of frames, puts and gets.
func TestVirtualCacheMatchesOPA(t *testing.T) {
	refs := []ast.Ref{
		ast.MustParseRef("data.phigate.template"),
		ast.MustParseRef("data.phigate.purpose"),
		ast.MustParseRef("data.phigate.in_region"),
		ast.MustParseRef(`data.phigate.in_region[{"regions": ["us"]}]`),
		ast.MustParseRef(`data.phigate.in_region[{"regions": ["eu"]}]`),
		ast.MustParseRef("data.phigate"),
		ast.MustParseRef("data.other.template"),
	}
	values := []*ast.Term{nil, ast.StringTerm("treatment"), ast.BooleanTerm(true), ast.MustParseTerm(`{"a": [1, 2]}`)}

	for seed := range uint64(20) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			want := topdown.NewVirtualCache()
			got := newEvalCaches()
			depth := 0

			for step := range 300 {
				ref := refs[rng.IntN(len(refs))]
				switch op := rng.IntN(10); {
				case op == 0:
					want.Push()
					got.virtual.Push()
					depth++
				case op == 1 && depth > 0:
					want.Pop()
					got.virtual.Pop()
					depth--
				case op < 5:
					value := values[rng.IntN(len(values))]
					want.Put(ref, value)
					got.virtual.Put(ref, value)
				default:
					wantValue, wantUndefined := want.Get(ref)
					gotValue, gotUndefined := got.virtual.Get(ref)
					if gotUndefined != wantUndefined || !gotValue.Equal(wantValue) {
						t.Fatalf("step %d: Get(%v) = %v, %v; OPA's cache gives %v, %v", step, ref, gotValue, gotUndefined, wantValue, wantUndefined)
					}
				}
			}

			if g, w := sortedRefs(got.virtual.Keys()), sortedRefs(want.Keys()); !slices.Equal(g, w) {
				t.Errorf("Keys = %v, OPA's cache gives %v", g, w)
			}
		})
	}
}

func sortedRefs(refs []ast.Ref) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.String()
	}
	slices.Sort(out)
	return out
}

func TestBaseCache(t *testing.T) {
	c := newEvalCaches()
	settings := ast.MustParseTerm(`{"tenants": {"a": {"regions": ["eu"]}}, "no_baa_action": "redact"}`).Value
	c.base.Put(ast.MustParseRef("data.phigate.settings"), settings)

	tests := []struct {
		ref  string
		want ast.Value
	}{
		{ref: "data.phigate.settings", want: settings},
		{ref: "data.phigate.settings.no_baa_action", want: ast.String("redact")},
		{ref: `data.phigate.settings.tenants.a.regions`, want: ast.MustParseTerm(`["eu"]`).Value},
		{ref: "data.phigate.settings.missing"},
		{ref: "data.phigate"},
		{ref: "data.other.settings"},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			got := c.base.Get(ast.MustParseRef(tc.ref))
			if (got == nil) != (tc.want == nil) || (got != nil && got.Compare(tc.want) != 0) {
				t.Errorf("Get(%s) = %v, want %v", tc.ref, got, tc.want)
			}
		})
	}

	c.reset()
	if got := c.base.Get(ast.MustParseRef("data.phigate.settings")); got != nil {
		t.Errorf("Get after reset = %v, want nil", got)
	}
}

// A `with` statement must see its own rule results, and neither it nor an
// earlier decision may leak cached results into the next.
func TestDecideWithStatement(t *testing.T) {
	const module = `package phigate

tenant := input.request.tenant

other := t if {
	t := tenant with input.request.tenant as "replaced"
}

decision := {"action": "deny", "reasons": [tenant, other, tenant]}
`
	engine := loadBundle(t, writeBundle(t, map[string]string{"policy.rego": module}))

	for _, tenant := range []string{"clinic-a", "clinic-b", "clinic-a"} {
		in := input("openai", nil)
		in.Request.Tenant = tenant

		d, err := engine.Decide(context.Background(), in)
		if err != nil {
			t.Fatalf("Decide: %v", err)
		}

		want := []string{tenant, "replaced", tenant}
		if !slices.Equal(d.Reasons, want) {
			t.Errorf("tenant %s: Reasons = %q, want %q", tenant, d.Reasons, want)
		}
	}
}

// Concurrent decisions share the cache pool and the registry cache, and
// each must still get the decision for its own input.
func TestDecideConcurrent(t *testing.T) {
	engine := loadBundle(t, "../rego")
	cases := []struct {
		in       Input
		provider string
	}{
		{in: input("openai", nil), provider: "openai"},
		{in: input("openai", map[string]int{"SSN": 1}), provider: "openai-baa"},
		{in: input("anthropic", map[string]int{"NAME": 2}), provider: "anthropic"},
	}

	var wg sync.WaitGroup
	errs := make(chan error, 4*len(cases))
	for worker := range 4 {
		wg.Go(func() {
			for i := range 200 {
				c := cases[(worker+i)%len(cases)]
				d, err := engine.Decide(context.Background(), c.in)
				if err != nil {
					errs <- err
					return
				}
				if d.Provider != c.provider {
					errs <- fmt.Errorf("decision %d of worker %d: provider %q, want %q", i, worker, d.Provider, c.provider)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDecideCancelledContext(t *testing.T) {
	engine := loadBundle(t, "../rego")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := engine.Decide(ctx, input("openai", nil))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Decide with a cancelled context = %v, want context.Canceled", err)
	}
}
