package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/secret"
	"github.com/suitecheck/suitecheck/internal/statedir"
)

const (
	// viewportWidth and viewportHeight are the page's size, for
	// screenshots that look the same on every machine.
	viewportWidth, viewportHeight = 1280, 800
	// syncTimeout bounds waiting for the page's pending events in EndCase.
	syncTimeout = time.Second
	// syncBinding is the page function EndCase calls to mark a point in the
	// stream of events.
	syncBinding = "__suitecheckSync"
	// maxObservations caps what one case keeps of a noisy page.
	maxObservations = 50
	// keptLoads is how many recent main-frame documents Page remembers as
	// loaded, for goto to check against.
	keptLoads = 16
	// crashGrace bounds waiting, after the page's Inspector.targetCrashed,
	// for the browser's Target.targetCrashed that says how it ended.
	crashGrace = time.Second
)

// Page is the browser tab of a run: one page, so that cookies and the
// session carry over from case to case. It is safe for use by one goroutine
// at a time; Secrets and the case observations may be read from any.
type Page struct {
	b          *Browser
	rp         *rod.Page // bound to the browser's lifetime
	rec        *recorder // the case's network and console, for SaveRecords
	stopEvents context.CancelFunc
	uploads    int

	mu       sync.Mutex
	secrets  []string            // typed by fill steps marked secret, longest first
	own      *secret.Masker      // masks secrets
	runMask  func(string) string // the run's masker, from SetMask; nil for none
	trace    func(level int, line string)
	traceLvl int
	obs      []Observation
	dropped  int
	requests map[proto.NetworkRequestID]inFlight // requests in flight
	failed   *Observation                        // the case's first failed request, for fail-fast waits
	loaded   []proto.NetworkLoaderID             // main-frame documents that fired load
	loadCh   chan struct{}                       // closed and replaced on each main-frame load
	syncs    map[string]chan struct{}
	syncN    int

	// gone ends when the page can no longer answer: it crashed, or the
	// browser is gone. Steps' contexts end with it.
	gone     context.Context
	goneStop context.CancelFunc

	crashKnown  chan struct{} // closed once crashReason is set
	crashReason string
	knownOnce   sync.Once
}

// Page returns the run's page, creating it on the first call; later calls
// return the same page. ctx bounds the creation only. A browser lost
// before or while the page is made gives its *LostError.
func (b *Browser) Page(ctx context.Context) (*Page, error) {
	if err := b.Lost(); err != nil {
		return nil, err
	}
	p, err := b.openPage(ctx)
	if err != nil {
		if le := b.verdict(ctx); le != nil {
			return nil, le
		}
	}
	return p, err
}

func (b *Browser) openPage(ctx context.Context) (*Page, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errors.New("browser: closed")
	}
	if b.page != nil {
		return b.page, nil
	}
	p, err := b.newPage(ctx)
	if err != nil {
		return nil, fmt.Errorf("browser: open page: %w", err)
	}
	b.page = p
	return p, nil
}

