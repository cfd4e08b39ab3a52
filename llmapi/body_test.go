package llmapi

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pathValue is the part of a Text that tests compare.
type pathValue struct {
	Path  string
	Value string
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	return data
}

// checkSpans checks that every text's raw span is one JSON string token
// that decodes to its Value, which is what Rewrite relies on.
func checkSpans(t *testing.T, b *Body) {
	t.Helper()
	if !b.JSON {
		return
	}
	for i, text := range b.Texts {
		if text.start < 0 || text.end > len(b.raw) || text.start >= text.end {
			t.Errorf("Texts[%d] (%s): span [%d, %d) is outside the %d-byte body", i, text.Path, text.start, text.end, len(b.raw))
			continue
		}
		var got string
		if err := json.Unmarshal(b.raw[text.start:text.end], &got); err != nil {
			t.Errorf("Texts[%d] (%s): span %q is not a JSON string: %v", i, text.Path, b.raw[text.start:text.end], err)
			continue
		}
		if got != text.Value {
			t.Errorf("Texts[%d] (%s): span decodes to %q, but Value is %q", i, text.Path, got, text.Value)
		}
	}
}

func TestParseBody(t *testing.T) {
	tests := []struct {
		name        string
		fixture     string // file under testdata, used when body is nil
		body        []byte
		json        bool
		model       string
		stream      bool
		attachments int
		texts       []pathValue
	}{
		{
			name:    "openai chat with tools",
			fixture: "openai_chat.json",
			json:    true,
			model:   "gpt-4o",
			stream:  true,
			texts: []pathValue{
				{"messages[0].content", "You are a clinical scribe."},
				{"messages[1].name", "jane_roe"},
				{"messages[1].content", "Patient Jane Roe, phone 555-0100."},
				{"messages[2].tool_calls[0].function.name", "lookup_chart"},
				{"messages[2].tool_calls[0].function.arguments", `{"mrn":"MRN-000123"}`},
				{"messages[3].content", "Chart for Jane Roe found."},
				{"tools[0].function.name", "lookup_chart"},
				{"tools[0].function.description", "Look up a chart by record number."},
				{"tools[0].function.parameters.type", "object"},
				{"tools[0].function.parameters.properties.mrn.type", "string"},
				{"tools[0].function.parameters.properties.mrn.description", "Medical record number"},
				{"tools[0].function.parameters.required[0]", "mrn"},
			},
		},
		{
			name:        "openai content parts",
			fixture:     "openai_parts.json",
			json:        true,
			model:       "gpt-4o-mini",
			attachments: 3,
			texts: []pathValue{
				{"messages[0].content[0].text", "Describe this rash."},
				{"messages[0].content[1].image_url.url", "https://example.com/rash.png"},
				{"messages[0].content[3].input_audio.format", "wav"},
				{"messages[0].content[4].file.filename", "visit-note.pdf"},
			},
		},
		{
			name:        "anthropic messages",
			fixture:     "anthropic_messages.json",
			json:        true,
			model:       "claude-sonnet-4-5",
			attachments: 1,
			texts: []pathValue{
				{"system", "You summarise visit notes."},
				{"messages[0].content[0].text", "Summarise the note for Jane Roe."},
				{"messages[1].content[0].name", "get_visit"},
				{"messages[1].content[0].input.*{key}", "patient"},
				{"messages[1].content[0].input.*", "Jane Roe"},
				{"messages[1].content[0].input.*{key}", "callback"},
				{"messages[1].content[0].input.*", "555-0142"},
				{"messages[2].content[0].content[0].text", "Visit on March 3, 2031 with Dr. John Doe."},
			},
		},
		{
			name:    "anthropic system blocks",
			fixture: "anthropic_system_blocks.json",
			json:    true,
			model:   "claude-haiku-4-5",
			texts: []pathValue{
				{"system[0].text", "Answer briefly."},
				{"messages[0].content", "My name is John Doe."},
			},
		},
		{
			name:    "escapes decoded",
			fixture: "escapes.json",
			json:    true,
			model:   "gpt-4o",
			texts: []pathValue{
				{"messages[0].content", "Line one\nSaid \"hi\" to Renée \U0001F600 at C:\\notes/x"},
			},
		},
		{
			name:  "stream false",
			body:  []byte(`{"model":"gpt-4o","stream":false,"messages":[]}`),
			json:  true,
			model: "gpt-4o",
		},
		{
			name:  "nested stream ignored",
			body:  []byte(`{"model":"gpt-4o","options":{"stream":true}}`),
			json:  true,
			model: "gpt-4o",
		},
		{
			name:  "nested model scanned, not taken as the model",
			body:  []byte(`{"metadata":{"model":"other"},"model":"gpt-4o"}`),
			json:  true,
			model: "gpt-4o",
			texts: []pathValue{{"metadata.*{key}", "model"}, {"metadata.*", "other"}},
		},
		{
			name:  "structural keys inside tool input scanned",
			body:  []byte(`{"model":"claude","messages":[{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{"id":"999-12-3456","type":"Jane Roe"}}]}]}`),
			json:  true,
			model: "claude",
			texts: []pathValue{
				{"messages[0].content[0].name", "f"},
				{"messages[0].content[0].input.*{key}", "id"},
				{"messages[0].content[0].input.*", "999-12-3456"},
				{"messages[0].content[0].input.*{key}", "type"},
				{"messages[0].content[0].input.*", "Jane Roe"},
			},
		},
		{
			name:  "non-string model",
			body:  []byte(`{"model":42,"prompt":"Hello"}`),
			json:  true,
			texts: []pathValue{{"prompt", "Hello"}},
		},
		{
			name:  "unknown field scanned",
			body:  []byte(`{"model":"gpt-4o","metadata":{"note":"Jane Roe 555-0100"}}`),
			json:  true,
			model: "gpt-4o",
			texts: []pathValue{{"metadata.*{key}", "note"}, {"metadata.*", "Jane Roe 555-0100"}},
		},
		{
			name: "top-level string",
			body: []byte(`"Jane Roe 555-0100"`),
			json: true,
			texts: []pathValue{
				{"$", "Jane Roe 555-0100"},
			},
		},
		{
			name: "top-level array",
			body: []byte(` ["first", {"b": "second"}, [1, "third"]] `),
			json: true,
			texts: []pathValue{
				{"[0]", "first"},
				{"[1].b", "second"},
				{"[2][1]", "third"},
			},
		},
		{
			name: "top-level number",
			body: []byte(`12.5`),
			json: true,
		},
		{
			name:    "truncated JSON",
			fixture: "truncated.txt",
			texts: []pathValue{
				{"$body", `{"model": "gpt-4o", "messages": [{"role": "user", "content": "Jane Roe`},
			},
		},
		{
			name:    "two top-level values",
			fixture: "two_values.txt",
			texts: []pathValue{
				{"$body", "{\"model\":\"gpt-4o\"} {\"model\":\"gpt-4o\"}\n"},
			},
		},
		{
			name:  "plain text",
			body:  []byte("Patient Jane Roe, SSN 999-12-3456"),
			texts: []pathValue{{"$body", "Patient Jane Roe, SSN 999-12-3456"}},
		},
		{
			name:  "trailing comma",
			body:  []byte(`{"a":"b",}`),
			texts: []pathValue{{"$body", `{"a":"b",}`}},
		},
		{
			name:  "trailing garbage",
			body:  []byte(`{"a":"b"}x`),
			texts: []pathValue{{"$body", `{"a":"b"}x`}},
		},
		{
			name: "empty body",
			body: []byte{},
		},
		{
			name: "whitespace body",
			body: []byte(" \n\t"),
			texts: []pathValue{
				{"$body", " \n\t"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == nil {
				body = readFixture(t, tt.fixture)
			}
			b := ParseBody(body)

			if b.JSON != tt.json {
				t.Errorf("JSON = %v, want %v (ParseError %q)", b.JSON, tt.json, b.ParseError)
			}
			if tt.json && b.ParseError != "" {
				t.Errorf("ParseError = %q for a valid body, want empty", b.ParseError)
			}
			if !tt.json && b.ParseError == "" {
				t.Error("ParseError is empty for an invalid body, want the reason")
			}
			if b.Model != tt.model {
				t.Errorf("Model = %q, want %q", b.Model, tt.model)
			}
			if b.Stream != tt.stream {
				t.Errorf("Stream = %v, want %v", b.Stream, tt.stream)
			}
			if b.Attachments != tt.attachments {
				t.Errorf("Attachments = %d, want %d", b.Attachments, tt.attachments)
			}

			var got []pathValue
			for _, text := range b.Texts {
				got = append(got, pathValue{text.Path, text.Value})
			}
			if len(got) != len(tt.texts) {
				t.Errorf("got %d texts, want %d:\ngot  %q\nwant %q", len(got), len(tt.texts), got, tt.texts)
			}
			for i := range min(len(got), len(tt.texts)) {
				if got[i] != tt.texts[i] {
					t.Errorf("Texts[%d] = %q, want %q", i, got[i], tt.texts[i])
				}
			}
			checkSpans(t, b)
		})
	}
}

func TestParseBodyErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // substring of ParseError
	}{
		{name: "empty", body: "", want: "empty body"},
		{name: "two values", body: `{} {}`, want: "more than one top-level value"},
		{name: "two strings", body: `"a" "b"`, want: "more than one top-level value"},
		{name: "unclosed object", body: `{"a":"b"`, want: "invalid JSON"},
		{name: "bad token", body: `{"a":tru}`, want: "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ParseBody([]byte(tt.body))
			if b.JSON {
				t.Fatalf("JSON = true for %q, want false", tt.body)
			}
			if !strings.Contains(b.ParseError, tt.want) {
				t.Errorf("ParseError = %q, want it to contain %q", b.ParseError, tt.want)
			}
		})
	}
}

