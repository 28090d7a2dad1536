package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// unitPath is the systemd unit of the shared browser, as users install it.
const unitPath = "contrib/systemd/suitecheck-chromium.service"

// unitPort is the DevTools port the unit gives Chromium; the tests use a
// free port instead.
const unitPort = "9222"

// unitFile is the unit's [Service] section: each key's values in order,
// continuation lines joined.
func unitFile(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := ""
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if line == "" && (l == "" || l[0] == '#' || l[0] == ';') {
			continue
		}
		if s, ok := strings.CutSuffix(l, `\`); ok {
			line += s + " "
			continue
		}
		line += l
		if strings.HasPrefix(line, "[") {
			section = line
		} else if k, v, ok := strings.Cut(line, "="); ok && section == "[Service]" {
			keys[strings.TrimSpace(k)] = append(keys[strings.TrimSpace(k)], strings.TrimSpace(v))
		}
		line = ""
	}
	return keys
}

// TestSharedBrowserUnitFile: the unit is one systemd accepts as it is, and
// it keeps what the README promises: loopback only, a user of its own, a
// fresh profile, restarts, Chromium's quiet flags, and none of the
// hardening options that break Chromium's sandbox or JIT.
func TestSharedBrowserUnitFile(t *testing.T) {
	keys := unitFile(t)
	one := func(k string) string {
		if len(keys[k]) != 1 {
			t.Errorf("%s: %q, want one", k, keys[k])
			return ""
		}
		return keys[k][0]
	}
	for k, want := range map[string]string{
		"DynamicUser":           "yes",
		"RuntimeDirectory":      "suitecheck-chromium",
		"Restart":               "always",
		"NoNewPrivileges":       "yes",
		"ProtectSystem":         "strict",
		"ProtectHome":           "yes",
		"PrivateTmp":            "yes",
		"PrivateDevices":        "yes",
		"RestrictSUIDSGID":      "yes",
		"LockPersonality":       "yes",
		"CapabilityBoundingSet": "",
	} {
		if got := one(k); got != want {
			t.Errorf("%s=%s, want %s", k, got, want)
		}
	}
	for k, why := range map[string]string{
		"RestrictNamespaces":     "Chromium's sandbox makes user, pid and network namespaces",
		"PrivateUsers":           "Chromium's sandbox makes a user namespace of its own",
		"SystemCallFilter":       "Chromium's sandbox needs calls outside @system-service (chroot, unshare)",
		"MemoryDenyWriteExecute": "V8's JIT writes code",
		"User":                   "DynamicUser= gives it a user of its own",
	} {
		if v, ok := keys[k]; ok {
			t.Errorf("%s=%v: %s", k, v, why)
		}
	}
	argv := strings.Fields(one("ExecStart"))
	if argv[0] != "/usr/lib/chromium/chromium-headless-shell" {
		t.Errorf("ExecStart runs %s, want /usr/lib/chromium/chromium-headless-shell (the binary, not /usr/bin's wrapper script)", argv[0])
	}
	for _, flag := range []string{"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=" + unitPort,
		"--user-data-dir=%t/suitecheck-chromium/profile", "--no-first-run", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--in-process-gpu", "--enable-features=NetworkServiceInProcess2",
		"--disable-features=SpareRendererForSitePerProcess"} {
		if !slices.Contains(argv, flag) {
			t.Errorf("ExecStart lacks %s: %v", flag, argv)
		}
	}
	if slices.Contains(argv, "--no-sandbox") {
		t.Error("ExecStart turns Chromium's sandbox off")
	}

	// systemd-analyze verify: silent for a unit it takes as written (it
	// warns, and still exits 0, for an unknown key or a bad value).
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		// Installable where make deps installs packages (apt-get): there,
		// a missing systemd-analyze fails; elsewhere (no systemd) it is
		// skipped.
		if _, aerr := exec.LookPath("apt-get"); aerr == nil && runtime.GOOS == "linux" {
			t.Fatal("no systemd-analyze to verify the unit with: install systemd (make deps does)")
		}
		t.Skip("no systemd-analyze here")
	}
	out, err := exec.Command(sa, "verify", unitPath).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unitPath, err, out)
	}
}

// These keep the names exec (a local above) and os/exec apart.
var (
	exec_LookPath = exec.LookPath
	execCommand   = exec.Command
)

// unitBrowser is the unit's Chromium, started as systemd starts it: its
// ExecStart and Environment with %t a runtime dir of its own, as nobody (a
// user of its own) when the tests run as root, on a port of the test's.
type unitBrowser struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
	mark string // in the environment of all its processes
	log  string
}

func (u *unitBrowser) url() string { return "http://127.0.0.1:" + strconv.Itoa(u.port) }

// startUnitBrowser starts the unit's Chromium on port (0: a free one) and
// waits until its DevTools endpoint answers.
func startUnitBrowser(t *testing.T, port int) *unitBrowser {
	t.Helper()
	if port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	keys := unitFile(t)
	// The runtime dir is not under t.TempDir(), which only we may enter.
	rt, err := os.MkdirTemp("", "sc-unit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(rt) })
	if err := os.Chmod(rt, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(rt, keys["RuntimeDirectory"][0])
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sub := func(s string) string { return strings.ReplaceAll(s, "%t", rt) }
	args := strings.Fields(sub(keys["ExecStart"][0]))
	if _, err := os.Stat(args[0]); err != nil {
		t.Fatalf("the unit's browser %s is missing: make deps installs it (apt-get install chromium-headless-shell)", args[0])
	}
	for i, a := range args {
		if a == "--remote-debugging-port="+unitPort {
			args[i] = "--remote-debugging-port=" + strconv.Itoa(port)
		}
	}
	u := &unitBrowser{t: t, port: port, mark: fmt.Sprintf("SUITECHECK_TEST_MARK=unit-%d-%d", os.Getpid(), port), log: filepath.Join(t.TempDir(), "chromium.log")}
	u.cmd = exec.Command(args[0], args[1:]...)
	u.cmd.Dir = "/"
	u.cmd.Env = []string{"PATH=/usr/bin:/bin", u.mark}
	for _, e := range keys["Environment"] {
		u.cmd.Env = append(u.cmd.Env, strings.Fields(sub(e))...)
	}
	u.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if os.Geteuid() == 0 {
		// As DynamicUser= would: a user that can read none of our files.
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		u.cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}
	}
	f, err := os.Create(u.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u.cmd.Stdout, u.cmd.Stderr = f, f
	if err := u.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = u.cmd.Wait(); close(exited) }()
	t.Cleanup(func() { u.kill(); <-exited })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := devtoolsWS(u.url()); err == nil {
			return u
		}
		select {
		case <-exited:
			t.Fatalf("the unit's chromium exited before it answered:\n%s", u.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unit's chromium did not answer within 30s:\n%s", u.output())
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
}

// kill kills every process of the browser at once, as a crash or the OOM
// killer (and systemd's stop, after its SIGTERM) does, and waits until
// they are gone.
func (u *unitBrowser) kill() {
	_ = syscall.Kill(-u.cmd.Process.Pid, syscall.SIGKILL)
	// The crash handler leaves the group: it is found by its environment.
	for _, pid := range markedProcesses(u.mark) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	waitNoMarked(u.t, u.mark)
}

func (u *unitBrowser) output() string {
	b, _ := os.ReadFile(u.log)
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, "dbus") && strings.TrimSpace(l) != "" {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// devtoolsWS looks the browser's WebSocket URL up, as --browser-url
// http://… does.
func devtoolsWS(base string) (string, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	res, err := c.Get(base + "/json/version")
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var v struct {
		URL string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&v); err != nil || v.URL == "" {
		return "", fmt.Errorf("no webSocketDebuggerUrl: %v", err)
	}
	return v.URL, nil
}

// observe connects to the browser as a bystander (a connection makes no
// browser context) and returns a function listing its browser contexts
// and targets, sorted.
func (u *unitBrowser) observe() func() (ctxs, targets []string) {
	t := u.t
	t.Helper()
	ws, err := devtoolsWS(u.url())
	if err != nil {
		t.Fatal(err)
	}
	b := rod.New().ControlURL(ws)
	if err := b.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return func() (ctxs, targets []string) {
		cs, err := proto.TargetGetBrowserContexts{}.Call(b)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := proto.TargetGetTargets{}.Call(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs.BrowserContextIDs {
			ctxs = append(ctxs, string(c))
		}
		for _, ti := range ts.TargetInfos {
			targets = append(targets, fmt.Sprintf("%s %s %s", ti.TargetID, ti.Type, ti.URL))
		}
		slices.Sort(ctxs)
		slices.Sort(targets)
		return ctxs, targets
	}
}

// listening returns the local addresses on which something listens on
// port, from /proc/net/tcp and tcp6.
func listening(t *testing.T, port int) []string {
	t.Helper()
	var addrs []string
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(l)
			if len(fs) < 4 || fs[3] != "0A" { // LISTEN
				continue
			}
			host, p, _ := strings.Cut(fs[1], ":")
			if n, _ := strconv.ParseInt(p, 16, 32); int(n) == port {
				addrs = append(addrs, host)
			}
		}
	}
	return addrs
}

// sharedApp is a web app with a sign-in, a dashboard with an upload form,
// a page that never loads and one that fails once per run: each is told
// apart by the login (the run's) in its query.
type sharedApp struct {
	*httptest.Server
	mu      sync.Mutex
	hanging map[string]bool // logins whose /hang request is open
	flaked  map[string]bool
	changed chan struct{} // closed and replaced when hanging changes
}

func newSharedApp(t *testing.T) *sharedApp {
	a := &sharedApp{hanging: map[string]bool{}, flaked: map[string]bool{}, changed: make(chan struct{})}
	done := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!DOCTYPE html><title>Sign in</title><form method="post" action="/login">
<input id="login" name="login"><input id="password" name="password" type="password"><button id="sign-in">Sign in</button></form>`)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("password") != "right-pw" {
			http.Error(w, "wrong password", http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "s", Value: r.FormValue("login"), Path: "/"})
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /dashboard", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("s")
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		fmt.Fprintf(w, `<!DOCTYPE html><title>Dashboard</title><p>Welcome, %s</p>
<form method="post" action="/upload" enctype="multipart/form-data"><input type="file" id="file" name="f"><button id="upload">Upload</button></form>`,
			strings.ReplaceAll(c.Value, "<", ""))
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		f, h, err := r.FormFile("f")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
		fmt.Fprintf(w, "<!DOCTYPE html><title>Stored</title><p>stored %s: %s</p>", strings.ReplaceAll(h.Filename, "<", ""), strings.ReplaceAll(string(b), "<", ""))
	})
	mux.HandleFunc("GET /hang", func(w http.ResponseWriter, r *http.Request) {
		who := r.URL.Query().Get("run")
		a.setHanging(who, true)
		defer a.setHanging(who, false)
		select {
		case <-r.Context().Done():
		case <-done:
		}
	})
	mux.HandleFunc("GET /flaky", func(w http.ResponseWriter, r *http.Request) {
		who := r.URL.Query().Get("run")
		a.mu.Lock()
		first := !a.flaked[who]
		a.flaked[who] = true
		a.mu.Unlock()
		if first {
			fmt.Fprint(w, "<!DOCTYPE html><title>Flaky</title><p>not yet</p>")
			return
		}
		fmt.Fprint(w, "<!DOCTYPE html><title>Flaky</title><p>ready</p>")
	})
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	t.Cleanup(func() { close(done) }) // runs first: lets /hang return
	return a
}

