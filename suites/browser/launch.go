package browser

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/cdp"
	"github.com/go-rod/rod/lib/proto"
	"github.com/go-rod/rod/lib/utils"

	"github.com/suitecheck/suitecheck/internal/proc"
)

const (
	// launchTimeout bounds starting and connecting to a browser when the
	// caller's context has no earlier deadline.
	launchTimeout = 30 * time.Second
	// closeGrace bounds the graceful Browser.close before the process group
	// is killed.
	closeGrace = time.Second
	// reapTimeout bounds waiting for killed processes to be gone.
	reapTimeout = 5 * time.Second
	// exitGrace bounds waiting, once the connection to a launched browser
	// failed, for its process to exit: how it ended says what happened.
	exitGrace = 2 * time.Second
	// tmpPrefix names our temporary directories, followed by the pid of the
	// process that made them, so a later run can remove those of killed runs.
	tmpPrefix = "scb-" // short: Chromium's socket paths live under it
)

// flags are the Chromium flags of every launch: a quiet headless browser that
// talks to nothing but the pages it is sent to.
var flags = []string{
	"--headless=new",
	"--disable-gpu",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--no-first-run",
	"--no-default-browser-check",
	"--disable-extensions",
	"--mute-audio",
	"--disable-dev-shm-usage",
	// The omnibox's popups are web pages (a renderer of ~50 MiB per
	// window, made ahead of time) that a headless browser never shows.
	"--disable-features=WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup,PreloadTopChromeWebUI",
	"--window-size=1280,800",
	"--remote-debugging-port=0",
}

// Options configure Launch.
type Options struct {
	// Bin is the Chromium binary to launch; empty means Find("").
	Bin string
	// RemoteURL is the DevTools endpoint of a browser that already runs
	// (ws://host:port/devtools/browser/…, or http://host:port to look it up).
	// Launch then connects to it instead of starting one, works in a browser
	// context of its own and leaves the browser running on Close.
	RemoteURL string
	// ConnectTo maps a host (lower case) to the address a launched browser
	// connects to instead of resolving it (Chromium's host resolver rules):
	// one node behind a load balancer; the host stays the page's name. A
	// remote browser resolves names for all its clients alike: with
	// RemoteURL, Launch refuses it.
	ConnectTo map[string]string
	// Logf receives progress lines meant for humans; nil discards them.
	Logf func(format string, args ...any)
}

// ErrConnectToRemote is Launch's error for ConnectTo with a remote browser.
var ErrConnectToRemote = errors.New("a browser that runs already (a remote one) resolves host names for all its clients alike: connecting a host to an address needs a browser of the run's own")

// Browser is a launched or connected Chromium. Close it when the run ends.
type Browser struct {
	logf       func(string, ...any)
	rod        *rod.Browser // bound to the connection's lifetime, not to a caller's context
	ws         *cdp.WebSocket
	stop       context.CancelFunc // ends the connection's context
	controlURL string
	remote     bool
	remoteAt   string   // a remote browser's endpoint for messages: scheme://host, no path or query
	proc       *process // nil for a remote browser
	tmp        string   // profile (local) and upload files

	mu     sync.Mutex
	page   *Page
	closed bool

	// gone ends when the browser can no longer answer: its connection
	// failed, or it was lost. The contexts of steps end with it.
	gone     context.Context
	goneStop context.CancelFunc
	down     chan struct{} // closed when the DevTools connection failed
	downOnce sync.Once
	judged   chan struct{} // closed once a failed connection has been judged
	lost     chan struct{} // closed once lostErr is set
	lostErr  *LostError
	lostOnce sync.Once

	closeOnce sync.Once
	closeErr  error
}

// LostError is the browser going away under a run: its process ended
// (killed, say by the OOM killer, or crashed), the DevTools connection to
// it closed, or the page's renderer process was killed by a signal. The
// app was not judged: this is not the app's failure. A renderer that
// crashes by itself (a crash signal, out of memory) is the page's doing:
// that fails the step instead, "the page crashed".
type LostError struct {
	PID      int            // the launched Chromium (its process group); 0 for a remote browser
	Remote   string         // a remote browser's endpoint, scheme://host
	Renderer bool           // only the page's renderer went, killed by Signal
	Signal   syscall.Signal // the signal that killed it; 0 when it exited or is not known
	Exited   bool           // the process exited, with Status
	Status   int
	Err      error // the connection's failure, when that is all there is to tell
}

