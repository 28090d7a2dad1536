package browser

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// helperEnv makes the test binary a helper that launches a browser, writes
// "pid tmpdir" to the file the variable names, and waits to be killed.
const helperEnv = "SUITECHECK_BROWSER_HELPER_OUT"

func TestMain(m *testing.M) {
	if out := os.Getenv(helperEnv); out != "" {
		os.Exit(helper(out))
	}
	code := m.Run()
	if shared.b != nil {
		if err := shared.b.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close shared browser:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func helper(out string) int {
	ctx := context.Background()
	b, err := Launch(ctx, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	p, err := b.Page(ctx)
	if err == nil {
		err = p.Run(ctx, Step{Action: ActionGoto, Value: "about:blank"})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	if err := os.WriteFile(out+".tmp", fmt.Appendf(nil, "%d %s\n", b.PID(), b.tmp), 0o600); err != nil {
		return 3
	}
	if err := os.Rename(out+".tmp", out); err != nil {
		return 3
	}
	select {} // until SIGKILL
}

// shared is the browser and page most tests use: one launch for all.
var shared struct {
	once sync.Once
	b    *Browser
	p    *Page
	err  error
}

// sharedPage returns the shared page, failing the test (never skipping it)
// when no browser can be launched.
func sharedPage(t *testing.T) *Page {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		shared.b, shared.err = Launch(ctx, Options{})
		if shared.err == nil {
			shared.p, shared.err = shared.b.Page(ctx)
		}
	})
	if shared.err != nil {
		t.Fatalf("launch the shared browser: %v", shared.err)
	}
	return shared.p
}

// launch starts a browser of the test's own, closed at the end of the test.
func launch(t *testing.T, o Options) *Browser {
	t.Helper()
	if o.Logf == nil {
		o.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Launch(ctx, o)
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// runSteps runs steps on p, failing the test on the first error.
func runSteps(t *testing.T, p *Page, steps ...Step) {
	t.Helper()
	for _, s := range steps {
		if err := p.Run(context.Background(), s); err != nil {
			t.Fatalf("%v", err)
		}
	}
}

// eval evaluates a JS function on p and returns its value as a string.
func eval(t *testing.T, p *Page, js string, args ...any) string {
	t.Helper()
	res, err := p.rp.Context(context.Background()).Eval(js, args...)
	if err != nil {
		t.Fatalf("eval %s: %v", js, err)
	}
	if s, ok := res.Value.Val().(string); ok {
		return s
	}
	return res.Value.JSON("", "")
}

// pages are the test app's pages.
var pages = map[string]string{
	"/": `<!DOCTYPE html><title>Home</title><h1>Home page</h1>`,

	"/roles": rolesPage,

	// A page whose upload (an XHR) gets a 500, and one whose fetch finds
	// nothing listening.
	"/xhr-fails": `<!DOCTYPE html><title>Upload</title><h1>Upload</h1><div id="out"></div><input type="hidden" id="token" value="">
<script>setTimeout(() => { fetch('/api/fail', {method: 'POST', body: 'x'}) }, 100);</script>`,
	"/fetch-refused": `<!DOCTYPE html><title>Refused</title><h1>Refused</h1>
<script>setTimeout(() => { fetch('http://CLOSED/nothing').catch(() => {}) }, 100);</script>`,

	"/widgets": `<!DOCTYPE html><title>Widgets</title>
<button id="send" onclick="setTimeout(() => { out.textContent = 'sent!' }, 100)">Send</button>
<div id="out"></div>
<button id="hidden" style="display:none">Hidden</button>
<button id="disabled" disabled>Disabled</button>
<div style="position:relative;width:200px"><button id="covered">Covered</button>
  <div id="overlay" style="position:absolute;inset:0;background:rgba(0,0,0,.2)"></div></div>
<input id="fullname" type="text" value="old"><div id="echo"></div>
<input id="ro" readonly value="fixed">
<div id="editor" contenteditable="true">draft</div>
<select id="color" onchange="colorOut.textContent = 'color=' + this.value">
  <option value="r">Red</option><option value="g">Green</option><option value="b">Blue</option></select>
<div id="colorOut"></div>
<input type="checkbox" id="agree"><div id="agreeOut"></div>
<form id="search" onsubmit="event.preventDefault(); result.textContent = 'searched ' + q.value">
  <input id="q" name="q"></form><div id="result"></div>
<input type="file" id="file"><ul id="files"></ul>
<div id="later" style="display:none">Later</div>
<div id="spinner">Loading…</div>
<div id="stays">Stays</div>
<div id="delayed"></div>
<input type="hidden" id="token" value=""><div id="job" data-state="running"></div>
<style>html { scroll-behavior: smooth } @keyframes slide { from { transform: translateX(0) } to { transform: translateX(300px) } }</style>
<button id="moving" style="animation: slide 0.5s linear infinite">Moving</button>
<button id="slidein" style="animation: slide 0.3s linear 1 reverse both" onclick="out.textContent = 'slid in'">Slides in</button>
<div style="height: 3000px"></div>
<button id="far" onclick="out.textContent = 'far clicked after ' + scrolls + ' scroll event(s)'">Far below</button>
<script>
let changes = 0, scrolls = 0;
addEventListener('scroll', () => { scrolls++; });
agree.addEventListener('change', () => { changes++; agreeOut.textContent = 'agree=' + agree.checked + ' changes=' + changes; });
fullname.addEventListener("input", () => { echo.textContent = "Hello " + fullname.value; });
file.addEventListener('change', async () => {
  for (const f of file.files) {
    const li = document.createElement('li');
    li.textContent = f.name + ': ' + (await f.text());
    files.append(li);
  }
});
setTimeout(() => { later.style.display = 'block' }, 200);
setTimeout(() => { spinner.remove() }, 200);
setTimeout(() => { delayed.textContent = 'delayed text' }, 150);
setTimeout(() => { token.value = 'tok-123' }, 150);
setTimeout(() => { job.dataset.state = 'done' }, 150);
</script>`,

	"/login": `<!DOCTYPE html><title>Login</title>
<form method="post" action="/login">
  <input id="user" name="user"><input id="password" name="password" type="password">
  <button id="submit">Sign in</button></form>`,

	"/noisy": `<!DOCTYPE html><title>Noisy</title><div id="st"></div><div id="st2"></div>
<script>
console.error('something broke', 42);
console.log('just chatter');
setTimeout(() => { throw new Error('boom') }, 0);
fetch('/api/fail').then((r) => { st.textContent = 'fetched ' + r.status; });
fetch('http://CLOSED/nothing').catch(() => { st2.textContent = 'network error'; });
</script>`,

	"/secret": `<!DOCTYPE html><title>Secret page</title><h1>Account settings</h1>
<input id="token" type="text"><input id="pw" type="password"><div id="mirror"></div>
<script>
token.addEventListener('input', () => {
  mirror.textContent = 'typed ' + token.value;
  token.setAttribute('value', token.value);
  document.title = 'Secret page ' + token.value;
});
</script>`,
}

// newServer serves the test app. Requests to /slow hang until the test
// ends.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	closed := closedAddr(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		page, ok := pages[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			page = `<!DOCTYPE html><title>Not here</title>nothing here`
		}
		page = strings.ReplaceAll(page, "CLOSED", closed)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `<!DOCTYPE html><title>Broken</title>server error`)
	})
	mux.HandleFunc("/api/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: r.FormValue("user"), Path: "/"})
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
	})
	mux.HandleFunc("/dashboard", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("session")
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		fmt.Fprintf(w, `<!DOCTYPE html><title>Dashboard</title><p>Welcome %s</p>`, strings.ReplaceAll(c.Value, "<", ""))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs first: lets /slow return
	return srv
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
