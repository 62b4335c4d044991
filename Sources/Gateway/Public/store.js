// The line store behind a log view. Pure: no DOM.
//
// Holds one timeline of entries (log lines and marker rows) from one or more
// containers, ordered by Docker timestamp, capped at `maxLines` (oldest are
// dropped), plus the filtered "view" the virtual list shows. New entries are
// queued with add*() and merged in flush(), which the UI calls once per
// animation frame, so 5,000 lines/s cost one merge per frame, not per line.

import { parseTimestamp } from './time.js';
import { stripAnsi, hasEscapes } from './ansi.js';
import { compileQuery } from './search.js';

export const DEFAULT_MAX_LINES = 100000;
export const MAX_MAX_LINES = 500000; // keeps the scroll height within browser limits

/** Total order of entries: timestamp, then arrival (keeps seq order within a stream). */
export function compareEntries(a, b) {
  return a.s - b.s || a.n - b.n || a.o - b.o;
}

/** Plain text of an entry's message (escapes stripped), cached only when it differs. */
export function plainText(e) {
  if (e.p !== undefined) return e.p;
  const m = e.message;
  if (!hasEscapes(m) && !/[\x00-\x08\x0b-\x1f\x7f]/.test(m)) return m;
  e.p = stripAnsi(m);
  return e.p;
}

export function clampMaxLines(n) {
  n = Math.floor(Number(n));
  if (!Number.isFinite(n) || n < 100) return n > 0 ? 100 : DEFAULT_MAX_LINES;
  return Math.min(n, MAX_MAX_LINES);
}

/**
 * A source is one subscribed container: {agentId, containerId, name, color}.
 * The timeline keeps per-source the last timestamp, so a source's entries
 * never go backwards in time even if Docker's clock does (seq order wins
 * within a stream; timestamps order lines across streams).
 */
export class Timeline {
  constructor({ maxLines = DEFAULT_MAX_LINES } = {}) {
    this.maxLines = clampMaxLines(maxLines);
    this.entries = [];
    this.pending = [];
    this.view = this.entries;
    this.paused = false;
    this.ord = 0;
    this.stream = 'all';
    this.query = compileQuery('');
    this.lineTotal = 0; // lines (not markers) in entries
    this.viewLines = 0; // lines (not markers) in view
    this.dropped = 0; // lines dropped by the cap, ever
  }

  get filtering() {
    return this.stream !== 'all' || this.query.kind === 'text' || this.query.kind === 'regex';
  }

  /** Time for a new entry of `source`: its own timestamp, never before the source's last. */
  _stamp(source, ts) {
    let t = ts ? parseTimestamp(ts) : null;
    if (!t) {
      const now = Date.now();
      t = { s: Math.floor(now / 1000), n: (now % 1000) * 1e6 };
    }
    if (source.lastS !== undefined && (t.s < source.lastS || (t.s === source.lastS && t.n < source.lastN))) {
      t = { s: source.lastS, n: source.lastN };
    }
    source.lastS = t.s;
    source.lastN = t.n;
    return t;
  }

  /** Queue protocol Line objects (already deduplicated, oldest first). They are reused, not copied. */
  addLines(source, lines) {
    for (const line of lines) {
      const t = this._stamp(source, line.timestamp);
      line.kind = 'line';
      line.src = source;
      line.s = t.s;
      line.n = t.n;
      line.o = ++this.ord;
      this.pending.push(line);
    }
    this._boundPending();
  }

  /**
   * Queue a marker row: kind 'gap' | 'ended' | 'error' | 'reset' | 'info'.
   * `at` is an RFC 3339 time to place it at (default: now, or the source's last line).
   */
  addMarker(source, kind, text, at = null, extra = {}) {
    const t = this._stamp(source, at);
    this.pending.push({ kind, text, src: source, s: t.s, n: t.n, o: ++this.ord, ...extra });
    this._boundPending();
  }

  // While paused (or in a background tab) the queue can grow; never past the cap.
  _boundPending() {
    const p = this.pending;
    if (p.length > this.maxLines * 1.5) {
      p.sort(compareEntries);
      let over = this.pendingLines - this.maxLines;
      let cut = 0;
      while (over > 0 && cut < p.length) {
        if (p[cut++].kind === 'line') { over--; this.dropped++; }
      }
      this.pending = p.slice(cut);
    }
  }

