// Package checks is suitecheck's side of the Nagios plugin contract, written
// from the monitoring-plugins development guidelines: service states and how
// they combine, threshold ranges, performance data, and the rendering of a
// result into the text a monitoring client reads. It also holds the
// fine-grained probes (check postgres) that run on their own as a check and
// serve suites as diagnostics.
//
// Nothing in this package prints or exits: main turns a Result into stdout
// and an exit code.
package checks

import (
	"fmt"
	"strings"
)

// State is a service state of the plugin contract. Its numeric value is the
// exit code a monitoring client expects.
type State int

// The four service states, with their exit codes.
const (
	OK       State = 0
	Warning  State = 1
	Critical State = 2
	Unknown  State = 3
)

// String returns the state's name as it appears on the status line.
func (s State) String() string {
	switch s {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	case Unknown:
		return "UNKNOWN"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// ExitCode returns the process exit code for the state. Anything outside the
// four states maps to UNKNOWN's 3: exit codes are only ever 0–3.
func (s State) ExitCode() int {
	if s < OK || s > Unknown {
		return int(Unknown)
	}
	return int(s)
}

// severity orders states for Worst: CRITICAL > UNKNOWN > WARNING > OK. This is
// not the numeric order: a broken app stays CRITICAL even when a diagnostic
// could not run.
func (s State) severity() int {
	switch s {
	case OK:
		return 0
	case Warning:
		return 1
	case Unknown:
		return 2
	case Critical:
		return 3
	}
	return 2 // an invalid state is treated as UNKNOWN
}

// Worse reports whether s is more severe than other.
func (s State) Worse(other State) bool { return s.severity() > other.severity() }

// Worst combines states: the most severe wins, in the order
// CRITICAL > UNKNOWN > WARNING > OK. With no states nothing could be judged,
// and the result is UNKNOWN.
func Worst(states ...State) State {
	if len(states) == 0 {
		return Unknown
	}
	w := states[0]
	for _, s := range states[1:] {
		if s.Worse(w) {
			w = s
		}
	}
	if w.severity() == 2 {
		return Unknown
	}
	return w
}

// ParseState reads a state given by name (ok, warning, critical, unknown, in
// any case, also the short forms warn and crit) or by its number 0–3.
func ParseState(s string) (State, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "OK", "0":
		return OK, nil
	case "WARNING", "WARN", "1":
		return Warning, nil
	case "CRITICAL", "CRIT", "2":
		return Critical, nil
	case "UNKNOWN", "3":
		return Unknown, nil
	}
	return Unknown, fmt.Errorf("invalid state %q: use OK, WARNING, CRITICAL or UNKNOWN", s)
}
