package checks

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseRangeAlerts(t *testing.T) {
	// Each row: a range from the guidelines, the values that must alert and
	// those that must not, and its canonical rendering.
	tests := []struct {
		in      string
		alert   []float64
		noAlert []float64
		str     string
	}{
		{"10", []float64{-1, 10.001, 11}, []float64{0, 5, 10}, "10"},
		{"10:", []float64{-5, 9.99}, []float64{10, 11, 1e9}, "10:"},
		{"~:10", []float64{10.5, 100}, []float64{-1e9, 0, 10}, "~:10"},
		{"10:20", []float64{9, 21}, []float64{10, 15, 20}, "10:20"},
		{"@10:20", []float64{10, 15, 20}, []float64{9.9, 20.1}, "@10:20"},
		{"@10", []float64{0, 10}, []float64{-1, 11}, "@0:10"},
		{"0:", []float64{-0.001}, []float64{0, 5}, "0:"},
		{"-5:-1", []float64{0, -6}, []float64{-5, -1, -3}, "-5:-1"},
		{"~:", nil, []float64{-1e300, 0, 1e300}, "~:"},
		{"1.5:2.25", []float64{1.4, 2.3}, []float64{1.5, 2}, "1.5:2.25"},
		{" 10 ", []float64{11}, []float64{10}, "10"},
		{"+3", []float64{4}, []float64{3}, "3"},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.in)
		if err != nil {
			t.Errorf("ParseRange(%q) error: %v", tt.in, err)
			continue
		}
		for _, v := range tt.alert {
			if !r.Alert(v) {
				t.Errorf("ParseRange(%q).Alert(%v) = false, want true", tt.in, v)
			}
		}
		for _, v := range tt.noAlert {
			if r.Alert(v) {
				t.Errorf("ParseRange(%q).Alert(%v) = true, want false", tt.in, v)
			}
		}
		if !r.Alert(math.NaN()) {
			t.Errorf("ParseRange(%q).Alert(NaN) = false, want true", tt.in)
		}
		if got := r.String(); got != tt.str {
			t.Errorf("ParseRange(%q).String() = %q, want %q", tt.in, got, tt.str)
		}
	}
}

func TestParseRangeErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "it is empty"},
		{"   ", "it is empty"},
		{"@", "no end"},
		{"abc", `end "abc" is not a number`},
		{"20:10", "start is greater than end"},
		{":10", "no start before the colon"},
		{"1:2:3", "more than one colon"},
		{"1e3", `end "1e3" is not a number`},
		{"NaN", `end "NaN" is not a number`},
		{"Inf:", `start "Inf" is not a number`},
		{"0x10", `end "0x10" is not a number`},
		{"1..2", `end "1..2" is not a number`},
		{"~", `end "~" is not a number`},
		{"10s", `end "10s" is not a number`},
		{"@@1", `end "@1" is not a number`},
	}
	for _, tt := range tests {
		_, err := ParseRange(tt.in)
		if err == nil {
			t.Errorf("ParseRange(%q) succeeded, want error containing %q", tt.in, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "forms: 10, 10:, ~:10, 10:20, @10:20") {
			t.Errorf("ParseRange(%q) error = %q, want it to contain %q and the valid forms", tt.in, err, tt.want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseRange(%q) error spans lines: %q", tt.in, err)
		}
	}
}

func TestParseDurationRange(t *testing.T) {
	tests := []struct {
		in    string
		start float64
		end   float64
		str   string
	}{
		{"1.5s", 0, 1.5, "1.5"},
		{"500ms", 0, 0.5, "0.5"},
		{"3", 0, 3, "3"},
		{"2m", 0, 120, "120"},
		{"250us:", 0.00025, math.Inf(1), "0.00025:"},
		{"100ms:2s", 0.1, 2, "0.1:2"},
		{"@1s:2s", 1, 2, "@1:2"},
		{"~:1h", math.Inf(-1), 3600, "~:3600"},
	}
	for _, tt := range tests {
		r, err := ParseDurationRange(tt.in)
		if err != nil {
			t.Errorf("ParseDurationRange(%q) error: %v", tt.in, err)
			continue
		}
		if r.Start != tt.start || r.End != tt.end {
			t.Errorf("ParseDurationRange(%q) = %v..%v, want %v..%v", tt.in, r.Start, r.End, tt.start, tt.end)
		}
		if got := r.String(); got != tt.str {
			t.Errorf("ParseDurationRange(%q).String() = %q, want %q", tt.in, got, tt.str)
		}
	}
	for _, bad := range []string{"fast", "1.5x", "2s:1s", "1e3s", ""} {
		if _, err := ParseDurationRange(bad); err == nil {
			t.Errorf("ParseDurationRange(%q) succeeded, want error", bad)
		} else if bad != "" && bad != "2s:1s" && !strings.Contains(err.Error(), "a duration such as 1.5s") {
			t.Errorf("ParseDurationRange(%q) error = %q, want it to name the duration forms", bad, err)
		}
	}
}

func TestThresholdsEvaluate(t *testing.T) {
	th, err := ParseThresholds("3s", "8s", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		v    float64
		want State
	}{{0, OK}, {3, OK}, {3.001, Warning}, {8, Warning}, {8.5, Critical}, {-1, Critical}, {math.NaN(), Critical}} {
		if got := th.Evaluate(tt.v); got != tt.want {
			t.Errorf("Evaluate(%v) = %v, want %v", tt.v, got, tt.want)
		}
	}
	if got := (Thresholds{}).Evaluate(1e9); got != OK {
		t.Errorf("empty thresholds Evaluate = %v, want OK", got)
	}
	if _, err := ParseThresholds("x", "", false); err == nil || !strings.HasPrefix(err.Error(), "warning: ") {
		t.Errorf("ParseThresholds bad warning: err = %v, want prefix %q", err, "warning: ")
	}
	if _, err := ParseThresholds("", "x", false); err == nil || !strings.HasPrefix(err.Error(), "critical: ") {
		t.Errorf("ParseThresholds bad critical: err = %v, want prefix %q", err, "critical: ")
	}
}

func TestParseTimeout(t *testing.T) {
	tests := []struct {
		in    string
		d     time.Duration
		state State
	}{
		{"50", 50 * time.Second, Critical},
		{"10:UNKNOWN", 10 * time.Second, Unknown},
		{"10:warning", 10 * time.Second, Warning},
		{"1.5", 1500 * time.Millisecond, Critical},
		{"1.5s:ok", 1500 * time.Millisecond, OK},
		{"500ms:3", 500 * time.Millisecond, Unknown},
		{"2m:crit", 2 * time.Minute, Critical},
	}
	for _, tt := range tests {
		d, st, err := ParseTimeout(tt.in)
		if err != nil || d != tt.d || st != tt.state {
			t.Errorf("ParseTimeout(%q) = %v, %v, %v; want %v, %v, nil", tt.in, d, st, err, tt.d, tt.state)
		}
	}
	for _, bad := range []string{"", "0", "-5", "ten", "10:MAYBE", "10:4", "1e3", "NaN", "99999999999999999999"} {
		if _, _, err := ParseTimeout(bad); err == nil {
			t.Errorf("ParseTimeout(%q) succeeded, want error", bad)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseTimeout(%q) error spans lines", bad)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"10", "10:", "~:10", "10:20", "@10:20", "@~:", "-1.5:2", "", ":", "1:2:3", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(s, "\n") {
				t.Fatalf("multi-line error for %q: %v", s, err)
			}
			return
		}
		if r.Start > r.End || math.IsNaN(r.Start) || math.IsNaN(r.End) {
			t.Fatalf("ParseRange(%q) = %+v: start > end or NaN", s, r)
		}
		// The rendering must parse back to the same range.
		back, err := ParseRange(r.String())
		if err != nil {
			t.Fatalf("ParseRange(%q).String() = %q does not parse: %v", s, r.String(), err)
		}
		if back != r {
			t.Fatalf("round trip of %q: %+v -> %q -> %+v", s, r, r.String(), back)
		}
		if strings.ContainsAny(r.String(), "eE;| ") {
			t.Fatalf("rendering of %q has forbidden characters: %q", s, r.String())
		}
	})
}
