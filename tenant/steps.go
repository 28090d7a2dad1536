package tenant

// Tenants made and removed in several steps: a user, then a project,
// then a membership, each using ids the earlier replies gave. The Manager
// runs the steps one at a time. Every create step's non-secret fields are
// written to the ledger as soon as it returns them, so a run killed
// between two steps leaves what a sweep needs; every delete step that is
// done is written too, so the next sweep resumes after it.
//
// What a delete step needs is the tenant fields its templates use (besides
// the name, which every tenant has). A step whose fields are not all known
// is skipped: the create step that makes them never ran, or what they name
// is gone.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"
)

// Stepped is a Provisioner whose create and delete are several steps. Its
// Create and Delete run every step; the Manager runs them one by one.
type Stepped interface {
	Provisioner
	// Steps is how many steps create and delete have (at least 1 each).
	Steps() (create, delete int)
	// CreateStep runs create step i for t (its name and the fields the
	// earlier steps returned) and returns the fields it adds. Its errors
	// are Create's: a refusal (NotCreated) made nothing.
	CreateStep(ctx context.Context, i int, t Tenant) (Tenant, error)
	// DeleteStep runs delete step i; what is already gone is deleted.
	DeleteStep(ctx context.Context, i int, t Tenant) error
}

// FieldGetter asks the app about what a tenant field other than the id
// names (a user id): the name the app has for it, so that a sweep uses
// that field only once the app says it carries the tenant's name.
type FieldGetter interface {
	// ConfirmsField reports whether a confirm request is configured for
	// field.
	ConfirmsField(field string) bool
	// GetField asks the app for what t.Fields[field] names: ErrNotFound
	// when it has none, ErrNoGet when no confirm request is configured.
	GetField(ctx context.Context, field string, t Tenant) (Found, error)
}

// oneStep is a Provisioner of one step each way.
type oneStep struct{ Provisioner }

func (o oneStep) Steps() (int, int) { return 1, 1 }
func (o oneStep) CreateStep(ctx context.Context, _ int, t Tenant) (Tenant, error) {
	return o.Create(ctx, t.Name)
}
func (o oneStep) DeleteStep(ctx context.Context, _ int, t Tenant) error { return o.Delete(ctx, t) }

func (m *Manager) stepped() Stepped {
	if s, ok := m.Prov.(Stepped); ok {
		return s
	}
	return oneStep{m.Prov}
}

// needs is the fields delete step i uses, the name aside: DeleteNeeds[i],
// or the id when the config does not say.
func (m *Manager) needs(i int) []string {
	if i < len(m.DeleteNeeds) {
		return m.DeleteNeeds[i]
	}
	return []string{"id"}
}

// ready reports whether t has every field delete step i needs.
func (m *Manager) ready(i int, t Tenant) bool {
	for _, f := range m.needs(i) {
		if f != "name" && t.Fields[f] == "" {
			return false
		}
	}
	return true
}

// pending lists the delete steps not done.
func (m *Manager) pending(done []int) []int {
	_, n := m.stepped().Steps()
	var out []int
	for i := range n {
		if !slices.Contains(done, i) {
			out = append(out, i)
		}
	}
	return out
}

// pendingNeed reports whether a delete step not done needs field.
func (m *Manager) pendingNeed(done []int, field string) bool {
	for _, i := range m.pending(done) {
		if slices.Contains(m.needs(i), field) {
			return true
		}
	}
	return false
}

// otherFields lists, sorted, the fields other than the id and the name
// that the delete steps not done need, each with the first step needing it.
func (m *Manager) otherFields(done []int) ([]string, map[string]int) {
	first := map[string]int{}
	for _, i := range m.pending(done) {
		for _, f := range m.needs(i) {
			if _, ok := first[f]; !ok && f != "id" && f != "name" {
				first[f] = i
			}
		}
	}
	out := make([]string, 0, len(first))
	for f := range first {
		out = append(out, f)
	}
	sort.Strings(out)
	return out, first
}

