package standin_test

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/phigate/phigate/test/standin"
)

func TestOpenAIResponses(t *testing.T) {
	s := startServer(t, standin.OpenAI, standin.Options{Name: "openai"})

	tests := []struct {
		name     string
		body     string
		wantText string
		wantCall string
	}{
		{name: "string input", body: `{"model":"gpt-4o","input":"Summarize the visit"}`, wantText: "openai stand-in reply: Summarize the visit"},
		{name: "message items", body: `{"model":"gpt-4o","instructions":"be brief","input":[{"role":"user","content":[{"type":"input_text","text":"first"}]},` +
			`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"ok"}]},{"role":"user","content":"second"}]}`,
			wantText: "openai stand-in reply: second"},
		{name: "function call output", body: `{"model":"gpt-4o","input":[{"role":"user","content":"q"},{"type":"function_call","call_id":"call_1","name":"f","arguments":"{}"},` +
			`{"type":"function_call_output","call_id":"call_1","output":"42 units"}]}`, wantText: "openai stand-in reply: 42 units"},
		{name: "tool call", body: `{"model":"gpt-4o","tools":[{"type":"function","name":"get_weather","parameters":{}}],"input":"call tool get_weather with {\"city\":\"X\"}"}`,
			wantCall: `get_weather {"city":"X"}`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, http.MethodPost, s.URL()+"/v1/responses", openAIHeaders(), tt.body)
			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
			}
			v := decode(t, r.body)
			if id, _ := v["id"].(string); !strings.HasPrefix(id, "resp_") {
				t.Errorf("id = %v, want a resp_ id", v["id"])
			}
			if v["object"] != "response" || v["status"] != "completed" {
				t.Errorf("object, status = %v, %v, want response, completed", v["object"], v["status"])
			}
			usage := object(t, v, "usage")
			if usage["total_tokens"].(float64) != usage["input_tokens"].(float64)+usage["output_tokens"].(float64) {
				t.Errorf("usage %v does not add up", usage)
			}
			text, call := responseOutput(t, array(t, v, "output"))
			if text != tt.wantText || call != tt.wantCall {
				t.Errorf("output = %q, call %q; want %q, call %q", text, call, tt.wantText, tt.wantCall)
			}

			streamed := strings.Replace(tt.body, `{"model"`, `{"stream":true,"model"`, 1)
			r = send(t, http.MethodPost, s.URL()+"/v1/responses", openAIHeaders(), streamed)
			if r.status != http.StatusOK {
				t.Fatalf("stream status = %d, want 200; body %s", r.status, r.body)
			}
			streamText, streamCall := assembleResponseStream(t, parseEvents(t, r.body))
			if streamText != tt.wantText || streamCall != tt.wantCall {
				t.Errorf("streamed output = %q, call %q; want %q, call %q", streamText, streamCall, tt.wantText, tt.wantCall)
			}
		})
	}
}

// responseOutput returns the output_text of the message item and the
// "name arguments" of the function_call item of a Response's output.
func responseOutput(t *testing.T, output []any) (string, string) {
	t.Helper()

	var text, call string
	for _, raw := range output {
		item := raw.(map[string]any)
		switch item["type"] {
		case "message":
			for _, part := range array(t, item, "content") {
				p := part.(map[string]any)
				if p["type"] != "output_text" {
					t.Errorf("content part type = %v, want output_text", p["type"])
				}
				text += p["text"].(string)
			}
		case "function_call":
			if id, _ := item["call_id"].(string); !strings.HasPrefix(id, "call_") {
				t.Errorf("call_id = %v, want a call_ id", item["call_id"])
			}
			call = item["name"].(string) + " " + item["arguments"].(string)
		}
	}
	return text, call
}

