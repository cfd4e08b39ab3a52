// Package config loads phigate's YAML configuration file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/phigate/phigate/internal/gctune"
)

// Config is the whole configuration. Relative paths in it are resolved
// against the directory of the file they were read from.
type Config struct {
	// GRPCAddress is the listen address of the ext_proc gRPC server.
	GRPCAddress string `yaml:"grpc_address"`
	// AdminAddress is the listen address of the HTTP admin server
	// (health, readiness, policy status).
	AdminAddress string `yaml:"admin_address"`
	Policy       Policy `yaml:"policy"`
	// ProvidersFile is the provider registry.
	ProvidersFile string `yaml:"providers_file"`
	Audit         Audit  `yaml:"audit"`
	// MaxBodyBytes bounds the request body phigate accepts. Larger requests
	// get a 413 error in the client API's format. Envoy's own buffer limit
	// (per_connection_buffer_limit_bytes) must be at least this large.
	MaxBodyBytes int     `yaml:"max_body_bytes"`
	Headers      Headers `yaml:"headers"`
	// LogLevel is debug, info, warn or error.
	LogLevel string  `yaml:"log_level"`
	Runtime  Runtime `yaml:"runtime"`
}

// Runtime sets the Go garbage collector's targets for `phigate serve` (see
// package gctune). The GOGC and GOMEMLIMIT environment variables win over
// both fields.
type Runtime struct {
	// GCPercent is the heap growth between collections, as GOGC. The
	// default, 400, runs the collector a quarter as often as Go's 100,
	// which shortens the latency tail of requests at the cost of a heap
	// up to five times the live data. -1 turns it off, which needs a
	// memory limit.
	GCPercent int `yaml:"gc_percent"`
	// MemoryLimit is the soft heap limit: "auto" (default) is 90% of the
	// container's cgroup memory limit when it has one, "off" sets none,
	// and a size such as "512MiB" sets that.
	MemoryLimit string `yaml:"memory_limit"`
}

// Settings returns r in the form gctune.Apply takes.
func (r Runtime) Settings() gctune.Settings {
	return gctune.Settings{GCPercent: r.GCPercent, MemoryLimit: r.MemoryLimit}
}

// Policy configures where the Rego bundle comes from.
type Policy struct {
	// Bundle is a bundle directory, a .tar.gz bundle file, or the http(s)
	// URL of a bundle on a bundle server.
	Bundle string `yaml:"bundle"`
	// PollInterval is how often the bundle is checked for changes; 0
	// disables reloading.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Verification, when set, requires every bundle to carry a valid
	// .signatures.json signed with this key.
	Verification *Verification `yaml:"verification"`
	// ShadowBundle, when set, is a candidate bundle (same forms as Bundle)
	// evaluated beside the active one. Where it decides differently, the
	// difference is logged and audited. The candidate never affects a
	// request.
	ShadowBundle string `yaml:"shadow_bundle"`
	// BearerTokenEnv names an environment variable whose value is sent as
	// "Authorization: Bearer ..." to an http(s) bundle server.
	BearerTokenEnv string `yaml:"bearer_token_env"`
}

// Verification names the public key that bundle signatures must verify
// against, as OPA's bundle signing uses it.
type Verification struct {
	// PublicKeyFile is a PEM public key (RS*, PS*, ES*) or, for HS*, a file
	// holding the shared secret.
	PublicKeyFile string `yaml:"public_key_file"`
	// KeyID is the id the public key is configured under. OPA (v1.22)
	// verifies every signature with the configured key and does not
	// compare this id with the key id the signature names.
	KeyID string `yaml:"key_id"`
	// Algorithm is the JWT signing algorithm, RS256 by default.
	Algorithm string `yaml:"algorithm"`
	// Scope, when set, must match the signature's scope claim.
	Scope string `yaml:"scope"`
}

