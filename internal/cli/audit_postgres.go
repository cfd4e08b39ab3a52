package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/audit/postgres"
	"github.com/phigate/phigate/config"
	"github.com/phigate/phigate/processor"
	"github.com/phigate/phigate/telemetry"
)

// auditStore is the store serve writes: an *audit.FileLog or a
// *postgres.Store.
type auditStore interface {
	Append(ctx context.Context, rec *audit.Record) error
	// Healthy reports whether the store accepts records.
	Healthy() bool
	Close() error
}

// openAuditStore opens the configured store. fileOpts carries what both
// stores share: the logger, the checkpoint signer and interval, and the
// sealer.
func openAuditStore(ctx context.Context, cfg config.Audit, fileOpts audit.FileOptions, tel *telemetry.Metrics) (auditStore, error) {
	if cfg.Store != "postgres" {
		return audit.OpenFileWithOptions(cfg.File, fileOpts)
	}

	pg := cfg.Postgres
	var errs []error
	dsn := os.Getenv(pg.DSNEnv)
	if dsn == "" {
		errs = append(errs, fmt.Errorf("audit.postgres.dsn_env: environment variable %s is empty or unset: it must hold the writer role's connection string", pg.DSNEnv))
	}
	var ownerDSN string
	if pg.OwnerDSNEnv != "" {
		if ownerDSN = os.Getenv(pg.OwnerDSNEnv); ownerDSN == "" {
			errs = append(errs, fmt.Errorf("audit.postgres.owner_dsn_env: environment variable %s is empty or unset", pg.OwnerDSNEnv))
		}
	}
	writerID := pg.WriterID
	if writerID == "" {
		host, err := os.Hostname()
		if err != nil || !postgres.ValidWriterID(host) {
			errs = append(errs, fmt.Errorf("audit.postgres.writer_id is not set and the host name %q cannot serve as one: set writer_id", host))
		}
		writerID = host
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	store, err := postgres.Open(ctx, postgres.Options{
		DSN:             dsn,
		OwnerDSN:        ownerDSN,
		WriterID:        writerID,
		SpoolPath:       pg.Spool,
		SpoolMaxBytes:   pg.SpoolMaxBytes,
		BatchSize:       pg.BatchSize,
		BatchLinger:     pg.BatchLinger,
		WriteTimeout:    pg.WriteTimeout,
		Signer:          fileOpts.Signer,
		CheckpointEvery: fileOpts.CheckpointEvery,
		CheckpointFile:  pg.CheckpointFile,
		Sealer:          fileOpts.Sealer,
		Logger:          fileOpts.Logger,
	})
	if err != nil {
		return nil, err
	}
	registerPostgresMetrics(tel.Meter("audit"), store)
	return store, nil
}

// registerPostgresMetrics exposes the store's state on /metrics.
func registerPostgresMetrics(meter metric.Meter, store *postgres.Store) {
	// The OpenTelemetry SDK returns usable instruments even when it
	// reports an error, which flags an invalid name; these are constants.
	connected, _ := meter.Int64ObservableGauge("phigate_audit_database_connected",
		metric.WithDescription("1 while the PostgreSQL audit store holds a database connection and its writer lock, else 0."))
	spoolBytes, _ := meter.Int64ObservableGauge("phigate_audit_spool_bytes",
		metric.WithUnit("By"),
		metric.WithDescription("Bytes of audit records in the local spool, waiting to be replayed into PostgreSQL."))
	records, _ := meter.Int64ObservableCounter("phigate_audit_store_records",
		metric.WithDescription("Audit records handled by the PostgreSQL store, by outcome: written (to the database), spooled, replayed (from the spool) or rejected."))
	damaged, _ := meter.Int64ObservableGauge("phigate_audit_store_damaged",
		metric.WithDescription("1 after the PostgreSQL store found its chain in conflict with the database, else 0."))

	_, _ = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := store.Status()
		o.ObserveInt64(connected, boolToInt(st.Connected))
		o.ObserveInt64(spoolBytes, st.SpoolBytes)
		o.ObserveInt64(damaged, boolToInt(st.Damage != ""))
		for outcome, n := range map[string]uint64{"written": st.Written, "spooled": st.Spooled, "replayed": st.Replayed, "rejected": st.Rejected} {
			o.ObserveInt64(records, int64(n), metric.WithAttributes(attribute.String("outcome", outcome)))
		}
		return nil
	}, connected, spoolBytes, records, damaged)
}

