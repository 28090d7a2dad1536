package browser

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestObservations(t *testing.T) {
	p := sharedPage(t)
	srv := newServer(t)
	ctx := context.Background()

	// Something from before the case is not reported.
	runSteps(t, p, Step{Action: ActionGoto, Value: srv.URL + "/500"})

	p.StartCase()
	runSteps(t, p,
		Step{Action: ActionGoto, Value: srv.URL + "/noisy"},
		Step{Action: ActionWaitText, Value: "fetched 500"},
		Step{Action: ActionWaitText, Value: "network error"},
		Step{Action: ActionGoto, Value: srv.URL + "/nope"}, // a 404 is no failure
		Step{Action: ActionGoto, Value: srv.URL + "/500"},
	)
	obs := p.EndCase(ctx)

	want := []struct {
		kind   Kind
		msg    string // a prefix of Message
		url    string // a suffix of URL
		status int
	}{
		{ConsoleError, "something broke 42", "/noisy", 0},
		{Exception, "Uncaught Error: boom", "/noisy", 0},
		{FailedRequest, "HTTP 500 Internal Server Error", "/api/fail", 500},
		{FailedRequest, "net::ERR_CONNECTION_REFUSED", "/nothing", 0},
		{FailedRequest, "HTTP 500 Internal Server Error", srv.URL + "/500", 500},
	}
	if len(obs.List) != len(want) {
		t.Fatalf("observed %d things, want %d:\n%s", len(obs.List), len(want), dump(obs))
	}
	for _, w := range want {
		found := false
		for _, o := range obs.List {
			if o.Kind == w.kind && strings.HasPrefix(o.Message, w.msg) && strings.HasSuffix(o.URL, w.url) && o.Status == w.status {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s %q at %q (status %d) in:\n%s", w.kind, w.msg, w.url, w.status, dump(obs))
		}
	}
	if n := obs.Count(FailedRequest); n != 3 {
		t.Errorf("Count(FailedRequest) = %d, want 3", n)
	}
	if s := obs.String(); !strings.HasPrefix(s, "1 console error, 1 uncaught exception, 3 failed requests: first something broke 42") {
		t.Errorf("String() = %q", s)
	}

	// The next case starts clean.
	p.StartCase()
	runSteps(t, p, Step{Action: ActionGoto, Value: srv.URL + "/"})
	if obs := p.EndCase(ctx); len(obs.List) != 0 {
		t.Errorf("a clean case observed:\n%s", dump(obs))
	}
}

func dump(obs Observations) string {
	var b strings.Builder
	for _, o := range obs.List {
		b.WriteString("  " + string(o.Kind) + ": " + o.String() + "\n")
	}
	return b.String()
}

// TestEndCaseOnErrorPage checks that EndCase does not wait for a page
// that cannot answer: the browser's own error page.
func TestEndCaseOnErrorPage(t *testing.T) {
	p := sharedPage(t)
	ctx := context.Background()
	p.StartCase()
	if err := p.Run(ctx, Step{Action: ActionGoto, Value: "http://" + closedAddr(t) + "/"}); err == nil {
		t.Fatal("goto to a closed port passed")
	}
	start := time.Now()
	obs := p.EndCase(ctx)
	if took := time.Since(start); took > syncTimeout/2 {
		t.Errorf("EndCase took %s", took)
	}
	if obs.Count(FailedRequest) != 1 {
		t.Errorf("observed:\n%s", dump(obs))
	}
}
