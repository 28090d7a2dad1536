//go:build !linux

package pgcluster

// The cluster's System V shared memory is released by hand only on Linux,
// where a postmaster killed with SIGKILL is known to leave it behind.

func sharedMemory(dataDir string) (key int32, id int, ok bool) { return 0, 0, false }

func releaseSharedMemory(dataDir string) error { return nil }
