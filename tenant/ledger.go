package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/suitecheck/suitecheck/internal/statedir"
)

// A Ledger remembers every run's tenant from before it is created until
// its delete is confirmed, and tells a live run's entry from a dead one's
// without clocks or pids: a run holds a lock for as long as it lives, and
// a sweep takes only the entries whose lock it can take. Two ledgers
// implement it: FileLedger, a directory of the state dir (flock), and
// PGLedger, a PostgreSQL table (session-level advisory locks), which many
// monitoring nodes can share.
type Ledger interface {
	// Record takes the run lock for e.Run, then writes the entry. It is
	// called before the tenant is created, so that a run killed during
	// create still leaves a trace. The Held keeps the lock until it is
	// forgotten or released.
	Record(ctx context.Context, e Entry) (*Held, error)
	// List returns every entry, oldest first, with whether its run is
	// alive, and the entries that could not be read.
	List(ctx context.Context) ([]Listed, []Problem, error)
	// Dead returns the entries of dead runs that match keep, each locked
	// for the caller to delete and Forget, or Release. An entry another
	// sweep holds is not returned.
	Dead(ctx context.Context, keep func(Entry) bool) ([]*Held, []Problem, error)
	// Locate says where run's entry is kept, for a person to check and
	// remove it by hand.
	Locate(run string) string
	// String names the ledger for people (never with a password).
	String() string
	// Shared reports whether a run's liveness reads the same from every
	// host (a lock on a shared server), so that any host may sweep what
	// another's dead run left.
	Shared() bool
	// Close frees the ledger's connections; Helds still held are not
	// released.
	Close() error
}

// Held is a ledger entry whose run lock this process holds: its own run's,
// or a dead run's taken over by a sweep.
type Held struct {
	Entry Entry
	lock  entryLock
}

// entryLock is a held entry's lock in its ledger, and how the entry is
// written and removed under it.
type entryLock interface {
	write(ctx context.Context, e Entry) error
	// forget removes the entry, then lets the lock go.
	forget(ctx context.Context, e Entry) error
	// release lets the lock go, the entry staying; again is a no-op.
	release()
}

// Update records what is now known of the tenant (its id, its non-secret
// fields).
func (h *Held) Update(ctx context.Context, id string, fields map[string]string) error {
	h.Entry.ID, h.Entry.Fields = id, fields
	return h.write(ctx)
}

// write records the entry as it is now.
func (h *Held) write(ctx context.Context) error { return h.lock.write(ctx, h.Entry) }

// Forget removes the entry: the tenant is confirmed deleted (or was never
// created). The lock goes last, so no sweep sees an entry without a lock
// holder in between.
func (h *Held) Forget(ctx context.Context) error { return h.lock.forget(ctx, h.Entry) }

// Release lets the entry go without removing it: its tenant is still to
// be deleted by a later sweep.
func (h *Held) Release() { h.lock.release() }

// The file ledger is a directory with one entry per run that provisions a
// tenant: RUN.json, the tenant as far as it is known, and RUN.lock, which
// the run holds an exclusive flock(2) on for as long as it lives. The
// kernel drops the lock when the process dies, however it dies, so a free
// lock means a dead run: its tenant is a leftover for the sweep. Entries
// are written to a temp file, fsynced and renamed over the old one, so a
// kill in the middle of a write leaves the old entry or the new one, never
// half of one. Each run writes only its own files, so concurrent runs need
// no lock on the ledger as a whole.
//
// The state dir and tenants/ are trusted only when no other user could have
// written them (internal/statedir), and no file in the ledger is opened
// through a symlink: a link planted there is reported, never followed.

// Entry is what the ledger knows about one run's tenant. It never holds a
// secret field.
type Entry struct {
	Run     string            `json:"run"`   // the run's random id; the file name
	Scope   string            `json:"scope"` // config file and environment: which provisioner deletes it
	PID     int               `json:"pid"`
	Host    string            `json:"host"`
	Started time.Time         `json:"started"`
	Name    string            `json:"name"`
	ID      string            `json:"id,omitempty"` // empty until the create step that gives it returned
	Fields  map[string]string `json:"fields,omitempty"`
	// CreateDone says the create is over (every step ran, or one was
	// refused): a field the entry lacks was never made. A sweep does not
	// look for the id of such an entry, nor wait for its create to finish.
	CreateDone bool `json:"create_done,omitempty"`
	// DeleteDone lists the delete steps (from 0) that are done, so that
	// the next sweep resumes after them.
	DeleteDone []int `json:"delete_done,omitempty"`
}

// FileLedger is the ledger directory.
type FileLedger struct {
	dir string
}

