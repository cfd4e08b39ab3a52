package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
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
	wantAudit := Default().Audit
	wantAudit.File = filepath.Join(filepath.Dir(dir), "var", "audit.jsonl")
	wantAudit.Postgres.Spool = filepath.Join(dir, "audit-spool.jsonl")
	want := Config{
		GRPCAddress:   "0.0.0.0:19002",
		AdminAddress:  "[::1]:19003",
		Policy:        Policy{Bundle: "/srv/phigate/rego", PollInterval: 30 * time.Second},
		ProvidersFile: filepath.Join(dir, "providers.yaml"),
		Audit:         wantAudit,
		MaxBodyBytes:  1 << 20,
		Headers: Headers{
			Upstream: "x-test-upstream",
			Provider: "x-test-provider",
			Tenant:   "x-test-tenant",
			Purpose:  "x-test-purpose",
		},
		LogLevel: "debug",
		Runtime:  Runtime{GCPercent: 200, MemoryLimit: "768MiB"},
	}
	if !reflect.DeepEqual(cfg, want) {
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
	body := "policy:\n  bundle: ../rego\nproviders_file: ./providers.yaml\naudit:\n  file: /var/lib/phigate/audit.jsonl\n  checkpoint_key: {id: cp, env: CP_KEY}\n  checkpoint_copy: ../copy/audit.checkpoints\n"
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
		{name: "checkpoint copy", got: cfg.Audit.CheckpointCopy, want: filepath.Join(filepath.Dir(dir), "copy", "audit.checkpoints")},
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
		{name: "collector off", modify: func(c *Config) { c.Runtime.GCPercent = -1 }},
		{name: "memory limit off", modify: func(c *Config) { c.Runtime.MemoryLimit = "off" }},
		{name: "memory limit size", modify: func(c *Config) { c.Runtime.MemoryLimit = "2GiB" }},
		{name: "zero gc percent", modify: func(c *Config) { c.Runtime.GCPercent = 0 }, want: "runtime.gc_percent: want a positive percentage or -1, got 0"},
		{name: "negative gc percent", modify: func(c *Config) { c.Runtime.GCPercent = -50 }, want: "runtime.gc_percent: want a positive percentage or -1, got -50"},
		{name: "memory limit in MB", modify: func(c *Config) { c.Runtime.MemoryLimit = "512MB" }, want: `runtime.memory_limit: want auto, off or a size: memory size "512MB"`},
		{name: "encryption keyring", modify: func(c *Config) {
			c.Audit.EncryptionKeys = []SecretKey{{ID: "k2026", Env: "KEY_2026"}, {ID: "k2025", File: "/run/secrets/k2025"}}
			c.Audit.EncryptionActiveKey = "k2026"
		}},
		{name: "encryption key twice", modify: func(c *Config) {
			c.Audit.EncryptionKeys = []SecretKey{{ID: "k1", Env: "A"}, {ID: "k1", Env: "B"}}
		}, want: `audit.encryption_keys[1].id: "k1" is used twice`},
		{name: "encryption key without source", modify: func(c *Config) {
			c.Audit.EncryptionKeys = []SecretKey{{ID: "k1"}}
		}, want: "audit.encryption_keys[0]: set exactly one of env or file"},
		{name: "encryption key without id", modify: func(c *Config) {
			c.Audit.EncryptionKeys = []SecretKey{{Env: "A"}}
		}, want: "audit.encryption_keys[0].id: missing"},
		{name: "unknown active encryption key", modify: func(c *Config) {
			c.Audit.EncryptionKeys = []SecretKey{{ID: "k1", Env: "A"}}
			c.Audit.EncryptionActiveKey = "k2"
		}, want: `audit.encryption_active_key: "k2" is not the id of a key`},
		{name: "active encryption key without keys", modify: func(c *Config) {
			c.Audit.EncryptionActiveKey = "k1"
		}, want: `audit.encryption_active_key: "k1" is not the id of a key`},
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

func TestLoadEncryptionKeys(t *testing.T) {
	dir := t.TempDir()
	body := `audit:
  file: audit.jsonl
  encryption_keys:
    - {id: k2026, file: keys/k2026}
    - {id: k2025, env: PHIGATE_AUDIT_KEY_2025}
  encryption_active_key: k2026
`
	path := filepath.Join(dir, "phigate.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []SecretKey{{ID: "k2026", File: filepath.Join(dir, "keys", "k2026")}, {ID: "k2025", Env: "PHIGATE_AUDIT_KEY_2025"}}
	if !reflect.DeepEqual(cfg.Audit.EncryptionKeys, want) {
		t.Errorf("EncryptionKeys = %+v, want %+v with the file path resolved", cfg.Audit.EncryptionKeys, want)
	}
	if cfg.Audit.EncryptionActiveKey != "k2026" {
		t.Errorf("EncryptionActiveKey = %q, want k2026", cfg.Audit.EncryptionActiveKey)
	}
}

func TestLoadPostgresStore(t *testing.T) {
	path := fixture(t, "postgres.yaml")
	dir := filepath.Dir(path)

	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	want := Postgres{
		DSNEnv:         "AUDIT_DSN",
		OwnerDSNEnv:    "AUDIT_OWNER_DSN",
		WriterID:       "phigate-0",
		Spool:          filepath.Join(filepath.Dir(dir), "var", "audit-spool.jsonl"),
		SpoolMaxBytes:  1 << 20,
		BatchSize:      128,
		BatchLinger:    2 * time.Millisecond,
		WriteTimeout:   3 * time.Second,
		CheckpointFile: filepath.Join(dir, "checkpoints.jsonl"),
	}
	if cfg.Audit.Postgres != want {
		t.Errorf("Audit.Postgres = %+v, want %+v", cfg.Audit.Postgres, want)
	}
	if cfg.Audit.Store != "postgres" || cfg.Audit.OnFailure != "allow" {
		t.Errorf("store %q, on_failure %q; want postgres and allow", cfg.Audit.Store, cfg.Audit.OnFailure)
	}
}

func TestValidateAuditStore(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Audit)
		want   string // empty when the config is valid
	}{
		{name: "file store defaults", modify: func(*Audit) {}},
		{name: "postgres defaults", modify: func(a *Audit) { a.Store = "postgres" }},
		{name: "postgres settings ignored for the file store", modify: func(a *Audit) { a.Postgres.BatchSize = 0 }},
		{name: "unknown store", modify: func(a *Audit) { a.Store = "sqlite" }, want: `audit.store: invalid store "sqlite"`},
		{name: "unknown on_failure", modify: func(a *Audit) { a.OnFailure = "ignore" }, want: `audit.on_failure: invalid value "ignore"`},
		{name: "missing dsn_env", modify: func(a *Audit) { a.Store, a.Postgres.DSNEnv = "postgres", "" }, want: "audit.postgres.dsn_env: missing"},
		{name: "writer id with slash", modify: func(a *Audit) { a.Store, a.Postgres.WriterID = "postgres", "pod/0" }, want: `audit.postgres.writer_id: invalid id "pod/0"`},
		{name: "missing spool", modify: func(a *Audit) { a.Store, a.Postgres.Spool = "postgres", "" }, want: "audit.postgres.spool: missing"},
		{name: "zero spool size", modify: func(a *Audit) { a.Store, a.Postgres.SpoolMaxBytes = "postgres", 0 }, want: "audit.postgres.spool_max_bytes: must be positive"},
		{name: "zero batch", modify: func(a *Audit) { a.Store, a.Postgres.BatchSize = "postgres", 0 }, want: "audit.postgres.batch_size: must be positive"},
		{name: "negative linger", modify: func(a *Audit) { a.Store, a.Postgres.BatchLinger = "postgres", -time.Millisecond }, want: "audit.postgres.batch_linger: must not be negative"},
		{name: "zero write timeout", modify: func(a *Audit) { a.Store, a.Postgres.WriteTimeout = "postgres", 0 }, want: "audit.postgres.write_timeout: must be positive"},
		{name: "checkpoint copy", modify: func(a *Audit) {
			a.CheckpointKey, a.CheckpointCopy = &SecretKey{ID: "cp", Env: "CP_KEY"}, "/mnt/worm/audit.checkpoints"
		}},
		{name: "checkpoint copy without key", modify: func(a *Audit) { a.CheckpointCopy = "/mnt/worm/audit.checkpoints" }, want: "audit.checkpoint_copy: set, but audit.checkpoint_key is not"},
		{name: "checkpoint copy is the checkpoints file", modify: func(a *Audit) {
			a.CheckpointKey, a.CheckpointCopy = &SecretKey{ID: "cp", Env: "CP_KEY"}, a.File+".checkpoints"
		}, want: "is the log's own checkpoints file"},
		{name: "checkpoint copy with postgres", modify: func(a *Audit) {
			a.Store, a.CheckpointKey, a.CheckpointCopy = "postgres", &SecretKey{ID: "cp", Env: "CP_KEY"}, "/mnt/worm/audit.checkpoints"
		}, want: "use audit.postgres.checkpoint_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			tt.modify(&cfg.Audit)
			err := cfg.Validate()

			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
