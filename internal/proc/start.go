package proc

import (
	"os/exec"
	"runtime"
	"syscall"
)

// StartLocked starts cmd in a process group of its own, sent deathSig
// (SIGKILL, or SIGQUIT for a postmaster) when we die, and runs wait (which
// must block until the child has exited: cmd.Wait, or a waitid that does
// not reap it) on the same OS thread.
//
// The parent-death signal fires when the *thread* that forked the child
// ends, not the process. Go may retire a thread while the child still runs
// (a goroutine locked to it that exits), and the child would be killed in
// the middle of its work; so the child is started from a goroutine locked
// to its thread, which stays blocked in wait until the child has exited.
// cmd.SysProcAttr, when set, keeps its other fields (a Credential).
func StartLocked(cmd *exec.Cmd, deathSig syscall.Signal, wait func()) error {
	attr := &syscall.SysProcAttr{}
	if cmd.SysProcAttr != nil {
		c := *cmd.SysProcAttr
		attr = &c
	}
	attr.Setpgid, attr.Pdeathsig = true, deathSig
	cmd.SysProcAttr = attr
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread ends with this goroutine, after the
		// child has.
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		wait()
	}()
	return <-started
}
