package browser

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-rod/rod/lib/proto"

	"github.com/suitecheck/suitecheck/internal/secret"
	"github.com/suitecheck/suitecheck/internal/statedir"
)

// What a case's records keep of a page, at most: its requests for the HAR
// file and its console for the log, each also bounded in bytes, so that a
// page that polls or logs in a loop costs a bounded amount of memory.
const (
	maxEntries       = 1000
	maxEntryBytes    = 4 << 20 // the requests' kept URLs and headers, together
	maxHeaders       = 64      // per request and per response
	maxHeaderValue   = 1024
	maxURL           = 4096
	maxConsoleLines  = 1000
	maxConsoleBytes  = 1 << 20
	maxConsoleLine   = 2000
	entryBaseBytes   = 256 // an entry's cost besides its URL and headers
	consoleBaseBytes = 64
)

// recorder keeps a case's network and console, for the evidence of a
// failed case (SaveRecords). It keeps what the page sent and showed as it
// was: masking happens when it is written, with every secret known by then.
type recorder struct {
	mu        sync.Mutex
	entries   []*netEntry
	live      map[proto.NetworkRequestID]*netEntry // entries not ended yet
	dropped   int                                  // requests beyond the caps
	bytes     int
	console   []consoleLine
	conDrop   int
	conBytes  int
	startedAt time.Time // the case's start
}

// netEntry is one request and its response, as the DevTools protocol told
// them.
type netEntry struct {
	started     time.Time
	startMono   float64 // the protocol's monotonic clock, in seconds
	endMono     float64 // 0 until it ended
	method, url string
	reqHeaders  [][2]string
	reqBody     int // -1 when unknown
	kind        string
	status      int
	statusText  string
	protocol    string
	respHeaders [][2]string
	mime        string
	timing      *proto.NetworkResourceTiming
	headBytes   float64 // bytes received when the headers were in
	transfer    float64 // bytes received in all, once finished
	decoded     int     // body bytes after decoding
	redirectTo  string
	errText     string
	serverIP    string
	fromCache   bool
}

// consoleLine is a console message or an uncaught exception.
type consoleLine struct {
	at    time.Time
	level string // log, info, warning, error, debug…; "exception" for an uncaught one
	text  string
	where string // url:line, may be empty
}

func newRecorder() *recorder {
	return &recorder{live: map[proto.NetworkRequestID]*netEntry{}, startedAt: time.Now()}
}

// reset forgets everything: a case starts.
func (rc *recorder) reset() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.entries, rc.live, rc.dropped, rc.bytes = nil, map[proto.NetworkRequestID]*netEntry{}, 0, 0
	rc.console, rc.conDrop, rc.conBytes = nil, 0, 0
	rc.startedAt = time.Now()
}

func headerList(h proto.NetworkHeaders) ([][2]string, int) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	if len(names) > maxHeaders {
		names = names[:maxHeaders]
	}
	out := make([][2]string, 0, len(names))
	size := 0
	for _, k := range names {
		v := h[k].Str()
		if len(v) > maxHeaderValue {
			v = v[:maxHeaderValue]
		}
		out = append(out, [2]string{k, v})
		size += len(k) + len(v)
	}
	return out, size
}

func (rc *recorder) request(e *proto.NetworkRequestWillBeSent) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if prev := rc.live[e.RequestID]; prev != nil && e.RedirectResponse != nil {
		// The same request id goes on after a redirect: the previous
		// hop ends with the redirect's response.
		prev.response(e.RedirectResponse)
		prev.redirectTo = e.Request.URL
		prev.endMono = float64(e.Timestamp)
		delete(rc.live, e.RequestID)
	}
	u := e.Request.URL
	if len(u) > maxURL {
		u = u[:maxURL]
	}
	hs, size := headerList(e.Request.Headers)
	size += len(u) + entryBaseBytes
	if len(rc.entries) >= maxEntries || rc.bytes+size > maxEntryBytes {
		rc.dropped++
		return
	}
	rc.bytes += size
	ne := &netEntry{
		started: e.WallTime.Time(), startMono: float64(e.Timestamp),
		method: e.Request.Method, url: u, reqHeaders: hs, kind: string(e.Type),
	}
	switch {
	case e.Request.HasPostData && e.Request.PostData == "":
		ne.reqBody = -1
	default:
		ne.reqBody = len(e.Request.PostData)
	}
	rc.entries = append(rc.entries, ne)
	rc.live[e.RequestID] = ne
}

