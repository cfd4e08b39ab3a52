package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/audit/postgres"
)

// postgresStoreFlags select the PostgreSQL store for audit archive and
// audit prove.
type postgresStoreFlags struct {
	enabled *bool
	dsnEnv  *string
	writer  *string
}

func addPostgresStoreFlags(fs *flag.FlagSet, action, defaultEnv, role string) postgresStoreFlags {
	return postgresStoreFlags{
		enabled: fs.Bool("postgres", false, action+" the PostgreSQL audit store instead of a file"),
		dsnEnv:  fs.String("dsn-env", defaultEnv, "with -postgres: environment variable holding the database connection string ("+role+")"),
		writer:  fs.String("writer", "", "with -postgres: only this writer's chain"),
	}
}

// connectFromEnv connects to the database whose connection string the
// environment variable env holds. The string never comes from the
// command line, where process listings and shell history would show its
// password, and never appears in an error.
func connectFromEnv(ctx context.Context, env string) (*pgx.Conn, error) {
	dsn := os.Getenv(env)
	if dsn == "" {
		return nil, fmt.Errorf("environment variable %s is empty or unset: it must hold the audit database's connection string", env)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parsing the connection string in %s failed; its text is not shown because it may hold a password", env)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the audit database: %w", err)
	}
	return conn, nil
}

// runAuditArchivePostgres archives each writer's old records from the
// database the DSN variable names, which must be the schema owner's.
func runAuditArchivePostgres(flags postgresStoreFlags, before time.Time, out string, verifier note.Verifier, years int, stdout io.Writer) error {
	if *flags.writer != "" && !postgres.ValidWriterID(*flags.writer) {
		return usageError("invalid -writer %q: use 1 to 128 letters, digits, '.', '_' or '-'", *flags.writer)
	}
	ctx := context.Background()
	conn, err := connectFromEnv(ctx, *flags.dsnEnv)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)

	results, err := postgres.Archive(ctx, conn, postgres.ArchiveOptions{
		Before: before, Dir: out, Verifier: verifier, Writer: *flags.writer, RetentionYears: years,
	})
	for _, res := range results {
		if res.Skipped != nil {
			fmt.Fprintf(stdout, "writer %s: %v\n", res.Writer, res.Skipped)
			continue
		}
		m := res.Manifest
		destination := "to"
		if res.Reused {
			destination = "to the archive an earlier run left in"
		}
		fmt.Fprintf(stdout, "archived records %d to %d of writer %s (%s to %s) %s %s\n", m.FirstSeq, m.LastSeq, res.Writer, m.FirstTime, m.LastTime, destination, res.Dir)
		fmt.Fprintf(stdout, "   the database keeps an anchor for them; the chain goes on at record %d\n", m.LastSeq+1)
		fmt.Fprintf(stdout, "   keep the archive until %s (%d years after its last record)\n", m.RetainUntil, years)
	}
	if err != nil {
		return err
	}
	if len(results) == 0 {
		fmt.Fprintln(stdout, "the audit database holds no writers")
	}
	return nil
}

// runAuditProvePostgres prints inclusion proofs of a request's records in
// the database.
func runAuditProvePostgres(flags postgresStoreFlags, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usageError("with -postgres, want exactly one request id, got %d arguments", len(args))
	}
	ctx := context.Background()
	conn, err := connectFromEnv(ctx, *flags.dsnEnv)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)

	proofs, err := postgres.Prove(ctx, conn, args[0], *flags.writer)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(proofs)
}

// verifyArchiveParent checks each writer's archive in a directory made by
// audit archive -postgres, which holds one subdirectory per writer. It
// returns errNoWriterArchives when dir holds none.
func verifyArchiveParent(dir string, verifier note.Verifier, stdout io.Writer) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	checked, failed := 0, 0
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(sub, audit.ManifestFile)); err != nil {
			continue
		}
		checked++
		err := verifyArchiveDir(sub, verifier, stdout)
		var exit *exitError
		switch {
		case errors.As(err, &exit) && exit.code == exitFailure:
			failed++
		case err != nil:
			return err
		}
	}
	if checked == 0 {
		return errNoWriterArchives
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "%d of %d archives are damaged\n", failed, checked)
		return &exitError{code: exitFailure}
	}
	return nil
}

// errNoWriterArchives is returned by verifyArchiveParent for a directory
// without writer archives.
var errNoWriterArchives = errors.New("no writer archives")
