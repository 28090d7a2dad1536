package browser

import (
	"syscall"
	"unsafe"
)

// waitExited blocks until the process pid has exited, without reaping it: a
// zombie leader keeps its process group id from being reused until kill has
// been sent to the group. It returns how the process ended: si_code
// (cldExited, cldKilled, cldDumped) and si_status (the exit status or the
// signal), or zeros when waitid failed.
func waitExited(pid int) (code, status int32) {
	const pPID = 1 // idtype_t P_PID
	// siginfo_t: si_signo, si_errno, si_code, then a union aligned to a
	// pointer, which for SIGCHLD starts si_pid, si_uid, si_status.
	var info [32]int32
	union := (12 + unsafe.Sizeof(uintptr(0)) - 1) / unsafe.Sizeof(uintptr(0)) * unsafe.Sizeof(uintptr(0))
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info[0])), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		switch errno {
		case syscall.EINTR:
			continue
		case 0:
			return info[2], info[union/4+2]
		}
		return 0, 0
	}
}
