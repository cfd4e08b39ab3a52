package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/phigate/phigate/audit"
)

// runAuditArchive moves old records of a stopped log to an archive.
func runAuditArchive(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit archive", stderr)
	beforeText := fs.String("before", "", "cut-off: archive records appended before this date (YYYY-MM-DD, UTC midnight) or RFC 3339 time (required)")
	out := fs.String("out", "", "new or empty directory for the archive (required)")
	publicKey := fs.String("public-key", "", "checkpoint public key, or @FILE holding it (required: the log is verified before it is rewritten)")
	years := fs.Int("retain-years", audit.DefaultRetentionYears, "years to keep the archive after its last record; the manifest states the resulting date")
	pgFlags := addPostgresStoreFlags(fs, "archive", "PHIGATE_AUDIT_OWNER_DSN", "the schema owner's: only the owner may delete archived rows")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: phigate audit archive -before DATE -out DIR -public-key KEY|@FILE LOG")
		fmt.Fprintln(stderr, "Moves the records of LOG older than DATE, up to the last signed checkpoint that covers only such records,")
		fmt.Fprintln(stderr, "to DIR with that checkpoint and a manifest, and leaves LOG starting with an anchor so it still verifies.")
		fmt.Fprintln(stderr, "Stop phigate serve first: the command rejects a log that another process has locked.")
		fmt.Fprintln(stderr, "")
		fmt.Fprintln(stderr, "Usage: phigate audit archive -postgres [-dsn-env NAME] [-writer ID] -before DATE -out DIR -public-key KEY|@FILE")
		fmt.Fprintln(stderr, "Does the same for each writer's chain in the PostgreSQL store, into DIR/WRITER, then deletes the archived rows")
		fmt.Fprintln(stderr, "and keeps an anchor for them. Writers may keep running. The connection string comes from $PHIGATE_AUDIT_OWNER_DSN.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var problems []string
	if *beforeText == "" {
		problems = append(problems, "missing -before DATE")
	}
	if *out == "" {
		problems = append(problems, "missing -out DIR")
	}
	if *publicKey == "" {
		problems = append(problems, "missing -public-key KEY|@FILE")
	}
	if *years < 1 {
		problems = append(problems, fmt.Sprintf("-retain-years must be at least 1, got %d", *years))
	}
	switch {
	case *pgFlags.enabled && fs.NArg() != 0:
		problems = append(problems, fmt.Sprintf("with -postgres, give no file: the database comes from $%s", *pgFlags.dsnEnv))
	case !*pgFlags.enabled && fs.NArg() != 1:
		problems = append(problems, fmt.Sprintf("want exactly one audit log file, got %d arguments", fs.NArg()))
	}
	if len(problems) > 0 {
		return usageError("%s", strings.Join(problems, "; "))
	}
	before, err := parseCutoff(*beforeText)
	if err != nil {
		return usageError("%v", err)
	}
	verifier, err := parseVerifier(*publicKey)
	if err != nil {
		return err
	}
	if *pgFlags.enabled {
		return runAuditArchivePostgres(pgFlags, before, *out, verifier, *years, stdout)
	}

	path := fs.Arg(0)
	m, err := audit.Archive(path, audit.ArchiveOptions{Before: before, Dir: *out, Verifier: verifier, RetentionYears: *years})
	if errors.Is(err, audit.ErrNothingToArchive) {
		fmt.Fprintf(stdout, "%s: %v\n", path, err)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "archived records %d to %d of %s (%s to %s) to %s\n", m.FirstSeq, m.LastSeq, path, m.FirstTime, m.LastTime, *out)
	fmt.Fprintf(stdout, "   %s now starts at record %d, after an anchor for the archived records\n", path, m.LastSeq+1)
	fmt.Fprintf(stdout, "   keep the archive until %s (%d years after its last record)\n", m.RetainUntil, *years)
	return nil
}

// parseCutoff parses a date, meaning UTC midnight, or an RFC 3339 time.
func parseCutoff(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid -before %q: want YYYY-MM-DD or an RFC 3339 time such as 2020-01-31T00:00:00Z", s)
	}
	return t, nil
}

// parseVerifier returns the checkpoint verifier for a public key given as
// text or as @FILE.
func parseVerifier(publicKey string) (note.Verifier, error) {
	key := publicKey
	if name, ok := strings.CutPrefix(key, "@"); ok {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("reading public key: %w", err)
		}
		key = strings.TrimSpace(string(data))
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		return nil, fmt.Errorf("invalid public key: %w", err)
	}
	return v, nil
}

// verifyArchiveDir checks an archive directory and prints the result.
func verifyArchiveDir(dir string, verifier note.Verifier, stdout io.Writer) error {
	if verifier == nil {
		return usageError("verifying an archive needs -public-key: its checkpoint is what proves it complete")
	}
	// A directory made by audit archive -postgres holds one archive per
	// writer.
	if _, err := os.Stat(filepath.Join(dir, audit.ManifestFile)); errors.Is(err, os.ErrNotExist) {
		if err := verifyArchiveParent(dir, verifier, stdout); !errors.Is(err, errNoWriterArchives) {
			return err
		}
	}
	m, err := audit.VerifyArchive(dir, verifier)
	var damage *audit.Damage
	switch {
	case errors.As(err, &damage):
		fmt.Fprintf(stdout, "FAIL %s: line %d of %s (record %d, %s): %s\n", dir, damage.Line, m.Log, damage.Seq, damage.Kind, damage.Reason)
		return &exitError{code: exitFailure}
	case errors.Is(err, os.ErrNotExist):
		return err
	case err != nil:
		fmt.Fprintf(stdout, "FAIL %s: %v\n", dir, err)
		return &exitError{code: exitFailure}
	}
	fmt.Fprintf(stdout, "OK %s: archive of records %d to %d (%s to %s), files match the manifest, checkpoint for %d records verified\n", dir, m.FirstSeq, m.LastSeq, m.FirstTime, m.LastTime, m.LastSeq)
	fmt.Fprintf(stdout, "   keep until %s\n", m.RetainUntil)
	return nil
}
