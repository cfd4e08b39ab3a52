package postgres

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/internal/pgtest"
)

// TestMain starts one PostgreSQL server for the package, with fsync on so
// that the benchmark measures durable commits. When the test binary is
// re-run as a child writer process (see child_test.go), it runs that
// instead.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(pgtest.Main(m, pgtest.Options{Fsync: true}))
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testLogger logs to the test's output, so a failing test shows what the
// store did.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// sampleRecord returns a decision record with synthetic values.
func sampleRecord(i int) *audit.Record {
	return &audit.Record{
		Kind:              audit.KindDecision,
		RequestID:         fmt.Sprintf("req-%06d", i),
		Tenant:            "clinic-a",
		Purpose:           "treatment",
		API:               "openai.chat_completions",
		Path:              "/v1/chat/completions",
		RequestedProvider: "openai",
		Provider:          "openai-baa",
		Action:            "allow",
		Reasons:           []string{"PHI found; rerouted from openai, which has no BAA, to openai-baa"},
		PolicyRevision:    "sha256:0123456789abcdef",
		PHITypes:          map[string]int{"NAME": 1, "PHONE": 2},
		RiskScore:         40,
		RequestBytes:      512,
		ForwardedBytes:    512,
	}
}

// migrated returns a new database with the audit schema, the writer role
// granted its privileges.
func migrated(t testing.TB) *pgtest.Database {
	t.Helper()
	db := pgtest.NewDatabase(t)
	conn := connect(t, db.OwnerDSN())
	if _, err := Migrate(context.Background(), conn, MigrateOptions{WriterRole: db.Writer}); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

// connect opens a connection closed at the end of the test.
func connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// storeOptions returns options for a store writing db as its writer role,
// with a spool in a temporary directory and short retry intervals.
func storeOptions(t testing.TB, db *pgtest.Database, writer string) Options {
	return Options{
		DSN:           db.WriterDSN(),
		WriterID:      writer,
		SpoolPath:     filepath.Join(t.TempDir(), "spool.jsonl"),
		RetryInterval: 20 * time.Millisecond,
		WriteTimeout:  5 * time.Second,
		CloseTimeout:  5 * time.Second,
		Logger:        testLogger(t),
	}
}

func openStore(t testing.TB, opts Options) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// appendN appends records first to first+n-1 one after another.
func appendN(t testing.TB, s *Store, first, n int) {
	t.Helper()
	for i := range n {
		if err := s.Append(context.Background(), sampleRecord(first+i)); err != nil {
			t.Fatalf("Append record %d: %v", first+i, err)
		}
	}
}

// verifyAll runs Verify as the owner and returns the results by writer.
func verifyAll(t testing.TB, db *pgtest.Database, opts VerifyOptions) map[string]WriterResult {
	t.Helper()
	conn := connect(t, db.OwnerDSN())
	results, err := Verify(context.Background(), conn, opts)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	out := map[string]WriterResult{}
	for _, r := range results {
		out[r.Writer] = r
	}
	return out
}

// countRows returns the number of records and of distinct request ids a
// writer has in the database.
func countRows(t testing.TB, db *pgtest.Database, writer string) (rows, requests int) {
	t.Helper()
	conn := connect(t, db.OwnerDSN())
	err := conn.QueryRow(context.Background(), "SELECT count(*), count(DISTINCT request_id) FROM "+Schema+".records WHERE writer_id = $1", writer).Scan(&rows, &requests)
	if err != nil {
		t.Fatalf("counting rows: %v", err)
	}
	return rows, requests
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
