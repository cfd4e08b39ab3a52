package policy

import (
	"context"
	"strings"
	"testing"
)

func TestRiskScore(t *testing.T) {
	m := defaultRiskModel
	tests := []struct {
		name   string
		phi    PHISummary
		health HealthContext
		baa    bool
		want   Risk
	}{
		{
			name: "no PHI",
			baa:  false,
			want: Risk{Score: 0, Parts: map[string]int{"identifiers": 0, "volume": 0, "health_context": 0, "destination": 0}},
		},
		{
			name:   "health context alone is not scored",
			health: HealthContext{Present: true, Diagnoses: 2},
			want:   Risk{Score: 0, Parts: map[string]int{"identifiers": 0, "volume": 0, "health_context": 0, "destination": 0}},
		},
		{
			name: "SSN to a BAA provider",
			phi:  PHISummary{Total: 1, Types: map[string]int{"SSN": 1}, MaxConfidence: map[string]float64{"SSN": 1}},
			baa:  true,
			want: Risk{Score: 45, Parts: map[string]int{"identifiers": 45, "volume": 0, "health_context": 0, "destination": 0}},
		},
		{
			name:   "name and diagnosis bound for a provider without a BAA",
			phi:    PHISummary{Total: 3, Types: map[string]int{"NAME": 3}, MaxConfidence: map[string]float64{"NAME": 0.8}},
			health: HealthContext{Present: true, Diagnoses: 1},
			want:   Risk{Score: 49, Parts: map[string]int{"identifiers": 20, "volume": 4, "health_context": 15, "destination": 10}},
		},
		{
			name: "capped at 100",
			phi: PHISummary{Total: 40, Types: map[string]int{"SSN": 10, "MRN": 10, "NAME": 10, "PHONE": 10},
				MaxConfidence: map[string]float64{"SSN": 1, "MRN": 1, "NAME": 1, "PHONE": 1}},
			want: Risk{Score: 100, Parts: map[string]int{"identifiers": 135, "volume": 20, "health_context": 0, "destination": 10}},
		},
		{
			name: "unknown type gets the default weight",
			phi:  PHISummary{Total: 1, Types: map[string]int{"VEHICLE_ID": 1}, MaxConfidence: map[string]float64{"VEHICLE_ID": 0.5}},
			baa:  true,
			want: Risk{Score: 10, Parts: map[string]int{"identifiers": 10, "volume": 0, "health_context": 0, "destination": 0}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := m.Score(tc.phi, tc.health, tc.baa)
			if got.Score != tc.want.Score {
				t.Errorf("Score = %d, want %d (parts %v)", got.Score, tc.want.Score, got.Parts)
			}
			for k, v := range tc.want.Parts {
				if got.Parts[k] != v {
					t.Errorf("Parts[%s] = %d, want %d", k, got.Parts[k], v)
				}
			}
		})
	}
}

func TestRiskModelFromBundle(t *testing.T) {
	dir := writeBundle(t, map[string]string{
		"policy.rego":                "package phigate\n\ndecision := {\"action\": \"deny\", \"reasons\": [\"r\"]}\n",
		"phigate/settings/data.json": `{"risk": {"weights": {"SSN": 99}, "no_baa": 1}}`,
	})
	engine, err := Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	m := engine.RiskModel()
	if m.Weights["SSN"] != 99 || m.NoBAA != 1 {
		t.Errorf("model = %+v, want the bundle's SSN weight 99 and no_baa 1", m)
	}
	if m.HealthContext != defaultRiskModel.HealthContext {
		t.Errorf("HealthContext = %v, want the default %v for a setting the bundle leaves out", m.HealthContext, defaultRiskModel.HealthContext)
	}

	bad := writeBundle(t, map[string]string{
		"policy.rego":                "package phigate\n\ndecision := {\"action\": \"deny\", \"reasons\": [\"r\"]}\n",
		"phigate/settings/data.json": `{"risk": {"weights": {"SSN": -5}}}`,
	})
	if _, err := Load(context.Background(), bad); err == nil {
		t.Error("Load accepted a negative weight")
	}
}

func TestRiskModelForTenant(t *testing.T) {
	dir := writeBundle(t, map[string]string{
		"policy.rego": "package phigate\n\ndecision := {\"action\": \"deny\", \"reasons\": [\"r\"]}\n",
		"phigate/settings/data.json": `{
			"risk": {"weights": {"SSN": 99, "NAME": 30}, "no_baa": 1},
			"tenants": {
				"quiet": {"risk": {"weights": {"SSN": 0}, "health_context": 2}},
				"eu": {"regions": ["eu"]}
			}
		}`,
	})
	engine, err := Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}

	quiet := engine.RiskModelFor("quiet")
	if quiet.Weights["SSN"] != 0 {
		t.Errorf("quiet SSN weight = %v, want the tenant's 0", quiet.Weights["SSN"])
	}
	if quiet.Weights["NAME"] != 30 {
		t.Errorf("quiet NAME weight = %v, want the bundle's 30", quiet.Weights["NAME"])
	}
	if quiet.HealthContext != 2 {
		t.Errorf("quiet HealthContext = %v, want the tenant's 2", quiet.HealthContext)
	}
	if quiet.NoBAA != 1 {
		t.Errorf("quiet NoBAA = %v, want the bundle's 1", quiet.NoBAA)
	}
	for _, tenant := range []string{"eu", "unlisted", ""} {
		if m := engine.RiskModelFor(tenant); m.Weights["SSN"] != 99 {
			t.Errorf("RiskModelFor(%q) SSN weight = %v, want the bundle's 99", tenant, m.Weights["SSN"])
		}
	}
}

func TestRiskModelForTenantOverDefaults(t *testing.T) {
	dir := writeBundle(t, map[string]string{
		"policy.rego":                "package phigate\n\ndecision := {\"action\": \"deny\", \"reasons\": [\"r\"]}\n",
		"phigate/settings/data.json": `{"tenants": {"quiet": {"risk": {"weights": {"SSN": 0}}}}}`,
	})
	engine, err := Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	m := engine.RiskModelFor("quiet")
	if m.Weights["SSN"] != 0 {
		t.Errorf("SSN weight = %v, want the tenant's 0", m.Weights["SSN"])
	}
	if want := defaultRiskModel.Weights["NAME"]; m.Weights["NAME"] != want {
		t.Errorf("NAME weight = %v, want the default %v", m.Weights["NAME"], want)
	}
}

func TestRiskModelForTenantInvalid(t *testing.T) {
	dir := writeBundle(t, map[string]string{
		"policy.rego":                "package phigate\n\ndecision := {\"action\": \"deny\", \"reasons\": [\"r\"]}\n",
		"phigate/settings/data.json": `{"tenants": {"quiet": {"risk": {"weights": {"SSN": -1}}}}}`,
	})
	_, err := Load(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), `tenants["quiet"].risk`) {
		t.Errorf("Load error = %v, want one naming the tenant's risk settings", err)
	}
}