// OpenLedger opens the ledger under a state directory, making both 0700
// when missing. Either is refused (an error matching statedir.ErrUntrusted,
// one line naming the directory and the fix) when it is a symlink, belongs
// to another user or is writable by group or others.
func OpenLedger(stateDir string) (*FileLedger, error) {
	dir := filepath.Join(stateDir, "tenants")
	for _, d := range []struct {
		path string
		role statedir.Role
	}{{stateDir, statedir.State}, {dir, statedir.Ledger}} {
		if err := statedir.Ensure(d.path, d.role); err != nil {
			if errors.Is(err, statedir.ErrUntrusted) {
				return nil, err
			}
			return nil, fmt.Errorf("ledger: %w (set --state-dir to a writable directory)", err)
		}
	}
	return &FileLedger{dir: dir}, nil
}

// check refuses the ledger's directory when it is no longer one to trust:
// nothing is renamed, removed or created through a symlinked tenants/.
func (l *FileLedger) check() error {
	return statedir.Check(l.dir, statedir.Ledger)
}

// Dir is the ledger's directory.
func (l *FileLedger) Dir() string { return l.dir }

func (l *FileLedger) path(run, ext string) string { return filepath.Join(l.dir, run+ext) }

// String is the directory.
func (l *FileLedger) String() string { return l.dir }

// Locate is the entry's file.
func (l *FileLedger) Locate(run string) string { return l.path(run, ".json") }

// Shared is false: a flock says nothing of another host's runs (a state
// dir on NFS included).
func (l *FileLedger) Shared() bool { return false }

// Close does nothing: the file ledger holds nothing open but its Helds.
func (l *FileLedger) Close() error { return nil }

// fileLock is a run's lock file, held with flock(2).
type fileLock struct {
	l    *FileLedger
	lock *os.File
	// lockPath is the lock's name in the ledger (the file may have been
	// opened under another).
	lockPath string
}

// Record takes the run lock for e.Run and writes the entry.
func (l *FileLedger) Record(_ context.Context, e Entry) (*Held, error) {
	if e.Run == "" || strings.ContainsAny(e.Run, "/.") {
		return nil, fmt.Errorf("ledger: bad run id %q", e.Run)
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	// The lock file is locked before it appears under its name, so no
	// sweep ever sees a live run's lock file unlocked.
	f, err := os.CreateTemp(l.dir, ".newlock-")
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("ledger: lock %s: %w", f.Name(), err)
	}
	lockPath := l.path(e.Run, ".lock")
	err = os.Link(f.Name(), lockPath)
	os.Remove(f.Name())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ledger: %w", err)
	}
	fl := &fileLock{l: l, lock: f, lockPath: lockPath}
	if err := fl.write(context.Background(), e); err != nil {
		fl.drop()
		return nil, err
	}
	return &Held{Entry: e, lock: fl}, nil
}

// write replaces the entry file atomically: temp file, fsync, rename,
// fsync of the directory. The temp file is made anew (a stale one, or a
// link planted under its name, is removed, not written through).
func (h *fileLock) write(_ context.Context, e Entry) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	b = append(b, '\n')
	final := h.l.path(e.Run, ".json")
	tmp := final + ".tmp"
	f, err := statedir.Replace(tmp, 0o600)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("ledger: write %s: %w", final, err)
	}
	return syncDir(h.l.dir)
}

func syncDir(dir string) error {
	d, err := statedir.OpenDir(dir)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("ledger: sync %s: %w", dir, err)
	}
	return nil
}