// TestParseBodyErrorOmitsContent checks that the parse error, which reaches
// policy input and logs, names a position and not the body's text.
func TestParseBodyErrorOmitsContent(t *testing.T) {
	body := []byte(`{"content": "Jane Roe" 999-12-3456}`)
	b := ParseBody(body)
	if b.JSON {
		t.Fatal("JSON = true for an invalid body, want false")
	}
	for _, secret := range []string{"Jane Roe", "999-12-3456"} {
		if strings.Contains(b.ParseError, secret) {
			t.Errorf("ParseError %q contains body text %q", b.ParseError, secret)
		}
	}
}

func TestRewrite(t *testing.T) {
	chat := readFixture(t, "openai_chat.json")
	tests := []struct {
		name         string
		body         []byte
		replacements map[int]string
		model        string
		want         []byte
	}{
		{
			name:         "two texts",
			body:         chat,
			replacements: map[int]string{2: "Patient [PHI:NAME], phone [PHI:PHONE].", 5: "Chart for [PHI:NAME] found."},
			want: replaceAll(t, chat,
				`"Patient Jane Roe, phone 555-0100."`, `"Patient [PHI:NAME], phone [PHI:PHONE]."`,
				`"Chart for Jane Roe found."`, `"Chart for [PHI:NAME] found."`,
			),
		},
		{
			name:         "escaped source",
			body:         readFixture(t, "escapes.json"),
			replacements: map[int]string{0: "Line one"},
			want:         []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"Line one"}]}` + "\n"),
		},
		{
			name:         "special characters",
			body:         []byte(`{"prompt": "x"}`),
			replacements: map[int]string{0: "a \"quoted\" C:\\dir\n<b>é\U0001F600</b>\t\x01"},
			want:         []byte(`{"prompt": "a \"quoted\" C:\\dir\n<b>é` + "\U0001F600" + `</b>\t\u0001"}`),
		},
		{
			name:  "model only",
			body:  chat,
			model: "gpt-4o-2024-08-06",
			want:  replaceAll(t, chat, `"model": "gpt-4o"`, `"model": "gpt-4o-2024-08-06"`),
		},
		{
			name:         "model after texts",
			body:         []byte(`{"messages":[{"role":"user","content":"Jane Roe"}],"model":"m1"}`),
			replacements: map[int]string{0: "[PHI:NAME]"},
			model:        "m2",
			want:         []byte(`{"messages":[{"role":"user","content":"[PHI:NAME]"}],"model":"m2"}`),
		},
		{
			name:  "same model",
			body:  chat,
			model: "gpt-4o",
			want:  chat,
		},
		{
			name:  "no model field",
			body:  []byte(`{"prompt":"hello"}`),
			model: "gpt-4o",
			want:  []byte(`{"prompt":"hello"}`),
		},
		{
			name:         "index out of range",
			body:         []byte(`{"prompt":"hello"}`),
			replacements: map[int]string{7: "ignored"},
			want:         []byte(`{"prompt":"hello"}`),
		},
		{
			name:         "plain text verbatim",
			body:         []byte("Patient Jane Roe, SSN 999-12-3456"),
			replacements: map[int]string{0: "Patient [PHI:NAME], SSN \"[PHI:SSN]\""},
			model:        "ignored",
			want:         []byte("Patient [PHI:NAME], SSN \"[PHI:SSN]\""),
		},
		{
			name:         "top-level string",
			body:         []byte(` "Jane Roe" `),
			replacements: map[int]string{0: "[PHI:NAME]"},
			want:         []byte(` "[PHI:NAME]" `),
		},
		{
			name:         "empty replacement",
			body:         []byte(`{"a":"Jane Roe","b":"kept"}`),
			replacements: map[int]string{0: ""},
			want:         []byte(`{"a":"","b":"kept"}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ParseBody(tt.body)
			got := b.Rewrite(tt.replacements, tt.model)

			if !bytes.Equal(got, tt.want) {
				t.Errorf("Rewrite output differs:\ngot  %s\nwant %s", got, tt.want)
			}
			if b.JSON && !json.Valid(got) {
				t.Errorf("Rewrite output is not valid JSON: %s", got)
			}
		})
	}
}

