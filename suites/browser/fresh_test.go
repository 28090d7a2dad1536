package browser

import (
	"context"
	"slices"
	"testing"

	"github.com/go-rod/rod/lib/proto"
)

// TestFresh: after Fresh, the page is signed out (no cookie), its storage
// is empty, the old tab and context are gone, and the secrets the old page
// learnt are still masked. For a launched browser and a remote one.
func TestFresh(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	local := launch(t, Options{})
	for _, tt := range []struct {
		name string
		b    func(t *testing.T) *Browser
	}{
		{"launched", func(*testing.T) *Browser { return local }},
		{"remote", func(t *testing.T) *Browser { return launch(t, Options{RemoteURL: local.ControlURL()}) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, err := proto.TargetGetBrowserContexts{}.Call(local.rod)
			if err != nil {
				t.Fatal(err)
			}
			b := tt.b(t)
			p, err := b.Page(ctx)
			if err != nil {
				t.Fatal(err)
			}
			runSteps(t, p,
				Step{Action: ActionGoto, Value: srv.URL + "/login"},
				Step{Action: ActionFill, Selector: "#user", Value: "alice"},
				Step{Action: ActionFill, Selector: "#password", Value: "pa55word!", Secret: true},
				Step{Action: ActionClick, Selector: "#submit"},
				Step{Action: ActionWaitText, Value: "Welcome alice"},
			)
			eval(t, p, `() => { localStorage.setItem("k", "kept"); sessionStorage.setItem("k", "kept"); return "" }`)
			oldTarget := p.rp.TargetID

			np, err := p.Fresh(ctx)
			if err != nil {
				t.Fatalf("Fresh: %v", err)
			}
			if p.Alive() || !np.Alive() {
				t.Errorf("alive: old %v, new %v; want the old page retired", p.Alive(), np.Alive())
			}
			if got, _ := b.Page(ctx); got != np {
				t.Error("the browser's page is not the fresh one")
			}
			runSteps(t, np,
				Step{Action: ActionGoto, Value: srv.URL + "/dashboard"},
				Step{Action: ActionAssertURL, Value: "/login"},
			)
			if got := eval(t, np, `() => String(localStorage.getItem("k")) + "," + String(sessionStorage.getItem("k"))`); got != "null,null" {
				t.Errorf("storage after Fresh: %s", got)
			}
			if m := np.mask("typed pa55word!"); m != "typed ****" {
				t.Errorf("the old page's secret is no longer masked: %q", m)
			}
			res, err := proto.TargetGetTargets{}.Call(local.rod)
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(res.TargetInfos, func(ti *proto.TargetTargetInfo) bool { return ti.TargetID == oldTarget }) {
				t.Error("the old tab is still open")
			}
			// A second Fresh works the same (it disposes of the first's context).
			np2, err := np.Fresh(ctx)
			if err != nil {
				t.Fatalf("second Fresh: %v", err)
			}
			runSteps(t, np2, Step{Action: ActionGoto, Value: srv.URL + "/dashboard"}, Step{Action: ActionAssertURL, Value: "/login"})
			if tt.name == "remote" {
				if err := b.Close(); err != nil {
					t.Fatal(err)
				}
				ctxs, err := proto.TargetGetBrowserContexts{}.Call(local.rod)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ctxs.BrowserContextIDs, before.BrowserContextIDs) {
					t.Errorf("browser contexts of the shared browser: %v, before %v", ctxs.BrowserContextIDs, before.BrowserContextIDs)
				}
			}
		})
	}
}
