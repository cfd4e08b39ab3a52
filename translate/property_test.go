package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/phigate/phigate/provider"
)

// TestStreamChunkingInvariance feeds every recorded stream split at every
// offset into two chunks, and in random chunkings, and expects the output of
// a single chunk each time.
func TestStreamChunkingInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, path := range goldenCases(t, "stream", "sse") {
		t.Run(path, func(t *testing.T) {
			from, to := direction(t, filepath.Dir(path))
			input := readCase(t, path)
			want := runStream(from, to, newRestoreFilter(), input, nil)

			for at := 1; at < len(input); at++ {
				got := runStream(from, to, newRestoreFilter(), input, []int{at})
				if !bytes.Equal(got, want) {
					t.Fatalf("split at byte %d changes the output\n--- got:\n%s\n--- want:\n%s", at, got, want)
				}
			}
			for range 200 {
				splits := randomSplits(rng, len(input))
				got := runStream(from, to, newRestoreFilter(), input, splits)
				if !bytes.Equal(got, want) {
					t.Fatalf("chunking %v changes the output\n--- got:\n%s\n--- want:\n%s", splits, got, want)
				}
			}
		})
	}
}

// randomSplits returns sorted split offsets in (0, n), including empty
// chunks and runs of one-byte chunks.
func randomSplits(rng *rand.Rand, n int) []int {
	var splits []int
	for at := 0; at < n; {
		switch rng.IntN(4) {
		case 0:
			at++ // one-byte chunk
		case 1:
			// an empty chunk: repeat the offset
		default:
			at += 1 + rng.IntN(64)
		}
		if at > 0 && at < n {
			splits = append(splits, at)
		}
	}
	return splits
}

// TestRequestRoundTrip translates each request case to the other format
// and back, and expects the fields both formats carry to mean the same.
func TestRequestRoundTrip(t *testing.T) {
	tested := 0
	for _, path := range goldenCases(t, "request", "json") {
		from, to := direction(t, filepath.Dir(path))
		if from == to {
			continue
		}
		body := readCase(t, path)
		there, err := Request(from, to, body, RequestOptions{})
		if err != nil {
			continue // the golden file records the rejection
		}
		tested++
		t.Run(path, func(t *testing.T) {
			back, err := Request(to, from, there, RequestOptions{})
			if err != nil {
				t.Fatalf("translating back: %v\nintermediate: %s", err, there)
			}
			want, got := meaning(t, from, body), meaning(t, from, back)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("meaning changed\n--- got:  %s\n--- want: %s\nintermediate: %s", mustJSON(got), mustJSON(want), there)
			}
		})
	}
	if tested < 8 {
		t.Fatalf("only %d request cases round-trip; the test needs more", tested)
	}
}

// TestRequestRoundTripRandom does the same for generated conversations.
func TestRequestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		body := randomOpenAIRequest(rng)
		there, err := Request(provider.FormatOpenAI, provider.FormatAnthropic, body, RequestOptions{})
		if err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, body)
		}
		back, err := Request(provider.FormatAnthropic, provider.FormatOpenAI, there, RequestOptions{})
		if err != nil {
			t.Fatalf("case %d back: %v\n%s", i, err, there)
		}
		want, got := meaning(t, provider.FormatOpenAI, body), meaning(t, provider.FormatOpenAI, back)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: meaning changed\n--- got:  %s\n--- want: %s", i, mustJSON(got), mustJSON(want))
		}

		// The Anthropic form must survive its own round trip as well.
		again, err := Request(provider.FormatOpenAI, provider.FormatAnthropic, back, RequestOptions{})
		if err != nil {
			t.Fatalf("case %d again: %v", i, err)
		}
		if a, b := meaning(t, provider.FormatAnthropic, there), meaning(t, provider.FormatAnthropic, again); !reflect.DeepEqual(a, b) {
			t.Fatalf("case %d: Anthropic meaning changed\n--- got:  %s\n--- want: %s", i, mustJSON(b), mustJSON(a))
		}
	}
}

