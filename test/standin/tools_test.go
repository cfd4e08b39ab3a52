package standin_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/phigate/phigate/test/standin"
)

const (
	openAIWeatherTool    = `{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}`
	openAIChartTool      = `{"type":"function","function":{"name":"lookup_chart","parameters":{"type":"object"}}}`
	anthropicWeatherTool = `{"name":"get_weather","description":"weather","input_schema":{"type":"object"}}`
	anthropicChartTool   = `{"name":"lookup_chart","input_schema":{"type":"object"}}`
)

// wantCall is an expected tool call: its name and its arguments as JSON.
type wantCall struct {
	name      string
	arguments string
}

func TestOpenAIToolCalls(t *testing.T) {
	s := startServer(t, standin.OpenAI, standin.Options{Name: "openai"})
	tools := `"tools":[` + openAIWeatherTool + `,` + openAIChartTool + `]`

	tests := []struct {
		name      string
		body      string
		wantCalls []wantCall
		wantText  string
	}{
		{
			name:      "instructed call",
			body:      `{"model":"gpt-4o",` + tools + `,"messages":[{"role":"user","content":"call tool get_weather with {\"city\":\"Springfield\"}"}]}`,
			wantCalls: []wantCall{{"get_weather", `{"city":"Springfield"}`}},
		},
		{
			name:      "parallel calls",
			body:      `{"model":"gpt-4o",` + tools + `,"messages":[{"role":"user","content":"call tool get_weather with {\"city\":\"A\"} then call tool lookup_chart"}]}`,
			wantCalls: []wantCall{{"get_weather", `{"city":"A"}`}, {"lookup_chart", `{}`}},
		},
		{
			name:      "parallel disabled",
			body:      `{"model":"gpt-4o",` + tools + `,"parallel_tool_calls":false,"messages":[{"role":"user","content":"call tool get_weather then call tool lookup_chart"}]}`,
			wantCalls: []wantCall{{"get_weather", `{}`}},
		},
		{
			name:      "forced tool",
			body:      `{"model":"gpt-4o",` + tools + `,"tool_choice":{"type":"function","function":{"name":"lookup_chart"}},"messages":[{"role":"user","content":"hello"}]}`,
			wantCalls: []wantCall{{"lookup_chart", `{}`}},
		},
		{
			name:     "tool choice none",
			body:     `{"model":"gpt-4o",` + tools + `,"tool_choice":"none","messages":[{"role":"user","content":"call tool get_weather"}]}`,
			wantText: "openai stand-in reply: call tool get_weather",
		},
		{
			name:     "tool not offered",
			body:     `{"model":"gpt-4o",` + tools + `,"messages":[{"role":"user","content":"call tool send_fax"}]}`,
			wantText: "openai stand-in reply: call tool send_fax",
		},
		{
			name: "tool result ends conversation",
			body: `{"model":"gpt-4o",` + tools + `,"messages":[{"role":"user","content":"call tool get_weather"},` +
				`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},` +
				`{"role":"tool","tool_call_id":"call_1","content":"sunny, 21 C"}]}`,
			wantText: "openai stand-in reply: sunny, 21 C",
		},
	}

	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name
			body := tt.body
			if stream {
				name += " streamed"
				body = strings.Replace(body, `{"model"`, `{"stream":true,"model"`, 1)
			}
			t.Run(name, func(t *testing.T) {
				r := send(t, http.MethodPost, s.URL()+"/v1/chat/completions", openAIHeaders(), body)
				if r.status != http.StatusOK {
					t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
				}

				var text, finish string
				var calls []wantCall
				if stream {
					text, calls, finish = assembleOpenAIStream(t, r.body)
				} else {
					text, calls, finish = readOpenAICompletion(t, r.body)
				}
				checkCalls(t, calls, tt.wantCalls)

				wantFinish := "stop"
				if len(tt.wantCalls) > 0 {
					wantFinish = "tool_calls"
				}
				if finish != wantFinish {
					t.Errorf("finish_reason = %q, want %q", finish, wantFinish)
				}
				if len(tt.wantCalls) == 0 && text != tt.wantText {
					t.Errorf("text = %q, want %q", text, tt.wantText)
				}
			})
		}
	}
}

