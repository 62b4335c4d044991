// The log viewer: one container or several merged into one timeline.
// Glues the socket events to the Timeline (store.js) and renders the
// visible rows of the LogView. All log text goes through textContent.

import { Timeline, plainText, DEFAULT_MAX_LINES } from './store.js';
import { LogView } from './logview.js';
import { parseAnsi, hasEscapes, renderStyle } from './ansi.js';
import { compileQuery, splitByRanges } from './search.js';
import { formatClock, formatDateTime, parseTimestamp } from './time.js';
import { detectJson, looksLikeJson, entriesToLog, downloadName } from './format.js';
import { h, setText, setAttr, store } from './dom.js';

const ROW_CHARS = 4000; // a row shows at most this much; the detail panel shows all
const COLORS = 8;
const MARKER_TESTID = { gap: 'gap-marker', reset: 'gap-marker', ended: 'ended-marker', error: 'error-marker', info: 'info-marker' };

const $ = (id) => document.getElementById(id);

export class Viewer {
  constructor({ client, onRouteState = () => {}, onToast = () => {} }) {
    this.client = client;
    this.onRouteState = onRouteState; // (q, stream) → keep the URL in sync
    this.onToast = onToast;
    this.sources = [];
    this.bySub = new Map();
    this.merged = false;
    this.showTs = store.get('tailgate.timestamps', '1') !== '0';
    this.maxLines = Number(store.get('tailgate.maxLines', DEFAULT_MAX_LINES)) || DEFAULT_MAX_LINES;
    // History lines asked for on subscribe (the gateway caps it at its history size).
    this.tail = Number(store.get('tailgate.tail', '1000')) || null;
    this.timeline = new Timeline({ maxLines: this.maxLines });
    this.maxLines = this.timeline.maxLines;
    this.query = compileQuery('');
    this.flushRaf = 0;
    this.flushTimer = 0;
    this.searchTimer = 0;
    this.detailEntry = null;

    this.el = {
      section: $('viewer'),
      title: $('viewer-title'),
      viewport: $('log-viewport'),
      stream: $('stream-filter'),
      search: $('search-input'),
      counter: $('match-counter'),
      pause: $('pause-button'),
      clear: $('clear-button'),
      download: $('download-button'),
      ts: $('timestamps-toggle'),
      jump: $('jump-latest-button'),
      empty: $('viewer-empty'),
      maxLines: $('max-lines-input'),
      tail: $('tail-input'),
      detail: $('line-detail'),
      detailMeta: $('line-detail-meta'),
      detailText: $('line-detail-text'),
      detailJson: $('line-detail-json'),
      detailClose: $('line-detail-close'),
      detailCopy: $('line-detail-copy'),
    };

    this.view = new LogView(this.el.viewport, {
      rowHeight: 20,
      renderRow: (row, e) => this.renderRow(row, e),
      onFollowChange: (f) => this._updateJump(f),
      onActivate: (e) => this.showDetail(e),
    });
    this._bindControls();
    this._updateTsButton();
    this._updateCounter();
  }

