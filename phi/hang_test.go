package phi

import (
	"testing"
	"time"
)

// Inputs that once made a detector loop forever. Each scan must finish;
// the deadline turns a hang into a failure instead of a stuck test run.
func TestScanTerminates(t *testing.T) {
	inputs := []struct{ name, text string }{
		{"street word then unit with letter", "Avenue Apt 4B"},
		{"street type then number and letter", "Strickstrasse 61B"},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			done := make(chan struct{})
			go func() {
				DefaultScanner().Scan(in.text)
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("Scan(%q) did not return within 5 s", in.text)
			}
		})
	}
}
