// Fuzzy name matching for the fleet filter. Pure.
//
// A query matches a name when its characters appear in order (a subsequence,
// case-insensitive). The score favours what people mean when they type a few
// letters: exact and prefix matches, consecutive runs, and letters at word
// starts ("ap-db" for "api-postgres-db"), and penalises scattered letters.

const BOUNDARY = /[-_.\/\s:@]/;

/** @returns {{score: number, positions: number[]} | null} */
export function fuzzyMatch(query, text) {
  const q = String(query || '').toLowerCase();
  const t = String(text || '');
  if (!q) return { score: 0, positions: [] };
  const lower = t.toLowerCase();
  if (q.length > lower.length) return null;

  // Cheap reject: must be a subsequence at all.
  let k = 0;
  for (let i = 0; i < lower.length && k < q.length; i++) if (lower[i] === q[k]) k++;
  if (k < q.length) return null;

  // Try every start of the first character; greedy-but-prefer-boundaries from there.
  let best = null;
  for (let start = lower.indexOf(q[0]); start !== -1; start = lower.indexOf(q[0], start + 1)) {
    const positions = align(q, t, lower, start);
    if (!positions) break; // later starts cannot match either
    const score = scorePositions(positions, t, lower, q);
    if (!best || score > best.score) best = { score, positions };
  }
  return best;
}

function isBoundary(t, i) {
  if (i === 0) return true;
  const prev = t[i - 1];
  if (BOUNDARY.test(prev)) return true;
  // camelCase and letter→digit transitions
  const c = t[i];
  if (prev >= 'a' && prev <= 'z' && c >= 'A' && c <= 'Z') return true;
  if (/[a-zA-Z]/.test(prev) && /[0-9]/.test(c)) return true;
  return false;
}

// From `start`, take each next query character, preferring a word-start
// occurrence when one exists before the next character is needed.
function align(q, t, lower, start) {
  const pos = [start];
  let i = start + 1;
  for (let k = 1; k < q.length; k++) {
    const ch = q[k];
    const next = lower.indexOf(ch, i);
    if (next === -1) return null;
    let pick = next;
    if (next !== i) {
      // not consecutive: look for a boundary occurrence that still leaves room
      for (let j = next; j !== -1; j = lower.indexOf(ch, j + 1)) {
        if (isBoundary(t, j)) {
          if (canFinish(q, lower, k + 1, j + 1)) pick = j;
          break;
        }
      }
    }
    pos.push(pick);
    i = pick + 1;
  }
  return pos;
}

function canFinish(q, lower, k, i) {
  for (; k < q.length; k++) {
    i = lower.indexOf(q[k], i);
    if (i === -1) return false;
    i++;
  }
  return true;
}

function scorePositions(pos, t, lower, q) {
  let score = 0;
  for (let k = 0; k < pos.length; k++) {
    score += 10;
    if (isBoundary(t, pos[k])) score += 8;
    if (k > 0) {
      const gap = pos[k] - pos[k - 1] - 1;
      if (gap === 0) score += 12;
      else score -= Math.min(gap, 10);
    }
  }
  if (pos[0] === 0) score += 15;
  else score -= Math.min(pos[0], 10) * 0.5;
  if (lower === q) score += 100;
  else if (lower.startsWith(q)) score += 40;
  else if (lower.includes(q)) score += 20;
  score -= (lower.length - q.length) * 0.1; // shorter names win ties
  return score;
}

/**
 * Rank items by fuzzy match of key(item). Non-matching items are dropped.
 * With an empty query every item is kept, in the original order.
 * @returns {{item, score, positions}[]}
 */
export function fuzzyFilter(query, items, key = (x) => x) {
  const out = [];
  items.forEach((item, index) => {
    const m = fuzzyMatch(query, key(item));
    if (m) out.push({ item, score: m.score, positions: m.positions, index });
  });
  if (query) out.sort((a, b) => b.score - a.score || a.index - b.index);
  return out.map(({ item, score, positions }) => ({ item, score, positions }));
}