// randomOpenAIRequest builds a conversation of user, assistant and tool
// turns with text, images and tool calls in random shapes.
func randomOpenAIRequest(rng *rand.Rand) []byte {
	words := []string{"alpha", "beta", "<gamma>", "delta & co", "caf\u00e9", "\"quoted\"", "line\nbreak"}
	text := func() string { return words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))] }
	content := func() any {
		if rng.IntN(2) == 0 {
			return text()
		}
		parts := []any{}
		for range 1 + rng.IntN(3) {
			if rng.IntN(4) == 0 {
				parts = append(parts, map[string]any{"type": "image_url", "image_url": map[string]any{"url": "https://example.com/" + string(rune('a'+rng.IntN(26))) + ".png"}})
			} else {
				parts = append(parts, map[string]any{"type": "text", "text": text()})
			}
		}
		return parts
	}

	req := map[string]any{"model": "gpt-4o", "max_tokens": 1 + rng.IntN(1000)}
	var messages []any
	if rng.IntN(2) == 0 {
		messages = append(messages, map[string]any{"role": "system", "content": text()})
	}
	calls := 0
	for range 1 + rng.IntN(6) {
		messages = append(messages, map[string]any{"role": "user", "content": content()})
		if rng.IntN(2) == 0 {
			n := 1 + rng.IntN(2)
			var toolCalls []any
			for range n {
				calls++
				id := "call_" + string(rune('a'+calls%26)) + string(rune('0'+calls/26))
				toolCalls = append(toolCalls, map[string]any{"id": id, "type": "function",
					"function": map[string]any{"name": "lookup", "arguments": `{"q":"` + words[rng.IntN(3)] + `"}`}})
			}
			assistant := map[string]any{"role": "assistant", "tool_calls": toolCalls, "content": nil}
			if rng.IntN(2) == 0 {
				assistant["content"] = text()
			}
			messages = append(messages, assistant)
			for _, call := range toolCalls {
				messages = append(messages, map[string]any{"role": "tool", "tool_call_id": call.(map[string]any)["id"], "content": text()})
			}
		}
		messages = append(messages, map[string]any{"role": "assistant", "content": text()})
	}
	req["messages"] = messages
	if rng.IntN(2) == 0 {
		req["tools"] = []any{map[string]any{"type": "function", "function": map[string]any{"name": "lookup", "description": text(),
			"parameters": map[string]any{"type": "object", "properties": map[string]any{"q": map[string]any{"type": "string"}}}}}}
		req["tool_choice"] = []any{"auto", "none", "required", map[string]any{"type": "function", "function": map[string]any{"name": "lookup"}}}[rng.IntN(4)]
		if rng.IntN(2) == 0 {
			req["parallel_tool_calls"] = false
		}
	}
	if rng.IntN(2) == 0 {
		req["temperature"] = float64(rng.IntN(11)) / 10
	}
	if rng.IntN(2) == 0 {
		req["stop"] = []any{"END", "STOP"}[:1+rng.IntN(2)]
	}
	if rng.IntN(2) == 0 {
		req["stream"] = true
	}
	if rng.IntN(2) == 0 {
		req["user"] = "user-" + string(rune('a'+rng.IntN(26)))
	}
	return mustJSON(req)
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// meaning reduces a request to what both formats carry, in one shape:
// system texts, turns of parts with consecutive same-role turns merged,
// sampling fields, tools and tool choice.
func meaning(t *testing.T, format provider.Format, body []byte) map[string]any {
	t.Helper()
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	if format == provider.FormatOpenAI {
		return openAIMeaning(req)
	}
	return anthropicMeaning(req)
}

type turn struct {
	Role  string
	Parts []any
}

func mergeTurn(turns []turn, role string, parts ...any) []turn {
	if n := len(turns); n > 0 && turns[n-1].Role == role {
		turns[n-1].Parts = append(turns[n-1].Parts, parts...)
		return turns
	}
	return append(turns, turn{role, parts})
}

