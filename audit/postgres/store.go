// Package postgres keeps phigate's audit log in PostgreSQL, through pgx.
//
// Several phigate processes may write one database at once. Each process
// is a writer with its own hash chain, named by its writer id, and holds a
// session-level advisory lock on that id for as long as it writes, so two
// processes can never extend the same chain. A chain's records are the
// same canonical lines FileLog writes, stored byte for byte in the record
// column, so audit.VerifyWithOptions checks each chain unchanged.
//
// Appends are group-committed: one goroutine takes every record waiting,
// links them into the chain and writes them with one COPY, which commits
// as one transaction, and Append returns only after the commit. When the
// database is unreachable or the write fails, the batch goes to a local
// spool file instead, synced before Append returns. While the spool holds
// records, new records are spooled too, so the chain stays in order, and a
// background loop replays the spool into the database, then empties it.
// When neither the database nor the spool takes a record, Append fails and
// the caller denies the request.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/phigate/phigate/audit"
)

// ErrWriterInUse is returned, wrapped, when another session holds the
// writer id's advisory lock: another process is writing that chain.
var ErrWriterInUse = errors.New("audit writer id is in use by another process")

// Defaults for the zero values of Options.
const (
	DefaultSpoolMaxBytes   = 1 << 30
	DefaultBatchSize       = 512
	DefaultWriteTimeout    = 5 * time.Second
	DefaultRetryInterval   = time.Second
	DefaultCloseTimeout    = 10 * time.Second
	DefaultCheckpointEvery = 1000

	// maxRetryInterval bounds the backoff between reconnection attempts.
	maxRetryInterval = 30 * time.Second
	// replayChunk is the number of spooled records replayed per COPY.
	replayChunk = 2000
)

// validWriterID matches the writer ids phigate accepts. A Kubernetes pod
// name or a host name fits.
var validWriterID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidWriterID reports whether id can name a writer: 1 to 128 letters,
// digits, dots, underscores and hyphens, starting with a letter or digit.
func ValidWriterID(id string) bool { return validWriterID.MatchString(id) }