func (e *LostError) Error() string {
	who := "the browser at " + e.Remote
	if e.PID != 0 {
		who = fmt.Sprintf("Chromium (pid %d)", e.PID)
	}
	switch {
	case e.Renderer:
		return fmt.Sprintf("the page's renderer in %s was killed by signal %d", who, int(e.Signal))
	case e.Signal != 0:
		return fmt.Sprintf("%s was killed by signal %d", who, int(e.Signal))
	case e.Exited && e.Status == 0:
		return who + " exited"
	case e.Exited:
		return fmt.Sprintf("%s exited with status %d", who, e.Status)
	case e.PID == 0:
		return "the connection to " + who + " closed"
	}
	return "the DevTools connection to " + who + " closed"
}

// Unwrap returns the connection's failure, if any.
func (e *LostError) Unwrap() error { return e.Err }

// Launch starts a local Chromium, or connects to o.RemoteURL, and returns it
// connected. ctx bounds the launch only: the browser lives until Close.
func Launch(ctx context.Context, o Options) (*Browser, error) {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if o.RemoteURL != "" && len(o.ConnectTo) > 0 {
		return nil, ErrConnectToRemote
	}
	ctx, cancel := context.WithTimeout(ctx, launchTimeout)
	defer cancel()

	tmp, err := os.MkdirTemp("", tmpPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("browser: %w", err)
	}
	sweepStale(logf, tmp)
	b := &Browser{logf: logf, tmp: tmp, remote: o.RemoteURL != "",
		down: make(chan struct{}), judged: make(chan struct{}), lost: make(chan struct{})}
	b.gone, b.goneStop = context.WithCancel(context.Background())
	if b.remote {
		err = b.connectRemote(ctx, o.RemoteURL)
	} else {
		err = b.launch(ctx, o.Bin, o.ConnectTo)
	}
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	return b, nil
}

func (b *Browser) launch(ctx context.Context, bin string, connectTo map[string]string) error {
	start := time.Now()
	if bin == "" {
		var err error
		if bin, err = Find(""); err != nil {
			return err
		}
	}
	args := append([]string{"--user-data-dir=" + filepath.Join(b.tmp, "profile")}, flags...)
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox")
	}
	if rules := resolverRules(connectTo); rules != "" {
		args = append(args, "--host-resolver-rules="+rules)
	}
	args = append(args, "about:blank")

	proc, wsURL, err := startChromium(ctx, bin, args, b.tmp)
	if err != nil {
		return err
	}
	b.proc = proc
	go func() {
		<-proc.exited
		b.markLost(proc.lostError())
	}()
	if err := b.connect(ctx, wsURL); err != nil {
		return fmt.Errorf("connect to chromium: %w", err)
	}
	b.logf("browser: launched %s (pid %d) in %s", bin, proc.pgid, time.Since(start).Round(time.Millisecond))
	return nil
}

func (b *Browser) connectRemote(ctx context.Context, raw string) error {
	b.remoteAt = endpoint(raw)
	name := b.remoteAt
	wsURL, err := resolveURL(ctx, raw)
	if err != nil {
		return fmt.Errorf("browser url %s: %w", name, err)
	}
	if err := b.connect(ctx, wsURL); err != nil {
		var bh *cdp.BadHandshakeError
		if errors.As(err, &bh) && strings.HasPrefix(bh.Status, "404") && strings.HasPrefix(name, "ws") {
			// A ws:// URL names one run of the browser: a browser
			// restarted on the same port has another id.
			return fmt.Errorf("connect to browser at %s: %s: no browser of that id there (did it restart?): pass --browser-url %s, which each run looks up anew",
				name, bh.Status, "http"+strings.TrimPrefix(name, "ws"))
		}
		return fmt.Errorf("connect to browser at %s: %w", name, err)
	}
	// A browser context of our own: no cookies shared with other users of the
	// browser, and disposed of when we disconnect even if Close is not reached.
	res, err := proto.TargetCreateBrowserContext{DisposeOnDetach: true}.Call(b.rod.Context(ctx))
	if err != nil {
		return fmt.Errorf("browser at %s: create browser context: %w", name, cdpError(err))
	}
	b.rod.BrowserContextID = res.BrowserContextID
	b.logf("browser: connected to %s", b.remoteAt)
	return nil
}

