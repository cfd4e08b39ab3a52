package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/open-policy-agent/opa/v1/bundle"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/mod/sumdb/note"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/config"
	"github.com/phigate/phigate/internal/gctune"
	"github.com/phigate/phigate/phi"
	"github.com/phigate/phigate/policy"
	"github.com/phigate/phigate/processor"
	"github.com/phigate/phigate/provider"
	"github.com/phigate/phigate/telemetry"
)

// shutdownGrace bounds how long serve waits for requests in flight.
const shutdownGrace = 20 * time.Second

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	configPath := fs.String("config", "phigate.yaml", "configuration file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: phigate serve -config FILE")
		fmt.Fprintln(stderr, "Runs the ext_proc gRPC server (with gRPC health) and the admin HTTP server (/healthz, /readyz).")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}

	cfg, err := config.Load(*configPath)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: name the configuration file with -config, for example -config etc/phigate.yaml", err)
	}
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel)
	if err := tuneCollector(cfg.Runtime, logger); err != nil {
		return err
	}

	srv, err := newService(ctx, cfg, logger)
	if err != nil {
		return err
	}
	return srv.run(ctx)
}

// tuneCollector sets the garbage collector's targets for serving (see
// package gctune) and logs them, so an operator can see which setting,
// the configuration's or the environment's, is in force.
func tuneCollector(rt config.Runtime, logger *slog.Logger) error {
	applied, err := gctune.Apply(rt.Settings(), os.Getenv, "/sys/fs/cgroup")
	if err != nil {
		return fmt.Errorf("runtime settings: %w", err)
	}
	limit := "none"
	if applied.MemoryLimit != math.MaxInt64 {
		limit = strconv.FormatInt(applied.MemoryLimit, 10)
	}
	logger.Info("garbage collector targets",
		"gc_percent", applied.GCPercent, "gc_percent_from", applied.GCPercentFrom,
		"memory_limit_bytes", limit, "memory_limit_from", applied.MemoryLimitFrom)
	return nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // config.Validate checked the level
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// service is a running phigate: its listeners and the components they use.
type service struct {
	cfg       config.Config
	logger    *slog.Logger
	auditLog  auditStore
	processor *processor.Server
	policies  *policy.Manager
	telemetry *telemetry.Metrics
	ready     atomic.Bool
}

// newService loads every component, collecting all errors so that an
// operator sees every problem with the configuration at once.
func newService(ctx context.Context, cfg config.Config, logger *slog.Logger) (*service, error) {
	var errs []error
	registry, err := provider.Load(cfg.ProvidersFile)
	if err != nil {
		errs = append(errs, err)
	}
	keys := map[string]string{}
	if registry != nil {
		for _, p := range registry.Providers {
			key, err := p.APIKey()
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if key != "" {
				keys[p.Name] = key
			}
		}
	}
	tel, err := telemetry.New()
	if err != nil {
		return nil, err
	}
	policyLoads, _ := tel.Meter("policy").Int64Counter("phigate_policy_loads",
		metric.WithDescription("Attempts to load a changed policy bundle, by slot (active or shadow) and result (ok or error)."))
	onLoad := func(slot string, err error) {
		result := "ok"
		if err != nil {
			result = "error"
		}
		policyLoads.Add(context.Background(), 1, metric.WithAttributes(attribute.String("policy", slot), attribute.String("result", result)))
	}
	policies, err := newPolicyManager(ctx, cfg.Policy, logger, onLoad)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("starting phigate:\n%w", err)
	}

	var fingerprints *audit.Fingerprinter
	if k := cfg.Audit.FingerprintKey; k != nil {
		key, err := k.Read()
		if err == nil {
			fingerprints, err = audit.NewFingerprinter(k.ID, key)
		}
		if err != nil {
			return nil, fmt.Errorf("audit fingerprint key: %w", err)
		}
	} else {
		logger.Warn("audit.fingerprint_key is not set; audit records will not carry PHI fingerprints")
	}

	auditOpts := audit.FileOptions{Logger: logger, CheckpointEvery: uint64(cfg.Audit.CheckpointEvery), CheckpointCopy: cfg.Audit.CheckpointCopy}
	if k := cfg.Audit.CheckpointKey; k != nil {
		key, err := k.Read()
		if err == nil {
			auditOpts.Signer, err = note.NewSigner(string(key))
		}
		if err != nil {
			// note's errors never include the key.
			return nil, fmt.Errorf("audit checkpoint key %s: %w", k.ID, err)
		}
	} else {
		logger.Warn("audit.checkpoint_key is not set; the audit log will have no signed checkpoints")
	}
	if len(cfg.Audit.EncryptionKeys) > 0 {
		if auditOpts.Sealer, err = loadSealer(cfg.Audit); err != nil {
			return nil, err
		}
		logger.Info("audit record fields are encrypted", "active_key", auditOpts.Sealer.ActiveKeyID(), "keys", len(cfg.Audit.EncryptionKeys))
	} else {
		logger.Warn("audit.encryption_keys is not set; user ids, reasons, errors and PHI fingerprints are stored unencrypted")
	}
	// Load the name and place lists now, so the first request does not
	// wait for them.
	phi.Preload()
	auditLog, err := openAuditStore(ctx, cfg.Audit, auditOpts, tel)
	if err != nil {
		return nil, err
	}
	proc, err := processor.NewServer(processor.Options{
		Scanner:        phi.DefaultScanner(),
		Policy:         policies,
		Registry:       registry,
		Keys:           keys,
		Audit:          auditAppender(cfg.Audit, auditLog, logger, tel),
		Fingerprints:   fingerprints,
		Meter:          tel.Meter("processor"),
		MaxBodyBytes:   cfg.MaxBodyBytes,
		UpstreamHeader: cfg.Headers.Upstream,
		ProviderHeader: cfg.Headers.Provider,
		TenantHeader:   cfg.Headers.Tenant,
		PurposeHeader:  cfg.Headers.Purpose,
		Logger:         logger,
	})
	if err != nil {
		auditLog.Close()
		return nil, err
	}
	logger.Info("provider registry loaded", "providers", len(registry.Providers))
	failing, _ := tel.Meter("policy").Int64ObservableGauge("phigate_policy_reload_failing",
		metric.WithDescription("1 while the latest check of a policy source failed and the last good bundle is still serving, else 0."))
	_, _ = tel.Meter("policy").RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := policies.Status()
		o.ObserveInt64(failing, boolToInt(st.Active.LastError != ""), metric.WithAttributes(attribute.String("policy", "active")))
		if st.Shadow != nil {
			o.ObserveInt64(failing, boolToInt(st.Shadow.LastError != ""), metric.WithAttributes(attribute.String("policy", "shadow")))
		}
		return nil
	}, failing)
	return &service{cfg: cfg, logger: logger, auditLog: auditLog, processor: proc, policies: policies, telemetry: tel}, nil
}

