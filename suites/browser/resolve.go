package browser

import (
	"encoding/json"
	"strings"
	"sync"
)

// resolverParts are the resolver's parts for each selector engine (see
// resolverJS).
var resolverParts = map[string]string{
	engineCSS: `
	try {
		if (first) {
			const e = document.querySelector(sel.css);
			return {els: e ? [e] : []};
		}
		return {els: Array.from(document.querySelectorAll(sel.css))};
	} catch (e) {
		if (e instanceof DOMException && e.name === 'SyntaxError') return {invalid: true};
		throw e;
	}`,
	engineText: `
	const match = matcher(sel.text);
	const sub = sel.text.mode === 'sub';
	const out = [];
	// visit returns whether e or an element inside it matched.
	const visit = (e) => {
		if (skip.has(e.localName) || (first && out.length)) return false;
		const t = e.innerText;
		const m = match(t);
		// A text is in its container's text: where it is not, it is
		// nowhere inside.
		if (sub && !m) return false;
		let inner = false;
		for (const c of e.children) inner = visit(c) || inner;
		if (inner) return true;
		if (m && e.checkVisibility({visibilityProperty: true})) {
			out.push(e);
			return true;
		}
		return false;
	};
	if (document.body) visit(document.body);
	// A button input's text is its value, which no container's
	// innerText holds: looked for apart, then put in document order.
	for (const e of document.querySelectorAll('input[type=button i], input[type=submit i], input[type=reset i]')) {
		if (match(e.value) && e.checkVisibility({visibilityProperty: true})) out.push(e);
	}
	out.sort((a, b) => a === b ? 0 : a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1);
	return {els: first ? out.slice(0, 1) : out};`,
	engineRole: strings.Replace(`
	const ROLES = new Set(ROLE_LIST);
	const hidden = (e) => {
		// The options of a closed <select> are not rendered, but are there.
		const box = (e.localName === 'option' || e.localName === 'optgroup') && e.closest('select') || e;
		return !box.checkVisibility({visibilityProperty: true}) || !!e.closest('[aria-hidden="true"]');
	};
	const landmark = (e) => !e.parentElement || !e.parentElement.closest('article, aside, main, nav, section');
	const inputRole = (e) => {
		const list = e.hasAttribute('list');
		switch (e.type) {
		case 'hidden': case 'file': case 'color': return '';
		case 'button': case 'submit': case 'reset': case 'image': return 'button';
		case 'checkbox': return 'checkbox';
		case 'radio': return 'radio';
		case 'range': return 'slider';
		case 'number': return 'spinbutton';
		case 'search': return list ? 'combobox' : 'searchbox';
		}
		return list ? 'combobox' : 'textbox';
	};
	const implicit = (e) => {
		switch (e.localName) {
		case 'a': case 'area': return e.hasAttribute('href') ? 'link' : '';
		case 'article': return 'article';
		case 'aside': return 'complementary';
		case 'blockquote': return 'blockquote';
		case 'button': return 'button';
		case 'caption': return 'caption';
		case 'code': return 'code';
		case 'datalist': return 'listbox';
		case 'dd': return 'definition';
		case 'del': return 'deletion';
		case 'details': return 'group';
		case 'dialog': return 'dialog';
		case 'dt': return 'term';
		case 'em': return 'emphasis';
		case 'fieldset': return 'group';
		case 'figure': return 'figure';
		case 'footer': return landmark(e) ? 'contentinfo' : '';
		case 'form': return 'form';
		case 'h1': case 'h2': case 'h3': case 'h4': case 'h5': case 'h6': return 'heading';
		case 'header': return landmark(e) ? 'banner' : '';
		case 'hr': return 'separator';
		case 'img': return e.getAttribute('alt') === '' ? 'presentation' : 'img';
		case 'input': return inputRole(e);
		case 'ins': return 'insertion';
		case 'li': return 'listitem';
		case 'main': return 'main';
		case 'mark': return 'mark';
		case 'math': return 'math';
		case 'menu': case 'ol': case 'ul': return 'list';
		case 'meter': return 'meter';
		case 'nav': return 'navigation';
		case 'optgroup': return 'group';
		case 'option': return 'option';
		case 'output': return 'status';
		case 'p': return 'paragraph';
		case 'progress': return 'progressbar';
		case 'search': return 'search';
		case 'section': return e.hasAttribute('aria-label') || e.hasAttribute('aria-labelledby') || e.hasAttribute('title') ? 'region' : '';
		case 'select': return e.multiple || e.size > 1 ? 'listbox' : 'combobox';
		case 'strong': return 'strong';
		case 'sub': return 'subscript';
		case 'sup': return 'superscript';
		case 'svg': return 'img';
		case 'table': return 'table';
		case 'tbody': case 'tfoot': case 'thead': return 'rowgroup';
		case 'td': return 'cell';
		case 'textarea': return 'textbox';
		case 'th': return e.getAttribute('scope') === 'row' ? 'rowheader' : 'columnheader';
		case 'time': return 'time';
		case 'tr': return 'row';
		}
		return '';
	};
	const roleOf = (e) => {
		for (const r of (e.getAttribute('role') || '').split(/\s+/)) {
			if (ROLES.has(r)) return r;
		}
		return implicit(e);
	};
	// The text an element's content gives its name: text, the names of
	// labelled or alt-texted elements inside, the values of fields inside
	// (but not of the one being named); hidden parts left out.
	const contentText = (e, self) => {
		let out = '';
		for (const n of e.childNodes) {
			if (n.nodeType === Node.TEXT_NODE) {
				out += n.data;
				continue;
			}
			if (n.nodeType !== Node.ELEMENT_NODE || skip.has(n.localName) || n === self) continue;
			if (!n.checkVisibility({visibilityProperty: true}) && getComputedStyle(n).display !== 'contents') continue;
			if (n.getAttribute('aria-hidden') === 'true') continue;
			const label = n.getAttribute('aria-label');
			let t;
			if (label && label.trim()) t = label;
			else if (n.localName === 'img' || n.localName === 'area') t = n.getAttribute('alt') || '';
			else if (n.localName === 'input' || n.localName === 'textarea') t = n.type === 'password' ? '' : n.value;
			else if (n.localName === 'select') t = Array.from(n.selectedOptions).map((o) => o.text).join(' ');
			else t = contentText(n, self);
			const inline = getComputedStyle(n).display.startsWith('inline');
			out += inline ? t : ' ' + t + ' ';
		}
		return out;
	};
	const fromContent = new Set(['button', 'cell', 'checkbox', 'columnheader', 'gridcell', 'heading', 'link',
		'menuitem', 'menuitemcheckbox', 'menuitemradio', 'option', 'radio', 'row', 'rowheader', 'switch', 'tab',
		'tooltip', 'treeitem']);
	const nameOf = (e, role) => {
		const by = e.getAttribute('aria-labelledby');
		if (by) {
			const t = norm(by.split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean)
				.map((l) => l.getAttribute('aria-label') || contentText(l, null)).join(' '));
			if (t) return t;
		}
		const label = norm(e.getAttribute('aria-label'));
		if (label) return label;
		const tag = e.localName;
		if (tag === 'input' && ['button', 'submit', 'reset'].includes(e.type)) {
			return norm(e.value) || (e.type === 'submit' ? 'Submit' : e.type === 'reset' ? 'Reset' : norm(e.title));
		}
		if (tag === 'input' && e.type === 'image') return norm(e.alt) || norm(e.title) || 'Submit';
		if (e.labels && e.labels.length) {
			const t = norm(Array.from(e.labels).map((l) => contentText(l, e)).join(' '));
			if (t) return t;
		}
		if (tag === 'img' || tag === 'area') {
			const alt = norm(e.getAttribute('alt'));
			if (alt) return alt;
		}
		const part = {fieldset: 'legend', figure: 'figcaption', table: 'caption'}[tag];
		if (part) {
			const p = Array.from(e.children).find((c) => c.localName === part);
			if (p && norm(contentText(p, null))) return norm(contentText(p, null));
		}
		if (fromContent.has(role)) {
			const t = norm(contentText(e, null));
			if (t) return t;
		}
		return norm(e.getAttribute('title')) || norm(e.getAttribute('placeholder'));
	};
	const checkedOf = (e) => {
		if (e.localName === 'input' && (e.type === 'checkbox' || e.type === 'radio')) {
			return e.indeterminate && e.type === 'checkbox' ? 'mixed' : String(e.checked);
		}
		const a = e.getAttribute('aria-checked');
		return a === 'mixed' ? 'mixed' : String(a === 'true');
	};
	const disabledOf = (e) => String((typeof e.matches === 'function' && e.matches(':disabled')) || !!e.closest('[aria-disabled="true"]'));
	const expandedOf = (e) => e.getAttribute('aria-expanded');
	const pressedOf = (e) => {
		const a = e.getAttribute('aria-pressed');
		return a === 'mixed' ? 'mixed' : String(a === 'true');
	};
	const selectedOf = (e) => String(e.localName === 'option' ? e.selected : e.getAttribute('aria-selected') === 'true');
	const levelOf = (e) => {
		const a = parseInt(e.getAttribute('aria-level'), 10);
		if (a > 0) return a;
		const m = /^h([1-6])$/.exec(e.localName);
		return m ? Number(m[1]) : 0;
	};
	const name = sel.name ? matcher(sel.name) : null;
	const out = [];
	for (const e of document.querySelectorAll('*')) {
		if (roleOf(e) !== sel.role) continue;
		if (!sel.includeHidden && hidden(e)) continue;
		if (sel.checked && checkedOf(e) !== sel.checked) continue;
		if (sel.disabled && disabledOf(e) !== sel.disabled) continue;
		if (sel.expanded && expandedOf(e) !== sel.expanded) continue;
		if (sel.pressed && pressedOf(e) !== sel.pressed) continue;
		if (sel.selected && selectedOf(e) !== sel.selected) continue;
		if (sel.level && levelOf(e) !== sel.level) continue;
		if (name && !name(nameOf(e, sel.role))) continue;
		out.push(e);
		if (first) break;
	}
	return {els: out};`, "ROLE_LIST", roleListJSON(), 1),
}

