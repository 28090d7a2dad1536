package sampleapp

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzValidTenantName: the loop accepts exactly what the pattern it
// replaced accepts.
func FuzzValidTenantName(f *testing.F) {
	want := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	for _, s := range []string{"", "a", "sc-k2v9x0d3qa", "-a", ".a", "a.b_c-d", "a b", "ä", "a\n", strings.Repeat("a", 63), strings.Repeat("a", 64), "A9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := validTenantName(s); got != want.MatchString(s) {
			t.Errorf("validTenantName(%q) = %v, the pattern says %v", s, got, !got)
		}
	})
}
