package translate

import (
	"bytes"
	"fmt"
	"slices"
)

// This file passes streams through in their own format, changing only the
// texts the filter changes.

// anthropicPassthrough handles an Anthropic stream for an Anthropic client.
type anthropicPassthrough struct {
	parts    *partTracker
	blocks   map[int]string // content block index to block type
	finished bool
}

func (c *anthropicPassthrough) done() bool { return c.finished }

func (c *anthropicPassthrough) event(ev *sseEvent, out *bytes.Buffer) error {
	writeLeadingLF(ev, out)
	if !ev.hasData {
		out.Write(ev.raw) // comments and keep-alives
		return nil
	}
	kind, err := eventType(ev.data)
	if err != nil {
		return err
	}

	switch kind {
	case "content_block_start":
		e, err := decodeAnthropicEvent(ev.data)
		if err != nil {
			return err
		}
		c.blocks[e.Index] = e.ContentBlock.Type
	case "content_block_delta":
		return c.delta(ev, out)
	case "content_block_stop":
		e, err := decodeAnthropicEvent(ev.data)
		if err != nil {
			return err
		}
		c.flush(out, func(k PartKey) bool { return k.Index == e.Index })
	case "message_delta":
		c.flush(out, anyPart)
	case "message_stop", "error":
		c.flush(out, anyPart)
		c.finished = true
	}
	out.Write(ev.raw)
	return nil
}

// writeLeadingLF writes the LF that completes the previous event's CRLF
// blank line, which the decoder leaves at the start of this event's raw
// bytes, and removes it from raw. Writing it first keeps the line end whole
// when this event is replaced, dropped or preceded by held-back text.
func writeLeadingLF(ev *sseEvent, out *bytes.Buffer) {
	if len(ev.raw) > 0 && ev.raw[0] == '\n' {
		out.WriteByte('\n')
		ev.raw = ev.raw[1:]
	}
}

// anthropicDeltaField maps a delta type to the field holding its text and
// the kind of that text. Other delta types carry no generated text.
var anthropicDeltaField = map[string]struct {
	field string
	kind  PartKind
}{
	"text_delta":       {"text", PartText},
	"thinking_delta":   {"thinking", PartText},
	"input_json_delta": {"partial_json", PartJSON},
}

func (c *anthropicPassthrough) delta(ev *sseEvent, out *bytes.Buffer) error {
	e, err := decodeAnthropicEvent(ev.data)
	if err != nil {
		return err
	}
	spec, ok := anthropicDeltaField[e.Delta.Type]
	if !ok {
		out.Write(ev.raw)
		return nil
	}
	text := map[string]string{"text": e.Delta.Text, "thinking": e.Delta.Thinking, "partial_json": e.Delta.PartialJSON}[spec.field]

	filtered := c.parts.next(PartKey{Index: e.Index, Kind: spec.kind}, text)
	if filtered == text {
		out.Write(ev.raw)
		return nil
	}
	if filtered == "" {
		return nil // all held back
	}
	path := "delta." + spec.field
	spans, err := findSpans(ev.data, map[string]bool{path: true})
	if err != nil {
		return err
	}
	at, ok := spans[path]
	if !ok {
		return fmt.Errorf("%w: a %s event has no %s", ErrInvalidBody, e.Delta.Type, path)
	}
	writeEvent(out, "content_block_delta", splice(ev.data, []spliceEdit{{at: at, value: quote(filtered)}}))
	return nil
}

// flush writes what the filter held for each matching open part as one
// more delta of that part.
func (c *anthropicPassthrough) flush(out *bytes.Buffer, match func(PartKey) bool) {
	for _, key := range c.parts.openParts(match) {
		if text := c.parts.flush(key); text != "" {
			writeEvent(out, "content_block_delta", anthropicDeltaEvent(key, c.blocks[key.Index], text))
		}
	}
}

// anthropicDeltaEvent returns the data of a content_block_delta event that
// adds text to the block of key.
func anthropicDeltaEvent(key PartKey, blockType, text string) []byte {
	type textDelta struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	type thinkingDelta struct {
		Type     string `json:"type"`
		Thinking string `json:"thinking"`
	}
	type jsonDelta struct {
		Type        string `json:"type"`
		PartialJSON string `json:"partial_json"`
	}
	var delta any = textDelta{"text_delta", text}
	switch {
	case key.Kind == PartJSON:
		delta = jsonDelta{"input_json_delta", text}
	case blockType == "thinking":
		delta = thinkingDelta{"thinking_delta", text}
	}
	return mustMarshal(struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
		Delta any    `json:"delta"`
	}{"content_block_delta", key.Index, delta})
}

func (c *anthropicPassthrough) abort(out *bytes.Buffer, message string) {
	c.flush(out, anyPart)
	writeAnthropicError(out, "api_error", message)
	c.finished = true
}

func writeAnthropicError(out *bytes.Buffer, errType, message string) {
	writeEvent(out, "error", mustMarshal(anthropicErrorBody{Type: "error", Error: anthropicErrorDetail{Type: errType, Message: message}}))
}

