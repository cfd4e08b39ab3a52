package translate

import (
	"bytes"
	"fmt"
)

// This file translates streams between the two formats.

// anthropicToOpenAIStream turns Anthropic events into OpenAI chunks.
type anthropicToOpenAIStream struct {
	parts    *partTracker
	id       string
	model    string
	created  int64
	started  bool
	blocks   map[int]string // content block index to block type
	tools    map[int]int    // content block index to OpenAI tool call index
	usage    anthropicUsageIn
	finished bool
}

func newAnthropicToOpenAIStream(parts *partTracker) *anthropicToOpenAIStream {
	return &anthropicToOpenAIStream{parts: parts, blocks: map[int]string{}, tools: map[int]int{}}
}

func (c *anthropicToOpenAIStream) done() bool { return c.finished }

func (c *anthropicToOpenAIStream) start() {
	if c.started {
		return
	}
	c.started = true
	c.created = now().Unix()
	c.id = prefixedID(c.id, "chatcmpl-")
}

func (c *anthropicToOpenAIStream) chunk(out *bytes.Buffer, choice openAIChunkChoice, usage *openAIUsage) {
	c.start()
	writeData(out, mustMarshal(openAIChunk{
		ID: c.id, Object: "chat.completion.chunk", Created: c.created, Model: c.model,
		Choices: []openAIChunkChoice{choice}, Usage: usage,
	}))
}

func (c *anthropicToOpenAIStream) event(ev *sseEvent, out *bytes.Buffer) error {
	if !ev.hasData {
		out.WriteString(": ping\n\n")
		return nil
	}
	e, err := decodeAnthropicEvent(ev.data)
	if err != nil {
		return err
	}

	switch e.Type {
	case "ping":
		out.WriteString(": ping\n\n")
	case "message_start":
		if e.Message != nil {
			c.id, c.model, c.usage = e.Message.ID, e.Message.Model, e.Message.Usage
		}
		empty := ""
		c.chunk(out, openAIChunkChoice{Delta: openAIDelta{Role: "assistant", Content: &empty}}, nil)
	case "content_block_start":
		return c.blockStart(e, out)
	case "content_block_delta":
		c.blockDelta(e, out)
	case "content_block_stop":
		c.flush(out, func(k PartKey) bool { return k.Index == e.Index })
	case "message_delta":
		c.flush(out, anyPart)
		if e.Usage != nil {
			c.usage.InputTokens = max(c.usage.InputTokens, e.Usage.InputTokens)
			c.usage.OutputTokens = max(c.usage.OutputTokens, e.Usage.OutputTokens)
			c.usage.CacheReadInputTokens = max(c.usage.CacheReadInputTokens, e.Usage.CacheReadInputTokens)
			c.usage.CacheCreationInputTokens = max(c.usage.CacheCreationInputTokens, e.Usage.CacheCreationInputTokens)
		}
		// Usage rides on the finish chunk: a separate chunk without choices,
		// as OpenAI sends with include_usage, would break clients that did
		// not ask for it and index choices[0].
		reason := finishReason(e.Delta.StopReason)
		c.chunk(out, openAIChunkChoice{FinishReason: &reason}, c.usage.openAIUsage())
	case "message_stop":
		c.flush(out, anyPart)
		writeData(out, doneData)
		c.finished = true
	case "error":
		c.flush(out, anyPart)
		_, detail := anthropicToOpenAIError(0, e.Error.Type, e.Error.Message)
		writeOpenAIError(out, detail)
		c.finished = true
	}
	return nil
}

func (c *anthropicToOpenAIStream) blockStart(e *anthropicStreamEvent, out *bytes.Buffer) error {
	block := e.ContentBlock
	c.blocks[e.Index] = block.Type
	switch block.Type {
	case "text":
		if block.Text != "" {
			c.text(out, e.Index, block.Text)
		}
	case "tool_use":
		index := len(c.tools)
		c.tools[e.Index] = index
		c.chunk(out, openAIChunkChoice{Delta: openAIDelta{ToolCalls: []openAIToolCallDelta{{
			Index: index, ID: block.ID, Type: "function",
			Function: openAIFunctionDelta{Name: block.Name},
		}}}}, nil)
	case "thinking", "redacted_thinking":
		// Dropped: chat completions has no reasoning text.
	default:
		return fmt.Errorf("%w: content block type %s has no chat completions counterpart", ErrInvalidBody, enumValue(block.Type))
	}
	return nil
}

