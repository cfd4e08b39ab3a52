package translate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/phigate/phigate/provider"
)

// Stream converts a server-sent event response stream from the provider's
// format to the client's, event by event. It holds at most one partial
// event (MaxEventBytes) plus what the TextFilter holds back, and its output
// does not depend on how the upstream bytes are split into chunks.
//
// When from == to, events whose texts the filter leaves unchanged pass
// through byte for byte; an event with a changed text is re-encoded with
// only that text replaced. Text a filter holds back is emitted as an extra
// delta event before its part ends: before Anthropic's content_block_stop,
// and before the OpenAI chunk that carries the choice's finish_reason.
//
// When translating, events the client's format has no counterpart for are
// dropped: Anthropic thinking, signature and citation deltas, unknown event
// types (which Anthropic documents clients must ignore), and OpenAI fields
// other than text, tool calls, finish reasons and usage. Comments and
// Anthropic ping events become the client format's keep-alive.
//
// A Stream is not safe for concurrent use.
type Stream struct {
	decoder sseDecoder
	conv    converter
	err     error
	closed  bool
	// sameFormat is true when events pass through in their own format.
	sameFormat bool
}

// converter handles the events of one direction.
type converter interface {
	// event handles one upstream event, writing what the client gets.
	event(ev *sseEvent, out *bytes.Buffer) error
	// done reports whether the upstream's final event has been handled.
	done() bool
	// abort writes held-back text and an error event that ends the client's
	// stream. message must not contain body text.
	abort(out *bytes.Buffer, message string)
}

// NewStream returns a Stream converting from the provider's format to the
// client's, passing every generated text through filter (nil for none).
// An unknown format makes every Write and Close fail with ErrUnknownFormat.
func NewStream(from, to provider.Format, filter TextFilter) *Stream {
	s := &Stream{}
	if err := checkFormats(from, to); err != nil {
		s.err = err
		return s
	}
	parts := &partTracker{filter: filter}
	s.sameFormat = from == to
	switch {
	case from == provider.FormatOpenAI && to == provider.FormatOpenAI:
		s.conv = &openAIPassthrough{parts: parts}
	case from == provider.FormatAnthropic && to == provider.FormatAnthropic:
		s.conv = &anthropicPassthrough{parts: parts, blocks: map[int]string{}}
	case from == provider.FormatAnthropic:
		s.conv = newAnthropicToOpenAIStream(parts)
	default:
		s.conv = newOpenAIToAnthropicStream(parts)
	}
	return s
}

// Write consumes the next upstream chunk and returns the bytes to send to
// the client now, which may be none. On an error the returned bytes still
// end the client's stream with an error event in its format, and every
// later call returns the same error.
func (s *Stream) Write(chunk []byte) ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.closed {
		return nil, ErrStreamClosed
	}

	var out bytes.Buffer
	err := s.decoder.feed(chunk, func(ev *sseEvent) error {
		if s.conv.done() {
			return nil // nothing may follow the final event
		}
		return s.conv.event(ev, &out)
	})
	if err != nil {
		s.fail(&out, err)
		return out.Bytes(), s.err
	}
	if s.sameFormat && s.conv.done() {
		// The stream is passed through whole, down to the last line end.
		out.Write(s.decoder.takeLineEnds())
	}
	return out.Bytes(), nil
}

// Close ends the stream at the end of the upstream body and returns the
// remaining bytes. A stream cut off in the middle of an event or before its
// final event returns an error wrapping ErrStreamTruncated, and the returned
// bytes end the client's stream with an error event in its format. After an
// earlier error, Close returns that error and no bytes.
func (s *Stream) Close() ([]byte, error) {
	if s.closed || s.err != nil {
		s.closed = true
		return nil, s.err
	}
	s.closed = true

	var out bytes.Buffer
	switch {
	case s.decoder.pending():
		s.fail(&out, fmt.Errorf("%w: the upstream body ended in the middle of an event", ErrStreamTruncated))
	case !s.conv.done():
		s.fail(&out, fmt.Errorf("%w: the upstream body ended before the final event", ErrStreamTruncated))
	}
	return out.Bytes(), s.err
}

func (s *Stream) fail(out *bytes.Buffer, err error) {
	s.err = err
	s.conv.abort(out, "The response stream from the upstream provider failed: "+err.Error())
}

// partTracker passes texts through the filter and remembers which parts
// it has seen, so that each is flushed exactly once.
type partTracker struct {
	filter TextFilter
	open   []PartKey
}

