package browser

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/proto"
)

// hangServer serves pages that never finish loading; reached receives a
// value each time the browser asks for one.
func hangServer(t *testing.T) (srv *httptest.Server, reached <-chan struct{}) {
	t.Helper()
	ch := make(chan struct{}, 16)
	done := make(chan struct{})
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			fmt.Fprint(w, `<!DOCTYPE html><title>Loaded</title><p>loaded</p>`)
			return
		}
		select {
		case ch <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	return srv, ch
}

// renderers lists the live renderer processes of the browser b.
func renderers(b *Browser) []int {
	var pids []int
	for _, pid := range leftovers(b.PID(), b.tmp) {
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err == nil && strings.Contains(string(cmdline), "--type=renderer") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestBrowserLost kills what a step needs while it waits for a page that
// never loads: the step ends at once with a *LostError saying what went,
// later steps fail the same way without waiting, and Close still leaves
// no process and no temporary directory.
func TestBrowserLost(t *testing.T) {
	tests := []struct {
		name   string
		remote bool                            // the run's browser is connected to one the test launched
		kill   func(t *testing.T, b *Browser)  // kills (part of) the launched browser
		want   func(b, killed *Browser) string // the LostError's message
		check  func(le *LostError) bool        // its fields
	}{
		{
			name: "process group killed",
			kill: func(t *testing.T, b *Browser) {
				if err := syscall.Kill(-b.PID(), syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			},
			want: func(b, _ *Browser) string { return fmt.Sprintf("Chromium (pid %d) was killed by signal 9", b.PID()) },
			check: func(le *LostError) bool {
				return le.Signal == syscall.SIGKILL && !le.Renderer && !le.Exited
			},
		},
		{
			name: "renderer killed",
			kill: func(t *testing.T, b *Browser) {
				pids := renderers(b)
				if len(pids) == 0 {
					t.Fatal("no renderer process found")
				}
				for _, pid := range pids {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			},
			want: func(b, _ *Browser) string {
				return fmt.Sprintf("the page's renderer in Chromium (pid %d) was killed by signal 9", b.PID())
			},
			check: func(le *LostError) bool { return le.Renderer && le.Signal == syscall.SIGKILL },
		},
		{
			name:   "remote connection dropped",
			remote: true,
			kill: func(t *testing.T, host *Browser) {
				if err := syscall.Kill(-host.PID(), syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			},
			want: func(_, host *Browser) string {
				u, _ := url.Parse(host.ControlURL())
				return "the connection to the browser at ws://" + u.Host + " closed"
			},
			check: func(le *LostError) bool { return le.PID == 0 && le.Remote != "" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, reached := hangServer(t)
			ctx := context.Background()
			b, err := Launch(ctx, Options{Logf: t.Logf})
			if err != nil {
				t.Fatal(err)
			}
			killed := b
			if tt.remote {
				host := b
				t.Cleanup(func() { host.Close() })
				if b, err = Launch(ctx, Options{Logf: t.Logf, RemoteURL: host.ControlURL()}); err != nil {
					t.Fatal(err)
				}
				killed = host
			}
			pid, tmp := killed.PID(), killed.tmp
			p, err := b.Page(ctx)
			if err != nil {
				t.Fatal(err)
			}
			runSteps(t, p, Step{Action: ActionGoto, Value: srv.URL + "/"})

			errc := make(chan error, 1)
			go func() { errc <- p.Run(ctx, Step{Action: ActionGoto, Value: srv.URL + "/hang", Timeout: time.Minute}) }()
			<-reached // the step waits for the page to load
			tt.kill(t, killed)
			err = <-errc

			want := tt.want(b, killed)
			var le *LostError
			var se *StepError
			switch {
			case !errors.As(err, &le):
				t.Fatalf("step error %v (%T), want a *LostError", err, err)
			case le.Error() != want || !tt.check(le):
				t.Errorf("LostError %q %+v, want %q", le, *le, want)
			case !errors.As(err, &se) || se.Reason != "browser lost: "+want:
				t.Errorf("step error %q, want the reason %q", err, "browser lost: "+want)
			}
			if got := b.Lost(); !errors.Is(got, le) {
				t.Errorf("Lost() = %v, want %v", got, le)
			}
			// A later step fails the same way at once (not after its
			// minute), and so does anything else on the page.
			err = p.Run(ctx, Step{Action: ActionWaitText, Value: "never", Timeout: time.Minute})
			if !errors.As(err, &le) || le.Error() != want {
				t.Errorf("next step: %v, want %q", err, want)
			}
			if err := p.Gone(); !errors.As(err, &le) {
				t.Errorf("Gone() = %v, want the *LostError", err)
			}
			if obs := p.EndCase(ctx); len(obs.List) != 0 {
				t.Errorf("EndCase after the loss: %v", obs)
			}

			if err := b.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if err := killed.Close(); err != nil {
				t.Errorf("Close of the killed browser: %v", err)
			}
			if left := leftovers(pid, tmp); len(left) != 0 {
				t.Errorf("processes left after Close: %v", left)
			}
			for _, dir := range []string{tmp, b.tmp} {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("temporary directory %s left: %v", dir, err)
				}
			}
		})
	}
}

// TestPageCrash: a renderer that crashes by itself (here Page.crash, a
// crash signal as a bug of the page would give) is the page's doing: the
// step fails, "the page crashed", and the browser is not lost.
func TestPageCrash(t *testing.T) {
	srv, _ := hangServer(t)
	ctx := context.Background()
	b := launch(t, Options{})
	p, err := b.Page(ctx)
	if err != nil {
		t.Fatal(err)
	}
	runSteps(t, p, Step{Action: ActionGoto, Value: srv.URL + "/"})
	crashCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = proto.PageCrash{}.Call(p.rp.Context(crashCtx)) }() // it never answers
	err = p.Run(ctx, Step{Action: ActionWaitText, Value: "never", Timeout: time.Minute})
	var se *StepError
	var le *LostError
	switch {
	case errors.As(err, &le):
		t.Errorf("a crashed page is the browser lost: %v", err)
	case !errors.As(err, &se) || !strings.HasPrefix(se.Reason, "the page crashed (its renderer died of signal "):
		t.Errorf("step error %v, want the page crashed with its signal", err)
	}
	if err := b.Lost(); err != nil {
		t.Errorf("Lost() = %v after a page crash", err)
	}
	if err := p.Gone(); err == nil || !strings.HasPrefix(err.Error(), "the page crashed") {
		t.Errorf("Gone() = %v, want the page crashed", err)
	}
}

// TestPageOfLostBrowser: a browser lost before its page is made (one
// launched ahead of the first step) gives its *LostError from Page.
func TestPageOfLostBrowser(t *testing.T) {
	b := launch(t, Options{})
	if err := syscall.Kill(-b.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the browser to be lost", func() bool { return b.Lost() != nil })
	_, err := b.Page(context.Background())
	var le *LostError
	if !errors.As(err, &le) || le.Signal != syscall.SIGKILL || le.PID != b.PID() {
		t.Errorf("Page of a killed browser: %v, want its *LostError", err)
	}
}

func TestLostErrorMessage(t *testing.T) {
	for _, tt := range []struct {
		e    LostError
		want string
	}{
		{LostError{PID: 7, Signal: syscall.SIGKILL}, "Chromium (pid 7) was killed by signal 9"},
		{LostError{PID: 7, Signal: syscall.SIGSEGV}, "Chromium (pid 7) was killed by signal 11"},
		{LostError{PID: 7, Exited: true}, "Chromium (pid 7) exited"},
		{LostError{PID: 7, Exited: true, Status: 21}, "Chromium (pid 7) exited with status 21"},
		{LostError{PID: 7, Err: errors.New("EOF")}, "the DevTools connection to Chromium (pid 7) closed"},
		{LostError{PID: 7, Renderer: true, Signal: syscall.SIGKILL}, "the page's renderer in Chromium (pid 7) was killed by signal 9"},
		{LostError{Remote: "ws://pool:3000"}, "the connection to the browser at ws://pool:3000 closed"},
		{LostError{Remote: "ws://pool:3000", Renderer: true, Signal: syscall.SIGKILL}, "the page's renderer in the browser at ws://pool:3000 was killed by signal 9"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.e, got, tt.want)
		}
	}
	if got := endpoint("wss://user:pw@pool.example:3000/devtools/browser/x?token=secret"); got != "wss://pool.example:3000" {
		t.Errorf("endpoint = %q, want no user, path or query", got)
	}
}