// Options configures a Store.
type Options struct {
	// DSN is the writer role's connection string, in libpq keyword/value
	// or URL form. It may hold a password, so it never appears in errors
	// or logs.
	DSN string
	// OwnerDSN, when set, is the schema owner's connection string. Open
	// uses it once to apply migrations and grant the DSN's role its
	// privileges. Without it, the schema must already be up to date (or
	// the DSN's role must own it).
	OwnerDSN string
	// WriterID names this process's chain; see ValidWriterID.
	WriterID string
	// SpoolPath is the local file for records the database does not take.
	// It must survive a restart of the process, because it may hold the
	// only copy of acknowledged records.
	SpoolPath string
	// SpoolMaxBytes bounds the spool; DefaultSpoolMaxBytes when zero.
	SpoolMaxBytes int64
	// BatchSize bounds the records of one COPY; DefaultBatchSize when zero.
	BatchSize int
	// BatchLinger is how long a batch waits for more records before it is
	// written. Zero writes whatever is waiting at once, which gives the
	// lowest latency; group commit still forms batches under load.
	BatchLinger time.Duration
	// WriteTimeout bounds each connection attempt and each database write;
	// DefaultWriteTimeout when zero. A write that times out goes to the
	// spool.
	WriteTimeout time.Duration
	// RetryInterval is the first wait before reconnecting, doubled after
	// each failure up to 30 seconds; DefaultRetryInterval when zero.
	RetryInterval time.Duration
	// CloseTimeout bounds how long Close keeps replaying the spool;
	// DefaultCloseTimeout when zero. Records left in the spool are
	// replayed at the next Open.
	CloseTimeout time.Duration
	// Signer, when set, signs a checkpoint of the chain every
	// CheckpointEvery records (DefaultCheckpointEvery when zero) and at
	// Close, stored in the checkpoints table and, when CheckpointFile is
	// set, appended to that file too.
	Signer          note.Signer
	CheckpointEvery uint64
	CheckpointFile  string
	// Sealer, when set, encrypts each record's sealed fields before its
	// hash is computed, as FileLog does (see audit.Sealer).
	Sealer *audit.Sealer
	// Logger receives starts, stops, retries and errors, never record
	// contents; nil discards.
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.SpoolMaxBytes == 0 {
		o.SpoolMaxBytes = DefaultSpoolMaxBytes
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.RetryInterval == 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.CloseTimeout == 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	if o.CheckpointEvery == 0 {
		o.CheckpointEvery = DefaultCheckpointEvery
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.DSN == "" {
		errs = append(errs, errors.New("missing database connection string"))
	}
	if !ValidWriterID(o.WriterID) {
		errs = append(errs, fmt.Errorf("invalid writer id %q: use 1 to 128 letters, digits, '.', '_' or '-'", o.WriterID))
	}
	if o.SpoolPath == "" {
		errs = append(errs, errors.New("missing spool path"))
	}
	if o.SpoolMaxBytes < 0 || o.BatchSize < 0 || o.BatchLinger < 0 || o.WriteTimeout < 0 || o.RetryInterval < 0 || o.CloseTimeout < 0 {
		errs = append(errs, errors.New("sizes and durations must not be negative"))
	}
	return errors.Join(errs...)
}

// Status is a snapshot of a Store's state, for readiness checks and
// metrics. It holds no record contents.
type Status struct {
	WriterID string
	// Connected reports whether the store holds a database connection
	// (and with it the writer lock).
	Connected bool
	// Records is the length of the writer's chain, spooled records
	// included.
	Records       uint64
	SpoolBytes    int64
	SpoolMaxBytes int64
	// SpoolFull reports that the spool rejected the last records offered
	// to it for lack of room.
	SpoolFull bool
	// Counters since Open: records written to the database directly,
	// written to the spool, replayed from the spool, found already in the
	// database when their turn to replay came (a write whose commit
	// outcome was unknown had committed them), and rejected (Append
	// returned an error).
	Written  uint64
	Spooled  uint64
	Replayed uint64
	Settled  uint64
	Rejected uint64
	// LastError is the last database error, or empty after a success.
	LastError string
	// Damage, when set, describes a conflict between the spool or this
	// process's chain and the database. From then on the store writes
	// only to the spool and reports unhealthy until restarted.
	Damage string
	Closed bool
}

// Store is the PostgreSQL audit store. It implements audit.Appender.
type Store struct {
	opts       Options
	connConfig *pgx.ConnConfig
	logger     *slog.Logger
	requests   chan appendRequest
	done       chan struct{}

	closeMu sync.Mutex
	closed  bool

	statusMu sync.Mutex
	status   Status

	// Owned by the writer goroutine after Open.
	conn         *pgx.Conn
	spool        *spool
	replayOffset int64
	seq          uint64
	prev         string
	tree         *audit.MerkleTree
	checkpointed uint64
	unsure       []linked
	spoolFull    bool
	damage       error
	lastError    error
	retryAt      time.Time
	backoff      time.Duration
	counts       struct{ written, spooled, replayed, settled, rejected uint64 }
}

type appendRequest struct {
	rec    *audit.Record
	result chan error
}

// linked is one record with its place in the chain.
type linked struct {
	rec  *audit.Record
	line []byte
	at   time.Time
}

// Open connects to the database, applies migrations when OwnerDSN is set,
// takes the writer lock, opens the spool and resumes the writer's chain
// from its last row and the spool. The database must be reachable: without
// the writer lock, the store could extend a chain another process writes.
// Open fails, and names the check to run, when the chain in the database
// or the spool is damaged, or when the database holds fewer records than
// its last checkpoint covers.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("opening PostgreSQL audit store: %w", err)
	}
	connConfig, err := parseDSN(opts.DSN)
	if err != nil {
		return nil, err
	}
	s := &Store{
		opts:       opts,
		connConfig: connConfig,
		logger:     opts.Logger.With("writer_id", opts.WriterID),
		requests:   make(chan appendRequest, opts.BatchSize),
		done:       make(chan struct{}),
		tree:       audit.NewMerkleTree(),
		backoff:    opts.RetryInterval,
	}

	if opts.OwnerDSN != "" {
		if err := migrateAsOwner(ctx, opts.OwnerDSN, connConfig.User, s.logger); err != nil {
			return nil, err
		}
	}

	sp, spooled, err := openSpool(opts.SpoolPath, opts.SpoolMaxBytes, s.logger)
	if err != nil {
		return nil, err
	}
	s.spool = sp

	if err := s.openConn(ctx, spooled); err != nil {
		s.spool.close()
		if s.conn != nil {
			s.conn.Close(context.Background())
		}
		return nil, err
	}

	s.logger.Info("PostgreSQL audit store opened", "records", s.seq, "spooled_bytes", s.spool.size, "checkpointed", s.checkpointed)
	s.publish()
	go s.run()
	return s, nil
}

// openConn connects, checks the schema version with the writer's own
// connection and resumes the chain. Only the connection attempt is bounded
// by WriteTimeout: reading a long chain takes longer, and ctx bounds it.
func (s *Store) openConn(ctx context.Context, spooled [][]byte) error {
	connectCtx, cancel := context.WithTimeout(ctx, s.opts.WriteTimeout)
	conn, err := s.connect(connectCtx)
	cancel()
	if err != nil {
		return fmt.Errorf("opening PostgreSQL audit store: %w", err)
	}
	s.conn = conn
	if s.opts.OwnerDSN == "" {
		if _, err := Migrate(ctx, conn, MigrateOptions{}); err != nil {
			return fmt.Errorf("opening PostgreSQL audit store: %w", err)
		}
	}
	if err := s.resume(ctx, spooled); err != nil {
		return fmt.Errorf("resuming the audit chain of writer %s: %w", s.opts.WriterID, err)
	}
	return nil
}

