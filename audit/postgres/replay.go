package postgres

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/phigate/phigate/audit"
)

// resume loads the writer's chain at Open: its latest anchor, when its
// first records were archived, the database's rows in seq order (as leaf
// hashes computed by the server, so the lines need not be read), the last
// checkpoint, and the spooled lines behind them.
func (s *Store) resume(ctx context.Context, spooled [][]byte) error {
	id := s.opts.WriterID
	anchor, err := latestAnchor(ctx, s.conn, id)
	if err != nil {
		return err
	}
	base := uint64(0)
	if anchor != nil {
		// latestAnchor checked that the range is valid.
		s.tree, _ = anchor.MerkleTree()
		base, s.seq, s.prev = anchor.Records, anchor.Records, anchor.PrevHash
	}

	rows, err := s.conn.Query(ctx, `SELECT seq, sha256('\x00'::bytea || record) FROM `+Schema+`.records WHERE writer_id = $1 AND seq > $2 ORDER BY seq`, id, int64(base))
	if err != nil {
		return fmt.Errorf("reading the chain: %w", err)
	}
	var seq int64
	var leaf []byte
	_, err = pgx.ForEachRow(rows, []any{&seq, &leaf}, func() error {
		if want := s.tree.Size() + 1; uint64(seq) != want {
			return fmt.Errorf("the database has seq %d where seq %d belongs: records were removed or inserted; run phigate audit verify -postgres", seq, want)
		}
		return s.tree.AppendLeafHash(leaf)
	})
	if err != nil {
		return fmt.Errorf("reading the chain: %w", err)
	}

	dbSeq := s.tree.Size()
	if dbSeq > base {
		var hash string
		var line []byte
		err := s.conn.QueryRow(ctx, "SELECT hash, record FROM "+Schema+".records WHERE writer_id = $1 AND seq = $2", id, int64(dbSeq)).Scan(&hash, &line)
		if err != nil {
			return fmt.Errorf("reading the last record: %w", err)
		}
		rec, err := audit.ParseLine(line)
		if err != nil || rec.Hash != hash || rec.Seq != dbSeq || rec.Writer != id {
			return fmt.Errorf("the last record (seq %d) is damaged: run phigate audit verify -postgres", dbSeq)
		}
		s.seq, s.prev = dbSeq, rec.Hash
	}

	var checkpointed int64
	if err := s.conn.QueryRow(ctx, "SELECT coalesce(max(tree_size), 0) FROM "+Schema+".checkpoints WHERE writer_id = $1", id).Scan(&checkpointed); err != nil {
		return fmt.Errorf("reading the last checkpoint: %w", err)
	}
	s.checkpointed = uint64(checkpointed)

	if err := s.resumeSpool(spooled, dbSeq); err != nil {
		return err
	}
	if s.checkpointed > s.seq {
		return fmt.Errorf("the chain has %d records but its last checkpoint covers %d: records were removed; run phigate audit verify -postgres", s.seq, s.checkpointed)
	}
	return nil
}

// resumeSpool checks the spooled lines and moves the chain's tail to the
// last of them. Lines up to dbSeq are already in the database, because a
// replay committed them but the process stopped before emptying the
// spool. The next replay compares them with the rows. The other lines
// continue the chain.
func (s *Store) resumeSpool(spooled [][]byte, dbSeq uint64) error {
	var prevSeq uint64
	var prevHash string
	for i, line := range spooled {
		rec, err := audit.ParseLine(line)
		if err != nil {
			return fmt.Errorf("audit spool %s line %d: %w", s.spool.path, i+1, err)
		}
		if rec.Writer != s.opts.WriterID {
			return fmt.Errorf("audit spool %s contains records of writer %q, not %q: start phigate with audit.postgres.writer_id %q until its spool is replayed", s.spool.path, rec.Writer, s.opts.WriterID, rec.Writer)
		}
		switch {
		case i == 0 && rec.Seq > dbSeq+1:
			return fmt.Errorf("audit spool %s starts at seq %d but the database ends at seq %d: records between them are missing; run phigate audit verify -postgres", s.spool.path, rec.Seq, dbSeq)
		case i > 0 && (rec.Seq != prevSeq+1 || rec.PrevHash != prevHash):
			return fmt.Errorf("audit spool %s line %d does not follow the line before it: the spool is damaged", s.spool.path, i+1)
		case rec.Seq == dbSeq+1 && rec.PrevHash != s.prev:
			return fmt.Errorf("audit spool %s line %d does not continue the database chain at seq %d", s.spool.path, i+1, dbSeq)
		}
		prevSeq, prevHash = rec.Seq, rec.Hash

		if rec.Seq > dbSeq {
			s.tree.Append(line)
			s.seq, s.prev = rec.Seq, rec.Hash
		}
	}
	if len(spooled) > 0 {
		s.logger.Warn("audit spool holds records from an earlier run; replaying them", "records", len(spooled), "path", s.spool.path)
	}
	return nil
}

