package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestMainRejectsInvalidFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantText []string
	}{
		{name: "no servers", args: nil, wantText: []string{"no stand-in to run"}},
		{name: "all interfaces", args: []string{"-openai", "0.0.0.0:18081"}, wantText: []string{"-openai:", "loopback"}},
		{name: "host name", args: []string{"-anthropic", "localhost:18083"}, wantText: []string{"-anthropic:", "loopback"}},
		{name: "key without address", args: []string{"-openai", "127.0.0.1:0", "-openai-baa-key", "k"}, wantText: []string{"-openai-baa-key is set"}},
		{name: "stray argument", args: []string{"-openai", "127.0.0.1:0", "extra"}, wantText: []string{"unexpected arguments"}},
		{name: "all errors together", args: []string{"-openai", "10.0.0.1:1", "-anthropic", "0.0.0.0:2"}, wantText: []string{"-openai:", "-anthropic:"}},
		{name: "unknown flag", args: []string{"-gemini", "127.0.0.1:0"}, wantText: []string{"-gemini"}},
		{name: "models without address", args: []string{"-openai", "127.0.0.1:0", "-azure-models", "d"}, wantText: []string{"-azure-models is set"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr syncBuffer

			code := Main(context.Background(), tt.args, &stderr)

			if code != 2 {
				t.Errorf("exit code = %d, want 2", code)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr does not contain %q:\n%s", want, stderr.String())
				}
			}
		})
	}
}

func TestMainServesAndLogsWithoutBodies(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)

	go func() {
		done <- Main(ctx, []string{"-openai-baa", "127.0.0.1:0", "-openai-baa-key", "k1", "-anthropic", "127.0.0.1:0"}, &stderr)
	}()
	urls := waitForStart(t, &stderr, 2)

	const secret = "Synthetic Patient Name 000-00-0000"
	body := `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"` + secret + `"}]}`
	req, err := http.NewRequest(http.MethodPost, urls["openai-baa"]+"/v1/chat/completions?trace="+strings.ReplaceAll(secret, " ", "+"), strings.NewReader(body))
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer k1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("posting: %v", err)
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d, want 200; body %s", resp.StatusCode, reply)
	}
	if !strings.Contains(string(reply), "openai-baa stand-in reply: "+secret) {
		t.Errorf("reply %s lacks the expected text", reply)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code = %d, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Main did not return after the context ended")
	}

	logs := stderr.String()
	if strings.Contains(logs, "Synthetic") || strings.Contains(logs, "k1") {
		t.Errorf("logs contain the body, query or key:\n%s", logs)
	}
	line := findLog(t, logs, "request received")
	if line["server"] != "openai-baa" || line["method"] != "POST" || line["path"] != "/v1/chat/completions" {
		t.Errorf("request log = %v, want the openai-baa POST", line)
	}
	if got, _ := line["body_bytes"].(float64); int(got) != len(body) {
		t.Errorf("body_bytes = %v, want %d", line["body_bytes"], len(body))
	}
	if got, _ := line["status"].(float64); got != 200 {
		t.Errorf("status = %v, want 200", line["status"])
	}
	if id, _ := line["request_id"].(string); !strings.HasPrefix(id, "req_") {
		t.Errorf("request_id = %v, want a req_ id", line["request_id"])
	}
	if n := strings.Count(logs, `"msg":"stand-in stopped"`); n != 2 {
		t.Errorf("logged %d stops, want 2:\n%s", n, logs)
	}
}

// waitForStart waits until n servers have logged their start and returns
// their URLs by server name.
func waitForStart(t *testing.T, stderr *syncBuffer, n int) map[string]string {
	t.Helper()

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		urls := map[string]string{}
		scanner := bufio.NewScanner(strings.NewReader(stderr.String()))
		for scanner.Scan() {
			var line map[string]any
			if json.Unmarshal(scanner.Bytes(), &line) == nil && line["msg"] == "stand-in started" {
				urls[line["server"].(string)] = line["url"].(string)
			}
		}
		if len(urls) == n {
			return urls
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d servers started:\n%s", n, stderr.String())
	return nil
}

// findLog returns the first JSON log line with the given message.
func findLog(t *testing.T, logs, msg string) map[string]any {
	t.Helper()

	for _, raw := range strings.Split(logs, "\n") {
		var line map[string]any
		if json.Unmarshal([]byte(raw), &line) == nil && line["msg"] == msg {
			return line
		}
	}
	t.Fatalf("no log line %q in:\n%s", msg, logs)
	return nil
}

func TestMainServesAzureAndCompatible(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)

	go func() {
		done <- Main(ctx, []string{"-azure", "127.0.0.1:0", "-azure-models", "chat-prod", "-compatible", "127.0.0.1:0", "-compatible-models", "llama-3-8b, qwen-7b"}, &stderr)
	}()
	urls := waitForStart(t, &stderr, 2)

	resp, err := http.Get(urls["compatible"] + "/v1/models")
	if err != nil {
		t.Fatalf("listing models: %v", err)
	}
	models, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(models), `"id":"llama-3-8b"`) || !strings.Contains(string(models), `"id":"qwen-7b"`) {
		t.Errorf("models %s lack the configured names", models)
	}

	body := `{"messages":[{"role":"user","content":"hi"}]}`
	req, err := http.NewRequest(http.MethodPost, urls["azure"]+"/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21", strings.NewReader(body))
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	req.Header.Set("Api-Key", "any")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("posting: %v", err)
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(reply), "azure stand-in reply: hi") {
		t.Errorf("Azure reply: status %d, body %s", resp.StatusCode, reply)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code = %d, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Main did not return after the context ended")
	}
	line := findLog(t, stderr.String(), "request received")
	if line["endpoint"] != "models" && line["endpoint"] != "chat.completions" {
		t.Errorf("request log endpoint = %v, want models or chat.completions", line["endpoint"])
	}
}
