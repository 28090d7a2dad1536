package suites

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/statedir"
	"github.com/suitecheck/suitecheck/suites/browser"
)

// decodeBrowser reads a browser step in its short or mapping form, and
// checks it unless a template fills a value it checks: that is checked
// when it is rendered.
func decodeBrowser(st *StepConfig) (browser.Step, error) {
	var s browser.Step
	n := st.Node
	if n.Kind == yaml.ScalarNode {
		field, example, _ := browser.ShortForm(st.Kind)
		if field == "" {
			return s, &LineError{Line: st.Line, Msg: fmt.Sprintf("step %s needs a mapping, e.g. %s", st.Kind, example)}
		}
		n = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: field, Line: n.Line}, n}}
	}
	if err := decodeStrict(st, n, &s); err != nil {
		return s, err
	}
	s.Action = st.Kind
	if strings.Contains(s.Value+s.Selector+s.File, "{{") {
		return s, nil
	}
	if err := s.Validate(); err != nil {
		return s, &LineError{Line: st.Line, Msg: "step " + err.Error()}
	}
	return s, nil
}

// failFast sets FailFast on the browser steps of a case whose console
// policy is fail: a failed request of the page fails that case anyway, so
// its waits end as soon as one fails instead of waiting out their time.
func failFast(c *Case) {
	for _, st := range c.Steps {
		if ts, ok := st.step.(*typedStep[browser.Step]); ok {
			ts.v.FailFast = c.Console == PolicyFail
		}
	}
}

func runBrowser(ctx context.Context, env stepEnv, _ *StepConfig, s browser.Step) error {
	if s.Secret {
		env.masker().Add(s.Value)
	}
	if err := s.Validate(); err != nil {
		return &configError{err}
	}
	if s.Action == browser.ActionUpload && s.File != "" {
		if _, err := os.Stat(s.File); err != nil {
			return &configError{fmt.Errorf("upload: %w", err)}
		}
	}
	p, err := env.page(ctx)
	if err != nil {
		if isLost(err) {
			return fmt.Errorf("%s: %w", s, err)
		}
		return err
	}
	if err := p.Run(ctx, s); err != nil {
		var se *browser.StepError
		if errors.As(err, &se) && se.Reason == browser.ReasonInvalidSelector {
			return &configError{err}
		}
		// A lost browser (a *browser.LostError inside) is told apart by
		// the runner: not the app's failure.
		return &stepError{"", err}
	}
	return nil
}

// BrowserOptions choose the browser of a run.
type BrowserOptions struct {
	Bin       string // --browser: a Chromium binary; empty finds the system one
	RemoteURL string // --browser-url: a running browser's DevTools endpoint
	Artifacts string // --artifacts: where screenshots and HTML of failures go; empty: statedir.DefaultArtifacts
	KeepRuns  int    // --keep-artifacts: runs kept per suite
	// Logf receives the browser's diagnostics for people (launched, with
	// its pid; closed); nil discards them.
	Logf func(format string, args ...any)
}

// launchOptions are the browser.Options of the run's browser. Its
// diagnostics are masked like the rest of the run's output.
func (r *runState) launchOptions() browser.Options {
	o := r.bopts
	bo := browser.Options{Bin: o.Bin, RemoteURL: o.RemoteURL, ConnectTo: r.pins}
	if o.Logf != nil {
		bo.Logf = func(format string, args ...any) { o.Logf("%s", r.mask.Mask(fmt.Sprintf(format, args...))) }
	}
	return bo
}

// page returns the run's one page, launching the browser on first use. A
// browser that cannot be had is our problem, not the app's: UNKNOWN. Its
// error is kept: every later call gives it again, and no second browser is
// launched.
func (r *runState) page(ctx context.Context) (*browser.Page, error) {
	if r.pg != nil {
		return r.pg, nil
	}
	if r.pageErr != nil {
		return nil, r.pageErr
	}
	p, err := r.openPage(ctx)
	if err != nil {
		r.pageErr = err
		return nil, err
	}
	r.pg = p
	return p, nil
}

