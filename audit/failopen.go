package audit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Appender stores audit records durably: Append returns nil only once the
// record survives a crash. FileLog and the PostgreSQL store implement it.
type Appender interface {
	Append(ctx context.Context, rec *Record) error
}

// failOpenLogInterval bounds how often FailOpen logs; the failures in
// between are counted and reported with the next log line.
const failOpenLogInterval = 10 * time.Second

// FailOpen wraps an Appender so that a failed append returns nil: the
// request is forwarded although its record was not stored. It is what
// audit.on_failure: allow configures.
//
// The trade-off: with the default (deny), an audit store outage stops all
// LLM traffic but no request leaves without a durable record. With
// FailOpen, traffic continues and the records written during the outage
// are lost, so the log no longer shows every disclosure, and the chain
// shows no gap for them because they were never chained. Each dropped
// record is counted (Dropped) and logged, at most once per 10 seconds with
// the count since the last log line.
//
// Context errors pass through unchanged: they mean the caller gave up, not
// that the store failed, and the request is not forwarded either way.
type FailOpen struct {
	next    Appender
	logger  *slog.Logger
	dropped atomic.Uint64

	mu       sync.Mutex
	lastLog  time.Time
	unlogged uint64
}

// NewFailOpen returns a FailOpen around next; a nil logger discards.
func NewFailOpen(next Appender, logger *slog.Logger) *FailOpen {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &FailOpen{next: next, logger: logger}
}

// Append appends rec to the wrapped store and returns nil when the store
// fails, unless ctx is done.
func (f *FailOpen) Append(ctx context.Context, rec *Record) error {
	err := f.next.Append(ctx, rec)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return err
	}

	f.dropped.Add(1)
	f.mu.Lock()
	f.unlogged++
	now := time.Now()
	if now.Sub(f.lastLog) < failOpenLogInterval {
		f.mu.Unlock()
		return nil
	}
	count := f.unlogged
	f.unlogged, f.lastLog = 0, now
	f.mu.Unlock()

	f.logger.Error("audit records dropped: the audit store failed and audit.on_failure is allow, so requests are forwarded without a durable record",
		"error", err, "request_id", rec.RequestID, "kind", rec.Kind, "dropped", count)
	return nil
}

// Dropped returns the number of records dropped since FailOpen was created.
func (f *FailOpen) Dropped() uint64 { return f.dropped.Load() }