// run serves until ctx is cancelled, then drains requests in flight and
// closes the audit log.
func (s *service) run(ctx context.Context) error {
	grpcListener, err := net.Listen("tcp", s.cfg.GRPCAddress)
	if err != nil {
		s.auditLog.Close()
		return fmt.Errorf("listening for gRPC: %w", err)
	}
	adminListener, err := net.Listen("tcp", s.cfg.AdminAddress)
	if err != nil {
		grpcListener.Close()
		s.auditLog.Close()
		return fmt.Errorf("listening for admin HTTP: %w", err)
	}

	// A buffered body arrives in one message, so the receive limit must
	// exceed max_body_bytes plus the headers around it; gRPC's default is
	// 4 MiB.
	grpcServer := grpc.NewServer(
		grpc.MaxRecvMsgSize(s.cfg.MaxBodyBytes+1<<20),
		grpc.MaxSendMsgSize(s.cfg.MaxBodyBytes+1<<20),
		grpc.ChainStreamInterceptor(recoverStream(s.logger)),
	)
	extprocv3.RegisterExternalProcessorServer(grpcServer, s.processor)
	healthServer := health.NewServer()
	healthpb.RegisterHealthServer(grpcServer, healthServer)
	adminServer := &http.Server{Handler: s.adminHandler(), ReadHeaderTimeout: 5 * time.Second}

	// The policy manager polls its sources, and reloads at once on SIGHUP,
	// until shutdown.
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	go s.policies.Run(pollCtx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-pollCtx.Done():
				return
			case <-hup:
				s.logger.Info("SIGHUP received; reloading policy")
				_ = s.policies.Reload(pollCtx) // failures are logged and kept in the status
			}
		}
	}()

	errc := make(chan error, 2)
	go func() { errc <- grpcServer.Serve(grpcListener) }()
	go func() { errc <- adminServer.Serve(adminListener) }()
	s.ready.Store(true)
	s.logger.Info("phigate serving", "grpc_address", grpcListener.Addr().String(), "admin_address", adminListener.Addr().String(), "version", Version)

	var serveErr error
	select {
	case <-ctx.Done():
		s.logger.Info("shutting down")
	case serveErr = <-errc:
		s.logger.Error("server stopped unexpectedly", "error", serveErr)
	}

	s.ready.Store(false)
	healthServer.Shutdown()
	stopped := make(chan struct{})
	go func() { grpcServer.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(shutdownGrace):
		s.logger.Warn("requests still in flight after the grace period; closing them", "grace", shutdownGrace)
		grpcServer.Stop()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = adminServer.Shutdown(shutdownCtx)

	s.processor.Wait()
	if err := s.telemetry.Shutdown(shutdownCtx); err != nil {
		s.logger.Error("stopping metrics failed", "error", err)
	}
	if err := s.auditLog.Close(); err != nil {
		s.logger.Error("closing audit log failed", "error", err)
		return fmt.Errorf("closing audit log: %w", err)
	}
	s.logger.Info("phigate stopped")
	return serveErr
}

