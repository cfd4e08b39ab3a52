// Command latency measures the latency phigate adds to LLM API requests.
//
// It starts the demo stack (OpenAI and Anthropic stand-ins, phigate, Envoy)
// and a second, baseline Envoy with the same settings but without the
// ext_proc filter, routing straight to the openai stand-in. It then sends
// the same requests to both, one at a time and alternating. It prints the
// latency percentiles of each and their difference for two cases: a clean
// chat request of -size bytes, and the time to the first byte of a
// streamed response. The run is bounded by -n requests per path and case.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/phigate/phigate/test/harness"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "latency:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	n := fs.Int("n", 2000, "requests per path and case, at most 20000")
	size := fs.Int("size", 4096, "request body size in bytes")
	phigateBin := fs.String("phigate", "bin/phigate", "phigate binary")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 10 || *n > 20000 {
		return fmt.Errorf("invalid -n %d: want 10 to 20000", *n)
	}

	root, err := harness.FindRepoRoot()
	if err != nil {
		return err
	}
	envoyBin, err := harness.FindEnvoy(root)
	if err != nil {
		return err
	}
	bin, err := filepath.Abs(*phigateBin)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "phigate-latency-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	opts := harness.Options{RepoRoot: root, Envoy: envoyBin, Phigate: bin, Dir: dir}
	st, err := harness.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer st.Stop()
	baseline, err := st.StartBaseline(ctx, opts)
	if err != nil {
		return err
	}
	// The stand-in keeps every request for tests; a long run would hold
	// them all in memory, so it is cleared between rounds.
	st.OpenAI.Reset()

	body := chatBody(*size, false)
	streamBody := chatBody(*size, true)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}

	fmt.Printf("latency: %d sequential requests per path and case, %d-byte bodies\n", *n, len(body))
	warm := min(*n/10, 200)
	for _, c := range []struct {
		name   string
		body   []byte
		stream bool
	}{
		{"chat request, full response", body, false},
		{"streamed chat, first byte", streamBody, true},
	} {
		if _, _, err := measure(client, []string{st.URL, baseline}, c.body, c.stream, warm); err != nil {
			return err
		}
		st.OpenAI.Reset()
		with, without, err := measure(client, []string{st.URL, baseline}, c.body, c.stream, *n)
		if err != nil {
			return err
		}
		st.OpenAI.Reset()
		report(c.name, with, without)
	}
	return reportDecisionTime(st.AdminURL)
}

// reportDecisionTime prints phigate's own mean time per decision (parse,
// scan, policy, audit write), from its metrics, to show how much of the
// added latency is spent inside phigate rather than in the round trips.
func reportDecisionTime(adminURL string) error {
	resp, err := http.Get(adminURL + "/metrics")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var sum, count float64
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "phigate_decision_duration_seconds_sum "); ok {
			fmt.Sscan(v, &sum)
		}
		if v, ok := strings.CutPrefix(line, "phigate_decision_duration_seconds_count "); ok {
			fmt.Sscan(v, &count)
		}
	}
	if count == 0 {
		return errors.New("phigate reported no decisions")
	}
	fmt.Printf("\nphigate's mean time per decision (parse, scan, policy, audit write): %.3f ms over %.0f decisions\n", 1000*sum/count, count)
	return nil
}

// chatBody returns a PHI-free chat request of about size bytes.
func chatBody(size int, stream bool) []byte {
	sentence := "Summarise current guidance on metformin dosing in adults with reduced kidney function. "
	text := strings.Repeat(sentence, max(1, size/len(sentence)))
	req := map[string]any{
		"model":    "gpt-4o-mini",
		"messages": []any{map[string]any{"role": "user", "content": text}},
	}
	if stream {
		req["stream"] = true
	}
	data, _ := json.Marshal(req)
	return data
}

// measure sends n requests to each URL, alternating, and returns the
// latencies of the first and second URL: to the end of the response, or
// to its first body byte when stream is set.
func measure(client *http.Client, urls []string, body []byte, stream bool, n int) ([]time.Duration, []time.Duration, error) {
	var results [2][]time.Duration
	for i := 0; i < n; i++ {
		for k, url := range urls {
			d, err := once(client, url, body, stream)
			if err != nil {
				return nil, nil, err
			}
			results[k] = append(results[k], d)
		}
	}
	return results[0], results[1], nil
}

func once(client *http.Client, url string, body []byte, stream bool) (time.Duration, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("authorization", "Bearer "+harness.KeyOpenAI)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("request to %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("request to %s: status %d: %.200s", url, resp.StatusCode, msg)
	}
	if stream {
		var one [1]byte
		if _, err := io.ReadFull(resp.Body, one[:]); err != nil {
			return 0, err
		}
		d := time.Since(start)
		_, _ = io.Copy(io.Discard, resp.Body)
		return d, nil
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	return sorted[int(q*float64(len(sorted)-1))]
}

func report(name string, with, without []time.Duration) {
	slices.Sort(with)
	slices.Sort(without)
	fmt.Printf("\n%s\n", name)
	fmt.Printf("  %-22s %10s %10s %10s\n", "", "p50", "p90", "p99")
	for _, row := range []struct {
		label string
		d     []time.Duration
	}{{"Envoy + phigate", with}, {"Envoy alone", without}} {
		fmt.Printf("  %-22s %10s %10s %10s\n", row.label, ms(percentile(row.d, 0.5)), ms(percentile(row.d, 0.9)), ms(percentile(row.d, 0.99)))
	}
	fmt.Printf("  %-22s %10s %10s %10s\n", "added by phigate",
		ms(percentile(with, 0.5)-percentile(without, 0.5)),
		ms(percentile(with, 0.9)-percentile(without, 0.9)),
		ms(percentile(with, 0.99)-percentile(without, 0.99)))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000) }
