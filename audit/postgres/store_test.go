package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/internal/pgtest"
)

// checkpointKeys returns a note signer and its verifier.
func checkpointKeys(t testing.TB) (note.Signer, note.Verifier) {
	t.Helper()
	private, public, err := audit.GenerateCheckpointKey("phigate.example.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(private)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(public)
	if err != nil {
		t.Fatal(err)
	}
	return signer, verifier
}

func TestStoreAppendFillsChain(t *testing.T) {
	db := migrated(t)
	s := openStore(t, storeOptions(t, db, "pod-a"))

	recs := make([]*audit.Record, 3)
	for i := range recs {
		recs[i] = sampleRecord(i + 1)
		if err := s.Append(context.Background(), recs[i]); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	prev := ""
	for i, rec := range recs {
		if rec.Writer != "pod-a" || rec.Seq != uint64(i+1) || rec.PrevHash != prev || rec.Hash == "" || rec.Version != audit.Version {
			t.Errorf("record %d: writer %q seq %d prev %q hash %q version %d, want pod-a, %d, the previous hash, a hash, %d",
				i+1, rec.Writer, rec.Seq, rec.PrevHash, rec.Hash, rec.Version, i+1, audit.Version)
		}
		prev = rec.Hash
	}

	conn := connect(t, db.OwnerDSN())
	var provider, tenant, requestID string
	var line []byte
	err := conn.QueryRow(context.Background(), "SELECT provider, tenant, request_id, record FROM phigate_audit.records WHERE writer_id = 'pod-a' AND seq = 2").Scan(&provider, &tenant, &requestID, &line)
	if err != nil {
		t.Fatal(err)
	}
	if provider != "openai-baa" || tenant != "clinic-a" || requestID != "req-000002" {
		t.Errorf("columns = %q %q %q, want openai-baa clinic-a req-000002", provider, tenant, requestID)
	}
	parsed, err := audit.ParseLine(line)
	if err != nil {
		t.Fatalf("stored line: %v", err)
	}
	if parsed.Hash != recs[1].Hash {
		t.Errorf("stored line has hash %s, want %s", parsed.Hash, recs[1].Hash)
	}
}

func TestStoreConcurrentAppendsVerify(t *testing.T) {
	db := migrated(t)
	signer, verifier := checkpointKeys(t)
	opts := storeOptions(t, db, "pod-a")
	opts.Signer, opts.CheckpointEvery = signer, 100
	opts.CheckpointFile = filepath.Join(t.TempDir(), "checkpoints.jsonl")
	s := openStore(t, opts)

	const workers, each = 16, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { appendN(t, s, w*each+1, each) })
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	res := verifyAll(t, db, VerifyOptions{Verifier: verifier})["pod-a"]
	if res.Damage != nil {
		t.Fatalf("Verify found damage: %v", res.Damage)
	}
	if res.Records != workers*each {
		t.Errorf("Records = %d, want %d", res.Records, workers*each)
	}
	// Checkpoints every 100 records or more (a batch may cross the mark),
	// and one at Close.
	if res.Checkpoints < 2 || res.SignedCheckpoints != res.Checkpoints {
		t.Errorf("checkpoints = %d, signed %d; want at least 2, all signed", res.Checkpoints, res.SignedCheckpoints)
	}
	data, err := os.ReadFile(opts.CheckpointFile)
	if err != nil {
		t.Fatalf("reading the checkpoint file: %v", err)
	}
	if n := strings.Count(string(data), "\n"); n != res.Checkpoints {
		t.Errorf("checkpoint file has %d lines, want one per checkpoint (%d)", n, res.Checkpoints)
	}
	if st := s.Status(); st.Written != workers*each || st.Spooled != 0 || !st.Closed {
		t.Errorf("Status = %+v, want %d written, none spooled, closed", st, workers*each)
	}
}

func TestStoreReopenResumesChain(t *testing.T) {
	db := migrated(t)
	signer, verifier := checkpointKeys(t)
	opts := storeOptions(t, db, "pod-a")
	opts.Signer, opts.CheckpointEvery = signer, 4

	s := openStore(t, opts)
	appendN(t, s, 1, 10)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, opts)
	if got := s.Status().Records; got != 10 {
		t.Errorf("reopened store has %d records, want 10", got)
	}
	appendN(t, s, 11, 5)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	res := verifyAll(t, db, VerifyOptions{Verifier: verifier})["pod-a"]
	if res.Damage != nil || res.Records != 15 {
		t.Errorf("Verify = %d records, damage %v; want 15 intact", res.Records, res.Damage)
	}
}

