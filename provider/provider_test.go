package provider

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testKey is a synthetic API key. No error may contain it.
const testKey = "sk-test-0000SYNTHETIC0000key"

func TestLoadRegistry(t *testing.T) {
	reg, err := Load(filepath.Join("testdata", "registry.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []Provider{
		{
			Name: "openai", Cluster: "openai", Format: FormatOpenAI, Default: true,
			Regions:     []string{"us"},
			Credentials: Credentials{Env: "PHIGATE_TEST_OPENAI_KEY"},
		},
		{
			Name: "openai-baa", Cluster: "openai_baa", Format: FormatOpenAI, BAA: true, ZeroDataRetention: true,
			Regions:     []string{"us", "eu"},
			Models:      []string{"gpt-4o", "gpt-4o-mini"},
			Credentials: Credentials{File: "/run/secrets/openai-baa-key"},
		},
		{
			Name: "anthropic", Cluster: "anthropic", Format: FormatAnthropic, BAA: true, Default: true,
			Credentials: Credentials{Passthrough: true},
		},
		{
			Name: "local.llm_1", Cluster: "local", Format: FormatOpenAI,
			Credentials: Credentials{Passthrough: true},
		},
	}
	if len(reg.Providers) != len(want) {
		t.Fatalf("got %d providers, want %d", len(reg.Providers), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(reg.Providers[i], want[i]) {
			t.Errorf("Providers[%d] =\n%+v\nwant\n%+v", i, reg.Providers[i], want[i])
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "providers.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want os.ErrNotExist", err)
	}
}

// validEntry is a provider entry that passes validation; cases replace
// one line of it.
const validEntry = `
  - name: openai
    cluster: openai
    format: openai
    credentials: { env: OPENAI_API_KEY }
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{
			name: "no providers",
			yaml: "providers: []\n",
			want: "no providers: the registry needs at least one",
		},
		{
			name: "uppercase name",
			yaml: "providers:" + strings.Replace(validEntry, "name: openai", "name: OpenAI", 1),
			want: `providers[0] (OpenAI): invalid name "OpenAI"`,
		},
		{
			name: "empty name",
			yaml: "providers:" + strings.Replace(validEntry, "name: openai", `name: ""`, 1),
			want: `providers[0] (): invalid name ""`,
		},
		{
			name: "name with space",
			yaml: "providers:" + strings.Replace(validEntry, "name: openai", `name: "open ai"`, 1),
			want: `invalid name "open ai"`,
		},
		{
			name: "name too long",
			yaml: "providers:" + strings.Replace(validEntry, "name: openai", "name: "+strings.Repeat("a", 64), 1),
			want: "invalid name",
		},
		{
			name: "duplicate name",
			yaml: "providers:" + validEntry + strings.Replace(validEntry, "cluster: openai", "cluster: openai_2", 1),
			want: "providers[1] (openai): duplicate name",
		},
		{
			name: "missing cluster",
			yaml: "providers:" + strings.Replace(validEntry, "    cluster: openai\n", "", 1),
			want: "providers[0] (openai): missing cluster",
		},
		{
			name: "unknown format",
			yaml: "providers:" + strings.Replace(validEntry, "format: openai", "format: gemini", 1),
			want: `providers[0] (openai): invalid format "gemini": want "openai" or "anthropic"`,
		},
		{
			name: "missing format",
			yaml: "providers:" + strings.Replace(validEntry, "    format: openai\n", "", 1),
			want: `invalid format ""`,
		},
		{
			name: "anthropic cannot serve embeddings",
			yaml: "providers:\n  - {name: a, cluster: a, format: anthropic, apis: [openai.embeddings], credentials: {passthrough: true}}\n",
			want: `providers[0] (a): a provider of kind anthropic cannot serve API "openai.embeddings"`,
		},
		{
			name: "azure cannot serve responses",
			yaml: "providers:\n  - {name: a, cluster: a, format: openai, apis: [openai.responses], azure: {deployment: d, api_version: 2024-10-21}, credentials: {passthrough: true}}\n",
			want: `a provider of kind azure cannot serve API "openai.responses"`,
		},
		{
			name: "unknown api",
			yaml: "providers:\n  - {name: a, cluster: a, format: openai, apis: [openai.completions], credentials: {passthrough: true}}\n",
			want: `cannot serve API "openai.completions"`,
		},
		{
			name: "azure with anthropic format",
			yaml: "providers:\n  - {name: a, cluster: a, format: anthropic, azure: {deployment: d, api_version: 2024-10-21}, credentials: {passthrough: true}}\n",
			want: `azure needs format "openai"`,
		},
		{
			name: "azure without deployment",
			yaml: "providers:\n  - {name: a, cluster: a, format: openai, azure: {api_version: 2024-10-21}, credentials: {passthrough: true}}\n",
			want: "azure.deployment must be a deployment name",
		},
		{
			name: "azure deployment with slash",
			yaml: "providers:\n  - {name: a, cluster: a, format: openai, azure: {deployment: a/b, api_version: 2024-10-21}, credentials: {passthrough: true}}\n",
			want: "azure.deployment must be a deployment name",
		},
		{
			name: "azure without api version",
			yaml: "providers:\n  - {name: a, cluster: a, format: openai, azure: {deployment: d}, credentials: {passthrough: true}}\n",
			want: "azure.api_version must be set",
		},
		{
			name: "path prefix with trailing slash",
			yaml: "providers:\n  - {name: a, cluster: a, format: openai, path_prefix: /llm/, credentials: {passthrough: true}}\n",
			want: `invalid path_prefix "/llm/"`,
		},
		{
			name: "path prefix relative",
			yaml: "providers:\n  - {name: a, cluster: a, format: openai, path_prefix: llm, credentials: {passthrough: true}}\n",
			want: `invalid path_prefix "llm"`,
		},
		{
			name: "two defaults",
			yaml: `providers:
  - {name: a, cluster: a, format: openai, default: true, credentials: {passthrough: true}}
  - {name: b, cluster: b, format: anthropic, default: true, credentials: {passthrough: true}}
  - {name: c, cluster: c, format: openai, default: true, credentials: {passthrough: true}}
`,
			want: "providers[2] (c): format openai already has default provider a",
		},
		{
			name: "no credentials",
			yaml: "providers:" + strings.Replace(validEntry, "credentials: { env: OPENAI_API_KEY }", "credentials: {}", 1),
			want: "providers[0] (openai): credentials must set exactly one of env, file or passthrough",
		},
		{
			name: "credentials left out",
			yaml: "providers:" + strings.Replace(validEntry, "    credentials: { env: OPENAI_API_KEY }\n", "", 1),
			want: "credentials must set exactly one of env, file or passthrough",
		},
		{
			name: "passthrough false",
			yaml: "providers:" + strings.Replace(validEntry, "{ env: OPENAI_API_KEY }", "{ passthrough: false }", 1),
			want: "credentials must set exactly one of env, file or passthrough",
		},
		{
			name: "key pasted as env name",
			yaml: "providers:" + strings.Replace(validEntry, "{ env: OPENAI_API_KEY }", "{ env: sk-proj-abc123 }", 1),
			want: "credentials.env is not a valid environment variable name",
		},
		{
			name: "empty document",
			yaml: "# no providers yet\n",
			want: "no providers: the registry needs at least one",
		},
		{
			name: "env and file",
			yaml: "providers:" + strings.Replace(validEntry, "{ env: OPENAI_API_KEY }", "{ env: OPENAI_API_KEY, file: /run/secrets/key }", 1),
			want: "credentials must set exactly one of env, file or passthrough",
		},
		{
			name: "file and passthrough",
			yaml: "providers:" + strings.Replace(validEntry, "{ env: OPENAI_API_KEY }", "{ file: /run/secrets/key, passthrough: true }", 1),
			want: "credentials must set exactly one of env, file or passthrough",
		},
		{
			name: "misspelled baa",
			yaml: "providers:" + strings.Replace(validEntry, "format: openai", "format: openai\n    bba: true", 1),
			want: "field bba not found",
		},
		{
			name: "unknown credentials field",
			yaml: "providers:" + strings.Replace(validEntry, "{ env: OPENAI_API_KEY }", "{ api_key: "+testKey+" }", 1),
			want: "field api_key not found",
		},
		{
			name: "unknown top-level field",
			yaml: "provider:" + validEntry,
			want: "field provider not found",
		},
		{
			name: "not a list",
			yaml: "providers: openai\n",
			want: "decoding YAML",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded with %d providers, want an error containing %q", len(reg.Providers), tt.want)
			}
			if reg != nil {
				t.Errorf("Parse returned a registry with its error, want nil")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("Parse error contains the API key: %q", err)
			}
		})
	}
}

func TestParseListsEveryProblem(t *testing.T) {
	doc := `providers:
  - {name: Bad_Name, cluster: a, format: openai, credentials: {passthrough: true}}
  - {name: b, format: openai, credentials: {passthrough: true}}
  - {name: b, cluster: c, format: grpc, credentials: {}}
`
	_, err := Parse([]byte(doc))
	if err == nil {
		t.Fatal("Parse succeeded, want an error")
	}
	for _, want := range []string{
		`providers[0] (Bad_Name): invalid name "Bad_Name"`,
		"providers[1] (b): missing cluster",
		"providers[2] (b): duplicate name",
		`providers[2] (b): invalid format "grpc"`,
		"providers[2] (b): credentials must set exactly one",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Parse error does not contain %q; full error:\n%s", want, err)
		}
	}
}

func TestLookupAndDefault(t *testing.T) {
	reg, err := Load(filepath.Join("testdata", "registry.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	lookups := []struct {
		name    string
		lookup  string
		found   bool
		cluster string
	}{
		{name: "first", lookup: "openai", found: true, cluster: "openai"},
		{name: "with dash", lookup: "openai-baa", found: true, cluster: "openai_baa"},
		{name: "with dot", lookup: "local.llm_1", found: true, cluster: "local"},
		{name: "case differs", lookup: "OpenAI", found: false},
		{name: "empty", lookup: "", found: false},
		{name: "unknown", lookup: "gemini", found: false},
	}
	for _, tt := range lookups {
		t.Run("lookup "+tt.name, func(t *testing.T) {
			p, ok := reg.Lookup(tt.lookup)
			if ok != tt.found {
				t.Fatalf("Lookup(%q) found = %v, want %v", tt.lookup, ok, tt.found)
			}
			if p.Cluster != tt.cluster {
				t.Errorf("Lookup(%q).Cluster = %q, want %q", tt.lookup, p.Cluster, tt.cluster)
			}
		})
	}

	defaults := []struct {
		name   string
		format Format
		want   string
		found  bool
	}{
		{name: "openai", format: FormatOpenAI, want: "openai", found: true},
		{name: "anthropic", format: FormatAnthropic, want: "anthropic", found: true},
		{name: "unknown format", format: "gemini", found: false},
	}
	for _, tt := range defaults {
		t.Run("default "+tt.name, func(t *testing.T) {
			p, ok := reg.Default(tt.format)
			if ok != tt.found {
				t.Fatalf("Default(%q) found = %v, want %v", tt.format, ok, tt.found)
			}
			if p.Name != tt.want {
				t.Errorf("Default(%q) = %q, want %q", tt.format, p.Name, tt.want)
			}
		})
	}

	noDefault := &Registry{Providers: []Provider{{Name: "x", Format: FormatOpenAI}}}
	if p, ok := noDefault.Default(FormatOpenAI); ok {
		t.Errorf("Default on a registry without defaults = %q, want none", p.Name)
	}
}

func TestAPIKey(t *testing.T) {
	dir := t.TempDir()
	writeFile := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	keyFile := writeFile("key", "\n  "+testKey+"\n")
	emptyFile := writeFile("empty", " \n\t\n")
	t.Setenv("PHIGATE_TEST_KEY", testKey)
	t.Setenv("PHIGATE_TEST_EMPTY", "")

	tests := []struct {
		name    string
		creds   Credentials
		want    string
		wantErr string
	}{
		{name: "env", creds: Credentials{Env: "PHIGATE_TEST_KEY"}, want: testKey},
		{name: "env empty", creds: Credentials{Env: "PHIGATE_TEST_EMPTY"}, wantErr: "environment variable PHIGATE_TEST_EMPTY is empty or unset"},
		{name: "env unset", creds: Credentials{Env: "PHIGATE_TEST_UNSET_VARIABLE"}, wantErr: "environment variable PHIGATE_TEST_UNSET_VARIABLE is empty or unset"},
		{name: "file trimmed", creds: Credentials{File: keyFile}, want: testKey},
		{name: "file empty", creds: Credentials{File: emptyFile}, wantErr: "key file " + emptyFile + " is empty"},
		{name: "file missing", creds: Credentials{File: filepath.Join(dir, "missing")}, wantErr: "reading key file"},
		{name: "file is directory", creds: Credentials{File: dir}, wantErr: "reading key file"},
		{name: "passthrough", creds: Credentials{Passthrough: true}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Provider{Name: "test-provider", Credentials: tt.creds}
			got, err := p.APIKey()

			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("APIKey: %v", err)
				}
				if got != tt.want {
					t.Errorf("APIKey = %q, want %q", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("APIKey succeeded, want an error containing %q", tt.wantErr)
			}
			if got != "" {
				t.Errorf("APIKey returned key %q with its error, want empty", got)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("APIKey error = %q, want it to contain %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), "test-provider") {
				t.Errorf("APIKey error = %q, want it to name the provider", err)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("APIKey error contains the API key: %q", err)
			}
		})
	}
}

func TestAPIKeyFileMissingWrapsNotExist(t *testing.T) {
	p := Provider{Name: "x", Credentials: Credentials{File: filepath.Join(t.TempDir(), "missing")}}
	if _, err := p.APIKey(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("APIKey with a missing file = %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestParseHidesPastedKey(t *testing.T) {
	yaml := "providers:" + strings.Replace(validEntry, "{ env: OPENAI_API_KEY }", "{ env: sk-proj-abc123 }", 1)

	_, err := Parse([]byte(yaml))

	if err == nil {
		t.Fatal("Parse accepted a key as an environment variable name")
	}
	if strings.Contains(err.Error(), "sk-proj-abc123") {
		t.Errorf("error echoes the pasted key: %v", err)
	}
}

func TestServedAPIs(t *testing.T) {
	tests := []struct {
		name  string
		entry Provider
		api   string
		want  bool
	}{
		{"openai chat", Provider{Format: FormatOpenAI}, APIOpenAIChat, true},
		{"openai embeddings", Provider{Format: FormatOpenAI}, APIOpenAIEmbeddings, true},
		{"openai translated messages", Provider{Format: FormatOpenAI}, APIAnthropicMessages, true},
		{"openai count tokens", Provider{Format: FormatOpenAI}, APIAnthropicCountTokens, false},
		{"anthropic messages", Provider{Format: FormatAnthropic}, APIAnthropicMessages, true},
		{"anthropic translated chat", Provider{Format: FormatAnthropic}, APIOpenAIChat, true},
		{"anthropic responses", Provider{Format: FormatAnthropic}, APIOpenAIResponses, false},
		{"anthropic embeddings", Provider{Format: FormatAnthropic}, APIOpenAIEmbeddings, false},
		{"azure chat", Provider{Format: FormatOpenAI, Azure: &Azure{Deployment: "d", APIVersion: "v"}}, APIOpenAIChat, true},
		{"azure responses", Provider{Format: FormatOpenAI, Azure: &Azure{Deployment: "d", APIVersion: "v"}}, APIOpenAIResponses, false},
		{"listed apis only", Provider{Format: FormatOpenAI, APIs: []string{APIOpenAIEmbeddings}}, APIOpenAIChat, false},
		{"listed api", Provider{Format: FormatOpenAI, APIs: []string{APIOpenAIEmbeddings}}, APIOpenAIEmbeddings, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.entry.Serves(tt.api); got != tt.want {
				t.Errorf("Serves(%q) = %v, want %v", tt.api, got, tt.want)
			}
		})
	}
}

func TestUpstreamPath(t *testing.T) {
	azure := Provider{Format: FormatOpenAI, Azure: &Azure{Deployment: "gpt4o-prod", APIVersion: "2024-10-21"}}
	tests := []struct {
		name       string
		entry      Provider
		apiPath    string
		query      string
		translated bool
		want       string
	}{
		{"plain", Provider{Format: FormatOpenAI}, "/v1/chat/completions", "", false, "/v1/chat/completions"},
		{"query kept", Provider{Format: FormatAnthropic}, "/v1/messages", "beta=true", false, "/v1/messages?beta=true"},
		{"query dropped when translated", Provider{Format: FormatAnthropic}, "/v1/messages", "api-version=1", true, "/v1/messages"},
		{"prefix", Provider{Format: FormatOpenAI, PathPrefix: "/llm"}, "/v1/chat/completions", "", false, "/llm/v1/chat/completions"},
		{"azure chat", azure, "/v1/chat/completions", "api-version=2023-01-01", false, "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21"},
		{"azure embeddings", azure, "/v1/embeddings", "", false, "/openai/deployments/gpt4o-prod/embeddings?api-version=2024-10-21"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.entry.UpstreamPath(tt.apiPath, tt.query, tt.translated); got != tt.want {
				t.Errorf("UpstreamPath = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCredentialHeader(t *testing.T) {
	tests := []struct {
		name       string
		entry      Provider
		wantName   string
		wantPrefix string
	}{
		{"openai", Provider{Format: FormatOpenAI}, "authorization", "Bearer "},
		{"anthropic", Provider{Format: FormatAnthropic}, "x-api-key", ""},
		{"azure", Provider{Format: FormatOpenAI, Azure: &Azure{Deployment: "d", APIVersion: "v"}}, "api-key", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, prefix := tt.entry.CredentialHeader()
			if name != tt.wantName || prefix != tt.wantPrefix {
				t.Errorf("CredentialHeader() = %q, %q, want %q, %q", name, prefix, tt.wantName, tt.wantPrefix)
			}
		})
	}
}
