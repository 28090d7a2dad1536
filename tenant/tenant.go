// Package tenant provisions suitecheck's throwaway tenants: the
// provisioners that create, delete and list them in the app under test
// (http, sql, command), the ledger that remembers every tenant until its
// delete is confirmed, and the sweep that deletes the leftovers of runs
// that were killed.
package tenant

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/suitecheck/suitecheck/internal/secret"
)

// Tenant is a created tenant.
type Tenant struct {
	Name   string
	ID     string
	Fields map[string]string // every field, name and id included
	Secret []string          // the names of the secret fields (password…)
}

// Public returns the fields that are not secret and hold no secret field's
// value in any form (a login URL with the password in its query, a DSN, a
// base64 credential): what the ledger keeps.
func (t Tenant) Public() map[string]string {
	secrets := &secret.Masker{}
	for _, k := range t.Secret {
		secrets.Add(t.Fields[k])
	}
	out := map[string]string{}
	for k, v := range t.Fields {
		if !slices.Contains(t.Secret, k) && !secrets.Contains(v) {
			out[k] = v
		}
	}
	return out
}

// Found is a tenant as the app lists it.
type Found struct {
	Name    string
	ID      string
	Created time.Time // zero when the app does not say
}

// Provisioner creates and deletes tenants in the app under test.
type Provisioner interface {
	// Create creates a tenant called name and returns its fields, which
	// include "id". An error is the app's refusal, unless it is a
	// *ConfigError.
	Create(ctx context.Context, name string) (Tenant, error)
	// Delete deletes a tenant. A tenant that no longer exists is deleted.
	Delete(ctx context.Context, t Tenant) error
	// List lists the app's tenants; ErrNoList when none is configured.
	List(ctx context.Context) ([]Found, error)
	// Get asks the app for the tenant with t's id (the template may also
	// use its other non-secret fields) and returns the name the app has
	// for it: ErrNotFound when there is none, ErrNoGet when no get request
	// is configured.
	Get(ctx context.Context, t Tenant) (Found, error)
}

// ErrNoList is returned by List when no list request is configured.
var ErrNoList = errors.New("no list request is configured")

// ConfigError is a mistake in the tenant config, found only at run time
// (a template that fails, a step that is invalid once rendered): UNKNOWN,
// not the app's failure.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// notCreated marks a create error after which the tenant certainly does
// not exist: the app refused (an HTTP error status, a non-zero exit, a
// rolled-back statement) or was never reached. Any other create error
// leaves the tenant in doubt: its ledger entry stays for the sweep.
type notCreated struct{ err error }

func (e *notCreated) Error() string { return e.err.Error() }
func (e *notCreated) Unwrap() error { return e.err }

// NotCreated marks err as a create failure that created nothing.
func NotCreated(err error) error { return &notCreated{err} }

func isNotCreated(err error) bool {
	var nc *notCreated
	return errors.As(err, &nc)
}

// IsRefused reports whether err is a create the app refused: the step
// that failed made nothing (the earlier steps of a create in several may
// have).
func IsRefused(err error) bool { return isNotCreated(err) }

// IsConfigError reports whether err is a config mistake.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

// SecretField reports whether a field of this name is a secret by its
// name (password, secret, token, API key, credential…): the rule HTTP
// steps use for headers and JSON keys, secret.SensitiveName.
func SecretField(name string) bool { return secret.SensitiveName(name) }

// DefaultPrefix starts every tenant name, so that strays are recognisable.
const DefaultPrefix = "sc-"

// RandomPart is the random part of a tenant name: 10 lowercase letters and
// digits (50 bits), so overlapping runs never collide.
func RandomPart() string {
	return strings.ToLower(rand.Text()[:10])
}