// auditAppender returns what the processor appends to: the store itself,
// or with audit.on_failure: allow, the store behind audit.FailOpen, whose
// dropped records are counted on /metrics.
func auditAppender(cfg config.Audit, store auditStore, logger *slog.Logger, tel *telemetry.Metrics) processor.Appender {
	if cfg.OnFailure != "allow" {
		return store
	}
	logger.Warn("audit.on_failure is allow: requests are forwarded even when their audit record cannot be stored")
	failOpen := audit.NewFailOpen(store, logger)
	meter := tel.Meter("audit")
	dropped, _ := meter.Int64ObservableCounter("phigate_audit_records_dropped",
		metric.WithDescription("Audit records lost because the store failed while audit.on_failure is allow; their requests were forwarded."))
	_, _ = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(dropped, int64(failOpen.Dropped()))
		return nil
	}, dropped)
	return failOpen
}

// auditStatus returns a line describing the store's state for /readyz,
// or "" for a store that has nothing to add.
func auditStatus(store auditStore) string {
	if d, ok := store.(interface{ Describe() string }); ok {
		return "audit store: " + d.Describe() + "\n"
	}
	return ""
}

// postgresVerifyFlags are the flags of audit verify -postgres.
type postgresVerifyFlags struct {
	enabled *bool
	dsnEnv  *string
	writer  *string
}

func addPostgresVerifyFlags(fs *flag.FlagSet) postgresVerifyFlags {
	return postgresVerifyFlags{
		enabled: fs.Bool("postgres", false, "verify the PostgreSQL audit store instead of a file: every writer's chain and checkpoints"),
		dsnEnv:  fs.String("dsn-env", "PHIGATE_AUDIT_DSN", "with -postgres: environment variable holding the database connection string (any role that may read the audit tables)"),
		writer:  fs.String("writer", "", "with -postgres: verify only this writer's chain"),
	}
}

// runAuditVerifyPostgres verifies every writer's chain in the database the
// DSN environment variable names, and prints one result per writer. The
// connection string never comes from the command line, where process
// listings and shell history would show its password.
func runAuditVerifyPostgres(flags postgresVerifyFlags, publicKey string, args int, stdout io.Writer) error {
	if args != 0 {
		return usageError("with -postgres, give no file: the database comes from $%s", *flags.dsnEnv)
	}
	dsn := os.Getenv(*flags.dsnEnv)
	if dsn == "" {
		return fmt.Errorf("environment variable %s is empty or unset: it must hold the audit database's connection string", *flags.dsnEnv)
	}
	var opts postgres.VerifyOptions
	if publicKey != "" {
		v, err := parseVerifier(publicKey)
		if err != nil {
			return err
		}
		opts.Verifier = v
	}
	opts.Writer = *flags.writer

	ctx := context.Background()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("parsing the connection string in %s failed; its text is not shown because it may hold a password", *flags.dsnEnv)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connecting to the audit database: %w", err)
	}
	defer conn.Close(ctx)

	results, err := postgres.Verify(ctx, conn, opts)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		fmt.Fprintln(stdout, "OK postgres: the audit store holds no records")
		return nil
	}

	failed := 0
	for _, res := range results {
		if d := res.Damage; d != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL writer %s: %d records verified, then record %d (%s): %s\n", res.Writer, res.Records, d.Line, d.Kind, d.Reason)
			continue
		}
		fmt.Fprintf(stdout, "OK writer %s: %d records, chain intact, last hash %s\n", res.Writer, res.Records, res.LastHash)
		if res.Archived > 0 {
			fmt.Fprintf(stdout, "   records 1 to %d are archived; their anchor matches the checkpoint for them\n", res.Archived)
		}
		switch {
		case res.Checkpoints == 0:
			fmt.Fprintln(stdout, "   no checkpoints: records cut off the end would not be detected")
		case res.SignedCheckpoints == res.Checkpoints:
			fmt.Fprintf(stdout, "   checkpoints match: %d, signatures verified\n", res.Checkpoints)
		default:
			fmt.Fprintf(stdout, "   checkpoints match: %d; signatures NOT verified (pass -public-key)\n", res.Checkpoints)
		}
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "%d of %d writers' chains are damaged\n", failed, len(results))
		return &exitError{code: exitFailure}
	}
	return nil
}

// postgresVerifyUsage is the usage line of audit verify -postgres.
var postgresVerifyUsage = strings.TrimSpace(`
Usage: phigate audit verify -postgres [-dsn-env NAME] [-writer ID] [-public-key KEY|@FILE]
Checks every writer's chain in the PostgreSQL audit store, and that each row's columns match its record.`)
