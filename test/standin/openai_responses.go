package standin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// responsesRequest is the part of a Responses API request the stand-in
// reads.
type responsesRequest struct {
	model        string
	instructions *string
	items        []responsesItem
	stream       bool
	tools        toolPlan
	toolsJSON    json.RawMessage
	toolChoice   json.RawMessage
}

// responsesItem is one input item: a message (type "message" or absent)
// or a function call output.
type responsesItem struct {
	Type    string          `json:"type"`
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	CallID  string          `json:"call_id"`
	Output  json.RawMessage `json:"output"`
}

// serveOpenAIResponse replies with a Response object or its event stream.
func (h *Handler) serveOpenAIResponse(w http.ResponseWriter, rec Request, scenario Scenario) {
	req, failure := parseResponsesRequest(rec.Body)
	if failure != nil {
		failure.write(w)
		return
	}
	if !h.servesModel(req.model) {
		modelNotFound(req.model).write(w)
		return
	}
	if scenario == ScenarioMidstreamError && !req.stream {
		invalidOpenAIRequest("stream", "", "%s", midstreamWithoutStream).write(w)
		return
	}

	echo, userTurn := responsesReplySource(req.items)
	text := replyText(h.name, echo)
	var calls []toolCall
	if userTurn {
		calls = req.tools.choose(echo)
	}

	resp := newResponse(req)
	usage := responsesUsage{InputTokens: responsesPromptTokens(req), OutputTokens: estimateTokens(text)}
	if len(calls) > 0 {
		usage.OutputTokens = toolCallTokens(calls)
	}
	usage.TotalTokens = usage.InputTokens + usage.OutputTokens
	output := responsesOutput(text, calls)

	if req.stream {
		streamResponse(w, resp, output, usage, scenario == ScenarioMidstreamError)
		return
	}
	resp.Status = "completed"
	resp.Output = output.items()
	resp.Usage = &usage
	writeJSON(w, http.StatusOK, resp)
}

// parseResponsesRequest validates model, input, instructions, stream,
// tools, tool_choice and parallel_tool_calls. An input is required because
// the stand-in stores no earlier responses for previous_response_id.
func parseResponsesRequest(body []byte) (responsesRequest, *openAIFailure) {
	var req responsesRequest

	fields, err := decodeObject(body)
	if err != nil {
		return req, invalidOpenAIJSON()
	}

	if isNull(fields["model"]) {
		return req, invalidOpenAIRequest("model", "missing_required_parameter", "Missing required parameter: 'model'.")
	}
	if json.Unmarshal(fields["model"], &req.model) != nil || req.model == "" {
		return req, invalidOpenAIRequest("model", "invalid_type", "Invalid type for 'model': expected a non-empty string.")
	}

	if isNull(fields["input"]) {
		return req, invalidOpenAIRequest("input", "missing_required_parameter", "Missing required parameter: 'input'.")
	}
	var text string
	if json.Unmarshal(fields["input"], &text) == nil {
		req.items = []responsesItem{{Type: "message", Role: "user", Content: fields["input"]}}
	} else if failure := parseResponsesItems(fields["input"], &req.items); failure != nil {
		return req, failure
	}

	if !isNull(fields["instructions"]) {
		var instructions string
		if json.Unmarshal(fields["instructions"], &instructions) != nil {
			return req, invalidOpenAIRequest("instructions", "invalid_type", "Invalid type for 'instructions': expected a string.")
		}
		req.instructions = &instructions
	}
	if !isNull(fields["stream"]) && json.Unmarshal(fields["stream"], &req.stream) != nil {
		return req, invalidOpenAIRequest("stream", "invalid_type", "Invalid type for 'stream': expected a boolean.")
	}

	plan, failure := parseResponsesTools(fields)
	if failure != nil {
		return req, failure
	}
	req.tools = plan
	req.toolsJSON = fields["tools"]
	req.toolChoice = fields["tool_choice"]
	return req, nil
}

