package cli_test

import (
	"crypto/rand"
	"crypto/rsa"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phigate/phigate/internal/bundletest"
)

const signedModule = "package phigate\n\ndecision := {\"action\": \"allow\", \"provider\": input.request.requested_provider, \"reasons\": [\"signed bundle\"]}\n"

// writeSignedBundle writes a bundle archive signed with key under keyID,
// or unsigned when key is nil, and returns its path.
func writeSignedBundle(t *testing.T, key *rsa.PrivateKey, keyID string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bundle.tar.gz")
	if err := os.WriteFile(path, bundletest.Archive(t, signedModule, "r-signed", key, keyID), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writePublicKey writes key's public half as PEM and returns the path.
func writePublicKey(t *testing.T, key *rsa.PrivateKey) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "public.pem")
	if err := os.WriteFile(path, []byte(bundletest.PublicKeyPEM(t, key)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPolicyEvalVerifiesSignatures(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signed := writeSignedBundle(t, key, "release")
	unsigned := writeSignedBundle(t, nil, "")
	public := writePublicKey(t, key)
	otherPublic := writePublicKey(t, other)
	input := filepath.Join("testdata", "policy_input.json")

	tests := []struct {
		name       string
		args       []string
		code       int
		wantStderr string
	}{
		{name: "signed", args: []string{"-policy", signed, "-public-key", public, "-key-id", "release"}, code: 0, wantStderr: "signatures verified with the key in"},
		{name: "signed without verification", args: []string{"-policy", signed}, code: 0},
		{name: "other key", args: []string{"-policy", signed, "-public-key", otherPublic, "-key-id", "release"}, code: 1, wantStderr: "verif"},
		{name: "unsigned", args: []string{"-policy", unsigned, "-public-key", public, "-key-id", "release"}, code: 1, wantStderr: "missing .signatures.json"},
		{name: "key id without key", args: []string{"-policy", signed, "-key-id", "release"}, code: 2, wantStderr: "-key-id given without -public-key"},
		{name: "missing key file", args: []string{"-policy", signed, "-public-key", filepath.Join(t.TempDir(), "none.pem")}, code: 1, wantStderr: "reading bundle verification key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"policy", "eval", "-input", input}, tt.args...)
			res := run(t, "", args...)
			if res.code != tt.code {
				t.Fatalf("exit code = %d, want %d; stderr: %s", res.code, tt.code, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.wantStderr)
			}
			if tt.code == 0 && !strings.Contains(res.stdout, `"signed bundle"`) {
				t.Errorf("stdout = %q, want the signed bundle's decision", res.stdout)
			}
		})
	}
}

func TestPolicyEvalRejectsNonObjectInput(t *testing.T) {
	bundleDir := filepath.Join("..", "..", "rego")
	tests := []struct {
		name  string
		stdin string
		want  string
	}{
		{name: "truncated JSON", stdin: `{"request": {`, want: "input document - is not valid JSON"},
		{name: "null", stdin: "null", want: "input document - is a JSON null, expected an object"},
		{name: "array", stdin: "[]", want: "is a JSON array, expected an object"},
		{name: "empty", stdin: " \n", want: "input document - is empty"},
		{name: "wrong type", stdin: `{"risk": {"score": 95.5}}`, want: "input document -: risk.score is a JSON number 95.5, expected an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, tt.stdin, "policy", "eval", "-policy", bundleDir, "-input", "-")
			if res.code != 1 {
				t.Errorf("exit code = %d, want 1; stderr: %s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.want)
			}
			if strings.Contains(res.stderr, "warning:") {
				t.Errorf("stderr = %q, want one error and no schema warning", res.stderr)
			}
		})
	}
}

func TestPolicyEvalComputesMissingRisk(t *testing.T) {
	bundleDir := t.TempDir()
	module := "package phigate\n\ndecision := {\"action\": \"deny\", \"status\": 403, \"reasons\": [sprintf(\"risk %d\", [input.risk.score])]}\n"
	if err := os.WriteFile(filepath.Join(bundleDir, "policy.rego"), []byte(module), 0o600); err != nil {
		t.Fatal(err)
	}
	input := `{"request": {"api": "openai.chat_completions", "requested_provider": "openai", "body_valid": true},
		"phi": {"total": 1, "types": {"SSN": 1}, "max_confidence": {"SSN": 1}},
		"providers": {"openai": {"name": "openai", "cluster": "openai", "format": "openai", "baa": false}}}`

	res := run(t, input, "policy", "eval", "-policy", bundleDir, "-input", "-")
	if res.code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	// The default weights: SSN 45 at confidence 1, and 10 for PHI bound
	// for a provider without a BAA.
	if !strings.Contains(res.stdout, `"risk 55"`) {
		t.Errorf("stdout = %s, want the decision to see risk score 55", res.stdout)
	}
	if !strings.Contains(res.stderr, "computed score 55 from the bundle's weights") {
		t.Errorf("stderr = %q, want a note that the score was computed", res.stderr)
	}

	withRisk := strings.Replace(input, `"providers"`, `"risk": {"score": 7, "parts": {}}, "providers"`, 1)
	res = run(t, withRisk, "policy", "eval", "-policy", bundleDir, "-input", "-")
	if !strings.Contains(res.stdout, `"risk 7"`) {
		t.Errorf("stdout = %s, want the input's own risk score 7", res.stdout)
	}
}

func TestPolicyEvalRejectsInconsistentCounts(t *testing.T) {
	input := `{"request": {"api": "openai.chat_completions", "requested_provider": "openai", "body_valid": true},
		"phi": {"total": 3, "types": null},
		"risk": {"score": 0, "parts": {}},
		"providers": {"openai": {"name": "openai", "cluster": "openai", "format": "openai", "baa": false}}}`
	res := run(t, input, "policy", "eval", "-policy", filepath.Join("..", "..", "rego"), "-input", "-")
	if res.code != 1 {
		t.Errorf("exit code = %d, want 1; stderr: %s", res.code, res.stderr)
	}
	want := "input document -: invalid input: phi.total is 3 but phi.types counts 0 values"
	if !strings.Contains(res.stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", res.stderr, want)
	}
}