// connect opens the DevTools connection. The handshake is bound to ctx, the
// connection itself lives until Close.
func (b *Browser) connect(ctx context.Context, wsURL string) error {
	ws := &cdp.WebSocket{}
	if err := ws.Connect(ctx, wsURL, nil); err != nil {
		return err
	}
	b.ws = ws
	b.controlURL = wsURL

	connCtx, stop := context.WithCancel(context.Background())
	b.stop = stop
	b.rod = rod.New().
		ControlURL(""). // a control URL from the rod env variable conflicts with Client
		Client(cdp.New().Start(watchedConn{ws, b.connFailed})).
		Context(connCtx).
		Logger(utils.LoggerQuiet).
		Trace(false).
		SlowMotion(0).
		Monitor("").
		NoDefaultDevice()
	// Connect makes one call; let ctx interrupt it by ending the connection.
	undo := context.AfterFunc(ctx, stop)
	defer undo()
	if err := b.rod.Connect(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return cdpError(err)
	}
	// Target.targetCrashed says how a renderer ended (the page's
	// Inspector.targetCrashed does not).
	go b.rod.EachEvent(b.onTargetCrashed)()
	return nil
}

// watchedConn is the DevTools connection, telling when it fails. The
// client fails its pending calls only after Read has returned, so the
// failure is known before any call reports it.
type watchedConn struct {
	*cdp.WebSocket
	failed func(error)
}

func (c watchedConn) Read() ([]byte, error) {
	msg, err := c.WebSocket.Read()
	if err != nil {
		c.failed(err)
	}
	return msg, err
}

func (c watchedConn) Send(msg []byte) error {
	err := c.WebSocket.Send(msg)
	if err != nil {
		c.failed(err) // the socket is closed now
	}
	return err
}

// connFailed is called when the DevTools connection fails. For a launched
// browser, how its process ended tells more: judgeDown waits a little for
// it.
func (b *Browser) connFailed(err error) {
	b.downOnce.Do(func() {
		close(b.down)
		b.goneStop()
		go b.judgeDown(err)
	})
}

func (b *Browser) judgeDown(err error) {
	defer close(b.judged)
	if b.proc != nil {
		t := time.NewTimer(exitGrace)
		defer t.Stop()
		select {
		case <-b.proc.exited:
			b.markLost(b.proc.lostError())
			return
		case <-t.C:
		}
	}
	b.markLost(&LostError{PID: b.PID(), Remote: b.remoteAt, Err: err})
}

// markLost records that the browser was lost, unless Close has begun: the
// first reason given stands.
func (b *Browser) markLost(e *LostError) {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return
	}
	b.lostOnce.Do(func() {
		b.lostErr = e
		close(b.lost)
		b.goneStop()
		b.logf("browser: lost: %v", e)
	})
}

// onTargetCrashed hears how the page's renderer ended. Killed by a signal
// (kill -9, the OOM killer) is the browser lost; anything else (a crash
// signal, out of memory) the page crashed.
func (b *Browser) onTargetCrashed(e *proto.TargetTargetCrashed) {
	b.mu.Lock()
	p := b.page
	b.mu.Unlock()
	if p == nil || e.TargetID != p.rp.TargetID {
		return
	}
	if e.Status == "killed" {
		b.markLost(&LostError{PID: b.PID(), Remote: b.remoteAt, Renderer: true, Signal: syscall.Signal(e.ErrorCode)})
	}
	p.targetCrashed(e.Status, e.ErrorCode)
}

// Lost returns a *LostError once the browser has gone away under the run,
// else nil. It does not wait.
func (b *Browser) Lost() error {
	select {
	case <-b.lost:
		return b.lostErr
	default:
		return nil
	}
}

// verdict returns the LostError when the browser is lost. When only its
// connection has failed, it first waits (at most exitGrace, bounded by
// ctx) for the failure to be judged. It returns nil while the browser
// answers, and after Close.
func (b *Browser) verdict(ctx context.Context) *LostError {
	select {
	case <-b.lost:
		return b.lostErr
	case <-b.down:
	default:
		return nil
	}
	select {
	case <-b.judged:
	case <-b.lost:
	case <-ctx.Done():
	}
	select {
	case <-b.lost:
		return b.lostErr
	default:
		return nil
	}
}

