package suites

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/suites/testreport"
)

// outcome is everything one run found out: its cases, its tenant (the
// sweep, create, delete), what stopped it, its time. The plugin result —
// state, summary, perfdata in its order, parts, notes — and the JUnit
// report are derived from it here, and nowhere else.
type outcome struct {
	suite  *Suite
	env    string
	th     checks.Thresholds // on the total time
	opts   RunOptions
	ctx    context.Context // the steps' context: why the run stopped
	cases  []*caseResult
	tenant *tenantRun // nil when no tenant is provisioned
	fatal  error      // a timeout, a cancel, a config error or a lost browser
	total  time.Duration

	diag diagnosis // the suite's diagnose steps, after a failed case

	// The browser's start-up (browser_start), and when the page was ready:
	// zero when no browser was started.
	browserTook  time.Duration
	browserReady time.Time
}

// diagnosis is what diagnose steps found: whether they ran, what the first
// failing one said (empty when all passed), and each step's verdict and
// layers for the long output.
type diagnosis struct {
	ran    bool
	found  string
	notRun int // steps that could not run
	lines  []string
}

// diagnose runs diagnose steps (the suite's after a failed case, the
// tenant's after a refused create): fine-grained checks that say which
// layer broke. They run in order until one finds a broken layer; one that
// cannot run (a config error, no time left) is a note in the long output,
// not a finding. Not when ctx is over.
func (r *runState) diagnose(ctx context.Context, steps []*StepConfig) diagnosis {
	if len(steps) == 0 || ctx.Err() != nil {
		return diagnosis{}
	}
	d := diagnosis{ran: true}
	for i, st := range steps {
		name := fmt.Sprintf("diagnose step %d %s", i+1, st.Kind)
		if ctx.Err() != nil {
			d.lines = append(d.lines, fmt.Sprintf("%s: not run: %v", name, stopReason(ctx)))
			d.notRun++
			continue
		}
		r.details = nil
		r.stepName, r.stepKind = fmt.Sprintf("diagnose: step %d", i+1), st.Kind
		t0 := time.Now()
		err := st.step.run(ctx, r, r.scope)
		r.status("")
		if err != nil {
			r.logf(LogSteps, "%s: found in %s: %v", r.stepName, secs(time.Since(t0)), err)
		} else {
			r.logf(LogSteps, "%s: passed in %s", r.stepName, secs(time.Since(t0)))
		}
		switch {
		case err == nil:
			d.lines = append(d.lines, name+": passed")
		case isConfigErr(err) || ctx.Err() != nil:
			d.lines = append(d.lines, fmt.Sprintf("%s (line %d): could not run: %s", name, st.Line, r.mask.Mask(err.Error())))
			d.notRun++
		default:
			if d.found == "" {
				d.found = r.mask.Mask(err.Error())
			}
			said := err
			if se := (*stepError)(nil); errors.As(err, &se) && se.kind == st.Kind {
				said = se.err // the line names the kind already
			}
			d.lines = append(d.lines, name+": "+r.mask.Mask(said.Error()))
		}
		for _, l := range r.details {
			d.lines = append(d.lines, "  "+r.mask.Mask(l))
		}
		r.details = nil
		if d.found != "" {
			break
		}
	}
	return d
}

// add puts the diagnosis after the summary and in the long output. It
// never changes the state.
func (d diagnosis) add(res *checks.Result) {
	if !d.ran {
		return
	}
	switch {
	case d.found != "":
		res.Long = append(res.Long, "diagnosis: "+d.found)
	case d.notRun > 0:
		res.Long = append(res.Long, fmt.Sprintf("diagnosis: none found; %d diagnose step(s) could not run", d.notRun))
	default:
		res.Long = append(res.Long, "diagnosis: every diagnose step passed")
	}
	res.Long = append(res.Long, d.lines...)
	if d.found != "" {
		res.Tail = strings.TrimPrefix(res.Tail+"; diagnosis: "+d.found, "; ")
	}
}

