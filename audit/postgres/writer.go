package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/phigate/phigate/audit"
)

// recordColumns are the columns of the records table that COPY fills, in
// the order of copyRow's values.
var recordColumns = []string{"writer_id", "seq", "hash", "prev_hash", "recorded_at", "request_id", "kind", "provider", "tenant", "record"}

var recordsTable = pgx.Identifier{Schema, "records"}

// run is the writer goroutine: it owns the connection, the spool and the
// chain state, and serves batches of appends in between attempts to
// reconnect and to replay the spool.
func (s *Store) run() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	batch := make([]appendRequest, 0, s.opts.BatchSize)

	for {
		var wake <-chan time.Time
		if s.hasBackgroundWork() {
			timer.Reset(max(0, time.Until(s.retryAt)))
			wake = timer.C
		}

		select {
		case first, ok := <-s.requests:
			if !ok {
				timer.Stop()
				s.shutdown()
				return
			}
			batch = s.collect(append(batch[:0], first))
			s.handleBatch(batch)
		case <-wake:
			s.backgroundStep()
		}
		s.publish()
	}
}

// collect adds to batch every request already waiting, then, with a
// linger, those arriving within it, up to BatchSize.
func (s *Store) collect(batch []appendRequest) []appendRequest {
	for len(batch) < s.opts.BatchSize {
		select {
		case req, ok := <-s.requests:
			if !ok {
				return batch
			}
			batch = append(batch, req)
			continue
		default:
		}
		break
	}
	if s.opts.BatchLinger <= 0 || len(batch) >= s.opts.BatchSize {
		return batch
	}

	linger := time.NewTimer(s.opts.BatchLinger)
	defer linger.Stop()
	for len(batch) < s.opts.BatchSize {
		select {
		case req, ok := <-s.requests:
			if !ok {
				return batch
			}
			batch = append(batch, req)
		case <-linger.C:
			return batch
		}
	}
	return batch
}

// hasBackgroundWork reports whether the writer goroutine must wake up on
// its own: to reconnect, to settle a write of unknown outcome, or to replay
// the spool.
func (s *Store) hasBackgroundWork() bool {
	return s.conn == nil || s.unsure != nil || (!s.spool.empty() && s.damage == nil)
}

// handleBatch makes a batch durable and sends each caller the result.
//
// With an empty spool the batch goes to the database; if that fails, it
// goes to the spool. With records in the spool, the batch is spooled
// behind them. The chain state advances only once the batch is durable in
// one of the two.
func (s *Store) handleBatch(batch []appendRequest) {
	if s.unsure != nil {
		s.reject(batch, errors.New("audit store: the outcome of an earlier database write is unknown and is being checked; try again shortly"))
		return
	}
	links, err := s.link(batch)
	if err != nil {
		s.reject(batch, err)
		return
	}

	unknown := false
	if s.spool.empty() && s.damage == nil {
		copied, err := s.writeDirect(links)
		switch {
		case err == nil:
			s.advance(links)
			s.counts.written += uint64(len(links))
			s.sendResult(batch, nil)
			s.maybeCheckpoint()
			return
		case errors.Is(err, errNotWriting):
			// Waiting to reconnect, or damaged: the spool takes it.
		default:
			unknown = copied && outcomeUnknown(err)
			s.dbFailed("writing audit records to the database failed; spooling them", err)
		}
	}

	err = s.spool.append(lines(links))
	wasFull := s.spoolFull
	s.spoolFull = errors.Is(err, ErrSpoolFull)
	if err != nil {
		if unknown {
			// The database may have committed the batch although the
			// call failed. Until a new connection shows whether it did,
			// the next sequence number is unknown.
			s.unsure = links
		}
		// A full spool rejects every batch until the replay frees it;
		// only the first rejection is logged, the rest are counted.
		if !wasFull || !s.spoolFull {
			s.logger.Error("audit spool rejected records; their requests are denied until the spool has room", "records", len(batch), "error", err)
		}
		s.reject(batch, fmt.Errorf("audit store: database unavailable and the spool failed: %w", err))
		return
	}
	s.advance(links)
	s.counts.spooled += uint64(len(links))
	s.sendResult(batch, nil)
}

