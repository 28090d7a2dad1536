package httpstep

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/andybalholm/cascadia"
	"github.com/theory/jsonpath"
	"golang.org/x/net/html"
)

// response is what the checks look at.
type response struct {
	resp      *http.Response
	body      []byte // at most the cap
	truncated bool   // the body went on beyond the cap

	parsed  bool
	doc     any   // the body as JSON, once parsed
	jsonErr error // why it is not JSON
}

// json parses the body as JSON once.
func (r *response) json() (any, error) {
	if !r.parsed {
		r.parsed = true
		r.doc, r.jsonErr = decodeJSON(r.body)
	}
	return r.doc, r.jsonErr
}

// check runs the expectations in order and returns the first failure.
func (p *plan) check(r *response) error {
	m := p.mask
	code := r.resp.StatusCode
	if !statusOK(p.status, code) {
		if loc := r.resp.Header.Get("Location"); loc != "" && code >= 300 && code < 400 {
			return p.fail(ErrExpectation, nil, "status %d to %s, want %s", code, m.clip(redactLocation(loc)), statusWant(p.status))
		}
		return p.fail(ErrExpectation, nil, "status %d, want %s%s", code, statusWant(p.status), p.bodyNote(r))
	}
	for _, h := range p.headers {
		vals := r.resp.Header.Values(h.name)
		if len(vals) == 0 {
			return p.fail(ErrExpectation, nil, "no header %s, want %s", h.name, h.want.want())
		}
		if !slices.ContainsFunc(vals, h.want.contains) {
			return p.fail(ErrExpectation, nil, "header %s = %s, want %s",
				h.name, m.quote([]byte(strings.Join(vals, ", ")), false), h.want.want())
		}
	}
	if p.contains != "" && !bytes.Contains(r.body, []byte(p.contains)) {
		return p.fail(ErrExpectation, nil, "body does not contain %s%s", m.quote([]byte(p.contains), false), p.capNote(r))
	}
	if p.bodyRe != nil && !p.bodyRe.Match(r.body) {
		return p.fail(ErrExpectation, nil, "body does not match /%s/%s", p.bodyRe, p.capNote(r))
	}
	for _, jc := range p.json {
		doc, err := p.jsonBody(r, "check "+jc.src)
		if err != nil {
			return err
		}
		nodes := jc.path.Select(doc)
		switch {
		case len(nodes) == 0:
			return p.fail(ErrExpectation, nil, "no value at %s, want %s", jc.src, m.clip(jc.wantText()))
		case slices.ContainsFunc(nodes, jc.matches):
		case len(nodes) == 1:
			return p.fail(ErrExpectation, nil, "%s = %s, want %s", jc.src, m.clip(jsonText(nodes[0])), m.clip(jc.wantText()))
		default:
			return p.fail(ErrExpectation, nil, "%s = %s (%d values), want one of them %s",
				jc.src, m.clip(jsonText([]any(nodes))), len(nodes), m.clip(jc.wantText()))
		}
	}
	return nil
}

// jsonBody is the body as JSON, or the error that says why the step cannot
// do what with it.
func (p *plan) jsonBody(r *response, what string) (any, error) {
	if r.truncated {
		return nil, p.fail(ErrExpectation, nil, "body is larger than %s (expect.max_body_bytes): cannot %s", byteSize(p.maxBody), what)
	}
	doc, err := r.json()
	if err != nil {
		return nil, p.fail(ErrExpectation, err, "body is not JSON (%v): cannot %s%s", err, what, p.bodyNote(r))
	}
	return doc, nil
}

// bodyNote shows the start of the body, to say what came instead.
func (p *plan) bodyNote(r *response) string {
	if len(r.body) == 0 {
		return " (body is empty)"
	}
	m := p.mask
	// A JSON body's values under names such as password or token are
	// secrets too: a failed create may return the new account's password.
	if doc, err := r.json(); err == nil {
		var found []string
		jsonSecrets(doc, false, func(s string) { found = append(found, s) })
		if len(found) > 0 {
			m = newMasker(append(found, p.secrets...))
		}
	}
	return " (body " + m.quote(r.body, r.truncated) + ")"
}

// capNote says that the body was searched only up to the cap, or shows it.
func (p *plan) capNote(r *response) string {
	if r.truncated {
		return fmt.Sprintf(" in its first %s (expect.max_body_bytes)", byteSize(p.maxBody))
	}
	return p.bodyNote(r)
}

