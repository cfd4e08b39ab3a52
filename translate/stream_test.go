package translate

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phigate/phigate/provider"
)

// TestStreamSameFormatUnchanged checks that a same-format stream with no
// filter, or a filter that changes nothing, passes through byte for byte.
func TestStreamSameFormatUnchanged(t *testing.T) {
	for _, path := range goldenCases(t, "stream", "sse") {
		from, to := direction(t, filepath.Dir(path))
		if from != to || strings.Contains(path, "truncated") || strings.Contains(path, "no_done") || strings.Contains(path, "two_choices") {
			continue
		}
		input := readCase(t, path)
		t.Run(path, func(t *testing.T) {
			for name, filter := range map[string]TextFilter{"nil": nil, "identity": identityFilter{}} {
				got := runStream(from, to, filter, input, nil)
				if !bytes.Equal(got, input) {
					t.Errorf("%s filter changed the stream\n--- got:\n%q\n--- want:\n%q", name, got, input)
				}
			}
		})
	}
}

type identityFilter struct{}

func (identityFilter) Next(_ PartKey, text string) string { return text }
func (identityFilter) Flush(PartKey) string               { return "" }

// holdAllFilter holds every text until its part ends, the extreme case of
// a filter that holds text back.
type holdAllFilter struct{ held map[PartKey]string }

func (f *holdAllFilter) Next(key PartKey, text string) string {
	f.held[key] += text
	return ""
}

func (f *holdAllFilter) Flush(key PartKey) string {
	s := f.held[key]
	delete(f.held, key)
	return strings.ToUpper(s)
}

