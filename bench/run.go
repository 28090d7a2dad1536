//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Spec is what `bench run` measures.
type Spec struct {
	Groups  []Group  `json:"groups"`
	Targets []Target `json:"targets"`
}

// Group is a set of commands run interleaved; the first is the subject
// (suitecheck), the others what users would run instead.
type Group struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Note   string `json:"note,omitempty"`
	Warmup int    `json:"warmup"`
	Runs   int    `json:"runs"`
	Cmds   []Cmd  `json:"cmds"`
}

// Cmd is one command. Strings are expanded from the environment ($VAR,
// ${VAR}; an unset variable is an error), plus RUN_TMP (a fresh directory
// per run, removed after it, untimed) and RUN_ID, which are also put in the
// command's environment, as are the tenant's fields.
type Cmd struct {
	ID    string            `json:"id"`
	Label string            `json:"label"`
	Argv  []string          `json:"argv"`
	Env   map[string]string `json:"env,omitempty"`
	Dir   string            `json:"dir,omitempty"`
	// Exit is the exit status every run must have (default 0).
	Exit int `json:"exit,omitempty"`
	// Stdout is a regexp the output must match (stdout and stderr are files,
	// so a child holding them open does not delay the measured exit).
	Stdout string `json:"stdout,omitempty"`
	// Tenant: before each run (untimed) create a tenant through the sample
	// app's admin API and pass it as SUITECHECK_TENANT_LOGIN/PASSWORD/ID/NAME;
	// delete it after the run (untimed).
	Tenant bool `json:"tenant,omitempty"`
	// SelfRSS samples the command's own VmHWM every 10 ms (its own peak,
	// without its children, e.g. suitecheck without Chromium).
	SelfRSS bool `json:"self_rss,omitempty"`
	// TreeRSS samples the summed PSS of every process of the run every 200 ms.
	TreeRSS bool `json:"tree_rss,omitempty"`
	// TreeAlso adds to the tree PSS the processes whose environment holds
	// this string (expanded): a shared browser the run uses, which is not
	// the harness's descendant.
	TreeAlso string `json:"tree_also,omitempty"`
	// Timeout per run, default 120 s.
	Timeout float64 `json:"timeout_s,omitempty"`
}

// Run is one measured run.
type Run struct {
	WallNs    int64  `json:"wall_ns"`    // start to the command's exit
	TreeNs    int64  `json:"tree_ns"`    // start until every process of the run was gone
	CPUNs     int64  `json:"cpu_ns"`     // user+sys of the command, its children and the orphans reaped
	MaxRSSKiB int64  `json:"maxrss_kib"` // the largest single process (GNU time's %M, and reaped orphans' rusage)
	SelfKiB   int64  `json:"self_kib"`   // the command's own VmHWM, sampled (0: not sampled)
	TreeKiB   int64  `json:"tree_kib"`   // the largest sampled sum of PSS over the run's processes
	Orphans   int    `json:"orphans"`    // processes reparented to the harness and reaped
	Leftover  int    `json:"leftover"`   // processes still alive 10 s after the exit, killed
	Error     string `json:"error,omitempty"`
}

// CmdResult holds a command's runs.
type CmdResult struct {
	Cmd
	Runs []Run `json:"runs"`
}

// GroupResult holds a group's results.
type GroupResult struct {
	Group
	Cmds []CmdResult `json:"results"`
	// Load is /proc/loadavg's 1-minute figure before and after the group:
	// how busy the shared machine was.
	LoadBefore float64 `json:"load_before"`
	LoadAfter  float64 `json:"load_after"`
}

func loadAvg() float64 {
	b, _ := os.ReadFile("/proc/loadavg")
	var l float64
	fmt.Sscan(string(b), &l)
	return l
}

// Results is what `bench run` writes.
type Results struct {
	Date    string        `json:"date"`
	Machine string        `json:"machine"`
	Kernel  string        `json:"kernel"`
	Version string        `json:"suitecheck_version"`
	Groups  []GroupResult `json:"groups"`
	Targets []Target      `json:"targets"`
}

