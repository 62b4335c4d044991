// Log search. Pure: compiles what the user typed into a matcher.
//
// Plain text is a case-insensitive substring search. A query written as
// /pattern/ (optionally /pattern/flags with flags from "imsu") is a regular
// expression, also case-insensitive.
// An invalid regex is reported and filters nothing, so typing "/foo(" does
// not blank the screen half-way through a pattern.

// Flags limited to imsu so a path like "/var/log" stays a text search.
const REGEX_QUERY = /^\/(.+)\/([imsu]*)$/s;

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * @returns {{kind: 'none'|'text'|'regex'|'invalid', error?: string,
 *            test(text: string): boolean, ranges(text: string): number[][]}}
 */
export function compileQuery(query) {
  const q = query == null ? '' : String(query);
  if (q === '') return NONE;
  const m = REGEX_QUERY.exec(q);
  let source;
  let flags = 'i';
  let kind = 'text';
  if (m) {
    kind = 'regex';
    source = m[1];
    for (const f of m[2]) if (!flags.includes(f)) flags += f;
  } else {
    source = escapeRegExp(q);
  }
  let re;
  let reAll;
  try {
    re = new RegExp(source, flags);
    reAll = new RegExp(source, flags + 'g');
  } catch (e) {
    return invalid(String(e.message || e).replace(/^Invalid regular expression: /, ''));
  }
  return {
    kind,
    query: q,
    test: (text) => re.test(text),
    ranges: (text) => matchRanges(reAll, text),
  };
}

const NONE = Object.freeze({
  kind: 'none',
  query: '',
  test: () => true,
  ranges: () => [],
});

function invalid(error) {
  return { kind: 'invalid', error, query: '', test: () => true, ranges: () => [] };
}

/** [start, end) pairs of every non-empty match, capped so a huge line cannot stall. */
export function matchRanges(reAll, text, max = 1000) {
  const out = [];
  reAll.lastIndex = 0;
  let m;
  while (out.length < max && (m = reAll.exec(text)) !== null) {
    if (m[0].length === 0) {
      reAll.lastIndex++; // zero-length match (e.g. /a*/): step over it
      if (reAll.lastIndex > text.length) break;
      continue;
    }
    out.push([m.index, m.index + m[0].length]);
  }
  return out;
}

/**
 * Split styled segments [{text, ...}] at highlight ranges over their
 * concatenated text. Returns [{seg, text, mark}] pieces, in order.
 */
export function splitByRanges(segments, ranges) {
  const out = [];
  let pos = 0;
  let r = 0;
  for (const seg of segments) {
    const end = pos + seg.text.length;
    let cur = pos;
    while (cur < end) {
      while (r < ranges.length && ranges[r][1] <= cur) r++;
      const range = ranges[r];
      if (!range || range[0] >= end) {
        out.push({ seg, text: seg.text.slice(cur - pos), mark: false });
        cur = end;
      } else if (range[0] > cur) {
        out.push({ seg, text: seg.text.slice(cur - pos, range[0] - pos), mark: false });
        cur = range[0];
      } else {
        const stop = Math.min(range[1], end);
        out.push({ seg, text: seg.text.slice(cur - pos, stop - pos), mark: true });
        cur = stop;
      }
    }
    pos = end;
  }
  return out;
}
