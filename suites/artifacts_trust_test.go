package suites

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
)

// Pruning never deletes through a link: neither a symlinked suite dir nor
// one inside a symlinked artifacts dir.
func TestPruneArtifactsDoesNotFollowLinks(t *testing.T) {
	old := []string{"20261124T100000Z-a.png", "20261124T110000Z-a.png", "20261124T120000Z-a.png"}
	for _, tt := range []struct {
		name  string
		plant func(t *testing.T, files string) string // returns an artifacts dir whose web/ leads to files
	}{
		{"symlinked suite dir", func(t *testing.T, files string) string {
			base := t.TempDir()
			symlink(t, files, filepath.Join(base, "web"))
			return base
		}},
		{"symlinked artifacts dir", func(t *testing.T, files string) string {
			base := filepath.Join(t.TempDir(), "art")
			symlink(t, filepath.Dir(files), base)
			return base
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			files := filepath.Join(t.TempDir(), "web")
			if err := os.Mkdir(files, 0o700); err != nil {
				t.Fatal(err)
			}
			for _, n := range old {
				if err := os.WriteFile(filepath.Join(files, n), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			pruneArtifacts(tt.plant(t, files), "web", 1)
			if got := names(t, files); !slices.Equal(got, old) {
				t.Errorf("pruned through a link: %v left, want %v", got, old)
			}
		})
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// A browser suite checks its artifacts dir (and the suite's dir in it)
// before anything runs: one another user could write, or a symlink, is
// UNKNOWN with what to fix, and nothing is written through it. A missing
// one is made 0700 when a case fails, its files 0600.
func TestRunArtifactsDir(t *testing.T) {
	srv := webApp(t)
	y := fmt.Sprintf("environments:\n  e: {base_url: %s}\nsuites:\n  web:\n    cases:\n      - name: wait\n        steps:\n          - goto: \"{{.BaseURL}}/login\"\n          - wait_text: {value: never there, timeout: 200ms}\n", srv.URL)
	me := os.Geteuid()
	tests := []struct {
		name  string
		root  bool
		setup func(t *testing.T, base string) (artifacts, target string) // target: a dir links point at
		want  string                                                     // the UNKNOWN summary; ART stands for artifacts; "" a CRITICAL run
	}{
		{"missing", false, func(t *testing.T, base string) (string, string) {
			return filepath.Join(base, "new", "art"), ""
		}, ""},
		{"artifacts dir is a symlink", false, func(t *testing.T, base string) (string, string) {
			target := t.TempDir()
			symlink(t, target, filepath.Join(base, "art"))
			return filepath.Join(base, "art"), target
		}, "artifacts dir ART is a symlink (not followed): give --artifacts the real directory"},
		{"suite dir is a symlink", false, func(t *testing.T, base string) (string, string) {
			target := t.TempDir()
			symlink(t, target, filepath.Join(base, "web"))
			return base, target
		}, "artifacts dir ART/web is a symlink (not followed): remove the link (suitecheck makes the directory)"},
		{"artifacts dir 0777", false, artMode(".", 0o777), "artifacts dir ART is writable by group/others: chmod go-w ART"},
		{"artifacts dir 0770", false, artMode(".", 0o770), "artifacts dir ART is writable by group/others: chmod go-w ART"},
		{"suite dir 0757", false, artMode("web", 0o757), "artifacts dir ART/web is writable by group/others: chmod go-w ART/web"},
		{"artifacts dir of another user", true, func(t *testing.T, base string) (string, string) {
			if err := os.Chown(base, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return base, ""
		}, fmt.Sprintf("artifacts dir ART is owned by uid 65534, not you (uid %d): run as that user, chown %[1]d ART, or use --artifacts", me)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root && me != 0 {
				t.Skip("needs root to chown")
			}
			art, target := tt.setup(t, t.TempDir())
			r, out := runYAML(t, y, RunOptions{Suite: "web", Retries: -1, Budget: 20 * time.Second, Browser: BrowserOptions{Artifacts: art}})
			if tt.want == "" {
				if r.State != checks.Critical {
					t.Fatalf("state %v, want CRITICAL\n%s", r.State, out)
				}
				files, _ := filepath.Glob(filepath.Join(art, "web", "*"))
				if len(files) != 4 {
					t.Fatalf("artifacts %v, want a screenshot, the HTML, the HAR and the console log\n%s", files, out)
				}
				for _, d := range []string{filepath.Dir(art), art, filepath.Join(art, "web")} {
					if fi, err := os.Lstat(d); err != nil || fi.Mode().Perm() != 0o700 {
						t.Errorf("%s: %v %v, want 0700", d, fi.Mode(), err)
					}
				}
				for _, f := range files {
					if fi, err := os.Lstat(f); err != nil || fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
						t.Errorf("%s: %v %v, want a regular 0600 file", f, fi.Mode(), err)
					}
				}
				return
			}
			want := strings.ReplaceAll(tt.want, "ART", art)
			if r.State != checks.Unknown || r.Summary != want || len(r.Long) != 0 {
				t.Errorf("state %v\n%s\nwant UNKNOWN - %s", r.State, out, want)
			}
			if target != "" {
				if got := names(t, target); len(got) != 0 {
					t.Errorf("written through the link: %v", got)
				}
			}
		})
	}
}

// artMode makes rel inside the artifacts dir (a fresh temp dir) with mode m.
func artMode(rel string, m os.FileMode) func(*testing.T, string) (string, string) {
	return func(t *testing.T, base string) (string, string) {
		dir := filepath.Join(base, rel)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, m); err != nil {
			t.Fatal(err)
		}
		return base, ""
	}
}
