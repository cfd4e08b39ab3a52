package processor

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/phigate/phigate/phi"
	"github.com/phigate/phigate/policy"
)

// JWTMetadataNamespace is the dynamic metadata namespace of Envoy's
// jwt_authn filter. Its provider's payload_in_metadata setting names the
// key under which the verified token's payload is stored; phigate takes the
// first payload it finds in the namespace. The ext_proc filter forwards it
// only when metadata_options.forwarding_namespaces lists the namespace.
const JWTMetadataNamespace = "envoy.filters.http.jwt_authn"

// jwtClaims returns the payload of the JWT that Envoy verified, or nil.
func jwtClaims(md *corev3.Metadata) map[string]any {
	ns, ok := md.GetFilterMetadata()[JWTMetadataNamespace]
	if !ok {
		return nil
	}
	for _, v := range ns.GetFields() {
		if payload := v.GetStructValue(); payload != nil {
			return payload.AsMap()
		}
	}
	return nil
}

// addHealthContext adds the health information found in text to h.
func addHealthContext(h *policy.HealthContext, text string) {
	found := phi.DetectHealthContext(text)
	h.ICD10Codes += found.ICD10
	h.CPTCodes += found.CPT
	h.Medications += found.Medications
	h.Diagnoses += found.Diagnoses
	h.Present = h.ICD10Codes+h.CPTCodes+h.Medications+h.Diagnoses > 0
}

// claimString returns a string claim, or "" when it is absent or not a
// string.
func claimString(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}