// openAIPassthrough handles an OpenAI stream for an OpenAI client.
type openAIPassthrough struct {
	parts    *partTracker
	fields   map[PartKey]string // the delta field a text part last used
	finished bool
	// last is the id, creation time and model of the latest chunk, for the
	// chunks that carry held-back text.
	last openAIChunkIn
}

func (c *openAIPassthrough) done() bool { return c.finished }

var doneData = []byte("[DONE]")

func (c *openAIPassthrough) event(ev *sseEvent, out *bytes.Buffer) error {
	writeLeadingLF(ev, out)
	if !ev.hasData {
		out.Write(ev.raw)
		return nil
	}
	if bytes.Equal(bytes.TrimSpace(ev.data), doneData) {
		c.flush(out, anyPart)
		out.Write(ev.raw)
		c.finished = true
		return nil
	}
	chunk, err := decodeOpenAIChunk(ev.data)
	if err != nil {
		return err
	}
	if chunk.Error != nil {
		c.flush(out, anyPart)
		out.Write(ev.raw)
		c.finished = true
		return nil
	}
	c.last.ID, c.last.Created, c.last.Model = chunk.ID, chunk.Created, chunk.Model

	var edits []spliceEdit
	var paths []string
	var values []string
	edit := func(path string, key PartKey, text string, finishing bool) {
		filtered := c.parts.next(key, text)
		if finishing {
			filtered += c.parts.flush(key)
		}
		if filtered != text {
			paths, values = append(paths, path), append(values, filtered)
		}
	}

	for p, choice := range chunk.Choices {
		finishing := choice.FinishReason != nil
		prefix := fmt.Sprintf("choices.%d.delta.", p)
		textKey := PartKey{Choice: choice.Index, Kind: PartText}
		seen := map[PartKey]bool{}
		if choice.Delta.Content != nil {
			c.remember(textKey, "content")
			edit(prefix+"content", textKey, *choice.Delta.Content, finishing && choice.Delta.Refusal == nil)
			seen[textKey] = true
		}
		if choice.Delta.Refusal != nil {
			c.remember(textKey, "refusal")
			edit(prefix+"refusal", textKey, *choice.Delta.Refusal, finishing)
			seen[textKey] = true
		}
		for t, call := range choice.Delta.ToolCalls {
			if call.Function.Arguments == nil {
				continue
			}
			key := PartKey{Choice: choice.Index, Index: call.Index, Kind: PartJSON}
			edit(fmt.Sprintf("%stool_calls.%d.function.arguments", prefix, t), key, *call.Function.Arguments, finishing)
			seen[key] = true
		}
		if finishing {
			// Parts of this choice not in the chunk get a chunk of their own
			// before it, so their text precedes the finish reason.
			c.flush(out, func(k PartKey) bool { return k.Choice == choice.Index && !seen[k] })
		}
	}

	if len(paths) == 0 {
		out.Write(ev.raw)
		return nil
	}
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
	}
	spans, err := findSpans(ev.data, want)
	if err != nil {
		return err
	}
	for i, p := range paths {
		if at, ok := spans[p]; ok {
			edits = append(edits, spliceEdit{at: at, value: quote(values[i])})
		}
	}
	writeData(out, splice(ev.data, edits))
	return nil
}

func (c *openAIPassthrough) remember(key PartKey, field string) {
	if c.fields == nil {
		c.fields = map[PartKey]string{}
	}
	c.fields[key] = field
}

// flush writes what the filter held for each matching open part, as one
// chunk per part.
func (c *openAIPassthrough) flush(out *bytes.Buffer, match func(PartKey) bool) {
	keys := c.parts.openParts(match)
	slices.SortStableFunc(keys, func(a, b PartKey) int { return a.Choice - b.Choice })
	for _, key := range keys {
		text := c.parts.flush(key)
		if text == "" {
			continue
		}
		writeData(out, openAIDeltaChunk(c.last.ID, c.last.Created, c.last.Model, key, c.fields[key], text))
	}
}

// openAIDeltaChunk returns a chunk that adds text to one part.
func openAIDeltaChunk(id string, created int64, model string, key PartKey, field, text string) []byte {
	choice := openAIChunkChoice{Index: key.Choice}
	switch {
	case key.Kind == PartJSON:
		choice.Delta.ToolCalls = []openAIToolCallDelta{{Index: key.Index, Function: openAIFunctionDelta{Arguments: text}}}
	case field == "refusal":
		choice.Delta.Refusal = &text
	default:
		choice.Delta.Content = &text
	}
	return mustMarshal(openAIChunk{
		ID: id, Object: "chat.completion.chunk", Created: created, Model: model,
		Choices: []openAIChunkChoice{choice},
	})
}

func (c *openAIPassthrough) abort(out *bytes.Buffer, message string) {
	c.flush(out, anyPart)
	writeOpenAIError(out, openAIErrorDetail{Message: message, Type: "server_error"})
	c.finished = true
}

// writeOpenAIError writes an error the way OpenAI reports one inside a
// stream: a data line holding an error object, with no [DONE] after it.
func writeOpenAIError(out *bytes.Buffer, detail openAIErrorDetail) {
	writeData(out, mustMarshal(openAIErrorBody{Error: detail}))
}
