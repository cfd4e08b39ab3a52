// Package harness starts the whole request path on 127.0.0.1 for the
// end-to-end tests and the demo: the OpenAI and Anthropic stand-ins, the
// phigate binary and a real Envoy binary, each on a free port.
package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/envoy"
	"github.com/phigate/phigate/test/standin"
)

// Stand-in API keys. phigate sends each provider its own key, and each
// stand-in accepts only its own, so a request that reached a stand-in also
// proves that phigate swapped in the right credentials.
const (
	KeyOpenAI    = "sk-standin-openai"
	KeyOpenAIBAA = "sk-standin-openai-baa"
	KeyAnthropic = "sk-ant-standin"
	KeyAzure     = "azure-standin-key"
	// AzureDeployment and AzureAPIVersion are the azure-openai provider's
	// deployment and api-version.
	AzureDeployment = "gpt-4o-phigate"
	AzureAPIVersion = "2024-10-21"
	// FingerprintKey keys the audit log's PHI fingerprints, under the id
	// FingerprintKeyID.
	FingerprintKey   = "standin-fingerprint-key-0123456789abcdef"
	FingerprintKeyID = "test-1"
)

// Options configures Start.
type Options struct {
	// RepoRoot is the phigate checkout (for rego/ and envoy/).
	RepoRoot string
	// Envoy is the Envoy binary.
	Envoy string
	// Phigate is the phigate binary.
	Phigate string
	// Dir receives configuration, the audit log and process logs.
	Dir string
	// NoBAAAction overrides the policy's no_baa_action setting ("redact" or
	// "deny") by writing a copy of the bundle; empty keeps the bundle's.
	NoBAAAction string
	// NoBAAProvider leaves the openai-baa and azure-openai providers out of
	// the registry, so that PHI bound for openai has no BAA-covered
	// alternative of its format.
	NoBAAProvider bool
	// Settings overrides top-level keys of the bundle's settings
	// (data.phigate.settings) in a copy of the bundle, such as
	// "redact_operator".
	Settings map[string]any
	// Postgres, when set, makes phigate write its audit log to
	// PostgreSQL instead of the file at Stack.AuditPath.
	Postgres *Postgres
	// CopyPolicy gives phigate its own copy of the bundle, in
	// Stack.PolicyDir, so a test can change it while phigate runs.
	CopyPolicy bool
	// JWT, when set, puts Envoy's jwt_authn filter in front of phigate.
	JWT *envoy.JWT
}

// Postgres names the database of the PostgreSQL audit store. phigate
// migrates it as the owner role and writes as the writer role.
type Postgres struct {
	OwnerDSN, WriterDSN string
	// WriterID names phigate's chain.
	WriterID string
}

// Stack is a running request path.
type Stack struct {
	OpenAI    *standin.Server
	OpenAIBAA *standin.Server
	Anthropic *standin.Server
	// Azure is an Azure OpenAI deployment with a BAA, registered as
	// provider azure-openai unless Options.NoBAAProvider is set. Policy
	// prefers openai-baa, which has zero data retention, so Azure receives
	// only requests that name it.
	Azure *standin.Server
	// URL is Envoy's listener, where clients send API requests.
	URL string
	// AdminURL is phigate's admin server.
	AdminURL string
	// AuditPath is phigate's audit log.
	AuditPath string
	// PolicyDir is the bundle directory phigate loads and polls every
	// second.
	PolicyDir string
	// CheckpointPublicKey verifies the audit log's checkpoints, which
	// phigate signs every 10 records and at shutdown with a key made for
	// this stack.
	CheckpointPublicKey string
	checkpointKey       string
	// PhigateLog and EnvoyLog are the processes' output files.
	PhigateLog, EnvoyLog string

	phigate, envoy, baseline *process
	bootstrap                envoy.Bootstrap
}

// process is a started child process; exited closes when it ends.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func startProcess(cmd *exec.Cmd) (*process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// FindRepoRoot walks up from the working directory to the directory
// holding go.mod.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// FindEnvoy returns the Envoy binary: $ENVOY if set, else the one `make
// setup` installs in .venv.
func FindEnvoy(repoRoot string) (string, error) {
	if p := os.Getenv("ENVOY"); p != "" {
		return p, nil
	}
	p := filepath.Join(repoRoot, ".venv", "bin", "envoy")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("envoy binary not found at %s: run make setup, or set ENVOY", p)
	}
	return p, nil
}

