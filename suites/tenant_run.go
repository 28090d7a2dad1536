package suites

// The tenant side of one run: the sweep in its slice of the budget, create,
// the teardown in its reserved slice, and what they add to the result.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/tenant"
)

// tenantRun is the tenant side of one run, for the result.
type tenantRun struct {
	sweep     tenant.SweepReport
	sweepErr  error
	sess      *tenant.Session
	createDur time.Duration
	deleteDur time.Duration
	tornDown  bool
	deleteErr error
	// createErr is why create failed, and createState the state it gave.
	createErr   error
	createState checks.State
	swept       bool // the sweep ran (its time is perfdata)
}

// teardownReserve is the slice of the budget kept for deleting the tenant.
func teardownReserve(budget, timeout time.Duration) time.Duration {
	if timeout <= 0 {
		timeout = DefaultTeardownTimeout
	}
	return min(timeout, budget/4)
}

// teardownContext bounds the delete: its own timeout, and the end of the
// budget less the reserve kept for the result, but at least half a second
// when artifacts used that up; not cancelled by a signal, which is why it
// runs.
func teardownContext(outer context.Context, timeout, reserve time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		timeout = DefaultTeardownTimeout
	}
	now := time.Now()
	end := now.Add(timeout)
	if dl, ok := outer.Deadline(); ok {
		limit := dl.Add(-reserve)
		if floor := now.Add(500 * time.Millisecond); limit.Before(floor) {
			limit = floor
		}
		if limit.Before(end) {
			end = limit
		}
	}
	return context.WithDeadline(context.WithoutCancel(outer), end)
}

// provision sweeps the leftovers of dead runs, then creates the run's
// tenant and puts its fields in the scope. When create fails, it returns
// the run's result and true.
func (r *runState) provision(ctx context.Context, cfg *Config, suite *Suite, envName string, tr *tenantRun, o RunOptions) (checks.Result, bool) {
	m, err := r.manager(cfg, envName, o.Tenants)
	if err != nil {
		return checks.FromError(fmt.Errorf("tenant: %w", err)), true
	}
	host, _ := os.Hostname()
	timeout := cmp.Or(o.Tenants.TeardownTimeout, DefaultTeardownTimeout)
	sctx, cancel := context.WithTimeout(ctx, sweepSlice(ctx, timeout))
	tr.sweep, tr.sweepErr = m.Sweep(sctx, tenant.SweepOptions{Host: host, DeleteTimeout: timeout})
	tr.swept = true
	cancel()
	t0 := time.Now()
	sess, err := m.Create(ctx)
	tr.createDur = time.Since(t0)
	if err == nil {
		tr.sess = sess
		t := sess.Tenant
		for _, k := range t.Secret {
			r.mask.Add(t.Fields[k])
		}
		for k, v := range t.Fields {
			r.scope.Tenant[k] = v
			if cfg.Tenant.secretField(k) {
				r.mask.Add(v)
			}
		}
		return checks.Result{}, false
	}

	head := fmt.Sprintf("%s on %s: ", suite.name, envName)
	var res checks.Result
	msg := r.mask.Mask(err.Error())
	switch {
	case tenant.IsConfigError(err):
		res.State, res.Summary = checks.Unknown, head+msg
	case errors.Is(context.Cause(ctx), context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.State, res.Summary = o.TimeoutState, head+fmt.Sprintf("timed out after %s: %s", o.Budget, msg)
	case ctx.Err() != nil:
		res.State, res.Summary = checks.Unknown, head+fmt.Sprintf("interrupted (%v): %s", context.Cause(ctx), msg)
	default:
		// The app refused (or failed: a 5xx): CRITICAL, and the diagnose
		// steps say why.
		verb := "the app refused to "
		if sess != nil {
			verb = "the app failed to "
		}
		res.State, res.Summary = checks.Critical, head+verb+msg
		res.Long = append(res.Long, "[CRITICAL] "+msg)
		if len(cfg.Tenant.Diagnose) > 0 {
			derr := r.runSteps(ctx, &Case{Name: "diagnose", Steps: cfg.Tenant.Diagnose})
			if derr != nil {
				d := r.mask.Mask(derr.Error())
				res.Summary += "; diagnose: " + d
				res.Long = append(res.Long, "diagnose: "+d)
			} else {
				res.Long = append(res.Long, "diagnose: every diagnose step passed")
			}
		}
	}
	tr.createErr, tr.createState = errors.New(msg), res.State
	if sess != nil {
		// The tenant may exist: find it by name and delete it now.
		tr.sess = sess
		r.teardown(tr, o)
	}
	res.Perfdata = append(res.Perfdata, checks.Duration("time", time.Since(r.start), checks.Thresholds{}),
		checks.Duration("tenant_create", tr.createDur, checks.Thresholds{}))
	tr.apply(r, &res)
	return res, true
}

// sweepSlice is the part of the run's time the sweep may take: at most the
// teardown timeout, and at most a quarter of what is left, so that a
// hanging app leaves the run its time to judge it.
func sweepSlice(ctx context.Context, timeout time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return min(timeout, time.Until(dl)/4)
	}
	return timeout
}