func textParts(content any) []any {
	switch c := content.(type) {
	case string:
		if c == "" {
			return nil
		}
		return []any{"text:" + c}
	case []any:
		var out []any
		for _, p := range c {
			part := p.(map[string]any)
			switch part["type"] {
			case "text":
				out = append(out, "text:"+part["text"].(string))
			case "refusal":
				out = append(out, "text:"+part["refusal"].(string))
			case "image_url":
				out = append(out, "image:"+part["image_url"].(map[string]any)["url"].(string))
			case "image":
				src := part["source"].(map[string]any)
				if src["type"] == "url" {
					out = append(out, "image:"+src["url"].(string))
				} else {
					out = append(out, "image:data:"+src["media_type"].(string)+";base64,"+src["data"].(string))
				}
			case "file":
				f := part["file"].(map[string]any)
				out = append(out, "document:"+f["filename"].(string)+":"+f["file_data"].(string))
			case "document":
				src := part["source"].(map[string]any)
				title, _ := part["title"].(string)
				if title == "" {
					title = defaultDocumentName // what the translation names an untitled PDF
				}
				out = append(out, "document:"+title+":data:"+src["media_type"].(string)+";base64,"+src["data"].(string))
			case "tool_use":
				out = append(out, map[string]any{"call": part["id"], "name": part["name"], "input": part["input"]})
			case "tool_result":
				out = append(out, map[string]any{"result": part["tool_use_id"], "content": textParts(part["content"])})
			default:
				out = append(out, "unknown:"+part["type"].(string))
			}
		}
		return out
	}
	return nil
}

func openAIMeaning(req map[string]any) map[string]any {
	m := map[string]any{}
	var system []any
	var turns []turn
	for _, raw := range req["messages"].([]any) {
		msg := raw.(map[string]any)
		switch msg["role"] {
		case "system", "developer":
			system = append(system, textParts(msg["content"])...)
		case "tool":
			turns = mergeTurn(turns, "user", map[string]any{"result": msg["tool_call_id"], "content": textParts(msg["content"])})
		case "assistant":
			parts := textParts(msg["content"])
			if r, ok := msg["refusal"].(string); ok && r != "" {
				parts = append(parts, "text:"+r)
			}
			calls, _ := msg["tool_calls"].([]any)
			for _, c := range calls {
				call := c.(map[string]any)
				fn := call["function"].(map[string]any)
				var input any = map[string]any{}
				if args := fn["arguments"].(string); args != "" {
					_ = json.Unmarshal([]byte(args), &input)
				}
				parts = append(parts, map[string]any{"call": call["id"], "name": fn["name"], "input": input})
			}
			turns = mergeTurn(turns, "assistant", parts...)
		default:
			turns = mergeTurn(turns, msg["role"].(string), textParts(msg["content"])...)
		}
	}
	m["system"], m["turns"] = system, turns
	// A request without a limit gets DefaultMaxTokens, which is documented.
	m["max_tokens"] = float64(DefaultMaxTokens)
	if v, ok := req["max_completion_tokens"]; ok {
		m["max_tokens"] = v
	} else if v, ok := req["max_tokens"]; ok {
		m["max_tokens"] = v
	}
	for _, key := range []string{"temperature", "top_p"} {
		if v, ok := req[key]; ok {
			m[key] = v
		}
	}
	switch stop := req["stop"].(type) {
	case string:
		m["stop"] = []any{stop}
	case []any:
		m["stop"] = stop
	}
	m["stream"] = req["stream"] == true
	if user, ok := req["user"]; ok {
		m["user"] = user
	}
	if id, ok := req["safety_identifier"]; ok {
		m["user"] = id
	}
	tools, _ := req["tools"].([]any)
	var outTools []any
	for _, raw := range tools {
		fn := raw.(map[string]any)["function"].(map[string]any)
		params := fn["parameters"]
		if params == nil {
			params = map[string]any{"type": "object", "properties": map[string]any{}}
		}
		outTools = append(outTools, map[string]any{"name": fn["name"], "description": fn["description"], "schema": params})
	}
	m["tools"] = outTools
	if len(tools) > 0 {
		choice := "auto"
		switch c := req["tool_choice"].(type) {
		case string:
			choice = c
		case map[string]any:
			choice = "tool:" + c["function"].(map[string]any)["name"].(string)
		}
		m["tool_choice"] = choice
		m["parallel"] = req["parallel_tool_calls"] != false || choice == "none"
	}
	return m
}

