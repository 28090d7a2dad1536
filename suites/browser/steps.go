package browser

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"mime"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/cdp"
	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/proto"
	"github.com/go-rod/rod/lib/utils"

	"github.com/suitecheck/suitecheck/checks"
	"github.com/suitecheck/suitecheck/internal/regfile"
	"github.com/suitecheck/suitecheck/internal/statedir"
)

// pollInterval is how often a waiting step looks again. go-rod's default
// sleeper backs off to a second, which would add up to a second to every
// step that has to wait.
const pollInterval = 20 * time.Millisecond

// The step actions.
const (
	ActionGoto        = "goto"             // load Value, a URL, and wait for its load event
	ActionClick       = "click"            // click the element
	ActionFill        = "fill"             // replace the field's content with Value
	ActionSelect      = "select"           // pick the option whose value or text is Value
	ActionCheck       = "check"            // tick the checkbox (or radio button) if it is not
	ActionPress       = "press"            // press the key Value, in the element if Selector is set
	ActionUpload      = "upload"           // set the file input's file: File, or Content as Name
	ActionWaitText    = "wait_text"        // wait until Value appears in the page (or in Selector)
	ActionWaitVisible = "wait_visible"     // wait until an element matching Selector is visible
	ActionWaitGone    = "wait_gone"        // wait until no element matching Selector is visible
	ActionWaitValue   = "wait_value"       // wait until the value of the field matching Selector contains Value (a hidden token a script fills)
	ActionWaitJS      = "wait_js"          // wait until the JavaScript expression Value is truthy
	ActionWaitAttr    = "wait_attribute"   // wait until Attribute of the element matching Selector contains Value
	ActionAssertValue = "assert_value"     // the value of the field matching Selector contains Value, or matches it as a regexp
	ActionAssertAttr  = "assert_attribute" // Attribute of the element matching Selector contains Value, or matches it
	ActionAssertURL   = "assert_url"       // the URL contains Value, or matches it as a regexp
	ActionAssertTitle = "assert_title"     // the title contains Value, or matches it as a regexp
	ActionScreenshot  = "screenshot"       // save a PNG of the page to File
)

// Step is one browser action. Its values arrive already templated. Action
// is the step's kind, which the config names by its key, e.g.
// `click: {selector: "#send"}`.
type Step struct {
	Action    string        `yaml:"-"`
	Selector  string        `yaml:"selector"`  // CSS, css=…, text=… or role=… (see selector.go); the first match is acted on
	Value     string        `yaml:"value"`     // URL (goto), text (fill, wait_text), option (select), key (press), regexp or substring (assert_url, assert_title)
	Secret    bool          `yaml:"secret"`    // Value is a secret: masked in errors, artifacts and Secrets
	File      string        `yaml:"file"`      // upload: the file to upload; screenshot: where to write the PNG
	Content   string        `yaml:"content"`   // upload: inline content, uploaded as a file named Name
	Attribute string        `yaml:"attribute"` // wait_attribute, assert_attribute: the attribute's name
	Name      string        `yaml:"name"`      // upload: the file name for Content (default upload.txt)
	Timeout   time.Duration `yaml:"timeout"`   // how long the step may take; 0: as long as ctx allows
	// FailFast ends a waiting step (wait_text, wait_visible, wait_gone,
	// wait_value, wait_attribute, wait_js) as soon as a request the page
	// made during the case has failed (HTTP 5xx or a network error): the
	// caller sets it when such a request fails the case anyway (suites:
	// the case's console policy is fail).
	FailFast bool `yaml:"-"`
}

// Validate checks that the step has what its action needs. Its errors never
// hold the step's Value.
func (s Step) Validate() error {
	need := func(what, v string) error {
		if v == "" {
			return fmt.Errorf("%s: %s is required", s.Action, what)
		}
		return nil
	}
	if s.Timeout < 0 {
		return fmt.Errorf("%s: negative timeout", s.Action)
	}
	if s.Timeout > 0 && s.Timeout < time.Millisecond {
		// A bare number in YAML decodes as nanoseconds.
		return fmt.Errorf("%s: timeout %s is too short: give a unit, e.g. 5s", s.Action, s.Timeout)
	}
	if s.Action == "" {
		return errors.New("step without an action")
	}
	a, ok := actions[s.Action]
	if !ok {
		return fmt.Errorf("unknown browser step %q", s.Action)
	}
	if a.needs != nil {
		if err := a.needs(s, need); err != nil {
			return err
		}
	}
	if s.Selector != "" {
		if _, err := parseSelector(s.Selector); err != nil {
			return fmt.Errorf("%s: selector %s: %v", s.Action, quoteSel(s.Selector), err)
		}
	}
	return nil
}

// quoteSel quotes a selector for a message: in single quotes when it holds
// double quotes (role=button[name="Add"]) and no single ones, so that it
// reads as written; else as Go quotes.
func quoteSel(sel string) string {
	if strings.Contains(sel, `"`) && !strings.Contains(sel, "'") && strconv.CanBackquote(sel) {
		return "'" + sel + "'"
	}
	return strconv.Quote(sel)
}

