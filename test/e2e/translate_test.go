package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/test/harness"
	"github.com/phigate/phigate/test/standin"
)

// ssn is the PHI value that the operations template pseudonymizes even on
// the way to a provider with a BAA, because the purpose does not need it.
const ssn = "999-12-3456"

// openAIText reassembles the assistant text of an OpenAI chat completion
// stream and checks that it is well formed: JSON chunks, then [DONE].
func openAIText(t *testing.T, body []byte) (text string, finish string) {
	t.Helper()
	events := readSSE(t, body)
	if len(events) < 2 || events[len(events)-1] != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %q", events)
	}
	var b strings.Builder
	for _, e := range events[:len(events)-1] {
		var chunk struct {
			Object  string `json:"object"`
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(e), &chunk); err != nil {
			t.Fatalf("event is not a chunk: %v: %s", err, e)
		}
		if chunk.Object != "chat.completion.chunk" {
			t.Errorf("chunk object = %q, want chat.completion.chunk", chunk.Object)
		}
		for _, c := range chunk.Choices {
			b.WriteString(c.Delta.Content)
			if c.FinishReason != nil {
				finish = *c.FinishReason
			}
		}
	}
	return b.String(), finish
}

// anthropicText reassembles the text of an Anthropic message stream and
// checks its event order.
func anthropicText(t *testing.T, body []byte) (text string, stop string) {
	t.Helper()
	var b strings.Builder
	var types []string
	for _, e := range readSSE(t, body) {
		var ev struct {
			Type  string `json:"type"`
			Delta struct {
				Type       string `json:"type"`
				Text       string `json:"text"`
				StopReason string `json:"stop_reason"`
			} `json:"delta"`
		}
		if err := json.Unmarshal([]byte(e), &ev); err != nil {
			t.Fatalf("event is not JSON: %v: %s", err, e)
		}
		types = append(types, ev.Type)
		if ev.Delta.Type == "text_delta" {
			b.WriteString(ev.Delta.Text)
		}
		if ev.Type == "message_delta" {
			stop = ev.Delta.StopReason
		}
	}
	if len(types) == 0 || types[0] != "message_start" || types[len(types)-1] != "message_stop" {
		t.Errorf("event types = %q, want message_start ... message_stop", types)
	}
	return b.String(), stop
}

// checkReceived checks what one stand-in received: exactly one request, on
// path, with the provider's key in header, pseudonyms instead of the SSN.
func checkReceived(t *testing.T, s *standin.Server, path, header, value string) map[string]any {
	t.Helper()
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%s received %d requests, want 1", s.Addr(), len(reqs))
	}
	got := reqs[0]
	if got.Path != path {
		t.Errorf("provider received path %q, want %q", got.Path, path)
	}
	if v := got.Header.Get(header); v != value {
		t.Errorf("provider received %s = %q, want the provider's key", header, v)
	}
	if bytes.Contains(got.Body, []byte(ssn)) {
		t.Errorf("provider received the SSN: %s", got.Body)
	}
	if !bytes.Contains(got.Body, []byte("[SSN_1]")) {
		t.Errorf("provider received no pseudonym for the SSN: %s", got.Body)
	}
	var body map[string]any
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatalf("provider received invalid JSON: %v", err)
	}
	return body
}

