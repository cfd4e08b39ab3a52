// Package bundletest builds policy bundle archives for tests, signed as
// `opa build --signing-key` signs them.
package bundletest

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
)

// Archive returns a .tar.gz bundle holding module as policy.rego, with
// revision in its manifest, signed with key under keyID (RS256), or
// unsigned when key is nil.
func Archive(t testing.TB, module, revision string, key *rsa.PrivateKey, keyID string) []byte {
	t.Helper()
	b := bundle.Bundle{
		Manifest: bundle.Manifest{Revision: revision},
		Data:     map[string]any{},
		Modules: []bundle.ModuleFile{{
			URL:    "/policy.rego",
			Path:   "/policy.rego",
			Raw:    []byte(module),
			Parsed: ast.MustParseModule(module),
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
	return buf.Bytes()
}

// PublicKeyPEM returns the PEM encoding of key's public half, as
// policy.verification.public_key_file holds it.
func PublicKeyPEM(t testing.TB, key *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// WriteDir writes files, given as path and content pairs, into a new
// bundle directory and returns it.
func WriteDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