  matches(e) {
    if (e.kind !== 'line') return true; // markers are context: always shown
    if (this.stream !== 'all') {
      if (this.stream === 'stderr' ? e.stream !== 'stderr' : e.stream === 'stderr') return false;
    }
    return this.query.test(plainText(e));
  }

  /**
   * Merge queued entries (unless paused) and apply the cap.
   * @returns {{changed: boolean, rebuilt: boolean, removedFromViewFront: number, appendedToView: number}}
   */
  flush() {
    const res = { changed: false, rebuilt: false, removedFromViewFront: 0, appendedToView: 0 };
    if (!this.paused && this.pending.length) {
      const p = this.pending;
      this.pending = [];
      p.sort(compareEntries); // nearly sorted already: TimSort makes this ~linear
      const es = this.entries;
      res.changed = true;
      for (const e of p) if (e.kind === 'line') this.lineTotal++;
      if (es.length === 0 || compareEntries(p[0], es[es.length - 1]) >= 0) {
        // Fast path: everything is newer than what we have (the live case).
        for (const e of p) es.push(e);
        if (this.filtering) {
          for (const e of p) {
            if (this.matches(e)) {
              this.view.push(e);
              res.appendedToView++;
              if (e.kind === 'line') this.viewLines++;
            }
          }
        } else {
          res.appendedToView = p.length;
          this.viewLines = this.lineTotal;
        }
      } else {
        // Slow path: history of another container arriving late, a resume, …
        this.entries = mergeSorted(es, p);
        res.rebuilt = true;
      }
    }
    // The cap counts lines; markers go with the lines around them.
    let over = this.lineTotal - this.maxLines;
    if (over > 0) {
      res.changed = true;
      const es = this.entries;
      let k = 0;
      while (over > 0 && k < es.length) {
        const e = es[k++];
        e.d = true; // "dropped": lets the view trim its own prefix
        if (e.kind === 'line') { over--; this.lineTotal--; this.dropped++; }
      }
      es.splice(0, k);
      if (!res.rebuilt) {
        if (this.filtering) {
          let j = 0;
          while (j < this.view.length && this.view[j].d) {
            if (this.view[j].kind === 'line') this.viewLines--;
            j++;
          }
          if (j) this.view.splice(0, j);
          res.removedFromViewFront = j;
        } else {
          res.removedFromViewFront = k;
          this.viewLines = this.lineTotal;
        }
      }
    }
    if (res.rebuilt) this._rebuildView();
    else if (!this.filtering) this.view = this.entries;
    return res;
  }

  _rebuildView() {
    if (!this.filtering) {
      this.view = this.entries;
      this.viewLines = this.lineTotal;
      return;
    }
    const v = [];
    let n = 0;
    for (const e of this.entries) {
      if (this.matches(e)) {
        v.push(e);
        if (e.kind === 'line') n++;
      }
    }
    this.view = v;
    this.viewLines = n;
  }

  /** Change the stream filter ('all' | 'stdout' | 'stderr') and/or the search query. */
  setFilter({ stream = this.stream, query } = {}) {
    this.stream = stream === 'stdout' || stream === 'stderr' ? stream : 'all';
    if (query !== undefined) this.query = typeof query === 'string' ? compileQuery(query) : query;
    this._rebuildView();
  }

  setPaused(p) {
    this.paused = !!p;
  }

  setMaxLines(n) {
    this.maxLines = clampMaxLines(n);
  }

  /** Forget every stored and queued entry (subscriptions and dedup state live elsewhere). */
  clear() {
    for (const e of this.entries) e.d = true;
    this.entries = [];
    this.pending = [];
    this.view = this.entries;
    this.lineTotal = 0;
    this.viewLines = 0;
    this._rebuildView();
  }

  /** Lines queued while paused. */
  get pendingLines() {
    let n = 0;
    for (const e of this.pending) if (e.kind === 'line') n++;
    return n;
  }

  /** Index of the first view entry not before `e` (for keeping the scroll anchor). */
  lowerBound(e) {
    const v = this.view;
    let lo = 0;
    let hi = v.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareEntries(v[mid], e) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export function mergeSorted(a, b) {
  const out = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = compareEntries(a[i], b[j]) <= 0 ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}