func TestStoreAppendAfterClose(t *testing.T) {
	db := migrated(t)
	s := openStore(t, storeOptions(t, db, "pod-a"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(context.Background(), sampleRecord(1)); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("Append after Close = %v, want audit.ErrClosed", err)
	}
	if s.Healthy() {
		t.Error("Healthy after Close = true, want false")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func TestStoreWriterIDInUse(t *testing.T) {
	db := migrated(t)
	first := openStore(t, storeOptions(t, db, "pod-a"))
	defer first.Close()

	_, err := Open(context.Background(), storeOptions(t, db, "pod-a"))
	if !errors.Is(err, ErrWriterInUse) {
		t.Fatalf("second Open with the same writer id = %v, want ErrWriterInUse", err)
	}

	other := openStore(t, storeOptions(t, db, "pod-b"))
	appendN(t, other, 1, 2)
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRejectsInvalidOptions(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Options)
		want   string
	}{
		{name: "missing DSN", modify: func(o *Options) { o.DSN = "" }, want: "missing database connection string"},
		{name: "writer id with slash", modify: func(o *Options) { o.WriterID = "pod/a" }, want: `invalid writer id "pod/a"`},
		{name: "empty writer id", modify: func(o *Options) { o.WriterID = "" }, want: "invalid writer id"},
		{name: "missing spool", modify: func(o *Options) { o.SpoolPath = "" }, want: "missing spool path"},
		{name: "negative linger", modify: func(o *Options) { o.BatchLinger = -time.Second }, want: "must not be negative"},
		{name: "password kept out of errors", modify: func(o *Options) { o.DSN = "postgres://phigate:s3cret-pw@127.0.0.1:notaport/audit" }, want: "its text is not shown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{DSN: "host=127.0.0.1", WriterID: "pod-a", SpoolPath: filepath.Join(t.TempDir(), "spool")}
			tt.modify(&opts)

			_, err := Open(context.Background(), opts)

			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open = %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("Open error %q contains the password", err)
			}
		})
	}
}

// TestTwoWriterProcesses runs two writer processes against one database at
// once, each with its own chain, and a third that requests a writer id
// in use.
func TestTwoWriterProcesses(t *testing.T) {
	db := migrated(t)
	const records, workers = 400, 8

	a := startChild(t, db.WriterDSN(), "pod-a", filepath.Join(t.TempDir(), "a.spool"), records, workers)
	b := startChild(t, db.WriterDSN(), "pod-b", filepath.Join(t.TempDir(), "b.spool"), records, workers)
	<-a.ready
	<-b.ready
	c := startChild(t, db.WriterDSN(), "pod-a", filepath.Join(t.TempDir(), "c.spool"), records, workers)

	if code := c.wait(t, time.Minute); code != exitWriterInUse {
		t.Errorf("third process with writer id pod-a exited %d, want %d (writer in use); stderr:\n%s", code, exitWriterInUse, c.stderr.String())
	}
	for name, p := range map[string]*child{"pod-a": a, "pod-b": b} {
		if code := p.wait(t, 2*time.Minute); code != 0 {
			t.Fatalf("writer %s exited %d; stderr:\n%s", name, code, p.stderr.String())
		}
		if n := p.ackCount(); n != records {
			t.Errorf("writer %s acknowledged %d records, want %d", name, n, records)
		}
	}

	results := verifyAll(t, db, VerifyOptions{})
	if len(results) != 2 {
		t.Errorf("Verify found %d writers, want 2", len(results))
	}
	for _, w := range []string{"pod-a", "pod-b"} {
		res := results[w]
		if res.Damage != nil || res.Records != records {
			t.Errorf("writer %s: %d records, damage %v; want %d intact", w, res.Records, res.Damage, records)
		}
	}
}

