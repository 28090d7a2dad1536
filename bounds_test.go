package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// boundedRun is how the real binary ended, and what it cost.
type boundedRun struct {
	stdout, stderr string
	code           int
	maxRSS         int64 // KiB: the peak resident set of the binary (or of a child, if larger)
	elapsed        time.Duration
}

// runBounded runs the binary in dir and reads its peak RSS from its
// rusage. limit is a safety net that kills a run gone wrong; the tests'
// assertions never rest on it.
func runBounded(t *testing.T, dir string, limit time.Duration, args ...string) boundedRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := boundedRun{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("suitecheck %s: still running after %s, killed\n%s%s", strings.Join(args, " "), limit, r.stdout, r.stderr)
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage for the binary")
	}
	r.maxRSS = ru.Maxrss
	return r
}

// TestBinaryConfigFiles: --config names a regular file of at most 1 MiB,
// read within -t; anything else is one UNKNOWN line saying what to fix,
// at once (a FIFO never blocks, a device is never read).
func TestBinaryConfigFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	writeFile(t, big, strings.Repeat("# a comment line of forty bytes or so.\n", 40<<10))
	twoDocs := filepath.Join(dir, "two.yaml")
	writeFile(t, twoDocs, "environments:\n  e: {base_url: http://127.0.0.1:1}\nsuites:\n  s:\n    cases:\n      - {name: a, command: {argv: [\"true\"]}}\n---\nsuites: {}\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"fifo", []string{"run", "s", "--config", fifo, "-t", "5"}, "SUITECHECK UNKNOWN - config " + fifo + ": a FIFO (named pipe), not a regular file: give --config the path of a YAML file\n"},
		{"device", []string{"run", "s", "--config", "/dev/zero", "-t", "5"}, "SUITECHECK UNKNOWN - config /dev/zero: a device, not a regular file: give --config the path of a YAML file\n"},
		{"directory", []string{"validate", "--config", dir}, "SUITECHECK UNKNOWN - config " + dir + ": a directory, not a regular file: give --config the path of a YAML file\n"},
		{"too big", []string{"run", "s", "--config", big, "-t", "5"}, "SUITECHECK UNKNOWN - config " + big + ": larger than 1 MiB: a config is YAML text (is --config the right file?)\n"},
		{"second document", []string{"run", "s", "--config", twoDocs}, "SUITECHECK UNKNOWN - " + twoDocs + ":7: a second YAML document starts here (---): put everything in one document\n"},
		{"missing", []string{"list", "--config", filepath.Join(dir, "none.yaml")}, "SUITECHECK UNKNOWN - config " + filepath.Join(dir, "none.yaml") + ": no such file (give --config FILE or set SUITECHECK_CONFIG)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBounded(t, dir, time.Minute, tt.args...)
			if r.code != 3 || r.stdout != tt.want {
				t.Errorf("exit %d, stdout %q\nwant exit 3, %q", r.code, r.stdout, tt.want)
			}
			if r.elapsed > 5*time.Second {
				t.Errorf("took %s", r.elapsed)
			}
			if r.maxRSS > 100<<10 {
				t.Errorf("peak RSS %d KiB", r.maxRSS)
			}
		})
	}
}

// TestBinaryRunFlagBounds: --retries beyond the config's bound and a
// --teardown-timeout that keeps no time are refused, in one line.
func TestBinaryRunFlagBounds(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	writeFile(t, cfg, "environments:\n  e: {base_url: http://127.0.0.1:1}\nsuites:\n  s:\n    cases:\n      - {name: a, command: {argv: [\"true\"]}}\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"retries too many", []string{"run", "s", "--config", cfg, "--retries", "11"}, "SUITECHECK UNKNOWN - --retries 11: give 0 to 10 (see suitecheck --help)\n"},
		{"retries negative", []string{"run", "s", "--config", cfg, "--retries", "-5"}, "SUITECHECK UNKNOWN - --retries -5: give 0 to 10 (see suitecheck --help)\n"},
		{"teardown zero", []string{"run", "s", "--config", cfg, "--teardown-timeout", "0s"}, "SUITECHECK UNKNOWN - --teardown-timeout 0s: give a positive duration such as 10s (see suitecheck --help)\n"},
		{"teardown negative", []string{"run", "s", "--config", cfg, "--teardown-timeout", "-1s"}, "SUITECHECK UNKNOWN - --teardown-timeout -1s: give a positive duration such as 10s (see suitecheck --help)\n"},
		{"demo teardown zero", []string{"demo", "--teardown-timeout", "0s"}, "SUITECHECK UNKNOWN - --teardown-timeout 0s: give a positive duration such as 10s (see suitecheck --help)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBounded(t, dir, time.Minute, tt.args...)
			if r.code != 3 || r.stdout != tt.want {
				t.Errorf("exit %d, stdout %q\nwant exit 3, %q", r.code, r.stdout, tt.want)
			}
		})
	}
	// The bounds themselves are accepted.
	r := runBounded(t, dir, time.Minute, "run", "s", "--config", cfg, "--retries", "10", "--teardown-timeout", "1ms")
	if r.code != 0 {
		t.Errorf("--retries 10 --teardown-timeout 1ms: exit %d\n%s", r.code, r.stdout)
	}
}

