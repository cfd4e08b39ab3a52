package llmapi

import "encoding/json"

// HasTokenInput reports whether an embeddings request body gives its input
// as token ids (an array of integers, or an array of such arrays) instead
// of text. Token ids encode text that phigate cannot scan without the
// model's tokenizer, so such requests are rejected rather than forwarded
// unscanned. A body that is not JSON reports false; ParseBody handles it.
func HasTokenInput(body []byte) bool {
	var req struct {
		Input json.RawMessage `json:"input"`
	}
	if json.Unmarshal(body, &req) != nil || len(req.Input) == 0 {
		return false
	}
	var items []json.RawMessage
	if json.Unmarshal(req.Input, &items) != nil {
		return false
	}
	for _, item := range items {
		var s string
		if json.Unmarshal(item, &s) != nil {
			return true
		}
	}
	return false
}