// TestKillWriterUnderLoad kills a writer process with SIGKILL while it
// appends from many goroutines, then checks that every record it
// acknowledged is in the database and that a new process resumes the
// chain intact.
func TestKillWriterUnderLoad(t *testing.T) {
	db := migrated(t)
	const workers = 16
	spool := filepath.Join(t.TempDir(), "spool.jsonl")
	p := startChild(t, db.WriterDSN(), "pod-a", spool, 1_000_000, workers)
	<-p.ready
	waitFor(t, time.Minute, "500 acknowledged records", func() bool { return p.ackCount() >= 500 })

	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.wait(t, time.Minute)
	acked := p.acked()

	conn := connect(t, db.OwnerDSN())
	stored := map[string]bool{}
	rows, err := conn.Query(context.Background(), "SELECT request_id FROM phigate_audit.records WHERE writer_id = 'pod-a'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		stored[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	missing := 0
	for id := range acked {
		if !stored[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged records are missing from the database", missing, len(acked))
	}
	// Records committed but not yet acknowledged when the kill came: at
	// most one batch, bounded by the goroutines waiting.
	if extra := len(stored) - len(acked); extra < 0 || extra > workers {
		t.Errorf("database holds %d records for %d acknowledged, want between 0 and %d more", len(stored), len(acked), workers)
	}
	t.Logf("killed after %d acknowledged records; %d stored", len(acked), len(stored))

	// The kill released the writer lock with the connection; a new process
	// with the spool resumes the chain.
	opts := storeOptions(t, db, "pod-a")
	opts.SpoolPath = spool
	s := openStore(t, opts)
	// The killed process may have spooled records after a write whose
	// connection the kill cut; the new process replays them, so the
	// chain resumes at the stored rows plus the spool.
	resumed := int(s.Status().Records)
	if resumed < len(stored) {
		t.Errorf("resumed chain has %d records, want at least the %d stored", resumed, len(stored))
	}
	appendN(t, s, 2_000_001, 10)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	res := verifyAll(t, db, VerifyOptions{})["pod-a"]
	if res.Damage != nil || res.Records != resumed+10 {
		t.Errorf("Verify after restart: %d records, damage %v; want %d intact", res.Records, res.Damage, resumed+10)
	}
}

// appender appends records from several goroutines until stopped and
// counts what Append acknowledged and rejected.
type appender struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	next     atomic.Int64
	acked    atomic.Int64
	rejected atomic.Int64
	mu       sync.Mutex
	lastErr  error
}

func startAppenders(s *Store, workers int, pause time.Duration) *appender {
	a := &appender{stop: make(chan struct{})}
	for range workers {
		a.wg.Go(func() {
			for {
				select {
				case <-a.stop:
					return
				default:
				}
				rec := sampleRecord(int(a.next.Add(1)))
				if err := s.Append(context.Background(), rec); err != nil {
					a.rejected.Add(1)
					a.mu.Lock()
					a.lastErr = err
					a.mu.Unlock()
				} else {
					a.acked.Add(1)
				}
				time.Sleep(pause)
			}
		})
	}
	return a
}

func (a *appender) halt() {
	close(a.stop)
	a.wg.Wait()
}

// TestSpoolReplayAfterRestart stops the server while records are appended,
// keeps appending while it is down, starts it again and checks that every
// acknowledged record reached the database exactly once, in one intact
// chain. The server stops cleanly in one case and crashes in the other.
func TestSpoolReplayAfterRestart(t *testing.T) {
	tests := []struct {
		name string
		stop func(*pgtest.Server) error
	}{
		{name: "fast shutdown", stop: (*pgtest.Server).Stop},
		{name: "crash", stop: (*pgtest.Server).Kill},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testSpoolReplayAfterRestart(t, tt.stop) })
	}
}

