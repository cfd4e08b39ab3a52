package standin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// openAIRoles are the message roles Chat Completions accepts, in the order
// its error message lists them.
var openAIRoles = []string{"system", "assistant", "user", "function", "tool", "developer"}

// openAIChatRequest is the part of a chat completion request the stand-in
// reads.
type openAIChatRequest struct {
	model        string
	messages     []openAIChatMessage
	stream       bool
	includeUsage bool
	tools        toolPlan
	// toolsJSON is the raw tools array, counted in the prompt estimate.
	toolsJSON string
}

// openAIChatMessage is one entry of "messages".
type openAIChatMessage struct {
	Role       string           `json:"role"`
	Content    json.RawMessage  `json:"content"`
	ToolCalls  []openAIToolCall `json:"tool_calls"`
	ToolCallID *string          `json:"tool_call_id"`
}

// openAIToolCall is a tool call in an assistant message, sent or received.
type openAIToolCall struct {
	ID       string             `json:"id"`
	Type     string             `json:"type"`
	Function openAIFunctionCall `json:"function"`
}

type openAIFunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// serveOpenAIChat replies to a validated route with a chat completion, or
// with the vendor's error for an invalid body. azure is nil except for
// Azure OpenAI, where the model is optional and replies carry content
// filter results.
func (h *Handler) serveOpenAIChat(w http.ResponseWriter, rec Request, scenario Scenario, azure *azureRequest) {
	req, failure := parseOpenAIChatRequest(rec.Body, azure == nil)
	if failure != nil {
		failure.write(w)
		return
	}
	if azure != nil && req.model == "" {
		req.model = azure.deployment
	}
	if azure == nil && !h.servesModel(req.model) {
		modelNotFound(req.model).write(w)
		return
	}
	if scenario == ScenarioMidstreamError && !req.stream {
		invalidOpenAIRequest("stream", "", "%s", midstreamWithoutStream).write(w)
		return
	}

	echo, userTurn := openAIReplySource(req.messages)
	text := replyText(h.name, echo)
	var calls []toolCall
	if userTurn {
		calls = req.tools.choose(echo)
	}

	usage := openAIUsage{PromptTokens: openAIPromptTokens(req), CompletionTokens: estimateTokens(text)}
	if len(calls) > 0 {
		usage.CompletionTokens = toolCallTokens(calls)
	}
	usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens

	if req.stream {
		streamOpenAIChat(w, req, text, calls, usage, scenario == ScenarioMidstreamError, azure != nil)
		return
	}
	writeJSON(w, http.StatusOK, openAICompletionFor(req.model, text, calls, usage, azure != nil))
}

// openAIReplySource returns the text the reply echoes and whether the
// conversation ends with a user message, the only case in which the
// stand-in makes tool calls. A conversation that ends with "tool" messages
// echoes their contents.
func openAIReplySource(messages []openAIChatMessage) (string, bool) {
	n := len(messages)
	if n == 0 {
		return "", false
	}

	if messages[n-1].Role == "tool" {
		start := n - 1
		for start > 0 && messages[start-1].Role == "tool" {
			start--
		}
		var texts []string
		for _, m := range messages[start:] {
			texts = append(texts, contentText(m.Content))
		}
		return strings.Join(texts, "\n"), false
	}

	shared := make([]message, n)
	for i, m := range messages {
		shared[i] = message{Role: m.Role, Content: m.Content}
	}
	return lastUserText(shared), messages[n-1].Role == "user"
}

func openAIPromptTokens(req openAIChatRequest) int {
	shared := make([]message, len(req.messages))
	for i, m := range req.messages {
		shared[i] = message{Role: m.Role, Content: m.Content}
	}
	return promptTokens(shared, req.toolsJSON)
}

// toolCallTokens estimates the output tokens of a reply made of tool calls.
func toolCallTokens(calls []toolCall) int {
	n := 0
	for _, c := range calls {
		n += estimateTokens(c.name + c.arguments)
	}
	return n
}

