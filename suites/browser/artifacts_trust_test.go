package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const prefix = "20261124T155012Z-upload"

// openPage puts the shared page on a page of the test server.
func openPage(t *testing.T) *Page {
	t.Helper()
	p := sharedPage(t)
	runSteps(t, p, Step{Action: ActionGoto, Value: newServer(t).URL + "/nothing"})
	return p
}

// Links planted under the artifacts' names are replaced, never written
// through: a root run must not overwrite the file a link points at, nor
// make the file a dangling one names.
func TestSaveArtifactsDoesNotFollowPlantedLinks(t *testing.T) {
	p := openPage(t)
	dir, elsewhere := t.TempDir(), t.TempDir()
	victim, dangling := filepath.Join(elsewhere, "victim"), filepath.Join(elsewhere, "made")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	dangling2 := filepath.Join(elsewhere, "made2")
	for link, target := range map[string]string{prefix + ".png": victim, prefix + ".html": dangling, prefix + ".har": victim, prefix + ".log": dangling2} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	shot, html, err := p.SaveArtifacts(context.Background(), dir, prefix, nil)
	if err != nil || shot == "" || html == "" {
		t.Fatalf("SaveArtifacts = %q, %q, %v", shot, html, err)
	}
	har, log, err := p.SaveRecords(dir, prefix, nil)
	if err != nil || har == "" || log == "" {
		t.Fatalf("SaveRecords = %q, %q, %v", har, log, err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the screenshot or HAR went through the link: the victim holds %.20q", b)
	}
	for _, d := range []string{dangling, dangling2} {
		if _, err := os.Lstat(d); err == nil {
			t.Errorf("the HTML or console log went through a dangling link: %s made", d)
		}
	}
	assertPrivate(t, "", shot, html, har, log)
}

// The directory given is made 0700 when missing, and refused when another
// user could have written it; nothing is written then.
func TestSaveArtifactsDir(t *testing.T) {
	tests := []struct {
		name  string
		root  bool
		setup func(t *testing.T, base string) (dir, refused string) // refused: the error's why and fix
	}{
		{"missing: made 0700", false, func(t *testing.T, base string) (string, string) {
			return filepath.Join(base, "new", "web"), ""
		}},
		{"symlink", false, func(t *testing.T, base string) (string, string) {
			dir := filepath.Join(base, "web")
			if err := os.Symlink(t.TempDir(), dir); err != nil {
				t.Fatal(err)
			}
			return dir, "is a symlink (not followed): remove the link (suitecheck makes the directory)"
		}},
		{"0777", false, dirMode(0o777, "is writable by group/others: chmod go-w DIR")},
		{"0770", false, dirMode(0o770, "is writable by group/others: chmod go-w DIR")},
		{"0757", false, dirMode(0o757, "is writable by group/others: chmod go-w DIR")},
		{"another user's", true, func(t *testing.T, base string) (string, string) {
			dir := filepath.Join(base, "web")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(dir, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			me := os.Geteuid()
			return dir, fmt.Sprintf("is owned by uid 65534, not you (uid %d): run as that user, or chown %d DIR", me, me)
		}},
	}
	p := openPage(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root && os.Geteuid() != 0 {
				t.Skip("needs root to chown")
			}
			dir, refused := tt.setup(t, t.TempDir())
			shot, html, err := p.SaveArtifacts(context.Background(), dir, prefix, nil)
			if refused == "" {
				if err != nil {
					t.Fatal(err)
				}
				assertPrivate(t, dir, shot, html)
				return
			}
			want := "artifacts dir " + dir + " " + strings.ReplaceAll(refused, "DIR", dir)
			if err == nil || err.Error() != want || shot != "" || html != "" {
				t.Errorf("SaveArtifacts = %q, %q, %v\nwant nothing saved: %s", shot, html, err, want)
			}
			if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
				t.Errorf("written into a refused dir: %v", files)
			}
		})
	}
}

func dirMode(m os.FileMode, refused string) func(*testing.T, string) (string, string) {
	return func(t *testing.T, base string) (string, string) {
		dir := filepath.Join(base, "web")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, m); err != nil {
			t.Fatal(err)
		}
		return dir, refused
	}
}

// assertPrivate checks that dir (unless "") is 0700 and the files regular
// and 0600: screenshots of production are private.
func assertPrivate(t *testing.T, dir string, files ...string) {
	t.Helper()
	if fi, err := os.Lstat(dir); dir != "" && (err != nil || fi.Mode().Perm() != 0o700 || !fi.IsDir()) {
		t.Errorf("%s: %v %v, want a 0700 directory", dir, fi.Mode(), err)
	}
	for _, f := range files {
		if fi, err := os.Lstat(f); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want a regular 0600 file", f, fi.Mode(), err)
		}
	}
}