func (b *Browser) newPage(ctx context.Context) (*Page, error) {
	targetID, err := b.blankTarget(ctx)
	if err != nil {
		return nil, err
	}
	target := struct{ TargetID proto.TargetTargetID }{targetID}
	rp, err := b.rod.PageFromTarget(target.TargetID)
	if err != nil {
		return nil, cdpError(err)
	}
	p := &Page{
		b:        b,
		rp:       rp,
		requests: map[proto.NetworkRequestID]inFlight{},
		loadCh:   make(chan struct{}),
		syncs:    map[string]chan struct{}{},
		own:      &secret.Masker{},
		rec:      newRecorder(),

		crashKnown: make(chan struct{}),
	}
	p.gone, p.goneStop = context.WithCancel(b.gone)
	// The event loop enables the Runtime, Network and Page domains before
	// EachEvent returns, so nothing the page does from now on is missed.
	erp, cancel := rp.WithCancel()
	p.stopEvents = cancel
	go erp.EachEvent(
		p.onConsole, p.onException, p.onBinding,
		p.onRequest, p.onResponse, p.onFinished, p.onFailed, p.rec.data,
		p.onLifecycle, p.onCrash,
	)()

	crp := rp.Context(ctx)
	setup := []func() error{
		func() error {
			return proto.EmulationSetDeviceMetricsOverride{Width: viewportWidth, Height: viewportHeight, DeviceScaleFactor: 1}.Call(crp)
		},
		func() error { return proto.PageSetLifecycleEventsEnabled{Enabled: true}.Call(crp) },
		func() error { return proto.RuntimeAddBinding{Name: syncBinding}.Call(crp) },
	}
	for _, f := range setup {
		if err := f(); err != nil {
			cancel()
			p.goneStop()
			_, _ = proto.TargetCloseTarget{TargetID: target.TargetID}.Call(b.rod)
			return nil, cdpError(err)
		}
	}
	return p, nil
}

// Fresh replaces the page with a new one in a browser context of its own,
// as a test runner gives a retried test: none of the cookies, local or
// session storage, cache or service workers of before. The old page's tab
// is closed, and its browser context with it when it was one of ours (a
// remote browser's, or an earlier Fresh's). What the old page knew to mask
// (the secrets it was given, the run's masker) carries over. p must not be
// used afterwards, whether or not Fresh succeeds. ctx bounds the switch; a
// browser lost before or during it gives its *LostError.
func (p *Page) Fresh(ctx context.Context) (*Page, error) {
	b := p.b
	if err := b.Lost(); err != nil {
		return nil, err
	}
	np, err := b.freshPage(ctx, p)
	if err != nil {
		if le := b.verdict(ctx); le != nil {
			return nil, le
		}
		return nil, fmt.Errorf("browser: new browser context: %w", err)
	}
	return np, nil
}

func (b *Browser) freshPage(ctx context.Context, old *Page) (*Page, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old.stopEvents()
	old.goneStop()
	if b.closed {
		return nil, errors.New("browser: closed")
	}
	prev := b.rod.BrowserContextID
	cctx := b.rod.Context(ctx)
	res, err := proto.TargetCreateBrowserContext{DisposeOnDetach: true}.Call(cctx)
	if err != nil {
		return nil, cdpError(err)
	}
	b.rod.BrowserContextID = res.BrowserContextID
	np, err := b.newPage(ctx)
	if err != nil {
		_ = proto.TargetDisposeBrowserContext{BrowserContextID: res.BrowserContextID}.Call(cctx)
		b.rod.BrowserContextID = prev
		return nil, err
	}
	// The old tab goes, with its context when that was ours (the default
	// context of a browser we launched stays).
	if prev != "" {
		_ = proto.TargetDisposeBrowserContext{BrowserContextID: prev}.Call(cctx)
	} else {
		_, _ = proto.TargetCloseTarget{TargetID: old.rp.TargetID}.Call(cctx)
	}
	old.mu.Lock()
	secrets, run, trace, lvl := old.secrets, old.runMask, old.trace, old.traceLvl
	old.mu.Unlock()
	for _, s := range secrets {
		np.addSecret(s)
	}
	np.runMask = run
	np.trace, np.traceLvl = trace, lvl
	np.uploads = old.uploads
	b.page = np
	return np, nil
}

// blankTarget is the page the run uses: the blank tab a browser we
// launched opened at start (a second tab would cost another renderer), or
// a new one in our own browser context of a remote browser.
func (b *Browser) blankTarget(ctx context.Context) (proto.TargetTargetID, error) {
	if !b.remote && b.rod.BrowserContextID == "" {
		if res, err := (proto.TargetGetTargets{}).Call(b.rod.Context(ctx)); err == nil {
			for _, t := range res.TargetInfos {
				if t.Type == proto.TargetTargetInfoTypePage && t.URL == "about:blank" && !t.Attached {
					return t.TargetID, nil
				}
			}
		}
	}
	target, err := proto.TargetCreateTarget{URL: "about:blank", BrowserContextID: b.rod.BrowserContextID}.Call(b.rod.Context(ctx))
	if err != nil {
		return "", cdpError(err)
	}
	return target.TargetID, nil
}

