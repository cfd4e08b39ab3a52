package standin

import (
	"encoding/json"
	"net/http"
	"strings"
)

// anthropicRequest is the part of a Messages or count_tokens request the
// stand-in reads.
type anthropicRequest struct {
	model     string
	messages  []anthropicMessageParam
	system    string
	stream    bool
	tools     toolPlan
	toolsJSON string
}

// anthropicMessageParam is one entry of "messages", with its content
// blocks decoded when the content is an array.
type anthropicMessageParam struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	blocks  []anthropicBlockParam
}

// anthropicBlockParam is the part of a request content block the stand-in
// checks: its type and the ids that pair tool_use with tool_result.
type anthropicBlockParam struct {
	Type      string  `json:"type"`
	ID        string  `json:"id"`
	ToolUseID *string `json:"tool_use_id"`
}

// parseAnthropicRequest validates model, messages with their tool history,
// max_tokens (not for count_tokens), stream, system, tools and tool_choice.
//
// NOTE: the messages follow the vendor's "field: reason" form. The
// tool_use and tool_result messages and "messages: at least one message is
// required" match real replies. The others may be worded differently by
// the live API.
func (h *Handler) parseAnthropicRequest(body []byte, countTokens bool) (anthropicRequest, *anthropicFailure) {
	var req anthropicRequest

	fields, err := decodeObject(body)
	if err != nil {
		return req, invalidAnthropicRequest("The request body is not valid JSON: %v", err)
	}

	if isNull(fields["model"]) {
		return req, invalidAnthropicRequest("model: Field required")
	}
	if json.Unmarshal(fields["model"], &req.model) != nil || req.model == "" {
		return req, invalidAnthropicRequest("model: Input should be a non-empty string")
	}

	messages, failure := parseAnthropicMessages(fields["messages"])
	if failure != nil {
		return req, failure
	}
	req.messages = messages
	if h.strictRoles {
		if failure := checkRoleAlternation(messages); failure != nil {
			return req, failure
		}
	}
	if failure := checkAnthropicToolHistory(messages); failure != nil {
		return req, failure
	}

	if !countTokens {
		if failure := checkMaxTokens(fields["max_tokens"]); failure != nil {
			return req, failure
		}
		if !isNull(fields["stream"]) && json.Unmarshal(fields["stream"], &req.stream) != nil {
			return req, invalidAnthropicRequest("stream: Input should be a valid boolean")
		}
	}
	if !isNull(fields["system"]) {
		req.system = contentText(fields["system"])
	}

	plan, failure := parseAnthropicTools(fields)
	if failure != nil {
		return req, failure
	}
	req.tools = plan
	if !isNull(fields["tools"]) {
		req.toolsJSON = string(fields["tools"])
	}
	return req, nil
}

func checkMaxTokens(raw json.RawMessage) *anthropicFailure {
	if isNull(raw) {
		return invalidAnthropicRequest("max_tokens: Field required")
	}
	var maxTokens int64
	if json.Unmarshal(raw, &maxTokens) != nil {
		return invalidAnthropicRequest("max_tokens: Input should be a valid integer")
	}
	if maxTokens < 1 {
		return invalidAnthropicRequest("max_tokens: Input should be greater than or equal to 1")
	}
	return nil
}