// link chains the batch's records after the current tail without changing
// the store's state.
func (s *Store) link(batch []appendRequest) ([]linked, error) {
	links := make([]linked, len(batch))
	seq, prev := s.seq, s.prev
	now := time.Now()
	for i, req := range batch {
		seq++
		rec := req.rec
		rec.Version, rec.Writer, rec.Seq = audit.Version, s.opts.WriterID, seq
		if s.opts.Sealer != nil {
			if err := s.opts.Sealer.Seal(rec); err != nil {
				return nil, fmt.Errorf("audit store: sealing record: %w", err)
			}
		}
		line, err := audit.Link(rec, seq, prev, now)
		if err != nil {
			return nil, fmt.Errorf("audit store: %w", err)
		}
		links[i] = linked{rec: rec, line: line, at: now}
		prev = rec.Hash
	}
	return links, nil
}

// advance moves the chain's tail past durable links.
func (s *Store) advance(links []linked) {
	for _, l := range links {
		s.tree.Append(l.line)
	}
	last := links[len(links)-1].rec
	s.seq, s.prev = last.Seq, last.Hash
}

func lines(links []linked) [][]byte {
	out := make([][]byte, len(links))
	for i, l := range links {
		out[i] = l.line
	}
	return out
}

func (s *Store) sendResult(batch []appendRequest, err error) {
	for _, req := range batch {
		req.result <- err
	}
}

func (s *Store) reject(batch []appendRequest, err error) {
	s.counts.rejected += uint64(len(batch))
	s.sendResult(batch, err)
}

// errNotWriting is returned by writeDirect when it did not try the
// database: the store waits to reconnect, or found damage on reconnecting.
var errNotWriting = errors.New("not writing to the audit database")

// writeDirect copies links into the database, connecting first if the
// backoff allows. copied reports whether the COPY was sent, so that a
// failure may have committed.
func (s *Store) writeDirect(links []linked) (copied bool, err error) {
	if s.conn == nil {
		if time.Now().Before(s.retryAt) {
			return false, errNotWriting
		}
		if err := s.reconnect(); err != nil {
			return false, err
		}
		if s.damage != nil {
			return false, errNotWriting
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), s.opts.WriteTimeout)
	defer cancel()
	return true, s.copyLinks(ctx, links)
}

// copyLinks writes links with one COPY, which commits as one transaction.
func (s *Store) copyLinks(ctx context.Context, links []linked) error {
	n, err := s.conn.CopyFrom(ctx, recordsTable, recordColumns, pgx.CopyFromSlice(len(links), func(i int) ([]any, error) {
		return copyRow(links[i]), nil
	}))
	if err != nil {
		return fmt.Errorf("copying %d audit records: %w", len(links), err)
	}
	if n != int64(len(links)) {
		return fmt.Errorf("copying audit records: %d of %d rows written", n, len(links))
	}
	return nil
}

func copyRow(l linked) []any {
	r := l.rec
	return []any{r.Writer, int64(r.Seq), r.Hash, r.PrevHash, l.at, r.RequestID, r.Kind, nullable(r.Provider), nullable(r.Tenant), l.line}
}

// nullable stores an empty optional field as NULL, as auditors' queries
// expect.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// outcomeUnknown reports whether a failed write may have committed: the
// server did not reject it, and the failure came after data was sent.
func outcomeUnknown(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return false
	}
	return !pgconn.SafeToRetry(err)
}

// dbFailed records a database failure: the connection, and with it the
// writer lock, is dropped, and reconnection waits for the backoff.
func (s *Store) dbFailed(msg string, err error) {
	s.lastError = err
	if s.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = s.conn.Close(ctx) // the connection is already unusable
		cancel()
		s.conn = nil
	}
	s.retryAt = time.Now().Add(s.backoff)
	s.logger.Warn(msg, "error", err, "retry_in", s.backoff.String(), "spooled_bytes", s.spool.size)
	s.backoff = min(s.backoff*2, maxRetryInterval)
}

// backgroundStep reconnects, settles a write of unknown outcome and
// replays one chunk of the spool, as far as each succeeds.
func (s *Store) backgroundStep() {
	if s.conn == nil {
		if err := s.reconnect(); err != nil {
			s.dbFailed("reconnecting to the audit database failed", err)
			return
		}
	}
	if s.spool.empty() || s.damage != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.WriteTimeout)
	defer cancel()
	if err := s.replayChunk(ctx); err != nil {
		s.dbFailed("replaying the audit spool failed", err)
		return
	}
	if s.spool.empty() {
		s.maybeCheckpoint()
	}
}

