package standin_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/phigate/phigate/test/standin"
)

const openAIKey = "sk-test-synthetic-key"

func openAIHeaders() map[string]string {
	return map[string]string{
		"Authorization": "Bearer " + openAIKey,
		"Content-Type":  "application/json",
	}
}

func TestOpenAICompletion(t *testing.T) {
	s := startServer(t, standin.OpenAI, standin.Options{APIKey: openAIKey, Name: "openai-baa"})

	tests := []struct {
		name       string
		body       string
		wantText   string
		promptText string
	}{
		{
			name:       "string content",
			body:       `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Summarize the visit notes"}]}`,
			wantText:   "openai-baa stand-in reply: Summarize the visit notes",
			promptText: "Summarize the visit notes",
		},
		{
			name:       "text parts",
			body:       `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"line one"},{"type":"text","text":"line two"}]}]}`,
			wantText:   "openai-baa stand-in reply: line one\nline two",
			promptText: "line one\nline two",
		},
		{
			name: "last user message wins",
			body: `{"model":"gpt-4o","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"first question"},` +
				`{"role":"assistant","content":"first answer"},{"role":"user","content":"second question"}]}`,
			wantText:   "openai-baa stand-in reply: second question",
			promptText: "be brief" + "first question" + "first answer" + "second question",
		},
		{
			name:       "no user message",
			body:       `{"model":"gpt-4o","messages":[{"role":"system","content":"setup"}]}`,
			wantText:   "openai-baa stand-in reply: ",
			promptText: "setup",
		},
		{
			name:       "stream false",
			body:       `{"model":"gpt-4o","stream":false,"messages":[{"role":"user","content":"hi"}]}`,
			wantText:   "openai-baa stand-in reply: hi",
			promptText: "hi",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, http.MethodPost, s.URL()+"/v1/chat/completions", openAIHeaders(), tt.body)

			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if name := r.header.Get(standin.NameHeader); name != "openai-baa" {
				t.Errorf("%s = %q, want openai-baa", standin.NameHeader, name)
			}
			if id := r.header.Get("X-Request-Id"); !strings.HasPrefix(id, "req_") {
				t.Errorf("X-Request-Id = %q, want a req_ id", id)
			}

			var request struct {
				Model string `json:"model"`
			}
			if err := json.Unmarshal([]byte(tt.body), &request); err != nil {
				t.Fatalf("test body is invalid: %v", err)
			}

			v := decode(t, r.body)
			if id, _ := v["id"].(string); !strings.HasPrefix(id, "chatcmpl-") {
				t.Errorf("id = %v, want a chatcmpl- id", v["id"])
			}
			if v["object"] != "chat.completion" {
				t.Errorf("object = %v, want chat.completion", v["object"])
			}
			if created, _ := v["created"].(float64); created <= 0 {
				t.Errorf("created = %v, want a Unix time", v["created"])
			}
			if v["model"] != request.Model {
				t.Errorf("model = %v, want %q", v["model"], request.Model)
			}

			choices := array(t, v, "choices")
			if len(choices) != 1 {
				t.Fatalf("got %d choices, want 1", len(choices))
			}
			choice := choices[0].(map[string]any)
			checkNumber(t, choice, "index", 0)
			checkNull(t, choice, "logprobs")
			if choice["finish_reason"] != "stop" {
				t.Errorf("finish_reason = %v, want stop", choice["finish_reason"])
			}

			msg := object(t, choice, "message")
			if msg["role"] != "assistant" {
				t.Errorf("message.role = %v, want assistant", msg["role"])
			}
			if msg["content"] != tt.wantText {
				t.Errorf("message.content = %q, want %q", msg["content"], tt.wantText)
			}
			checkNull(t, msg, "refusal")

			usage := object(t, v, "usage")
			checkNumber(t, usage, "prompt_tokens", tokens(tt.promptText))
			checkNumber(t, usage, "completion_tokens", tokens(tt.wantText))
			checkNumber(t, usage, "total_tokens", tokens(tt.promptText)+tokens(tt.wantText))
		})
	}
}

