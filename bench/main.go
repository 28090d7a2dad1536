//go:build linux

// Command bench is the harness behind `make bench` (see bench/run.sh and
// BENCHMARKS.md). It runs the commands of each group of a spec interleaved,
// A B C A B C …, after warm-up rounds, and records per run the wall time to
// the command's exit, user+system CPU, peak RSS (GNU time's %M for the
// command and what it waited for; wait4's rusage for the processes
// reparented to the harness, a child subreaper, so Chromium's are counted and
// reaped too), optionally the command's own peak RSS (VmHWM, sampled) and the
// summed PSS of all the run's processes (sampled).
//
//	bench run -spec bench/spec.json -out results.json   # measure
//	bench report -results results.json -gobench go.txt -notes bench/NOTES.md -out BENCHMARKS.md
//	bench freeport                                      # a free TCP port on 127.0.0.1
//	bench junit -n 10000 -out big.xml                   # a JUnit report with n test cases
//	bench parallel -n 8 -match RE -- CMD…               # n copies of CMD at once
//
// It has no timing assertions: BENCHMARKS.md shows each target met or missed.
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = cmdRun(os.Args[2:])
	case "report":
		err = cmdReport(os.Args[2:])
	case "freeport":
		err = freePort()
	case "junit":
		err = cmdJUnit(os.Args[2:])
	case "parallel":
		err = cmdParallel(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: bench run|report|freeport|junit|parallel [flags]")
	os.Exit(2)
}

func freePort() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	return nil
}
