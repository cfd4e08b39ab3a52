package translate

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/phigate/phigate/provider"
)

// now and newID are variables so that tests can make output deterministic.
var (
	now   = time.Now
	newID = randomID
)

// randomID returns prefix followed by 24 random hex digits, for responses
// whose provider sent no id.
func randomID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return prefix + hex.EncodeToString(b[:])
}

// Response converts a non-streamed success response body from the
// provider's format (from) to the client's format (to), passing every
// generated text through filter. When from == to only the filtered texts
// change, and every other byte is kept. A body that is not a success
// response of its format returns an error wrapping ErrInvalidBody.
func Response(from, to provider.Format, body []byte, filter TextFilter) ([]byte, error) {
	if err := checkFormats(from, to); err != nil {
		return nil, err
	}
	if from == to {
		if filter == nil {
			return body, nil
		}
		if from == provider.FormatOpenAI {
			return filterOpenAIResponse(body, filter)
		}
		return filterAnthropicResponse(body, filter)
	}
	if from == provider.FormatAnthropic {
		return anthropicToOpenAIResponse(body, filter)
	}
	return openAIToAnthropicResponse(body, filter)
}

// filterWhole passes one complete part through filter.
func filterWhole(filter TextFilter, key PartKey, text string) string {
	if filter == nil {
		return text
	}
	return filter.Next(key, text) + filter.Flush(key)
}

// Decoded response shapes. They list the fields this package reads.

