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
	// createErr is why create failed, createState the state it gave, and
	// createSummary what the status line says of it; diagnose is what the
	// diagnose steps found (the app refused).
	createErr     error
	createState   checks.State
	createSummary string
	diag          diagnosis // the tenant's diagnose steps, after a refused create
	appFailed     bool      // the app refused or failed the create (not our config, the budget or a signal)
	createDoubt   bool      // the failed create may have made the tenant, whose id is not known
	swept         bool      // the sweep ran (its time is perfdata)
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
// tenant and puts its fields in the scope. It returns false when there is
// no tenant to run the cases with: tr says why (createErr), or err does
// (the tenant config or ledger could not be used).
func (r *runState) provision(ctx context.Context, cfg *Config, envName string, tr *tenantRun, o RunOptions) (bool, error) {
	m, err := r.manager(cfg, envName, o.Tenants)
	if err != nil {
		return false, fmt.Errorf("tenant: %w", err)
	}
	host, _ := os.Hostname()
	timeout := cmp.Or(o.Tenants.TeardownTimeout, DefaultTeardownTimeout)
	sctx, cancel := context.WithTimeout(ctx, sweepSlice(ctx, timeout))
	tr.sweep, tr.sweepErr = m.Sweep(sctx, tenant.SweepOptions{Host: host, DeleteTimeout: timeout})
	tr.swept = true
	cancel()
	if errors.Is(tr.sweepErr, tenant.ErrLedgerUnavailable) || errors.Is(tr.sweepErr, tenant.ErrLedgerSchema) {
		// A tenant it could not record would leak if this run died:
		// none is made.
		return false, fmt.Errorf("tenant not created: %w", tr.sweepErr)
	}
	r.logSweep(tr)
	t0 := time.Now()
	if err := r.generate(cfg.Tenant); err != nil {
		return false, err
	}
	r.status("tenant: create")
	sess, err := m.Create(ctx)
	tr.createDur = time.Since(t0)
	r.status("")
	if err != nil {
		r.logf(LogRun, "tenant create failed in %s: %v", secs(tr.createDur), err)
	}
	if err == nil {
		r.withGenerated(&sess.Tenant)
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
		r.logf(LogRun, "tenant %s created (id %s) in %s", t.Name, t.ID, secs(tr.createDur))
		return true, nil
	}

	msg := r.mask.Mask(err.Error())
	switch {
	case tenant.IsConfigError(err):
		tr.createState, tr.createSummary = checks.Unknown, msg
	case errors.Is(context.Cause(ctx), context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		tr.createState, tr.createSummary = o.TimeoutState, fmt.Sprintf("timed out after %s: %s", o.Budget, msg)
	case ctx.Err() != nil:
		tr.createState, tr.createSummary = checks.Unknown, fmt.Sprintf("interrupted (%v): %s", context.Cause(ctx), msg)
	default:
		// The app refused (or failed: a 5xx): CRITICAL, and the diagnose
		// steps say why.
		verb := "the app refused to "
		if sess != nil && !tenant.IsRefused(err) {
			verb = "the app failed to "
		}
		tr.createState, tr.createSummary, tr.appFailed = checks.Critical, verb+msg, true
		tr.diag = r.diagnose(ctx, cfg.Tenant.Diagnose)
	}
	tr.createErr = errors.New(msg)
	if sess != nil {
		// The tenant may exist, or part of it: delete what was made now
		// (a tenant in doubt is found by name).
		tr.sess, tr.createDoubt = sess, sess.InDoubt()
		r.teardown(tr, o)
	}
	return false, nil
}

// sweepSlice is the part of the run's time the sweep may take: at most the
// teardown timeout, and at most a quarter of what is left, so that a
// hanging app leaves the run its time to judge it.
func sweepSlice(ctx context.Context, timeout time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return teardownReserve(time.Until(dl), timeout)
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
	r.status("tenant: delete")
	tr.deleteErr = tr.sess.Delete(ctx)
	tr.deleteDur = time.Since(t0)
	r.status("")
	if tr.deleteErr != nil {
		r.logf(LogRun, "tenant %s not deleted in %s: %v", tr.sess.Tenant.Name, secs(tr.deleteDur), tr.deleteErr)
	} else {
		r.logf(LogRun, "tenant %s deleted in %s", tr.sess.Tenant.Name, secs(tr.deleteDur))
	}
}

// logSweep tells what the sweep did (-v).
func (r *runState) logSweep(tr *tenantRun) {
	rep := tr.sweep
	r.logf(LogRun, "sweep in %s: %d deleted, %d failed, %d refused, %d not reached, %d forgotten (gone)",
		secs(rep.Took), len(rep.Deleted), len(rep.Failed), len(rep.Refused), rep.Left, len(rep.Gone))
	for _, d := range rep.Deleted {
		r.logf(LogRun, "sweep: deleted %s", d)
	}
	for _, f := range append(slices.Clone(rep.Failed), rep.Refused...) {
		r.logf(LogRun, "sweep: %s", f)
	}
	if tr.sweepErr != nil {
		r.logf(LogRun, "sweep: %v", tr.sweepErr)
	}
}

// judge says what the tenant side adds to the run's result: a WARNING for
// every tenant that could not be deleted, every ledger entry that is not
// provably ours and every unreadable ledger file; notes on what was done.
func (tr *tenantRun) judge() (warnings, notes []string) {
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
		notes = append(notes, fmt.Sprintf("%d dead ledger entr(ies) of other configs, environments or hosts left alone (suitecheck tenant sweep with their --config, --env and -H/--base-url sweeps them)", rep.Others))
	}
	if tr.sweepErr != nil {
		warnings = append(warnings, "sweep: "+tr.sweepErr.Error())
	}
	if tr.sess == nil {
		return warnings, notes
	}
	t := tr.sess.Tenant
	switch {
	case tr.sess.InDoubt() && errors.Is(tr.deleteErr, tenant.ErrNotListed):
		notes = append(notes, fmt.Sprintf("tenant %s: the app does not list it (most likely never created); kept in the ledger for the sweep", t.Name))
	case tr.deleteErr != nil && tr.sess.InDoubt():
		warnings = append(warnings, fmt.Sprintf("tenant %s (create in doubt) NOT deleted: %v", t.Name, tr.deleteErr))
	case tr.deleteErr != nil && tr.createErr != nil:
		warnings = append(warnings, fmt.Sprintf("tenant %s (id %s): what its create made was NOT deleted: %v (kept in the ledger for the next sweep)", t.Name, cmp.Or(t.ID, "unknown"), tr.deleteErr))
	case tr.deleteErr != nil:
		warnings = append(warnings, fmt.Sprintf("tenant %s (id %s) NOT deleted: %v (kept in the ledger for the next sweep)", t.Name, t.ID, tr.deleteErr))
	case tr.createErr != nil && tr.createDoubt:
		notes = append(notes, fmt.Sprintf("tenant %s: its create was in doubt; the app listed it (id %s) and it was deleted in %.2fs", t.Name, t.ID, tr.deleteDur.Seconds()))
	case tr.createErr != nil:
		notes = append(notes, fmt.Sprintf("tenant %s: what its create made before it failed was deleted in %.2fs", t.Name, tr.deleteDur.Seconds()))
	default:
		notes = append(notes, fmt.Sprintf("tenant %s created (id %s) in %.2fs, deleted in %.2fs", t.Name, t.ID, tr.createDur.Seconds(), tr.deleteDur.Seconds()))
	}
	return warnings, notes
}

// ledgerProblem says what is wrong with a ledger file, and what was done.
func ledgerProblem(p tenant.Problem) string {
	if p.Moved {
		return fmt.Sprintf("ledger file %s is unreadable (%v): moved aside; check its tenant by hand", p.File, p.Err)
	}
	if p.Row {
		return fmt.Sprintf("ledger entry %s is unreadable (%v): check its tenant by hand, then delete the row", p.File, p.Err)
	}
	return fmt.Sprintf("ledger file %s: %v", p.File, p.Err)
}
