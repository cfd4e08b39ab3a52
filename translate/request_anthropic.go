package translate

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/phigate/phigate/provider"
)

// This file translates OpenAI chat completions requests into Anthropic
// messages requests.

const toAnthropic = provider.FormatAnthropic

// anthropicImageTypes are the image media types Anthropic accepts.
var anthropicImageTypes = map[string]bool{
	"image/jpeg": true,
	"image/png":  true,
	"image/gif":  true,
	"image/webp": true,
}

func openAIToAnthropicRequest(root object, opts RequestOptions) (*anthropicRequest, error) {
	if err := checkOpenAIDefaults(root); err != nil {
		return nil, err
	}
	err := root.only(toAnthropic, "model", "messages", "max_completion_tokens", "max_tokens",
		"temperature", "top_p", "stop", "stream", "stream_options", "tools", "tool_choice",
		"parallel_tool_calls", "user", "safety_identifier",
		// Accepted only with their default values by checkOpenAIDefaults.
		"n", "logprobs", "top_logprobs", "response_format", "frequency_penalty",
		"presence_penalty", "logit_bias", "store", "modalities", "service_tier", "metadata")
	if err != nil {
		return nil, err
	}

	req := &anthropicRequest{}
	if req.Model, err = root.requiredStr("model"); err != nil {
		return nil, err
	}
	if opts.Model != "" {
		req.Model = opts.Model
	}

	if err := convertOpenAIMessages(root, req); err != nil {
		return nil, err
	}
	if err := convertOpenAISampling(root, req, opts); err != nil {
		return nil, err
	}
	if err := convertOpenAITools(root, req); err != nil {
		return nil, err
	}
	return req, nil
}

// checkOpenAIDefaults accepts the OpenAI fields that Anthropic lacks only
// with their default values, because those request nothing beyond what
// Anthropic does anyway.
func checkOpenAIDefaults(root object) error {
	unsupported := func(feature, reason string) error {
		return &UnsupportedError{Feature: feature, Target: toAnthropic, Reason: reason}
	}

	if n, ok, err := root.integer("n"); err != nil {
		return err
	} else if ok && n != 1 {
		return unsupported("n", "Anthropic returns one choice per request; send n requests instead")
	}
	if on, _, err := root.boolean("logprobs"); err != nil {
		return err
	} else if on {
		return unsupported("logprobs", "Anthropic does not return token log probabilities")
	}
	if n, _, err := root.integer("top_logprobs"); err != nil {
		return err
	} else if n != 0 {
		return unsupported("top_logprobs", "Anthropic does not return token log probabilities")
	}
	if root.has("response_format") {
		format, err := root.object("response_format")
		if err != nil {
			return err
		}
		kind, err := format.str("type")
		if err != nil {
			return err
		}
		if kind != "text" {
			return unsupported("response_format.type="+enumValue(kind),
				"Anthropic has no JSON output mode; describe the JSON in the prompt or use a forced tool call")
		}
	}
	for _, key := range []string{"frequency_penalty", "presence_penalty"} {
		if _, v, err := root.number(key); err != nil {
			return err
		} else if v != 0 {
			return unsupported(key, "Anthropic has no repetition penalties")
		}
	}
	if root.has("logit_bias") {
		var bias map[string]json.RawMessage
		if json.Unmarshal(root.raw("logit_bias"), &bias) != nil {
			return invalid("logit_bias", "expected an object")
		}
		if len(bias) > 0 {
			return unsupported("logit_bias", "Anthropic has no token biases")
		}
	}
	if on, _, err := root.boolean("store"); err != nil {
		return err
	} else if on {
		return unsupported("store", "Anthropic does not store completions")
	}
	if root.has("metadata") {
		var meta map[string]json.RawMessage
		if json.Unmarshal(root.raw("metadata"), &meta) != nil {
			return invalid("metadata", "expected an object")
		}
		if len(meta) > 0 {
			return unsupported("metadata", "OpenAI metadata tags stored completions, which Anthropic does not keep; use user for the end-user id")
		}
	}
	if root.has("modalities") {
		var modalities []string
		if json.Unmarshal(root.raw("modalities"), &modalities) != nil {
			return invalid("modalities", "expected an array of strings")
		}
		for _, m := range modalities {
			if m != "text" {
				return unsupported("modalities="+enumValue(m), "Anthropic generates text only")
			}
		}
	}
	if tier, err := root.str("service_tier"); err != nil {
		return err
	} else if tier != "" && tier != "auto" {
		return unsupported("service_tier="+enumValue(tier), "Anthropic has no such service tier")
	}
	return nil
}