// String names the step for a message, e.g. `click "#send"`. It never holds
// a fill step's value.
func (s Step) String() string {
	q := strconv.Quote
	switch s.Action {
	case ActionGoto:
		return "goto " + q(s.Value)
	case ActionWaitText:
		if s.Selector != "" {
			return "wait_text " + q(s.Value) + " in " + quoteSel(s.Selector)
		}
		return "wait_text " + q(s.Value)
	case ActionPress:
		if s.Selector != "" {
			return "press " + q(s.Value) + " in " + quoteSel(s.Selector)
		}
		return "press " + q(s.Value)
	case ActionAssertURL, ActionAssertTitle:
		return s.Action
	case ActionScreenshot:
		return "screenshot " + q(s.File)
	}
	if a, ok := actions[s.Action]; ok && a.describe != nil {
		return a.describe(s)
	}
	return s.Action + " " + quoteSel(s.Selector)
}

// StepError is a failed step. Its message reads like a line of a monitoring
// report, e.g. `wait_text "hello.txt": not seen within 5s`, and never holds
// a secret typed into the page. It unwraps to the context's error when the
// run was stopped (cancelled, or out of time) rather than the step failing,
// and to a *LostError when the browser was lost under it.
// ReasonInvalidSelector is the Reason of a StepError whose selector is not
// valid CSS: the config's mistake, not the page's.
const ReasonInvalidSelector = "invalid selector"

type StepError struct {
	Step   string // the step, as Step.String
	Reason string // what went wrong
	cause  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Reason }

// Unwrap returns the run's context error when the step was interrupted.
func (e *StepError) Unwrap() error { return e.cause }

// Run executes one step, bound to ctx and to the step's timeout. A step that
// waits (for an element, a text, a load) polls every 20 ms. A step ends as
// soon as the page crashes or the browser is lost.
func (p *Page) Run(ctx context.Context, s Step) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.Secret {
		p.addSecret(s.Value)
	}
	// The caller gives a step its time (suites: every step has a timeout
	// from load on); without one, ctx alone bounds it.
	sctx, cancel := context.WithCancel(ctx)
	dur := "its time"
	switch dl, ok := ctx.Deadline(); {
	case s.Timeout > 0:
		sctx, cancel = context.WithTimeout(ctx, s.Timeout)
		dur = fmtDur(s.Timeout)
	case ok:
		dur = fmtDur(time.Until(dl).Round(time.Millisecond))
	}
	defer cancel()
	defer context.AfterFunc(p.gone, cancel)()
	sel, _ := parseSelector(s.Selector) // Validate parsed it; zero when there is none
	r := &run{
		p:        p,
		s:        s,
		sel:      sel,
		failFast: s.FailFast && actions[s.Action].waits,
		canShow:  actions[s.Action].waits && s.Action != ActionWaitGone, // what stays is what the page shows
		parent:   ctx,
		ctx:      sctx,
		rp:       p.rp.Context(sctx).Sleeper(pollSleeper),
		dur:      dur,
	}
	r.shows = r.canShow
	err := errGone
	if p.gone.Err() == nil {
		err = actions[s.Action].run(r)
	}
	if err == nil {
		return nil
	}
	se := &StepError{Step: s.String()}
	var gone error
	if ctx.Err() == nil {
		if sctx.Err() == nil {
			p.settle(ctx) // it failed before its own timeout: perhaps its page died
		}
		gone = p.goneErr(ctx)
	}
	var f *failure
	var le *LostError
	switch {
	case errors.As(gone, &le):
		se.Reason = "browser lost: " + le.Error()
		se.cause = le
	case errors.As(gone, &f):
		se.Reason = f.reason
	case errors.As(err, &f):
		se.Reason = f.reason
	case ctx.Err() != nil:
		se.Reason = "interrupted: " + context.Cause(ctx).Error()
		se.cause = ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		se.Reason = "timed out after " + r.dur
	default:
		se.Reason = describe(err)
	}
	// Masked before shortened, so that no secret is cut with its start left.
	se.Step, se.Reason = p.mask(se.Step), checks.Shorten(p.mask(se.Reason), 300)
	return se
}

// action is one kind of browser step. A new action is a row here and its
// run method: the config's short form, its error messages, validation and
// the step kinds of suites all come from this table.
type action struct {
	short    string // the field the short form `NAME: X` fills; "" when it needs a mapping
	example  string // the mapping form, for an error that asks for it
	needs    func(s Step, need func(what, v string) error) error
	run      func(*run) error
	describe func(Step) string // the step in a message; default `NAME "SELECTOR"`
	waits    bool              // it waits for the page to change: FailFast applies, and when it times out it says what the page shows
}

