package suites

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/httpstep"
	"github.com/suitecheck/suitecheck/suites/browser"
	"github.com/suitecheck/suitecheck/tenant"
)

// RunOptions are the run's settings from the command line.
type RunOptions struct {
	Suite        string
	Env          string
	Thresholds   checks.Thresholds // -w/-c on the total time; override the suite's
	TimeoutState checks.State
	Budget       time.Duration
	Retries      int // --retries: when >= 0, overrides every case's retries
	// Cases (--case, globs as path.Match reads them) and Tags (--tag), when
	// given, choose the cases to run; the others are listed as not
	// selected. Required cases before a chosen one run too.
	Cases, Tags []string
	// Start is when the run began (its budget started, before the config
	// was read): time= counts from it. Zero: when Run is called.
	Start    time.Time
	Progress io.Writer // a live line per case for people; nil for none
	// Diagnostics tell people what the run does, on stderr (-v…).
	Diagnostics Diagnostics
	Browser     BrowserOptions
	Tenants     TenantOptions // the ledger's state dir, the teardown's timeout
	// Report, when set, receives the run as CI servers read it (--junit).
	Report *Report

	// Set by the caller, over the config: variables, secret variables
	// (masked), and the tenant's fields (a provisioned tenant; its password
	// is masked).
	Vars, Secrets, Tenant map[string]string
	// Target is what the command line says of the host to check, over
	// the environment.
	Target Target
}

// Target points a run (or the tenant commands) at a host from the command
// line, over the environment: what a monitoring host's check definition
// passes ($HOSTADDRESS$, host.address), so one config serves many hosts.
type Target struct {
	BaseURL string            // --base-url: replaces the environment's base_url
	Host    string            // -H: the environment's base_url with this host
	Port    int               // --port: and this port
	Address string            // -I/--address: connect to this address for the base URL's host, which stays its name
	Vars    map[string]string // --var NAME=VALUE
	Secrets map[string]string // --secret-var NAME=@FILE
}

// baseURL is the base URL to use: --base-url, or the environment's with
// -H and --port put in.
func (t Target) baseURL(envBase string) (string, error) {
	if t.BaseURL != "" {
		u, err := url.Parse(t.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("--base-url %q: give an http or https URL, e.g. https://app.example.com", t.BaseURL)
		}
		return t.BaseURL, nil
	}
	if t.Host == "" && t.Port == 0 {
		return envBase, nil
	}
	u, err := url.Parse(envBase)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("-H/--port: the environment's base_url %q is not a URL to put a host in: give --base-url", envBase)
	}
	host, port := u.Hostname(), u.Port()
	if t.Host != "" {
		host = strings.Trim(t.Host, "[]")
	}
	if t.Port != 0 {
		port = strconv.Itoa(t.Port)
	}
	if port != "" {
		u.Host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		u.Host = "[" + host + "]"
	} else {
		u.Host = host
	}
	return u.String(), nil
}

// runState is what the steps of one run share.
type runState struct {
	*runEnv
	http  *httpstep.Client
	pg    *browser.Page // the run's one page, once a browser step ran
	bopts BrowserOptions
	suite string
	stamp string // the run's start, naming its artifacts
	start time.Time
	// resultReserve is the end of the budget kept for artifacts and the
	// result; the tenant's delete stops before it.
	resultReserve time.Duration
	outer         context.Context // the whole run's; steps get one that ends a little earlier
	dbs           map[string]*sql.DB
	details       []string // a diagnose step's layers, for the long output
	stepName      string   // "case: step 2 http GET /x", for diagnostics
	stepKind      string
	launching     chan launched    // a browser started ahead of its first step, until a step takes it
	deselected    map[*Case]string // why a case was not chosen by --case/--tag
	// The browser's start-up: how long it took (launch and first page),
	// when it was ready, and why it could not be had (page says it again).
	browserTook  time.Duration
	browserReady time.Time
	pageErr      error
}

