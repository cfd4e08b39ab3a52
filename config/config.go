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
	"strings"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration. Relative paths in it are resolved
// against the directory of the file they were read from.
type Config struct {
	// GRPCAddress is where the ext_proc gRPC server listens.
	GRPCAddress string `yaml:"grpc_address"`
	// AdminAddress is where the HTTP admin server (health, readiness)
	// listens.
	AdminAddress string `yaml:"admin_address"`
	// PolicyDir is the Rego bundle directory.
	PolicyDir string `yaml:"policy_dir"`
	// ProvidersFile is the provider registry.
	ProvidersFile string `yaml:"providers_file"`
	Audit         Audit  `yaml:"audit"`
	// MaxBodyBytes bounds the request body phigate accepts. Larger requests
	// get a 413 error in the client API's format. Envoy's own buffer limit
	// (per_connection_buffer_limit_bytes) must be at least this large.
	MaxBodyBytes int     `yaml:"max_body_bytes"`
	Headers      Headers `yaml:"headers"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
}

// Audit configures the audit log.
type Audit struct {
	// File is the append-only JSONL log.
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
		PolicyDir:     "rego",
		ProvidersFile: "providers.yaml",
		Audit:         Audit{File: "audit.jsonl"},
		MaxBodyBytes:  4 << 20,
		Headers: Headers{
			Upstream: "x-phigate-upstream",
			Provider: "x-phigate-provider",
			Tenant:   "x-phigate-tenant",
			Purpose:  "x-phigate-purpose",
		},
		LogLevel: "info",
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
	for _, p := range []*string{&cfg.PolicyDir, &cfg.ProvidersFile, &cfg.Audit.File} {
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
	if c.PolicyDir == "" {
		errs = append(errs, errors.New("policy_dir: missing"))
	}
	if c.ProvidersFile == "" {
		errs = append(errs, errors.New("providers_file: missing"))
	}
	if c.Audit.File == "" {
		errs = append(errs, errors.New("audit.file: missing"))
	}
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
	return errors.Join(errs...)
}

type field struct{ name, value string }

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
