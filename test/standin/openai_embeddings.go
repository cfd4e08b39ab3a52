package standin

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Embedding sizes: the default of OpenAI's embedding models, the size of
// text-embedding-3-large, and the largest "dimensions" the stand-in accepts.
const (
	defaultEmbeddingDimensions = 1536
	largeEmbeddingDimensions   = 3072
	maxEmbeddingDimensions     = largeEmbeddingDimensions
)

// serveOpenAIEmbeddings replies with one deterministic vector per input.
// For Azure the model is optional and defaults to the deployment.
func (h *Handler) serveOpenAIEmbeddings(w http.ResponseWriter, rec Request, scenario Scenario, azure *azureRequest) {
	if scenario == ScenarioMidstreamError {
		invalidOpenAIRequest("", "", "%s", midstreamWithoutStream).write(w)
		return
	}

	req, failure := parseEmbeddingsRequest(rec.Body, azure == nil)
	if failure != nil {
		failure.write(w)
		return
	}
	if azure != nil && req.model == "" {
		req.model = azure.deployment
	}
	if azure == nil && !h.servesModel(req.model) {
		modelNotFound(req.model).write(w)
		return
	}

	reply := embeddingList{Object: "list", Model: req.model, Data: []embedding{}}
	for i, text := range req.inputs {
		vector := embeddingVector(req.model, text, req.dimensions)
		item := embedding{Object: "embedding", Index: i, Embedding: vector}
		if req.base64 {
			item.Embedding = encodeFloat32s(vector)
		}
		reply.Data = append(reply.Data, item)
		reply.Usage.PromptTokens += estimateTokens(text)
	}
	reply.Usage.TotalTokens = reply.Usage.PromptTokens
	writeJSON(w, http.StatusOK, reply)
}

type embeddingsRequest struct {
	model string
	// inputs are the texts to embed. Token arrays become their numbers
	// joined by spaces, which keeps their vectors deterministic.
	inputs     []string
	dimensions int
	base64     bool
}

// parseEmbeddingsRequest validates model, input (a string, an array of
// strings, an array of token ids or an array of such arrays, never empty),
// encoding_format and dimensions.
func parseEmbeddingsRequest(body []byte, modelRequired bool) (embeddingsRequest, *openAIFailure) {
	var req embeddingsRequest

	fields, err := decodeObject(body)
	if err != nil {
		return req, invalidOpenAIJSON()
	}
	if failure := parseOpenAIModel(fields, modelRequired, &req.model); failure != nil {
		return req, failure
	}

	if isNull(fields["input"]) {
		return req, invalidOpenAIRequest("input", "missing_required_parameter", "Missing required parameter: 'input'.")
	}
	inputs, ok := embeddingInputs(fields["input"])
	if !ok {
		return req, invalidOpenAIRequest("input", "invalid_type",
			"Invalid type for 'input': expected a non-empty string, an array of non-empty strings, or an array of token arrays.")
	}
	req.inputs = inputs

	req.dimensions = defaultEmbeddingDimensions
	if strings.HasPrefix(req.model, "text-embedding-3-large") {
		req.dimensions = largeEmbeddingDimensions
	}
	if !isNull(fields["dimensions"]) {
		if json.Unmarshal(fields["dimensions"], &req.dimensions) != nil || req.dimensions < 1 || req.dimensions > maxEmbeddingDimensions {
			return req, invalidOpenAIRequest("dimensions", "invalid_value",
				"Invalid 'dimensions': expected an integer from 1 to %d.", maxEmbeddingDimensions)
		}
	}

	if !isNull(fields["encoding_format"]) {
		var format string
		_ = json.Unmarshal(fields["encoding_format"], &format)
		switch format {
		case "float":
		case "base64":
			req.base64 = true
		default:
			return req, invalidOpenAIRequest("encoding_format", "invalid_value",
				"Invalid value for 'encoding_format': expected 'float' or 'base64'.")
		}
	}
	return req, nil
}

// embeddingInputs returns the texts of an input field, or false for any
// shape the API rejects, including empty strings and empty arrays.
func embeddingInputs(raw json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, one != ""
	}

	var texts []string
	if json.Unmarshal(raw, &texts) == nil {
		for _, t := range texts {
			if t == "" {
				return nil, false
			}
		}
		return texts, len(texts) > 0
	}

	var tokens []int
	if json.Unmarshal(raw, &tokens) == nil {
		return []string{joinTokens(tokens)}, len(tokens) > 0
	}

	var batches [][]int
	if json.Unmarshal(raw, &batches) != nil || len(batches) == 0 {
		return nil, false
	}
	joined := make([]string, len(batches))
	for i, b := range batches {
		if len(b) == 0 {
			return nil, false
		}
		joined[i] = joinTokens(b)
	}
	return joined, true
}

func joinTokens(tokens []int) string {
	parts := make([]string, len(tokens))
	for i, t := range tokens {
		parts[i] = strconv.Itoa(t)
	}
	return strings.Join(parts, " ")
}

// embeddingVector derives a unit-length vector of the given size from
// SHA-256 over the model and text, so equal inputs always get equal vectors
// and different inputs almost surely different ones. Like OpenAI's
// embeddings, the vectors are normalized to length 1.
func embeddingVector(model, text string, dimensions int) []float32 {
	seed := sha256.Sum256([]byte(model + "\x00" + text))
	vector := make([]float32, dimensions)

	var block [sha256.Size]byte
	var sum float64
	for i := range vector {
		if i%(sha256.Size/4) == 0 {
			var counter [8]byte
			binary.BigEndian.PutUint64(counter[:], uint64(i))
			block = sha256.Sum256(append(seed[:], counter[:]...))
		}
		word := binary.BigEndian.Uint32(block[(i%(sha256.Size/4))*4:])
		value := float64(word)/math.MaxUint32*2 - 1
		vector[i] = float32(value)
		sum += value * value
	}

	norm := math.Sqrt(sum)
	if norm == 0 {
		return vector
	}
	for i := range vector {
		vector[i] = float32(float64(vector[i]) / norm)
	}
	return vector
}

// encodeFloat32s is the base64 encoding_format: little-endian float32
// values, base64-encoded.
func encodeFloat32s(vector []float32) string {
	buf := make([]byte, 4*len(vector))
	for i, v := range vector {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	return base64.StdEncoding.EncodeToString(buf)
}

type embeddingList struct {
	Object string      `json:"object"`
	Data   []embedding `json:"data"`
	Model  string      `json:"model"`
	Usage  struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

// embedding holds the vector as []float32 or, for base64, as a string.
type embedding struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

// serveOpenAIModels lists Options.Models as model objects, owned by the
// stand-in. The list is empty when no models are configured.
func (h *Handler) serveOpenAIModels(w http.ResponseWriter) {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	list := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list", Data: []model{}}

	created := time.Now().Unix()
	for _, name := range h.models {
		list.Data = append(list.Data, model{ID: name, Object: "model", Created: created, OwnedBy: h.name})
	}
	writeJSON(w, http.StatusOK, list)
}
