package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/config"
)

// fingerprintKey is a synthetic 32-byte fingerprint key.
const fingerprintKey = "test-fingerprint-key-0123456789abcdef"

// sealedServeConfig writes a phigate configuration whose audit log
// encrypts records with a key from a file (active) and one from the
// environment (older), and returns its path and the log's path.
func sealedServeConfig(t *testing.T) (configPath, logPath string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "k2026.key"), []byte(audit.GenerateSealKey()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PHIGATE_TEST_AUDIT_KEY_2025", audit.GenerateSealKey())
	providers := "providers:\n  - {name: openai, cluster: openai, format: openai, baa: true, default: true, models: [gpt-4o], credentials: {passthrough: true}}\n"
	if err := os.WriteFile(filepath.Join(dir, "providers.yaml"), []byte(providers), 0o600); err != nil {
		t.Fatal(err)
	}
	bundle, err := filepath.Abs(filepath.Join("..", "..", "rego"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := `grpc_address: 127.0.0.1:0
admin_address: 127.0.0.1:0
policy:
  bundle: ` + bundle + `
  poll_interval: 0s
providers_file: providers.yaml
audit:
  file: audit.jsonl
  encryption_keys:
    - {id: k2026, file: k2026.key}
    - {id: k2025, env: PHIGATE_TEST_AUDIT_KEY_2025}
`
	configPath = filepath.Join(dir, "phigate.yaml")
	if err := os.WriteFile(configPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return configPath, filepath.Join(dir, "audit.jsonl")
}

func runCommand(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// serve's audit log encrypts the sealed fields with the active key; the
// reading commands open them with the keys the configuration names.
func TestServeEncryptsAuditRecords(t *testing.T) {
	configPath, logPath := sealedServeConfig(t)
	cfg, err := config.Load(configPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs bytes.Buffer
	s, err := newService(ctx, cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("newService: %v", err)
	}

	fp, err := audit.NewFingerprinter("fp-1", []byte(fingerprintKey))
	if err != nil {
		t.Fatal(err)
	}
	rec := &audit.Record{
		Kind: audit.KindDecision, RequestID: "req-serve-0001", Tenant: "clinic-a",
		User: "clinician-0042", Action: "allow", Reasons: []string{"PHI found; rerouted to a provider with a BAA"},
		PHIFingerprints: []string{fp.Fingerprint("SSN", "078-05-1120")}, FingerprintKey: fp.KeyID(),
	}
	if err := s.auditLog.Append(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.auditLog.Close(); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"clinician-0042", "rerouted", "SSN:", `"fp-1"`} {
		if bytes.Contains(data, []byte(plain)) {
			t.Errorf("audit log contains %q unencrypted:\n%s", plain, data)
		}
	}
	if !bytes.Contains(data, []byte(`"sealed":{"key_id":"k2026"`)) {
		t.Errorf("audit log has no record sealed under the active key k2026:\n%s", data)
	}
	if !strings.Contains(logs.String(), `"active_key":"k2026"`) {
		t.Errorf("serve did not log the active key id; logs:\n%s", logs.String())
	}
	key, _ := os.ReadFile(filepath.Join(filepath.Dir(logPath), "k2026.key"))
	if strings.Contains(logs.String(), strings.TrimSpace(string(key))) {
		t.Error("serve logged the encryption key")
	}

	if code, stdout, stderr := runCommand(t, "", "audit", "verify", logPath); code != 0 {
		t.Errorf("audit verify without keys: exit %d, %s%s", code, stdout, stderr)
	}

	code, stdout, stderr := runCommand(t, "", "audit", "show", "-config", configPath, logPath)
	if code != 0 {
		t.Fatalf("audit show: exit %d, %s", code, stderr)
	}
	if !strings.Contains(stdout, `"user":"clinician-0042"`) || !strings.Contains(stdout, `"reasons":["PHI found; rerouted`) {
		t.Errorf("audit show printed %s, want the opened user and reasons", stdout)
	}
	if strings.Contains(stdout, `"sealed"`) {
		t.Errorf("audit show printed the sealed object: %s", stdout)
	}

	t.Setenv("PHIGATE_FINGERPRINT_KEY", fingerprintKey)
	code, stdout, stderr = runCommand(t, "078 05 1120\n", "audit", "find", "-type", "SSN", "-key-id", "fp-1", "-config", configPath, logPath)
	if code != 0 || !strings.Contains(stdout, "req-serve-0001") {
		t.Errorf("audit find with keys: exit %d, stdout %q, stderr %q; want the request listed", code, stdout, stderr)
	}
	code, _, stderr = runCommand(t, "078 05 1120\n", "audit", "find", "-type", "SSN", "-key-id", "fp-1", logPath)
	if code != 1 || !strings.Contains(stderr, "record seq 1 is encrypted under key k2026") {
		t.Errorf("audit find without keys: exit %d, stderr %q; want an error naming the key", code, stderr)
	}
}

func TestAuditShowMissingKey(t *testing.T) {
	configPath, logPath := sealedServeConfig(t)
	cfg, err := config.Load(configPath)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := loadSealer(cfg.Audit)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.OpenFileWithOptions(logPath, audit.FileOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(t.Context(), &audit.Record{Kind: audit.KindDecision, RequestID: "req-1", User: "clinician-0042"}); err != nil {
		t.Fatal(err)
	}
	l.Close()

	// A reader configuration that holds only the older key.
	readerConfig := filepath.Join(t.TempDir(), "reader.yaml")
	body := "audit:\n  encryption_keys:\n    - {id: k2025, env: PHIGATE_TEST_AUDIT_KEY_2025}\n"
	if err := os.WriteFile(readerConfig, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}

	code, _, stderr := runCommand(t, "", "audit", "show", "-config", readerConfig, logPath)
	if code != 1 || !strings.Contains(stderr, `sealed under encryption key "k2026"`) || !strings.Contains(stderr, "unknown encryption key") {
		t.Errorf("audit show with the wrong keyring: exit %d, stderr %q; want an error naming key k2026", code, stderr)
	}
}

func TestLoadSealerErrors(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short.key")
	if err := os.WriteFile(short, []byte("c2hvcnQ="), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PHIGATE_TEST_EMPTY_KEY", "")
	_, err := loadSealer(config.Audit{EncryptionKeys: []config.SecretKey{
		{ID: "short", File: short},
		{ID: "unset", Env: "PHIGATE_TEST_EMPTY_KEY"},
		{ID: "missing", File: filepath.Join(dir, "missing.key")},
	}})
	if err == nil {
		t.Fatal("loadSealer succeeded, want errors")
	}
	for _, want := range []string{"key short: encryption key has 5 bytes, want 32", "key unset: environment variable PHIGATE_TEST_EMPTY_KEY is empty", "key missing:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("loadSealer = %q, want it to contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "c2hvcnQ") {
		t.Errorf("loadSealer error repeats a key: %q", err)
	}
}

func TestAuditKeygenEncryption(t *testing.T) {
	code, stdout, stderr := runCommand(t, "", "audit", "keygen", "-encryption")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if _, err := audit.DecodeSealKey([]byte(lines[len(lines)-1])); err != nil {
		t.Errorf("printed key does not decode: %v", err)
	}
	if code, _, stderr := runCommand(t, "", "audit", "keygen", "-encryption", "-origin", "x"); code != 2 || !strings.Contains(stderr, "exclude each other") {
		t.Errorf("keygen with both flags: exit %d, %q", code, stderr)
	}
}