func TestOpenAIClientServedByAnthropic(t *testing.T) {
	st := startStack(t, harness.Options{})
	headers := map[string]string{"x-phigate-provider": "anthropic", "x-phigate-purpose": "operations"}

	t.Run("streamed", func(t *testing.T) {
		resp := send(t, st, "/v1/chat/completions", openAIChat(phiPrompt, true), headers)
		if resp.status != http.StatusOK {
			t.Fatalf("status = %d; body %s", resp.status, resp.body)
		}
		text, finish := openAIText(t, resp.body)
		if want := "anthropic stand-in reply: " + phiPrompt; text != want {
			t.Errorf("reassembled text = %q, want %q", text, want)
		}
		if finish != "stop" {
			t.Errorf("finish_reason = %q, want stop", finish)
		}
		body := checkReceived(t, st.Anthropic, "/v1/messages", "x-api-key", harness.KeyAnthropic)
		if body["model"] != "claude-sonnet-4-5" || body["system"] == nil || body["max_tokens"] == nil || body["stream"] != true {
			t.Errorf("anthropic received model %v, system %v, max_tokens %v, stream %v", body["model"], body["system"], body["max_tokens"], body["stream"])
		}
		if v := st.Anthropic.Requests()[0].Header.Get("anthropic-version"); v == "" {
			t.Error("anthropic received no anthropic-version header")
		}
	})

	t.Run("not streamed", func(t *testing.T) {
		before := len(st.Anthropic.Requests())
		resp := send(t, st, "/v1/chat/completions", openAIChat(phiPrompt, false), headers)
		if resp.status != http.StatusOK {
			t.Fatalf("status = %d; body %s", resp.status, resp.body)
		}
		var completion struct {
			Object  string `json:"object"`
			Choices []struct {
				Message      struct{ Role, Content string } `json:"message"`
				FinishReason string                         `json:"finish_reason"`
			} `json:"choices"`
			Usage struct {
				PromptTokens     int `json:"prompt_tokens"`
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal(resp.body, &completion); err != nil {
			t.Fatalf("response is not a chat completion: %v: %s", err, resp.body)
		}
		if completion.Object != "chat.completion" || len(completion.Choices) != 1 {
			t.Fatalf("response = %s, want one chat.completion choice", resp.body)
		}
		if want := "anthropic stand-in reply: " + phiPrompt; completion.Choices[0].Message.Content != want {
			t.Errorf("content = %q, want %q", completion.Choices[0].Message.Content, want)
		}
		if completion.Usage.PromptTokens == 0 || completion.Usage.CompletionTokens == 0 {
			t.Errorf("usage = %+v, want the provider's token counts", completion.Usage)
		}
		if n := len(st.Anthropic.Requests()) - before; n != 1 {
			t.Errorf("anthropic received %d requests, want 1", n)
		}
	})
}

func TestAnthropicClientServedByOpenAI(t *testing.T) {
	st := startStack(t, harness.Options{})
	headers := map[string]string{"x-phigate-provider": "openai-baa", "x-phigate-purpose": "operations"}

	resp := send(t, st, "/v1/messages", anthropicMessages(phiPrompt, true), headers)
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d; body %s", resp.status, resp.body)
	}
	text, stop := anthropicText(t, resp.body)
	if want := "openai-baa stand-in reply: " + phiPrompt; text != want {
		t.Errorf("reassembled text = %q, want %q", text, want)
	}
	if stop != "end_turn" {
		t.Errorf("stop_reason = %q, want end_turn", stop)
	}
	body := checkReceived(t, st.OpenAIBAA, "/v1/chat/completions", "authorization", "Bearer "+harness.KeyOpenAIBAA)
	if body["model"] != "gpt-4o" {
		t.Errorf("openai received model %v, want the registry's gpt-4o", body["model"])
	}
	messages, _ := body["messages"].([]any)
	if len(messages) == 0 || messages[0].(map[string]any)["role"] != "system" {
		t.Errorf("openai received messages %v, want the system prompt first", messages)
	}
	if h := st.OpenAIBAA.Requests()[0].Header; h.Get("anthropic-version") != "" || h.Get("x-api-key") != "" {
		t.Errorf("openai received Anthropic headers: %v", h)
	}
}

// toolRequest returns a chat request in the client's format that offers a
// lookup tool and instructs the stand-in to call it with the SSN.
func toolRequest(anthropic, stream bool) []byte {
	instruction := `call tool lookup_member with {"ssn": "` + ssn + `"}`
	schema := map[string]any{"type": "object", "properties": map[string]any{"ssn": map[string]any{"type": "string"}}}
	var body map[string]any
	if anthropic {
		body = map[string]any{
			"model":      "claude-sonnet-4-5",
			"max_tokens": 256,
			"messages":   []any{map[string]any{"role": "user", "content": instruction}},
			"tools":      []any{map[string]any{"name": "lookup_member", "description": "Find a member", "input_schema": schema}},
		}
	} else {
		body = map[string]any{
			"model":    "gpt-4o-mini",
			"messages": []any{map[string]any{"role": "user", "content": instruction}},
			"tools":    []any{map[string]any{"type": "function", "function": map[string]any{"name": "lookup_member", "description": "Find a member", "parameters": schema}}},
		}
	}
	if stream {
		body["stream"] = true
	}
	data, _ := json.Marshal(body)
	return data
}

func TestToolCallsTranslatedWithRestoredArguments(t *testing.T) {
	// The stand-in's trigger phrase starts with "call", a phone number cue.
	// The operations template here pseudonymizes SSN and PHONE, so the
	// number is replaced whichever type the scanner gives it.
	templates := map[string]any{"operations": map[string]any{"redact_types": []string{"SSN", "PHONE"}}}
	st := startStack(t, harness.Options{Settings: map[string]any{"templates": templates}})
	wantArgs := map[string]any{"ssn": ssn}

	t.Run("openai client, anthropic provider", func(t *testing.T) {
		headers := map[string]string{"x-phigate-provider": "anthropic", "x-phigate-purpose": "operations"}
		resp := send(t, st, "/v1/chat/completions", toolRequest(false, false), headers)
		if resp.status != http.StatusOK {
			t.Fatalf("status = %d; body %s", resp.status, resp.body)
		}
		var completion struct {
			Choices []struct {
				Message struct {
					ToolCalls []struct {
						ID       string `json:"id"`
						Type     string `json:"type"`
						Function struct{ Name, Arguments string }
					} `json:"tool_calls"`
				} `json:"message"`
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(resp.body, &completion); err != nil || len(completion.Choices) != 1 {
			t.Fatalf("response is not a chat completion: %v: %s", err, resp.body)
		}
		choice := completion.Choices[0]
		if choice.FinishReason != "tool_calls" || len(choice.Message.ToolCalls) != 1 {
			t.Fatalf("response = %s, want one tool call", resp.body)
		}
		call := choice.Message.ToolCalls[0]
		var args map[string]any
		if err := json.Unmarshal([]byte(call.Function.Arguments), &args); err != nil {
			t.Fatalf("arguments are not JSON: %v: %q", err, call.Function.Arguments)
		}
		if call.Function.Name != "lookup_member" || call.ID == "" || args["ssn"] != wantArgs["ssn"] {
			t.Errorf("tool call = %+v, want lookup_member with the restored SSN", call)
		}
		if received := st.Anthropic.Requests(); len(received) != 1 || bytes.Contains(received[0].Body, []byte(ssn)) {
			t.Errorf("anthropic received %d requests, or the SSN", len(received))
		}
	})

	t.Run("openai client, anthropic provider, streamed", func(t *testing.T) {
		headers := map[string]string{"x-phigate-provider": "anthropic", "x-phigate-purpose": "operations"}
		resp := send(t, st, "/v1/chat/completions", toolRequest(false, true), headers)
		if resp.status != http.StatusOK {
			t.Fatalf("status = %d; body %s", resp.status, resp.body)
		}
		events := readSSE(t, resp.body)
		if len(events) == 0 || events[len(events)-1] != "[DONE]" {
			t.Fatalf("stream does not end with [DONE]: %q", events)
		}
		var name, arguments, finish string
		for _, e := range events[:len(events)-1] {
			var chunk struct {
				Choices []struct {
					Delta struct {
						ToolCalls []struct {
							Function struct{ Name, Arguments string } `json:"function"`
						} `json:"tool_calls"`
					} `json:"delta"`
					FinishReason *string `json:"finish_reason"`
				} `json:"choices"`
			}
			if err := json.Unmarshal([]byte(e), &chunk); err != nil {
				t.Fatalf("event is not a chunk: %v: %s", err, e)
			}
			for _, c := range chunk.Choices {
				for _, call := range c.Delta.ToolCalls {
					name += call.Function.Name
					arguments += call.Function.Arguments
				}
				if c.FinishReason != nil {
					finish = *c.FinishReason
				}
			}
		}
		var args map[string]any
		if err := json.Unmarshal([]byte(arguments), &args); err != nil {
			t.Fatalf("streamed arguments are not JSON: %v: %q", err, arguments)
		}
		if name != "lookup_member" || args["ssn"] != wantArgs["ssn"] || finish != "tool_calls" {
			t.Errorf("tool call %q with arguments %v and finish_reason %q, want lookup_member with the restored SSN and tool_calls", name, args, finish)
		}
	})

	t.Run("anthropic client, openai provider, streamed", func(t *testing.T) {
		headers := map[string]string{"x-phigate-provider": "openai-baa", "x-phigate-purpose": "operations"}
		resp := send(t, st, "/v1/messages", toolRequest(true, true), headers)
		if resp.status != http.StatusOK {
			t.Fatalf("status = %d; body %s", resp.status, resp.body)
		}
		var name, partial, stop string
		for _, e := range readSSE(t, resp.body) {
			var ev struct {
				Type         string `json:"type"`
				ContentBlock struct {
					Type string `json:"type"`
					Name string `json:"name"`
				} `json:"content_block"`
				Delta struct {
					Type        string `json:"type"`
					PartialJSON string `json:"partial_json"`
					StopReason  string `json:"stop_reason"`
				} `json:"delta"`
			}
			if err := json.Unmarshal([]byte(e), &ev); err != nil {
				t.Fatalf("event is not JSON: %v: %s", err, e)
			}
			if ev.ContentBlock.Type == "tool_use" {
				name = ev.ContentBlock.Name
			}
			if ev.Delta.Type == "input_json_delta" {
				partial += ev.Delta.PartialJSON
			}
			if ev.Type == "message_delta" {
				stop = ev.Delta.StopReason
			}
		}
		var args map[string]any
		if err := json.Unmarshal([]byte(partial), &args); err != nil {
			t.Fatalf("tool input is not JSON: %v: %q", err, partial)
		}
		if name != "lookup_member" || args["ssn"] != wantArgs["ssn"] || stop != "tool_use" {
			t.Errorf("tool_use %q with input %v and stop_reason %q, want lookup_member with the restored SSN and tool_use", name, args, stop)
		}
		if received := st.OpenAIBAA.Requests(); len(received) != 1 || bytes.Contains(received[0].Body, []byte(ssn)) {
			t.Errorf("openai-baa received %d requests, or the SSN", len(received))
		}
	})
}

func TestUpstreamErrorsReachClientInItsFormat(t *testing.T) {
	st := startStack(t, harness.Options{})

	t.Run("mid-stream overload to openai client", func(t *testing.T) {
		headers := map[string]string{"x-phigate-provider": "anthropic", "x-standin-scenario": "midstream_error"}
		resp := send(t, st, "/v1/chat/completions", openAIChat(cleanPrompt, true), headers)
		if resp.status != http.StatusOK {
			t.Fatalf("status = %d; body %s", resp.status, resp.body)
		}
		events := readSSE(t, resp.body)
		if len(events) == 0 {
			t.Fatal("stream is empty")
		}
		var last struct {
			Error *struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(events[len(events)-1]), &last); err != nil || last.Error == nil {
			t.Fatalf("last event = %s, want an OpenAI error object", events[len(events)-1])
		}
		if last.Error.Message == "" {
			t.Error("error event has no message")
		}
	})

	t.Run("overloaded to openai client", func(t *testing.T) {
		headers := map[string]string{"x-phigate-provider": "anthropic", "x-standin-scenario": "overloaded"}
		resp := send(t, st, "/v1/chat/completions", openAIChat(cleanPrompt, false), headers)
		if resp.status < 500 {
			t.Fatalf("status = %d, want a 5xx; body %s", resp.status, resp.body)
		}
		var body struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			} `json:"error"`
		}
		if err := json.Unmarshal(resp.body, &body); err != nil || body.Error.Message == "" {
			t.Errorf("body = %s, want an OpenAI error object", resp.body)
		}
	})

	t.Run("rate limit to anthropic client", func(t *testing.T) {
		headers := map[string]string{"x-phigate-provider": "openai-baa", "x-standin-scenario": "rate_limit"}
		resp := send(t, st, "/v1/messages", anthropicMessages(cleanPrompt, false), headers)
		if resp.status != http.StatusTooManyRequests {
			t.Fatalf("status = %d, want 429; body %s", resp.status, resp.body)
		}
		var body struct {
			Type  string `json:"type"`
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(resp.body, &body); err != nil || body.Type != "error" || body.Error.Type != "rate_limit_error" {
			t.Errorf("body = %s, want an Anthropic rate_limit_error", resp.body)
		}
		if resp.header.Get("retry-after") == "" {
			t.Error("retry-after header did not reach the client")
		}
	})
}

func TestOtherEndpointsRoutedWithoutTranslation(t *testing.T) {
	st := startStack(t, harness.Options{})

	t.Run("embeddings", func(t *testing.T) {
		body := []byte(`{"model":"text-embedding-3-small","input":["` + cleanPrompt + `"]}`)
		resp := send(t, st, "/v1/embeddings", body, nil)
		if resp.status != http.StatusOK {
			t.Fatalf("status = %d; body %s", resp.status, resp.body)
		}
		if reqs := st.OpenAI.Requests(); len(reqs) != 1 || reqs[0].Path != "/v1/embeddings" {
			t.Errorf("openai received %d requests, want one on /v1/embeddings", len(reqs))
		}
	})

	t.Run("embeddings of token ids rejected", func(t *testing.T) {
		before := len(st.OpenAI.Requests())
		resp := send(t, st, "/v1/embeddings", []byte(`{"model":"text-embedding-3-small","input":[[101,2023,102]]}`), nil)
		if resp.status != http.StatusBadRequest {
			t.Fatalf("status = %d, want 400; body %s", resp.status, resp.body)
		}
		if n := len(st.OpenAI.Requests()) - before; n != 0 {
			t.Errorf("openai received %d requests, want 0", n)
		}
	})

	t.Run("embeddings to anthropic rejected", func(t *testing.T) {
		body := []byte(`{"model":"text-embedding-3-small","input":"` + cleanPrompt + `"}`)
		resp := send(t, st, "/v1/embeddings", body, map[string]string{"x-phigate-provider": "anthropic"})
		if resp.status != http.StatusBadRequest || !bytes.Contains(resp.body, []byte("does not serve openai.embeddings")) {
			t.Errorf("status = %d, body %s; want 400 naming the API", resp.status, resp.body)
		}
	})

	t.Run("responses with PHI", func(t *testing.T) {
		body := []byte(`{"model":"gpt-4o","input":"` + phiPrompt + `"}`)
		resp := send(t, st, "/v1/responses", body, nil)
		if resp.status != http.StatusOK {
			t.Fatalf("status = %d; body %s", resp.status, resp.body)
		}
		if n := len(st.OpenAI.Requests()); n != 1 {
			t.Errorf("openai (no BAA) received %d requests, want only the embeddings one", n)
		}
		reqs := st.OpenAIBAA.Requests()
		if len(reqs) != 1 || reqs[0].Path != "/v1/responses" {
			t.Fatalf("openai-baa received %d requests, want one on /v1/responses", len(reqs))
		}
	})

	t.Run("count tokens", func(t *testing.T) {
		resp := send(t, st, "/v1/messages/count_tokens", []byte(`{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"`+cleanPrompt+`"}]}`), nil)
		if resp.status != http.StatusOK || !bytes.Contains(resp.body, []byte("input_tokens")) {
			t.Fatalf("status = %d; body %s", resp.status, resp.body)
		}
		reqs := st.Anthropic.Requests()
		if len(reqs) != 1 || reqs[0].Path != "/v1/messages/count_tokens" {
			t.Errorf("anthropic received %d requests, want one on /v1/messages/count_tokens", len(reqs))
		}
	})
}

func TestAzureDeploymentReceivesItsPathAndKey(t *testing.T) {
	st := startStack(t, harness.Options{})

	resp := send(t, st, "/v1/chat/completions", openAIChat(cleanPrompt, false), map[string]string{"x-phigate-provider": "azure-openai"})
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d; body %s", resp.status, resp.body)
	}
	reqs := st.Azure.Requests()
	if len(reqs) != 1 {
		t.Fatalf("azure received %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if got.Deployment != harness.AzureDeployment || got.APIVersion != harness.AzureAPIVersion {
		t.Errorf("azure received deployment %q, api-version %q", got.Deployment, got.APIVersion)
	}
	if got.Header.Get("api-key") != harness.KeyAzure || got.Header.Get("authorization") != "" {
		t.Errorf("azure received api-key %q and authorization %q, want only the provider's api-key", got.Header.Get("api-key"), got.Header.Get("authorization"))
	}
}

func TestNewPHIInOutputMasked(t *testing.T) {
	st := startStack(t, harness.Options{Settings: map[string]any{"response_redact_types": []string{"SSN", "PHONE"}}})
	prompt := "Pt Jane Roe asks about her statin dose; include the sample record."
	leaked := []string{"219-09-9999", "(555) 010-7788"}

	for _, stream := range []bool{false, true} {
		resp := send(t, st, "/v1/chat/completions", openAIChat(prompt, stream), nil)
		if resp.status != http.StatusOK {
			t.Fatalf("stream %v: status = %d; body %s", stream, resp.status, resp.body)
		}
		var text string
		if stream {
			text, _ = openAIText(t, resp.body)
		} else {
			var completion struct {
				Choices []struct {
					Message struct{ Content string } `json:"message"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(resp.body, &completion); err != nil || len(completion.Choices) != 1 {
				t.Fatalf("response is not a chat completion: %v: %s", err, resp.body)
			}
			text = completion.Choices[0].Message.Content
		}
		for _, v := range leaked {
			if strings.Contains(text, v) {
				t.Errorf("stream %v: PHI the request did not contain reached the client: %q", stream, text)
			}
		}
		if !strings.Contains(text, "Jane Roe") || !strings.Contains(text, "Sample record: member SSN") {
			t.Errorf("stream %v: reply lost text around the masked values: %q", stream, text)
		}
	}

	st.Stop()
	masked := 0
	for _, rec := range readAudit(t, st.AuditPath) {
		if rec.Kind == "outcome" {
			masked += rec.OutputPHITypes["SSN"] + rec.OutputPHITypes["PHONE"]
		}
	}
	if masked != 4 {
		t.Errorf("outcome records count %d masked values, want 4 (an SSN and a phone number, twice)", masked)
	}
}

func TestPHIReroutedAcrossFormatsWhenAllowed(t *testing.T) {
	st := startStack(t, harness.Options{NoBAAProvider: true, Settings: map[string]any{"reroute_across_formats": true}})

	resp := send(t, st, "/v1/chat/completions", openAIChat(phiPrompt, true), nil)
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d; body %s", resp.status, resp.body)
	}
	text, _ := openAIText(t, resp.body)
	if want := "anthropic stand-in reply: " + phiPrompt; text != want {
		t.Errorf("reassembled text = %q, want %q", text, want)
	}
	if n := requestsTo(st.OpenAI); n != 0 {
		t.Errorf("openai (no BAA) received %d requests, want 0", n)
	}
	if reqs := st.Anthropic.Requests(); len(reqs) != 1 || reqs[0].Path != "/v1/messages" {
		t.Errorf("anthropic received %d requests, want one translated request", len(reqs))
	}
}

// readAudit decodes every record of a file audit log.
func readAudit(t *testing.T, path string) []audit.Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var records []audit.Record
	for line := range bytes.Lines(data) {
		var rec audit.Record
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("audit record does not decode: %v", err)
		}
		records = append(records, rec)
	}
	return records
}

func TestResponsesAPIOutputMaskedAndRedacted(t *testing.T) {
	st := startStack(t, harness.Options{NoBAAProvider: true, Settings: map[string]any{"response_redact_types": []string{"SSN", "PHONE"}}})

	for _, stream := range []bool{false, true} {
		body, _ := json.Marshal(map[string]any{"model": "gpt-4o", "input": "Pt Jane Roe asks about her statin dose; include the sample record.", "stream": stream})
		resp := send(t, st, "/v1/responses", body, nil)
		if resp.status != http.StatusOK {
			t.Fatalf("stream %v: status = %d; body %s", stream, resp.status, resp.body)
		}
		for _, v := range []string{"219-09-9999", "(555) 010-7788"} {
			if bytes.Contains(resp.body, []byte(v)) {
				t.Errorf("stream %v: PHI the request did not contain reached the client: %s", stream, resp.body)
			}
		}
		if !bytes.Contains(resp.body, []byte("Sample record: member SSN [PHI:SSN]")) {
			t.Errorf("stream %v: response lacks the masked sample record: %s", stream, resp.body)
		}
		if stream && !bytes.Contains(resp.body, []byte("event: response.output_text.delta")) {
			t.Errorf("stream %v: response is not an event stream: %s", stream, resp.body)
		}
	}

	// openai has no BAA here, so the name is removed. Placeholders cannot
	// be restored in Responses API output, so the name is masked instead.
	reqs := st.OpenAI.Requests()
	if len(reqs) != 2 {
		t.Fatalf("openai received %d requests, want 2", len(reqs))
	}
	for _, r := range reqs {
		if bytes.Contains(r.Body, []byte("Jane Roe")) || !bytes.Contains(r.Body, []byte("[PHI:NAME]")) {
			t.Errorf("openai received %s, want the name masked", r.Body)
		}
	}
}
