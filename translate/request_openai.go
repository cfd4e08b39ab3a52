package translate

import (
	"encoding/json"
	"strings"

	"github.com/phigate/phigate/provider"
)

// This file translates Anthropic messages requests into OpenAI chat
// completions requests.

const toOpenAI = provider.FormatOpenAI

// maxOpenAIStops is the number of stop sequences OpenAI accepts.
const maxOpenAIStops = 4

// defaultDocumentName is the filename given to an Anthropic document that
// has no title, because OpenAI file parts carry a filename.
const defaultDocumentName = "document.pdf"

func anthropicToOpenAIRequest(root object, opts RequestOptions) (*openAIRequest, error) {
	// cache_control marks prompt-caching breakpoints. OpenAI caches prompt
	// prefixes by itself, so the hint has no field there and dropping it
	// changes neither the answer nor what the model reads.
	err := root.only(toOpenAI, "model", "messages", "max_tokens", "system", "metadata",
		"stop_sequences", "stream", "temperature", "top_p", "tools", "tool_choice",
		"thinking", "service_tier")
	if err != nil {
		return nil, err
	}
	if err := checkAnthropicDefaults(root); err != nil {
		return nil, err
	}

	req := &openAIRequest{}
	if req.Model, err = root.requiredStr("model"); err != nil {
		return nil, err
	}
	if opts.Model != "" {
		req.Model = opts.Model
	}

	if root.has("system") {
		if req.Messages, err = anthropicSystem(root); err != nil {
			return nil, err
		}
	}
	if err := convertAnthropicMessages(root, req); err != nil {
		return nil, err
	}
	if err := convertAnthropicSampling(root, req); err != nil {
		return nil, err
	}
	if err := convertAnthropicTools(root, req); err != nil {
		return nil, err
	}
	return req, nil
}

// checkAnthropicDefaults accepts Anthropic fields that OpenAI lacks only
// with values that ask for nothing more than OpenAI does by default.
func checkAnthropicDefaults(root object) error {
	if root.has("thinking") {
		thinking, err := root.object("thinking")
		if err != nil {
			return err
		}
		if kind, err := thinking.str("type"); err != nil {
			return err
		} else if kind != "disabled" {
			return &UnsupportedError{Feature: "thinking", Target: toOpenAI,
				Reason: "extended thinking has no chat completions counterpart"}
		}
	}
	if tier, err := root.str("service_tier"); err != nil {
		return err
	} else if tier != "" && tier != "auto" {
		return &UnsupportedError{Feature: "service_tier=" + enumValue(tier), Target: toOpenAI,
			Reason: "OpenAI has no such service tier"}
	}
	return nil
}

func anthropicSystem(root object) ([]openAIMessage, error) {
	var s string
	if json.Unmarshal(root.raw("system"), &s) == nil {
		return []openAIMessage{{Role: "system", Content: s}}, nil
	}
	blocks, err := root.array("system")
	if err != nil {
		return nil, invalid("system", "expected a string or an array of text blocks")
	}
	var messages []openAIMessage
	for i, raw := range blocks {
		block, err := decodeObject(raw, index("system", i))
		if err != nil {
			return nil, err
		}
		text, err := anthropicTextBlock(block)
		if err != nil {
			return nil, err
		}
		messages = append(messages, openAIMessage{Role: "system", Content: text})
	}
	return messages, nil
}

// anthropicTextBlock returns the text of a block that must be a text block.
func anthropicTextBlock(block object) (string, error) {
	kind, err := block.requiredStr("type")
	if err != nil {
		return "", err
	}
	if kind != "text" {
		return "", &UnsupportedError{Feature: block.at("type=" + enumValue(kind)), Target: toOpenAI,
			Reason: "this content may only hold text blocks in the OpenAI API"}
	}
	if err := block.only(toOpenAI, "type", "text", "cache_control"); err != nil {
		return "", err
	}
	return block.requiredStr("text")
}

