// idlcm injected helper.
//
// Evaluated by the agent in an isolated world (Page.createIsolatedWorld) of a
// page; defines globalThis.__idlcm.  It shares the DOM with the page but none
// of the page's JS globals.  Everything here is stateless apart from a small
// parse cache and the one armed hit-target guard (which expires on its own),
// so evaluating the file again simply installs a fresh object.
//
// Contract (see README.md next to this file):
//   * every entry point returns a plain JSON value, usually {ok:true, ...},
//     {ok:false, reason} (condition not met within the budget: the caller may
//     retry) or {ok:false, error} (fatal: bad selector, strict violation...);
//   * waiting entry points take budgetMs and resolve within about that time;
//   * nothing throws for expected conditions; an unexpected exception is
//     caught at the API boundary and reported as {ok:false, error:"idlcm
//     helper bug: ..."}.
//
// Plain ES2020, no imports.  Cross-realm safe: no instanceof checks on DOM
// objects (elements may live in same-origin iframes, i.e. other realms).
(() => {
  'use strict';

  const VERSION = '1';

  // ------------------------------------------------------------------ utils

  const now = () => performance.now();
  const collapse = (s) => String(s == null ? '' : s).replace(/\s+/g, ' ').trim();
  const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + '\u2026' : s);
  const round2 = (v) => Math.round(v * 100) / 100;
  const isElement = (n) => !!n && n.nodeType === 1;
  const isDocument = (n) => !!n && n.nodeType === 9;
  const asElement = (n) => (isDocument(n) ? n.documentElement : n);
  const isFrame = (n) => isElement(n) && (n.localName === 'iframe' || n.localName === 'frame');

  function styleOf(el) {
    try {
      const w = el.ownerDocument && el.ownerDocument.defaultView;
      return (w || window).getComputedStyle(el);
    } catch (e) {
      return null;
    }
  }

  // contentDocument of a same-origin frame, else null.
  function frameDoc(fe) {
    try { return fe.contentDocument || null; } catch (e) { return null; }
  }

  // The <iframe>/<frame> hosting doc, when it is reachable (same origin).
  function frameElementOf(doc) {
    try {
      const w = doc && doc.defaultView;
      return (w && w.frameElement) || null;
    } catch (e) {
      return null;
    }
  }

  // Parent in the composed tree: crosses shadow roots (to the host) and
  // frame documents (to the <iframe> element).
  function composedParent(n) {
    const p = n.parentNode;
    if (!p) return null;
    if (p.nodeType === 11) return p.host || null;
    if (p.nodeType === 9) return frameElementOf(p);
    return p;
  }

  // Parent element within one document (crosses shadow roots, not frames).
  function parentInDoc(n) {
    const p = n.parentNode;
    if (!p) return null;
    if (p.nodeType === 11) return p.host || null;
    return p.nodeType === 1 ? p : null;
  }

  const inShadowTree = (el) => {
    const r = el.getRootNode ? el.getRootNode() : null;
    return !!r && r.nodeType === 11 && !!r.host;
  };

  // Offset of a frame's viewport origin inside its parent's viewport:
  // border box + border + padding of the <iframe>.
  function frameContentOffset(fe) {
    const r = fe.getBoundingClientRect();
    const st = styleOf(fe);
    return {
      x: r.left + fe.clientLeft + (st ? parseFloat(st.paddingLeft) || 0 : 0),
      y: r.top + fe.clientTop + (st ? parseFloat(st.paddingTop) || 0 : 0),
    };
  }

  // Offset of doc's viewport in top-level (topmost reachable) viewport pixels.
  function frameChainOffset(doc) {
    let x = 0, y = 0;
    for (let d = doc, i = 0; d && i < 32; i++) {
      const fe = frameElementOf(d);
      if (!fe) break;
      const o = frameContentOffset(fe);
      x += o.x; y += o.y;
      d = fe.ownerDocument;
    }
    return { x, y };
  }

  function topDocumentOf(doc) {
    let d = doc;
    for (let i = 0; i < 32; i++) {
      const fe = frameElementOf(d);
      if (!fe) break;
      d = fe.ownerDocument;
    }
    return d;
  }

  function viewportSize(doc) {
    const w = doc.defaultView || window;
    if (doc.compatMode === 'BackCompat' || !doc.documentElement) return { w: w.innerWidth, h: w.innerHeight };
    return { w: doc.documentElement.clientWidth, h: doc.documentElement.clientHeight };
  }

  // One rendering frame, but never hang: rAF may be throttled in headless.
  // Resolves true if a frame was seen, false if the timer won.
  function nextFrame(maxMs) {
    return new Promise((resolve) => {
      let done = false;
      const fin = (v) => { if (!done) { done = true; resolve(v); } };
      try { requestAnimationFrame(() => fin(true)); } catch (e) { /* no rAF: timer only */ }
      setTimeout(() => fin(false), Math.max(0, maxMs));
    });
  }

  // Short human description of a node for messages: <tag id=".." class="..">text</tag>
  const DESC_ATTRS = ['id', 'class', 'type', 'name', 'role', 'aria-label', 'data-testid', 'placeholder', 'href'];
  function describe(node) {
    try {
      if (!node) return '(nothing)';
      if (isDocument(node)) return '#document(' + clip(String(node.URL || ''), 60) + ')';
      if (!isElement(node)) return String(node.nodeName);
      const tag = node.localName || String(node.nodeName).toLowerCase();
      let s = '<' + tag;
      for (const name of DESC_ATTRS) {
        const v = node.getAttribute(name);
        if (v == null) continue;
        if (name === 'type' && tag !== 'input' && tag !== 'button') continue;
        s += ' ' + name + '="' + clip(collapse(v), 40).replace(/"/g, '\\"') + '"';
      }
      s += '>';
      if (tag === 'html' || tag === 'body' || tag === 'head') return s;
      const text = clip(collapse(node.textContent || ''), 40);
      return text ? s + text + '</' + tag + '>' : s;
    } catch (e) {
      return '(unknown node)';
    }
  }

  // Shorter, CSS-like name for one-line messages: div#banner, input.search.
  function shortName(node) {
    try {
      if (!isElement(node)) return describe(node);
      let s = node.localName;
      const id = node.getAttribute('id');
      if (id) return s + '#' + clip(id, 40);
      const cls = collapse(node.getAttribute('class') || '');
      if (cls) s += '.' + cls.split(' ').slice(0, 3).join('.');
      const name = node.getAttribute('name');
      if (name && !cls) s += '[name="' + clip(name, 30) + '"]';
      return s;
    } catch (e) {
      return '(unknown node)';
    }
  }

  // Whether hit is target or inside it, through shadow roots and frames.
  function within(target, hit) {
    for (let n = hit; n; n = composedParent(n)) if (n === target) return true;
    return false;
  }

  // The focused element, descending into open shadow roots and same-origin frames.
  function deepActive(doc) {
    let a = doc.activeElement;
    for (let i = 0; a && i < 32; i++) {
      if (a.shadowRoot && a.shadowRoot.activeElement) { a = a.shadowRoot.activeElement; continue; }
      if (isFrame(a) && frameDoc(a) && frameDoc(a).activeElement) { a = frameDoc(a).activeElement; continue; }
      break;
    }
    return a;
  }

  // ------------------------------------------------------ composed traversal

  // Visits every element strictly beneath root in composed tree order: an
  // element, then the contents of its open shadow root, then its light
  // children.  visit() returning false skips that element's subtree.  With
  // intoFrames, same-origin frame documents are walked after their <iframe>.
  function walk(root, visit, intoFrames) {
    if (root.nodeType === 1 && root.shadowRoot) walk(root.shadowRoot, visit, intoFrames);
    for (let c = root.firstElementChild; c; c = c.nextElementSibling) {
      if (visit(c) === false) continue;
      walk(c, visit, intoFrames);
    }
    if (intoFrames && isFrame(root)) {
      const d = frameDoc(root);
      if (d) walk(d, visit, true);
    }
  }

  // Children of el in the flat (rendered) tree: the shadow root's children
  // when el is a host; slots replaced by what they render.
  function flatChildren(el) {
    const out = [];
    const src = el.shadowRoot || el;
    for (let c = src.firstElementChild; c; c = c.nextElementSibling) {
      if (c.localName === 'slot' && inShadowTree(c)) {
        for (const a of c.assignedElements({ flatten: true })) out.push(a);
      } else {
        out.push(c);
      }
    }
    return out;
  }

  // Text of an element as rendered through shadow roots and slots (like
  // textContent, but composed; script/style/head/template/noscript skipped;
  // <input type=button|submit|reset> contributes its value).  Memoised per
  // query in `cache` since ancestors reuse their children's text.
  const SKIP_TEXT = new Set(['script', 'style', 'head', 'template', 'noscript']);
  function elementText(el, cache) {
    let t = cache.get(el);
    if (t !== undefined) return t;
    const tag = el.localName;
    if (SKIP_TEXT.has(tag)) {
      t = '';
    } else if (tag === 'input') {
      const ty = String(el.type || '').toLowerCase();
      t = ty === 'button' || ty === 'submit' || ty === 'reset' ? String(el.value || '') : '';
    } else {
      t = childrenText(el.shadowRoot || el, cache);
    }
    cache.set(el, t);
    return t;
  }
  function childrenText(parent, cache) {
    let s = '';
    for (let c = parent.firstChild; c; c = c.nextSibling) s += nodeText(c, cache);
    return s;
  }
  function nodeText(n, cache) {
    if (n.nodeType === 3 || n.nodeType === 4) return n.data;
    if (n.nodeType !== 1) return '';
    if (n.localName === 'br') return '\n';
    if (n.localName === 'slot' && inShadowTree(n)) {
      let s = '';
      for (const a of n.assignedNodes({ flatten: true })) s += nodeText(a, cache);
      return s;
    }
    return elementText(n, cache);
  }

  // --------------------------------------------------------- selector parse

  const parseCache = new Map();

  // Split on " >> " outside quotes.  An unbalanced quote (e.g. text=It's)
  // makes us fall back to a plain split.
  function splitParts(sel) {
    const parts = [];
    let quote = null, start = 0;
    for (let i = 0; i < sel.length; i++) {
      const c = sel[i];
      if (quote) {
        if (c === '\\') i++;
        else if (c === quote) quote = null;
        continue;
      }
      if (c === '"' || c === "'") quote = c;
      else if (c === ' ' && sel.startsWith(' >> ', i)) {
        parts.push(sel.slice(start, i));
        start = i + 4;
        i += 3;
      }
    }
    if (quote) return sel.split(' >> ');
    parts.push(sel.slice(start));
    return parts;
  }

  // Text pattern: /re/flags, "exact" ('exact'), or case-insensitive substring.
  // Returns a predicate over whitespace-collapsed text, or {error}.
  function parseTextPattern(body) {
    const b = body.trim();
    if (!b) return { error: 'empty text' };
    const re = /^\/(.+)\/([a-z]*)$/s.exec(b);
    if (re) {
      let rx;
      try {
        rx = new RegExp(re[1], re[2].replace(/[gy]/g, ''));
      } catch (e) {
        return { error: 'invalid regular expression: ' + e.message };
      }
      return { match: (t) => rx.test(t) };
    }
    if (b.length >= 2 && (b[0] === '"' || b[0] === "'") && b[b.length - 1] === b[0]) {
      const want = collapse(b.slice(1, -1).replace(/\\(.)/g, '$1'));
      return { match: (t) => t === want };
    }
    const want = collapse(b).toLowerCase();
    return { match: (t) => t.toLowerCase().includes(want) };
  }

  function parsePart(raw) {
    const p = raw.trim();
    if (!p) return { error: 'empty selector part' };
    if (p === 'enter-frame') return { kind: 'frame' };
    if (p.startsWith('//') || p.startsWith('..') || p.startsWith('(/')) return parseXpath(p);
    const m = /^([a-zA-Z][a-zA-Z0-9_-]*)=/.exec(p);
    if (!m) return parseCss(p);
    const engine = m[1].toLowerCase();
    const body = p.slice(m[0].length);
    switch (engine) {
      case 'css': return parseCss(body.trim());
      case 'xpath': return parseXpath(body.trim());
      case 'text':
      case 'has-text': {
        const t = parseTextPattern(body);
        return t.error ? t : { kind: engine, match: t.match };
      }
      case 'nth': {
        const b = body.trim();
        if (!/^-?\d+$/.test(b)) return { error: 'nth expects an integer, got "' + b + '"' };
        return { kind: 'nth', n: parseInt(b, 10) };
      }
      case 'visible': {
        const b = body.trim();
        if (b !== 'true' && b !== 'false') return { error: 'visible expects true or false, got "' + b + '"' };
        return { kind: 'visible', value: b === 'true' };
      }
      default:
        // role=, label=, placeholder=, alt=, title=, testid=: see "locators
        // by what a person sees" below
        return parseSeenPart(engine, body) || { error: 'unknown engine "' + engine + '"' };
    }
  }

  function parseCss(css) {
    if (!css) return { error: 'empty css selector' };
    try {
      document.createDocumentFragment().querySelector(css);
    } catch (e) {
      return { error: 'bad css: ' + e.message };
    }
    return { kind: 'css', css };
  }

  function parseXpath(expr) {
    if (!expr) return { error: 'empty xpath' };
    try {
      document.createExpression(expr, null);
    } catch (e) {
      return { error: 'bad xpath: ' + e.message };
    }
    return { kind: 'xpath', expr };
  }

  function parseSelector(sel) {
    if (typeof sel !== 'string') return { error: 'invalid selector: expected a string, got ' + typeof sel };
    const hit = parseCache.get(sel);
    if (hit) return hit;
    let out;
    const parts = [];
    for (const raw of splitParts(sel)) {
      const p = parsePart(raw);
      if (p.error) { out = { error: 'invalid selector "' + sel + '": ' + p.error }; break; }
      p.raw = raw.trim();
      parts.push(p);
    }
    if (!out) out = { parts };
    if (parseCache.size > 256) parseCache.clear();
    parseCache.set(sel, out);
    return out;
  }

  // -------------------------------------------------------- selector engines

  class SelectorFailure {
    constructor(msg) { this.msg = msg; }
  }

  // CSS in root and in every open shadow root beneath it (root's own too).
  function queryCss(root, css) {
    const scopes = [root];
    if (root.nodeType === 1 && root.shadowRoot) scopes.push(root.shadowRoot);
    const all = [];
    walk(root, (el) => {
      all.push(el);
      if (el.shadowRoot) scopes.push(el.shadowRoot);
    });
    try {
      if (scopes.length === 1) return Array.from(root.querySelectorAll(css));
      const found = new Set();
      for (const s of scopes) for (const e of s.querySelectorAll(css)) found.add(e);
      return all.filter((e) => found.has(e));
    } catch (e) {
      throw new SelectorFailure('bad css: ' + e.message);
    }
  }

  function queryXpath(root, expr) {
    const doc = isDocument(root) ? root : root.ownerDocument;
    let e = expr;
    // A later part's "//x" searches beneath the current match, not the document.
    if (!isDocument(root)) {
      if (e.startsWith('/')) e = '.' + e;
      else if (e.startsWith('(/')) e = '(.' + e.slice(1);
    }
    let snap;
    try {
      snap = doc.evaluate(e, root, null, 7 /* ORDERED_NODE_SNAPSHOT_TYPE */, null);
    } catch (err) {
      throw new SelectorFailure('bad xpath: ' + err.message);
    }
    const out = [];
    for (let i = 0; i < snap.snapshotLength; i++) {
      const n = snap.snapshotItem(i);
      if (isElement(n)) out.push(n);
    }
    return out;
  }

  // Most specific elements beneath root whose composed text matches.
  function queryText(root, match) {
    const cache = new Map();
    const matched = new Set();
    const order = [];
    walk(root, (el) => {
      if (SKIP_TEXT.has(el.localName)) return false;
      if (el.localName === 'slot') return true;
      if (match(collapse(elementText(el, cache)))) { matched.add(el); order.push(el); }
      return true;
    });
    return order.filter((el) => !flatChildren(el).some((c) => matched.has(c)));
  }

  // Union of per-root results, de-duplicated, in composed document order.
  function merge(lists, ctx) {
    const nonEmpty = lists.filter((l) => l.length);
    if (nonEmpty.length === 0) return [];
    if (nonEmpty.length === 1) return nonEmpty[0];
    const set = new Set();
    for (const l of nonEmpty) for (const e of l) set.add(e);
    if (!ctx.order) {
      const m = new Map();
      let i = 0;
      walk(document, (el) => { m.set(el, i++); }, true);
      ctx.order = m;
    }
    const idx = (e) => { const v = ctx.order.get(e); return v === undefined ? Number.MAX_SAFE_INTEGER : v; };
    return Array.from(set).sort((a, b) => idx(a) - idx(b));
  }

  // Returns {els:[Element...]} or {error}.
  // When nothing matches, also {dryAt, before}: the index of the part that
  // matched nothing and the matches before it (for hints).
  function resolve(parsed, sel) {
    const ctx = {};
    let cur = [document];
    let dryAt = -1, before = null;
    try {
      for (let i = 0; i < parsed.parts.length; i++) {
        const part = parsed.parts[i];
        if (!cur.length) break;
        before = cur;
        dryAt = i;
        switch (part.kind) {
          case 'css': cur = merge(cur.map((r) => queryCss(r, part.css)), ctx); break;
          case 'xpath': cur = merge(cur.map((r) => queryXpath(r, part.expr)), ctx); break;
          case 'text': cur = merge(cur.map((r) => queryText(r, part.match)), ctx); break;
          case 'nth': {
            const i = part.n < 0 ? cur.length + part.n : part.n;
            cur = i >= 0 && i < cur.length ? [cur[i]] : [];
            break;
          }
          case 'has-text': {
            const cache = new Map();
            cur = cur.filter((n) => { const e = asElement(n); return !!e && part.match(collapse(elementText(e, cache))); });
            break;
          }
          case 'visible': cur = cur.filter((n) => isVisible(asElement(n)) === part.value); break;
          case 'frame': cur = Array.from(new Set(cur.map((n) => (isFrame(n) ? frameDoc(n) : null)).filter(Boolean))); break;
          case 'query': cur = merge(cur.map((r) => part.query(r)), ctx); break;
        }
      }
    } catch (e) {
      if (e instanceof SelectorFailure) return { error: 'invalid selector "' + sel + '": ' + e.msg };
      throw e;
    }
    const els = Array.from(new Set(cur.map(asElement).filter(isElement)));
    return els.length ? { els } : { els, dryAt, before };
  }

  // Why nothing matches, for the timeout message: which part ran dry, and
  // whether has-text= would have matched where text= found nothing (text=
  // looks for elements inside each match so far; has-text= keeps a match
  // whose own text contains it).
  function absentHint(parsed, r) {
    const part = parsed.parts[r.dryAt];
    if (!part || r.dryAt <= 0 || !r.before) return 'no element matches the selector yet';
    const shown = parsed.parts.slice(0, r.dryAt).map((p) => p.raw).join(' >> ');
    if (part.kind === 'frame' && r.before.some((n) => isFrame(n) && !frameDoc(n))) {
      return '"' + shown + '" is a frame from another origin that has not loaded yet';
    }
    let s = 'no element matches "' + part.raw + '" inside "' + shown + '" (' + r.before.length +
      (r.before.length === 1 ? ' element)' : ' elements)');
    if (part.kind === 'text') {
      const cache = new Map();
      const keep = r.before.filter((n) => { const e = asElement(n); return !!e && part.match(collapse(elementText(e, cache))); });
      if (keep.length) {
        const alt = 'has-text=' + part.raw.slice(part.raw.indexOf('=') + 1);
        s += '; "' + alt + '" would match ' + describe(keep[0]) + ' (text= looks for an element inside ' +
          'each match, has-text= keeps a match whose own text contains it)';
      }
    }
    return s;
  }

  // The top document has finished loading: an element that never showed is
  // then the script's (or the app's) doing, not the network's.
  const pageLoaded = () => topDocumentOf(document).readyState === 'complete';
  const absent = (parsed, r) => ({ wait: 'not attached', absent: true, loaded: pageLoaded(), detail: absentHint(parsed, r) });

  // Strict single element: {el} | {error} | {wait:"not attached"}.
  function resolveStrict(parsed, sel) {
    const r = resolve(parsed, sel);
    if (r.error) return { ok: false, error: r.error };
    if (r.els.length === 0) return absent(parsed, r);
    if (r.els.length > 1) {
      const shown = r.els.slice(0, 3).map(describe).join(', ');
      return {
        ok: false,
        error: 'strict mode violation: "' + sel + '" resolved to ' + r.els.length + ' elements: ' + shown +
          (r.els.length > 3 ? ', ...' : ''),
      };
    }
    return { el: r.els[0] };
  }

  // ----------------------------------------- locators by what a person sees
  //
  // The parts behind page:get_by_role / get_by_label / … (agent/lua/locators.lua):
  //   role=button[name="Invite"]   ARIA role (explicit, else the native
  //                                element's implicit one) and accessible name
  //   label=Email  placeholder=…  alt=…  title=…  testid=…
  // and the retrying checks behind expect(loc) and page:wait_for_url.  Names
  // are computed the way browsers and Playwright do (accname 1.2):
  // aria-labelledby, aria-label, <label>/alt/caption/legend, the content
  // for roles named by their content, then title and placeholder.  Elements
  // hidden from assistive technology (aria-hidden, display:none,
  // visibility:hidden) are not matched by role= unless include-hidden.

  const ARIA_ROLES = new Set(('alert alertdialog application article banner blockquote button caption cell ' +
    'checkbox code columnheader combobox complementary contentinfo definition deletion dialog directory ' +
    'document emphasis feed figure form generic grid gridcell group heading img insertion link list listbox ' +
    'listitem log main marquee math meter menu menubar menuitem menuitemcheckbox menuitemradio navigation ' +
    'none note option paragraph presentation progressbar radio radiogroup region row rowgroup rowheader ' +
    'scrollbar search searchbox separator slider spinbutton status strong subscript superscript switch tab ' +
    'table tablist tabpanel term textbox time timer toolbar tooltip tree treegrid treeitem').split(' '));

  // Roles whose name is their content (and every element met while
  // collecting another element's name from content).
  const NAME_FROM_CONTENT = new Set(['button', 'cell', 'checkbox', 'columnheader', 'gridcell', 'heading',
    'link', 'menuitem', 'menuitemcheckbox', 'menuitemradio', 'option', 'radio', 'row', 'rowheader',
    'switch', 'tab', 'tooltip', 'treeitem']);

  const INPUT_ROLES = { button: 'button', image: 'button', reset: 'button', submit: 'button',
    checkbox: 'checkbox', radio: 'radio', range: 'slider', number: 'spinbutton' };
  const SIMPLE_ROLES = { article: 'article', aside: 'complementary', blockquote: 'blockquote',
    button: 'button', caption: 'caption', code: 'code', datalist: 'listbox', dd: 'definition',
    del: 'deletion', details: 'group', dialog: 'dialog', dt: 'term', em: 'emphasis', fieldset: 'group',
    figure: 'figure', form: 'form', h1: 'heading', h2: 'heading', h3: 'heading', h4: 'heading',
    h5: 'heading', h6: 'heading', hr: 'separator', ins: 'insertion', li: 'listitem', main: 'main',
    math: 'math', menu: 'list', meter: 'meter', nav: 'navigation', ol: 'list', optgroup: 'group',
    option: 'option', output: 'status', p: 'paragraph', progress: 'progressbar', search: 'search',
    strong: 'strong', sub: 'subscript', sup: 'superscript', svg: 'img', table: 'table',
    tbody: 'rowgroup', tfoot: 'rowgroup', thead: 'rowgroup', textarea: 'textbox', time: 'time',
    tr: 'row', ul: 'list' };
  // header/footer are banner/contentinfo only outside sectioning content.
  const SECTIONING = 'article,aside,main,nav,section,[role=article],[role=complementary],[role=main],' +
    '[role=navigation],[role=region]';

  function inputRole(el) {
    const type = String(el.type || 'text').toLowerCase();
    if (type === 'hidden') return null;
    if (INPUT_ROLES[type]) return INPUT_ROLES[type];
    if (el.hasAttribute('list')) return 'combobox';
    return type === 'search' ? 'searchbox' : 'textbox';
  }

  function cellTable(el) {
    for (let n = parentInDoc(el); n; n = parentInDoc(n)) if (isTableLike(n)) return n;
    return null;
  }

  function thRole(el) {
    const scope = String(el.getAttribute('scope') || '').toLowerCase();
    if (scope === 'row' || scope === 'rowgroup') return 'rowheader';
    if (scope === 'col' || scope === 'colgroup') return 'columnheader';
    const row = el.parentElement;
    // a <th> leading a body row of data cells heads that row
    if (row && row.localName === 'tr' && !(row.parentElement && row.parentElement.localName === 'thead') &&
        Array.from(row.children).some((c) => c.localName === 'td')) return 'rowheader';
    return 'columnheader';
  }

  function implicitRole(el) {
    const tag = el.localName;
    if (SIMPLE_ROLES[tag]) return SIMPLE_ROLES[tag];
    switch (tag) {
      case 'a': case 'area': return el.hasAttribute('href') ? 'link' : null;
      case 'header': case 'footer': {
        const p = parentInDoc(el);
        if (p && p.closest(SECTIONING)) return null;
        return tag === 'header' ? 'banner' : 'contentinfo';
      }
      case 'img': return el.getAttribute('alt') === '' && !el.getAttribute('title') ? 'presentation' : 'img';
      case 'input': return inputRole(el);
      case 'section':
        return (el.getAttribute('aria-label') || '').trim() || el.hasAttribute('aria-labelledby') ? 'region' : null;
      case 'select': return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
      case 'td': {
        const t = cellTable(el);
        return t && /^(grid|treegrid)$/.test(t.getAttribute('role') || '') ? 'gridcell' : 'cell';
      }
      case 'th': return thRole(el);
    }
    return null;
  }

  const FOCUSABLE = 'a[href],button,input,select,textarea,[tabindex]';
  // The role a person's assistive technology announces, or null.
  function roleOf(el) {
    const explicit = el.getAttribute('role');
    if (explicit) {
      for (const r of explicit.trim().toLowerCase().split(/\s+/)) {
        if (!ARIA_ROLES.has(r)) continue;
        // role=none on a focusable element is ignored (ARIA's conflict rule)
        if (r === 'none' || r === 'presentation') {
          if (!el.matches(FOCUSABLE)) return null;
          break;
        }
        return r;
      }
    }
    const r = implicitRole(el);
    return r === 'presentation' ? null : r;
  }

  // Each query memoises what it computes: names of shared ancestors' parts,
  // hiddenness of ancestors.
  const newQuery = (includeHidden) => ({ hidden: new Map(), names: new Map(), text: new Map(), includeHidden });

  // aria-hidden="true" or display:none on the element or an ancestor.
  function hiddenUp(el, q) {
    let h = q.hidden.get(el);
    if (h !== undefined) return h;
    if (el.getAttribute('aria-hidden') === 'true') h = true;
    else {
      const st = styleOf(el);
      if (!st || st.display === 'none') h = true;
      else {
        const p = parentInDoc(el);
        h = p ? hiddenUp(p, q) : false;
      }
    }
    q.hidden.set(el, h);
    return h;
  }

  function hiddenForAria(el, q) {
    if (hiddenUp(el, q)) return true;
    const st = styleOf(el);
    return !st || (st.visibility !== 'visible' && st.display !== 'contents');
  }

  function idRefs(el, attr) {
    const ids = String(el.getAttribute(attr) || '').trim().split(/\s+/).filter(Boolean);
    if (!ids.length) return [];
    const root = el.getRootNode ? el.getRootNode() : el.ownerDocument;
    const byId = (id) => (root && typeof root.getElementById === 'function' ? root.getElementById(id)
      : el.ownerDocument.getElementById(id));
    return ids.map(byId).filter(Boolean);
  }

  // What a control contributes when it sits inside another element's name
  // ("Remove [3] seats"): its value, not its label.
  function embeddedValue(el, role) {
    const tag = el.localName;
    if (role === 'textbox' || role === 'searchbox') {
      return tag === 'input' || tag === 'textarea' ? String(el.value) : null;
    }
    if (role === 'combobox' || role === 'listbox') {
      if (tag === 'select') return Array.from(el.selectedOptions).map((o) => o.text).join(' ');
      if (tag === 'input') return String(el.value);
      return null;
    }
    if (role === 'slider' || role === 'spinbutton' || role === 'progressbar' || role === 'meter') {
      const t = el.getAttribute('aria-valuetext') || el.getAttribute('aria-valuenow');
      if (t) return t;
      return el.value !== undefined ? String(el.value) : null;
    }
    return null;
  }

  // The first child element with that tag, whose content names its parent
  // (<legend> a fieldset, <caption> a table, <figcaption> a figure).
  const NAMING_CHILD = { fieldset: 'legend', table: 'caption', figure: 'figcaption' };

  // st: {visited, inLabelledby, hiddenOk}; mode: root | labelledby | label | child
  function nameOf(el, q, st, mode) {
    if (st.visited.has(el)) return '';
    st.visited.add(el);
    if (mode === 'child' && !st.hiddenOk && hiddenForAria(el, q)) return '';
    if (!st.inLabelledby) {
      const refs = idRefs(el, 'aria-labelledby');
      if (refs.length) {
        const s = refs.map((r) => nameOf(r, q, { visited: st.visited, inLabelledby: true,
          hiddenOk: st.hiddenOk || hiddenForAria(r, q) }, 'labelledby')).join(' ');
        if (s.trim()) return s;
      }
    }
    const role = roleOf(el);
    if (mode === 'child' || mode === 'labelledby') {
      const v = embeddedValue(el, role);
      if (v !== null && mode === 'child') return v;
    }
    const aria = (el.getAttribute('aria-label') || '').trim();
    if (aria) return aria;
    const tag = el.localName;
    const sub = { visited: st.visited, inLabelledby: st.inLabelledby, hiddenOk: st.hiddenOk };
    if (tag === 'input' || tag === 'textarea' || tag === 'select') {
      const type = tag === 'input' ? String(el.type || 'text').toLowerCase() : '';
      if (type === 'button' || type === 'submit' || type === 'reset') {
        const v = String(el.value || '').trim();
        if (v) return v;
        if (type !== 'button') return type === 'submit' ? 'Submit' : 'Reset';
        return el.getAttribute('title') || '';
      }
      if (type === 'image') {
        return el.getAttribute('alt') || el.getAttribute('value') || el.getAttribute('title') || 'Submit';
      }
      const labels = Array.from(el.labels || []);
      if (labels.length) {
        const s = labels.map((l) => nameOf(l, q, sub, 'label')).join(' ');
        if (s.trim()) return s;
      }
      const title = (el.getAttribute('title') || '').trim();
      if (title) return title;
      return (el.getAttribute('placeholder') || '').trim();
    }
    if (tag === 'img' || tag === 'area') {
      const alt = (el.getAttribute('alt') || '').trim();
      if (alt) return alt;
    }
    if (NAMING_CHILD[tag]) {
      const c = Array.from(el.children).find((x) => x.localName === NAMING_CHILD[tag]);
      const s = c ? nameOf(c, q, sub, 'label') : '';
      if (s.trim()) return s;
    }
    if (tag === 'svg') {
      const t = Array.from(el.children).find((x) => x.localName === 'title');
      if (t && t.textContent.trim()) return t.textContent;
    }
    if (mode !== 'root' || NAME_FROM_CONTENT.has(role)) {
      const s = contentName(el, q, sub);
      if (s.trim()) return s;
    }
    return (el.getAttribute('title') || '').trim();
  }

  const INLINE_DISPLAY = /^(inline|contents)/;
  function contentName(el, q, st) {
    let s = '';
    const add = (n) => {
      if (n.nodeType === 3 || n.nodeType === 4) { s += n.data; return; }
      if (n.nodeType !== 1 || SKIP_TEXT.has(n.localName)) return;
      if (n.localName === 'slot' && inShadowTree(n)) { n.assignedNodes({ flatten: true }).forEach(add); return; }
      if (n.localName === 'br') { s += ' '; return; }
      const c = nameOf(n, q, st, 'child');
      const d = styleOf(n);
      s += d && !INLINE_DISPLAY.test(d.display) ? ' ' + c + ' ' : c;
    };
    for (let c = (el.shadowRoot || el).firstChild; c; c = c.nextSibling) add(c);
    return s;
  }

  // The accessible name, whitespace collapsed.
  function accessibleName(el, q) {
    let n = q.names.get(el);
    if (n === undefined) {
      n = collapse(nameOf(el, q, { visited: new Set(), inLabelledby: false, hiddenOk: q.includeHidden }, 'root'));
      q.names.set(el, n);
    }
    return n;
  }

  // States a role= part can ask for.
  function levelOf(el) {
    const a = parseInt(el.getAttribute('aria-level') || '', 10);
    if (a > 0) return a;
    const m = /^h([1-6])$/.exec(el.localName);
    return m ? Number(m[1]) : undefined;
  }
  function checkedOf(el) {
    if (el.localName === 'input' && (el.type === 'checkbox' || el.type === 'radio')) {
      return el.indeterminate ? 'mixed' : !!el.checked;
    }
    const a = el.getAttribute('aria-checked');
    return a === 'mixed' ? 'mixed' : a === 'true';
  }
  const tristate = (a) => (a === 'mixed' ? 'mixed' : a === 'true');
  const ROLE_STATES = {
    checked: checkedOf,
    pressed: (el) => tristate(el.getAttribute('aria-pressed')),
    selected: (el) => (el.localName === 'option' ? !!el.selected : el.getAttribute('aria-selected') === 'true'),
    expanded: (el) => el.getAttribute('aria-expanded') === 'true',
    disabled: (el) => !isEnabled(el),
  };

  function queryRole(root, spec) {
    const q = newQuery(spec.includeHidden);
    const out = [];
    walk(root, (el) => {
      if (roleOf(el) !== spec.role) return true;
      if (!spec.includeHidden && hiddenForAria(el, q)) return true;
      if (spec.level !== undefined && levelOf(el) !== spec.level) return true;
      for (const k of Object.keys(ROLE_STATES)) {
        if (spec[k] !== undefined && ROLE_STATES[k](el) !== spec[k]) return true;
      }
      if (spec.name && !spec.name(accessibleName(el, q))) return true;
      out.push(el);
      return true;
    });
    return out;
  }

  // label=: form controls by their <label>, aria-labelledby or aria-label.
  function queryLabel(root, match) {
    const q = newQuery(true);
    const out = [];
    walk(root, (el) => {
      const aria = el.getAttribute('aria-label');
      let hit = aria !== null && match(collapse(aria));
      if (!hit && el.hasAttribute('aria-labelledby')) {
        const s = idRefs(el, 'aria-labelledby').map((r) => nameOf(r, q,
          { visited: new Set([el]), inLabelledby: true, hiddenOk: true }, 'labelledby')).join(' ');
        hit = !!collapse(s) && match(collapse(s));
      }
      if (!hit && el.labels && el.labels.length) {
        hit = Array.from(el.labels).some((l) => match(labelText(l, q.text)));
      }
      if (hit) out.push(el);
      return true;
    });
    return out;
  }

  // A <label>'s own words: its text without the options of a <select> or
  // the content of a <textarea> it wraps ("Role", not "Role admin member").
  function labelText(label, cache) {
    let s = '';
    const add = (n) => {
      if (n.nodeType === 3 || n.nodeType === 4) { s += n.data; return; }
      if (n.nodeType !== 1 || n.localName === 'select' || n.localName === 'textarea') return;
      s += elementText(n, cache);
    };
    for (let c = label.firstChild; c; c = c.nextSibling) add(c);
    return collapse(s);
  }

  function queryAttr(root, attr, match) {
    const out = [];
    walk(root, (el) => {
      const v = el.getAttribute(attr);
      if (v !== null && match(v)) out.push(el);
      return true;
    });
    return out;
  }

  // "…" or '…' with backslash escapes, starting at s[i]: {value, end} or null.
  function readQuoted(s, i) {
    const qc = s[i];
    let v = '';
    for (let j = i + 1; j < s.length; j++) {
      if (s[j] === '\\' && j + 1 < s.length) { v += s[++j]; continue; }
      if (s[j] === qc) return { value: v, end: j + 1 };
      v += s[j];
    }
    return null;
  }

  // /re/flags starting at s[i] (a "/" inside [...] or escaped does not end it).
  function readRegex(s, i) {
    let inClass = false;
    for (let j = i + 1; j < s.length; j++) {
      const c = s[j];
      if (c === '\\') { j++; continue; }
      if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      else if (c === '/' && !inClass) {
        const flags = /^[a-z]*/.exec(s.slice(j + 1))[0];
        try {
          return { rx: new RegExp(s.slice(i + 1, j), flags.replace(/[gy]/g, '')), end: j + 1 + flags.length };
        } catch (e) {
          return { error: 'invalid regular expression: ' + e.message };
        }
      }
    }
    return { error: 'unterminated regular expression' };
  }

  const ROLE_KEYS = 'name, level, checked, pressed, selected, expanded, disabled, include-hidden';

  // role=button[name="Invite"][pressed=true]: name "x" (or bare x, or "x"i)
  // is a case-insensitive substring, "x"s exact and case-sensitive, /re/
  // a regular expression; all against the whitespace-collapsed name.
  function parseRole(body) {
    const m = /^\s*([a-zA-Z]+)/.exec(body);
    if (!m) return { error: 'role= wants a role name, as in role=button[name="Save"]' };
    const spec = { role: m[1].toLowerCase() };
    if (!ARIA_ROLES.has(spec.role)) return { error: 'unknown role "' + m[1] + '"' };
    let i = m[0].length;
    const ws = () => { while (i < body.length && /\s/.test(body[i])) i++; };
    for (ws(); i < body.length; ws()) {
      if (body[i] !== '[') return { error: 'unexpected "' + body.slice(i) + '" after role ' + spec.role };
      i++; ws();
      const k = /^[a-zA-Z_-]+/.exec(body.slice(i));
      if (!k) return { error: 'role attribute wants a name (' + ROLE_KEYS + ')' };
      const key = k[0].toLowerCase().replace(/_/g, '-');
      i += k[0].length; ws();
      let val = true, matcher = null;
      if (body[i] === '=') {
        i++; ws();
        if (body[i] === '"' || body[i] === "'") {
          const qv = readQuoted(body, i);
          if (!qv) return { error: 'unterminated quote in role attribute ' + key };
          i = qv.end;
          const flag = body[i] === 's' || body[i] === 'i' ? body[i++] : '';
          const want = collapse(qv.value);
          val = qv.value;
          matcher = flag === 's' ? (t) => t === want : (t) => t.toLowerCase().includes(want.toLowerCase());
        } else if (body[i] === '/') {
          const r = readRegex(body, i);
          if (r.error) return { error: r.error };
          i = r.end;
          matcher = (t) => r.rx.test(t);
        } else {
          const e = body.indexOf(']', i);
          if (e < 0) return { error: 'missing "]" in role attribute ' + key };
          val = body.slice(i, e).trim();
          i = e;
          const want = collapse(val).toLowerCase();
          matcher = (t) => t.toLowerCase().includes(want);
        }
        ws();
      }
      if (body[i] !== ']') return { error: 'missing "]" after role attribute ' + key };
      i++;
      if (key === 'name') {
        if (!matcher) return { error: 'name wants a value, as in [name="Save"]' };
        spec.name = matcher;
      } else if (key === 'level') {
        if (!/^\d+$/.test(String(val))) return { error: 'level wants a number, got "' + val + '"' };
        spec.level = Number(val);
      } else if (key === 'include-hidden' || ROLE_STATES[key]) {
        const v = val === true ? true : String(val).toLowerCase();
        if (v !== true && v !== 'true' && v !== 'false' && !(v === 'mixed' && (key === 'checked' || key === 'pressed'))) {
          return { error: key + ' wants true or false' + (key === 'checked' || key === 'pressed' ? ' or mixed' : '') +
            ', got "' + val + '"' };
        }
        const b = v === 'mixed' ? 'mixed' : v === true || v === 'true';
        if (key === 'include-hidden') spec.includeHidden = b; else spec[key] = b;
      } else {
        return { error: 'unknown role attribute "' + k[0] + '" (known: ' + ROLE_KEYS + ')' };
      }
    }
    return { kind: 'query', query: (r) => queryRole(r, spec) };
  }

  function parseSeenPart(engine, body) {
    switch (engine) {
      case 'role': return parseRole(body);
      case 'label':
      case 'placeholder':
      case 'alt':
      case 'title': {
        const t = parseTextPattern(body);
        if (t.error) return t;
        if (engine === 'label') return { kind: 'query', query: (r) => queryLabel(r, t.match) };
        return { kind: 'query', query: (r) => queryAttr(r, engine, (v) => t.match(collapse(v))) };
      }
      case 'testid': {
        let v = body.trim();
        if (v && (v[0] === '"' || v[0] === "'")) {
          const qv = readQuoted(v, 0);
          if (!qv || qv.end !== v.length) return { error: 'unterminated quote in testid=' };
          v = qv.value;
        }
        if (!v) return { error: 'empty test id' };
        return { kind: 'query', query: (r) => queryAttr(r, 'data-testid', (x) => x === v) };
      }
    }
    return null;
  }

  // ---- expect(loc) and wait_for_url: conditions polled inside the page

  // A wanted text or value: ["string", text, ignoreCase] or ["regex",
  // source, flags] (arrays: the agent's JSON keeps their order, so a
  // recorded call replays byte for byte).
  function textMatcher(w, contains) {
    if (!Array.isArray(w)) throw new Error('a wanted text must be ["string"|"regex", value, flag]');
    if (w[0] === 'regex') {
      const rx = new RegExp(String(w[1]), String(w[2] || '').replace(/[gy]/g, ''));
      return (t) => rx.test(t);
    }
    const ic = !!w[2];
    const want = ic ? collapse(w[1]).toLowerCase() : collapse(w[1]);
    return (t) => {
      const got = ic ? collapse(t).toLowerCase() : collapse(t);
      return contains ? got.includes(want) : got === want;
    };
  }

  const strictError = (sel, els) => 'strict mode violation: "' + sel + '" resolved to ' + els.length +
    ' elements: ' + els.slice(0, 3).map(describe).join(', ') + (els.length > 3 ? ', ...' : '');

  // One look at the condition: {pass, received} | {error}.
  function expectLook(parsed, sel, what, want) {
    const r = resolve(parsed, sel);
    if (r.error) return { error: r.error };
    const els = r.els;
    if (what === 'count') return { pass: els.length === want, received: els.length };
    if ((what === 'text' || what === 'contain_text') && Array.isArray(want) && Array.isArray(want[0])) {
      const texts = els.map((e) => collapse(renderedText(e)));
      const ms = want.map((w) => textMatcher(w, what === 'contain_text'));
      return { pass: texts.length === ms.length && ms.every((m, i) => m(texts[i])), received: texts };
    }
    if (els.length > 1) return { error: strictError(sel, els) };
    const el = els[0];
    if (what === 'visible') return { pass: !!el && isVisible(el), received: el ? (isVisible(el) ? 'visible' : 'hidden') : null };
    if (!el) return { pass: false, received: null, absent: true };
    switch (what) {
      case 'text':
      case 'contain_text': {
        const t = collapse(renderedText(el));
        return { pass: textMatcher(want, what === 'contain_text')(t), received: t };
      }
      case 'value': {
        const v = readValue(el);
        if (!v.ok) return { error: v.error };
        return { pass: textMatcher(want, false)(v.value), received: v.value };
      }
      case 'checked': {
        const c = checkTarget(el);
        if (!c) return { error: 'not a checkbox or radio: ' + describe(el) };
        const s = checkedState(c);
        return { pass: s === want, received: s ? 'checked' : 'unchecked' };
      }
      case 'enabled': {
        const e = isEnabled(el);
        return { pass: e === want, received: e ? 'enabled' : 'disabled' };
      }
      case 'attribute': {
        const v = el.getAttribute(want[0]);
        return { pass: v !== null && textMatcher(want[1], false)(v), received: v };
      }
    }
    return { error: 'unknown expectation "' + what + '"' };
  }

  // {ok:true, received} once the condition holds (fails, when negated);
  // else {ok:false, reason:'unmet', received, absent?}.
  async function expectState(sel, what, want, negate, budgetMs) {
    const parsed = parseSelector(sel);
    if (parsed.error) return { ok: false, error: parsed.error };
    if (what === 'visible' || what === 'hidden') { negate = what === 'hidden' ? !negate : negate; what = 'visible'; }
    let last = null;
    let sawAny = false;
    const r = await poll(budgetMs, async () => {
      let l;
      try {
        l = expectLook(parsed, sel, what, want);
      } catch (e) {
        return { ok: false, error: 'bad expectation: ' + e.message };
      }
      if (l.error) return { ok: false, error: l.error };
      last = l;
      if (!l.absent) sawAny = true;
      if (l.pass !== !!negate) return { ok: true, received: l.received };
      return { wait: 'unmet' };
    });
    if (r.ok || r.error) return r;
    return { ok: false, reason: 'unmet', received: last ? last.received : null, absent: !sawAny, loaded: pageLoaded() };
  }

  // page:wait_for_url: want ["exact"|"glob"|"regex", value, flags];
  // waitUntil load | domcontentloaded | commit.
  function globRegex(g) {
    let s = '';
    for (let i = 0; i < g.length; i++) {
      if (g[i] === '*') {
        if (g[i + 1] === '*') { s += '.*'; i++; } else s += '[^/]*';
      } else s += g[i].replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp('^' + s + '$');
  }
  async function waitUrl(want, waitUntil, budgetMs) {
    let test;
    try {
      if (!Array.isArray(want)) throw new Error('want ["exact"|"glob"|"regex", value, flags]');
      if (want[0] === 'regex') {
        const rx = new RegExp(String(want[1]), String(want[2] || '').replace(/[gy]/g, ''));
        test = (u) => rx.test(u);
      } else if (want[0] === 'glob') {
        const rx = globRegex(String(want[1]));
        test = (u) => rx.test(u);
      } else {
        test = (u) => u === String(want[1]);
      }
    } catch (e) {
      return { ok: false, error: 'invalid url pattern: ' + e.message };
    }
    let href = '';
    const r = await poll(budgetMs, async () => {
      href = String(location.href);
      if (!test(href)) return { wait: 'unmet' };
      const rs = document.readyState;
      if (waitUntil === 'load' && rs !== 'complete') return { wait: 'not loaded' };
      if (waitUntil === 'domcontentloaded' && rs === 'loading') return { wait: 'not loaded' };
      return { ok: true, url: href };
    });
    if (!r.ok && !r.error) r.url = href;
    return r;
  }

  const SEEN_API = { expect: expectState, waitUrl };

  // ----------------------------------------------------------- element state

  function isVisible(el) {
    if (!isElement(el) || !el.isConnected) return false;
    // <option>s have no box of their own inside a drop-down: use the select's.
    if (el.localName === 'option' || el.localName === 'optgroup') {
      const s = el.closest('select');
      if (s) return isVisible(s);
    }
    const st = styleOf(el);
    if (!st) return false;
    if (st.display === 'contents') {
      // No box of its own: visible if any rendered child is.
      if (flatChildren(el).some(isVisible)) return true;
      if (st.visibility !== 'visible') return false;
      for (let c = el.firstChild; c; c = c.nextSibling) {
        if (c.nodeType === 3 && c.data.trim()) {
          const r = el.ownerDocument.createRange();
          r.selectNodeContents(c);
          const b = r.getBoundingClientRect();
          if (b.width > 0 && b.height > 0) return true;
        }
      }
      return false;
    }
    if (st.visibility !== 'visible') return false;
    const r = el.getBoundingClientRect();
    if (!(r.width > 0 && r.height > 0)) return false;
    const fe = frameElementOf(el.ownerDocument);
    return fe ? isVisible(fe) : true;
  }

  function isEnabled(el) {
    try { if (el.matches(':disabled')) return false; } catch (e) { /* not matchable */ }
    for (let n = el; n; n = composedParent(n)) {
      if (isElement(n) && n.getAttribute('aria-disabled') === 'true') return false;
    }
    return true;
  }

  function isReadOnly(el) {
    if ((el.localName === 'input' || el.localName === 'textarea') && el.readOnly) return true;
    return el.getAttribute('aria-readonly') === 'true';
  }

  function isContentEditable(el) {
    if (el.isContentEditable) return true;
    // isContentEditable is false while not rendered; fall back to the attribute.
    const ce = el.closest('[contenteditable]');
    return !!ce && ce.getAttribute('contenteditable').toLowerCase() !== 'false';
  }

  // Top-level rect, used for the stability check.
  function topRect(el) {
    const r = el.getBoundingClientRect();
    const o = frameChainOffset(el.ownerDocument);
    return [r.left + o.x, r.top + o.y, r.width, r.height];
  }

  // CSS animations/transitions moving the element (on it or an ancestor).
  // Checked besides comparing frames because (a) a just-started animation
  // leaves the element still for a frame or two, and (b) when rAF is
  // throttled the two rect reads may fall in the same frame.
  const GEOMETRY_PROP = /^(left|top|right|bottom|inset|transform|translate|scale|rotate|margin|padding|width|height|offset|zoom|perspective)/i;
  function animatesGeometry(el) {
    const doc = el.ownerDocument;
    if (!doc || typeof doc.getAnimations !== 'function') return false;
    for (const an of doc.getAnimations()) {
      if (!an.pending && an.playState !== 'running') continue;
      const eff = an.effect;
      const t = eff && !eff.pseudoElement ? eff.target : null;
      if (!t) continue;
      let onPath = false;
      for (let n = el; n && !onPath; n = parentInDoc(n)) onPath = n === t;
      if (!onPath) continue;
      let props = [];
      try {
        if (typeof an.transitionProperty === 'string') props = [an.transitionProperty];
        else for (const k of eff.getKeyframes()) props.push(...Object.keys(k));
      } catch (e) {
        return true;
      }
      if (props.some((p) => GEOMETRY_PROP.test(p))) return true;
    }
    return false;
  }

  // Same top-level rect on two consecutive animation frames (this also
  // catches script-driven movement).  The frame wait is bounded since rAF
  // may be throttled; then the timer-spaced comparison is all we have.
  // An element whose rect an earlier check (a frame or more ago) saw at
  // the same place has not moved: no frame to wait for again (a retried
  // click behind a toast, a second click on the same button).
  const lastSeen = new WeakMap();
  const sameRect = (a, b) => a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
  async function isStable(el, maxMs) {
    if (animatesGeometry(el)) {
      await nextFrame(maxMs);
      return false;
    }
    const a = topRect(el);
    const seen = lastSeen.get(el);
    lastSeen.set(el, { rect: a, at: now() });
    if (seen && now() - seen.at >= 16 && sameRect(seen.rect, a)) return true;
    await nextFrame(maxMs);
    if (!el.isConnected) return false;
    const b = topRect(el);
    lastSeen.set(el, { rect: b, at: now() });
    return sameRect(a, b);
  }

  const intersect = (a, b) => [Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])];
  const area = (b) => Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);

  // Whether the element's box is entirely visible: not clipped by overflowing
  // ancestors, its viewport, or (recursively) the frames containing it.
  function isFullyInView(el) {
    const r = el.getBoundingClientRect();
    let box = [r.left, r.top, r.right, r.bottom];
    const full = area(box);
    if (full <= 0) return true;
    let cur = el;
    for (let depth = 0; depth < 32; depth++) {
      const doc = cur.ownerDocument;
      const cst = styleOf(cur);
      let escaped = !!cst && cst.position === 'fixed';
      for (let a = parentInDoc(cur); a && !escaped; a = parentInDoc(a)) {
        if (a === doc.documentElement || a === doc.body) break; // the viewport clips these
        const st = styleOf(a);
        if (!st) continue;
        if (st.overflowX !== 'visible' || st.overflowY !== 'visible') {
          const ar = a.getBoundingClientRect();
          const l = ar.left + a.clientLeft, t = ar.top + a.clientTop;
          box = intersect(box, [l, t, l + a.clientWidth, t + a.clientHeight]);
        }
        if (st.position === 'fixed') escaped = true;
      }
      const vp = viewportSize(doc);
      box = intersect(box, [0, 0, vp.w, vp.h]);
      if (area(box) <= 0) return false;
      const fe = frameElementOf(doc);
      if (!fe) break;
      const o = frameContentOffset(fe);
      box = [box[0] + o.x, box[1] + o.y, box[2] + o.x, box[3] + o.y];
      cur = fe;
    }
    return area(box) >= full - 1;
  }

  function scrollIntoViewIfNeeded(el) {
    if (isFullyInView(el)) return false;
    try {
      el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
    } catch (e) {
      el.scrollIntoView();
    }
    return true;
  }

  // Click point in top-level viewport pixels: centre of the visible part of
  // the first client rect that intersects the viewport, else the bounding
  // rect's centre; or opts.position relative to the element's top-left.
  function clickPoint(el, position) {
    const doc = el.ownerDocument;
    const off = frameChainOffset(doc);
    const br = el.getBoundingClientRect();
    if (position && typeof position === 'object') {
      const px = Number(position.x) || 0, py = Number(position.y) || 0;
      return { x: round2(br.left + px + off.x), y: round2(br.top + py + off.y) };
    }
    const vp = viewportSize(doc);
    for (const r of el.getClientRects()) {
      if (!(r.width > 0 && r.height > 0)) continue;
      const b = intersect([r.left, r.top, r.right, r.bottom], [0, 0, vp.w, vp.h]);
      if (area(b) > 0) return { x: round2((b[0] + b[2]) / 2 + off.x), y: round2((b[1] + b[3]) / 2 + off.y) };
    }
    return { x: round2(br.left + br.width / 2 + off.x), y: round2(br.top + br.height / 2 + off.y) };
  }

  // Hit-test the top-level point, descending into open shadow roots and
  // same-origin frames.  Returns null if the target (or something inside it)
  // would receive the event, else a wait status.
  function hitCheck(target, x, y) {
    const doc = topDocumentOf(target.ownerDocument);
    let lx = x, ly = y;
    let hit = doc.elementFromPoint(lx, ly);
    for (let i = 0; hit && i < 64; i++) {
      if (hit.shadowRoot) {
        const inner = hit.shadowRoot.elementFromPoint(lx, ly);
        if (inner && inner !== hit) { hit = inner; continue; }
      }
      if (isFrame(hit)) {
        const d = frameDoc(hit);
        if (d) {
          const o = frameContentOffset(hit);
          const inner = d.elementFromPoint(lx - o.x, ly - o.y);
          if (inner) { lx -= o.x; ly -= o.y; hit = inner; continue; }
        }
      }
      break;
    }
    if (!hit) return { wait: 'not in viewport', detail: 'no element at (' + x + ', ' + y + ')' };
    for (let n = hit; n; n = composedParent(n)) if (n === target) return null;
    return {
      wait: 'covered', detail: describe(hit) + ' intercepts pointer events', cover: shortName(hit),
      crossFrame: isFrame(hit) && !frameDoc(hit),
    };
  }

  // ------------------------------------------------------------ waiting loop

  // Runs step() until it returns something without a `wait` key, or the
  // budget runs out; then {ok:false, reason:<last wait>, detail?}.
  async function poll(budgetMs, step) {
    const budget = Number.isFinite(Number(budgetMs)) ? Math.max(0, Number(budgetMs)) : 0;
    const deadline = now() + budget;
    let found = false; // something matched during this budget (then it is not "absent")
    for (;;) {
      const r = await step(deadline);
      if (r.wait === undefined) return r;
      if (!r.absent) found = true;
      const remaining = deadline - now();
      if (remaining <= 0) {
        const out = { ok: false, reason: r.wait };
        if (r.detail) out.detail = r.detail;
        if (r.absent && !found) { out.absent = true; out.loaded = !!r.loaded; }
        return out;
      }
      await nextFrame(Math.min(remaining, 30));
    }
  }

  // Frame wait for the stability check: long enough for a real frame (the
  // check is meaningless without one), short enough to stay near the budget.
  const stableWait = (deadline) => Math.max(50, Math.min(100, deadline - now()));

  function dispatch(el, type) {
    const w = el.ownerDocument.defaultView;
    const Ev = (w && w.Event) || Event;
    el.dispatchEvent(new Ev(type, { bubbles: true, composed: true }));
  }

  // ------------------------------------------------------------------ actions

  // Checkable control behind an element: {click, ctl, kind:'input'|'aria'}.
  const ARIA_CHECKABLE = new Set(['checkbox', 'radio', 'switch', 'menuitemcheckbox', 'menuitemradio']);
  function checkTarget(el) {
    const isBox = (n) => !!n && n.localName === 'input' && (n.type === 'checkbox' || n.type === 'radio');
    if (isBox(el)) return { click: el, ctl: el, kind: 'input' };
    if (el.localName === 'label' && isBox(el.control)) return { click: el, ctl: el.control, kind: 'input' };
    const role = (el.getAttribute('role') || '').trim().toLowerCase();
    if (ARIA_CHECKABLE.has(role)) return { click: el, ctl: el, kind: 'aria' };
    return null;
  }
  function checkedState(t) {
    return t.kind === 'input' ? !!t.ctl.checked : t.ctl.getAttribute('aria-checked') === 'true';
  }
  const isRadio = (t) => (t.kind === 'input' ? t.ctl.type === 'radio' : /radio/.test(t.ctl.getAttribute('role') || ''));

  // ------------------------------------------------------- hit-target guard

  // The checks above run before the agent sends the mouse events; a layout
  // shift in between (a banner, a strength meter, a web font) sends them to
  // another element.  So an action that passed its checks also arms a
  // capturing listener on every window from the target's up to the top: the
  // first trusted event decides whether it hit the target (or something
  // inside it); if not, that event and every later one of the action are
  // cancelled before the page sees them, and landed() tells the agent who
  // got them, so it can retry.  Only one guard is armed at a time.
  const GUARD_EVENTS = {
    // not mousemove: the agent moves the mouse first, and that move is what
    // may shift the layout (the press after it is what must land)
    press: ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click', 'auxclick', 'dblclick', 'contextmenu'],
    // the over events target the element under the pointer (enter events
    // go to every entered ancestor, so they say nothing about the hit)
    hover: ['pointerover', 'mouseover', 'pointermove', 'mousemove'],
  };
  const GUARD_TTL_MS = 15000; // never outlive the action that armed it
  let armed = null;

  function disarm() {
    const g = armed;
    if (!g) return null;
    armed = null;
    clearTimeout(g.timer);
    for (const [w, type] of g.listeners) {
      try { w.removeEventListener(type, g.listener, true); } catch (e) { /* frame gone */ }
    }
    return g;
  }

  function arm(target, action, pt) {
    disarm();
    const g = { target, pt, verdict: null, hit: null, listeners: [] };
    g.listener = (ev) => {
      if (!ev.isTrusted) return;
      if (g.verdict === null) {
        const path = typeof ev.composedPath === 'function' ? ev.composedPath() : [];
        const hit = path.length ? path[0] : ev.target;
        g.verdict = within(target, hit) ? 'landed' : 'missed';
        if (g.verdict === 'missed') g.hit = hit;
      }
      if (g.verdict === 'missed') {
        ev.preventDefault();
        ev.stopImmediatePropagation();
      }
    };
    const types = action === 'hover' ? GUARD_EVENTS.hover : GUARD_EVENTS.press;
    for (let d = target.ownerDocument, i = 0; d && i < 32; i++) {
      const w = d.defaultView;
      if (w) {
        for (const t of types) {
          w.addEventListener(t, g.listener, true);
          g.listeners.push([w, t]);
        }
      }
      const fe = frameElementOf(d);
      d = fe ? fe.ownerDocument : null;
    }
    g.timer = setTimeout(() => { if (armed === g) disarm(); }, GUARD_TTL_MS);
    armed = g;
  }

  // The frame element that holds the focus of doc's window, if any.
  function focusedFrame(doc) {
    const a = doc && doc.activeElement;
    return a && (a.tagName === 'IFRAME' || a.tagName === 'FRAME') ? a : null;
  }

  // After the mouse events: {verdict:'landed'|'missed'|'unseen'|'none', hit?, encloses?}.
  // 'unseen': no event reached an armed window (a cross-origin frame, or a
  // page listener that stopped it first); 'none': nothing was armed (e.g.
  // the click navigated and this is a new document).
  function landed() {
    const g = disarm();
    if (!g) return { ok: true, verdict: 'none' };
    if (g.verdict === null) {
      // No armed window saw an event: if a cross-origin frame (a chat
      // widget, an ad), where no listener of ours can be, now sits at the
      // point, it got them.
      const h = g.target.isConnected ? hitCheck(g.target, g.pt.x, g.pt.y) : null;
      if (h && h.crossFrame) return { ok: true, verdict: 'missed', hit: h.cover, encloses: false };
      // The frame may have moved away again by now (a widget shown for a
      // moment), but a press inside a frame leaves that frame focused.
      const fr = focusedFrame(g.target.ownerDocument);
      if (fr && !within(g.target, fr) && !within(fr, g.target)) {
        return { ok: true, verdict: 'missed', hit: shortName(fr), encloses: false };
      }
      return { ok: true, verdict: 'unseen' };
    }
    if (g.verdict === 'landed') return { ok: true, verdict: 'landed' };
    return {
      ok: true, verdict: 'missed', hit: shortName(g.hit), hit_detail: describe(g.hit),
      encloses: isElement(g.hit) && within(g.hit, g.target),
    };
  }

  // Scroll alignments tried in turn while something covers the element (a
  // sticky header over an element that is "in view"), as Playwright does.
  const COVER_SCROLLS = ['end', 'center', 'start'];
  function scrollAside(el, n) {
    const block = COVER_SCROLLS[n % COVER_SCROLLS.length];
    try {
      el.scrollIntoView({ block, inline: 'nearest', behavior: 'instant' });
    } catch (e) {
      el.scrollIntoView(block !== 'start');
    }
  }

  // click / dblclick / hover / check / uncheck.  st: state kept across the
  // polls of one act() call.
  async function pointerStep(el, action, opts, deadline, st) {
    let target = el, enabledEl = el, checkInfo = null;
    if (action === 'check' || action === 'uncheck') {
      checkInfo = checkTarget(el);
      if (!checkInfo) return { ok: false, error: 'not a checkbox or radio: ' + describe(el) };
      const want = action === 'check';
      const cur = checkedState(checkInfo);
      if (cur === want) return { ok: true, done: true, checked: cur };
      if (!want && isRadio(checkInfo)) return { ok: false, error: 'cannot uncheck a radio button: ' + describe(el) };
      target = checkInfo.click;
      enabledEl = checkInfo.ctl;
    }
    const force = !!opts.force;
    if (!force) {
      if (!isVisible(target)) return { wait: 'not visible', detail: describe(target) };
      if (action !== 'hover' && !isEnabled(enabledEl)) return { wait: 'not enabled', detail: describe(enabledEl) };
    }
    if (st && st.covered) scrollAside(target, st.covered - 1);
    else scrollIntoViewIfNeeded(target);
    if (!force) {
      if (!(await isStable(target, stableWait(deadline)))) {
        return target.isConnected ? { wait: 'not stable', detail: describe(target) } : { wait: 'not attached' };
      }
    }
    const pt = clickPoint(target, opts.position);
    if (!force) {
      const h = hitCheck(target, pt.x, pt.y);
      if (h) {
        if (h.wait === 'covered' && st) st.covered = (st.covered || 0) + 1;
        return h;
      }
      if (opts.guard) arm(target, action, pt);
    }
    const res = { ok: true, x: pt.x, y: pt.y };
    if (checkInfo) res.checked = checkedState(checkInfo);
    return res;
  }

  const TEXT_INPUT_TYPES = new Set(['text', 'email', 'password', 'search', 'tel', 'url', 'number']);
  const DIRECT_INPUT_TYPES = new Set(['date', 'time', 'datetime-local', 'month', 'week', 'color', 'range']);
  const NUMBER_RE = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

  function fillTarget(el) {
    let t = el;
    if (t.localName === 'label' && t.control) t = t.control;
    if (t.localName === 'input') {
      const ty = String(t.type || 'text').toLowerCase();
      if (DIRECT_INPUT_TYPES.has(ty)) return { el: t, direct: ty };
      if (TEXT_INPUT_TYPES.has(ty)) return { el: t, type: ty };
      return { error: 'input of type "' + ty + '" cannot be filled: ' + describe(t) };
    }
    if (t.localName === 'textarea') return { el: t };
    if (isContentEditable(t)) return { el: t, ce: true };
    return { error: 'not an input, textarea or contenteditable element: ' + describe(el) };
  }

  function fillStep(el, opts) {
    const t = fillTarget(el);
    if (t.error) return { ok: false, error: t.error };
    const target = t.el;
    const value = String(opts.value);
    if (!isVisible(target)) return { wait: 'not visible', detail: describe(target) };
    if (!isEnabled(target)) return { wait: 'not enabled', detail: describe(target) };
    if (isReadOnly(target)) return { wait: 'not editable', detail: describe(target) };
    if (t.direct) {
      // No typing into these: set the value the way a picker would.
      target.focus();
      target.value = value;
      const got = String(target.value);
      const same = t.direct === 'color' ? got.toLowerCase() === value.toLowerCase() : got === value;
      if (!same) return { ok: false, error: 'malformed value "' + value + '" for input type=' + t.direct };
      dispatch(target, 'input');
      dispatch(target, 'change');
      return { ok: true, done: true };
    }
    if (t.type === 'number' && value !== '' && !NUMBER_RE.test(value)) {
      return { ok: false, error: 'malformed value "' + value + '" for input type=number' };
    }
    target.focus();
    // A page that moves the focus elsewhere (a modal's autofocus, a focus
    // trap) would get the text: never type into another element.
    const active = deepActive(topDocumentOf(target.ownerDocument));
    if (active !== target && !(t.ce && active && (within(active, target) || within(target, active)))) {
      return { wait: 'not focused', detail: 'the focus went to ' + shortName(active), focus: shortName(active) };
    }
    if (t.ce) {
      const doc = target.ownerDocument;
      const range = doc.createRange();
      range.selectNodeContents(target);
      const s = doc.defaultView.getSelection();
      s.removeAllRanges();
      s.addRange(range);
    } else {
      target.select();
    }
    return { ok: true, mode: 'insert', password: t.type === 'password' };
  }

  function selectStep(el, opts) {
    let s = el;
    if (s.localName === 'label' && s.control) s = s.control;
    if (s.localName !== 'select') return { ok: false, error: 'not a select element: ' + describe(el) };
    if (!isVisible(s)) return { wait: 'not visible', detail: describe(s) };
    if (!isEnabled(s)) return { wait: 'not enabled', detail: describe(s) };
    const options = Array.from(s.options);
    const picks = [];
    for (const v of opts.values) {
      const want = String(v);
      let o = options.find((x) => x.value === want);
      if (!o) {
        const w = collapse(want);
        o = options.find((x) => collapse(x.label) === w || collapse(x.text) === w);
      }
      if (!o) return { wait: 'no option "' + want + '"', detail: describe(s) };
      if (o.disabled) return { wait: 'no enabled option "' + want + '"', detail: describe(s) };
      if (!picks.includes(o)) picks.push(o);
    }
    if (!s.multiple && picks.length > 1) {
      return { ok: false, error: 'select is not multiple but ' + picks.length + ' values were given: ' + describe(s) };
    }
    if (s.multiple) {
      for (const o of options) o.selected = picks.includes(o);
    } else if (picks.length === 0) {
      s.selectedIndex = -1;
    } else {
      picks[0].selected = true;
    }
    dispatch(s, 'input');
    dispatch(s, 'change');
    return { ok: true, done: true, selected: Array.from(s.selectedOptions).map((o) => o.value) };
  }

  const POINTER_ACTIONS = new Set(['click', 'dblclick', 'hover', 'check', 'uncheck']);

  async function act(action, sel, budgetMs, opts) {
    opts = opts && typeof opts === 'object' ? opts : {};
    const known = POINTER_ACTIONS.has(action) || ['fill', 'select', 'focus', 'press', 'scroll'].includes(action);
    if (!known) return { ok: false, error: 'unknown action "' + action + '"' };
    if (action === 'fill' && (opts.value === undefined || opts.value === null)) {
      return { ok: false, error: 'fill needs opts.value' };
    }
    if (action === 'select' && !Array.isArray(opts.values)) {
      return { ok: false, error: 'select needs opts.values (an array of strings)' };
    }
    const parsed = parseSelector(sel);
    if (parsed.error) return { ok: false, error: parsed.error };
    const st = {};
    return poll(budgetMs, async (deadline) => {
      const r = resolveStrict(parsed, sel);
      if (!r.el) return r;
      const el = r.el;
      if (POINTER_ACTIONS.has(action)) return pointerStep(el, action, opts, deadline, st);
      switch (action) {
        case 'fill': return fillStep(el, opts);
        case 'select': return selectStep(el, opts);
        case 'focus':
        case 'press':
          el.focus();
          return { ok: true };
        case 'scroll':
          if (!isVisible(el)) return { wait: 'not visible', detail: describe(el) };
          scrollIntoViewIfNeeded(el);
          return { ok: true };
      }
      return { ok: false, error: 'unknown action "' + action + '"' };
    });
  }

  // -------------------------------------------------------------------- reads

  // Visible text of an element, trimmed.  innerText is used wherever it is
  // right; it is not across open shadow roots (it ignores them) nor for a
  // <select> (it lists every option), so subtrees holding either are
  // assembled by hand from the flat tree, with innerText for the rest.
  function renderedText(el) {
    if (typeof el.innerText !== 'string') return collapse(el.textContent); // SVG & co
    const need = new Set();
    const mark = (n) => {
      for (let m = n; m && !need.has(m); m = m === el ? null : composedParent(m)) need.add(m);
    };
    if (el.shadowRoot || el.localName === 'select') mark(el);
    walk(el, (n) => { if (n.shadowRoot || n.localName === 'select') mark(n); });
    if (!need.size) return el.innerText.trim();
    if (!el.getClientRects().length && styleOf(el) && styleOf(el).display !== 'contents') {
      return collapse(elementText(el, new Map())); // not rendered: like innerText's textContent fallback
    }
    return composedText(el, need).split('\n').map((l) => l.replace(/[ \t]+/g, ' ').trim())
      .join('\n').replace(/\n{3,}/g, '\n\n').trim();
  }

  const BLOCK_DISPLAY = /^(block|flex|grid|table|list-item|flow-root|table-row|table-caption)/;
  function composedText(el, need) {
    if (el.localName === 'select') return Array.from(el.selectedOptions).map((o) => o.text).join(', ');
    let s = '';
    const add = (n) => {
      if (n.nodeType === 3) { s += n.data.replace(/\s+/g, ' '); return; }
      if (n.nodeType !== 1 || SKIP_TEXT.has(n.localName)) return;
      if (n.localName === 'slot' && inShadowTree(n)) { n.assignedNodes({ flatten: true }).forEach(add); return; }
      if (n.localName === 'br') { s += '\n'; return; }
      const st = styleOf(n);
      if (!st || st.display === 'none') return;
      const inner = need.has(n) ? composedText(n, need) : n.innerText;
      if (st.display === 'table-cell') s += inner + '\t';
      else s += BLOCK_DISPLAY.test(st.display) ? '\n' + inner + '\n' : inner;
    };
    for (let c = (el.shadowRoot || el).firstChild; c; c = c.nextSibling) add(c);
    return s;
  }

  const TABLE_SEL = 'table,[role=table],[role=grid],[role=treegrid]';
  const isTableLike = (el) => el.localName === 'table' || /^(table|grid|treegrid)$/.test(el.getAttribute('role') || '');
  const hasRole = (el, re) => isElement(el) && re.test(el.getAttribute('role') || '');
  const rendered = (row) => {
    if (!row.getClientRects().length) return false;
    const st = styleOf(row);
    return !st || st.visibility === 'visible';
  };

  // Screen-reader-only text ("(you)", "Status: "): rendered, so innerText
  // has it, but clipped or shrunk to a pixel so no one sees it.
  function visuallyHidden(el) {
    const st = styleOf(el);
    if (!st || (st.position !== 'absolute' && st.position !== 'fixed')) return false;
    const clip = st.clip || '';
    if (/^rect\(/.test(clip)) {
      const n = clip.match(/-?[\d.]+/g) || [];
      if (n.length === 4 && Math.abs(n[2] - n[0]) <= 1 && Math.abs(n[1] - n[3]) <= 1) return true;
      if (n.length === 4 && Number(n[1]) <= 1 && Number(n[2]) <= 1) return true;
    }
    if (/inset\(\s*50%/.test(st.clipPath || '')) return true;
    const r = el.getBoundingClientRect();
    return r.width <= 1 && r.height <= 1 && (st.overflow === 'hidden' || st.overflowX === 'hidden');
  }

  // A cell's text as a person sees it: without visually hidden parts
  // (taken out of the rendered text once each, in order), unless asked.
  function cellTextOf(cell, keepHidden) {
    let text = renderedText(cell);
    if (keepHidden) return collapse(text);
    for (const h of queryCss(cell, '*').filter(visuallyHidden)) {
      const ht = renderedText(h) || collapse(h.textContent);
      const i = ht ? text.indexOf(ht) : -1;
      if (i >= 0) text = text.slice(0, i) + ' ' + text.slice(i + ht.length);
    }
    return collapse(text);
  }
  const cellText = (cell) => cellTextOf(cell, true);

  function rowAttrs(row) {
    const attrs = {};
    for (const a of Array.from(row.attributes)) if (a.name.startsWith('data-')) attrs[a.name] = a.value;
    return attrs;
  }

  // The first link and the first checkbox (or radio, or role=checkbox) of
  // a cell: its href (absolute) and its state; null where there is none.
  function cellLink(cell) {
    const a = queryCss(cell, 'a[href]')[0] || (cell.localName === 'a' && cell.hasAttribute('href') ? cell : null);
    return a ? String(a.href || a.getAttribute('href')) : null;
  }
  function cellChecked(cell) {
    const c = queryCss(cell, 'input[type=checkbox],input[type=radio],[role=checkbox],[role=radio],[role=switch]')[0];
    const t = c && checkTarget(c);
    return t ? checkedState(t) : null;
  }

  // One body row as the agent reports it.
  function rowOut(r, cells, o) {
    return {
      cells: cells.map((c) => cellTextOf(c, o.hidden_text)),
      attrs: rowAttrs(r),
      id: r.id || null,
      class: r.getAttribute('class') || null,
      links: cells.map(cellLink),
      checked: cells.map(cellChecked),
    };
  }

  // table() options: header_row (1-based, among all the table's rows;
  // rows above it are controls), rows (a selector a body row must match),
  // skip (a selector of rows to leave out), hidden_text (keep visually
  // hidden text).  {ok:false,error} for a bad one.
  function tableOpts(arg) {
    // [header_row, rows, skip, hidden_text] (the agent's form) or an object
    const o = Array.isArray(arg) ? { header_row: arg[0], rows: arg[1], skip: arg[2], hidden_text: arg[3] }
      : arg && typeof arg === 'object' ? arg : {};
    for (const k of ['rows', 'skip']) {
      if (o[k] === undefined || o[k] === null) continue;
      if (typeof o[k] !== 'string' || !o[k]) return { error: 'table option ' + k + ' must be a CSS selector' };
      try { document.createDocumentFragment().querySelector(o[k]); } catch (e) {
        return { error: 'table option ' + k + ': bad css: ' + e.message };
      }
    }
    if (o.header_row !== undefined && o.header_row !== null &&
        !(Number.isInteger(o.header_row) && o.header_row >= 1)) {
      return { error: 'table option header_row must be a row number from 1' };
    }
    return { o };
  }
  const keepRow = (r, o) => (!o.rows || r.matches(o.rows)) && (!o.skip || !r.matches(o.skip));

  function nativeTable(t, o) {
    const rows = Array.from(t.rows).filter((r) => r.closest('table') === t);
    let headerRow = null, from = 0;
    if (o.header_row) {
      if (o.header_row > rows.length) {
        return { wait: 'no row ' + o.header_row, detail: describe(t) + ' has ' + rows.length + ' rows' };
      }
      headerRow = rows[o.header_row - 1];
      from = o.header_row;
    } else if (t.tHead && t.tHead.rows.length) headerRow = t.tHead.rows[t.tHead.rows.length - 1];
    else if (rows.length && rows[0].cells.length && Array.from(rows[0].cells).every((c) => c.localName === 'th')) headerRow = rows[0];
    let headers = headerRow ? Array.from(headerRow.cells).map((c) => cellTextOf(c, o.hidden_text)) : [];
    if (!headers.length) headers = Array.from(t.querySelectorAll('[role=columnheader]')).map(cellText);
    const body = rows.slice(from).filter((r) => r !== headerRow && (o.header_row || r.parentNode !== t.tHead) &&
      r.parentNode !== t.tFoot && rendered(r) && keepRow(r, o));
    return { headers, rows: body.map((r) => rowOut(r, Array.from(r.cells), o)) };
  }

  // Nearest composed ancestor of el matching pred, stopping at `stop`.
  function nearest(el, pred, stop) {
    for (let n = composedParent(el); n && n !== stop; n = composedParent(n)) if (pred(n)) return n;
    return stop;
  }

  function ariaTable(t, o) {
    const rows = queryCss(t, '[role=row]').filter((r) => nearest(r, isTableLike, t) === t);
    const cellsOf = (r) => queryCss(r, '[role=cell],[role=gridcell],[role=columnheader],[role=rowheader]')
      .filter((c) => nearest(c, (n) => hasRole(n, /^row$/), r) === r);
    let info = rows.map((r) => ({ r, cells: cellsOf(r) }));
    const isHeader = (x) => x.cells.length > 0 && x.cells.every((c) => hasRole(c, /^columnheader$/));
    let head;
    if (o.header_row) {
      if (o.header_row > info.length) {
        return { wait: 'no row ' + o.header_row, detail: describe(t) + ' has ' + info.length + ' rows' };
      }
      head = info[o.header_row - 1];
      info = info.slice(o.header_row);
    } else head = info.find(isHeader);
    const headers = head ? head.cells.map((c) => cellTextOf(c, o.hidden_text))
      : queryCss(t, '[role=columnheader]').filter((c) => nearest(c, isTableLike, t) === t).map(cellText);
    const body = info.filter((x) => x.cells.length && x !== head && (o.header_row || !isHeader(x)) &&
      rendered(x.r) && keepRow(x.r, o));
    return { headers, rows: body.map((x) => rowOut(x.r, x.cells, o)) };
  }

  function tableStep(el, arg) {
    const opt = tableOpts(arg);
    if (opt.error) return { ok: false, error: opt.error };
    const o = opt.o;
    let t = el;
    if (!isTableLike(t)) {
      const found = queryCss(t, TABLE_SEL);
      const outer = found.filter((f) => nearest(f, isTableLike, t) === t);
      if (outer.length === 0) return { wait: 'no table', detail: 'no table inside ' + describe(el) };
      if (outer.length > 1) return { ok: false, error: describe(el) + ' contains ' + outer.length + ' tables' };
      t = outer[0];
    }
    const v = t.localName === 'table' ? nativeTable(t, o) : ariaTable(t, o);
    return v.wait ? v : { ok: true, value: v };
  }

  function readValue(el) {
    let t = el;
    if (t.localName === 'label' && t.control) t = t.control;
    if (['input', 'textarea', 'select'].includes(t.localName)) return { ok: true, value: String(t.value) };
    return { ok: false, error: 'not an input, textarea or select element: ' + describe(el) };
  }

  const STRICT_READS = new Set(['text', 'attribute', 'value', 'checked', 'html', 'table']);

  async function read(sel, what, arg, budgetMs) {
    if (what === 'outer_html_page') {
      return { ok: true, value: document.documentElement ? document.documentElement.outerHTML : '' };
    }
    const parsed = parseSelector(sel);
    if (parsed.error) return { ok: false, error: parsed.error };
    if (what === 'visible' || what === 'count' || what === 'all_texts') {
      const r = resolve(parsed, sel);
      if (r.error) return { ok: false, error: r.error };
      if (what === 'count') return { ok: true, value: r.els.length };
      if (what === 'visible') return { ok: true, value: r.els.length > 0 && isVisible(r.els[0]) };
      return { ok: true, value: r.els.map(renderedText) };
    }
    if (!STRICT_READS.has(what)) return { ok: false, error: 'unknown read "' + what + '"' };
    if (what === 'attribute' && (typeof arg !== 'string' || !arg)) {
      return { ok: false, error: 'read attribute needs an attribute name' };
    }
    return poll(budgetMs, async () => {
      const r = resolveStrict(parsed, sel);
      if (!r.el) return r;
      const el = r.el;
      switch (what) {
        case 'text': return { ok: true, value: renderedText(el) };
        case 'attribute': return { ok: true, value: el.getAttribute(arg) };
        case 'value': return readValue(el);
        case 'html': return { ok: true, value: el.outerHTML };
        case 'table': return tableStep(el, arg);
        case 'checked': {
          const c = checkTarget(el);
          if (!c) return { ok: false, error: 'not a checkbox or radio: ' + describe(el) };
          return { ok: true, value: checkedState(c) };
        }
      }
      return { ok: false, error: 'unknown read "' + what + '"' };
    });
  }

  // ---------------------------------------------------------- other entries

  function count(sel) {
    const parsed = parseSelector(sel);
    if (parsed.error) return { ok: false, error: parsed.error };
    const r = resolve(parsed, sel);
    return r.error ? { ok: false, error: r.error } : { ok: true, count: r.els.length };
  }

  const WAIT_STATES = new Set(['attached', 'detached', 'visible', 'hidden']);

  async function waitFor(sel, state, budgetMs) {
    if (!WAIT_STATES.has(state)) return { ok: false, error: 'unknown state "' + state + '"' };
    const parsed = parseSelector(sel);
    if (parsed.error) return { ok: false, error: parsed.error };
    return poll(budgetMs, async () => {
      const r = resolve(parsed, sel);
      if (r.error) return { ok: false, error: r.error };
      return stateStep(parsed, r, state);
    });
  }

  // One wait_for condition on a resolved selector: {ok, count} or a wait.
  function stateStep(parsed, r, state) {
    const n = r.els.length;
    switch (state) {
      case 'attached': return n > 0 ? { ok: true, count: n } : absent(parsed, r);
      case 'detached': return n === 0 ? { ok: true, count: 0 } : { wait: 'still attached' };
      case 'visible':
        if (r.els.some(isVisible)) return { ok: true, count: n };
        return n ? { wait: 'not visible' } : Object.assign(absent(parsed, r), { wait: 'not visible' });
      default: return r.els.some(isVisible) ? { wait: 'still visible' } : { ok: true, count: n };
    }
  }

  // wait_for_any: conditions [[sel, state], ...] checked together on the
  // same DOM each round; the first one met, in the order given, wins (so
  // when several are met at once the answer does not depend on timing).
  async function waitForAny(conds, budgetMs) {
    if (!Array.isArray(conds) || !conds.length) return { ok: false, error: 'waitForAny needs conditions' };
    const parsed = [];
    for (const c of conds) {
      if (!Array.isArray(c) || !WAIT_STATES.has(c[1])) return { ok: false, error: 'bad condition ' + JSON.stringify(c) };
      const p = parseSelector(c[0]);
      if (p.error) return { ok: false, error: p.error };
      parsed.push(p);
    }
    return poll(budgetMs, async () => {
      let allAbsent = true;
      for (let i = 0; i < conds.length; i++) {
        const r = resolve(parsed[i], conds[i][0]);
        if (r.error) return { ok: false, error: r.error };
        const s = stateStep(parsed[i], r, conds[i][1]);
        if (!s.wait) return { ok: true, index: i + 1 };
        if (!s.absent) allAbsent = false;
      }
      return allAbsent ? { wait: 'none', absent: true, loaded: pageLoaded() } : { wait: 'none' };
    });
  }

  function verifyFill(sel, value) {
    const parsed = parseSelector(sel);
    if (parsed.error) return { ok: false, error: parsed.error };
    const r = resolveStrict(parsed, sel);
    if (r.wait) return { ok: false, reason: r.wait };
    if (!r.el) return r;
    let t = r.el;
    if (t.localName === 'label' && t.control) t = t.control;
    const cur = ['input', 'textarea', 'select'].includes(t.localName) ? String(t.value) : String(t.textContent || '');
    const active = deepActive(topDocumentOf(t.ownerDocument));
    const focused = active === t || (!!active && (within(active, t) || within(t, active)));
    // Not the value itself: it may be a password (and would ride in a CDP frame).
    const out = { ok: true, empty: cur === '', matches: value === undefined ? undefined : cur === String(value), focused };
    if (!focused) out.focus = active ? shortName(active) : '(nothing)';
    return out;
  }

  // ------------------------------------------------------------- evidence

  // The page for failure evidence: the top document and every same-origin
  // frame as HTML.  Serialised from a copy, so the page is untouched; in it
  // every input shows its current value as its value attribute (what the
  // page showed), except password inputs, whose value is blanked whatever
  // the page mirrored into the attribute.  The agent's redactor then
  // replaces every registered secret in what remains.
  function serialise(doc) {
    const root = doc.documentElement;
    if (!root) return '';
    const copy = root.cloneNode(true);
    const live = root.querySelectorAll('input, textarea');
    const dead = copy.querySelectorAll('input, textarea');
    for (let i = 0; i < live.length && i < dead.length; i++) {
      const a = live[i], b = dead[i];
      if (a.localName === 'textarea') {
        b.textContent = String(a.value);
      } else if (String(a.type).toLowerCase() === 'password' || String(b.getAttribute('type') || '').toLowerCase() === 'password') {
        b.setAttribute('value', '');
      } else if (!['checkbox', 'radio', 'file', 'button', 'submit', 'reset', 'image'].includes(String(a.type).toLowerCase())) {
        b.setAttribute('value', String(a.value));
      }
    }
    const dt = doc.doctype ? '<!DOCTYPE ' + doc.doctype.name + '>\n' : '';
    return dt + copy.outerHTML;
  }

  function snapshot() {
    const frames = [];
    const visit = (doc, depth) => {
      walk(doc, (el) => {
        if (!isFrame(el) || depth > 8) return true;
        const d = frameDoc(el);
        if (d && d.documentElement && frames.length < 20) {
          frames.push({ url: String(d.URL || ''), element: shortName(el), html: serialise(d) });
          visit(d, depth + 1);
        }
        return true;
      }, false);
    };
    visit(document, 0);
    return { ok: true, html: serialise(document), frames };
  }

  // The file input sel resolves to (strictly), as an element for a handle
  // (set_input_files: DOM.setFileInputFiles wants the node); a <label>
  // stands for its control.  Anything else: a string saying what is wrong.
  function fileInput(sel) {
    const parsed = parseSelector(sel);
    if (parsed.error) return 'error: ' + parsed.error;
    const r = resolveStrict(parsed, sel);
    if (!r.el) return 'error: ' + (r.error || 'no element matches the selector');
    let el = r.el;
    if (el.localName === 'label' && el.control) el = el.control;
    if (el.localName !== 'input' || String(el.type).toLowerCase() !== 'file') {
      return 'error: not a file input: ' + describe(r.el);
    }
    if (el.disabled) return 'error: the file input is disabled: ' + describe(el);
    return el;
  }

  // ------------------------------------------- frames from other sites

  // A frame from another origin has no document here: the agent reaches it
  // through the frame's own target (its own copy of this helper) and asks
  // here only which <iframe> a selector's enter-frame crosses into, and
  // where that frame sits.

  // frameHost(sel), sel naming the frames an enter-frame enters: 'same'
  // when one of them is reachable from here (the selector goes on here),
  // the <iframe> element itself when it is one from another origin (the
  // agent asks the browser which frame that is), 'none' when nothing
  // matches yet, 'error:…' for a bad selector or several such frames.
  function frameHost(sel) {
    const parsed = parseSelector(sel);
    if (parsed.error) return 'error:' + parsed.error;
    const r = resolve(parsed, sel);
    if (r.error) return 'error:' + r.error;
    const frames = r.els.filter(isFrame);
    if (!frames.length) return 'none';
    if (frames.some((f) => frameDoc(f))) return 'same';
    if (frames.length > 1) {
      return 'error:strict mode violation: "' + sel + '" resolved to ' + frames.length +
        ' frames from other origins: ' + frames.slice(0, 3).map(describe).join(', ');
    }
    return frames[0];
  }

  // Where the frame's viewport is in this document's top viewport, after
  // scrolling the <iframe> into view here: what a point inside the frame
  // is offset by on the way to the page's coordinates.  After a scroll,
  // two rendering frames pass first: the browser routes a click to the
  // frame's process by where the last rendered frame showed it.
  async function frameOffset(sel) {
    const parsed = parseSelector(sel);
    if (parsed.error) return { ok: false, error: parsed.error };
    const r = resolveStrict(parsed, sel);
    if (!r.el) return r.error ? r : { ok: false, reason: 'not attached' };
    const fe = r.el;
    if (!isFrame(fe)) return { ok: false, error: 'not a frame: ' + describe(fe) };
    if (scrollIntoViewIfNeeded(fe)) {
      await nextFrame(100);
      await nextFrame(100);
    }
    const a = frameChainOffset(fe.ownerDocument);
    const b = frameContentOffset(fe);
    return { ok: true, x: round2(a.x + b.x), y: round2(a.y + b.y) };
  }

  // Exceptions never cross the API: report them as (fatal) bugs.
  const bugReport = (e) => ({ ok: false, error: 'idlcm helper bug: ' + (e && e.stack ? e.stack : String(e)) });
  const guard = (fn) => function guarded(...args) {
    try {
      const r = fn.apply(null, args);
      return r && typeof r.then === 'function' ? r.catch(bugReport) : r;
    } catch (e) {
      return bugReport(e);
    }
  };

  globalThis.__idlcm = Object.freeze({
    version: VERSION,
    count: guard(count),
    waitFor: guard(waitFor),
    act: guard(act),
    verifyFill: guard(verifyFill),
    waitForAny: guard(waitForAny),
    landed: guard(landed),
    snapshot: guard(snapshot),
    frameHost: guard(frameHost),
    frameOffset: guard(frameOffset),
    read: guard(read),
    fileInput: guard(fileInput),
    describe,
    expect: guard(SEEN_API.expect),
    waitUrl: guard(SEEN_API.waitUrl),
  });
  return 'idlcm helper ' + VERSION;
})();
