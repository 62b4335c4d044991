// Timestamp helpers. Pure: no DOM, so node can test them.
//
// Docker gives RFC 3339 with up to 9 fractional digits ("…T10:00:00.123456789Z").
// A JS Date keeps only milliseconds, and seconds*1e9 overflows 2^53, so a
// time is kept as two integers: whole seconds since the epoch and nanoseconds.

const RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?([Zz]|[+-]\d{2}:?\d{2})?$/;

// Thousands of lines share the same second: cache the last prefix parsed.
let cachePrefix = '';
let cacheSec = 0;

/** Parse an RFC 3339 timestamp. Returns {s, n} (seconds, nanoseconds) or null. */
export function parseTimestamp(ts) {
  if (typeof ts !== 'string') return null;
  const m = RE.exec(ts);
  if (!m) return null;
  const zone = m[8] || 'Z';
  const prefix = ts.slice(0, 19) + zone;
  let s;
  if (prefix === cachePrefix) {
    s = cacheSec;
  } else {
    s = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000;
    if (zone !== 'Z' && zone !== 'z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      s -= sign * ((+digits.slice(0, 2)) * 3600 + (+digits.slice(2, 4)) * 60);
    }
    if (!Number.isFinite(s)) return null;
    cachePrefix = prefix;
    cacheSec = s;
  }
  const frac = m[7] ? (m[7] + '000000000').slice(0, 9) : '0';
  return { s, n: +frac };
}

/** Compare two {s, n} times. */
export function compareTime(a, b) {
  return a.s - b.s || a.n - b.n;
}

const pad2 = (v) => (v < 10 ? '0' : '') + v;
const pad3 = (v) => (v < 10 ? '00' : v < 100 ? '0' : '') + v;

let clockSec = NaN;
let clockPrefix = '';

/** Local wall-clock "HH:MM:SS.mmm" for seconds + nanoseconds. */
export function formatClock(s, n) {
  if (s !== clockSec) {
    const d = new Date(s * 1000);
    clockPrefix = pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
    clockSec = s;
  }
  return clockPrefix + '.' + pad3(Math.floor(n / 1e6));
}

/** Local "YYYY-MM-DD HH:MM:SS.mmm", for tooltips and the detail panel. */
export function formatDateTime(s, n) {
  const d = new Date(s * 1000);
  return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' + formatClock(s, n);
}

/** Milliseconds since the epoch from the API's lastSeen (ISO string, ms or s number). */
export function toMillis(v) {
  if (v == null || v === '') return null;
  if (typeof v === 'number') return v > 1e11 ? v : v * 1000;
  if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v)) return toMillis(Number(v));
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

/** "just now", "12 s ago", "3 min ago", "5 h ago", "2 d ago", "never". */
export function formatRelative(value, nowMs = Date.now()) {
  const t = toMillis(value);
  if (t == null) return 'never';
  const sec = Math.round((nowMs - t) / 1000);
  if (sec < 2) return 'just now';
  if (sec < 60) return sec + ' s ago';
  if (sec < 3600) return Math.floor(sec / 60) + ' min ago';
  if (sec < 86400) return Math.floor(sec / 3600) + ' h ago';
  return Math.floor(sec / 86400) + ' d ago';
}