// endpoint is a DevTools URL as messages show it: scheme and host, without
// a path or query that may hold a token.
func endpoint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host
}

// ControlURL is the DevTools WebSocket URL of the browser.
func (b *Browser) ControlURL() string { return b.controlURL }

// PID is the process id of a launched Chromium, which leads its own process
// group; 0 for a remote browser.
func (b *Browser) PID() int {
	if b.proc == nil {
		return 0
	}
	return b.proc.pgid
}

// Close ends the browser: a launched one is closed gracefully for at most
// about a second, then its whole process group is killed, reaped and its
// profile removed; a remote one only loses our browser context and
// connection. Close is idempotent and works after the contexts given to
// Launch or the steps have ended.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() { b.closeErr = b.close() })
	return b.closeErr
}

func (b *Browser) close() error {
	start := time.Now()
	b.mu.Lock()
	b.closed = true
	page := b.page
	b.mu.Unlock()
	if page != nil {
		page.stopEvents()
	}

	var errs []error
	down := false
	select {
	case <-b.down:
		down = true // nothing to say goodbye to
	default:
	}
	if b.rod != nil {
		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		if b.remote && !down {
			if id := b.rod.BrowserContextID; id != "" {
				if err := (proto.TargetDisposeBrowserContext{BrowserContextID: id}).Call(b.rod.Context(ctx)); err != nil {
					errs = append(errs, fmt.Errorf("browser: dispose of our browser context: %w", cdpError(err)))
				}
			}
		}
		if b.proc != nil && !b.proc.ownTmp && !down {
			// Chromium keeps its singleton dir in the shared TMPDIR (ours
			// was too long for its socket path): only a graceful shutdown
			// removes it. Otherwise the process group is killed below,
			// which saves ~150 ms: the profile is thrown away anyway.
			// Browser.close, not rod's Close: after Page.Fresh, that would
			// dispose of the page's browser context only.
			_ = proto.BrowserClose{}.Call(b.rod.Context(ctx))
			select {
			case <-b.proc.exited:
			case <-ctx.Done():
			}
		}
		cancel()
		b.stop()
		_ = b.ws.Close()
	}
	if b.proc != nil {
		if err := b.proc.kill(); err != nil {
			errs = append(errs, err)
		}
	}
	if b.tmp != "" {
		if err := os.RemoveAll(b.tmp); err != nil {
			errs = append(errs, fmt.Errorf("browser: remove temporary files: %w", err))
		}
	}
	b.goneStop()
	if b.proc != nil {
		b.logf("browser: closed in %s", time.Since(start).Round(time.Millisecond))
	}
	return errors.Join(errs...)
}

// resolveURL turns a DevTools HTTP endpoint into its WebSocket URL. Its
// errors do not quote the URL.
func resolveURL(ctx context.Context, raw string) (string, error) {
	u, err := url.Parse(raw)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		return "", ue.Err
	}
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "ws", "wss":
		return raw, nil
	case "http", "https":
	default:
		return "", errors.New("want a ws://, wss://, http:// or https:// URL")
	}
	u.Path, u.RawQuery = "/json/version", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	res, err := http.DefaultClient.Do(req)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		return "", fmt.Errorf("GET %s: %w", u.Path, ue.Err)
	}
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", u.Path, res.Status)
	}
	var v struct {
		URL string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&v); err != nil || v.URL == "" {
		return "", fmt.Errorf("GET %s: no webSocketDebuggerUrl in the reply", u.Path)
	}
	return v.URL, nil
}

// cdpError shortens a DevTools protocol error to its message.
func cdpError(err error) error {
	var ce *cdp.Error
	if errors.As(err, &ce) {
		if ce.Data != "" {
			return fmt.Errorf("%s (%s)", ce.Message, ce.Data)
		}
		return errors.New(ce.Message)
	}
	return err
}

