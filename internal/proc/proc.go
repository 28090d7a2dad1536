// Package proc runs external programs for suitecheck (tenant provisioning
// commands, a suite's own test runner) so that nothing outlives them: each
// program gets a process group of its own, which is killed when the
// program's context ends and again once the program has exited, so that
// background children it left behind go too.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Cmd is a program to run.
type Cmd struct {
	Argv []string // the program and its arguments; no shell
	Dir  string   // working directory; "" for ours
	Env  []string // KEY=VALUE added to (and overriding) our environment
	// Stdout, when set, receives the program's stdout as it comes instead
	// of the capped capture in Result.Stdout.
	Stdout interface{ Write([]byte) (int, error) }
	// MaxOutput caps the bytes of stdout and stderr kept; default 1 MiB.
	MaxOutput int
}

// Result is how a program ended.
type Result struct {
	ExitCode int    // -1 when it did not exit by itself (killed, not started)
	Stdout   []byte // the first MaxOutput bytes
	Stderr   []byte // the last MaxOutput bytes
	Duration time.Duration
}

// ErrNotFound is returned when the program does not exist or cannot be run.
var ErrNotFound = errors.New("program not found")

// Run runs c and waits for it. The error is nil when the program exited 0;
// an *ExitError when it exited otherwise; ctx's error (wrapped) when ctx
// ended first, after the whole process group was killed.
func Run(ctx context.Context, c Cmd) (Result, error) {
	res := Result{ExitCode: -1}
	if len(c.Argv) == 0 || c.Argv[0] == "" {
		return res, fmt.Errorf("%w: an empty command", ErrNotFound)
	}
	max := c.MaxOutput
	if max <= 0 {
		max = 1 << 20
	}
	cmd := exec.Command(c.Argv[0], c.Argv[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	out := &headBuffer{max: max}
	errb := &tailBuffer{max: max}
	if c.Stdout != nil {
		cmd.Stdout = c.Stdout
	} else {
		cmd.Stdout = out
	}
	cmd.Stderr = errb
	// A background child that keeps our pipes open must not keep us
	// waiting once the program itself has exited: its group is killed
	// right after.
	cmd.WaitDelay = 500 * time.Millisecond

	start := time.Now()
	// A group of its own, and killed with us if we die first.
	waited := make(chan error, 1)
	if err := StartLocked(cmd, syscall.SIGKILL, func() { waited <- cmd.Wait() }); err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) || errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return res, fmt.Errorf("%w: %v", ErrNotFound, err)
		}
		return res, fmt.Errorf("start %s: %w", c.Argv[0], err)
	}
	pgid := cmd.Process.Pid
	done := make(chan struct{})
	var killedByCtx bool
	var mu sync.Mutex
	go func() {
		select {
		case <-ctx.Done():
			mu.Lock()
			killedByCtx = true
			mu.Unlock()
			killGroup(pgid)
		case <-done:
		}
	}()
	err := <-waited
	close(done)
	if errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success() {
		err = nil // it exited 0; only a leftover child held the pipes
	}
	// Whatever it left running in its group goes too.
	killGroup(pgid)
	res.Duration = time.Since(start)
	res.Stdout, res.Stderr = out.Bytes(), errb.Bytes()
	mu.Lock()
	killed := killedByCtx
	mu.Unlock()
	if killed {
		return res, fmt.Errorf("%s: %w", c.Argv[0], context.Cause(ctx))
	}
	if err != nil {
		var xe *exec.ExitError
		if errors.As(err, &xe) {
			res.ExitCode = xe.ExitCode()
			return res, &ExitError{Code: res.ExitCode, Stderr: res.Stderr, Signal: signalOf(xe)}
		}
		return res, fmt.Errorf("%s: %w", c.Argv[0], err)
	}
	res.ExitCode = 0
	return res, nil
}

func signalOf(xe *exec.ExitError) string {
	if ws, ok := xe.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal().String()
	}
	return ""
}

func killGroup(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// ExitError is a program that exited non-zero (or was killed by a signal
// not of our sending).
type ExitError struct {
	Code   int
	Signal string
	Stderr []byte
}

func (e *ExitError) Error() string {
	what := fmt.Sprintf("exit status %d", e.Code)
	if e.Signal != "" {
		what = "killed by " + e.Signal
	}
	if l := LastLine(e.Stderr); l != "" {
		what += ": " + l
	}
	return what
}

// LastLine is the last non-empty line of b, trimmed to 1000 bytes (callers
// mask secrets, then shorten): what a failing program said last is usually
// why.
func LastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l != "" {
			if len(l) > 1000 {
				l = l[:1000] + "…"
			}
			return l
		}
	}
	return ""
}

// headBuffer keeps the first max bytes written to it.
type headBuffer struct {
	mu  sync.Mutex
	b   bytes.Buffer
	max int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if room := h.max - h.b.Len(); room > 0 {
		h.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (h *headBuffer) Bytes() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return bytes.Clone(h.b.Bytes())
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.b)
}
