package standin

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
)

// azureDeploymentsPrefix starts every path an Azure OpenAI stand-in serves:
// /openai/deployments/{deployment}/chat/completions and
// /openai/deployments/{deployment}/embeddings.
const azureDeploymentsPrefix = "/openai/deployments/"

// azureEndpoint returns the endpoint and deployment a path names, or empty
// strings for any other path.
func azureEndpoint(path string) (Endpoint, string) {
	rest, ok := strings.CutPrefix(path, azureDeploymentsPrefix)
	if !ok {
		return "", ""
	}
	deployment, operation, ok := strings.Cut(rest, "/")
	if !ok || deployment == "" {
		return "", ""
	}

	switch operation {
	case "chat/completions":
		return EndpointChatCompletions, deployment
	case "embeddings":
		return EndpointEmbeddings, deployment
	}
	return "", ""
}

// azureRequest carries what Azure-specific replies need.
type azureRequest struct {
	deployment string
}

// azureError is the error body Azure's own front end returns, for
// authentication, routing and rate limits. Errors from the model service
// behind it keep OpenAI's shape.
type azureError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeAzureError(w http.ResponseWriter, status int, code, message string, header http.Header) {
	for name, values := range header {
		w.Header()[name] = values
	}
	var body azureError
	body.Error.Code = code
	body.Error.Message = message
	writeJSON(w, status, body)
}

func writeAzureNotFound(w http.ResponseWriter) {
	writeAzureError(w, http.StatusNotFound, "404", "Resource not found", nil)
}

// serveAzure replies to one request as Azure OpenAI would. The checks run
// in this order: route, method, body size, api-version, API key,
// deployment, StatusHeader, ScenarioHeader, then the body fields.
func (h *Handler) serveAzure(w http.ResponseWriter, r *http.Request, rec Request, readErr error) {
	w.Header().Set("X-Request-Id", rec.ID)

	if rec.Endpoint == "" {
		writeAzureNotFound(w)
		return
	}
	if failure := h.checkOpenAIRoute(rec, readErr); failure != nil {
		failure.write(w)
		return
	}
	// NOTE: a missing api-version gets the 404 "Resource not found" that
	// Azure returns for unknown routes. The live service may word it
	// differently.
	if rec.APIVersion == "" {
		writeAzureNotFound(w)
		return
	}
	if !h.checkAzureKey(r) {
		writeAzureError(w, http.StatusUnauthorized, "401",
			"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.", nil)
		return
	}
	if !h.servesModel(rec.Deployment) {
		writeAzureError(w, http.StatusNotFound, "DeploymentNotFound",
			"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.", nil)
		return
	}

	scenario, failure := openAIRequestedFailure(r)
	if failure != nil && failure.status == http.StatusTooManyRequests {
		writeAzureRateLimit(w, rec)
		return
	}
	if failure != nil {
		failure.write(w)
		return
	}

	azure := &azureRequest{deployment: rec.Deployment}
	switch rec.Endpoint {
	case EndpointChatCompletions:
		h.serveOpenAIChat(w, rec, scenario, azure)
	case EndpointEmbeddings:
		h.serveOpenAIEmbeddings(w, rec, scenario, azure)
	}
}

// checkAzureKey reports whether the request carries an acceptable
// credential. With a key configured only "api-key: KEY" is accepted.
// Without one, any api-key or bearer token is, since Azure also accepts
// Microsoft Entra ID tokens.
func (h *Handler) checkAzureKey(r *http.Request) bool {
	key := r.Header.Get("Api-Key")
	if h.apiKey != "" {
		return subtle.ConstantTimeCompare([]byte(key), []byte(h.apiKey)) == 1
	}

	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return key != "" || ok && strings.TrimSpace(token) != ""
}

// writeAzureRateLimit writes Azure's 429, which names the operation and API
// version and carries retry-after in seconds and milliseconds.
func writeAzureRateLimit(w http.ResponseWriter, rec Request) {
	operation := "ChatCompletions_Create"
	if rec.Endpoint == EndpointEmbeddings {
		operation = "Embeddings_Create"
	}
	header := http.Header{
		"Retry-After":                    {"1"},
		"Retry-After-Ms":                 {"1000"},
		"X-Ratelimit-Remaining-Requests": {"0"},
		"X-Ratelimit-Remaining-Tokens":   {"10000"},
	}
	writeAzureError(w, http.StatusTooManyRequests, "429",
		fmt.Sprintf("Requests to the %s Operation under Azure OpenAI API version %s have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second.", operation, rec.APIVersion),
		header)
}

// azureFilter is one entry of prompt_filter_results.
type azureFilter struct {
	PromptIndex          int                `json:"prompt_index"`
	ContentFilterResults azureFilterResults `json:"content_filter_results"`
}

// azureFilterResults are Azure's content filter verdicts. The stand-in
// always reports every category as safe and unfiltered.
type azureFilterResults struct {
	Hate     azureVerdict `json:"hate"`
	SelfHarm azureVerdict `json:"self_harm"`
	Sexual   azureVerdict `json:"sexual"`
	Violence azureVerdict `json:"violence"`
}

type azureVerdict struct {
	Filtered bool   `json:"filtered"`
	Severity string `json:"severity"`
}

func azureSafeResults() *azureFilterResults {
	safe := azureVerdict{Severity: "safe"}
	return &azureFilterResults{Hate: safe, SelfHarm: safe, Sexual: safe, Violence: safe}
}

func azurePromptFilters() []azureFilter {
	return []azureFilter{{PromptIndex: 0, ContentFilterResults: *azureSafeResults()}}
}

// azurePromptFilterChunk is the first event of an Azure stream: no choices,
// empty id, model and object, and a zero created time, carrying only the
// prompt filter results. Clients that expect every chunk to have a choice
// break on it.
func azurePromptFilterChunk() any {
	return struct {
		Choices             []openAIChunkChoice `json:"choices"`
		Created             int64               `json:"created"`
		ID                  string              `json:"id"`
		Model               string              `json:"model"`
		Object              string              `json:"object"`
		PromptFilterResults []azureFilter       `json:"prompt_filter_results"`
	}{Choices: []openAIChunkChoice{}, PromptFilterResults: azurePromptFilters()}
}
