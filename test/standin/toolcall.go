package standin

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// toolCallPhrase starts a tool call instruction in a user message.
const toolCallPhrase = "call tool "

// argumentFragmentBytes is the size of the pieces streamed tool arguments
// are cut into. Pieces end on UTF-8 boundaries, so a few may be longer.
const argumentFragmentBytes = 8

// toolCall is one call the stand-in makes: the tool name and its arguments
// as a compact JSON object.
type toolCall struct {
	name      string
	arguments string
}

// parseToolCalls returns every "call tool NAME [with {JSON}]" instruction in
// text, in order. NAME is a run of ASCII letters, digits, "_" and "-", the
// characters both vendors allow in tool names. An instruction whose
// arguments are not a JSON object is left out.
func parseToolCalls(text string) []toolCall {
	var calls []toolCall

	for rest := text; ; {
		at := strings.Index(rest, toolCallPhrase)
		if at < 0 {
			return calls
		}
		rest = rest[at+len(toolCallPhrase):]

		end := 0
		for end < len(rest) && isToolNameByte(rest[end]) {
			end++
		}
		if end == 0 {
			continue
		}
		call := toolCall{name: rest[:end], arguments: "{}"}
		rest = rest[end:]

		if after, ok := strings.CutPrefix(rest, " with "); ok {
			arguments, used, ok := leadingJSONObject(after)
			if !ok {
				continue
			}
			call.arguments = arguments
			rest = after[used:]
		}
		calls = append(calls, call)
	}
}

func isToolNameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-'
}

// leadingJSONObject decodes the JSON object at the start of s, after any
// spaces. It returns the object compacted and the number of bytes of s it
// used, or false when s does not start with a JSON object.
func leadingJSONObject(s string) (string, int, bool) {
	trimmed := strings.TrimLeft(s, " \t\r\n")
	if !strings.HasPrefix(trimmed, "{") {
		return "", 0, false
	}

	dec := json.NewDecoder(strings.NewReader(trimmed))
	var raw json.RawMessage
	if dec.Decode(&raw) != nil {
		return "", 0, false
	}

	var compact bytes.Buffer
	if json.Compact(&compact, raw) != nil {
		return "", 0, false
	}
	used := len(s) - len(trimmed) + int(dec.InputOffset())
	return compact.String(), used, true
}

// toolChoiceMode is the part of a tool_choice the stand-in acts on.
type toolChoiceMode int

const (
	choiceAuto     toolChoiceMode = iota
	choiceNone                    // OpenAI "none", Anthropic {"type":"none"}
	choiceRequired                // OpenAI "required", Anthropic {"type":"any"}
	choiceForced                  // one named tool
)

type toolChoice struct {
	mode toolChoiceMode
	// name is the forced tool when mode is choiceForced.
	name string
}

// toolPlan is what a request allows the stand-in to call.
type toolPlan struct {
	// offered lists the callable tool names in request order.
	offered  []string
	choice   toolChoice
	parallel bool
}

// choose returns the calls the stand-in makes in reply to userText under
// the plan, following the rules in the package documentation.
func (p toolPlan) choose(userText string) []toolCall {
	if len(p.offered) == 0 || p.choice.mode == choiceNone {
		return nil
	}

	var calls []toolCall
	for _, c := range parseToolCalls(userText) {
		if !p.offers(c.name) {
			continue
		}
		if p.choice.mode == choiceForced && c.name != p.choice.name {
			continue
		}
		calls = append(calls, c)
	}

	if len(calls) == 0 {
		switch p.choice.mode {
		case choiceForced:
			calls = []toolCall{{name: p.choice.name, arguments: "{}"}}
		case choiceRequired:
			calls = []toolCall{{name: p.offered[0], arguments: "{}"}}
		}
	}
	if !p.parallel && len(calls) > 1 {
		calls = calls[:1]
	}
	return calls
}

func (p toolPlan) offers(name string) bool {
	return slices.Contains(p.offered, name)
}

// splitFragments cuts s into pieces of about argumentFragmentBytes bytes,
// each ending on a UTF-8 boundary. Concatenating them gives s back.
func splitFragments(s string) []string {
	var parts []string
	for len(s) > 0 {
		n := min(argumentFragmentBytes, len(s))
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n++
		}
		parts = append(parts, s[:n])
		s = s[n:]
	}
	return parts
}
