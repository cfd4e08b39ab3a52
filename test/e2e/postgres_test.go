package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phigate/phigate/internal/pgtest"
	"github.com/phigate/phigate/test/harness"
	"github.com/phigate/phigate/test/standin"
)

// startPostgres starts a throwaway PostgreSQL server with an audit
// database, or skips the test when PostgreSQL is not installed (fails
// when PHIGATE_REQUIRE_POSTGRES=1).
func startPostgres(t *testing.T) (*pgtest.Server, *harness.Postgres) {
	t.Helper()
	srv, err := pgtest.Start(pgtest.Options{Fsync: true})
	if errors.Is(err, pgtest.ErrNotInstalled) && os.Getenv(pgtest.RequireEnv) != "1" {
		t.Skipf("PostgreSQL is not installed (set %s=1 to make this a failure): %v", pgtest.RequireEnv, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	err = srv.Exec(context.Background(), "postgres",
		"CREATE ROLE audit_owner LOGIN",
		"CREATE ROLE audit_writer LOGIN",
		"CREATE DATABASE audit OWNER audit_owner")
	if err != nil {
		t.Fatal(err)
	}
	return srv, &harness.Postgres{
		OwnerDSN:  srv.DSN("audit_owner", "audit"),
		WriterDSN: srv.DSN("audit_writer", "audit"),
		WriterID:  "e2e-0",
	}
}

// loadUntil sends PHI requests from four clients until stop closes. The
// function it returns waits for the clients and returns how many requests
// got a 2xx answer.
func loadUntil(st *harness.Stack, stop <-chan struct{}) func() int {
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodPost, st.URL+"/v1/chat/completions", bytes.NewReader(openAIChat(phiPrompt, false)))
				req.Header.Set("content-type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode < 300 {
					ok.Add(1)
				}
			}
		}()
	}
	return func() int { wg.Wait(); return int(ok.Load()) }
}

// decisionIDs returns the request ids of the allow and redact decision
// records in the PostgreSQL store.
func decisionIDs(t *testing.T, dsn string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT request_id FROM phigate_audit.records WHERE kind = 'decision' AND convert_from(record, 'UTF8')::jsonb->>'action' <> 'deny'`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, id := range ids {
		set[id] = true
	}
	return set
}

// checkForwardedRecorded checks that every request a stand-in received has
// a decision record, and that the store verifies.
func checkForwardedRecorded(t *testing.T, forwarded []standin.Request, pg *harness.Postgres) {
	t.Helper()
	decided := decisionIDs(t, pg.WriterDSN)
	for _, r := range forwarded {
		if id := r.Header.Get("x-phigate-request-id"); id == "" || !decided[id] {
			t.Errorf("a forwarded request (id %q) has no decision record", id)
		}
	}
	verify := exec.Command(phigateBin, "audit", "verify", "-postgres")
	verify.Env = append(os.Environ(), "PHIGATE_AUDIT_DSN="+pg.WriterDSN)
	if out, err := verify.CombinedOutput(); err != nil {
		t.Errorf("audit store does not verify: %v\n%s", err, out)
	}
	t.Logf("%d requests forwarded, %d allow or redact decision records", len(forwarded), len(decided))
}

func TestPostgresAuditSurvivesDatabaseRestart(t *testing.T) {
	srv, pg := startPostgres(t)
	st := startStack(t, harness.Options{Postgres: pg})

	stop := make(chan struct{})
	wait := loadUntil(st, stop)
	time.Sleep(500 * time.Millisecond)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	// Requests go on: their records go to the spool.
	time.Sleep(700 * time.Millisecond)
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	answered := wait()

	// A clean stop replays what is left in the spool.
	st.Stop()
	forwarded := append(st.OpenAI.Requests(), st.OpenAIBAA.Requests()...)
	if answered < 10 || len(forwarded) < answered {
		t.Fatalf("%d requests answered, %d forwarded: want at least 10, all forwarded", answered, len(forwarded))
	}
	checkForwardedRecorded(t, forwarded, pg)
	if log, _ := os.ReadFile(st.PhigateLog); !bytes.Contains(log, []byte("spool")) {
		t.Errorf("phigate's log never mentions the spool, so the outage did not exercise it")
	}
}

func TestPostgresAuditSurvivesKillUnderLoad(t *testing.T) {
	_, pg := startPostgres(t)
	st := startStack(t, harness.Options{Postgres: pg})

	stop := make(chan struct{})
	wait := loadUntil(st, stop)
	time.Sleep(700 * time.Millisecond)
	st.KillPhigate()
	time.Sleep(200 * time.Millisecond) // requests now fail closed at Envoy
	close(stop)
	wait()

	forwarded := append(st.OpenAI.Requests(), st.OpenAIBAA.Requests()...)
	if len(forwarded) < 10 {
		t.Fatalf("only %d requests were forwarded before the kill", len(forwarded))
	}
	checkForwardedRecorded(t, forwarded, pg)
}
