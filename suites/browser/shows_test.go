package browser

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A wait that times out says what the page shows instead: an alert or
// flash message first, else the first line of visible text in its scope;
// masked and shortened.
func TestWaitSaysWhatPageShows(t *testing.T) {
	p := sharedPage(t)
	const token = "tok-Sh0wn-S3cret"
	long := strings.Repeat("word ", 40)
	tests := []struct {
		name string
		body string
		step Step
		want string
	}{
		{name: "alert",
			body: `<nav>Home Files</nav><div class="flash" role="alert">Invalid login or password<br>Try again</div><form><input></form>`,
			step: Step{Action: ActionWaitText, Value: "Welcome"},
			want: `wait_text "Welcome": not seen within 1s (page shows "Invalid login or password")`},
		{name: "error class",
			body: `<h1>Sign in</h1><p class="error">Account locked</p>`,
			step: Step{Action: ActionWaitVisible, Selector: "#dashboard"},
			want: `wait_visible "#dashboard": no element matches within 1s (page shows "Account locked")`},
		{name: "empty live region and hidden alert are skipped",
			body: `<div aria-live="polite"></div><div role="alert" hidden>Old error</div><h1>Sign in</h1><p>Welcome back?</p>`,
			step: Step{Action: ActionWaitText, Value: "Dashboard"},
			want: `wait_text "Dashboard": not seen within 1s (page shows "Sign in")`},
		{name: "in the selector's scope",
			body: `<h1>Files</h1><ul id="files"><li>report.csv</li><li>notes.txt</li></ul>`,
			step: Step{Action: ActionWaitText, Selector: "#files", Value: "hello.txt"},
			want: `wait_text "hello.txt" in "#files": not seen within 1s (page shows "report.csv")`},
		{name: "by role",
			body: `<h1>Files</h1><section aria-label="Uploads"><p>Upload failed: quota exceeded</p></section>`,
			step: Step{Action: ActionWaitText, Selector: `role=region[name="Uploads"]`, Value: "hello.txt"},
			want: `wait_text "hello.txt" in 'role=region[name="Uploads"]': not seen within 1s (page shows "Upload failed: quota exceeded")`},
		{name: "wait_js",
			body: `<h1>Processing…</h1>`,
			step: Step{Action: ActionWaitJS, Value: "window.ready"},
			want: `wait_js "window.ready": not true within 1s (page shows "Processing…")`},
		{name: "wait_value of a missing field",
			body: `<p role="alert">Upload rejected</p>`,
			step: Step{Action: ActionWaitValue, Selector: "#token", Value: "tok-"},
			want: `wait_value "tok-" in "#token": no element matches within 1s (page shows "Upload rejected")`},
		{name: "masked",
			body: `<div class="alert">Token ` + token + ` expired</div>`,
			step: Step{Action: ActionWaitText, Value: "Welcome"},
			want: `wait_text "Welcome": not seen within 1s (page shows "Token **** expired")`},
		{name: "shortened",
			body: `<p>` + long + `</p>`,
			step: Step{Action: ActionWaitText, Value: "Welcome"},
			want: `wait_text "Welcome": not seen within 1s (page shows "` + strings.TrimSpace(long[:77]) + `...")`},
		{name: "blank page",
			body: ``,
			step: Step{Action: ActionWaitText, Value: "Welcome"},
			want: `wait_text "Welcome": not seen within 1s (page shows no text)`},
	}
	mux := http.NewServeMux()
	for i, tt := range tests {
		mux.HandleFunc(fmt.Sprintf("/%d", i), func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "<!DOCTYPE html><title>t</title>"+tt.body)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.addSecret(token)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, p, Step{Action: ActionGoto, Value: fmt.Sprintf("%s/%d", srv.URL, i)})
			tt.step.Timeout = time.Second
			err := p.Run(context.Background(), tt.step)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Run error\n got %v\nwant %q", err, tt.want)
			}
		})
	}
}