// startBrowser readies the run's page before the clock of browser case c
// starts, so that Chromium's start-up is not the case's time but
// browser_start. A browser that cannot be had is the error of the case's
// first browser step, in runSteps' words.
func (r *runState) startBrowser(ctx context.Context, c *Case) error {
	if r.pg != nil {
		return nil
	}
	_, err := r.page(ctx)
	if err == nil {
		return nil
	}
	i := slices.IndexFunc(c.Steps, func(st *StepConfig) bool { return stepKinds[st.Kind].browser })
	st := c.Steps[i]
	var ce *configError
	if errors.As(err, &ce) {
		return &configError{fmt.Errorf("step %d %s (line %d): %w", i+1, st.Kind, st.Line, ce.err)}
	}
	return fmt.Errorf("step %d %s: %w", i+1, st.Kind, err)
}

func (r *runState) openPage(ctx context.Context) (*browser.Page, error) {
	var b *browser.Browser
	var err error
	// Chromium's start-up: the launch (here, or ahead of time while the
	// tenant was made: its own time then, not the wait), and the page.
	since := time.Now()
	var ahead time.Duration
	if r.launching != nil {
		// Started while the tenant was made: wait for it.
		select {
		case l := <-r.launching:
			// Taken: this run owns it now (and closes it below on error).
			b, err, ahead, r.launching = l.b, l.err, l.took, nil
			since = time.Now()
			if err == nil && ctx.Err() != nil {
				b.Close()
				b, err = nil, ctx.Err()
			}
		case <-ctx.Done():
			err = ctx.Err() // still launching: the run's closer waits for it
		}
	} else {
		b, err = browser.Launch(ctx, r.launchOptions())
	}
	if err != nil {
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			// A browser that never became ready is not the app's failure.
			return nil, &configError{&noBrowserError{errors.New("browser: not ready when the run budget ran out (check --browser, --browser-url)")}}
		case ctx.Err() != nil:
			return nil, stopReason(ctx)
		}
		return nil, &configError{&noBrowserError{fmt.Errorf("browser: %w", err)}}
	}
	r.ext = append(r.ext, closerFunc(b.Close))
	p, err := b.Page(ctx)
	if err != nil {
		var lost *browser.LostError
		switch {
		case ctx.Err() != nil:
			return nil, stopReason(ctx)
		case errors.As(err, &lost):
			return nil, fmt.Errorf("browser lost: %w", lost)
		}
		return nil, &configError{&noBrowserError{fmt.Errorf("browser page: %w", err)}}
	}
	r.browserReady = time.Now()
	r.browserTook = ahead + r.browserReady.Sub(since)
	// The page masks the run's secrets too, and hides them from screenshots.
	p.SetMask(r.mask.Mask)
	if r.diag.Log != nil && r.diag.Level >= LogSteps {
		p.SetTrace(func(level int, line string) { r.logf(level, "  %s", line) }, r.diag.Level)
	}
	p.StartCase()
	return p, nil
}

// noBrowserError is a browser that could not be had (launched, reached,
// or given a page): our problem, not the app's, and the reason the cases
// after are not run.
type noBrowserError struct{ err error }

func (e *noBrowserError) Error() string { return e.err.Error() }
func (e *noBrowserError) Unwrap() error { return e.err }

// launched is the outcome of a browser launched ahead of its first step.
type launched struct {
	b    *browser.Browser
	err  error
	took time.Duration
}

