// Package provider holds the provider registry: the LLM vendors phigate may
// route to, with the facts policy needs to choose between them (wire format,
// BAA status, data retention, regions) and the facts routing needs to reach
// them (Envoy cluster, credentials).
package provider

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Format is the wire format a provider speaks.
type Format string

// Wire formats.
const (
	FormatOpenAI    Format = "openai"
	FormatAnthropic Format = "anthropic"
)

// Provider is one registry entry.
type Provider struct {
	// Name identifies the provider in policy, audit records and headers.
	Name string `yaml:"name" json:"name"`
	// Cluster is the Envoy cluster that reaches the provider; phigate writes
	// it into the upstream header that Envoy's cluster_header route reads.
	Cluster string `yaml:"cluster" json:"cluster"`
	Format  Format `yaml:"format" json:"format"`
	// BAA is true when a business associate agreement with the vendor covers
	// this account, so it may receive PHI.
	BAA               bool `yaml:"baa" json:"baa"`
	ZeroDataRetention bool `yaml:"zero_data_retention" json:"zero_data_retention"`
	// Default marks the provider that receives requests of its format when
	// the client names none. At most one provider per format may set it.
	Default bool     `yaml:"default" json:"default"`
	Regions []string `yaml:"regions,omitempty" json:"regions"`
	// Models lists the models the provider offers. The first one replaces
	// the client's model when a request is translated to this provider's
	// format and the policy names no model, because a model name of one
	// vendor means nothing to the other.
	Models []string `yaml:"models,omitempty" json:"models"`
	// APIs lists the client APIs the provider may serve, such as
	// "openai.chat_completions". Empty means every API its format can
	// serve (see ServedAPIs).
	APIs []string `yaml:"apis,omitempty" json:"apis"`
	// PathPrefix goes before the API path, for servers mounted below the
	// root of their host, such as an OpenAI-compatible server behind a
	// path-based proxy ("/llm" gives "/llm/v1/chat/completions").
	PathPrefix string `yaml:"path_prefix,omitempty" json:"-"`
	// Azure makes the provider an Azure OpenAI deployment, which speaks
	// the OpenAI format on its own paths and takes its key in "api-key".
	Azure *Azure `yaml:"azure,omitempty" json:"-"`
	// AnthropicVersion is the anthropic-version header sent with requests
	// that phigate translated to the Anthropic format, whose clients sent
	// none. Empty means DefaultAnthropicVersion.
	AnthropicVersion string `yaml:"anthropic_version,omitempty" json:"-"`
	// Credentials is the source of the provider's API key.
	Credentials Credentials `yaml:"credentials" json:"-"`
}

// Azure names an Azure OpenAI deployment.
type Azure struct {
	// Deployment is the deployment name in the request path; Azure picks
	// the model from it, not from the body.
	Deployment string `yaml:"deployment"`
	// APIVersion is the api-version query parameter, such as "2024-10-21".
	APIVersion string `yaml:"api_version"`
}

// DefaultAnthropicVersion is the anthropic-version header value for
// translated requests: the version of the Messages API that phigate's
// translation follows.
const DefaultAnthropicVersion = "2023-06-01"

// The client APIs that a registry entry can list, as llmapi names them.
const (
	APIOpenAIChat           = "openai.chat_completions"
	APIOpenAIResponses      = "openai.responses"
	APIOpenAIEmbeddings     = "openai.embeddings"
	APIAnthropicMessages    = "anthropic.messages"
	APIAnthropicCountTokens = "anthropic.count_tokens"
)

// servable lists, per kind of provider, the client APIs it can serve.
// Chat requests cross formats through translation; the other endpoints have
// no counterpart at the other vendor. Azure OpenAI's v1 responses API has
// paths of its own that phigate does not build, so Azure entries serve chat
// and embeddings only.
var servable = map[string][]string{
	"openai":    {APIOpenAIChat, APIOpenAIResponses, APIOpenAIEmbeddings, APIAnthropicMessages},
	"azure":     {APIOpenAIChat, APIOpenAIEmbeddings, APIAnthropicMessages},
	"anthropic": {APIAnthropicMessages, APIAnthropicCountTokens, APIOpenAIChat},
}

