import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Timeline, compareEntries } from '../../Sources/Gateway/Public/store.js';

let seqs = {};
function line(src, sec, msg, { stream = 'stdout', nanos = 0 } = {}) {
  seqs[src.name] = (seqs[src.name] || 0) + 1;
  const frac = String(nanos).padStart(9, '0');
  return {
    agentId: src.agentId, containerId: src.containerId, seq: seqs[src.name], epoch: 'e',
    timestamp: `2024-05-01T10:00:${String(sec).padStart(2, '0')}.${frac}Z`, stream, message: msg,
  };
}
const mk = (name, color = 0) => ({ agentId: 'a', containerId: name + '-id', name, color });
const messages = (arr) => arr.filter((e) => e.kind === 'line').map((e) => e.message);

test('lines from two containers merge into one timeline ordered by timestamp', () => {
  seqs = {};
  const t = new Timeline();
  const web = mk('web');
  const db = mk('db', 1);
  t.addLines(web, [line(web, 1, 'w1'), line(web, 3, 'w3'), line(web, 5, 'w5')]);
  t.flush();
  // db's history arrives later but is older: slow path merge
  t.addLines(db, [line(db, 2, 'd2'), line(db, 4, 'd4')]);
  const res = t.flush();
  assert.equal(res.rebuilt, true);
  assert.deepEqual(messages(t.entries), ['w1', 'd2', 'w3', 'd4', 'w5']);
  // nanosecond resolution decides
  t.addLines(db, [line(db, 6, 'late', { nanos: 2 })]);
  t.addLines(web, [line(web, 6, 'early', { nanos: 1 })]);
  t.flush();
  assert.deepEqual(messages(t.entries).slice(-2), ['early', 'late']);
  assert.equal(t.lineTotal, 7);
});

test('a stream never goes back in time: seq order wins within a container', () => {
  seqs = {};
  const t = new Timeline();
  const web = mk('web');
  t.addLines(web, [line(web, 5, 'first'), line(web, 4, 'second (clock went back)'), line(web, 6, 'third')]);
  t.flush();
  assert.deepEqual(messages(t.entries), ['first', 'second (clock went back)', 'third']);
  for (let i = 1; i < t.entries.length; i++) assert.ok(compareEntries(t.entries[i - 1], t.entries[i]) < 0);
});

test('cap drops the oldest lines, also from the filtered view', () => {
  seqs = {};
  const t = new Timeline({ maxLines: 100 });
  const web = mk('web');
  t.setFilter({ query: 'even' });
  for (let i = 0; i < 250; i++) t.addLines(web, [line(web, 0, (i % 2 ? 'odd ' : 'even ') + i, { nanos: i })]);
  t.flush();
  assert.equal(t.entries.length, 100);
  assert.equal(t.lineTotal, 100);
  assert.equal(t.entries[0].message, 'even 150');
  assert.equal(t.viewLines, 50);
  assert.equal(t.view[0].message, 'even 150');
  assert.equal(t.dropped, 150);
  // live appends keep trimming the view's prefix
  t.addLines(web, [line(web, 1, 'even 250'), line(web, 1, 'odd 251', { nanos: 1 })]);
  const res = t.flush();
  assert.equal(res.removedFromViewFront, 1);
  assert.equal(t.view[0].message, 'even 152');
  assert.equal(t.viewLines, 50);
});