func parseResponsesItems(raw json.RawMessage, items *[]responsesItem) *openAIFailure {
	var rawItems []json.RawMessage
	if json.Unmarshal(raw, &rawItems) != nil {
		return invalidOpenAIRequest("input", "invalid_type", "Invalid type for 'input': expected a string or an array of input items.")
	}

	for i, rawItem := range rawItems {
		var item responsesItem
		param := fmt.Sprintf("input[%d]", i)
		if isNull(rawItem) || rawItem[0] != '{' || json.Unmarshal(rawItem, &item) != nil {
			return invalidOpenAIRequest(param, "invalid_type", "Invalid type for '%s': expected an object.", param)
		}
		switch item.Type {
		case "", "message":
			if item.Role == "" {
				return invalidOpenAIRequest(param+".role", "missing_required_parameter", "Missing required parameter: '%s.role'.", param)
			}
		case "function_call_output":
			if item.CallID == "" {
				return invalidOpenAIRequest(param+".call_id", "missing_required_parameter", "Missing required parameter: '%s.call_id'.", param)
			}
		}
		*items = append(*items, item)
	}
	return nil
}

// parseResponsesTools reads the flat function tools of the Responses API,
// {"type":"function","name":...}, with tool_choice and parallel_tool_calls.
func parseResponsesTools(fields map[string]json.RawMessage) (toolPlan, *openAIFailure) {
	plan := toolPlan{parallel: true}

	if !isNull(fields["tools"]) {
		var tools []struct {
			Type string `json:"type"`
			Name string `json:"name"`
		}
		if json.Unmarshal(fields["tools"], &tools) != nil {
			return plan, invalidOpenAIRequest("tools", "invalid_type", "Invalid type for 'tools': expected an array of objects.")
		}
		for i, tool := range tools {
			if tool.Type != "function" {
				continue
			}
			if tool.Name == "" {
				param := fmt.Sprintf("tools[%d].name", i)
				return plan, invalidOpenAIRequest(param, "missing_required_parameter", "Missing required parameter: '%s'.", param)
			}
			plan.offered = append(plan.offered, tool.Name)
		}
	}

	if !isNull(fields["tool_choice"]) {
		choice, ok := parseResponsesToolChoice(fields["tool_choice"], plan)
		if !ok {
			return plan, invalidOpenAIRequest("tool_choice", "invalid_value",
				"Invalid value for 'tool_choice': use 'none', 'auto', 'required' or a function named in 'tools'.")
		}
		plan.choice = choice
	}

	if !isNull(fields["parallel_tool_calls"]) && json.Unmarshal(fields["parallel_tool_calls"], &plan.parallel) != nil {
		return plan, invalidOpenAIRequest("parallel_tool_calls", "invalid_type", "Invalid type for 'parallel_tool_calls': expected a boolean.")
	}
	return plan, nil
}

// parseResponsesToolChoice reads "none", "auto", "required" or
// {"type":"function","name":...} naming an offered tool.
func parseResponsesToolChoice(raw json.RawMessage, plan toolPlan) (toolChoice, bool) {
	var mode string
	if json.Unmarshal(raw, &mode) == nil {
		switch mode {
		case "auto":
			return toolChoice{mode: choiceAuto}, true
		case "none":
			return toolChoice{mode: choiceNone}, true
		case "required":
			return toolChoice{mode: choiceRequired}, true
		}
		return toolChoice{}, false
	}

	var forced struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if json.Unmarshal(raw, &forced) != nil || forced.Type != "function" || !plan.offers(forced.Name) {
		return toolChoice{}, false
	}
	return toolChoice{mode: choiceForced, name: forced.Name}, true
}

