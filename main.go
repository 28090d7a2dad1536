// Command suitecheck is a Nagios/Icinga-compatible check plugin that runs a
// test suite against a throwaway tenant. main wires the commands and is the
// only place that writes the result to stdout and chooses the exit code.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/cli"
)

// Set by the Makefile with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = ""
)

func main() {
	os.Exit(run(cli.Execute, os.Args[1:], os.Stdout, os.Stderr))
}

// executeFunc runs a command line; cli.Execute in production.
type executeFunc func(ctx context.Context, args []string, build cli.Build, stdout, stderr io.Writer) (cli.Outcome, error)

// run executes one invocation and returns the exit code, always 0–3. A
// panic becomes one UNKNOWN line: an escaped Go panic exits 2, which every
// monitoring client reads as CRITICAL, with a stack trace as the status.
func run(execute executeFunc, args []string, stdout, stderr io.Writer) (code int) {
	verbose := countVerbose(args)
	defer func() {
		if p := recover(); p != nil {
			res := checks.Errorf(checks.Unknown, "internal error: %v (a suitecheck bug: please report it with the command line)", p)
			fmt.Fprint(stdout, res.Render(checks.DefaultMaxOutput))
			if verbose >= 3 {
				fmt.Fprintf(stderr, "panic: %v\n%s", p, debug.Stack())
			}
			code = res.State.ExitCode()
		}
	}()

	ctx, stop := signalContext()
	defer stop()

	out, err := execute(ctx, args, buildInfo(), stdout, stderr)
	if err != nil {
		res := checks.FromError(err)
		fmt.Fprint(stdout, res.Render(out.MaxOutput))
		return res.State.ExitCode()
	}
	if out.Informational {
		// Help or the version: not a check. UNKNOWN, as the monitoring
		// plugins exit for --help and -V, so that a command definition
		// that only asks for help never shows as OK.
		return checks.Unknown.ExitCode()
	}
	if out.Result == nil {
		return 0 // validate, list, --print-config: they wrote their output
	}
	fmt.Fprint(stdout, out.Result.Render(out.MaxOutput))
	return out.Result.State.ExitCode()
}

// signalContext is cancelled, with the signal as its cause, on SIGTERM,
// SIGINT or SIGHUP, so a run can still clean up and print its result.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			cancel(fmt.Errorf("received %v", s))
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

func buildInfo() cli.Build {
	b := cli.Build{Version: version, Commit: commit, GoVersion: runtime.Version()}
	if b.Commit == "" {
		b.Commit = "unknown"
		if info, ok := debug.ReadBuildInfo(); ok {
			for _, s := range info.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					b.Commit = s.Value[:12]
				}
			}
		}
	}
	return b
}

// countVerbose finds -v flags before cobra parses them, so that a panic
// during parsing still honours -vvv.
func countVerbose(args []string) int {
	n := 0
	for _, a := range args {
		switch a {
		case "-v", "--verbose":
			n++
		case "-vv":
			n += 2
		case "-vvv":
			n += 3
		}
	}
	return n
}
