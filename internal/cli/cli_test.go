package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/internal/cli"
)

// result is what one in-process run of the command line produced.
type result struct {
	code   int
	stdout string
	stderr string
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// noteFindings are the PHI values of testdata/note.txt, in file order, with
// the types the default scanner reports for them.
var noteFindings = []struct{ typ, value string }{
	{"NAME", "Jane Roe"},
	{"SSN", "999-12-3456"},
	{"PHONE", "(555) 555-0123"},
	{"EMAIL", "jane.roe@example.com"},
}

func TestScanText(t *testing.T) {
	note := filepath.Join("testdata", "note.txt")
	res := run(t, "", "scan", note)

	if res.code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if len(lines) != len(noteFindings) {
		t.Fatalf("got %d finding lines, want %d:\n%s", len(lines), len(noteFindings), res.stdout)
	}
	for i, want := range noteFindings {
		fields := strings.Split(lines[i], "\t")
		if len(fields) != 4 {
			t.Errorf("line %d = %q, want 4 tab-separated fields", i+1, lines[i])
			continue
		}
		if !strings.HasPrefix(fields[0], note+":") {
			t.Errorf("line %d starts %q, want the file name and offsets", i+1, fields[0])
		}
		if fields[1] != want.typ {
			t.Errorf("line %d type = %q, want %q", i+1, fields[1], want.typ)
		}
		if strings.Contains(lines[i], want.value) {
			t.Errorf("line %d contains the matched value %q", i+1, want.value)
		}
	}
}

func TestScanJSON(t *testing.T) {
	note := filepath.Join("testdata", "note.txt")
	data, err := os.ReadFile(note)
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, "", "scan", "-format", "json", note)
	if res.code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
	}

	var findings []map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &findings); err != nil {
		t.Fatalf("output does not decode as a JSON list: %v\n%s", err, res.stdout)
	}
	if len(findings) != len(noteFindings) {
		t.Fatalf("got %d findings, want %d", len(findings), len(noteFindings))
	}
	wantKeys := []string{"file", "type", "start", "end", "confidence", "detector"}
	for i, f := range findings {
		for _, key := range wantKeys {
			if _, ok := f[key]; !ok {
				t.Errorf("finding %d has no %q field: %v", i, key, f)
			}
		}
		if len(f) != len(wantKeys) {
			t.Errorf("finding %d has fields %v, want exactly %v", i, f, wantKeys)
		}
		start, startOK := f["start"].(float64)
		end, endOK := f["end"].(float64)
		if !startOK || !endOK || start < 0 || end > float64(len(data)) || start >= end {
			t.Errorf("finding %d has span [%v, %v), want offsets inside the %d-byte file", i, f["start"], f["end"], len(data))
			continue
		}
		if f["type"] != noteFindings[i].typ {
			t.Errorf("finding %d type = %v, want %s", i, f["type"], noteFindings[i].typ)
		}
		if got := string(data[int(start):int(end)]); got != noteFindings[i].value {
			t.Errorf("finding %d span covers %q, want %q", i, got, noteFindings[i].value)
		}
	}
	for _, want := range noteFindings {
		if strings.Contains(res.stdout, want.value) {
			t.Errorf("JSON output contains the matched value %q", want.value)
		}
	}
}

func TestScanJSONNoFindings(t *testing.T) {
	res := run(t, "", "scan", "-format", "json", filepath.Join("testdata", "clean.txt"))
	if res.code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	if got := strings.TrimSpace(res.stdout); got != "[]" {
		t.Errorf("output = %q, want an empty JSON list", got)
	}
}

func TestScanRedactStdin(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "note.txt"))
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, string(data), "scan", "--redact", "-")
	if res.code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
	}

	want := string(data)
	for _, f := range noteFindings {
		want = strings.Replace(want, f.value, "[PHI:"+f.typ+"]", 1)
	}
	if res.stdout != want {
		t.Errorf("redacted output differs outside the PHI spans:\ngot\n%s\nwant\n%s", res.stdout, want)
	}
}

func TestScanRedactCleanUnchanged(t *testing.T) {
	input := "No identifiers here.\r\n\ttabs, trailing spaces   \n\xff invalid byte\n"
	res := run(t, input, "scan", "-redact", "-")
	if res.code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	if res.stdout != input {
		t.Errorf("redacted output = %q, want the input unchanged %q", res.stdout, input)
	}
}

func TestScanUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no files", args: []string{"scan"}, want: "no input"},
		{name: "bad format", args: []string{"scan", "-format", "xml", "-"}, want: `invalid -format "xml"`},
		{name: "unknown flag", args: []string{"scan", "-colour", "-"}, want: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, "", tt.args...)
			if res.code != 2 {
				t.Errorf("exit code = %d, want 2", res.code)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.want)
			}
		})
	}
}

func TestScanMissingFile(t *testing.T) {
	res := run(t, "", "scan", filepath.Join(t.TempDir(), "missing.txt"))
	if res.code != 1 {
		t.Errorf("exit code = %d, want 1", res.code)
	}
	if !strings.Contains(res.stderr, "reading input") {
		t.Errorf("stderr = %q, want it to say the input could not be read", res.stderr)
	}
}

