// Package envoy renders the Envoy bootstrap that puts phigate in front of
// the LLM providers.
package envoy

import (
	"bytes"
	_ "embed"
	"fmt"
	"text/template"
)

//go:embed bootstrap.yaml.tmpl
var bootstrapTemplate string

var bootstrap = template.Must(template.New("bootstrap").Option("missingkey=error").Parse(bootstrapTemplate))

// Bootstrap holds the values of the bootstrap template.
type Bootstrap struct {
	AdminPort        int
	ListenAddress    string
	ListenPort       int
	BufferLimitBytes int
	UpstreamHeader   string
	PhigateHost      string
	PhigatePort      int
	Providers        []Cluster
	// JWT, when set, adds Envoy's jwt_authn filter in front of ext_proc.
	JWT *JWT
}

// JWT configures verification of callers' tokens. Requests without a token
// pass; requests with an invalid one get 401 from Envoy.
type JWT struct {
	Issuer string
	// JWKS is the JSON Web Key Set that signatures must verify against.
	// It must not contain single quotes.
	JWKS string
	// Header carries the token, so that it does not collide with the
	// vendor API key in Authorization; Envoy removes it after checking.
	Header string
}

// Cluster is one provider's upstream.
type Cluster struct {
	Name    string
	Cluster string
	Host    string
	Port    int
	// TLS connects with TLS and SNI Host, resolving Host by DNS; without it
	// Host must be an IP address.
	TLS bool
}

// Render returns the bootstrap YAML.
func (b Bootstrap) Render() ([]byte, error) {
	var buf bytes.Buffer
	if err := bootstrap.Execute(&buf, b); err != nil {
		return nil, fmt.Errorf("rendering Envoy bootstrap: %w", err)
	}
	return buf.Bytes(), nil
}

// Local returns the bootstrap of envoy/envoy.yaml: Envoy on
// 127.0.0.1:10000, phigate on 127.0.0.1:9002 and the three local provider
// stand-ins of etc/providers.yaml on ports 18081 to 18083.
func Local() Bootstrap {
	return Bootstrap{
		AdminPort:        9901,
		ListenAddress:    "127.0.0.1",
		ListenPort:       10000,
		BufferLimitBytes: 4 << 20,
		UpstreamHeader:   "x-phigate-upstream",
		PhigateHost:      "127.0.0.1",
		PhigatePort:      9002,
		Providers: []Cluster{
			{Name: "openai", Cluster: "openai", Host: "127.0.0.1", Port: 18081},
			{Name: "openai-baa", Cluster: "openai_baa", Host: "127.0.0.1", Port: 18082},
			{Name: "anthropic", Cluster: "anthropic", Host: "127.0.0.1", Port: 18083},
		},
	}
}