var actions = map[string]action{
	ActionGoto: {short: "value", run: (*run).gotoURL,
		needs: func(s Step, need func(string, string) error) error { return need("value (the URL)", s.Value) }},
	ActionClick: {short: "selector", run: (*run).click, needs: needSelector},
	ActionFill:  {example: `fill: {selector: "#password", value: "{{.Tenant.password}}", secret: true}`, run: (*run).fill, needs: needSelector},
	ActionSelect: {example: `select: {selector: "#plan", value: pro}`, run: (*run).selectOption,
		needs: func(s Step, need func(string, string) error) error {
			return errors.Join(need("selector", s.Selector), need("value (the option)", s.Value))
		}},
	ActionCheck: {short: "selector", run: (*run).check, needs: needSelector},
	ActionPress: {short: "value", run: (*run).press,
		needs: func(s Step, _ func(string, string) error) error {
			if _, ok := lookupKey(s.Value); !ok {
				return fmt.Errorf("press: unknown key %q: use a letter, a digit or one of %s", s.Value, strings.Join(keyNames(), ", "))
			}
			return nil
		}},
	ActionUpload: {example: `upload: {selector: "input[type=file]", content: hello, name: hello.txt}`, run: (*run).upload,
		needs: func(s Step, need func(string, string) error) error {
			if err := need("selector", s.Selector); err != nil {
				return err
			}
			if s.File != "" && (s.Content != "" || s.Name != "") {
				return errors.New("upload: give either file, or content and name")
			}
			if s.File == "" && s.Content == "" && s.Name == "" {
				return errors.New("upload: file or content is required")
			}
			return nil
		}},
	ActionWaitText: {short: "value", run: (*run).waitText, waits: true,
		needs: func(s Step, need func(string, string) error) error { return need("value (the text)", s.Value) }},
	ActionWaitVisible: {short: "selector", run: (*run).waitVisible, needs: needSelector, waits: true},
	ActionWaitGone:    {short: "selector", run: (*run).waitGone, needs: needSelector, waits: true},
	ActionWaitValue: {example: `wait_value: {selector: "#upload-token", value: "tok-"}`, run: (*run).waitValue, waits: true,
		describe: func(s Step) string {
			return "wait_value " + strconv.Quote(s.Value) + " in " + quoteSel(s.Selector)
		},
		needs: func(s Step, need func(string, string) error) error {
			return errors.Join(need("selector", s.Selector), need("value (the text)", s.Value))
		}},
	ActionWaitAttr: {example: `wait_attribute: {selector: "#upload", attribute: data-state, value: done}`, run: (*run).waitAttr, waits: true,
		describe: describeAttr, needs: needAttr},
	ActionAssertValue: {example: `assert_value: {selector: "#email", value: "@example.com"}`, run: (*run).assertValue,
		describe: func(s Step) string { return "assert_value " + quoteSel(s.Selector) },
		needs: func(s Step, need func(string, string) error) error {
			if err := need("selector", s.Selector); err != nil {
				return err
			}
			return needPattern(s, need)
		}},
	ActionAssertAttr: {example: `assert_attribute: {selector: "#save", attribute: aria-disabled, value: "false"}`, run: (*run).assertAttr,
		describe: describeAttr, needs: func(s Step, need func(string, string) error) error {
			if err := needAttr(s, need); err != nil {
				return err
			}
			if _, err := assertPattern(s.Value); err != nil {
				return fmt.Errorf("%s: %v", s.Action, err)
			}
			return nil
		}},
	ActionWaitJS: {short: "value", run: (*run).waitJS, waits: true,
		describe: func(s Step) string { return "wait_js " + strconv.Quote(s.Value) },
		needs: func(s Step, need func(string, string) error) error {
			return need("value (a JavaScript expression)", s.Value)
		}},
	ActionAssertURL:   {short: "value", run: (*run).assertURL, needs: needPattern},
	ActionAssertTitle: {short: "value", run: (*run).assertTitle, needs: needPattern},
	ActionScreenshot: {short: "file", run: (*run).screenshot,
		needs: func(s Step, need func(string, string) error) error { return need("file", s.File) }},
}

func needSelector(s Step, need func(string, string) error) error { return need("selector", s.Selector) }

func needAttr(s Step, need func(string, string) error) error {
	return errors.Join(need("selector", s.Selector), need("attribute", s.Attribute), need("value", s.Value))
}

func describeAttr(s Step) string {
	return s.Action + " " + quoteSel(s.Selector) + " [" + s.Attribute + "]"
}

func needPattern(s Step, need func(string, string) error) error {
	if err := need("value (a substring, or /regexp/)", s.Value); err != nil {
		return err
	}
	if _, err := assertPattern(s.Value); err != nil {
		return fmt.Errorf("%s: %v", s.Action, err)
	}
	return nil
}

// Actions are the browser steps' names, sorted: the config's keys for them.
func Actions() []string { return slices.Sorted(maps.Keys(actions)) }

// ShortForm says which field the short form of an action fills
// (`click: SELECTOR`), or, when it has none, an example of its mapping
// form. ok is false for an unknown action.
func ShortForm(name string) (field, example string, ok bool) {
	a, ok := actions[name]
	if a.example == "" {
		a.example = name + ": {selector: …}"
	}
	return a.short, a.example, ok
}

// run is one step being run.
type run struct {
	p   *Page
	s   Step
	sel selector // s.Selector, parsed
	// failFast ends the step when a request of the page failed
	// (Step.FailFast, for a step that waits).
	failFast bool
	// shows: when the step times out, its message says what the page
	// shows instead. canShow: the step is one that may (it waits for
	// something to appear); shows is then unset while it found its
	// element and says what that holds.
	shows, canShow bool
	parent         context.Context // the caller's: when it ends, the run was stopped
	ctx            context.Context // the caller's bounded by the step's timeout
	rp             *rod.Page       // bound to ctx, polling every pollInterval
	dur            string          // the step's timeout, for messages
	why            string          // what a poll still waits for, for the message when time is up
	point          *proto.Point    // where onElement found an uncovered element to be hit
}

// failure is a step failure with its reason already worded.
type failure struct{ reason string }

func (f *failure) Error() string { return f.reason }

func fail(format string, args ...any) error { return &failure{fmt.Sprintf(format, args...)} }

// errCrashed fails every step once the page's renderer has died (when the
// browser did not say how): it will not answer again.
var errCrashed = &failure{"the page crashed"}

// errClosed fails a step on a page whose browser was closed.
var errClosed = &failure{"the browser was closed"}