func TestOpenAIStream(t *testing.T) {
	s := startServer(t, standin.OpenAI, standin.Options{Name: "openai"})
	const userText = "Please summarize the synthetic discharge letter for patient Test Person"
	const wantText = "openai stand-in reply: " + userText

	tests := []struct {
		name         string
		body         string
		includeUsage bool
	}{
		{
			name: "without usage",
			body: `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"` + userText + `"}]}`,
		},
		{
			name:         "with usage",
			body:         `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"` + userText + `"}]}`,
			includeUsage: true,
		},
		{
			name: "usage option off",
			body: `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"` + userText + `"}]}`,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, http.MethodPost, s.URL()+"/v1/chat/completions", openAIHeaders(), tt.body)

			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/event-stream" {
				t.Errorf("Content-Type = %q, want text/event-stream", ct)
			}

			events := parseEvents(t, r.body)
			if len(events) < 4 {
				t.Fatalf("got %d events, want at least 4: %+v", len(events), events)
			}
			for i, e := range events {
				if e.name != "" {
					t.Errorf("event %d has name %q, want none", i, e.name)
				}
			}
			if last := events[len(events)-1].data; last != "[DONE]" {
				t.Errorf("last event data = %q, want [DONE]", last)
			}

			chunks := make([]map[string]any, 0, len(events)-1)
			for _, e := range events[:len(events)-1] {
				chunks = append(chunks, decode(t, []byte(e.data)))
			}

			id := chunks[0]["id"]
			for i, c := range chunks {
				if c["id"] != id {
					t.Errorf("chunk %d id = %v, want %v as in the first chunk", i, c["id"], id)
				}
				if c["object"] != "chat.completion.chunk" {
					t.Errorf("chunk %d object = %v, want chat.completion.chunk", i, c["object"])
				}
				if c["model"] != "gpt-4o" {
					t.Errorf("chunk %d model = %v, want gpt-4o", i, c["model"])
				}
			}
			if s, _ := id.(string); !strings.HasPrefix(s, "chatcmpl-") {
				t.Errorf("id = %v, want a chatcmpl- id", id)
			}

			if tt.includeUsage {
				usageChunk := chunks[len(chunks)-1]
				chunks = chunks[:len(chunks)-1]
				if choices := array(t, usageChunk, "choices"); len(choices) != 0 {
					t.Errorf("usage chunk has %d choices, want 0", len(choices))
				}
				usage := object(t, usageChunk, "usage")
				checkNumber(t, usage, "prompt_tokens", tokens(userText))
				checkNumber(t, usage, "completion_tokens", tokens(wantText))
				checkNumber(t, usage, "total_tokens", tokens(userText)+tokens(wantText))
				for _, c := range chunks {
					checkNull(t, c, "usage")
				}
			} else {
				for i, c := range chunks {
					if _, ok := c["usage"]; ok {
						t.Errorf("chunk %d has a usage field without include_usage", i)
					}
				}
			}

			first := array(t, chunks[0], "choices")[0].(map[string]any)
			firstDelta := object(t, first, "delta")
			if firstDelta["role"] != "assistant" {
				t.Errorf("first delta role = %v, want assistant", firstDelta["role"])
			}
			if firstDelta["content"] != "" {
				t.Errorf("first delta content = %v, want empty", firstDelta["content"])
			}
			checkNull(t, first, "finish_reason")

			final := array(t, chunks[len(chunks)-1], "choices")[0].(map[string]any)
			if delta := object(t, final, "delta"); len(delta) != 0 {
				t.Errorf("final delta = %v, want {}", delta)
			}
			if final["finish_reason"] != "stop" {
				t.Errorf("final finish_reason = %v, want stop", final["finish_reason"])
			}

			contentChunks := chunks[1 : len(chunks)-1]
			if len(contentChunks) < 3 {
				t.Errorf("got %d content chunks, want the text split into several", len(contentChunks))
			}
			var text strings.Builder
			for i, c := range contentChunks {
				choice := array(t, c, "choices")[0].(map[string]any)
				checkNull(t, choice, "finish_reason")
				delta := object(t, choice, "delta")
				if _, ok := delta["role"]; ok {
					t.Errorf("content chunk %d repeats the role", i)
				}
				part, ok := delta["content"].(string)
				if !ok {
					t.Fatalf("content chunk %d delta = %v, want string content", i, delta)
				}
				text.WriteString(part)
			}
			if text.String() != wantText {
				t.Errorf("reassembled text = %q, want %q", text.String(), wantText)
			}
		})
	}
}