func (c *anthropicToOpenAIStream) blockDelta(e *anthropicStreamEvent, out *bytes.Buffer) {
	switch e.Delta.Type {
	case "text_delta":
		c.text(out, e.Index, e.Delta.Text)
	case "input_json_delta":
		index, ok := c.tools[e.Index]
		if !ok {
			return // a delta for a block that never started
		}
		args := c.parts.next(PartKey{Index: e.Index, Kind: PartJSON}, e.Delta.PartialJSON)
		c.arguments(out, index, args)
	}
	// Thinking, signature and citation deltas have no counterpart.
}

func (c *anthropicToOpenAIStream) text(out *bytes.Buffer, blockIndex int, text string) {
	filtered := c.parts.next(PartKey{Index: blockIndex, Kind: PartText}, text)
	if filtered != "" {
		c.chunk(out, openAIChunkChoice{Delta: openAIDelta{Content: &filtered}}, nil)
	}
}

func (c *anthropicToOpenAIStream) arguments(out *bytes.Buffer, toolIndex int, args string) {
	if args != "" {
		c.chunk(out, openAIChunkChoice{Delta: openAIDelta{ToolCalls: []openAIToolCallDelta{{
			Index: toolIndex, Function: openAIFunctionDelta{Arguments: args},
		}}}}, nil)
	}
}

func (c *anthropicToOpenAIStream) flush(out *bytes.Buffer, match func(PartKey) bool) {
	for _, key := range c.parts.openParts(match) {
		text := c.parts.flush(key)
		if text == "" {
			continue
		}
		if key.Kind == PartJSON {
			c.arguments(out, c.tools[key.Index], text)
		} else {
			c.chunk(out, openAIChunkChoice{Delta: openAIDelta{Content: &text}}, nil)
		}
	}
}

func (c *anthropicToOpenAIStream) abort(out *bytes.Buffer, message string) {
	c.flush(out, anyPart)
	writeOpenAIError(out, openAIErrorDetail{Message: message, Type: "server_error"})
	c.finished = true
}

// openAIToAnthropicStream turns OpenAI chunks into Anthropic events. Each
// text run and each tool call becomes a content block; a block is closed
// when the next one starts or the choice finishes.
type openAIToAnthropicStream struct {
	parts   *partTracker
	started bool
	// open is the Anthropic index of the open block, or -1.
	open     int
	openKey  PartKey
	next     int         // the index of the next block
	tools    map[int]int // OpenAI tool call index to Anthropic block index
	stop     string
	usage    *openAIUsageIn
	finished bool
}

func newOpenAIToAnthropicStream(parts *partTracker) *openAIToAnthropicStream {
	return &openAIToAnthropicStream{parts: parts, open: -1, tools: map[int]int{}}
}

func (c *openAIToAnthropicStream) done() bool { return c.finished }

func (c *openAIToAnthropicStream) start(out *bytes.Buffer, id, model string) {
	if c.started {
		return
	}
	c.started = true
	id = prefixedID(id, "msg_")
	type messageStart struct {
		Type    string           `json:"type"`
		Message anthropicMessage `json:"message"`
	}
	writeEvent(out, "message_start", mustMarshal(messageStart{
		Type:    "message_start",
		Message: anthropicMessage{ID: id, Type: "message", Role: "assistant", Model: model, Content: []any{}},
	}))
}

func (c *openAIToAnthropicStream) event(ev *sseEvent, out *bytes.Buffer) error {
	if !ev.hasData {
		writeEvent(out, "ping", []byte(`{"type":"ping"}`))
		return nil
	}
	if bytes.Equal(bytes.TrimSpace(ev.data), doneData) {
		c.finish(out)
		return nil
	}
	chunk, err := decodeOpenAIChunk(ev.data)
	if err != nil {
		return err
	}
	if chunk.Error != nil {
		errType, code, message := parseOpenAIError(ev.data)
		if message == "" {
			message = "The upstream provider reported an error in the response stream."
		}
		_, anthropicType := openAIToAnthropicError(0, errType, code)
		c.flushOpen(out)
		writeAnthropicError(out, anthropicType, message)
		c.finished = true
		return nil
	}

	c.start(out, chunk.ID, chunk.Model)
	if chunk.Usage != nil {
		c.usage = chunk.Usage
	}
	for _, choice := range chunk.Choices {
		if choice.Index != 0 {
			return fmt.Errorf("%w: choice %d: Anthropic messages hold one choice", ErrInvalidBody, choice.Index)
		}
		if choice.Delta.FunctionCall != nil {
			return fmt.Errorf("%w: function_call deltas have no Anthropic counterpart", ErrInvalidBody)
		}
		if choice.Delta.Content != nil && *choice.Delta.Content != "" {
			c.text(out, *choice.Delta.Content)
		}
		if choice.Delta.Refusal != nil && *choice.Delta.Refusal != "" {
			c.text(out, *choice.Delta.Refusal)
		}
		for _, call := range choice.Delta.ToolCalls {
			if err := c.toolCall(out, call); err != nil {
				return err
			}
		}
		if choice.FinishReason != nil {
			c.closeBlock(out)
			c.stop = stopReason(*choice.FinishReason)
		}
	}
	return nil
}