func (ne *netEntry) response(r *proto.NetworkResponse) {
	ne.status, ne.statusText, ne.mime, ne.protocol = r.Status, r.StatusText, r.MIMEType, r.Protocol
	ne.respHeaders, _ = headerList(r.Headers)
	ne.timing = r.Timing
	ne.headBytes = r.EncodedDataLength
	ne.serverIP = r.RemoteIPAddress
	ne.fromCache = r.FromDiskCache || r.FromPrefetchCache
}

func (rc *recorder) responded(e *proto.NetworkResponseReceived) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if ne := rc.live[e.RequestID]; ne != nil {
		ne.response(e.Response)
		// Response headers count against the bytes too; a response
		// beyond them keeps its status and sizes only.
		size := 0
		for _, h := range ne.respHeaders {
			size += len(h[0]) + len(h[1])
		}
		if rc.bytes+size > maxEntryBytes {
			ne.respHeaders = nil
		} else {
			rc.bytes += size
		}
	}
}

func (rc *recorder) data(e *proto.NetworkDataReceived) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if ne := rc.live[e.RequestID]; ne != nil {
		ne.decoded += e.DataLength
	}
}

func (rc *recorder) finished(e *proto.NetworkLoadingFinished) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if ne := rc.live[e.RequestID]; ne != nil {
		ne.transfer, ne.endMono = e.EncodedDataLength, float64(e.Timestamp)
		delete(rc.live, e.RequestID)
	}
}

func (rc *recorder) failed(e *proto.NetworkLoadingFailed) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if ne := rc.live[e.RequestID]; ne != nil {
		ne.errText, ne.endMono = e.ErrorText, float64(e.Timestamp)
		if e.BlockedReason != "" {
			ne.errText += " (blocked: " + string(e.BlockedReason) + ")"
		}
		delete(rc.live, e.RequestID)
	}
}