func (p *partTracker) next(key PartKey, text string) string {
	if p.filter == nil {
		return text
	}
	if !slices.Contains(p.open, key) {
		p.open = append(p.open, key)
	}
	return p.filter.Next(key, text)
}

// flush ends the part and returns what the filter held for it.
func (p *partTracker) flush(key PartKey) string {
	i := slices.Index(p.open, key)
	if i < 0 {
		return ""
	}
	p.open = slices.Delete(p.open, i, i+1)
	return p.filter.Flush(key)
}

// openParts returns the parts not yet flushed that match, in the order
// they were first seen.
func (p *partTracker) openParts(match func(PartKey) bool) []PartKey {
	var keys []PartKey
	for _, k := range p.open {
		if match(k) {
			keys = append(keys, k)
		}
	}
	return keys
}

func anyPart(PartKey) bool { return true }

// writeData writes an event made of one data line.
func writeData(out *bytes.Buffer, data []byte) {
	out.WriteString("data: ")
	out.Write(data)
	out.WriteString("\n\n")
}

// writeEvent writes an event with a name and one data line.
func writeEvent(out *bytes.Buffer, name string, data []byte) {
	out.WriteString("event: ")
	out.WriteString(name)
	out.WriteString("\ndata: ")
	out.Write(data)
	out.WriteString("\n\n")
}

// eventType reads the "type" field of an Anthropic event's data.
func eventType(data []byte) (string, error) {
	var head struct {
		Type string `json:"type"`
	}
	if !isObject(data) || json.Unmarshal(data, &head) != nil {
		return "", fmt.Errorf("%w: an event's data is not a JSON object", ErrInvalidBody)
	}
	return head.Type, nil
}

// Anthropic stream events, as far as this package reads them.

type anthropicStreamEvent struct {
	Type         string           `json:"type"`
	Index        int              `json:"index"`
	Message      *streamMessage   `json:"message"`
	ContentBlock anthropicBlockIn `json:"content_block"`
	Delta        struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		Thinking    string `json:"thinking"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Usage *anthropicUsageIn `json:"usage"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

type streamMessage struct {
	ID    string           `json:"id"`
	Model string           `json:"model"`
	Usage anthropicUsageIn `json:"usage"`
}

func decodeAnthropicEvent(data []byte) (*anthropicStreamEvent, error) {
	var ev anthropicStreamEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("%w: an Anthropic event is not valid: %v", ErrInvalidBody, jsonError(err))
	}
	return &ev, nil
}

// OpenAI stream chunks, as far as this package reads them.

type openAIChunkIn struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Content      *string           `json:"content"`
			Refusal      *string           `json:"refusal"`
			ToolCalls    []toolCallDeltaIn `json:"tool_calls"`
			FunctionCall *json.RawMessage  `json:"function_call"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *openAIUsageIn   `json:"usage"`
	Error *json.RawMessage `json:"error"`
}

type toolCallDeltaIn struct {
	Index    int    `json:"index"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string  `json:"name"`
		Arguments *string `json:"arguments"`
	} `json:"function"`
}

func decodeOpenAIChunk(data []byte) (*openAIChunkIn, error) {
	var chunk openAIChunkIn
	if !isObject(data) {
		return nil, fmt.Errorf("%w: an OpenAI chunk is not a JSON object", ErrInvalidBody)
	}
	if err := json.Unmarshal(data, &chunk); err != nil {
		return nil, fmt.Errorf("%w: an OpenAI chunk is not valid: %v", ErrInvalidBody, jsonError(err))
	}
	return &chunk, nil
}

// OpenAI stream chunks this package writes.

type openAIChunk struct {
	ID      string              `json:"id"`
	Object  string              `json:"object"`
	Created int64               `json:"created"`
	Model   string              `json:"model"`
	Choices []openAIChunkChoice `json:"choices"`
	Usage   *openAIUsage        `json:"usage,omitempty"`
}

type openAIChunkChoice struct {
	Index        int         `json:"index"`
	Delta        openAIDelta `json:"delta"`
	Logprobs     *struct{}   `json:"logprobs"`
	FinishReason *string     `json:"finish_reason"`
}

type openAIDelta struct {
	Role      string                `json:"role,omitempty"`
	Content   *string               `json:"content,omitempty"`
	Refusal   *string               `json:"refusal,omitempty"`
	ToolCalls []openAIToolCallDelta `json:"tool_calls,omitempty"`
}

type openAIToolCallDelta struct {
	Index    int                 `json:"index"`
	ID       string              `json:"id,omitempty"`
	Type     string              `json:"type,omitempty"`
	Function openAIFunctionDelta `json:"function"`
}

type openAIFunctionDelta struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}
