package standin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// wordsPerChunk is how many words each streamed text delta carries.
const wordsPerChunk = 3

// message is the part of a chat message both APIs share.
type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// contentText returns the text of a message content, which every API
// accepts either as a string or as an array of parts. Parts of type "text",
// "input_text" and "output_text" count, and so does the content of an
// Anthropic "tool_result" part. Their texts are joined with newlines. Any
// other shape yields "".
func contentText(content json.RawMessage) string {
	var s string
	if json.Unmarshal(content, &s) == nil {
		return s
	}

	var parts []struct {
		Type    string          `json:"type"`
		Text    string          `json:"text"`
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(content, &parts) != nil {
		return ""
	}

	var texts []string
	for _, p := range parts {
		switch p.Type {
		case "text", "input_text", "output_text":
			texts = append(texts, p.Text)
		case "tool_result":
			if text := contentText(p.Content); text != "" {
				texts = append(texts, text)
			}
		}
	}
	return strings.Join(texts, "\n")
}

// lastUserText returns the text of the last message with role "user", or ""
// when there is none.
func lastUserText(messages []message) string {
	for i := len(messages) - 1; i >= 0; i-- {
		if messages[i].Role == "user" {
			return contentText(messages[i].Content)
		}
	}
	return ""
}

// SampleRecordTrigger, in the last user text, makes the reply end with
// SampleRecord, PHI that the request did not contain, so tests can check
// what happens to PHI a model makes up.
const SampleRecordTrigger = "include the sample record"

// SampleRecord is the synthetic PHI a reply adds on SampleRecordTrigger.
const SampleRecord = " Sample record: member SSN 219-09-9999, call back on (555) 010-7788."

// replyText is the deterministic reply of a stand-in named name to a
// conversation whose last user text is userText.
func replyText(name, userText string) string {
	text := name + " stand-in reply: " + userText
	if strings.Contains(strings.ToLower(userText), SampleRecordTrigger) {
		text += SampleRecord
	}
	return text
}

// estimateTokens returns ceil(bytes/4), a rough estimate of the token count
// of text. Real tokenizers give other numbers.
func estimateTokens(text string) int {
	return (len(text) + 3) / 4
}

// promptTokens estimates the prompt size from the text of all messages and
// of any extra prompt texts (such as an Anthropic system prompt).
func promptTokens(messages []message, extra ...string) int {
	n := 0
	for _, m := range messages {
		n += len(contentText(m.Content))
	}
	for _, e := range extra {
		n += len(e)
	}
	return (n + 3) / 4
}

// splitWords splits text into chunks of wordsPerChunk words each. Every chunk
// but the first starts at a word, so the whitespace between two chunks stays
// at the end of the earlier one. Concatenating the chunks gives text back.
func splitWords(text string) []string {
	var chunks []string
	start, words := 0, 0
	inSpace := true

	for i, r := range text {
		space := unicode.IsSpace(r)
		if inSpace && !space {
			if words == wordsPerChunk {
				chunks = append(chunks, text[start:i])
				start, words = i, 0
			}
			words++
		}
		inSpace = space
	}

	if start < len(text) {
		chunks = append(chunks, text[start:])
	}
	return chunks
}

// decodeObject parses body as a JSON object into its top-level fields.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(body) {
		return nil, errors.New("the body is not valid UTF-8")
	}

	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, err
	}
	if fields == nil {
		return nil, errors.New("the body is null, not a JSON object")
	}
	return fields, nil
}

// isNull reports whether a field is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// writeJSON writes v as a JSON reply with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// The stand-in only marshals its own types, so this is a bug.
		panic(fmt.Sprintf("standin: encoding reply: %v", err))
	}

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// eventWriter writes server-sent events and flushes each one, so a client
// or proxy receives them one by one, as from the vendor.
type eventWriter struct {
	w          http.ResponseWriter
	controller *http.ResponseController
	err        error
}

func startEvents(w http.ResponseWriter) *eventWriter {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	return &eventWriter{w: w, controller: http.NewResponseController(w)}
}

// send writes one event. An empty name writes only the data line, as OpenAI
// does. After the first failed write (the client went away) it does nothing.
func (e *eventWriter) send(name string, data []byte) {
	if e.err != nil {
		return
	}

	var b strings.Builder
	if name != "" {
		b.WriteString("event: " + name + "\n")
	}
	b.WriteString("data: ")
	b.Write(data)
	b.WriteString("\n\n")

	if _, err := e.w.Write([]byte(b.String())); err != nil {
		e.err = err
		return
	}

	// A writer that cannot flush (some middleware) still gets every event,
	// only batched, so that case is not treated as a failure.
	if err := e.controller.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		e.err = err
	}
}

// sendJSON writes one event whose data is v encoded as JSON.
func (e *eventWriter) sendJSON(name string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("standin: encoding event: %v", err))
	}
	e.send(name, data)
}
