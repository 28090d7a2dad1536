package cli

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// TestLiveLine: the live line shows what runs and its time in place; every
// other line written to stderr clears it first; "" and close clear it.
func TestLiveLine(t *testing.T) {
	var b bytes.Buffer
	l := newLiveLine(&b)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	l.draw() // nothing runs: nothing drawn
	l.set("upload: step 2 click \"#send\"")
	now = now.Add(1500 * time.Millisecond)
	l.draw()
	fmt.Fprintln(l, "suitecheck: tenant sc-x created")
	l.draw()
	l.set("")
	l.draw()
	l.set("tenant: delete")
	l.draw()
	l.close()
	want := "\r\x1b[K▶ upload: step 2 click \"#send\" (1.5s)" +
		"\r\x1b[Ksuitecheck: tenant sc-x created\n" +
		"\r\x1b[K▶ upload: step 2 click \"#send\" (1.5s)" +
		"\r\x1b[K" +
		"\r\x1b[K▶ tenant: delete (0.0s)" +
		"\r\x1b[K"
	if got := b.String(); got != want {
		t.Errorf("stderr:\n%q\nwant\n%q", got, want)
	}
}
