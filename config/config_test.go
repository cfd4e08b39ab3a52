package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fixture returns the absolute path of a file under testdata.
func fixture(t *testing.T, name string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadFullFile(t *testing.T) {
	path := fixture(t, "full.yaml")
	dir := filepath.Dir(path)

	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		GRPCAddress:   "0.0.0.0:19002",
		AdminAddress:  "[::1]:19003",
		Policy:        Policy{Bundle: "/srv/phigate/rego", PollInterval: 30 * time.Second},
		ProvidersFile: filepath.Join(dir, "providers.yaml"),
		Audit:         Audit{File: filepath.Join(filepath.Dir(dir), "var", "audit.jsonl")},
		MaxBodyBytes:  1 << 20,
		Headers: Headers{
			Upstream: "x-test-upstream",
			Provider: "x-test-provider",
			Tenant:   "x-test-tenant",
			Purpose:  "x-test-purpose",
		},
		LogLevel: "debug",
	}
	if cfg != want {
		t.Errorf("Load returned\n%+v\nwant\n%+v", cfg, want)
	}
}

func TestLoadDefaults(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		grpc    string
		level   string
	}{
		{name: "partial file", fixture: "partial.yaml", grpc: "127.0.0.1:29002", level: "warn"},
		{name: "comments only", fixture: "comments_only.yaml", grpc: "127.0.0.1:9002", level: "info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := fixture(t, tt.fixture)
			dir := filepath.Dir(path)

			cfg, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			def := Default()
			if cfg.GRPCAddress != tt.grpc {
				t.Errorf("GRPCAddress = %q, want %q from the file", cfg.GRPCAddress, tt.grpc)
			}
			if cfg.LogLevel != tt.level {
				t.Errorf("LogLevel = %q, want %q", cfg.LogLevel, tt.level)
			}
			if cfg.AdminAddress != def.AdminAddress {
				t.Errorf("AdminAddress = %q, want the default %q", cfg.AdminAddress, def.AdminAddress)
			}
			if cfg.MaxBodyBytes != def.MaxBodyBytes {
				t.Errorf("MaxBodyBytes = %d, want the default %d", cfg.MaxBodyBytes, def.MaxBodyBytes)
			}
			if cfg.Headers != def.Headers {
				t.Errorf("Headers = %+v, want the defaults %+v", cfg.Headers, def.Headers)
			}
			if want := filepath.Join(dir, "rego"); cfg.Policy.Bundle != want {
				t.Errorf("Policy.Bundle = %q, want the default resolved against the file's directory, %q", cfg.Policy.Bundle, want)
			}
			if want := filepath.Join(dir, "providers.yaml"); cfg.ProvidersFile != want {
				t.Errorf("ProvidersFile = %q, want %q", cfg.ProvidersFile, want)
			}
			if want := filepath.Join(dir, "audit.jsonl"); cfg.Audit.File != want {
				t.Errorf("Audit.File = %q, want %q", cfg.Audit.File, want)
			}
		})
	}
}

