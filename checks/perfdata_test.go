package checks

import (
	"math"
	"strings"
	"testing"
	"time"
)

func mustRange(t testing.TB, s string) *Range {
	t.Helper()
	r, err := ParseRange(s)
	if err != nil {
		t.Fatal(err)
	}
	return &r
}

func TestPerfdataString(t *testing.T) {
	tests := []struct {
		name string
		p    Perfdata
		want string
	}{
		{"bare", Perfdata{Label: "time", Value: 1.5, UOM: "s"}, "time=1.5s"},
		{"all fields", Perfdata{Label: "time", Value: 12.31, UOM: "s", Warn: mustRange(t, "10"), Crit: mustRange(t, "20"), Min: Float(0), Max: Float(60)}, "time=12.31s;10;20;0;60"},
		{"trailing empty dropped", Perfdata{Label: "failed", Value: 1, Crit: mustRange(t, "1")}, "failed=1;;1"},
		{"only min", Perfdata{Label: "t", Value: 0.42, UOM: "s", Min: Float(0)}, "t=0.42s;;;0"},
		{"only max", Perfdata{Label: "used", Value: 50, UOM: "%", Max: Float(100)}, "used=50%;;;;100"},
		{"space quoted", Perfdata{Label: "my label", Value: 1}, "'my label'=1"},
		{"quote doubled", Perfdata{Label: "it's", Value: 1}, "'it''s'=1"},
		{"equals cleaned", Perfdata{Label: "a=b", Value: 1}, "a_b=1"},
		{"newline cleaned", Perfdata{Label: "a\nb", Value: 1}, "'a b'=1"},
		{"pipe cleaned", Perfdata{Label: "a|b", Value: 1}, "'a b'=1"},
		{"empty label", Perfdata{Label: "", Value: 1}, "_=1"},
		{"no exponent big", Perfdata{Label: "bytes", Value: 1e21, UOM: "B"}, "bytes=1000000000000000000000B"},
		{"no exponent small", Perfdata{Label: "t", Value: 1e-7, UOM: "s"}, "t=0.0000001s"},
		{"negative zero", Perfdata{Label: "z", Value: math.Copysign(0, -1)}, "z=0"},
		{"NaN is U", Perfdata{Label: "t", Value: math.NaN(), UOM: "s", Min: Float(0)}, "t=U;;;0"},
		{"Inf is U", Perfdata{Label: "t", Value: math.Inf(1)}, "t=U"},
		{"inside and open ranges", Perfdata{Label: "x", Value: 5, Warn: mustRange(t, "@10:20"), Crit: mustRange(t, "~:30")}, "x=5;@10:20;~:30"},
		{"counter", Perfdata{Label: "requests", Value: 42, UOM: "c"}, "requests=42c"},
		{"slash and dot plain", Perfdata{Label: "disk./var", Value: 1, UOM: "MB"}, "disk./var=1MB"},
		{"unicode quoted", Perfdata{Label: "größe", Value: 1, UOM: "KB"}, "'größe'=1KB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("%+v.String() = %q, want %q", tt.p, got, tt.want)
			}
		})
	}
}

func TestDurationPerfdata(t *testing.T) {
	th, err := ParseThresholds("3s", "8s", true)
	if err != nil {
		t.Fatal(err)
	}
	got := Duration("upload", 5*time.Second+4321*time.Microsecond, th).String()
	if want := "upload=5.004s;3;8;0"; got != want {
		t.Errorf("Duration perfdata = %q, want %q", got, want)
	}
}

func TestPerfdataValidate(t *testing.T) {
	if err := (Perfdata{Label: "t", UOM: "s"}).Validate(); err != nil {
		t.Errorf("valid item: %v", err)
	}
	for _, p := range []Perfdata{
		{Label: "", UOM: "s"},
		{Label: "t", UOM: "sec"},
		{Label: "t", UOM: "GB"},
		{Label: "t", Max: Float(math.Inf(1))},
		{Label: "t", Min: Float(math.NaN())},
	} {
		if err := p.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want error", p)
		}
	}
}

func TestLabel(t *testing.T) {
	tests := map[string]string{
		"sign_in":                         "sign_in",
		"Sign In":                         "sign_in",
		"upload a file (txt)":             "upload_a_file_txt",
		"TestLogin/with_password=secret":  "testlogin_with_password_secret",
		"  spaces  ":                      "spaces",
		"":                                "_",
		"日本":                              "_",
		"api.v2-health":                   "api.v2-health",
		"it's a 'test'; with | bars = eq": "it_s_a_test_with_bars_eq",
	}
	for in, want := range tests {
		if got := Label(in); got != want {
			t.Errorf("Label(%q) = %q, want %q", in, got, want)
		}
	}
}

// parseLabel reads a rendered label back the way the guidelines define it,
// returning the label and the rest of the item.
func parseLabel(s string) (label, rest string, ok bool) {
	if !strings.HasPrefix(s, "'") {
		label, rest, ok = strings.Cut(s, "=")
		return label, rest, ok && !strings.ContainsAny(label, " '")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] == '\'' {
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			if i+1 < len(s) && s[i+1] == '=' {
				return b.String(), s[i+2:], true
			}
			return "", "", false
		}
		b.WriteByte(s[i])
	}
	return "", "", false
}

func FuzzQuoteLabel(f *testing.F) {
	for _, s := range []string{"time", "my label", "it's", "a=b", "'", "''", "=", "a\nb", "|", " x ", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		item := Perfdata{Label: s, Value: 1, UOM: "s"}.String()
		if strings.ContainsAny(item, "\n\r|") {
			t.Fatalf("item for %q has a line break or pipe: %q", s, item)
		}
		label, rest, ok := parseLabel(item)
		if !ok {
			t.Fatalf("item %q (label %q) does not parse back", item, s)
		}
		if rest != "1s" {
			t.Fatalf("item %q: value part %q, want 1s", item, rest)
		}
		if strings.Contains(label, "=") {
			t.Fatalf("label %q of %q holds '='", label, s)
		}
		if want := CleanLabel(s); want != "" && label != want {
			t.Fatalf("label %q parsed back as %q, want %q", s, label, want)
		}
		if l := Label(s); strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != "" || l == "" {
			t.Fatalf("Label(%q) = %q has characters outside [a-z0-9_.-]", s, l)
		}
	})
}
