import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectJson, looksLikeJson, entriesToLog, downloadName } from '../../Sources/Gateway/Public/format.js';

test('JSON lines are detected and pretty-printed', () => {
  const j = detectJson('{"level":"info","msg":"hi","n":[1,2]}');
  assert.equal(j.prefix, '');
  assert.equal(j.pretty, '{\n  "level": "info",\n  "msg": "hi",\n  "n": [\n    1,\n    2\n  ]\n}');
  const tail = detectJson('2024-05-01 INFO {"a":1}');
  assert.equal(tail.prefix, '2024-05-01 INFO');
  assert.equal(detectJson('{not json}'), null);
  assert.equal(detectJson('"string"'), null);
  assert.equal(detectJson('plain'), null);
  assert.ok(looksLikeJson('{"a":1}'));
  assert.ok(!looksLikeJson('plain text'));
});

test('download text: timestamps, names in merged view, ANSI stripped, markers', () => {
  const src = { name: 'web' };
  const entries = [
    { kind: 'line', timestamp: '2024-05-01T10:00:00.1Z', stream: 'stdout', message: '\x1b[32mok\x1b[0m', src },
    { kind: 'gap', text: '3 lines lost', src },
    { kind: 'line', timestamp: '2024-05-01T10:00:01Z', stream: 'stderr', message: 'bad', src },
  ];
  assert.equal(entriesToLog(entries, false),
    '2024-05-01T10:00:00.1Z stdout ok\n--- 3 lines lost ---\n2024-05-01T10:00:01Z stderr bad\n');
  assert.match(entriesToLog(entries, true), /^2024-05-01T10:00:00.1Z web stdout ok\n/);
  assert.equal(entriesToLog([], false), '');
  assert.equal(downloadName(['web'], new Date(Date.UTC(2024, 4, 1, 10, 0, 0))), 'web_2024-05-01T10-00-00.log');
  assert.equal(downloadName(['a', 'b'], new Date(0)), 'merged-2_1970-01-01T00-00-00.log');
});
