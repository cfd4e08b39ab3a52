package standin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/phigate/phigate/test/standin"
)

const anthropicKey = "sk-ant-test-synthetic-key"

func anthropicHeaders() map[string]string {
	return map[string]string{
		"X-Api-Key":         anthropicKey,
		"Anthropic-Version": "2023-06-01",
		"Content-Type":      "application/json",
	}
}

func TestAnthropicMessage(t *testing.T) {
	s := startServer(t, standin.Anthropic, standin.Options{APIKey: anthropicKey, Name: "anthropic-baa"})

	tests := []struct {
		name       string
		body       string
		wantText   string
		promptText string
	}{
		{
			name:       "string content",
			body:       `{"model":"claude-sonnet-4-5","max_tokens":256,"messages":[{"role":"user","content":"Summarize the visit notes"}]}`,
			wantText:   "anthropic-baa stand-in reply: Summarize the visit notes",
			promptText: "Summarize the visit notes",
		},
		{
			name:       "text blocks",
			body:       `{"model":"claude-sonnet-4-5","max_tokens":256,"messages":[{"role":"user","content":[{"type":"text","text":"block one"},{"type":"text","text":"block two"}]}]}`,
			wantText:   "anthropic-baa stand-in reply: block one\nblock two",
			promptText: "block one\nblock two",
		},
		{
			name: "system prompt and history",
			body: `{"model":"claude-haiku-4-5","max_tokens":64,"system":"be brief","messages":[{"role":"user","content":"first"},` +
				`{"role":"assistant","content":"answer"},{"role":"user","content":"second"}]}`,
			wantText:   "anthropic-baa stand-in reply: second",
			promptText: "first" + "answer" + "second" + "be brief",
		},
		{
			name:       "system as blocks",
			body:       `{"model":"claude-haiku-4-5","max_tokens":64,"system":[{"type":"text","text":"rules"}],"messages":[{"role":"user","content":"q"}]}`,
			wantText:   "anthropic-baa stand-in reply: q",
			promptText: "q" + "rules",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, http.MethodPost, s.URL()+"/v1/messages", anthropicHeaders(), tt.body)

			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if id := r.header.Get("Request-Id"); !strings.HasPrefix(id, "req_") {
				t.Errorf("request-id = %q, want a req_ id", id)
			}
			if name := r.header.Get(standin.NameHeader); name != "anthropic-baa" {
				t.Errorf("%s = %q, want anthropic-baa", standin.NameHeader, name)
			}

			request := decode(t, []byte(tt.body))
			v := decode(t, r.body)
			if id, _ := v["id"].(string); !strings.HasPrefix(id, "msg_") {
				t.Errorf("id = %v, want a msg_ id", v["id"])
			}
			if v["type"] != "message" {
				t.Errorf("type = %v, want message", v["type"])
			}
			if v["role"] != "assistant" {
				t.Errorf("role = %v, want assistant", v["role"])
			}
			if v["model"] != request["model"] {
				t.Errorf("model = %v, want %v", v["model"], request["model"])
			}
			if v["stop_reason"] != "end_turn" {
				t.Errorf("stop_reason = %v, want end_turn", v["stop_reason"])
			}
			checkNull(t, v, "stop_sequence")

			content := array(t, v, "content")
			if len(content) != 1 {
				t.Fatalf("got %d content blocks, want 1", len(content))
			}
			block := content[0].(map[string]any)
			if block["type"] != "text" {
				t.Errorf("content[0].type = %v, want text", block["type"])
			}
			if block["text"] != tt.wantText {
				t.Errorf("content[0].text = %q, want %q", block["text"], tt.wantText)
			}

			usage := object(t, v, "usage")
			checkNumber(t, usage, "input_tokens", tokens(tt.promptText))
			checkNumber(t, usage, "output_tokens", tokens(tt.wantText))
		})
	}
}

