package browser

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestArtifactsHideSecrets(t *testing.T) {
	p := sharedPage(t)
	srv := newServer(t)
	ctx := context.Background()
	const token, password = "tok-9f8e7d6c5b", "pw-Sup3rSecret!"
	short := 300 * time.Millisecond

	runSteps(t, p,
		Step{Action: ActionGoto, Value: srv.URL + "/secret"},
		// A plain text field that the page mirrors into its text, an
		// attribute and the title.
		Step{Action: ActionFill, Selector: "#token", Value: token, Secret: true},
		Step{Action: ActionFill, Selector: "#pw", Value: password, Secret: true},
		Step{Action: ActionWaitText, Value: "typed tok-"},
	)

	// Failing steps: none of their errors may show a secret.
	var errs []string
	for _, s := range []Step{
		{Action: ActionWaitText, Value: "Welcome", Timeout: short},
		{Action: ActionFill, Selector: "#missing", Value: token, Secret: true, Timeout: short},
		{Action: ActionFill, Selector: "h1", Value: password, Secret: true, Timeout: short},
		{Action: ActionAssertTitle, Value: "Dashboard", Timeout: short}, // the title holds the token
	} {
		err := p.Run(ctx, s)
		if err == nil {
			t.Fatalf("%s passed", s)
		}
		errs = append(errs, err.Error())
	}
	for _, e := range errs {
		if strings.Contains(e, token) || strings.Contains(e, password) {
			t.Errorf("error shows a secret: %s", e)
		}
	}
	if want := `assert_title: got "Secret page ****", want it to contain "Dashboard"`; errs[3] != want {
		t.Errorf("error %q, want %q", errs[3], want)
	}
	// Secrets holds what was typed as secret (and what other tests typed
	// on the shared page), longest first.
	if got := p.Secrets(); !slices.Contains(got, token) || !slices.Contains(got, password) ||
		!slices.IsSortedFunc(got, func(a, b string) int { return len(b) - len(a) }) {
		t.Errorf("Secrets() = %q", got)
	}

	dir := t.TempDir()
	mask := func(s string) string { return strings.ReplaceAll(s, "Account", "Acc0unt") }
	shot, html, err := p.SaveArtifacts(ctx, dir, "20261124T155012Z-upload", mask)
	if err != nil {
		t.Fatalf("SaveArtifacts: %v", err)
	}
	if shot != filepath.Join(dir, "20261124T155012Z-upload.png") || html != filepath.Join(dir, "20261124T155012Z-upload.html") {
		t.Errorf("paths %s, %s", shot, html)
	}
	png, err := os.ReadFile(shot)
	if err != nil || !isPNG(png) {
		t.Errorf("screenshot is no PNG (%v)", err)
	}
	doc, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", "Acc0unt settings", "typed ****", `value="****"`} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("HTML lacks %q:\n%.2000s", want, doc)
		}
	}

	// Nothing written holds a secret.
	files, _ := os.ReadDir(dir)
	if len(files) != 2 {
		t.Errorf("%d files in the artifacts directory, want 2", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range []string{token, password} {
			if bytes.Contains(b, []byte(sec)) {
				t.Errorf("%s holds a secret", f.Name())
			}
		}
	}

	// The page is as it was: the fields were blanked for the screenshot only.
	if got := eval(t, p, `() => token.value + ' ' + pw.value + ' ' + mirror.textContent`); got != token+" "+password+" typed "+token {
		t.Errorf("after SaveArtifacts the page holds %q", got)
	}

	// A secret typed before is masked wherever it shows up.
	err = p.Run(ctx, Step{Action: ActionGoto, Value: "http://" + closedAddr(t) + "/?t=" + token})
	if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "?t=****") {
		t.Errorf("goto error: %v", err)
	}
}

// TestHideSecrets checks what the screenshot sees: no secret in a field or
// a text, no password at all.
func TestHideSecrets(t *testing.T) {
	p := sharedPage(t)
	srv := newServer(t)
	ctx := context.Background()
	runSteps(t, p,
		Step{Action: ActionGoto, Value: srv.URL + "/secret"},
		Step{Action: ActionFill, Selector: "#token", Value: "hide-me-please", Secret: true},
		Step{Action: ActionFill, Selector: "#pw", Value: "not-marked-secret"},
	)
	restore, err := p.hide(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := eval(t, p, `() => JSON.stringify([token.value, pw.value, mirror.textContent, document.body.innerText.includes('hide-me')])`); got != `["","","typed ****",false]` {
		t.Errorf("while hidden: %s", got)
	}
	restore()
	if got := eval(t, p, `() => JSON.stringify([token.value, pw.value, mirror.textContent])`); got != `["hide-me-please","not-marked-secret","typed hide-me-please"]` {
		t.Errorf("restored: %s", got)
	}
}

func TestSaveArtifactsBadPrefix(t *testing.T) {
	p := sharedPage(t)
	if _, _, err := p.SaveArtifacts(context.Background(), t.TempDir(), "../x", nil); err == nil {
		t.Error("a prefix with a slash was accepted")
	}
}
