package tenant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// What is ours. suitecheck deletes accounts in production, so before it
// deletes by id a tenant that this very run did not create (a sweep of a
// dead run's entry, `tenant delete`), the app itself must say that the
// tenant with that id carries the recorded name, and that name must carry
// the configured prefix. A ledger file is only a claim: anyone who can
// write to the state dir, a restored backup or a second config pointed at
// the same state dir could have made it.

// ErrNotFound is returned by Get when the app has no tenant with that id.
var ErrNotFound = errors.New("the app has no such tenant")

// ErrNoGet is returned by Get when no get request is configured.
var ErrNoGet = errors.New("no get request is configured")

// Verdict is what the app said of a tenant's claim to be ours.
type Verdict int

const (
	// Ours: the app says the id carries the recorded, prefixed name.
	Ours Verdict = iota
	// Gone: the app has no tenant with that id.
	Gone
	// NotOurs: the name lacks the prefix, or the app's name for the id is
	// another. Never deleted.
	NotOurs
	// Unconfirmable: the config gives no way to ask the app (no get, no
	// list, no delete that checks the name). Never deleted.
	Unconfirmable
	// Unknown: asking failed (the app is down, the list timed out).
	Unknown
)

// Confirmation is a verdict and why.
type Confirmation struct {
	Verdict Verdict
	Why     string // for NotOurs, Unconfirmable and Unknown
	Name    string // the app's name for the id, when it said one
}

// confirmer asks the app about tenants, listing at most once per sweep.
// It is safe for concurrent use.
type confirmer struct {
	m      *Manager
	mu     sync.Mutex // guards the list
	listed []Found
	err    error
	done   bool
}

func (c *confirmer) list(ctx context.Context) ([]Found, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done {
		c.listed, c.err = c.m.Prov.List(ctx)
		// Any answer stands for the whole sweep (a failing list is asked
		// once, not once per leftover), but a list cut short by its own
		// context (one delete's bound) is no answer: ask again.
		c.done = ctx.Err() == nil
		if c.listed == nil && c.err == nil {
			c.listed = []Found{}
		}
	}
	return c.listed, c.err
}

// confirm asks the app whether t (its ID, and its Name when known) is
// ours. With an empty t.Name the app's name for the id is taken, and must
// carry the prefix.
func (c *confirmer) confirm(ctx context.Context, t Tenant) Confirmation {
	m := c.m
	if t.ID == "" {
		return Confirmation{Verdict: Unknown, Why: "no id to ask the app about"}
	}
	if t.Name != "" && !m.prefixed(t.Name) {
		return Confirmation{Verdict: NotOurs, Why: fmt.Sprintf("its name %q %s", t.Name, m.notShaped())}
	}
	judge := func(appName, how string) Confirmation {
		switch {
		case t.Name == "" && m.prefixed(appName):
			return Confirmation{Verdict: Ours, Name: appName}
		case t.Name == "":
			return Confirmation{Verdict: NotOurs, Name: appName, Why: fmt.Sprintf("the app's %s names it %q, which %s", how, appName, m.notShaped())}
		case appName == t.Name:
			return Confirmation{Verdict: Ours, Name: appName}
		}
		return Confirmation{Verdict: NotOurs, Name: appName, Why: fmt.Sprintf("the app's %s names id %s %q, not %q", how, t.ID, appName, t.Name)}
	}
	f, err := m.Prov.Get(ctx, t)
	switch {
	case err == nil:
		return judge(f.Name, "get request")
	case errors.Is(err, ErrNotFound):
		return Confirmation{Verdict: Gone}
	case !errors.Is(err, ErrNoGet):
		return Confirmation{Verdict: Unknown, Why: "get: " + err.Error()}
	}
	found, err := c.list(ctx)
	switch {
	case err == nil:
		i := slices.IndexFunc(found, func(f Found) bool { return f.ID == t.ID })
		if i < 0 {
			return Confirmation{Verdict: Gone}
		}
		return judge(found[i].Name, "list")
	case !errors.Is(err, ErrNoList):
		return Confirmation{Verdict: Unknown, Why: "list tenants: " + err.Error()}
	}
	if m.DeleteChecksName && t.Name != "" {
		// The delete request carries the name, and the app refuses it
		// when the id's name is another (the config says so).
		return Confirmation{Verdict: Ours}
	}
	return Confirmation{Verdict: Unconfirmable, Why: "the app cannot be asked whether that id carries that name: configure a tenant get or list request (or a delete that carries the name, with delete_checks_name)"}
}

// notShaped says what a name that is not ours lacks.
func (m *Manager) notShaped() string {
	if m.Shape != nil {
		return fmt.Sprintf("lacks the prefix %q or the shape of this config's names (%s)", m.Prefix, m.Shape)
	}
	return fmt.Sprintf("lacks the prefix %q", m.Prefix)
}

// prefixed reports whether name has the shape of the names this config
// makes: the prefix, and (when Shape is set) the whole pattern, so that a
// customer who happens to be called sc-freiburg is not taken for ours.
func (m *Manager) prefixed(name string) bool {
	if m.Prefix == "" || !strings.HasPrefix(name, m.Prefix) || len(name) <= len(m.Prefix) {
		return false
	}
	return m.Shape == nil || m.Shape.MatchString(name)
}
