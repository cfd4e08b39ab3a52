package llmapi

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestErrorBodyOpenAI(t *testing.T) {
	tests := []struct {
		name     string
		api      API
		status   int
		wantType string
	}{
		{name: "bad request", api: APIOpenAIChat, status: 400, wantType: "invalid_request_error"},
		{name: "unauthorized", api: APIOpenAIChat, status: 401, wantType: "authentication_error"},
		{name: "forbidden", api: APIOpenAIChat, status: 403, wantType: "permission_error"},
		{name: "too large", api: APIOpenAIChat, status: 413, wantType: "invalid_request_error"},
		{name: "rate limited", api: APIOpenAIChat, status: 429, wantType: "rate_limit_error"},
		{name: "internal", api: APIOpenAIChat, status: 500, wantType: "server_error"},
		{name: "unavailable", api: APIOpenAIChat, status: 503, wantType: "server_error"},
		{name: "unknown api", api: APIUnknown, status: 403, wantType: "permission_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const message = "request denied by phigate policy (request id req-0001)"
			data := ErrorBody(tt.api, tt.status, "phi_policy_denied", message, "req-0001")

			var got struct {
				Error map[string]any `json:"error"`
			}
			dec := json.NewDecoder(bytes.NewReader(data))
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("ErrorBody output %s does not decode: %v", data, err)
			}
			if got.Error == nil {
				t.Fatalf("ErrorBody output %s has no error object", data)
			}
			if got.Error["message"] != message {
				t.Errorf("error.message = %v, want %q", got.Error["message"], message)
			}
			if got.Error["type"] != tt.wantType {
				t.Errorf("error.type = %v, want %q", got.Error["type"], tt.wantType)
			}
			if got.Error["code"] != "phi_policy_denied" {
				t.Errorf("error.code = %v, want %q", got.Error["code"], "phi_policy_denied")
			}
			param, ok := got.Error["param"]
			if !ok {
				t.Error("error.param is missing, want null as OpenAI sends it")
			}
			if param != nil {
				t.Errorf("error.param = %v, want null", param)
			}
			if len(got.Error) != 4 {
				t.Errorf("error object has %d fields, want 4 (message, type, param, code): %s", len(got.Error), data)
			}
		})
	}
}

func TestErrorBodyAnthropic(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		wantType string
	}{
		{name: "bad request", status: 400, wantType: "invalid_request_error"},
		{name: "unauthorized", status: 401, wantType: "authentication_error"},
		{name: "forbidden", status: 403, wantType: "permission_error"},
		{name: "not found", status: 404, wantType: "not_found_error"},
		{name: "too large", status: 413, wantType: "request_too_large"},
		{name: "unprocessable", status: 422, wantType: "invalid_request_error"},
		{name: "rate limited", status: 429, wantType: "rate_limit_error"},
		{name: "internal", status: 500, wantType: "api_error"},
		{name: "bad gateway", status: 502, wantType: "api_error"},
		{name: "overloaded", status: 529, wantType: "overloaded_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const message = `phigate "policy" said <no> (request id req-0002)`
			data := ErrorBody(APIAnthropicMessages, tt.status, "ignored_code", message, "req-0002")

			var got struct {
				Type  string `json:"type"`
				Error struct {
					Type    string `json:"type"`
					Message string `json:"message"`
				} `json:"error"`
				RequestID string `json:"request_id"`
			}
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("ErrorBody output %s does not decode with known fields only: %v", data, err)
			}
			if got.Type != "error" {
				t.Errorf("type = %q, want %q", got.Type, "error")
			}
			if got.Error.Type != tt.wantType {
				t.Errorf("error.type = %q, want %q", got.Error.Type, tt.wantType)
			}
			if got.Error.Message != message {
				t.Errorf("error.message = %q, want %q", got.Error.Message, message)
			}
			if got.RequestID != "req-0002" {
				t.Errorf("request_id = %q, want %q", got.RequestID, "req-0002")
			}
		})
	}
}

func TestErrorBodyAnthropicNoRequestID(t *testing.T) {
	data := ErrorBody(APIAnthropicMessages, 403, "", "denied", "")

	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("ErrorBody output %s does not decode: %v", data, err)
	}
	if _, ok := got["request_id"]; ok {
		t.Errorf("request_id is present with an empty request id, want it omitted: %s", data)
	}
}