// finish derives the run's result (masked) and its report.
func (r *runState) finish(oc *outcome) checks.Result {
	oc.total = time.Since(r.start)
	oc.browserTook, oc.browserReady = r.browserTook, r.browserReady
	res := oc.result(r)
	r.maskResult(&res)
	if oc.opts.Report != nil {
		*oc.opts.Report = oc.report(r, res)
	}
	return res
}

// builtinLabels are the perfdata labels of the run itself, with what they
// measure: a case's label must differ from them (the config refuses it).
var builtinLabels = map[string]string{
	"time":          "the run's total time",
	"tenant_create": "the tenant's create",
	"browser_start": "Chromium's start-up",
	"tenant_delete": "the tenant's delete",
	"failed":        "the number of failed cases",
	"swept":         "the number of leftover tenants swept",
	"sweep":         "the sweep's time",
}

// result is the plugin result. Perfdata comes in one order: time,
// tenant_create, browser_start, the cases' items, tenant_delete, failed,
// swept, sweep.
func (oc *outcome) result(r *runState) checks.Result {
	tr := oc.tenant
	head := fmt.Sprintf("%s on %s: ", oc.suite.name, oc.env)
	var res checks.Result
	var casePerf []checks.Perfdata
	var failedPerf *checks.Perfdata // no case ran: none
	if tr != nil && tr.createErr != nil {
		// No tenant, no cases: the create's failure is the result.
		res.State, res.Summary = tr.createState, head+tr.createSummary
		if tr.appFailed {
			res.Parts = []checks.Part{{State: tr.createState, Detail: tr.createErr.Error()}}
		}
		tr.diag.add(&res)
	} else {
		res, casePerf, failedPerf = oc.casesResult(r)
		oc.diag.add(&res)
	}

	th := oc.th
	if tr != nil && tr.createErr != nil {
		th = checks.Thresholds{} // no case ran: the total time is not judged
	}
	res.Perfdata = []checks.Perfdata{checks.Duration("time", oc.total, th)}
	if tr != nil && (tr.sess != nil || tr.createErr != nil) {
		res.Perfdata = append(res.Perfdata, checks.Duration("tenant_create", tr.createDur, checks.Thresholds{}))
	}
	if !oc.browserReady.IsZero() {
		res.Perfdata = append(res.Perfdata, checks.Duration("browser_start", oc.browserTook, checks.Thresholds{}))
	}
	res.Perfdata = append(res.Perfdata, casePerf...)
	if tr != nil && tr.sess != nil {
		res.Perfdata = append(res.Perfdata, checks.Duration("tenant_delete", tr.deleteDur, checks.Thresholds{}))
	}
	if failedPerf != nil {
		res.Perfdata = append(res.Perfdata, *failedPerf)
	}
	if tr == nil {
		return res
	}
	res.Perfdata = append(res.Perfdata, checks.Perfdata{Label: "swept", Value: float64(len(tr.sweep.Deleted)), Min: checks.Float(0)})
	if tr.swept {
		res.Perfdata = append(res.Perfdata, checks.Duration("sweep", tr.sweep.Took, checks.Thresholds{}))
	}
	warnings, notes := tr.judge()
	if len(warnings) > 0 {
		res.State = checks.Worst(res.State, checks.Warning)
		res.Summary += "; " + strings.Join(warnings, "; ")
		var parts []checks.Part
		for i := len(warnings) - 1; i >= 0; i-- {
			parts = append(parts, checks.Part{State: checks.Warning, Detail: warnings[i]})
		}
		res.Parts = append(parts, res.Parts...)
	}
	res.Long = append(res.Long, notes...)
	return res
}

