// Package regfile reads the files a user names (a config, a report, a CA
// bundle, a password file) in bounded time and memory: regular files only,
// opened without blocking (a FIFO is refused, not waited on), of a bounded
// size (/dev/zero and a file still growing are refused).
package regfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// NotRegularError is a path that is not a regular file.
type NotRegularError struct {
	Kind string // "a directory", "a FIFO (named pipe)", …
	Dir  bool
}

func (e *NotRegularError) Error() string { return e.Kind + ", not a regular file" }

// Open opens a regular file for reading without ever blocking: a
// FIFO, a device, a socket or a directory is refused with a
// *NotRegularError.
func Open(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if m := st.Mode(); !m.IsRegular() {
		f.Close()
		kind := "not a regular file"
		switch {
		case m.IsDir():
			kind = "a directory"
		case m&os.ModeNamedPipe != 0:
			kind = "a FIFO (named pipe)"
		case m&os.ModeDevice != 0:
			kind = "a device"
		case m&os.ModeSocket != 0:
			kind = "a socket"
		}
		return nil, nil, &NotRegularError{Kind: kind, Dir: m.IsDir()}
	}
	return f, st, nil
}

// Problem says why a file could not be opened or read, without the
// path again or Go's wording.
func Problem(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied to the user the check runs as"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// ErrTooBig is (wrapped in) ReadAll's error for a file over its bound.
var ErrTooBig = errors.New("too large")

// ReadAll reads the regular file path, of at most max bytes. Its errors
// say what is wrong in a user's terms, without Go's wording, and wrap a
// *NotRegularError or ErrTooBig for callers that add their own hint.
func ReadAll(path string, max int64) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		var nr *NotRegularError
		if errors.As(err, &nr) {
			return nil, fmt.Errorf("%s is %w", path, nr)
		}
		return nil, fmt.Errorf("%s: %s", path, Problem(err))
	}
	defer f.Close()
	tooBig := fmt.Errorf("%s is larger than %d bytes (%w): is it the right file?", path, max, ErrTooBig)
	if st.Size() > max {
		return nil, tooBig
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, Problem(err))
	}
	if int64(len(b)) > max {
		return nil, tooBig // it grew while read
	}
	return b, nil
}

// FirstLine reads the first line of a small regular file (a password, a
// token), without its line ending.
func FirstLine(path string, max int64) (string, error) {
	b, err := ReadAll(path, max)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSuffix(line, "\r"), nil
}
