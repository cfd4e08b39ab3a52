package standin_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phigate/phigate/test/standin"
)

// FuzzRequestBody sends arbitrary bodies to every endpoint that parses one
// and checks that each reply is a vendor JSON body or an event stream,
// never a panic or a 5xx.
func FuzzRequestBody(f *testing.F) {
	f.Add(`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`)
	f.Add(`{"model":"m","stream":true,"tools":[{"type":"function","function":{"name":"f"}}],"messages":[{"role":"user","content":"call tool f with {\"a\":1}"}]}`)
	f.Add(`{"model":"m","max_tokens":5,"stream":true,"tools":[{"name":"f","input_schema":{}}],"messages":[{"role":"user","content":"call tool f"}]}`)
	f.Add(`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":"r"}]}]}`)
	f.Add(`{"model":"m","input":[{"type":"function_call_output","call_id":"c","output":"o"}],"stream":true}`)
	f.Add(`{"model":"m","input":[[1,2],[3]],"encoding_format":"base64","dimensions":4}`)
	f.Add(`{"messages":[{"role":"tool","tool_call_id":"c","content":"x"}]}`)
	f.Add(`null`)

	handlers := []struct {
		kind standin.Kind
		path string
	}{
		{standin.OpenAI, "/v1/chat/completions"},
		{standin.OpenAI, "/v1/responses"},
		{standin.OpenAI, "/v1/embeddings"},
		{standin.AzureOpenAI, "/openai/deployments/d/chat/completions?api-version=2024-10-21"},
		{standin.Anthropic, "/v1/messages"},
		{standin.Anthropic, "/v1/messages/count_tokens"},
	}

	f.Fuzz(func(t *testing.T, body string) {
		for _, target := range handlers {
			h := standin.NewHandler(target.kind, standin.Options{DisableRecording: true})
			req := httptest.NewRequest(http.MethodPost, target.path, strings.NewReader(body))
			for name, value := range anyCredential() {
				req.Header.Set(name, value)
			}
			rec := httptest.NewRecorder()

			h.ServeHTTP(rec, req)

			if rec.Code >= 500 {
				t.Errorf("%s %s: status %d for body %q", target.kind, target.path, rec.Code, body)
			}
			contentType := rec.Header().Get("Content-Type")
			switch {
			case contentType == "application/json":
				if !json.Valid(rec.Body.Bytes()) {
					t.Errorf("%s %s: invalid JSON reply %q", target.kind, target.path, rec.Body.String())
				}
			case contentType == "text/event-stream" && rec.Code == http.StatusOK:
			default:
				t.Errorf("%s %s: status %d with Content-Type %q", target.kind, target.path, rec.Code, contentType)
			}
		}
	})
}
