package translate

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/phigate/phigate/provider"
)

// statusOverloaded is Anthropic's status for a temporarily overloaded API.
const statusOverloaded = 529

// Error converts an upstream error response body from the provider's
// format (from) to the client's format (to) and returns the status and body
// to send. The upstream message is kept. The status and error type are
// mapped so that the client's SDK raises the exception and makes the retry
// decision it would for the same failure from its own vendor:
//
//	Anthropic error (status)     OpenAI status, type, code
//	invalid_request_error (400)  400 invalid_request_error
//	authentication_error (401)   401 authentication_error
//	billing_error (402)          402 insufficient_quota, code insufficient_quota
//	permission_error (403)       403 permission_error
//	not_found_error (404)        404 invalid_request_error
//	request_too_large (413)      413 invalid_request_error
//	rate_limit_error (429)       429 requests, code rate_limit_exceeded
//	api_error (500)              the same status, server_error
//	timeout_error (504)          504 server_error
//	overloaded_error (529)       503 server_error (OpenAI's "overloaded" status)
//
//	OpenAI status (type or code)     Anthropic status, type
//	400                              400 invalid_request_error
//	401                              401 authentication_error
//	403                              403 permission_error
//	404                              404 not_found_error
//	413                              413 request_too_large
//	429 (code insufficient_quota)    402 billing_error, so the SDK does not retry
//	429 (otherwise)                  429 rate_limit_error
//	503                              529 overloaded_error
//	504                              504 timeout_error
//	other 5xx                        the same status, api_error
//	other 4xx                        the same status, invalid_request_error
//
// An Anthropic error type outside the table is mapped by its status. A body
// that is not an error of the provider's format gets a message naming only
// the status. When from == to the status and body are returned unchanged.
func Error(from, to provider.Format, status int, body []byte) (int, []byte) {
	if from == to {
		return status, body
	}
	if from == provider.FormatAnthropic {
		errType, message := parseAnthropicError(body)
		if message == "" {
			message = upstreamMessage(status)
		}
		status, detail := anthropicToOpenAIError(status, errType, message)
		return status, mustMarshal(openAIErrorBody{Error: detail})
	}

	errType, code, message := parseOpenAIError(body)
	if message == "" {
		message = upstreamMessage(status)
	}
	status, errType = openAIToAnthropicError(status, errType, code)
	return status, mustMarshal(anthropicErrorBody{Type: "error", Error: anthropicErrorDetail{Type: errType, Message: message}})
}

func upstreamMessage(status int) string {
	return fmt.Sprintf("The upstream provider returned HTTP status %d with an error body that could not be read.", status)
}

func parseAnthropicError(body []byte) (errType, message string) {
	var doc struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return "", ""
	}
	return doc.Error.Type, doc.Error.Message
}

func parseOpenAIError(body []byte) (errType, code, message string) {
	var doc struct {
		Error struct {
			Type    string          `json:"type"`
			Code    json.RawMessage `json:"code"` // a string, a number or null
			Message string          `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return "", "", ""
	}
	_ = json.Unmarshal(doc.Error.Code, &code) // a non-string code matches no rule
	return doc.Error.Type, code, doc.Error.Message
}

// anthropicToOpenAIError maps an Anthropic error. Status 0 marks a stream
// error, which has no status of its own.
func anthropicToOpenAIError(status int, errType, message string) (int, openAIErrorDetail) {
	detail := openAIErrorDetail{Message: message}
	code := func(c string) *string { return &c }

	switch errType {
	case "invalid_request_error":
		status, detail.Type = orStatus(status, http.StatusBadRequest), "invalid_request_error"
	case "authentication_error":
		status, detail.Type = http.StatusUnauthorized, "authentication_error"
	case "billing_error":
		status, detail.Type, detail.Code = http.StatusPaymentRequired, "insufficient_quota", code("insufficient_quota")
	case "permission_error":
		status, detail.Type = http.StatusForbidden, "permission_error"
	case "not_found_error":
		status, detail.Type = http.StatusNotFound, "invalid_request_error"
	case "request_too_large":
		status, detail.Type = http.StatusRequestEntityTooLarge, "invalid_request_error"
	case "rate_limit_error":
		status, detail.Type, detail.Code = http.StatusTooManyRequests, "requests", code("rate_limit_exceeded")
	case "api_error":
		status, detail.Type = orStatus(status, http.StatusInternalServerError), "server_error"
	case "timeout_error":
		status, detail.Type = http.StatusGatewayTimeout, "server_error"
	case "overloaded_error":
		status, detail.Type = http.StatusServiceUnavailable, "server_error"
	default:
		if status == statusOverloaded {
			status = http.StatusServiceUnavailable
		}
		status = orStatus(status, http.StatusInternalServerError)
		detail.Type = "invalid_request_error"
		if status >= 500 {
			detail.Type = "server_error"
		}
	}
	if status < 400 {
		// An error body with a success status: report it as a server error.
		status, detail.Type = http.StatusBadGateway, "server_error"
	}
	return status, detail
}

// openAIToAnthropicError maps an OpenAI error. Status 0 marks a stream
// error, which is mapped by its type and code alone.
func openAIToAnthropicError(status int, errType, code string) (int, string) {
	if status == 0 {
		switch {
		case code == "insufficient_quota" || errType == "insufficient_quota":
			return 0, "billing_error"
		case code == "rate_limit_exceeded" || errType == "rate_limit_error" || errType == "requests" || errType == "tokens":
			return 0, "rate_limit_error"
		case errType == "invalid_request_error":
			return 0, "invalid_request_error"
		}
		return 0, "api_error"
	}

	switch status {
	case http.StatusBadRequest:
		return status, "invalid_request_error"
	case http.StatusUnauthorized:
		return status, "authentication_error"
	case http.StatusPaymentRequired:
		return status, "billing_error"
	case http.StatusForbidden:
		return status, "permission_error"
	case http.StatusNotFound:
		return status, "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return status, "request_too_large"
	case http.StatusTooManyRequests:
		if code == "insufficient_quota" || errType == "insufficient_quota" {
			return http.StatusPaymentRequired, "billing_error"
		}
		return status, "rate_limit_error"
	case http.StatusServiceUnavailable:
		return statusOverloaded, "overloaded_error"
	case http.StatusGatewayTimeout:
		return status, "timeout_error"
	}
	switch {
	case status >= 500:
		return status, "api_error"
	case status >= 400:
		return status, "invalid_request_error"
	}
	return http.StatusBadGateway, "api_error"
}

func orStatus(status, fallback int) int {
	if status == 0 {
		return fallback
	}
	return status
}