// browserFits refuses, before anything is made, a browser the run's
// target cannot use: -I with a shared browser, which resolves names for
// all its clients alike. A suite whose cases to run have no browser step
// is not concerned.
func (r *runState) browserFits(suite *Suite, env *Environment) error {
	if len(r.pins) == 0 || r.bopts.RemoteURL == "" {
		return nil
	}
	for _, c := range suite.Cases {
		if hasBrowserStep(c) && r.willRun(c, env) {
			host := slices.Collect(maps.Keys(r.pins))[0]
			return fmt.Errorf("-I/--address and --browser-url: a shared browser resolves %s for all its clients alike; use a browser of the run's own (leave out --browser-url)", host)
		}
	}
	return nil
}

// prelaunch starts the browser in the background when a case that will run
// needs one: launching (~0.35 s), or connecting to a shared browser and
// opening a tab there (a new renderer, ~0.15 s), and making the tenant are
// independent. page takes it; close disposes of it when no step did.
func (r *runState) prelaunch(ctx context.Context, suite *Suite, env *Environment) {
	need := false
	for _, c := range suite.Cases {
		if hasBrowserStep(c) && r.willRun(c, env) {
			need = true
			break
		}
	}
	if !need {
		return
	}
	lctx, cancel := context.WithCancel(ctx)
	ch := make(chan launched, 1)
	r.launching = ch
	go func() {
		t0 := time.Now()
		b, err := browser.Launch(lctx, r.launchOptions())
		if err == nil {
			// The tab too: its error, if any, is had again by openPage's
			// call, which returns this page when there is one.
			_, _ = b.Page(lctx)
		}
		ch <- launched{b, err, time.Since(t0)}
	}()
	r.ext = append(r.ext, closerFunc(func() error {
		cancel()
		if r.launching != nil {
			if l := <-r.launching; l.b != nil {
				return l.b.Close()
			}
		}
		return nil
	}))
}

// endBrowserCase collects what the page saw during a case and, when the
// case failed, saves its evidence: a screenshot, the HTML, the network as
// HAR and the console. It returns the state the observations give under
// the case's policy, notes for long output, and the paths of the files
// saved.
//
// attempt, when not 0, names the files: those of each failed attempt of a
// case that retries are kept.
func (r *runState) endBrowserCase(ctx context.Context, c *Case, failed, final bool, attempt int) (checks.State, []string, []string) {
	if r.pg == nil || !hasBrowserStep(c) {
		return checks.OK, nil, nil
	}
	if !r.pg.Alive() {
		// Crashed, or the browser is lost: nothing to observe or save,
		// and the step's error says why (no waiting here to learn how).
		return checks.OK, nil, nil
	}
	// The steps' context may have ended; collecting uses what is left of
	// the run's (a reserve the runner keeps), at most 2s. After a signal,
	// skip it: the result is wanted now.
	outer := r.outer
	if outer == nil {
		outer = ctx
	}
	if outer.Err() != nil {
		return checks.OK, nil, nil
	}
	cctx, cancel := context.WithTimeout(outer, 2*time.Second)
	defer cancel()
	obs := r.pg.EndCase(cctx)
	var notes []string
	state := checks.OK
	if len(obs.List) > 0 && c.Console != PolicyIgnore {
		notes = append(notes, r.mask.Mask(obs.String()))
		if c.Console == PolicyFail {
			state = checks.Critical
		} else {
			state = checks.Warning
		}
	}
	var saved []string
	if failed || final && state == checks.Critical {
		var png, html, har, log string
		base, err := r.artifactsBase()
		if err == nil {
			err = statedir.Ensure(base, statedir.Artifacts)
		}
		if err == nil {
			dir, prefix := filepath.Join(base, r.suite), r.stamp+"-"+checks.Label(c.Name)
			if attempt > 0 {
				prefix += fmt.Sprintf("-attempt%d", attempt)
			}
			var rerr error
			png, html, err = r.pg.SaveArtifacts(cctx, dir, prefix, r.mask.Mask)
			har, log, rerr = r.pg.SaveRecords(dir, prefix, r.mask.Mask)
			err = errors.Join(err, rerr)
		}
		saved = nonEmpty(png, html, har, log)
		switch {
		case err != nil && len(saved) == 0:
			notes = append(notes, "artifacts not saved: "+r.mask.Mask(err.Error()))
		case err != nil:
			// Some were (the HAR and the log need no page): say which not.
			notes = append(notes, "some artifacts not saved: "+r.mask.Mask(err.Error()))
		}
		if base != "" {
			pruneArtifacts(base, r.suite, r.bopts.KeepRuns)
		}
	}
	return state, notes, saved
}