// Secrets returns the values typed by fill steps marked secret, for the
// caller's masker, longest first.
func (p *Page) Secrets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.secrets...)
}

func (p *Page) addSecret(s string) {
	if s == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, have := range p.secrets {
		if have == s {
			return
		}
	}
	p.secrets = append(p.secrets, s)
	sort.SliceStable(p.secrets, func(i, j int) bool { return len(p.secrets[i]) > len(p.secrets[j]) })
	p.own.Add(s)
}

// SetMask gives the page the run's masker (the environment's secrets, the
// tenant's password…): the page's errors, observations and artifacts pass
// through it besides the page's own masker, and screenshots hide what it
// masks. nil removes it.
func (p *Page) SetMask(mask func(string) string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.runMask = mask
}

// Trace levels: what a page tells SetTrace's function.
const (
	// TraceEvents is the page's navigations and its failed requests.
	TraceEvents = 2
	// TraceWire is every request and response of the page, and its
	// console messages.
	TraceWire = 3
)

// SetTrace gives the page a function that is told, masked, what the page
// does, up to level (TraceEvents, TraceWire). nil tells nothing.
func (p *Page) SetTrace(fn func(level int, line string), level int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trace, p.traceLvl = fn, level
}

// tracef tells the trace function a line of this level, masked.
func (p *Page) tracef(level int, format string, args ...any) {
	p.mu.Lock()
	fn, lvl := p.trace, p.traceLvl
	p.mu.Unlock()
	if fn == nil || lvl < level {
		return
	}
	fn(level, p.mask(checks.Shorten(fmt.Sprintf(format, args...), 500)))
}

// mask replaces every secret the page knows of in s, in any form (see
// internal/secret), and then what extra masks, when not nil.
func (p *Page) mask(s string, extra ...func(string) string) string {
	p.mu.Lock()
	run := p.runMask
	p.mu.Unlock()
	s = p.own.Mask(s)
	if run != nil {
		s = run(s)
	}
	for _, m := range extra {
		if m != nil {
			s = m(s)
		}
	}
	return s
}

// Observation is something that went wrong in the page during a case
// without failing a step: a console error, an uncaught exception, or a
// failed request.
type Observation struct {
	Kind    Kind
	Message string // the console text, the exception, "HTTP 503 Service Unavailable" or "net::ERR_CONNECTION_REFUSED"
	Method  string // the failed request's method, e.g. POST; may be empty
	URL     string // the request's URL, or where the script error happened; may be empty
	Status  int    // the HTTP status of a failed request; 0 for a network error
}

// Kind says what an Observation is.
type Kind string

// The kinds of observation.
const (
	ConsoleError  Kind = "console_error"  // console.error() or a failed console.assert()
	Exception     Kind = "exception"      // an uncaught exception or unhandled rejection
	FailedRequest Kind = "failed_request" // an HTTP status of 500 or more, or a network error
)

// String is a short line for a report, e.g.
// `failed request: HTTP 500 Internal Server Error POST http://app/api/upload`.
func (o Observation) String() string {
	var b strings.Builder
	switch o.Kind {
	case ConsoleError:
		b.WriteString("console error: ")
	case Exception:
		b.WriteString("uncaught exception: ")
	case FailedRequest:
		b.WriteString("failed request: ")
	}
	b.WriteString(o.Message)
	if o.Method != "" {
		b.WriteString(" ")
		b.WriteString(o.Method)
	}
	if o.URL != "" {
		b.WriteString(" ")
		b.WriteString(o.URL)
	}
	return b.String()
}

// Observations are what a case saw go wrong in the page.
type Observations struct {
	List    []Observation
	Dropped int // observations beyond the cap, not kept
}