// parseOpenAIChatRequest validates the fields the stand-in needs: model
// (unless modelOptional), messages with their tool history, stream,
// stream_options, tools, tool_choice and parallel_tool_calls. The replies
// for invalid JSON, missing or empty messages and broken tool history match
// real OpenAI error bodies. The others keep their shape, with wording that
// may differ from the live API.
func parseOpenAIChatRequest(body []byte, modelRequired bool) (openAIChatRequest, *openAIFailure) {
	var req openAIChatRequest

	fields, err := decodeObject(body)
	if err != nil {
		return req, invalidOpenAIJSON()
	}

	if failure := parseOpenAIModel(fields, modelRequired, &req.model); failure != nil {
		return req, failure
	}

	if isNull(fields["messages"]) {
		return req, invalidOpenAIRequest("messages", "missing_required_parameter", "Missing required parameter: 'messages'.")
	}
	var rawMessages []json.RawMessage
	if json.Unmarshal(fields["messages"], &rawMessages) != nil {
		return req, invalidOpenAIRequest("messages", "invalid_type", "Invalid type for 'messages': expected an array of objects.")
	}
	if len(rawMessages) == 0 {
		return req, invalidOpenAIRequest("messages", "empty_array", "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.")
	}
	for i, raw := range rawMessages {
		m, failure := parseOpenAIMessage(i, raw)
		if failure != nil {
			return req, failure
		}
		req.messages = append(req.messages, m)
	}
	if failure := checkOpenAIToolHistory(req.messages); failure != nil {
		return req, failure
	}

	if !isNull(fields["stream"]) && json.Unmarshal(fields["stream"], &req.stream) != nil {
		return req, invalidOpenAIRequest("stream", "invalid_type", "Invalid type for 'stream': expected a boolean.")
	}
	if !isNull(fields["stream_options"]) {
		var options struct {
			IncludeUsage bool `json:"include_usage"`
		}
		if json.Unmarshal(fields["stream_options"], &options) != nil {
			return req, invalidOpenAIRequest("stream_options", "invalid_type", "Invalid type for 'stream_options': expected an object with a boolean 'include_usage'.")
		}
		req.includeUsage = options.IncludeUsage
	}

	plan, failure := parseOpenAITools(fields)
	if failure != nil {
		return req, failure
	}
	req.tools = plan
	if !isNull(fields["tools"]) {
		req.toolsJSON = string(fields["tools"])
	}
	return req, nil
}

func invalidOpenAIJSON() *openAIFailure {
	return invalidOpenAIRequest("", "", "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)")
}

// parseOpenAIModel reads "model" into model. A missing or empty model is
// rejected only when required.
func parseOpenAIModel(fields map[string]json.RawMessage, required bool, model *string) *openAIFailure {
	if isNull(fields["model"]) {
		if required {
			return invalidOpenAIRequest("", "", "you must provide a model parameter")
		}
		return nil
	}
	if json.Unmarshal(fields["model"], model) != nil {
		return invalidOpenAIRequest("model", "invalid_type", "Invalid type for 'model': expected a string.")
	}
	if *model == "" && required {
		return invalidOpenAIRequest("", "", "you must provide a model parameter")
	}
	return nil
}

func parseOpenAIMessage(index int, raw json.RawMessage) (openAIChatMessage, *openAIFailure) {
	var m openAIChatMessage
	param := fmt.Sprintf("messages[%d]", index)

	if isNull(raw) || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return m, invalidOpenAIRequest(param, "invalid_type", "Invalid type for '%s': expected an object.", param)
	}
	if m.Role == "" {
		return m, invalidOpenAIRequest(param+".role", "missing_required_parameter", "Missing required parameter: '%s.role'.", param)
	}
	if !slices.Contains(openAIRoles, m.Role) {
		return m, invalidOpenAIRequest(param+".role", "invalid_value",
			"Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.", m.Role)
	}
	if m.Role == "tool" && (m.ToolCallID == nil || *m.ToolCallID == "") {
		return m, invalidOpenAIRequest(param+".tool_call_id", "missing_required_parameter", "Missing required parameter: '%s.tool_call_id'.", param)
	}
	return m, nil
}

