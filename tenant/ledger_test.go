package tenant

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func newLedger(t *testing.T) *Ledger {
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

func TestLedgerRecordUpdateForget(t *testing.T) {
	l := newLedger(t)
	h, err := l.Record(entry("run1", "sc-one"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(files(t, l.Dir()), " "); got != "run1.json run1.lock" {
		t.Fatalf("files after Record: %s", got)
	}
	if err := h.Update("42", map[string]string{"login": "sc-one@x"}); err != nil {
		t.Fatal(err)
	}
	list, probs, err := l.List()
	if err != nil || len(probs) > 0 || len(list) != 1 {
		t.Fatalf("List = %v %v %v", list, probs, err)
	}
	if e := list[0]; e.ID != "42" || e.Fields["login"] != "sc-one@x" || !e.Alive {
		t.Errorf("entry = %+v, want id 42, its login, alive", e)
	}
	if err := h.Forget(); err != nil {
		t.Fatal(err)
	}
	if left := files(t, l.Dir()); len(left) != 0 {
		t.Errorf("left after Forget: %v", left)
	}
}

// A live run's entry is never swept; once its lock is free, it is.
func TestLedgerDeadOnlyWhenUnlocked(t *testing.T) {
	l := newLedger(t)
	h, err := l.Record(entry("live", "sc-live"))
	if err != nil {
		t.Fatal(err)
	}
	all := func(Entry) bool { return true }
	dead, _, err := l.Dead(all)
	if err != nil || len(dead) != 0 {
		t.Fatalf("Dead while the run holds its lock = %v, %v", dead, err)
	}
	h.Release()
	dead, _, err = l.Dead(all)
	if err != nil || len(dead) != 1 || dead[0].Entry.Name != "sc-live" {
		t.Fatalf("Dead after the run let go = %v, %v", dead, err)
	}
	// While one sweep holds it, another does not take it too.
	again, _, _ := l.Dead(all)
	if len(again) != 0 {
		t.Errorf("a second sweep took an entry the first holds")
	}
	dead[0].Forget()
}

// The lock of another process, killed with SIGKILL: the kernel frees it.
func TestLedgerLockOfKilledProcess(t *testing.T) {
	l := newLedger(t)
	h, err := l.Record(entry("other", "sc-other"))
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
	list, _, _ := l.List()
	if len(list) != 1 || !list[0].Alive {
		t.Fatalf("entry held by another process = %+v, want alive", list)
	}
	if dead, _, _ := l.Dead(func(Entry) bool { return true }); len(dead) != 0 {
		t.Fatal("swept the entry of a live process")
	}
	cmd.Process.Kill() // SIGKILL: no chance to unlock
	cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		dead, _, _ := l.Dead(func(Entry) bool { return true })
		if len(dead) == 1 {
			dead[0].Forget()
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
	good, err := l.Record(entry("good", "sc-good"))
	if err != nil {
		t.Fatal(err)
	}
	good.Update("7", nil)
	good.Release()
	b, _ := os.ReadFile(filepath.Join(l.Dir(), "good.json"))
	os.WriteFile(filepath.Join(l.Dir(), "trunc.json"), b[:len(b)/2], 0o600)
	os.WriteFile(filepath.Join(l.Dir(), "garbage.json"), []byte("\x00\xffnot json at all"), 0o600)
	os.WriteFile(filepath.Join(l.Dir(), "empty.json"), nil, 0o600)

	dead, probs, err := l.Dead(func(Entry) bool { return true })
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
	dead[0].Forget()
	// Reported once: the next sweep is clean.
	if _, probs, _ := l.Dead(func(Entry) bool { return true }); len(probs) != 0 {
		t.Errorf("reported again: %v", probs)
	}
}

// Runs that died before their entry was written leave a lock (and maybe a
// temp file): the sweep removes them.
func TestLedgerDeadBeforeEntry(t *testing.T) {
	l := newLedger(t)
	os.WriteFile(filepath.Join(l.Dir(), "half.lock"), nil, 0o600)
	os.WriteFile(filepath.Join(l.Dir(), "half.json.tmp"), []byte(`{"run":"ha`), 0o600)
	dead, probs, err := l.Dead(func(Entry) bool { return true })
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
	l := newLedger(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	stop := make(chan struct{})
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		for {
			select {
			case <-stop:
				return
			default:
			}
			dead, probs, err := l.Dead(func(Entry) bool { return true })
			if len(dead) > 0 || len(probs) > 0 || err != nil {
				errs <- fmt.Errorf("a sweep took live runs: %v %v %v", dead, probs, err)
				for _, h := range dead {
					h.Release()
				}
			}
		}
	}()
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := l.Record(entry(fmt.Sprintf("run%02d", i), fmt.Sprintf("sc-%02d", i)))
			if err != nil {
				errs <- err
				return
			}
			if err := h.Update(fmt.Sprint(i), map[string]string{"n": fmt.Sprint(i)}); err != nil {
				errs <- err
			}
			if _, probs, err := l.List(); err != nil || len(probs) > 0 {
				errs <- fmt.Errorf("list while others write: %v %v", probs, err)
			}
			if err := h.Forget(); err != nil {
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
	if left := files(t, l.Dir()); len(left) != 0 {
		t.Errorf("left: %v", left)
	}
}

func TestLedgerRefusesBadRunIDs(t *testing.T) {
	l := newLedger(t)
	for _, run := range []string{"", "../x", "a/b", "x.y"} {
		if _, err := l.Record(entry(run, "sc-x")); err == nil {
			t.Errorf("run id %q accepted", run)
		}
	}
}

func TestLedgerUnwritableStateDir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	_, err := OpenLedger(f)
	if err == nil || !strings.Contains(err.Error(), "--state-dir") {
		t.Errorf("err = %v, want a hint at --state-dir", err)
	}
}

// entryFile reads a run's entry file, for assertions on what it holds.
func entryFile(t *testing.T, l *Ledger) []byte {
	t.Helper()
	var all []byte
	for _, n := range files(t, l.Dir()) {
		if strings.HasSuffix(n, ".json") {
			b, _ := os.ReadFile(filepath.Join(l.Dir(), n))
			all = append(all, b...)
		}
	}
	return bytes.TrimSpace(all)
}