func TestStreamFilterHoldsUntilPartEnds(t *testing.T) {
	cases := []struct {
		name     string
		from, to provider.Format
		file     string
		want     []string // in this order in the output
	}{
		{"anthropic same format", provider.FormatAnthropic, provider.FormatAnthropic, "anthropic_to_anthropic/text.sse",
			[]string{`"text":"HELLO [NAME_1], CAFÉ ☕ SEE [NAME"`, `event: content_block_stop`, `event: message_stop`}},
		{"anthropic tool input", provider.FormatAnthropic, provider.FormatAnthropic, "anthropic_to_anthropic/tool_use.sse",
			[]string{`"partial_json":"{\"NAME\": \"[NAME_1]\"}"`, `{"type":"content_block_stop","index":1}`}},
		{"openai same format", provider.FormatOpenAI, provider.FormatOpenAI, "openai_to_openai/text.sse",
			[]string{`"content":"HELLO [NAME_1], CAFÉ ☕ SEE [NAME"`, `"finish_reason":"stop"`, `data: [DONE]`}},
		{"openai content in finish chunk", provider.FormatOpenAI, provider.FormatOpenAI, "openai_to_openai/finish_with_content.sse",
			[]string{`"content":"BYE [NAME_1] AND [NAME"},"logprobs":null,"finish_reason":"stop"`}},
		{"anthropic to openai", provider.FormatAnthropic, provider.FormatOpenAI, "anthropic_to_openai/tool_use.sse",
			[]string{`"content":"CHECKING."`, `"arguments":"{\"NAME\": \"[NAME_1]\"}"`, `"finish_reason":"tool_calls"`}},
		{"openai to anthropic", provider.FormatOpenAI, provider.FormatAnthropic, "openai_to_anthropic/text_then_tool.sse",
			[]string{`"text":"CHECKING [NAME"`, `{"type":"content_block_stop","index":0}`, `"partial_json":"{}"`, `{"type":"content_block_stop","index":1}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			input := readCase(t, filepath.Join("testdata", "stream", tc.file))
			filter := &holdAllFilter{held: map[PartKey]string{}}
			got := string(runStream(tc.from, tc.to, filter, input, nil))
			if len(filter.held) != 0 {
				t.Errorf("parts never flushed: %v", filter.held)
			}
			at := 0
			for _, w := range tc.want {
				i := strings.Index(got[at:], w)
				if i < 0 {
					t.Fatalf("output lacks %s after byte %d\n%s", w, at, got)
				}
				at += i + len(w)
			}
		})
	}
}

func TestStreamEventTooLarge(t *testing.T) {
	s := NewStream(provider.FormatAnthropic, provider.FormatOpenAI, nil)
	big := append([]byte("data: "), bytes.Repeat([]byte("x"), MaxEventBytes)...)
	out, err := s.Write(big)
	if !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("Write error = %v, want ErrEventTooLarge", err)
	}
	if !bytes.Contains(out, []byte(`"error":`)) {
		t.Errorf("client stream not ended with an error event: %s", out)
	}
	if _, err := s.Write([]byte("data: {}\n\n")); !errors.Is(err, ErrEventTooLarge) {
		t.Errorf("later Write error = %v, want the first error again", err)
	}
	if out, err := s.Close(); !errors.Is(err, ErrEventTooLarge) || len(out) != 0 {
		t.Errorf("Close = %q, %v; want no bytes and the first error", out, err)
	}
}

func TestStreamWriteAfterClose(t *testing.T) {
	s := NewStream(provider.FormatOpenAI, provider.FormatOpenAI, nil)
	if _, err := s.Write([]byte("data: [DONE]\n\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Close(); err != nil {
		t.Fatalf("Close after [DONE]: %v", err)
	}
	if _, err := s.Write([]byte("data: x\n\n")); !errors.Is(err, ErrStreamClosed) {
		t.Errorf("Write after Close = %v, want ErrStreamClosed", err)
	}
}

func TestStreamUnknownFormat(t *testing.T) {
	s := NewStream("gemini", provider.FormatOpenAI, nil)
	if _, err := s.Write([]byte("data: {}\n\n")); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Write = %v, want ErrUnknownFormat", err)
	}
}

func TestStreamEmptyUpstream(t *testing.T) {
	for _, to := range []provider.Format{provider.FormatOpenAI, provider.FormatAnthropic} {
		s := NewStream(provider.FormatAnthropic, to, nil)
		out, err := s.Close()
		if !errors.Is(err, ErrStreamTruncated) {
			t.Errorf("%s: Close = %v, want ErrStreamTruncated", to, err)
		}
		if !bytes.Contains(out, []byte("error")) {
			t.Errorf("%s: no error event in %q", to, out)
		}
	}
}

func TestReplaceModel(t *testing.T) {
	cases := []struct {
		name, body, model, want string
	}{
		{"replaced in place", `{"a":1, "model" :"x","b":[2]}`, "y", `{"a":1, "model" :"y","b":[2]}`},
		{"nested model kept", `{"m":{"model":"x"},"model":"x"}`, "y", `{"m":{"model":"x"},"model":"y"}`},
		{"inserted", `{"a":1}`, "y", `{"model":"y","a":1}`},
		{"inserted into empty", ` { } `, "y", ` {"model":"y" } `},
		{"no model option", `{"model":"x"}`, "", `{"model":"x"}`},
		{"escaped", `{"model":"x"}`, `a"b`, `{"model":"a\"b"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Request(provider.FormatOpenAI, provider.FormatOpenAI, []byte(tc.body), RequestOptions{Model: tc.model})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := Request(provider.FormatOpenAI, provider.FormatOpenAI, []byte(`[1]`), RequestOptions{Model: "y"}); !errors.Is(err, ErrInvalidBody) {
		t.Errorf("array body: err = %v, want ErrInvalidBody", err)
	}
}

func TestResponseFilterOutputMustStayJSON(t *testing.T) {
	body := readCase(t, "testdata/response/anthropic_to_anthropic/tool_use.json")
	_, err := Response(provider.FormatAnthropic, provider.FormatAnthropic, body, breakJSONFilter{})
	if !errors.Is(err, ErrInvalidBody) {
		t.Errorf("err = %v, want ErrInvalidBody", err)
	}
}

type breakJSONFilter struct{}

func (breakJSONFilter) Next(key PartKey, text string) string {
	if key.Kind == PartJSON {
		return text + "{"
	}
	return text
}
func (breakJSONFilter) Flush(PartKey) string { return "" }
