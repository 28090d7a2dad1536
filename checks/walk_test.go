package checks

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestWalkEnd(t *testing.T) {
	warn, _ := ParseDurationRange("1")
	base := Walk{Head: "x on h:1", Layers: 5, Passed: 3, Total: 1500 * time.Millisecond, Current: "4/5 http",
		TimeoutState: Critical, Budget: 10 * time.Second}
	expired, cancel := context.WithDeadline(context.Background(), time.Now())
	defer cancel()
	canceled, stop := context.WithCancelCause(context.Background())
	stop(errors.New("SIGTERM"))
	slow := base
	slow.Thresholds.Warning = &warn
	tests := []struct {
		name  string
		w     Walk
		ctx   context.Context
		err   error
		state State
		want  string
	}{
		{"all passed", base, context.Background(), nil, OK, "x on h:1: 3 of 5 layers OK in 1.500s"},
		{"slow", slow, context.Background(), nil, Warning, "x on h:1: 3 of 5 layers OK in 1.500s (total time outside the warning range 1)"},
		{"a layer failed", base, context.Background(), fmt.Errorf("walk: %w", LayerFailed(stringer("2/5 tcp connect"), "connection %s", "refused")), Critical, "x on h:1: layer 2/5 tcp connect: connection refused"},
		{"budget", base, expired, context.DeadlineExceeded, Critical, "x on h:1: timed out after 10s at layer 4/5 http"},
		{"signal", base, canceled, context.Canceled, Unknown, "x on h:1: interrupted at layer 4/5 http (SIGTERM)"},
		{"our mistake", base, context.Background(), errors.New("bad option"), Unknown, "x on h:1: bad option"},
	}
	for _, tt := range tests {
		st, s := tt.w.End(tt.ctx, tt.err)
		if st != tt.state || s != tt.want {
			t.Errorf("%s: %v %q, want %v %q", tt.name, st, s, tt.state, tt.want)
		}
	}
}

type stringer string

func (s stringer) String() string { return string(s) }