// reconnect opens a connection with the writer lock and checks that the
// database's end of the chain is where this process left it.
func (s *Store) reconnect() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.WriteTimeout)
	defer cancel()

	conn, err := s.connect(ctx)
	if err != nil {
		return err
	}
	s.conn = conn
	tailSeq, tailHash, err := s.dbTail(ctx)
	if err != nil {
		return err
	}
	if s.unsure != nil {
		if err := s.settle(ctx, tailSeq); err != nil {
			return err
		}
		tailSeq, tailHash = s.seq, s.prev
	}
	if s.spool.empty() && s.damage == nil && (tailSeq != s.seq || tailHash != s.prev) {
		s.setDamage(fmt.Errorf("the database chain of writer %s ends at seq %d, but this process wrote it up to seq %d: rows were added or removed by someone else; run phigate audit verify -postgres", s.opts.WriterID, tailSeq, s.seq))
	}

	s.lastError = nil
	s.backoff = s.opts.RetryInterval
	s.retryAt = time.Time{}
	s.logger.Info("connected to the audit database", "records", s.seq, "spooled_bytes", s.spool.size)
	return nil
}

// connect opens a connection and takes the writer's advisory lock. The
// lock is session-level: it lasts as long as the connection, and a
// process that dies loses it with its connection.
func (s *Store) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.connConfig)
	if err != nil {
		return nil, fmt.Errorf("connecting to the audit database: %w", err)
	}
	var locked bool
	err = conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", writerLockName(s.opts.WriterID)).Scan(&locked)
	if err == nil && !locked {
		err = fmt.Errorf("%w: writer id %s; give each replica its own audit.postgres.writer_id", ErrWriterInUse, s.opts.WriterID)
	}
	if err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("taking the writer lock: %w", err)
	}
	return conn, nil
}

func writerLockName(id string) string { return Schema + ".writer:" + id }

// dbTail returns the writer's last sequence number and hash in the
// database, zero and empty for a new chain. When every record was
// archived, the latest anchor is the end of the chain.
func (s *Store) dbTail(ctx context.Context) (uint64, string, error) {
	var seq int64
	var hash string
	err := s.conn.QueryRow(ctx, `(SELECT seq, hash FROM `+Schema+`.records WHERE writer_id = $1 ORDER BY seq DESC LIMIT 1)
UNION ALL (SELECT seq, prev_hash FROM `+Schema+`.anchors WHERE writer_id = $1 ORDER BY seq DESC LIMIT 1)
ORDER BY seq DESC LIMIT 1`, s.opts.WriterID).Scan(&seq, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("reading the end of the chain: %w", err)
	}
	return uint64(seq), hash, nil
}

// settle finds out whether a batch of unknown outcome was committed: the
// database ends either before it (not committed, and its callers got an
// error) or after it, with exactly its lines (committed).
func (s *Store) settle(ctx context.Context, tailSeq uint64) error {
	links := s.unsure
	switch tailSeq {
	case s.seq:
		s.logger.Info("a failed audit write was not committed", "records", len(links))
	case s.seq + uint64(len(links)):
		stored, err := s.storedLines(ctx, s.seq+1, tailSeq)
		if err != nil {
			return err
		}
		for _, l := range links {
			if string(stored[l.rec.Seq]) != string(l.line) {
				s.setDamage(fmt.Errorf("the database row of writer %s seq %d differs from the record this process wrote there: run phigate audit verify -postgres", s.opts.WriterID, l.rec.Seq))
				s.unsure = nil
				return nil
			}
		}
		s.advance(links)
		s.logger.Warn("a failed audit write was committed after all; its requests were denied although their records are stored", "records", len(links))
	default:
		s.setDamage(fmt.Errorf("the database chain of writer %s ends at seq %d, neither before (%d) nor after (%d) a write of unknown outcome: run phigate audit verify -postgres", s.opts.WriterID, tailSeq, s.seq, s.seq+uint64(len(links))))
	}
	s.unsure = nil
	return nil
}