// enumValue returns an enum value for an error message, or a placeholder
// when it does not look like a protocol enum and so might be body text.
func enumValue(v string) string {
	if fieldNamePattern.MatchString(v) {
		return v
	}
	return "(value withheld)"
}

func convertOpenAISampling(root object, req *anthropicRequest, opts RequestOptions) error {
	req.MaxTokens = opts.DefaultMaxTokens
	if req.MaxTokens == 0 {
		req.MaxTokens = DefaultMaxTokens
	}
	for _, key := range []string{"max_tokens", "max_completion_tokens"} {
		n, ok, err := root.integer(key)
		if err != nil {
			return err
		}
		if ok {
			req.MaxTokens = n // max_completion_tokens, checked last, wins
		}
	}

	raw, temperature, err := root.number("temperature")
	if err != nil {
		return err
	}
	if temperature > 1 {
		return &UnsupportedError{Feature: "temperature", Target: toAnthropic,
			Reason: "Anthropic accepts 0 to 1 where OpenAI accepts 0 to 2; send a value of at most 1"}
	}
	req.Temperature = raw
	if req.TopP, _, err = root.number("top_p"); err != nil {
		return err
	}

	if root.has("stop") {
		var one string
		if json.Unmarshal(root.raw("stop"), &one) == nil {
			req.StopSequences = []string{one}
		} else if json.Unmarshal(root.raw("stop"), &req.StopSequences) != nil {
			return invalid("stop", "expected a string or an array of strings")
		}
	}

	if req.Stream, _, err = root.boolean("stream"); err != nil {
		return err
	}
	if root.has("stream_options") {
		// Anthropic always reports usage in a stream, so include_usage needs
		// no counterpart; include_obfuscation only pads OpenAI's own events.
		streamOptions, err := root.object("stream_options")
		if err != nil {
			return err
		}
		if err := streamOptions.only(toAnthropic, "include_usage", "include_obfuscation"); err != nil {
			return err
		}
	}

	userID, err := root.str("user")
	if err != nil {
		return err
	}
	if id, err := root.str("safety_identifier"); err != nil {
		return err
	} else if id != "" {
		userID = id
	}
	if userID != "" {
		req.Metadata = &anthropicMetadata{UserID: userID}
	}
	return nil
}

func convertOpenAITools(root object, req *anthropicRequest) error {
	tools, err := root.array("tools")
	if err != nil {
		return err
	}
	for i, raw := range tools {
		tool, err := decodeObject(raw, index("tools", i))
		if err != nil {
			return err
		}
		if err := tool.only(toAnthropic, "type", "function"); err != nil {
			return err
		}
		if kind, err := tool.requiredStr("type"); err != nil {
			return err
		} else if kind != "function" {
			return &UnsupportedError{Feature: tool.at("type=" + enumValue(kind)), Target: toAnthropic,
				Reason: "only function tools have an Anthropic counterpart"}
		}
		fn, err := tool.object("function")
		if err != nil {
			return err
		}
		if err := fn.only(toAnthropic, "name", "description", "parameters", "strict"); err != nil {
			return err
		}
		if strict, _, err := fn.boolean("strict"); err != nil {
			return err
		} else if strict {
			return &UnsupportedError{Feature: fn.at("strict"), Target: toAnthropic,
				Reason: "Anthropic does not enforce the schema of tool arguments; set strict to false"}
		}
		out := anthropicTool{InputSchema: json.RawMessage(`{"type":"object","properties":{}}`)}
		if out.Name, err = fn.requiredStr("name"); err != nil {
			return err
		}
		if out.Description, err = fn.str("description"); err != nil {
			return err
		}
		if fn.has("parameters") {
			if !isObject(fn.raw("parameters")) {
				return invalid(fn.at("parameters"), "expected a JSON schema object")
			}
			out.InputSchema = compactJSON(fn.raw("parameters"))
		}
		req.Tools = append(req.Tools, out)
	}

	choice, err := convertOpenAIToolChoice(root)
	if err != nil {
		return err
	}
	parallel, present, err := root.boolean("parallel_tool_calls")
	if err != nil {
		return err
	}
	if present && !parallel && len(req.Tools) > 0 {
		if choice == nil {
			choice = &anthropicToolChoice{Type: "auto"}
		}
		// Anthropic's "none" has no parallelism flag, and needs none.
		if choice.Type != "none" {
			choice.DisableParallelToolUse = true
		}
	}
	req.ToolChoice = choice
	return nil
}