func anthropicMeaning(req map[string]any) map[string]any {
	m := map[string]any{}
	var system []any
	switch s := req["system"].(type) {
	case string:
		system = []any{"text:" + s}
	case []any:
		system = textParts(s)
	}
	var turns []turn
	for _, raw := range req["messages"].([]any) {
		msg := raw.(map[string]any)
		parts := textParts(msg["content"])
		turns = mergeTurn(turns, msg["role"].(string), parts...)
	}
	m["system"], m["turns"] = system, turns
	for _, key := range []string{"max_tokens", "temperature", "top_p"} {
		if v, ok := req[key]; ok {
			m[key] = v
		}
	}
	if stop, ok := req["stop_sequences"]; ok {
		m["stop"] = stop
	}
	m["stream"] = req["stream"] == true
	if meta, ok := req["metadata"].(map[string]any); ok {
		m["user"] = meta["user_id"]
	}
	tools, _ := req["tools"].([]any)
	var outTools []any
	for _, raw := range tools {
		tool := raw.(map[string]any)
		outTools = append(outTools, map[string]any{"name": tool["name"], "description": tool["description"], "schema": tool["input_schema"]})
	}
	m["tools"] = outTools
	if len(tools) > 0 {
		choice, parallel := "auto", true
		if c, ok := req["tool_choice"].(map[string]any); ok {
			choice = map[string]string{"auto": "auto", "any": "required", "none": "none", "tool": "tool:"}[c["type"].(string)]
			if choice == "tool:" {
				choice += c["name"].(string)
			}
			parallel = c["disable_parallel_tool_use"] != true
		}
		m["tool_choice"], m["parallel"] = choice, parallel || choice == "none"
	}
	return m
}

// TestRequestErrorsNameNoValues checks that rejections name fields, not
// the text of the request.
func TestRequestErrorsNameNoValues(t *testing.T) {
	secret := "Secret Value 078-05-1120"
	cases := []struct {
		name string
		from provider.Format
		body string
	}{
		{"unknown field name", provider.FormatOpenAI, `{"model":"m","messages":[],"` + secret + `":1}`},
		{"role value", provider.FormatOpenAI, `{"model":"m","messages":[{"role":"` + secret + `","content":"x"}]}`},
		{"part type", provider.FormatOpenAI, `{"model":"m","messages":[{"role":"user","content":[{"type":"` + secret + `"}]}]}`},
		{"service tier", provider.FormatOpenAI, `{"model":"m","messages":[],"service_tier":"` + secret + `"}`},
		{"media type", provider.FormatOpenAI, `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:` + secret + `;base64,AAAA"}}]}]}`},
		{"block type", provider.FormatAnthropic, `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"` + secret + `"}]}]}`},
		{"tool type", provider.FormatAnthropic, `{"model":"m","max_tokens":1,"tools":[{"type":"` + secret + `","name":"x"}],"messages":[]}`},
		{"bad arguments", provider.FormatOpenAI, `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"` + secret + `"}}]}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			to := provider.FormatAnthropic
			if tc.from == to {
				to = provider.FormatOpenAI
			}
			_, err := Request(tc.from, to, []byte(tc.body), RequestOptions{})
			if err == nil {
				t.Fatal("expected an error")
			}
			if strings.Contains(err.Error(), "Secret") || strings.Contains(err.Error(), "078-05") {
				t.Errorf("error repeats request text: %v", err)
			}
			var unsupported *UnsupportedError
			if !errors.As(err, &unsupported) && !errors.Is(err, ErrInvalidBody) {
				t.Errorf("error is neither *UnsupportedError nor ErrInvalidBody: %v", err)
			}
		})
	}
}

func TestErrorTypesCoverBothDirections(t *testing.T) {
	anthropicTypes := []string{"invalid_request_error", "authentication_error", "billing_error", "permission_error",
		"not_found_error", "request_too_large", "rate_limit_error", "api_error", "timeout_error", "overloaded_error"}
	for _, errType := range anthropicTypes {
		status, body := Error(provider.FormatAnthropic, provider.FormatOpenAI, 500, mustJSON(map[string]any{
			"type": "error", "error": map[string]any{"type": errType, "message": "m"}}))
		var doc openAIErrorBody
		if err := json.Unmarshal(body, &doc); err != nil || doc.Error.Message != "m" || doc.Error.Type == "" {
			t.Errorf("%s: body %s is not an OpenAI error with the message", errType, body)
		}
		back, _ := Error(provider.FormatOpenAI, provider.FormatAnthropic, status, body)
		if (status >= 500) != (back >= 500) || (status == 429) != (back == 429) {
			t.Errorf("%s: status %d came back as %d, changing its retry class", errType, status, back)
		}
	}
	if !slices.Contains(anthropicTypes, "overloaded_error") {
		t.Fatal("table lost overloaded_error")
	}
}