// runEnv is a run's environment: its templates' scope, its masker, what
// must be closed with it. The tenant commands use it alone; a run adds its
// cases' state (runState).
type runEnv struct {
	env       *Environment
	scope     *Scope
	generated map[string]string // the tenant's generated fields, made before create
	targeted  bool              // the command line chose the host (Target)
	pins      map[string]string // -I: the base URL's host (lower case) to the address to connect to
	mask      *Masker
	ext       []io.Closer // per-run resources (the browser, clients), closed at the end
	cfgPath   string      // the config file, which command dirs are relative to
	diag      Diagnostics
}

// close closes what the environment holds, the last opened first.
func (e *runEnv) close() {
	for i := len(e.ext) - 1; i >= 0; i-- {
		e.ext[i].Close()
	}
}

func (r *runState) close() {
	for _, db := range r.dbs {
		db.Close()
	}
	r.runEnv.close()
}

// caseResult is the outcome of one case.
type caseResult struct {
	c        *Case
	state    checks.State
	dur      time.Duration
	detail   string // why it failed, was skipped, or is flaky
	ran      bool
	attempts int
	lastErr  error
	cut      bool      // the run ended (budget, signal) in the middle of this case
	start    time.Time // when the clock of its last attempt started
	// required says the case ran only because a case chosen by --case or
	// --tag comes after it.
	required bool
	lost     bool // the browser was lost in the middle of this case: not judged, not failed

	command    *commandRun // a command case's tests
	flakyTests []string    // tests that passed on the runner's own retry
	artifacts  []string    // full paths of the evidence of a failed browser case, or of a command case's attachments
	notes      []string    // on evidence not kept: the long output's, not the status line's
}

// Run runs a suite and returns its result. It never panics on bad input:
// config mistakes are UNKNOWN with what to fix.
func Run(ctx context.Context, cfg *Config, o RunOptions) checks.Result {
	res, _ := run(ctx, cfg, o)
	return res
}

// run is Run, also returning what the run found out (nil when it never
// started: a config or flag error).
func run(ctx context.Context, cfg *Config, o RunOptions) (checks.Result, *outcome) {
	start := o.Start
	if now := time.Now(); start.IsZero() || start.After(now) {
		start = now
	}
	suite, err := cfg.Suite(o.Suite)
	if err != nil {
		return checks.FromError(err), nil
	}
	envName, env, err := cfg.Environment(o.Env)
	if err != nil {
		return checks.FromError(err), nil
	}
	skip, forced, err := selectCases(suite, o.Cases, o.Tags)
	if err != nil {
		return checks.FromError(err), nil
	}
	r := &runState{runEnv: &runEnv{mask: &Masker{}, cfgPath: cfg.path, diag: o.Diagnostics}, dbs: map[string]*sql.DB{}, bopts: o.Browser, suite: suite.name,
		stamp: start.UTC().Format("20060102T150405Z"), start: start, deselected: map[*Case]string{}}
	for i, why := range skip {
		if why != "" {
			r.deselected[suite.Cases[i]] = why
		}
	}
	defer r.close()
	if err := r.setup(envName, env, cfg.Tenant, o); err != nil {
		return checks.FromError(err), nil
	}
	if err := r.checkArtifacts(suite, env); err != nil {
		return checks.FromError(err), nil
	}
	if err := r.browserFits(suite, env); err != nil {
		return checks.FromError(err), nil
	}

	th := o.Thresholds
	if th.Warning == nil {
		th.Warning = suite.Warning.Range
	}
	if th.Critical == nil {
		th.Critical = suite.Critical.Range
	}

	// Steps stop a little before the budget ends, so that a failed case's
	// artifacts, the tenant's delete and the result still fit in it.
	provision := cfg.Tenant.provisioned() && o.Tenant == nil
	r.outer = ctx
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		reserve := min(left/10, 2*time.Second)
		r.resultReserve = reserve
		if provision {
			reserve += teardownReserve(left, o.Tenants.TeardownTimeout)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-reserve))
		defer cancel()
	}
	oc := &outcome{suite: suite, env: envName, th: th, opts: o, ctx: ctx}
	if provision {
		r.prelaunch(ctx, suite, env)
		oc.tenant = &tenantRun{}
		ok, err := r.provision(ctx, cfg, envName, oc.tenant, o)
		if err != nil {
			res := checks.FromError(err)
			r.maskResult(&res)
			if o.Report != nil {
				oc.total = time.Since(r.start)
				*o.Report = oc.report(r, res)
			}
			return res, nil
		}
		if !ok {
			return r.finish(oc), oc
		}
		defer r.teardown(oc.tenant, o)
	}

	var results []*caseResult
	stopped := ""   // why the remaining cases do not run
	var fatal error // a timeout, a cancel or a config error ends the run
	for i, c := range suite.Cases {
		cr := &caseResult{c: c}
		results = append(results, cr)
		if why := r.deselected[c]; why != "" {
			cr.state, cr.detail = checks.OK, why
			continue
		}
		cr.required = forced[i]
		if tag := skippedTag(c, env); tag != "" {
			cr.state, cr.detail = checks.OK, fmt.Sprintf("skipped: tag %s is skipped in %s", tag, envName)
			continue
		}
		if stopped != "" {
			cr.state, cr.detail = checks.Unknown, "not run: "+stopped
			continue
		}
		r.runCase(ctx, cr, o, suite, results[:len(results)-1])
		progress(o.Progress, cr, r.mask)
		var ce *configError
		var lost *browser.LostError
		switch {
		case errors.As(cr.lastErr, &ce):
			fatal = ce
			stopped = "a config error"
			if errors.As(ce, new(*noBrowserError)) {
				stopped = "no browser"
			}
		case ctx.Err() != nil:
			fatal = ctx.Err()
			stopped = "the run was cut short"
		case errors.As(cr.lastErr, &lost):
			// suitecheck can no longer judge the app.
			fatal = &browserLost{lost, c.Name}
			stopped = "the browser was lost"
		case cr.state == checks.Critical && c.Required:
			stopped = fmt.Sprintf("required case %s failed", c.Name)
		}
	}
	// After the cases, not between them: a diagnostic can neither take
	// their time nor change their variables.
	if fatal == nil && slices.ContainsFunc(results, func(cr *caseResult) bool { return cr.state == checks.Critical }) {
		oc.diag = r.diagnose(ctx, suite.Diagnose)
	}
	if oc.tenant != nil {
		r.teardown(oc.tenant, o)
	}
	oc.cases, oc.fatal = results, fatal
	return r.finish(oc), oc
}