// readOpenAICompletion returns the text, tool calls and finish reason of a
// chat completion, checking the tool call fields on the way.
func readOpenAICompletion(t *testing.T, body []byte) (string, []wantCall, string) {
	t.Helper()

	choice := array(t, decode(t, body), "choices")[0].(map[string]any)
	msg := object(t, choice, "message")
	finish, _ := choice["finish_reason"].(string)

	rawCalls, hasCalls := msg["tool_calls"].([]any)
	if !hasCalls {
		text, _ := msg["content"].(string)
		return text, nil, finish
	}

	checkNull(t, msg, "content")
	var calls []wantCall
	for _, raw := range rawCalls {
		call := raw.(map[string]any)
		if id, _ := call["id"].(string); !strings.HasPrefix(id, "call_") {
			t.Errorf("tool call id = %v, want a call_ id", call["id"])
		}
		if call["type"] != "function" {
			t.Errorf("tool call type = %v, want function", call["type"])
		}
		function := object(t, call, "function")
		arguments, ok := function["arguments"].(string)
		if !ok {
			t.Errorf("arguments = %T, want a JSON string", function["arguments"])
		}
		calls = append(calls, wantCall{name: function["name"].(string), arguments: arguments})
	}
	return "", calls, finish
}

// assembleOpenAIStream rebuilds the text, tool calls and finish reason of a
// streamed chat completion, checking that each call opens with its id and
// name and that later deltas carry only argument fragments.
func assembleOpenAIStream(t *testing.T, body []byte) (string, []wantCall, string) {
	t.Helper()

	events := parseEvents(t, body)
	if last := events[len(events)-1].data; last != "[DONE]" {
		t.Fatalf("last event data = %q, want [DONE]", last)
	}

	var text strings.Builder
	var calls []wantCall
	var finish string
	fragments := 0
	for _, e := range events[:len(events)-1] {
		chunk := decode(t, []byte(e.data))
		choices := array(t, chunk, "choices")
		if len(choices) == 0 {
			continue
		}
		choice := choices[0].(map[string]any)
		if f, ok := choice["finish_reason"].(string); ok {
			finish = f
		}
		delta := object(t, choice, "delta")
		if content, ok := delta["content"].(string); ok {
			text.WriteString(content)
		}
		rawCalls, _ := delta["tool_calls"].([]any)
		for _, raw := range rawCalls {
			call := raw.(map[string]any)
			index := int(call["index"].(float64))
			function := object(t, call, "function")
			if id, ok := call["id"].(string); ok {
				if index != len(calls) {
					t.Fatalf("call opened at index %d, want %d", index, len(calls))
				}
				if !strings.HasPrefix(id, "call_") || call["type"] != "function" {
					t.Errorf("opening delta %v lacks a call_ id or type function", call)
				}
				if function["arguments"] != "" {
					t.Errorf("opening delta arguments = %v, want empty", function["arguments"])
				}
				calls = append(calls, wantCall{name: function["name"].(string)})
				continue
			}
			if index >= len(calls) {
				t.Fatalf("fragment for call %d before it opened", index)
			}
			if _, ok := function["name"]; ok {
				t.Errorf("fragment repeats the name: %v", call)
			}
			calls[index].arguments += function["arguments"].(string)
			fragments++
		}
	}
	if len(calls) > 0 && fragments < len(calls) {
		t.Errorf("got %d argument fragments for %d calls", fragments, len(calls))
	}
	return text.String(), calls, finish
}

func checkCalls(t *testing.T, got, want []wantCall) {
	t.Helper()

	if len(got) != len(want) {
		t.Fatalf("got calls %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].name != want[i].name {
			t.Errorf("call %d name = %q, want %q", i, got[i].name, want[i].name)
		}
		if got[i].arguments != want[i].arguments {
			t.Errorf("call %d arguments = %q, want %q", i, got[i].arguments, want[i].arguments)
		}
	}
}

