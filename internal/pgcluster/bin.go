package pgcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// debianBinGlob matches the server binary directories of Debian's
// postgresql-NN packages.
const debianBinGlob = "/usr/lib/postgresql/*/bin"

// findBinDir returns the directory holding initdb and postgres: dir if it is
// not empty, else the first found in $PATH, `pg_config --bindir`, and the
// highest version in /usr/lib/postgresql/*/bin.
func findBinDir(ctx context.Context, dir string) (string, error) {
	if dir != "" {
		if !hasServerBinaries(dir) {
			return "", fmt.Errorf("pgtest: no initdb and postgres in %s: %w", dir, ErrBinariesNotFound)
		}
		return dir, nil
	}

	if initdb, err := exec.LookPath("initdb"); err == nil {
		// Prefer the directory the symlink points to, where postgres
		// and the other binaries of the same installation live.
		if resolved, err := filepath.EvalSymlinks(initdb); err == nil && hasServerBinaries(filepath.Dir(resolved)) {
			return filepath.Dir(resolved), nil
		}
		if hasServerBinaries(filepath.Dir(initdb)) {
			return filepath.Dir(initdb), nil
		}
	}

	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		out, err := exec.CommandContext(ctx, pgConfig, "--bindir").Output()
		if dir := strings.TrimSpace(string(out)); err == nil && dir != "" && hasServerBinaries(dir) {
			return dir, nil
		}
	}

	if dir := highestVersionDir(debianBinGlob); dir != "" {
		return dir, nil
	}

	return "", fmt.Errorf("pgtest: %w (searched $PATH, `pg_config --bindir` and %s)", ErrBinariesNotFound, debianBinGlob)
}

// highestVersionDir returns, among the directories matching glob that hold
// the server binaries, the one with the highest version number in place of
// the glob's "*", or "" if there is none.
func highestVersionDir(glob string) string {
	matches, _ := filepath.Glob(glob)
	var (
		best    string
		bestVer []int
	)
	for _, dir := range matches {
		ver, ok := parseVersion(filepath.Base(filepath.Dir(dir)))
		if !ok || !hasServerBinaries(dir) {
			continue
		}
		if best == "" || slices.Compare(ver, bestVer) > 0 {
			best, bestVer = dir, ver
		}
	}
	return best
}

// parseVersion parses a version such as "15" or "9.6".
func parseVersion(s string) ([]int, bool) {
	var ver []int
	for part := range strings.SplitSeq(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil, false
		}
		ver = append(ver, n)
	}
	return ver, true
}

// hasServerBinaries reports whether dir holds executable initdb and postgres.
func hasServerBinaries(dir string) bool {
	return isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres"))
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
