package processor

import (
	"context"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/phigate/phigate/phi"
	"github.com/phigate/phigate/policy"
	"github.com/phigate/phigate/provider"
)

// newFuzzServer returns a Server with the default bundle and an in-memory
// audit log; building it once keeps each fuzz run cheap.
func newFuzzServer(f *testing.F) *Server {
	f.Helper()
	reg, err := provider.Parse([]byte(registryYAML))
	if err != nil {
		f.Fatal(err)
	}
	engine, err := policy.Load(context.Background(), "../rego")
	if err != nil {
		f.Fatal(err)
	}
	srv, err := NewServer(Options{
		Scanner:        phi.DefaultScanner(),
		Policy:         StaticPolicy{Engine: engine},
		Registry:       reg,
		Keys:           map[string]string{"openai": "k1", "openai-baa": "k2", "anthropic": "k3"},
		Audit:          &memoryLog{},
		MaxBodyBytes:   1 << 16,
		UpstreamHeader: "x-phigate-upstream",
		ProviderHeader: "x-phigate-provider",
		TenantHeader:   "x-phigate-tenant",
		PurposeHeader:  "x-phigate-purpose",
	})
	if err != nil {
		f.Fatal(err)
	}
	return srv
}

// FuzzExchange feeds an exchange a message sequence in any order, with any
// headers and bodies, as a misbehaving or misconfigured Envoy could. It
// must never panic (a panic in a gRPC handler ends the whole process), and
// every message gets either a response or an error, never both or neither.
func FuzzExchange(f *testing.F) {
	srv := newFuzzServer(f)
	f.Add([]byte{0, 1, 2, 3}, "/v1/chat/completions", []byte(`{"model":"m","messages":[{"role":"user","content":"Pt Jane Roe SSN 999-12-3456"}]}`), "text/event-stream")
	f.Add([]byte{0, 1, 2, 3, 3}, "/v1/messages", []byte(`{"model":"m","max_tokens":5,"messages":[]}`), "application/json")
	f.Add([]byte{1, 0, 4, 5}, "/v1/x?y", []byte("not json [PHI"), "")
	f.Add([]byte{0, 0, 1, 1}, "", []byte{}, "text/event-stream")

	f.Fuzz(func(t *testing.T, order []byte, path string, body []byte, contentType string) {
		if len(order) > 12 {
			order = order[:12]
		}
		ex := srv.newExchange()
		for _, kind := range order {
			var msg *extprocv3.ProcessingRequest
			switch kind % 6 {
			case 0:
				msg = &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{
					Headers: &corev3.HeaderMap{Headers: []*corev3.HeaderValue{
						{Key: ":path", RawValue: []byte(path)},
						{Key: ":method", RawValue: []byte("POST")},
						{Key: "x-phigate-purpose", RawValue: []byte(contentType)},
					}},
					EndOfStream: len(body) == 0,
				}}}
			case 1:
				msg = &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{Body: body, EndOfStream: kind%2 == 1}}}
			case 2:
				msg = &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{
					Headers: &corev3.HeaderMap{Headers: []*corev3.HeaderValue{
						{Key: ":status", RawValue: []byte(path)},
						{Key: "content-type", RawValue: []byte(contentType)},
					}},
				}}}
			case 3:
				msg = &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: body, EndOfStream: kind > 128}}}
			case 4:
				msg = &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestTrailers{RequestTrailers: &extprocv3.HttpTrailers{}}}
			default:
				msg = &extprocv3.ProcessingRequest{}
			}
			resp, err := ex.handle(context.Background(), msg)
			if (resp == nil) == (err == nil) {
				t.Fatalf("message kind %d: response %v and error %v; want exactly one", kind%6, resp, err)
			}
		}
		ex.finish()
		srv.Wait()
	})
}
