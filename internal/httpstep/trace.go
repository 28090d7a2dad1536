package httpstep

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/suitecheck/suitecheck/internal/secret"
)

// Trace levels: what a Client tells Options.Trace.
const (
	// TraceRequests is a line per request: method, path, status, size,
	// time (suitecheck -vv).
	TraceRequests = 2
	// TraceWire is the wire: the request's and the response's headers and
	// the start of their bodies (suitecheck -vvv).
	TraceWire = 3
)

// traceBody bounds the body excerpt a wire trace shows.
const traceBody = 1024

// tracer of a request: the lines it gives Options.Trace, masked.
type traceLog struct {
	fn    func(level int, line string)
	level int
}

func (t traceLog) on(level int) bool { return t.fn != nil && t.level >= level }

func (t traceLog) line(level int, m *masker, format string, args ...any) {
	if t.on(level) {
		t.fn(level, m.mask(oneLine(fmt.Sprintf(format, args...))))
	}
}

// request traces a request about to be sent.
func (t traceLog) request(m *masker, req *http.Request, body []byte) {
	if !t.on(TraceWire) {
		return
	}
	t.line(TraceWire, m, "> %s %s", req.Method, traceURL(req.URL))
	if req.Host != "" && req.Host != req.URL.Host {
		t.line(TraceWire, m, "> Host: %s", req.Host)
	}
	t.headers(m, ">", req.Header)
	if len(body) > 0 {
		t.line(TraceWire, m, "> %s", wireBody(m, body, false))
	}
}

// response traces the response to a request, or the error instead.
func (t traceLog) response(m *masker, method, rawURL string, resp *http.Response, body []byte, truncated bool, took time.Duration, why string) {
	if !t.on(TraceRequests) {
		return
	}
	where := method + " " + pathOf(rawURL)
	switch {
	case resp == nil:
		t.line(TraceRequests, m, "http %s: no response after %s: %s", where, secs(took), why)
		return
	default:
		more := ""
		if truncated {
			more = " (more not read)"
		}
		t.line(TraceRequests, m, "http %s: %s, %s%s in %s", where, resp.Status, byteSize(int64(len(body))), more, secs(took))
	}
	if !t.on(TraceWire) {
		return
	}
	t.line(TraceWire, m, "< %s %s", resp.Proto, resp.Status)
	t.headers(m, "<", resp.Header)
	if len(body) > 0 {
		// A reply's JSON values under names such as password are secrets.
		bm := m
		if doc, err := (&response{body: body}).json(); err == nil {
			var found []string
			jsonSecrets(doc, false, func(s string) { found = append(found, s) })
			if len(found) > 0 {
				bm = newMasker(append(found, m.m.Secrets()...))
			}
		}
		t.line(TraceWire, bm, "< %s", wireBody(bm, body, truncated))
	}
}

// headers traces headers in order, a credential's value replaced whole.
func (t traceLog) headers(m *masker, dir string, h http.Header) {
	for _, name := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[name] {
			if SensitiveName(name) || strings.EqualFold(name, "Set-Cookie") {
				v = secret.Placeholder
			}
			t.line(TraceWire, m, "%s %s: %s", dir, name, v)
		}
	}
}

// traceURL is a URL as a trace shows it: no user info, and the values of
// query parameters named like credentials replaced.
func traceURL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q := c.Query()
		for k, vs := range q {
			if SensitiveName(k) {
				for i := range vs {
					vs[i] = secret.Placeholder
				}
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// wireBody is the start of a body, masked and quoted.
func wireBody(m *masker, body []byte, truncated bool) string {
	size := byteSize(int64(len(body)))
	more := truncated || len(body) > traceBody
	if len(body) > traceBody {
		body = body[:traceBody]
	}
	s := m.mask(string(body))
	if more {
		s = s[:len(s)-m.m.PartialTail(s)]
	}
	q := fmt.Sprintf("%q", strings.ToValidUTF8(s, "\uFFFD"))
	if more {
		q += "…"
	}
	return fmt.Sprintf("body %s %s", size, q)
}

// secs writes a duration as a trace does: 0.034s.
func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