func convertOpenAIToolChoice(root object) (*anthropicToolChoice, error) {
	if !root.has("tool_choice") {
		return nil, nil
	}
	var mode string
	if json.Unmarshal(root.raw("tool_choice"), &mode) == nil {
		switch mode {
		case "none", "auto":
			return &anthropicToolChoice{Type: mode}, nil
		case "required":
			return &anthropicToolChoice{Type: "any"}, nil
		}
		return nil, invalid("tool_choice", "expected none, auto, required or an object")
	}

	choice, err := root.object("tool_choice")
	if err != nil {
		return nil, invalid("tool_choice", "expected none, auto, required or an object")
	}
	kind, err := choice.requiredStr("type")
	if err != nil {
		return nil, err
	}
	if kind != "function" {
		return nil, &UnsupportedError{Feature: "tool_choice.type=" + enumValue(kind), Target: toAnthropic,
			Reason: "Anthropic can force one named tool, any tool, or none"}
	}
	if err := choice.only(toAnthropic, "type", "function"); err != nil {
		return nil, err
	}
	fn, err := choice.object("function")
	if err != nil {
		return nil, err
	}
	name, err := fn.requiredStr("name")
	if err != nil {
		return nil, err
	}
	return &anthropicToolChoice{Type: "tool", Name: name}, nil
}

// convertOpenAIMessages moves leading system and developer messages into
// the top-level system field and turns the rest into alternating turns.
// Tool results become tool_result blocks of a user turn. Consecutive
// messages that map to the same role are merged into one turn.
func convertOpenAIMessages(root object, req *anthropicRequest) error {
	if !root.has("messages") {
		return invalid("messages", "missing")
	}
	messages, err := root.array("messages")
	if err != nil {
		return err
	}

	var system []any
	systemIsString := false
	for i, raw := range messages {
		m, err := decodeObject(raw, index("messages", i))
		if err != nil {
			return err
		}
		role, err := m.requiredStr("role")
		if err != nil {
			return err
		}

		switch role {
		case "system", "developer":
			if len(req.Messages) > 0 {
				return &UnsupportedError{Feature: m.at("role=" + role), Target: toAnthropic,
					Reason: "Anthropic takes system text only before the conversation; move the message to the start"}
			}
			if err := m.only(toAnthropic, "role", "content"); err != nil {
				return err
			}
			content, isString, err := openAITextContent(m, "content")
			if err != nil {
				return err
			}
			system = append(system, content...)
			systemIsString = isString && len(system) == 1
		case "user":
			if err := m.only(toAnthropic, "role", "content"); err != nil {
				return err
			}
			content, err := openAIUserContent(m)
			if err != nil {
				return err
			}
			req.Messages = appendTurn(req.Messages, "user", content)
		case "assistant":
			content, err := openAIAssistantContent(m)
			if err != nil {
				return err
			}
			req.Messages = appendTurn(req.Messages, "assistant", content)
		case "tool":
			block, err := openAIToolResult(m)
			if err != nil {
				return err
			}
			req.Messages = appendTurn(req.Messages, "user", []any{block})
		case "function":
			return &UnsupportedError{Feature: m.at("role=function"), Target: toAnthropic,
				Reason: "use tool messages, which replaced function messages"}
		default:
			return invalid(m.at("role"), "expected system, developer, user, assistant or tool")
		}
	}

	switch {
	case systemIsString:
		req.System = system[0].(anthropicText).Text
	case len(system) > 0:
		req.System = system
	}
	return nil
}