  _bindControls() {
    const el = this.el;
    el.stream.addEventListener('change', () => this.setStream(el.stream.value));
    el.search.addEventListener('input', () => {
      clearTimeout(this.searchTimer);
      // Instant on small stores; a short debounce keeps typing smooth at 100k lines.
      const delay = this.timeline.entries.length > 20000 ? 120 : 0;
      this.searchTimer = setTimeout(() => this.setQuery(el.search.value), delay);
    });
    el.search.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        if (el.search.value) this.clearSearch();
        else el.search.blur();
      }
    });
    el.pause.addEventListener('click', () => this.togglePause());
    el.clear.addEventListener('click', () => this.clear());
    el.download.addEventListener('click', () => this.download());
    el.ts.addEventListener('click', () => this.toggleTimestamps());
    el.jump.addEventListener('click', () => this.jumpToLatest());
    el.maxLines.value = String(this.maxLines);
    el.maxLines.addEventListener('change', () => {
      this.timeline.setMaxLines(el.maxLines.value);
      this.maxLines = this.timeline.maxLines;
      el.maxLines.value = String(this.maxLines);
      store.set('tailgate.maxLines', this.maxLines);
      this.scheduleFlush();
    });
    el.tail.value = this.tail ? String(this.tail) : '';
    el.tail.addEventListener('change', () => {
      const n = Math.floor(Number(el.tail.value));
      this.tail = n > 0 ? n : null;
      el.tail.value = this.tail ? String(this.tail) : '';
      store.set('tailgate.tail', this.tail || '');
    });
    el.detailClose.addEventListener('click', () => this.hideDetail());
    el.detailJson.addEventListener('click', () => this._toggleJson());
    el.detailCopy.addEventListener('click', () => {
      const text = el.detailText.textContent;
      if (navigator.clipboard) navigator.clipboard.writeText(text).then(() => this.onToast('Copied'), () => {});
    });
  }

  // ---- opening / closing ----------------------------------------------------

  get isOpen() {
    return this.sources.length > 0;
  }

  /** Open a view of `targets` ([{agentId, containerId}]); replaces any previous one. */
  open(targets, { merged = targets.length > 1, q = '', stream = 'all' } = {}) {
    this.close();
    this.merged = merged;
    this.timeline = new Timeline({ maxLines: this.maxLines });
    this.el.section.classList.toggle('merged', merged);
    this.el.stream.value = stream;
    this.el.search.value = q;
    this.query = compileQuery(q);
    this.timeline.setFilter({ stream, query: this.query });
    this.sources = targets.map((t, i) => ({
      agentId: t.agentId,
      requested: t.containerId,
      containerId: null,
      name: null,
      color: i % COLORS,
      state: 'pending',
      sub: null,
    }));
    for (const src of this.sources) {
      src.sub = this.client.subscribe({ agentId: src.agentId, containerId: src.requested, tail: this.tail ?? undefined });
      this.bySub.set(src.sub, src);
    }
    this.view.setItems(this.timeline.view);
    this.view.follow = true;
    this._updateJump(true);
    this._setPausedUi();
    this._renderTitle();
    this._updateSearchState();
    this.el.empty.hidden = false;
    this.view.invalidate();
    this._updateCounter();
  }

  close() {
    for (const src of this.sources) if (src.sub) this.client.unsubscribe(src.sub);
    this.sources = [];
    this.bySub.clear();
    this.hideDetail();
    this.timeline = new Timeline({ maxLines: this.maxLines });
    this.view.setItems(this.timeline.view);
    this.view.invalidate();
  }

  /** Targets as the URL should name them (names once known). */
  targets() {
    return this.sources.map((s) => ({ agentId: s.agentId, containerId: s.requested }));
  }

  // ---- socket events ----------------------------------------------------------

  handleEvent(ev) {
    const src = ev.sub ? this.bySub.get(ev.sub) : null;
    if (ev.type === 'error') {
      this.onToast(`Server: ${ev.code}${ev.message ? ' — ' + ev.message : ''}`);
      return;
    }
    if (!src) return;
    switch (ev.type) {
      case 'subscribed':
        src.containerId = ev.sub.containerId;
        if (ev.sub.name && ev.sub.name !== src.name) {
          src.name = ev.sub.name;
          this.view.invalidate();
        }
        src.state = 'active';
        this._renderTitle();
        break;
      case 'lines':
        if (src.state !== 'active') { src.state = 'active'; this._renderTitle(); }
        this.timeline.addLines(src, ev.lines);
        this.scheduleFlush();
        break;
      case 'marker': {
        const { type, sub, kind, text, at, ...extra } = ev;
        this.timeline.addMarker(src, kind, text, at, extra);
        if (kind === 'ended' || kind === 'error') { src.state = kind; this._renderTitle(); }
        this.scheduleFlush();
        break;
      }
      case 'unsubscribed':
        src.state = 'closed';
        this._renderTitle();
        break;
      default:
        break;
    }
  }

  /** Merge queued lines on the next frame (or soon, if frames are not running: hidden tab). */
  scheduleFlush() {
    if (this.flushRaf) return;
    const run = () => {
      cancelAnimationFrame(this.flushRaf);
      clearTimeout(this.flushTimer);
      this.flushRaf = 0;
      this.flushTimer = 0;
      this.flush();
    };
    this.flushRaf = requestAnimationFrame(run);
    this.flushTimer = setTimeout(run, 400);
  }

  flush() {
    const v = this.view;
    const anchor = v.follow ? null : v.anchor();
    const res = this.timeline.flush();
    if (res.changed) {
      v.setItems(this.timeline.view);
      if (!v.follow) {
        if (res.rebuilt && anchor) v.scrollToIndex(this.timeline.lowerBound(anchor.entry), anchor.offset);
        else if (res.removedFromViewFront) v.shiftUp(res.removedFromViewFront);
      }
      if (this.timeline.entries.length) this.el.empty.hidden = true;
      v.render();
    }
    this._updateCounter();
    this._setPausedUi();
  }

  // ---- controls -----------------------------------------------------------------

  setStream(stream) {
    this._refilter(() => this.timeline.setFilter({ stream }));
    this.el.stream.value = this.timeline.stream;
    this.onRouteState(this.el.search.value, this.timeline.stream);
  }

  setQuery(q) {
    this.query = compileQuery(q);
    this._refilter(() => this.timeline.setFilter({ query: this.query }));
    this._updateSearchState();
    this.onRouteState(q, this.timeline.stream);
  }

  clearSearch() {
    this.el.search.value = '';
    this.setQuery('');
  }

  // Re-filtering rebuilds the view: keep the user's place unless following.
  _refilter(fn) {
    const anchor = this.view.follow ? null : this.view.anchor();
    fn();
    this.view.setItems(this.timeline.view);
    if (anchor) this.view.scrollToIndex(this.timeline.lowerBound(anchor.entry), anchor.offset);
    this.view.invalidate();
    this.view.render();
    this._updateCounter();
  }

  togglePause(force) {
    const paused = force === undefined ? !this.timeline.paused : !!force;
    this.timeline.setPaused(paused);
    if (!paused) this.scheduleFlush();
    this._setPausedUi();
  }

  clear() {
    this.timeline.clear();
    this.view.setItems(this.timeline.view);
    this.view.setFollow(true);
    this.view.invalidate();
    this.view.render();
    this.hideDetail();
    this._updateCounter();
  }

  jumpToLatest() {
    this.view.jumpToLatest();
  }

  toggleTimestamps() {
    this.showTs = !this.showTs;
    store.set('tailgate.timestamps', this.showTs ? '1' : '0');
    this._updateTsButton();
    this.view.invalidate();
  }

  download() {
    const names = this.sources.map((s) => s.name || s.requested);
    const text = entriesToLog(this.timeline.view, this.merged);
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    const a = h('a', { href: url, download: downloadName(names) });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  focusSearch() {
    this.el.search.focus();
    this.el.search.select();
  }

  // ---- UI state -------------------------------------------------------------------

  _updateCounter() {
    const t = this.timeline;
    const c = this.el.counter;
    if (this.query.kind === 'invalid') {
      setText(c, 'Invalid regex: ' + this.query.error);
      setAttr(c, 'data-state', 'invalid');
    } else {
      setText(c, `${t.viewLines} of ${t.lineTotal} lines`);
      setAttr(c, 'data-state', t.filtering ? 'filtered' : 'all');
    }
    setAttr(c, 'data-shown', t.viewLines);
    setAttr(c, 'data-total', t.lineTotal);
  }

  _updateSearchState() {
    const invalid = this.query.kind === 'invalid';
    this.el.search.classList.toggle('invalid', invalid);
    setAttr(this.el.search, 'aria-invalid', invalid ? 'true' : null);
    setAttr(this.el.search, 'title', invalid ? 'Invalid regex: ' + this.query.error : 'Search (text, or /regex/)');
    this._updateCounter();
  }

  _setPausedUi() {
    const paused = this.timeline.paused;
    const b = this.el.pause;
    const pending = paused ? this.timeline.pendingLines : 0;
    setText(b, paused ? (pending ? `Resume (${pending} new)` : 'Resume') : 'Pause');
    setAttr(b, 'aria-pressed', paused ? 'true' : 'false');
    setAttr(b, 'data-paused', paused ? 'true' : 'false');
    this.el.section.classList.toggle('paused', paused);
  }

  _updateTsButton() {
    setAttr(this.el.ts, 'aria-pressed', this.showTs ? 'true' : 'false');
    this.el.section.classList.toggle('no-ts', !this.showTs);
  }

  _updateJump(follow) {
    this.el.jump.hidden = follow;
  }

  _renderTitle() {
    const t = this.el.title;
    t.replaceChildren(
      ...this.sources.map((s) =>
        h('span', { class: `title-src c${s.color}`, 'data-state': s.state, title: `${s.agentId} / ${s.containerId || s.requested}` },
          h('span', { class: 'title-name', text: s.name || s.requested }),
          h('span', { class: 'title-agent', text: s.agentId }),
          s.state === 'ended' || s.state === 'error' || s.state === 'closed'
            ? h('span', { class: 'title-state', text: s.state === 'ended' ? 'stopped' : s.state })
            : null,
        ),
      ),
    );
    document.title = (this.sources.map((s) => s.name || s.requested).join(', ') || 'Logs') + ' · Tailgate';
  }

  // ---- rows -------------------------------------------------------------------------

  renderRow(row, e) {
    const src = e.src;
    const name = src ? src.name || src.requested : '';
    if (e.kind !== 'line') {
      row.className = `row marker m-${e.kind}`;
      row.removeAttribute('data-seq');
      row.removeAttribute('data-stream');
      row.setAttribute('data-testid', MARKER_TESTID[e.kind] || 'info-marker');
      row.setAttribute('data-kind', e.kind);
      row.setAttribute('data-container', name);
      row.setAttribute('data-container-id', (src && src.containerId) || '');
      row.setAttribute('data-agent', (src && src.agentId) || '');
      const parts = [h('span', { class: 'ts', text: formatClock(e.s, e.n) })];
      if (this.merged) parts.push(h('span', { class: `tag c${src.color}`, text: name }));
      parts.push(h('span', { class: 'msg', text: e.text }));
      row.replaceChildren(...parts);
      return;
    }
    const plain = plainText(e);
    row.className = `row s-${e.stream === 'stderr' ? 'stderr' : e.stream === 'tty' ? 'tty' : 'stdout'}`;
    row.setAttribute('data-testid', 'log-row');
    row.removeAttribute('data-kind');
    row.setAttribute('data-seq', e.seq);
    row.setAttribute('data-stream', e.stream);
    row.setAttribute('data-container', name);
    row.setAttribute('data-container-id', e.containerId || '');
    row.setAttribute('data-agent', e.agentId || (src && src.agentId) || '');

    const t = parseTimestamp(e.timestamp) || e;
    const children = [h('span', { class: 'ts', text: formatClock(t.s, t.n), title: e.timestamp || '' })];
    if (this.merged) children.push(h('span', { class: `tag c${src.color}`, text: name, title: name }));
    if (looksLikeJson(plain)) children.push(h('span', { class: 'json-badge', text: '{}', title: 'JSON: click the line to pretty-print' }));
    children.push(this._message(e, plain));
    row.replaceChildren(...children);
  }

  // The message: ANSI colours as classes/CSSOM, search matches as <mark>.
  _message(e, plain) {
    const msg = document.createElement('span');
    msg.className = 'msg';
    const raw = e.message.length > ROW_CHARS * 2 ? e.message.slice(0, ROW_CHARS * 2) : e.message;
    let segs = hasEscapes(raw) ? parseAnsi(raw) : [{ text: raw === plain ? raw : plain, style: null }];
    let total = 0;
    const cut = [];
    for (const s of segs) {
      if (total >= ROW_CHARS) break;
      const text = total + s.text.length > ROW_CHARS ? s.text.slice(0, ROW_CHARS - total) : s.text;
      cut.push(text === s.text ? s : { text, style: s.style });
      total += text.length;
    }
    segs = cut;
    const ranges = this.query.kind === 'text' || this.query.kind === 'regex' ? this.query.ranges(plain.slice(0, ROW_CHARS)) : [];
    const pieces = ranges.length ? splitByRanges(segs, ranges) : segs.map((seg) => ({ seg, text: seg.text, mark: false }));
    for (const p of pieces) {
      let node;
      const style = p.seg.style;
      if (style) {
        const r = renderStyle(style);
        node = document.createElement('span');
        if (r.classes.length) node.className = r.classes.join(' ');
        if (r.color) node.style.color = r.color;
        if (r.background) node.style.backgroundColor = r.background;
        node.textContent = p.text;
      } else {
        node = document.createTextNode(p.text);
      }
      if (p.mark) {
        const m = document.createElement('mark');
        m.append(node);
        node = m;
      }
      msg.append(node);
    }
    return msg;
  }

  // ---- detail panel (full line, JSON pretty-print) --------------------------------------

  showDetail(e) {
    this.detailEntry = e;
    const el = this.el;
    const src = e.src;
    const name = src ? src.name || src.requested : '';
    if (e.kind !== 'line') {
      el.detailMeta.replaceChildren(h('span', { text: `${name} · marker: ${e.kind}` }));
      el.detailText.textContent = e.text;
      el.detailJson.hidden = true;
    } else {
      const t = parseTimestamp(e.timestamp) || e;
      el.detailMeta.replaceChildren(
        h('span', { class: `tag c${src ? src.color : 0}`, text: name }),
        h('span', { text: ` ${e.stream} · seq ${e.seq} · ${formatDateTime(t.s, t.n)}` }),
        h('span', { class: 'detail-raw-ts', text: ` (${e.timestamp || 'no timestamp'})` }),
      );
      const json = detectJson(plainText(e));
      el.detailJson.hidden = !json;
      el.detailJson.setAttribute('aria-pressed', 'false');
      el.detailJson.textContent = 'Pretty JSON';
      el.detailText.textContent = plainText(e);
      if (json && store.get('tailgate.prettyJson', '1') === '1') this._toggleJson(true);
    }
    el.detail.hidden = false;
    el.section.classList.add('has-detail');
  }

  _toggleJson(force) {
    const e = this.detailEntry;
    if (!e || e.kind !== 'line') return;
    const json = detectJson(plainText(e));
    if (!json) return;
    const btn = this.el.detailJson;
    const on = force === undefined ? btn.getAttribute('aria-pressed') !== 'true' : force;
    btn.setAttribute('aria-pressed', on ? 'true' : 'false');
    btn.textContent = on ? 'Raw' : 'Pretty JSON';
    this.el.detailText.textContent = on ? (json.prefix ? json.prefix + '\n' : '') + json.pretty : plainText(e);
    if (force === undefined) store.set('tailgate.prettyJson', on ? '1' : '0');
  }

  hideDetail() {
    this.detailEntry = null;
    this.el.detail.hidden = true;
    this.el.section.classList.remove('has-detail');
  }

  get detailOpen() {
    return !this.el.detail.hidden;
  }
}
