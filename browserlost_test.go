package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/internal/apptest"
	"github.com/suitecheck/suitecheck/suites/browser"
)

// TestBinaryBrowserLost: Chromium is killed (SIGKILL to its process group)
// while a step of the case "upload" waits. suitecheck could not judge the
// app: UNKNOWN "browser lost", naming the browser and the case; the case
// before stands, the case after is not run, the tenant is still deleted,
// and no Chromium process nor temporary directory is left. The same for a
// remote browser (--browser-url) whose connection drops.
func TestBinaryBrowserLost(t *testing.T) {
	app := apptest.Start(t)
	tests := []struct {
		name   string
		remote bool
	}{
		{"launched", false},
		{"remote", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The upload page never finishes loading: the step waits.
			reached := make(chan struct{}, 1)
			done := make(chan struct{})
			hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case reached <- struct{}{}:
				default:
				}
				select {
				case <-r.Context().Done():
				case <-done:
				}
			}))
			t.Cleanup(hang.Close)
			t.Cleanup(func() { close(done) })

			// A TMPDIR of the run's own, where Chromium's temporary
			// directories go: it must be left empty.
			tmp, err := os.MkdirTemp("", "lost-tmp-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(tmp) })

			cfg := filepath.Join(t.TempDir(), "suitecheck.yaml")
			y := fmt.Sprintf("environments:\n  staging: {base_url: %s, vars: {hang: %s}}\n%s", app.URL, hang.URL, apptest.ProvisionerYAML(app.URL, "SC_TEST_ADMIN")) +
				`suites:
  lost:
    cases:
      - name: sign in
        steps:
          - http:
              method: POST
              url: "{{.BaseURL}}/api/login"
              json: {login: "{{.Tenant.login}}", password: "{{.Tenant.password}}"}
              expect: {status: 200}
      - name: upload
        steps:
          - goto: {value: "{{.Vars.hang}}/upload", timeout: 60s}
      - name: after
        steps:
          - goto: "{{.BaseURL}}/login"
`
			if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
				t.Fatal(err)
			}
			stateDir := t.TempDir()
			args := []string{"run", "lost", "--config", cfg, "--state-dir", stateDir, "--artifacts", t.TempDir(), "-t", "55", "-v"}
			mark := fmt.Sprintf("SUITECHECK_TEST_MARK=lost-%d-%s", os.Getpid(), tt.name)

			var remote *browser.Browser
			if tt.remote {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				remote, err = browser.Launch(ctx, browser.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { remote.Close() })
				args = append(args, "--browser-url", remote.ControlURL())
			}

			cmd := exec.Command(binary, args...)
			cmd.Env = append(os.Environ(), "SC_TEST_ADMIN="+app.Admin, mark, "TMPDIR="+tmp)
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() })

			// The launched browser's pid, as suitecheck -v reports it.
			pids := make(chan int, 1)
			var log bytes.Buffer
			logDone := make(chan struct{})
			go func() {
				defer close(logDone)
				launched := regexp.MustCompile(`browser: launched .* \(pid (\d+)\)`)
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					log.WriteString(sc.Text() + "\n")
					if m := launched.FindStringSubmatch(sc.Text()); m != nil {
						pid, _ := strconv.Atoi(m[1])
						pids <- pid
					}
				}
				_, _ = io.Copy(io.Discard, stderr)
			}()

			var pid int
			if tt.remote {
				pid = remote.PID()
			} else {
				select {
				case pid = <-pids:
				case <-time.After(30 * time.Second): // a bound on failure, not a synchronisation
					t.Fatal("suitecheck -v never reported its browser's pid")
				}
			}
			select {
			case <-reached:
			case <-time.After(30 * time.Second):
				t.Fatal("the browser never requested the upload page")
			}
			if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			<-logDone
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			out := stdout.String()
			t.Logf("suitecheck's output:\n%s", out)
			want := fmt.Sprintf(`SUITECHECK UNKNOWN - lost on staging: browser lost: Chromium (pid %d) was killed by signal 9 during case "upload"`, pid)
			if tt.remote {
				u, _ := url.Parse(remote.ControlURL())
				want = fmt.Sprintf(`SUITECHECK UNKNOWN - lost on staging: browser lost: the connection to the browser at ws://%s closed during case "upload"`, u.Host)
			}
			if code != 3 || !strings.HasPrefix(out, want) {
				t.Errorf("exit %d\n%s\nwant exit 3 and the prefix\n%s\nstderr:\n%s", code, out, want, log.String())
			}
			for _, l := range []string{"[OK] sign in ", "[SKIPPED] after: not run: the browser was lost", ", deleted in "} {
				if !strings.Contains(out, l) {
					t.Errorf("output lacks %q:\n%s", l, out)
				}
			}
			if ts := app.Tenants(t); len(ts) != 0 {
				t.Errorf("tenants left in the app: %v", ts)
			}
			waitNoMarked(t, mark)
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				for _, e := range left {
					t.Errorf("left in TMPDIR: %s", e.Name())
				}
			}
		})
	}
}
