package cli

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// copyBundle copies the default bundle into a new directory, so a test
// can break it.
func copyBundle(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bundle")
	if out, err := exec.Command("cp", "-r", filepath.Join("..", "..", "rego"), dir).CombinedOutput(); err != nil {
		t.Fatalf("copying the bundle: %v: %s", err, out)
	}
	return dir
}

// /readyz stays 200 while the last good policy serves, and lists every
// line of a failed reload of either bundle on one line each.
func TestReadyzReportsPolicyFailures(t *testing.T) {
	active := copyBundle(t)
	shadow := copyBundle(t)
	dir := t.TempDir()
	providers := "providers:\n  - {name: openai, cluster: openai, format: openai, baa: true, default: true, models: [gpt-4o], credentials: {passthrough: true}}\n"
	if err := os.WriteFile(filepath.Join(dir, "providers.yaml"), []byte(providers), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "grpc_address: 127.0.0.1:0\nadmin_address: 127.0.0.1:0\npolicy:\n  bundle: " + active +
		"\n  shadow_bundle: " + shadow + "\n  poll_interval: 0s\nproviders_file: providers.yaml\naudit:\n  file: audit.jsonl\n"
	configPath := filepath.Join(dir, "phigate.yaml")
	if err := os.WriteFile(configPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newTestService(t, configPath)
	t.Cleanup(func() { _ = s.auditLog.Close() })
	s.ready.Store(true)

	// Two complete definitions of decision that disagree: OPA reports the
	// conflict over several lines.
	conflict := "package phigate\n\ndecision := {\"action\": \"deny\", \"reasons\": [\"a\"]} if input.request.api\n\ndecision := {\"action\": \"deny\", \"reasons\": [\"b\"]} if input.request.model\n"
	for _, bundle := range []string{active, shadow} {
		if err := os.WriteFile(filepath.Join(bundle, "zz_conflict.rego"), []byte(conflict), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.policies.Reload(t.Context()); err == nil {
		t.Fatal("Reload accepted a bundle whose self-test fails")
	}

	code, body := get(t, s.adminHandler(), "/readyz")
	if code != http.StatusOK {
		t.Fatalf("/readyz = %d %q, want 200 while the last good policy serves", code, body)
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	var activeLine, shadowLine string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "policy reload failing"):
			activeLine = l
		case strings.HasPrefix(l, "shadow policy reload failing"):
			shadowLine = l
		}
	}
	if !strings.Contains(activeLine, "conflicting") || !strings.Contains(activeLine, "zz_conflict.rego:5") {
		t.Errorf("active reload line = %q, want the whole conflict error, with each conflicting rule, on one line (body %q)", activeLine, body)
	}
	if !strings.Contains(shadowLine, "zz_conflict.rego") {
		t.Errorf("shadow reload line = %q, want the shadow bundle's error (body %q)", shadowLine, body)
	}
}
