package suites

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/statedir"
	"github.com/suitecheck/suitecheck/suites/testreport"
)

// Bounds on the attachments a command case's tests leave (Playwright's
// screenshots, traces, videos): copied whole or not at all.
const (
	maxAttachmentBytes  = 20 << 20 // one file
	maxAttachmentsBytes = 50 << 20 // a case's files together
)

// keepAttachments copies the files that a command case's failed and flaky
// tests attached ([[ATTACHMENT|path]] in their JUnit report) into the
// artifacts dir, beside the browser cases' evidence, and returns their
// paths there and notes on those it did not copy.
//
// A path is read in the command's dir and must stay inside it: relative
// (or absolute under it), with no way out through ".." or a symlink
// (os.Root), and a regular file (a FIFO would block, a device never end),
// within the bounds. The report is the app's runner's output: it does not
// choose what suitecheck copies from elsewhere.
func (r *runState) keepAttachments(c *Case, dir string, res *testreport.Results) (saved, notes []string) {
	var paths []string
	for _, t := range res.Tests {
		if t.Status >= testreport.Flaky {
			paths = append(paths, t.Attachments...)
		}
	}
	if len(paths) == 0 {
		return nil, nil
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		dir = abs
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, []string{"attachments not copied: " + r.mask.Mask(err.Error())}
	}
	defer root.Close()
	base, err := r.artifactsBase()
	if err == nil {
		err = statedir.Ensure(base, statedir.Artifacts)
	}
	dest := filepath.Join(base, r.suite)
	if err == nil {
		err = statedir.Ensure(dest, statedir.SuiteArtifacts)
	}
	if err != nil {
		return nil, []string{"attachments not copied: " + r.mask.Mask(err.Error())}
	}
	prefix := r.stamp + "-" + checks.Label(c.Name)
	var total int64
	for i, p := range paths {
		rel := p
		if filepath.IsAbs(p) {
			if rel, err = filepath.Rel(dir, p); err != nil {
				rel = p
			}
		}
		name := fmt.Sprintf("%s-%d-%s", prefix, i+1, checks.Label(strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)))+filepath.Ext(p))
		n, err := copyAttachment(root, filepath.Clean(rel), filepath.Join(dest, name), maxAttachmentsBytes-total)
		if err != nil {
			notes = append(notes, fmt.Sprintf("attachment %s not copied: %s", r.mask.Mask(p), r.mask.Mask(err.Error())))
			continue
		}
		total += n
		saved = append(saved, filepath.Join(dest, name))
	}
	pruneArtifacts(base, r.suite, r.bopts.KeepRuns)
	return saved, notes
}

// copyAttachment copies the file rel in root to path, a new file of ours,
// when it fits in room (and maxAttachmentBytes); it returns its size.
func copyAttachment(root *os.Root, rel, path string, room int64) (int64, error) {
	if !filepath.IsLocal(rel) {
		return 0, errors.New("outside the command's dir")
	}
	src, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // "path escapes from parent": a link out of the dir
		}
		return 0, err
	}
	defer src.Close()
	fi, err := src.Stat()
	switch {
	case err != nil:
		return 0, err
	case !fi.Mode().IsRegular():
		return 0, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	case fi.Size() > maxAttachmentBytes:
		return 0, fmt.Errorf("%d MiB, more than the %d MiB an attachment may have", fi.Size()>>20, maxAttachmentBytes>>20)
	case fi.Size() > room:
		return 0, fmt.Errorf("the case's attachments would pass %d MiB", maxAttachmentsBytes>>20)
	}
	dst, err := statedir.Replace(path, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(dst, io.LimitReader(src, min(room, maxAttachmentBytes)+1))
	if err == nil && n > min(room, maxAttachmentBytes) {
		err = errors.New("it grew while copied")
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return 0, err
	}
	return n, nil
}
