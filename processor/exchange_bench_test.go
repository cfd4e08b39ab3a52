package processor

import (
	"context"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/policy"
)

// discardLog accepts every record and keeps none, so a benchmark measures
// the exchange and not a growing slice.
type discardLog struct{}

func (discardLog) Append(context.Context, *audit.Record) error { return nil }

// BenchmarkExchange measures one whole ext_proc exchange of a 4 KB chat
// request without PHI over gRPC on 127.0.0.1, as Envoy drives it: request
// headers, request body, response headers and a buffered JSON response
// body. The audit log discards records, so the figure leaves out the
// audit write and its fsync.
func BenchmarkExchange(b *testing.B) {
	engine, err := policy.Load(context.Background(), "../rego")
	if err != nil {
		b.Fatal(err)
	}
	client := startProcessorPolicies(b, discardLog{}, 1<<20, registryYAML, shadowPolicies{active: engine})
	prompt := strings.Repeat("Summarise the current guidance on metformin dosing in renal impairment. ", 56)
	body := chat(prompt[:4000])
	response := []byte(`{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Reduce the dose when eGFR falls below 45."},"finish_reason":"stop"}],"usage":{"prompt_tokens":900,"completion_tokens":12,"total_tokens":912}}`)
	responseHeaders := &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{
		ResponseHeaders: &extprocv3.HttpHeaders{Headers: &corev3.HeaderMap{Headers: []*corev3.HeaderValue{
			{Key: ":status", RawValue: []byte("200")},
			{Key: "content-type", RawValue: []byte("application/json")},
		}}},
	}}
	responseBody := &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{
		ResponseBody: &extprocv3.HttpBody{Body: response, EndOfStream: true},
	}}

	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		_, resp, stream := exchangeRequest(b, client, "/v1/chat/completions", body, nil)
		if resp.GetRequestBody() == nil {
			b.Fatalf("request body response = %v, want the request forwarded", resp)
		}
		for _, msg := range []*extprocv3.ProcessingRequest{responseHeaders, responseBody} {
			if err := stream.Send(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := stream.Recv(); err != nil {
				b.Fatal(err)
			}
		}
		if err := stream.CloseSend(); err != nil {
			b.Fatal(err)
		}
	}
}