// appendTurn adds content as a turn of role, merging it into the last turn
// when that has the same role.
func appendTurn(turns []anthropicTurn, role string, content any) []anthropicTurn {
	if n := len(turns); n > 0 && turns[n-1].Role == role {
		turns[n-1].Content = append(blocksOf(turns[n-1].Content), blocksOf(content)...)
		return turns
	}
	return append(turns, anthropicTurn{Role: role, Content: content})
}

// blocksOf returns content as a list of blocks.
func blocksOf(content any) []any {
	switch c := content.(type) {
	case string:
		if c == "" {
			return nil
		}
		return []any{anthropicText{Type: "text", Text: c}}
	case []any:
		return c
	}
	return nil
}

// openAITextContent reads content that may only hold text: a string or an
// array of text parts. It reports whether the content was a string.
func openAITextContent(m object, key string) ([]any, bool, error) {
	raw := m.raw(key)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []any{anthropicText{Type: "text", Text: s}}, true, nil
	}
	parts, err := m.array(key)
	if err != nil || parts == nil {
		return nil, false, invalid(m.at(key), "expected a string or an array of text parts")
	}
	var blocks []any
	for j, rawPart := range parts {
		part, err := decodeObject(rawPart, index(m.at(key), j))
		if err != nil {
			return nil, false, err
		}
		kind, err := part.requiredStr("type")
		if err != nil {
			return nil, false, err
		}
		if kind != "text" {
			return nil, false, &UnsupportedError{Feature: part.at("type=" + enumValue(kind)), Target: toAnthropic,
				Reason: "this content may only hold text parts in the Anthropic API"}
		}
		text, err := openAITextPart(part)
		if err != nil {
			return nil, false, err
		}
		blocks = append(blocks, text)
	}
	return blocks, false, nil
}

func openAITextPart(part object) (anthropicText, error) {
	if err := part.only(toAnthropic, "type", "text"); err != nil {
		return anthropicText{}, err
	}
	text, err := part.requiredStr("text")
	return anthropicText{Type: "text", Text: text}, err
}

// openAIUserContent returns a user message's content: a string stays a
// string, and parts become blocks.
func openAIUserContent(m object) (any, error) {
	var s string
	if json.Unmarshal(m.raw("content"), &s) == nil {
		return s, nil
	}
	parts, err := m.array("content")
	if err != nil || parts == nil {
		return nil, invalid(m.at("content"), "expected a string or an array of content parts")
	}
	blocks := []any{}
	for j, rawPart := range parts {
		part, err := decodeObject(rawPart, index(m.at("content"), j))
		if err != nil {
			return nil, err
		}
		kind, err := part.requiredStr("type")
		if err != nil {
			return nil, err
		}
		var block any
		switch kind {
		case "text":
			block, err = openAITextPart(part)
		case "image_url":
			block, err = openAIImagePartToBlock(part)
		case "file":
			block, err = openAIFilePartToBlock(part)
		case "input_audio":
			err = &UnsupportedError{Feature: part.at("type=input_audio"), Target: toAnthropic,
				Reason: "Anthropic does not accept audio input"}
		default:
			err = &UnsupportedError{Feature: part.at("type=" + enumValue(kind)), Target: toAnthropic,
				Reason: "the content part type has no Anthropic counterpart"}
		}
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, block)
	}
	return blocks, nil
}