// parseDSN parses a connection string without ever putting it in an error,
// since it may hold a password.
func parseDSN(dsn string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		reason := "invalid syntax"
		if inner := errors.Unwrap(err); inner != nil {
			reason = inner.Error()
		}
		return nil, fmt.Errorf("parsing the audit database connection string failed (%s); its text is not shown because it may hold a password", reason)
	}
	return cfg, nil
}

func migrateAsOwner(ctx context.Context, dsn, writerRole string, logger *slog.Logger) error {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connecting as the audit schema owner: %w", err)
	}
	defer conn.Close(context.Background())

	opts := MigrateOptions{}
	if writerRole != cfg.User {
		opts.WriterRole = writerRole
	}
	res, err := Migrate(ctx, conn, opts)
	if err != nil {
		return err
	}
	if len(res.Applied) > 0 {
		logger.Info("audit schema migrated", "applied", res.Applied, "version", res.Version)
	}
	return nil
}

// Append links rec into the writer's chain and returns once it is durable,
// in the database or the spool. It fills in Version, Writer, Seq, Time,
// PrevHash and Hash. rec must not be modified until Append returns.
func (s *Store) Append(ctx context.Context, rec *audit.Record) error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return audit.ErrClosed
	}
	req := appendRequest{rec: rec, result: make(chan error, 1)}
	s.requests <- req
	s.closeMu.Unlock()

	select {
	case err := <-req.result:
		return err
	case <-ctx.Done():
		// As with FileLog, the record may still be stored, but the caller
		// must not forward the request.
		return fmt.Errorf("waiting for audit write: %w", ctx.Err())
	}
}

// Close stops accepting records, waits for pending appends, replays what
// it can of the spool within CloseTimeout, writes a final checkpoint when
// every record is in the database, and releases the writer lock. Records
// left in the spool stay there for the next Open with the same writer id.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.requests)
	s.closeMu.Unlock()

	<-s.done
	s.statusMu.Lock()
	s.status.Closed = true
	s.statusMu.Unlock()
	return nil
}

// Status returns a snapshot of the store's state.
func (s *Store) Status() Status {
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	return s.status
}

// Healthy reports whether the store accepts records: it is open, found no
// damage, and either holds a database connection or has room in its spool.
func (s *Store) Healthy() bool {
	st := s.Status()
	return !st.Closed && st.Damage == "" && (st.Connected || !st.SpoolFull)
}

// Describe returns a one-line summary of the store's state for the
// readiness endpoint.
func (s *Store) Describe() string {
	st := s.Status()
	var state string
	switch {
	case st.Closed:
		state = "closed"
	case st.Damage != "":
		state = "damaged: " + st.Damage
	case st.SpoolBytes > 0 && st.Connected:
		state = fmt.Sprintf("replaying the spool (%d of %d bytes)", st.SpoolBytes, st.SpoolMaxBytes)
	case st.SpoolBytes > 0:
		state = fmt.Sprintf("database unreachable, spooling (%d of %d bytes): %s", st.SpoolBytes, st.SpoolMaxBytes, st.LastError)
	case st.Connected:
		state = "connected"
	default:
		state = "not connected, reconnecting: " + st.LastError
	}
	return fmt.Sprintf("postgres writer %s, %d records, %s", st.WriterID, st.Records, state)
}

// publish copies the writer goroutine's state into the status snapshot.
func (s *Store) publish() {
	st := Status{
		WriterID:      s.opts.WriterID,
		Connected:     s.conn != nil,
		Records:       s.seq,
		SpoolBytes:    s.spool.size,
		SpoolMaxBytes: s.spool.max,
		SpoolFull:     s.spoolFull,
		Written:       s.counts.written,
		Spooled:       s.counts.spooled,
		Replayed:      s.counts.replayed,
		Settled:       s.counts.settled,
		Rejected:      s.counts.rejected,
	}
	if s.lastError != nil {
		st.LastError = s.lastError.Error()
	}
	if s.damage != nil {
		st.Damage = s.damage.Error()
	}
	// closeMu is not taken here: Append holds it while it waits for the
	// writer goroutine, which calls publish.
	s.statusMu.Lock()
	st.Closed = s.status.Closed
	s.status = st
	s.statusMu.Unlock()
}
