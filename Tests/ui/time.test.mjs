import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimestamp, compareTime, formatClock, formatRelative, toMillis } from '../../Sources/Gateway/Public/time.js';

test('RFC 3339 with nanoseconds keeps full precision', () => {
  const a = parseTimestamp('2024-05-01T10:00:00.123456789Z');
  assert.equal(a.s, Date.UTC(2024, 4, 1, 10, 0, 0) / 1000);
  assert.equal(a.n, 123456789);
  const b = parseTimestamp('2024-05-01T10:00:00.123456790Z');
  assert.ok(compareTime(a, b) < 0, 'one nanosecond later sorts later');
});

test('short fractions (Go trims zeros), no fraction, offsets', () => {
  assert.equal(parseTimestamp('2024-05-01T10:00:00.5Z').n, 500000000);
  assert.equal(parseTimestamp('2024-05-01T10:00:00Z').n, 0);
  const plus = parseTimestamp('2024-05-01T12:00:00.1+02:00');
  const z = parseTimestamp('2024-05-01T10:00:00.1Z');
  assert.deepEqual(plus, z);
  const minus = parseTimestamp('2024-05-01T05:30:00-04:30');
  assert.equal(minus.s, Date.UTC(2024, 4, 1, 10, 0, 0) / 1000);
  assert.equal(parseTimestamp('garbage'), null);
  assert.equal(parseTimestamp(undefined), null);
});

test('cache does not confuse different seconds or zones', () => {
  const a = parseTimestamp('2024-05-01T10:00:00.1Z');
  const b = parseTimestamp('2024-05-01T10:00:00.1+01:00');
  const c = parseTimestamp('2024-05-01T10:00:01.1Z');
  assert.equal(a.s - b.s, 3600);
  assert.equal(c.s - a.s, 1);
});

test('local HH:MM:SS.mmm (truncated, not rounded)', () => {
  process.env.TZ = 'UTC';
  const t = parseTimestamp('2024-05-01T09:08:07.999999999Z');
  assert.equal(formatClock(t.s, t.n), '09:08:07.999');
  const u = parseTimestamp('2024-05-01T23:59:59.001Z');
  assert.equal(formatClock(u.s, u.n), '23:59:59.001');
  process.env.TZ = 'Asia/Kolkata'; // +05:30
  const v = parseTimestamp('2024-05-01T00:00:00.000000001Z');
  assert.equal(formatClock(v.s, v.n), '05:30:00.000');
  process.env.TZ = 'UTC';
});

test('relative times', () => {
  const now = Date.UTC(2024, 0, 1, 12, 0, 0);
  assert.equal(formatRelative(now - 500, now), 'just now');
  assert.equal(formatRelative(new Date(now - 12000).toISOString(), now), '12 s ago');
  assert.equal(formatRelative((now - 180000) / 1000, now), '3 min ago');
  assert.equal(formatRelative(now - 5 * 3600e3, now), '5 h ago');
  assert.equal(formatRelative(now - 2 * 86400e3, now), '2 d ago');
  assert.equal(formatRelative(null, now), 'never');
  assert.equal(toMillis('1700000000000'), 1700000000000);
});
