package tenant

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func newLedger(t *testing.T) *FileLedger {
	t.Helper()
	l, err := OpenLedger(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func entry(run, name string) Entry {
	return Entry{Run: run, Scope: "s", PID: os.Getpid(), Host: "h", Started: time.Now().UTC(), Name: name}
}

// Record, Update, List and Forget: the entry is there, alive, with what
// Update said, and gone after Forget.
func TestLedgerRecordUpdateForget(t *testing.T) {
	ctx := context.Background()
	forEachLedger(t, func(t *testing.T, l Ledger, _ func() Ledger) {
		h, err := l.Record(ctx, entry("run1", "sc-one"))
		if err != nil {
			t.Fatal(err)
		}
		if fl, ok := l.(*FileLedger); ok {
			if got := strings.Join(files(t, fl.Dir()), " "); got != "run1.json run1.lock" {
				t.Fatalf("files after Record: %s", got)
			}
		}
		if err := h.Update(ctx, "42", map[string]string{"login": "sc-one@x"}); err != nil {
			t.Fatal(err)
		}
		list, probs, err := l.List(ctx)
		if err != nil || len(probs) > 0 || len(list) != 1 {
			t.Fatalf("List = %v %v %v", list, probs, err)
		}
		if e := list[0]; e.ID != "42" || e.Fields["login"] != "sc-one@x" || !e.Alive || e.Name != "sc-one" || e.Scope != "s" || e.Host != "h" {
			t.Errorf("entry = %+v, want id 42, its login, alive", e)
		}
		if err := h.Forget(ctx); err != nil {
			t.Fatal(err)
		}
		if left := leftovers(t, l); len(left) != 0 {
			t.Errorf("left after Forget: %v", left)
		}
	})
}

// A multi-step tenant's progress (create_done, the delete steps done, the
// fields each step gave) is what a sweep reads back.
func TestLedgerKeepsStepProgress(t *testing.T) {
	ctx := context.Background()
	forEachLedger(t, func(t *testing.T, l Ledger, open func() Ledger) {
		e := entry("steps", "sc-steps")
		e.Started = e.Started.Truncate(time.Microsecond) // PostgreSQL's precision
		h, err := l.Record(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		h.Entry.CreateDone = true
		h.Entry.DeleteDone = []int{0, 1}
		if err := h.Update(ctx, "w1", map[string]string{"id": "w1", "user_id": "u1"}); err != nil {
			t.Fatal(err)
		}
		h.Release()
		dead, probs, err := open().Dead(ctx, func(Entry) bool { return true })
		if err != nil || len(probs) > 0 || len(dead) != 1 {
			t.Fatalf("Dead = %v %v %v", dead, probs, err)
		}
		got := dead[0].Entry
		if !got.CreateDone || !slices.Equal(got.DeleteDone, []int{0, 1}) || got.ID != "w1" || got.Fields["user_id"] != "u1" ||
			got.PID != e.PID || !got.Started.Equal(e.Started) {
			t.Errorf("swept entry = %+v, want create_done, delete_done [0 1], the fields, the pid and start of %+v", got, e)
		}
		// A sweep records its own progress under the lock it took.
		dead[0].Entry.DeleteDone = append(dead[0].Entry.DeleteDone, 2)
		if err := dead[0].write(ctx); err != nil {
			t.Fatal(err)
		}
		dead[0].Release()
		again, _, _ := l.Dead(ctx, func(Entry) bool { return true })
		if len(again) != 1 || !slices.Equal(again[0].Entry.DeleteDone, []int{0, 1, 2}) {
			t.Fatalf("after the sweep's write: %+v", again)
		}
		again[0].Forget(ctx)
	})
}

// A live run's entry is never swept; once its lock is free, it is.
func TestLedgerDeadOnlyWhenUnlocked(t *testing.T) {
	ctx := context.Background()
	all := func(Entry) bool { return true }
	forEachLedger(t, func(t *testing.T, l Ledger, open func() Ledger) {
		h, err := l.Record(ctx, entry("live", "sc-live"))
		if err != nil {
			t.Fatal(err)
		}
		other := open() // another node's, for the PostgreSQL ledger
		dead, _, err := other.Dead(ctx, all)
		if err != nil || len(dead) != 0 {
			t.Fatalf("Dead while the run holds its lock = %v, %v", dead, err)
		}
		if dead, _, _ := l.Dead(ctx, all); len(dead) != 0 {
			t.Fatalf("Dead on the run's own ledger handle took its live entry: %v", dead)
		}
		h.Release()
		dead, _, err = other.Dead(ctx, all)
		if err != nil || len(dead) != 1 || dead[0].Entry.Name != "sc-live" {
			t.Fatalf("Dead after the run let go = %v, %v", dead, err)
		}
		// While one sweep holds it, another does not take it too.
		if again, _, _ := l.Dead(ctx, all); len(again) != 0 {
			t.Errorf("a second sweep took an entry the first holds")
		}
		if list, _, _ := l.List(ctx); len(list) != 1 {
			t.Errorf("List while a sweep holds the entry = %v", list)
		}
		dead[0].Forget(ctx)
		if left := leftovers(t, l); len(left) != 0 {
			t.Errorf("left after the sweep's Forget: %v", left)
		}
	})
}

// The lock of another process, killed with SIGKILL: the kernel frees it.
func TestLedgerLockOfKilledProcess(t *testing.T) {
	l := newLedger(t)
	h, err := l.Record(context.Background(), entry("other", "sc-other"))
	if err != nil {
		t.Fatal(err)
	}
	h.Release() // now a process of flock(1) holds it, as a run would
	cmd := exec.Command("flock", "--exclusive", "--no-fork", filepath.Join(l.Dir(), "other.lock"), "sh", "-c", "echo locked; exec sleep 300")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("flock: %q %v", buf, err)
	}
	list, _, _ := l.List(context.Background())
	if len(list) != 1 || !list[0].Alive {
		t.Fatalf("entry held by another process = %+v, want alive", list)
	}
	if dead, _, _ := l.Dead(context.Background(), func(Entry) bool { return true }); len(dead) != 0 {
		t.Fatal("swept the entry of a live process")
	}
	cmd.Process.Kill() // SIGKILL: no chance to unlock
	cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		dead, _, _ := l.Dead(context.Background(), func(Entry) bool { return true })
		if len(dead) == 1 {
			dead[0].Forget(context.Background())
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the entry of a killed process was never swept")
		}
		time.Sleep(20 * time.Millisecond) // polling the condition
	}
}

// Garbage and truncated entries are reported, moved aside once, and the
// rest of the ledger is still swept.
func TestLedgerCorruptEntries(t *testing.T) {
	l := newLedger(t)
	good, err := l.Record(context.Background(), entry("good", "sc-good"))
	if err != nil {
		t.Fatal(err)
	}
	good.Update(context.Background(), "7", nil)
	good.Release()
	b, _ := os.ReadFile(filepath.Join(l.Dir(), "good.json"))
	os.WriteFile(filepath.Join(l.Dir(), "trunc.json"), b[:len(b)/2], 0o600)
	os.WriteFile(filepath.Join(l.Dir(), "garbage.json"), []byte("\x00\xffnot json at all"), 0o600)
	os.WriteFile(filepath.Join(l.Dir(), "empty.json"), nil, 0o600)

	dead, probs, err := l.Dead(context.Background(), func(Entry) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Entry.ID != "7" {
		t.Errorf("dead = %v, want the good entry", dead)
	}
	if len(probs) != 3 {
		t.Fatalf("problems = %v, want 3", probs)
	}
	for _, p := range probs {
		if !strings.HasSuffix(p.File, ".json.corrupt") || !strings.Contains(p.Error(), "not a ledger entry") {
			t.Errorf("problem %q: want the moved-aside file and why", p)
		}
	}
	dead[0].Forget(context.Background())
	// Reported once: the next sweep is clean.
	if _, probs, _ := l.Dead(context.Background(), func(Entry) bool { return true }); len(probs) != 0 {
		t.Errorf("reported again: %v", probs)
	}
}

// Runs that died before their entry was written leave a lock (and maybe a
// temp file): the sweep removes them.
func TestLedgerDeadBeforeEntry(t *testing.T) {
	l := newLedger(t)
	os.WriteFile(filepath.Join(l.Dir(), "half.lock"), nil, 0o600)
	os.WriteFile(filepath.Join(l.Dir(), "half.json.tmp"), []byte(`{"run":"ha`), 0o600)
	dead, probs, err := l.Dead(context.Background(), func(Entry) bool { return true })
	if err != nil || len(dead) != 0 || len(probs) != 0 {
		t.Fatalf("Dead = %v %v %v", dead, probs, err)
	}
	if left := files(t, l.Dir()); len(left) != 0 {
		t.Errorf("left: %v", left)
	}
}

// Many runs at once write their entries without corrupting any, while
// sweeps run: no sweep ever takes a live run's entry.
func TestLedgerConcurrentRuns(t *testing.T) {
	ctx := context.Background()
	forEachLedger(t, func(t *testing.T, l Ledger, open func() Ledger) {
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		stop := make(chan struct{})
		swept := make(chan struct{})
		sweeper := open()
		go func() {
			defer close(swept)
			for {
				select {
				case <-stop:
					return
				default:
				}
				dead, probs, err := sweeper.Dead(ctx, func(Entry) bool { return true })
				if len(dead) > 0 || len(probs) > 0 || err != nil {
					errs <- fmt.Errorf("a sweep took live runs: %v %v %v", dead, probs, err)
					for _, h := range dead {
						h.Release()
					}
				}
			}
		}()
		for i := range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h, err := l.Record(ctx, entry(fmt.Sprintf("run%02d", i), fmt.Sprintf("sc-%02d", i)))
				if err != nil {
					errs <- err
					return
				}
				if err := h.Update(ctx, fmt.Sprint(i), map[string]string{"n": fmt.Sprint(i)}); err != nil {
					errs <- err
				}
				if _, probs, err := l.List(ctx); err != nil || len(probs) > 0 {
					errs <- fmt.Errorf("list while others write: %v %v", probs, err)
				}
				if err := h.Forget(ctx); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(stop)
		<-swept
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if left := leftovers(t, l); len(left) != 0 {
			t.Errorf("left: %v", left)
		}
	})
}

func TestLedgerRefusesBadRunIDs(t *testing.T) {
	forEachLedger(t, func(t *testing.T, l Ledger, _ func() Ledger) {
		for _, run := range []string{"", "../x", "a/b", "x.y"} {
			if _, err := l.Record(context.Background(), entry(run, "sc-x")); err == nil {
				t.Errorf("run id %q accepted", run)
			}
		}
	})
}

func TestLedgerUnwritableStateDir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	_, err := OpenLedger(f)
	if err == nil || !strings.Contains(err.Error(), "--state-dir") {
		t.Errorf("err = %v, want a hint at --state-dir", err)
	}
}
