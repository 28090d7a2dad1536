package browser

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/cdp"
	"github.com/go-rod/rod/lib/proto"
)

// contexts lists the browser contexts and targets of the browser b, from
// b's own connection.
func contexts(t *testing.T, b *Browser) (ctxs []proto.BrowserBrowserContextID, targets []proto.TargetTargetID) {
	t.Helper()
	cs, err := proto.TargetGetBrowserContexts{}.Call(b.rod)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := proto.TargetGetTargets{}.Call(b.rod)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range ts.TargetInfos {
		targets = append(targets, ti.TargetID)
	}
	slices.Sort(cs.BrowserContextIDs)
	slices.Sort(targets)
	return cs.BrowserContextIDs, targets
}

// TestDisposeOnDetach is what a suitecheck killed with SIGKILL relies on:
// Chromium disposes of a browser context created with disposeOnDetach, and
// of its tab, when the DevTools connection that created it closes, without
// a word from its owner. The control: a context created without it, on a
// connection closed just before, stays.
func TestDisposeOnDetach(t *testing.T) {
	host := launch(t, Options{})
	ctx := context.Background()
	ctxs0, targets0 := contexts(t, host)
	open := func(dispose bool) (*cdp.WebSocket, proto.BrowserBrowserContextID) {
		ws := &cdp.WebSocket{}
		if err := ws.Connect(ctx, host.ControlURL(), nil); err != nil {
			t.Fatal(err)
		}
		c := rod.New().Client(cdp.New().Start(ws))
		if err := c.Connect(); err != nil {
			t.Fatal(err)
		}
		res, err := proto.TargetCreateBrowserContext{DisposeOnDetach: dispose}.Call(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (proto.TargetCreateTarget{URL: "about:blank", BrowserContextID: res.BrowserContextID}).Call(c); err != nil {
			t.Fatal(err)
		}
		return ws, res.BrowserContextID
	}
	wsKept, kept := open(false)
	wsGone, gone := open(true)
	if ctxs, _ := contexts(t, host); !slices.Contains(ctxs, kept) || !slices.Contains(ctxs, gone) {
		t.Fatalf("the new contexts are not listed: %v", ctxs)
	}
	// As the kernel closes a killed process's sockets: no goodbye.
	_ = wsKept.Close()
	_ = wsGone.Close()
	waitFor(t, reapTimeout, "the disposeOnDetach context to go with its connection", func() bool {
		ctxs, _ := contexts(t, host)
		return !slices.Contains(ctxs, gone)
	})
	// The connection closed first has been seen closed too by now.
	ctxs, _ := contexts(t, host)
	if !slices.Contains(ctxs, kept) {
		t.Fatal("a context without disposeOnDetach went with its connection: the test cannot tell")
	}
	if err := (proto.TargetDisposeBrowserContext{BrowserContextID: kept}).Call(host.rod); err != nil {
		t.Fatal(err)
	}
	ctxs, targets := contexts(t, host)
	if !slices.Equal(ctxs, ctxs0) || !slices.Equal(targets, targets0) {
		t.Errorf("left in the browser: contexts %v targets %v, before %v %v", ctxs, targets, ctxs0, targets0)
	}
}

// isolatedChromium writes a wrapper that runs Chromium with a /tmp of its
// own (a private tmpfs in a mount namespace), as a shared browser under
// systemd with PrivateTmp= has: none of our temporary files are there.
func isolatedChromium(t *testing.T) string {
	t.Helper()
	bin, err := Find("")
	if err != nil {
		t.Fatal(err)
	}
	// Root may make a mount namespace; anyone else needs a user namespace
	// too, in which Chromium runs as root, without its sandbox.
	unshare, sandbox := "unshare -m", ""
	if os.Geteuid() != 0 {
		unshare, sandbox = "unshare -rm", "--no-sandbox"
	}
	script := `#!/bin/sh
exec ` + unshare + ` /bin/sh -c 'mount -t tmpfs tmpfs /tmp && mkdir -p "$TMPDIR" && exec "$0" ` + sandbox + ` "$@"' "` + bin + `" "$@"
`
	w := filepath.Join(t.TempDir(), "isolated-chromium")
	if err := os.WriteFile(w, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestRemoteUpload: a remote browser cannot read the files of our runs (it
// runs as another user, with a /tmp of its own, or elsewhere): the upload
// step sends the content over the DevTools connection instead, inline
// content and a file alike, and the page gets the file with its name and
// content.
func TestRemoteUpload(t *testing.T) {
	srv := newServer(t)
	host := launch(t, Options{Bin: isolatedChromium(t)})
	b := launch(t, Options{RemoteURL: host.ControlURL()})
	p, err := b.Page(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	upFile := filepath.Join(dir, "report.csv")
	if err := os.WriteFile(upFile, []byte("a,b\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(big, make([]byte, maxRemoteUpload+1), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	runSteps(t, p, Step{Action: ActionGoto, Value: srv.URL + "/widgets"})

	// A FIFO with no writer: opened as a plain file it would block the
	// step for good; it is not a regular file, and said so at once.
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background(), Step{Action: ActionUpload, Selector: "#file", File: fifo}) }()
	select {
	case err := <-done:
		if want := `upload "#file": cannot read ` + fifo; err == nil || err.Error() != want {
			t.Errorf("a FIFO: %v, want %q", err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the upload of a FIFO still blocks after 10s")
	}

	for _, tt := range []struct {
		name    string
		step    Step
		want    string // seen in the page
		wantErr string
	}{
		{"content", Step{Action: ActionUpload, Selector: "#file", Name: "hello.txt", Content: "hi there"}, "hello.txt: hi there", ""},
		{"file", Step{Action: ActionUpload, Selector: "#file", File: upFile}, "report.csv: a,b 1,2", ""},
		{"missing file", Step{Action: ActionUpload, Selector: "#file", File: filepath.Join(dir, "nope")}, "",
			`upload "#file": cannot read ` + filepath.Join(dir, "nope")},
		{"too large", Step{Action: ActionUpload, Selector: "#file", File: big}, "",
			`upload "#file": ` + big + ` is larger than the 16 MiB a remote browser (--browser-url) is sent`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Run(context.Background(), tt.step)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			runSteps(t, p, Step{Action: ActionWaitText, Selector: "#files", Value: tt.want, Timeout: 5 * time.Second})
		})
	}
	if got := eval(t, p, `() => file.files[0].type + " " + file.files[0].size`); got != "text/csv 8" {
		t.Errorf("the file's type and size: %q", got)
	}
}

// TestRemoteStaleURL: a ws:// URL names one run of a browser; once the
// browser has restarted (another id on the same port) the error says so and
// what to pass instead.
func TestRemoteStaleURL(t *testing.T) {
	host := launch(t, Options{})
	u, err := url.Parse(host.ControlURL())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = Launch(ctx, Options{RemoteURL: "ws://" + u.Host + "/devtools/browser/00000000-0000-0000-0000-000000000000"})
	want := "connect to browser at ws://" + u.Host + ": 404 Not Found: no browser of that id there (did it restart?): pass --browser-url http://" + u.Host + ", which each run looks up anew"
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}