// replayChunk copies the next spooled lines into the database. Lines the
// database already has (because an earlier replay or a write of unknown
// outcome committed them) must match the stored rows byte for byte and are
// skipped, so each record is stored exactly once; a mismatch is damage and
// stops the replay. Once every line is in the database, the spool is
// emptied and the store writes to the database directly again.
func (s *Store) replayChunk(ctx context.Context) error {
	chunk, next, err := s.spool.read(s.replayOffset, replayChunk)
	if err != nil {
		return err
	}
	tailSeq, tailHash, err := s.dbTail(ctx)
	if err != nil {
		return err
	}

	var fresh []linked
	var stored map[uint64][]byte
	settled := 0
	for i, line := range chunk {
		rec, err := audit.ParseLine(line)
		if err != nil {
			s.setDamage(fmt.Errorf("audit spool %s: a line at byte %d or after is damaged: %w", s.spool.path, s.replayOffset, err))
			return nil
		}
		if rec.Seq > tailSeq {
			if len(fresh) == 0 && (rec.Seq != tailSeq+1 || rec.PrevHash != tailHash) {
				s.setDamage(fmt.Errorf("spooled record seq %d does not continue the database chain of writer %s, which ends at seq %d: run phigate audit verify -postgres", rec.Seq, s.opts.WriterID, tailSeq))
				return nil
			}
			at, err := recordTime(rec)
			if err != nil {
				s.setDamage(fmt.Errorf("spooled record seq %d: %w", rec.Seq, err))
				return nil
			}
			fresh = append(fresh, linked{rec: rec, line: line, at: at})
			continue
		}

		if stored == nil {
			last := tailSeq
			if n := len(chunk) - 1 - i; uint64(n) < tailSeq-rec.Seq {
				last = rec.Seq + uint64(n)
			}
			if stored, err = s.storedLines(ctx, rec.Seq, last); err != nil {
				return err
			}
		}
		if !bytes.Equal(stored[rec.Seq], line) {
			s.setDamage(fmt.Errorf("spooled record seq %d of writer %s conflicts with the database row for that seq (missing or different); the row was not overwritten: run phigate audit verify -postgres", rec.Seq, s.opts.WriterID))
			return nil
		}
		settled++
	}

	if len(fresh) > 0 {
		if err := s.copyLinks(ctx, fresh); err != nil {
			return err
		}
		s.counts.replayed += uint64(len(fresh))
	}
	s.counts.settled += uint64(settled)
	s.replayOffset = next
	if s.replayOffset < s.spool.size {
		return nil
	}

	if err := s.spool.reset(); err != nil {
		// The lines are in the database, so the next attempt finds them
		// there and only empties the spool.
		s.replayOffset = 0
		return err
	}
	s.replayOffset = 0
	s.spoolFull = false
	s.logger.Info("audit spool replayed into the database", "records", s.seq)
	return nil
}

// recordTime returns the time a record states, for the recorded_at column.
func recordTime(rec *audit.Record) (time.Time, error) {
	at, err := time.Parse(time.RFC3339Nano, rec.Time)
	if err != nil {
		return time.Time{}, fmt.Errorf("record time %q is not RFC 3339: %w", rec.Time, err)
	}
	return at, nil
}
