// Package translate converts LLM API traffic between the OpenAI chat
// completions format and the Anthropic messages format: request bodies,
// non-streamed response bodies, error bodies and server-sent event streams.
//
// Requests are translated strictly: a field or value the target format
// cannot express yields an *UnsupportedError instead of being dropped, so a
// client never gets an answer to a question it did not ask. Responses pass
// every generated text through a TextFilter, which is where pseudonyms are
// restored or PHI in model output is masked.
//
// The package has no notion of PHI, policy or Envoy. It logs nothing, and
// its error messages name fields and enum values, never body text.
package translate

import (
	"errors"
	"fmt"

	"github.com/phigate/phigate/provider"
)

// DefaultMaxTokens is the max_tokens sent to Anthropic when an OpenAI
// request sets no output limit. Anthropic requires the field while OpenAI
// defaults to the model's own limit; 4096 is the output limit of the Claude 3
// models, the lowest of any Claude model, so every model accepts it.
const DefaultMaxTokens = 4096

// ErrInvalidBody is returned, wrapped, when a body is not valid JSON or does
// not have the shape its format documents, such as a message without a role
// or tool call arguments that are not a JSON object. For a request it means
// the client sent a bad request (HTTP 400). For a response or stream it
// means the provider sent something that cannot be translated (HTTP 502).
var ErrInvalidBody = errors.New("invalid body")

// ErrUnknownFormat is returned when a format is neither provider.FormatOpenAI
// nor provider.FormatAnthropic.
var ErrUnknownFormat = errors.New("unknown wire format")

// RequestOptions tunes request translation.
type RequestOptions struct {
	// Model replaces the request's model when not empty. The policy or the
	// registry picks the provider's model, because a client's "gpt-4o" means
	// nothing to Anthropic.
	Model string
	// DefaultMaxTokens is the max_tokens sent to Anthropic when the OpenAI
	// request sets neither max_completion_tokens nor max_tokens. Zero means
	// the package constant DefaultMaxTokens.
	DefaultMaxTokens int
}

// UnsupportedError names a request feature the target format lacks. The
// feature is a field path, with the offending enum value where there is one
// ("n", "tool_choice.type=allowed_tools"); it never contains body text.
type UnsupportedError struct {
	// Feature is the request field, such as "response_format.type=json_schema".
	Feature string
	// Target is the format the request was being translated to.
	Target provider.Format
	// Reason explains why the target cannot express the feature and, where
	// there is an alternative, what the client can do instead.
	Reason string
}

func (e *UnsupportedError) Error() string {
	msg := fmt.Sprintf("%s cannot be translated to the %s API", e.Feature, e.Target)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// PartKind is the kind of text a TextFilter receives.
type PartKind int

const (
	// PartText is prose the model wrote: message content, a refusal, or
	// thinking.
	PartText PartKind = iota
	// PartJSON is JSON source text of tool call arguments: OpenAI
	// function.arguments, Anthropic input_json_delta.partial_json, or
	// Anthropic tool_use.input serialised. A filter that inserts values into
	// PartJSON text must JSON-escape them.
	PartJSON
)

func (k PartKind) String() string {
	if k == PartJSON {
		return "json"
	}
	return "text"
}

// PartKey identifies one content part of a response, numbered as the
// provider numbers it. Choice is the OpenAI choice index (always 0 for
// Anthropic). Index is the Anthropic content block index. For OpenAI, Index
// is the tool call index for PartJSON, and 0 for the message content and
// refusal, which are one PartText part.
type PartKey struct {
	Choice int
	Index  int
	Kind   PartKind
}

// TextFilter receives every piece of generated text and may change it, for
// example to restore pseudonyms or mask PHI. It may hold text back across
// calls: Flush returns what it held for a part when that part ends, and is
// called exactly once per part that Next saw. A nil TextFilter means no
// change.
type TextFilter interface {
	Next(key PartKey, text string) string
	Flush(key PartKey) string
}

// checkFormats returns ErrUnknownFormat unless both formats are known.
func checkFormats(formats ...provider.Format) error {
	for _, f := range formats {
		if f != provider.FormatOpenAI && f != provider.FormatAnthropic {
			return fmt.Errorf("%w %q: use %q or %q", ErrUnknownFormat, f, provider.FormatOpenAI, provider.FormatAnthropic)
		}
	}
	return nil
}

// invalid returns an ErrInvalidBody error about the field at path.
func invalid(path, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidBody, path, fmt.Sprintf(format, args...))
}
