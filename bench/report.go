//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Target is one goal of issue 8, checked against the results.
type Target struct {
	What string `json:"what"`
	// Kind: "ratio" (median wall of A ÷ median wall of B), "tree_ratio"
	// (the same of the tree PSS: the memory of all the runs' processes),
	// "wall_ms" (A's median wall), "rss_mb" (A's largest peak RSS over its
	// runs; own VmHWM when Self), "gobench_ns", "gobench_bytes" (a Go
	// benchmark's ns/op, B/op).
	Kind string  `json:"kind"`
	A    string  `json:"a"` // group/cmd, or a benchmark name
	B    string  `json:"b,omitempty"`
	Self bool    `json:"self,omitempty"`
	Max  float64 `json:"max,omitempty"`
	Min  float64 `json:"min,omitempty"`
}

type stat struct{ Median, Min, Max float64 }

type summary struct {
	N, Failed       int
	Wall, CPU       stat // ms
	RSS, Self, Tree stat // MiB
	TreeWall        stat // ms
	Orphans         int
}

func statOf(v []float64) stat {
	if len(v) == 0 {
		return stat{math.NaN(), math.NaN(), math.NaN()}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{m, s[0], s[len(s)-1]}
}

func summarize(runs []Run) summary {
	var wall, cpu, rss, self, tree, treeWall []float64
	var s summary
	for _, r := range runs {
		if r.Error != "" {
			s.Failed++
			continue
		}
		s.N++
		wall = append(wall, float64(r.WallNs)/1e6)
		treeWall = append(treeWall, float64(r.TreeNs)/1e6)
		cpu = append(cpu, float64(r.CPUNs)/1e6)
		rss = append(rss, float64(r.MaxRSSKiB)/1024)
		if r.SelfKiB > 0 {
			self = append(self, float64(r.SelfKiB)/1024)
		}
		if r.TreeKiB > 0 {
			tree = append(tree, float64(r.TreeKiB)/1024)
		}
		s.Orphans = max(s.Orphans, r.Orphans)
	}
	s.Wall, s.CPU, s.RSS, s.Self, s.Tree, s.TreeWall = statOf(wall), statOf(cpu), statOf(rss), statOf(self), statOf(tree), statOf(treeWall)
	return s
}

func cmdReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	resPath := fs.String("results", "results.json", "from `bench run`")
	gobench := fs.String("gobench", "", "the output of go test -bench (optional)")
	notes := fs.String("notes", "", "markdown appended verbatim (optional)")
	out := fs.String("out", "BENCHMARKS.md", "the report")
	_ = fs.Parse(args)

	b, err := os.ReadFile(*resPath)
	if err != nil {
		return err
	}
	var res Results
	if err := json.Unmarshal(b, &res); err != nil {
		return err
	}
	var benches []goBench
	var goRaw string
	if *gobench != "" {
		raw, err := os.ReadFile(*gobench)
		if err != nil {
			return err
		}
		goRaw = string(raw)
		benches = parseGoBench(goRaw)
	}

	var w strings.Builder
	fmt.Fprintf(&w, "# Benchmarks\n\n")
	fmt.Fprintf(&w, "Written by `make bench` (`bench/run.sh`); do not edit by hand, edit `bench/NOTES.md`.\n\n")
	fmt.Fprintf(&w, "- **When:** %s\n- **Machine:** %s; %s\n- **suitecheck:** %s\n", res.Date, res.Machine, res.Kernel, res.Version)
	fmt.Fprintf(&w, "- **Method:** each group's commands run interleaved (A B C A B C …) after warm-up rounds that are not counted (details below the tables). *Wall* is start to the command's exit. *CPU* is user+system of the command and every process it started (Chromium's reparented processes included: the harness is a child subreaper and reaps them). *Peak RSS* is the largest single process of the run (GNU time's %%M, and the reaped orphans' rusage). *Own RSS* is the command's own peak (VmHWM, sampled every 10 ms): for suitecheck, without Chromium; for Playwright, the node process. *Tree PSS* is the largest sampled sum of PSS over all the run's processes (every 200 ms; a page shared by n processes counts 1/n each), i.e. the memory the whole run takes. A target's ratio is the median over the rounds of the paired ratio (A ÷ B in the same round, neighbours in time sharing the load); the tables' last column is the ratio of the medians. The machine is shared with another engineer's tests, so absolute figures are noisy; the ratios are the point.\n\n")

	// Targets.
	fmt.Fprintf(&w, "## Targets\n\n| target | measured | verdict |\n|---|---|---|\n")
	for _, t := range res.Targets {
		measured, verdict := evalTarget(t, res, benches)
		fmt.Fprintf(&w, "| %s | %s | %s |\n", t.What, measured, verdict)
	}
	fmt.Fprintln(&w)

	for i, g := range res.Groups {
		fmt.Fprintf(&w, "## %d. %s\n\n", i+1, g.Title)
		fmt.Fprintf(&w, "%d warm-up round(s), %d measured round(s); load average %.2f before, %.2f after.\n\n", g.Warmup, g.Runs, g.LoadBefore, g.LoadAfter)
		var hasSelf, hasTree bool
		sums := make([]summary, len(g.Cmds))
		for j, c := range g.Cmds {
			sums[j] = summarize(c.Runs)
			hasSelf = hasSelf || !math.IsNaN(sums[j].Self.Median)
			hasTree = hasTree || !math.IsNaN(sums[j].Tree.Median)
		}
		fmt.Fprintf(&w, "| command | wall median | wall min–max | CPU median | peak RSS median (max) |")
		sep := "|---|---:|---:|---:|---:|"
		if hasSelf {
			fmt.Fprintf(&w, " own RSS median |")
			sep += "---:|"
		}
		if hasTree {
			fmt.Fprintf(&w, " tree PSS median |")
			sep += "---:|"
		}
		single := len(g.Cmds) == 1
		if single {
			fmt.Fprintf(&w, "\n%s\n", sep)
		} else {
			fmt.Fprintf(&w, " %s ÷ this |\n%s---:|\n", g.Cmds[0].Label, sep)
		}
		for j, c := range g.Cmds {
			s := sums[j]
			fmt.Fprintf(&w, "| %s", c.Label)
			if s.Failed > 0 {
				fmt.Fprintf(&w, " (**%d failed run(s)**)", s.Failed)
			}
			fmt.Fprintf(&w, " | %s | %s–%s | %s | %s (%s) |", ms(s.Wall.Median), ms(s.Wall.Min), ms(s.Wall.Max), ms(s.CPU.Median), mib(s.RSS.Median), mib(s.RSS.Max))
			if hasSelf {
				fmt.Fprintf(&w, " %s |", mib(s.Self.Median))
			}
			if hasTree {
				fmt.Fprintf(&w, " %s |", mib(s.Tree.Median))
			}
			if single {
				fmt.Fprintln(&w)
			} else if j == 0 {
				fmt.Fprintf(&w, " — |\n")
			} else {
				fmt.Fprintf(&w, " %s |\n", ratio(sums[0].Wall.Median/s.Wall.Median))
			}
		}
		fmt.Fprintln(&w)
		fmt.Fprintf(&w, "<details><summary>commands</summary>\n\n")
		for _, c := range g.Cmds {
			fmt.Fprintf(&w, "- %s: `%s`", c.Label, strings.Join(c.Argv, " "))
			if c.Dir != "" {
				fmt.Fprintf(&w, " in `%s`", c.Dir)
			}
			if c.Tenant {
				fmt.Fprintf(&w, " (tenant made and deleted around it by the harness, untimed)")
			}
			fmt.Fprintln(&w)
		}
		fmt.Fprintf(&w, "\n</details>\n\n")
		if g.Note != "" {
			fmt.Fprintf(&w, "%s\n\n", g.Note)
		}
		for j, c := range g.Cmds {
			for _, r := range c.Runs {
				if r.Error != "" {
					fmt.Fprintf(&w, "Failed run of %s:\n\n```\n%s\n```\n\n", g.Cmds[j].Label, r.Error)
					break
				}
			}
		}
	}

	if len(benches) > 0 {
		fmt.Fprintf(&w, "## %d. Go benchmarks\n\n`go test -run '^$' -bench . -benchmem ./...` (default `-benchtime`), in the same `make bench`.\n\n", len(res.Groups)+1)
		fmt.Fprintf(&w, "| package | benchmark | time/op | B/op | allocs/op | throughput |\n|---|---|---:|---:|---:|---:|\n")
		for _, bb := range benches {
			fmt.Fprintf(&w, "| %s | %s | %s | %s | %s | %s |\n", bb.Pkg, bb.Name, nsStr(bb.Ns), bytesStr(bb.Bytes), intStr(bb.Allocs), mbsStr(bb.MBs))
		}
		fmt.Fprintf(&w, "\n<details><summary>raw output</summary>\n\n```\n%s\n```\n\n</details>\n\n", strings.TrimSpace(goRaw))
	}

	if *notes != "" {
		n, err := os.ReadFile(*notes)
		if err != nil {
			return err
		}
		w.Write(n)
	}
	return os.WriteFile(*out, []byte(w.String()), 0o644)
}

