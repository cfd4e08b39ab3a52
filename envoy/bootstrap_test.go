package envoy

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite envoy.yaml from the template")

// envoy.yaml is committed so that users can run Envoy without Go; it must
// stay what the template renders for Local.
func TestLocalBootstrapUpToDate(t *testing.T) {
	got, err := Local().Render()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("envoy.yaml", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("envoy.yaml differs from the rendered template: run go test ./envoy -update")
	}
}

func TestRenderTLSProvider(t *testing.T) {
	b := Local()
	b.Providers = []Cluster{{Name: "openai", Cluster: "openai", Host: "api.openai.com", Port: 443, TLS: true}}
	out, err := b.Render()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"type: LOGICAL_DNS", "sni: api.openai.com", "UpstreamTlsContext", "cluster_header: x-phigate-upstream"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rendered bootstrap lacks %q", want)
		}
	}
}
