package policy

import (
	"encoding/json"
	"fmt"
	"math"
)

// RiskModel turns findings into a risk score from 0 to 100. Its weights
// are bundle data at data.phigate.settings.risk, so security teams tune
// them with a bundle release rather than a phigate release:
//
//	score = identifiers + volume + health_context + destination, capped at 100
//	identifiers    = sum over PHI types found of weights[type] × max confidence of that type
//	volume         = per_extra_value × (values found − types found), capped at volume_cap
//	health_context = health_context when identifiers and health information are both present
//	destination    = no_baa when the requested provider has no BAA and PHI was found
//
// Each part is rounded to the nearest integer and reported in Risk.Parts.
type RiskModel struct {
	Weights map[string]float64 `json:"weights"`
	// DefaultWeight applies to types missing from Weights.
	DefaultWeight float64 `json:"default_weight"`
	PerExtraValue float64 `json:"per_extra_value"`
	VolumeCap     float64 `json:"volume_cap"`
	HealthContext float64 `json:"health_context"`
	NoBAA         float64 `json:"no_baa"`
}

// defaultRiskModel applies when a bundle carries no risk settings.
var defaultRiskModel = RiskModel{
	Weights: map[string]float64{
		"SSN": 45, "MRN": 40, "HEALTH_PLAN_ID": 40, "ACCOUNT": 30, "LICENSE": 30,
		"NAME": 25, "EMAIL": 25, "PHONE": 25, "FAX": 20, "ADDRESS": 25,
		"IP_ADDRESS": 15, "URL": 10, "DATE": 10, "ZIP": 10, "LOCATION": 10, "NPI": 5, "OTHER_ID": 20,
	},
	DefaultWeight: 20,
	PerExtraValue: 2,
	VolumeCap:     20,
	HealthContext: 15,
	NoBAA:         10,
}

// riskModelsFrom reads the bundle's risk model from
// data.phigate.settings.risk, falling back to the defaults for a bundle
// without one, and a model for every tenant whose entry under
// data.phigate.settings.tenants has a risk object. A tenant's risk object
// is merged over the bundle's the way the policy merges tenant settings
// (object.union): keys it gives win, and weights merge type by type.
func riskModelsFrom(data map[string]any) (RiskModel, map[string]RiskModel, error) {
	phigate, _ := data["phigate"].(map[string]any)
	settings, _ := phigate["settings"].(map[string]any)
	base, ok := settings["risk"]
	if !ok {
		base = defaultRiskObject()
	}
	model, err := parseRiskModel(base)
	if err != nil {
		return RiskModel{}, nil, fmt.Errorf("invalid data.phigate.settings.risk: %w", err)
	}

	tenants, _ := settings["tenants"].(map[string]any)
	var byTenant map[string]RiskModel
	for name, entry := range tenants {
		fields, _ := entry.(map[string]any)
		override, ok := fields["risk"]
		if !ok {
			continue
		}
		m, err := parseRiskModel(mergeObjects(base, override))
		if err != nil {
			return RiskModel{}, nil, fmt.Errorf("invalid data.phigate.settings.tenants[%q].risk: %w", name, err)
		}
		if byTenant == nil {
			byTenant = map[string]RiskModel{}
		}
		byTenant[name] = m
	}
	return model, byTenant, nil
}

// parseRiskModel decodes a risk object, taking the defaults for the
// settings it leaves out.
func parseRiskModel(raw any) (RiskModel, error) {
	encoded, err := json.Marshal(raw)
	if err != nil {
		return RiskModel{}, fmt.Errorf("encoding: %w", err)
	}
	m := defaultRiskModel
	m.Weights = nil
	if err := json.Unmarshal(encoded, &m); err != nil {
		return RiskModel{}, err
	}
	if m.Weights == nil {
		m.Weights = defaultRiskModel.Weights
	}
	for t, w := range m.Weights {
		if w < 0 || math.IsNaN(w) {
			return RiskModel{}, fmt.Errorf("weight of %s is %v, want 0 or more", t, w)
		}
	}
	return m, nil
}

// defaultRiskObject returns defaultRiskModel as bundle data, so that a
// tenant's override of a bundle without risk settings merges over the
// defaults.
func defaultRiskObject() map[string]any {
	encoded, _ := json.Marshal(defaultRiskModel) // a struct of numbers always encodes
	var object map[string]any
	_ = json.Unmarshal(encoded, &object)
	return object
}

// mergeObjects merges override over base as OPA's object.union does:
// where both values are objects they merge recursively, otherwise the
// override wins.
func mergeObjects(base, override any) any {
	b, ok1 := base.(map[string]any)
	o, ok2 := override.(map[string]any)
	if !ok1 || !ok2 {
		return override
	}
	merged := make(map[string]any, len(b)+len(o))
	for k, v := range b {
		merged[k] = v
	}
	for k, v := range o {
		if bv, ok := merged[k]; ok {
			merged[k] = mergeObjects(bv, v)
		} else {
			merged[k] = v
		}
	}
	return merged
}

// Score computes the risk of a request's findings bound for a provider
// with or without a BAA.
func (m RiskModel) Score(phi PHISummary, health HealthContext, requestedBAA bool) Risk {
	var identifiers float64
	for t := range phi.Types {
		w, ok := m.Weights[t]
		if !ok {
			w = m.DefaultWeight
		}
		conf, ok := phi.MaxConfidence[t]
		if !ok {
			conf = 1
		}
		identifiers += w * conf
	}
	volume := math.Min(m.PerExtraValue*float64(phi.Total-len(phi.Types)), m.VolumeCap)
	var healthPart, destination float64
	if phi.Total > 0 && health.Present {
		healthPart = m.HealthContext
	}
	if phi.Total > 0 && !requestedBAA {
		destination = m.NoBAA
	}

	parts := map[string]int{
		"identifiers":    int(math.Round(identifiers)),
		"volume":         int(math.Round(math.Max(volume, 0))),
		"health_context": int(math.Round(healthPart)),
		"destination":    int(math.Round(destination)),
	}
	score := 0
	for _, p := range parts {
		score += p
	}
	return Risk{Score: min(score, 100), Parts: parts}
}
