import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAnsi, stripAnsi, renderStyle, xterm256, applySgr } from '../../Sources/Gateway/Public/ansi.js';

const texts = (segs) => segs.map((s) => s.text);

test('plain text is one unstyled segment', () => {
  const segs = parseAnsi('hello world');
  assert.deepEqual(texts(segs), ['hello world']);
  assert.equal(segs[0].style.fg, null);
});

test('basic 16 colours and reset', () => {
  const segs = parseAnsi('\x1b[31mred\x1b[0m plain \x1b[1;92mbold bright green\x1b[m');
  assert.deepEqual(texts(segs), ['red', ' plain ', 'bold bright green']);
  assert.equal(segs[0].style.fg, 1);
  assert.equal(segs[1].style.fg, null);
  assert.equal(segs[2].style.fg, 10);
  assert.equal(segs[2].style.bold, true);
  assert.deepEqual(renderStyle(segs[2].style).classes.sort(), ['a-b', 'a-fg10']);
});

test('backgrounds, 39/49 defaults, 22 unbold', () => {
  const segs = parseAnsi('\x1b[1;33;44mA\x1b[22mB\x1b[39;49mC');
  assert.equal(segs[0].style.bg, 4);
  assert.equal(segs[1].style.bold, false);
  assert.equal(segs[1].style.fg, 3);
  assert.equal(segs[2].style.fg, null);
  assert.equal(segs[2].style.bg, null);
});

test('256 colours become CSS colours, 0-15 stay classes', () => {
  const [a, b] = parseAnsi('\x1b[38;5;208mx\x1b[48;5;9my');
  assert.equal(a.style.fg, 208);
  assert.equal(renderStyle(a.style).color, '#ff8700');
  assert.deepEqual(renderStyle(b.style).classes.includes('a-bg9'), true);
  assert.equal(xterm256(16), '#000000');
  assert.equal(xterm256(231), '#ffffff');
  assert.equal(xterm256(232), '#080808');
  assert.equal(xterm256(255), '#eeeeee');
});

test('truecolor, both ; and : forms', () => {
  const [a] = parseAnsi('\x1b[38;2;255;128;0mx');
  assert.equal(a.style.fg, '#ff8000');
  const [b] = parseAnsi('\x1b[48:2::1:2:3mx');
  assert.equal(b.style.bg, '#010203');
  assert.equal(renderStyle(b.style).background, '#010203');
  const [c] = parseAnsi('\x1b[38:5:45mx');
  assert.equal(c.style.fg, 45);
});

test('other escapes and control characters never show', () => {
  assert.equal(stripAnsi('\x1b[2K\x1b[1Gprogress\x1b[?25l done'), 'progress done');
  assert.equal(stripAnsi('\x1b]0;window title\x07after'), 'after');
  assert.equal(stripAnsi('\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\'), 'link');
  assert.equal(stripAnsi('a\x1b(Bb\x1b7c'), 'abc');
  assert.equal(stripAnsi('bell\x07 back\bspace\r'), 'bell backspace');
  assert.equal(stripAnsi('tab\tkept'), 'tab\tkept');
  assert.equal(stripAnsi('trailing esc \x1b'), 'trailing esc ');
  assert.equal(stripAnsi('unterminated \x1b[31'), 'unterminated 31');
  for (const s of parseAnsi('\x1b[31mA\x1b[999;xyzmB')) assert.ok(!s.text.includes('\x1b'));
});

test('adjacent text with the same style merges; empty segments are dropped', () => {
  const segs = parseAnsi('\x1b[31ma\x1b[31mb\x1b[0m\x1b[0m');
  assert.deepEqual(texts(segs), ['ab']);
});

test('HTML-looking text is just text', () => {
  const s = '<script>alert(1)</script> <img src=x onerror=alert(1)>';
  assert.deepEqual(texts(parseAnsi(s)), [s]);
  assert.equal(stripAnsi(s), s);
});

test('inverse swaps colours', () => {
  const [a] = parseAnsi('\x1b[7mx');
  assert.deepEqual(renderStyle(a.style).classes, ['a-inv']);
  const [b] = parseAnsi('\x1b[31;7mx');
  const r = renderStyle(b.style);
  assert.ok(r.classes.includes('a-bg1'));
  assert.ok(r.classes.includes('a-fgbg'));
});

test('applySgr keeps identity when nothing changes', () => {
  const s = applySgr(applySgr({ fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false }, '31'), '');
  const t = applySgr(s, '0');
  assert.equal(applySgr(t, '0'), t);
});