// settleWait bounds how long a failed step waits for the news that its
// page died: the crash event may come a moment after the step's own error
// (a navigation answered net::ERR_ABORTED when the renderer was killed).
const settleWait = 2 * time.Second

// settle tells a step that failed on its own from one whose page died
// under it: it asks the page for a trivial answer over the DevTools
// protocol (not waiting for any load); a page that cannot give one is
// waited on (at most settleWait) until its crash or loss is known.
func (p *Page) settle(ctx context.Context) {
	if p.gone.Err() != nil {
		return
	}
	actx, cancel := context.WithTimeout(ctx, settleWait)
	defer cancel()
	if _, err := (proto.RuntimeEvaluate{Expression: "1", ReturnByValue: true}).Call(p.rp.Context(actx)); err == nil {
		return
	}
	select {
	case <-p.gone.Done():
	case <-actx.Done():
	}
}

// errGone is the error of a step not even started on a page that is gone;
// Run replaces it with the reason.
var errGone = errors.New("the page is gone")

func pollSleeper() utils.Sleeper {
	return func(ctx context.Context) error {
		t := time.NewTimer(pollInterval)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// poll calls check every pollInterval until it reports done or fails for
// good. When the step's time is up it fails with r.why, which check keeps
// saying what it still waits for.
func (r *run) poll(check func() (bool, error)) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		done, err := check()
		switch {
		case err != nil && r.ctx.Err() == nil && !transient(err):
			return err
		case err == nil && done:
			return nil
		}
		if o, failed := r.p.failedRequest(); r.failFast && failed {
			o.Kind = ""
			return fail("the page's request failed: %s", o)
		}
		select {
		case <-r.ctx.Done():
			if r.parent.Err() != nil {
				return r.parent.Err()
			}
			if r.shows {
				return &failure{r.why + r.pageShows()}
			}
			return &failure{r.why}
		case <-t.C:
		}
	}
}

// need is what an element must be before a step acts on it.
type need int

const (
	needVisible need = 1 << iota
	needEnabled
	needEditable
	needUncovered // nothing else would receive a click at its centre
)

// stateJS reports what an element is, for need.
const stateJS = `function() {
	const r = this.getBoundingClientRect();
	return {
		visible: r.width > 0 && r.height > 0 && this.checkVisibility({visibilityProperty: true}),
		enabled: !this.matches(':disabled'),
		editable: this.isContentEditable ||
			((this.tagName === 'INPUT' || this.tagName === 'TEXTAREA') && !this.readOnly),
	};
}`

// stableJS says whether the element's box stays put from now to the next
// animation frame: an element sliding in or resizing would take the click
// elsewhere (Playwright's "stable"). The second look waits for the
// document's animation time to have moved on (one frame, or two when the
// first came before it moved: a loaded machine drops frames), where rod's
// ScrollIntoView waits for two frames, a round trip each (~35 ms a click).
// Only a hidden page, which renders no frame, is measured again after
// 100 ms instead.
const stableJS = `async function() {
	const frame = () => new Promise((done) => {
		requestAnimationFrame(done);
		if (document.visibilityState === 'hidden') setTimeout(done, 100);
	});
	const t0 = document.timeline.currentTime;
	const a = this.getBoundingClientRect();
	for (let i = 0; i < 3; i++) {
		await frame();
		if (document.timeline.currentTime !== t0) break;
	}
	const b = this.getBoundingClientRect();
	return a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
}`

// onElement waits until the first element matching the step's selector is
// what n says, then calls do; do returns false (having set r.why) to be
// called again on the next poll, with the element looked up anew.
func (r *run) onElement(n need, do func(el *rod.Element) (bool, error)) error {
	r.why = "no element matches within " + r.dur
	return r.poll(func() (bool, error) {
		el, err := r.element()
		if err != nil {
			return false, err
		}
		if el == nil {
			r.why = "no element matches within " + r.dur
			return false, nil
		}
		el = el.Sleeper(pollSleeper)
		if n&(needVisible|needEnabled|needEditable) != 0 {
			res, err := el.Eval(stateJS)
			if err != nil {
				return false, err
			}
			st := res.Value
			switch {
			case n&needVisible != 0 && !st.Get("visible").Bool():
				r.why = "not visible within " + r.dur
				return false, nil
			case n&needEnabled != 0 && !st.Get("enabled").Bool():
				r.why = "still disabled after " + r.dur
				return false, nil
			case n&needEditable != 0 && !st.Get("editable").Bool():
				r.why = "not an editable field (read-only, or not input, textarea or contenteditable)"
				return false, nil
			}
		}
		if n&needUncovered != 0 {
			// Over DevTools, which scrolls at once: the page's own
			// scrollIntoView follows its CSS scroll-behavior (smooth in
			// Bootstrap), and the box would move for half a second.
			if err := (proto.DOMScrollIntoViewIfNeeded{ObjectID: el.Object.ObjectID}).Call(el); err != nil {
				return false, err
			}
			res, err := el.Eval(stableJS)
			if err != nil {
				return false, err
			}
			if !res.Value.Bool() {
				r.why = "still moving after " + r.dur
				return false, nil
			}
			pt, err := el.Interactable()
			r.point = pt
			if err != nil {
				var covered *rod.CoveredError
				switch {
				case errors.As(err, &covered):
					r.why = "covered by " + covered.Element.String() + " after " + r.dur
				case errors.Is(err, &rod.InvisibleShapeError{}):
					r.why = "not visible within " + r.dur
				case errors.Is(err, &rod.NoPointerEventsError{}):
					r.why = "not clickable (pointer-events: none) after " + r.dur
				default:
					return false, err
				}
				return false, nil
			}
		}
		return do(el)
	})
}