// casesResult is the state, summary, case perfdata and parts of a run
// whose cases ran (or were meant to).
func (oc *outcome) casesResult(r *runState) (res checks.Result, casePerf []checks.Perfdata, failedPerf *checks.Perfdata) {
	ctx, suite, env, results, total, th, o, fatal := oc.ctx, oc.suite, oc.env, oc.cases, oc.total, oc.th, oc.opts, oc.fatal
	var states []checks.State
	var failed, ran, flaky, warned []string
	notChosen := 0
	for _, cr := range results {
		if !cr.ran {
			if r.deselected[cr.c] != "" {
				notChosen++
			}
			continue
		}
		ran = append(ran, cr.c.Name)
		// A passing case's items make room for the summary first when the
		// status line would not fit the output limit.
		pd := append([]checks.Perfdata{checks.Duration(checks.Label(cr.c.Name), cr.dur,
			checks.Thresholds{Warning: cr.c.Warning.Range, Critical: cr.c.Critical.Range})},
			cr.command.perfdata(cr.c.Name)...)
		// A failed case's items go only after every passing one: the
		// summary, which names the failures, goes last of all.
		keep := checks.KeepIfRoomLast
		if cr.state == checks.OK {
			keep = checks.KeepIfRoom
		}
		for i := range pd {
			pd[i].Keep = keep
		}
		casePerf = append(casePerf, pd...)
		if !cr.cut {
			states = append(states, cr.state)
		}
		if cr.lost {
			continue // the run's summary names it
		}
		if cr.state == checks.Critical || cr.state == checks.Unknown {
			limit := 120
			if cr.command != nil {
				limit = 300 // the names of the failed tests
			}
			failed = append(failed, fmt.Sprintf("%s (%s)", cr.c.Name, checks.Shorten(cr.detail, limit)))
		} else if cr.attempts > 1 {
			flaky = append(flaky, cr.c.Name)
		} else if cr.state == checks.Warning {
			warned = append(warned, fmt.Sprintf("%s (%s)", cr.c.Name, checks.Shorten(cr.detail, 120)))
		}
	}
	failedPerf = &checks.Perfdata{Label: "failed", Value: float64(len(failed)),
		Min: checks.Float(0), Max: checks.Float(float64(len(results)))}

	// Failures first in long output, so trimming keeps what matters.
	var bad, good []checks.Part
	for _, cr := range results {
		if cr.ran && cr.state != checks.OK {
			bad = append(bad, casePart(cr))
		} else {
			good = append(good, casePart(cr))
		}
	}
	// A command case's tests: failures after the failed cases, the rest
	// last, so that trimming drops passing tests first.
	var passedTests []checks.Part
	for _, cr := range results {
		b, g, unlisted := cr.command.parts(cr.c.Name)
		bad = append(bad, b...)
		passedTests = append(passedTests, g...)
		res.Long = append(res.Long, unlisted...)
	}
	res.Parts = append(append(bad, good...), passedTests...)

	head := fmt.Sprintf("%s on %s: ", suite.name, env)
	totalState := th.Evaluate(total.Seconds())
	var lost *browserLost
	switch {
	case errors.As(fatal, &lost):
		// The cases judged before stand: a failure among them stays
		// CRITICAL, and comes first.
		res.State = checks.Worst(append(states, checks.Unknown)...)
		res.Summary = head + r.mask.Mask(lost.Error())
		if len(failed) > 0 {
			res.Summary = head + fmt.Sprintf("%d of %d cases failed: %s; then %s", len(failed), len(ran), r.mask.Mask(strings.Join(failed, ", ")), r.mask.Mask(lost.Error()))
		}
	case fatal != nil && !isConfigErr(fatal) && (errors.Is(fatal, context.DeadlineExceeded) || errors.Is(context.Cause(ctx), context.DeadlineExceeded)):
		// A case that failed before the budget ran out stays CRITICAL.
		res.State = checks.Worst(append(states, o.TimeoutState)...)
		res.Summary = head + fmt.Sprintf("timed out after %s", o.Budget)
		if len(failed) > 0 {
			res.Summary += " in " + failed[len(failed)-1]
		}
	case fatal != nil && !isConfigErr(fatal) && ctx.Err() != nil:
		res.State = checks.Worst(append(states, checks.Unknown)...)
		res.Summary = head + fmt.Sprintf("interrupted (%v)", context.Cause(ctx))
	case fatal != nil:
		res.State = checks.Unknown
		res.Summary = head + r.mask.Mask(fatal.Error())
	case len(ran) == 0:
		res.State = checks.Unknown
		res.Summary = head + "no case ran (every case is skipped in this environment)"
		if notChosen > 0 {
			res.Summary = head + "no case ran (every case chosen is skipped in this environment)"
		}
	case len(failed) > 0:
		res.State = checks.Worst(append(states, totalState)...)
		res.Summary = head + fmt.Sprintf("%d of %d cases failed: %s", len(failed), len(ran), r.mask.Mask(strings.Join(failed, ", ")))
	default:
		res.State = checks.Worst(append(states, totalState)...)
		res.Summary = head + fmt.Sprintf("%d of %d cases passed in %.2fs", len(ran), len(ran), total.Seconds())
		if notChosen > 0 {
			res.Summary += fmt.Sprintf(" (%d not selected)", notChosen)
		}
		if len(flaky) > 0 {
			res.Summary += fmt.Sprintf(", flaky: %s", strings.Join(flaky, ", "))
		}
		if len(warned) > 0 {
			res.Summary += ", warning: " + r.mask.Mask(strings.Join(warned, ", "))
		}
		if totalState != checks.OK {
			res.Summary += " (total " + crossed(total, totalState, th) + ")"
		}
	}
	// The dir of the evidence ends the status line, and is never cut.
	res.Tail = artifactsNote(results)
	return res, casePerf, failedPerf
}