// maxRSS bounds the binary's peak resident set on any input, in KiB.
const maxRSS = 200 << 10

// TestBinaryHugeJUnitReport: a 200 MB JUnit report (a <system-out> of
// 200 MB, as a chatty suite writes) is judged in bounded memory.
func TestBinaryHugeJUnitReport(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "big.xml"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	w.WriteString(`<?xml version="1.0"?><testsuites><testsuite name="chatty">`)
	w.WriteString(`<testcase classname="app.Upload" name="lists the file" time="1.25"><failure message="no hello.txt after 5s">trace</failure><system-out>`)
	chunk := strings.Repeat("GET /api/files 200 0.004s \x1b[32mok\x1b[0m\n", 1<<10)
	for written := 0; written < 200<<20; written += len(chunk) {
		w.WriteString(chunk)
	}
	w.WriteString(`</system-out></testcase>`)
	for i := range 2000 {
		fmt.Fprintf(w, `<testcase classname="app.Pages" name="page %d" time="0.%03d"/>`, i, i%1000)
	}
	w.WriteString(`</testsuite></testsuites>`)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "c.yaml"), "environments:\n  e: {base_url: http://127.0.0.1:1}\nsuites:\n  s:\n    cases:\n      - name: own\n        command: {argv: [touch, big.xml], junit: big.xml}\n")

	r := runBounded(t, dir, 2*time.Minute, "run", "s", "--config", "c.yaml", "-t", "60")
	t.Logf("peak RSS %d KiB, %s", r.maxRSS, r.elapsed)
	want := "SUITECHECK CRITICAL - s on e: 1 of 1 cases failed: own (1 of 2001 tests failed: app.Upload lists the file (no hello.txt after 5s))"
	if r.code != 2 || !strings.HasPrefix(r.stdout, want) {
		t.Errorf("exit %d, stdout %.600q\nwant exit 2, %q", r.code, r.stdout, want)
	}
	if !strings.Contains(r.stdout, "own_passed=2000;;;0;2001 own_failed=1;;;0;2001") {
		t.Errorf("perfdata: %.600q", r.stdout)
	}
	if r.maxRSS > maxRSS {
		t.Errorf("peak RSS %d KiB, want at most %d KiB", r.maxRSS, maxRSS)
	}
}

// TestBinaryEndlessOutput: a command whose output never ends (yes ok, as
// TAP or go test -json) is stopped by the run's budget (-t 3:UNKNOWN, so
// the state says it was the budget), its output cut and judged, in
// bounded memory.
func TestBinaryEndlessOutput(t *testing.T) {
	tests := []struct{ name, command string }{
		{"tap", "{argv: [yes, ok], format: tap}"},
		{"go test -json", `{argv: [yes, '{"Action":"pass","Package":"example.com/app","Test":"TestSignIn","Elapsed":0.02}'], format: go-test-json}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "c.yaml"), "environments:\n  e: {base_url: http://127.0.0.1:1}\nsuites:\n  s:\n    cases:\n      - name: own\n        command: "+tt.command+"\n")
			r := runBounded(t, dir, time.Minute, "run", "s", "--config", "c.yaml", "-t", "3:UNKNOWN")
			t.Logf("peak RSS %d KiB, %s", r.maxRSS, r.elapsed)
			want := "SUITECHECK UNKNOWN - s on e: timed out after 3s in own (stopped: the run budget ran out, output cut after "
			if r.code != 3 || !strings.HasPrefix(r.stdout, want) || !strings.Contains(r.stdout, " tests, none failed) | ") {
				t.Errorf("exit %d, stdout %.600q\nwant exit 3, %q", r.code, r.stdout, want)
			}
			if r.maxRSS > maxRSS {
				t.Errorf("peak RSS %d KiB, want at most %d KiB", r.maxRSS, maxRSS)
			}
		})
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