// firstJS returns the first element a selector matches, null for none, or
// 'invalid' for a selector the browser cannot parse.
var firstJS = withResolver(`(sel) => {
	const r = find(sel, true);
	return r.invalid ? 'invalid' : r.els[0] || null;
}`)

// errInvalidSelector fails a step whose CSS selector the browser refused.
var errInvalidSelector = &failure{ReasonInvalidSelector}

// element returns the first element matching the step's selector, or nil.
func (r *run) element() (*rod.Element, error) {
	res, err := r.rp.Evaluate(rod.Eval(firstJS.For(r.sel), r.sel).ByObject())
	switch {
	case err != nil:
		return nil, err
	case res.Type == proto.RuntimeRemoteObjectTypeString:
		return nil, errInvalidSelector
	case res.Subtype != proto.RuntimeRemoteObjectSubtypeNode:
		return nil, nil
	}
	return r.rp.ElementFromObject(res)
}

func (r *run) gotoURL() error {
	_ = proto.PageStopLoading{}.Call(r.rp)
	res, err := proto.PageNavigate{URL: r.s.Value}.Call(r.rp)
	if err != nil {
		if r.ctx.Err() != nil && r.parent.Err() == nil {
			return fail("not loaded within %s", r.dur) // no reply yet
		}
		return err
	}
	if res.ErrorText != "" {
		return &rod.NavigationError{Reason: res.ErrorText}
	}
	if res.LoaderID == "" {
		return nil // a move within the document: nothing loads
	}
	if err := r.p.waitLoad(r.ctx, res.LoaderID); err != nil {
		if r.parent.Err() != nil {
			return r.parent.Err()
		}
		return fail("not loaded within %s", r.dur)
	}
	return nil
}

// click clicks where onElement found the element visible, enabled and
// uncovered, in view: rod's Element.Click would check all that again and
// wait two animation frames, 50–90 ms a click.
func (r *run) click() error {
	return r.onElement(needVisible|needEnabled|needUncovered, func(el *rod.Element) (bool, error) {
		if r.point == nil {
			return true, el.Click(proto.InputMouseButtonLeft, 1)
		}
		if err := r.rp.Mouse.MoveTo(*r.point); err != nil {
			return false, err
		}
		return true, r.rp.Mouse.Click(proto.InputMouseButtonLeft, 1)
	})
}

// selectContentJS focuses the field and selects its content, so that what
// is typed next replaces it.
const selectContentJS = `function() {
	this.focus();
	if (typeof this.select === 'function') {
		this.select();
		return;
	}
	const range = document.createRange();
	range.selectNodeContents(this);
	const sel = window.getSelection();
	sel.removeAllRanges();
	sel.addRange(range);
}`

const changeJS = `function() { this.dispatchEvent(new Event('change', {bubbles: true})); }`

func (r *run) fill() error {
	return r.onElement(needVisible|needEnabled|needEditable, func(el *rod.Element) (bool, error) {
		if _, err := el.Eval(selectContentJS); err != nil {
			return false, err
		}
		if r.s.Value == "" {
			if err := r.key(input.Backspace); err != nil {
				return false, err
			}
		} else if err := (proto.InputInsertText{Text: r.s.Value}).Call(r.rp); err != nil {
			return false, err
		}
		_, err := el.Eval(changeJS)
		return true, err
	})
}

// selectJS selects the option whose value, text or label is v, as a user
// would: with input and change events.
const selectJS = `function(v) {
	if (this.tagName !== 'SELECT') return {err: 'not a <select>'};
	const opts = Array.from(this.options);
	const o = opts.find((o) => o.value === v) ||
		opts.find((o) => o.text.trim() === v) || opts.find((o) => o.label === v);
	if (!o) return {have: opts.slice(0, 5).map((o) => o.text.trim())};
	o.selected = true;
	this.dispatchEvent(new Event('input', {bubbles: true}));
	this.dispatchEvent(new Event('change', {bubbles: true}));
	return {};
}`

func (r *run) selectOption() error {
	return r.onElement(needVisible|needEnabled, func(el *rod.Element) (bool, error) {
		res, err := el.Eval(selectJS, r.s.Value)
		if err != nil {
			return false, err
		}
		if e := res.Value.Get("err"); !e.Nil() {
			return false, fail("%s", e.Str())
		}
		have := res.Value.Get("have")
		if have.Nil() {
			return true, nil
		}
		var opts []string
		for _, o := range have.Arr() {
			opts = append(opts, strconv.Quote(o.Str()))
		}
		r.why = fmt.Sprintf("no option %q within %s (options: %s)", r.s.Value, r.dur, strings.Join(opts, ", "))
		return false, nil
	})
}

func (r *run) check() error {
	return r.onElement(needVisible|needEnabled|needUncovered, func(el *rod.Element) (bool, error) {
		res, err := el.Eval(`function() { return {type: this.type, checked: !!this.checked}; }`)
		if err != nil {
			return false, err
		}
		if t := res.Value.Get("type").Str(); t != "checkbox" && t != "radio" {
			return false, fail("not a checkbox or radio button")
		}
		if res.Value.Get("checked").Bool() {
			return true, nil
		}
		if err := el.Click(proto.InputMouseButtonLeft, 1); err != nil {
			return false, err
		}
		res, err = el.Eval(`function() { return !!this.checked; }`)
		if err != nil {
			return false, err
		}
		r.why = "clicked, but it stays unticked"
		return res.Value.Bool(), nil
	})
}