// assembleResponseStream checks the event order and sequence numbers of a
// Responses stream and rebuilds its text and function call.
func assembleResponseStream(t *testing.T, events []event) (string, string) {
	t.Helper()

	if events[0].name != "response.created" || events[1].name != "response.in_progress" || events[len(events)-1].name != "response.completed" {
		t.Errorf("events run %q, %q ... %q; want response.created, response.in_progress ... response.completed",
			events[0].name, events[1].name, events[len(events)-1].name)
	}

	var text, arguments strings.Builder
	deltas := 0
	for i, e := range events {
		data := decode(t, []byte(e.data))
		if data["type"] != e.name {
			t.Errorf("event %q carries type %v", e.name, data["type"])
		}
		if seq, _ := data["sequence_number"].(float64); int(seq) != i {
			t.Errorf("event %d sequence_number = %v", i, data["sequence_number"])
		}
		switch e.name {
		case "response.output_text.delta":
			text.WriteString(data["delta"].(string))
			deltas++
		case "response.function_call_arguments.delta":
			arguments.WriteString(data["delta"].(string))
			deltas++
		}
	}
	if deltas == 0 {
		t.Error("stream has no delta events")
	}

	final := object(t, decode(t, []byte(events[len(events)-1].data)), "response")
	finalText, finalCall := responseOutput(t, array(t, final, "output"))
	if finalText != text.String() {
		t.Errorf("completed text %q differs from the deltas %q", finalText, text.String())
	}
	if finalCall != "" && !strings.HasSuffix(finalCall, " "+arguments.String()) {
		t.Errorf("completed call %q differs from the argument deltas %q", finalCall, arguments.String())
	}
	return text.String(), finalCall
}

func TestOpenAIEmbeddings(t *testing.T) {
	s := startServer(t, standin.OpenAI, standin.Options{})

	tests := []struct {
		name       string
		body       string
		wantCount  int
		wantDims   int
		wantBase64 bool
	}{
		{name: "one string", body: `{"model":"text-embedding-3-small","input":"synthetic note"}`, wantCount: 1, wantDims: 1536},
		{name: "large model", body: `{"model":"text-embedding-3-large","input":"x"}`, wantCount: 1, wantDims: 3072},
		{name: "batch with dimensions", body: `{"model":"text-embedding-3-small","input":["a","b","a"],"dimensions":8}`, wantCount: 3, wantDims: 8},
		{name: "token arrays", body: `{"model":"text-embedding-3-small","input":[[1,2,3],[4]],"dimensions":4}`, wantCount: 2, wantDims: 4},
		{name: "base64", body: `{"model":"text-embedding-3-small","input":"x","dimensions":16,"encoding_format":"base64"}`, wantCount: 1, wantDims: 16, wantBase64: true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, http.MethodPost, s.URL()+"/v1/embeddings", openAIHeaders(), tt.body)
			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
			}
			again := send(t, http.MethodPost, s.URL()+"/v1/embeddings", openAIHeaders(), tt.body)
			if string(again.body) != string(r.body) {
				t.Error("the same request got a different reply")
			}

			v := decode(t, r.body)
			if v["object"] != "list" {
				t.Errorf("object = %v, want list", v["object"])
			}
			data := array(t, v, "data")
			if len(data) != tt.wantCount {
				t.Fatalf("got %d embeddings, want %d", len(data), tt.wantCount)
			}
			var vectors [][]float64
			for i, raw := range data {
				item := raw.(map[string]any)
				checkNumber(t, item, "index", i)
				vector := embeddingValues(t, item["embedding"], tt.wantBase64)
				if len(vector) != tt.wantDims {
					t.Errorf("embedding %d has %d values, want %d", i, len(vector), tt.wantDims)
				}
				var norm float64
				for _, x := range vector {
					norm += x * x
				}
				if math.Abs(norm-1) > 1e-3 {
					t.Errorf("embedding %d has squared norm %v, want 1", i, norm)
				}
				vectors = append(vectors, vector)
			}
			if tt.wantCount == 3 {
				if !equalVectors(vectors[0], vectors[2]) || equalVectors(vectors[0], vectors[1]) {
					t.Error("equal inputs must get equal vectors and different inputs different ones")
				}
			}
		})
	}
}

func embeddingValues(t *testing.T, raw any, isBase64 bool) []float64 {
	t.Helper()

	if isBase64 {
		encoded, ok := raw.(string)
		if !ok {
			t.Fatalf("embedding is %T, want a base64 string", raw)
		}
		buf, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			t.Fatalf("decoding base64 embedding: %v", err)
		}
		values := make([]float64, len(buf)/4)
		for i := range values {
			values[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:])))
		}
		return values
	}

	items, ok := raw.([]any)
	if !ok {
		t.Fatalf("embedding is %T, want an array", raw)
	}
	values := make([]float64, len(items))
	for i, x := range items {
		values[i] = x.(float64)
	}
	return values
}

