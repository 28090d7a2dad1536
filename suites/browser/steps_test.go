package browser

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestSteps(t *testing.T) {
	p := sharedPage(t)
	srv := newServer(t)
	u := srv.URL
	// Steps meant to fail by their timeout; long enough that a loaded
	// machine still finds the page's elements (300 ms was not).
	short := time.Second
	dir := t.TempDir()
	closed := closedAddr(t)
	upFile := filepath.Join(dir, "report.csv")
	if err := os.WriteFile(upFile, []byte("a,b"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Each case starts on a fresh load of start (default /widgets), runs
	// step, and then checks: after the wanted error, if any.
	tests := []struct {
		name    string
		start   string
		step    Step
		wantErr string // exact message; "" for a step that passes
		check   []Step
		js      string // a function that must return 'true' at the end
	}{
		// goto
		{name: "goto", step: Step{Action: ActionGoto, Value: u + "/"}, check: []Step{
			{Action: ActionAssertTitle, Value: "Home"}}},
		{name: "goto redirect", step: Step{Action: ActionGoto, Value: u + "/redirect"}, check: []Step{
			{Action: ActionAssertURL, Value: `/^http://[^/]+/$/`}, {Action: ActionWaitText, Value: "Home page"}}},
		{name: "goto 404 passes", step: Step{Action: ActionGoto, Value: u + "/nope"}, check: []Step{
			{Action: ActionWaitText, Value: "nothing here"}}},
		{name: "goto 500 passes", step: Step{Action: ActionGoto, Value: u + "/500"}, check: []Step{
			{Action: ActionAssertTitle, Value: "Broken"}}},
		{name: "goto closed port", step: Step{Action: ActionGoto, Value: "http://" + closed + "/"},
			wantErr: `goto "http://` + closed + `/": net::ERR_CONNECTION_REFUSED`},
		{name: "goto never loads", step: Step{Action: ActionGoto, Value: u + "/slow", Timeout: short},
			wantErr: `goto "` + u + `/slow": not loaded within 1s`},

		// click
		{name: "click", step: Step{Action: ActionClick, Selector: "#send"}, check: []Step{
			{Action: ActionWaitText, Value: "sent!"}}},
		{name: "click no match", step: Step{Action: ActionClick, Selector: "#nope", Timeout: short},
			wantErr: `click "#nope": no element matches within 1s`},
		{name: "click hidden", step: Step{Action: ActionClick, Selector: "#hidden", Timeout: short},
			wantErr: `click "#hidden": not visible within 1s`},
		{name: "click disabled", step: Step{Action: ActionClick, Selector: "#disabled", Timeout: short},
			wantErr: `click "#disabled": still disabled after 1s`},
		{name: "click covered", step: Step{Action: ActionClick, Selector: "#covered", Timeout: short},
			wantErr: `click "#covered": covered by <div#overlay> after 1s`},
		{name: "click bad selector", step: Step{Action: ActionClick, Selector: "#a[", Timeout: short},
			wantErr: `click "#a[": invalid selector`},
		{name: "click appears later", step: Step{Action: ActionClick, Selector: "#later"}},
		{name: "click moving", step: Step{Action: ActionClick, Selector: "#moving", Timeout: short},
			wantErr: `click "#moving": still moving after 1s`},
		{name: "click once it stops", step: Step{Action: ActionClick, Selector: "#slidein"}, check: []Step{
			{Action: ActionWaitText, Value: "slid in"}}},
		// The page scrolls smoothly (Bootstrap's default): the click
		// scrolls at once all the same, one scroll event, not an
		// animation of many that the click would wait out.
		{name: "click below the fold", step: Step{Action: ActionClick, Selector: "#far", Timeout: short}, check: []Step{
			{Action: ActionWaitText, Value: "far clicked", Timeout: short}},
			js: `() => String(scrollY > 0 && out.textContent === 'far clicked after 1 scroll event(s)' || out.textContent)`},

		// fill
		{name: "fill replaces", step: Step{Action: ActionFill, Selector: "#fullname", Value: "Ada"}, check: []Step{
			{Action: ActionWaitText, Value: "Hello Ada"}}, js: `() => String(fullname.value === 'Ada')`},
		{name: "fill empty clears", step: Step{Action: ActionFill, Selector: "#fullname", Value: ""},
			js: `() => String(fullname.value === '')`},
		{name: "fill contenteditable", step: Step{Action: ActionFill, Selector: "#editor", Value: "new text"}, check: []Step{
			{Action: ActionWaitText, Selector: "#editor", Value: "new text"}}},
		{name: "fill read-only", step: Step{Action: ActionFill, Selector: "#ro", Value: "x", Timeout: short},
			wantErr: `fill "#ro": not an editable field (read-only, or not input, textarea or contenteditable)`},
		{name: "fill no match", step: Step{Action: ActionFill, Selector: "#nope", Value: "x", Timeout: short},
			wantErr: `fill "#nope": no element matches within 1s`},

		// select
		{name: "select by value", step: Step{Action: ActionSelect, Selector: "#color", Value: "g"}, check: []Step{
			{Action: ActionWaitText, Value: "color=g"}}},
		{name: "select by text", step: Step{Action: ActionSelect, Selector: "#color", Value: "Blue"}, check: []Step{
			{Action: ActionWaitText, Value: "color=b"}}},
		{name: "select no option", step: Step{Action: ActionSelect, Selector: "#color", Value: "Pink", Timeout: short},
			wantErr: `select "#color": no option "Pink" within 1s (options: "Red", "Green", "Blue")`},
		{name: "select not a select", step: Step{Action: ActionSelect, Selector: "#fullname", Value: "x", Timeout: short},
			wantErr: `select "#fullname": not a <select>`},

		// check
		{name: "check", step: Step{Action: ActionCheck, Selector: "#agree"}, check: []Step{
			{Action: ActionWaitText, Value: "agree=true changes=1"},
			{Action: ActionCheck, Selector: "#agree"},                    // idempotent: no second change
			{Action: ActionWaitText, Value: "agree=true changes=1"}}, js: `() => String(agree.checked)`},
		{name: "check not a checkbox", step: Step{Action: ActionCheck, Selector: "#fullname", Timeout: short},
			wantErr: `check "#fullname": not a checkbox or radio button`},

		// press
		{name: "press Enter", step: Step{Action: ActionPress, Selector: "#q", Value: "Enter"}, check: []Step{
			{Action: ActionWaitText, Value: "searched"}}},
		{name: "press in focused field", step: Step{Action: ActionFill, Selector: "#q", Value: "go"}, check: []Step{
			{Action: ActionPress, Value: "enter"}, {Action: ActionWaitText, Value: "searched go"}}},

		// upload
		{name: "upload content", step: Step{Action: ActionUpload, Selector: "#file", Name: "hello.txt", Content: "hi there"}, check: []Step{
			{Action: ActionWaitText, Value: "hello.txt: hi there"}}},
		{name: "upload file", step: Step{Action: ActionUpload, Selector: "#file", File: upFile}, check: []Step{
			{Action: ActionWaitText, Value: "report.csv: a,b"}}},
		{name: "upload missing file", step: Step{Action: ActionUpload, Selector: "#file", File: filepath.Join(dir, "nope")},
			wantErr: `upload "#file": cannot read ` + filepath.Join(dir, "nope")},
		{name: "upload a device", step: Step{Action: ActionUpload, Selector: "#file", File: "/dev/zero"},
			wantErr: `upload "#file": cannot read /dev/zero`},
		{name: "upload not a file input", step: Step{Action: ActionUpload, Selector: "#fullname", Content: "x", Timeout: short},
			wantErr: `upload "#fullname": not a file input`},

		// waits
		{name: "wait_text later", step: Step{Action: ActionWaitText, Value: "delayed text"}},
		{name: "wait_text in selector", step: Step{Action: ActionWaitText, Selector: "#stays", Value: "Stays"}},
		{name: "wait_text not seen", step: Step{Action: ActionWaitText, Value: "hello.txt", Timeout: short},
			wantErr: `wait_text "hello.txt": not seen within 1s (page shows "Send")`},
		{name: "wait_text elsewhere", step: Step{Action: ActionWaitText, Selector: "#out", Value: "Stays", Timeout: short},
			wantErr: `wait_text "Stays" in "#out": not seen within 1s (page shows no text)`},
		{name: "wait_visible later", step: Step{Action: ActionWaitVisible, Selector: "#later"}},
		{name: "wait_visible hidden", step: Step{Action: ActionWaitVisible, Selector: "#hidden", Timeout: short},
			wantErr: `wait_visible "#hidden": not visible within 1s (page shows "Send")`},
		{name: "wait_visible no match", step: Step{Action: ActionWaitVisible, Selector: "#nope", Timeout: short},
			wantErr: `wait_visible "#nope": no element matches within 1s (page shows "Send")`},
		{name: "wait_gone removed", step: Step{Action: ActionWaitGone, Selector: "#spinner"}},
		{name: "wait_gone hidden counts", step: Step{Action: ActionWaitGone, Selector: "#hidden"}},
		{name: "wait_value", step: Step{Action: ActionWaitValue, Selector: "#token", Value: "tok-"}},
		{name: "wait_value not seen", step: Step{Action: ActionWaitValue, Selector: "#token", Value: "never", Timeout: short},
			wantErr: `wait_value "never" in "#token": value "tok-123" after 1s`},
		{name: "wait_value no match", step: Step{Action: ActionWaitValue, Selector: "#nope", Value: "x", Timeout: short},
			wantErr: `wait_value "x" in "#nope": no element matches within 1s (page shows "Send")`},
		{name: "wait_attribute", step: Step{Action: ActionWaitAttr, Selector: "#job", Attribute: "data-state", Value: "done"}},
		{name: "wait_attribute missing", step: Step{Action: ActionWaitAttr, Selector: "#job", Attribute: "data-nope", Value: "x", Timeout: short},
			wantErr: `wait_attribute "#job" [data-nope]: no data-nope attribute within 1s`},
		{name: "assert_value", step: Step{Action: ActionAssertValue, Selector: "#ro", Value: "/^fix/"}},
		{name: "assert_value fails", step: Step{Action: ActionAssertValue, Selector: "#ro", Value: "other", Timeout: short},
			wantErr: `assert_value "#ro": got "fixed", want it to contain "other"`},
		{name: "assert_value no match", step: Step{Action: ActionAssertValue, Selector: "#nope", Value: "x", Timeout: short},
			wantErr: `assert_value "#nope": no element matches within 1s`},
		{name: "wait_value not a field", step: Step{Action: ActionWaitValue, Selector: "#out", Value: "x", Timeout: short},
			wantErr: `wait_value "x" in "#out": not a field (it has no value) within 1s`},
		{name: "assert_attribute", step: Step{Action: ActionAssertAttr, Selector: "#job", Attribute: "data-state", Value: "/^(running|done)$/"}},
		{name: "wait_js", step: Step{Action: ActionWaitJS, Value: "getComputedStyle(later).display === 'block'"}},
		{name: "wait_js false", step: Step{Action: ActionWaitJS, Value: "1 > 2", Timeout: short}, wantErr: `wait_js "1 > 2": not true within 1s (page shows "Send")`},
		{name: "wait_js throws", step: Step{Action: ActionWaitJS, Value: "nosuchvar.x", Timeout: short},
			wantErr: `wait_js "nosuchvar.x": the expression fails: ReferenceError: nosuchvar is not defined`},
		{name: "wait_gone stays", step: Step{Action: ActionWaitGone, Selector: "#stays", Timeout: short},
			wantErr: `wait_gone "#stays": still visible after 1s`},

		// assertions
		{name: "assert_url substring", step: Step{Action: ActionAssertURL, Value: "/widgets"}},
		{name: "assert_url regexp", step: Step{Action: ActionAssertURL, Value: `/^http://127\.0\.0\.1:\d+/widgets$/`}},
		{name: "assert_url fails", step: Step{Action: ActionAssertURL, Value: "/dashboard", Timeout: short},
			wantErr: `assert_url: got "` + u + `/widgets", want it to contain "/dashboard"`},
		{name: "assert_url regexp fails", step: Step{Action: ActionAssertURL, Value: "/^https:/", Timeout: short},
			wantErr: `assert_url: got "` + u + `/widgets", want match of /^https:/`},
		{name: "assert_url dot is literal", step: Step{Action: ActionAssertURL, Value: "127x0", Timeout: short},
			wantErr: `assert_url: got "` + u + `/widgets", want it to contain "127x0"`},
		{name: "assert_title", step: Step{Action: ActionAssertTitle, Value: "/^Widg/"}},
		{name: "assert_title substring", step: Step{Action: ActionAssertTitle, Value: "idget"}},
		{name: "assert_title fails", step: Step{Action: ActionAssertTitle, Value: "Dashboard", Timeout: short},
			wantErr: `assert_title: got "Widgets", want it to contain "Dashboard"`},

		// screenshot
		{name: "screenshot", step: Step{Action: ActionScreenshot, File: filepath.Join(dir, "shot.png")}},
		{name: "screenshot unwritable", step: Step{Action: ActionScreenshot, File: filepath.Join(dir, "no", "shot.png")},
			wantErr: `screenshot "` + filepath.Join(dir, "no", "shot.png") + `": open ` + filepath.Join(dir, "no", "shot.png") + `: no such file or directory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := tt.start
			if start == "" {
				start = "/widgets"
			}
			runSteps(t, p, Step{Action: ActionGoto, Value: u + start})
			began := time.Now()
			err := p.Run(context.Background(), tt.step)
			took := time.Since(began)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Run: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Run passed, want error %q", tt.wantErr)
			case tt.wantErr != "" && err.Error() != tt.wantErr:
				t.Fatalf("Run error\n got %q\nwant %q", err, tt.wantErr)
			}
			if tt.wantErr != "" {
				var se *StepError
				if !errors.As(err, &se) {
					t.Errorf("error is a %T, want *StepError", err)
				}
				if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
					t.Errorf("a failed step unwraps to a context error: the run would count as stopped")
				}
			}
			if limit := tt.step.Timeout + time.Second; tt.step.Timeout > 0 && took > limit {
				t.Errorf("step took %s with a timeout of %s", took, tt.step.Timeout)
			}
			runSteps(t, p, tt.check...)
			if tt.js != "" {
				if got := eval(t, p, tt.js); got != "true" {
					t.Errorf("%s = %s", tt.js, got)
				}
			}
		})
	}

	if b, err := os.ReadFile(filepath.Join(dir, "shot.png")); err != nil || !isPNG(b) {
		t.Errorf("screenshot step: not a PNG (err %v)", err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "shot.png")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("screenshot step: mode %v (err %v), want 0600: a page of production is private", fi.Mode(), err)
	}
}

// The screenshot step never writes through a link planted at its file's
// name: the link is replaced, its target untouched.
func TestScreenshotStepDoesNotFollowLinks(t *testing.T) {
	p := sharedPage(t)
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	os.WriteFile(target, []byte("keep me"), 0o644)
	shot := filepath.Join(dir, "shot.png")
	if err := os.Symlink(target, shot); err != nil {
		t.Fatal(err)
	}
	if err := p.Run(t.Context(), Step{Action: ActionScreenshot, File: shot}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Errorf("the link's target was overwritten")
	}
	if fi, err := os.Lstat(shot); err != nil || fi.Mode()&os.ModeSymlink != 0 {
		t.Errorf("shot.png is still a link (err %v)", err)
	}
}

// TestWaitsDoNotBackOff checks that a wait notices its condition promptly,
// not on a backed-off poll of up to a second.
func TestWaitsDoNotBackOff(t *testing.T) {
	p := sharedPage(t)
	srv := newServer(t)
	runSteps(t, p, Step{Action: ActionGoto, Value: srv.URL + "/"})
	// The text appears 1.6 s from now. A poll backing off from 100 ms to
	// 1 s looks at 0.1, 0.3, 0.7, 1.5 and 2.5 s, so it sees it only at 2.5 s;
	// a 50 ms poll sees it by about 1.65 s. The bound sits between the two,
	// far enough from each to hold on a loaded machine.
	eval(t, p, `() => { setTimeout(() => { document.body.append('ready now') }, 1600); return '' }`)
	start := time.Now()
	runSteps(t, p, Step{Action: ActionWaitText, Value: "ready now"})
	if took := time.Since(start); took > 2200*time.Millisecond {
		t.Errorf("wait_text took %s for a text shown after 1.6s: the wait backs off", took)
	}
}

func TestRunInterrupted(t *testing.T) {
	p := sharedPage(t)
	srv := newServer(t)
	runSteps(t, p, Step{Action: ActionGoto, Value: srv.URL + "/widgets"})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := p.Run(ctx, Step{Action: ActionWaitText, Value: "never"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run with the run's deadline passed: %v, want it to unwrap to context.DeadlineExceeded", err)
	}
	if want := `wait_text "never": interrupted: context deadline exceeded`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestSessionCarriesOver(t *testing.T) {
	p := sharedPage(t)
	srv := newServer(t)
	ctx := context.Background()
	if err := p.rp.Context(ctx).SetCookies(nil); err != nil {
		t.Fatal(err)
	}
	// Case 1: not signed in, then sign in.
	p.StartCase()
	runSteps(t, p,
		Step{Action: ActionGoto, Value: srv.URL + "/dashboard"},
		Step{Action: ActionAssertURL, Value: "/login"},
		Step{Action: ActionFill, Selector: "#user", Value: "alice"},
		Step{Action: ActionFill, Selector: "#password", Value: "pa55word!", Secret: true},
		Step{Action: ActionClick, Selector: "#submit"},
		Step{Action: ActionWaitText, Value: "Welcome alice"},
		Step{Action: ActionAssertURL, Value: "/dashboard"},
	)
	p.EndCase(ctx)
	// Case 2: elsewhere, then back: the cookie is still there.
	p.StartCase()
	runSteps(t, p,
		Step{Action: ActionGoto, Value: srv.URL + "/"},
		Step{Action: ActionGoto, Value: srv.URL + "/dashboard"},
		Step{Action: ActionAssertTitle, Value: "Dashboard"},
		Step{Action: ActionWaitText, Value: "Welcome alice"},
	)
	if obs := p.EndCase(ctx); len(obs.List) != 0 {
		t.Errorf("observations of a clean run: %v", obs.List)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		step Step
		want string
	}{
		{Step{}, "step without an action"},
		{Step{Action: "hover"}, `unknown browser step "hover"`},
		{Step{Action: ActionGoto}, "goto: value (the URL) is required"},
		{Step{Action: ActionClick}, "click: selector is required"},
		{Step{Action: ActionFill, Value: "s3cret"}, "fill: selector is required"},
		{Step{Action: ActionSelect, Selector: "#x"}, "select: value (the option) is required"},
		{Step{Action: ActionPress, Value: "Hyper"}, `press: unknown key "Hyper": use a letter, a digit or one of`},
		{Step{Action: ActionUpload, Selector: "#f"}, "upload: file or content is required"},
		{Step{Action: ActionUpload, Selector: "#f", File: "a", Content: "b"}, "upload: give either file, or content and name"},
		{Step{Action: ActionWaitText}, "wait_text: value (the text) is required"},
		{Step{Action: ActionAssertURL}, "assert_url: value (a substring, or /regexp/) is required"},
		{Step{Action: ActionAssertTitle, Value: "/(/"}, "assert_title: bad regexp /(/: error parsing regexp"},
		{Step{Action: ActionScreenshot}, "screenshot: file is required"},
		{Step{Action: ActionClick, Selector: "#x", Timeout: -1}, "click: negative timeout"},
		{Step{Action: ActionClick, Selector: "#x", Timeout: 5}, "click: timeout 5ns is too short: give a unit, e.g. 5s"},
		{Step{Action: ActionPress, Value: "Tab"}, ""},
		{Step{Action: ActionPress, Value: "x"}, ""},
		{Step{Action: ActionFill, Selector: "#x"}, ""},
	}
	for _, tt := range tests {
		err := tt.step.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.step, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%+v: error %v, want %q", tt.step, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("validation error shows the value: %v", err)
		}
	}
}

func TestStepYAML(t *testing.T) {
	var s Step
	src := "selector: '#password'\nvalue: hunter22\nsecret: true\ntimeout: 5s\n"
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	want := Step{Selector: "#password", Value: "hunter22", Secret: true, Timeout: 5 * time.Second}
	if s != want {
		t.Errorf("decoded %+v, want %+v", s, want)
	}
}

func TestFmtDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Second: "5s", 300 * time.Millisecond: "300ms", 1500 * time.Millisecond: "1.5s", 2 * time.Minute: "120s",
	} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%v) = %q, want %q", d, got, want)
		}
	}
}

func isPNG(b []byte) bool {
	return len(b) > 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n"
}
