package browser

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// Where Find looks when no binary is given: these names on PATH first, then
// these paths (the Debian package's wrapper and the binary behind it, and
// last the headless shell's binary, for a host that has only that: its
// /usr/bin wrapper runs it without exec, so that a kill of the browser
// would look like its exit).
var (
	searchNames = []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"}
	searchPaths = []string{"/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/lib/chromium/chromium-headless-shell"}
)

// ErrNotFound is returned by Find when no Chromium binary is installed.
var ErrNotFound = errors.New("no Chromium found: install the Debian package chromium (or run make deps), or pass --browser PATH or --browser-url ws://…")

// Find returns the Chromium binary to launch. A non-empty explicit path (the
// --browser flag) must name an executable file; otherwise Find looks for
// chromium, chromium-browser, google-chrome-stable and google-chrome on PATH,
// then for the Debian packages' paths (chromium's, then
// chromium-headless-shell's). It never downloads a browser.
func Find(explicit string) (string, error) {
	if explicit != "" {
		if err := checkExecutable(explicit); err != nil {
			return "", fmt.Errorf("browser %q: %w", explicit, err)
		}
		return explicit, nil
	}
	for _, name := range searchNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	for _, p := range searchPaths {
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// checkExecutable reports why path cannot be run, or nil.
func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("no such file")
		}
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return errors.New("not executable")
	}
	return nil
}