// responsesReplySource returns the text the reply echoes and whether the
// input ends with a user message. Input that ends with function call
// outputs echoes them.
func responsesReplySource(items []responsesItem) (string, bool) {
	n := len(items)
	if n == 0 {
		return "", false
	}

	if items[n-1].Type == "function_call_output" {
		start := n - 1
		for start > 0 && items[start-1].Type == "function_call_output" {
			start--
		}
		var texts []string
		for _, item := range items[start:] {
			texts = append(texts, contentText(item.Output))
		}
		return strings.Join(texts, "\n"), false
	}

	var messages []message
	for _, item := range items {
		if item.Type == "" || item.Type == "message" {
			messages = append(messages, message{Role: item.Role, Content: item.Content})
		}
	}
	last := items[n-1]
	return lastUserText(messages), (last.Type == "" || last.Type == "message") && last.Role == "user"
}

func responsesPromptTokens(req responsesRequest) int {
	var messages []message
	extra := []string{string(req.toolsJSON)}
	for _, item := range req.items {
		messages = append(messages, message{Role: item.Role, Content: item.Content})
		extra = append(extra, contentText(item.Output))
	}
	if req.instructions != nil {
		extra = append(extra, *req.instructions)
	}
	return promptTokens(messages, extra...)
}

// openAIResponse is a Response object. Output holds message and
// function_call items.
type openAIResponse struct {
	ID                 string          `json:"id"`
	Object             string          `json:"object"`
	CreatedAt          int64           `json:"created_at"`
	Status             string          `json:"status"`
	Error              any             `json:"error"`
	IncompleteDetails  any             `json:"incomplete_details"`
	Instructions       *string         `json:"instructions"`
	Model              string          `json:"model"`
	Output             []any           `json:"output"`
	ParallelToolCalls  bool            `json:"parallel_tool_calls"`
	PreviousResponseID any             `json:"previous_response_id"`
	ToolChoice         json.RawMessage `json:"tool_choice"`
	Tools              json.RawMessage `json:"tools"`
	Usage              *responsesUsage `json:"usage"`
}

