package checks

import (
	"fmt"
	"testing"
	"time"
)

func BenchmarkParseRange(b *testing.B) {
	for _, in := range []string{"10", "@10:20", "~:10"} {
		b.Run(in, func(b *testing.B) {
			for b.Loop() {
				if _, err := ParseRange(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRender renders a result with n cases: one perfdata item and one
// long output line each, capped as Nagios needs.
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{10, 1000} {
		r := Result{State: Critical, Summary: "login on production: 1 of n cases failed"}
		th, _ := ParseThresholds("3s", "8s", true)
		for i := range n {
			name := fmt.Sprintf("case %d", i)
			r.Perfdata = append(r.Perfdata, Duration(Label(name), time.Duration(i)*time.Millisecond, th))
			r.Long = append(r.Long, fmt.Sprintf("[OK] %s %.2fs", name, float64(i)/1000))
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = r.Render(DefaultMaxOutput)
			}
		})
	}
}