func testSpoolReplayAfterRestart(t *testing.T, stop func(*pgtest.Server) error) {
	db := migrated(t)
	signer, verifier := checkpointKeys(t)
	opts := storeOptions(t, db, "pod-a")
	opts.Signer, opts.CheckpointEvery = signer, 50
	s := openStore(t, opts)
	srv := db.Server()
	t.Cleanup(func() { _ = srv.Resume() })

	a := startAppenders(s, 8, time.Millisecond)
	waitFor(t, time.Minute, "records written before the stop", func() bool { return s.Status().Written >= 200 })

	if err := stop(srv); err != nil {
		t.Fatalf("stopping PostgreSQL: %v", err)
	}
	waitFor(t, time.Minute, "records spooled while the database is down", func() bool { return s.Status().Spooled >= 200 })
	if !s.Healthy() {
		t.Error("Healthy while spooling with room left = false, want true")
	}
	if d := s.Describe(); !strings.Contains(d, "spooling") {
		t.Errorf("Describe while the database is down = %q, want it to say spooling", d)
	}

	if err := srv.Resume(); err != nil {
		t.Fatalf("starting PostgreSQL again: %v", err)
	}
	waitFor(t, time.Minute, "the spool to be replayed", func() bool {
		st := s.Status()
		return st.SpoolBytes == 0 && st.Connected && st.Written > 0
	})
	written := s.Status().Written
	waitFor(t, time.Minute, "direct writes after the replay", func() bool { return s.Status().Written >= written+100 })
	a.halt()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	st := s.Status()
	if a.rejected.Load() != 0 {
		t.Errorf("%d appends were rejected, want none; last error: %v", a.rejected.Load(), a.lastErr)
	}
	// A crash can cut the connection after a COPY committed but before
	// its result arrived: those records are spooled, then found stored.
	if st.Replayed+st.Settled != st.Spooled {
		t.Errorf("replayed %d and found %d already stored of %d spooled, want every spooled record accounted for", st.Replayed, st.Settled, st.Spooled)
	}
	rows, requests := countRows(t, db, "pod-a")
	if int64(rows) != a.acked.Load() || requests != rows {
		t.Errorf("database has %d rows with %d distinct request ids, want exactly the %d acknowledged records", rows, requests, a.acked.Load())
	}
	res := verifyAll(t, db, VerifyOptions{Verifier: verifier})["pod-a"]
	if res.Damage != nil || res.Records != rows || res.Checkpoints == 0 {
		t.Errorf("Verify = %d records, %d checkpoints, damage %v; want %d intact with checkpoints", res.Records, res.Checkpoints, res.Damage, rows)
	}
	t.Logf("written %d, spooled %d, replayed %d, found stored %d", st.Written, st.Spooled, st.Replayed, st.Settled)
}

func TestSpoolFullRejectsAppends(t *testing.T) {
	db := migrated(t)
	opts := storeOptions(t, db, "pod-a")
	opts.SpoolMaxBytes = 8 << 10
	s := openStore(t, opts)
	defer s.Close()
	srv := db.Server()
	t.Cleanup(func() { _ = srv.Resume() })
	appendN(t, s, 1, 5)

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	acked := 5
	var err error
	for i := 6; i < 1000; i++ {
		if err = s.Append(context.Background(), sampleRecord(i)); err != nil {
			break
		}
		acked++
	}
	if !errors.Is(err, ErrSpoolFull) {
		t.Fatalf("Append with the database down and the spool full = %v, want ErrSpoolFull", err)
	}
	if s.Healthy() {
		t.Error("Healthy with the database down and the spool full = true, want false")
	}

	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the spool to be replayed", func() bool { return s.Status().SpoolBytes == 0 && s.Status().Connected })
	appendN(t, s, 5000, 3)
	acked += 3
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	rows, _ := countRows(t, db, "pod-a")
	if rows != acked {
		t.Errorf("database has %d records, want the %d acknowledged", rows, acked)
	}
	if res := verifyAll(t, db, VerifyOptions{})["pod-a"]; res.Damage != nil {
		t.Errorf("Verify found damage after a full spool: %v", res.Damage)
	}
}

