package llmapi

import (
	"encoding/json"
	"net/http"
)

// ErrorBody returns an error response body in the API's own JSON format, so
// that client SDKs raise their usual exception types with phigate's message.
// The message must not contain PHI. requestID is phigate's request id, which
// the message should also name so that users can quote it.
func ErrorBody(api API, status int, code, message, requestID string) []byte {
	var v any
	if api.Format() == "anthropic" {
		v = anthropicError{
			Type:      "error",
			Error:     anthropicErrorDetail{Type: anthropicErrorType(status), Message: message},
			RequestID: requestID,
		}
	} else {
		v = openAIError{Error: openAIErrorDetail{
			Message: message,
			Type:    openAIErrorType(status),
			Code:    code,
		}}
	}
	data, err := json.Marshal(v)
	if err != nil {
		// Marshalling these fixed structs of strings cannot fail.
		panic(err)
	}
	return data
}

type openAIError struct {
	Error openAIErrorDetail `json:"error"`
}

type openAIErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}

type anthropicError struct {
	Type      string               `json:"type"`
	Error     anthropicErrorDetail `json:"error"`
	RequestID string               `json:"request_id,omitempty"`
}

type anthropicErrorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// openAIErrorType maps a status to the error type OpenAI uses for it.
func openAIErrorType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

// anthropicErrorType maps a status to the error type Anthropic documents
// for it.
func anthropicErrorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case 529:
		return "overloaded_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}