func equalVectors(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOpenAIEndpointErrors(t *testing.T) {
	s := startServer(t, standin.OpenAI, standin.Options{Models: []string{"gpt-4o", "text-embedding-3-small"}})

	tests := []struct {
		name      string
		path      string
		body      string
		wantCode  int
		wantParam any
	}{
		{name: "responses without input", path: "/v1/responses", body: `{"model":"gpt-4o"}`, wantCode: 400, wantParam: "input"},
		{name: "responses without model", path: "/v1/responses", body: `{"input":"x"}`, wantCode: 400, wantParam: "model"},
		{name: "responses unknown model", path: "/v1/responses", body: `{"model":"gpt-9","input":"x"}`, wantCode: 404},
		{name: "chat unknown model", path: "/v1/chat/completions", body: `{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}`, wantCode: 404},
		{name: "embeddings empty input", path: "/v1/embeddings", body: `{"model":"text-embedding-3-small","input":""}`, wantCode: 400, wantParam: "input"},
		{name: "embeddings empty array", path: "/v1/embeddings", body: `{"model":"text-embedding-3-small","input":[]}`, wantCode: 400, wantParam: "input"},
		{name: "embeddings bad format", path: "/v1/embeddings", body: `{"model":"text-embedding-3-small","input":"x","encoding_format":"hex"}`, wantCode: 400, wantParam: "encoding_format"},
		{name: "embeddings zero dimensions", path: "/v1/embeddings", body: `{"model":"text-embedding-3-small","input":"x","dimensions":0}`, wantCode: 400, wantParam: "dimensions"},
		{name: "tool choice without tools", path: "/v1/chat/completions", body: `{"model":"gpt-4o","tool_choice":"auto","messages":[{"role":"user","content":"x"}]}`, wantCode: 400, wantParam: "tool_choice"},
		{name: "forced unknown tool", path: "/v1/chat/completions", body: `{"model":"gpt-4o","tools":[` + openAIWeatherTool + `],"tool_choice":{"type":"function","function":{"name":"nope"}},"messages":[{"role":"user","content":"x"}]}`, wantCode: 400, wantParam: "tool_choice"},
		{name: "function tool without name", path: "/v1/chat/completions", body: `{"model":"gpt-4o","tools":[{"type":"function","function":{}}],"messages":[{"role":"user","content":"x"}]}`, wantCode: 400, wantParam: "tools[0].function.name"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, http.MethodPost, s.URL()+tt.path, openAIHeaders(), tt.body)

			if r.status != tt.wantCode {
				t.Fatalf("status = %d, want %d; body %s", r.status, tt.wantCode, r.body)
			}
			detail := object(t, decode(t, r.body), "error")
			if detail["param"] != tt.wantParam {
				t.Errorf("error.param = %v, want %v", detail["param"], tt.wantParam)
			}
			if tt.wantCode == 404 && detail["code"] != "model_not_found" {
				t.Errorf("error.code = %v, want model_not_found", detail["code"])
			}
		})
	}
}

func TestModelsList(t *testing.T) {
	s := startServer(t, standin.OpenAICompatible, standin.Options{Name: "vllm", Models: []string{"llama-3-8b", "qwen-7b"}})

	r := send(t, http.MethodGet, s.URL()+"/v1/models", nil, "")

	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
	}
	v := decode(t, r.body)
	var ids []string
	for _, raw := range array(t, v, "data") {
		model := raw.(map[string]any)
		if model["object"] != "model" || model["owned_by"] != "vllm" {
			t.Errorf("model entry %v lacks object model or owned_by vllm", model)
		}
		ids = append(ids, model["id"].(string))
	}
	if strings.Join(ids, ",") != "llama-3-8b,qwen-7b" {
		t.Errorf("model ids = %v, want llama-3-8b, qwen-7b", ids)
	}

	post := send(t, http.MethodPost, s.URL()+"/v1/models", nil, "")
	if post.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /v1/models status = %d, want 405", post.status)
	}
	unknown := send(t, http.MethodPost, s.URL()+"/v1/chat/completions", nil, `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}`)
	if unknown.status != http.StatusNotFound {
		t.Errorf("unserved model status = %d, want 404", unknown.status)
	}
}