// teardown deletes the run's tenant, once, whatever ended the run.
func (r *runState) teardown(tr *tenantRun, o RunOptions) {
	if tr.sess == nil || tr.tornDown {
		return
	}
	tr.tornDown = true
	ctx, cancel := teardownContext(r.outer, o.Tenants.TeardownTimeout, r.resultReserve)
	defer cancel()
	t0 := time.Now()
	tr.deleteErr = tr.sess.Delete(ctx)
	tr.deleteDur = time.Since(t0)
}

// apply adds the tenant's part to the run's result: perfdata tenant_create
// (after time), tenant_delete (before failed) and swept (last), and a
// WARNING for every tenant that could not be deleted and every unreadable
// ledger file.
func (tr *tenantRun) apply(r *runState, res *checks.Result) {
	if tr == nil {
		return
	}
	var warnings, notes []string
	rep := tr.sweep
	if len(rep.Deleted) > 0 {
		notes = append(notes, fmt.Sprintf("swept %d leftover tenant(s) of killed runs: %s", len(rep.Deleted), strings.Join(rep.Deleted, ", ")))
	}
	for _, f := range rep.Failed {
		warnings = append(warnings, fmt.Sprintf("leftover tenant %s not deleted (kept in the ledger)", f))
	}
	for _, f := range rep.Refused {
		warnings = append(warnings, "ledger entry "+f)
	}
	if rep.Left > 0 {
		warnings = append(warnings, fmt.Sprintf("the sweep ran out of its %.1fs: %d leftover(s) not reached, kept in the ledger for the next run", rep.Took.Seconds(), rep.Left))
	}
	if len(rep.Gone) > 0 {
		notes = append(notes, fmt.Sprintf("forgot %d ledger entr(ies) whose tenant the app no longer has: %s", len(rep.Gone), strings.Join(rep.Gone, ", ")))
	}
	for _, p := range rep.Corrupt {
		warnings = append(warnings, ledgerProblem(p))
	}
	if rep.Others > 0 {
		notes = append(notes, fmt.Sprintf("%d dead ledger entr(ies) of other configs, environments or hosts left alone (suitecheck tenant sweep with their --config and --env sweeps them)", rep.Others))
	}
	if tr.sweepErr != nil {
		warnings = append(warnings, "sweep: "+tr.sweepErr.Error())
	}
	if tr.sess != nil {
		pd := res.Perfdata
		if len(pd) > 0 && pd[0].Label == "time" && !slices.ContainsFunc(pd, func(p checks.Perfdata) bool { return p.Label == "tenant_create" }) {
			pd = slices.Insert(pd, 1, checks.Duration("tenant_create", tr.createDur, checks.Thresholds{}))
		}
		at := len(pd)
		if at > 0 && pd[at-1].Label == "failed" {
			at--
		}
		res.Perfdata = slices.Insert(pd, at, checks.Duration("tenant_delete", tr.deleteDur, checks.Thresholds{}))
		t := tr.sess.Tenant
		switch {
		case tr.sess.InDoubt() && errors.Is(tr.deleteErr, tenant.ErrNotListed):
			notes = append(notes, fmt.Sprintf("tenant %s: the app does not list it (most likely never created); kept in the ledger for the sweep", t.Name))
		case tr.deleteErr != nil && t.ID == "":
			warnings = append(warnings, fmt.Sprintf("tenant %s (create in doubt) NOT deleted: %v", t.Name, tr.deleteErr))
		case tr.deleteErr != nil:
			warnings = append(warnings, fmt.Sprintf("tenant %s (id %s) NOT deleted: %v (kept in the ledger for the next sweep)", t.Name, t.ID, tr.deleteErr))
		case tr.createErr != nil:
			notes = append(notes, fmt.Sprintf("tenant %s: its create was in doubt; the app listed it (id %s) and it was deleted in %.2fs", t.Name, t.ID, tr.deleteDur.Seconds()))
		default:
			notes = append(notes, fmt.Sprintf("tenant %s created (id %s) in %.2fs, deleted in %.2fs", t.Name, t.ID, tr.createDur.Seconds(), tr.deleteDur.Seconds()))
		}
	}
	res.Perfdata = append(res.Perfdata, checks.Perfdata{Label: "swept", Value: float64(len(rep.Deleted)), Min: checks.Float(0)})
	if tr.swept {
		res.Perfdata = append(res.Perfdata, checks.Duration("sweep", rep.Took, checks.Thresholds{}))
	}
	for i := range warnings {
		warnings[i] = r.mask.Mask(warnings[i])
	}
	if len(warnings) > 0 {
		res.State = checks.Worst(res.State, checks.Warning)
		res.Summary += "; " + strings.Join(warnings, "; ")
		for _, w := range warnings {
			res.Long = append([]string{"[WARNING] " + w}, res.Long...)
		}
	}
	for _, n := range notes {
		res.Long = append(res.Long, r.mask.Mask(n))
	}
}

// ledgerProblem says what is wrong with a ledger file, and what was done.
func ledgerProblem(p tenant.Problem) string {
	if p.Moved {
		return fmt.Sprintf("ledger file %s is unreadable (%v): moved aside; check its tenant by hand", p.File, p.Err)
	}
	return fmt.Sprintf("ledger file %s: %v", p.File, p.Err)
}
