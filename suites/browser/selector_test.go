package browser

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSelector(t *testing.T) {
	sub := func(v string) *textMatch { return &textMatch{Mode: matchSub, Value: v} }
	exact := func(v string) *textMatch { return &textMatch{Mode: matchExact, Value: v} }
	tests := []struct {
		in   string
		want selector
		err  string // the whole error, when it fails
	}{
		{in: "#send", want: selector{Engine: engineCSS, CSS: "#send"}},
		{in: "form button[type=submit]", want: selector{Engine: engineCSS, CSS: "form button[type=submit]"}},
		{in: `input[name="a=b"]`, want: selector{Engine: engineCSS, CSS: `input[name="a=b"]`}},
		{in: "#a[", want: selector{Engine: engineCSS, CSS: "#a["}}, // the browser judges CSS
		{in: "css=#send", want: selector{Engine: engineCSS, CSS: "#send"}},
		{in: "css=text=x", want: selector{Engine: engineCSS, CSS: "text=x"}},
		{in: "text=Add file", want: selector{Engine: engineText, Text: sub("Add file")}},
		{in: "text=  Add \n\t file ", want: selector{Engine: engineText, Text: sub("Add file")}},
		{in: `text="Add file"`, want: selector{Engine: engineText, Text: exact("Add file")}},
		{in: `text=' Add  file '`, want: selector{Engine: engineText, Text: exact("Add file")}},
		{in: `text="say \"hi\""`, want: selector{Engine: engineText, Text: exact(`say "hi"`)}},
		{in: `text=/add\s+file/i`, want: selector{Engine: engineText, Text: &textMatch{Mode: matchRegexp, Value: `add\s+file`, Flags: "i"}}},
		{in: `text=/a[/]b/`, want: selector{Engine: engineText, Text: &textMatch{Mode: matchRegexp, Value: `a[/]b`}}},
		{in: "role=button", want: selector{Engine: engineRole, Role: "button"}},
		{in: `role=button[name="Add"]`, want: selector{Engine: engineRole, Role: "button", Name: sub("Add")}},
		{in: `role=button[name="Add"i]`, want: selector{Engine: engineRole, Role: "button", Name: sub("Add")}},
		{in: `role=button[name="Add file"s]`, want: selector{Engine: engineRole, Role: "button", Name: exact("Add file")}},
		{in: `role=button[name=""s]`, want: selector{Engine: engineRole, Role: "button", Name: exact("")}},
		{in: `role=button [ name = /^add/i ] [disabled=false]`, want: selector{Engine: engineRole, Role: "button",
			Name: &textMatch{Mode: matchRegexp, Value: "^add", Flags: "i"}, Disabled: "false"}},
		{in: "role=heading[level=2]", want: selector{Engine: engineRole, Role: "heading", Level: 2}},
		{in: "role=checkbox[checked]", want: selector{Engine: engineRole, Role: "checkbox", Checked: "true"}},
		{in: `role=checkbox[checked="mixed"]`, want: selector{Engine: engineRole, Role: "checkbox", Checked: "mixed"}},
		{in: "role=button[pressed=false][expanded=true]", want: selector{Engine: engineRole, Role: "button", Pressed: "false", Expanded: "true"}},
		{in: "role=option[selected][include-hidden]", want: selector{Engine: engineRole, Role: "option", Selected: "true", IncludeHidden: true}},

		{in: "", err: "empty selector"},
		{in: "  ", err: "empty selector"},
		{in: "css=", err: "css= needs a CSS selector"},
		{in: "text=", err: "text= needs a text"},
		{in: "text=   ", err: "text= needs a text"},
		{in: `text="  "`, err: "text= needs a text, not only spaces"},
		{in: `text="Add file`, err: "unclosed quote \""},
		{in: `text="Add" file`, err: `unexpected "file" after the closing quote`},
		{in: `text="a >> b"`, want: selector{Engine: engineText, Text: exact("a >> b")}},
		{in: `text="a" >> b`, err: "chained selectors (>>) are not supported"},
		{in: "text=a\t>>\tb", err: "chained selectors (>>) are not supported"},
		{in: `text=/add`, err: "unclosed regexp: end it with /"},
		{in: `text=/add/g`, err: `regexp flag 'g': use i, m, s or u`},
		{in: `text=/a(/`, err: "bad regexp /a(/: missing closing ): `a(`"},
		{in: `text=/(?=x)/`, err: "bad regexp /(?=x)/: invalid or unsupported Perl syntax: `(?=`"},
		{in: `text=//`, err: "empty regexp //"},
		{in: "text=Add >> css=button", err: "chained selectors (>>) are not supported"},
		{in: "xpath=//button", err: `unknown selector engine "xpath": write CSS, or css=, text= or role=`},
		{in: "role=", err: "role= needs a role, e.g. role=button"},
		{in: "role=buton", err: `unknown role "buton" (did you mean button?)`},
		{in: "role=widget", err: `unknown role "widget": use an ARIA role such as button, link, textbox, checkbox, heading`},
		{in: "role=button name", err: `unexpected "name" after the role: attributes go in [ ], e.g. role=button[name="Add"]`},
		{in: `role=button[name="Add"`, err: `attribute "name": missing ]`},
		{in: `role=button[name="Add]`, err: "attribute name: unclosed quote \""},
		{in: `role=button[name=Add]`, err: `attribute name: quote the name, e.g. [name="Add"], or give a /regexp/`},
		{in: `role=button[name=""]`, err: `attribute name: an empty name matches anything: leave [name] out, or write [name=""s] for no name`},
		{in: `role=button[name]`, err: `attribute "name" needs a value, e.g. [name="Add"]`},
		{in: `role=button[label="Add"]`, err: `unknown attribute "label": use name, checked, disabled, expanded, include-hidden, level, pressed or selected`},
		{in: `role=button[]`, err: "an attribute name is missing after ["},
		{in: `role=button[disabled][disabled]`, err: `attribute "disabled" given twice`},
		{in: `role=button[checked]`, err: `attribute "checked" does not apply to role button (only to checkbox, menuitemcheckbox, menuitemradio, option, radio, switch, treeitem)`},
		{in: `role=heading[level=0]`, err: `attribute level: "0" is not a level: give a number from 1, e.g. [level=2]`},
		{in: `role=heading[level=two]`, err: `attribute level: "two" is not a level: give a number from 1, e.g. [level=2]`},
		{in: `role=heading[level]`, err: `attribute "level" needs a value, e.g. [level=2]`},
		{in: `role=button[disabled=yes]`, err: `attribute disabled: "yes": use true or false`},
		{in: `role=checkbox[checked=half]`, err: `attribute checked: "half": use true, false or mixed`},
		{in: `role=button[disabled`, err: `attribute "disabled": missing ]`},
		{in: `role=button[disabled=true`, err: `attribute "disabled": missing ]`},
	}
	for _, tt := range tests {
		got, err := parseSelector(tt.in)
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("parseSelector(%q) error = %v, want %q", tt.in, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("parseSelector(%q): %v", tt.in, err)
		case tt.err == "" && !reflect.DeepEqual(got, tt.want):
			t.Errorf("parseSelector(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// Validate refuses a bad selector with the step and the selector named.
func TestValidateSelector(t *testing.T) {
	for _, tt := range []struct {
		step Step
		want string
	}{
		{Step{Action: ActionClick, Selector: "role=buton"}, `click: selector "role=buton": unknown role "buton" (did you mean button?)`},
		{Step{Action: ActionClick, Selector: `role=button[name="Add]`}, `click: selector 'role=button[name="Add]': attribute name: unclosed quote "`},
		{Step{Action: ActionWaitText, Value: "x", Selector: "text="}, `wait_text: selector "text=": text= needs a text`},
		{Step{Action: ActionPress, Value: "Enter", Selector: "xpath=//a"}, `press: selector "xpath=//a": unknown selector engine "xpath": write CSS, or css=, text= or role=`},
	} {
		if err := tt.step.Validate(); err == nil || err.Error() != tt.want {
			t.Errorf("%+v: Validate() = %v, want %q", tt.step, err, tt.want)
		}
	}
	s := Step{Action: ActionClick, Selector: `role=button[name="Add"]`}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), `click 'role=button[name="Add"]'`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}

// FuzzParseSelector: parsing never panics, and what it accepts reads back
// from its canonical form to the same selector, which survives JSON (the
// way it reaches the page).
func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{
		"#send", "css=#a", "text=Add file", `text="Add file"`, `text=/a\/b[/]c/i`, `role=button[name="Add"s]`,
		`role=heading[level=2][name=/x/]`, `role=checkbox[checked=mixed][include-hidden]`, `role=button[name='a\'b']`,
		"text=\u00a0x\u3000y", `role=option[selected="true"][disabled]`, "xpath=//a", `text="a`, "role=tab[selected=false]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		sel, err := parseSelector(in)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("parseSelector(%q): a multi-line error %q", in, err)
			}
			return
		}
		canon := sel.String()
		again, err := parseSelector(canon)
		if err != nil {
			t.Fatalf("parseSelector(%q) = %+v, whose form %q does not parse: %v", in, sel, canon, err)
		}
		if !reflect.DeepEqual(again, sel) {
			t.Fatalf("parseSelector(%q) = %+v; its form %q reads as %+v", in, sel, canon, again)
		}
		b, err := json.Marshal(sel)
		if err != nil {
			t.Fatal(err)
		}
		var back selector
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, sel) {
			t.Fatalf("JSON %s reads back as %+v (%v)", b, back, err)
		}
		if sel.Engine == engineText && sel.Text.Mode != matchRegexp && sel.Text.Value != normSpace(sel.Text.Value) {
			t.Errorf("text %q is not normalised", sel.Text.Value)
		}
	})
}

