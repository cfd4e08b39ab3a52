package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/phigate/phigate/audit"
)

func runAudit(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageError("missing or unknown audit command: want \"phigate audit verify FILE\"")
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
