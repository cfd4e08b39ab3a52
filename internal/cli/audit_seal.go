package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/config"
)

// loadSealer reads the encryption keys that an audit configuration names,
// from the environment or files, and returns the Sealer for them. Errors
// name key ids and sources, never key bytes.
func loadSealer(cfg config.Audit) (*audit.Sealer, error) {
	var keys []audit.SealKey
	var errs []error
	for _, k := range cfg.EncryptionKeys {
		text, err := k.Read()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		key, err := audit.DecodeSealKey(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("key %s: %w", k.ID, err))
			continue
		}
		keys = append(keys, audit.SealKey{ID: k.ID, Key: key})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("audit encryption keys:\n%w", err)
	}
	sealer, err := audit.NewSealer(keys, cfg.EncryptionActiveKey)
	if err != nil {
		return nil, fmt.Errorf("audit encryption keys: %w", err)
	}
	return sealer, nil
}

// readerSealer returns the Sealer for the audit.encryption_keys of the
// configuration file at path, or nil when path is empty. Reading commands
// take keys this way, from the environment or files the configuration
// names, so that no key is ever typed on a command line.
func readerSealer(path string) (*audit.Sealer, error) {
	if path == "" {
		return nil, nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if len(cfg.Audit.EncryptionKeys) == 0 {
		return nil, fmt.Errorf("configuration %s sets no audit.encryption_keys: records written under it have no encrypted fields, and the log file can be read as it is", path)
	}
	return loadSealer(cfg.Audit)
}

// openRecord opens rec's sealed fields with sealer. A sealed record
// without a sealer is an error, so that a search never skips records it
// cannot read.
func openRecord(sealer *audit.Sealer, rec *audit.Record) error {
	if rec.Sealed == nil {
		return nil
	}
	if sealer == nil {
		return fmt.Errorf("record seq %d is encrypted under key %s: pass -config with a configuration whose audit.encryption_keys hold that key", rec.Seq, rec.Sealed.KeyID)
	}
	return sealer.Open(rec)
}

// runAuditShow prints records with their encrypted fields opened, for a
// reader who holds the keys.
func runAuditShow(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit show", stderr)
	configPath := fs.String("config", "", "phigate configuration whose audit.encryption_keys open the records (required)")
	requestID := fs.String("request-id", "", "show only the records of this request")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: phigate audit show -config FILE [-request-id ID] LOG")
		fmt.Fprintln(stderr, "Prints the records of LOG as JSON lines with their encrypted user, reasons, error and PHI fingerprints opened.")
		fmt.Fprintln(stderr, "Opened records no longer match their hashes: check the log itself with phigate audit verify.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *configPath == "" || fs.NArg() != 1 {
		return usageError("want -config FILE and exactly one audit log file")
	}
	sealer, err := readerSealer(*configPath)
	if err != nil {
		return err
	}

	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("opening audit log: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	shown := 0
	for {
		var line struct {
			audit.Record
			Anchor *audit.Anchor `json:"anchor"`
		}
		if err := dec.Decode(&line); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("reading audit log: %w", err)
		}
		rec := line.Record
		if line.Anchor != nil || (*requestID != "" && rec.RequestID != *requestID) {
			continue
		}
		if err := openRecord(sealer, &rec); err != nil {
			return err
		}
		if err := enc.Encode(&rec); err != nil {
			return err
		}
		shown++
	}
	fmt.Fprintf(stderr, "%d records shown\n", shown)
	return nil
}