// rolesPage exercises the resolver: texts, implicit and explicit roles,
// accessible names from every source, states.
const rolesPage = `<!DOCTYPE html><title>Roles</title>
<nav id="nav"><a id="home" href="/">Home</a> <a id="nolink">Not a link</a></nav>
<main>
<h1 id="h1">Files</h1>
<h2 id="h2">Add   a file</h2>
<div role="heading" aria-level="3" id="h3">Third</div>
<button id="add" onclick="result.textContent = 'added!'">Add file</button>
<button id="add2"><span>Add</span> <b>file</b> now</button>
<button id="icon" aria-label="Close dialog">×</button>
<button id="lb" aria-labelledby="lbl1 lbl2">x</button><span id="lbl1">Save</span> <span id="lbl2">draft</span>
<input id="submit" type="submit" value="Send it">
<input id="reset" type="reset">
<div role="button" id="divbtn" tabindex="0">Custom</div>
<button id="dis" disabled>Disabled one</button>
<button id="pressed" aria-pressed="true">Bold</button>
<button id="exp" aria-expanded="false">Menu</button>
<button id="hiddenbtn" style="display:none">Add hidden</button>
<div aria-hidden="true"><button id="ariahidden">Add aria hidden</button></div>
<label for="email">E-mail address</label><input id="email" type="email">
<label>Password <input id="pw" type="password"></label>
<input id="search" type="search" placeholder="Search files">
<textarea id="notes" title="Notes"></textarea>
<input id="agree" type="checkbox" checked aria-label="Agree"><input id="news" type="checkbox"><label for="news">Newsletter</label>
<input id="r1" type="radio" name="plan" value="a"><label for="r1">Basic</label>
<select id="plan" aria-label="Plan"><option id="o1">Free</option><option id="o2" selected>Pro</option></select>
<img id="logo" width="10" height="10" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="Company logo"><img id="deco" src="data:," alt="">
<ul><li id="li1">One</li><li id="li2">Two</li></ul>
<dialog open id="dlg">Dialog text</dialog>
<div role="tab" id="tab1" aria-selected="true">First tab</div>
<p id="para">Some <em>emphasised</em> words and a <span id="deep">deep   text</span>.</p>
<p id="upper" style="text-transform: uppercase">shouted</p>
<div id="result"></div>
<div id="later" hidden>Shown later</div>
<script>setTimeout(() => { later.hidden = false }, 150)</script>
</main>`