// pairedRatio is the median over the measured rounds of A's wall ÷ B's wall
// in the same round: neighbours in time share the machine's load, so this
// is steadier than a ratio of medians when the load changes during a group.
func pairedRatio(res Results, a, b string) (float64, bool) {
	return pairedRatioOf(res, a, b, func(r Run) int64 { return r.WallNs })
}

// pairedRatioOf is pairedRatio of another figure of the runs.
func pairedRatioOf(res Results, a, b string, of func(Run) int64) (float64, bool) {
	ra, okA := runsOf(res, a)
	rb, okB := runsOf(res, b)
	if !okA || !okB {
		return 0, false
	}
	var v []float64
	for i := 0; i < len(ra) && i < len(rb); i++ {
		if ra[i].Error == "" && rb[i].Error == "" && of(ra[i]) > 0 && of(rb[i]) > 0 {
			v = append(v, float64(of(ra[i]))/float64(of(rb[i])))
		}
	}
	if len(v) == 0 {
		return 0, false
	}
	return statOf(v).Median, true
}

func runsOf(res Results, ref string) ([]Run, bool) {
	gid, cid, _ := strings.Cut(ref, "/")
	for _, g := range res.Groups {
		for _, c := range g.Cmds {
			if g.ID == gid && c.ID == cid {
				return c.Runs, true
			}
		}
	}
	return nil, false
}