func TestAnthropicStream(t *testing.T) {
	s := startServer(t, standin.Anthropic, standin.Options{})
	const userText = "Please summarize the synthetic discharge letter for patient Test Person"
	const wantText = "anthropic stand-in reply: " + userText
	body := `{"model":"claude-sonnet-4-5","max_tokens":1024,"stream":true,"messages":[{"role":"user","content":"` + userText + `"}]}`

	r := send(t, http.MethodPost, s.URL()+"/v1/messages", anthropicHeaders(), body)

	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q, want text/event-stream", ct)
	}

	events := parseEvents(t, r.body)
	var names []string
	data := make([]map[string]any, len(events))
	for i, e := range events {
		names = append(names, e.name)
		data[i] = decode(t, []byte(e.data))
		if data[i]["type"] != e.name {
			t.Errorf("event %d: data type %v differs from event name %q", i, data[i]["type"], e.name)
		}
	}

	deltas := len(events) - 6
	if deltas < 3 {
		t.Fatalf("got %d events %v, want 6 plus several content_block_delta", len(events), names)
	}
	want := []string{"message_start", "content_block_start", "ping"}
	for range deltas {
		want = append(want, "content_block_delta")
	}
	want = append(want, "content_block_stop", "message_delta", "message_stop")
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("event sequence = %v, want %v", names, want)
	}

	start := object(t, data[0], "message")
	if id, _ := start["id"].(string); !strings.HasPrefix(id, "msg_") {
		t.Errorf("message_start id = %v, want a msg_ id", start["id"])
	}
	if start["type"] != "message" {
		t.Errorf("message_start type = %v, want message", start["type"])
	}
	if start["role"] != "assistant" {
		t.Errorf("message_start role = %v, want assistant", start["role"])
	}
	if start["model"] != "claude-sonnet-4-5" {
		t.Errorf("message_start model = %v, want claude-sonnet-4-5", start["model"])
	}
	if content := array(t, start, "content"); len(content) != 0 {
		t.Errorf("message_start content = %v, want []", content)
	}
	checkNull(t, start, "stop_reason")
	checkNull(t, start, "stop_sequence")
	startUsage := object(t, start, "usage")
	checkNumber(t, startUsage, "input_tokens", tokens(userText))
	checkNumber(t, startUsage, "output_tokens", 1)

	checkNumber(t, data[1], "index", 0)
	block := object(t, data[1], "content_block")
	if block["type"] != "text" {
		t.Errorf("content_block_start type = %v, want text", block["type"])
	}
	if text, ok := block["text"].(string); !ok || text != "" {
		t.Errorf("content_block_start text = %v, want an empty string", block["text"])
	}

	var text strings.Builder
	for i := 3; i < 3+deltas; i++ {
		checkNumber(t, data[i], "index", 0)
		delta := object(t, data[i], "delta")
		if delta["type"] != "text_delta" {
			t.Errorf("event %d delta type = %v, want text_delta", i, delta["type"])
		}
		part, _ := delta["text"].(string)
		text.WriteString(part)
	}
	if text.String() != wantText {
		t.Errorf("reassembled text = %q, want %q", text.String(), wantText)
	}

	checkNumber(t, data[3+deltas], "index", 0)

	messageDelta := data[4+deltas]
	delta := object(t, messageDelta, "delta")
	if delta["stop_reason"] != "end_turn" {
		t.Errorf("message_delta stop_reason = %v, want end_turn", delta["stop_reason"])
	}
	checkNull(t, delta, "stop_sequence")
	checkNumber(t, object(t, messageDelta, "usage"), "output_tokens", tokens(wantText))
}