// merge adds what a create step returned to t; the name stays ours.
func (t *Tenant) merge(got Tenant) {
	for k, v := range got.Fields {
		if k != "name" {
			t.Fields[k] = v
		}
	}
	for _, k := range got.Secret {
		if !slices.Contains(t.Secret, k) {
			t.Secret = append(t.Secret, k)
		}
	}
	if got.ID != "" {
		t.ID = got.ID
	} else if t.ID == "" {
		t.ID = t.Fields["id"]
	}
	if t.ID != "" {
		t.Fields["id"] = t.ID
	}
}

// deleteSteps runs, in order, the delete steps not done whose fields t
// has, and records each one done in the ledger (h may be nil). It stops at
// the first that fails. It returns how many ran and the steps skipped for
// want of a field.
func (m *Manager) deleteSteps(ctx context.Context, h *Held, t Tenant) (ran int, skipped []int, err error) {
	p := m.stepped()
	_, n := p.Steps()
	var done []int
	if h != nil {
		done = h.Entry.DeleteDone
	}
	for _, i := range m.pending(done) {
		if !m.ready(i, t) {
			skipped = append(skipped, i)
			continue
		}
		if err := p.DeleteStep(ctx, i, t); err != nil {
			if n > 1 {
				err = fmt.Errorf("delete step %d of %d: %w", i+1, n, err)
			}
			return ran, skipped, err
		}
		ran++
		if h != nil && i < n-1 {
			h.Entry.DeleteDone = append(h.Entry.DeleteDone, i)
			// Progress only: a lost write repeats a step whose thing is
			// gone, which counts as deleted.
			_ = h.write(ctx)
		}
	}
	return ran, skipped, nil
}

// unconfirmedFields says why a tenant this run did not create cannot be
// deleted: a delete step needs a field other than the id and the name
// that the app cannot be asked about (no confirm request for it). Empty
// when it can.
func (m *Manager) unconfirmedFields() string {
	_, n := m.stepped().Steps()
	fg, _ := m.Prov.(FieldGetter)
	for i := range n {
		for _, f := range m.needs(i) {
			if f == "id" || f == "name" || (fg != nil && fg.ConfirmsField(f)) {
				continue
			}
			what := "the delete request"
			if n > 1 {
				what = fmt.Sprintf("delete step %d", i+1)
			}
			return fmt.Sprintf("%s uses .Tenant.%s, which only the ledger vouches for; configure a confirm request for %s, or delete it by hand (only .Tenant.id, .Tenant.name and the fields of confirm requests are confirmed with the app)", what, f, f)
		}
	}
	return ""
}

// settleKind is what is to become of a tenant this run did not create.
type settleKind int

const (
	settleRun     settleKind = iota // delete it with the confirmed fields
	settleWait                      // its create may still be finishing: leave it
	settleRefused                   // not provably ours: never deleted
	settleFailed                    // the app could not be asked
	settleGone                      // the app has no tenant with the id a person gave
	settleNotOurs                   // the app names it (or one of its fields) otherwise: never deleted
)

// settled is what settle decided, and why.
type settled struct {
	kind settleKind
	why  string
	t    Tenant // the name and the fields the app confirmed
}

