import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHash, buildHash, sameTargets } from '../../Sources/Gateway/Public/router.js';

test('fleet, single and merged routes', () => {
  assert.equal(parseHash('').view, 'fleet');
  assert.equal(parseHash('#/').view, 'fleet');
  const one = parseHash('#/agents/host-1/containers/web');
  assert.equal(one.view, 'logs');
  assert.equal(one.merged, false);
  assert.deepEqual(one.targets, [{ agentId: 'host-1', containerId: 'web' }]);
  const m = parseHash('#/merged?c=host-1/web,host-2/db,host-1/web');
  assert.equal(m.merged, true);
  assert.deepEqual(m.targets, [{ agentId: 'host-1', containerId: 'web' }, { agentId: 'host-2', containerId: 'db' }]);
});

test('query state and validation', () => {
  const r = parseHash('#/agents/a/containers/web?q=%2Ferr%2F&stream=stderr');
  assert.equal(r.q, '/err/');
  assert.equal(r.stream, 'stderr');
  assert.equal(parseHash('#/agents/a/containers/web?stream=bogus').stream, 'all');
  assert.equal(parseHash('#/agents/bad%20id/containers/web').view, 'fleet');
  assert.equal(parseHash('#/merged?c=').view, 'fleet');
});

test('buildHash round-trips', () => {
  const targets = [{ agentId: 'h1', containerId: 'web.1' }, { agentId: 'h2', containerId: 'db' }];
  const hash = buildHash(targets, { q: 'a,b c', stream: 'stdout' });
  assert.equal(hash.startsWith('#/merged?c=h1/web.1,h2/db'), true);
  const back = parseHash(hash);
  assert.deepEqual(back.targets, targets);
  assert.equal(back.q, 'a,b c');
  assert.equal(back.stream, 'stdout');
  assert.equal(buildHash([targets[0]]), '#/agents/h1/containers/web.1');
  assert.equal(buildHash([targets[0]], { merged: true }), '#/merged?c=h1/web.1');
  assert.ok(sameTargets(targets, [...targets].reverse()));
  assert.ok(!sameTargets(targets, [targets[0]]));
});
