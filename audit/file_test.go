package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func discardLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// sampleRecord returns a decision record with synthetic values.
func sampleRecord(i int) *Record {
	return &Record{
		Kind:              KindDecision,
		RequestID:         fmt.Sprintf("req-%04d", i),
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

func openLog(t testing.TB, path string) *FileLog {
	t.Helper()
	l, err := OpenFile(path, discardLogger())
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	return l
}

func appendRecords(t testing.TB, l *FileLog, first, n int) []*Record {
	t.Helper()
	var recs []*Record
	for i := range n {
		rec := sampleRecord(first + i)
		if err := l.Append(context.Background(), rec); err != nil {
			t.Fatalf("Append record %d: %v", first+i, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// readRecords decodes every line of the log at path.
func readRecords(t *testing.T, path string) []Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading log: %v", err)
	}
	var recs []Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("decoding line %d: %v", len(recs)+1, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

func TestFileLogAppendFillsChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := openLog(t, path)
	recs := appendRecords(t, l, 1, 3)
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for i, rec := range recs {
		if rec.Version != Version {
			t.Errorf("record %d: Version = %d, want %d", i, rec.Version, Version)
		}
		if rec.Seq != uint64(i+1) {
			t.Errorf("record %d: Seq = %d, want %d", i, rec.Seq, i+1)
		}
		if rec.Time == "" {
			t.Errorf("record %d: Time is empty, want the append time", i)
		}
		if len(rec.Hash) != 64 {
			t.Errorf("record %d: Hash = %q, want 64 hex digits", i, rec.Hash)
		}
	}
	if recs[0].PrevHash != "" {
		t.Errorf("first record: PrevHash = %q, want empty", recs[0].PrevHash)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].PrevHash != recs[i-1].Hash {
			t.Errorf("record %d: PrevHash = %q, want the previous hash %q", i, recs[i].PrevHash, recs[i-1].Hash)
		}
	}

	res, err := VerifyFile(path)
	if err != nil {
		t.Fatalf("VerifyFile: %v", err)
	}
	if res.Records != 3 {
		t.Errorf("VerifyFile: Records = %d, want 3", res.Records)
	}
	if res.LastHash != recs[2].Hash {
		t.Errorf("VerifyFile: LastHash = %q, want %q", res.LastHash, recs[2].Hash)
	}
}

func TestFileLogReopenResumesChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")

	l := openLog(t, path)
	first := appendRecords(t, l, 1, 3)
	if err := l.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}

	l = openLog(t, path)
	second := appendRecords(t, l, 4, 2)
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	if second[0].Seq != 4 {
		t.Errorf("first record after reopen: Seq = %d, want 4", second[0].Seq)
	}
	if second[0].PrevHash != first[2].Hash {
		t.Errorf("first record after reopen: PrevHash = %q, want the last hash before close %q", second[0].PrevHash, first[2].Hash)
	}
	if second[1].Seq != 5 {
		t.Errorf("second record after reopen: Seq = %d, want 5", second[1].Seq)
	}

	onDisk := readRecords(t, path)
	if len(onDisk) != 5 {
		t.Fatalf("log has %d lines, want 5", len(onDisk))
	}
	for i, rec := range onDisk {
		if rec.Seq != uint64(i+1) {
			t.Errorf("line %d: seq = %d, want %d", i+1, rec.Seq, i+1)
		}
	}
	res, err := VerifyFile(path)
	if err != nil {
		t.Fatalf("VerifyFile after reopen: %v", err)
	}
	if res.Records != 5 {
		t.Errorf("VerifyFile: Records = %d, want 5", res.Records)
	}
}

func TestFileLogConcurrentAppends(t *testing.T) {
	const goroutines, perGoroutine = 32, 25
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := openLog(t, path)

	seqs := make([][]uint64, goroutines)
	errs := make(chan error, goroutines*perGoroutine)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				rec := sampleRecord(g*perGoroutine + i)
				if err := l.Append(context.Background(), rec); err != nil {
					errs <- err
					continue
				}
				seqs[g] = append(seqs[g], rec.Seq)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Append: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	var all []uint64
	for g, s := range seqs {
		if !slices.IsSorted(s) {
			t.Errorf("goroutine %d got sequence numbers out of order: %v", g, s)
		}
		all = append(all, s...)
	}
	slices.Sort(all)
	const total = goroutines * perGoroutine
	if len(all) != total {
		t.Fatalf("got %d sequence numbers, want %d", len(all), total)
	}
	for i, seq := range all {
		if seq != uint64(i+1) {
			t.Fatalf("sorted sequence numbers have %d at position %d, want %d: numbers are repeated or missing", seq, i, i+1)
		}
	}

	res, err := VerifyFile(path)
	if err != nil {
		t.Fatalf("VerifyFile: %v", err)
	}
	if res.Records != total {
		t.Errorf("VerifyFile: Records = %d, want %d", res.Records, total)
	}
}

func TestFileLogTruncatesTornLine(t *testing.T) {
	tests := []struct {
		name     string
		complete int // records written before the torn line
	}{
		{name: "after records", complete: 3},
		{name: "only line", complete: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			l := openLog(t, path)
			appendRecords(t, l, 1, tt.complete)
			if err := l.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			good, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			torn := fmt.Sprintf(`{"v":1,"seq":%d,"kind":"decision","time":"2031-01-01T00:00:00Z","request_id":"req-torn"`, tt.complete+1)
			if err := os.WriteFile(path, append(bytes.Clone(good), torn...), 0o600); err != nil {
				t.Fatal(err)
			}

			var logs bytes.Buffer
			l, err = OpenFile(path, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatalf("OpenFile with a torn final line: %v", err)
			}
			afterOpen, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(afterOpen, good) {
				t.Errorf("after OpenFile the log is %d bytes, want the %d bytes before the torn line", len(afterOpen), len(good))
			}
			if !strings.Contains(logs.String(), "truncating incomplete final audit record") {
				t.Errorf("OpenFile did not log the truncation; log output: %q", logs.String())
			}

			rec := sampleRecord(99)
			if err := l.Append(context.Background(), rec); err != nil {
				t.Fatalf("Append after truncation: %v", err)
			}
			if rec.Seq != uint64(tt.complete+1) {
				t.Errorf("Seq after truncation = %d, want %d", rec.Seq, tt.complete+1)
			}
			if err := l.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if _, err := VerifyFile(path); err != nil {
				t.Errorf("VerifyFile after truncation and append: %v", err)
			}
		})
	}
}

func TestOpenFileRejectsDamagedLastRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := openLog(t, path)
	appendRecords(t, l, 1, 3)
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(data, []byte(`"request_id":"req-0003"`), []byte(`"request_id":"req-9999"`), 1)
	if bytes.Equal(edited, data) {
		t.Fatal("fixture edit did not apply")
	}
	if err := os.WriteFile(path, edited, 0o600); err != nil {
		t.Fatal(err)
	}

	l, err = OpenFile(path, discardLogger())
	if err == nil {
		l.Close()
		t.Fatal("OpenFile accepted a log whose last record was edited, want an error")
	}
	if !strings.Contains(err.Error(), "damaged") {
		t.Errorf("OpenFile error = %q, want it to say the record is damaged", err)
	}
}

func TestOpenFileLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := openLog(t, path)

	second, err := OpenFile(path, discardLogger())
	if err == nil {
		second.Close()
		t.Fatal("second OpenFile on a locked log succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "another process") {
		t.Errorf("second OpenFile error = %q, want it to name the lock", err)
	}

	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	third, err := OpenFile(path, discardLogger())
	if err != nil {
		t.Fatalf("OpenFile after the first log closed: %v", err)
	}
	if err := third.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestFileLogAppendAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := openLog(t, path)
	appendRecords(t, l, 1, 1)
	if !l.Healthy() {
		t.Error("Healthy = false on an open log, want true")
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	err := l.Append(context.Background(), sampleRecord(2))
	if !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if l.Healthy() {
		t.Error("Healthy = true after Close, want false")
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if recs := readRecords(t, path); len(recs) != 1 {
		t.Errorf("log has %d records, want 1: the rejected record must not be written", len(recs))
	}
}

func TestOpenFileCreatesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "audit.jsonl")
	l, err := OpenFile(path, discardLogger())
	if err != nil {
		t.Fatalf("OpenFile in a missing directory: %v", err)
	}
	defer l.Close()
	info, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode = %o, want 700", perm)
	}
}

func TestOpenFileUnwritableParent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := OpenFile(filepath.Join(dir, "audit.jsonl"), discardLogger())
	if err == nil {
		l.Close()
		t.Fatal("OpenFile under a regular file succeeded, want an error")
	}
}