func (rc *recorder) log(l consoleLine) {
	if len(l.text) > maxConsoleLine {
		l.text = l.text[:maxConsoleLine]
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	size := len(l.text) + len(l.where) + consoleBaseBytes
	if len(rc.console) >= maxConsoleLines || rc.conBytes+size > maxConsoleBytes {
		rc.conDrop++
		return
	}
	rc.conBytes += size
	rc.console = append(rc.console, l)
}

// consoleEvent records a console message of any level.
func (rc *recorder) consoleEvent(e *proto.RuntimeConsoleAPICalled) {
	var parts []string
	for _, a := range e.Args {
		parts = append(parts, remoteText(a))
	}
	where := ""
	if e.StackTrace != nil && len(e.StackTrace.CallFrames) > 0 {
		f := e.StackTrace.CallFrames[0]
		where = fmt.Sprintf("%s:%d", f.URL, f.LineNumber+1)
	}
	level := string(e.Type)
	if level == "" {
		level = "log"
	}
	rc.log(consoleLine{at: msTime(float64(e.Timestamp)), level: level, text: strings.Join(parts, " "), where: where})
}

func (rc *recorder) exception(e *proto.RuntimeExceptionThrown) {
	d := e.ExceptionDetails
	msg := d.Text
	if d.Exception != nil {
		if t := remoteText(d.Exception); t != "" {
			msg = strings.TrimSpace(msg + " " + t)
		}
	}
	where := ""
	if d.URL != "" {
		where = fmt.Sprintf("%s:%d", d.URL, d.LineNumber+1)
	}
	rc.log(consoleLine{at: msTime(float64(e.Timestamp)), level: "exception", text: msg, where: where})
}

// The HAR 1.2 format (http://www.softwareishard.com/blog/har-12-spec/), as
// much of it as a case's evidence needs: no bodies, no cookies (their
// values are credentials), no pages.
type (
	harFile struct {
		Log harLog `json:"log"`
	}
	harLog struct {
		Version string     `json:"version"`
		Creator harCreator `json:"creator"`
		Entries []harEntry `json:"entries"`
		Comment string     `json:"comment,omitempty"`
	}
	harCreator struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	harEntry struct {
		StartedDateTime string      `json:"startedDateTime"`
		Time            float64     `json:"time"`
		Request         harRequest  `json:"request"`
		Response        harResponse `json:"response"`
		Cache           struct{}    `json:"cache"`
		Timings         harTimings  `json:"timings"`
		ServerIPAddress string      `json:"serverIPAddress,omitempty"`
		Comment         string      `json:"comment,omitempty"`
		ResourceType    string      `json:"_resourceType,omitempty"`
		TransferSize    float64     `json:"_transferSize"`
		Error           string      `json:"_error,omitempty"`
	}
	harRequest struct {
		Method      string    `json:"method"`
		URL         string    `json:"url"`
		HTTPVersion string    `json:"httpVersion"`
		Cookies     []harPair `json:"cookies"`
		Headers     []harPair `json:"headers"`
		QueryString []harPair `json:"queryString"`
		HeadersSize int       `json:"headersSize"`
		BodySize    int       `json:"bodySize"`
	}
	harResponse struct {
		Status      int        `json:"status"`
		StatusText  string     `json:"statusText"`
		HTTPVersion string     `json:"httpVersion"`
		Cookies     []harPair  `json:"cookies"`
		Headers     []harPair  `json:"headers"`
		Content     harContent `json:"content"`
		RedirectURL string     `json:"redirectURL"`
		HeadersSize int        `json:"headersSize"`
		BodySize    int        `json:"bodySize"`
	}
	harContent struct {
		Size     int    `json:"size"`
		MimeType string `json:"mimeType"`
	}
	harPair struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	// harTimings are in milliseconds; -1 for a phase that did not happen
	// (blocked, dns, connect, ssl) or is not known.
	harTimings struct {
		Blocked float64 `json:"blocked"`
		DNS     float64 `json:"dns"`
		Connect float64 `json:"connect"`
		SSL     float64 `json:"ssl"`
		Send    float64 `json:"send"`
		Wait    float64 `json:"wait"`
		Receive float64 `json:"receive"`
	}
)

// har renders the recorded requests as a HAR document, every text passed
// through mask; credentials in headers and query strings (by their names:
// Authorization, Cookie, Set-Cookie, tokens, passwords…) are masked
// whole.
func (rc *recorder) har(mask func(string) string) harFile {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	h := harFile{Log: harLog{Version: "1.2", Creator: harCreator{Name: "suitecheck", Version: buildVersion()}, Entries: []harEntry{}}}
	for _, ne := range rc.entries {
		h.Log.Entries = append(h.Log.Entries, ne.har(mask))
	}
	if rc.dropped > 0 {
		h.Log.Comment = fmt.Sprintf("%d more requests not kept (at most %d, %d MiB, per case)", rc.dropped, maxEntries, maxEntryBytes>>20)
	}
	return h
}

func (ne *netEntry) har(mask func(string) string) harEntry {
	e := harEntry{
		StartedDateTime: ne.started.UTC().Format("2006-01-02T15:04:05.000Z"),
		Request: harRequest{
			Method: ne.method, URL: maskURL(ne.url, mask), HTTPVersion: httpVersion(ne.protocol),
			Cookies: []harPair{}, Headers: maskHeaders(ne.reqHeaders, mask), QueryString: queryPairs(ne.url, mask),
			HeadersSize: -1, BodySize: ne.reqBody,
		},
		Response: harResponse{
			Status: ne.status, StatusText: mask(ne.statusText), HTTPVersion: httpVersion(ne.protocol),
			Cookies: []harPair{}, Headers: maskHeaders(ne.respHeaders, mask),
			Content:     harContent{Size: ne.decoded, MimeType: mask(ne.mime)},
			RedirectURL: maskURL(ne.redirectTo, mask), HeadersSize: -1, BodySize: -1,
		},
		ServerIPAddress: ne.serverIP,
		ResourceType:    strings.ToLower(ne.kind),
		TransferSize:    ne.transfer,
		Error:           mask(ne.errText),
	}
	if ne.transfer > 0 {
		e.Response.BodySize = max(int(ne.transfer-ne.headBytes), 0)
	}
	if ne.fromCache {
		e.Comment = "from the browser's cache"
	}
	if ne.endMono == 0 {
		e.Comment = "no end before the case ended"
	}
	t, total := ne.timings()
	e.Time = ms3(total)
	e.Timings = harTimings{Blocked: ms3(t.Blocked), DNS: ms3(t.DNS), Connect: ms3(t.Connect), SSL: ms3(t.SSL),
		Send: ms3(t.Send), Wait: ms3(t.Wait), Receive: ms3(t.Receive)}
	return e
}

// timings splits the request's time into HAR's phases from the browser's
// resource timing (milliseconds from its requestTime), as Chromium's own
// HAR export does.
func (ne *netEntry) timings() (harTimings, float64) {
	total := 0.0
	if ne.endMono > 0 {
		total = (ne.endMono - ne.startMono) * 1000
	}
	t := ne.timing
	if t == nil || t.RequestTime == 0 {
		// No network timing (a failed, cached or data: request): all of
		// it was waiting.
		return harTimings{Blocked: -1, DNS: -1, Connect: -1, SSL: -1, Wait: max(total, 0)}, max(total, 0)
	}
	ms := func(a, b float64) float64 {
		if a < 0 || b < 0 {
			return -1
		}
		return b - a
	}
	// Time from the request being sent (in the page) to the browser
	// starting its network work.
	queued := (t.RequestTime - ne.startMono) * 1000
	first := t.SendStart
	for _, v := range []float64{t.ConnectStart, t.DNSStart} {
		if v >= 0 {
			first = v
		}
	}
	h := harTimings{
		Blocked: max(queued+first, 0),
		DNS:     ms(t.DNSStart, t.DNSEnd),
		Connect: ms(t.ConnectStart, t.ConnectEnd),
		SSL:     ms(t.SslStart, t.SslEnd),
		Send:    max(t.SendEnd-t.SendStart, 0),
		Wait:    max(t.ReceiveHeadersEnd-t.SendEnd, 0),
	}
	if ne.endMono > 0 {
		h.Receive = max((ne.endMono-t.RequestTime)*1000-t.ReceiveHeadersEnd, 0)
	}
	// HAR's time is the sum of the phases (ssl is inside connect).
	sum := h.Blocked + h.Send + h.Wait + h.Receive
	for _, v := range []float64{h.DNS, h.Connect} {
		if v > 0 {
			sum += v
		}
	}
	return h, sum
}

// ms3 rounds milliseconds to microseconds, as browsers write HAR timings.
func ms3(v float64) float64 { return math.Round(v*1000) / 1000 }

// httpVersion is the protocol in HAR's words: HTTP/1.1, HTTP/2, HTTP/3.
func httpVersion(p string) string {
	switch strings.ToLower(p) {
	case "":
		return ""
	case "h2":
		return "HTTP/2"
	case "h3", "h3-29":
		return "HTTP/3"
	}
	return strings.ToUpper(p)
}

// maskHeaders masks the values of credential headers whole, and every
// secret anywhere in the others.
func maskHeaders(hs [][2]string, mask func(string) string) []harPair {
	out := make([]harPair, 0, len(hs))
	for _, h := range hs {
		v := mask(h[1])
		if secret.SensitiveName(h[0]) {
			v = secret.Placeholder
		}
		out = append(out, harPair{Name: mask(h[0]), Value: v})
	}
	return out
}

// maskURL masks a URL's password, the values of query parameters named
// like credentials, and every secret anywhere in it.
func maskURL(raw string, mask func(string) string) string {
	if raw == "" {
		return ""
	}
	base, query, hasQuery := strings.Cut(raw, "?")
	if i := strings.Index(base, "://"); i >= 0 {
		// scheme://user:password@host/…: the password goes.
		rest := base[i+3:]
		end := strings.IndexAny(rest, "/#")
		if end < 0 {
			end = len(rest)
		}
		authority := rest[:end]
		if at := strings.LastIndex(authority, "@"); at >= 0 {
			if c := strings.Index(authority[:at], ":"); c >= 0 {
				base = base[:i+3] + authority[:c+1] + secret.Placeholder + rest[at:]
			}
		}
	}
	if hasQuery {
		frag := ""
		query, frag, _ = strings.Cut(query, "#")
		parts := strings.Split(query, "&")
		for i, p := range parts {
			name, _, ok := strings.Cut(p, "=")
			if n, err := url.QueryUnescape(name); ok && err == nil && secret.SensitiveName(n) {
				parts[i] = name + "=" + secret.Placeholder
			}
		}
		base += "?" + strings.Join(parts, "&")
		if frag != "" {
			base += "#" + frag
		}
	}
	return mask(base)
}

// queryPairs are the URL's query parameters, decoded, masked as maskURL
// masks them.
func queryPairs(raw string, mask func(string) string) []harPair {
	out := []harPair{}
	_, query, ok := strings.Cut(raw, "?")
	if !ok {
		return out
	}
	query, _, _ = strings.Cut(query, "#")
	for _, p := range strings.Split(query, "&") {
		if p == "" {
			continue
		}
		name, value, _ := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if v, err := url.QueryUnescape(value); err == nil {
			value = v
		}
		if secret.SensitiveName(name) {
			value = secret.Placeholder
		}
		out = append(out, harPair{Name: mask(name), Value: mask(value)})
	}
	return out
}

// consoleLog renders the console as text, a message a line:
// `15:50:12.345 error something broke 42 (http://app/x.js:3)`, masked.
func (rc *recorder) consoleLog(mask func(string) string) string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "# console of the case since %s (UTC), a message a line\n", rc.startedAt.UTC().Format("2006-01-02 15:04:05"))
	for _, l := range rc.console {
		text := strings.Join(strings.Fields(l.text), " ") // one line
		fmt.Fprintf(&b, "%s %s %s", l.at.UTC().Format("15:04:05.000"), l.level, text)
		if l.where != "" {
			fmt.Fprintf(&b, " (%s)", l.where)
		}
		b.WriteByte('\n')
	}
	if len(rc.console) == 0 {
		b.WriteString("# (no console messages)\n")
	}
	if rc.conDrop > 0 {
		fmt.Fprintf(&b, "# %d more messages not kept (at most %d, %d MiB, per case)\n", rc.conDrop, maxConsoleLines, maxConsoleBytes>>20)
	}
	return mask(b.String())
}

