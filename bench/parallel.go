//go:build linux

package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sync"
)

// cmdParallel runs n copies of a command at once, as n checks a monitoring
// node schedules together, and waits for all of them:
//
//	bench parallel -n 8 -match '^SUITECHECK OK' -- suitecheck run journey …
//
// Its first line says how many exited 0 with a stdout matching -match; the
// output of those that did not follows. It exits 1 unless all did.
func cmdParallel(args []string) error {
	fs := flag.NewFlagSet("parallel", flag.ExitOnError)
	n := fs.Int("n", 8, "copies")
	match := fs.String("match", "", "a regexp each copy's stdout must match")
	_ = fs.Parse(args)
	argv := fs.Args()
	if len(argv) == 0 || *n < 1 {
		return errors.New("usage: bench parallel -n N [-match REGEXP] -- COMMAND [ARG…]")
	}
	re, err := regexp.Compile(*match)
	if err != nil {
		return fmt.Errorf("-match: %w", err)
	}
	type result struct {
		out, errOut bytes.Buffer
		err         error
	}
	res := make([]result, *n)
	var wg sync.WaitGroup
	for i := range res {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = &res[i].out, &res[i].errOut
		if err := cmd.Start(); err != nil {
			res[i].err = err
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i].err = cmd.Wait()
		}()
	}
	wg.Wait()
	good := 0
	var bad bytes.Buffer
	for i, r := range res {
		if r.err == nil && re.Match(r.out.Bytes()) {
			good++
			continue
		}
		fmt.Fprintf(&bad, "copy %d: %v\n%s", i+1, r.err, tail(r.out.Bytes(), r.errOut.Bytes()))
	}
	fmt.Printf("parallel: %d of %d exited 0 and matched\n%s", good, *n, bad.String())
	if good != *n {
		os.Exit(1)
	}
	return nil
}
