package pgconn

import (
	"strings"
	"testing"
)

func TestParams(t *testing.T) {
	tests := []struct {
		q    string
		want int
		err  string
	}{
		{"SELECT 1", 0, ""},
		{"SELECT $1", 1, ""},
		{"SELECT $2, $1, $10", 10, ""},
		{"SELECT * FROM t WHERE a = $1 AND b = '$2'", 1, ""},
		{"SELECT 'it''s $3', $1", 1, ""},
		{`SELECT E'\' $3', $1`, 1, ""},
		{`SELECT e'\\', $2`, 2, ""},
		{`SELECT '\', $2`, 2, ""}, // a standard string: the backslash is a character
		{`SELECT "col$3", $1 FROM "we""ird $4"`, 1, ""},
		{"SELECT a$1 FROM t -- $5\nWHERE b = $2", 2, ""},
		{"SELECT /* $7 /* nested $8 */ still */ $1", 1, ""},
		{"SELECT $$ $9 $$, $1", 1, ""},
		{"SELECT $fn$ body $3 $fn$, $2", 2, ""},
		{"DO $x$ $y$ $5 $y$ $x$; SELECT $1", 1, ""},
		{"SELECT x$ FROM t", 0, ""},
		{"SELECT $", 0, ""},
		{"SELECT 'open", 0, "string"},
		{`SELECT "open`, 0, "quoted name"},
		{"SELECT /* open", 0, "comment"},
		{"SELECT $q$ open", 0, "dollar-quoted"},
		{"SELECT $99999", 0, "$65535"},
	}
	for _, tt := range tests {
		got, err := Params(tt.q)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Params(%q) = %d, %v; want an error about %s", tt.q, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Params(%q) = %d, %v; want %d", tt.q, got, err, tt.want)
		}
	}
}

func FuzzParams(f *testing.F) {
	for _, s := range []string{"SELECT $1", "SELECT '$2' /* $3 */ $$ $4 $$", `E'\'$1'`, "$a$ $1 $a$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		n, err := Params(q)
		if err == nil && (n < 0 || n > 65535) {
			t.Fatalf("Params(%q) = %d", q, n)
		}
	})
}
