package browser

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A step's selector is one of the forms Playwright users write:
//
//	#send, form button[type=submit]   CSS (any string without an engine prefix)
//	css=#send                         CSS, explicitly
//	text=Add file                     the deepest visible elements whose text contains it (any case)
//	text="Add file"                   … whose whole text is it (exact case)
//	text=/add \w+/i                   … whose text matches the regexp
//	role=button[name="Add"]           elements of an ARIA role, by accessible name and state
//
// parseSelector reads one into a selector, which resolveJS resolves in the
// page. It refuses, with a message saying what to fix, what could never
// match: an unknown role or attribute, an unclosed quote, an empty text.
// CSS is left to the browser (its syntax errors are found at run time).

// selector is a parsed selector, passed to the page as JSON.
type selector struct {
	Engine string     `json:"engine"`         // engineCSS, engineText or engineRole
	CSS    string     `json:"css,omitempty"`  // css: the CSS selector, as written
	Text   *textMatch `json:"text,omitempty"` // text: what the text must match
	Role   string     `json:"role,omitempty"` // role: the ARIA role
	Name   *textMatch `json:"name,omitempty"` // role: what the accessible name must match; nil for any
	// role: states, "" for any; "true", "false" (and "mixed" for
	// checked and pressed).
	Checked  string `json:"checked,omitempty"`
	Disabled string `json:"disabled,omitempty"`
	Expanded string `json:"expanded,omitempty"`
	Pressed  string `json:"pressed,omitempty"`
	Selected string `json:"selected,omitempty"`
	Level    int    `json:"level,omitempty"` // role: the heading (or list item, row, tree item) level; 0 for any
	// IncludeHidden matches elements hidden from assistive technology
	// (display: none, visibility: hidden, aria-hidden) too.
	IncludeHidden bool `json:"includeHidden,omitempty"`
}

const (
	engineCSS  = "css"
	engineText = "text"
	engineRole = "role"
)

// textMatch is how a text or an accessible name is matched, after
// whitespace in it is collapsed to single spaces and trimmed.
type textMatch struct {
	Mode  string `json:"mode"`            // matchSub, matchExact or matchRegexp
	Value string `json:"value"`           // the text, whitespace normalised; or the regexp's source
	Flags string `json:"flags,omitempty"` // the regexp's flags (i, m, s, u)
}

const (
	matchSub    = "sub"   // contains Value, ignoring case
	matchExact  = "exact" // is Value, case and all
	matchRegexp = "re"    // matches the JavaScript regexp Value with Flags
)

// roles are the ARIA roles a role selector may name (WAI-ARIA 1.2's, with
// 1.3's paragraph-level ones that Chromium knows).
var roles = []string{
	"alert", "alertdialog", "application", "article", "banner", "blockquote", "button", "caption",
	"cell", "checkbox", "code", "columnheader", "combobox", "complementary", "contentinfo",
	"definition", "deletion", "dialog", "directory", "document", "emphasis", "feed", "figure",
	"form", "generic", "grid", "gridcell", "group", "heading", "img", "insertion", "link", "list",
	"listbox", "listitem", "log", "main", "mark", "marquee", "math", "menu", "menubar", "menuitem",
	"menuitemcheckbox", "menuitemradio", "meter", "navigation", "none", "note", "option",
	"paragraph", "presentation", "progressbar", "radio", "radiogroup", "region", "row", "rowgroup",
	"rowheader", "scrollbar", "search", "searchbox", "separator", "slider", "spinbutton", "status",
	"strong", "subscript", "superscript", "switch", "tab", "table", "tablist", "tabpanel", "term",
	"textbox", "time", "timer", "toolbar", "tooltip", "tree", "treegrid", "treeitem",
}

// roleAttrs are a role selector's attributes, and for those that only some
// roles have, which (as in Playwright).
var roleAttrs = map[string][]string{
	"name":           nil,
	"checked":        {"checkbox", "menuitemcheckbox", "menuitemradio", "option", "radio", "switch", "treeitem"},
	"disabled":       nil,
	"expanded":       nil,
	"include-hidden": nil,
	"level":          {"heading", "listitem", "row", "treeitem"},
	"pressed":        {"button"},
	"selected":       {"columnheader", "gridcell", "option", "row", "rowheader", "tab", "treeitem"},
}

// maxLevel bounds [level=N]: aria-level is a small number.
const maxLevel = 100