// Manager runs the tenant lifecycle of one config and environment.
type Manager struct {
	Prov   Provisioner
	Ledger Ledger
	Scope  string // identifies the config and environment in the ledger
	Prefix string
	// Name makes a tenant's name from a random part; default Prefix+random.
	Name func(random string) (string, error)
	// DeleteChecksName says that the delete request carries the tenant's
	// name and that the app refuses it when the id's name is another: a
	// confirmation when there is no get or list request.
	DeleteChecksName bool
	// DeleteNeeds are, for each delete step, the tenant fields its
	// request uses (nil: the id). A tenant this run did not create is
	// deleted only with what the app confirms: its id and name (get, list
	// or delete_checks_name) and the fields the provisioner's confirm
	// requests (FieldGetter) say carry its name. A field only the ledger
	// vouches for (a forged org id) could point the delete elsewhere, so a
	// config whose delete needs one sweeps nothing.
	DeleteNeeds [][]string
	// Shape, when set, is the whole shape of the names this config makes
	// (the prefix, 10 random letters and digits, what the name template
	// adds): a name of another shape is not ours.
	Shape *regexp.Regexp
	// Secret reports whether a value holds a secret of the run (an
	// environment secret in a URL, a token in base64): such fields stay
	// out of the ledger.
	Secret func(string) bool
}

// Session is a tenant created by this run, recorded in the ledger.
type Session struct {
	m      *Manager
	held   *Held
	Tenant Tenant
	failed bool // its create failed: Delete deletes what it made
}

// Create records a new tenant in the ledger, then creates it. When create
// fails the entry stays only if the tenant may exist (the request was cut
// short, the app answered 5xx); a refused create is forgotten at once.
// A create in doubt returns its error and a Session whose Tenant has no
// ID: its Delete finds the tenant by name and deletes it, or leaves the
// entry for the sweep.
func (m *Manager) Create(ctx context.Context) (*Session, error) {
	random := RandomPart()
	name := m.Prefix + random
	if m.Name != nil {
		var err error
		if name, err = m.Name(random); err != nil {
			return nil, &ConfigError{fmt.Errorf("tenant name: %w", err)}
		}
		if !strings.HasPrefix(name, m.Prefix) {
			return nil, &ConfigError{fmt.Errorf("tenant name %q does not start with the prefix %q: sweeps could not recognise it", name, m.Prefix)}
		}
	}
	host, _ := os.Hostname()
	held, err := m.Ledger.Record(ctx, Entry{Run: strings.ToLower(rand.Text()), Scope: m.Scope, PID: os.Getpid(), Host: host,
		Started: time.Now().UTC(), Name: name})
	if err != nil {
		return nil, &ConfigError{err}
	}
	p := m.stepped()
	n, _ := p.Steps()
	t := Tenant{Name: name, Fields: map[string]string{"name": name}}
	for i := range n {
		got, err := p.CreateStep(ctx, i, t)
		if err == nil && i == n-1 && t.ID == "" && got.ID == "" && got.Fields["id"] == "" {
			err = errors.New("no create step gave the tenant's id")
		}
		if err != nil {
			return m.createFailed(ctx, held, t, i, n, err)
		}
		t.merge(got)
		held.Entry.CreateDone = i == n-1
		if err := held.Update(ctx, t.ID, m.public(t)); err != nil {
			// The tenant exists but the ledger lost track: delete it now.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_, _, derr := m.deleteSteps(dctx, nil, t)
			if derr != nil {
				held.Release()
				return nil, &ConfigError{fmt.Errorf("%w; and deleting tenant %s (id %s) failed: %v", err, name, orUnknown(t.ID), derr)}
			}
			held.Forget(dctx) // lost, the sweep finds the tenant gone
			return nil, &ConfigError{err}
		}
	}
	return &Session{m: m, held: held, Tenant: t}, nil
}

