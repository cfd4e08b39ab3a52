package processor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/internal/bundletest"
	"github.com/phigate/phigate/phi"
	"github.com/phigate/phigate/policy"
	"github.com/phigate/phigate/provider"
)

// memoryLog keeps records in memory, or fails every append when err is set.
type memoryLog struct {
	mu      sync.Mutex
	records []audit.Record
	err     error
}

func (m *memoryLog) Append(_ context.Context, rec *audit.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.records = append(m.records, *rec)
	return nil
}

func (m *memoryLog) all() []audit.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Record(nil), m.records...)
}

const registryYAML = `providers:
  - {name: openai, cluster: openai, format: openai, baa: false, default: true, credentials: {env: TEST_OPENAI_KEY}}
  - {name: openai-baa, cluster: openai_baa, format: openai, baa: true, zero_data_retention: true, credentials: {env: TEST_OPENAI_BAA_KEY}}
  - {name: anthropic, cluster: anthropic, format: anthropic, baa: true, default: true, credentials: {env: TEST_ANTHROPIC_KEY}}
`

// startProcessor serves a processor on 127.0.0.1 and returns a client.
func startProcessor(t *testing.T, log *memoryLog, maxBody int) extprocv3.ExternalProcessorClient {
	t.Helper()
	return startProcessorWith(t, log, maxBody, registryYAML)
}

func startProcessorWith(t testing.TB, log *memoryLog, maxBody int, registry string) extprocv3.ExternalProcessorClient {
	t.Helper()
	engine, err := policy.Load(context.Background(), "../rego")
	if err != nil {
		t.Fatal(err)
	}
	return startProcessorPolicies(t, log, maxBody, registry, StaticPolicy{Engine: engine})
}

// shadowPolicies serves an active and a shadow engine.
type shadowPolicies struct{ active, shadow *policy.Engine }

func (p shadowPolicies) Current() *policy.Engine { return p.active }
func (p shadowPolicies) Shadow() *policy.Engine  { return p.shadow }

func startProcessorPolicies(t testing.TB, log Appender, maxBody int, registry string, policies Policies) extprocv3.ExternalProcessorClient {
	t.Helper()
	reg, err := provider.Parse([]byte(registry))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(Options{
		Scanner:        phi.DefaultScanner(),
		Policy:         policies,
		Registry:       reg,
		Keys:           map[string]string{"openai": "key-openai", "openai-baa": "key-baa", "anthropic": "key-anthropic"},
		Audit:          log,
		MaxBodyBytes:   maxBody,
		UpstreamHeader: "x-phigate-upstream",
		ProviderHeader: "x-phigate-provider",
		TenantHeader:   "x-phigate-tenant",
		PurposeHeader:  "x-phigate-purpose",
	})
	if err != nil {
		t.Fatal(err)
	}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(gs, srv)
	go gs.Serve(lis)
	t.Cleanup(func() { gs.Stop(); srv.Wait() })

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return extprocv3.NewExternalProcessorClient(conn)
}

func headersMsg(path string, body []byte, extra map[string]string) *extprocv3.ProcessingRequest {
	hs := []*corev3.HeaderValue{
		{Key: ":method", RawValue: []byte("POST")},
		{Key: ":path", RawValue: []byte(path)},
		{Key: "content-type", RawValue: []byte("application/json")},
		{Key: "content-length", RawValue: []byte(strconv.Itoa(len(body)))},
	}
	for k, v := range extra {
		hs = append(hs, &corev3.HeaderValue{Key: k, RawValue: []byte(v)})
	}
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{
		RequestHeaders: &extprocv3.HttpHeaders{Headers: &corev3.HeaderMap{Headers: hs}, EndOfStream: len(body) == 0},
	}}
}

func bodyMsg(body []byte) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{
		RequestBody: &extprocv3.HttpBody{Body: body, EndOfStream: true},
	}}
}