// Count returns the number of observations of kind k, or of all kinds when k
// is empty.
func (obs Observations) Count(k Kind) int {
	n := 0
	for _, o := range obs.List {
		if k == "" || o.Kind == k {
			n++
		}
	}
	return n
}

// String summarises the observations on one line, e.g.
// `2 console errors, 1 failed request: HTTP 500 … http://…/api`.
func (obs Observations) String() string {
	if len(obs.List) == 0 {
		return ""
	}
	var parts []string
	for _, k := range []struct {
		kind Kind
		name string
	}{{ConsoleError, "console error"}, {Exception, "uncaught exception"}, {FailedRequest, "failed request"}} {
		if n := obs.Count(k.kind); n > 0 {
			name := k.name
			if n > 1 {
				name += "s"
			}
			parts = append(parts, strconv.Itoa(n)+" "+name)
		}
	}
	s := strings.Join(parts, ", ")
	if obs.Dropped > 0 {
		s += fmt.Sprintf(" (and %d more)", obs.Dropped)
	}
	first := obs.List[0]
	first.Kind = ""
	return s + ": first " + first.String()
}

// StartCase forgets what the page saw so far: what EndCase returns begins
// here.
func (p *Page) StartCase() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.obs, p.dropped, p.failed = nil, 0, nil
	p.rec.reset()
}

// EndCase returns what the page saw go wrong since StartCase. It first lets
// the events already emitted by the page arrive (bounded by ctx and about a
// second). Requests still in flight report later, to the next case.
func (p *Page) EndCase(ctx context.Context) Observations {
	if p.gone.Err() == nil {
		p.sync(ctx)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	o := Observations{List: p.obs, Dropped: p.dropped}
	p.obs, p.dropped = nil, 0
	return o
}

// sync waits until the event loop has handled every event the page emitted
// before now: it has the page call our binding and waits for that call's
// event, which comes after them on the same connection.
func (p *Page) sync(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	p.mu.Lock()
	p.syncN++
	token := "sync-" + strconv.Itoa(p.syncN)
	ch := make(chan struct{})
	p.syncs[token] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.syncs, token)
		p.mu.Unlock()
	}()

	// An error page of the browser has no binding: nothing to wait for.
	res, err := proto.RuntimeEvaluate{
		Expression:    fmt.Sprintf("typeof %[1]s === 'function' ? (%[1]s(%[2]q), true) : false", syncBinding, token),
		ReturnByValue: true,
	}.Call(p.rp.Context(ctx))
	if err != nil || res.ExceptionDetails != nil || !res.Result.Value.Bool() {
		return
	}
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

func (p *Page) observe(o Observation) {
	// Masked before shortened, so that no secret is cut with its start left.
	o.Message = checks.Shorten(p.mask(o.Message), 300)
	o.URL = checks.Shorten(p.mask(o.URL), 300)
	p.tracef(TraceEvents, "page %s", o)
	p.mu.Lock()
	defer p.mu.Unlock()
	if o.Kind == FailedRequest && p.failed == nil {
		p.failed = &o
	}
	if len(p.obs) >= maxObservations {
		p.dropped++
		return
	}
	p.obs = append(p.obs, o)
}

func (p *Page) onConsole(e *proto.RuntimeConsoleAPICalled) {
	p.rec.consoleEvent(e)
	if p.tracing(TraceWire) {
		var parts []string
		for _, a := range e.Args {
			parts = append(parts, remoteText(a))
		}
		p.tracef(TraceWire, "page console.%s: %s", e.Type, strings.Join(parts, " "))
	}
	if e.Type != proto.RuntimeConsoleAPICalledTypeError && e.Type != proto.RuntimeConsoleAPICalledTypeAssert {
		return
	}
	var parts []string
	for _, a := range e.Args {
		parts = append(parts, remoteText(a))
	}
	url := ""
	if e.StackTrace != nil && len(e.StackTrace.CallFrames) > 0 {
		url = e.StackTrace.CallFrames[0].URL
	}
	p.observe(Observation{Kind: ConsoleError, Message: strings.Join(parts, " "), URL: url})
}