// maskResult masks the result's text once more, whole: each part was masked
// where it was made, but a secret may also come in through a part no one
// thought of, or span two parts.
func (r *runState) maskResult(res *checks.Result) {
	res.Summary, res.Tail = r.mask.Mask(res.Summary), r.mask.Mask(res.Tail)
	for i := range res.Parts {
		res.Parts[i].Name = r.mask.Mask(res.Parts[i].Name)
		res.Parts[i].Detail = r.mask.Mask(res.Parts[i].Detail)
	}
	for i, l := range res.Long {
		res.Long[i] = r.mask.Mask(l)
	}
}

func skippedTag(c *Case, env *Environment) string {
	for _, t := range c.Tags {
		if slices.Contains(env.SkipTags, t) {
			return t
		}
	}
	return ""
}

func (r *runEnv) setup(envName string, env *Environment, tc *TenantConfig, o RunOptions) error {
	sc := &Scope{Env: envName, Vars: map[string]string{}, Tenant: map[string]string{}}
	r.scope, r.env = sc, env
	for _, k := range slices.Sorted(maps.Keys(env.Vars)) {
		v, err := sc.Render(env.Vars[k])
		if err != nil {
			return fmt.Errorf("environment %s var %s: %w", envName, k, err)
		}
		sc.Vars[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(env.Secrets)) {
		v, err := sc.Render(env.Secrets[k])
		if err != nil {
			return fmt.Errorf("environment %s secret %s: %w", envName, k, err)
		}
		sc.Vars[k] = v
		r.mask.Add(v)
	}
	for _, vars := range []map[string]string{o.Vars, o.Target.Vars} {
		for k, v := range vars {
			sc.Vars[k] = v
		}
	}
	for _, secrets := range []map[string]string{o.Secrets, o.Target.Secrets} {
		for k, v := range secrets {
			sc.Vars[k] = v
			r.mask.Add(v)
		}
	}
	// --base-url replaces the environment's, unrendered: its template may
	// need vars only the environment's hosts have.
	base := o.Target.BaseURL
	if base == "" {
		var err error
		if base, err = sc.Render(env.BaseURL); err != nil {
			return fmt.Errorf("environment %s base_url: %w", envName, err)
		}
	}
	base, err := o.Target.baseURL(base)
	if err != nil {
		return err
	}
	r.targeted = o.Target.BaseURL != "" || o.Target.Host != "" || o.Target.Port != 0 || o.Target.Address != ""
	sc.BaseURL = strings.TrimRight(base, "/")
	if o.Target.Address != "" {
		u, err := url.Parse(sc.BaseURL)
		if err != nil || u.Hostname() == "" {
			return fmt.Errorf("-I/--address: the base URL %q names no host to connect to %s for", sc.BaseURL, o.Target.Address)
		}
		r.pins = map[string]string{strings.ToLower(u.Hostname()): strings.Trim(o.Target.Address, "[]")}
		r.logf(LogRun, "connecting %s to %s (-I)", u.Hostname(), o.Target.Address)
	}
	if tc != nil {
		for _, k := range slices.Sorted(maps.Keys(tc.Fixed)) {
			v, err := sc.Render(tc.Fixed[k])
			if err != nil {
				return fmt.Errorf("tenant field %s: %w", k, err)
			}
			sc.Tenant[k] = v
		}
	}
	for k, v := range o.Tenant {
		sc.Tenant[k] = v
	}
	for k, v := range sc.Tenant {
		if tenant.SecretField(k) {
			r.mask.Add(v)
		}
	}
	return nil
}

// attempt is a failed attempt of a case: its error, and the lines for
// the long output it left (what the page saw, where its artifacts are).
type attempt struct {
	err   error
	notes []string
}

// runCase runs a case, retrying it as configured: after the case's retry
// delay, and for a browser case in a new browser context where the
// required browser cases before it (in before) are replayed first. The
// first failure is the one reported; a pass on a retry is flaky.
func (r *runState) runCase(ctx context.Context, cr *caseResult, o RunOptions, suite *Suite, before []*caseResult) {
	c := cr.c
	retries := c.Retries
	if o.Retries >= 0 && c.Command == nil {
		// Not a command case: its runner retries its own tests (the config
		// refuses retries there for the same reason).
		retries = o.Retries
	}
	cr.ran = true
	th := checks.Thresholds{Warning: c.Warning.Range, Critical: c.Critical.Range}
	var startErr error
	if hasBrowserStep(c) {
		// Chromium's start-up is not the case's time: browser_start.
		startErr = r.startBrowser(ctx, c)
	}
	var failed []attempt
	notRetried := ""
	for n := 1; n <= retries+1; n++ {
		err := startErr
		if n > 1 {
			if notRetried = retryWait(ctx, c.retryDelay(suite)); notRetried != "" {
				break
			}
			err = r.freshStart(ctx, c, before, n)
		}
		cr.attempts = n
		if err == nil {
			if r.pg != nil {
				r.pg.StartCase()
			}
			cr.start = time.Now()
			if c.Command != nil {
				err = r.runCommand(ctx, c, suite, cr)
			} else {
				err = r.runSteps(ctx, c)
			}
			cr.dur = time.Since(cr.start)
		}
		cr.lastErr = err
		final := err == nil || n == retries+1 || ctx.Err() != nil || isConfigErr(err) || isLost(err)
		artifactsTag := 0 // a case that cannot retry keeps its artifacts' plain names
		if retries > 0 {
			artifactsTag = n
		}
		obsState, notes, arts := r.endBrowserCase(ctx, c, err != nil, final, artifactsTag)
		cr.artifacts = append(cr.artifacts, arts...)
		if err == nil {
			cr.state = checks.Worst(th.Evaluate(cr.dur.Seconds()), obsState)
			var details []string
			if ts := th.Evaluate(cr.dur.Seconds()); ts != checks.OK {
				details = append(details, crossed(cr.dur, ts, th))
			}
			if len(cr.flakyTests) > 0 {
				cr.state = checks.Worst(cr.state, suite.Flaky.State)
				details = append(details, "flaky: "+strings.Join(cr.flakyTests, ", "))
			}
			if len(failed) > 0 {
				cr.state = checks.Worst(cr.state, suite.Flaky.State)
				details = append(details, fmt.Sprintf("flaky: passed on attempt %d of %d after: %s", n, retries+1, r.mask.Mask(failed[0].err.Error())))
				details = append(details, r.laterFailures(failed)...)
				details = append(details, attemptNotes(failed)...)
			}
			if cr.required {
				details = append(details, "required: runs before the cases chosen")
			}
			cr.detail = strings.Join(append(details, notes...), "; ")
			return
		}
		failed = append(failed, attempt{err, notes})
		if final {
			break
		}
	}
	// The first failure is the case's; the others say how they differed.
	details := []string{r.mask.Mask(failed[0].err.Error())}
	if len(failed) > 1 {
		details = append(details, fmt.Sprintf("failed all %d attempts", len(failed)))
		if len(failed) < retries+1 && notRetried == "" {
			details[1] = fmt.Sprintf("failed %d attempts of %d", len(failed), retries+1)
		}
		details = append(details, r.laterFailures(failed)...)
		details = append(details, attemptNotes(failed)...)
	} else {
		details = append(details, failed[0].notes...)
	}
	if notRetried != "" {
		details = append(details, notRetried)
	}
	cr.detail = strings.Join(details, "; ")
	cr.state = checks.Critical
	// An attempt that failed before the run was cut (or the browser lost)
	// stands: the app did fail.
	appFailed := slices.ContainsFunc(failed[:len(failed)-1], func(a attempt) bool { return !isConfigErr(a.err) && !isLost(a.err) })
	switch {
	case isConfigErr(cr.lastErr):
		cr.state = checks.Unknown
	case ctx.Err() != nil && !errors.As(cr.lastErr, new(*failedWhenCut)) && !appFailed:
		// Not the app's failure: the run's state says why it ended.
		cr.state, cr.cut = checks.Unknown, true
	case isLost(cr.lastErr):
		cr.state, cr.cut, cr.lost = checks.Unknown, true, true
	}
}

// laterFailures says how the attempts after the first failed, when that
// differs from the first: "attempt 2 failed differently: …", or
// "attempts 2, 3 failed differently: …" when they failed alike.
func (r *runState) laterFailures(failed []attempt) []string {
	first := r.mask.Mask(failed[0].err.Error())
	var msgs []string
	which := map[string][]string{}
	for i, a := range failed[1:] {
		msg := r.mask.Mask(a.err.Error())
		if msg == first {
			continue
		}
		if which[msg] == nil {
			msgs = append(msgs, msg)
		}
		which[msg] = append(which[msg], strconv.Itoa(i+2))
	}
	var out []string
	for _, msg := range msgs {
		n := which[msg]
		what := "attempt " + n[0]
		if len(n) > 1 {
			what = "attempts " + strings.Join(n, ", ")
		}
		out = append(out, fmt.Sprintf("%s failed differently: %s", what, checks.Shorten(msg, 300)))
	}
	return out
}

// attemptNotes are the long output notes of failed attempts, each named
// with its attempt: "attempt 1 artifacts: …".
func attemptNotes(failed []attempt) []string {
	var out []string
	for i, a := range failed {
		for _, n := range a.notes {
			out = append(out, fmt.Sprintf("attempt %d %s", i+1, n))
		}
	}
	return out
}

// retryWait waits d before a retry, within ctx, and returns "" to retry,
// or why not: the run's budget ends within d (no wait is begun that the
// run could not finish), or the run ended during it.
func retryWait(ctx context.Context, d time.Duration) string {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return fmt.Sprintf("not retried: the run budget ends within the %s retry delay", d)
	}
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	if ctx.Err() != nil {
		return "not retried: " + stopReason(ctx).Error()
	}
	return ""
}

