//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sampleSelf returns the largest VmHWM of the (first) child of parent seen
// until ctx ends (sampled every 10 ms; VmHWM only grows, so the last read is
// the closest).
func sampleSelf(ctx context.Context, parent int) int64 {
	children := fmt.Sprintf("/proc/%d/task/%d/children", parent, parent)
	path := ""
	var peak int64
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if path == "" {
			if b, err := os.ReadFile(children); err == nil {
				if f := strings.Fields(string(b)); len(f) > 0 {
					path = "/proc/" + f[0] + "/status"
				}
			}
		}
		if b, err := os.ReadFile(path); path != "" && err == nil {
			if i := bytes.Index(b, []byte("VmHWM:")); i >= 0 {
				f := strings.Fields(string(b[i+6 : i+6+bytes.IndexByte(b[i+6:], '\n')]))
				if len(f) > 0 {
					if v, err := strconv.ParseInt(f[0], 10, 64); err == nil {
						peak = max(peak, v)
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return peak
		case <-t.C:
		}
	}
}

// sampleTree returns the largest sum of PSS (proportional set size: a page
// shared by n processes counts 1/n in each) over our descendants seen until
// ctx ends, sampled every 200 ms: the memory the run's processes take
// together, Chromium's shared binary counted once. With also, the
// processes whose environment holds it count too (a shared browser).
func sampleTree(ctx context.Context, also string) int64 {
	var peak int64
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		var sum int64
		pids := descendants()
		if also != "" {
			for _, p := range marked(also) {
				if !slices.Contains(pids, p) {
					pids = append(pids, p)
				}
			}
		}
		for _, p := range pids {
			sum += pssKiB(p)
		}
		peak = max(peak, sum)
		select {
		case <-ctx.Done():
			return peak
		case <-t.C:
		}
	}
}

func pssKiB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0
	}
	i := bytes.Index(b, []byte("\nPss:"))
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+5 : i+5+bytes.IndexByte(b[i+5:], '\n')]))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseInt(f[0], 10, 64)
	return v
}

// marked lists the live processes with mark (NAME=VALUE) in their
// environment — an entry of its own, not a part of one (the harness has it
// in SHARED_MARK=…) — and all their descendants: Chromium's zygotes start
// its other processes with an environment of their own.
func marked(mark string) []int {
	parent := processes()
	roots := map[int]bool{}
	for pid := range parent {
		env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if err == nil && slices.ContainsFunc(bytes.Split(env, []byte{0}), func(e []byte) bool { return string(e) == mark }) {
			roots[pid] = true
		}
	}
	return under(parent, func(p int) bool { return roots[p] }, true)
}

// descendants lists the pids of every live descendant of this process.
func descendants() []int {
	self := os.Getpid()
	return under(processes(), func(p int) bool { return p == self }, false)
}

// under lists the processes of parent below one that is, and, with self,
// those that are.
func under(parent map[int]int, is func(int) bool, self bool) []int {
	var out []int
	for pid := range parent {
		if self && is(pid) {
			out = append(out, pid)
			continue
		}
		for p, n := parent[pid], 0; p > 1 && n < 64; p, n = parent[p], n+1 {
			if is(p) {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// processes maps every live process (zombies excepted) to its parent.
func processes() map[int]int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	parent := map[int]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		parent[pid] = ppid
	}
	return parent
}