// settle decides what a delete of a tenant this run did not create may
// use (a dead run's entry e, or an id a person gave, as e.ID with no
// name). Only what the app confirms reaches the requests: the id, when
// the app's get or list says it carries e's name (or, without a name, a
// name of our shape); every other field the delete steps not done need,
// when the app's confirm request for that field says what it names carries
// e's name. A field that the app names otherwise makes the whole entry
// not ours: nothing is deleted. A field the app no longer has is gone, and
// so are the steps that need it.
func (m *Manager) settle(ctx context.Context, c *confirmer, e Entry, now time.Time, file string) settled {
	t := Tenant{Name: e.Name, Fields: map[string]string{}}
	if why := m.unconfirmedFields(); why != "" {
		return settled{kind: settleRefused, why: "not deleted: " + why}
	}
	creates, _ := m.stepped().Steps()
	complete := e.CreateDone || (e.ID != "" && creates == 1)
	switch {
	case e.ID != "":
		conf := c.confirm(ctx, Tenant{Name: e.Name, ID: e.ID, Fields: map[string]string{"name": e.Name, "id": e.ID}})
		switch conf.Verdict {
		case Ours:
			t.ID, t.Fields["id"] = e.ID, e.ID
			if t.Name == "" {
				t.Name = conf.Name
			}
		case Gone: // the steps that need the id are done
			if t.Name == "" {
				return settled{kind: settleGone}
			}
		case NotOurs:
			return settled{kind: settleNotOurs, why: conf.Why}
		case Unconfirmable:
			return settled{kind: settleRefused, why: "not deleted: " + conf.Why}
		default:
			return settled{kind: settleFailed, why: "could not confirm it is ours: " + conf.Why}
		}
	case !complete && m.pendingNeed(e.DeleteDone, "id"):
		// Killed during create: find it by name, if the app lists. A
		// young entry may be a create the app has not finished.
		young := now.Sub(e.Started) < CreateGrace
		found, err := c.list(ctx)
		switch {
		case errors.Is(err, ErrNoList) && young:
			return settled{kind: settleWait}
		case errors.Is(err, ErrNoList):
			// It may exist, and nothing can find it: it stays, and is
			// reported on every sweep until a person looks.
			return settled{kind: settleRefused, why: fmt.Sprintf("its create did not finish (no id) and no list request is configured to find it by name: check by hand whether the app has it, then remove %s", file)}
		case err != nil:
			return settled{kind: settleFailed, why: fmt.Sprintf("list tenants: %v", err)}
		}
		i := slices.IndexFunc(found, func(f Found) bool { return f.Name == e.Name })
		switch {
		case i >= 0:
			// Ours by the app's own list: that id carries the recorded name.
			t.ID, t.Fields["id"] = found[i].ID, found[i].ID
		case young:
			return settled{kind: settleWait}
		}
		// Not listed, and old: never created.
	}
	if t.Name == "" {
		return settled{kind: settleRefused, why: "the app does not say its name"}
	}
	t.Fields["name"] = t.Name
	fields, first := m.otherFields(e.DeleteDone)
	fg, _ := m.Prov.(FieldGetter)
	for _, f := range fields {
		v := e.Fields[f]
		if v == "" {
			if complete {
				return settled{kind: settleRefused, why: fmt.Sprintf("not deleted: delete step %d uses .Tenant.%s, which its ledger entry lacks: delete it by hand, then remove %s", first[f]+1, f, file)}
			}
			continue // its create step never returned it
		}
		found, err := fg.GetField(ctx, f, Tenant{Name: t.Name, ID: t.ID, Fields: map[string]string{"name": t.Name, f: v}})
		switch {
		case errors.Is(err, ErrNotFound):
			continue // gone, and the steps that need it with it
		case err != nil:
			return settled{kind: settleFailed, why: fmt.Sprintf("could not confirm its %s %s is ours: %v", f, v, err)}
		case found.Name != t.Name:
			return settled{kind: settleNotOurs, why: fmt.Sprintf("the app's confirm request for its %s names %s %q, not %q", f, v, found.Name, t.Name)}
		}
		t.Fields[f] = v
	}
	return settled{kind: settleRun, t: t}
}

// createAll runs every create step of p, for a Create outside a Manager
// (no ledger): a step that fails ends it.
func createAll(ctx context.Context, p Stepped, name string) (Tenant, error) {
	n, _ := p.Steps()
	t := Tenant{Name: name, Fields: map[string]string{"name": name}}
	for i := range n {
		got, err := p.CreateStep(ctx, i, t)
		if err != nil {
			return t, fmt.Errorf("step %d of %d: %w", i+1, n, err)
		}
		t.merge(got)
	}
	if t.ID == "" {
		return t, errors.New("no create step gave the tenant's id")
	}
	return t, nil
}

// deleteAll runs every delete step of p, in order, for a Delete outside a
// Manager; the first that fails ends it.
func deleteAll(ctx context.Context, p Stepped, t Tenant) error {
	_, n := p.Steps()
	for i := range n {
		if err := p.DeleteStep(ctx, i, t); err != nil {
			return fmt.Errorf("delete step %d of %d: %w", i+1, n, err)
		}
	}
	return nil
}
