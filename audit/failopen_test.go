package audit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// failingStore fails every append with err.
type failingStore struct{ err error }

func (f failingStore) Append(context.Context, *Record) error { return f.err }

func TestFailOpenSwallowsStoreErrors(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	f := NewFailOpen(failingStore{errors.New("database unreachable")}, logger)

	for i := range 5 {
		if err := f.Append(context.Background(), sampleRecord(i)); err != nil {
			t.Fatalf("Append %d = %v, want nil while failing open", i, err)
		}
	}

	if got := f.Dropped(); got != 5 {
		t.Errorf("Dropped = %d, want 5", got)
	}
	// The first failure is logged at once; the rest within the interval
	// are counted for the next log line.
	if n := strings.Count(logs.String(), "\n"); n != 1 {
		t.Errorf("logged %d lines for 5 failures in a burst, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"request_id":"req-0000"`) || !strings.Contains(logs.String(), "database unreachable") {
		t.Errorf("log line lacks the request id or the error:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "clinic-a") {
		t.Errorf("log line contains record contents:\n%s", logs.String())
	}
}

func TestFailOpenPassesSuccessAndContextErrors(t *testing.T) {
	ok := NewFailOpen(failingStore{}, nil)
	if err := ok.Append(context.Background(), sampleRecord(1)); err != nil || ok.Dropped() != 0 {
		t.Errorf("Append to a working store = %v with %d dropped, want nil and 0", err, ok.Dropped())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := NewFailOpen(failingStore{context.Canceled}, nil)
	if err := f.Append(ctx, sampleRecord(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Append with a cancelled context = %v, want context.Canceled passed through", err)
	}
	if f.Dropped() != 0 {
		t.Errorf("Dropped = %d after a cancelled caller, want 0", f.Dropped())
	}
}