func TestAnthropicCountTokens(t *testing.T) {
	s := startServer(t, standin.Anthropic, standin.Options{APIKey: anthropicKey, Models: []string{"claude-sonnet-4-5"}})
	const prompt = "Count these synthetic words"

	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantTokens int
	}{
		{name: "no max_tokens needed", body: `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"` + prompt + `"}]}`, wantStatus: 200, wantTokens: tokens(prompt)},
		{name: "system and tools count", body: `{"model":"claude-sonnet-4-5","system":"sys","tools":[` + anthropicChartTool + `],"messages":[{"role":"user","content":"` + prompt + `"}]}`,
			wantStatus: 200, wantTokens: (len(prompt) + len("sys") + len(anthropicChartTool) + 3) / 4},
		{name: "missing messages", body: `{"model":"claude-sonnet-4-5"}`, wantStatus: 400},
		{name: "unknown model", body: `{"model":"claude-0","messages":[{"role":"user","content":"x"}]}`, wantStatus: 404},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, http.MethodPost, s.URL()+"/v1/messages/count_tokens", anthropicHeaders(), tt.body)

			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			v := decode(t, r.body)
			if tt.wantStatus != 200 {
				if v["type"] != "error" {
					t.Errorf("type = %v, want error", v["type"])
				}
				return
			}
			if len(v) != 1 {
				t.Errorf("reply has fields %v, want only input_tokens", v)
			}
			checkNumber(t, v, "input_tokens", tt.wantTokens)
		})
	}

	recorded := s.Requests()
	if recorded[0].Endpoint != standin.EndpointCountTokens {
		t.Errorf("recorded endpoint = %q, want %q", recorded[0].Endpoint, standin.EndpointCountTokens)
	}
}

func TestAzureOpenAI(t *testing.T) {
	s := startServer(t, standin.AzureOpenAI, standin.Options{Name: "azure", APIKey: "azure-key", Models: []string{"chat-prod", "embed-prod"}})
	key := map[string]string{"Api-Key": "azure-key"}
	const chat = `{"messages":[{"role":"user","content":"hello azure"}]}`

	tests := []struct {
		name       string
		path       string
		header     map[string]string
		body       string
		wantStatus int
		wantCode   string
	}{
		{name: "chat", path: "/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21", header: key, body: chat, wantStatus: 200},
		{name: "embeddings", path: "/openai/deployments/embed-prod/embeddings?api-version=2024-10-21", header: key, body: `{"input":"x"}`, wantStatus: 200},
		{name: "missing api-version", path: "/openai/deployments/chat-prod/chat/completions", header: key, body: chat, wantStatus: 404, wantCode: "404"},
		{name: "unknown deployment", path: "/openai/deployments/other/chat/completions?api-version=2024-10-21", header: key, body: chat, wantStatus: 404, wantCode: "DeploymentNotFound"},
		{name: "wrong key", path: "/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21", header: map[string]string{"Api-Key": "nope"}, body: chat, wantStatus: 401, wantCode: "401"},
		{name: "bearer instead of api-key", path: "/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21", header: map[string]string{"Authorization": "Bearer azure-key"}, body: chat, wantStatus: 401, wantCode: "401"},
		{name: "openai path", path: "/v1/chat/completions", header: key, body: chat, wantStatus: 404, wantCode: "404"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Reset()

			r := send(t, http.MethodPost, s.URL()+tt.path, tt.header, tt.body)

			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantCode != "" {
				if code := object(t, decode(t, r.body), "error")["code"]; code != tt.wantCode {
					t.Errorf("error.code = %v, want %s", code, tt.wantCode)
				}
			}
		})
	}

	s.Reset()
	r := send(t, http.MethodPost, s.URL()+"/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21", key, chat)
	v := decode(t, r.body)
	if v["model"] != "chat-prod" {
		t.Errorf("model = %v, want the deployment when the body names none", v["model"])
	}
	if filters := array(t, v, "prompt_filter_results"); len(filters) != 1 {
		t.Errorf("prompt_filter_results = %v, want one entry", filters)
	}
	choice := array(t, v, "choices")[0].(map[string]any)
	object(t, choice, "content_filter_results")
	if text := object(t, choice, "message")["content"]; text != "azure stand-in reply: hello azure" {
		t.Errorf("content = %v", text)
	}
	recorded := s.Requests()
	if len(recorded) != 1 || recorded[0].Deployment != "chat-prod" || recorded[0].APIVersion != "2024-10-21" || recorded[0].Endpoint != standin.EndpointChatCompletions {
		t.Errorf("recorded %+v, want deployment chat-prod, api-version 2024-10-21, chat.completions", recorded)
	}

	streamed := send(t, http.MethodPost, s.URL()+"/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21", key,
		`{"stream":true,"messages":[{"role":"user","content":"hello azure"}]}`)
	events := parseEvents(t, streamed.body)
	first := decode(t, []byte(events[0].data))
	if choices := array(t, first, "choices"); len(choices) != 0 || first["id"] != "" {
		t.Errorf("first Azure chunk = %v, want empty choices and id with prompt filter results", first)
	}
	object(t, array(t, first, "prompt_filter_results")[0].(map[string]any), "content_filter_results")
	if events[len(events)-1].data != "[DONE]" {
		t.Errorf("Azure stream does not end with [DONE]")
	}
}