// Audit configures the audit log.
type Audit struct {
	// File is the append-only JSONL log.
	File string `yaml:"file"`
	// Store selects the audit store: file (the log at File, the default)
	// or postgres (see Postgres).
	Store string `yaml:"store"`
	// OnFailure sets the handling of a request whose decision record
	// cannot be stored. With deny (the default) phigate returns 503 and does
	// not forward it. With allow it forwards the request without a record,
	// and logs and counts the loss.
	OnFailure string   `yaml:"on_failure"`
	Postgres  Postgres `yaml:"postgres"`
	// FingerprintKey, when set, makes every decision record carry keyed
	// fingerprints of the PHI values found, so that an auditor with the
	// key can list the disclosures of one value.
	FingerprintKey *SecretKey `yaml:"fingerprint_key"`
	// CheckpointKey, when set, is the Ed25519 note key ("PRIVATE+KEY+...",
	// from `phigate audit keygen`) that signs checkpoints of the log,
	// written beside it every CheckpointEvery records and at shutdown.
	CheckpointKey   *SecretKey `yaml:"checkpoint_key"`
	CheckpointEvery int        `yaml:"checkpoint_every"`
	// CheckpointCopy, when set, is a second file that receives every
	// checkpoint of the file store, synced like the first. Put it on
	// another volume. The postgres store has Postgres.CheckpointFile.
	CheckpointCopy string `yaml:"checkpoint_copy"`
	// EncryptionKeys, when set, make phigate encrypt each record's user,
	// reasons, error and PHI fingerprints (AES-256-GCM) before hashing it.
	// Each key is 32 bytes, as 64 hex digits or base64, from the
	// environment or a file. EncryptionActiveKey names the key that
	// encrypts new records, by default the first. The other keys only
	// open older records, so a key is rotated by adding the new one first.
	EncryptionKeys      []SecretKey `yaml:"encryption_keys"`
	EncryptionActiveKey string      `yaml:"encryption_active_key"`
}

// Postgres configures the PostgreSQL audit store. Connection strings come
// from environment variables, never from the file, because they may hold
// passwords.
type Postgres struct {
	// DSNEnv names the environment variable holding the writer role's
	// connection string (libpq keyword/value or URL form).
	DSNEnv string `yaml:"dsn_env"`
	// OwnerDSNEnv, when set, names the variable holding the schema
	// owner's connection string: phigate then applies schema migrations at
	// start and grants the writer role its privileges.
	OwnerDSNEnv string `yaml:"owner_dsn_env"`
	// WriterID names this process's hash chain; every replica needs its
	// own. Empty means the host name, which is the pod name in Kubernetes.
	WriterID string `yaml:"writer_id"`
	// Spool is the local file for records the database does not take. It
	// may hold the only copy of acknowledged records, so keep it on a
	// volume that outlives the process.
	Spool         string `yaml:"spool"`
	SpoolMaxBytes int64  `yaml:"spool_max_bytes"`
	// BatchSize bounds the records written by one COPY; BatchLinger is how
	// long a batch waits for more records (0: write at once).
	BatchSize   int           `yaml:"batch_size"`
	BatchLinger time.Duration `yaml:"batch_linger"`
	// WriteTimeout bounds each connection attempt and database write; a
	// write that times out goes to the spool.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// CheckpointFile, when set, also receives every signed checkpoint,
	// which are always stored in the database.
	CheckpointFile string `yaml:"checkpoint_file"`
}

// SecretKey names a key by id and the source of its bytes: an
// environment variable or a file, never the configuration itself.
type SecretKey struct {
	ID   string `yaml:"id"`
	Env  string `yaml:"env"`
	File string `yaml:"file"`
}

// Headers names the HTTP headers phigate reads and writes.
type Headers struct {
	// Upstream is the header Envoy's cluster_header route reads. phigate
	// removes any client-supplied value and sets the chosen cluster.
	Upstream string `yaml:"upstream"`
	// Provider lets a client ask for a provider by registry name; policy
	// decides whether it gets it.
	Provider string `yaml:"provider"`
	Tenant   string `yaml:"tenant"`
	Purpose  string `yaml:"purpose"`
}

// Default returns the configuration used for every field the file leaves
// out.
func Default() Config {
	return Config{
		GRPCAddress:   "127.0.0.1:9002",
		AdminAddress:  "127.0.0.1:9003",
		Policy:        Policy{Bundle: "rego", PollInterval: 10 * time.Second},
		ProvidersFile: "providers.yaml",
		Audit: Audit{
			File:      "audit.jsonl",
			Store:     "file",
			OnFailure: "deny",
			Postgres: Postgres{
				DSNEnv:        "PHIGATE_AUDIT_DSN",
				Spool:         "audit-spool.jsonl",
				SpoolMaxBytes: 1 << 30,
				BatchSize:     512,
				WriteTimeout:  5 * time.Second,
			},
		},
		MaxBodyBytes: 4 << 20,
		Headers: Headers{
			Upstream: "x-phigate-upstream",
			Provider: "x-phigate-provider",
			Tenant:   "x-phigate-tenant",
			Purpose:  "x-phigate-purpose",
		},
		LogLevel: "info",
		Runtime:  Runtime{GCPercent: 400, MemoryLimit: "auto"},
	}
}