type openAIResponseIn struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Content   *string `json:"content"`
			Refusal   *string `json:"refusal"`
			ToolCalls []struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
			Audio json.RawMessage `json:"audio"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *openAIUsageIn `json:"usage"`
}

type openAIUsageIn struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

type anthropicMessageIn struct {
	ID           string             `json:"id"`
	Type         string             `json:"type"`
	Model        string             `json:"model"`
	Content      []anthropicBlockIn `json:"content"`
	StopReason   string             `json:"stop_reason"`
	StopSequence *string            `json:"stop_sequence"`
	Usage        anthropicUsageIn   `json:"usage"`
}

type anthropicBlockIn struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	Thinking string          `json:"thinking"`
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Input    json.RawMessage `json:"input"`
}

type anthropicUsageIn struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
}

// anthropicUsage converts OpenAI usage. OpenAI's prompt_tokens include the
// cached tokens while Anthropic's input_tokens exclude them.
func (u *openAIUsageIn) anthropicUsage() anthropicUsage {
	if u == nil {
		return anthropicUsage{}
	}
	cached := u.PromptTokensDetails.CachedTokens
	out := anthropicUsage{InputTokens: max(u.PromptTokens-cached, 0), OutputTokens: u.CompletionTokens}
	if cached > 0 {
		out.CacheReadInputTokens = &cached
	}
	return out
}

// openAIUsage converts Anthropic usage: the prompt tokens are the input
// tokens plus the tokens read from and written to the cache.
func (u anthropicUsageIn) openAIUsage() *openAIUsage {
	prompt := u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens
	out := &openAIUsage{
		PromptTokens:     prompt,
		CompletionTokens: u.OutputTokens,
		TotalTokens:      prompt + u.OutputTokens,
	}
	if u.CacheReadInputTokens > 0 {
		out.PromptTokensDetails = &openAIPromptDetails{CachedTokens: u.CacheReadInputTokens}
	}
	return out
}

// Stop and finish reasons. A value outside the tables maps to the plain
// end of a turn, because every client understands it.

func finishReason(stopReason string) string {
	switch stopReason {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	}
	return "stop" // end_turn, stop_sequence, pause_turn
}

func stopReason(finishReason string) string {
	switch finishReason {
	case "length":
		return "max_tokens"
	case "tool_calls", "function_call":
		return "tool_use"
	case "content_filter":
		return "refusal"
	}
	return "end_turn" // stop
}

func openAIToAnthropicResponse(body []byte, filter TextFilter) ([]byte, error) {
	var in openAIResponseIn
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("%w: the response is not a chat completion: %v", ErrInvalidBody, jsonError(err))
	}
	if len(in.Choices) != 1 {
		return nil, invalid("choices", "expected exactly one choice, found %d", len(in.Choices))
	}
	choice := in.Choices[0]
	if len(choice.Message.Audio) > 0 && !isNull(choice.Message.Audio) {
		return nil, invalid("choices[0].message.audio", "audio output has no Anthropic counterpart")
	}

	out := anthropicMessage{
		ID:      in.ID,
		Type:    "message",
		Role:    "assistant",
		Model:   in.Model,
		Content: []any{},
		Usage:   in.Usage.anthropicUsage(),
	}
	out.ID = prefixedID(out.ID, "msg_")
	textKey := PartKey{Choice: choice.Index, Index: 0, Kind: PartText}
	var text strings.Builder
	if choice.Message.Content != nil {
		text.WriteString(*choice.Message.Content)
	}
	if choice.Message.Refusal != nil {
		text.WriteString(*choice.Message.Refusal)
	}
	if text.Len() > 0 {
		out.Content = append(out.Content, anthropicText{Type: "text", Text: filterWhole(filter, textKey, text.String())})
	}
	for j, call := range choice.Message.ToolCalls {
		path := fmt.Sprintf("choices[0].message.tool_calls[%d]", j)
		if call.Type != "" && call.Type != "function" {
			return nil, invalid(path+".type", "only function tool calls have an Anthropic counterpart")
		}
		args := filterWhole(filter, PartKey{Choice: choice.Index, Index: j, Kind: PartJSON}, call.Function.Arguments)
		input, err := argumentsToInput(args, path+".function.arguments")
		if err != nil {
			return nil, err
		}
		out.Content = append(out.Content, anthropicToolUse{Type: "tool_use", ID: call.ID, Name: call.Function.Name, Input: input})
	}
	reason := stopReason(choice.FinishReason)
	out.StopReason = &reason
	return marshal(out)
}

func anthropicToOpenAIResponse(body []byte, filter TextFilter) ([]byte, error) {
	var in anthropicMessageIn
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("%w: the response is not an Anthropic message: %v", ErrInvalidBody, jsonError(err))
	}
	if in.Type != "message" {
		return nil, invalid("type", "expected message")
	}

	message := openAIResponseMessage{Role: "assistant"}
	var text strings.Builder
	hasText := false
	for i, block := range in.Content {
		switch block.Type {
		case "text":
			hasText = true
			text.WriteString(filterWhole(filter, PartKey{Index: i, Kind: PartText}, block.Text))
		case "tool_use":
			input := block.Input
			if len(input) == 0 {
				input = json.RawMessage("{}")
			}
			args := filterWhole(filter, PartKey{Index: i, Kind: PartJSON}, string(compactJSON(input)))
			message.ToolCalls = append(message.ToolCalls, openAIToolCall{
				ID: block.ID, Type: "function",
				Function: openAIFunctionCall{Name: block.Name, Arguments: args},
			})
		case "thinking", "redacted_thinking":
			// Chat completions has no place for reasoning text, and a client
			// in that format never asked for it.
		default:
			return nil, invalid(fmt.Sprintf("content[%d].type", i), "the block type has no chat completions counterpart")
		}
	}
	if hasText || message.ToolCalls == nil {
		s := text.String()
		message.Content = &s
	}

	out := openAICompletion{
		ID:      in.ID,
		Object:  "chat.completion",
		Created: now().Unix(),
		Model:   in.Model,
		Choices: []openAIChoice{{Index: 0, Message: message, FinishReason: finishReason(in.StopReason)}},
		Usage:   in.Usage.openAIUsage(),
	}
	out.ID = prefixedID(out.ID, "chatcmpl-")
	return marshal(out)
}

// filterOpenAIResponse passes an OpenAI response's texts through filter and
// splices the changed ones into the original bytes.
func filterOpenAIResponse(body []byte, filter TextFilter) ([]byte, error) {
	var in openAIResponseIn
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("%w: the response is not a chat completion: %v", ErrInvalidBody, jsonError(err))
	}
	type change struct {
		path string
		text string
	}
	var changes []change
	add := func(path string, key PartKey, text string) {
		if filtered := filterWhole(filter, key, text); filtered != text {
			changes = append(changes, change{path, filtered})
		}
	}
	for c, choice := range in.Choices {
		prefix := fmt.Sprintf("choices.%d.message.", c)
		if choice.Message.Content != nil {
			add(prefix+"content", PartKey{Choice: choice.Index, Kind: PartText}, *choice.Message.Content)
		}
		if choice.Message.Refusal != nil {
			add(prefix+"refusal", PartKey{Choice: choice.Index, Kind: PartText}, *choice.Message.Refusal)
		}
		for j, call := range choice.Message.ToolCalls {
			path := fmt.Sprintf("%stool_calls.%d.function.arguments", prefix, j)
			add(path, PartKey{Choice: choice.Index, Index: j, Kind: PartJSON}, call.Function.Arguments)
		}
	}

	want := map[string]bool{}
	for _, ch := range changes {
		want[ch.path] = true
	}
	spans, err := findSpans(body, want)
	if err != nil {
		return nil, err
	}
	var edits []spliceEdit
	for _, ch := range changes {
		if at, ok := spans[ch.path]; ok {
			edits = append(edits, spliceEdit{at: at, value: quote(ch.text)})
		}
	}
	return splice(body, edits), nil
}

// filterAnthropicResponse passes an Anthropic message's texts, thinking and
// tool inputs through filter and splices the changed ones into the original
// bytes.
//
// NOTE: a thinking block's signature covers its text, so a filter that
// changes thinking text makes the block fail verification if the client
// sends it back in a later turn.
func filterAnthropicResponse(body []byte, filter TextFilter) ([]byte, error) {
	var in anthropicMessageIn
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("%w: the response is not an Anthropic message: %v", ErrInvalidBody, jsonError(err))
	}
	want := map[string]bool{}
	for i, block := range in.Content {
		switch block.Type {
		case "text":
			want[fmt.Sprintf("content.%d.text", i)] = true
		case "thinking":
			want[fmt.Sprintf("content.%d.thinking", i)] = true
		case "tool_use", "server_tool_use":
			want[fmt.Sprintf("content.%d.input", i)] = true
		}
	}
	spans, err := findSpans(body, want)
	if err != nil {
		return nil, err
	}

	var edits []spliceEdit
	for i, block := range in.Content {
		var path, text string
		switch block.Type {
		case "text":
			path, text = fmt.Sprintf("content.%d.text", i), block.Text
		case "thinking":
			path, text = fmt.Sprintf("content.%d.thinking", i), block.Thinking
		case "tool_use", "server_tool_use":
			path = fmt.Sprintf("content.%d.input", i)
		default:
			continue
		}
		at, ok := spans[path]
		if !ok {
			continue
		}

		if path == fmt.Sprintf("content.%d.input", i) {
			raw := string(body[at.start:at.end])
			filtered := filterWhole(filter, PartKey{Index: i, Kind: PartJSON}, raw)
			if filtered == raw {
				continue
			}
			if !json.Valid([]byte(filtered)) {
				return nil, invalid(fmt.Sprintf("content[%d].input", i), "the text filter returned invalid JSON")
			}
			edits = append(edits, spliceEdit{at: at, value: []byte(filtered)})
			continue
		}
		if filtered := filterWhole(filter, PartKey{Index: i, Kind: PartText}, text); filtered != text {
			edits = append(edits, spliceEdit{at: at, value: quote(filtered)})
		}
	}
	return splice(body, edits), nil
}

// jsonError describes a decoding error without quoting the input: the
// syntax error's offset or the type mismatch's field.
func jsonError(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("invalid JSON at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("field %s has the wrong type", e.Field)
	}
	return "invalid JSON"
}

// prefixedID returns the upstream id with the prefix the client's vendor
// uses for its ids ("chatcmpl-" for OpenAI, "msg_" for Anthropic), so
// clients that check the shape see a familiar one while the upstream id
// stays traceable. An empty id gets a new random one.
func prefixedID(id, prefix string) string {
	switch {
	case id == "":
		return newID(prefix)
	case strings.HasPrefix(id, prefix):
		return id
	}
	return prefix + id
}