func TestAnthropicErrors(t *testing.T) {
	s := startServer(t, standin.Anthropic, standin.Options{APIKey: anthropicKey})
	const valid = `{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`

	withHeader := func(name, value string) map[string]string {
		h := anthropicHeaders()
		if value == "" {
			delete(h, name)
		} else {
			h[name] = value
		}
		return h
	}

	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		body       string
		wantStatus int
		wantType   string
		wantHeader map[string]string
	}{
		{name: "missing key", header: withHeader("X-Api-Key", ""), body: valid,
			wantStatus: 401, wantType: "authentication_error"},
		{name: "wrong key", header: withHeader("X-Api-Key", "sk-ant-wrong"), body: valid,
			wantStatus: 401, wantType: "authentication_error"},
		{name: "bearer instead of x-api-key", header: map[string]string{"Authorization": "Bearer " + anthropicKey, "Anthropic-Version": "2023-06-01"}, body: valid,
			wantStatus: 401, wantType: "authentication_error"},
		{name: "missing version", header: withHeader("Anthropic-Version", ""), body: valid,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "invalid json", body: `{"model":`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "json string", body: `"hello"`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "empty body", body: ``,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "missing model", body: `{"max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "model not string", body: `{"model":["x"],"max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "missing messages", body: `{"model":"claude-sonnet-4-5","max_tokens":16}`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "empty messages", body: `{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[]}`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "messages not array", body: `{"model":"claude-sonnet-4-5","max_tokens":16,"messages":{}}`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "system role in messages", body: `{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"system","content":"x"}]}`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "missing max_tokens", body: `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "max_tokens not integer", body: `{"model":"claude-sonnet-4-5","max_tokens":1.5,"messages":[{"role":"user","content":"hi"}]}`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "max_tokens zero", body: `{"model":"claude-sonnet-4-5","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "stream not boolean", body: `{"model":"claude-sonnet-4-5","max_tokens":16,"stream":1,"messages":[{"role":"user","content":"hi"}]}`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "unknown path", path: "/v1/complete", body: valid,
			wantStatus: 404, wantType: "not_found_error"},
		{name: "openai path", path: "/v1/chat/completions", body: valid,
			wantStatus: 404, wantType: "not_found_error"},
		{name: "wrong method", method: http.MethodPut, body: valid,
			wantStatus: 405, wantType: "invalid_request_error", wantHeader: map[string]string{"Allow": "POST"}},
		{name: "rate limit", header: withHeader(standin.StatusHeader, "429"), body: valid,
			wantStatus: 429, wantType: "rate_limit_error",
			wantHeader: map[string]string{"Retry-After": "1", "Anthropic-Ratelimit-Requests-Remaining": "0"}},
		{name: "server error", header: withHeader(standin.StatusHeader, "500"), body: valid,
			wantStatus: 500, wantType: "api_error"},
		{name: "service unavailable", header: withHeader(standin.StatusHeader, "503"), body: valid,
			wantStatus: 503, wantType: "api_error"},
		{name: "overloaded", header: withHeader(standin.StatusHeader, "529"), body: valid,
			wantStatus: 529, wantType: "overloaded_error"},
		{name: "unsupported trigger", header: withHeader(standin.StatusHeader, "abc"), body: valid,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "trigger checked after key", header: map[string]string{standin.StatusHeader: "529", "Anthropic-Version": "2023-06-01"}, body: valid,
			wantStatus: 401, wantType: "authentication_error"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, path, header := tt.method, tt.path, tt.header
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/v1/messages"
			}
			if header == nil {
				header = anthropicHeaders()
			}

			r := send(t, method, s.URL()+path, header, tt.body)

			if r.status != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			for name, want := range tt.wantHeader {
				if got := r.header.Get(name); got != want {
					t.Errorf("header %s = %q, want %q", name, got, want)
				}
			}

			v := decode(t, r.body)
			if v["type"] != "error" {
				t.Errorf("type = %v, want error", v["type"])
			}
			detail := object(t, v, "error")
			if detail["type"] != tt.wantType {
				t.Errorf("error.type = %v, want %v", detail["type"], tt.wantType)
			}
			if msg, _ := detail["message"].(string); msg == "" {
				t.Errorf("error.message = %v, want a non-empty string", detail["message"])
			}

			requestID, _ := v["request_id"].(string)
			if !strings.HasPrefix(requestID, "req_") {
				t.Errorf("request_id = %v, want a req_ id", v["request_id"])
			}
			if header := r.header.Get("Request-Id"); header != requestID {
				t.Errorf("request-id header = %q, want %q as in the body", header, requestID)
			}
			if strings.Contains(string(r.body), anthropicKey) {
				t.Errorf("error body echoes the API key: %s", r.body)
			}
		})
	}
}