// createFailed reports create step i of n that failed. When nothing was
// made (the first step was refused) the entry is forgotten; otherwise the
// Session returned deletes what was made: the delete steps whose fields
// the earlier steps gave, and (a step in doubt that would have given the
// id) the tenant the app lists by its name.
func (m *Manager) createFailed(ctx context.Context, held *Held, t Tenant, i, n int, err error) (*Session, error) {
	name := t.Name
	what := err
	if n > 1 {
		what = fmt.Errorf("step %d of %d: %w", i+1, n, err)
	}
	wrap := func(err error) error {
		if IsConfigError(err) {
			return &ConfigError{fmt.Errorf("create tenant %s: %w", name, err)}
		}
		return fmt.Errorf("create tenant %s: %w", name, err)
	}
	refused := isNotCreated(err)
	if refused && i == 0 {
		held.Forget(context.WithoutCancel(ctx))
		return nil, wrap(what)
	}
	sess := &Session{m: m, held: held, Tenant: t, failed: true}
	if refused {
		// Nothing more will be made: what the entry lacks never was.
		held.Entry.CreateDone = true
		held.Update(ctx, t.ID, m.public(t)) // lost, it only makes the sweep look for the id
		return sess, wrap(what)
	}
	if t.ID == "" {
		// It may exist (a cut request, a 5xx, a reply we could not
		// read): the entry stays, and the run's teardown or the sweep
		// finds it by name.
		what = fmt.Errorf("%w (it may exist: kept in the ledger until it is found by name)", what)
	}
	return sess, wrap(what)
}

// public is what the ledger may keep of t: no secret field, and no field
// that holds a secret of the run.
func (m *Manager) public(t Tenant) map[string]string {
	out := t.Public()
	for k, v := range out {
		if k != "id" && k != "name" && m.Secret != nil && m.Secret(v) {
			delete(out, k)
		}
	}
	return out
}

// InDoubt reports a session whose create failed in a way that may have
// made the tenant: its id is not known.
func (s *Session) InDoubt() bool { return s.Tenant.ID == "" && !s.held.Entry.CreateDone }

// CreateFailed reports a session whose create failed after it made
// something (or may have): its Delete deletes what was made.
func (s *Session) CreateFailed() bool { return s.failed }

// Delete deletes the session's tenant and forgets it; when delete fails,
// the entry stays in the ledger for the next sweep. A tenant whose create
// was in doubt is looked for by name in the app's list: deleted when
// listed; when not listed (or no list is configured) the entry stays for
// the sweep, which waits CreateGrace for a create the app may still be
// finishing.
func (s *Session) Delete(ctx context.Context) error {
	if s.InDoubt() && s.m.pendingNeed(s.held.Entry.DeleteDone, "id") {
		found, err := s.m.Prov.List(ctx)
		if err != nil {
			s.held.Release()
			if errors.Is(err, ErrNoList) {
				return errors.New("its create was in doubt and no list request is configured to find it by name: kept in the ledger")
			}
			return fmt.Errorf("its create was in doubt: list tenants: %w (kept in the ledger for the sweep)", err)
		}
		i := slices.IndexFunc(found, func(f Found) bool { return f.Name == s.Tenant.Name })
		if i < 0 {
			s.held.Release()
			return ErrNotListed
		}
		s.Tenant.ID = found[i].ID
		s.Tenant.Fields["id"] = found[i].ID
		if err := s.held.Update(ctx, s.Tenant.ID, s.m.public(s.Tenant)); err != nil {
			s.held.Release()
			return err
		}
	}
	if _, _, err := s.m.deleteSteps(ctx, s.held, s.Tenant); err != nil {
		s.held.Release()
		return err
	}
	return s.held.Forget(ctx)
}

// ErrNotListed is a tenant whose create was in doubt that the app does not
// list: most likely never created; its entry stays for the sweep.
var ErrNotListed = errors.New("its create was in doubt and the app does not list it (it was most likely not created): kept in the ledger for the sweep")

// Disown forgets the tenant in the ledger without deleting it (for
// `tenant create`, whose tenant is the caller's to delete).
func (s *Session) Disown(ctx context.Context) error { return s.held.Forget(ctx) }

// CreateGrace is how long a ledger entry without an id (its run was killed
// during create) is left alone: the app may still be finishing the create.
const CreateGrace = 10 * time.Minute

// SweepOptions configure a sweep.
type SweepOptions struct {
	// OlderThan, when > 0, also deletes tenants that the app lists (when a
	// list request is configured), that carry the prefix, that the ledger
	// does not know, and that were created longer ago than this.
	OlderThan time.Duration
	// Only runs of this host are judged by their lock; another host's
	// entries are swept only when older than OlderThan (a manual sweep).
	Host string
	// DeleteTimeout bounds each tenant's confirmation and delete; 0: only
	// the sweep's context bounds them.
	DeleteTimeout time.Duration
	// Parallel is how many tenants are confirmed and deleted at once;
	// 0: DefaultSweepParallel.
	Parallel int
}

