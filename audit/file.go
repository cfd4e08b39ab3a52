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
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// ErrClosed is returned by Append after Close, and after a write failure
// that left the log in an unknown state: from then on every request is
// denied rather than forwarded unaudited.
var ErrClosed = errors.New("audit log is closed")

// maxBatch bounds how many records share one write and fsync.
const maxBatch = 256

// FileLog is an append-only JSONL audit log in one local file.
//
// Append returns only once the record is written and fsynced. Concurrent
// appends are batched: one goroutine writes every record waiting at that
// moment and syncs once for all of them (group commit), so throughput
// grows with concurrency while each caller still waits for durability.
//
// One process owns a log file at a time; OpenFile takes an exclusive
// advisory lock and fails if another process holds it.
type FileLog struct {
	f        *os.File
	requests chan appendRequest
	done     chan struct{}
	closeMu  sync.Mutex
	closed   bool
	broken   atomic.Bool
	logger   *slog.Logger

	// Owned by the writer goroutine.
	seq          uint64
	prev         string
	tree         *tree
	checkpointed uint64 // records covered by the last checkpoint

	signer          note.Signer
	checkpointEvery uint64
	checkpointsPath string
	checkpointCopy  string
	sealer          *Sealer
}

type appendRequest struct {
	rec    *Record
	result chan error
}

// OpenFile opens or creates the log at path, and its directory, and
// resumes its chain. A final line without its newline is the remains of a
// write that crashed before its fsync returned. Its request was never
// forwarded, so the line is cut off and the cut is logged. Any other damage
// makes OpenFile fail: run `phigate audit verify` to find it.
func OpenFile(path string, logger *slog.Logger) (*FileLog, error) {
	return OpenFileWithOptions(path, FileOptions{Logger: logger})
}

// FileOptions configures a FileLog.
type FileOptions struct {
	Logger *slog.Logger
	// Signer, when set, signs a checkpoint every CheckpointEvery records
	// and when the log closes, appended to CheckpointsPath(path).
	Signer note.Signer
	// CheckpointEvery defaults to 1000 records.
	CheckpointEvery uint64
	// CheckpointCopy, when set, is a second checkpoints file that
	// receives every checkpoint after CheckpointsPath(path) does, in the
	// same format and synced the same way. Put it on another volume, so
	// that whoever can rewrite the log and its checkpoints file cannot
	// also rewrite the copy. Archive never prunes it.
	CheckpointCopy string
	// Sealer, when set, encrypts each record's sealed fields before its
	// hash is computed (see Sealer.Seal).
	Sealer *Sealer
}

// OpenFileWithOptions is OpenFile with checkpoints. It also rejects a log
// with fewer records than its last checkpoint covers, because records were
// cut off; `phigate audit verify` reports the details.
func OpenFileWithOptions(path string, opts FileOptions) (*FileLog, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = 1000
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating audit log directory: %w", err)
	}
	if opts.CheckpointCopy != "" {
		if filepath.Clean(opts.CheckpointCopy) == filepath.Clean(CheckpointsPath(path)) {
			return nil, fmt.Errorf("audit checkpoint copy %s is the log's own checkpoints file: choose a path on another volume", opts.CheckpointCopy)
		}
		if err := os.MkdirAll(filepath.Dir(opts.CheckpointCopy), 0o700); err != nil {
			return nil, fmt.Errorf("creating the directory of the audit checkpoint copy: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening audit log: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking audit log %s: another process is writing it: %w", path, err)
	}

	l := &FileLog{
		f:               f,
		requests:        make(chan appendRequest, maxBatch),
		done:            make(chan struct{}),
		logger:          logger,
		tree:            newTree(),
		signer:          opts.Signer,
		checkpointEvery: opts.CheckpointEvery,
		checkpointsPath: CheckpointsPath(path),
		checkpointCopy:  opts.CheckpointCopy,
		sealer:          opts.Sealer,
	}
	if err := l.resume(); err != nil {
		f.Close()
		return nil, fmt.Errorf("resuming audit log %s: %w", path, err)
	}
	cps, err := readCheckpoints(l.checkpointsPath)
	if err != nil {
		f.Close()
		return nil, err
	}
	if len(cps) > 0 {
		last := cps[len(cps)-1].Size
		if last > l.seq {
			f.Close()
			return nil, fmt.Errorf("audit log %s has %d records but its last checkpoint covers %d: records were removed; run phigate audit verify", path, l.seq, last)
		}
		l.checkpointed = last
	}
	go l.writeLoop()
	return l, nil
}

// resume reads the last complete record to continue its sequence and
// chain, and truncates a torn final line.
func (l *FileLog) resume() error {
	data, err := io.ReadAll(l.f)
	if err != nil {
		return err
	}
	end := bytes.LastIndexByte(data, '\n') + 1
	if end < len(data) {
		l.logger.Warn("truncating incomplete final audit record", "bytes", len(data)-end)
		if err := l.f.Truncate(int64(end)); err != nil {
			return err
		}
		if err := l.f.Sync(); err != nil {
			return err
		}
	}
	if _, err := l.f.Seek(int64(end), io.SeekStart); err != nil {
		return err
	}
	if end == 0 {
		return nil
	}

	lines := bytes.Split(data[:end-1], []byte{'\n'})
	lines, base, err := l.resumeAnchor(lines)
	if err != nil || len(lines) == 0 {
		return err
	}
	for _, line := range lines {
		l.tree.append(line)
	}
	last := lines[len(lines)-1]
	var rec Record
	if err := json.Unmarshal(last, &rec); err != nil {
		return fmt.Errorf("decoding last record: %w", err)
	}
	want, err := rec.computeHash()
	if err != nil {
		return err
	}
	if rec.Hash != want || rec.Seq != base+uint64(len(lines)) {
		return fmt.Errorf("last record (seq %d, want %d) is damaged", rec.Seq, base+uint64(len(lines)))
	}
	l.seq, l.prev = rec.Seq, rec.Hash
	return nil
}

