package suites

import (
	"fmt"
	"time"

	"github.com/suitecheck/suitecheck/internal/httpstep"
)

// The levels of a run's diagnostics for people (-v, -vv, -vvv), on stderr.
const (
	// LogRun is the run: cases as they end (RunOptions.Progress), the
	// tenant's create and delete and the sweep, with their times.
	LogRun = 1
	// LogSteps adds every step as it starts and ends, with its time; for
	// HTTP requests (steps and the tenant's) method, path, status and
	// size; for the browser, navigations and the page's failed requests.
	LogSteps = httpstep.TraceRequests
	// LogWire adds the wire: HTTP headers and body excerpts, the browser's
	// console and network events.
	LogWire = httpstep.TraceWire
)

// Diagnostics are where a run tells people what it does, masked like its
// output. The zero value tells nothing.
type Diagnostics struct {
	// Log receives each line up to Level.
	Log   func(line string)
	Level int
	// Status, when set, is told what runs now ("case: step"), and "" when
	// nothing does: a terminal's live line.
	Status func(what string)
}

// logf tells a diagnostic of this level, masked.
func (e *runEnv) logf(level int, format string, args ...any) {
	if e.diag.Log == nil || e.diag.Level < level {
		return
	}
	e.diag.Log(e.mask.Mask(fmt.Sprintf(format, args...)))
}

// status tells the live line what runs now, masked.
func (e *runEnv) status(what string) {
	if e.diag.Status != nil {
		e.diag.Status(e.mask.Mask(what))
	}
}

// httpTrace is the Trace of the run's HTTP clients: their requests at
// LogSteps, the wire at LogWire.
func (e *runEnv) httpTrace() (func(level int, line string), int) {
	if e.diag.Log == nil || e.diag.Level < LogSteps {
		return nil, 0
	}
	return func(level int, line string) { e.logf(level, "  %s", line) }, e.diag.Level
}

// secs writes a time as the diagnostics do: 0.034s.
func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
