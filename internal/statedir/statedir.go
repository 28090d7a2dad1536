// Package statedir is the policy for the directories suitecheck keeps state
// in — the tenant ledger and the artifacts of failed browser cases — and
// for the files in them.
//
// Like OpenSSH's StrictModes, a directory is trusted only when no other
// user could have written it: owned by the running user or root, not
// writable by group or others, and not a symlink (checked with Lstat).
// Directories it makes are 0700. Files are opened without following a
// symlink, and new ones are created with O_EXCL after removing what was
// there, so a link planted while a directory was open to others never
// redirects a write. There is no fallback into a shared temporary
// directory, which another user could have made first.
//
// It is a leaf: it imports the standard library only, never prints and
// never exits.
package statedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Role is what a directory is to suitecheck, for messages: its name, and
// the flag that chooses another ("" for a directory suitecheck makes
// inside one the user chose).
type Role struct {
	What string
	Flag string
}

// The roles of suitecheck's directories.
var (
	State          = Role{"state dir", "--state-dir"}     // STATE-DIR
	Ledger         = Role{"ledger dir", ""}               // STATE-DIR/tenants
	Artifacts      = Role{"artifacts dir", "--artifacts"} // --artifacts, or STATE-DIR/artifacts
	SuiteArtifacts = Role{"artifacts dir", ""}            // ARTIFACTS/SUITE
)

// ErrUntrusted is matched (errors.Is) by every refusal of a directory.
var ErrUntrusted = errors.New("untrusted directory")

// ErrNoDefault is matched when no default state dir can be found.
var ErrNoDefault = errors.New("no state dir")

// ErrNotFollowed is a file that is a symlink, where suitecheck opens only
// files (its open uses O_NOFOLLOW).
var ErrNotFollowed = errors.New("is a symlink (not followed)")

// ErrNotRegular is a file that is a directory, a FIFO, a device… where
// suitecheck keeps only regular files.
var ErrNotRegular = errors.New("is not a regular file")

// UntrustedError is a directory that another user could have written, or
// that is not one (a symlink, a file). Its message is one line: the
// directory, what is wrong, and how to fix it.
type UntrustedError struct {
	Role Role
	Path string
	Why  string // e.g. "is writable by group/others"
	Fix  string // e.g. "chmod go-w /x"
}

func (e *UntrustedError) Error() string {
	return e.Role.What + " " + e.Path + " " + e.Why + ": " + e.Fix
}

// Is makes every UntrustedError match ErrUntrusted.
func (e *UntrustedError) Is(target error) bool { return target == ErrUntrusted }

// Check reports whether path is a directory suitecheck may trust in role r:
// not a symlink, a directory, owned by the running user or root, not
// writable by group or others. A missing directory is an error matching
// fs.ErrNotExist; any other refusal is an *UntrustedError.
func Check(path string, r Role) error {
	// "link/" would have lstat follow the link: judge the name itself.
	path = filepath.Clean(path)
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("%s %s: %w", r.What, path, err)
	}
	return checkInfo(path, fi, r)
}

func checkInfo(path string, fi fs.FileInfo, r Role) error {
	refuse := func(why, fix string) error { return &UntrustedError{Role: r, Path: path, Why: why, Fix: fix} }
	replace := "remove it (suitecheck makes the directory)"
	if r.Flag != "" {
		replace = "give " + r.Flag + " a directory"
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		if r.Flag != "" {
			return refuse(ErrNotFollowed.Error(), "give "+r.Flag+" the real directory")
		}
		return refuse(ErrNotFollowed.Error(), "remove the link (suitecheck makes the directory)")
	case !fi.IsDir():
		return refuse("is not a directory", replace)
	}
	me := os.Geteuid()
	if uid, ok := owner(fi); ok && uid != me && uid != 0 {
		fix := fmt.Sprintf("run as that user, or chown %d %s", me, path)
		if r.Flag != "" {
			fix = fmt.Sprintf("run as that user, chown %d %s, or use %s", me, path, r.Flag)
		}
		return refuse(fmt.Sprintf("is owned by uid %d, not you (uid %d)", uid, me), fix)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return refuse("is writable by group/others", "chmod go-w "+path)
	}
	return nil
}

// Ensure makes path (and its missing parents) 0700 when it does not exist,
// then checks it as Check does. A directory that exists is never changed:
// a loose one is refused, not repaired.
func Ensure(path string, r Role) error {
	err := Check(path, r)
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return fmt.Errorf("%s %s: %w", r.What, path, err)
	}
	return Check(path, r)
}

// System is the state dir of a system-wide install.
const System = "/var/lib/suitecheck"

// Default is the state dir when --state-dir is not given: System when it
// is yours to write (or can be made: root), else $XDG_STATE_HOME/suitecheck,
// else $HOME/.local/state/suitecheck. With neither variable set it is an
// error asking for --state-dir, never a shared temporary directory. A
// System that exists but cannot be trusted is an error too, rather than a
// quiet move elsewhere. Default creates nothing (Ensure does).
func Default() (string, error) { return defaultDir(System, os.Getenv, "--state-dir DIR") }

// DefaultArtifacts is the artifacts dir when neither --artifacts nor
// --state-dir is given: the default state dir's artifacts/.
func DefaultArtifacts() (string, error) {
	dir, err := defaultDir(System, os.Getenv, "--artifacts DIR or --state-dir DIR")
	if err != nil {
		return "", err
	}
	return ArtifactsIn(dir), nil
}

// ArtifactsIn is the artifacts dir inside a state dir.
func ArtifactsIn(stateDir string) string { return filepath.Join(stateDir, "artifacts") }

// defaultDir is Default with the system dir and the environment given;
// use names the flags that choose a dir instead.
func defaultDir(system string, getenv func(string) string, use string) (string, error) {
	fi, err := os.Lstat(system)
	switch {
	case err == nil:
		if err := checkInfo(system, fi, State); err != nil {
			return "", err
		}
		if writable(system) {
			return system, nil
		}
	case errors.Is(err, fs.ErrNotExist):
		if writable(filepath.Dir(system)) {
			return system, nil
		}
	}
	// XDG Base Directory: a relative value is invalid and ignored.
	if x := getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "suitecheck"), nil
	}
	if h := getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".local", "state", "suitecheck"), nil
	}
	return "", fmt.Errorf("%w: %s is not yours to write and neither XDG_STATE_HOME nor HOME is set: use %s (a directory only you can write)",
		ErrNoDefault, system, use)
}