func (p Provider) kind() string {
	if p.Azure != nil {
		return "azure"
	}
	return string(p.Format)
}

// ServedAPIs returns the client APIs the provider serves: APIs when set,
// otherwise every API its kind can serve.
func (p Provider) ServedAPIs() []string {
	if len(p.APIs) > 0 {
		return p.APIs
	}
	return servable[p.kind()]
}

// Serves reports whether the provider serves a client API.
func (p Provider) Serves(api string) bool {
	return slices.Contains(p.ServedAPIs(), api)
}

// Credentials names the source of a provider's API key. Exactly one of Env,
// File or Passthrough is set. The key itself is never stored in the registry.
type Credentials struct {
	// Env is the environment variable holding the key.
	Env string `yaml:"env,omitempty"`
	// File is a path to a file holding the key, such as a mounted secret.
	File string `yaml:"file,omitempty"`
	// Passthrough forwards the client's own credentials unchanged.
	Passthrough bool `yaml:"passthrough,omitempty"`
}

// Registry is the set of providers, in configuration order.
type Registry struct {
	Providers []Provider `yaml:"providers"`
}

var (
	namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	// envPattern accepts C identifiers, which every shell and container
	// runtime passes through. It also keeps a key pasted by mistake into
	// credentials.env (keys contain '-') from being echoed in errors.
	envPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
)

// Load reads and validates a registry file.
func Load(path string) (*Registry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading provider registry: %w", err)
	}
	reg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("provider registry %s: %w", path, err)
	}
	return reg, nil
}

// Parse decodes and validates a registry document. Unknown fields are
// errors, so a misspelled "baa" cannot silently default to false.
func Parse(data []byte) (*Registry, error) {
	var reg Registry
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&reg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decoding YAML: %w", err)
	}
	if err := reg.Validate(); err != nil {
		return nil, err
	}
	return &reg, nil
}

// Validate returns every problem in the registry, joined.
func (r *Registry) Validate() error {
	var errs []error
	if len(r.Providers) == 0 {
		errs = append(errs, errors.New("no providers: the registry needs at least one"))
	}
	names := map[string]bool{}
	defaults := map[Format]string{}
	for i, p := range r.Providers {
		where := fmt.Sprintf("providers[%d] (%s)", i, p.Name)
		if !namePattern.MatchString(p.Name) {
			errs = append(errs, fmt.Errorf("%s: invalid name %q: use lowercase letters, digits, '.', '_' or '-'", where, p.Name))
		}
		if names[p.Name] {
			errs = append(errs, fmt.Errorf("%s: duplicate name", where))
		}
		names[p.Name] = true
		if p.Cluster == "" {
			errs = append(errs, fmt.Errorf("%s: missing cluster", where))
		}
		if p.Format != FormatOpenAI && p.Format != FormatAnthropic {
			errs = append(errs, fmt.Errorf("%s: invalid format %q: want %q or %q", where, p.Format, FormatOpenAI, FormatAnthropic))
		}
		for _, api := range p.APIs {
			if !slices.Contains(servable[p.kind()], api) {
				errs = append(errs, fmt.Errorf("%s: a provider of kind %s cannot serve API %q: it serves %s", where, p.kind(), api, strings.Join(servable[p.kind()], ", ")))
			}
		}
		if p.PathPrefix != "" && (!strings.HasPrefix(p.PathPrefix, "/") || strings.HasSuffix(p.PathPrefix, "/") || strings.ContainsAny(p.PathPrefix, "?#")) {
			errs = append(errs, fmt.Errorf("%s: invalid path_prefix %q: want a path such as /llm, without a trailing slash or query", where, p.PathPrefix))
		}
		if a := p.Azure; a != nil {
			if p.Format != FormatOpenAI {
				errs = append(errs, fmt.Errorf("%s: azure needs format %q", where, FormatOpenAI))
			}
			if a.Deployment == "" || strings.ContainsAny(a.Deployment, "/?#%") {
				errs = append(errs, fmt.Errorf("%s: azure.deployment must be a deployment name without '/', '?', '#' or '%%'", where))
			}
			if a.APIVersion == "" || strings.ContainsAny(a.APIVersion, "/?#&% ") {
				errs = append(errs, fmt.Errorf("%s: azure.api_version must be set to a version such as 2024-10-21", where))
			}
		}
		if p.Default {
			if other, ok := defaults[p.Format]; ok {
				errs = append(errs, fmt.Errorf("%s: format %s already has default provider %s", where, p.Format, other))
			}
			defaults[p.Format] = p.Name
		}
		set := 0
		for _, ok := range []bool{p.Credentials.Env != "", p.Credentials.File != "", p.Credentials.Passthrough} {
			if ok {
				set++
			}
		}
		if set != 1 {
			errs = append(errs, fmt.Errorf("%s: credentials must set exactly one of env, file or passthrough", where))
		}
		if p.Credentials.Env != "" && !envPattern.MatchString(p.Credentials.Env) {
			// The value is not shown: it may be a key pasted in by mistake.
			errs = append(errs, fmt.Errorf("%s: credentials.env is not a valid environment variable name: use letters, digits and '_'", where))
		}
	}
	return errors.Join(errs...)
}

