package standin

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseToolCalls(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []toolCall
	}{
		{name: "no instruction", text: "what is the weather", want: nil},
		{name: "name only", text: "please call tool lookup_chart now", want: []toolCall{{name: "lookup_chart", arguments: "{}"}}},
		{name: "with arguments", text: `call tool get_weather with {"city": "Springfield"}`, want: []toolCall{{name: "get_weather", arguments: `{"city":"Springfield"}`}}},
		{name: "trailing text after object", text: `call tool f with {"a":1}. Thanks`, want: []toolCall{{name: "f", arguments: `{"a":1}`}}},
		{name: "two calls", text: `call tool a with {"x":1} and call tool b-2`, want: []toolCall{{name: "a", arguments: `{"x":1}`}, {name: "b-2", arguments: "{}"}}},
		{name: "arguments not an object", text: `call tool f with [1,2]`, want: nil},
		{name: "invalid json", text: `call tool f with {"a":`, want: nil},
		{name: "empty name", text: "call tool !", want: nil},
		{name: "upper case phrase ignored", text: "Call Tool f", want: nil},
		{name: "nested object", text: `call tool f with {"a":{"b":[1,"}"]}}`, want: []toolCall{{name: "f", arguments: `{"a":{"b":[1,"}"]}}`}}},
		{name: "unicode arguments", text: `call tool f with {"note":"café 日本"}`, want: []toolCall{{name: "f", arguments: `{"note":"café 日本"}`}}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseToolCalls(tt.text)

			if len(got) != len(tt.want) {
				t.Fatalf("parseToolCalls(%q) = %+v, want %+v", tt.text, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("call %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestToolPlanChoose(t *testing.T) {
	offered := []string{"first", "second"}
	tests := []struct {
		name string
		plan toolPlan
		text string
		want []string
	}{
		{name: "no tools offered", plan: toolPlan{parallel: true}, text: "call tool first", want: nil},
		{name: "auto with instruction", plan: toolPlan{offered: offered, parallel: true}, text: "call tool second", want: []string{"second"}},
		{name: "auto without instruction", plan: toolPlan{offered: offered, parallel: true}, text: "hello", want: nil},
		{name: "tool not offered", plan: toolPlan{offered: offered, parallel: true}, text: "call tool third", want: nil},
		{name: "none suppresses", plan: toolPlan{offered: offered, parallel: true, choice: toolChoice{mode: choiceNone}}, text: "call tool first", want: nil},
		{name: "required falls back to first", plan: toolPlan{offered: offered, parallel: true, choice: toolChoice{mode: choiceRequired}}, text: "hello", want: []string{"first"}},
		{name: "forced without instruction", plan: toolPlan{offered: offered, parallel: true, choice: toolChoice{mode: choiceForced, name: "second"}}, text: "hello", want: []string{"second"}},
		{name: "forced drops other calls", plan: toolPlan{offered: offered, parallel: true, choice: toolChoice{mode: choiceForced, name: "second"}}, text: "call tool first", want: []string{"second"}},
		{name: "parallel", plan: toolPlan{offered: offered, parallel: true}, text: "call tool first call tool second", want: []string{"first", "second"}},
		{name: "parallel off keeps first", plan: toolPlan{offered: offered}, text: "call tool first call tool second", want: []string{"first"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.plan.choose(tt.text)

			var names []string
			for _, c := range got {
				names = append(names, c.name)
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Errorf("choose(%q) called %v, want %v", tt.text, names, tt.want)
			}
		})
	}
}

func TestSplitFragments(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  int
	}{
		{name: "empty", input: "", want: 0},
		{name: "short", input: "{}", want: 1},
		{name: "exactly one fragment", input: "12345678", want: 1},
		{name: "two fragments", input: "123456789", want: 2},
		{name: "multibyte at boundary", input: "1234567日本", want: 2},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitFragments(tt.input)

			if strings.Join(got, "") != tt.input {
				t.Errorf("fragments %q do not join back to %q", got, tt.input)
			}
			if len(got) != tt.want {
				t.Errorf("got %d fragments %q, want %d", len(got), got, tt.want)
			}
			for _, f := range got {
				if !utf8.ValidString(f) {
					t.Errorf("fragment %q splits a character", f)
				}
			}
		})
	}
}

func FuzzParseToolCalls(f *testing.F) {
	f.Add(`call tool get_weather with {"city":"Springfield"}`)
	f.Add(`call tool a with {"x":[1,2]} call tool b`)
	f.Add(`call tool with with {`)
	f.Add("call tool \xff")

	f.Fuzz(func(t *testing.T, text string) {
		for _, c := range parseToolCalls(text) {
			if c.name == "" || !strings.Contains(text, toolCallPhrase+c.name) {
				t.Errorf("call name %q does not come from an instruction in %q", c.name, text)
			}
			var arguments map[string]any
			if err := json.Unmarshal([]byte(c.arguments), &arguments); err != nil {
				t.Errorf("arguments %q are not a JSON object: %v", c.arguments, err)
			}
		}
	})
}