func (r *run) press() error {
	k, _ := lookupKey(r.s.Value)
	if r.s.Selector == "" {
		return r.key(k)
	}
	return r.onElement(needVisible|needEnabled, func(el *rod.Element) (bool, error) {
		if _, err := el.Eval(`function() { this.focus(); }`); err != nil {
			return false, err
		}
		return true, r.key(k)
	})
}

// key presses and releases k.
func (r *run) key(k input.Key) error {
	if err := k.Encode(proto.InputDispatchKeyEventTypeKeyDown, 0).Call(r.rp); err != nil {
		return err
	}
	return k.Encode(proto.InputDispatchKeyEventTypeKeyUp, 0).Call(r.rp)
}

// maxRemoteUpload bounds a file sent to a remote browser over the DevTools
// connection: it is read into memory, and base64 in a message.
const maxRemoteUpload = 16 << 20

// setFilesJS gives a file input one file made in the page from base64
// content, with the input and change events a user's choice fires.
const setFilesJS = `function(name, type, b64) {
	const bin = atob(b64);
	const bytes = new Uint8Array(bin.length);
	for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
	const dt = new DataTransfer();
	dt.items.add(new File([bytes], name, {type}));
	this.files = dt.files;
	this.dispatchEvent(new Event('input', {bubbles: true}));
	this.dispatchEvent(new Event('change', {bubbles: true}));
}`

func (r *run) upload() error {
	if r.p.b.remote {
		return r.uploadRemote()
	}
	path := r.s.File
	if path == "" {
		var err error
		if path, err = r.p.uploadFile(r.s.Name, r.s.Content); err != nil {
			return fail("write the file to upload: %v", err)
		}
	} else if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		// Chromium would read a FIFO or a device for as long as it gives.
		return fail("cannot read %s", path)
	}
	return r.onFileInput(func(el *rod.Element) error { return el.SetFiles([]string{path}) })
}

// onFileInput calls set on the step's element once it is found, and fails
// the step when that is not a file input.
func (r *run) onFileInput(set func(el *rod.Element) error) error {
	return r.onElement(0, func(el *rod.Element) (bool, error) {
		res, err := el.Eval(`function() { return this.tagName === 'INPUT' && this.type === 'file'; }`)
		if err != nil {
			return false, err
		}
		if !res.Value.Bool() {
			return false, fail("not a file input")
		}
		return true, set(el)
	})
}

// uploadRemote uploads to a remote browser (--browser-url), which cannot
// read our files: it runs as another user, with a /tmp of its own, or on
// another host. The content goes over the DevTools connection and becomes
// a File in the page.
func (r *run) uploadRemote() error {
	name, content := r.s.Name, []byte(r.s.Content)
	if path := r.s.File; path != "" {
		var err error
		switch content, err = regfile.ReadAll(path, maxRemoteUpload); {
		case errors.Is(err, regfile.ErrTooBig):
			return fail("%s is larger than the %d MiB a remote browser (--browser-url) is sent", path, maxRemoteUpload>>20)
		case err != nil:
			return fail("cannot read %s", path)
		}
		name = filepath.Base(path)
	}
	name = filepath.Base(filepath.Clean("/" + name))
	if name == "/" || name == "." {
		name = "upload.txt"
	}
	typ, _, _ := mime.ParseMediaType(mime.TypeByExtension(filepath.Ext(name)))
	b64 := base64.StdEncoding.EncodeToString(content)
	return r.onFileInput(func(el *rod.Element) error {
		_, err := el.Eval(setFilesJS, name, typ, b64)
		return err
	})
}

// visibleJS is the visibility test for wait_visible and wait_gone; textJS
// looks for a text in the page, or in the elements matching a selector.
var (
	visibleJS = withResolver(`(sel) => {
		const found = find(sel, false);
		if (found.invalid) return 'invalid';
		const els = found.els;
		const seen = els.some((e) => {
			const r = e.getBoundingClientRect();
			return r.width > 0 && r.height > 0 && e.checkVisibility({visibilityProperty: true});
		});
		return seen ? 'visible' : els.length ? 'hidden' : 'none';
	}`)
	textJS = withResolver(`(sel, text) => {
		const norm = (s) => (s || '').replace(/\s+/g, ' ');
		let els = [document.body];
		if (sel) {
			const found = find(sel, false);
			if (found.invalid) return 'invalid';
			els = found.els;
		}
		return els.some((e) => e && norm(e.innerText).includes(norm(text)));
	}`)
)

// selArg is the step's selector for a page function: null when it has none.
func (r *run) selArg() any {
	if r.s.Selector == "" {
		return nil
	}
	return r.sel
}

// evalSel evaluates a page function made by withResolver, failing the step
// when the page found its selector invalid.
func (r *run) evalSel(f *pageFunc, args ...any) (*proto.RuntimeRemoteObject, error) {
	res, err := r.rp.Eval(f.For(r.sel), append([]any{r.selArg()}, args...)...)
	if err != nil {
		return nil, err
	}
	if res.Value.Str() == "invalid" || res.Value.Get("invalid").Bool() {
		return nil, errInvalidSelector
	}
	return res, nil
}