// checkOpenAIToolHistory checks that every "tool" message responds to a
// tool_calls id of the assistant message before its run of tool messages,
// and that every such id gets a response before the next message of
// another role.
func checkOpenAIToolHistory(messages []openAIChatMessage) *openAIFailure {
	pending := map[string]bool{}
	var pendingOrder []string
	caller := -1

	unanswered := func() *openAIFailure {
		var ids []string
		for _, id := range pendingOrder {
			if pending[id] {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		return invalidOpenAIRequest(fmt.Sprintf("messages.[%d].role", caller), "",
			"An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: %s", strings.Join(ids, ", "))
	}

	for i, m := range messages {
		if m.Role == "tool" {
			if caller < 0 {
				return invalidOpenAIRequest(fmt.Sprintf("messages.[%d].role", i), "",
					"Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.")
			}
			id := *m.ToolCallID
			if _, ok := pending[id]; !ok {
				return invalidOpenAIRequest(fmt.Sprintf("messages.[%d].tool_call_id", i), "",
					"Invalid parameter: 'tool_call_id' of '%s' not found in 'tool_calls' of previous message.", id)
			}
			pending[id] = false
			continue
		}

		if failure := unanswered(); failure != nil {
			return failure
		}
		caller, pending, pendingOrder = -1, map[string]bool{}, nil
		if m.Role == "assistant" && len(m.ToolCalls) > 0 {
			caller = i
			for _, c := range m.ToolCalls {
				pending[c.ID] = true
				pendingOrder = append(pendingOrder, c.ID)
			}
		}
	}
	return unanswered()
}

// parseOpenAITools reads tools, tool_choice and parallel_tool_calls. Only
// function tools can be called. Other tool types are accepted and ignored.
func parseOpenAITools(fields map[string]json.RawMessage) (toolPlan, *openAIFailure) {
	plan := toolPlan{parallel: true}

	if !isNull(fields["tools"]) {
		var tools []json.RawMessage
		if json.Unmarshal(fields["tools"], &tools) != nil {
			return plan, invalidOpenAIRequest("tools", "invalid_type", "Invalid type for 'tools': expected an array of objects.")
		}
		for i, raw := range tools {
			var tool struct {
				Type     string `json:"type"`
				Function *struct {
					Name string `json:"name"`
				} `json:"function"`
			}
			param := fmt.Sprintf("tools[%d]", i)
			if isNull(raw) || raw[0] != '{' || json.Unmarshal(raw, &tool) != nil {
				return plan, invalidOpenAIRequest(param, "invalid_type", "Invalid type for '%s': expected an object.", param)
			}
			if tool.Type != "function" {
				continue
			}
			if tool.Function == nil || tool.Function.Name == "" {
				return plan, invalidOpenAIRequest(param+".function.name", "missing_required_parameter", "Missing required parameter: '%s.function.name'.", param)
			}
			plan.offered = append(plan.offered, tool.Function.Name)
		}
	}

	if !isNull(fields["tool_choice"]) {
		if isNull(fields["tools"]) {
			return plan, invalidOpenAIRequest("tool_choice", "", "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.")
		}
		choice, failure := parseOpenAIToolChoice(fields["tool_choice"], plan)
		if failure != nil {
			return plan, failure
		}
		plan.choice = choice
	}

	if !isNull(fields["parallel_tool_calls"]) && json.Unmarshal(fields["parallel_tool_calls"], &plan.parallel) != nil {
		return plan, invalidOpenAIRequest("parallel_tool_calls", "invalid_type", "Invalid type for 'parallel_tool_calls': expected a boolean.")
	}
	return plan, nil
}

func parseOpenAIToolChoice(raw json.RawMessage, plan toolPlan) (toolChoice, *openAIFailure) {
	var mode string
	if json.Unmarshal(raw, &mode) == nil {
		switch mode {
		case "auto":
			return toolChoice{mode: choiceAuto}, nil
		case "none":
			return toolChoice{mode: choiceNone}, nil
		case "required":
			return toolChoice{mode: choiceRequired}, nil
		}
		return toolChoice{}, invalidOpenAIRequest("tool_choice", "invalid_value", "Invalid value: '%s'. Supported values are: 'none', 'auto', and 'required'.", mode)
	}

	var forced struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(raw, &forced) != nil || forced.Type != "function" || forced.Function.Name == "" {
		return toolChoice{}, invalidOpenAIRequest("tool_choice", "invalid_type",
			"Invalid type for 'tool_choice': expected 'none', 'auto', 'required' or an object naming a function.")
	}
	// NOTE: the wording of this error was not checked against the live API.
	if !plan.offers(forced.Function.Name) {
		return toolChoice{}, invalidOpenAIRequest("tool_choice", "",
			"Invalid value for 'tool_choice': function '%s' is not among the functions in 'tools'.", forced.Function.Name)
	}
	return toolChoice{mode: choiceForced, name: forced.Function.Name}, nil
}

// openAICompletion is a chat.completion object. PromptFilterResults is set
// only by Azure OpenAI.
type openAICompletion struct {
	ID                  string         `json:"id"`
	Object              string         `json:"object"`
	Created             int64          `json:"created"`
	Model               string         `json:"model"`
	Choices             []openAIChoice `json:"choices"`
	Usage               openAIUsage    `json:"usage"`
	PromptFilterResults []azureFilter  `json:"prompt_filter_results,omitempty"`
}

type openAIChoice struct {
	Index                int                 `json:"index"`
	Message              openAIMessage       `json:"message"`
	Logprobs             any                 `json:"logprobs"`
	FinishReason         string              `json:"finish_reason"`
	ContentFilterResults *azureFilterResults `json:"content_filter_results,omitempty"`
}

// openAIMessage is the reply message. Content is null when the reply is
// made of tool calls.
type openAIMessage struct {
	Role        string           `json:"role"`
	Content     *string          `json:"content"`
	Refusal     *string          `json:"refusal"`
	ToolCalls   []openAIToolCall `json:"tool_calls,omitempty"`
	Annotations []any            `json:"annotations"`
}

type openAIUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func openAICompletionFor(model, text string, calls []toolCall, usage openAIUsage, azure bool) openAICompletion {
	choice := openAIChoice{
		Message:      openAIMessage{Role: "assistant", Content: &text, Annotations: []any{}},
		FinishReason: "stop",
	}
	if len(calls) > 0 {
		choice.Message.Content = nil
		choice.FinishReason = "tool_calls"
		for _, c := range calls {
			choice.Message.ToolCalls = append(choice.Message.ToolCalls, openAIToolCall{
				ID:       newID("call_"),
				Type:     "function",
				Function: openAIFunctionCall{Name: c.name, Arguments: c.arguments},
			})
		}
	}

	completion := openAICompletion{
		ID:      newID("chatcmpl-"),
		Object:  "chat.completion",
		Created: time.Now().Unix(),
		Model:   model,
		Choices: []openAIChoice{choice},
		Usage:   usage,
	}
	if azure {
		completion.PromptFilterResults = azurePromptFilters()
		completion.Choices[0].ContentFilterResults = azureSafeResults()
	}
	return completion
}

// openAIChunk is a chat.completion.chunk object. Usage is left out unless
// the client set stream_options.include_usage. Then it is null on every
// chunk but the last, as OpenAI's API spec describes that option.
type openAIChunk struct {
	ID      string              `json:"id"`
	Object  string              `json:"object"`
	Created int64               `json:"created"`
	Model   string              `json:"model"`
	Choices []openAIChunkChoice `json:"choices"`
	Usage   json.RawMessage     `json:"usage,omitempty"`
}

type openAIChunkChoice struct {
	Index        int         `json:"index"`
	Delta        openAIDelta `json:"delta"`
	Logprobs     any         `json:"logprobs"`
	FinishReason *string     `json:"finish_reason"`
}

// openAIDelta leaves out unset fields, so the final delta encodes as {}.
// Content and Refusal are raw JSON so that the first delta can carry an
// explicit null.
type openAIDelta struct {
	Role      string                `json:"role,omitempty"`
	Content   json.RawMessage       `json:"content,omitempty"`
	ToolCalls []openAIToolCallDelta `json:"tool_calls,omitempty"`
	Refusal   json.RawMessage       `json:"refusal,omitempty"`
}

// openAIToolCallDelta is one piece of a streamed tool call. The first piece
// of each call carries its id, type and name with empty arguments, and the
// later pieces carry only argument fragments.
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

var jsonNull = json.RawMessage("null")

func jsonString(s string) json.RawMessage {
	data, _ := json.Marshal(s)
	return data
}

// streamOpenAIChat writes the completion as server-sent events: for text,
// a delta with the role, then one delta per few words. For tool calls, a
// delta opening each call with its id and name, then its arguments in
// fragments. Then an empty delta with the finish reason, a usage chunk if
// requested, and "data: [DONE]". With midstream set, an error object
// replaces everything after the first few deltas. Azure streams start with
// a chunk of prompt filter results.
func streamOpenAIChat(w http.ResponseWriter, req openAIChatRequest, text string, calls []toolCall, usage openAIUsage, midstream, azure bool) {
	events := startEvents(w)
	base := openAIChunk{
		ID:      newID("chatcmpl-"),
		Object:  "chat.completion.chunk",
		Created: time.Now().Unix(),
		Model:   req.model,
	}
	if req.includeUsage {
		base.Usage = jsonNull
	}
	if azure {
		events.sendJSON("", azurePromptFilterChunk())
	}

	sent := 0
	send := func(delta openAIDelta, finishReason *string) bool {
		if midstream && (sent == midstreamDeltas+1 || finishReason != nil) {
			events.sendJSON("", openAIError{Error: openAIServerError().detail()})
			return false
		}
		chunk := base
		chunk.Choices = []openAIChunkChoice{{Delta: delta, FinishReason: finishReason}}
		events.sendJSON("", chunk)
		sent++
		return true
	}

	if !sendOpenAIDeltas(send, text, calls) {
		return
	}
	finish := "stop"
	if len(calls) > 0 {
		finish = "tool_calls"
	}
	if !send(openAIDelta{}, &finish) {
		return
	}

	if req.includeUsage {
		chunk := base
		chunk.Choices = []openAIChunkChoice{}
		usageJSON, err := json.Marshal(usage)
		if err != nil {
			panic(fmt.Sprintf("standin: encoding usage: %v", err))
		}
		chunk.Usage = usageJSON
		events.sendJSON("", chunk)
	}
	events.send("", []byte("[DONE]"))
}

// sendOpenAIDeltas sends the content or tool call deltas through send. It
// returns false as soon as send does.
func sendOpenAIDeltas(send func(openAIDelta, *string) bool, text string, calls []toolCall) bool {
	if len(calls) == 0 {
		if !send(openAIDelta{Role: "assistant", Content: jsonString(""), Refusal: jsonNull}, nil) {
			return false
		}
		for _, part := range splitWords(text) {
			if !send(openAIDelta{Content: jsonString(part)}, nil) {
				return false
			}
		}
		return true
	}

	for i, c := range calls {
		opening := openAIDelta{ToolCalls: []openAIToolCallDelta{{
			Index:    i,
			ID:       newID("call_"),
			Type:     "function",
			Function: openAIFunctionDelta{Name: c.name},
		}}}
		if i == 0 {
			opening.Role, opening.Content, opening.Refusal = "assistant", jsonNull, jsonNull
		}
		if !send(opening, nil) {
			return false
		}
		for _, fragment := range splitFragments(c.arguments) {
			delta := openAIDelta{ToolCalls: []openAIToolCallDelta{{Index: i, Function: openAIFunctionDelta{Arguments: fragment}}}}
			if !send(delta, nil) {
				return false
			}
		}
	}
	return true
}
