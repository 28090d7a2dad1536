package checks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A Walk is how a layered check ended (check postgres, check http): its
// layers run in order, and the first that fails is named. End words every
// such check's status line the same way.
type Walk struct {
	Head         string // what was checked: "postgres app@appdb on db1:5432"
	Layers       int    // how many layers the check has
	Passed       int    // how many of them passed
	Total        time.Duration
	Current      string     // the layer running when the walk ended: "3/8 authenticates"
	Thresholds   Thresholds // on the total time
	TimeoutState State      // the state when the budget ran out (-t)
	Budget       time.Duration
}

// A LayerError is the failure of one layer of a layered check: what it
// checks is broken (CRITICAL), not the check or its options.
type LayerError struct {
	Layer fmt.Stringer // "2/5 tcp connect"
	Msg   string
}

func (e *LayerError) Error() string { return e.Msg }

// LayerFailed is layer l's failure, worded as format says.
func LayerFailed(l fmt.Stringer, format string, args ...any) error {
	return &LayerError{Layer: l, Msg: fmt.Sprintf(format, args...)}
}

// End is the state and summary of a walk that ended with err: nil when
// every layer ran (the total time is judged), a *LayerError (CRITICAL), the end of ctx (the budget: TimeoutState; a signal:
// UNKNOWN), or a mistake of ours or the user's (UNKNOWN).
func (w Walk) End(ctx context.Context, err error) (State, string) {
	switch {
	case err == nil:
		st := w.Thresholds.Evaluate(w.Total.Seconds())
		return st, fmt.Sprintf("%s: %d of %d layers OK in %.3fs", w.Head, w.Passed, w.Layers, w.Total.Seconds()) + TotalNote(st, w.Thresholds)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		spent := w.Budget.String()
		if w.Budget <= 0 {
			spent = w.Total.Round(time.Millisecond).String()
		}
		return w.TimeoutState, fmt.Sprintf("%s: timed out after %s at layer %s", w.Head, spent, w.Current)
	case ctx.Err() != nil:
		return Unknown, fmt.Sprintf("%s: interrupted at layer %s (%v)", w.Head, w.Current, context.Cause(ctx))
	}
	if le := (*LayerError)(nil); errors.As(err, &le) {
		return Critical, fmt.Sprintf("%s: layer %s: %s", w.Head, le.Layer, le.Msg)
	}
	return Unknown, fmt.Sprintf("%s: %v", w.Head, err)
}

// TotalNote says which range a total time fell outside of, for the end of
// a summary: " (total time outside the warning range 5)"; "" for OK.
func TotalNote(st State, th Thresholds) string {
	r := th.Warning
	switch st {
	case OK:
		return ""
	case Critical:
		r = th.Critical
	}
	return fmt.Sprintf(" (total time outside the %s range %s)", strings.ToLower(st.String()), r)
}