func TestResolveSelector(t *testing.T) {
	p := sharedPage(t)
	srv := newServer(t)
	runSteps(t, p, Step{Action: ActionGoto, Value: srv.URL + "/roles"})
	idsJS := withResolver(`(sel) => {
		const r = find(sel, false);
		return r.invalid ? 'invalid' : r.els.map((e) => e.id || e.localName).join(',');
	}`)
	for _, tt := range []struct{ sel, want string }{
		{"#add", "add"},
		{"css=#add, #add2", "add,add2"},
		{"#a[", "invalid"},
		{"text=Add file", "add,add2"},
		{"text=add FILE", "add,add2"},
		{`text="Add file"`, "add"},
		{`text="add file"`, ""},
		{`text=/add\s+a\s+file/i`, "h2"},
		{"text=deep text", "deep"},
		{"text=Send it", "submit"},
		{"text=shouted", "upper"},
		{"text=Add hidden", ""},
		{"role=button", "add,add2,icon,lb,submit,reset,divbtn,dis,pressed,exp"},
		{`role=button[name="add"]`, "add,add2"},
		{`role=button[name="Add file"s]`, "add"},
		{`role=button[name="add file"s]`, ""},
		{`role=button[name=/^add/i]`, "add,add2"},
		{`role=button[name="Close dialog"]`, "icon"},
		{`role=button[name="Save draft"s]`, "lb"},
		{`role=button[name="Send it"]`, "submit"},
		{`role=button[name="Reset"s]`, "reset"},
		{`role=button[name="Custom"]`, "divbtn"},
		{`role=button[disabled]`, "dis"},
		{`role=button[name="Disabled"][disabled=false]`, ""},
		{`role=button[pressed]`, "pressed"},
		{`role=button[expanded=false]`, "exp"},
		{`role=button[name="Add"][include-hidden]`, "add,add2,hiddenbtn,ariahidden"},
		{"role=link", "home"},
		{`role=link[name="Home"s]`, "home"},
		{"role=navigation", "nav"},
		{"role=heading", "h1,h2,h3"},
		{"role=heading[level=2]", "h2"},
		{"role=heading[level=3]", "h3"},
		{`role=heading[name="Files"s]`, "h1"},
		{`role=textbox[name="E-mail"]`, "email"},
		{`role=textbox[name="Password"s]`, "pw"},
		{`role=searchbox[name="Search files"]`, "search"},
		{`role=textbox[name="Notes"]`, "notes"},
		{"role=checkbox[checked]", "agree"},
		{"role=checkbox[checked=false]", "news"},
		{`role=checkbox[name="Newsletter"]`, "news"},
		{`role=radio[name="Basic"]`, "r1"},
		{`role=combobox[name="Plan"]`, "plan"},
		{"role=option[selected]", "o2"},
		{`role=img[name="Company logo"]`, "logo"},
		{"role=listitem", "li1,li2"},
		{"role=dialog", "dlg"},
		{"role=tab[selected]", "tab1"},
		{"role=paragraph", "para,upper"},
	} {
		sel, err := parseSelector(tt.sel)
		if err != nil {
			t.Errorf("%s: %v", tt.sel, err)
			continue
		}
		if got := eval(t, p, idsJS.For(sel), sel); got != tt.want {
			t.Errorf("%s matches %q, want %q", tt.sel, got, tt.want)
		}
	}
}

