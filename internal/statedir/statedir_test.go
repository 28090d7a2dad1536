package statedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCheck(t *testing.T) {
	const nobody = 65534
	me := os.Geteuid()
	tests := []struct {
		name  string
		root  bool // needs root to chown
		setup func(t *testing.T, dir string) string
		role  Role
		want  string // "" trusted; DIR stands for the path
	}{
		{"0700", false, mode(0o700), State, ""},
		{"0755", false, mode(0o755), State, ""},
		{"0750", false, mode(0o750), Artifacts, ""},
		{"0777", false, mode(0o777), State, "state dir DIR is writable by group/others: chmod go-w DIR"},
		{"0770", false, mode(0o770), Artifacts, "artifacts dir DIR is writable by group/others: chmod go-w DIR"},
		{"0757", false, mode(0o757), Ledger, "ledger dir DIR is writable by group/others: chmod go-w DIR"},
		{"1777", false, mode(0o1777), State, "state dir DIR is writable by group/others: chmod go-w DIR"},
		{"root's", true, owned(0), State, ""},
		{"another user's", true, owned(nobody), State,
			fmt.Sprintf("state dir DIR is owned by uid %d, not you (uid %d): run as that user, chown %[2]d DIR, or use --state-dir", nobody, me)},
		{"another user's subdir", true, owned(nobody), SuiteArtifacts,
			fmt.Sprintf("artifacts dir DIR is owned by uid %d, not you (uid %d): run as that user, or chown %[2]d DIR", nobody, me)},
		{"symlink to a good dir", false, link, Artifacts, "artifacts dir DIR is a symlink (not followed): give --artifacts the real directory"},
		{"symlinked subdir", false, link, Ledger, "ledger dir DIR is a symlink (not followed): remove the link (suitecheck makes the directory)"},
		{"a file", false, file, State, "state dir DIR is not a directory: give --state-dir a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root && os.Geteuid() != 0 {
				t.Skip("needs root to chown")
			}
			dir := tt.setup(t, filepath.Join(t.TempDir(), "d"))
			err := Check(dir, tt.role)
			if tt.want == "" {
				if err != nil {
					t.Errorf("Check = %v, want trusted", err)
				}
				return
			}
			want := strings.ReplaceAll(tt.want, "DIR", dir)
			if err == nil || err.Error() != want || !errors.Is(err, ErrUntrusted) {
				t.Errorf("Check = %v\nwant %s (ErrUntrusted)", err, want)
			}
		})
	}
}

func mode(m os.FileMode) func(*testing.T, string) string {
	return func(t *testing.T, dir string) string {
		mkdir(t, dir)
		if err := os.Chmod(dir, m); err != nil {
			t.Fatal(err)
		}
		return dir
	}
}

func owned(uid int) func(*testing.T, string) string {
	return func(t *testing.T, dir string) string {
		mkdir(t, dir)
		if err := os.Chown(dir, uid, uid); err != nil {
			t.Fatal(err)
		}
		return dir
	}
}

func link(t *testing.T, dir string) string {
	mkdir(t, dir)
	l := dir + "-link"
	if err := os.Symlink(dir, l); err != nil {
		t.Fatal(err)
	}
	return l
}

func file(t *testing.T, path string) string {
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
}

func TestCheckMissing(t *testing.T) {
	if err := Check(filepath.Join(t.TempDir(), "none"), State); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrUntrusted) {
		t.Errorf("Check of a missing dir = %v, want fs.ErrNotExist", err)
	}
}

// Ensure makes what is missing 0700, and never repairs what exists.
func TestEnsure(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b")
	if err := Ensure(dir, State); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(base, "a"), dir} {
		if fi, err := os.Lstat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v, want mode 0700", d, fi.Mode(), err)
		}
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(dir, State); !errors.Is(err, ErrUntrusted) {
		t.Errorf("Ensure of a 0777 dir = %v, want it refused", err)
	}
	if fi, _ := os.Lstat(dir); fi.Mode().Perm() != 0o777 {
		t.Errorf("Ensure changed the mode to %v", fi.Mode().Perm())
	}
	// A dangling link where the directory should be: not made through it.
	target := filepath.Join(base, "target")
	l := filepath.Join(base, "l")
	if err := os.Symlink(target, l); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(l, Artifacts); !errors.Is(err, ErrUntrusted) {
		t.Errorf("Ensure of a dangling link = %v, want it refused", err)
	}
	if _, err := os.Lstat(target); err == nil {
		t.Errorf("Ensure made the directory a dangling link points at")
	}
}