func TestOpenAIErrors(t *testing.T) {
	s := startServer(t, standin.OpenAI, standin.Options{APIKey: openAIKey})
	const valid = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`

	withHeader := func(name, value string) map[string]string {
		h := openAIHeaders()
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
		wantParam  any
		wantCode   any
		wantHeader map[string]string
	}{
		{name: "missing key", header: withHeader("Authorization", ""), body: valid,
			wantStatus: 401, wantType: "invalid_request_error", wantCode: "invalid_api_key"},
		{name: "wrong key", header: withHeader("Authorization", "Bearer sk-wrong"), body: valid,
			wantStatus: 401, wantType: "invalid_request_error", wantCode: "invalid_api_key"},
		{name: "key without bearer", header: withHeader("Authorization", openAIKey), body: valid,
			wantStatus: 401, wantType: "invalid_request_error", wantCode: "invalid_api_key"},
		{name: "anthropic style key", header: map[string]string{"X-Api-Key": openAIKey}, body: valid,
			wantStatus: 401, wantType: "invalid_request_error", wantCode: "invalid_api_key"},
		{name: "invalid json", body: `{"model":`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "json array", body: `[1,2]`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "json null", body: `null`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "empty body", body: ``,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "invalid utf-8", body: "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}",
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "missing model", body: `{"messages":[{"role":"user","content":"hi"}]}`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "empty model", body: `{"model":"","messages":[{"role":"user","content":"hi"}]}`,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "model not string", body: `{"model":4,"messages":[{"role":"user","content":"hi"}]}`,
			wantStatus: 400, wantType: "invalid_request_error", wantParam: "model", wantCode: "invalid_type"},
		{name: "missing messages", body: `{"model":"gpt-4o"}`,
			wantStatus: 400, wantType: "invalid_request_error", wantParam: "messages", wantCode: "missing_required_parameter"},
		{name: "empty messages", body: `{"model":"gpt-4o","messages":[]}`,
			wantStatus: 400, wantType: "invalid_request_error", wantParam: "messages", wantCode: "empty_array"},
		{name: "messages not array", body: `{"model":"gpt-4o","messages":"hi"}`,
			wantStatus: 400, wantType: "invalid_request_error", wantParam: "messages", wantCode: "invalid_type"},
		{name: "message not object", body: `{"model":"gpt-4o","messages":["hi"]}`,
			wantStatus: 400, wantType: "invalid_request_error", wantParam: "messages[0]", wantCode: "invalid_type"},
		{name: "message without role", body: `{"model":"gpt-4o","messages":[{"role":"user","content":"a"},{"content":"b"}]}`,
			wantStatus: 400, wantType: "invalid_request_error", wantParam: "messages[1].role", wantCode: "missing_required_parameter"},
		{name: "stream not boolean", body: `{"model":"gpt-4o","stream":"yes","messages":[{"role":"user","content":"hi"}]}`,
			wantStatus: 400, wantType: "invalid_request_error", wantParam: "stream", wantCode: "invalid_type"},
		{name: "unknown path", path: "/v1/completions", body: valid,
			wantStatus: 404, wantType: "invalid_request_error"},
		{name: "anthropic path", path: "/v1/messages", body: valid,
			wantStatus: 404, wantType: "invalid_request_error"},
		{name: "wrong method", method: http.MethodGet,
			wantStatus: 405, wantType: "invalid_request_error", wantHeader: map[string]string{"Allow": "POST"}},
		{name: "rate limit", header: withHeader(standin.StatusHeader, "429"), body: valid,
			wantStatus: 429, wantType: "requests", wantCode: "rate_limit_exceeded",
			wantHeader: map[string]string{"Retry-After": "1", "X-Ratelimit-Remaining-Requests": "0"}},
		{name: "server error", header: withHeader(standin.StatusHeader, "500"), body: valid,
			wantStatus: 500, wantType: "server_error"},
		{name: "service unavailable", header: withHeader(standin.StatusHeader, "503"), body: valid,
			wantStatus: 503, wantType: "server_error"},
		{name: "overloaded", header: withHeader(standin.StatusHeader, "529"), body: valid,
			wantStatus: 529, wantType: "server_error"},
		{name: "unsupported trigger", header: withHeader(standin.StatusHeader, "418"), body: valid,
			wantStatus: 400, wantType: "invalid_request_error"},
		{name: "trigger checked after key", header: map[string]string{standin.StatusHeader: "429"}, body: valid,
			wantStatus: 401, wantType: "invalid_request_error", wantCode: "invalid_api_key"},
		{name: "trigger before body checks", header: withHeader(standin.StatusHeader, "500"), body: `not json`,
			wantStatus: 500, wantType: "server_error"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, path, header := tt.method, tt.path, tt.header
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/v1/chat/completions"
			}
			if header == nil {
				header = openAIHeaders()
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
			if len(v) != 1 {
				t.Errorf("error body has fields %v, want only \"error\"", v)
			}
			detail := object(t, v, "error")
			if msg, _ := detail["message"].(string); msg == "" {
				t.Errorf("error.message = %v, want a non-empty string", detail["message"])
			}
			if detail["type"] != tt.wantType {
				t.Errorf("error.type = %v, want %v", detail["type"], tt.wantType)
			}
			if _, ok := detail["param"]; !ok {
				t.Errorf("error.param is missing, want it present even when null")
			}
			if detail["param"] != tt.wantParam {
				t.Errorf("error.param = %v, want %v", detail["param"], tt.wantParam)
			}
			if _, ok := detail["code"]; !ok {
				t.Errorf("error.code is missing, want it present even when null")
			}
			if detail["code"] != tt.wantCode {
				t.Errorf("error.code = %v, want %v", detail["code"], tt.wantCode)
			}
			if strings.Contains(string(r.body), openAIKey) {
				t.Errorf("error body echoes the API key: %s", r.body)
			}
		})
	}
}

func TestOpenAIWithoutKeyRequiresAnyCredential(t *testing.T) {
	const body = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	tests := []struct {
		name       string
		kind       standin.Kind
		header     map[string]string
		wantStatus int
	}{
		{name: "openai any bearer", kind: standin.OpenAI, header: map[string]string{"Authorization": "Bearer anything"}, wantStatus: 200},
		{name: "openai no credential", kind: standin.OpenAI, wantStatus: 401},
		{name: "openai empty bearer", kind: standin.OpenAI, header: map[string]string{"Authorization": "Bearer "}, wantStatus: 401},
		{name: "compatible no credential", kind: standin.OpenAICompatible, wantStatus: 200},
		{name: "compatible any bearer", kind: standin.OpenAICompatible, header: map[string]string{"Authorization": "Bearer anything"}, wantStatus: 200},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, tt.kind, standin.Options{})

			r := send(t, http.MethodPost, s.URL()+"/v1/chat/completions", tt.header, body)

			if r.status != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
		})
	}
}

func TestOpenAICompatibleWithKey(t *testing.T) {
	s := startServer(t, standin.OpenAICompatible, standin.Options{APIKey: "local-key"})
	const body = `{"model":"m","messages":[{"role":"user","content":"hi"}]}`

	tests := []struct {
		name       string
		header     map[string]string
		wantStatus int
	}{
		{name: "matching key", header: map[string]string{"Authorization": "Bearer local-key"}, wantStatus: 200},
		{name: "wrong key", header: map[string]string{"Authorization": "Bearer other"}, wantStatus: 401},
		{name: "no key", wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, http.MethodPost, s.URL()+"/v1/chat/completions", tt.header, body)

			if r.status != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
		})
	}
}
