// Command standin runs stand-in OpenAI, Anthropic, Azure OpenAI and
// OpenAI-compatible (vLLM style) API servers on loopback addresses for
// end-to-end tests and demos:
//
//	go run ./test/cmd/standin -openai 127.0.0.1:18081 -openai-baa 127.0.0.1:18082 -anthropic 127.0.0.1:18083
//	go run ./test/cmd/standin -azure 127.0.0.1:18084 -azure-models chat-prod -compatible 127.0.0.1:18085 -compatible-models llama-3-8b
//
// Any subset of the servers can be started. Each logs one JSON line per
// request with the method, path, body size and reply status, never bodies,
// headers or query strings, which may hold PHI or keys. The command stops
// on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/phigate/phigate/test/standin"
)

// shutdownTimeout bounds how long open streams may take to finish on stop.
const shutdownTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// serverFlags are the flags of one stand-in: its listen address, key and
// served models.
type serverFlags struct {
	name   string
	kind   standin.Kind
	addr   string
	key    string
	models string
}

// Main runs the servers named in args until ctx ends, logging to stderr.
// It returns 0 after a clean stop, 1 when a server fails to start or stop,
// and 2 on invalid flags.
func Main(ctx context.Context, args []string, stderr io.Writer) int {
	servers := []*serverFlags{
		{name: "openai", kind: standin.OpenAI},
		{name: "openai-baa", kind: standin.OpenAI},
		{name: "anthropic", kind: standin.Anthropic},
		{name: "azure", kind: standin.AzureOpenAI},
		{name: "compatible", kind: standin.OpenAICompatible},
	}

	fs := flag.NewFlagSet("standin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, s := range servers {
		fs.StringVar(&s.addr, s.name, "", fmt.Sprintf("loopback address (IP:port) of the %s stand-in; empty leaves it off", s.name))
		fs.StringVar(&s.key, s.name+"-key", "", fmt.Sprintf("only API key the %s stand-in accepts; empty accepts any", s.name))
		fs.StringVar(&s.models, s.name+"-models", "", fmt.Sprintf("comma-separated model names (deployment names for azure) the %s stand-in serves; empty accepts any", s.name))
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}

	if err := validate(fs, servers); err != nil {
		fmt.Fprintf(stderr, "standin: %v\n", err)
		fs.Usage()
		return 2
	}

	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	running, err := startAll(servers, logger)
	if err != nil {
		logger.Error("stand-in failed to start", "error", err)
		stopAll(running, logger)
		return 1
	}

	<-ctx.Done()
	if !stopAll(running, logger) {
		return 1
	}
	return 0
}

// validate collects every flag error, so all are reported at once.
func validate(fs *flag.FlagSet, servers []*serverFlags) error {
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q: all settings are flags", fs.Args()))
	}

	enabled := 0
	for _, s := range servers {
		if s.addr == "" {
			if s.key != "" {
				errs = append(errs, fmt.Errorf("-%s-key is set but -%s is not: give the %s stand-in an address", s.name, s.name, s.name))
			}
			if s.models != "" {
				errs = append(errs, fmt.Errorf("-%s-models is set but -%s is not: give the %s stand-in an address", s.name, s.name, s.name))
			}
			continue
		}
		enabled++
		if err := standin.CheckLoopback(s.addr); err != nil {
			errs = append(errs, fmt.Errorf("-%s: %w", s.name, err))
		}
	}
	if enabled == 0 {
		errs = append(errs, errors.New("no stand-in to run: set at least one of -openai, -openai-baa, -anthropic, -azure, -compatible"))
	}
	return errors.Join(errs...)
}

// startAll starts the enabled servers. On error it returns the servers
// started so far, so the caller can stop them.
func startAll(servers []*serverFlags, logger *slog.Logger) ([]*standin.Server, error) {
	var running []*standin.Server
	for _, s := range servers {
		if s.addr == "" {
			continue
		}

		serverLogger := logger.With("server", s.name)
		srv, err := standin.Listen(s.addr, s.kind, standin.Options{
			APIKey:           s.key,
			Name:             s.name,
			Models:           splitList(s.models),
			DisableRecording: true,
			OnRequest:        logRequest(serverLogger),
		})
		if err != nil {
			return running, fmt.Errorf("starting %s stand-in: %w", s.name, err)
		}

		running = append(running, srv)
		serverLogger.Info("stand-in started", "kind", s.kind, "url", srv.URL(), "api_key_required", s.key != "")
	}
	return running, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(value string) []string {
	var items []string
	for _, item := range strings.Split(value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// logRequest returns an OnRequest hook that logs the request line, body
// size and status. Bodies, headers and query strings are left out.
func logRequest(logger *slog.Logger) func(standin.Request, int) {
	return func(req standin.Request, status int) {
		logger.Info("request received",
			"request_id", req.ID,
			"method", req.Method,
			"path", req.Path,
			"endpoint", req.Endpoint,
			"body_bytes", len(req.Body),
			"body_truncated", req.Truncated,
			"status", status,
		)
	}
}

// stopAll shuts the servers down, letting open streams finish for up to
// shutdownTimeout. It reports whether all stopped cleanly.
func stopAll(running []*standin.Server, logger *slog.Logger) bool {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()

	clean := true
	for _, srv := range running {
		serverLogger := logger.With("server", srv.Name())
		if err := srv.Shutdown(ctx); err != nil {
			clean = false
			serverLogger.Error("stand-in did not stop cleanly", "error", err)
			if err := srv.Close(); err != nil {
				serverLogger.Error("closing stand-in failed", "error", err)
			}
			continue
		}
		serverLogger.Info("stand-in stopped")
	}
	return clean
}
