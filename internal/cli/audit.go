package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/phigate/phigate/audit"
)

func runAudit(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "find" {
		return runAuditFind(args[1:], stdin, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "verify" {
		return usageError("missing or unknown audit command: want \"phigate audit verify FILE\" or \"phigate audit find -type TYPE FILE\"")
	}
	fs := newFlagSet("audit verify", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: phigate audit verify FILE")
		fmt.Fprintln(stderr, "Checks every record's sequence number, link to the previous record and hash. Exits 1 at the first damaged record.")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("want exactly one audit log file, got %d arguments", fs.NArg())
	}

	path := fs.Arg(0)
	res, err := audit.VerifyFile(path)
	var damage *audit.Damage
	if errors.As(err, &damage) {
		fmt.Fprintf(stdout, "FAIL %s: %d records verified, then the record on line %d is damaged: %s\n", path, res.Records, damage.Line, damage.Reason)
		return &exitError{code: exitFailure}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "OK %s: %d records, chain intact, last hash %s\n", path, res.Records, res.LastHash)
	return nil
}

// runAuditFind lists the records whose fingerprints include one PHI value.
// The value is read from standard input, so it stays out of shell history
// and process listings.
func runAuditFind(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit find", stderr)
	phiType := fs.String("type", "", "PHI type of the value, such as SSN, MRN or NAME (required)")
	keyID := fs.String("key-id", "", "id of the fingerprint key, as the records name it (required)")
	keyEnv := fs.String("key-env", "PHIGATE_FINGERPRINT_KEY", "environment variable holding the fingerprint key")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: phigate audit find -type TYPE -key-id ID FILE < value")
		fmt.Fprintln(stderr, "Lists the audit records that disclosed the PHI value read from standard input, by its keyed fingerprint.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *phiType == "" || *keyID == "" || fs.NArg() != 1 {
		return usageError("want -type, -key-id and exactly one audit log file")
	}
	key := os.Getenv(*keyEnv)
	if key == "" {
		return fmt.Errorf("environment variable %s is empty or unset: it must hold the fingerprint key", *keyEnv)
	}
	fp, err := audit.NewFingerprinter(*keyID, []byte(key))
	if err != nil {
		return err
	}
	value, err := io.ReadAll(io.LimitReader(stdin, 1<<16))
	if err != nil {
		return fmt.Errorf("reading the value from standard input: %w", err)
	}
	want := fp.Fingerprint(*phiType, strings.TrimRight(string(value), "\r\n"))

	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("opening audit log: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	matches := 0
	for {
		var rec audit.Record
		if err := dec.Decode(&rec); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("reading audit log: %w", err)
		}
		if rec.FingerprintKey != *keyID || !slices.Contains(rec.PHIFingerprints, want) {
			continue
		}
		matches++
		fmt.Fprintf(stdout, "%s\t%s\t%s\tprovider=%s\taction=%s\tpolicy=%s\n", rec.Time, rec.RequestID, rec.Tenant, rec.Provider, rec.Action, rec.PolicyRevision)
	}
	fmt.Fprintf(stderr, "%d records disclosed this %s value\n", matches, *phiType)
	return nil
}