func (r *run) waitText() error {
	r.why = "not seen within " + r.dur
	return r.poll(func() (bool, error) {
		res, err := r.evalSel(textJS, r.s.Value)
		if err != nil {
			return false, err
		}
		return res.Value.Bool(), nil
	})
}

func (r *run) waitVisible() error {
	return r.poll(func() (bool, error) {
		res, err := r.evalSel(visibleJS)
		if err != nil {
			return false, err
		}
		switch res.Value.Str() {
		case "visible":
			return true, nil
		case "hidden":
			r.why = "not visible within " + r.dur
		default:
			r.why = "no element matches within " + r.dur
		}
		return false, nil
	})
}

func (r *run) waitGone() error {
	r.why = "still visible after " + r.dur
	return r.poll(func() (bool, error) {
		res, err := r.evalSel(visibleJS)
		if err != nil {
			return false, err
		}
		return res.Value.Str() != "visible", nil
	})
}

func (r *run) waitValue() error {
	return r.poll(func() (bool, error) {
		got, ok, err := r.read("")
		if err != nil || !ok {
			return false, err
		}
		r.why = fmt.Sprintf("value %q after %s", checks.Shorten(r.p.mask(got), 80), r.dur)
		return strings.Contains(got, r.s.Value), nil
	})
}

// readJS reads, from the first element matching sel, its value (attr
// empty) or an attribute: found false when nothing matches, value null
// for an attribute it does not have.
var readJS = withResolver(`(sel, attr) => {
	const found = find(sel, true);
	if (found.invalid) return {invalid: true};
	const e = found.els[0];
	if (!e) return {found: false};
	const v = attr ? e.getAttribute(attr) : e.value;
	return {found: true, has: v !== null && v !== undefined, value: String(v ?? '')};
}`)

// read reads the step's element's value or attribute, setting why for a
// missing element or attribute.
func (r *run) read(attr string) (string, bool, error) {
	res, err := r.evalSel(readJS, attr)
	if err != nil {
		return "", false, err
	}
	// What the element holds says more than what the page shows.
	r.shows = r.canShow && !res.Value.Get("found").Bool()
	switch {
	case !res.Value.Get("found").Bool():
		r.why = "no element matches within " + r.dur
		return "", false, nil
	case !res.Value.Get("has").Bool() && attr == "":
		r.why = "not a field (it has no value) within " + r.dur
		return "", false, nil
	case !res.Value.Get("has").Bool():
		r.why = fmt.Sprintf("no %s attribute within %s", attr, r.dur)
		return "", false, nil
	}
	return res.Value.Get("value").Str(), true, nil
}

func (r *run) waitAttr() error {
	return r.poll(func() (bool, error) {
		got, ok, err := r.read(r.s.Attribute)
		if err != nil || !ok {
			return false, err
		}
		r.why = fmt.Sprintf("%s %q after %s", r.s.Attribute, checks.Shorten(r.p.mask(got), 80), r.dur)
		return strings.Contains(got, r.s.Value), nil
	})
}

func (r *run) assertValue() error {
	return r.assertRead(func() (string, bool, error) { return r.read("") })
}

func (r *run) assertAttr() error {
	return r.assertRead(func() (string, bool, error) { return r.read(r.s.Attribute) })
}

// pageShowsJS finds what the page shows a user instead of what a wait
// looked for: the first line of a visible alert or flash message, else the
// first line of visible text in the selector's scope (its first match; the
// whole page without one).
var pageShowsJS = withResolver(`(sel) => {
	const visible = (e) => {
		const r = e.getBoundingClientRect();
		return r.width > 0 && r.height > 0 && e.checkVisibility({visibilityProperty: true});
	};
	const firstLine = (e) => (e.innerText || '').split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).find((l) => l) || '';
	for (const css of ['[role=alert]', '[role=alertdialog]', '.alert', '.flash', '.error', '[aria-live]']) {
		for (const e of document.querySelectorAll(css)) {
			const t = visible(e) && firstLine(e);
			if (t) return t;
		}
	}
	let scope = document.body;
	if (sel) {
		const found = find(sel, true);
		// A hidden element's innerText is its source text: not what shows.
		const e = !found.invalid && found.els[0];
		if (e && e.checkVisibility({visibilityProperty: true})) scope = e;
	}
	return scope ? firstLine(scope) : '';
}`)

// showsWait bounds asking the page what it shows, after a wait timed out.
const showsWait = time.Second

// pageShows says, for the message of a wait that timed out, what the page
// shows instead: ` (page shows "Invalid login or password")`, masked and
// shortened; "" when the page cannot tell.
func (r *run) pageShows() string {
	ctx, cancel := context.WithTimeout(r.parent, showsWait)
	defer cancel()
	res, err := r.p.rp.Context(ctx).Eval(pageShowsJS.For(r.sel), r.selArg())
	if err != nil {
		return ""
	}
	t := res.Value.Str()
	if t == "" {
		return " (page shows no text)"
	}
	return " (page shows " + strconv.Quote(checks.Shorten(r.p.mask(t), 80)) + ")"
}

func (r *run) waitJS() error {
	r.why = "not true within " + r.dur
	// The expression is the body of a function evaluated over DevTools:
	// no eval() in the page, so a Content-Security-Policy does not stop it.
	fn := "() => !!(" + r.s.Value + "\n)"
	return r.poll(func() (bool, error) {
		res, err := r.rp.Eval(fn)
		if err != nil {
			var ee *rod.EvalError
			if errors.As(err, &ee) {
				why := ee.Text
				if ee.Exception != nil && ee.Exception.Description != "" {
					why, _, _ = strings.Cut(ee.Exception.Description, "\n") // without the JS stack
				}
				return false, fail("the expression fails: %s", checks.Shorten(r.p.mask(why), 200))
			}
			return false, err
		}
		return res.Value.Bool(), nil
	})
}