// TestRewriteRoundTrip checks that every replacement decodes back to the
// exact value given, whatever characters it holds.
func TestRewriteRoundTrip(t *testing.T) {
	values := []string{
		`plain`,
		`"quoted"`,
		`back\slash`,
		"new\nline and\ttab",
		"control \x00\x1f",
		"html <script>&amp;</script>",
		"unicode Renée \U0001F600 \u2028\u2029",
		"invalid utf-8 \xff",
	}
	for _, fixture := range []string{"openai_chat.json", "anthropic_messages.json", "escapes.json"} {
		t.Run(fixture, func(t *testing.T) {
			b := ParseBody(readFixture(t, fixture))
			replacements := map[int]string{}
			for i := range b.Texts {
				replacements[i] = values[i%len(values)]
			}

			out := b.Rewrite(replacements, "")
			if !json.Valid(out) {
				t.Fatalf("Rewrite output is not valid JSON: %s", out)
			}

			again := ParseBody(out)
			if len(again.Texts) != len(b.Texts) {
				t.Fatalf("rewritten body has %d texts, want %d", len(again.Texts), len(b.Texts))
			}
			for i, text := range again.Texts {
				want := strings.ToValidUTF8(replacements[i], "\uFFFD")
				if text.Value != want {
					t.Errorf("Texts[%d] (%s) = %q after rewrite, want %q", i, text.Path, text.Value, want)
				}
				if text.Path != b.Texts[i].Path {
					t.Errorf("Texts[%d] path = %q after rewrite, want %q", i, text.Path, b.Texts[i].Path)
				}
			}
			if again.Model != b.Model {
				t.Errorf("Model = %q after rewrite, want %q", again.Model, b.Model)
			}
			if again.Attachments != b.Attachments {
				t.Errorf("Attachments = %d after rewrite, want %d", again.Attachments, b.Attachments)
			}
		})
	}
}

