//go:build !linux

package browser

import (
	"syscall"
	"time"
)

// waitExited, without Linux's waitid(WNOWAIT), polls until the process is
// gone (reaped by Close) and reports nothing of how it ended: there a lost
// browser is judged by its DevTools connection alone.
func waitExited(pid int) (code, status int32) {
	for syscall.Kill(pid, 0) == nil {
		time.Sleep(100 * time.Millisecond) // no way to be told without reaping it
	}
	return 0, 0
}