// process is a launched Chromium, leader of its own process group. Its
// crash handler (crashpad) leaves the group for a session of its own: it is
// known by marker, a path on its command line.
type process struct {
	cmd     *exec.Cmd
	pgid    int
	marker  string
	exited  chan struct{} // closed once the leader has exited (not yet reaped)
	drained chan struct{} // closed once nobody holds the output pipe open
	out     tail          // its last lines of output, for error messages
	reaped  bool
	ownTmp  bool // Chromium's TMPDIR is inside the run's temporary directory

	// How the leader ended, set before exited is closed: a CLD_* code of
	// waitid, and the exit status or the signal.
	exitCode, exitStatus int32
}

// The si_code values of a child's end (linux/signal.h).
const (
	cldExited = 1
	cldKilled = 2
	cldDumped = 3
)

// lostError says how the leader ended, once exited is closed.
func (p *process) lostError() *LostError {
	e := &LostError{PID: p.pgid}
	switch p.exitCode {
	case cldExited:
		e.Exited, e.Status = true, int(p.exitStatus)
	case cldKilled, cldDumped:
		e.Signal = syscall.Signal(p.exitStatus)
	}
	return e
}

// maxChromiumTmpdir is the longest TMPDIR that leaves room for Chromium's
// "/org.chromium.Chromium.XXXXXX/SingletonSocket" in a unix socket path.
const maxChromiumTmpdir = 107 - len("/org.chromium.Chromium.XXXXXX/SingletonSocket") - 8

// startChromium starts bin and waits, bound to ctx, until it tells on its
// output where its DevTools endpoint listens. tmp is the run's temporary
// directory: the profile is in it, and so is the crash handler's database,
// so that every process of this browser names tmp on its command line.
func startChromium(ctx context.Context, bin string, args []string, tmp string) (*process, string, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, "", fmt.Errorf("start chromium: %w", err)
	}
	cmd := exec.Command(bin, args...)
	// The crash handler (crashpad) keeps its database in the user's config
	// directory, not in the profile; and Chromium makes org.chromium.* dirs
	// (its singleton socket) in TMPDIR, which a killed run would leave behind.
	// Both go into tmp, which Close and the next Launch remove.
	// The singleton socket's path must stay within the 107 bytes of a unix
	// socket address: with a long base TMPDIR, leave Chromium's own.
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(tmp, "config"))
	ownTmp := false
	if tmpdir := filepath.Join(tmp, "t"); len(tmpdir) <= maxChromiumTmpdir {
		if err := os.MkdirAll(tmpdir, 0o700); err != nil {
			return nil, "", fmt.Errorf("start chromium: %w", err)
		}
		cmd.Env = append(cmd.Env, "TMPDIR="+tmpdir)
		ownTmp = true
	}
	// Output goes to a pipe we drain, never to our stdout or stderr: a
	// monitoring client waits for every holder of the plugin's stdout.
	cmd.Stdout, cmd.Stderr = w, w
	p, err := startLocked(cmd)
	_ = w.Close()
	if p != nil {
		p.marker, p.ownTmp = tmp, ownTmp
	}
	if err != nil {
		_ = r.Close()
		return nil, "", fmt.Errorf("start chromium %s: %w", bin, err)
	}
	urlc := make(chan string, 1)
	go p.drain(r, urlc)

	select {
	case u := <-urlc:
		return p, u, nil
	case <-p.drained:
		select {
		case u := <-urlc:
			return p, u, nil
		default:
		}
		err = errors.New("chromium exited before it was ready")
	case <-p.exited:
		err = errors.New("chromium exited before it was ready")
	case <-ctx.Done():
		err = fmt.Errorf("chromium not ready: %w", ctx.Err())
	}
	kerr := p.kill()
	if last := p.out.last(); last != "" {
		err = fmt.Errorf("%w: %s", err, last)
	}
	return nil, "", errors.Join(err, kerr)
}

// startLocked starts Chromium with proc.StartLocked (its own process group,
// SIGKILL when we die, from a thread that outlives it), waiting for it with
// waitid without reaping it: a zombie leader keeps its group id from being
// reused until kill has been sent to the group.
func startLocked(cmd *exec.Cmd) (*process, error) {
	p := &process{cmd: cmd, exited: make(chan struct{}), drained: make(chan struct{})}
	err := proc.StartLocked(cmd, syscall.SIGKILL, func() {
		p.exitCode, p.exitStatus = waitExited(cmd.Process.Pid)
		close(p.exited)
	})
	if err != nil {
		return nil, err
	}
	p.pgid = cmd.Process.Pid
	return p, nil
}

