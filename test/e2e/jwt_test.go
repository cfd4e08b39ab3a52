package e2e

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/envoy"
	"github.com/phigate/phigate/test/harness"
)

const jwtIssuer = "https://idp.example.test"

func b64(data []byte) string { return base64.RawURLEncoding.EncodeToString(data) }

// signJWT returns an RS256 token over claims.
func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "test"})
	payload, _ := json.Marshal(claims)
	input := b64(header) + "." + b64(payload)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

func jwks(key *rsa.PrivateKey) string {
	set := map[string]any{"keys": []any{map[string]string{
		"kty": "RSA", "kid": "test", "alg": "RS256", "use": "sig",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}}
	data, _ := json.Marshal(set)
	return string(data)
}

// Envoy verifies the caller's token and phigate's policy reads the purpose
// of use from its claims, ahead of the client's own header.
func TestVerifiedClaimsDecidePurpose(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	st := startStack(t, harness.Options{JWT: &envoy.JWT{Issuer: jwtIssuer, JWKS: jwks(key), Header: "x-phigate-jwt"}})
	token := func(purpose string) string {
		return signJWT(t, key, map[string]any{
			"iss": jwtIssuer, "sub": "clinician-17", "purpose_of_use": purpose,
			"exp": time.Now().Add(time.Hour).Unix(),
		})
	}

	tests := []struct {
		name       string
		headers    map[string]string
		wantStatus int
	}{
		{"claim marketing denies", map[string]string{"x-phigate-jwt": token("marketing")}, http.StatusForbidden},
		{"claim beats header", map[string]string{"x-phigate-jwt": token("treatment"), "x-phigate-purpose": "marketing"}, http.StatusOK},
		{"no token uses header", map[string]string{"x-phigate-purpose": "marketing"}, http.StatusForbidden},
		{"forged token rejected by Envoy", map[string]string{"x-phigate-jwt": token("treatment") + "x"}, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := send(t, st, "/v1/chat/completions", openAIChat(phiPrompt, false), tc.headers)
			if resp.status != tc.wantStatus {
				t.Errorf("status = %d, want %d; body %s", resp.status, tc.wantStatus, resp.body)
			}
		})
	}

	for _, r := range st.OpenAIBAA.Requests() {
		if r.Header.Get("x-phigate-jwt") != "" {
			t.Error("the provider received the caller's token")
		}
	}
	st.Stop()
	data, err := os.ReadFile(st.AuditPath)
	if err != nil {
		t.Fatal(err)
	}
	users := 0
	for line := range bytes.Lines(data) {
		var rec audit.Record
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Kind == audit.KindDecision && rec.User == "clinician-17" {
			users++
		}
	}
	if users != 2 {
		t.Errorf("%d decision records name the token's subject, want 2", users)
	}
}