func convertAnthropicSampling(root object, req *openAIRequest) error {
	if n, ok, err := root.integer("max_tokens"); err != nil {
		return err
	} else if ok {
		req.MaxCompletionTokens = &n
	}

	var err error
	if req.Temperature, _, err = root.number("temperature"); err != nil {
		return err
	}
	if req.TopP, _, err = root.number("top_p"); err != nil {
		return err
	}

	if root.has("stop_sequences") {
		if json.Unmarshal(root.raw("stop_sequences"), &req.Stop) != nil {
			return invalid("stop_sequences", "expected an array of strings")
		}
		if len(req.Stop) > maxOpenAIStops {
			return &UnsupportedError{Feature: "stop_sequences", Target: toOpenAI,
				Reason: "OpenAI accepts at most 4 stop sequences"}
		}
	}

	if req.Stream, _, err = root.boolean("stream"); err != nil {
		return err
	}
	if req.Stream {
		// Anthropic streams always carry usage; OpenAI's only on request.
		req.StreamOptions = &openAIStreamOptions{IncludeUsage: true}
	}

	if root.has("metadata") {
		meta, err := root.object("metadata")
		if err != nil {
			return err
		}
		if err := meta.only(toOpenAI, "user_id"); err != nil {
			return err
		}
		if req.User, err = meta.str("user_id"); err != nil {
			return err
		}
	}
	return nil
}

func convertAnthropicTools(root object, req *openAIRequest) error {
	tools, err := root.array("tools")
	if err != nil {
		return err
	}
	for i, raw := range tools {
		tool, err := decodeObject(raw, index("tools", i))
		if err != nil {
			return err
		}
		if kind, err := tool.str("type"); err != nil {
			return err
		} else if kind != "" && kind != "custom" {
			return &UnsupportedError{Feature: tool.at("type=" + enumValue(kind)), Target: toOpenAI,
				Reason: "Anthropic server and client tools other than custom tools have no OpenAI counterpart"}
		}
		if err := tool.only(toOpenAI, "type", "name", "description", "input_schema", "cache_control"); err != nil {
			return err
		}
		fn := openAIFunction{}
		if fn.Name, err = tool.requiredStr("name"); err != nil {
			return err
		}
		if fn.Description, err = tool.str("description"); err != nil {
			return err
		}
		if !tool.has("input_schema") || !isObject(tool.raw("input_schema")) {
			return invalid(tool.at("input_schema"), "expected a JSON schema object")
		}
		fn.Parameters = compactJSON(tool.raw("input_schema"))
		req.Tools = append(req.Tools, openAITool{Type: "function", Function: fn})
	}

	if !root.has("tool_choice") {
		return nil
	}
	choice, err := root.object("tool_choice")
	if err != nil {
		return err
	}
	if err := choice.only(toOpenAI, "type", "name", "disable_parallel_tool_use"); err != nil {
		return err
	}
	kind, err := choice.requiredStr("type")
	if err != nil {
		return err
	}
	switch kind {
	case "auto", "none":
		req.ToolChoice = kind
	case "any":
		req.ToolChoice = "required"
	case "tool":
		named := openAINamedToolChoice{Type: "function"}
		if named.Function.Name, err = choice.requiredStr("name"); err != nil {
			return err
		}
		req.ToolChoice = named
	default:
		return invalid(choice.at("type"), "expected auto, any, tool or none")
	}
	if disable, _, err := choice.boolean("disable_parallel_tool_use"); err != nil {
		return err
	} else if disable {
		parallel := false
		req.ParallelToolCalls = &parallel
	}
	return nil
}

// convertAnthropicMessages turns each turn into OpenAI messages. A user
// turn's tool_result blocks become tool messages, in order, with the
// turn's other blocks gathered into user messages between them.
func convertAnthropicMessages(root object, req *openAIRequest) error {
	if !root.has("messages") {
		return invalid("messages", "missing")
	}
	turns, err := root.array("messages")
	if err != nil {
		return err
	}
	for i, raw := range turns {
		turn, err := decodeObject(raw, index("messages", i))
		if err != nil {
			return err
		}
		if err := turn.only(toOpenAI, "role", "content"); err != nil {
			return err
		}
		role, err := turn.requiredStr("role")
		if err != nil {
			return err
		}
		var messages []openAIMessage
		switch role {
		case "user":
			messages, err = anthropicUserTurn(turn)
		case "assistant":
			messages, err = anthropicAssistantTurn(turn)
		default:
			err = invalid(turn.at("role"), "expected user or assistant")
		}
		if err != nil {
			return err
		}
		req.Messages = append(req.Messages, messages...)
	}
	return nil
}