func openAIImagePartToBlock(part object) (any, error) {
	if err := part.only(toAnthropic, "type", "image_url"); err != nil {
		return nil, err
	}
	image, err := part.object("image_url")
	if err != nil {
		return nil, err
	}
	if err := image.only(toAnthropic, "url", "detail"); err != nil {
		return nil, err
	}
	// Anthropic reads every image at full resolution, which is what "high"
	// requests and what "auto" may choose. "low" has no counterpart.
	detail, err := image.str("detail")
	if err != nil {
		return nil, err
	}
	if detail != "" && detail != "auto" && detail != "high" {
		return nil, &UnsupportedError{Feature: image.at("detail=" + enumValue(detail)), Target: toAnthropic,
			Reason: "Anthropic always reads images at full resolution; use auto or high"}
	}
	url, err := image.requiredStr("url")
	if err != nil {
		return nil, err
	}

	if strings.HasPrefix(url, "data:") {
		mediaType, data, err := parseDataURL(url, image.at("url"))
		if err != nil {
			return nil, err
		}
		if !anthropicImageTypes[mediaType] {
			return nil, &UnsupportedError{Feature: image.at("url") + " media type " + enumMediaType(mediaType), Target: toAnthropic,
				Reason: "Anthropic accepts JPEG, PNG, GIF and WebP images"}
		}
		return anthropicImage{Type: "image", Source: anthropicSource{Type: "base64", MediaType: mediaType, Data: data}}, nil
	}
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return nil, invalid(image.at("url"), "expected an http(s) URL or a base64 data URL")
	}
	return anthropicImage{Type: "image", Source: anthropicSource{Type: "url", URL: url}}, nil
}

func openAIFilePartToBlock(part object) (any, error) {
	if err := part.only(toAnthropic, "type", "file"); err != nil {
		return nil, err
	}
	file, err := part.object("file")
	if err != nil {
		return nil, err
	}
	if err := file.only(toAnthropic, "file_data", "filename", "file_id"); err != nil {
		return nil, err
	}
	if file.has("file_id") {
		return nil, &UnsupportedError{Feature: file.at("file_id"), Target: toAnthropic,
			Reason: "files uploaded to OpenAI are not readable by Anthropic; send file_data instead"}
	}
	fileData, err := file.requiredStr("file_data")
	if err != nil {
		return nil, err
	}
	title, err := file.str("filename")
	if err != nil {
		return nil, err
	}

	mediaType, data := "application/pdf", fileData
	if strings.HasPrefix(fileData, "data:") {
		if mediaType, data, err = parseDataURL(fileData, file.at("file_data")); err != nil {
			return nil, err
		}
	}
	if mediaType != "application/pdf" {
		return nil, &UnsupportedError{Feature: file.at("file_data") + " media type " + enumMediaType(mediaType), Target: toAnthropic,
			Reason: "only PDF files are documents in both APIs"}
	}
	return anthropicDocument{
		Type:   "document",
		Source: anthropicSource{Type: "base64", MediaType: mediaType, Data: data},
		Title:  title,
	}, nil
}

// parseDataURL splits a base64 data URL ("data:image/png;base64,...") into
// its media type and data.
func parseDataURL(url, path string) (mediaType, data string, err error) {
	header, data, ok := strings.Cut(strings.TrimPrefix(url, "data:"), ",")
	mediaType, encoding, _ := strings.Cut(header, ";")
	if !ok || encoding != "base64" || mediaType == "" {
		return "", "", invalid(path, "expected a base64 data URL such as data:image/png;base64,...")
	}
	if _, err := base64.StdEncoding.DecodeString(data); err != nil {
		return "", "", invalid(path, "the data URL does not hold valid base64")
	}
	return strings.ToLower(mediaType), data, nil
}

// enumMediaType returns a media type for an error message, or a placeholder
// when it is not of the usual type/subtype form.
func enumMediaType(mediaType string) string {
	typ, sub, ok := strings.Cut(mediaType, "/")
	if ok && fieldNamePattern.MatchString(typ) && fieldNamePattern.MatchString(strings.NewReplacer("-", "_", ".", "_", "+", "_").Replace(sub)) {
		return mediaType
	}
	return "(value withheld)"
}

