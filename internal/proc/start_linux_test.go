package proc

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The parent-death signal fires when the thread that forked the child
// ends. A child started by StartLocked survives the end of the caller's
// thread (a goroutine locked to it that exits); one started with a plain
// cmd.Start from that thread is killed with it.
func TestStartLockedOutlivesCallersThread(t *testing.T) {
	for _, locked := range []bool{true, false} {
		t.Run(map[bool]string{true: "StartLocked", false: "plain Start"}[locked], func(t *testing.T) {
			cmd := exec.Command("sleep", "60")
			exited := make(chan struct{})
			tidc := make(chan int)
			onThread(func() {
				if locked {
					if err := StartLocked(cmd, syscall.SIGKILL, func() { cmd.Wait(); close(exited) }); err != nil {
						t.Error(err)
					}
				} else {
					cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
					if err := cmd.Start(); err != nil {
						t.Error(err)
					}
					go func() { cmd.Wait(); close(exited) }()
				}
				tidc <- syscall.Gettid()
			})
			tid := <-tidc
			defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			task := "/proc/self/task/" + strconv.Itoa(tid)
			deadline := time.Now().Add(10 * time.Second)
			for {
				if _, err := os.Stat(task); err != nil {
					break // the caller's thread is gone
				}
				if time.Now().After(deadline) {
					t.Fatal("the locked thread never ended")
				}
				time.Sleep(5 * time.Millisecond) // polling a condition
			}
			if locked {
				select {
				case <-exited:
					t.Fatal("the child died with its caller's thread")
				case <-time.After(300 * time.Millisecond): // a signal sent at thread exit has long been handled
				}
				return
			}
			select {
			case <-exited: // killed by the parent-death signal, as the kernel documents
			case <-time.After(10 * time.Second):
				t.Fatal("a plain Start's child outlived its thread: the test no longer shows the hazard")
			}
		})
	}
}

// onThread runs fn in a goroutine locked to a thread that ends with it: not
// the main thread, which the runtime keeps (wedged) instead of ending.
func onThread(fn func()) {
	go func() {
		runtime.LockOSThread()
		if syscall.Gettid() == os.Getpid() {
			runtime.UnlockOSThread()
			onThread(fn) // another thread, while this one stays busy with us
			return
		}
		fn() // never unlocked: the thread ends with this goroutine
	}()
}
