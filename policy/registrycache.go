package policy

import (
	"maps"
	"slices"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
)

// registryCache keeps the converted provider registry. Servers pass the
// same registry with every request, and converting it made up most of the
// input conversion's allocations. The cache key is the registry's whole
// content, compared field by field against a private copy, so a caller
// that passes another registry or changes its map gets a fresh conversion.
type registryCache struct {
	last atomic.Pointer[cachedRegistry]
}

type cachedRegistry struct {
	providers map[string]Provider
	term      *ast.Term
}

func (c *registryCache) term(providers map[string]Provider) *ast.Term {
	if last := c.last.Load(); last != nil && sameRegistry(last.providers, providers) {
		return last.term
	}

	t := providersTerm(providers)
	c.last.Store(&cachedRegistry{providers: cloneRegistry(providers), term: t})
	return t
}

// sameRegistry reports whether two registries convert to the same value:
// equal entries, with nil and empty distinguished as encoding/json does.
func sameRegistry(a, b map[string]Provider) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	return maps.EqualFunc(a, b, func(x, y Provider) bool {
		return x.Name == y.Name && x.Cluster == y.Cluster && x.Format == y.Format &&
			x.BAA == y.BAA && x.ZeroDataRetention == y.ZeroDataRetention && x.Default == y.Default &&
			sameStrings(x.Regions, y.Regions) && sameStrings(x.Models, y.Models) && sameStrings(x.APIs, y.APIs)
	})
}

func sameStrings(a, b []string) bool {
	return (a == nil) == (b == nil) && slices.Equal(a, b)
}

func cloneRegistry(providers map[string]Provider) map[string]Provider {
	if providers == nil {
		return nil
	}
	out := make(map[string]Provider, len(providers))
	for name, p := range providers {
		p.Regions = slices.Clone(p.Regions)
		p.Models = slices.Clone(p.Models)
		p.APIs = slices.Clone(p.APIs)
		out[name] = p
	}
	return out
}