func (r *run) assertURL() error {
	return r.assert(func() (string, error) {
		info, err := r.rp.Info()
		if err != nil {
			return "", err
		}
		return info.URL, nil
	})
}

func (r *run) assertTitle() error {
	return r.assert(func() (string, error) {
		res, err := r.rp.Eval(`() => document.title`)
		if err != nil {
			return "", err
		}
		return res.Value.Str(), nil
	})
}

// assertPattern reads an assert step's value: "/re/" is a regexp, anything
// else a substring. It returns a nil regexp for a substring.
func assertPattern(v string) (*regexp.Regexp, error) {
	if len(v) < 2 || !strings.HasPrefix(v, "/") || !strings.HasSuffix(v, "/") {
		return nil, nil
	}
	re, err := regexp.Compile(v[1 : len(v)-1])
	if err != nil {
		return nil, fmt.Errorf("bad regexp %s: %v", v, err)
	}
	return re, nil
}

// assert waits until get returns a value that contains the step's value,
// or matches it when it is written /regexp/: the page may still be on its
// way.
func (r *run) assert(get func() (string, error)) error {
	return r.assertRead(func() (string, bool, error) { v, err := get(); return v, true, err })
}

// assertRead is assert for a value that may not be there yet (ok false:
// keep polling; the reader said why).
func (r *run) assertRead(get func() (string, bool, error)) error {
	re, err := assertPattern(r.s.Value)
	if err != nil {
		return err
	}
	r.why = "could not read it"
	return r.poll(func() (bool, error) {
		v, ok, err := get()
		if err != nil || !ok {
			return false, err
		}
		if re != nil {
			r.why = fmt.Sprintf("got %q, want match of %s", r.p.mask(v), r.s.Value)
			return re.MatchString(v), nil
		}
		r.why = fmt.Sprintf("got %q, want it to contain %q", r.p.mask(v), r.s.Value)
		return strings.Contains(v, r.s.Value), nil
	})
}

func (r *run) screenshot() error {
	png, err := r.p.screenshot(r.ctx, nil)
	if err != nil {
		return err
	}
	// Private (a page of production), made anew: never written through a
	// link planted at that name.
	if err := statedir.WriteFile(r.s.File, png, 0o600); err != nil {
		return fail("%v", err)
	}
	return nil
}

// transient errors come from a page that is navigating or re-rendering: the
// next poll may succeed.
func transient(err error) bool {
	if errors.Is(err, &rod.ObjectNotFoundError{}) || errors.Is(err, &rod.ElementNotFoundError{}) {
		return true
	}
	var ce *cdp.Error
	if !errors.As(err, &ce) {
		return false
	}
	switch ce.Message {
	case "Cannot find context with specified id",
		"Execution context was destroyed.",
		"Cannot find default execution context",
		"Could not find object with given id",
		"Could not find node with given id",
		"No node with given id found",
		"Node is detached from document",
		"No node found at given location",
		"Could not compute content quads.",
		"Inspected target navigated or closed":
		return true
	}
	return false
}

// describe words an error of go-rod or of the DevTools protocol for a report.
func describe(err error) string {
	var nav *rod.NavigationError
	var ev *rod.EvalError
	var ce *cdp.Error
	switch {
	case errors.Is(err, &rod.ElementNotFoundError{}):
		return "no element matches"
	case errors.As(err, &nav):
		return nav.Reason
	case errors.As(err, &ev):
		msg := ev.Text
		if ev.Exception != nil && ev.Exception.Description != "" {
			msg, _, _ = strings.Cut(ev.Exception.Description, "\n")
		}
		return "script error: " + msg
	case errors.As(err, &ce):
		return ce.Message
	}
	return err.Error()
}

// fmtDur writes a step timeout the way a user would: 5s, 300ms, 1.5s.
func fmtDur(d time.Duration) string {
	switch {
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// keys are the keys press knows by name, besides letters and digits.
var keys = map[string]input.Key{
	"Enter": input.Enter, "Tab": input.Tab, "Escape": input.Escape, "Space": input.Space,
	"Backspace": input.Backspace, "Delete": input.Delete, "Insert": input.Insert,
	"ArrowUp": input.ArrowUp, "ArrowDown": input.ArrowDown, "ArrowLeft": input.ArrowLeft, "ArrowRight": input.ArrowRight,
	"Home": input.Home, "End": input.End, "PageUp": input.PageUp, "PageDown": input.PageDown,
	"F1": input.F1, "F2": input.F2, "F3": input.F3, "F4": input.F4, "F5": input.F5, "F6": input.F6,
	"F7": input.F7, "F8": input.F8, "F9": input.F9, "F10": input.F10, "F11": input.F11, "F12": input.F12,
}

func lookupKey(name string) (input.Key, bool) {
	if len(name) == 1 {
		if c := name[0]; c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			return input.Key(c), true
		}
	}
	for n, k := range keys {
		if strings.EqualFold(n, name) {
			return k, true
		}
	}
	return 0, false
}

func keyNames() []string {
	names := make([]string, 0, len(keys))
	for n := range keys {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
