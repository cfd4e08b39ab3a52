// Package cli implements the phigate command line. Main takes its
// arguments and streams as parameters so tests can run every subcommand in
// process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X github.com/phigate/phigate/internal/cli.Version=...".
var Version = "dev"

const usage = `phigate: a PHI-aware gateway for LLM traffic (Envoy external processor)

Usage:
  phigate serve -config FILE            run the ext_proc gRPC server and admin HTTP server
  phigate scan [flags] FILE... | -      find or mask PHI in files or standard input
  phigate scan -eval CORPUS             score the scanner on an annotated corpus
  phigate policy eval [-policy DIR|FILE.tar.gz] -input FILE [-public-key FILE]
                                        print the policy decision for one input document
  phigate audit verify [-public-key K] [-checkpoints FILE] FILE|ARCHIVE_DIR
                                        check the audit log's hash chain and signed checkpoints
  phigate audit verify -postgres [-public-key K]
                                        the same for the PostgreSQL store
  phigate audit keygen -origin NAME | -encryption
                                        create a checkpoint signing key pair or an encryption key
  phigate audit prove FILE REQUEST_ID | -postgres REQUEST_ID
                                        print inclusion proofs of a request's records
  phigate audit find -type T -key-id K [-config FILE] FILE < value
                                        list the records that disclosed one PHI value
  phigate audit show -config FILE [-request-id ID] FILE
                                        print records with their encrypted fields opened
  phigate audit archive -before DATE -out DIR -public-key K FILE | -postgres
                                        move records older than DATE to an archive
  phigate version                       print version information

Run "phigate COMMAND -h" for the flags of a command.
`

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// Main runs the phigate command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = runServe(ctx, rest, stderr)
	case "scan":
		err = runScan(rest, stdin, stdout, stderr)
	case "policy":
		err = runPolicy(ctx, rest, stdin, stdout, stderr)
	case "audit":
		err = runAudit(rest, stdin, stdout, stderr)
	case "version":
		printVersion(stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "phigate: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}

	var exitErr *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &exitErr):
		if exitErr.msg != "" {
			fmt.Fprintf(stderr, "phigate %s: %s\n", cmd, exitErr.msg)
		}
		return exitErr.code
	default:
		fmt.Fprintf(stderr, "phigate %s: %v\n", cmd, err)
		return exitFailure
	}
}

// exitError ends a command with a given exit code.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// newFlagSet returns a FlagSet that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("phigate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, turning a flag error into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: exitUsage}
	}
	return nil
}

func printVersion(w io.Writer) {
	fmt.Fprintf(w, "phigate %s (%s, %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			switch dep.Path {
			case "github.com/envoyproxy/go-control-plane/envoy", "github.com/open-policy-agent/opa", "google.golang.org/grpc":
				fmt.Fprintf(w, "  %s %s\n", dep.Path, dep.Version)
			}
		}
	}
}