// stopped is set by SIGINT, SIGTERM or SIGHUP, which also kill the running
// command's process group and every other process of the run at once.
var (
	stopped    atomic.Value // the signal
	currentPID atomic.Int64 // the running command's process group, 0 between runs
)

func handleSignals() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-c
		stopped.Store(s)
		if pid := currentPID.Load(); pid > 0 {
			_ = syscall.Kill(-int(pid), syscall.SIGKILL)
		}
		for _, p := range descendants() {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	}()
}

func cmdRun(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	specPath := fs.String("spec", "bench/spec.json", "the spec")
	out := fs.String("out", "results.json", "where the results go")
	only := fs.String("only", "", "run only the groups with these ids (comma-separated)")
	scale := fs.Float64("scale", 1, "multiply every group's runs (at least 1 run)")
	_ = fs.Parse(args)

	var spec Spec
	b, err := os.ReadFile(*specPath)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("%s: %w", *specPath, err)
	}
	// Orphans (Chromium's reparented processes) come to us, so their CPU
	// and memory are counted and none outlives its run.
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", e)
	}
	if t := os.Getenv("BENCH_TIME"); t != "" {
		timeBin = t
	}
	if _, err := os.Stat(timeBin); err != nil {
		return fmt.Errorf("GNU time: %w (apt-get install time)", err)
	}
	handleSignals()

	res := Results{
		Date:    time.Now().Format("2006-01-02 15:04 MST"),
		Machine: machine(),
		Kernel:  kernel(),
		Targets: spec.Targets,
	}
	if bin := os.Getenv("BIN"); bin != "" {
		// It exits 3, as a plugin's -V does: the output is what counts.
		if v, _ := exec.Command(bin, "version").Output(); strings.HasPrefix(string(v), "suitecheck ") {
			res.Version = strings.TrimSpace(string(v))
		}
	}
	failed := 0
	for _, g := range spec.Groups {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), g.ID) {
			continue
		}
		g.Runs = max(1, int(float64(g.Runs)*(*scale)+0.5))
		gr, err := runGroup(g)
		if err != nil {
			return err
		}
		for _, c := range gr.Cmds {
			for _, r := range c.Runs {
				if r.Error != "" {
					failed++
				}
			}
		}
		res.Groups = append(res.Groups, gr)
		// Written after every group, so an interrupted run keeps what it measured.
		if err := writeJSON(*out, res); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d run(s) failed; see the errors above and in %s", failed, *out)
	}
	return nil
}

const prSetChildSubreaper = 36

// timeBin is GNU time (Debian package time), BENCH_TIME to override.
var timeBin = "/usr/bin/time"

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func runGroup(g Group) (GroupResult, error) {
	gr := GroupResult{Group: g, LoadBefore: loadAvg()}
	for _, c := range g.Cmds {
		gr.Cmds = append(gr.Cmds, CmdResult{Cmd: c})
	}
	fmt.Fprintf(os.Stderr, "== %s: %d warm-up + %d measured rounds of %d commands, interleaved\n", g.Title, g.Warmup, g.Runs, len(g.Cmds))
	for round := range g.Warmup + g.Runs {
		warm := round < g.Warmup
		for i, c := range g.Cmds {
			if s := stopped.Load(); s != nil {
				return gr, fmt.Errorf("interrupted by %v", s)
			}
			r := runOnce(c)
			if s := stopped.Load(); s != nil {
				return gr, fmt.Errorf("interrupted by %v", s)
			}
			tag := fmt.Sprintf("run %d", round-g.Warmup+1)
			if warm {
				tag = "warm-up"
			}
			if r.Error != "" {
				fmt.Fprintf(os.Stderr, "   %-40s %-8s FAILED: %s\n", c.Label, tag, r.Error)
			} else {
				fmt.Fprintf(os.Stderr, "   %-40s %-8s %8.1f ms %7.1f MiB\n", c.Label, tag, float64(r.WallNs)/1e6, float64(r.MaxRSSKiB)/1024)
			}
			if !warm || r.Error != "" {
				gr.Cmds[i].Runs = append(gr.Cmds[i].Runs, r)
			}
		}
	}
	for _, c := range gr.Cmds {
		s := summarize(c.Runs)
		fmt.Fprintf(os.Stderr, "   %-40s median %8.1f ms  min–max %.1f–%.1f ms  peak RSS %.1f MiB\n", c.Label, s.Wall.Median, s.Wall.Min, s.Wall.Max, s.RSS.Max)
	}
	gr.LoadAfter = loadAvg()
	return gr, nil
}

