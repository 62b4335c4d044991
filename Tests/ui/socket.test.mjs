// The resume/dedupe logic of socket.js, driven with a fake WebSocket and fake timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TailClient, backoffDelay, BACKOFF_CAP_MS } from '../../Sources/Gateway/Public/socket.js';

const FULL = 'a'.repeat(64);

function harness({ random = () => 0.5 } = {}) {
  const sockets = [];
  const timers = [];
  class FakeWS {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      sockets.push(this);
    }
    send(s) { this.sent.push(JSON.parse(s)); }
    close() { this.readyState = 3; }
    open() { this.readyState = 1; this.onopen(); }
    recv(type, data, id) { this.onmessage({ data: JSON.stringify(id ? { type, id, data } : { type, data }) }); }
    drop(code = 1006) { this.readyState = 3; this.onclose({ code }); }
  }
  const events = [];
  const states = [];
  const client = new TailClient({
    url: 'ws://test/api/logs/ws',
    WebSocketImpl: FakeWS,
    setTimeoutFn: (fn, ms) => { const t = { fn, ms, done: false }; timers.push(t); return t; },
    clearTimeoutFn: (t) => { if (t) t.done = true; },
    random,
    onEvent: (ev) => events.push(ev),
    onStatus: (s, info) => states.push([s, info]),
  });
  const runTimers = () => {
    const due = timers.filter((t) => !t.done);
    for (const t of due) { t.done = true; t.fn(); }
    return due.map((t) => t.ms);
  };
  const ws = () => sockets[sockets.length - 1];
  const lines = () => events.filter((e) => e.type === 'lines').flatMap((e) => e.lines.map((l) => l.seq));
  const markers = () => events.filter((e) => e.type === 'marker').map((e) => e.kind);
  return { client, sockets, ws, timers, runTimers, events, states, lines, markers };
}

const L = (seq, epoch = 'E1', extra = {}) => ({
  agentId: 'h1', containerId: FULL, seq, epoch,
  timestamp: `2024-05-01T10:00:00.${String(seq).padStart(9, '0')}Z`, stream: 'stdout', message: 'm' + seq, ...extra,
});
const range = (a, b, epoch) => Array.from({ length: b - a + 1 }, (_, i) => L(a + i, epoch));

function subscribeAndLoad(h, { history = range(1, 5), tail = 500 } = {}) {
  h.client.start();
  h.ws().open();
  const sub = h.client.subscribe({ agentId: 'h1', containerId: 'web', tail });
  const req = h.ws().sent.at(-1);
  h.ws().recv('log.subscribed', { agentId: 'h1', containerId: FULL, name: '/web', epoch: 'E1' }, req.id);
  h.ws().recv('log.history', { agentId: 'h1', containerId: FULL, epoch: 'E1', lines: history, complete: true });
  return { sub, req };
}

