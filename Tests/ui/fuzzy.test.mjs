import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzyMatch, fuzzyFilter } from '../../Sources/Gateway/Public/fuzzy.js';

test('subsequence matches, case-insensitive; others do not', () => {
  assert.ok(fuzzyMatch('ngx', 'nginx'));
  assert.ok(fuzzyMatch('NGX', 'nginx'));
  assert.equal(fuzzyMatch('xgn', 'nginx'), null);
  assert.equal(fuzzyMatch('nginxx', 'nginx'), null);
  assert.deepEqual(fuzzyMatch('', 'x'), { score: 0, positions: [] });
});

test('positions point at the matched characters', () => {
  const m = fuzzyMatch('apdb', 'api-postgres-db');
  assert.deepEqual(m.positions.map((i) => 'api-postgres-db'[i]).join(''), 'apdb');
  assert.deepEqual(m.positions.slice(2), [13, 14]); // "db" at the word start, not inside "postgres"
  // a word start beats the first occurrence
  assert.deepEqual(fuzzyMatch('pd', 'api-postgres-db').positions, [4, 13]);
});

test('ranking: exact > prefix > contiguous > scattered', () => {
  const names = ['my-web-cache', 'web-frontend', 'web', 'w-e-b', 'legacy-webhook'];
  const ranked = fuzzyFilter('web', names).map((r) => r.item);
  assert.equal(ranked[0], 'web');
  assert.equal(ranked[1], 'web-frontend');
  assert.equal(ranked[ranked.length - 1], 'w-e-b');
  assert.ok(ranked.indexOf('my-web-cache') < ranked.indexOf('w-e-b'));
});

test('filter keeps order for empty query and drops non-matches', () => {
  const items = [{ name: 'b' }, { name: 'a' }];
  assert.deepEqual(fuzzyFilter('', items, (x) => x.name).map((r) => r.item.name), ['b', 'a']);
  assert.deepEqual(fuzzyFilter('zz', items, (x) => x.name), []);
});