// DefaultSweepParallel is how many leftovers a sweep deletes at once.
const DefaultSweepParallel = 4

// SweepReport says what a sweep did.
type SweepReport struct {
	Deleted []string  // "NAME (id ID)"
	Failed  []string  // "NAME (id ID): error": kept in the ledger for the next sweep
	Refused []string  // entries not provably ours, never deleted (kept, reported every sweep), with why
	Gone    []string  // entries whose tenant the app no longer has: forgotten
	Corrupt []Problem // ledger files that could not be read, moved aside
	Skipped []string  // strays it could not judge, with why
	Left    int       // entries not reached before the sweep's time ran out: kept for the next sweep
	Others  int       // dead entries of other configs, environments or hosts, left alone
	Took    time.Duration
}

// Sweep deletes the tenants of dead runs of this scope, then (with
// OlderThan) old prefixed strays the app lists. Nothing is deleted that
// the app does not confirm is ours (see confirm). It stops when ctx ends:
// what it did not reach stays in the ledger.
func (m *Manager) Sweep(ctx context.Context, o SweepOptions) (SweepReport, error) {
	t0 := time.Now()
	rep, err := m.sweep(ctx, o)
	sort.Strings(rep.Deleted)
	rep.Took = time.Since(t0)
	return rep, err
}