// openAIAssistantContent returns an assistant message's text and tool calls
// as Anthropic content: a plain string when there is only string content.
func openAIAssistantContent(m object) (any, error) {
	if err := m.only(toAnthropic, "role", "content", "refusal", "tool_calls"); err != nil {
		return nil, err
	}

	var blocks []any
	var s string
	isString := false
	if m.has("content") {
		if json.Unmarshal(m.raw("content"), &s) == nil {
			isString = true
			if s != "" {
				blocks = append(blocks, anthropicText{Type: "text", Text: s})
			}
		} else {
			parts, err := m.array("content")
			if err != nil {
				return nil, invalid(m.at("content"), "expected a string or an array of content parts")
			}
			for j, rawPart := range parts {
				part, err := decodeObject(rawPart, index(m.at("content"), j))
				if err != nil {
					return nil, err
				}
				kind, err := part.requiredStr("type")
				if err != nil {
					return nil, err
				}
				key := "text"
				if kind == "refusal" {
					key = "refusal"
				} else if kind != "text" {
					return nil, &UnsupportedError{Feature: part.at("type=" + enumValue(kind)), Target: toAnthropic,
						Reason: "assistant content may only hold text"}
				}
				if err := part.only(toAnthropic, "type", key); err != nil {
					return nil, err
				}
				text, err := part.requiredStr(key)
				if err != nil {
					return nil, err
				}
				blocks = append(blocks, anthropicText{Type: "text", Text: text})
			}
		}
	}
	// A refusal earlier in the conversation is model output, so it becomes text.
	if refusal, err := m.str("refusal"); err != nil {
		return nil, err
	} else if refusal != "" {
		isString = false
		blocks = append(blocks, anthropicText{Type: "text", Text: refusal})
	}

	calls, err := m.array("tool_calls")
	if err != nil {
		return nil, err
	}
	for j, raw := range calls {
		block, err := openAIToolCallToBlock(raw, index(m.at("tool_calls"), j))
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, block)
	}

	if isString && len(calls) == 0 {
		return s, nil
	}
	if blocks == nil {
		blocks = []any{}
	}
	return blocks, nil
}

func openAIToolCallToBlock(raw json.RawMessage, path string) (any, error) {
	call, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	if err := call.only(toAnthropic, "id", "type", "function"); err != nil {
		return nil, err
	}
	if kind, err := call.str("type"); err != nil {
		return nil, err
	} else if kind != "function" {
		return nil, &UnsupportedError{Feature: call.at("type=" + enumValue(kind)), Target: toAnthropic,
			Reason: "only function tool calls have an Anthropic counterpart"}
	}
	id, err := call.requiredStr("id")
	if err != nil {
		return nil, err
	}
	fn, err := call.object("function")
	if err != nil {
		return nil, err
	}
	if err := fn.only(toAnthropic, "name", "arguments"); err != nil {
		return nil, err
	}
	name, err := fn.requiredStr("name")
	if err != nil {
		return nil, err
	}
	args, err := fn.str("arguments")
	if err != nil {
		return nil, err
	}
	input, err := argumentsToInput(args, fn.at("arguments"))
	if err != nil {
		return nil, err
	}
	return anthropicToolUse{Type: "tool_use", ID: id, Name: name, Input: input}, nil
}

// argumentsToInput turns OpenAI's JSON-encoded arguments string into the
// JSON object Anthropic's tool_use input holds. Empty arguments mean an
// empty object.
func argumentsToInput(args, path string) (json.RawMessage, error) {
	if strings.TrimSpace(args) == "" {
		return json.RawMessage("{}"), nil
	}
	if !isObject(json.RawMessage(args)) || !json.Valid([]byte(args)) {
		return nil, invalid(path, "expected a JSON object encoded as a string")
	}
	return compactJSON(json.RawMessage(args)), nil
}

func openAIToolResult(m object) (any, error) {
	if err := m.only(toAnthropic, "role", "content", "tool_call_id"); err != nil {
		return nil, err
	}
	id, err := m.requiredStr("tool_call_id")
	if err != nil {
		return nil, err
	}
	if !m.has("content") {
		return anthropicToolResult{Type: "tool_result", ToolUseID: id, Content: ""}, nil
	}
	blocks, isString, err := openAITextContent(m, "content")
	if err != nil {
		return nil, err
	}
	if isString {
		return anthropicToolResult{Type: "tool_result", ToolUseID: id, Content: blocks[0].(anthropicText).Text}, nil
	}
	if blocks == nil {
		blocks = []any{}
	}
	return anthropicToolResult{Type: "tool_result", ToolUseID: id, Content: blocks}, nil
}
