package standin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/phigate/phigate/test/standin"
)

func TestScenarioFailures(t *testing.T) {
	const (
		openAIChat    = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
		anthropicBody = `{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`
		azurePath     = "/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21"
	)

	tests := []struct {
		name       string
		kind       standin.Kind
		path       string
		body       string
		scenario   string
		wantStatus int
		wantType   string // error.type, or error.code for Azure's own errors
		wantHeader []string
	}{
		{name: "openai rate limit", kind: standin.OpenAI, path: "/v1/chat/completions", body: openAIChat, scenario: "rate_limit",
			wantStatus: 429, wantType: "requests", wantHeader: []string{"Retry-After", "X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests", "X-Ratelimit-Remaining-Tokens"}},
		{name: "openai overloaded", kind: standin.OpenAI, path: "/v1/chat/completions", body: openAIChat, scenario: "overloaded", wantStatus: 503, wantType: "server_error"},
		{name: "openai server error", kind: standin.OpenAI, path: "/v1/chat/completions", body: openAIChat, scenario: "server_error", wantStatus: 500, wantType: "server_error"},
		{name: "openai midstream without stream", kind: standin.OpenAI, path: "/v1/chat/completions", body: openAIChat, scenario: "midstream_error", wantStatus: 400, wantType: "invalid_request_error"},
		{name: "openai unknown scenario", kind: standin.OpenAI, path: "/v1/chat/completions", body: openAIChat, scenario: "meltdown", wantStatus: 400, wantType: "invalid_request_error"},
		{name: "responses rate limit", kind: standin.OpenAI, path: "/v1/responses", body: `{"model":"gpt-4o","input":"hi"}`, scenario: "rate_limit", wantStatus: 429, wantType: "requests"},
		{name: "embeddings server error", kind: standin.OpenAI, path: "/v1/embeddings", body: `{"model":"text-embedding-3-small","input":"hi"}`, scenario: "server_error", wantStatus: 500, wantType: "server_error"},
		{name: "anthropic rate limit", kind: standin.Anthropic, path: "/v1/messages", body: anthropicBody, scenario: "rate_limit",
			wantStatus: 429, wantType: "rate_limit_error", wantHeader: []string{"Retry-After", "Anthropic-Ratelimit-Requests-Limit", "Anthropic-Ratelimit-Requests-Remaining", "Anthropic-Ratelimit-Requests-Reset", "Anthropic-Ratelimit-Input-Tokens-Remaining", "Anthropic-Ratelimit-Output-Tokens-Remaining"}},
		{name: "anthropic overloaded", kind: standin.Anthropic, path: "/v1/messages", body: anthropicBody, scenario: "overloaded", wantStatus: 529, wantType: "overloaded_error"},
		{name: "anthropic server error", kind: standin.Anthropic, path: "/v1/messages", body: anthropicBody, scenario: "server_error", wantStatus: 500, wantType: "api_error"},
		{name: "anthropic midstream without stream", kind: standin.Anthropic, path: "/v1/messages", body: anthropicBody, scenario: "midstream_error", wantStatus: 400, wantType: "invalid_request_error"},
		{name: "count_tokens overloaded", kind: standin.Anthropic, path: "/v1/messages/count_tokens", body: anthropicBody, scenario: "overloaded", wantStatus: 529, wantType: "overloaded_error"},
		{name: "azure rate limit", kind: standin.AzureOpenAI, path: azurePath, body: openAIChat, scenario: "rate_limit",
			wantStatus: 429, wantType: "429", wantHeader: []string{"Retry-After", "Retry-After-Ms", "X-Ratelimit-Remaining-Requests"}},
		{name: "azure overloaded", kind: standin.AzureOpenAI, path: azurePath, body: openAIChat, scenario: "overloaded", wantStatus: 503, wantType: "server_error"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, tt.kind, standin.Options{})
			header := anyCredential()
			header[standin.ScenarioHeader] = tt.scenario

			r := send(t, http.MethodPost, s.URL()+tt.path, header, tt.body)

			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			detail := object(t, decode(t, r.body), "error")
			got := detail["type"]
			if tt.kind == standin.AzureOpenAI && tt.wantStatus == 429 {
				got = detail["code"]
			}
			if got != tt.wantType {
				t.Errorf("error type = %v, want %v; body %s", got, tt.wantType, r.body)
			}
			for _, name := range tt.wantHeader {
				if r.header.Get(name) == "" {
					t.Errorf("header %s is missing", name)
				}
			}
		})
	}
}