// longDetail is a case's detail for its long output line and its report:
// with the full paths of its evidence, when it saved some.
func (cr *caseResult) longDetail() string {
	d := cr.detail
	if len(cr.artifacts) > 0 {
		d += "; artifacts: " + strings.Join(cr.artifacts, " ")
	}
	for _, n := range cr.notes {
		d += "; " + n
	}
	return strings.TrimPrefix(d, "; ")
}

// artifactsNote names, for the status line, the directory of the failed
// cases' evidence, once: "artifacts in /var/lib/…/artifacts/SUITE", the
// status line's tail (never cut when the summary is). The
// long output lists the files.
func artifactsNote(results []*caseResult) string {
	for _, cr := range results {
		if len(cr.artifacts) > 0 {
			return "artifacts in " + filepath.Dir(cr.artifacts[0])
		}
	}
	return ""
}

// willRun reports whether case c is meant to run: chosen (--case, --tag)
// and not skipped by the environment's tags.
func (r *runState) willRun(c *Case, env *Environment) bool {
	return r.deselected[c] == "" && skippedTag(c, env) == ""
}

func hasBrowserStep(c *Case) bool {
	for _, st := range c.Steps {
		if stepKinds[st.Kind].browser {
			return true
		}
	}
	return false
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// artifactsBase is where the run's artifacts go: --artifacts, else the
// default state dir's artifacts/ (--state-dir's is set by the command).
func (r *runState) artifactsBase() (string, error) {
	if r.bopts.Artifacts != "" {
		return r.bopts.Artifacts, nil
	}
	return statedir.DefaultArtifacts()
}

// checkArtifacts refuses, before a suite with browser cases runs, an
// artifacts dir (or the suite's dir in it) that is a symlink or that
// another user could write: the screenshots of failures would go where
// that user chose. Missing ones are made 0700 when first needed.
func (r *runState) checkArtifacts(suite *Suite, env *Environment) error {
	if !slices.ContainsFunc(suite.Cases, func(c *Case) bool { return hasBrowserStep(c) && r.willRun(c, env) }) {
		return nil
	}
	base, err := r.artifactsBase()
	if err != nil {
		return err
	}
	if err := statedir.Check(base, statedir.Artifacts); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if err := statedir.Check(filepath.Join(base, suite.name), statedir.SuiteArtifacts); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// pruneArtifacts keeps the files of the newest keep runs in base/suite. A
// run's files share the timestamp before the first '-'. It deletes nothing
// when either directory is not to be trusted (a symlink would make it
// delete elsewhere); unlink never follows a link among the files.
func pruneArtifacts(base, suite string, keep int) {
	if keep <= 0 {
		return
	}
	dir := filepath.Join(base, suite)
	if statedir.Check(base, statedir.Artifacts) != nil || statedir.Check(dir, statedir.SuiteArtifacts) != nil {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	runs := map[string][]string{}
	for _, e := range entries {
		stamp, _, ok := strings.Cut(e.Name(), "-")
		if ok && !e.IsDir() {
			runs[stamp] = append(runs[stamp], e.Name())
		}
	}
	stamps := make([]string, 0, len(runs))
	for s := range runs {
		stamps = append(stamps, s)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(stamps)))
	for _, s := range stamps[min(keep, len(stamps)):] {
		for _, f := range runs[s] {
			_ = os.Remove(filepath.Join(dir, f))
		}
	}
}