// engineRe is the prefix of a selector naming an engine: no CSS selector
// starts with a word and '='.
var engineRe = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_-]*)=`)

// parseSelector reads a step's selector. Errors say what is wrong with it,
// without repeating it.
func parseSelector(s string) (selector, error) {
	if !utf8.ValidString(s) {
		return selector{}, errors.New("not valid UTF-8")
	}
	m := engineRe.FindStringSubmatch(s)
	if m == nil {
		if strings.TrimSpace(s) == "" {
			return selector{}, errors.New("empty selector")
		}
		return selector{Engine: engineCSS, CSS: s}, nil
	}
	body := s[len(m[0]):]
	switch m[1] {
	case engineCSS:
		if strings.TrimSpace(body) == "" {
			return selector{}, errors.New("css= needs a CSS selector")
		}
		return selector{Engine: engineCSS, CSS: body}, nil
	case engineText:
		t, err := parseText(body)
		if err != nil {
			return selector{}, err
		}
		return selector{Engine: engineText, Text: t}, nil
	case engineRole:
		return parseRole(body)
	}
	return selector{}, fmt.Errorf("unknown selector engine %q: write CSS, or css=, text= or role=", m[1])
}

// parseText reads what follows text=.
func parseText(body string) (*textMatch, error) {
	body = trimSpace(body)
	chained := errors.New("chained selectors (>>) are not supported")
	switch {
	case body == "":
		return nil, errors.New("text= needs a text")
	case body[0] == '"' || body[0] == '\'':
		v, rest, err := readQuoted(body)
		if err != nil {
			return nil, err
		}
		if rest = trimSpace(rest); strings.HasPrefix(rest, ">>") {
			return nil, chained
		} else if rest != "" {
			return nil, fmt.Errorf("unexpected %q after the closing quote", shortQ(rest))
		}
		if v = normSpace(v); v == "" {
			return nil, errors.New("text= needs a text, not only spaces")
		}
		return &textMatch{Mode: matchExact, Value: v}, nil
	case body[0] == '/':
		re, rest, err := readRegexp(body)
		if err != nil {
			return nil, err
		}
		if rest = trimSpace(rest); strings.HasPrefix(rest, ">>") {
			return nil, chained
		} else if rest != "" {
			return nil, fmt.Errorf("unexpected %q after the regexp", shortQ(rest))
		}
		return re, nil
	}
	v := normSpace(body)
	if strings.Contains(v, " >> ") {
		return nil, chained
	}
	return &textMatch{Mode: matchSub, Value: v}, nil
}

// parseRole reads what follows role=: a role and its attributes, e.g.
// button[name="Add"][disabled=false].
func parseRole(body string) (selector, error) {
	sel := selector{Engine: engineRole}
	body = trimSpace(body)
	i := 0
	for i < len(body) && (body[i] >= 'a' && body[i] <= 'z' || body[i] >= 'A' && body[i] <= 'Z') {
		i++
	}
	role, rest := body[:i], body[i:]
	switch {
	case role == "":
		return sel, errors.New("role= needs a role, e.g. role=button")
	case !slices.Contains(roles, role):
		if near := nearest(strings.ToLower(role), roles); near != "" {
			return sel, fmt.Errorf("unknown role %q (did you mean %s?)", role, near)
		}
		return sel, fmt.Errorf("unknown role %q: use an ARIA role such as button, link, textbox, checkbox, heading", role)
	}
	sel.Role = role
	seen := map[string]bool{}
	for {
		rest = trimSpace(rest)
		if rest == "" {
			return sel, nil
		}
		if strings.HasPrefix(rest, ">>") {
			return sel, errors.New("chained selectors (>>) are not supported")
		}
		if rest[0] != '[' {
			return sel, fmt.Errorf("unexpected %q after the role: attributes go in [ ], e.g. role=button[name=\"Add\"]", shortQ(rest))
		}
		var err error
		if rest, err = sel.attr(rest[1:], seen); err != nil {
			return sel, err
		}
	}
}

// attr reads one attribute, after its '[', into sel and returns what
// follows its ']'.
func (sel *selector) attr(s string, seen map[string]bool) (string, error) {
	s = trimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] == '-') {
		i++
	}
	name, s := s[:i], trimSpace(s[i:])
	only, known := roleAttrs[name]
	switch {
	case name == "":
		return "", errors.New("an attribute name is missing after [")
	case !known:
		return "", fmt.Errorf("unknown attribute %q: use name, checked, disabled, expanded, include-hidden, level, pressed or selected", name)
	case seen[name]:
		return "", fmt.Errorf("attribute %q given twice", name)
	case only != nil && !slices.Contains(only, sel.Role):
		return "", fmt.Errorf("attribute %q does not apply to role %s (only to %s)", name, sel.Role, strings.Join(only, ", "))
	}
	seen[name] = true
	if s == "" {
		return "", fmt.Errorf("attribute %q: missing ]", name)
	}
	if s[0] == ']' {
		// A bare [checked] is [checked=true].
		switch name {
		case "name", "level":
			return "", fmt.Errorf("attribute %q needs a value, e.g. [%s]", name, map[string]string{"name": `name="Add"`, "level": "level=2"}[name])
		}
		sel.setState(name, "true")
		return s[1:], nil
	}
	if s[0] != '=' {
		return "", fmt.Errorf("attribute %q: expected = or ] after it", name)
	}
	s = trimSpace(s[1:])
	var rest string
	switch {
	case s == "":
		return "", fmt.Errorf("attribute %q: missing value and ]", name)
	case name == "name":
		m, r, err := readName(s)
		if err != nil {
			return "", fmt.Errorf("attribute name: %w", err)
		}
		sel.Name, rest = m, r
	default:
		v, r, err := readWord(s)
		if err != nil {
			return "", fmt.Errorf("attribute %q: %w", name, err)
		}
		rest = r
		if err := sel.setValue(name, v); err != nil {
			return "", err
		}
	}
	rest = trimSpace(rest)
	if rest == "" || rest[0] != ']' {
		return "", fmt.Errorf("attribute %q: missing ]", name)
	}
	return rest[1:], nil
}

// readName reads the value of [name=…]: "text" (contains, any case),
// "text"s (is, exact case), "text"i (contains, any case) or /regexp/flags.
func readName(s string) (*textMatch, string, error) {
	if s[0] == '/' {
		return readRegexp(s)
	}
	if s[0] != '"' && s[0] != '\'' {
		return nil, "", errors.New(`quote the name, e.g. [name="Add"], or give a /regexp/`)
	}
	v, rest, err := readQuoted(s)
	if err != nil {
		return nil, "", err
	}
	m := &textMatch{Mode: matchSub, Value: normSpace(v)}
	switch {
	case strings.HasPrefix(rest, "s") || strings.HasPrefix(rest, "S"):
		m.Mode, rest = matchExact, rest[1:]
	case strings.HasPrefix(rest, "i") || strings.HasPrefix(rest, "I"):
		rest = rest[1:]
	}
	if m.Value == "" && m.Mode == matchSub {
		return nil, "", errors.New(`an empty name matches anything: leave [name] out, or write [name=""s] for no name`)
	}
	return m, rest, nil
}

// readWord reads a state's value: a bare word or number, or one quoted.
func readWord(s string) (string, string, error) {
	if s[0] == '"' || s[0] == '\'' {
		return readQuoted(s)
	}
	i := 0
	for i < len(s) && s[i] != ']' && !isSpace(rune(s[i])) {
		i++
	}
	return s[:i], s[i:], nil
}

// setValue sets the state or level name to v, refusing a value it cannot
// have.
func (sel *selector) setValue(name, v string) error {
	switch name {
	case "level":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLevel {
			return fmt.Errorf("attribute level: %q is not a level: give a number from 1, e.g. [level=2]", shortQ(v))
		}
		sel.Level = n
		return nil
	case "checked", "pressed":
		if v != "true" && v != "false" && v != "mixed" {
			return fmt.Errorf("attribute %s: %q: use true, false or mixed", name, shortQ(v))
		}
	default:
		if v != "true" && v != "false" {
			return fmt.Errorf("attribute %s: %q: use true or false", name, shortQ(v))
		}
	}
	sel.setState(name, v)
	return nil
}

func (sel *selector) setState(name, v string) {
	switch name {
	case "checked":
		sel.Checked = v
	case "disabled":
		sel.Disabled = v
	case "expanded":
		sel.Expanded = v
	case "pressed":
		sel.Pressed = v
	case "selected":
		sel.Selected = v
	case "include-hidden":
		sel.IncludeHidden = v == "true"
	}
}

// readQuoted reads a string in single or double quotes at the start of s,
// where a backslash takes the next character as it is. It returns the
// string and what follows the closing quote.
func readQuoted(s string) (string, string, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == q:
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("unclosed quote %c", q)
}

// readRegexp reads /source/flags at the start of s. The regexp runs in the
// page, in JavaScript; it is refused here unless Go's regexp (RE2) reads it
// the same, so that a mistake shows at load time: no lookaround, no
// backreferences.
func readRegexp(s string) (*textMatch, string, error) {
	inClass := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '[':
			inClass = true
		case ']':
			inClass = false
		case '/':
			if inClass {
				continue
			}
			src := s[1:i]
			j := i + 1
			for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
				j++
			}
			flags := s[i+1 : j]
			if src == "" {
				return nil, "", errors.New("empty regexp //")
			}
			goFlags := ""
			for k, f := range flags {
				if !strings.ContainsRune("imsu", f) || strings.ContainsRune(flags[:k], f) {
					return nil, "", fmt.Errorf("regexp flag %q: use i, m, s or u", f)
				}
				if f != 'u' {
					goFlags += string(f)
				}
			}
			re := src
			if goFlags != "" {
				re = "(?" + goFlags + ")" + src
			}
			if _, err := regexp.Compile(re); err != nil {
				why := err.Error()
				var se *syntax.Error
				if errors.As(err, &se) {
					why = se.Code.String() + ": `" + shortQ(se.Expr) + "`"
				}
				return nil, "", fmt.Errorf("bad regexp /%s/: %s", shortQ(src), why)
			}
			return &textMatch{Mode: matchRegexp, Value: src, Flags: flags}, s[j:], nil
		}
	}
	return nil, "", errors.New("unclosed regexp: end it with /")
}

// String writes the selector in the canonical form parseSelector reads
// back to the same selector.
func (sel selector) String() string {
	switch sel.Engine {
	case engineText:
		switch sel.Text.Mode {
		case matchSub:
			return "text=" + sel.Text.Value
		case matchExact:
			return "text=" + quoteJS(sel.Text.Value)
		}
		return "text=" + sel.Text.String()
	case engineRole:
		var b strings.Builder
		b.WriteString("role=" + sel.Role)
		if sel.Name != nil {
			b.WriteString("[name=" + sel.Name.String() + "]")
		}
		for _, a := range []struct{ name, v string }{
			{"checked", sel.Checked}, {"disabled", sel.Disabled}, {"expanded", sel.Expanded},
			{"pressed", sel.Pressed}, {"selected", sel.Selected},
		} {
			if a.v != "" {
				b.WriteString("[" + a.name + "=" + a.v + "]")
			}
		}
		if sel.Level > 0 {
			b.WriteString("[level=" + strconv.Itoa(sel.Level) + "]")
		}
		if sel.IncludeHidden {
			b.WriteString("[include-hidden]")
		}
		return b.String()
	}
	if engineRe.MatchString(sel.CSS) {
		return "css=" + sel.CSS
	}
	return sel.CSS
}

// String writes a match as a role selector's name value: "v", "v"s or
// /re/flags.
func (m textMatch) String() string {
	switch m.Mode {
	case matchRegexp:
		return "/" + m.Value + "/" + m.Flags
	case matchExact:
		return quoteJS(m.Value) + "s"
	}
	return quoteJS(m.Value)
}

// quoteJS quotes s in double quotes, as readQuoted reads it.
func quoteJS(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// isSpace is JavaScript's \s, so that a text is normalised here as the
// page normalises what it shows.
func isSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

func trimSpace(s string) string { return strings.TrimFunc(s, isSpace) }

// normSpace collapses runs of whitespace to one space and trims it.
func normSpace(s string) string { return strings.Join(strings.FieldsFunc(s, isSpace), " ") }

// shortQ shortens a piece of a selector for a message.
func shortQ(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}

// nearest returns the word of words closest to w by edit distance, when it
// is a likely typo (at most two edits), else "".
func nearest(w string, words []string) string {
	best, bestD := "", 3
	for _, c := range words {
		if d := editDistance(w, c, bestD); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or limit when it is
// limit or more.
func editDistance(a, b string, limit int) int {
	if len(a) > 64 || len(b) > 64 || abs(len(a)-len(b)) >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