// freshStart readies retry n of browser case c as a test runner readies a
// retried test: a new browser context, so that nothing the failed attempt
// left (its cookies, storage, the page it ended on, a sign-out) carries
// over, in which the required browser cases that passed before it are
// replayed (a sign-in), their steps only, outside the case's time.
func (r *runState) freshStart(ctx context.Context, c *Case, before []*caseResult, n int) error {
	if !hasBrowserStep(c) || r.pg == nil {
		return nil
	}
	p, err := r.pg.Fresh(ctx)
	if err != nil {
		var lost *browser.LostError
		switch {
		case ctx.Err() != nil:
			return stopReason(ctx)
		case errors.As(err, &lost):
			return fmt.Errorf("before attempt %d: browser lost: %w", n, lost)
		}
		return &configError{fmt.Errorf("before attempt %d: %w", n, err)}
	}
	r.pg = p
	for _, b := range before {
		if !b.ran || !b.c.Required || !hasBrowserStep(b.c) || b.lastErr != nil {
			continue
		}
		if err := r.runSteps(ctx, b.c); err != nil {
			return fmt.Errorf("before attempt %d, replaying required case %q: %w", n, b.c.Name, err)
		}
	}
	return nil
}

// crossed says which threshold a time crossed, with its range.
func crossed(d time.Duration, st checks.State, th checks.Thresholds) string {
	r := th.Warning
	if st == checks.Critical {
		r = th.Critical
	}
	return fmt.Sprintf("took %.3fs, outside the %s range %s", d.Seconds(), strings.ToLower(st.String()), r)
}