func TestLoadResolvesRelativePaths(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "phigate.yaml")
	body := "policy:\n  bundle: ../rego\nproviders_file: ./providers.yaml\naudit:\n  file: /var/lib/phigate/audit.jsonl\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}

	// Load must not depend on the working directory.
	t.Chdir(t.TempDir())
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "parent directory", got: cfg.Policy.Bundle, want: filepath.Join(filepath.Dir(dir), "rego")},
		{name: "dot prefix", got: cfg.ProvidersFile, want: filepath.Join(dir, "providers.yaml")},
		{name: "absolute", got: cfg.Audit.File, want: "/var/lib/phigate/audit.jsonl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("path = %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    string
	}{
		{name: "unknown field", fixture: "unknown_field.yaml", want: "field grpc_adress not found"},
		{name: "unknown nested field", fixture: "unknown_nested_field.yaml", want: "field path not found"},
		{name: "wrong type", fixture: "wrong_type.yaml", want: "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := fixture(t, tt.fixture)
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %q, want it to contain %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("Load error = %q, want it to name the file", err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestLoadListsEveryProblem(t *testing.T) {
	path := fixture(t, "invalid.yaml")
	_, err := Load(path)
	if err == nil {
		t.Fatal("Load succeeded on an invalid file, want an error")
	}
	msg := err.Error()

	if !strings.HasPrefix(msg, "configuration "+path+" is invalid:\n") {
		t.Errorf("error starts %q, want it to name the file first", strings.SplitN(msg, "\n", 2)[0])
	}
	wantMessages := []string{
		`grpc_address: invalid address "localhost": want host:port`,
		`admin_address: invalid address "": want host:port`,
		"policy.bundle: missing",
		"providers_file: missing",
		"audit.file: missing",
		"max_body_bytes: must be positive, got -1",
		`headers.upstream: invalid header name "X-Upstream"`,
		`headers.provider: invalid header name "x provider"`,
		`headers.tenant: invalid header name ""`,
		`log_level: invalid level "verbose"`,
	}
	for _, want := range wantMessages {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q; full error:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "headers.purpose") {
		t.Errorf("error names headers.purpose, which is valid:\n%s", msg)
	}
	if got := strings.Count(msg, "\n"); got != len(wantMessages) {
		t.Errorf("error has %d lines after the first, want one per problem (%d):\n%s", got, len(wantMessages), msg)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // empty when the config is valid
	}{
		{name: "defaults", modify: func(*Config) {}},
		{name: "ipv6 address", modify: func(c *Config) { c.GRPCAddress = "[::]:9002" }},
		{name: "port only", modify: func(c *Config) { c.AdminAddress = ":9003" }},
		{name: "header punctuation", modify: func(c *Config) { c.Headers.Tenant = "x-tenant_id.v1" }},
		{name: "every level", modify: func(c *Config) { c.LogLevel = "error" }},
		{name: "zero body size", modify: func(c *Config) { c.MaxBodyBytes = 0 }, want: "max_body_bytes: must be positive, got 0"},
		{name: "header with colon", modify: func(c *Config) { c.Headers.Provider = "x-provider:" }, want: "headers.provider: invalid header name"},
		{name: "header non-ASCII", modify: func(c *Config) { c.Headers.Purpose = "x-zweck-é" }, want: "headers.purpose: invalid header name"},
		{name: "uppercase level", modify: func(c *Config) { c.LogLevel = "INFO" }, want: `log_level: invalid level "INFO"`},
		{name: "address without host", modify: func(c *Config) { c.GRPCAddress = "9002" }, want: `grpc_address: invalid address "9002"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			tt.modify(&cfg)
			err := cfg.Validate()

			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadPolicySources(t *testing.T) {
	dir := t.TempDir()
	body := `policy:
  bundle: https://bundles.example.test/phigate.tar.gz
  poll_interval: 1m
  shadow_bundle: candidate
  verification:
    public_key_file: keys/bundle.pem
    key_id: release
`
	path := filepath.Join(dir, "phigate.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	checks := []struct {
		name, got, want string
	}{
		{"URL bundle kept as is", cfg.Policy.Bundle, "https://bundles.example.test/phigate.tar.gz"},
		{"shadow bundle resolved", cfg.Policy.ShadowBundle, filepath.Join(dir, "candidate")},
		{"key file resolved", cfg.Policy.Verification.PublicKeyFile, filepath.Join(dir, "keys", "bundle.pem")},
		{"key id", cfg.Policy.Verification.KeyID, "release"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if cfg.Policy.PollInterval != time.Minute {
		t.Errorf("PollInterval = %s, want 1m", cfg.Policy.PollInterval)
	}
}

func TestValidatePolicyVerification(t *testing.T) {
	cfg := Default()
	cfg.Policy.PollInterval = -time.Second
	cfg.Policy.Verification = &Verification{Algorithm: "none"}

	err := cfg.Validate()

	if err == nil {
		t.Fatal("Validate accepted an incomplete verification block")
	}
	for _, want := range []string{"policy.poll_interval", "public_key_file: missing", "key_id: missing", `unsupported algorithm "none"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