// Load reads path over the defaults, resolves relative paths and validates
// the result, listing every problem at once.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading configuration: %w", err)
	}
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// yaml.v3 reports an empty file, or one with only comments, as io.EOF.
	// Such a file sets no fields, so every default applies.
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("configuration %s: decoding YAML: %w", path, err)
	}

	base := filepath.Dir(path)
	paths := []*string{&cfg.ProvidersFile, &cfg.Audit.File, &cfg.Audit.CheckpointCopy, &cfg.Audit.Postgres.Spool, &cfg.Audit.Postgres.CheckpointFile}
	for _, p := range []*string{&cfg.Policy.Bundle, &cfg.Policy.ShadowBundle} {
		if !isURL(*p) {
			paths = append(paths, p)
		}
	}
	if cfg.Policy.Verification != nil {
		paths = append(paths, &cfg.Policy.Verification.PublicKeyFile)
	}
	if cfg.Audit.FingerprintKey != nil {
		paths = append(paths, &cfg.Audit.FingerprintKey.File)
	}
	if cfg.Audit.CheckpointKey != nil {
		paths = append(paths, &cfg.Audit.CheckpointKey.File)
	}
	for i := range cfg.Audit.EncryptionKeys {
		paths = append(paths, &cfg.Audit.EncryptionKeys[i].File)
	}
	for _, p := range paths {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("configuration %s is invalid:\n%w", path, err)
	}
	return cfg, nil
}

// Validate returns every problem in the configuration, joined.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []field{{"grpc_address", c.GRPCAddress}, {"admin_address", c.AdminAddress}} {
		if _, _, err := net.SplitHostPort(f.value); err != nil {
			errs = append(errs, fmt.Errorf("%s: invalid address %q: want host:port", f.name, f.value))
		}
	}
	if c.Policy.Bundle == "" {
		errs = append(errs, errors.New("policy.bundle: missing"))
	}
	if c.Policy.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("policy.poll_interval: must not be negative, got %s", c.Policy.PollInterval))
	}
	if v := c.Policy.Verification; v != nil {
		if v.PublicKeyFile == "" {
			errs = append(errs, errors.New("policy.verification.public_key_file: missing"))
		}
		if v.KeyID == "" {
			errs = append(errs, errors.New("policy.verification.key_id: missing"))
		}
		switch v.Algorithm {
		case "", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512":
		default:
			errs = append(errs, fmt.Errorf("policy.verification.algorithm: unsupported algorithm %q", v.Algorithm))
		}
	}
	if c.ProvidersFile == "" {
		errs = append(errs, errors.New("providers_file: missing"))
	}
	if c.Audit.File == "" {
		errs = append(errs, errors.New("audit.file: missing"))
	}
	if c.Audit.CheckpointEvery < 0 {
		errs = append(errs, fmt.Errorf("audit.checkpoint_every: must not be negative, got %d", c.Audit.CheckpointEvery))
	}
	errs = append(errs, c.Audit.validateStore()...)
	errs = append(errs, c.Audit.CheckpointKey.validate("audit.checkpoint_key")...)
	errs = append(errs, c.Audit.FingerprintKey.validate("audit.fingerprint_key")...)
	errs = append(errs, c.Audit.validateEncryptionKeys()...)
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("max_body_bytes: must be positive, got %d", c.MaxBodyBytes))
	}
	for _, f := range []field{
		{"headers.upstream", c.Headers.Upstream},
		{"headers.provider", c.Headers.Provider},
		{"headers.tenant", c.Headers.Tenant},
		{"headers.purpose", c.Headers.Purpose},
	} {
		if !validHeaderName(f.value) {
			errs = append(errs, fmt.Errorf("%s: invalid header name %q: use a lowercase HTTP header name", f.name, f.value))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level: invalid level %q: want debug, info, warn or error", c.LogLevel))
	}
	if !gctune.ValidGCPercent(c.Runtime.GCPercent) {
		errs = append(errs, fmt.Errorf("runtime.gc_percent: want a positive percentage or -1, got %d", c.Runtime.GCPercent))
	}
	switch c.Runtime.MemoryLimit {
	case "auto", "off":
	default:
		if _, err := gctune.ParseSize(c.Runtime.MemoryLimit); err != nil {
			errs = append(errs, fmt.Errorf("runtime.memory_limit: want auto, off or a size: %w", err))
		}
	}
	return errors.Join(errs...)
}