// runSteps runs a case's steps in order, stopping at the first failure.
func (r *runState) runSteps(ctx context.Context, c *Case) error {
	for i, st := range c.Steps {
		r.details = nil
		if ctx.Err() != nil {
			return fmt.Errorf("step %d %s: %w", i+1, st.Kind, stopReason(ctx))
		}
		r.stepName, r.stepKind = fmt.Sprintf("%s: step %d", c.Name, i+1), st.Kind
		t0 := time.Now()
		err := st.step.run(ctx, r, r.scope)
		if err != nil {
			r.logf(LogSteps, "%s: failed in %s: %v", r.stepName, secs(time.Since(t0)), err)
		} else {
			r.logf(LogSteps, "%s: passed in %s", r.stepName, secs(time.Since(t0)))
		}
		r.status("")
		if err != nil {
			if ctx.Err() != nil && !isConfigErr(err) {
				return fmt.Errorf("step %d %s: %w", i+1, st.Kind, stopReason(ctx))
			}
			var ce *configError
			if errors.As(err, &ce) {
				return &configError{fmt.Errorf("step %d %s (line %d): %w", i+1, st.Kind, st.Line, ce.err)}
			}
			return fmt.Errorf("step %d %w", i+1, err)
		}
	}
	return nil
}

// stopError says why the run's context ended; it unwraps to the context's
// error for errors.Is.
type stopError struct{ ctx context.Context }

