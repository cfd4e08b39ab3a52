package standin

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{name: "empty", text: "", want: nil},
		{name: "one word", text: "hello", want: []string{"hello"}},
		{name: "exactly three words", text: "a b c", want: []string{"a b c"}},
		{name: "four words", text: "a b c d", want: []string{"a b c ", "d"}},
		{name: "seven words", text: "one two three four five six seven", want: []string{"one two three ", "four five six ", "seven"}},
		{name: "leading and repeated spaces", text: "  a  b\tc\nd ", want: []string{"  a  b\tc\n", "d "}},
		{name: "multibyte words", text: "café naïve 日本 語 ü", want: []string{"café naïve 日本 ", "語 ü"}},
		{name: "only spaces", text: "   ", want: []string{"   "}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitWords(tt.text)

			if strings.Join(got, "") != tt.text {
				t.Errorf("chunks %q do not join back to %q", got, tt.text)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("splitWords(%q) = %q, want %q", tt.text, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("chunk %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestContentText(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{name: "string", content: `"hello there"`, want: "hello there"},
		{name: "text parts", content: `[{"type":"text","text":"first"},{"type":"text","text":"second"}]`, want: "first\nsecond"},
		{name: "non-text parts skipped", content: `[{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"only"}]`, want: "only"},
		{name: "null", content: `null`, want: ""},
		{name: "number", content: `42`, want: ""},
		{name: "object", content: `{"type":"text","text":"x"}`, want: ""},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := contentText(json.RawMessage(tt.content)); got != tt.want {
				t.Errorf("contentText(%s) = %q, want %q", tt.content, got, tt.want)
			}
		})
	}
}

func TestEstimateTokens(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{text: "", want: 0},
		{text: "a", want: 1},
		{text: "abcd", want: 1},
		{text: "abcde", want: 2},
		{text: "日本", want: 2},
	}

	for _, tt := range tests {
		if got := estimateTokens(tt.text); got != tt.want {
			t.Errorf("estimateTokens(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestReplyTextSampleRecord(t *testing.T) {
	tests := []struct {
		name, user, want string
	}{
		{"plain echo", "hello", "openai stand-in reply: hello"},
		{"trigger", "Please Include the sample record.", "openai stand-in reply: Please Include the sample record." + SampleRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := replyText("openai", tt.user); got != tt.want {
				t.Errorf("replyText = %q, want %q", got, tt.want)
			}
		})
	}
}
