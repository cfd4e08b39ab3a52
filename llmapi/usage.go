package llmapi

import (
	"bytes"
	"encoding/json"

	"github.com/phigate/phigate/provider"
)

// Usage is the token usage a vendor reports for one response.
type Usage struct {
	InputTokens      int
	OutputTokens     int
	CacheReadTokens  int
	CacheWriteTokens int
}

// usageFields covers both vendors' usage objects: OpenAI's
// prompt/completion tokens and Anthropic's input/output tokens.
type usageFields struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`

	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
}

func (u usageFields) add(to *Usage) {
	to.InputTokens += u.PromptTokens + u.InputTokens
	to.OutputTokens += u.CompletionTokens + u.OutputTokens
	to.CacheReadTokens += u.PromptTokensDetails.CachedTokens + u.CacheReadInputTokens
	to.CacheWriteTokens += u.CacheCreationInputTokens
}

// UsageFromBody reads the usage of a non-streamed response body. It
// reports false when the body has none, for example an error body or a
// compressed one.
func UsageFromBody(body []byte) (Usage, bool) {
	var doc struct {
		Usage *usageFields `json:"usage"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Usage == nil {
		return Usage{}, false
	}
	var u Usage
	doc.Usage.add(&u)
	return u, true
}

// maxSSELine bounds the partial line a StreamUsage keeps between chunks;
// a longer data line is skipped, since usage events are short.
const maxSSELine = 64 << 10

// StreamUsage collects token usage from a server-sent event stream fed
// chunk by chunk, however the chunks split lines. OpenAI sends usage in a
// final chunk when the request sets stream_options.include_usage.
// Anthropic sends input tokens in message_start and output tokens in
// message_delta.
type StreamUsage struct {
	format  provider.Format
	partial []byte
	skip    bool // the current line outgrew maxSSELine
	usage   Usage
	found   bool
}

// NewStreamUsage returns a collector for a stream in the given format.
func NewStreamUsage(format provider.Format) *StreamUsage {
	return &StreamUsage{format: format}
}

// Feed consumes one chunk of the stream.
func (s *StreamUsage) Feed(chunk []byte) {
	for len(chunk) > 0 {
		i := bytes.IndexByte(chunk, '\n')
		if i < 0 {
			if !s.skip && len(s.partial)+len(chunk) <= maxSSELine {
				s.partial = append(s.partial, chunk...)
			} else {
				s.skip, s.partial = true, s.partial[:0]
			}
			return
		}
		if !s.skip && len(s.partial)+i <= maxSSELine {
			line := chunk[:i]
			if len(s.partial) > 0 {
				line = append(s.partial, line...)
			}
			s.line(bytes.TrimSuffix(line, []byte{'\r'}))
		}
		s.partial, s.skip = s.partial[:0], false
		chunk = chunk[i+1:]
	}
}

// Usage returns the usage seen so far and whether any was reported.
func (s *StreamUsage) Usage() (Usage, bool) { return s.usage, s.found }

func (s *StreamUsage) line(line []byte) {
	data, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok || !bytes.Contains(data, []byte(`"usage"`)) {
		return
	}
	var event struct {
		Usage   *usageFields `json:"usage"`
		Message struct {
			Usage *usageFields `json:"usage"`
		} `json:"message"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(data), &event); err != nil {
		return
	}
	for _, u := range []*usageFields{event.Usage, event.Message.Usage} {
		if u == nil {
			continue
		}
		if s.format == provider.FormatAnthropic {
			// message_delta repeats the running output count, and may
			// restate input tokens; keep the largest value of each.
			var next Usage
			u.add(&next)
			s.usage.InputTokens = max(s.usage.InputTokens, next.InputTokens)
			s.usage.OutputTokens = max(s.usage.OutputTokens, next.OutputTokens)
			s.usage.CacheReadTokens = max(s.usage.CacheReadTokens, next.CacheReadTokens)
			s.usage.CacheWriteTokens = max(s.usage.CacheWriteTokens, next.CacheWriteTokens)
		} else {
			u.add(&s.usage)
		}
		s.found = true
	}
}