func (m *Manager) sweep(ctx context.Context, o SweepOptions) (SweepReport, error) {
	var rep SweepReport
	now := time.Now()
	held, probs, err := m.Ledger.Dead(ctx, func(e Entry) bool {
		keep := e.Scope == m.Scope
		if keep && o.Host != "" && e.Host != o.Host && !m.Ledger.Shared() {
			keep = o.OlderThan > 0 && now.Sub(e.Started) > o.OlderThan
		}
		if !keep {
			rep.Others++
		}
		return keep
	})
	rep.Corrupt = probs
	if err != nil {
		return rep, err
	}
	c := &confirmer{m: m}
	var mu sync.Mutex // guards rep
	add := func(list *[]string, format string, args ...any) {
		mu.Lock()
		*list = append(*list, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	par := cmp.Or(o.Parallel, DefaultSweepParallel)
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for _, h := range held {
		e := h.Entry
		file := m.Ledger.Locate(e.Run)
		if !m.prefixed(e.Name) {
			h.Release()
			add(&rep.Refused, "%s (id %s): its name %s, so it is not ours: never deleted; remove %s once you have checked it", e.Name, orUnknown(e.ID), m.notShaped(), file)
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			h.Release()
			mu.Lock()
			rep.Left++
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dctx, cancel := ctx, context.CancelFunc(func() {})
			if o.DeleteTimeout > 0 {
				dctx, cancel = context.WithTimeout(ctx, o.DeleteTimeout)
			}
			defer cancel()
			m.sweepOne(dctx, h, now, c, &rep, add, file)
		}()
	}
	wg.Wait()
	if o.OlderThan <= 0 || ctx.Err() != nil {
		return rep, nil
	}
	found, err := c.list(ctx)
	if errors.Is(err, ErrNoList) {
		return rep, nil
	}
	if err != nil {
		return rep, fmt.Errorf("list tenants: %w", err)
	}
	known, _, err := m.Ledger.List(ctx)
	if err != nil {
		return rep, err
	}
	for _, f := range found {
		// A stray is ours by its name on the app's own list: the prefix,
		// and no ledger entry (a live run's, or one refused above).
		if !m.prefixed(f.Name) || slices.ContainsFunc(known, func(l Listed) bool { return l.Name == f.Name }) ||
			slices.ContainsFunc(rep.Deleted, func(d string) bool { return strings.HasPrefix(d, f.Name+" ") }) {
			continue
		}
		if f.Created.IsZero() {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s (id %s): the list gives no creation time", f.Name, f.ID))
			continue
		}
		if now.Sub(f.Created) <= o.OlderThan {
			continue
		}
		if ctx.Err() != nil {
			rep.Left++
			continue
		}
		t := Tenant{Name: f.Name, ID: f.ID, Fields: map[string]string{"name": f.Name, "id": f.ID}}
		dctx, cancel := ctx, context.CancelFunc(func() {})
		if o.DeleteTimeout > 0 {
			dctx, cancel = context.WithTimeout(ctx, o.DeleteTimeout)
		}
		// The app's list vouches for the id and the name only: a step
		// that needs another field is skipped.
		_, _, err := m.deleteSteps(dctx, nil, t)
		cancel()
		if err != nil {
			rep.Failed = append(rep.Failed, fmt.Sprintf("%s (id %s): %v", f.Name, f.ID, err))
			continue
		}
		rep.Deleted = append(rep.Deleted, fmt.Sprintf("%s (id %s)", f.Name, f.ID))
	}
	return rep, nil
}

// sweepOne confirms and deletes one dead run's tenant, resuming after the
// delete steps its entry says are done.
func (m *Manager) sweepOne(ctx context.Context, h *Held, now time.Time, c *confirmer, rep *SweepReport,
	add func(*[]string, string, ...any), file string) {
	e := h.Entry
	st := m.settle(ctx, c, e, now, file)
	switch st.kind {
	case settleWait:
		h.Release()
		return
	case settleRefused:
		h.Release()
		add(&rep.Refused, "%s (id %s): %s", e.Name, orUnknown(e.ID), st.why)
		return
	case settleNotOurs:
		h.Release()
		add(&rep.Refused, "%s (id %s): not provably ours (%s): never deleted; remove %s once you have checked it", e.Name, orUnknown(e.ID), st.why, file)
		return
	case settleFailed:
		h.Release()
		if e.ID == "" {
			add(&rep.Failed, "%s (id unknown: its run was killed during create): %s", e.Name, st.why)
		} else {
			add(&rep.Failed, "%s (id %s): %s", e.Name, e.ID, st.why)
		}
		return
	}
	t := st.t
	ran, _, err := m.deleteSteps(ctx, h, t)
	if err != nil {
		h.Release()
		add(&rep.Failed, "%s (id %s): %v", e.Name, orUnknown(cmp.Or(t.ID, e.ID)), err)
		return
	}
	if err := h.Forget(ctx); err != nil {
		add(&rep.Failed, "%s (id %s): deleted, but %v", e.Name, orUnknown(cmp.Or(t.ID, e.ID)), err)
		return
	}
	switch {
	case ran > 0:
		add(&rep.Deleted, "%s (id %s)", e.Name, orUnknown(cmp.Or(t.ID, e.ID)))
	case e.ID != "":
		add(&rep.Gone, "%s (id %s)", e.Name, e.ID)
	}
	// An entry with nothing left to delete and no id was never created.
}

func orUnknown(id string) string { return cmp.Or(id, "unknown") }

// DeleteByID deletes a tenant by id (or, for an entry of a dead run, by
// its name), for people. The app must confirm that the id carries a name
// with the prefix, the ledger's recorded name when it has an entry, as a
// sweep does, and the delete gets only what the app confirms (see settle).
// The ledger's entry of a dead run with that id (or name) gives the name
// to confirm and the other fields, and is forgotten once the tenant is
// deleted; a live run's tenant is refused. Without an entry, the delete
// steps that need a field other than the id and the name are skipped, and
// the error says so.
func (m *Manager) DeleteByID(ctx context.Context, id string) error {
	held, _, err := m.Ledger.Dead(ctx, func(e Entry) bool { return e.Scope == m.Scope && (e.ID == id || e.Name == id) })
	if err != nil {
		return err
	}
	c := &confirmer{m: m}
	e := Entry{ID: id}
	var h *Held
	file := "its ledger entry"
	if len(held) > 0 {
		h = held[0]
		for _, other := range held[1:] {
			other.Release()
		}
		e = h.Entry
		file = m.Ledger.Locate(e.Run)
		if !m.prefixed(e.Name) {
			h.Release()
			return fmt.Errorf("tenant %s: its ledger name %s, so it is not ours: not deleted", e.Name, m.notShaped())
		}
	} else if live, _, err := m.Ledger.List(ctx); err == nil {
		for _, l := range live {
			if l.Alive && (l.ID == id || l.Name == id) {
				return fmt.Errorf("tenant %s belongs to a running run (pid %d on %s): it deletes its tenant itself", id, l.PID, l.Host)
			}
		}
	}
	release := func() {
		if h != nil {
			h.Release()
		}
	}
	if h != nil && e.ID == "" && !e.CreateDone && m.pendingNeed(e.DeleteDone, "id") {
		// Its run was killed during create: the app's list says its id.
		found, err := c.list(ctx)
		i := slices.IndexFunc(found, func(f Found) bool { return f.Name == e.Name })
		if err != nil || i < 0 {
			h.Release()
			return fmt.Errorf("tenant %s has no id in the ledger (its run was killed during create) and the app does not list it (%v): delete it by its id", e.Name, cmpErr(err))
		}
		e.ID = found[i].ID
	}
	st := m.settle(ctx, c, e, time.Now(), file)
	switch st.kind {
	case settleGone:
		return fmt.Errorf("delete tenant %s: %w", id, ErrNotFound)
	case settleNotOurs:
		release()
		return fmt.Errorf("delete tenant %s: not deleted: %s", id, st.why)
	case settleRefused, settleFailed, settleWait:
		release()
		return fmt.Errorf("delete tenant %s: %s", id, st.why)
	}
	ran, skipped, err := m.deleteSteps(ctx, h, st.t)
	if err != nil {
		release()
		return fmt.Errorf("delete tenant %s: %w", id, err)
	}
	if h != nil {
		return h.Forget(ctx)
	}
	if ran == 0 && len(skipped) == 0 {
		return fmt.Errorf("delete tenant %s: %w", id, ErrNotFound)
	}
	if len(skipped) > 0 {
		var steps []string
		for _, i := range skipped {
			steps = append(steps, fmt.Sprint(i+1))
		}
		return fmt.Errorf("delete tenant %s: with no ledger entry, only its id and name are known: delete step(s) %s, which need other fields (%s), were not run: delete what they remove by hand", id, strings.Join(steps, ", "), m.skippedFields(skipped))
	}
	return nil
}

// skippedFields names the fields the skipped delete steps need.
func (m *Manager) skippedFields(skipped []int) string {
	var out []string
	for _, i := range skipped {
		for _, f := range m.needs(i) {
			if f != "name" && f != "id" && !slices.Contains(out, ".Tenant."+f) {
				out = append(out, ".Tenant."+f)
			}
		}
	}
	return strings.Join(out, ", ")
}

func cmpErr(err error) string {
	if err == nil {
		return "not found"
	}
	return err.Error()
}

// Inventory is what the ledger and the app know of this config's tenants,
// for people (`tenant list`).
type Inventory struct {
	Ledger   []Listed  // every entry, of every scope, oldest first
	Problems []Problem // ledger files that could not be read
	// App is the app's tenants that carry the prefix, each with whether
	// the ledger knows it; AppErr is why it is empty (ErrNoList when no
	// list request is configured).
	App    []AppTenant
	AppErr error
}

// AppTenant is a prefixed tenant the app lists.
type AppTenant struct {
	Found
	InLedger bool
}

// Inventory lists the ledger and, with a list request, the app's prefixed
// tenants, joined by name.
func (m *Manager) Inventory(ctx context.Context) (Inventory, error) {
	var inv Inventory
	var err error
	if inv.Ledger, inv.Problems, err = m.Ledger.List(ctx); err != nil {
		return inv, err
	}
	found, err := m.Prov.List(ctx)
	if err != nil {
		inv.AppErr = err
		return inv, nil
	}
	for _, f := range found {
		if !m.prefixed(f.Name) {
			continue
		}
		in := slices.ContainsFunc(inv.Ledger, func(e Listed) bool { return e.Name == f.Name })
		inv.App = append(inv.App, AppTenant{Found: f, InLedger: in})
	}
	return inv, nil
}
