package policy

import (
	"context"
	"reflect"
	"slices"
	"testing"
)

// The registry's converted value is reused only while the registry is
// unchanged, including changes made in place to the same map.
func TestRegistryCacheNoticesChanges(t *testing.T) {
	engine := loadBundle(t, "../rego")
	registry := map[string]Provider{
		"openai":     {Name: "openai", Cluster: "openai", Format: "openai", Regions: []string{"us"}},
		"openai-baa": {Name: "openai-baa", Cluster: "openai_baa", Format: "openai", BAA: true, Regions: []string{"us"}},
	}
	in := input("openai", map[string]int{"SSN": 1})
	in.Providers = registry

	steps := []struct {
		name     string
		change   func()
		action   string
		provider string
	}{
		{name: "BAA provider present", change: func() {}, action: ActionAllow, provider: "openai-baa"},
		{name: "BAA withdrawn in place", change: func() {
			p := registry["openai-baa"]
			p.BAA = false
			registry["openai-baa"] = p
		}, action: ActionRedact, provider: "openai"},
		{name: "BAA restored", change: func() {
			p := registry["openai-baa"]
			p.BAA = true
			registry["openai-baa"] = p
		}, action: ActionAllow, provider: "openai-baa"},
		{name: "provider removed", change: func() { delete(registry, "openai-baa") }, action: ActionRedact, provider: "openai"},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			step.change()

			d, err := engine.Decide(context.Background(), in)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if d.Action != step.action || d.Provider != step.provider {
				t.Errorf("decision = %s to %q, want %s to %q", d.Action, d.Provider, step.action, step.provider)
			}
			if got, want := engine.inputValue(in), in.value(); got.Compare(want) != 0 {
				t.Errorf("cached input differs from a fresh conversion:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestSameRegistry(t *testing.T) {
	base := map[string]Provider{"a": {Name: "a", Regions: []string{"us"}, Models: []string{}}}
	tests := []struct {
		name  string
		other map[string]Provider
		same  bool
	}{
		{name: "equal copy", other: map[string]Provider{"a": {Name: "a", Regions: []string{"us"}, Models: []string{}}}, same: true},
		{name: "nil models", other: map[string]Provider{"a": {Name: "a", Regions: []string{"us"}}}, same: false},
		{name: "other region", other: map[string]Provider{"a": {Name: "a", Regions: []string{"eu"}, Models: []string{}}}, same: false},
		{name: "extra provider", other: map[string]Provider{"a": base["a"], "b": {Name: "b"}}, same: false},
		{name: "nil registry", other: nil, same: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameRegistry(base, tc.other); got != tc.same {
				t.Errorf("sameRegistry = %v, want %v", got, tc.same)
			}
		})
	}
}

// Changing any field of a provider must count as a change, so that a
// field added to Provider without a comparison in sameRegistry fails here.
func TestSameRegistryComparesEveryField(t *testing.T) {
	base := Provider{Name: "a", Cluster: "a", Format: "openai", Regions: []string{"us"}, Models: []string{"m"}}
	fields := reflect.TypeOf(base)
	for i := range fields.NumField() {
		t.Run(fields.Field(i).Name, func(t *testing.T) {
			changed := base
			changed.Regions = slices.Clone(base.Regions)
			changed.Models = slices.Clone(base.Models)
			f := reflect.ValueOf(&changed).Elem().Field(i)
			switch f.Kind() {
			case reflect.String:
				f.SetString(f.String() + "-changed")
			case reflect.Bool:
				f.SetBool(!f.Bool())
			case reflect.Slice:
				f.Set(reflect.Append(f, reflect.ValueOf("changed")))
			default:
				t.Fatalf("field %s has kind %s; teach this test and sameRegistry to compare it", fields.Field(i).Name, f.Kind())
			}

			if sameRegistry(map[string]Provider{"a": base}, map[string]Provider{"a": changed}) {
				t.Errorf("sameRegistry ignores a change of %s", fields.Field(i).Name)
			}
		})
	}
}
