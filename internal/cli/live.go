package cli

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// liveEvery is how often the live line is redrawn.
const liveEvery = 200 * time.Millisecond

// liveLine is, on a terminal, the last line of stderr: what runs now (the
// case and its step, the tenant's create) and for how long, redrawn in
// place. Every other write to stderr goes through it and clears it first,
// so that diagnostics and case lines are never mixed with it.
type liveLine struct {
	mu    sync.Mutex
	w     io.Writer
	what  string
	since time.Time
	shown bool
	now   func() time.Time
	stop  chan struct{}
	done  chan struct{}
}

func newLiveLine(w io.Writer) *liveLine {
	return &liveLine{w: w, now: time.Now}
}

// start redraws the line every liveEvery until close.
func (l *liveLine) start() {
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTicker(liveEvery)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.draw()
			}
		}
	}()
}

// set says what runs now; "" clears the line.
func (l *liveLine) set(what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if what != l.what {
		l.what, l.since = what, l.now()
	}
	if what == "" {
		l.clear()
	}
}

// draw shows what runs and for how long, in place of the last line.
func (l *liveLine) draw() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.what == "" {
		return
	}
	fmt.Fprintf(l.w, "\r\x1b[K▶ %s (%.1fs)", l.what, l.now().Sub(l.since).Seconds())
	l.shown = true
}

func (l *liveLine) clear() {
	if l.shown {
		io.WriteString(l.w, "\r\x1b[K")
		l.shown = false
	}
}

// Write writes p to stderr on a line of its own: the live line is cleared
// first and drawn again on the next tick.
func (l *liveLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
	return l.w.Write(p)
}

// close stops the redraws and clears the line.
func (l *liveLine) close() {
	if l.stop != nil {
		close(l.stop)
		<-l.done
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
}