func (c *openAIToAnthropicStream) text(out *bytes.Buffer, text string) {
	key := PartKey{Kind: PartText}
	if c.open < 0 || c.openKey != key {
		c.closeBlock(out)
		c.openBlock(out, key, anthropicText{Type: "text", Text: ""})
	}
	if filtered := c.parts.next(key, text); filtered != "" {
		writeEvent(out, "content_block_delta", anthropicDeltaEvent(PartKey{Index: c.open, Kind: PartText}, "text", filtered))
	}
}

func (c *openAIToAnthropicStream) toolCall(out *bytes.Buffer, call toolCallDeltaIn) error {
	key := PartKey{Index: call.Index, Kind: PartJSON}
	block, seen := c.tools[call.Index]
	switch {
	case !seen:
		c.closeBlock(out)
		id := call.ID
		if id == "" {
			id = newID("toolu_")
		}
		c.tools[call.Index] = c.next
		c.openBlock(out, key, anthropicToolUse{Type: "tool_use", ID: id, Name: call.Function.Name, Input: []byte("{}")})
	case block != c.open:
		return fmt.Errorf("%w: tool call %d continues after a later part began", ErrInvalidBody, call.Index)
	}
	if call.Function.Arguments == nil {
		return nil
	}
	if args := c.parts.next(key, *call.Function.Arguments); args != "" {
		writeEvent(out, "content_block_delta", anthropicDeltaEvent(PartKey{Index: c.open, Kind: PartJSON}, "tool_use", args))
	}
	return nil
}

func (c *openAIToAnthropicStream) openBlock(out *bytes.Buffer, key PartKey, block any) {
	c.open, c.openKey = c.next, key
	c.next++
	type blockStart struct {
		Type         string `json:"type"`
		Index        int    `json:"index"`
		ContentBlock any    `json:"content_block"`
	}
	writeEvent(out, "content_block_start", mustMarshal(blockStart{"content_block_start", c.open, block}))
}

// flushOpen writes what the filter held for the open block.
func (c *openAIToAnthropicStream) flushOpen(out *bytes.Buffer) {
	if c.open < 0 {
		return
	}
	if text := c.parts.flush(c.openKey); text != "" {
		blockType := "text"
		if c.openKey.Kind == PartJSON {
			blockType = "tool_use"
		}
		writeEvent(out, "content_block_delta", anthropicDeltaEvent(PartKey{Index: c.open, Kind: c.openKey.Kind}, blockType, text))
	}
}

func (c *openAIToAnthropicStream) closeBlock(out *bytes.Buffer) {
	if c.open < 0 {
		return
	}
	c.flushOpen(out)
	writeEvent(out, "content_block_stop", []byte(fmt.Sprintf(`{"type":"content_block_stop","index":%d}`, c.open)))
	c.open = -1
}

func (c *openAIToAnthropicStream) finish(out *bytes.Buffer) {
	c.start(out, "", "")
	c.closeBlock(out)
	stop := c.stop
	if stop == "" {
		stop = "end_turn"
	}
	type messageDelta struct {
		Type  string `json:"type"`
		Delta struct {
			StopReason   string  `json:"stop_reason"`
			StopSequence *string `json:"stop_sequence"`
		} `json:"delta"`
		Usage anthropicUsage `json:"usage"`
	}
	delta := messageDelta{Type: "message_delta", Usage: c.usage.anthropicUsage()}
	delta.Delta.StopReason = stop
	writeEvent(out, "message_delta", mustMarshal(delta))
	writeEvent(out, "message_stop", []byte(`{"type":"message_stop"}`))
	c.finished = true
}

func (c *openAIToAnthropicStream) abort(out *bytes.Buffer, message string) {
	c.flushOpen(out)
	writeAnthropicError(out, "api_error", message)
	c.finished = true
}