// Append chains rec to the log and returns once it is durable. It fills in
// Version, Seq, Time, PrevHash and Hash, and with a Sealer it moves the
// sealed fields into Sealed. rec must not be modified until Append returns.
func (l *FileLog) Append(ctx context.Context, rec *Record) error {
	l.closeMu.Lock()
	if l.closed {
		l.closeMu.Unlock()
		return ErrClosed
	}
	req := appendRequest{rec: rec, result: make(chan error, 1)}
	l.requests <- req
	l.closeMu.Unlock()

	select {
	case err := <-req.result:
		return err
	case <-ctx.Done():
		// The record may still be written, but the caller must not forward
		// the request. So the log may show a decision for a request that
		// never went out, and never misses one that did.
		return fmt.Errorf("waiting for audit write: %w", ctx.Err())
	}
}

func (l *FileLog) writeLoop() {
	defer close(l.done)
	var failed error
	batch := make([]appendRequest, 0, maxBatch)
	var buf bytes.Buffer

	for first := range l.requests {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxBatch {
			select {
			case req, ok := <-l.requests:
				if !ok {
					break drain
				}
				batch = append(batch, req)
			default:
				break drain
			}
		}

		if failed == nil {
			failed = l.writeBatch(batch, &buf)
			if failed != nil {
				l.broken.Store(true)
				l.logger.Error("audit log write failed; rejecting all further records", "error", failed)
			}
		}
		for _, req := range batch {
			if failed != nil {
				req.result <- fmt.Errorf("%w: %w", ErrClosed, failed)
			} else {
				req.result <- nil
			}
		}
	}
}

// writeBatch encodes, writes and syncs a batch. On error the chain state
// is left as it was, but the file may hold part of the batch, so the
// caller stops writing.
func (l *FileLog) writeBatch(batch []appendRequest, buf *bytes.Buffer) error {
	buf.Reset()
	lines := make([][]byte, 0, len(batch))
	seq, prev := l.seq, l.prev
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for _, req := range batch {
		seq++
		rec := req.rec
		rec.Version, rec.Seq, rec.Time, rec.PrevHash = Version, seq, now, prev
		if l.sealer != nil {
			if err := l.sealer.Seal(rec); err != nil {
				return fmt.Errorf("sealing record: %w", err)
			}
		}
		hash, err := rec.computeHash()
		if err != nil {
			return fmt.Errorf("encoding record: %w", err)
		}
		rec.Hash = hash
		line, err := rec.canonicalWithHash()
		if err != nil {
			return fmt.Errorf("encoding record: %w", err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
		lines = append(lines, line)
		prev = hash
	}
	if _, err := l.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing records: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("syncing records: %w", err)
	}
	l.seq, l.prev = seq, prev
	for _, line := range lines {
		l.tree.append(line)
	}
	if l.signer != nil && l.tree.size()-l.checkpointed >= l.checkpointEvery {
		l.writeCheckpoint()
	}
	return nil
}

// writeCheckpoint signs the current tree and appends it to the
// checkpoints file, then to the copy. A failure is logged, not returned:
// the records are already durable, and the next checkpoint covers them
// too.
func (l *FileLog) writeCheckpoint() {
	size := l.tree.size()
	text, err := signCheckpoint(l.signer, size, l.tree.root())
	cp := Checkpoint{Size: size, Note: text}
	if err == nil {
		err = appendCheckpoint(l.checkpointsPath, cp)
	}
	if err != nil {
		l.logger.Error("writing audit checkpoint failed", "size", size, "error", err)
		return
	}
	l.checkpointed = size
	if l.checkpointCopy == "" {
		return
	}
	if err := appendCheckpoint(l.checkpointCopy, cp); err != nil {
		l.logger.Error("writing audit checkpoint copy failed; the checkpoint is in the log's checkpoints file", "size", size, "path", l.checkpointCopy, "error", err)
	}
}

func appendCheckpoint(path string, c Checkpoint) error {
	line, err := json.Marshal(c)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// canonicalWithHash is the line written to the file: the canonical
// encoding with the hash field included.
func (r *Record) canonicalWithHash() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Healthy reports whether the log still accepts records.
func (l *FileLog) Healthy() bool {
	l.closeMu.Lock()
	defer l.closeMu.Unlock()
	return !l.closed && !l.broken.Load()
}

// Close waits for pending appends, then closes the file. Appends after
// Close return ErrClosed.
func (l *FileLog) Close() error {
	l.closeMu.Lock()
	if l.closed {
		l.closeMu.Unlock()
		return nil
	}
	l.closed = true
	close(l.requests)
	l.closeMu.Unlock()

	<-l.done
	if l.signer != nil && l.tree.size() > l.checkpointed && !l.broken.Load() {
		l.writeCheckpoint()
	}
	return l.f.Close()
}

// scanLines returns a scanner over the log's lines that accepts records up
// to 4 MiB. Unlike bufio.ScanLines it keeps a carriage return, so a log
// converted to CRLF line ends fails verification instead of passing.
func scanLines(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	return sc
}
