package browser

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	exe := filepath.Join(dir, "chrome")
	for path, mode := range map[string]os.FileMode{plain: 0o644, exe: 0o755} {
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		explicit, want, wantErr string
	}{
		{explicit: filepath.Join(dir, "nope"), wantErr: `browser "` + filepath.Join(dir, "nope") + `": no such file`},
		{explicit: dir, wantErr: `browser "` + dir + `": is a directory`},
		{explicit: plain, wantErr: `browser "` + plain + `": not executable`},
		{explicit: exe, want: exe},
	}
	for _, tt := range tests {
		got, err := Find(tt.explicit)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Find(%q) = %q, %v; want error %q", tt.explicit, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Find(%q) = %q, %v; want %q", tt.explicit, got, err, tt.want)
		}
	}

	// The Debian package is installed on the machines that run the tests;
	// without it this test fails, as it must.
	if got, err := Find(""); err != nil {
		t.Errorf("Find on PATH: %v", err)
	} else {
		t.Logf("found %s", got)
	}
	t.Setenv("PATH", "")
	if got, err := Find(""); err != nil || got != "/usr/bin/chromium" {
		t.Errorf("Find without PATH = %q, %v; want /usr/bin/chromium", got, err)
	}

	names, paths := searchNames, searchPaths
	t.Cleanup(func() { searchNames, searchPaths = names, paths })
	searchNames, searchPaths = []string{"no-such-browser"}, []string{filepath.Join(dir, "nope")}
	_, err := Find("")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Find with nothing installed: %v", err)
	}
	if want := "no Chromium found: install the Debian package chromium (or run make deps), or pass --browser PATH or --browser-url ws://…"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestLaunchBadBinary(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake-chromium")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'something is wrong' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Launch(context.Background(), Options{Bin: fake})
	if err == nil || err.Error() != "chromium exited before it was ready: something is wrong" {
		t.Errorf("Launch of a failing binary: %v", err)
	}
}

// TestCloseLeavesNothing launches a browser, ends the context of the run,
// closes: no process of its group, nor its temporary directory, is left.
// Chromium, and the headless shell the README offers for --browser.
func TestCloseLeavesNothing(t *testing.T) {
	for _, tt := range []struct{ name, bin string }{{"chromium", ""}, {"headless shell", "/usr/lib/chromium/chromium-headless-shell"}} {
		t.Run(tt.name, func(t *testing.T) { closeLeavesNothing(t, tt.bin) })
	}
}

func closeLeavesNothing(t *testing.T, bin string) {
	srv := newServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := Launch(ctx, Options{Bin: bin, Logf: t.Logf})
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	p, err := b.Page(ctx)
	if err != nil {
		t.Fatal(err)
	}
	runSteps(t, p, Step{Action: ActionGoto, Value: srv.URL + "/widgets"})
	pid, tmp := b.PID(), b.tmp
	if len(leftovers(pid, tmp)) < 3 {
		t.Fatalf("chromium runs as %v, expected several processes", leftovers(pid, tmp))
	}
	if _, err := os.Stat(filepath.Join(tmp, "profile")); err != nil {
		t.Errorf("no profile in the temporary directory: %v", err)
	}

	// Chromium holds neither our stdout nor our stderr.
	for _, fd := range []string{"1", "2"} {
		ours, _ := os.Readlink("/proc/self/fd/" + fd)
		theirs, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + fd)
		if err != nil {
			t.Fatal(err)
		}
		if theirs == ours {
			t.Errorf("chromium's fd %s is ours: %s", fd, theirs)
		}
	}

	// The run is stopped: a step in progress reports it, Close still works.
	cancel()
	err = p.Run(ctx, Step{Action: ActionWaitText, Value: "never"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("step after cancel: %v", err)
	}
	start := time.Now()
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Logf("Close took %s", time.Since(start))
	if left := leftovers(pid, tmp); len(left) != 0 {
		t.Errorf("processes left after Close: %v", left)
	}
	for _, pid := range groupProcs(t, pid) {
		if state, _, _ := procStat(pid); state != 'Z' {
			t.Errorf("process %d of the group is in state %c", pid, state)
		}
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary directory %s left: %v", tmp, err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := b.Page(context.Background()); err == nil {
		t.Error("Page after Close worked")
	}
}