// storedLines returns the writer's lines with seq from first to last, by
// seq.
func (s *Store) storedLines(ctx context.Context, first, last uint64) (map[uint64][]byte, error) {
	rows, err := s.conn.Query(ctx, "SELECT seq, record FROM "+Schema+".records WHERE writer_id = $1 AND seq BETWEEN $2 AND $3", s.opts.WriterID, int64(first), int64(last))
	if err != nil {
		return nil, fmt.Errorf("reading stored records: %w", err)
	}
	out := map[uint64][]byte{}
	var seq int64
	var line []byte
	_, err = pgx.ForEachRow(rows, []any{&seq, &line}, func() error {
		out[uint64(seq)] = line
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading stored records: %w", err)
	}
	return out, nil
}

func (s *Store) setDamage(err error) {
	s.damage = err
	s.logger.Error("audit store damage found; records now go only to the spool until the damage is repaired and phigate restarted", "error", err)
}

// maybeCheckpoint signs a checkpoint when CheckpointEvery records have
// been stored since the last one. Checkpoints are written only while the
// spool is empty, so every record a checkpoint covers is in the database.
func (s *Store) maybeCheckpoint() {
	if s.opts.Signer == nil || s.conn == nil || !s.spool.empty() || s.damage != nil {
		return
	}
	if s.tree.Size()-s.checkpointed >= s.opts.CheckpointEvery {
		s.writeCheckpoint()
	}
}

// writeCheckpoint signs the chain's tree and stores it. A failure is
// logged, not returned: the records are already durable, and the next
// checkpoint covers them too.
func (s *Store) writeCheckpoint() {
	cp, err := audit.SignCheckpoint(s.opts.Signer, s.tree)
	if err != nil {
		s.logger.Error("signing audit checkpoint failed", "size", s.tree.Size(), "error", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.WriteTimeout)
	defer cancel()
	_, err = s.conn.Exec(ctx, "INSERT INTO "+Schema+".checkpoints (writer_id, tree_size, note) VALUES ($1, $2, $3)", s.opts.WriterID, int64(cp.Size), cp.Note)
	if err != nil {
		s.logger.Error("storing audit checkpoint failed", "size", cp.Size, "error", err)
		if s.conn.IsClosed() {
			s.dbFailed("the audit database connection broke while storing a checkpoint", err)
		}
		return
	}
	s.checkpointed = cp.Size
	if s.opts.CheckpointFile != "" {
		if err := audit.AppendCheckpointFile(s.opts.CheckpointFile, cp); err != nil {
			s.logger.Error("writing audit checkpoint file failed; the checkpoint is in the database", "size", cp.Size, "error", err)
		}
	}
}

// shutdown runs after the last append: it replays the spool within
// CloseTimeout, writes a final checkpoint when the database has every
// record, and closes the connection, which releases the writer lock.
func (s *Store) shutdown() {
	deadline := time.Now().Add(s.opts.CloseTimeout)
	for !s.spool.empty() && s.damage == nil && time.Now().Before(deadline) {
		if wait := time.Until(s.retryAt); wait > 0 {
			time.Sleep(min(wait, time.Until(deadline)))
			continue
		}
		s.backgroundStep()
	}
	if !s.spool.empty() {
		s.logger.Warn("audit spool still contains records at shutdown; they are replayed when phigate starts again with the same writer id", "spooled_bytes", s.spool.size, "path", s.spool.path)
	}
	if s.spool.empty() && s.conn == nil && s.damage == nil && s.tree.Size() > s.checkpointed && s.opts.Signer != nil {
		if err := s.reconnect(); err != nil {
			s.logger.Error("no final audit checkpoint: the database is unreachable", "error", err)
		}
	}
	if s.opts.Signer != nil && s.conn != nil && s.spool.empty() && s.damage == nil && s.tree.Size() > s.checkpointed {
		s.writeCheckpoint()
	}

	if s.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		// The server drops a closed session's locks only after the client
		// has gone, so the lock is released first: a process that opens
		// the same writer right after Close then finds it free.
		if _, err := s.conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", writerLockName(s.opts.WriterID)); err != nil {
			s.logger.Warn("releasing the writer lock failed; the server releases it with the session", "error", err)
		}
		_ = s.conn.Close(ctx)
		cancel()
		s.conn = nil
	}
	if err := s.spool.close(); err != nil {
		s.logger.Error("closing audit spool failed", "error", err)
	}
	s.publish()
	s.logger.Info("PostgreSQL audit store closed", "records", s.seq, "checkpointed", s.checkpointed)
}