// UpstreamPath returns the path, with query, that a request to a client
// API takes at the provider. apiPath is the API's own path below the
// root, such as "/v1/chat/completions"; query is the client's query
// string without '?', kept for the provider's own APIs and dropped when
// the request was translated or goes to Azure, whose query phigate builds.
func (p Provider) UpstreamPath(apiPath, query string, translated bool) string {
	if a := p.Azure; a != nil {
		op := strings.TrimPrefix(apiPath, "/v1")
		return "/openai/deployments/" + a.Deployment + op + "?api-version=" + a.APIVersion
	}
	path := p.PathPrefix + apiPath
	if query != "" && !translated {
		path += "?" + query
	}
	return path
}

// CredentialHeader returns the request header that carries the
// provider's key and the value prefix before the key.
func (p Provider) CredentialHeader() (name, prefix string) {
	switch {
	case p.Azure != nil:
		return "api-key", ""
	case p.Format == FormatAnthropic:
		return "x-api-key", ""
	default:
		return "authorization", "Bearer "
	}
}

// Lookup returns the provider with the given name.
func (r *Registry) Lookup(name string) (Provider, bool) {
	i := slices.IndexFunc(r.Providers, func(p Provider) bool { return p.Name == name })
	if i < 0 {
		return Provider{}, false
	}
	return r.Providers[i], true
}

// Default returns the default provider for a wire format.
func (r *Registry) Default(f Format) (Provider, bool) {
	i := slices.IndexFunc(r.Providers, func(p Provider) bool { return p.Default && p.Format == f })
	if i < 0 {
		return Provider{}, false
	}
	return r.Providers[i], true
}

// APIKey returns the provider's key from its configured source. It returns
// an empty key and no error for passthrough providers. Errors name the
// source, never the key.
func (p Provider) APIKey() (string, error) {
	switch {
	case p.Credentials.Passthrough:
		return "", nil
	case p.Credentials.Env != "":
		key := os.Getenv(p.Credentials.Env)
		if key == "" {
			return "", fmt.Errorf("provider %s: environment variable %s is empty or unset", p.Name, p.Credentials.Env)
		}
		return key, nil
	default:
		data, err := os.ReadFile(p.Credentials.File)
		if err != nil {
			return "", fmt.Errorf("provider %s: reading key file: %w", p.Name, err)
		}
		key := strings.TrimSpace(string(data))
		if key == "" {
			return "", fmt.Errorf("provider %s: key file %s is empty", p.Name, p.Credentials.File)
		}
		return key, nil
	}
}
