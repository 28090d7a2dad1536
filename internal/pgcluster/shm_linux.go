package pgcluster

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// sharedMemory returns the key and id of the System V shared memory segment
// recorded in dataDir/postmaster.pid, if the file exists and records one.
func sharedMemory(dataDir string) (key int32, id int, ok bool) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, 0, false
	}
	// Line 7 holds "key id"; see the LOCK_FILE_LINE_* constants in
	// PostgreSQL's src/include/miscadmin.h.
	lines := strings.Split(string(b), "\n")
	if len(lines) < 7 {
		return 0, 0, false
	}
	fields := strings.Fields(lines[6])
	if len(fields) != 2 {
		return 0, 0, false
	}
	k, err := strconv.ParseInt(fields[0], 10, 32)
	if err != nil {
		return 0, 0, false
	}
	id, err = strconv.Atoi(fields[1])
	if err != nil || id < 0 {
		return 0, 0, false
	}
	return int32(k), id, true
}

// releaseSharedMemory removes the System V shared memory segment of the
// server that ran on dataDir, which must no longer run. A postmaster
// removes its (small) segment when it shuts down, but one that was killed
// leaves it behind for the next server on the same data directory to
// reclaim; since the data directory is about to be removed, that would be
// never.
func releaseSharedMemory(dataDir string) error {
	key, id, ok := sharedMemory(dataDir)
	if !ok {
		return nil
	}
	const (
		ipcRMID = 0
		ipcSTAT = 2
	)
	// struct shmid_ds starts with struct ipc_perm, which starts with the
	// key; the whole is 112 bytes on 64-bit platforms. (IPC_64 must not
	// be passed: where the native layout is the 64-bit one, as on amd64
	// and arm64, the kernel rejects it.)
	var ds [256]byte
	_, _, errno := syscall.Syscall(syscall.SYS_SHMCTL, uintptr(id), ipcSTAT, uintptr(unsafe.Pointer(&ds[0])))
	switch {
	case errno == syscall.EINVAL || errno == syscall.EIDRM:
		return nil // already gone
	case errno != 0:
		return fmt.Errorf("inspecting shared memory segment %d: %w", id, errno)
	case int32(binary.NativeEndian.Uint32(ds[:4])) != key:
		return nil // the id now belongs to another segment
	}
	// Attached processes keep the segment until they detach: the killed
	// server's backends, killed with it, exit a moment later. The segment
	// is gone once the last one has (bounded: a process stuck in the
	// kernel would keep it).
	_, _, errno = syscall.Syscall(syscall.SYS_SHMCTL, uintptr(id), ipcRMID, 0)
	if errno != 0 && errno != syscall.EINVAL && errno != syscall.EIDRM {
		return fmt.Errorf("removing shared memory segment %d: %w", id, errno)
	}
	deadline := time.Now().Add(shmDetachTimeout)
	for {
		_, _, errno = syscall.Syscall(syscall.SYS_SHMCTL, uintptr(id), ipcSTAT, uintptr(unsafe.Pointer(&ds[0])))
		// Marked for removal, the segment has SHM_DEST in its mode (the
		// ipc64_perm's mode, after key, uid, gid, cuid and cgid) until the
		// last process detaches; then it is gone, or its id another's.
		if errno != 0 || binary.NativeEndian.Uint32(ds[20:24])&shmDest == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("shared memory segment %d: still attached %s after its removal", id, shmDetachTimeout)
		}
		time.Sleep(10 * time.Millisecond) // polling the kernel's count of attached processes
	}
}

// shmDest is SHM_DEST, the mode bit of a segment marked for removal.
const shmDest = 0o1000

// shmDetachTimeout bounds the wait for a killed server's processes to
// let go of its shared memory.
const shmDetachTimeout = 5 * time.Second