func (h *fileLock) forget(_ context.Context, e Entry) error {
	err := os.Remove(h.l.path(e.Run, ".json"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ledger: %w", err)
	}
	os.Remove(h.l.path(e.Run, ".json.tmp"))
	if err := syncDir(h.l.dir); err != nil {
		return err
	}
	h.drop()
	return nil
}

func (h *fileLock) release() {
	if h.lock != nil {
		h.lock.Close()
		h.lock = nil
	}
}

// drop removes the lock file and releases the lock.
func (h *fileLock) drop() {
	if h.lock != nil {
		os.Remove(h.lockPath)
		h.lock.Close()
		h.lock = nil
	}
}

// Listed is a ledger entry as a listing sees it.
type Listed struct {
	Entry
	Alive bool // its run is still running
}

// Problem is a ledger file (or row) that could not be read.
type Problem struct {
	File  string // the file, or the row ("run RUN in postgres://…")
	Err   error
	Moved bool // an unreadable entry, moved aside to File so it is reported once
	Row   bool // File is a row of a PostgreSQL ledger
}

func (p Problem) Error() string { return fmt.Sprintf("%s: %v", p.File, p.Err) }

// List returns every entry, oldest first, with whether its run is alive,
// and the files that could not be read.
func (l *FileLedger) List(context.Context) ([]Listed, []Problem, error) {
	runs, err := l.runs()
	if err != nil {
		return nil, nil, err
	}
	var out []Listed
	var probs []Problem
	for _, run := range runs {
		e, err := l.read(run)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			probs = append(probs, Problem{File: l.path(run, ".json"), Err: err})
			continue
		}
		out = append(out, Listed{Entry: e, Alive: l.alive(run)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out, probs, nil
}

// runs lists the run ids that have an entry or a lock file.
func (l *FileLedger) runs() ([]string, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	des, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	seen := map[string]bool{}
	var runs []string
	for _, de := range des {
		n := de.Name()
		var run string
		switch {
		case strings.HasSuffix(n, ".json"):
			run = strings.TrimSuffix(n, ".json")
		case strings.HasSuffix(n, ".lock"):
			run = strings.TrimSuffix(n, ".lock")
		case strings.HasSuffix(n, ".json.tmp"):
			run = strings.TrimSuffix(n, ".json.tmp")
		default:
			continue
		}
		if !seen[run] {
			seen[run] = true
			runs = append(runs, run)
		}
	}
	sort.Strings(runs)
	return runs, nil
}

func (l *FileLedger) read(run string) (Entry, error) {
	var e Entry
	b, err := statedir.ReadFile(l.path(run, ".json"))
	if err != nil {
		return e, reason(err)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("not a ledger entry (%v)", err)
	}
	if e.Run != run || e.Name == "" {
		return e, errors.New("not a ledger entry (no run or tenant name)")
	}
	return e, nil
}

// reason is what went wrong with a ledger file, without its path (a
// Problem names the file): "is a symlink (not followed)".
func reason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && !errors.Is(err, fs.ErrNotExist) {
		return pe.Err
	}
	return err
}

// alive reports whether some process holds the run's lock.
func (l *FileLedger) alive(run string) bool {
	f, err := statedir.OpenFile(l.path(run, ".lock"), os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return true
	}
	return false
}

// takeOver locks a run's lock file if its run is dead. It returns nil when
// the run is alive, or when another sweep took it first.
func (l *FileLedger) takeOver(run string) (*os.File, error) {
	f, err := statedir.OpenFile(l.path(run, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, reason(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, nil // alive, or being swept
	}
	// The file may have been removed (its run finished) between the open
	// and the lock: then it is not the run's lock any more.
	st1, err1 := f.Stat()
	st2, err2 := os.Lstat(f.Name())
	if err1 != nil || err2 != nil || !os.SameFile(st1, st2) {
		f.Close()
		return nil, nil
	}
	return f, nil
}

// Dead returns the entries of dead runs that match keep, each locked by
// this process for the caller to delete and Forget, or Release. Files that
// cannot be read are moved aside (RUN.json.corrupt) and reported, so they
// are reported once; lock and temp files of runs that died before writing
// an entry are removed.
func (l *FileLedger) Dead(_ context.Context, keep func(Entry) bool) ([]*Held, []Problem, error) {
	runs, err := l.runs()
	if err != nil {
		return nil, nil, err
	}
	l.removeStaleNewLocks()
	var held []*Held
	var probs []Problem
	for _, run := range runs {
		lock, err := l.takeOver(run)
		if err != nil {
			probs = append(probs, Problem{File: l.path(run, ".lock"), Err: err})
			continue
		}
		if lock == nil {
			continue
		}
		fl := &fileLock{l: l, lock: lock, lockPath: l.path(run, ".lock")}
		h := &Held{Entry: Entry{Run: run}, lock: fl}
		e, err := l.read(run)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Died before its entry was written (or after it was removed).
			os.Remove(l.path(run, ".json.tmp"))
			fl.drop()
		case err != nil:
			p := Problem{File: l.path(run, ".json.corrupt"), Err: err, Moved: true}
			if rerr := os.Rename(l.path(run, ".json"), p.File); rerr != nil {
				p.File, p.Moved = l.path(run, ".json"), false
			}
			probs = append(probs, p)
			fl.drop()
		case !keep(e):
			h.Release()
		default:
			h.Entry = e
			held = append(held, h)
		}
	}
	return held, probs, nil
}

// removeStaleNewLocks removes the lock files that a run killed inside
// Record made but never linked: their lock is free, and they are older
// than a minute (a new one may not be locked yet).
func (l *FileLedger) removeStaleNewLocks() {
	matches, _ := filepath.Glob(filepath.Join(l.dir, ".newlock-*"))
	for _, m := range matches {
		if st, err := os.Lstat(m); err != nil || time.Since(st.ModTime()) < time.Minute {
			continue
		}
		f, err := statedir.OpenFile(m, os.O_RDONLY, 0)
		if errors.Is(err, statedir.ErrNotFollowed) || errors.Is(err, statedir.ErrNotRegular) {
			os.Remove(m) // planted: no run makes a link or a FIFO
		}
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.Remove(m)
		}
		f.Close()
	}
}