// exchangeRequest sends request headers and, unless the processor replies
// to the headers with an immediate response, the body. It returns both
// replies and the stream for further messages.
func exchangeRequest(t testing.TB, client extprocv3.ExternalProcessorClient, path string, body []byte, extra map[string]string) (*extprocv3.ProcessingResponse, *extprocv3.ProcessingResponse, extprocv3.ExternalProcessor_ProcessClient) {
	t.Helper()
	stream, err := client.Process(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(headersMsg(path, body, extra)); err != nil {
		t.Fatal(err)
	}
	headersResp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if headersResp.GetImmediateResponse() != nil || len(body) == 0 {
		return headersResp, headersResp, stream
	}
	if err := stream.Send(bodyMsg(body)); err != nil {
		t.Fatal(err)
	}
	bodyResp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	return headersResp, bodyResp, stream
}

func setHeaders(m *extprocv3.HeaderMutation) map[string]string {
	out := map[string]string{}
	for _, h := range m.GetSetHeaders() {
		out[h.GetHeader().GetKey()] = string(h.GetHeader().GetRawValue())
	}
	return out
}

func chat(text string) []byte {
	data, _ := json.Marshal(map[string]any{"model": "gpt-4o-mini", "messages": []any{map[string]any{"role": "user", "content": text}}})
	return data
}

func TestRequestHeadersRemoveClientRouting(t *testing.T) {
	client := startProcessor(t, &memoryLog{}, 1<<20)
	headersResp, _, _ := exchangeRequest(t, client, "/v1/chat/completions", chat("hello"), map[string]string{"x-phigate-upstream": "openai_baa"})

	removed := headersResp.GetRequestHeaders().GetResponse().GetHeaderMutation().GetRemoveHeaders()
	for _, want := range []string{"x-phigate-upstream", "x-phigate-provider", "x-phigate-tenant", "x-phigate-purpose"} {
		found := false
		for _, h := range removed {
			found = found || h == want
		}
		if !found {
			t.Errorf("request headers response does not remove %s (removes %v)", want, removed)
		}
	}
}

func TestRouteMutation(t *testing.T) {
	tests := []struct {
		name        string
		path        string
		body        []byte
		extra       map[string]string
		wantCluster string
		wantAuth    [2]string // header and value the provider receives
		wantBody    bool      // the body is rewritten
	}{
		{"clean openai", "/v1/chat/completions", chat("What is metformin?"), nil, "openai", [2]string{"authorization", "Bearer key-openai"}, false},
		{"phi rerouted", "/v1/chat/completions", chat("Pt Jane Roe, SSN 999-12-3456"), nil, "openai_baa", [2]string{"authorization", "Bearer key-baa"}, false},
		{"anthropic", "/v1/messages", []byte(`{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"SSN 999-12-3456"}]}`), nil, "anthropic", [2]string{"x-api-key", "key-anthropic"}, false},
		{"provider header", "/v1/chat/completions", chat("hello"), map[string]string{"x-phigate-provider": "openai-baa"}, "openai_baa", [2]string{"authorization", "Bearer key-baa"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := startProcessor(t, &memoryLog{}, 1<<20)
			_, resp, _ := exchangeRequest(t, client, tc.path, tc.body, tc.extra)

			common := resp.GetRequestBody().GetResponse()
			if common == nil {
				t.Fatalf("want a request body response, got %v", resp)
			}
			if !common.ClearRouteCache {
				t.Error("clear_route_cache is not set")
			}
			set := setHeaders(common.HeaderMutation)
			if got := set["x-phigate-upstream"]; got != tc.wantCluster {
				t.Errorf("x-phigate-upstream = %q, want %q", got, tc.wantCluster)
			}
			if got := set[tc.wantAuth[0]]; got != tc.wantAuth[1] {
				t.Errorf("%s = %q, want %q", tc.wantAuth[0], got, tc.wantAuth[1])
			}
			for _, h := range common.HeaderMutation.SetHeaders {
				if h.AppendAction != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD {
					t.Errorf("header %s has append action %v", h.Header.Key, h.AppendAction)
				}
				if h.Header.Value != "" {
					t.Errorf("header %s uses value instead of raw_value", h.Header.Key)
				}
			}
			if got := common.BodyMutation != nil; got != tc.wantBody {
				t.Errorf("body mutated = %v, want %v", got, tc.wantBody)
			}
		})
	}
}

func TestRedactSetsBodyAndContentLength(t *testing.T) {
	noBAA := strings.ReplaceAll(registryYAML, "  - {name: openai-baa, cluster: openai_baa, format: openai, baa: true, zero_data_retention: true, credentials: {env: TEST_OPENAI_BAA_KEY}}\n", "")
	log := &memoryLog{}
	client := startProcessorWith(t, log, 1<<20, noBAA)
	_, resp, _ := exchangeRequest(t, client, "/v1/chat/completions", chat("Pt Jane Roe, SSN 999-12-3456, asks about metformin."), nil)

	common := resp.GetRequestBody().GetResponse()
	if common == nil || common.BodyMutation == nil {
		t.Fatalf("want a body mutation, got %v", resp)
	}
	body := common.BodyMutation.GetBody()
	if !json.Valid(body) {
		t.Fatalf("redacted body is not JSON: %s", body)
	}
	for _, v := range []string{"Jane Roe", "999-12-3456"} {
		if strings.Contains(string(body), v) {
			t.Errorf("redacted body contains %q: %s", v, body)
		}
	}
	if !strings.Contains(string(body), "metformin") {
		t.Errorf("redacted body lost the clinical text: %s", body)
	}
	set := setHeaders(common.HeaderMutation)
	if got, want := set["content-length"], strconv.Itoa(len(body)); got != want {
		t.Errorf("content-length = %q, want %q", got, want)
	}
	if set["x-phigate-upstream"] != "openai" {
		t.Errorf("x-phigate-upstream = %q, want openai", set["x-phigate-upstream"])
	}
	recs := log.all()
	if len(recs) != 1 || recs[0].Action != "redact" || len(recs[0].RedactedTypes) == 0 {
		t.Errorf("audit records = %+v, want one redact record naming the types", recs)
	}
}

func TestDenyImmediateResponse(t *testing.T) {
	log := &memoryLog{}
	client := startProcessor(t, log, 1<<20)
	_, resp, _ := exchangeRequest(t, client, "/v1/messages", []byte(`{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"Pt Jane Roe"}]}`), map[string]string{"x-phigate-purpose": "marketing"})

	ir := resp.GetImmediateResponse()
	if ir == nil {
		t.Fatalf("want an immediate response, got %v", resp)
	}
	if ir.Status.Code != 403 {
		t.Errorf("status = %d, want 403", ir.Status.Code)
	}
	var body struct {
		Type      string `json:"type"`
		RequestID string `json:"request_id"`
		Error     struct {
			Type, Message string
		} `json:"error"`
	}
	if err := json.Unmarshal(ir.Body, &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if body.Type != "error" || body.Error.Type != "permission_error" {
		t.Errorf("body = %s, want an Anthropic permission_error", ir.Body)
	}
	if strings.Contains(string(ir.Body), "Jane") {
		t.Error("deny body contains PHI")
	}
	recs := log.all()
	if len(recs) != 1 || recs[0].Action != "deny" || recs[0].RequestID != body.RequestID {
		t.Errorf("audit records = %+v, want one deny for %s", recs, body.RequestID)
	}
}

func TestOversizedContentLengthDenied(t *testing.T) {
	client := startProcessor(t, &memoryLog{}, 64)
	headersResp, _, _ := exchangeRequest(t, client, "/v1/chat/completions", chat(strings.Repeat("x", 100)), nil)

	ir := headersResp.GetImmediateResponse()
	if ir == nil || ir.Status.Code != 413 {
		t.Fatalf("want an immediate 413, got %v", headersResp)
	}
}

func TestAuditFailureFailsClosed(t *testing.T) {
	client := startProcessor(t, &memoryLog{err: errors.New("disk full")}, 1<<20)
	_, resp, _ := exchangeRequest(t, client, "/v1/chat/completions", chat("hello"), nil)

	ir := resp.GetImmediateResponse()
	if ir == nil || ir.Status.Code != 503 {
		t.Fatalf("want an immediate 503, got %v", resp)
	}
}

func TestStreamedResponseSwitchesMode(t *testing.T) {
	log := &memoryLog{}
	client := startProcessor(t, log, 1<<20)
	_, _, stream := exchangeRequest(t, client, "/v1/chat/completions", chat("hello"), nil)

	err := stream.Send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{
		ResponseHeaders: &extprocv3.HttpHeaders{Headers: &corev3.HeaderMap{Headers: []*corev3.HeaderValue{
			{Key: ":status", RawValue: []byte("200")},
			{Key: "content-type", RawValue: []byte("text/event-stream; charset=utf-8")},
		}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetModeOverride().GetResponseBodyMode(); got != extprocfilterv3.ProcessingMode_STREAMED {
		t.Errorf("response body mode override = %v, want STREAMED", got)
	}
	set := setHeaders(resp.GetResponseHeaders().GetResponse().GetHeaderMutation())
	if set[HeaderDecision] != "allow" || set[HeaderRequestID] == "" {
		t.Errorf("response headers set %v, want decision and request id", set)
	}

	for i, chunk := range []string{"data: {}\n\n", "data: [DONE]\n\n"} {
		err := stream.Send(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{
			ResponseBody: &extprocv3.HttpBody{Body: []byte(chunk), EndOfStream: i == 1},
		}})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetResponseBody() == nil || resp.GetResponseBody().GetResponse().GetBodyMutation() != nil {
			t.Errorf("chunk %d: want an unmutated body response, got %v", i, resp)
		}
	}
	stream.CloseSend()
	_, _ = stream.Recv()
}

func TestShadowDifferenceRecorded(t *testing.T) {
	active, err := policy.Load(context.Background(), "../rego")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	candidate := "package phigate\n\ndecision := {\"action\": \"deny\", \"status\": 403, \"reasons\": [\"candidate denies everything\"]}\n"
	if err := os.WriteFile(filepath.Join(dir, "policy.rego"), []byte(candidate), 0o644); err != nil {
		t.Fatal(err)
	}
	shadow, err := policy.Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	log := &memoryLog{}
	client := startProcessorPolicies(t, log, 1<<20, registryYAML, shadowPolicies{active: active, shadow: shadow})

	_, resp, _ := exchangeRequest(t, client, "/v1/chat/completions", chat("What is metformin?"), nil)

	if resp.GetRequestBody() == nil {
		t.Fatalf("the shadow policy changed the request: got %v", resp)
	}
	var shadowRecords []audit.Record
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		shadowRecords = nil
		for _, r := range log.all() {
			if r.Kind == audit.KindShadow {
				shadowRecords = append(shadowRecords, r)
			}
		}
		if len(shadowRecords) > 0 {
			break
		}
	}
	if len(shadowRecords) != 1 {
		t.Fatalf("got %d shadow records, want 1", len(shadowRecords))
	}
	rec := shadowRecords[0]
	if rec.Action != "deny" || rec.PolicyRevision != shadow.Revision() {
		t.Errorf("shadow record = %+v, want the candidate's deny and revision", rec)
	}
}

func TestShadowAgreementNotRecorded(t *testing.T) {
	active, err := policy.Load(context.Background(), "../rego")
	if err != nil {
		t.Fatal(err)
	}
	log := &memoryLog{}
	client := startProcessorPolicies(t, log, 1<<20, registryYAML, shadowPolicies{active: active, shadow: active})

	_, _, stream := exchangeRequest(t, client, "/v1/chat/completions", chat("What is metformin?"), nil)
	stream.CloseSend()
	time.Sleep(100 * time.Millisecond)

	for _, r := range log.all() {
		if r.Kind == audit.KindShadow {
			t.Errorf("shadow record written for an identical decision: %+v", r)
		}
	}
}

// riskBundle writes a bundle that allows every request, with the SSN
// weights given and a tenant "quiet" whose risk settings zero them.
func riskBundle(t *testing.T, ssnWeight int) *policy.Engine {
	t.Helper()
	dir := bundletest.WriteDir(t, map[string]string{
		"policy.rego": "package phigate\n\ndecision := {\"action\": \"allow\", \"provider\": input.request.requested_provider, \"reasons\": [\"allowed\"]}\n",
		"phigate/settings/data.json": fmt.Sprintf(`{
			"risk": {"weights": {"SSN": %d, "NAME": 0}, "no_baa": 0, "per_extra_value": 0},
			"tenants": {"quiet": {"risk": {"weights": {"SSN": 0}}}}
		}`, ssnWeight),
	})
	engine, err := policy.Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return engine
}

func TestRiskScoreUsesTenantWeights(t *testing.T) {
	engine := riskBundle(t, 40)
	log := &memoryLog{}
	client := startProcessorPolicies(t, log, 1<<20, registryYAML, shadowPolicies{active: engine})

	prompt := chat("Patient SSN 999-12-3456, please summarise.")
	for _, tenant := range []string{"clinic-a", "quiet"} {
		_, _, stream := exchangeRequest(t, client, "/v1/chat/completions", prompt, map[string]string{"x-phigate-tenant": tenant})
		stream.CloseSend()
	}

	scores := map[string]int{}
	for _, r := range log.all() {
		if r.Kind == audit.KindDecision {
			scores[r.Tenant] = r.RiskScore
		}
	}
	if scores["clinic-a"] < 30 {
		t.Errorf("clinic-a risk score = %d, want about 40 from the bundle's SSN weight (scores %v)", scores["clinic-a"], scores)
	}
	if scores["quiet"] != 0 {
		t.Errorf("quiet risk score = %d, want 0 from the tenant's SSN weight (scores %v)", scores["quiet"], scores)
	}
}

func TestShadowScoresWithItsOwnWeights(t *testing.T) {
	active := riskBundle(t, 0)
	dir := bundletest.WriteDir(t, map[string]string{
		"policy.rego":                "package phigate\n\ndecision := {\"action\": \"deny\", \"status\": 403, \"reasons\": [sprintf(\"risk %d\", [input.risk.score])]}\n",
		"phigate/settings/data.json": `{"risk": {"weights": {"SSN": 50, "NAME": 0}, "no_baa": 0, "per_extra_value": 0}}`,
	})
	shadow, err := policy.Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	log := &memoryLog{}
	client := startProcessorPolicies(t, log, 1<<20, registryYAML, shadowPolicies{active: active, shadow: shadow})

	_, _, stream := exchangeRequest(t, client, "/v1/chat/completions", chat("Patient SSN 999-12-3456, please summarise."), nil)
	stream.CloseSend()

	var reasons []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && reasons == nil; time.Sleep(10 * time.Millisecond) {
		for _, r := range log.all() {
			if r.Kind == audit.KindShadow {
				reasons = r.Reasons
			}
		}
	}
	if len(reasons) != 1 || reasons[0] == "risk 0" {
		t.Errorf("shadow reasons = %q, want a risk score from the candidate's SSN weight 50", reasons)
	}
}