// report is the run as CI servers read it (--junit): the tenant's create
// and delete, each case, and each test of a command case.
func (oc *outcome) report(r *runState, res checks.Result) Report {
	suite, env, results, total, tr := oc.suite, oc.env, oc.cases, oc.total, oc.tenant
	rep := Report{Suite: suite.name, Env: env, Start: r.start, Total: total, State: res.State, Summary: res.Text()}
	add := func(c ReportCase) {
		c.Detail = r.mask.Mask(c.Detail)
		rep.Cases = append(rep.Cases, c)
	}
	if tr != nil && (tr.sess != nil || tr.createErr != nil) {
		c := ReportCase{Class: suite.name, Name: "tenant create", Time: tr.createDur, State: checks.OK}
		if tr.createErr != nil {
			c.State, c.Detail = tr.createState, tr.createErr.Error()
		}
		add(c)
	}
	for _, cr := range results {
		c := ReportCase{Class: suite.name, Name: cr.c.Name, Time: cr.dur, State: cr.state, Detail: cr.longDetail()}
		if !cr.ran {
			c.Skipped = cr.state == checks.OK
		}
		add(c)
		if cr.command == nil {
			continue
		}
		for _, t := range cr.command.tests() {
			tc := ReportCase{Class: suite.name + "." + cr.c.Name, Name: t.FullName(), Time: t.Time, State: checks.OK, Detail: t.Message}
			switch t.Status {
			case testreport.Skipped:
				tc.Skipped = true
			case testreport.Flaky:
				tc.State = suite.Flaky.State
			case testreport.Failed, testreport.Errored:
				tc.State = checks.Critical
			}
			add(tc)
		}
	}
	// A state no case explains (the total time's threshold): a testcase of
	// its own, or a CI server would read a WARNING as a pass.
	explained := false
	for _, c := range rep.Cases {
		explained = explained || c.State != checks.OK
	}
	if res.State != checks.OK && !explained && !(tr != nil && tr.deleteErr != nil) {
		add(ReportCase{Class: suite.name, Name: "run", Time: total, State: res.State, Detail: res.Text()})
	}
	if tr != nil && tr.sess != nil {
		c := ReportCase{Class: suite.name, Name: "tenant delete", Time: tr.deleteDur, State: checks.OK}
		if tr.deleteErr != nil {
			c.State, c.Detail = checks.Warning, fmt.Sprintf("tenant %s (id %s) NOT deleted: %v", tr.sess.Tenant.Name, tr.sess.Tenant.ID, tr.deleteErr)
		}
		add(c)
	}
	return rep
}