// groupProcs lists all processes of group pgid, zombies included.
func groupProcs(t *testing.T, pgid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, pg, ok := procStat(pid); ok && pg == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestKilledRunLeavesNoBrowser SIGKILLs a process that launched a browser,
// as Nagios and Monit do on a timeout: Chromium must go with it.
func TestKilledRunLeavesNoBrowser(t *testing.T) {
	out := filepath.Join(t.TempDir(), "helper")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+out)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	var report []byte
	waitFor(t, 30*time.Second, "the helper's browser", func() bool {
		var err error
		report, err = os.ReadFile(out)
		return err == nil
	})
	var pid int
	var tmp string
	if _, err := fmtSscan(string(report), &pid, &tmp); err != nil {
		t.Fatalf("helper report %q: %v", report, err)
	}
	if len(leftovers(pid, tmp)) == 0 {
		t.Fatalf("the helper's browser (pid %d) is not running", pid)
	}
	t.Cleanup(func() { // should the test fail, leave nothing behind
		for _, pid := range leftovers(pid, tmp) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = os.RemoveAll(tmp)
	})

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitFor(t, 10*time.Second, "chromium to die with the helper", func() bool {
		return len(leftovers(pid, tmp)) == 0
	})

	// Its temporary directory is left behind; the next launch removes it
	// (another test's launch may have done so already: that is a sweep too).
	if _, err := os.Stat(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary directory of the killed run: %v", err)
	}
	sweepStale(t.Logf, "")
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the sweep left %s: %v", tmp, err)
	}
}

func fmtSscan(s string, pid *int, tmp *string) (int, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, errors.New("want two fields")
	}
	var err error
	*pid, err = strconv.Atoi(f[0])
	*tmp = f[1]
	return 2, err
}

// waitFor polls cond every 20 ms until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRemote connects to a browser started by someone else: closing the
// connection leaves that browser running.
func TestRemote(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	local := launch(t, Options{})

	remote := launch(t, Options{RemoteURL: local.ControlURL()})
	if remote.PID() != 0 {
		t.Errorf("remote browser has a pid: %d", remote.PID())
	}
	p, err := remote.Page(ctx)
	if err != nil {
		t.Fatal(err)
	}
	runSteps(t, p,
		Step{Action: ActionGoto, Value: srv.URL + "/widgets"},
		Step{Action: ActionUpload, Selector: "#file", Name: "hello.txt", Content: "remote"},
		Step{Action: ActionWaitText, Value: "hello.txt: remote"},
	)
	if err := remote.Close(); err != nil {
		t.Fatalf("Close of the remote browser: %v", err)
	}

	// The browser we connected to still works.
	if len(leftovers(local.PID(), local.tmp)) == 0 {
		t.Fatal("closing the remote connection killed the browser")
	}
	lp, err := local.Page(ctx)
	if err != nil {
		t.Fatal(err)
	}
	runSteps(t, lp, Step{Action: ActionGoto, Value: srv.URL + "/"}, Step{Action: ActionAssertTitle, Value: "Home"})

	// An http:// endpoint is looked up.
	u, _ := url.Parse(local.ControlURL())
	viaHTTP := launch(t, Options{RemoteURL: "http://" + u.Host})
	if viaHTTP.ControlURL() != local.ControlURL() {
		t.Errorf("http endpoint resolved to %s, want %s", viaHTTP.ControlURL(), local.ControlURL())
	}

	closed := closedAddr(t)
	if _, err := Launch(ctx, Options{RemoteURL: "ws://" + closed + "/devtools/browser/x"}); err == nil ||
		!strings.HasPrefix(err.Error(), "connect to browser at ws://"+closed+": ") {
		t.Errorf("Launch with nothing listening: %v", err)
	}
	if _, err := Launch(ctx, Options{RemoteURL: "ftp://x"}); err == nil || err.Error() != "browser url ftp://x: want a ws://, wss://, http:// or https:// URL" {
		t.Errorf("Launch with a bad URL: %v", err)
	}
}

func TestResolverRules(t *testing.T) {
	for _, tt := range []struct {
		in   map[string]string
		want string
	}{
		{nil, ""},
		{map[string]string{"app.example.com": "10.0.0.5"}, "MAP app.example.com 10.0.0.5"},
		{map[string]string{"b.example": "::1", "a.example": "node7.internal"}, "MAP a.example node7.internal,MAP b.example [::1]"},
	} {
		if got := resolverRules(tt.in); got != tt.want {
			t.Errorf("resolverRules(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if _, err := Launch(t.Context(), Options{RemoteURL: "http://127.0.0.1:9", ConnectTo: map[string]string{"a": "10.0.0.5"}}); !errors.Is(err, ErrConnectToRemote) {
		t.Errorf("ConnectTo with a remote browser: %v", err)
	}
}