func anthropicUserTurn(turn object) ([]openAIMessage, error) {
	var s string
	if json.Unmarshal(turn.raw("content"), &s) == nil {
		return []openAIMessage{{Role: "user", Content: s}}, nil
	}
	blocks, err := turn.array("content")
	if err != nil || blocks == nil {
		return nil, invalid(turn.at("content"), "expected a string or an array of content blocks")
	}

	var messages []openAIMessage
	var parts []any
	flush := func() {
		if parts != nil {
			messages = append(messages, openAIMessage{Role: "user", Content: parts})
			parts = nil
		}
	}
	for j, raw := range blocks {
		block, err := decodeObject(raw, index(turn.at("content"), j))
		if err != nil {
			return nil, err
		}
		kind, err := block.requiredStr("type")
		if err != nil {
			return nil, err
		}
		var part any
		switch kind {
		case "text":
			var text string
			text, err = anthropicTextBlock(block)
			part = openAIText{Type: "text", Text: text}
		case "image":
			part, err = anthropicImageToPart(block)
		case "document":
			part, err = anthropicDocumentToPart(block)
		case "tool_result":
			var message openAIMessage
			if message, err = anthropicToolResultToMessage(block); err == nil {
				flush()
				messages = append(messages, message)
				continue
			}
		default:
			err = &UnsupportedError{Feature: block.at("type=" + enumValue(kind)), Target: toOpenAI,
				Reason: "the content block type has no chat completions counterpart"}
		}
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
	}
	flush()
	if messages == nil {
		// An empty content array: keep the turn so the provider judges it.
		messages = []openAIMessage{{Role: "user", Content: []any{}}}
	}
	return messages, nil
}

func anthropicImageToPart(block object) (any, error) {
	if err := block.only(toOpenAI, "type", "source", "cache_control"); err != nil {
		return nil, err
	}
	source, err := block.object("source")
	if err != nil {
		return nil, err
	}
	kind, err := source.requiredStr("type")
	if err != nil {
		return nil, err
	}
	switch kind {
	case "base64":
		if err := source.only(toOpenAI, "type", "media_type", "data"); err != nil {
			return nil, err
		}
		mediaType, err := source.requiredStr("media_type")
		if err != nil {
			return nil, err
		}
		data, err := source.requiredStr("data")
		if err != nil {
			return nil, err
		}
		return openAIImagePart{Type: "image_url", ImageURL: openAIImageURL{URL: dataURL(mediaType, data)}}, nil
	case "url":
		if err := source.only(toOpenAI, "type", "url"); err != nil {
			return nil, err
		}
		url, err := source.requiredStr("url")
		if err != nil {
			return nil, err
		}
		return openAIImagePart{Type: "image_url", ImageURL: openAIImageURL{URL: url}}, nil
	}
	return nil, &UnsupportedError{Feature: source.at("type=" + enumValue(kind)), Target: toOpenAI,
		Reason: "OpenAI takes images as URLs or base64 data"}
}

func anthropicDocumentToPart(block object) (any, error) {
	if err := block.only(toOpenAI, "type", "source", "title", "cache_control"); err != nil {
		return nil, err
	}
	source, err := block.object("source")
	if err != nil {
		return nil, err
	}
	kind, err := source.requiredStr("type")
	if err != nil {
		return nil, err
	}
	mediaType, err := source.str("media_type")
	if err != nil {
		return nil, err
	}
	if kind != "base64" || mediaType != "application/pdf" {
		return nil, &UnsupportedError{Feature: source.at("type=" + enumValue(kind)), Target: toOpenAI,
			Reason: "OpenAI chat completions take documents only as base64 PDF data"}
	}
	if err := source.only(toOpenAI, "type", "media_type", "data"); err != nil {
		return nil, err
	}
	data, err := source.requiredStr("data")
	if err != nil {
		return nil, err
	}
	title, err := block.str("title")
	if err != nil {
		return nil, err
	}
	if title == "" {
		title = defaultDocumentName
	}
	return openAIFilePart{Type: "file", File: openAIFileData{Filename: title, FileData: dataURL(mediaType, data)}}, nil
}