// expand expands $VAR and ${VAR}; an unset variable is an error.
func expand(s string, extra map[string]string) (string, error) {
	var missing []string
	out := os.Expand(s, func(k string) string {
		if v, ok := extra[k]; ok {
			return v
		}
		v, ok := os.LookupEnv(k)
		if !ok {
			missing = append(missing, k)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%q: unset variable(s) %s", s, strings.Join(missing, ", "))
	}
	return out, nil
}

func runOnce(c Cmd) (r Run) {
	tmp, err := os.MkdirTemp("", "sc-bench-run-")
	if err != nil {
		return Run{Error: err.Error()}
	}
	defer os.RemoveAll(tmp)
	extra := map[string]string{"RUN_TMP": tmp, "RUN_ID": filepath.Base(tmp)}

	if c.Tenant {
		t, err := createTenant()
		if err != nil {
			return Run{Error: "create tenant: " + err.Error()}
		}
		defer func() {
			if err := deleteTenant(t); err != nil && r.Error == "" {
				r.Error = "delete tenant: " + err.Error()
			}
		}()
		extra["SUITECHECK_TENANT_LOGIN"] = t.Login
		extra["SUITECHECK_TENANT_PASSWORD"] = t.Password
		extra["SUITECHECK_TENANT_ID"] = t.ID
		extra["SUITECHECK_TENANT_NAME"] = t.Name
	}

	argv := make([]string, len(c.Argv))
	for i, a := range c.Argv {
		if argv[i], err = expand(a, extra); err != nil {
			return Run{Error: err.Error()}
		}
	}
	env := os.Environ()
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	keys := make([]string, 0, len(c.Env))
	for k := range c.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := expand(c.Env[k], extra)
		if err != nil {
			return Run{Error: err.Error()}
		}
		env = append(env, k+"="+v)
	}
	dir := ""
	if c.Dir != "" {
		if dir, err = expand(c.Dir, extra); err != nil {
			return Run{Error: err.Error()}
		}
	}
	stdout, err := os.Create(filepath.Join(tmp, "stdout"))
	if err != nil {
		return Run{Error: err.Error()}
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(tmp, "stderr"))
	if err != nil {
		return Run{Error: err.Error()}
	}
	defer stderr.Close()

	timeout := 120 * time.Second
	if c.Timeout > 0 {
		timeout = time.Duration(c.Timeout * float64(time.Second))
	}
	// GNU time runs the command: a child's ru_maxrss starts at the peak RSS
	// of the process it was exec'd from (Linux carries the old mm's high-water
	// mark over exec, and Go forks with vfork), so the harness's own ~14 MiB
	// would show in every command; time is small and forks normally.
	rusageFile := filepath.Join(tmp, "rusage")
	full := append([]string{timeBin, "-q", "-f", "%M", "-o", rusageFile, "--"}, argv...)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdin = nil
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	ctx, stopSampling := context.WithCancel(context.Background())
	selfPeak := make(chan int64, 1)
	treePeak := make(chan int64, 1)

	start := time.Now()
	if err := cmd.Start(); err != nil {
		stopSampling()
		return Run{Error: err.Error()}
	}
	pid := cmd.Process.Pid
	currentPID.Store(int64(pid))
	defer currentPID.Store(0)
	if stopped.Load() != nil { // a signal between Start and Store
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	if c.SelfRSS {
		go func() { selfPeak <- sampleSelf(ctx, pid) }() // the child of time
	}
	if c.TreeRSS {
		also := ""
		if c.TreeAlso != "" {
			if also, err = expand(c.TreeAlso, extra); err != nil {
				stopSampling()
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				_ = cmd.Wait()
				return Run{Error: err.Error()}
			}
		}
		go func() { treePeak <- sampleTree(ctx, also) }()
	}
	timer := time.AfterFunc(timeout, func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
	waitErr := cmd.Wait()
	r.WallNs = time.Since(start).Nanoseconds()
	timer.Stop()
	stopSampling()
	if c.SelfRSS {
		r.SelfKiB = <-selfPeak
	}
	if c.TreeRSS {
		r.TreeKiB = <-treePeak
	}
	// time's rusage includes the command's (time waits for it), so the CPU
	// is the command's plus time's own, well under a millisecond; its
	// maxrss is not the command's (see above): time's %M is.
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.CPUNs = tvNs(ru.Utime) + tvNs(ru.Stime)
	}
	if b, err := os.ReadFile(rusageFile); err == nil {
		f := strings.Fields(string(b))
		if len(f) > 0 {
			r.MaxRSSKiB, _ = strconv.ParseInt(f[len(f)-1], 10, 64)
		}
	}
	// Reap what was reparented to us; wait up to 10 s for the rest.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ws syscall.WaitStatus
		var ru syscall.Rusage
		p, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, &ru)
		if p > 0 {
			r.Orphans++
			r.CPUNs += tvNs(ru.Utime) + tvNs(ru.Stime)
			r.MaxRSSKiB = max(r.MaxRSSKiB, ru.Maxrss)
			continue
		}
		if errors.Is(err, syscall.ECHILD) {
			break
		}
		if time.Now().After(deadline) {
			for _, p := range descendants() {
				_ = syscall.Kill(p, syscall.SIGKILL)
				r.Leftover++
			}
			deadline = time.Now().Add(5 * time.Second)
		}
		time.Sleep(2 * time.Millisecond)
	}
	r.TreeNs = time.Since(start).Nanoseconds()

	out, _ := os.ReadFile(stdout.Name())
	errOut, _ := os.ReadFile(stderr.Name())
	code := cmd.ProcessState.ExitCode()
	switch {
	case code != c.Exit:
		r.Error = fmt.Sprintf("exit %d (want %d, %v)\n%s", code, c.Exit, waitErr, tail(out, errOut))
	case c.Stdout != "" && !regexp.MustCompile(c.Stdout).Match(out):
		r.Error = fmt.Sprintf("stdout does not match %q\n%s", c.Stdout, tail(out, errOut))
	case r.Leftover > 0:
		r.Error = fmt.Sprintf("%d process(es) still running 10 s after the command exited", r.Leftover)
	}
	return r
}

func tvNs(tv syscall.Timeval) int64 { return tv.Sec*1e9 + int64(tv.Usec)*1e3 }

func tail(out, errOut []byte) string {
	cut := func(b []byte) string {
		b = bytes.TrimSpace(b)
		if len(b) > 1500 {
			b = append([]byte("…"), b[len(b)-1500:]...)
		}
		return string(b)
	}
	return "  stdout: " + cut(out) + "\n  stderr: " + cut(errOut)
}

func machine() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	model := "unknown CPU"
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			model = strings.TrimSpace(v)
			break
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
		}
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "processor") {
			n++
		}
	}
	if b2, err := exec.Command("nproc").Output(); err == nil {
		fmt.Sscan(string(b2), &n)
	}
	return fmt.Sprintf("%d × %s%s", n, model, mem)
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	d, _ := os.ReadFile("/etc/debian_version")
	s := "Linux " + strings.TrimSpace(string(b))
	if len(d) > 0 {
		s += ", Debian " + strings.TrimSpace(string(d))
	}
	return s
}
