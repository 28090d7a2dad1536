package browser

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// TestTrace: at TraceEvents the page tells its navigations and failed
// requests; at TraceWire also every request, response and console
// message; never a secret it knows.
func TestTrace(t *testing.T) {
	p := sharedPage(t)
	srv := newServer(t)
	defer p.SetTrace(nil, 0)
	for _, level := range []int{TraceEvents, TraceWire} {
		var mu sync.Mutex
		var lines []string
		p.SetTrace(func(l int, line string) {
			mu.Lock()
			defer mu.Unlock()
			if l > level {
				t.Errorf("a level %d line at level %d: %s", l, level, line)
			}
			lines = append(lines, line)
		}, level)
		p.SetMask(func(s string) string { return strings.ReplaceAll(s, "chatter", "****") })
		p.StartCase()
		runSteps(t, p,
			Step{Action: ActionGoto, Value: srv.URL + "/noisy"},
			Step{Action: ActionWaitText, Value: "fetched 500"},
			Step{Action: ActionWaitText, Value: "network error"},
		)
		p.EndCase(context.Background()) // waits for the page's pending events
		p.SetMask(nil)
		mu.Lock()
		all := strings.Join(lines, "\n")
		mu.Unlock()
		want := []string{"page navigates: GET " + srv.URL + "/noisy", "page failed request: HTTP 500 Internal Server Error GET " + srv.URL + "/api/fail"}
		if level == TraceWire {
			want = append(want, "page console.log: just ****", "page > GET "+srv.URL+"/api/fail (fetch)", "page < 500 "+srv.URL+"/api/fail")
		}
		for _, w := range want {
			if !strings.Contains(all, w) {
				t.Errorf("level %d: trace lacks %q:\n%s", level, w, all)
			}
		}
		if strings.Contains(all, "chatter") {
			t.Errorf("level %d: a masked word in the trace:\n%s", level, all)
		}
		if level == TraceEvents && strings.Contains(all, "console.log") {
			t.Errorf("TraceEvents shows the console:\n%s", all)
		}
	}
}