// Steps find their elements by text and role as by CSS.
func TestStepsBySelector(t *testing.T) {
	p := sharedPage(t)
	srv := newServer(t)
	short := time.Second
	tests := []struct {
		name    string
		step    Step
		wantErr string
		js      string // a function that must return 'true' after the step
	}{
		{name: "click by role", step: Step{Action: ActionClick, Selector: `role=button[name="Add file"s]`}, js: `() => String(result.textContent === 'added!')`},
		{name: "click by text", step: Step{Action: ActionClick, Selector: `text="Add file"`}, js: `() => String(result.textContent === 'added!')`},
		{name: "fill by label", step: Step{Action: ActionFill, Selector: `role=textbox[name="E-mail address"]`, Value: "a@example.com"},
			js: `() => String(email.value === 'a@example.com')`},
		{name: "check by name", step: Step{Action: ActionCheck, Selector: `role=checkbox[name="Newsletter"]`}, js: `() => String(news.checked)`},
		{name: "select by role", step: Step{Action: ActionSelect, Selector: `role=combobox[name="Plan"]`, Value: "Free"}, js: `() => String(plan.value === 'Free')`},
		{name: "press in role", step: Step{Action: ActionPress, Selector: "role=searchbox", Value: "x"}, js: `() => String(document.activeElement === search)`},
		{name: "wait_visible by text", step: Step{Action: ActionWaitVisible, Selector: "text=Shown later"}},
		{name: "wait_gone by role", step: Step{Action: ActionWaitGone, Selector: `role=button[name="Add hidden"]`}},
		{name: "wait_text in role", step: Step{Action: ActionWaitText, Selector: "role=heading[level=1]", Value: "Files"}},
		{name: "assert_value by role", step: Step{Action: ActionAssertValue, Selector: `role=button[name="Send"]`, Value: "Send it"}},
		{name: "click no match", step: Step{Action: ActionClick, Selector: `role=button[name="Nope"]`, Timeout: short},
			wantErr: `click 'role=button[name="Nope"]': no element matches within 1s`},
		{name: "click disabled by role", step: Step{Action: ActionClick, Selector: `role=button[name="Disabled one"]`, Timeout: short},
			wantErr: `click 'role=button[name="Disabled one"]': still disabled after 1s`},
		{name: "wait_visible invalid css", step: Step{Action: ActionWaitVisible, Selector: "#a[", Timeout: short},
			wantErr: `wait_visible "#a[": invalid selector`},
		{name: "wait_text invalid css", step: Step{Action: ActionWaitText, Selector: "#a[", Value: "x", Timeout: short},
			wantErr: `wait_text "x" in "#a[": invalid selector`},
		{name: "wait_value invalid css", step: Step{Action: ActionWaitValue, Selector: "#a[", Value: "x", Timeout: short},
			wantErr: `wait_value "x" in "#a[": invalid selector`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, p, Step{Action: ActionGoto, Value: srv.URL + "/roles"})
			err := p.Run(context.Background(), tt.step)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Run: %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Fatalf("Run error\n got %v\nwant %q", err, tt.wantErr)
			}
			if tt.js != "" {
				if got := eval(t, p, tt.js); got != "true" {
					t.Errorf("%s = %s", tt.js, got)
				}
			}
		})
	}
}