// TestSpoolReplayedAtNextOpen closes a store while the database is down,
// so records stay in the spool, and checks that the next Open replays them.
func TestSpoolReplayedAtNextOpen(t *testing.T) {
	db := migrated(t)
	opts := storeOptions(t, db, "pod-a")
	opts.CloseTimeout = 100 * time.Millisecond
	s := openStore(t, opts)
	srv := db.Server()
	t.Cleanup(func() { _ = srv.Resume() })
	appendN(t, s, 1, 5)

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 6, 7)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(opts.SpoolPath); err != nil || info.Size() == 0 {
		t.Fatalf("spool after closing with the database down: %v, size %d; want records in it", err, info.Size())
	}

	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, opts)
	if got := s.Status().Records; got != 12 {
		t.Errorf("reopened store resumes at %d records, want 12 (5 in the database, 7 spooled)", got)
	}
	waitFor(t, time.Minute, "the spool to be replayed", func() bool { return s.Status().SpoolBytes == 0 })
	appendN(t, s, 13, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	rows, requests := countRows(t, db, "pod-a")
	if rows != 14 || requests != 14 {
		t.Errorf("database has %d rows, %d distinct request ids; want 14 of each", rows, requests)
	}
	if res := verifyAll(t, db, VerifyOptions{})["pod-a"]; res.Damage != nil || res.Records != 14 {
		t.Errorf("Verify = %d records, damage %v; want 14 intact", res.Records, res.Damage)
	}
}