func anthropicToolResultToMessage(block object) (openAIMessage, error) {
	if err := block.only(toOpenAI, "type", "tool_use_id", "content", "is_error", "cache_control"); err != nil {
		return openAIMessage{}, err
	}
	if isError, _, err := block.boolean("is_error"); err != nil {
		return openAIMessage{}, err
	} else if isError {
		return openAIMessage{}, &UnsupportedError{Feature: block.at("is_error"), Target: toOpenAI,
			Reason: "OpenAI tool messages cannot mark a failed tool call; say so in the content instead"}
	}
	id, err := block.requiredStr("tool_use_id")
	if err != nil {
		return openAIMessage{}, err
	}
	message := openAIMessage{Role: "tool", ToolCallID: id, Content: ""}
	if !block.has("content") {
		return message, nil
	}

	var s string
	if json.Unmarshal(block.raw("content"), &s) == nil {
		message.Content = s
		return message, nil
	}
	items, err := block.array("content")
	if err != nil {
		return openAIMessage{}, invalid(block.at("content"), "expected a string or an array of text blocks")
	}
	parts := []any{}
	for k, raw := range items {
		item, err := decodeObject(raw, index(block.at("content"), k))
		if err != nil {
			return openAIMessage{}, err
		}
		text, err := anthropicTextBlock(item)
		if err != nil {
			return openAIMessage{}, err
		}
		parts = append(parts, openAIText{Type: "text", Text: text})
	}
	message.Content = parts
	return message, nil
}

func anthropicAssistantTurn(turn object) ([]openAIMessage, error) {
	var s string
	if json.Unmarshal(turn.raw("content"), &s) == nil {
		return []openAIMessage{{Role: "assistant", Content: s}}, nil
	}
	blocks, err := turn.array("content")
	if err != nil || blocks == nil {
		return nil, invalid(turn.at("content"), "expected a string or an array of content blocks")
	}

	var texts []any
	message := openAIMessage{Role: "assistant"}
	for j, raw := range blocks {
		block, err := decodeObject(raw, index(turn.at("content"), j))
		if err != nil {
			return nil, err
		}
		kind, err := block.requiredStr("type")
		if err != nil {
			return nil, err
		}
		switch kind {
		case "text":
			text, err := anthropicTextBlock(block)
			if err != nil {
				return nil, err
			}
			texts = append(texts, openAIText{Type: "text", Text: text})
		case "tool_use":
			call, err := anthropicToolUseToCall(block)
			if err != nil {
				return nil, err
			}
			message.ToolCalls = append(message.ToolCalls, call)
		default:
			return nil, &UnsupportedError{Feature: block.at("type=" + enumValue(kind)), Target: toOpenAI,
				Reason: "assistant content may only hold text and tool_use blocks in the OpenAI API"}
		}
	}

	switch {
	case len(texts) == 1:
		message.Content = texts[0].(openAIText).Text
	case len(texts) > 1:
		message.Content = texts
	case message.ToolCalls == nil:
		message.Content = ""
	}
	return []openAIMessage{message}, nil
}

func anthropicToolUseToCall(block object) (openAIToolCall, error) {
	if err := block.only(toOpenAI, "type", "id", "name", "input", "cache_control"); err != nil {
		return openAIToolCall{}, err
	}
	call := openAIToolCall{Type: "function"}
	var err error
	if call.ID, err = block.requiredStr("id"); err != nil {
		return call, err
	}
	if call.Function.Name, err = block.requiredStr("name"); err != nil {
		return call, err
	}
	call.Function.Arguments = "{}"
	if block.has("input") {
		if !isObject(block.raw("input")) {
			return call, invalid(block.at("input"), "expected a JSON object")
		}
		call.Function.Arguments = string(compactJSON(block.raw("input")))
	}
	return call, nil
}

// dataURL builds a base64 data URL.
func dataURL(mediaType, data string) string {
	return "data:" + strings.ToLower(mediaType) + ";base64," + data
}
