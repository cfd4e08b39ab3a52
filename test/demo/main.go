// Command demo runs phigate's main job on this machine. It starts the
// OpenAI and Anthropic stand-ins, phigate and a real Envoy on 127.0.0.1 and
// sends chat requests through Envoy. It prints what phigate decided and
// which provider each request reached, then verifies the audit log.
//
// Without -corpus it sends the example prompts in prompts.json, then sends
// the PHI prompts again against a registry with no BAA-covered OpenAI
// provider, to show redaction. With -corpus DIR it replays a corpus
// instead: a clinician-query file (queries.txt) or Synthea FHIR NDJSON.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/test/harness"
	"github.com/phigate/phigate/test/standin"
)

//go:embed prompts.json
var promptsJSON []byte

// prompt is one demo request.
type prompt struct {
	Name    string `json:"name"`
	API     string `json:"api"` // openai or anthropic
	Purpose string `json:"purpose"`
	// Provider, when set, is sent as x-phigate-provider.
	Provider string `json:"provider"`
	Stream   bool   `json:"stream"`
	Text     string `json:"text"`
	// Raw, when set, is sent as the body verbatim.
	Raw string `json:"raw"`
	// Values are PHI values known to be in Text, for leak checks, and
	// Kinds their kinds, index for index.
	Values []string `json:"-"`
	Kinds  []string `json:"-"`
	// Negative marks a prompt known to hold no PHI.
	Negative bool `json:"-"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	phigateBin := fs.String("phigate", "bin/phigate", "phigate binary")
	envoyBin := fs.String("envoy", "", "Envoy binary (default $ENVOY, else .venv/bin/envoy)")
	corpus := fs.String("corpus", "", "replay this corpus directory instead of the example prompts")
	limit := fs.Int("limit", 0, "send at most this many corpus requests (0: all)")
	keep := fs.Bool("keep", false, "keep the working directory with logs and the audit log")
	if err := fs.Parse(args); err != nil {
		return err
	}

	root, err := harness.FindRepoRoot()
	if err != nil {
		return err
	}
	if *envoyBin == "" {
		if *envoyBin, err = harness.FindEnvoy(root); err != nil {
			return err
		}
	}
	bin, err := filepath.Abs(*phigateBin)
	if err != nil {
		return err
	}

	if *corpus != "" {
		prompts, err := loadCorpus(*corpus)
		if err != nil {
			return err
		}
		if *limit > 0 && len(prompts) > *limit {
			prompts = prompts[:*limit]
		}
		return runCorpus(ctx, out, harness.Options{RepoRoot: root, Envoy: *envoyBin, Phigate: bin}, prompts, *keep)
	}

	var prompts []prompt
	if err := json.Unmarshal(promptsJSON, &prompts); err != nil {
		return fmt.Errorf("decoding prompts.json: %w", err)
	}
	opts := harness.Options{RepoRoot: root, Envoy: *envoyBin, Phigate: bin}
	fmt.Fprintln(out, "== phigate demo: Envoy + phigate + OpenAI and Anthropic stand-ins on 127.0.0.1")
	fmt.Fprintln(out, "   registry: openai (no BAA, default), openai-baa (BAA, zero retention), anthropic (BAA, default)")
	if err := runPrompts(ctx, out, opts, prompts, *keep); err != nil {
		return err
	}

	var phiPrompts []prompt
	for _, p := range prompts {
		if p.API == "openai" && p.Purpose == "" && p.Provider == "" && p.Raw == "" && !strings.HasPrefix(p.Name, "clean") {
			phiPrompts = append(phiPrompts, p)
		}
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "== Same PHI prompts, registry without openai-baa: no BAA-covered OpenAI provider, so the policy redacts")
	opts.NoBAAProvider = true
	return runPrompts(ctx, out, opts, phiPrompts, *keep)
}

// result is what happened to one request.
type result struct {
	prompt    prompt
	status    int
	requestID string
	reached   string
	record    audit.Record
	body      []byte // as the provider received it
	reply     string // the model text the client received
}

// session is one running stack and its results.
type session struct {
	phigate string
	stack   *harness.Stack
	dir     string
	results []result
}

func startSession(ctx context.Context, opts harness.Options) (*session, error) {
	dir, err := os.MkdirTemp("", "phigate-demo-")
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	st, err := harness.Start(ctx, opts)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &session{phigate: opts.Phigate, stack: st, dir: dir}, nil
}

// replay starts a stack, sends every prompt through it, stops it and
// returns the session with each result's decision record.
func replay(ctx context.Context, opts harness.Options, prompts []prompt) (*session, error) {
	s, err := startSession(ctx, opts)
	if err != nil {
		return nil, err
	}
	for _, p := range prompts {
		if err := s.send(p); err != nil {
			s.stack.Stop()
			return nil, err
		}
	}
	if err := s.finish(); err != nil {
		return nil, err
	}
	return s, nil
}

func runPrompts(ctx context.Context, out io.Writer, opts harness.Options, prompts []prompt, keep bool) error {
	s, err := replay(ctx, opts, prompts)
	if err != nil {
		return err
	}

	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tREQUEST\tAPI\tPHI FOUND\tACTION\tREACHED\tSTATUS")
	for i, r := range s.results {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\n", i+1, r.prompt.Name, r.prompt.API, phiTypes(r.record.PHITypes), r.record.Action, r.reached, r.status)
	}
	tw.Flush()

	for _, r := range s.results {
		if r.record.Action == "redact" && r.body != nil {
			fmt.Fprintf(out, "\nWhat the %s stand-in received for %q:\n  %s\n", r.reached, r.prompt.Name, userText(r.body))
			fmt.Fprintf(out, "What the client got back, pseudonyms restored by phigate:\n  %s\n", r.reply)
			break
		}
	}
	for _, r := range s.results {
		if r.prompt.Provider != "" && r.reached == r.prompt.Provider && r.status == http.StatusOK {
			fmt.Fprintf(out, "\nTranslated %q: phigate sent the %s stand-in the request in that vendor's format and translated the reply back to the client's %s format:\n  %s\n", r.prompt.Name, r.reached, r.prompt.API, r.reply)
		}
	}
	for _, r := range s.results {
		if r.record.Action == "deny" {
			fmt.Fprintf(out, "\nDenied %q: %s\n", r.prompt.Name, strings.Join(r.record.Reasons, "; "))
		}
	}
	return s.report(out, keep)
}

// send posts one prompt through Envoy and notes which stand-in got it.
func (s *session) send(p prompt) error {
	st := s.stack
	before := map[*standin.Server]int{st.OpenAI: len(st.OpenAI.Requests()), st.OpenAIBAA: len(st.OpenAIBAA.Requests()), st.Anthropic: len(st.Anthropic.Requests())}

	path, body := "/v1/chat/completions", []byte(p.Raw)
	if p.API == "anthropic" {
		path = "/v1/messages"
	}
	if p.Raw == "" {
		body = requestBody(p)
	}
	req, err := http.NewRequest(http.MethodPost, st.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("authorization", "Bearer demo-client-key")
	req.Header.Set("x-api-key", "demo-client-key")
	req.Header.Set("anthropic-version", "2023-06-01")
	if p.Purpose != "" {
		req.Header.Set("x-phigate-purpose", p.Purpose)
	}
	if p.Provider != "" {
		req.Header.Set("x-phigate-provider", p.Provider)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("sending %q: %w", p.Name, err)
	}
	reply, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("reading the response to %q: %w", p.Name, err)
	}

	r := result{prompt: p, status: resp.StatusCode, requestID: resp.Header.Get("x-phigate-request-id"), reached: "-", reply: replyText(reply)}
	for srv, name := range map[*standin.Server]string{st.OpenAI: "openai", st.OpenAIBAA: "openai-baa", st.Anthropic: "anthropic"} {
		if reqs := srv.Requests(); len(reqs) > before[srv] {
			r.reached = name
			r.body = reqs[len(reqs)-1].Body
		}
	}
	s.results = append(s.results, r)
	return nil
}

func requestBody(p prompt) []byte {
	var body map[string]any
	if p.API == "anthropic" {
		body = map[string]any{"model": "claude-sonnet-4-5", "max_tokens": 512, "messages": []any{map[string]any{"role": "user", "content": p.Text}}}
	} else {
		body = map[string]any{"model": "gpt-4o-mini", "messages": []any{map[string]any{"role": "user", "content": p.Text}}}
	}
	if p.Stream {
		body["stream"] = true
	}
	data, _ := json.Marshal(body)
	return data
}

// finish stops the stack, which flushes the audit log, and attaches each
// request's decision record to its result.
func (s *session) finish() error {
	s.stack.Stop()
	data, err := os.ReadFile(s.stack.AuditPath)
	if err != nil {
		return fmt.Errorf("reading audit log: %w", err)
	}
	records := map[string]audit.Record{}
	for line := range bytes.Lines(data) {
		var rec audit.Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return fmt.Errorf("decoding audit record: %w", err)
		}
		if rec.Kind == audit.KindDecision {
			records[rec.RequestID] = rec
		}
	}
	for i := range s.results {
		s.results[i].record = records[s.results[i].requestID]
	}
	return nil
}

// report verifies the audit log with the phigate binary and prints the
// outcome.
func (s *session) report(out io.Writer, keep bool) error {
	if !keep {
		defer os.RemoveAll(s.dir)
	}
	verify, err := exec.Command(s.phigate, "audit", "verify", "-public-key", s.stack.CheckpointPublicKey, s.stack.AuditPath).CombinedOutput()
	fmt.Fprintf(out, "\nphigate audit verify: %s", verify)
	if err != nil {
		return fmt.Errorf("audit log did not verify: %w", err)
	}
	if keep {
		fmt.Fprintf(out, "logs, audit log and checkpoint.pub kept in %s\n", s.dir)
		fmt.Fprintf(out, "   check again with: bin/phigate audit verify -public-key @%s/checkpoint.pub %s\n", s.dir, s.stack.AuditPath)
	} else {
		fmt.Fprintln(out, "   (the temporary directory is removed at exit; make demo DEMO_FLAGS=-keep keeps it)")
	}
	return nil
}

func phiTypes(types map[string]int) string {
	if len(types) == 0 {
		return "-"
	}
	var parts []string
	for t, n := range types {
		parts = append(parts, fmt.Sprintf("%s×%d", t, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// userText returns the last message text of a chat body, for display.
func userText(body []byte) string {
	var chat struct {
		Messages []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &chat); err != nil || len(chat.Messages) == 0 {
		return string(body)
	}
	var text string
	if err := json.Unmarshal(chat.Messages[len(chat.Messages)-1].Content, &text); err != nil {
		return string(chat.Messages[len(chat.Messages)-1].Content)
	}
	return text
}

// replyText returns the model text of a chat response in either vendor's
// format, streamed or not, for display.
func replyText(body []byte) string {
	var b strings.Builder
	add := func(data []byte) {
		var v struct {
			Choices []struct {
				Message struct{ Content string } `json:"message"`
				Delta   struct{ Content string } `json:"delta"`
			} `json:"choices"`
			Content []struct{ Text string } `json:"content"`
			Delta   struct{ Text string }   `json:"delta"`
		}
		if json.Unmarshal(data, &v) != nil {
			return
		}
		for _, c := range v.Choices {
			b.WriteString(c.Message.Content + c.Delta.Content)
		}
		for _, c := range v.Content {
			b.WriteString(c.Text)
		}
		b.WriteString(v.Delta.Text)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		for line := range bytes.Lines(body) {
			if data, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte("data: ")); ok {
				add(data)
			}
		}
		return b.String()
	}
	add(body)
	return b.String()
}