func (e stopError) Error() string {
	if errors.Is(e.ctx.Err(), context.DeadlineExceeded) {
		return "stopped: the run budget ran out"
	}
	return fmt.Sprintf("interrupted (%v)", context.Cause(e.ctx))
}
func (e stopError) Unwrap() error { return e.ctx.Err() }

func stopReason(ctx context.Context) error { return stopError{ctx} }

func isConfigErr(err error) bool {
	var ce *configError
	return errors.As(err, &ce)
}

// browserLost ends a run whose browser went away (crashed, was killed, or
// its connection dropped) during a case: the app was not judged.
type browserLost struct {
	err      *browser.LostError
	caseName string
}

func (e *browserLost) Error() string {
	return fmt.Sprintf("browser lost: %v during case %q", e.err, e.caseName)
}
func (e *browserLost) Unwrap() error { return e.err }

func isLost(err error) bool {
	var lost *browser.LostError
	return errors.As(err, &lost)
}

func progress(w io.Writer, cr *caseResult, m *Masker) {
	if w == nil {
		return
	}
	fmt.Fprintln(w, m.Mask(casePart(cr).Line()))
}

// casePart is a case as a part of the result.
func casePart(cr *caseResult) checks.Part {
	if !cr.ran {
		return checks.Part{Name: cr.c.Name, Mark: checks.Skipped, Detail: cr.detail}
	}
	return checks.Part{Name: cr.c.Name, State: cr.state, Time: cr.dur, Timed: true, Detail: cr.longDetail()}
}