func (p *Page) onException(e *proto.RuntimeExceptionThrown) {
	p.rec.exception(e)
	d := e.ExceptionDetails
	msg := d.Text
	if d.Exception != nil {
		if t := remoteText(d.Exception); t != "" {
			msg = strings.TrimSpace(msg + " " + t)
		}
	}
	p.observe(Observation{Kind: Exception, Message: msg, URL: d.URL})
}

func (p *Page) onBinding(e *proto.RuntimeBindingCalled) {
	if e.Name != syncBinding {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if ch, ok := p.syncs[e.Payload]; ok {
		close(ch)
		delete(p.syncs, e.Payload)
	}
}

// inFlight is a request the page made that has not ended yet.
type inFlight struct{ method, url string }

func (p *Page) onRequest(e *proto.NetworkRequestWillBeSent) {
	p.rec.request(e)
	switch {
	case e.Type == proto.NetworkResourceTypeDocument && e.FrameID == p.rp.FrameID:
		p.tracef(TraceEvents, "page navigates: %s %s", e.Request.Method, e.Request.URL)
	default:
		p.tracef(TraceWire, "page > %s %s (%s)", e.Request.Method, e.Request.URL, strings.ToLower(string(e.Type)))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests[e.RequestID] = inFlight{e.Request.Method, e.Request.URL}
}

func (p *Page) onResponse(e *proto.NetworkResponseReceived) {
	p.rec.responded(e)
	p.tracef(TraceWire, "page < %d %s", e.Response.Status, e.Response.URL)
	if r := e.Response; r.Status >= 500 {
		msg := "HTTP " + strconv.Itoa(r.Status)
		if r.StatusText != "" {
			msg += " " + r.StatusText
		}
		p.mu.Lock()
		method := p.requests[e.RequestID].method
		p.mu.Unlock()
		p.observe(Observation{Kind: FailedRequest, Message: msg, Method: method, URL: r.URL, Status: r.Status})
	}
}

func (p *Page) onFinished(e *proto.NetworkLoadingFinished) {
	p.rec.finished(e)
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.requests, e.RequestID)
}

func (p *Page) onFailed(e *proto.NetworkLoadingFailed) {
	p.rec.failed(e)
	p.mu.Lock()
	req := p.requests[e.RequestID]
	delete(p.requests, e.RequestID)
	p.mu.Unlock()
	// Requests cut short by a navigation or by the page itself are no fault.
	if e.Canceled || e.ErrorText == "net::ERR_ABORTED" {
		return
	}
	msg := e.ErrorText
	if e.BlockedReason != "" {
		msg += " (blocked: " + string(e.BlockedReason) + ")"
	}
	p.observe(Observation{Kind: FailedRequest, Message: msg, Method: req.method, URL: req.url})
}

func (p *Page) onLifecycle(e *proto.PageLifecycleEvent) {
	if e.Name != "load" || e.FrameID != p.rp.FrameID {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.loaded = append(p.loaded, e.LoaderID)
	if len(p.loaded) > keptLoads {
		p.loaded = p.loaded[1:]
	}
	close(p.loadCh)
	p.loadCh = make(chan struct{})
}

func (p *Page) onCrash(*proto.InspectorTargetCrashed) {
	p.goneStop()
}

// targetCrashed records how the page's renderer ended, from the browser's
// Target.targetCrashed: its termination status and code (a signal or an
// exit status).
func (p *Page) targetCrashed(status string, code int) {
	p.knownOnce.Do(func() {
		switch status {
		case "crashed":
			p.crashReason = fmt.Sprintf("the page crashed (its renderer died of signal %d)", code)
		case "oom":
			p.crashReason = "the page crashed (its renderer ran out of memory)"
		case "abnormal":
			p.crashReason = fmt.Sprintf("the page crashed (its renderer exited with status %d)", code)
		default:
			p.crashReason = fmt.Sprintf("the page crashed (its renderer: %s, code %d)", status, code)
		}
		close(p.crashKnown)
	})
	p.onCrash(nil)
}

// failedRequest returns the first request of the case (since StartCase)
// that failed (5xx or a network error), masked, if one did.
func (p *Page) failedRequest() (Observation, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed == nil {
		return Observation{}, false
	}
	return *p.failed, true
}

// Gone says why the page can no longer answer: a *LostError when the
// browser was lost, an error saying how the page crashed, or nil while it
// answers. Once the page is gone it waits (a second or two at most) until
// the reason is known.
func (p *Page) Gone() error { return p.goneErr(context.Background()) }

// Alive reports, without waiting, whether the page can still answer.
func (p *Page) Alive() bool { return p.gone.Err() == nil }

func (p *Page) goneErr(ctx context.Context) error {
	if p.gone.Err() == nil {
		return nil
	}
	if le := p.b.verdict(ctx); le != nil {
		return le
	}
	p.b.mu.Lock()
	closed := p.b.closed
	p.b.mu.Unlock()
	if closed {
		return errClosed
	}
	// The page crashed: the browser's event says how.
	t := time.NewTimer(crashGrace)
	defer t.Stop()
	select {
	case <-p.b.lost:
		return p.b.lostErr
	case <-p.crashKnown:
		if le := p.b.Lost(); le != nil { // marked before the reason
			return le
		}
		return &failure{p.crashReason}
	case <-t.C:
	case <-ctx.Done():
	}
	return errCrashed
}

// waitLoad waits until the main-frame document of loader id has fired load.
func (p *Page) waitLoad(ctx context.Context, id proto.NetworkLoaderID) error {
	for {
		p.mu.Lock()
		ch := p.loadCh
		for _, l := range p.loaded {
			if l == id {
				p.mu.Unlock()
				return nil
			}
		}
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// remoteText renders a console argument or an exception as text.
func remoteText(o *proto.RuntimeRemoteObject) string {
	if o == nil {
		return ""
	}
	if o.Type == proto.RuntimeRemoteObjectTypeString {
		return o.Value.Str()
	}
	if o.Description != "" {
		// An Error's description is its stack; the first line says what.
		d, _, _ := strings.Cut(o.Description, "\n")
		return d
	}
	if o.Type == proto.RuntimeRemoteObjectTypeUndefined {
		return "undefined"
	}
	return o.Value.JSON("", "")
}

// SaveArtifacts writes a PNG screenshot and the HTML of the page to
// dir/prefix.png and dir/prefix.html, typically after a failed step. The
// HTML has every secret the page knows of (typed by a secret fill step, or
// masked by the run's masker from SetMask) and every secret mask (may be
// nil) masks replaced, in any form. For the screenshot, password fields,
// fields holding such a secret and texts showing one are blanked, then
// restored. It writes what it can and returns the paths written and the
// errors met.
//
// dir is made 0700 when missing and refused (statedir.ErrUntrusted, nothing
// written) when it is a symlink or another user could write it. The files
// are 0600, made anew: a link planted under their names is replaced, never
// written through.
func (p *Page) SaveArtifacts(ctx context.Context, dir, prefix string, mask func(string) string) (screenshotPath, htmlPath string, err error) {
	if prefix == "" || strings.ContainsRune(prefix, filepath.Separator) {
		return "", "", fmt.Errorf("artifacts: bad file name prefix %q", prefix)
	}
	if err := statedir.Ensure(dir, statedir.SuiteArtifacts); err != nil {
		return "", "", err // names the artifacts dir
	}
	rp := p.rp.Context(ctx)
	var errs []error

	html, herr := pageHTML(rp)
	if herr == nil {
		html = p.mask(html, mask)
		path := filepath.Join(dir, prefix+".html")
		if herr = statedir.WriteFile(path, []byte(html), 0o600); herr == nil {
			htmlPath = path
		}
	}
	if herr != nil {
		errs = append(errs, fmt.Errorf("artifacts: html: %w", cdpError(herr)))
	}

	png, serr := p.screenshot(ctx, mask)
	if serr == nil {
		path := filepath.Join(dir, prefix+".png")
		if serr = statedir.WriteFile(path, png, 0o600); serr == nil {
			screenshotPath = path
		}
	}
	if serr != nil {
		errs = append(errs, fmt.Errorf("artifacts: screenshot: %w", cdpError(serr)))
	}
	return screenshotPath, htmlPath, errors.Join(errs...)
}

func pageHTML(rp *rod.Page) (string, error) {
	res, err := rp.Eval(`() => {
		const d = document;
		if (!d.documentElement) return '';
		return (d.doctype ? '<!DOCTYPE ' + d.doctype.name + '>\n' : '') + d.documentElement.outerHTML;
	}`)
	if err != nil {
		return "", err
	}
	return res.Value.Str(), nil
}

// shownJS collects what a screenshot shows as text: the text nodes that
// are rendered, and the values and placeholders of fields (input,
// textarea), in the document, its open shadow roots and its same-origin
// frames. It returns {objs, keys, texts, kinds}: the objects, which of
// their properties holds the text (nodeValue, value or placeholder), the
// texts, and what each is (shownText, shownField or shownPassword). The
// result stays in the page, for hideJS.
const shownJS = `() => {
	const out = {objs: [], keys: [], texts: [], kinds: []};
	const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'TEXTAREA', 'TITLE']);
	const walk = (root) => {
		const doc = root.ownerDocument || root;
		const w = doc.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
		for (let n = w.nextNode(); n; n = w.nextNode()) {
			if (n.nodeType === Node.TEXT_NODE) {
				const parent = n.parentNode;
				if (n.nodeValue && !(parent && skip.has(parent.nodeName))) {
					out.objs.push(n); out.keys.push('nodeValue'); out.texts.push(n.nodeValue); out.kinds.push(0);
				}
				continue;
			}
			if (n.nodeName === 'INPUT' || n.nodeName === 'TEXTAREA') {
				if (n.value) {
					out.objs.push(n); out.keys.push('value'); out.texts.push(n.value); out.kinds.push(n.type === 'password' ? 2 : 1);
				}
				if (n.placeholder) {
					out.objs.push(n); out.keys.push('placeholder'); out.texts.push(n.placeholder); out.kinds.push(1);
				}
			}
			if (n.shadowRoot) walk(n.shadowRoot);
			if (n.nodeName === 'IFRAME' || n.nodeName === 'FRAME') {
				try { if (n.contentDocument) walk(n.contentDocument); } catch (e) {}
			}
		}
	};
	if (document.documentElement) walk(document);
	return out;
}`

// hideJS replaces, for a screenshot, the texts of shown (shownJS's result)
// by index, and returns what restoreJS needs to put everything back.
const hideJS = `(shown, changes) => {
	const saved = [];
	for (const [i, v] of changes) {
		const o = shown.objs[i], k = shown.keys[i];
		saved.push([o, k, o[k]]);
		o[k] = v;
	}
	return saved;
}`

const restoreJS = `(saved) => { for (const [o, k, v] of saved) o[k] = v; }`

// evalObject evaluates js and keeps its result in the page, as a handle.
func evalObject(js string, args ...any) *rod.EvalOptions {
	return rod.Eval(js, args...).ByObject()
}

// shown is what shownJS found.
type shown struct {
	handle *proto.RuntimeRemoteObject
	texts  []string
	kinds  []int
}

// The kinds of shown text, as shownJS numbers them.
const (
	shownText     = 0
	shownField    = 1
	shownPassword = 2
)

func (p *Page) shown(rp *rod.Page) (shown, error) {
	h, err := rp.Evaluate(evalObject(shownJS))
	if err != nil {
		return shown{}, err
	}
	res, err := rp.Evaluate(rod.Eval(`(s) => ({texts: s.texts, kinds: s.kinds})`, h))
	if err != nil {
		_ = rp.Release(h)
		return shown{}, err
	}
	var v struct {
		Texts []string `json:"texts"`
		Kinds []int    `json:"kinds"`
	}
	if err := res.Value.Unmarshal(&v); err != nil || len(v.Texts) != len(v.Kinds) {
		_ = rp.Release(h)
		return shown{}, fmt.Errorf("read the page's text: %v", err)
	}
	return shown{handle: h, texts: v.Texts, kinds: v.Kinds}, nil
}

// hideChanges says what to change for a screenshot, as [index, new text]
// pairs: a text showing a secret is masked, a field holding one and a
// password field are blanked.
func (p *Page) hideChanges(s shown, extra func(string) string) [][2]any {
	changes := [][2]any{}
	for i, t := range s.texts {
		if s.kinds[i] == shownPassword {
			changes = append(changes, [2]any{i, ""})
			continue
		}
		switch m := p.mask(t, extra); {
		case m == t:
		case s.kinds[i] == shownField:
			changes = append(changes, [2]any{i, ""})
		default:
			changes = append(changes, [2]any{i, m})
		}
	}
	return changes
}

// hide blanks, for a screenshot, the secrets the page shows (see
// hideChanges) and returns the function that puts them back.
func (p *Page) hide(ctx context.Context, extra func(string) string) (restore func(), err error) {
	rp := p.rp.Context(ctx)
	s, err := p.shown(rp)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rp.Release(s.handle) }()
	saved, err := rp.Evaluate(evalObject(hideJS, s.handle, p.hideChanges(s, extra)))
	if err != nil {
		return nil, err
	}
	return func() {
		_, _ = rp.Evaluate(evalObject(restoreJS, saved))
		_ = rp.Release(saved)
	}, nil
}

// screenshot captures the viewport with secrets hidden: those the page
// knows of, and those extra (may be nil) masks. When the page shows a
// secret again by the time the capture is taken (its scripts changed it),
// the capture is thrown away and taken again, at most twice more.
func (p *Page) screenshot(ctx context.Context, extra func(string) string) ([]byte, error) {
	rp := p.rp.Context(ctx)
	for range 3 {
		restore, err := p.hide(ctx, extra)
		if err != nil {
			// Never capture what could not be hidden.
			return nil, fmt.Errorf("hide secrets: %w", err)
		}
		shot, err := proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng}.Call(rp)
		var changed bool
		if err == nil {
			changed, err = p.showsSecret(rp, extra)
		}
		restore()
		if err != nil {
			return nil, err
		}
		if !changed {
			return shot.Data, nil
		}
	}
	return nil, errors.New("hide secrets: the page kept showing a secret again")
}

// showsSecret reports whether the page shows a secret (or a password).
func (p *Page) showsSecret(rp *rod.Page, extra func(string) string) (bool, error) {
	s, err := p.shown(rp)
	if err != nil {
		return false, fmt.Errorf("hide secrets: %w", err)
	}
	_ = rp.Release(s.handle)
	for i, t := range s.texts {
		if s.kinds[i] == shownPassword || p.mask(t, extra) != t {
			return true, nil
		}
	}
	return false, nil
}

// uploadFile writes inline content to a file of its own for an upload step.
func (p *Page) uploadFile(name, content string) (string, error) {
	p.uploads++
	dir := filepath.Join(p.b.tmp, "uploads", strconv.Itoa(p.uploads))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	name = filepath.Base(filepath.Clean("/" + name))
	if name == "/" || name == "." {
		name = "upload.txt"
	}
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, []byte(content), 0o600)
}

// tracing reports whether the trace wants lines of this level.
func (p *Page) tracing(level int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.trace != nil && p.traceLvl >= level
}