func (a *sharedApp) setHanging(who string, on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if on {
		a.hanging[who] = true
	} else {
		delete(a.hanging, who)
	}
	close(a.changed)
	a.changed = make(chan struct{})
}

// waitHanging waits until the /hang requests of all these logins are open.
func (a *sharedApp) waitHanging(t *testing.T, logins []string) {
	t.Helper()
	timeout := time.After(60 * time.Second) // a bound on failure
	for {
		a.mu.Lock()
		all := true
		for _, l := range logins {
			all = all && a.hanging[l]
		}
		ch := a.changed
		a.mu.Unlock()
		if all {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("the runs %v never all reached /hang", logins)
		}
	}
}

// sharedConfig is the config of the shared-browser tests: each run signs in
// as SC_LOGIN with SC_PASSWORD (a fixed tenant).
func sharedConfig(t *testing.T, baseURL string) string {
	const signIn = `      - name: sign in
        required: true
        steps:
          - goto: "{{.BaseURL}}/login"
          - fill: {selector: "#login", value: "{{.Tenant.login}}"}
          - fill: {selector: "#password", value: "{{.Tenant.password}}", secret: true}
          - click: "#sign-in"
          - wait_text: {value: "Welcome, {{.Tenant.login}}", timeout: 2s}
`
	y := "environments:\n  e: {base_url: " + baseURL + "}\n" + `tenant:
  fixed: {login: '{{env "SC_LOGIN"}}', password: '{{env "SC_PASSWORD"}}'}
suites:
  journey:
    cases:
      - name: signed out
        steps:
          - goto: "{{.BaseURL}}/dashboard"
          - assert_url: /login
` + signIn + `      - name: upload
        steps:
          - upload: {selector: "#file", content: "hello from {{.Tenant.login}}", name: hello.txt}
          - click: "#upload"
          - wait_text: {value: "stored hello.txt: hello from {{.Tenant.login}}", timeout: 5s}
  fresh:
    cases:
      - name: signed out
        steps:
          - goto: "{{.BaseURL}}/dashboard"
          - assert_url: /login
  broken:
    cases:
      - name: signed out
        steps:
          - goto: "{{.BaseURL}}/login"
          - assert_title: Dashboard
  hang:
    cases:
      - name: hang
        steps:
          - goto: {value: "{{.BaseURL}}/hang?run={{.Tenant.login}}", timeout: 60s}
  flaky:
    cases:
` + signIn + `      - name: flaky
        retries: 1
        retry_delay: 10ms
        steps:
          - goto: "{{.BaseURL}}/flaky?run={{.Tenant.login}}"
          - wait_text: {value: ready, timeout: 1s}
`
	cfg := filepath.Join(t.TempDir(), "suitecheck.yaml")
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// sharedRun is one suitecheck run on the shared browser.
type sharedRun struct {
	login, suite, password string
	cmd                    *exec.Cmd
	stdout, stderr         bytes.Buffer
}

// startShared starts `suitecheck run` of suite on the browser at url.
func startShared(t *testing.T, cfg, stateDir, url, suite, login, password string) *sharedRun {
	t.Helper()
	r := &sharedRun{login: login, suite: suite, password: password}
	r.cmd = exec.Command(binary, "run", suite, "--config", cfg, "--state-dir", stateDir, "--artifacts", filepath.Join(stateDir, "artifacts"),
		"--browser-url", url, "-t", "55")
	r.cmd.Env = append(os.Environ(), "SC_LOGIN="+login, "SC_PASSWORD="+password)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.cmd.Process.Kill() })
	return r
}

