package suites

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/suitecheck/suitecheck/checks"
)

// maxNamesListed bounds the names an error lists: a suite of hundreds of
// cases would otherwise fill the status line.
const maxNamesListed = 12

// CheckCasePattern refuses a --case pattern that is not a glob path.Match
// reads.
func CheckCasePattern(p string) error {
	if p == "" {
		return fmt.Errorf("--case \"\": give a case's name or a glob such as 'sign*'")
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("--case %q: not a glob (%v): use * ? and [a-z] as in shell patterns, quoted", p, err)
	}
	return nil
}

// selectCases says, for each case of the suite, why it does not run when
// only some were asked for (--case patterns, --tag tags): "" for a case
// that runs. A case runs when it matches a pattern (its name or its
// perfdata label: sign_in for "sign in") and carries one of the tags, of
// those given. A required case before a selected one runs too: it sets up
// what the cases after it rely on (the signed-in session). A pattern or a
// tag that selects nothing is an error naming what there is. forced
// marks the required cases that run only for that reason.
func selectCases(s *Suite, patterns, tags []string) (skip []string, forced []bool, err error) {
	skip, forced = make([]string, len(s.Cases)), make([]bool, len(s.Cases))
	if len(patterns) == 0 && len(tags) == 0 {
		return skip, forced, nil
	}
	for _, p := range patterns {
		if err := CheckCasePattern(p); err != nil {
			return nil, nil, err
		}
		if !slices.ContainsFunc(s.Cases, func(c *Case) bool { return matchCase(p, c) }) {
			return nil, nil, fmt.Errorf("--case %q: no case of suite %s matches it: its cases are %s", p, s.name, listNames(caseNames(s)))
		}
	}
	for _, tag := range tags {
		if !slices.ContainsFunc(s.Cases, func(c *Case) bool { return slices.Contains(c.Tags, tag) }) {
			if have := suiteTags(s); len(have) > 0 {
				return nil, nil, fmt.Errorf("--tag %q: no case of suite %s has it: its tags are %s", tag, s.name, listNames(have))
			}
			return nil, nil, fmt.Errorf("--tag %q: no case of suite %s has it: its cases have no tags", tag, s.name)
		}
	}
	selected := make([]bool, len(s.Cases))
	last := -1
	for i, c := range s.Cases {
		byName := len(patterns) == 0 || slices.ContainsFunc(patterns, func(p string) bool { return matchCase(p, c) })
		byTag := len(tags) == 0 || slices.ContainsFunc(tags, func(t string) bool { return slices.Contains(c.Tags, t) })
		switch {
		case byName && byTag:
			selected[i], last = true, i
		case !byName:
			skip[i] = "not selected (--case)"
		default:
			skip[i] = "not selected (--tag)"
		}
	}
	if last < 0 {
		return nil, nil, fmt.Errorf("--case and --tag: no case of suite %s matches both", s.name)
	}
	for i, c := range s.Cases[:last] {
		if c.Required && !selected[i] {
			skip[i], forced[i] = "", true
		}
	}
	return skip, forced, nil
}

// matchCase reports whether pattern p matches case c's name or its
// perfdata label.
func matchCase(p string, c *Case) bool {
	for _, name := range []string{c.Name, checks.Label(c.Name)} {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

func caseNames(s *Suite) []string {
	names := make([]string, len(s.Cases))
	for i, c := range s.Cases {
		names[i] = c.Name
	}
	return names
}

// suiteTags are the tags of a suite's cases, in the order they first come.
func suiteTags(s *Suite) []string {
	var tags []string
	for _, c := range s.Cases {
		for _, t := range c.Tags {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	return tags
}

// listNames lists names quoted, the first maxNamesListed of them.
func listNames(names []string) string {
	var b strings.Builder
	for i, n := range names[:min(len(names), maxNamesListed)] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", checks.Shorten(n, 40))
	}
	if len(names) > maxNamesListed {
		fmt.Fprintf(&b, " and %d more (suitecheck list names them all)", len(names)-maxNamesListed)
	}
	return b.String()
}
