// Command phigate is a PHI-aware gateway for LLM traffic: an Envoy external
// processor that finds protected health information in requests, applies a
// Rego policy and keeps a tamper-evident audit log. Run "phigate help" for
// its subcommands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/phigate/phigate/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