// writerIDPattern matches valid audit.postgres.writer_id values. A
// Kubernetes pod name or a host name fits.
var writerIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// validateStore returns the problems of the store choice and, for the
// postgres store, of its settings.
func (a Audit) validateStore() []error {
	var errs []error
	switch a.Store {
	case "file", "postgres":
	default:
		errs = append(errs, fmt.Errorf("audit.store: invalid store %q: want file or postgres", a.Store))
	}
	switch a.OnFailure {
	case "deny", "allow":
	default:
		errs = append(errs, fmt.Errorf("audit.on_failure: invalid value %q: want deny or allow", a.OnFailure))
	}
	if a.CheckpointCopy != "" && a.CheckpointKey == nil {
		errs = append(errs, errors.New("audit.checkpoint_copy: set, but audit.checkpoint_key is not, so no checkpoints are signed"))
	}
	if a.Store != "postgres" {
		if a.CheckpointCopy != "" && filepath.Clean(a.CheckpointCopy) == filepath.Clean(a.File+".checkpoints") {
			errs = append(errs, fmt.Errorf("audit.checkpoint_copy: %s is the log's own checkpoints file: choose a path on another volume", a.CheckpointCopy))
		}
		return errs
	}
	if a.CheckpointCopy != "" {
		errs = append(errs, errors.New("audit.checkpoint_copy: applies to the file store only: use audit.postgres.checkpoint_file with the postgres store"))
	}

	p := a.Postgres
	if p.DSNEnv == "" {
		errs = append(errs, errors.New("audit.postgres.dsn_env: missing: name the environment variable that holds the connection string"))
	}
	if p.WriterID != "" && !writerIDPattern.MatchString(p.WriterID) {
		errs = append(errs, fmt.Errorf("audit.postgres.writer_id: invalid id %q: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit", p.WriterID))
	}
	if p.Spool == "" {
		errs = append(errs, errors.New("audit.postgres.spool: missing"))
	}
	if p.SpoolMaxBytes <= 0 {
		errs = append(errs, fmt.Errorf("audit.postgres.spool_max_bytes: must be positive, got %d", p.SpoolMaxBytes))
	}
	if p.BatchSize <= 0 {
		errs = append(errs, fmt.Errorf("audit.postgres.batch_size: must be positive, got %d", p.BatchSize))
	}
	if p.BatchLinger < 0 {
		errs = append(errs, fmt.Errorf("audit.postgres.batch_linger: must not be negative, got %s", p.BatchLinger))
	}
	if p.WriteTimeout <= 0 {
		errs = append(errs, fmt.Errorf("audit.postgres.write_timeout: must be positive, got %s", p.WriteTimeout))
	}
	return errs
}

type field struct{ name, value string }

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// validHeaderName reports whether h is a lowercase RFC 9110 token, which is
// how Envoy and HTTP/2 carry header names.
func validHeaderName(h string) bool {
	if h == "" {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return true
}

// validateEncryptionKeys returns the problems of the encryption keyring.
func (a Audit) validateEncryptionKeys() []error {
	var errs []error
	seen := map[string]bool{}
	for i := range a.EncryptionKeys {
		k := &a.EncryptionKeys[i]
		errs = append(errs, k.validate(fmt.Sprintf("audit.encryption_keys[%d]", i))...)
		if k.ID != "" && seen[k.ID] {
			errs = append(errs, fmt.Errorf("audit.encryption_keys[%d].id: %q is used twice", i, k.ID))
		}
		seen[k.ID] = true
	}
	if a.EncryptionActiveKey != "" && !seen[a.EncryptionActiveKey] {
		errs = append(errs, fmt.Errorf("audit.encryption_active_key: %q is not the id of a key in audit.encryption_keys", a.EncryptionActiveKey))
	}
	return errs
}

// validate returns the problems of an optional key setting called name.
func (k *SecretKey) validate(name string) []error {
	if k == nil {
		return nil
	}
	var errs []error
	if k.ID == "" {
		errs = append(errs, fmt.Errorf("%s.id: missing", name))
	}
	if (k.Env == "") == (k.File == "") {
		errs = append(errs, fmt.Errorf("%s: set exactly one of env or file", name))
	}
	return errs
}

// Read returns the key's bytes from its environment variable or file.
// Errors name the source, never the key.
func (k SecretKey) Read() ([]byte, error) {
	if k.Env != "" {
		v := os.Getenv(k.Env)
		if v == "" {
			return nil, fmt.Errorf("key %s: environment variable %s is empty or unset", k.ID, k.Env)
		}
		return []byte(v), nil
	}
	data, err := os.ReadFile(k.File)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.ID, err)
	}
	return bytes.TrimSpace(data), nil
}