// wait waits for the run's end and returns its exit status and output.
func (r *sharedRun) wait(t *testing.T) (int, string) {
	t.Helper()
	err := r.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode(), r.stdout.String()
	case err != nil:
		return -1, r.stdout.String() // killed
	}
	return 0, r.stdout.String()
}

// TestSharedBrowser runs 50 checks on one shared browser, the unit's
// Chromium: passing ones 6 at a time, each of which must begin signed out
// (a browser context of its own: no cookie of the runs before or beside
// it) and uploads a file the browser cannot read from disk; failing ones;
// ones that pass on a retry (a fresh browser context); and ones stopped by
// SIGTERM or killed by SIGKILL while a page loads. Afterwards the browser's
// browser contexts and targets are what they were before the first run:
// no run leaves anything behind, not even a killed one (Chromium disposes
// of its context when its connection drops).
func TestSharedBrowser(t *testing.T) {
	app := newSharedApp(t)
	u := startUnitBrowser(t, 0)
	if addrs := listening(t, u.port); len(addrs) == 0 || slices.ContainsFunc(addrs, func(a string) bool {
		return a != "0100007F" && a != "00000000000000000000000001000000"
	}) {
		t.Errorf("DevTools listens on %v (hex, /proc/net/tcp*), want 127.0.0.1 or ::1 only", addrs)
	}
	list := u.observe()
	ctxs0, targets0 := list()
	cfg := sharedConfig(t, app.URL)
	state := t.TempDir()
	n := 0
	batch := func(suite, password string, size int) []*sharedRun {
		var runs []*sharedRun
		for range size {
			n++
			runs = append(runs, startShared(t, cfg, state, u.url(), suite, fmt.Sprintf("run-%d", n), password))
		}
		return runs
	}
	logins := func(runs []*sharedRun) []string {
		var l []string
		for _, r := range runs {
			l = append(l, r.login)
		}
		return l
	}
	check := func(runs []*sharedRun, code int, prefix string) {
		t.Helper()
		for _, r := range runs {
			got, out := r.wait(t)
			if got != code || !strings.HasPrefix(out, prefix) {
				t.Errorf("%s %s: exit %d, want %d and the prefix %q\n%s\nstderr:\n%s", r.suite, r.login, got, code, prefix, out, r.stderr.String())
			}
		}
	}

	for range 2 {
		check(batch("journey", "right-pw", 6), 0, "SUITECHECK OK - journey on e: 3 of 3 cases passed")
	}
	for range 3 {
		check(batch("fresh", "right-pw", 6), 0, "SUITECHECK OK - fresh on e: 1 of 1 cases passed")
	}
	check(batch("broken", "right-pw", 4), 2, `SUITECHECK CRITICAL - broken on e: 1 of 1 cases failed: signed out (step 2 assert_title: got "Sign in", want it to contain "Dashboard")`)
	runs := batch("flaky", "right-pw", 2)
	for _, r := range runs {
		if code, out := r.wait(t); code != 1 || !strings.Contains(out, "flaky: passed on attempt 2 of 2") {
			t.Errorf("flaky %s: exit %d, want 1, passed on its retry:\n%s", r.login, code, out)
		}
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		runs := batch("hang", "right-pw", 7)
		app.waitHanging(t, logins(runs))
		for _, r := range runs {
			_ = r.cmd.Process.Signal(sig)
		}
		for _, r := range runs {
			code, out := r.wait(t)
			switch {
			case sig == syscall.SIGKILL && code != -1:
				t.Errorf("%s: exit %d after SIGKILL", r.login, code)
			case sig == syscall.SIGTERM && (code < 1 || code > 3 || !strings.HasPrefix(out, "SUITECHECK ")):
				t.Errorf("%s: exit %d after SIGTERM, want a result:\n%s", r.login, code, out)
			}
		}
	}
	if n != 50 {
		t.Fatalf("%d runs, want 50", n)
	}

	// The contexts of killed runs go once Chromium has seen their
	// connections close: wait for it, within a bound.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctxs, targets := list()
		if slices.Equal(ctxs, ctxs0) && slices.Equal(targets, targets0) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("left in the shared browser after 50 runs:\ncontexts %v\ntargets %v\nbefore:\ncontexts %v\ntargets %v", ctxs, targets, ctxs0, targets0)
		}
		time.Sleep(50 * time.Millisecond) // polling a condition
	}
	// Nor a process: the renderers of the disposed contexts end. The GPU
	// and network code run in the browser process, not in two of their own.
	deadline = time.Now().Add(10 * time.Second)
	kinds := u.processKinds()
	for kinds["renderer"] > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("renderers left in the shared browser after 50 runs: %v", kinds)
		}
		time.Sleep(50 * time.Millisecond) // polling a condition
		kinds = u.processKinds()
	}
	if kinds["gpu-process"] > 0 || kinds["utility:network.mojom.NetworkService"] > 0 || kinds["browser"] != 1 {
		t.Errorf("the unit's chromium runs %v, want one browser process and no GPU or network process of their own", kinds)
	}
}

