package suites

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/suites/testreport"
)

// TestCommandAttachments: the files a failed test attached are copied into
// the artifacts dir and listed with their full paths; what is not the
// command's own regular file (outside its dir, a link out of it, a FIFO)
// or too big is named and left alone.
func TestCommandAttachments(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "test-results")
	os.MkdirAll(results, 0o755)
	os.WriteFile(filepath.Join(results, "test-failed-1.png"), []byte("PNG of the failure"), 0o644)
	os.WriteFile(filepath.Join(results, "trace.zip"), []byte("a trace"), 0o644)
	outside := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(outside, []byte("not the runner's"), 0o600)
	os.Symlink(outside, filepath.Join(results, "link.txt"))
	if err := syscall.Mkfifo(filepath.Join(results, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	big, _ := os.Create(filepath.Join(results, "video.webm"))
	big.Truncate(maxAttachmentBytes + 1)
	big.Close()
	report := `<testsuite><testcase classname="login.spec.ts" name="signs in"><failure message="timed out"/><system-out>
[[ATTACHMENT|test-results/test-failed-1.png]]
[[ATTACHMENT|` + filepath.Join(results, "trace.zip") + `]]
[[ATTACHMENT|../` + filepath.Base(filepath.Dir(outside)) + `/secret.txt]]
[[ATTACHMENT|` + outside + `]]
[[ATTACHMENT|test-results/link.txt]]
[[ATTACHMENT|test-results/fifo]]
[[ATTACHMENT|test-results/video.webm]]
[[ATTACHMENT|test-results/missing.png]]
</system-out></testcase></testsuite>`
	os.WriteFile(filepath.Join(dir, "report.xml"), []byte(report), 0o644)
	y := "environments:\n  e: {base_url: https://app.example.com}\nsuites:\n  s:\n    cases:\n      - name: e2e\n        command:\n          argv: [sh, -c, 'touch report.xml; exit 1']\n          junit: report.xml\n"
	cfg, err := Parse(filepath.Join(dir, "suitecheck.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	artifacts := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := Run(ctx, cfg, RunOptions{Suite: "s", Budget: 30 * time.Second, Retries: -1, TimeoutState: checks.Critical,
		Browser: BrowserOptions{Artifacts: artifacts, KeepRuns: 3}})
	out := res.Render(0)
	if res.State != checks.Critical {
		t.Fatalf("state %v\n%s", res.State, out)
	}
	copied, _ := filepath.Glob(filepath.Join(artifacts, "s", "*"))
	if len(copied) != 2 {
		t.Fatalf("copied %v, want the screenshot and the trace\n%s", copied, out)
	}
	for _, f := range copied {
		b, _ := os.ReadFile(f)
		if fi, _ := os.Lstat(f); !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v", f, fi.Mode())
		}
		if !strings.Contains(out, f) {
			t.Errorf("long output does not list %s:\n%s", f, out)
		}
		if string(b) != "PNG of the failure" && string(b) != "a trace" {
			t.Errorf("%s holds %q", f, b)
		}
	}
	for _, want := range []string{
		"/secret.txt not copied: outside the command's dir",
		"test-results/link.txt not copied: path escapes from parent",
		"test-results/fifo not copied: not a regular file",
		"test-results/video.webm not copied: 20 MiB, more than the 20 MiB",
		"test-results/missing.png not copied: ",
		"artifacts in " + filepath.Join(artifacts, "s"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "not the runner's") {
		t.Errorf("a file outside the command's dir was read:\n%s", out)
	}
}

// TestAttachedFrom: a report's relative attachment paths are read from the
// report's directory, as Playwright writes them.
func TestAttachedFrom(t *testing.T) {
	res := &testreport.Results{Tests: []testreport.Test{{Attachments: []string{"../test-results/a.png", "/abs/b.zip", "c.log"}}}}
	attachedFrom(res, "reports")
	want := []string{"test-results/a.png", "/abs/b.zip", "reports/c.log"}
	if got := res.Tests[0].Attachments; !slices.Equal(got, want) {
		t.Errorf("attachments %q, want %q", got, want)
	}
}
