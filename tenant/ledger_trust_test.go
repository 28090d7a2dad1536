package tenant

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// asRoot skips a test that needs to give files away (chown).
func asRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown a directory to another user")
	}
}

// The state dir and tenants/ are trusted only when no other user could
// have written them: another user's files, or links planted while they
// were open to all, would be read as ledger entries and written through.
func TestOpenLedgerRefusesUntrustedDirs(t *testing.T) {
	const nobody = 65534
	me := os.Geteuid()
	tests := []struct {
		name  string
		root  bool
		setup func(t *testing.T, state string) string // returns the dir given to OpenLedger
		want  string                                  // the error; STATE stands for that dir
	}{
		{"state dir 0777", false, chmod(".", 0o777), "state dir STATE is writable by group/others: chmod go-w STATE"},
		{"state dir 0770", false, chmod(".", 0o770), "state dir STATE is writable by group/others: chmod go-w STATE"},
		{"state dir 0757", false, chmod(".", 0o757), "state dir STATE is writable by group/others: chmod go-w STATE"},
		{"state dir sticky and world-writable", false, chmod(".", 0o1777), "state dir STATE is writable by group/others: chmod go-w STATE"},
		{"tenants 0777", false, chmod("tenants", 0o777), "ledger dir STATE/tenants is writable by group/others: chmod go-w STATE/tenants"},
		{"tenants 0770", false, chmod("tenants", 0o770), "ledger dir STATE/tenants is writable by group/others: chmod go-w STATE/tenants"},
		{"state dir of another user", true, chownTo(".", nobody),
			fmt.Sprintf("state dir STATE is owned by uid %d, not you (uid %d): run as that user, chown %d STATE, or use --state-dir", nobody, me, me)},
		{"tenants of another user", true, chownTo("tenants", nobody),
			fmt.Sprintf("ledger dir STATE/tenants is owned by uid %d, not you (uid %d): run as that user, or chown %d STATE/tenants", nobody, me, me)},
		{"state dir is a symlink", false, func(t *testing.T, state string) string {
			link := filepath.Join(t.TempDir(), "link")
			if err := os.Symlink(state, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "state dir LINK is a symlink (not followed): give --state-dir the real directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root {
				asRoot(t)
			}
			state := t.TempDir()
			if err := os.Mkdir(filepath.Join(state, "tenants"), 0o700); err != nil {
				t.Fatal(err)
			}
			dir := tt.setup(t, state)
			want := tt.want
			if dir != state {
				want = strings.ReplaceAll(want, "LINK", dir)
			}
			want = strings.ReplaceAll(want, "STATE", state)
			_, err := OpenLedger(dir)
			if err == nil || err.Error() != want {
				t.Errorf("OpenLedger = %v\nwant %s", err, want)
			}
		})
	}
}

func chmod(rel string, mode os.FileMode) func(*testing.T, string) string {
	return func(t *testing.T, state string) string {
		if err := os.Chmod(filepath.Join(state, rel), mode); err != nil {
			t.Fatal(err)
		}
		return state
	}
}

func chownTo(rel string, uid int) func(*testing.T, string) string {
	return func(t *testing.T, state string) string {
		if err := os.Chown(filepath.Join(state, rel), uid, uid); err != nil {
			t.Fatal(err)
		}
		return state
	}
}

// A symlinked tenants/ is refused: a sweep through it would rename and
// remove another directory's files.
func TestOpenLedgerRefusesSymlinkedTenants(t *testing.T) {
	state, elsewhere := t.TempDir(), t.TempDir()
	for _, n := range []string{"garbage.json", "half.lock"} {
		if err := os.WriteFile(filepath.Join(elsewhere, n), []byte("not json"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(elsewhere, filepath.Join(state, "tenants")); err != nil {
		t.Fatal(err)
	}
	l, err := OpenLedger(state)
	want := "ledger dir " + filepath.Join(state, "tenants") + " is a symlink (not followed): remove the link (suitecheck makes the directory)"
	if err == nil {
		l.Dead(context.Background(), func(Entry) bool { return true })
		t.Errorf("OpenLedger through a symlinked tenants/ succeeded; want %s", want)
	} else if err.Error() != want {
		t.Errorf("OpenLedger = %v\nwant %s", err, want)
	}
	if got := files(t, elsewhere); !slices.Equal(got, []string{"garbage.json", "half.lock"}) {
		t.Errorf("the symlink's target now holds %v", got)
	}
}

// Links planted in the ledger are never followed: not to read an entry, not
// to take or test a lock, not to write an entry. What they point at stays
// as it was; a dangling link creates nothing.
func TestLedgerDoesNotFollowPlantedSymlinks(t *testing.T) {
	all := func(Entry) bool { return true }
	tests := []struct {
		name     string
		link     string // planted in tenants/
		dangling bool   // the link points at nothing
		use      func(t *testing.T, l *FileLedger)
	}{
		{"dangling RUN.lock, listed and swept", "run1.lock", true, func(t *testing.T, l *FileLedger) {
			l.List(context.Background())
			_, probs, _ := l.Dead(context.Background(), all)
			if len(probs) != 1 || probs[0].File != filepath.Join(l.Dir(), "run1.lock") {
				t.Errorf("problems = %v, want the lock link reported", probs)
			}
		}},
		{"RUN.json.tmp to a file, recorded", "run1.json.tmp", false, func(t *testing.T, l *FileLedger) {
			recordAndCheck(t, l)
		}},
		{"dangling RUN.json.tmp, recorded", "run1.json.tmp", true, func(t *testing.T, l *FileLedger) {
			recordAndCheck(t, l)
		}},
		{"RUN.json to an entry, listed and swept", "run1.json", false, func(t *testing.T, l *FileLedger) {
			list, probs, _ := l.List(context.Background())
			if len(list) != 0 || len(probs) != 1 {
				t.Errorf("List = %v, %v; want the link reported, not read", list, probs)
			}
			dead, _, _ := l.Dead(context.Background(), all)
			if len(dead) != 0 {
				t.Errorf("Dead took the entry a link points at: %v", dead[0].Entry)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLedger(t)
			target := filepath.Join(t.TempDir(), "target")
			const content = `{"run":"run1","name":"sc-not-ours","id":"1"}` + "\n"
			if !tt.dangling {
				if err := os.WriteFile(target, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink(target, filepath.Join(l.Dir(), tt.link)); err != nil {
				t.Fatal(err)
			}
			tt.use(t, l)
			b, err := os.ReadFile(target)
			switch {
			case tt.dangling && err == nil:
				t.Errorf("the dangling link made %s", target)
			case !tt.dangling && string(b) != content:
				t.Errorf("the link's target now holds %q (err %v)", b, err)
			}
		})
	}
}

// recordAndCheck records run1 (its stale temp file is a planted link) and
// checks that the entry is a file of the ledger's own.
func recordAndCheck(t *testing.T, l *FileLedger) {
	t.Helper()
	h, err := l.Record(context.Background(), entry("run1", "sc-one"))
	if err != nil {
		t.Fatalf("Record with a stale temp link: %v", err)
	}
	if err := h.Update(context.Background(), "42", nil); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(l.Dir(), "run1.json"))
	if err != nil || !fi.Mode().IsRegular() {
		t.Errorf("run1.json is not a regular file: %v %v", fi, err)
	}
	if got := files(t, l.Dir()); !slices.Equal(got, []string{"run1.json", "run1.lock"}) {
		t.Errorf("ledger holds %v", got)
	}
	if err := h.Forget(context.Background()); err != nil {
		t.Fatal(err)
	}
}
