package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/config"
	"github.com/phigate/phigate/internal/pgtest"
)

// TestMain starts a PostgreSQL server for the tests of the PostgreSQL
// audit store; the other tests do not use it. Without PostgreSQL those
// tests skip (see pgtest.Main).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, pgtest.Options{})) }

// postgresServeConfig writes a configuration for the PostgreSQL store of
// db, with migrations run by the owner, and sets its environment.
func postgresServeConfig(t *testing.T, db *pgtest.Database, extra string) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("PHIGATE_TEST_AUDIT_DSN", db.WriterDSN())
	t.Setenv("PHIGATE_TEST_AUDIT_OWNER_DSN", db.OwnerDSN())
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
  store: postgres
` + extra + `  postgres:
    dsn_env: PHIGATE_TEST_AUDIT_DSN
    owner_dsn_env: PHIGATE_TEST_AUDIT_OWNER_DSN
    writer_id: phigate-test-0
    spool: spool.jsonl
`
	path := filepath.Join(dir, "phigate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newTestService(t *testing.T, configPath string) *service {
	t.Helper()
	cfg, err := config.Load(configPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newService(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("newService: %v", err)
	}
	return s
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

// serve opens the PostgreSQL store, migrating the schema as the owner,
// reports the store on /readyz and /metrics, and audit verify -postgres
// checks what it wrote.
func TestServeWithPostgresStore(t *testing.T) {
	db := pgtest.NewDatabase(t)
	private, public, err := audit.GenerateCheckpointKey("phigate.example.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PHIGATE_TEST_CHECKPOINT_KEY", private)
	configPath := postgresServeConfig(t, db, "  checkpoint_key: {id: cp-1, env: PHIGATE_TEST_CHECKPOINT_KEY}\n  checkpoint_every: 2\n")
	s := newTestService(t, configPath)
	s.ready.Store(true)

	for i := range 5 {
		rec := &audit.Record{Kind: audit.KindDecision, RequestID: fmt.Sprintf("req-pg-%04d", i+1), Tenant: "clinic-a", Provider: "openai", Action: "allow"}
		if err := s.auditLog.Append(t.Context(), rec); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	code, body := get(t, s.adminHandler(), "/readyz")
	if code != http.StatusOK || !strings.Contains(body, "audit store: postgres writer phigate-test-0, 5 records, connected") {
		t.Errorf("/readyz = %d %q, want 200 naming the connected postgres writer", code, body)
	}
	_, metrics := get(t, s.adminHandler(), "/metrics")
	for _, want := range []string{"phigate_audit_database_connected 1", `phigate_audit_store_records_total{outcome="written"`, "phigate_audit_spool_bytes"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if err := s.auditLog.Close(); err != nil {
		t.Fatal(err)
	}

	t.Setenv("PHIGATE_AUDIT_DSN", db.OwnerDSN())
	code, stdout, stderr := runCommand(t, "", "audit", "verify", "-postgres", "-public-key", public)
	if code != 0 || !strings.Contains(stdout, "OK writer phigate-test-0: 5 records, chain intact") || !strings.Contains(stdout, "signatures verified") {
		t.Fatalf("audit verify -postgres: exit %d, stdout %q, stderr %q; want 5 intact records with verified checkpoints", code, stdout, stderr)
	}

	tamperAsOwner(t, db, "DELETE FROM phigate_audit.records WHERE seq = 3")
	code, stdout, _ = runCommand(t, "", "audit", "verify", "-postgres", "-writer", "phigate-test-0")
	if code != 1 || !strings.Contains(stdout, "FAIL writer phigate-test-0: 2 records verified, then record 3 (deleted)") {
		t.Errorf("audit verify -postgres after a deletion: exit %d, stdout %q; want exit 1 naming record 3", code, stdout)
	}
}

func TestServeFailOpenWrapsStore(t *testing.T) {
	db := pgtest.NewDatabase(t)
	s := newTestService(t, postgresServeConfig(t, db, "  on_failure: allow\n"))
	defer s.auditLog.Close()

	if _, ok := auditAppender(s.cfg.Audit, s.auditLog, slog.New(slog.DiscardHandler), s.telemetry).(*audit.FailOpen); !ok {
		t.Error("auditAppender with on_failure: allow did not wrap the store in audit.FailOpen")
	}
	s.cfg.Audit.OnFailure = "deny"
	if _, ok := auditAppender(s.cfg.Audit, s.auditLog, slog.New(slog.DiscardHandler), s.telemetry).(*audit.FailOpen); ok {
		t.Error("auditAppender with on_failure: deny wrapped the store in audit.FailOpen")
	}
}

func TestServePostgresStoreErrors(t *testing.T) {
	db := pgtest.NewDatabase(t)
	configPath := postgresServeConfig(t, db, "")
	cfg, err := config.Load(configPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PHIGATE_TEST_AUDIT_DSN", "")
	t.Setenv("PHIGATE_TEST_AUDIT_OWNER_DSN", "")

	_, err = newService(t.Context(), cfg, slog.New(slog.DiscardHandler))

	for _, want := range []string{"PHIGATE_TEST_AUDIT_DSN is empty or unset", "PHIGATE_TEST_AUDIT_OWNER_DSN is empty or unset"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("newService without DSNs = %v, want an error containing %q", err, want)
		}
	}
}

func TestAuditVerifyPostgresUsage(t *testing.T) {
	t.Setenv("PHIGATE_AUDIT_DSN", "")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "file with -postgres", args: []string{"audit", "verify", "-postgres", "audit.jsonl"}, code: 2, want: "give no file"},
		{name: "missing DSN", args: []string{"audit", "verify", "-postgres"}, code: 1, want: "PHIGATE_AUDIT_DSN is empty or unset"},
		{name: "other DSN variable", args: []string{"audit", "verify", "-postgres", "-dsn-env", "AUDIT_RO_DSN"}, code: 1, want: "AUDIT_RO_DSN is empty or unset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCommand(t, "", tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

// tamperAsOwner runs a statement as the owner with the append-only
// triggers disabled.
func tamperAsOwner(t *testing.T, db *pgtest.Database, stmt string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.OwnerDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range []string{"ALTER TABLE phigate_audit.records DISABLE TRIGGER USER", stmt, "ALTER TABLE phigate_audit.records ENABLE TRIGGER USER"} {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}