// processKinds counts the browser's process and its descendants (its
// children do not keep its environment, and so its mark) by their --type,
// utilities by their sub-type too: "utility:network.mojom.NetworkService".
func (u *unitBrowser) processKinds() map[string]int {
	kinds := map[string]int{}
	for _, pid := range descendants(u.cmd.Process.Pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		// Chromium rewrites its command line as one string: match words.
		kind := "browser"
		for _, a := range strings.Fields(strings.ReplaceAll(string(b), "\x00", " ")) {
			if v, ok := strings.CutPrefix(a, "--type="); ok {
				kind = v
			}
			if v, ok := strings.CutPrefix(a, "--utility-sub-type="); ok {
				kind += ":" + v
			}
		}
		kinds[kind]++
	}
	return kinds
}

// descendants returns pid and every live process below it.
func descendants(pid int) []int {
	children := map[int][]int{}
	for _, p := range livePIDs() {
		if _, pp, ok := procStatus(p); ok {
			children[pp] = append(children[pp], p)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// TestSharedBrowserRestart: the shared browser dies (killed, as by the OOM
// killer) under two runs: both are UNKNOWN "browser lost", naming it and
// their case. While it is down a run is UNKNOWN in one line; once systemd
// has restarted it on its port, the next run (same --browser-url) passes.
func TestSharedBrowserRestart(t *testing.T) {
	app := newSharedApp(t)
	u := startUnitBrowser(t, 0)
	cfg := sharedConfig(t, app.URL)
	state := t.TempDir()
	runs := []*sharedRun{
		startShared(t, cfg, state, u.url(), "hang", "run-a", "right-pw"),
		startShared(t, cfg, state, u.url(), "hang", "run-b", "right-pw"),
	}
	app.waitHanging(t, []string{"run-a", "run-b"})
	u.kill()
	want := fmt.Sprintf(`SUITECHECK UNKNOWN - hang on e: browser lost: the connection to the browser at http://127.0.0.1:%d closed during case "hang"`, u.port)
	for _, r := range runs {
		if code, out := r.wait(t); code != 3 || !strings.HasPrefix(out, want) {
			t.Errorf("%s: exit %d, want 3 and the prefix\n%s\ngot:\n%s", r.login, code, want, out)
		}
	}

	r := startShared(t, cfg, state, u.url(), "journey", "run-c", "right-pw")
	code, out := r.wait(t)
	wantDown := fmt.Sprintf(`SUITECHECK UNKNOWN - journey on e: step 1 goto (line 10): browser: browser url http://127.0.0.1:%d: GET /json/version: dial tcp 127.0.0.1:%[1]d: connect: connection refused |`, u.port)
	if code != 3 || !strings.HasPrefix(out, wantDown) {
		t.Errorf("a run while the browser is down: exit %d, want 3 and the prefix\n%s\ngot:\n%s", code, wantDown, out)
	}

	startUnitBrowser(t, u.port) // Restart=always
	r = startShared(t, cfg, state, u.url(), "journey", "run-d", "right-pw")
	if code, out := r.wait(t); code != 0 || !strings.HasPrefix(out, "SUITECHECK OK - journey on e: 3 of 3 cases passed") {
		t.Errorf("the run after the restart: exit %d\n%s\nstderr:\n%s", code, out, r.stderr.String())
	}
}
