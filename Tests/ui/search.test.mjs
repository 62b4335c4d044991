import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileQuery, splitByRanges } from '../../Sources/Gateway/Public/search.js';

test('empty query matches everything', () => {
  const q = compileQuery('');
  assert.equal(q.kind, 'none');
  assert.ok(q.test('anything'));
  assert.deepEqual(q.ranges('anything'), []);
});

test('text search is a case-insensitive substring, special characters literal', () => {
  const q = compileQuery('ERROR');
  assert.equal(q.kind, 'text');
  assert.ok(q.test('an error occurred'));
  assert.ok(!q.test('all good'));
  assert.deepEqual(q.ranges('Error, error'), [[0, 5], [7, 12]]);
  const dots = compileQuery('a.b(c');
  assert.ok(dots.test('xa.b(cx'));
  assert.ok(!dots.test('axb(c'));
});

test('/regex/ is a regular expression (case-insensitive)', () => {
  const q = compileQuery('/err(or)?\\s+\\d+/');
  assert.equal(q.kind, 'regex');
  assert.ok(q.test('ERROR 42'));
  assert.ok(q.test('err 7'));
  assert.ok(!q.test('error x'));
  assert.deepEqual(q.ranges('x ERR 1 y error 22'), [[2, 7], [10, 18]]);
});

test('regex with flags, and a lone or unclosed slash is text', () => {
  assert.equal(compileQuery('/a.c/s').kind, 'regex');
  assert.equal(compileQuery('/').kind, 'text');
  assert.equal(compileQuery('/var/log').kind, 'text');
  assert.ok(compileQuery('/var/log').test('open /var/log/x'));
  assert.equal(compileQuery('/var/log/').kind, 'regex');
});

test('invalid regex is reported and filters nothing', () => {
  const q = compileQuery('/foo(/');
  assert.equal(q.kind, 'invalid');
  assert.match(q.error, /./);
  assert.ok(q.test('anything'));
  assert.equal(compileQuery('/x/g').kind, 'text'); // not a flag we take: literal text
});

test('zero-length matches do not loop and are not highlighted', () => {
  const q = compileQuery('/a*/');
  assert.ok(q.test('bbb'));
  assert.deepEqual(q.ranges('baab'), [[1, 3]]);
});

test('splitByRanges splits across styled segments', () => {
  const s1 = { text: 'hello ', style: 'A' };
  const s2 = { text: 'world', style: 'B' };
  const pieces = splitByRanges([s1, s2], [[4, 8]]);
  assert.deepEqual(pieces.map((p) => [p.text, p.mark, p.seg.style]), [
    ['hell', false, 'A'], ['o ', true, 'A'], ['wo', true, 'B'], ['rld', false, 'B'],
  ]);
  assert.deepEqual(splitByRanges([s1], []).map((p) => p.text), ['hello ']);
});