type responsesUsage struct {
	InputTokens        int `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int `json:"total_tokens"`
}

type responsesMessage struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Status  string          `json:"status"`
	Role    string          `json:"role"`
	Content []responsesText `json:"content"`
}

type responsesText struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
}

type responsesFunctionCall struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Status    string `json:"status"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// responsesReply is the finished output: one message, or one function call
// item per tool call.
type responsesReply struct {
	message *responsesMessage
	calls   []responsesFunctionCall
}

func responsesOutput(text string, calls []toolCall) responsesReply {
	if len(calls) == 0 {
		return responsesReply{message: &responsesMessage{
			ID:      newID("msg_"),
			Type:    "message",
			Status:  "completed",
			Role:    "assistant",
			Content: []responsesText{{Type: "output_text", Text: text, Annotations: []any{}}},
		}}
	}

	var reply responsesReply
	for _, c := range calls {
		reply.calls = append(reply.calls, responsesFunctionCall{
			ID:        newID("fc_"),
			Type:      "function_call",
			Status:    "completed",
			CallID:    newID("call_"),
			Name:      c.name,
			Arguments: c.arguments,
		})
	}
	return reply
}

func (r responsesReply) items() []any {
	if r.message != nil {
		return []any{*r.message}
	}
	items := make([]any, len(r.calls))
	for i, c := range r.calls {
		items[i] = c
	}
	return items
}

func newResponse(req responsesRequest) openAIResponse {
	resp := openAIResponse{
		ID:                newID("resp_"),
		Object:            "response",
		CreatedAt:         time.Now().Unix(),
		Status:            "in_progress",
		Instructions:      req.instructions,
		Model:             req.model,
		Output:            []any{},
		ParallelToolCalls: req.tools.parallel,
		ToolChoice:        json.RawMessage(`"auto"`),
		Tools:             json.RawMessage(`[]`),
	}
	if !isNull(req.toolChoice) {
		resp.ToolChoice = req.toolChoice
	}
	if !isNull(req.toolsJSON) {
		resp.Tools = req.toolsJSON
	}
	return resp
}

// responsesEvents writes Responses API events. Each has its type on the
// "event:" line and in "type", and a sequence_number counting from 0.
type responsesEvents struct {
	events   *eventWriter
	sequence int
}

func (e *responsesEvents) send(eventType string, fields map[string]any) {
	fields["type"] = eventType
	fields["sequence_number"] = e.sequence
	e.sequence++
	e.events.sendJSON(eventType, fields)
}

// streamResponse writes response.created and response.in_progress, the
// output item events, and response.completed. Text arrives in
// response.output_text.delta events of a few words, tool arguments in
// response.function_call_arguments.delta fragments. With midstream set, an
// "error" event replaces everything after the first few deltas. The stream
// has no [DONE] line.
func streamResponse(w http.ResponseWriter, resp openAIResponse, reply responsesReply, usage responsesUsage, midstream bool) {
	stream := &responsesEvents{events: startEvents(w)}
	stream.send("response.created", map[string]any{"response": resp})
	stream.send("response.in_progress", map[string]any{"response": resp})

	fail := func() {
		stream.send("error", map[string]any{"code": "server_error", "message": openAIServerError().message, "param": nil})
	}
	deltas := 0
	delta := func(eventType string, fields map[string]any) bool {
		if midstream && deltas == midstreamDeltas {
			fail()
			return false
		}
		stream.send(eventType, fields)
		deltas++
		return true
	}

	if reply.message != nil && !streamResponseMessage(stream, *reply.message, delta) {
		return
	}
	for i, call := range reply.calls {
		if !streamResponseCall(stream, i, call, delta) {
			return
		}
	}
	if midstream {
		// The output had fewer deltas than midstreamDeltas.
		fail()
		return
	}

	resp.Status = "completed"
	resp.Output = reply.items()
	resp.Usage = &usage
	stream.send("response.completed", map[string]any{"response": resp})
}

func streamResponseMessage(stream *responsesEvents, msg responsesMessage, delta func(string, map[string]any) bool) bool {
	text := msg.Content[0].Text
	opening := msg
	opening.Status = "in_progress"
	opening.Content = []responsesText{}
	stream.send("response.output_item.added", map[string]any{"output_index": 0, "item": opening})

	empty := responsesText{Type: "output_text", Text: "", Annotations: []any{}}
	position := map[string]any{"item_id": msg.ID, "output_index": 0, "content_index": 0}
	stream.send("response.content_part.added", with(position, "part", empty))

	for _, part := range splitWords(text) {
		if !delta("response.output_text.delta", with(with(position, "delta", part), "logprobs", []any{})) {
			return false
		}
	}
	stream.send("response.output_text.done", with(with(position, "text", text), "logprobs", []any{}))
	stream.send("response.content_part.done", with(position, "part", msg.Content[0]))
	stream.send("response.output_item.done", map[string]any{"output_index": 0, "item": msg})
	return true
}

func streamResponseCall(stream *responsesEvents, index int, call responsesFunctionCall, delta func(string, map[string]any) bool) bool {
	opening := call
	opening.Status = "in_progress"
	opening.Arguments = ""
	stream.send("response.output_item.added", map[string]any{"output_index": index, "item": opening})

	position := map[string]any{"item_id": call.ID, "output_index": index}
	for _, fragment := range splitFragments(call.Arguments) {
		if !delta("response.function_call_arguments.delta", with(position, "delta", fragment)) {
			return false
		}
	}
	stream.send("response.function_call_arguments.done", with(position, "arguments", call.Arguments))
	stream.send("response.output_item.done", map[string]any{"output_index": index, "item": call})
	return true
}

// with returns a copy of fields with key set to value.
func with(fields map[string]any, key string, value any) map[string]any {
	out := make(map[string]any, len(fields)+1)
	for k, v := range fields {
		out[k] = v
	}
	out[key] = value
	return out
}
