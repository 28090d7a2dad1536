package pgcluster

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pidlessGrace is how old a cluster directory without an owner file must be
// before the sweep removes it: younger ones may belong to a Start that has
// created the directory but not yet written the file.
const pidlessGrace = time.Minute

// writeOwner records the current process as the owner of the cluster
// directory dir, by pid and start time, so that a reused pid is not taken
// for the owner.
func writeOwner(dir string) error {
	pid := os.Getpid()
	start, _ := procStartTime(pid) // 0 if unknown: the pid alone is checked
	content := fmt.Sprintf("%d %d\n", pid, start)
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(content), 0o644); err != nil {
		return fmt.Errorf("writing owner file: %w", err)
	}
	return nil
}

// readOwner returns the owner recorded by writeOwner in dir.
func readOwner(dir string) (pid int, start uint64, err error) {
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return 0, 0, err
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return 0, 0, fmt.Errorf("malformed owner file in %s", dir)
	}
	if pid, err = strconv.Atoi(fields[0]); err != nil {
		return 0, 0, fmt.Errorf("malformed owner file in %s: %w", dir, err)
	}
	if start, err = strconv.ParseUint(fields[1], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("malformed owner file in %s: %w", dir, err)
	}
	return pid, start, nil
}

// ownerAlive reports whether the process recorded as a directory's owner
// still runs.
func ownerAlive(pid int, start uint64) bool {
	if !processAlive(pid) {
		return false
	}
	if start == 0 {
		return true
	}
	now, err := procStartTime(pid)
	return err != nil || now == start
}

// sweepStale removes the cluster directories in os.TempDir() whose owning
// process is gone, after killing the postmaster still running there, if
// any. Failures are only logged: they must not prevent a new cluster.
func sweepStale(logf func(string, ...any)) {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range matches {
		fi, err := os.Lstat(dir)
		if err != nil || !fi.IsDir() {
			continue
		}
		pid, start, err := readOwner(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if time.Since(fi.ModTime()) < pidlessGrace {
				continue
			}
		case err != nil:
			logf("pgtest: leaving %s alone: %v", dir, err)
			continue
		case ownerAlive(pid, start):
			continue
		}
		if err := killStalePostmaster(filepath.Join(dir, "data")); err != nil {
			logf("pgtest: leaving stale cluster directory %s: %v", dir, err)
			continue
		}
		if err := releaseSharedMemory(filepath.Join(dir, "data")); err != nil {
			logf("pgtest: stale cluster directory %s: %v", dir, err)
		}
		if err := os.RemoveAll(dir); err != nil {
			logf("pgtest: removing stale cluster directory: %v", err)
			continue
		}
		logf("pgtest: removed stale cluster directory %s (owner pid %d is gone)", dir, pid)
	}
}

// killStalePostmaster stops the postmaster that runs on dataDir, if any,
// and waits until it has exited.
func killStalePostmaster(dataDir string) error {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // not running, or data directory never created
	}
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return nil // half-written: the postmaster died while starting
	}
	if !processAlive(pid) || !isPostmasterOf(pid, dataDir) {
		return nil // postmaster.pid left behind by a killed server
	}

	// SIGQUIT is an immediate shutdown: the postmaster stops its
	// children and releases its shared memory. SIGKILL the process group
	// (the postmaster leads it) if that does not work.
	syscall.Kill(pid, syscall.SIGQUIT)
	if waitGone(pid, 5*time.Second) {
		return nil
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	if waitGone(pid, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("postmaster %d does not exit", pid)
}

// isPostmasterOf reports whether process pid is a postmaster running on
// dataDir, guarding against a pid reused by an unrelated process. The
// postmaster's working directory is its data directory.
func isPostmasterOf(pid int, dataDir string) bool {
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		// Not allowed to look: fall back to the command name.
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		return err == nil && strings.TrimSpace(string(comm)) == "postgres"
	}
	if cwd == dataDir {
		return true
	}
	resolved, err := filepath.EvalSymlinks(dataDir)
	return err == nil && cwd == resolved
}

// waitGone polls until process pid no longer runs or timeout has passed,
// and reports whether it is gone. The process need not be our child.
func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// processAlive reports whether process pid exists and has not terminated.
// A zombie, which nobody has reaped yet, counts as terminated: orphans are
// inherited by a pid 1 that, in a container, may never reap them.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	state, _, err := procStat(pid)
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist) // no /proc: trust kill
	}
	return state != 'Z' && state != 'X'
}

// procStartTime returns the start time of process pid, in clock ticks
// since boot.
func procStartTime(pid int) (uint64, error) {
	_, start, err := procStat(pid)
	return start, err
}

// procStat returns the state and start time of process pid from
// /proc/pid/stat.
func procStat(pid int) (state byte, start uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name, in parentheses, may hold spaces and parentheses:
	// the fields that matter follow the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	// fields[0] is field 3 (state), so field 22 (starttime) is fields[19].
	if len(fields) < 20 || len(fields[0]) != 1 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	start, err = strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat: %w", pid, err)
	}
	return fields[0][0], start, nil
}
