package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/phigate/phigate/audit"
)

func runAudit(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "find":
			return runAuditFind(args[1:], stdin, stdout, stderr)
		case "keygen":
			return runAuditKeygen(args[1:], stdout, stderr)
		case "prove":
			return runAuditProve(args[1:], stdout, stderr)
		case "show":
			return runAuditShow(args[1:], stdout, stderr)
		case "archive":
			return runAuditArchive(args[1:], stdout, stderr)
		}
	}
	if len(args) == 0 || args[0] != "verify" {
		return usageError("missing or unknown audit command: want verify, find, show, prove, archive or keygen")
	}
	fs := newFlagSet("audit verify", stderr)
	publicKey := fs.String("public-key", "", "checkpoint public key (\"origin+hash+key\" from phigate audit keygen), or @FILE holding it; without it, checkpoint roots are checked but not their signatures")
	checkpoints := fs.String("checkpoints", "", "read the checkpoints from this `file`, such as the copy audit.checkpoint_copy writes, instead of FILE.checkpoints")
	pgFlags := addPostgresVerifyFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: phigate audit verify [-public-key KEY|@FILE] [-checkpoints FILE] FILE|ARCHIVE_DIR")
		fmt.Fprintln(stderr, "Checks every record's sequence number, link to the previous record and hash, and the signed checkpoints in FILE.checkpoints.")
		fmt.Fprintln(stderr, "Given a directory made by phigate audit archive, also checks its manifest (needs -public-key).")
		fmt.Fprintln(stderr, "Exits 1 at the first damage found, naming the record and the kind of damage.")
		fmt.Fprintln(stderr, postgresVerifyUsage)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *pgFlags.enabled {
		return runAuditVerifyPostgres(pgFlags, *publicKey, fs.NArg(), stdout)
	}
	if fs.NArg() != 1 {
		return usageError("want exactly one audit log file, got %d arguments", fs.NArg())
	}

	var verifier note.Verifier
	if *publicKey != "" {
		v, err := parseVerifier(*publicKey)
		if err != nil {
			return err
		}
		verifier = v
	}

	path := fs.Arg(0)
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return verifyArchiveDir(path, verifier, stdout)
	}
	checkpointsPath := audit.CheckpointsPath(path)
	if *checkpoints != "" {
		checkpointsPath = *checkpoints
	}
	res, err := audit.VerifyFileAgainst(path, checkpointsPath, verifier)
	var damage *audit.Damage
	if errors.As(err, &damage) {
		fmt.Fprintf(stdout, "FAIL %s: %d records verified, then line %d (record %d, %s): %s\n", path, res.Records, damage.Line, damage.Seq, damage.Kind, damage.Reason)
		return &exitError{code: exitFailure}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "OK %s: %d records, chain intact, last hash %s\n", path, res.Records, res.LastHash)
	switch {
	case res.Archived > 0 && res.AnchorVerified:
		fmt.Fprintf(stdout, "   records 1 to %d are archived; the anchor for them matches a checkpoint\n", res.Archived)
	case res.Archived > 0:
		fmt.Fprintf(stdout, "   records 1 to %d are archived; no checkpoint covers the anchor, so it is unchecked\n", res.Archived)
	}
	switch {
	case res.Checkpoints == 0:
		fmt.Fprintln(stdout, "   no checkpoints: records cut off the end would not be detected")
	case res.SignedCheckpoints == res.Checkpoints:
		fmt.Fprintf(stdout, "   checkpoints match: %d, signatures verified\n", res.Checkpoints)
	default:
		fmt.Fprintf(stdout, "   checkpoints match: %d; signatures NOT verified (pass -public-key)\n", res.Checkpoints)
	}
	return nil
}

// runAuditKeygen prints a new checkpoint key pair.
func runAuditKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit keygen", stderr)
	origin := fs.String("origin", "", "name of the log in its checkpoints, such as phigate.example.org/audit (required without -encryption)")
	encryption := fs.Bool("encryption", false, "print a new random AES-256 key (base64) for audit.encryption_keys instead")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: phigate audit keygen -origin NAME | -encryption")
		fmt.Fprintln(stderr, "Prints a new Ed25519 checkpoint key pair: the private key for audit.checkpoint_key, the public key for audit verify.")
		fmt.Fprintln(stderr, "With -encryption, prints a new 32-byte encryption key for audit.encryption_keys.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *encryption {
		if *origin != "" {
			return usageError("-origin and -encryption exclude each other")
		}
		fmt.Fprintf(stdout, "encryption key (keep secret; put it in a secret for audit.encryption_keys):\n%s\n", audit.GenerateSealKey())
		return nil
	}
	if *origin == "" {
		return usageError("missing -origin NAME (or -encryption for an audit record encryption key)")
	}
	private, public, err := audit.GenerateCheckpointKey(*origin)
	if err != nil {
		return fmt.Errorf("generating key: %w", err)
	}
	fmt.Fprintf(stdout, "private key (keep secret; put it in a secret for audit.checkpoint_key):\n%s\npublic key (for phigate audit verify -public-key):\n%s\n", private, public)
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
	configPath := fs.String("config", "", "phigate configuration whose audit.encryption_keys open encrypted records (required when the log has any)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: phigate audit find -type TYPE -key-id ID [-config FILE] FILE < value")
		fmt.Fprintln(stderr, "Lists the audit records that disclosed the PHI value read from standard input, by its keyed fingerprint.")
		fmt.Fprintln(stderr, "Encrypted fingerprints are opened with the keys that -config names; without them, an encrypted record is an error.")
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
	sealer, err := readerSealer(*configPath)
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
		if err := openRecord(sealer, &rec); err != nil {
			return err
		}
		if rec.FingerprintKey != *keyID || !slices.Contains(rec.PHIFingerprints, want) {
			continue
		}
		matches++
		// Whether the value itself reached the provider depends on the
		// action and the redacted types, so both are printed.
		fmt.Fprintf(stdout, "time=%s\trequest_id=%s\ttenant=%s\tprovider=%s\taction=%s\tredacted=%s\tpolicy=%s\n",
			rec.Time, rec.RequestID, rec.Tenant, rec.Provider, rec.Action, strings.Join(rec.RedactedTypes, ","), rec.PolicyRevision)
	}
	fmt.Fprintf(stderr, "%d requests contained this %s value; a request whose redacted types include %s sent the provider a placeholder instead\n", matches, *phiType, *phiType)
	return nil
}

// runAuditProve prints inclusion proofs for the records of one request.
func runAuditProve(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit prove", stderr)
	pgFlags := addPostgresStoreFlags(fs, "prove from", "PHIGATE_AUDIT_DSN", "any role that may read the audit tables")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: phigate audit prove FILE REQUEST_ID")
		fmt.Fprintln(stderr, "       phigate audit prove -postgres [-dsn-env NAME] [-writer ID] REQUEST_ID")
		fmt.Fprintln(stderr, "Prints, as JSON, an RFC 6962 inclusion proof for each record of the request against the latest signed checkpoint covering it")
		fmt.Fprintln(stderr, "(with -postgres, the latest checkpoint of the record's writer).")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *pgFlags.enabled {
		return runAuditProvePostgres(pgFlags, fs.Args(), stdout)
	}
	if fs.NArg() != 2 {
		return usageError("want an audit log file and a request id")
	}
	proofs, err := audit.Prove(fs.Arg(0), fs.Arg(1))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(proofs)
}
