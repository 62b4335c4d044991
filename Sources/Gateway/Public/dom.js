// Tiny DOM helpers. Everything is built with createElement/textContent:
// log lines and container names are untrusted and must never become markup.

/**
 * h('div', {class: 'row', 'data-seq': 3, text: 'hi', onclick: f}, child, 'text', …)
 * Keys: class, text (textContent), on<event> (addEventListener), hidden,
 * value/checked/disabled/type (properties), anything else → setAttribute.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'type') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Set textContent only when it changed (no needless layout or flicker). */
export function setText(el, text) {
  const t = text == null ? '' : String(text);
  if (el.textContent !== t) el.textContent = t;
}

/** Set or remove an attribute only when it changed. */
export function setAttr(el, name, value) {
  if (value == null || value === false) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
    return;
  }
  const v = value === true ? '' : String(value);
  if (el.getAttribute(name) !== v) el.setAttribute(name, v);
}

/** Text with some characters wrapped in <mark> (fuzzy-match highlighting). */
export function highlighted(text, positions) {
  const frag = document.createDocumentFragment();
  if (!positions || !positions.length) {
    frag.append(text);
    return frag;
  }
  const set = new Set(positions);
  let run = '';
  let marked = false;
  const flush = () => {
    if (!run) return;
    frag.append(marked ? h('mark', { text: run }) : document.createTextNode(run));
    run = '';
  };
  for (let i = 0; i < text.length; i++) {
    const m = set.has(i);
    if (m !== marked) { flush(); marked = m; }
    run += text[i];
  }
  flush();
  return frag;
}

/** Is the user typing somewhere (so single-key shortcuts must not fire)? */
export function isTyping(el) {
  if (!el || el === document.body) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (el.type || 'text').toLowerCase();
    return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color'].includes(type);
  }
  return false;
}

/** localStorage that never throws (private mode, disabled storage). */
export const store = {
  get(key, fallback = null) {
    try {
      const v = localStorage.getItem(key);
      return v == null ? fallback : v;
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, String(value));
    } catch { /* ignore */ }
  },
};
