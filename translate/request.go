package translate

import (
	"encoding/json"
	"fmt"

	"github.com/phigate/phigate/provider"
)

// Request converts a request body from the client's format (from) to the
// provider's format (to). When from == to the body is returned unchanged
// except for the model, which is replaced in place so every other byte
// stays as the client sent it. A feature the target cannot express returns
// an *UnsupportedError, never silently dropped; a body that is not a valid
// request returns an error wrapping ErrInvalidBody.
func Request(from, to provider.Format, body []byte, opts RequestOptions) ([]byte, error) {
	if err := checkFormats(from, to); err != nil {
		return nil, err
	}
	if from == to {
		return replaceModel(body, opts.Model)
	}

	root, err := decodeObject(body, "")
	if err != nil {
		return nil, fmt.Errorf("%w: the request body is not a JSON object", ErrInvalidBody)
	}
	var out any
	if to == provider.FormatAnthropic {
		out, err = openAIToAnthropicRequest(root, opts)
	} else {
		out, err = anthropicToOpenAIRequest(root, opts)
	}
	if err != nil {
		return nil, err
	}
	return marshal(out)
}

// replaceModel sets the top-level "model" of a JSON object body, keeping
// every other byte. An empty model leaves the body as it is.
func replaceModel(body []byte, model string) ([]byte, error) {
	if !isObject(body) || !json.Valid(body) {
		return nil, fmt.Errorf("%w: the request body is not a JSON object", ErrInvalidBody)
	}
	if model == "" {
		return body, nil
	}

	spans, err := findSpans(body, map[string]bool{"model": true})
	if err != nil {
		return nil, err
	}
	if at, ok := spans["model"]; ok {
		return splice(body, []spliceEdit{{at: at, value: quote(model)}}), nil
	}

	// No model field: insert one after the opening brace.
	open := skipSeparators(body, 0) + 1
	insert := append([]byte(`"model":`), quote(model)...)
	if rest := skipSeparators(body, open); rest < len(body) && body[rest] != '}' {
		insert = append(insert, ',')
	}
	return splice(body, []spliceEdit{{at: span{open, open}, value: insert}}), nil
}
