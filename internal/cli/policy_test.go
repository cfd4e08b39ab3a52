package cli_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
)

const signedModule = "package phigate\n\ndecision := {\"action\": \"allow\", \"provider\": input.request.requested_provider, \"reasons\": [\"signed bundle\"]}\n"

// writeSignedBundle writes a bundle archive signed with key under keyID,
// as `opa build --signing-key` would, or unsigned when key is nil.
func writeSignedBundle(t *testing.T, key *rsa.PrivateKey, keyID string) string {
	t.Helper()
	b := bundle.Bundle{
		Manifest: bundle.Manifest{Revision: "r-signed"},
		Data:     map[string]any{},
		Modules: []bundle.ModuleFile{{
			URL:    "/policy.rego",
			Path:   "/policy.rego",
			Raw:    []byte(signedModule),
			Parsed: ast.MustParseModule(signedModule),
		}},
	}
	if key != nil {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		private := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		if err := b.GenerateSignature(bundle.NewSigningConfig(private, "RS256", ""), keyID, false); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := bundle.NewWriter(&buf).Write(b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bundle.tar.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writePublicKey writes key's public half as PEM and returns the path.
func writePublicKey(t *testing.T, key *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "public.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
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
		{name: "signed", args: []string{"-policy", signed, "-public-key", public, "-key-id", "release"}, code: 0, wantStderr: `signatures verified with key "release"`},
		{name: "signed without verification", args: []string{"-policy", signed}, code: 0},
		{name: "other key", args: []string{"-policy", signed, "-public-key", otherPublic, "-key-id", "release"}, code: 1, wantStderr: "verif"},
		{name: "unsigned", args: []string{"-policy", unsigned, "-public-key", public, "-key-id", "release"}, code: 1, wantStderr: "missing .signatures.json"},
		{name: "key id without key", args: []string{"-policy", signed, "-key-id", "release"}, code: 2, wantStderr: "-key-id and -scope need -public-key"},
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
		{name: "null", stdin: "null", want: "input document - is a JSON null, want an object"},
		{name: "array", stdin: "[]", want: "is a JSON array, want an object"},
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