func TestScenarioCheckedAfterKey(t *testing.T) {
	s := startServer(t, standin.Anthropic, standin.Options{APIKey: anthropicKey})
	header := map[string]string{"X-Api-Key": "wrong", "Anthropic-Version": "2023-06-01", standin.ScenarioHeader: "overloaded"}

	r := send(t, http.MethodPost, s.URL()+"/v1/messages", header, `{}`)

	if r.status != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401 before the scenario applies", r.status)
	}
}

func TestMidstreamError(t *testing.T) {
	const text = "one two three four five six seven eight nine ten"

	tests := []struct {
		name string
		kind standin.Kind
		path string
		body string
		// check inspects the events and returns the text deltas seen.
		check func(t *testing.T, events []event) string
	}{
		{
			name: "openai chat",
			kind: standin.OpenAI, path: "/v1/chat/completions",
			body: `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"` + text + `"}]}`,
			check: func(t *testing.T, events []event) string {
				last := decode(t, []byte(events[len(events)-1].data))
				detail := object(t, last, "error")
				if detail["type"] != "server_error" {
					t.Errorf("last event error.type = %v, want server_error", detail["type"])
				}
				var got strings.Builder
				for _, e := range events[:len(events)-1] {
					if e.data == "[DONE]" {
						t.Error("stream sent [DONE] after the error")
					}
					choice := array(t, decode(t, []byte(e.data)), "choices")[0].(map[string]any)
					content, _ := object(t, choice, "delta")["content"].(string)
					got.WriteString(content)
				}
				return got.String()
			},
		},
		{
			name: "openai responses",
			kind: standin.OpenAI, path: "/v1/responses",
			body: `{"model":"gpt-4o","stream":true,"input":"` + text + `"}`,
			check: func(t *testing.T, events []event) string {
				last := events[len(events)-1]
				if last.name != "error" {
					t.Errorf("last event = %q, want error", last.name)
				}
				if code := decode(t, []byte(last.data))["code"]; code != "server_error" {
					t.Errorf("error code = %v, want server_error", code)
				}
				var got strings.Builder
				for _, e := range events {
					if e.name == "response.completed" {
						t.Error("stream completed despite the error")
					}
					if e.name == "response.output_text.delta" {
						got.WriteString(decode(t, []byte(e.data))["delta"].(string))
					}
				}
				return got.String()
			},
		},
		{
			name: "anthropic",
			kind: standin.Anthropic, path: "/v1/messages",
			body: `{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"` + text + `"}]}`,
			check: func(t *testing.T, events []event) string {
				last := events[len(events)-1]
				if last.name != "error" {
					t.Errorf("last event = %q, want error", last.name)
				}
				detail := object(t, decode(t, []byte(last.data)), "error")
				if detail["type"] != "overloaded_error" {
					t.Errorf("error.type = %v, want overloaded_error", detail["type"])
				}
				var got strings.Builder
				for _, e := range events {
					if e.name == "message_stop" || e.name == "message_delta" {
						t.Errorf("stream sent %s despite the error", e.name)
					}
					if e.name == "content_block_delta" {
						got.WriteString(object(t, decode(t, []byte(e.data)), "delta")["text"].(string))
					}
				}
				return got.String()
			},
		},
		{
			name: "azure chat",
			kind: standin.AzureOpenAI, path: "/openai/deployments/d/chat/completions?api-version=2024-10-21",
			body: `{"stream":true,"messages":[{"role":"user","content":"` + text + `"}]}`,
			check: func(t *testing.T, events []event) string {
				last := decode(t, []byte(events[len(events)-1].data))
				object(t, last, "error")
				var got strings.Builder
				for _, e := range events[:len(events)-1] {
					choices := array(t, decode(t, []byte(e.data)), "choices")
					if len(choices) == 0 {
						continue
					}
					content, _ := object(t, choices[0].(map[string]any), "delta")["content"].(string)
					got.WriteString(content)
				}
				return got.String()
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, tt.kind, standin.Options{})
			header := anyCredential()
			header[standin.ScenarioHeader] = string(standin.ScenarioMidstreamError)

			r := send(t, http.MethodPost, s.URL()+tt.path, header, tt.body)

			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200 (the error comes in the stream); body %s", r.status, r.body)
			}
			got := tt.check(t, parseEvents(t, r.body))
			full := string(s.Name()) + " stand-in reply: " + text
			if got == "" || got == full || !strings.HasPrefix(full, got) {
				t.Errorf("text before the error = %q, want a proper prefix of %q", got, full)
			}
		})
	}
}