func parseAnthropicMessages(raw json.RawMessage) ([]anthropicMessageParam, *anthropicFailure) {
	if isNull(raw) {
		return nil, invalidAnthropicRequest("messages: Field required")
	}
	var rawMessages []json.RawMessage
	if json.Unmarshal(raw, &rawMessages) != nil {
		return nil, invalidAnthropicRequest("messages: Input should be a valid list")
	}
	if len(rawMessages) == 0 {
		return nil, invalidAnthropicRequest("messages: at least one message is required")
	}

	messages := make([]anthropicMessageParam, 0, len(rawMessages))
	for i, rawMessage := range rawMessages {
		var m anthropicMessageParam
		if isNull(rawMessage) || rawMessage[0] != '{' || json.Unmarshal(rawMessage, &m) != nil {
			return nil, invalidAnthropicRequest("messages.%d: Input should be a valid dictionary", i)
		}
		if m.Role != "user" && m.Role != "assistant" {
			return nil, invalidAnthropicRequest("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}

		empty, failure := decodeAnthropicContent(i, &m)
		if failure != nil {
			return nil, failure
		}
		final := i == len(rawMessages)-1
		if empty && !(final && m.Role == "assistant") {
			return nil, invalidAnthropicRequest("messages.%d: all messages must have non-empty content except for the optional final assistant message", i)
		}
		messages = append(messages, m)
	}
	return messages, nil
}

// decodeAnthropicContent decodes the blocks of m's content and reports
// whether the content is empty.
func decodeAnthropicContent(index int, m *anthropicMessageParam) (bool, *anthropicFailure) {
	if isNull(m.Content) {
		return false, invalidAnthropicRequest("messages.%d.content: Field required", index)
	}

	var text string
	if json.Unmarshal(m.Content, &text) == nil {
		return text == "", nil
	}
	var rawBlocks []json.RawMessage
	if json.Unmarshal(m.Content, &rawBlocks) != nil {
		return false, invalidAnthropicRequest("messages.%d.content: Input should be a valid string or list", index)
	}

	for j, raw := range rawBlocks {
		var block anthropicBlockParam
		if isNull(raw) || raw[0] != '{' || json.Unmarshal(raw, &block) != nil {
			return false, invalidAnthropicRequest("messages.%d.content.%d: Input should be a valid dictionary", index, j)
		}
		if block.Type == "" {
			return false, invalidAnthropicRequest("messages.%d.content.%d.type: Field required", index, j)
		}
		if block.Type == "tool_use" && block.ID == "" {
			return false, invalidAnthropicRequest("messages.%d.content.%d.tool_use.id: Field required", index, j)
		}
		if block.Type == "tool_result" && (block.ToolUseID == nil || *block.ToolUseID == "") {
			return false, invalidAnthropicRequest("messages.%d.content.%d.tool_result.tool_use_id: Field required", index, j)
		}
		m.blocks = append(m.blocks, block)
	}
	return len(rawBlocks) == 0, nil
}

// checkRoleAlternation applies the rule the Messages API enforced before
// it began merging consecutive turns: the first message is from the user
// and roles alternate.
func checkRoleAlternation(messages []anthropicMessageParam) *anthropicFailure {
	if messages[0].Role != "user" {
		return invalidAnthropicRequest(`messages: first message must use the "user" role`)
	}
	for i := 1; i < len(messages); i++ {
		if messages[i].Role == messages[i-1].Role {
			return invalidAnthropicRequest(`messages: roles must alternate between "user" and "assistant", but found multiple %q roles in a row`, messages[i].Role)
		}
	}
	return nil
}

// checkAnthropicToolHistory checks that every tool_result block responds to
// a tool_use block of the previous turn, and that every tool_use block gets
// a result in the next turn when there is one. Consecutive messages of one
// role form one turn, as the API merges them.
//
// NOTE: a tool_use in the final message is not required to have a result,
// because no next turn exists. Whether the live API rejects that case was
// not checked.
func checkAnthropicToolHistory(messages []anthropicMessageParam) *anthropicFailure {
	var uses []string
	usesMessage := -1
	available := map[string]bool{}

	for i, m := range messages {
		if i > 0 && m.Role != messages[i-1].Role {
			if m.Role == "assistant" {
				uses, usesMessage = nil, -1
			}
			if m.Role == "user" {
				available = map[string]bool{}
				for _, id := range uses {
					available[id] = true
				}
			}
		}

		for j, block := range m.blocks {
			switch {
			case m.Role == "assistant" && block.Type == "tool_use":
				if usesMessage < 0 {
					usesMessage = i
				}
				uses = append(uses, block.ID)
			case m.Role == "user" && block.Type == "tool_result":
				id := *block.ToolUseID
				if _, ok := available[id]; !ok {
					return invalidAnthropicRequest("messages.%d.content.%d: unexpected `tool_use_id` found in `tool_result` blocks: %s. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.", i, j, id)
				}
				available[id] = false
			}
		}

		turnEnds := i == len(messages)-1 || messages[i+1].Role != m.Role
		if m.Role == "user" && turnEnds && len(uses) > 0 {
			var missing []string
			for _, id := range uses {
				if available[id] {
					missing = append(missing, id)
				}
			}
			if len(missing) > 0 {
				return invalidAnthropicRequest("messages.%d: `tool_use` ids were found without `tool_result` blocks immediately after: %s. Each `tool_use` block must have a corresponding `tool_result` block in the next message.", usesMessage, strings.Join(missing, ", "))
			}
			uses, usesMessage = nil, -1
		}
	}
	return nil
}

// parseAnthropicTools reads tools and tool_choice. Only custom tools (no
// type, or type "custom") can be called. Server tools are accepted and
// ignored.
func parseAnthropicTools(fields map[string]json.RawMessage) (toolPlan, *anthropicFailure) {
	plan := toolPlan{parallel: true}

	if !isNull(fields["tools"]) {
		var tools []json.RawMessage
		if json.Unmarshal(fields["tools"], &tools) != nil {
			return plan, invalidAnthropicRequest("tools: Input should be a valid list")
		}
		for i, raw := range tools {
			var tool struct {
				Type        string          `json:"type"`
				Name        string          `json:"name"`
				InputSchema json.RawMessage `json:"input_schema"`
			}
			if isNull(raw) || raw[0] != '{' || json.Unmarshal(raw, &tool) != nil {
				return plan, invalidAnthropicRequest("tools.%d: Input should be a valid dictionary", i)
			}
			if tool.Type != "" && tool.Type != "custom" {
				continue
			}
			if tool.Name == "" {
				return plan, invalidAnthropicRequest("tools.%d.custom.name: Field required", i)
			}
			if isNull(tool.InputSchema) {
				return plan, invalidAnthropicRequest("tools.%d.custom.input_schema: Field required", i)
			}
			plan.offered = append(plan.offered, tool.Name)
		}
	}

	if isNull(fields["tool_choice"]) {
		return plan, nil
	}
	var choice struct {
		Type                   string `json:"type"`
		Name                   string `json:"name"`
		DisableParallelToolUse bool   `json:"disable_parallel_tool_use"`
	}
	if json.Unmarshal(fields["tool_choice"], &choice) != nil {
		return plan, invalidAnthropicRequest("tool_choice: Input should be a valid dictionary")
	}
	plan.parallel = !choice.DisableParallelToolUse
	switch choice.Type {
	case "auto":
	case "none":
		plan.choice = toolChoice{mode: choiceNone}
	case "any":
		plan.choice = toolChoice{mode: choiceRequired}
	case "tool":
		if !plan.offers(choice.Name) {
			return plan, invalidAnthropicRequest("tool_choice.tool.name: no tool named %q in tools", choice.Name)
		}
		plan.choice = toolChoice{mode: choiceForced, name: choice.Name}
	default:
		return plan, invalidAnthropicRequest("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
	}
	return plan, nil
}

// anthropicReplySource returns the text the reply echoes: the text of the
// last user message, including its tool results. It also reports whether
// that message is the last one and contains no tool results, because only
// then does the stand-in make tool calls.
func anthropicReplySource(messages []anthropicMessageParam) (string, bool) {
	shared := make([]message, len(messages))
	for i, m := range messages {
		shared[i] = message{Role: m.Role, Content: m.Content}
	}

	last := messages[len(messages)-1]
	userTurn := last.Role == "user"
	for _, block := range last.blocks {
		if block.Type == "tool_result" {
			userTurn = false
		}
	}
	return lastUserText(shared), userTurn
}

func anthropicInputTokens(req anthropicRequest) int {
	shared := make([]message, len(req.messages))
	for i, m := range req.messages {
		shared[i] = message{Role: m.Role, Content: m.Content}
	}
	return promptTokens(shared, req.system, req.toolsJSON)
}

// anthropicMessage is a Messages API message object.
type anthropicMessage struct {
	ID           string           `json:"id"`
	Type         string           `json:"type"`
	Role         string           `json:"role"`
	Model        string           `json:"model"`
	Content      []anthropicBlock `json:"content"`
	StopReason   *string          `json:"stop_reason"`
	StopSequence *string          `json:"stop_sequence"`
	Usage        anthropicUsage   `json:"usage"`
}

// anthropicBlock is a text or tool_use content block of a reply.
type anthropicBlock struct {
	Type  string          `json:"type"`
	Text  *string         `json:"text,omitempty"`
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
}

type anthropicUsage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// replyAnthropicMessage writes the reply: a text block echoing the user,
// then one tool_use block per tool call.
func (h *Handler) replyAnthropicMessage(w http.ResponseWriter, req anthropicRequest, midstream bool) {
	echo, userTurn := anthropicReplySource(req.messages)
	text := replyText(h.name, echo)
	var calls []toolCall
	if userTurn {
		calls = req.tools.choose(echo)
	}

	msg := anthropicMessage{
		ID:      newID("msg_"),
		Type:    "message",
		Role:    "assistant",
		Model:   req.model,
		Content: []anthropicBlock{{Type: "text", Text: &text}},
		Usage: anthropicUsage{
			InputTokens:  anthropicInputTokens(req),
			OutputTokens: estimateTokens(text) + toolCallTokens(calls),
		},
	}
	for _, c := range calls {
		msg.Content = append(msg.Content, anthropicBlock{
			Type:  "tool_use",
			ID:    newID("toolu_"),
			Name:  c.name,
			Input: json.RawMessage(c.arguments),
		})
	}
	stopReason := "end_turn"
	if len(calls) > 0 {
		stopReason = "tool_use"
	}

	if req.stream {
		streamAnthropic(w, msg, stopReason, midstream)
		return
	}
	msg.StopReason = &stopReason
	writeJSON(w, http.StatusOK, msg)
}

// The streamed events, as Anthropic's streaming guide lists them. Each
// carries its own name in "type", and the same name is sent on the "event:"
// line.
type (
	anthropicMessageStart struct {
		Type    string           `json:"type"`
		Message anthropicMessage `json:"message"`
	}
	anthropicBlockStart struct {
		Type         string         `json:"type"`
		Index        int            `json:"index"`
		ContentBlock anthropicBlock `json:"content_block"`
	}
	anthropicBlockDelta struct {
		Type  string         `json:"type"`
		Index int            `json:"index"`
		Delta anthropicDelta `json:"delta"`
	}
	anthropicDelta struct {
		Type        string  `json:"type"`
		Text        *string `json:"text,omitempty"`
		PartialJSON *string `json:"partial_json,omitempty"`
	}
	anthropicBlockStop struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
	}
	anthropicMessageDelta struct {
		Type  string `json:"type"`
		Delta struct {
			StopReason   *string `json:"stop_reason"`
			StopSequence *string `json:"stop_sequence"`
		} `json:"delta"`
		Usage struct {
			OutputTokens int `json:"output_tokens"`
		} `json:"usage"`
	}
	anthropicBareEvent struct {
		Type string `json:"type"`
	}
)

// streamAnthropic writes msg as an event stream: message_start (empty
// content, output_tokens 1), then for each block content_block_start,
// its deltas and content_block_stop, with a ping after the first
// content_block_start, then message_delta with the stop reason and final
// output_tokens, and message_stop. Text arrives in text_delta events of a
// few words. A tool_use block starts with empty input, and its input
// arrives in input_json_delta events, the first with an empty
// partial_json. With midstream set, an "error" event with overloaded_error
// replaces everything after the first few deltas.
func streamAnthropic(w http.ResponseWriter, msg anthropicMessage, stopReason string, midstream bool) {
	events := startEvents(w)

	start := msg
	start.Content = []anthropicBlock{}
	start.Usage.OutputTokens = 1
	events.sendJSON("message_start", anthropicMessageStart{Type: "message_start", Message: start})

	fail := func() {
		events.sendJSON("error", anthropicError{
			Type:  "error",
			Error: anthropicErrorDetail{Type: "overloaded_error", Message: "Overloaded"},
		})
	}
	deltas := 0
	sendDelta := func(index int, delta anthropicDelta) bool {
		if midstream && deltas == midstreamDeltas {
			fail()
			return false
		}
		events.sendJSON("content_block_delta", anthropicBlockDelta{Type: "content_block_delta", Index: index, Delta: delta})
		deltas++
		return true
	}

	for index, block := range msg.Content {
		opening := block
		if block.Type == "text" {
			opening.Text = new(string)
		} else {
			opening.Input = json.RawMessage("{}")
		}
		events.sendJSON("content_block_start", anthropicBlockStart{Type: "content_block_start", Index: index, ContentBlock: opening})
		if index == 0 {
			events.sendJSON("ping", anthropicBareEvent{Type: "ping"})
		}

		if !sendBlockDeltas(index, block, sendDelta) {
			return
		}
		events.sendJSON("content_block_stop", anthropicBlockStop{Type: "content_block_stop", Index: index})
	}
	if midstream {
		// The reply had fewer deltas than midstreamDeltas.
		fail()
		return
	}

	delta := anthropicMessageDelta{Type: "message_delta"}
	delta.Delta.StopReason = &stopReason
	delta.Usage.OutputTokens = msg.Usage.OutputTokens
	events.sendJSON("message_delta", delta)

	events.sendJSON("message_stop", anthropicBareEvent{Type: "message_stop"})
}

// sendBlockDeltas sends the deltas of one content block. It returns false
// as soon as send does.
func sendBlockDeltas(index int, block anthropicBlock, send func(int, anthropicDelta) bool) bool {
	if block.Type == "text" {
		for _, part := range splitWords(*block.Text) {
			if !send(index, anthropicDelta{Type: "text_delta", Text: &part}) {
				return false
			}
		}
		return true
	}

	fragments := append([]string{""}, splitFragments(string(block.Input))...)
	for _, fragment := range fragments {
		if !send(index, anthropicDelta{Type: "input_json_delta", PartialJSON: &fragment}) {
			return false
		}
	}
	return true
}