// TestReplaySkipsStoredLines covers a stop between a replay's commit and
// the spool's truncation: the spool still holds lines the database has,
// which the next replay must skip, not insert twice.
func TestReplaySkipsStoredLines(t *testing.T) {
	db := migrated(t)
	opts := storeOptions(t, db, "pod-a")
	s := openStore(t, opts)
	appendN(t, s, 1, 6)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	lines := storedChain(t, db, "pod-a")
	writeSpool(t, opts.SpoolPath, lines[3:])

	s = openStore(t, opts)
	waitFor(t, time.Minute, "the spool to be replayed", func() bool { return s.Status().SpoolBytes == 0 })
	appendN(t, s, 7, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	if st := s.Status(); st.Replayed != 0 || st.Damage != "" {
		t.Errorf("Status = %+v, want nothing replayed and no damage", st)
	}
	if rows, _ := countRows(t, db, "pod-a"); rows != 7 {
		t.Errorf("database has %d records, want 7", rows)
	}
}

// TestReplayReportsConflict gives the store a spooled record that differs
// from the database row with the same seq: the store reports damage and
// leaves the row as it was.
func TestReplayReportsConflict(t *testing.T) {
	db := migrated(t)
	opts := storeOptions(t, db, "pod-a")
	s := openStore(t, opts)
	appendN(t, s, 1, 4)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	lines := storedChain(t, db, "pod-a")
	forged := relink(t, lines[2:], func(r *audit.Record) { r.Action = "deny" })
	writeSpool(t, opts.SpoolPath, forged)

	s = openStore(t, opts)
	defer s.Close()
	waitFor(t, time.Minute, "damage to be reported", func() bool { return s.Status().Damage != "" })

	if s.Healthy() {
		t.Error("Healthy after damage = true, want false")
	}
	if d := s.Status().Damage; !strings.Contains(d, "seq 3") || !strings.Contains(d, "not overwritten") {
		t.Errorf("Damage = %q, want it to name seq 3 and say the row was not overwritten", d)
	}
	if got := storedChain(t, db, "pod-a"); string(got[2]) != string(lines[2]) {
		t.Error("the database row for seq 3 changed, want it left as it was")
	}
}

func TestOpenRejectsSpoolOfAnotherWriter(t *testing.T) {
	db := migrated(t)
	opts := storeOptions(t, db, "pod-a")
	s := openStore(t, opts)
	appendN(t, s, 1, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	writeSpool(t, opts.SpoolPath, storedChain(t, db, "pod-a"))

	other := opts
	other.WriterID = "pod-b"
	_, err := Open(context.Background(), other)
	if err == nil || !strings.Contains(err.Error(), `contains records of writer "pod-a"`) {
		t.Errorf("Open with another writer's spool = %v, want an error naming writer pod-a", err)
	}
}

func TestOpenRefusesChainShorterThanCheckpoint(t *testing.T) {
	db := migrated(t)
	signer, _ := checkpointKeys(t)
	opts := storeOptions(t, db, "pod-a")
	opts.Signer, opts.CheckpointEvery = signer, 3
	s := openStore(t, opts)
	appendN(t, s, 1, 6)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	tamper(t, db, "DELETE FROM phigate_audit.records WHERE writer_id = 'pod-a' AND seq > 4")

	_, err := Open(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "records were removed") {
		t.Errorf("Open of a chain cut below its checkpoint = %v, want a records-removed error", err)
	}
}

// storedChain returns a writer's record lines in seq order.
func storedChain(t testing.TB, db *pgtest.Database, writer string) [][]byte {
	t.Helper()
	conn := connect(t, db.OwnerDSN())
	rows, err := conn.Query(context.Background(), "SELECT record FROM phigate_audit.records WHERE writer_id = $1 ORDER BY seq", writer)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for rows.Next() {
		var line []byte
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		out = append(out, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func writeSpool(t testing.TB, path string, lines [][]byte) {
	t.Helper()
	var data []byte
	for _, l := range lines {
		data = append(append(data, l...), '\n')
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// relink decodes lines, applies edit to the first, and rehashes the chain
// from there, keeping it linked to the record before the first line, as
// someone forging records would.
func relink(t testing.TB, lines [][]byte, edit func(*audit.Record)) [][]byte {
	t.Helper()
	out := make([][]byte, len(lines))
	prev := ""
	for i, line := range lines {
		rec, err := audit.ParseLine(line)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			prev = rec.PrevHash
			edit(rec)
		}
		at, err := time.Parse(time.RFC3339Nano, rec.Time)
		if err != nil {
			t.Fatal(err)
		}
		if out[i], err = audit.Link(rec, rec.Seq, prev, at); err != nil {
			t.Fatal(err)
		}
		prev = rec.Hash
	}
	return out
}

// tamper runs statements as the owner with the append-only triggers
// disabled, as an attacker holding the owner's credentials could.
func tamper(t testing.TB, db *pgtest.Database, statements ...string) {
	t.Helper()
	tamperWith(t, db, func(conn *pgx.Conn) error {
		for _, stmt := range statements {
			if _, err := conn.Exec(context.Background(), stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return nil
	})
}

// tamperWith runs edit on an owner connection with the append-only
// triggers disabled.
func tamperWith(t testing.TB, db *pgtest.Database, edit func(conn *pgx.Conn) error) {
	t.Helper()
	conn := connect(t, db.OwnerDSN())
	ctx := context.Background()
	toggle := func(action string) {
		for _, table := range []string{"records", "checkpoints"} {
			if _, err := conn.Exec(ctx, "ALTER TABLE phigate_audit."+table+" "+action+" TRIGGER USER"); err != nil {
				t.Fatalf("%s triggers: %v", action, err)
			}
		}
	}
	toggle("DISABLE")
	if err := edit(conn); err != nil {
		t.Fatalf("tampering: %v", err)
	}
	toggle("ENABLE")
}

func TestStoreSealsRecords(t *testing.T) {
	db := migrated(t)
	sealer, err := audit.NewSealer([]audit.SealKey{{ID: "k1", Key: bytes.Repeat([]byte{7}, audit.SealKeyBytes)}}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	opts := storeOptions(t, db, "pod-a")
	opts.Sealer = sealer
	s := openStore(t, opts)
	appendN(t, s, 1, 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	lines := storedChain(t, db, "pod-a")
	if strings.Contains(string(lines[0]), "rerouted from openai") {
		t.Errorf("stored line holds the reasons in plain text: %s", lines[0])
	}
	rec, err := audit.ParseLine(lines[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := sealer.Open(rec); err != nil {
		t.Fatalf("opening the sealed fields: %v", err)
	}
	if len(rec.Reasons) != 1 || !strings.Contains(rec.Reasons[0], "rerouted from openai") {
		t.Errorf("opened reasons = %q, want the original reason", rec.Reasons)
	}
	if res := verifyAll(t, db, VerifyOptions{})["pod-a"]; res.Damage != nil || res.Records != 3 {
		t.Errorf("Verify of sealed records = %d records, damage %v; want 3 intact", res.Records, res.Damage)
	}
}
