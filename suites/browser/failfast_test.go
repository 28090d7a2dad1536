package browser

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A wait with FailFast ends as soon as a request of the page fails, naming
// it; without, it waits out its time.
func TestFailFast(t *testing.T) {
	p := sharedPage(t)
	srv := newServer(t)
	const long = 30 * time.Second
	tests := []struct {
		name     string
		page     string
		step     Step
		wantErr  string // the error, with URL for the server's URL
		failFast bool
	}{
		{name: "wait_text ends at a 500", page: "/xhr-fails", failFast: true,
			step:    Step{Action: ActionWaitText, Value: "hello.txt", Timeout: long},
			wantErr: `wait_text "hello.txt": the page's request failed: HTTP 500 Internal Server Error POST URL/api/fail`},
		{name: "wait_visible ends at a network error", page: "/fetch-refused", failFast: true,
			step:    Step{Action: ActionWaitVisible, Selector: "#never", Timeout: long},
			wantErr: `wait_visible "#never": the page's request failed: net::ERR_CONNECTION_REFUSED GET http://CLOSED/nothing`},
		{name: "wait_js ends", page: "/xhr-fails", failFast: true,
			step:    Step{Action: ActionWaitJS, Value: "window.done === true", Timeout: long},
			wantErr: `wait_js "window.done === true": the page's request failed: HTTP 500 Internal Server Error POST URL/api/fail`},
		{name: "wait_value ends", page: "/xhr-fails", failFast: true,
			step:    Step{Action: ActionWaitValue, Selector: "#token", Value: "tok-", Timeout: long},
			wantErr: `wait_value "tok-" in "#token": the page's request failed: HTTP 500 Internal Server Error POST URL/api/fail`},
		{name: "a wait that is met passes", page: "/xhr-fails", failFast: true,
			step: Step{Action: ActionWaitText, Value: "Upload", Timeout: long}},
		{name: "without fail-fast it waits its time", page: "/xhr-fails",
			step:    Step{Action: ActionWaitText, Selector: "#out", Value: "hello.txt", Timeout: time.Second},
			wantErr: `wait_text "hello.txt" in "#out": not seen within 1s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.StartCase()
			runSteps(t, p, Step{Action: ActionGoto, Value: srv.URL + tt.page})
			ctx, cancel := context.WithTimeout(context.Background(), long)
			defer cancel()
			tt.step.FailFast = tt.failFast
			err := p.Run(ctx, tt.step)
			if tt.failFast && ctx.Err() != nil {
				t.Fatalf("the step ran out its %s: %v", long, err)
			}
			// CLOSED stands for the closed port newServer chose.
			before, after, _ := strings.Cut(strings.ReplaceAll(tt.wantErr, "URL", srv.URL), "CLOSED")
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Run: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), before) || !strings.HasSuffix(err.Error(), after)):
				t.Fatalf("Run error\n got %v\nwant %q", err, tt.wantErr)
			}
		})
	}
	p.EndCase(context.Background())
}
