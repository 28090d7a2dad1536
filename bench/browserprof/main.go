// Command browserprof times the phases of the benchmark's browser journey
// through suitecheck's own browser package (suites/browser), for profiling:
// launch, page creation, each step, each case's end (EndCase waits for the
// page to settle), close. It is not part of make bench's figures.
//
//	SUITECHECK_TENANT_LOGIN=… SUITECHECK_TENANT_PASSWORD=… \
//	  go run ./bench/browserprof -url http://127.0.0.1:PORT -n 5 [-remote http://127.0.0.1:9222]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/suitecheck/suitecheck/suites/browser"
)

func main() {
	base := flag.String("url", os.Getenv("BENCH_APP_URL"), "the sample app")
	n := flag.Int("n", 3, "journeys")
	flag.StringVar(&remote, "remote", "", "a shared browser's DevTools endpoint (--browser-url), instead of a launch")
	flag.Parse()
	login, password := os.Getenv("SUITECHECK_TENANT_LOGIN"), os.Getenv("SUITECHECK_TENANT_PASSWORD")
	for range *n {
		if err := journey(*base, login, password); err != nil {
			fmt.Fprintln(os.Stderr, "browserprof:", err)
			os.Exit(1)
		}
	}
}

var remote string

func journey(base, login, password string) error {
	ctx := context.Background()
	t0 := time.Now()
	last := t0
	var line string
	mark := func(what string) {
		now := time.Now()
		line += fmt.Sprintf(" %s=%dms", what, now.Sub(last).Milliseconds())
		last = now
	}
	b, err := browser.Launch(ctx, browser.Options{RemoteURL: remote})
	if err != nil {
		return err
	}
	defer b.Close()
	mark("launch")
	p, err := b.Page(ctx)
	if err != nil {
		return err
	}
	mark("page")
	cases := [][]browser.Step{
		{
			{Action: browser.ActionGoto, Value: base + "/login"},
			{Action: browser.ActionFill, Selector: "#login", Value: login},
			{Action: browser.ActionFill, Selector: "#password", Value: password, Secret: true},
			{Action: browser.ActionClick, Selector: "#sign-in"},
			{Action: browser.ActionWaitText, Value: "Welcome, " + login},
		},
		{
			{Action: browser.ActionUpload, Selector: "#file", Content: "hello, file", Name: "hello.txt"},
			{Action: browser.ActionClick, Selector: "#upload"},
			{Action: browser.ActionWaitText, Selector: "#files", Value: "hello.txt"},
		},
	}
	for _, steps := range cases {
		p.StartCase()
		for _, s := range steps {
			if err := p.Run(ctx, s); err != nil {
				return err
			}
			mark(s.Action)
		}
		p.EndCase(ctx)
		mark("endcase")
	}
	if err := b.Close(); err != nil {
		return err
	}
	mark("close")
	fmt.Printf("total=%dms%s\n", time.Since(t0).Milliseconds(), line)
	return nil
}
