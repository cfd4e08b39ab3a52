package phi

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestScanContextRules runs the cases of testdata/context_rules.txt.
func TestScanContextRules(t *testing.T) {
	runScanCases(t, readScanCases(t, "testdata/context_rules.txt"))
}

// TestScanNumberCues runs the cases of testdata/number_cues.txt.
func TestScanNumberCues(t *testing.T) {
	runScanCases(t, readScanCases(t, "testdata/number_cues.txt"))
}

// readScanCases reads a file of scan cases: one case a line, fields
// separated by tabs: name, input, then the expected findings as TYPE=text,
// or "-" for none. Lines starting with "#" are comments.
func readScanCases(t *testing.T, path string) []scanCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var cases []scanCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(strings.ReplaceAll(line, `\n`, "\n"), "\t")
		if len(fields) < 3 {
			t.Fatalf("case %q: want a name, an input and findings separated by tabs", line)
		}
		tc := scanCase{name: fields[0], input: fields[1]}
		for _, want := range fields[2:] {
			if want == "-" {
				continue
			}
			typ, text, ok := strings.Cut(want, "=")
			if !ok {
				t.Fatalf("case %q: finding %q is not TYPE=text", fields[0], want)
			}
			tc.want = append(tc.want, span{Type(typ), text})
		}
		cases = append(cases, tc)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s has no cases", path)
	}
	return cases
}