// extractAll extracts the variables; secret names those marked secret.
func (p *plan) extractAll(r *response) (vars map[string]string, secret []string, err error) {
	if len(p.extract) == 0 {
		return nil, nil, nil
	}
	vars = make(map[string]string, len(p.extract))
	for _, x := range p.extract {
		v, err := p.extractOne(r, x)
		if err != nil {
			return nil, nil, err
		}
		vars[x.name] = v
		if x.secret {
			secret = append(secret, x.name)
		}
	}
	return vars, secret, nil
}

func (p *plan) extractOne(r *response, x extractor) (string, error) {
	var src, from string // the value the regexp reads, and what it is
	switch {
	case x.json != nil:
		doc, err := p.jsonBody(r, "extract "+x.jsonSrc)
		if err != nil {
			return "", err
		}
		v, err := p.selectOne(x.json, x.jsonSrc, doc)
		if err != nil {
			return "", err
		}
		if x.re == nil {
			return v, nil
		}
		src, from = v, x.jsonSrc
	case x.html != nil:
		v, err := p.selectHTML(r, x)
		if err != nil {
			return "", err
		}
		if x.re == nil {
			return v, nil
		}
		src, from = v, x.htmlSrc
	case x.header != "":
		vals := r.resp.Header.Values(x.header)
		if len(vals) == 0 {
			return "", p.fail(ErrExpectation, nil, "no header %s to extract", x.header)
		}
		if x.re == nil {
			return vals[0], nil
		}
		src, from = vals[0], "header "+x.header
	default:
		src, from = string(r.body), "body"
	}
	sm := x.re.FindStringSubmatch(src)
	switch {
	case sm == nil && from == "body":
		return "", p.fail(ErrExpectation, nil, "body does not match /%s/ to extract%s", x.re, p.capNote(r))
	case sm == nil:
		return "", p.fail(ErrExpectation, nil, "%s = %s does not match /%s/ to extract", from, p.mask.quote([]byte(src), false), x.re)
	case len(sm) > 1:
		return sm[1], nil
	}
	return sm[0], nil
}

// selectOne is the one value a JSONPath selects, as a variable holds it.
func (p *plan) selectOne(path *jsonpath.Path, src string, doc any) (string, error) {
	nodes := path.Select(doc)
	switch {
	case len(nodes) == 0:
		return "", p.fail(ErrExpectation, nil, "no value at %s to extract", src)
	case len(nodes) > 1:
		return "", p.fail(ErrExpectation, nil, "%s selects %d values, want one to extract", src, len(nodes))
	case nodes[0] == nil:
		return "", p.fail(ErrExpectation, nil, "%s is null, nothing to extract", src)
	}
	return valueText(nodes[0]), nil
}

// statusOK reports whether code is in the list, or a 2xx for an empty list.
func statusOK(list []int, code int) bool {
	if len(list) == 0 {
		return code >= 200 && code < 300
	}
	return slices.Contains(list, code)
}

// statusWant says which codes pass: "2xx", "201", "200 or 204",
// "200, 201 or 204".
func statusWant(list []int) string {
	if len(list) == 0 {
		return "2xx"
	}
	s := make([]string, len(list))
	for i, c := range list {
		s[i] = strconv.Itoa(c)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// redactLocation drops the parts of a redirect target that may carry
// secrets (user info, query, fragment).
func redactLocation(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return "(an invalid Location)"
	}
	u.User, u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery = nil, "", "", "", false
	return u.String()
}

// selectHTML reads an extraction's value from the first element its
// selector matches in the body parsed as HTML (as a browser would: any
// body parses).
func (p *plan) selectHTML(r *response, x extractor) (string, error) {
	doc, err := html.Parse(bytes.NewReader(r.body))
	if err != nil {
		return "", p.fail(ErrExpectation, nil, "body is not HTML to extract %s from: %v", x.htmlSrc, err)
	}
	el := cascadia.Query(doc, x.html)
	if el == nil {
		return "", p.fail(ErrExpectation, nil, "no element matches %s to extract%s", x.htmlSrc, p.capNote(r))
	}
	attr := x.attr
	if attr == "" {
		switch el.Data {
		case "input", "option", "button", "param", "data":
			attr = "value"
		case "meta":
			attr = "content"
		default:
			return strings.TrimSpace(textOf(el)), nil
		}
	}
	for _, a := range el.Attr {
		if a.Namespace == "" && a.Key == attr {
			return a.Val, nil
		}
	}
	return "", p.fail(ErrExpectation, nil, "the element %s matches has no %s attribute to extract", x.htmlSrc, attr)
}

// textOf is the text of an element and its descendants.
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