func (s *service) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case !s.ready.Load():
			http.Error(w, "not ready: starting or shutting down", http.StatusServiceUnavailable)
		case !s.auditLog.Healthy():
			http.Error(w, "not ready: the audit log rejects writes\n"+auditStatus(s.auditLog), http.StatusServiceUnavailable)
		default:
			// A failed policy reload keeps the last good policy serving,
			// so phigate stays ready and reports the failure here.
			st := s.policies.Status()
			fmt.Fprintf(w, "ready\npolicy revision %s\n%s", st.Active.Revision, auditStatus(s.auditLog))
			if st.Active.LastError != "" {
				fmt.Fprintf(w, "policy reload failing, serving the last good revision: %s\n", oneLine(st.Active.LastError))
			}
			// A shadow bundle never decides a request, so its failures
			// leave phigate ready. They are listed for the operator.
			if sh := st.Shadow; sh != nil && sh.LastError != "" {
				if sh.Revision == "" {
					fmt.Fprintf(w, "shadow policy not loaded: %s\n", oneLine(sh.LastError))
				} else {
					fmt.Fprintf(w, "shadow policy reload failing, comparing with revision %s: %s\n", sh.Revision, oneLine(sh.LastError))
				}
			}
		}
	})
	mux.Handle("GET /metrics", s.telemetry.Handler())
	mux.HandleFunc("GET /policy", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("content-type", "application/json")
		_ = json.NewEncoder(w).Encode(s.policies.Status())
	})
	return mux
}

// verificationConfig builds OPA's signature verification settings from
// phigate's, or returns nil when v is nil and signatures go unchecked.
func verificationConfig(v *config.Verification) (*bundle.VerificationConfig, error) {
	if v == nil {
		return nil, nil
	}
	key, err := os.ReadFile(v.PublicKeyFile)
	if err != nil {
		return nil, fmt.Errorf("reading bundle verification key: %w", err)
	}
	alg := v.Algorithm
	if alg == "" {
		alg = "RS256"
	}
	keys := map[string]*bundle.KeyConfig{v.KeyID: {Key: string(key), Algorithm: alg, Scope: v.Scope}}
	return bundle.NewVerificationConfig(keys, v.KeyID, v.Scope, nil), nil
}

// newPolicyManager loads the configured bundle, and the shadow bundle if
// any, with signature verification when configured.
func newPolicyManager(ctx context.Context, cfg config.Policy, logger *slog.Logger, onLoad func(string, error)) (*policy.Manager, error) {
	verify, err := verificationConfig(cfg.Verification)
	if err != nil {
		return nil, err
	}
	var header http.Header
	if cfg.BearerTokenEnv != "" {
		token := os.Getenv(cfg.BearerTokenEnv)
		if token == "" {
			return nil, fmt.Errorf("policy.bearer_token_env: environment variable %s is empty or unset", cfg.BearerTokenEnv)
		}
		header = http.Header{"Authorization": {"Bearer " + token}}
		for _, location := range []string{cfg.Bundle, cfg.ShadowBundle} {
			if insecureBundleServer(location) {
				logger.Warn("the bundle server token is sent without TLS; use an https URL", "source", policy.NewSource(location, nil, nil).String())
			}
		}
	}
	opts := policy.ManagerOptions{
		Active:   policy.NewSource(cfg.Bundle, verify, header),
		Interval: cfg.PollInterval,
		Logger:   logger,
		OnLoad:   onLoad,
	}
	if cfg.ShadowBundle != "" {
		opts.Shadow = policy.NewSource(cfg.ShadowBundle, verify, header)
	}
	return policy.NewManager(ctx, opts)
}

// insecureBundleServer reports whether location is a plain http URL of a
// host other than the loopback interface, to which a bearer token would
// travel in the clear.
func insecureBundleServer(location string) bool {
	u, err := url.Parse(location)
	if err != nil || u.Scheme != "http" {
		return false
	}
	if u.Hostname() == "localhost" {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip == nil || !ip.IsLoopback()
}

func boolToInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// recoverStream turns a panic in a stream handler into an Internal error
// for that one stream, for which Envoy returns an error response (the
// filter fails closed), instead of ending the process and every request in
// flight. The panic value is not logged, since it could quote request
// data; the stack is, as it holds only code locations.
func recoverStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if r := recover(); r != nil {
				logger.Error("ext_proc stream handler panicked; the request fails closed", "method", info.FullMethod, "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "phigate internal error")
			}
		}()
		return handler(srv, ss)
	}
}

// oneLine joins the lines of a multi-line error, such as an OPA error
// listing several problems, so that one /readyz line holds the whole
// error.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " | ")), " ")
}