// BuildPhigate builds cmd/phigate into dir and returns the binary's path.
func BuildPhigate(repoRoot, dir string) (string, error) {
	out := filepath.Join(dir, "phigate")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/phigate")
	cmd.Dir = repoRoot
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building phigate: %w\n%s", err, msg)
	}
	return out, nil
}

// Start starts the stand-ins, phigate and Envoy, and waits until Envoy
// serves. On error everything started so far is stopped.
func Start(ctx context.Context, opts Options) (st *Stack, err error) {
	st = &Stack{AuditPath: filepath.Join(opts.Dir, "audit.jsonl")}
	defer func() {
		if err != nil {
			st.Stop()
			st = nil
		}
	}()

	if st.OpenAI, err = standin.Start(standin.OpenAI, standin.Options{APIKey: KeyOpenAI, Name: "openai"}); err != nil {
		return st, err
	}
	if st.OpenAIBAA, err = standin.Start(standin.OpenAI, standin.Options{APIKey: KeyOpenAIBAA, Name: "openai-baa"}); err != nil {
		return st, err
	}
	if st.Anthropic, err = standin.Start(standin.Anthropic, standin.Options{APIKey: KeyAnthropic, Name: "anthropic"}); err != nil {
		return st, err
	}
	if st.Azure, err = standin.Start(standin.AzureOpenAI, standin.Options{APIKey: KeyAzure, Name: "azure-openai", Models: []string{AzureDeployment}}); err != nil {
		return st, err
	}

	ports, err := freePorts(4)
	if err != nil {
		return st, err
	}
	grpcPort, adminPort, envoyPort, envoyAdminPort := ports[0], ports[1], ports[2], ports[3]

	st.checkpointKey, st.CheckpointPublicKey, err = audit.GenerateCheckpointKey("phigate.test/audit")
	if err != nil {
		return st, err
	}
	if err := os.WriteFile(filepath.Join(opts.Dir, "checkpoint.pub"), []byte(st.CheckpointPublicKey+"\n"), 0o644); err != nil {
		return st, err
	}
	policyDir, err := policyBundle(opts)
	if err != nil {
		return st, err
	}
	st.PolicyDir = policyDir
	if err := st.writePhigateConfig(opts, policyDir, grpcPort, adminPort); err != nil {
		return st, err
	}
	st.AdminURL = fmt.Sprintf("http://127.0.0.1:%d", adminPort)
	if err := st.startPhigate(ctx, opts); err != nil {
		return st, err
	}

	clusters := []envoy.Cluster{
		cluster("openai", "openai", st.OpenAI),
		cluster("anthropic", "anthropic", st.Anthropic),
		cluster("azure-openai", "azure_openai", st.Azure),
	}
	if !opts.NoBAAProvider {
		clusters = append(clusters, cluster("openai-baa", "openai_baa", st.OpenAIBAA))
	}
	bootstrap := envoy.Bootstrap{
		AdminPort:        envoyAdminPort,
		ListenAddress:    "127.0.0.1",
		ListenPort:       envoyPort,
		BufferLimitBytes: 4 << 20,
		UpstreamHeader:   "x-phigate-upstream",
		PhigateHost:      "127.0.0.1",
		PhigatePort:      grpcPort,
		Providers:        clusters,
		JWT:              opts.JWT,
	}
	st.URL = fmt.Sprintf("http://127.0.0.1:%d", envoyPort)
	st.bootstrap = bootstrap
	if err := st.startEnvoy(ctx, opts, bootstrap); err != nil {
		return st, err
	}
	return st, nil
}

func cluster(name, clusterName string, s *standin.Server) envoy.Cluster {
	host, port, _ := net.SplitHostPort(s.Addr())
	p, _ := strconv.Atoi(port)
	return envoy.Cluster{Name: name, Cluster: clusterName, Host: host, Port: p}
}

