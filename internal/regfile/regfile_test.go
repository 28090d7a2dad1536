package regfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Whatever the path names, ReadAll answers at once, in bounded memory,
// with what is wrong in a user's terms.
func TestReadAll(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("hello"), 0o600)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 100), 0o600)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(small, link)
	tests := []struct {
		path, want string
	}{
		{small, ""},
		{link, ""}, // a link to a regular file is a regular file
		{big, "is larger than 10 bytes"},
		{fifo, "is a FIFO (named pipe), not a regular file"},
		{"/dev/zero", "is a device, not a regular file"},
		{dir, "is a directory, not a regular file"},
		{filepath.Join(dir, "missing"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			b, err := ReadAll(tt.path, 10)
			switch {
			case tt.want == "" && (err != nil || string(b) != "hello"):
				t.Errorf("ReadAll = %q, %v", b, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