func find(res Results, ref string) (summary, string, bool) {
	gid, cid, _ := strings.Cut(ref, "/")
	for _, g := range res.Groups {
		if g.ID != gid {
			continue
		}
		for _, c := range g.Cmds {
			if c.ID == cid {
				return summarize(c.Runs), c.Label, true
			}
		}
	}
	return summary{}, "", false
}

func evalTarget(t Target, res Results, benches []goBench) (string, string) {
	var v float64
	var measured string
	var unit func(float64) string
	switch t.Kind {
	case "ratio":
		a, _, okA := find(res, t.A)
		b, _, okB := find(res, t.B)
		if !okA || !okB || a.N == 0 || b.N == 0 {
			return "not measured", "**not measured**"
		}
		v = a.Wall.Median / b.Wall.Median
		if p, ok := pairedRatio(res, t.A, t.B); ok {
			v = p
		}
		unit = ratio
		measured = fmt.Sprintf("%s paired (medians %s ÷ %s = %s)", ratio(v), ms(a.Wall.Median), ms(b.Wall.Median), ratio(a.Wall.Median/b.Wall.Median))
	case "tree_ratio":
		a, _, okA := find(res, t.A)
		b, _, okB := find(res, t.B)
		if !okA || !okB || a.N == 0 || b.N == 0 || math.IsNaN(a.Tree.Median) || math.IsNaN(b.Tree.Median) {
			return "not measured", "**not measured**"
		}
		v = a.Tree.Median / b.Tree.Median
		if p, ok := pairedRatioOf(res, t.A, t.B, func(r Run) int64 { return r.TreeKiB }); ok {
			v = p
		}
		unit = ratio
		measured = fmt.Sprintf("%s paired (tree PSS medians %s ÷ %s = %s)", ratio(v), mib(a.Tree.Median), mib(b.Tree.Median), ratio(a.Tree.Median/b.Tree.Median))
	case "wall_ms":
		a, _, ok := find(res, t.A)
		if !ok || a.N == 0 {
			return "not measured", "**not measured**"
		}
		v = a.Wall.Median
		unit = ms
		measured = fmt.Sprintf("%s median (%s–%s)", ms(v), ms(a.Wall.Min), ms(a.Wall.Max))
	case "rss_mb":
		a, _, ok := find(res, t.A)
		if !ok || a.N == 0 {
			return "not measured", "**not measured**"
		}
		st := a.RSS
		if t.Self {
			st = a.Self
		}
		v = st.Max * (1 << 20) / 1e6 // MB
		unit = func(x float64) string { return fmt.Sprintf("%.1f MB", x) }
		measured = fmt.Sprintf("%.1f MB = %s max over runs (median %s)", v, mib(st.Max), mib(st.Median))
	case "gobench_ns", "gobench_bytes":
		var bb *goBench
		for i := range benches {
			if benches[i].Name == t.A || strings.HasPrefix(benches[i].Name, t.A+"-") {
				bb = &benches[i]
			}
		}
		if bb == nil {
			return "not measured", "**not measured**"
		}
		if t.Kind == "gobench_ns" {
			v = bb.Ns / 1e6
			unit = ms
			measured = fmt.Sprintf("%s/op (%s)", ms(v), bb.Name)
		} else {
			v = bb.Bytes / 1e6
			unit = func(x float64) string { return fmt.Sprintf("%.1f MB", x) }
			measured = fmt.Sprintf("%.1f MB allocated/op (%s; total allocation, an upper bound on the heap it needs)", v, bb.Name)
		}
	default:
		return "?", "unknown kind " + t.Kind
	}
	switch {
	case t.Max != 0 && v <= t.Max:
		return measured, fmt.Sprintf("met (%.0f%% headroom)", (1-v/t.Max)*100)
	case t.Max != 0:
		return measured, fmt.Sprintf("**missed by %.0f%%** (%s over %s)", (v/t.Max-1)*100, unit(v-t.Max), unit(t.Max))
	case t.Min != 0 && v >= t.Min:
		return measured, fmt.Sprintf("met (%.0f%% above)", (v/t.Min-1)*100)
	case t.Min != 0:
		return measured, fmt.Sprintf("**missed by %.0f%%** (%s, want ≥ %s)", (1-v/t.Min)*100, unit(v), unit(t.Min))
	}
	return measured, "?"
}