func TestRewriteUnchanged(t *testing.T) {
	for _, fixture := range []string{"openai_chat.json", "openai_parts.json", "anthropic_messages.json", "escapes.json", "truncated.txt"} {
		t.Run(fixture, func(t *testing.T) {
			body := readFixture(t, fixture)
			b := ParseBody(body)
			if got := b.Rewrite(nil, ""); !bytes.Equal(got, body) {
				t.Errorf("Rewrite(nil, \"\") changed the body:\ngot  %s\nwant %s", got, body)
			}
			if got := b.Rewrite(map[int]string{}, b.Model); !bytes.Equal(got, body) {
				t.Errorf("Rewrite with the same model changed the body:\ngot  %s\nwant %s", got, body)
			}
		})
	}
}

// replaceAll builds an expected body by replacing each old string, given in
// old, new pairs, with its new string. Each old string must occur once.
func replaceAll(t *testing.T, data []byte, pairs ...string) []byte {
	t.Helper()
	out := string(data)
	for i := 0; i+1 < len(pairs); i += 2 {
		if n := strings.Count(out, pairs[i]); n != 1 {
			t.Fatalf("fixture contains %q %d times, want once", pairs[i], n)
		}
		out = strings.Replace(out, pairs[i], pairs[i+1], 1)
	}
	return []byte(out)
}
