package checks

import "testing"

func TestWorst(t *testing.T) {
	tests := []struct {
		in   []State
		want State
	}{
		{nil, Unknown},
		{[]State{OK}, OK},
		{[]State{OK, Warning}, Warning},
		{[]State{Warning, Unknown}, Unknown},
		{[]State{Unknown, Critical}, Critical},
		{[]State{Critical, Unknown}, Critical}, // a broken app stays CRITICAL when a diagnostic could not run
		{[]State{OK, Critical, Warning}, Critical},
		{[]State{OK, OK, OK}, OK},
		{[]State{State(7)}, Unknown},
		{[]State{OK, State(-1)}, Unknown},
	}
	for _, tt := range tests {
		if got := Worst(tt.in...); got != tt.want {
			t.Errorf("Worst(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestStateNamesAndCodes(t *testing.T) {
	for _, tt := range []struct {
		s    State
		name string
		code int
	}{{OK, "OK", 0}, {Warning, "WARNING", 1}, {Critical, "CRITICAL", 2}, {Unknown, "UNKNOWN", 3}, {State(9), "State(9)", 3}, {State(-2), "State(-2)", 3}} {
		if tt.s.String() != tt.name || tt.s.ExitCode() != tt.code {
			t.Errorf("State %d: %q exit %d, want %q exit %d", int(tt.s), tt.s, tt.s.ExitCode(), tt.name, tt.code)
		}
	}
}

func TestParseState(t *testing.T) {
	good := map[string]State{"ok": OK, "OK": OK, "0": OK, "Warning": Warning, "warn": Warning, "1": Warning,
		"critical": Critical, "CRIT": Critical, "2": Critical, "unknown": Unknown, "3": Unknown, " ok ": OK}
	for in, want := range good {
		if got, err := ParseState(in); err != nil || got != want {
			t.Errorf("ParseState(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "4", "-1", "fine", "OKAY"} {
		if _, err := ParseState(bad); err == nil {
			t.Errorf("ParseState(%q) succeeded, want error", bad)
		}
	}
}
