package processor

import "github.com/phigate/phigate/policy"

// typeWeights score how identifying one value of each PHI type is. A direct
// identifier (SSN, MRN, a plan id) names one person; a date or a ZIP code
// narrows the field only when combined with others.
//
// TODO: these weights belong in the policy bundle's data, so that security
// teams can tune them without a new build.
var typeWeights = map[string]int{
	"SSN":            45,
	"MRN":            40,
	"HEALTH_PLAN_ID": 40,
	"ACCOUNT":        30,
	"LICENSE":        30,
	"NAME":           25,
	"EMAIL":          25,
	"PHONE":          25,
	"FAX":            20,
	"ADDRESS":        25,
	"IP_ADDRESS":     15,
	"URL":            10,
	"DATE":           10,
	"ZIP":            10,
	"LOCATION":       10,
	"NPI":            5,
	"OTHER_ID":       20,
}

// riskScore returns a score from 0 to 100: the sum of the weights of the
// distinct types found, plus 2 for each further value, capped at 100.
func riskScore(s policy.PHISummary) int {
	score := 0
	for t, n := range s.Types {
		w, ok := typeWeights[t]
		if !ok {
			w = 20
		}
		score += w + 2*(n-1)
	}
	return min(score, 100)
}
