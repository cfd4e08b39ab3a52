package processor

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/phigate/phigate/llmapi"
	"github.com/phigate/phigate/translate"
)

// textFilter returns the exchange's response filter as a
// translate.TextFilter, nil when there is none.
func (ex *exchange) textFilter() translate.TextFilter {
	if ex.filter == nil {
		return nil
	}
	return ex.filter
}

// responseHeaders adds the request id and decision for the client. Event
// streams switch to STREAMED, so each chunk reaches the client as soon as
// it arrives. A response that must be translated or filtered loses its
// Content-Length, which no longer holds.
func (ex *exchange) responseHeaders(h *extprocv3.HttpHeaders) (*extprocv3.ProcessingResponse, error) {
	ex.status, _ = strconv.Atoi(header(h, ":status"))
	common := &extprocv3.CommonResponse{HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{
		setHeader(HeaderRequestID, ex.id),
		setHeader(HeaderDecision, ex.decision.Action),
	}}}
	resp := &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{
		ResponseHeaders: &extprocv3.HeadersResponse{Response: common},
	}}
	rewrite := ex.decided && (ex.translated || ex.filter != nil)
	sse := strings.HasPrefix(header(h, "content-type"), "text/event-stream")
	if rewrite && ex.scanWhole {
		// No mode override: the body, event stream or not, arrives whole
		// (BUFFERED), so it can be scanned before any of it is sent.
		ex.rewriteBody = true
		if sse {
			ex.streamUsage = llmapi.NewStreamUsage(ex.target.Format)
		}
		common.HeaderMutation.RemoveHeaders = append(common.HeaderMutation.RemoveHeaders, "content-length")
	} else if sse {
		ex.streamUsage = llmapi.NewStreamUsage(ex.target.Format)
		resp.ModeOverride = &extprocfilterv3.ProcessingMode{
			ResponseHeaderMode: extprocfilterv3.ProcessingMode_SEND,
			ResponseBodyMode:   extprocfilterv3.ProcessingMode_STREAMED,
		}
		if rewrite {
			ex.stream = translate.NewStream(ex.target.Format, ex.api.Format(), ex.textFilter())
			common.HeaderMutation.RemoveHeaders = append(common.HeaderMutation.RemoveHeaders, "content-length")
		}
	} else if rewrite {
		// The body arrives whole (BUFFERED), and its headers wait for it,
		// so responseBody can still set Content-Length and the status.
		ex.rewriteBody = true
	}
	if h.EndOfStream {
		ex.writeOutcome("")
	}
	return resp, nil
}

func (ex *exchange) responseBody(b *extprocv3.HttpBody) (*extprocv3.ProcessingResponse, error) {
	if ex.responseBytes == 0 && len(b.Body) > 0 {
		ex.firstByte = time.Since(ex.start)
	}
	ex.responseBytes += len(b.Body)
	var common *extprocv3.CommonResponse
	switch {
	case ex.streamUsage != nil:
		ex.streamUsage.Feed(b.Body)
		if b.EndOfStream {
			ex.usage, _ = ex.streamUsage.Usage()
		}
		if ex.stream != nil {
			common = ex.streamChunk(b)
		}
		if ex.scanWhole && b.EndOfStream {
			common = ex.rewriteWholeBody(b.Body)
		}
	case b.EndOfStream:
		// Buffered mode: this message holds the whole body.
		ex.usage, _ = llmapi.UsageFromBody(b.Body)
		if ex.rewriteBody {
			common = ex.rewriteWholeBody(b.Body)
		}
	}
	if common == nil {
		common = &extprocv3.CommonResponse{}
	}
	if b.EndOfStream {
		ex.writeOutcome(ex.responseError)
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{
		ResponseBody: &extprocv3.BodyResponse{Response: common},
	}}, nil
}

// streamChunk translates or filters one chunk of an event stream. When the
// stream cannot be processed, the client's stream ends with an error event
// in its own format and the rest of the upstream stream is dropped, since
// passing it on would skip translation and filtering.
func (ex *exchange) streamChunk(b *extprocv3.HttpBody) *extprocv3.CommonResponse {
	if ex.streamClosed {
		return replaceBody(nil)
	}
	out, err := ex.stream.Write(b.Body)
	if err == nil && !b.EndOfStream {
		return replaceBody(out)
	}
	if err == nil {
		// The end of the upstream body: Close reports a stream cut off
		// mid-event or before its last event, and ends the client's
		// stream with an error event then.
		var tail []byte
		tail, err = ex.stream.Close()
		out = append(out, tail...)
	}
	// After a Write error, out already ends the client's stream with an
	// error event.
	ex.streamClosed = true
	if err != nil {
		// The error names event shapes and sizes, never event content.
		ex.logger.Warn("response stream could not be processed; ended the client's stream with an error event", "error", err)
		ex.responseError = "response stream could not be processed: " + err.Error()
	}
	return replaceBody(out)
}

// rewriteWholeBody translates or filters a buffered response body. An
// upstream error is translated to the client's error format. A success
// body that cannot be processed becomes a 502 in the client's format.
func (ex *exchange) rewriteWholeBody(body []byte) *extprocv3.CommonResponse {
	status := ex.status
	var out []byte
	switch {
	case ex.scanWhole:
		out = ex.maskWholeBody(body)
	case status >= 400:
		if !ex.translated {
			return nil
		}
		status, out = translate.Error(ex.target.Format, ex.api.Format(), status, body)
	default:
		var err error
		out, err = translate.Response(ex.target.Format, ex.api.Format(), body, ex.textFilter())
		if err != nil {
			ex.logger.Warn("response body could not be processed; returned an error instead", "error", err)
			ex.responseError = "response body could not be processed: " + err.Error()
			status = http.StatusBadGateway
			msg := "phigate could not process the provider's response (request id " + ex.id + ")"
			out = llmapi.ErrorBody(ex.api, status, "bad_upstream_response", msg, ex.id)
		}
	}
	common := replaceBody(out)
	common.HeaderMutation = &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{
		setHeader("content-length", strconv.Itoa(len(out))),
	}}
	if status != ex.status {
		common.HeaderMutation.SetHeaders = append(common.HeaderMutation.SetHeaders,
			setHeader(":status", strconv.Itoa(status)),
			setHeader("content-type", "application/json"))
		ex.status = status
	}
	return common
}

// replaceBody returns a response that replaces the body (or chunk) with
// data, or clears it when data is empty.
func replaceBody(data []byte) *extprocv3.CommonResponse {
	if len(data) == 0 {
		return &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_ClearBody{ClearBody: true}}}
	}
	return &extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: data}}}
}
