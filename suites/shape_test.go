package suites

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/suitecheck/suitecheck/internal/httpstep"
)

// TestStepsDecodedAtLoad: a step's body is decoded into its kind's config
// when the file is read, and every run renders a fresh copy of it: the
// config read at load time keeps its templates, map keys are never
// rendered, and untyped values (a JSON body) are rendered deep inside.
func TestStepsDecodedAtLoad(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(`environments: {e: {base_url: "https://x"}}
suites:
  s:
    cases:
      - name: a
        steps:
          - http:
              url: "{{.BaseURL}}/users/{{.Vars.id}}"
              headers: {X-Id: "{{.Vars.id}}"}
              json: {user: {id: "{{.Vars.id}}", tags: ["{{.Vars.id}}", 7]}}
              expect: {status: 200, json: {"$.{{.Vars.id}}": "{{.Vars.id}}"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	st := cfg.Suites["s"].Cases[0].Steps[0]
	typed, ok := st.step.(*typedStep[httpstep.Step])
	if !ok {
		t.Fatalf("after Parse the step is %T, want its typed config", st.step)
	}
	before := typed.v.URL
	for _, id := range []string{"17", "42"} {
		sc := &Scope{BaseURL: "https://x", Vars: map[string]string{"id": id}}
		got, err := renderValue(sc, typed.v)
		if err != nil {
			t.Fatal(err)
		}
		if got.URL != "https://x/users/"+id || got.Headers["X-Id"] != id {
			t.Errorf("rendered url %q, header %q; want id %s", got.URL, got.Headers["X-Id"], id)
		}
		want := map[string]any{"user": map[string]any{"id": id, "tags": []any{id, 7}}}
		if !reflect.DeepEqual(got.JSON, want) {
			t.Errorf("rendered json %#v, want %#v", got.JSON, want)
		}
		if v, ok := got.Expect.JSON["$.{{.Vars.id}}"]; !ok || v != id {
			t.Errorf("expect json %v: keys must stay as written, values rendered", got.Expect.JSON)
		}
	}
	if typed.v.URL != before || !strings.Contains(typed.v.Headers["X-Id"], "{{") ||
		!strings.Contains(typed.v.JSON.(map[string]any)["user"].(map[string]any)["tags"].([]any)[0].(string), "{{") {
		t.Errorf("rendering changed the config read at load time: %+v", typed.v)
	}
}

// TestRenderValueErrors: a template naming a missing value is an error of
// the run, wherever it stands.
func TestRenderValueErrors(t *testing.T) {
	type inner struct{ S []string }
	type cfg struct {
		A string
		M map[string]any
		P *inner
	}
	sc := &Scope{Vars: map[string]string{}}
	for _, v := range []cfg{
		{A: "{{.Vars.nope}}"},
		{M: map[string]any{"k": []any{map[string]any{"x": "{{.Vars.nope}}"}}}},
		{P: &inner{S: []string{"ok", "{{.Vars.nope}}"}}},
	} {
		if _, err := renderValue(sc, v); err == nil || !strings.Contains(err.Error(), "nope") {
			t.Errorf("renderValue(%+v) = %v, want an error naming the missing value", v, err)
		}
	}
}

// TestStepTimeoutDefault: every kind of step that sets no timeout gets the
// one default at load; one that sets it keeps it.
func TestStepTimeoutDefault(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(`environments: {e: {base_url: "https://x"}}
suites:
  s:
    cases:
      - name: a
        steps:
          - http: {url: "https://x"}
          - sql: {dsn: x, query: SELECT 1}
          - check_postgres: {dsn: x}
          - wait_text: hello
          - http: {url: "https://x", timeout: 3s}
`))
	if err != nil {
		t.Fatal(err)
	}
	steps := cfg.Suites["s"].Cases[0].Steps
	for i, want := range []time.Duration{defaultStepTimeout, defaultStepTimeout, defaultStepTimeout, defaultStepTimeout, 3 * time.Second} {
		v := reflect.ValueOf(steps[i].step).Elem().FieldByName("v").FieldByName("Timeout")
		if got := time.Duration(v.Int()); got != want {
			t.Errorf("step %d (%s): timeout %s, want %s", i+1, steps[i].Kind, got, want)
		}
	}
}