// drain reads the browser's output until every process has closed it,
// handing the DevTools URL to urlc.
func (p *process) drain(r *os.File, urlc chan<- string) {
	defer close(p.drained)
	defer r.Close()
	br := bufio.NewReaderSize(r, 16<<10)
	sent := false
	for {
		line, err := br.ReadSlice('\n')
		if s := strings.TrimSpace(string(line)); s != "" {
			if u, ok := strings.CutPrefix(s, "DevTools listening on "); ok && !sent {
				urlc <- u
				sent = true
			}
			p.out.add(s)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// kill kills the browser's processes, reaps the leader and waits until none
// is left running. Zombies count as gone: they hold no resources, and the
// reaper of orphans is not ours.
func (p *process) kill() error {
	if err := syscall.Kill(-p.pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("browser: kill process group %d: %w", p.pgid, err)
	}
	deadline := time.NewTimer(reapTimeout)
	defer deadline.Stop()
	select {
	case <-p.exited:
	case <-deadline.C:
		return fmt.Errorf("browser: chromium (pid %d) still running %s after SIGKILL", p.pgid, reapTimeout)
	}
	if !p.reaped {
		p.reaped = true
		_ = p.cmd.Wait()
	}
	for {
		left := leftovers(p.pgid, p.marker)
		if len(left) == 0 {
			break
		}
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		select {
		case <-deadline.C:
			return fmt.Errorf("browser: chromium processes %v still running after SIGKILL", left)
		case <-time.After(10 * time.Millisecond):
		}
	}
	// The pipe closes once the last process is gone.
	select {
	case <-p.drained:
	case <-deadline.C:
	}
	return nil
}

// leftovers lists, from /proc, the live processes (zombies excepted) of
// process group pgid, and those with an option naming a path under marker
// on their command line (--user-data-dir=…, --database=…).
func leftovers(pgid int, marker string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		state, pg, ok := procStat(pid)
		if !ok || state == 'Z' || state == 'X' {
			continue
		}
		if pg == pgid {
			pids = append(pids, pid)
			continue
		}
		if marker != "" {
			if cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && strings.Contains(string(cmdline), "="+marker+"/") {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// procStat reads the state and the process group of pid.
func procStat(pid int) (state byte, pgid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 {
		return 0, 0, false
	}
	pg, err := strconv.Atoi(f[2])
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], pg, true
}

// sweepStale removes the temporary directories of runs that were killed
// before they could remove them: those whose pid has no process any more.
func sweepStale(logf func(string, ...any), ours string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tmpPrefix+"*"))
	for _, d := range dirs {
		rest := strings.TrimPrefix(filepath.Base(d), tmpPrefix)
		pid, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, '-'), 0)])
		if err != nil || pid <= 0 || d == ours {
			continue
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			continue // alive, or not ours to judge
		}
		if err := os.RemoveAll(d); err == nil {
			logf("browser: removed %s, left by a killed run", d)
		}
	}
}

// tail keeps the last lines of the browser's output.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (t *tail) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(s) > 300 {
		s = s[:300]
	}
	if len(t.lines) == 8 {
		t.lines = t.lines[1:]
	}
	t.lines = append(t.lines, s)
}

// last returns the last line that says something, skipping the D-Bus noise
// of a machine without a session bus.
func (t *tail) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.lines) - 1; i >= 0; i-- {
		if !strings.Contains(t.lines[i], "dbus") {
			return t.lines[i]
		}
	}
	return ""
}

// resolverRules are Chromium's --host-resolver-rules for ConnectTo, in a
// stable order: "MAP app.example.com 10.0.0.5,MAP api.example.com [::1]".
func resolverRules(connectTo map[string]string) string {
	var rules []string
	for _, host := range slices.Sorted(maps.Keys(connectTo)) {
		to := connectTo[host]
		if strings.Contains(to, ":") {
			to = "[" + to + "]"
		}
		rules = append(rules, "MAP "+host+" "+to)
	}
	return strings.Join(rules, ",")
}
