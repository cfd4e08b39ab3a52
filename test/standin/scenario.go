package standin

import (
	"fmt"
	"net/http"
	"strings"
)

// ScenarioHeader is the request header that makes a stand-in fail in a
// chosen way instead of replying normally. Its values are the Scenario
// constants. Envoy forwards unknown request headers, so tests through Envoy
// can set it on the client request.
const ScenarioHeader = "X-Standin-Scenario"

// StatusHeader is the request header that makes a stand-in reply with a
// vendor error of a given status instead of a completion. Supported values
// are 429 (rate limit), 500 (server error), 503 and 529 (overloaded), and
// other values get a 400. Like ScenarioHeader, it is read after the API key
// check, so a request with a wrong key still gets 401. When both headers are
// set, StatusHeader wins.
const StatusHeader = "X-Standin-Status"

// Scenario is a failure a test requests with ScenarioHeader.
type Scenario string

// The scenarios. The package documentation describes each reply.
const (
	ScenarioRateLimit      Scenario = "rate_limit"
	ScenarioOverloaded     Scenario = "overloaded"
	ScenarioServerError    Scenario = "server_error"
	ScenarioMidstreamError Scenario = "midstream_error"
)

// midstreamDeltas is how many text deltas a midstream_error stream sends
// before its error event.
const midstreamDeltas = 2

// readScenario returns the scenario named in r's ScenarioHeader, "" when the
// header is absent, or an error message for an unknown value.
func readScenario(r *http.Request) (Scenario, string) {
	value := Scenario(strings.TrimSpace(r.Header.Get(ScenarioHeader)))
	switch value {
	case "", ScenarioRateLimit, ScenarioOverloaded, ScenarioServerError, ScenarioMidstreamError:
		return value, ""
	}
	return "", fmt.Sprintf("Unsupported %s value %q: use %s, %s, %s or %s.",
		ScenarioHeader, value, ScenarioRateLimit, ScenarioOverloaded, ScenarioServerError, ScenarioMidstreamError)
}

// midstreamWithoutStream is the message of the 400 a midstream_error
// request gets when it did not ask for a stream.
var midstreamWithoutStream = fmt.Sprintf("%s %s needs a streamed request: set \"stream\": true.", ScenarioHeader, ScenarioMidstreamError)