// resolverHead is what every engine's part of the resolver uses.
const resolverHead = `
	const norm = (s) => String(s || '').replace(/\s+/g, ' ').trim();
	const matcher = (m) => {
		if (m.mode === 're') {
			const re = new RegExp(m.value, m.flags || '');
			return (s) => re.test(norm(s));
		}
		if (m.mode === 'exact') return (s) => norm(s) === m.value;
		const v = m.value.toLowerCase();
		return (s) => norm(s).toLowerCase().includes(v);
	};
	const skip = new Set(['script', 'style', 'noscript', 'template', 'head']);

`

// resolverJS finds the elements a selector (a parsed selector, as JSON)
// matches, in document order: `(sel, first) => ({els}) or ({invalid:
// true})`, the latter for CSS the browser cannot parse. With first, it
// stops at the first match. Every step that looks for an element uses it
// (withResolver), so that all read a selector the same way.
//
// CSS is document.querySelectorAll's (querySelector's with first).
//
// text= matches the deepest visible elements whose text (innerText, or the
// value of a button input) matches: elements inside none of whose children
// the text matches too.
//
// role= matches elements by their ARIA role (explicit, or implicit from
// HTML: button, a[href] is a link, input[type=text] a textbox, select a
// combobox, h1–h6 a heading…), their accessible name (aria-labelledby,
// aria-label, label, alt, value, content, title, placeholder: a
// simplified accessible name computation) and states. Elements hidden from
// assistive technology are left out unless include-hidden is set.
//
// It is made for one engine at a time: a call site sends only its
// selector's part (CSS, the usual one, is short), polled as it may be
// every 20 ms.
func resolverJS(engine string) string {
	return "(sel, first) => {" + resolverHead + resolverParts[engine] + "\n}"
}

func roleListJSON() string {
	b, _ := json.Marshal(roles) // strings: it cannot fail
	return string(b)
}

// pageFunc is a page function that resolves a selector, in one version
// for each selector engine, made on first use: the resolver's text (some
// 10 KiB for roles) is not built at every start of the plugin, whose
// `version` or `check postgres` never needs it.
type pageFunc struct {
	fn   string
	once sync.Once
	by   map[string]string
}

// withResolver makes the page function fn, which calls find(sel, first)
// (resolverJS), a function of its own: the resolver is inlined, not
// installed in the page, so that no page script can replace it and every
// document has it from its start.
func withResolver(fn string) *pageFunc { return &pageFunc{fn: fn} }

// For is the function for selector sel (CSS's when there is none).
func (f *pageFunc) For(sel selector) string {
	f.once.Do(func() {
		f.by = map[string]string{}
		for _, e := range []string{engineCSS, engineText, engineRole} {
			f.by[e] = "function(...args) { const find = " + resolverJS(e) + "; return (" + f.fn + ").apply(this, args); }"
		}
	})
	if sel.Engine == "" {
		return f.by[engineCSS]
	}
	return f.by[sel.Engine]
}