// writeAuditLog writes a valid audit log of n records and returns its path
// and lines.
func writeAuditLog(t *testing.T, n int) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.OpenFile(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	for i := range n {
		rec := &audit.Record{Kind: audit.KindDecision, RequestID: fmt.Sprintf("req-%04d", i), Action: "allow", Reasons: []string{"no PHI found"}}
		if err := l.Append(context.Background(), rec); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func TestAuditVerifyIntact(t *testing.T) {
	path, _ := writeAuditLog(t, 4)
	res := run(t, "", "audit", "verify", path)

	if res.code != 0 {
		t.Fatalf("exit code = %d, want 0; stdout: %s stderr: %s", res.code, res.stdout, res.stderr)
	}
	if !strings.HasPrefix(res.stdout, "OK "+path+": 4 records, chain intact") {
		t.Errorf("stdout = %q, want an OK line with 4 records", res.stdout)
	}
}

func TestAuditVerifyDamaged(t *testing.T) {
	path, lines := writeAuditLog(t, 4)
	lines[2] = strings.Replace(lines[2], `"action":"allow"`, `"action":"deny"`, 1)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	res := run(t, "", "audit", "verify", path)
	if res.code != 1 {
		t.Fatalf("exit code = %d, want 1; stdout: %s stderr: %s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "FAIL "+path) {
		t.Errorf("stdout = %q, want a FAIL line naming the file", res.stdout)
	}
	if !strings.Contains(res.stdout, "2 records verified") {
		t.Errorf("stdout = %q, want it to count the 2 records before the damage", res.stdout)
	}
	if !strings.Contains(res.stdout, "line 3") {
		t.Errorf("stdout = %q, want it to name line 3", res.stdout)
	}
}

func TestAuditUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "no subcommand", args: []string{"audit"}, code: 2, want: "missing or unknown audit command"},
		{name: "unknown subcommand", args: []string{"audit", "repair", "x"}, code: 2, want: "missing or unknown audit command"},
		{name: "no file", args: []string{"audit", "verify"}, code: 2, want: "want exactly one audit log file, got 0"},
		{name: "two files", args: []string{"audit", "verify", "a", "b"}, code: 2, want: "got 2"},
		{name: "missing file", args: []string{"audit", "verify", "/nonexistent/audit.jsonl"}, code: 1, want: "opening audit log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, "", tt.args...)
			if res.code != tt.code {
				t.Errorf("exit code = %d, want %d", res.code, tt.code)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.want)
			}
		})
	}
}

// policyOutput is what `phigate policy eval` prints.
type policyOutput struct {
	Revision string `json:"policy_revision"`
	Decision struct {
		Action   string   `json:"action"`
		Provider string   `json:"provider"`
		Reasons  []string `json:"reasons"`
	} `json:"decision"`
}

func TestPolicyEval(t *testing.T) {
	inputPath := filepath.Join("testdata", "policy_input.json")
	input, err := os.ReadFile(inputPath)
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join("..", "..", "rego")

	tests := []struct {
		name  string
		args  []string
		stdin string
	}{
		{name: "input file", args: []string{"policy", "eval", "-policy", bundle, "-input", inputPath}},
		{name: "input stdin", args: []string{"policy", "eval", "-policy", bundle, "-input", "-"}, stdin: string(input)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, tt.stdin, tt.args...)
			if res.code != 0 {
				t.Fatalf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
			}

			var out policyOutput
			if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
				t.Fatalf("output does not decode: %v\n%s", err, res.stdout)
			}
			if out.Decision.Action != "allow" {
				t.Errorf("action = %q, want allow", out.Decision.Action)
			}
			if out.Decision.Provider != "openai-baa" {
				t.Errorf("provider = %q, want openai-baa, the BAA-covered alternative", out.Decision.Provider)
			}
			if len(out.Decision.Reasons) == 0 {
				t.Error("reasons are empty, want the policy's explanation")
			}
			if !strings.HasPrefix(out.Revision, "sha256:") {
				t.Errorf("policy_revision = %q, want a sha256: digest", out.Revision)
			}
		})
	}
}

func TestPolicyEvalErrors(t *testing.T) {
	bundle := filepath.Join("..", "..", "rego")
	badInput := filepath.Join(t.TempDir(), "input.json")
	if err := os.WriteFile(badInput, []byte(`{"request": {"api": "x"}, "patient": "Jane Roe"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "no subcommand", args: []string{"policy"}, code: 2, want: "missing or unknown policy command"},
		{name: "no input", args: []string{"policy", "eval", "-policy", bundle}, code: 2, want: "missing -input FILE"},
		{name: "unknown input field", args: []string{"policy", "eval", "-policy", bundle, "-input", badInput}, code: 1, want: `unknown field "patient"`},
		{name: "missing bundle", args: []string{"policy", "eval", "-policy", filepath.Join(t.TempDir(), "none"), "-input", badInput}, code: 1, want: "phigate policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, "", tt.args...)
			if res.code != tt.code {
				t.Errorf("exit code = %d, want %d; stderr: %s", res.code, tt.code, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.want)
			}
		})
	}
}

func TestMainCommands(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{name: "no arguments", args: nil, code: 2, wantStderr: "Usage:"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, wantStderr: `unknown command "frobnicate"`},
		{name: "version", args: []string{"version"}, code: 0, wantStdout: "phigate "},
		{name: "help", args: []string{"help"}, code: 0, wantStdout: "Usage:"},
		{name: "scan help", args: []string{"scan", "-h"}, code: 0, wantStderr: "Usage: phigate scan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, "", tt.args...)
			if res.code != tt.code {
				t.Errorf("exit code = %d, want %d", res.code, tt.code)
			}
			if !strings.Contains(res.stdout, tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", res.stdout, tt.wantStdout)
			}
			if !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.wantStderr)
			}
		})
	}
}
