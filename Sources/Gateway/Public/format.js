// Text formatting for log lines: JSON detection/pretty-printing and the
// downloaded .log file. Pure.

import { plainText } from './store.js';

/**
 * If the message is (or ends with) a JSON object/array, return it parsed and
 * pretty-printed: {prefix, pretty}. Many loggers print "time level {json}",
 * so a JSON tail after a short prefix counts too. Otherwise null.
 */
export function detectJson(text) {
  if (!text) return null;
  const t = text.trim();
  const tryParse = (s) => {
    const c = s[0];
    const last = s[s.length - 1];
    if (!((c === '{' && last === '}') || (c === '[' && last === ']'))) return undefined;
    try {
      return JSON.parse(s);
    } catch {
      return undefined;
    }
  };
  let v = tryParse(t);
  if (v !== undefined && typeof v === 'object' && v !== null) {
    return { prefix: '', pretty: JSON.stringify(v, null, 2) };
  }
  const brace = t.indexOf('{');
  if (brace > 0 && brace < 200) {
    v = tryParse(t.slice(brace));
    if (v !== undefined && typeof v === 'object' && v !== null) {
      return { prefix: t.slice(0, brace).trimEnd(), pretty: JSON.stringify(v, null, 2) };
    }
  }
  return null;
}

/** Cheap pre-check used for every visible row (no parsing). */
export function looksLikeJson(text) {
  const t = text.trimEnd();
  const last = t[t.length - 1];
  return (last === '}' || last === ']') && (t.indexOf('{') !== -1 || t[0] === '[');
}

/** One line of the downloaded file. `withName` adds the container name (merged view). */
export function entryToText(e, withName) {
  const name = e.src && (e.src.name || e.src.containerId || e.containerId);
  if (e.kind !== 'line') {
    return `--- ${e.text}${withName && name ? ` [${name}]` : ''} ---`;
  }
  const parts = [];
  if (e.timestamp) parts.push(e.timestamp);
  if (withName && name) parts.push(name);
  parts.push(e.stream || 'stdout');
  return parts.join(' ') + ' ' + plainText(e);
}

/** The whole download: entries as shown (filtered), ANSI stripped, one per line. */
export function entriesToLog(entries, withName) {
  const out = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) out[i] = entryToText(entries[i], withName);
  return out.join('\n') + (entries.length ? '\n' : '');
}

/** A file name like "web_2024-05-01T10-00-00.log". */
export function downloadName(names, now = new Date()) {
  const base = names.length === 1 ? names[0] : names.length ? 'merged-' + names.length : 'logs';
  const stamp = now.toISOString().slice(0, 19).replace(/:/g, '-');
  return base.replace(/[^A-Za-z0-9._-]+/g, '_') + '_' + stamp + '.log';
}