test('subscribe sends agentId, containerId, tail and batch; history then live lines', () => {
  const h = harness();
  const { sub, req } = subscribeAndLoad(h);
  assert.equal(req.type, 'log.subscribe');
  assert.deepEqual(req.data, { agentId: 'h1', containerId: 'web', batch: true, tail: 500 });
  assert.equal(sub.containerId, FULL);
  assert.equal(sub.name, 'web');
  h.ws().recv('log.line', L(6));
  h.ws().recv('log.lines', { agentId: 'h1', containerId: FULL, lines: [L(7), L(8)] });
  assert.deepEqual(h.lines(), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(h.markers(), []);
  assert.equal(h.client.state, 'connected');
});

test('duplicates (seq <= last seen) are dropped', () => {
  const h = harness();
  subscribeAndLoad(h);
  h.ws().recv('log.lines', { agentId: 'h1', containerId: FULL, lines: [L(4), L(5), L(6)] });
  h.ws().recv('log.line', L(6));
  h.ws().recv('log.line', L(2));
  h.ws().recv('log.line', L(7));
  assert.deepEqual(h.lines(), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(h.client.stats.duplicatesDropped, 4);
});

test('reconnect resumes with sinceSeq + epoch: nothing lost, nothing doubled', () => {
  const h = harness();
  subscribeAndLoad(h);
  h.ws().recv('log.line', L(6));
  h.ws().drop();
  assert.equal(h.client.state, 'reconnecting');
  const delays = h.runTimers();
  assert.equal(delays.length, 1);
  assert.equal(h.sockets.length, 2);
  h.ws().open();
  const resub = h.ws().sent.find((m) => m.type === 'log.subscribe');
  assert.deepEqual(resub.data, { agentId: 'h1', containerId: FULL, batch: true, sinceSeq: 6, epoch: 'E1' });
  h.ws().recv('log.subscribed', { agentId: 'h1', containerId: FULL, name: 'web', epoch: 'E1' }, resub.id);
  // the gateway replays the missed lines (plus, say, an overlap)
  h.ws().recv('log.history', { agentId: 'h1', containerId: FULL, epoch: 'E1', lines: range(5, 9), complete: true });
  h.ws().recv('log.lines', { agentId: 'h1', containerId: FULL, lines: [L(9), L(10)] });
  assert.deepEqual(h.lines(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(h.markers(), []);
  assert.equal(h.client.state, 'connected');
});

test('incomplete resume (history window exceeded) shows one gap marker', () => {
  const h = harness();
  subscribeAndLoad(h);
  h.ws().drop();
  h.runTimers();
  h.ws().open();
  const resub = h.ws().sent.find((m) => m.type === 'log.subscribe');
  assert.equal(resub.data.sinceSeq, 5);
  h.ws().recv('log.subscribed', { agentId: 'h1', containerId: FULL, epoch: 'E1' }, resub.id);
  h.ws().recv('log.history', { agentId: 'h1', containerId: FULL, epoch: 'E1', lines: range(50, 52), complete: false });
  assert.deepEqual(h.markers(), ['gap']);
  const gap = h.events.find((e) => e.type === 'marker');
  assert.equal(gap.at, L(50).timestamp, 'placed before the first replayed line');
  assert.equal(gap.fromSeq, 6);
  assert.equal(gap.toSeq, 49);
  assert.deepEqual(h.lines(), [1, 2, 3, 4, 5, 50, 51, 52]);
  const markerIdx = h.events.findIndex((e) => e.type === 'marker');
  const lastLinesIdx = h.events.findLastIndex((e) => e.type === 'lines');
  assert.ok(markerIdx < lastLinesIdx);
});

test('epoch changed while away: resume says so, seqs start over', () => {
  const h = harness();
  subscribeAndLoad(h);
  h.ws().drop();
  h.runTimers();
  h.ws().open();
  const resub = h.ws().sent.find((m) => m.type === 'log.subscribe');
  h.ws().recv('log.subscribed', { agentId: 'h1', containerId: FULL, epoch: 'E2' }, resub.id);
  h.ws().recv('log.history', { agentId: 'h1', containerId: FULL, epoch: 'E2', lines: range(1, 3, 'E2'), complete: false });
  h.ws().recv('log.line', L(4, 'E2'));
  assert.deepEqual(h.lines(), [1, 2, 3, 4, 5, 1, 2, 3, 4]);
  assert.deepEqual(h.markers(), ['gap']);
  // and the next resume uses the new epoch
  h.ws().drop();
  h.runTimers();
  h.ws().open();
  const again = h.ws().sent.find((m) => m.type === 'log.subscribe');
  assert.equal(again.data.epoch, 'E2');
  assert.equal(again.data.sinceSeq, 4);
});

test('log.gap shows a marker once, even if the jump is seen too', () => {
  const h = harness();
  subscribeAndLoad(h);
  h.ws().recv('log.gap', { agentId: 'h1', containerId: FULL, fromSeq: 6, toSeq: 9 });
  h.ws().recv('log.line', L(10));
  assert.deepEqual(h.markers(), ['gap']);
  assert.deepEqual(h.lines(), [1, 2, 3, 4, 5, 10]);
  // jump seen first, then the gap frame for the same range
  h.ws().recv('log.line', L(13));
  h.ws().recv('log.gap', { agentId: 'h1', containerId: FULL, fromSeq: 11, toSeq: 12 });
  assert.deepEqual(h.markers(), ['gap', 'gap']);
  const last = h.events.filter((e) => e.type === 'marker').at(-1);
  assert.equal(last.fromSeq, 11);
  assert.equal(last.toSeq, 12);
});

test('epoch change in live lines (agent reset) gives a reset marker and accepts the new seqs', () => {
  const h = harness();
  subscribeAndLoad(h);
  h.ws().recv('log.lines', { agentId: 'h1', containerId: FULL, lines: [L(6), L(1, 'E9'), L(2, 'E9')] });
  assert.deepEqual(h.lines(), [1, 2, 3, 4, 5, 6, 1, 2]);
  assert.deepEqual(h.markers(), ['reset']);
});

test('stream ended is a marker; lines after a restart keep coming', () => {
  const h = harness();
  const { sub } = subscribeAndLoad(h);
  h.ws().recv('log.stream.ended', { agentId: 'h1', containerId: FULL, reason: 'exited (0)' });
  assert.equal(sub.state, 'ended');
  h.ws().recv('log.line', L(6));
  assert.equal(sub.state, 'active');
  assert.deepEqual(h.markers(), ['ended']);
  assert.match(h.events.find((e) => e.kind === 'ended').text, /exited \(0\)/);
  assert.deepEqual(h.lines(), [1, 2, 3, 4, 5, 6]);
});

test('retryable stream errors resubscribe later; not_found does not', () => {
  const h = harness();
  const { sub } = subscribeAndLoad(h);
  const before = h.ws().sent.length;
  h.ws().recv('log.stream.error', { agentId: 'h1', containerId: FULL, code: 'agent_offline', message: 'gone' });
  assert.deepEqual(h.markers(), ['error']);
  assert.equal(sub.state, 'error');
  h.runTimers();
  const retry = h.ws().sent.slice(before).find((m) => m.type === 'log.subscribe');
  assert.deepEqual({ sinceSeq: retry.data.sinceSeq, epoch: retry.data.epoch }, { sinceSeq: 5, epoch: 'E1' });

  const h2 = harness();
  h2.client.start();
  h2.ws().open();
  h2.client.subscribe({ agentId: 'h1', containerId: 'nope', tail: 10 });
  h2.ws().recv('log.stream.error', { agentId: 'h1', containerId: 'nope', code: 'not_found', message: 'no such container' });
  assert.deepEqual(h2.markers(), ['error']);
  assert.deepEqual(h2.runTimers(), []);
});

test('a refused subscribe with tail is retried once without tail', () => {
  const h = harness();
  h.client.start();
  h.ws().open();
  h.client.subscribe({ agentId: 'h1', containerId: 'web', tail: 5000 });
  const first = h.ws().sent.at(-1);
  h.ws().recv('error', { code: 'bad_request', message: 'tail too large' }, first.id);
  const second = h.ws().sent.at(-1);
  assert.equal(second.type, 'log.subscribe');
  assert.equal(second.data.tail, undefined);
  h.ws().recv('error', { code: 'bad_request', message: 'still bad' }, second.id);
  assert.deepEqual(h.markers(), ['error']);
});

test('unsubscribe: our own confirmation is silent, a server-side one is shown', () => {
  const h = harness();
  const { sub } = subscribeAndLoad(h);
  h.client.unsubscribe(sub);
  assert.deepEqual(h.ws().sent.at(-1), { type: 'log.unsubscribe', data: { agentId: 'h1', containerId: FULL } });
  h.ws().recv('log.unsubscribed', { agentId: 'h1', containerId: FULL });
  h.ws().recv('log.line', L(6)); // late line for a gone sub: ignored
  assert.deepEqual(h.markers(), []);
  assert.deepEqual(h.lines(), [1, 2, 3, 4, 5]);

  const h2 = harness();
  subscribeAndLoad(h2);
  h2.ws().recv('log.unsubscribed', { agentId: 'h1', containerId: FULL });
  assert.deepEqual(h2.markers(), ['info']);
});

test('lines are routed per container in a merged view', () => {
  const h = harness();
  h.client.start();
  h.ws().open();
  const a = h.client.subscribe({ agentId: 'h1', containerId: 'web' });
  const b = h.client.subscribe({ agentId: 'h2', containerId: 'db' });
  const [ra, rb] = h.ws().sent.slice(-2);
  const DB = 'b'.repeat(64);
  // replies without echoed ids: matched by name
  h.ws().recv('log.subscribed', { agentId: 'h2', containerId: DB, name: 'db', epoch: 'X' });
  h.ws().recv('log.subscribed', { agentId: 'h1', containerId: FULL, name: 'web', epoch: 'E1' });
  assert.equal(b.containerId, DB);
  assert.equal(a.containerId, FULL);
  h.ws().recv('log.line', { ...L(1), agentId: 'h2', containerId: DB, epoch: 'X' });
  h.ws().recv('log.line', L(1));
  h.ws().recv('log.line', L(1)); // duplicate for web only
  const byKey = h.events.filter((e) => e.type === 'lines').map((e) => e.sub.requested);
  assert.deepEqual(byKey, ['db', 'web']);
  assert.ok(ra.id !== rb.id);
});

test('backoff: exponential, jittered, capped at ~10 s; status goes offline after repeated failures', () => {
  assert.equal(backoffDelay(0, () => 0), 125);
  assert.equal(backoffDelay(0, () => 1), 250);
  assert.equal(backoffDelay(3, () => 1), 2000);
  assert.equal(backoffDelay(30, () => 1), BACKOFF_CAP_MS);
  assert.equal(backoffDelay(30, () => 0), BACKOFF_CAP_MS / 2);
  const h = harness({ random: () => 1 });
  h.client.start();
  const seen = [];
  for (let i = 0; i < 7; i++) {
    h.ws().drop(); // never opened
    seen.push(h.client.state);
    const [ms] = h.runTimers();
    assert.ok(ms <= BACKOFF_CAP_MS);
  }
  assert.deepEqual(seen.slice(0, 3), ['reconnecting', 'reconnecting', 'reconnecting']);
  assert.equal(seen.at(-1), 'offline');
  h.ws().open();
  assert.equal(h.client.state, 'connected');
  h.ws().drop();
  assert.equal(h.client.state, 'reconnecting');
  h.client.stop();
  assert.equal(h.client.state, 'offline');
  assert.deepEqual(h.runTimers(), []);
});

test('frames that are not JSON or of unknown type are ignored', () => {
  const h = harness();
  subscribeAndLoad(h);
  h.ws().onmessage({ data: 'not json' });
  h.ws().recv('something.new', { x: 1 });
  h.ws().recv('log.line', { ...L(6), seq: 'x' });
  assert.deepEqual(h.lines(), [1, 2, 3, 4, 5]);
});