func ms(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v >= 1000:
		return fmt.Sprintf("%.2f s", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

func mib(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.1f MiB", v)
}

func ratio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", v)
}

type goBench struct {
	Pkg, Name              string
	Ns, Bytes, Allocs, MBs float64
}

func parseGoBench(raw string) []goBench {
	var out []goBench
	pkg := ""
	sc := bufio.NewScanner(strings.NewReader(raw))
	for sc.Scan() {
		l := sc.Text()
		if p, ok := strings.CutPrefix(l, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimSpace(p), "github.com/suitecheck/suitecheck/")
			continue
		}
		if !strings.HasPrefix(l, "Benchmark") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 4 {
			continue
		}
		b := goBench{Pkg: pkg, Name: f[0], Bytes: math.NaN(), Allocs: math.NaN(), MBs: math.NaN()}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				b.Ns = v
			case "B/op":
				b.Bytes = v
			case "allocs/op":
				b.Allocs = v
			case "MB/s":
				b.MBs = v
			}
		}
		out = append(out, b)
	}
	return out
}

func nsStr(ns float64) string {
	switch {
	case ns >= 1e6:
		return ms(ns / 1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.1f ns", ns)
}

func bytesStr(b float64) string {
	switch {
	case math.IsNaN(b):
		return "—"
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

func intStr(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func mbsStr(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.0f MB/s", v)
}
