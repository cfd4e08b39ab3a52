package llmapi

import "testing"

func TestHasTokenInput(t *testing.T) {
	tests := []struct {
		name string
		body string
		want bool
	}{
		{"string", `{"model":"m","input":"hello"}`, false},
		{"strings", `{"model":"m","input":["a","b"]}`, false},
		{"tokens", `{"model":"m","input":[101,2023]}`, true},
		{"token arrays", `{"model":"m","input":[[101],[2023]]}`, true},
		{"mixed", `{"model":"m","input":["a",5]}`, true},
		{"empty list", `{"model":"m","input":[]}`, false},
		{"no input", `{"model":"m"}`, false},
		{"not json", `input=[1,2]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HasTokenInput([]byte(tt.body)); got != tt.want {
				t.Errorf("HasTokenInput(%s) = %v, want %v", tt.body, got, tt.want)
			}
		})
	}
}