func (st *Stack) writePhigateConfig(opts Options, policyDir string, grpcPort, adminPort int) error {
	var providers strings.Builder
	providers.WriteString("providers:\n")
	providers.WriteString("  - {name: openai, cluster: openai, format: openai, baa: false, default: true, models: [gpt-4o], credentials: {env: OPENAI_API_KEY}}\n")
	if !opts.NoBAAProvider {
		providers.WriteString("  - {name: openai-baa, cluster: openai_baa, format: openai, baa: true, zero_data_retention: true, models: [gpt-4o], credentials: {env: OPENAI_BAA_API_KEY}}\n")
	}
	providers.WriteString("  - {name: anthropic, cluster: anthropic, format: anthropic, baa: true, default: true, models: [claude-sonnet-4-5], credentials: {env: ANTHROPIC_API_KEY}}\n")
	if !opts.NoBAAProvider {
		providers.WriteString("  - {name: azure-openai, cluster: azure_openai, format: openai, baa: true, models: [gpt-4o], azure: {deployment: " + AzureDeployment + ", api_version: \"" + AzureAPIVersion + "\"}, credentials: {env: AZURE_OPENAI_API_KEY}}\n")
	}
	if err := os.WriteFile(filepath.Join(opts.Dir, "providers.yaml"), []byte(providers.String()), 0o644); err != nil {
		return err
	}

	cfg := fmt.Sprintf(`grpc_address: 127.0.0.1:%d
admin_address: 127.0.0.1:%d
policy:
  bundle: %s
  poll_interval: 1s
providers_file: providers.yaml
audit:
  file: audit.jsonl
%s  fingerprint_key: {id: test-1, env: PHIGATE_FINGERPRINT_KEY}
  checkpoint_key: {id: test-checkpoints, env: PHIGATE_CHECKPOINT_KEY}
  checkpoint_every: 10
max_body_bytes: 1048576
log_level: info
`, grpcPort, adminPort, policyDir, postgresConfig(opts.Postgres))
	return os.WriteFile(filepath.Join(opts.Dir, "phigate.yaml"), []byte(cfg), 0o644)
}

// postgresConfig returns the audit settings of the PostgreSQL store, or
// nothing for the file store.
func postgresConfig(pg *Postgres) string {
	if pg == nil {
		return ""
	}
	return fmt.Sprintf(`  store: postgres
  postgres:
    dsn_env: PHIGATE_AUDIT_DSN
    owner_dsn_env: PHIGATE_AUDIT_OWNER_DSN
    writer_id: %s
    spool: audit-spool.jsonl
    write_timeout: 1s
`, pg.WriterID)
}

// policyBundle returns the bundle directory to load: the repository's, or
// a copy with settings overridden.
func policyBundle(opts Options) (string, error) {
	src := filepath.Join(opts.RepoRoot, "rego")
	if opts.NoBAAAction == "" && len(opts.Settings) == 0 && !opts.CopyPolicy {
		return src, nil
	}
	dst := filepath.Join(opts.Dir, "rego")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		return "", fmt.Errorf("copying policy bundle: %w", err)
	}
	if opts.NoBAAAction == "" && len(opts.Settings) == 0 {
		return dst, nil
	}
	path := filepath.Join(dst, "phigate", "settings", "data.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var settings map[string]any
	if err := json.Unmarshal(data, &settings); err != nil {
		return "", fmt.Errorf("decoding %s: %w", path, err)
	}
	if opts.NoBAAAction != "" {
		settings["no_baa_action"] = opts.NoBAAAction
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	if data, err = json.Marshal(settings); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", err
	}
	return dst, nil
}