// msTime is a time given in milliseconds since the epoch.
func msTime(ms float64) time.Time { return time.UnixMilli(int64(ms)) }

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// SaveRecords writes the case's network, as a HAR 1.2 file, to
// dir/prefix.har and its console messages to dir/prefix.log: every request
// since StartCase with its method, URL, status, timings and sizes (no
// bodies, no cookies), and every console message and uncaught exception.
// Secrets are masked as in SaveArtifacts (the page's own, and mask's), and
// credential headers and query parameters are masked whole. Both are
// bounded (1000 requests and 4 MiB; 1000 messages and 1 MiB), with a note
// of what was left out. dir is made and checked as SaveArtifacts does. It
// writes what it can, and returns the paths written and the errors met.
func (p *Page) SaveRecords(dir, prefix string, mask func(string) string) (harPath, logPath string, err error) {
	if prefix == "" || strings.ContainsRune(prefix, filepath.Separator) {
		return "", "", fmt.Errorf("artifacts: bad file name prefix %q", prefix)
	}
	if err := statedir.Ensure(dir, statedir.SuiteArtifacts); err != nil {
		return "", "", err
	}
	m := func(s string) string { return p.mask(s, mask) }
	var errs []error
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // URLs read as they are: & not \u0026
	enc.SetIndent("", "  ")
	jerr := enc.Encode(p.rec.har(m))
	if jerr == nil {
		path := filepath.Join(dir, prefix+".har")
		if jerr = statedir.WriteFile(path, b.Bytes(), 0o600); jerr == nil {
			harPath = path
		}
	}
	if jerr != nil {
		errs = append(errs, fmt.Errorf("artifacts: har: %w", jerr))
	}
	path := filepath.Join(dir, prefix+".log")
	if lerr := statedir.WriteFile(path, []byte(p.rec.consoleLog(m)), 0o600); lerr != nil {
		errs = append(errs, fmt.Errorf("artifacts: console log: %w", lerr))
	} else {
		logPath = path
	}
	return harPath, logPath, errors.Join(errs...)
}