test('stream filter and search; counters; markers always shown', () => {
  seqs = {};
  const t = new Timeline();
  const web = mk('web');
  t.addLines(web, [
    line(web, 1, 'GET /index 200'),
    line(web, 2, 'boom: \x1b[31mError\x1b[0m here', { stream: 'stderr' }),
    line(web, 3, 'GET /health 200', { stream: 'tty' }),
  ]);
  t.addMarker(web, 'ended', 'Container stopped', '2024-05-01T10:00:04Z');
  t.flush();
  t.setFilter({ stream: 'stderr' });
  assert.deepEqual(messages(t.view), ['boom: \x1b[31mError\x1b[0m here']);
  assert.equal(t.view.length, 2, 'marker stays visible');
  t.setFilter({ stream: 'stdout' });
  assert.equal(t.viewLines, 2, 'stdout includes tty lines');
  t.setFilter({ stream: 'all', query: 'error here' }); // matches the text without escapes
  assert.equal(t.viewLines, 1);
  t.setFilter({ query: '/get \\/\\w+ 200/' });
  assert.equal(t.viewLines, 2);
  assert.equal(t.lineTotal, 3);
  t.setFilter({ query: '' });
  assert.equal(t.view, t.entries);
});

test('paused: lines are queued, not shown; resume shows them', () => {
  seqs = {};
  const t = new Timeline();
  const web = mk('web');
  t.addLines(web, [line(web, 1, 'a')]);
  t.flush();
  t.setPaused(true);
  t.addLines(web, [line(web, 2, 'b'), line(web, 3, 'c')]);
  t.flush();
  assert.equal(t.lineTotal, 1);
  assert.equal(t.pendingLines, 2);
  t.setPaused(false);
  t.flush();
  assert.deepEqual(messages(t.entries), ['a', 'b', 'c']);
});

test('the cap counts lines, not marker rows', () => {
  seqs = {};
  const t = new Timeline({ maxLines: 100 });
  const web = mk('web');
  for (let i = 0; i < 150; i++) {
    t.addLines(web, [line(web, 1, 'l' + i, { nanos: i * 10 })]);
    if (i % 50 === 49) t.addMarker(web, 'gap', 'gap ' + i, `2024-05-01T10:00:01.${String(i * 10 + 1).padStart(9, '0')}Z`);
  }
  t.flush();
  assert.equal(t.lineTotal, 100);
  assert.equal(t.entries.filter((e) => e.kind === 'line').length, 100);
  // markers older than the oldest kept line go; one just before it still tells of that gap
  assert.deepEqual(t.entries.filter((e) => e.kind !== 'line').map((e) => e.text), ['gap 49', 'gap 99', 'gap 149']);
  assert.equal(t.entries[1].message, 'l50');
  // paused for long: the queue is bounded by the cap too
  t.setPaused(true);
  for (let i = 0; i < 400; i++) t.addLines(web, [line(web, 2, 'p' + i, { nanos: i })]);
  assert.ok(t.pendingLines <= 150);
  t.setPaused(false);
  t.flush();
  assert.equal(t.lineTotal, 100);
  assert.equal(t.entries.at(-1).message, 'p399');
});

test('clear empties everything', () => {
  seqs = {};
  const t = new Timeline();
  const web = mk('web');
  t.addLines(web, [line(web, 1, 'a')]);
  t.flush();
  t.clear();
  assert.equal(t.entries.length, 0);
  assert.equal(t.lineTotal, 0);
  t.addLines(web, [line(web, 2, 'b')]);
  t.flush();
  assert.deepEqual(messages(t.view), ['b']);
});

test('100,000 lines at 5,000 lines/frame stay fast', () => {
  seqs = {};
  const t = new Timeline({ maxLines: 100000 });
  const web = mk('web');
  const start = performance.now();
  for (let batch = 0; batch < 40; batch++) {
    const lines = [];
    for (let i = 0; i < 5000; i++) lines.push(line(web, batch, `line ${batch}-${i} some text here`, { nanos: i }));
    t.addLines(web, lines);
    t.flush();
  }
  const ms = performance.now() - start;
  assert.equal(t.entries.length, 100000);
  assert.equal(t.entries[0].message, 'line 20-0 some text here');
  const s2 = performance.now();
  t.setFilter({ query: '/line 3\\d-42\\b/' });
  const filterMs = performance.now() - s2;
  assert.equal(t.viewLines, 10);
  assert.ok(ms < 3000, `ingest took ${ms} ms`);
  assert.ok(filterMs < 500, `filter took ${filterMs} ms`);
});
