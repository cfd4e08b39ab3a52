package phi

import "testing"

// Plan numbers follow many informal labels in clinicians' notes.
func TestHealthPlanCues(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"insurance plan hash", "seen on Apr 15, insurance plan #DB-2345678.", "DB-2345678"},
		{"insurance is", "what are the guidelines? insurance is QX-789012.", "QX-789012"},
		{"parenthesised label", "admitted (Insurance: HPB-654321)?", "HPB-654321"},
		{"insur ID", "Pt has insur ID WX-987654.", "WX-987654"},
		{"HBN", "visit on July 20, HBN: 789-456-123?", "789-456-123"},
		{"ins colon", "contraindication, ins: ZY-567890.", "ZY-567890"},
		{"insurance policy", "insurance policy HZ-987654.", "HZ-987654"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			found := false
			for _, f := range DefaultScanner().Scan(tc.text) {
				if tc.text[f.Start:f.End] == tc.want {
					found = true
				}
			}
			if !found {
				t.Errorf("Scan(%q) did not report %q", tc.text, tc.want)
			}
		})
	}
}

func TestHealthPlanCuesNeedAnIdentifier(t *testing.T) {
	for _, text := range []string{
		"the ins and outs of insulin dosing",
		"insurance is pending for the 2024 plan year",
		"her insurance plan covers 80 percent",
	} {
		for _, f := range DefaultScanner().Scan(text) {
			if f.Type == TypeHealthID {
				t.Errorf("Scan(%q) reported %q as a plan id", text, text[f.Start:f.End])
			}
		}
	}
}
