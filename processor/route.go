package processor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/phigate/phigate/llmapi"
	"github.com/phigate/phigate/phi"
	"github.com/phigate/phigate/provider"
	"github.com/phigate/phigate/translate"
)

// checkRoute rejects a route the provider cannot serve and notes whether
// the request must be translated. It returns nil when the route is good.
func (ex *exchange) checkRoute(ctx context.Context, target provider.Provider) *extprocv3.ProcessingResponse {
	if ex.api == llmapi.APIUnknown {
		// Unrecognised paths go to the provider unchanged.
		return nil
	}
	if !target.Serves(string(ex.api)) {
		msg := fmt.Sprintf("policy routed the request to provider %s, which does not serve %s", target.Name, ex.api)
		return ex.deny(ctx, http.StatusBadRequest, "unsupported_route", msg, "route rejected: "+msg)
	}
	ex.translated = ex.api.Translatable() && target.Format != ex.api.Format()
	if ex.translated && target.Credentials.Passthrough {
		msg := fmt.Sprintf("provider %s forwards the client's own credentials, which cannot authenticate a request translated from the %s format", target.Name, ex.api.Format())
		return ex.deny(ctx, http.StatusBadGateway, "unsupported_route", msg, "route rejected: "+msg)
	}
	if ex.translated && ex.decision.Model == "" && len(target.Models) == 0 {
		msg := fmt.Sprintf("provider %s lists no models, and a request translated to its format needs one", target.Name)
		return ex.deny(ctx, http.StatusBadGateway, "unsupported_route", msg, "route rejected: "+msg)
	}
	return nil
}

// translateRequest converts the (already redacted) body to the provider's
// wire format. A feature the provider's format lacks is rejected in the
// client's format, naming the feature.
func (ex *exchange) translateRequest(ctx context.Context, body []byte) ([]byte, *extprocv3.ProcessingResponse) {
	model := ex.decision.Model
	if model == "" {
		model = ex.target.Models[0]
	}
	out, err := translate.Request(ex.api.Format(), ex.target.Format, body, translate.RequestOptions{Model: model})
	if err != nil {
		var unsupported *translate.UnsupportedError
		if errors.As(err, &unsupported) {
			msg := fmt.Sprintf("the request cannot be sent to provider %s: %v", ex.target.Name, err)
			return nil, ex.deny(ctx, http.StatusBadRequest, "unsupported_feature", msg, "translation rejected: "+msg)
		}
		// Other errors describe a body that is JSON but not a valid request
		// of the client's API. Their text may quote the body, so it stays
		// out of the response, the log and the audit record.
		msg := fmt.Sprintf("the request is not a valid %s request, so it cannot be translated for provider %s", ex.api, ex.target.Name)
		ex.logger.Warn("request body could not be translated; denying request", "provider", ex.target.Name)
		return nil, ex.deny(ctx, http.StatusBadRequest, "invalid_request", msg, "translation failed: invalid request body")
	}
	ex.record.Model = model
	return out, nil
}

// setRouteHeaders sets the path and the format-specific headers that the
// provider expects, when they differ from the client's.
func (ex *exchange) setRouteHeaders(m *extprocv3.HeaderMutation, target provider.Provider) {
	if ex.api == llmapi.APIUnknown {
		return
	}
	api := ex.api
	if ex.translated {
		api = llmapi.ChatAPI(target.Format)
	}
	_, query, _ := strings.Cut(ex.path, "?")
	if path := target.UpstreamPath(api.Path(), query, ex.translated); path != ex.path {
		m.SetHeaders = append(m.SetHeaders, setHeader(":path", path))
	}
	if !ex.translated {
		return
	}
	switch target.Format {
	case provider.FormatAnthropic:
		version := target.AnthropicVersion
		if version == "" {
			version = provider.DefaultAnthropicVersion
		}
		m.SetHeaders = append(m.SetHeaders, setHeader("anthropic-version", version))
		m.RemoveHeaders = append(m.RemoveHeaders, "openai-organization", "openai-project", "openai-beta")
	default:
		m.RemoveHeaders = append(m.RemoveHeaders, "anthropic-version", "anthropic-beta")
	}
}

// prepareResponse decides how the response will be processed: translated
// back to the client's format, with pseudonyms restored, with new PHI
// masked, or passed through untouched.
func (ex *exchange) prepareResponse(parsed *llmapi.Body, findings [][]phi.Finding) {
	d := ex.decision
	var scanner *phi.Scanner
	var maskTypes []string
	var known map[string]bool
	if d.ResponseRedact != nil {
		scanner = ex.s.opts.Scanner
		maskTypes = d.ResponseRedact.Types
		known = map[string]bool{}
		for i, t := range parsed.Texts {
			for _, f := range findings[i] {
				known[t.Value[f.Start:f.End]] = true
			}
		}
	}
	if ex.pseudo != nil || scanner != nil {
		ex.filter = newResponseFilter(ex.pseudo, scanner, maskTypes, known)
	}
	// The translate package reads only chat responses. Other APIs get
	// their whole response body scanned instead (see maskWholeBody).
	ex.scanWhole = ex.filter != nil && !ex.api.Translatable()
}

// maskWholeBody masks new PHI in a response body that is not a chat
// response: in every string of a JSON body, or in the body as text
// otherwise, which covers event streams too. Masks contain no JSON-special
// characters, so a JSON body stays valid.
//
// NOTE: in an event stream, a value split between two delta events is
// separated by event syntax, so it is found only if its parts are found
// on their own. The final event of a Responses API stream repeats the
// whole text, where the value is found.
func (ex *exchange) maskWholeBody(body []byte) []byte {
	parsed := llmapi.ParseBody(body)
	replacements := map[int]string{}
	for i, t := range parsed.Texts {
		key := translate.PartKey{Index: i}
		if out := ex.filter.Next(key, t.Value) + ex.filter.Flush(key); out != t.Value {
			replacements[i] = out
		}
	}
	if len(replacements) == 0 {
		return body
	}
	if !parsed.JSON {
		return []byte(replacements[0])
	}
	return parsed.Rewrite(replacements, "")
}