func TestDefaultDir(t *testing.T) {
	base := t.TempDir()
	usable := filepath.Join(base, "usable")
	mkdir(t, usable)
	loose := filepath.Join(base, "loose")
	mkdir(t, loose)
	if err := os.Chmod(loose, 0o757); err != nil {
		t.Fatal(err)
	}
	missingParent := filepath.Join(base, "no", "such", "suitecheck") // cannot be made
	underFile := filepath.Join(file(t, filepath.Join(base, "f")), "suitecheck")
	tests := []struct {
		name   string
		system string
		env    map[string]string
		want   string // or the error's prefix, with "error: "
	}{
		{"system usable", usable, map[string]string{"HOME": "/home/u"}, usable},
		{"system can be made", filepath.Join(base, "new"), nil, filepath.Join(base, "new")},
		{"system loose: refused, not left quietly", loose, map[string]string{"HOME": "/home/u"},
			"error: state dir " + loose + " is writable by group/others: chmod go-w " + loose},
		{"XDG_STATE_HOME", missingParent, map[string]string{"XDG_STATE_HOME": "/x/state", "HOME": "/home/u"}, "/x/state/suitecheck"},
		{"HOME", missingParent, map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/suitecheck"},
		{"relative XDG_STATE_HOME is ignored", underFile, map[string]string{"XDG_STATE_HOME": "state", "HOME": "/home/u"}, "/home/u/.local/state/suitecheck"},
		{"nothing: no shared temp dir", missingParent, nil,
			"error: no state dir: " + missingParent + " is not yours to write and neither XDG_STATE_HOME nor HOME is set: use --state-dir DIR"},
		{"relative HOME", underFile, map[string]string{"HOME": "."},
			"error: no state dir: " + underFile + " is not yours to write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := defaultDir(tt.system, func(k string) string { return tt.env[k] }, "--state-dir DIR")
			if err != nil {
				got = "error: " + err.Error()
			}
			if !strings.HasPrefix(got, tt.want) || err == nil && got != tt.want {
				t.Errorf("defaultDir = %q, want %q", got, tt.want)
			}
			if strings.HasPrefix(tt.want, "error: no state dir") && !errors.Is(err, ErrNoDefault) {
				t.Errorf("err = %v, want ErrNoDefault", err)
			}
		})
	}
}

// Files are never opened through a link: reading, opening a lock, or
// replacing one. A dangling link never makes a file elsewhere.
func TestFilesDoNotFollowLinks(t *testing.T) {
	const content = "precious"
	ops := []struct {
		name string
		op   func(path string) error
	}{
		{"ReadFile", func(p string) error { _, err := ReadFile(p); return err }},
		{"OpenFile O_RDWR|O_CREATE", func(p string) error {
			f, err := OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
			if err == nil {
				f.Close()
			}
			return err
		}},
		{"WriteFile", func(p string) error { return WriteFile(p, []byte("new"), 0o600) }},
	}
	for _, op := range ops {
		for _, dangling := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s dangling=%v", op.name, dangling), func(t *testing.T) {
				dir := t.TempDir()
				target, l := filepath.Join(dir, "target"), filepath.Join(dir, "link")
				if !dangling {
					if err := os.WriteFile(target, []byte(content), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.Symlink(target, l); err != nil {
					t.Fatal(err)
				}
				err := op.op(l)
				b, rerr := os.ReadFile(target)
				switch {
				case dangling && rerr == nil:
					t.Errorf("made %s through a dangling link", target)
				case !dangling && string(b) != content:
					t.Errorf("target now holds %q", b)
				}
				if op.name == "WriteFile" {
					// The link is replaced by a file of our own.
					if fi, lerr := os.Lstat(l); err != nil || lerr != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
						t.Errorf("WriteFile = %v; %s is %v", err, l, fi.Mode())
					}
				} else if !errors.Is(err, ErrNotFollowed) {
					t.Errorf("err = %v, want ErrNotFollowed", err)
				}
			})
		}
	}
}

// A FIFO planted where a file should be does not hang an open.
func TestOpenFileRefusesFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(p); !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadFile of a FIFO = %v, want ErrNotRegular", err)
	}
}

// WriteFile replaces a hard link rather than writing through it.
func TestWriteFileReplacesHardLink(t *testing.T) {
	dir := t.TempDir()
	victim, l := filepath.Join(dir, "victim"), filepath.Join(dir, "hard")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(victim, l); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(l, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("victim now holds %q", b)
	}
	if b, _ := os.ReadFile(l); string(b) != "new" {
		t.Errorf("the new file holds %q", b)
	}
}

// "link/" is the link, not its target: lstat of a name with a trailing
// slash follows the link, and a symlinked state dir slipped through.
func TestCheckTrailingSlashLink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	os.Mkdir(real, 0o700)
	link := filepath.Join(dir, "link")
	os.Symlink(real, link)
	for _, p := range []string{link, link + "/", link + "//", link + "/."} {
		if err := Check(p, State); !errors.Is(err, ErrUntrusted) {
			t.Errorf("Check(%q) = %v, want the link refused", p, err)
		}
	}
}