func TestOpenAIToolHistoryValidation(t *testing.T) {
	s := startServer(t, standin.OpenAI, standin.Options{})
	const call = `{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}},` +
		`{"id":"call_2","type":"function","function":{"name":"f","arguments":"{}"}}]}`

	tests := []struct {
		name      string
		messages  string
		wantParam string
		wantText  string
	}{
		{name: "tool without caller", messages: `{"role":"user","content":"q"},{"role":"tool","tool_call_id":"call_1","content":"r"}`,
			wantParam: "messages.[1].role", wantText: "must be a response to a preceeding message with 'tool_calls'"},
		{name: "tool without id", messages: `{"role":"user","content":"q"},` + call + `,{"role":"tool","content":"r"}`,
			wantParam: "messages[2].tool_call_id", wantText: "Missing required parameter"},
		{name: "unknown id", messages: `{"role":"user","content":"q"},` + call + `,{"role":"tool","tool_call_id":"call_9","content":"r"}`,
			wantParam: "messages.[2].tool_call_id", wantText: "'call_9' not found"},
		{name: "one call unanswered", messages: `{"role":"user","content":"q"},` + call + `,{"role":"tool","tool_call_id":"call_1","content":"r"},{"role":"user","content":"next"}`,
			wantParam: "messages.[1].role", wantText: "did not have response messages: call_2"},
		{name: "calls unanswered at end", messages: `{"role":"user","content":"q"},` + call,
			wantParam: "messages.[1].role", wantText: "call_1, call_2"},
		{name: "invalid role", messages: `{"role":"robot","content":"q"}`,
			wantParam: "messages[0].role", wantText: "Supported values are"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"model":"gpt-4o","messages":[` + tt.messages + `]}`

			r := send(t, http.MethodPost, s.URL()+"/v1/chat/completions", openAIHeaders(), body)

			if r.status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", r.status, r.body)
			}
			detail := object(t, decode(t, r.body), "error")
			if detail["type"] != "invalid_request_error" {
				t.Errorf("error.type = %v, want invalid_request_error", detail["type"])
			}
			if detail["param"] != tt.wantParam {
				t.Errorf("error.param = %v, want %q", detail["param"], tt.wantParam)
			}
			if msg, _ := detail["message"].(string); !strings.Contains(msg, tt.wantText) {
				t.Errorf("error.message = %q, want it to contain %q", msg, tt.wantText)
			}
		})
	}

	valid := `{"model":"gpt-4o","messages":[{"role":"user","content":"q"},` + call +
		`,{"role":"tool","tool_call_id":"call_2","content":"b"},{"role":"tool","tool_call_id":"call_1","content":"a"}]}`
	r := send(t, http.MethodPost, s.URL()+"/v1/chat/completions", openAIHeaders(), valid)
	if r.status != http.StatusOK {
		t.Fatalf("answered history: status = %d, want 200; body %s", r.status, r.body)
	}
	if text, _, _ := readOpenAICompletion(t, r.body); text != "openai stand-in reply: b\na" {
		t.Errorf("reply to tool results = %q, want both results echoed in order", text)
	}
}

func TestAnthropicToolUse(t *testing.T) {
	s := startServer(t, standin.Anthropic, standin.Options{Name: "anthropic"})
	tools := `"tools":[` + anthropicWeatherTool + `,` + anthropicChartTool + `]`

	tests := []struct {
		name      string
		body      string
		wantCalls []wantCall
		wantText  string
	}{
		{
			name:      "instructed call",
			body:      `{"model":"claude-sonnet-4-5","max_tokens":64,` + tools + `,"messages":[{"role":"user","content":"call tool get_weather with {\"city\":\"Springfield\"}"}]}`,
			wantCalls: []wantCall{{"get_weather", `{"city":"Springfield"}`}},
			wantText:  `anthropic stand-in reply: call tool get_weather with {"city":"Springfield"}`,
		},
		{
			name:      "parallel calls",
			body:      `{"model":"claude-sonnet-4-5","max_tokens":64,` + tools + `,"messages":[{"role":"user","content":"call tool get_weather and call tool lookup_chart with {\"id\":7}"}]}`,
			wantCalls: []wantCall{{"get_weather", `{}`}, {"lookup_chart", `{"id":7}`}},
			wantText:  `anthropic stand-in reply: call tool get_weather and call tool lookup_chart with {"id":7}`,
		},
		{
			name:      "any without instruction",
			body:      `{"model":"claude-sonnet-4-5","max_tokens":64,` + tools + `,"tool_choice":{"type":"any"},"messages":[{"role":"user","content":"hello"}]}`,
			wantCalls: []wantCall{{"get_weather", `{}`}},
			wantText:  "anthropic stand-in reply: hello",
		},
		{
			name:      "parallel disabled",
			body:      `{"model":"claude-sonnet-4-5","max_tokens":64,` + tools + `,"tool_choice":{"type":"auto","disable_parallel_tool_use":true},"messages":[{"role":"user","content":"call tool get_weather and call tool lookup_chart"}]}`,
			wantCalls: []wantCall{{"get_weather", `{}`}},
			wantText:  "anthropic stand-in reply: call tool get_weather and call tool lookup_chart",
		},
		{
			name: "tool result ends conversation",
			body: `{"model":"claude-sonnet-4-5","max_tokens":64,` + tools + `,"messages":[{"role":"user","content":"call tool get_weather"},` +
				`{"role":"assistant","content":[{"type":"text","text":"checking"},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}]},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"sunny, 21 C"}]}]}]}`,
			wantText: "anthropic stand-in reply: sunny, 21 C",
		},
	}

	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name
			body := tt.body
			if stream {
				name += " streamed"
				body = strings.Replace(body, `{"model"`, `{"stream":true,"model"`, 1)
			}
			t.Run(name, func(t *testing.T) {
				r := send(t, http.MethodPost, s.URL()+"/v1/messages", anthropicHeaders(), body)
				if r.status != http.StatusOK {
					t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
				}

				var text, stopReason string
				var calls []wantCall
				if stream {
					text, calls, stopReason = assembleAnthropicStream(t, r.body)
				} else {
					text, calls, stopReason = readAnthropicMessage(t, r.body)
				}
				checkCalls(t, calls, tt.wantCalls)
				if text != tt.wantText {
					t.Errorf("text = %q, want %q", text, tt.wantText)
				}
				wantStop := "end_turn"
				if len(tt.wantCalls) > 0 {
					wantStop = "tool_use"
				}
				if stopReason != wantStop {
					t.Errorf("stop_reason = %q, want %q", stopReason, wantStop)
				}
			})
		}
	}
}

// readAnthropicMessage returns the text, tool calls (with their input
// re-encoded compactly) and stop reason of a message.
func readAnthropicMessage(t *testing.T, body []byte) (string, []wantCall, string) {
	t.Helper()

	v := decode(t, body)
	stopReason, _ := v["stop_reason"].(string)
	var text strings.Builder
	var calls []wantCall
	for _, raw := range array(t, v, "content") {
		block := raw.(map[string]any)
		switch block["type"] {
		case "text":
			text.WriteString(block["text"].(string))
		case "tool_use":
			if id, _ := block["id"].(string); !strings.HasPrefix(id, "toolu_") {
				t.Errorf("tool_use id = %v, want a toolu_ id", block["id"])
			}
			input, err := json.Marshal(object(t, block, "input"))
			if err != nil {
				t.Fatalf("encoding input: %v", err)
			}
			calls = append(calls, wantCall{name: block["name"].(string), arguments: string(input)})
		default:
			t.Errorf("unexpected block type %v", block["type"])
		}
	}
	return text.String(), calls, stopReason
}

// assembleAnthropicStream rebuilds the text, tool calls and stop reason of
// a streamed message, checking block indexes and delta types.
func assembleAnthropicStream(t *testing.T, body []byte) (string, []wantCall, string) {
	t.Helper()

	var text strings.Builder
	var calls []wantCall
	var stopReason string
	blockTypes := map[int]string{}
	callAt := map[int]int{}
	emptyFirstFragment := map[int]bool{}

	for _, e := range parseEvents(t, body) {
		data := decode(t, []byte(e.data))
		if data["type"] != e.name {
			t.Errorf("event %q carries type %v", e.name, data["type"])
		}
		switch e.name {
		case "content_block_start":
			index := int(data["index"].(float64))
			if index != len(blockTypes) {
				t.Errorf("block started at index %d, want %d", index, len(blockTypes))
			}
			block := object(t, data, "content_block")
			blockTypes[index] = block["type"].(string)
			if block["type"] == "tool_use" {
				if input := object(t, block, "input"); len(input) != 0 {
					t.Errorf("tool_use starts with input %v, want {}", input)
				}
				callAt[index] = len(calls)
				calls = append(calls, wantCall{name: block["name"].(string)})
			}
		case "content_block_delta":
			index := int(data["index"].(float64))
			delta := object(t, data, "delta")
			switch blockTypes[index] {
			case "text":
				if delta["type"] != "text_delta" {
					t.Errorf("text block delta type = %v", delta["type"])
				}
				text.WriteString(delta["text"].(string))
			case "tool_use":
				if delta["type"] != "input_json_delta" {
					t.Errorf("tool_use block delta type = %v", delta["type"])
				}
				fragment := delta["partial_json"].(string)
				if calls[callAt[index]].arguments == "" && fragment == "" {
					emptyFirstFragment[index] = true
				}
				calls[callAt[index]].arguments += fragment
			default:
				t.Errorf("delta for unopened block %d", index)
			}
		case "message_delta":
			stopReason, _ = object(t, data, "delta")["stop_reason"].(string)
		}
	}
	for index := range callAt {
		if !emptyFirstFragment[index] {
			t.Errorf("tool_use block %d did not start with an empty partial_json", index)
		}
	}
	return text.String(), calls, stopReason
}

func TestAnthropicToolHistoryValidation(t *testing.T) {
	const use = `{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{}},{"type":"tool_use","id":"toolu_2","name":"f","input":{}}]}`
	const results = `{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"a"},{"type":"tool_result","tool_use_id":"toolu_2","content":"b"}]}`

	tests := []struct {
		name     string
		strict   bool
		messages string
		wantText string
	}{
		{name: "result without tool_use", messages: `{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_9","content":"x"}]}`,
			wantText: "messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_9"},
		{name: "result for older turn", messages: `{"role":"user","content":"q"},` + use + `,` + results + `,{"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"again"}]}`,
			wantText: "messages.4.content.0: unexpected `tool_use_id`"},
		{name: "tool_use without result", messages: `{"role":"user","content":"q"},` + use + `,{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"a"}]}`,
			wantText: "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_2"},
		{name: "result missing id", messages: `{"role":"user","content":[{"type":"tool_result","content":"x"}]}`,
			wantText: "tool_use_id: Field required"},
		{name: "empty content", messages: `{"role":"user","content":""}`,
			wantText: "all messages must have non-empty content"},
		{name: "strict consecutive users", strict: true, messages: `{"role":"user","content":"a"},{"role":"user","content":"b"}`,
			wantText: `roles must alternate between "user" and "assistant", but found multiple "user" roles in a row`},
		{name: "strict assistant first", strict: true, messages: `{"role":"assistant","content":"a"},{"role":"user","content":"b"}`,
			wantText: `first message must use the "user" role`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, standin.Anthropic, standin.Options{StrictRoleAlternation: tt.strict})
			body := `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[` + tt.messages + `]}`

			r := send(t, http.MethodPost, s.URL()+"/v1/messages", anthropicHeaders(), body)

			if r.status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", r.status, r.body)
			}
			detail := object(t, decode(t, r.body), "error")
			if detail["type"] != "invalid_request_error" {
				t.Errorf("error.type = %v, want invalid_request_error", detail["type"])
			}
			if msg, _ := detail["message"].(string); !strings.Contains(msg, tt.wantText) {
				t.Errorf("error.message = %q, want it to contain %q", msg, tt.wantText)
			}
		})
	}
}

func TestAnthropicAcceptsValidHistories(t *testing.T) {
	const use = `{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{}},{"type":"tool_use","id":"toolu_2","name":"f","input":{}}]}`

	tests := []struct {
		name     string
		messages string
		wantText string
	}{
		{name: "results split across merged user messages",
			messages: `{"role":"user","content":"q"},` + use + `,{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"a"}]},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_2","content":"b"},{"type":"text","text":"go on"}]}`,
			wantText: "anthropic stand-in reply: b\ngo on"},
		{name: "consecutive user messages merged", messages: `{"role":"user","content":"a"},{"role":"user","content":"b"}`,
			wantText: "anthropic stand-in reply: b"},
		{name: "final assistant prefill may be empty", messages: `{"role":"user","content":"a"},{"role":"assistant","content":""}`,
			wantText: "anthropic stand-in reply: a"},
	}

	s := startServer(t, standin.Anthropic, standin.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[` + tt.messages + `]}`

			r := send(t, http.MethodPost, s.URL()+"/v1/messages", anthropicHeaders(), body)

			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
			}
			if text, _, _ := readAnthropicMessage(t, r.body); text != tt.wantText {
				t.Errorf("text = %q, want %q", text, tt.wantText)
			}
		})
	}
}
