//go:build unix

package statedir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// owner is the uid that owns a file.
func owner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// writable reports whether the running user may create entries in dir.
func writable(dir string) bool {
	const wOK, xOK = 0x2, 0x1 // access(2)'s W_OK, X_OK
	return syscall.Access(dir, wOK|xOK) == nil
}

// OpenFile opens the regular file path without following a symlink
// (O_NOFOLLOW; O_NONBLOCK keeps a planted FIFO from hanging the open). A
// link is an error matching ErrNotFollowed, anything but a regular file
// one matching ErrNotRegular. With O_CREATE it makes a missing file, but
// never one a dangling link points at.
func OpenFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, perm)
	if err != nil {
		return nil, notFollowed(err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &fs.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// notFollowed names O_NOFOLLOW's ELOOP for what it is.
func notFollowed(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && errors.Is(pe.Err, syscall.ELOOP) {
		return &fs.PathError{Op: pe.Op, Path: pe.Path, Err: ErrNotFollowed}
	}
	return err
}

// ReadFile reads the regular file path, never through a symlink.
func ReadFile(path string) ([]byte, error) {
	f, err := OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Replace makes path a new, empty file for writing. Whatever was there is
// removed first (unlink acts on a link itself, never on its target) and the
// file is created with O_CREAT|O_EXCL|O_NOFOLLOW: no planted link or hard
// link redirects the write, and one planted in between is an error.
func Replace(path string, perm os.FileMode) (*os.File, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, perm)
	if err != nil {
		return nil, notFollowed(err)
	}
	return f, nil
}

// WriteFile writes data to path as a new file made by Replace; a file
// that could not be written whole is removed.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := Replace(path, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// OpenDir opens the directory path, never through a symlink (to fsync it).
func OpenDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, notFollowed(err)
	}
	return f, nil
}
