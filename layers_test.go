package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/suitecheck/suitecheck"

// imports lists, per package of the module, what its non-test files import.
func imports(t *testing.T, args ...string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-f", `{{.ImportPath}} {{join .Imports " "}}`}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		m[strings.TrimPrefix(strings.TrimPrefix(f[0], module), "/")] = f[1:]
	}
	return m
}

func std(path string) bool { return !strings.Contains(strings.SplitN(path, "/", 2)[0], ".") }

// The house's floors: arrows point down only. The plugin contract is a
// leaf of the standard library, and check http stands on it alone; the shared leaves (HTTP steps, secrets,
// process groups, database opening, the state dir) import neither suites
// nor tenant; tenant does not reach into suites; the binary links no test
// fixture.
func TestImportGraph(t *testing.T) {
	pkgs := imports(t, "./...")
	leaves := []string{"internal/secret", "internal/httpstep", "internal/proc", "internal/pgconn", "internal/statedir", "internal/regfile", "internal/pgcluster"}
	for pkg, imps := range pkgs {
		for _, imp := range imps {
			rel, ours := strings.CutPrefix(imp, module+"/")
			switch {
			case pkg == "checks" && !std(imp):
				t.Errorf("checks imports %s: the plugin contract uses the standard library only", imp)
			case pkg == "checks/httpcheck" && !std(imp) && imp != module+"/checks":
				t.Errorf("checks/httpcheck imports %s: check http uses the standard library and checks only", imp)
			case slices.Contains(leaves, pkg) && ours && (strings.HasPrefix(rel, "suites") || strings.HasPrefix(rel, "tenant")):
				t.Errorf("%s imports %s: a shared leaf imports neither suites nor tenant", pkg, rel)
			case strings.HasPrefix(pkg, "tenant") && ours && strings.HasPrefix(rel, "suites"):
				t.Errorf("%s imports %s: tenant sits below suites", pkg, rel)
			case strings.HasPrefix(pkg, "checks/") && ours && (strings.HasPrefix(rel, "suites") || strings.HasPrefix(rel, "tenant")):
				t.Errorf("%s imports %s: a fine-grained check sits below suites and tenant", pkg, rel)
			case ours && rel == "internal/cli" && pkg != "" && pkg != "internal/tools/genman":
				t.Errorf("%s imports internal/cli: only main does (and genman, which writes the man pages from its tree)", pkg)
			case ours && (rel == "internal/demo" || rel == "internal/sampleapp") && pkg != "internal/cli" && pkg != "internal/demo" && pkg != "internal/apptest":
				t.Errorf("%s imports %s: only the demo command and the tests' apptest use the demo", pkg, rel)
			}
		}
	}
	for _, p := range append(leaves, "checks", "checks/postgres", "checks/httpcheck", "tenant") {
		if _, ok := pkgs[p]; !ok {
			t.Errorf("package %s is gone: update this test with the house", p)
		}
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch dep {
		case "testing", module + "/internal/pgtest", module + "/internal/apptest",
			"github.com/spf13/cobra/doc", "github.com/cpuguy83/go-md2man/v2/md2man", module + "/internal/tools/genman":
			t.Errorf("the binary links %s", dep)
		}
	}
}