func (st *Stack) startPhigate(ctx context.Context, opts Options) error {
	st.PhigateLog = filepath.Join(opts.Dir, "phigate.log")
	logFile, err := os.Create(st.PhigateLog)
	if err != nil {
		return err
	}
	cmd := exec.Command(opts.Phigate, "serve", "-config", filepath.Join(opts.Dir, "phigate.yaml"))
	cmd.Env = append(os.Environ(),
		"OPENAI_API_KEY="+KeyOpenAI,
		"OPENAI_BAA_API_KEY="+KeyOpenAIBAA,
		"ANTHROPIC_API_KEY="+KeyAnthropic,
		"AZURE_OPENAI_API_KEY="+KeyAzure,
		"PHIGATE_FINGERPRINT_KEY="+FingerprintKey,
		"PHIGATE_CHECKPOINT_KEY="+st.checkpointKey,
	)
	if pg := opts.Postgres; pg != nil {
		cmd.Env = append(cmd.Env, "PHIGATE_AUDIT_DSN="+pg.WriterDSN, "PHIGATE_AUDIT_OWNER_DSN="+pg.OwnerDSN)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	proc, err := startProcess(cmd)
	logFile.Close()
	if err != nil {
		return fmt.Errorf("starting phigate: %w", err)
	}
	st.phigate = proc

	err = waitFor(ctx, 30*time.Second, proc, func() bool {
		resp, err := http.Get(st.AdminURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		return fmt.Errorf("phigate did not become ready: %w (log: %s)", err, tail(st.PhigateLog))
	}
	return nil
}

func (st *Stack) startEnvoy(ctx context.Context, opts Options, b envoy.Bootstrap) error {
	config, err := b.Render()
	if err != nil {
		return err
	}
	st.EnvoyLog = filepath.Join(opts.Dir, "envoy.log")
	proc, err := runEnvoy(ctx, opts, config, "envoy", b.AdminPort)
	if err != nil {
		return err
	}
	st.envoy = proc
	return nil
}

// StartBaseline starts a second Envoy with the same listener settings
// but no ext_proc filter, routing every request straight to the openai
// stand-in, and returns its URL. Load tests compare the two to measure
// the latency phigate adds.
func (st *Stack) StartBaseline(ctx context.Context, opts Options) (string, error) {
	ports, err := freePorts(2)
	if err != nil {
		return "", err
	}
	b := st.bootstrap
	b.ListenPort, b.AdminPort, b.JWT = ports[0], ports[1], nil
	config, err := b.Render()
	if err != nil {
		return "", err
	}
	text := string(config)
	start := strings.Index(text, "          - name: envoy.filters.http.ext_proc")
	end := strings.Index(text, "          - name: envoy.filters.http.router")
	if start < 0 || end < start {
		return "", errors.New("baseline: ext_proc filter not found in the bootstrap")
	}
	text = text[:start] + text[end:]
	text = strings.Replace(text, "cluster_header: "+b.UpstreamHeader, "cluster: openai", 1)
	proc, err := runEnvoy(ctx, opts, []byte(text), "envoy-baseline", b.AdminPort)
	if err != nil {
		return "", err
	}
	st.baseline = proc
	return fmt.Sprintf("http://127.0.0.1:%d", b.ListenPort), nil
}

// runEnvoy writes config as NAME.yaml in opts.Dir, starts Envoy on it with
// its output in NAME.log, and waits until its admin port reports ready.
func runEnvoy(ctx context.Context, opts Options, config []byte, name string, adminPort int) (*process, error) {
	configPath := filepath.Join(opts.Dir, name+".yaml")
	if err := os.WriteFile(configPath, config, 0o644); err != nil {
		return nil, err
	}
	logPath := filepath.Join(opts.Dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(opts.Envoy, "-c", configPath, "--disable-hot-restart", "--log-level", "warn", "--concurrency", "2")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	proc, err := startProcess(cmd)
	logFile.Close()
	if err != nil {
		return nil, fmt.Errorf("starting envoy %s: %w", opts.Envoy, err)
	}

	readyURL := fmt.Sprintf("http://127.0.0.1:%d/ready", adminPort)
	err = waitFor(ctx, 30*time.Second, proc, func() bool {
		resp, err := http.Get(readyURL)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		_ = proc.cmd.Process.Kill()
		<-proc.exited
		return nil, fmt.Errorf("envoy did not become ready: %w (log: %s)", err, tail(logPath))
	}
	return proc, nil
}

// KillPhigate ends phigate with SIGKILL, as a crash or an OOM kill would,
// and waits for it to exit.
func (st *Stack) KillPhigate() {
	if st.phigate == nil {
		return
	}
	_ = st.phigate.cmd.Process.Kill()
	<-st.phigate.exited
}

// Stop stops Envoy, then phigate (with SIGTERM, so it drains and closes
// its audit log), then the stand-ins.
func (st *Stack) Stop() {
	for _, p := range []*process{st.baseline, st.envoy, st.phigate} {
		if p == nil {
			continue
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
	for _, s := range []*standin.Server{st.OpenAI, st.OpenAIBAA, st.Anthropic, st.Azure} {
		if s != nil {
			s.Close()
		}
	}
}

// waitFor polls ready until it returns true, the process exits, or the
// timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, p *process, ready func() bool) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if ready() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.exited:
			return errors.New("process exited")
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("timed out after %s", timeout)
}

// freePorts reserves n distinct free TCP ports on 127.0.0.1. The ports are
// released before use, so another process could take one in between;
// that race is acceptable for tests.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// tail returns the last lines of a log file for error messages.
func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	data, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}
