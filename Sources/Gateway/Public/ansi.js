// ANSI escape handling. Pure: turns a log message into styled text segments;
// the view turns segments into <span>s with textContent, never HTML.
//
// Supported: SGR (ESC[…m) bold/dim/italic/underline/inverse/strike, 16 colours,
// 256 colours (38;5;n) and truecolor (38;2;r;g;b, also the ':' forms).
// Every other escape (cursor moves, OSC titles/hyperlinks, charset switches)
// and stray control characters are dropped so they never show as garbage.

const ESC = '\x1b';
// Control characters other than TAB that a terminal would not print.
const CONTROL_RE = /[\x00-\x08\x0b-\x1f\x7f]/g;
const CONTROL_TEST = /[\x00-\x08\x0b-\x1f\x7f]/; // no /g: .test() must not keep state

/** Fast check: does the text need parsing at all? */
export function hasEscapes(s) {
  return s.indexOf(ESC) !== -1 || s.indexOf('\x9b') !== -1;
}

/** Strip escapes and control characters, keeping only printable text. */
export function stripAnsi(s) {
  if (!hasEscapes(s)) return CONTROL_TEST.test(s) ? s.replace(CONTROL_RE, '') : s;
  let out = '';
  for (const seg of parseAnsi(s)) out += seg.text;
  return out;
}

const DEFAULT_STYLE = Object.freeze({
  fg: null, bg: null, bold: false, dim: false, italic: false,
  underline: false, inverse: false, strike: false,
});

/**
 * Parse a message into [{text, style}] where style is
 * {fg, bg, bold, dim, italic, underline, inverse, strike}; fg/bg are null,
 * a palette index 0–255, or a '#rrggbb' string. Adjacent text with the same
 * style is merged. Segments with empty text are omitted.
 */
export function parseAnsi(input) {
  const segs = [];
  let style = DEFAULT_STYLE;
  let text = '';
  const push = () => {
    if (text) {
      const clean = CONTROL_TEST.test(text) ? text.replace(CONTROL_RE, '') : text;
      if (clean) {
        const last = segs[segs.length - 1];
        if (last && last.style === style) last.text += clean;
        else segs.push({ text: clean, style });
      }
      text = '';
    }
  };
  const len = input.length;
  let i = 0;
  let start = 0;
  while (i < len) {
    const c = input.charCodeAt(i);
    if (c !== 0x1b && c !== 0x9b) { i++; continue; }
    text += input.slice(start, i);
    let j;
    let csi = false;
    if (c === 0x9b) { csi = true; j = i + 1; }
    else if (input[i + 1] === '[') { csi = true; j = i + 2; }
    if (csi) {
      // CSI: parameter bytes 0x30–0x3F, intermediates 0x20–0x2F, final 0x40–0x7E.
      let k = j;
      while (k < len) {
        const b = input.charCodeAt(k);
        if (b >= 0x40 && b <= 0x7e) break;
        if (b < 0x20 || b > 0x3f) { k = -1; break; } // malformed: drop the ESC[ only
        k++;
      }
      if (k === -1 || k >= len) {
        i = j; // unterminated: drop the introducer, keep the rest as text
      } else {
        if (input[k] === 'm') {
          push();
          style = applySgr(style, input.slice(j, k));
        }
        i = k + 1;
      }
    } else if (input[i + 1] === ']' || input[i + 1] === 'P' || input[i + 1] === '_' || input[i + 1] === '^') {
      // OSC / DCS / APC / PM: skip to BEL or ST (ESC \). OSC 8 link text survives.
      let k = i + 2;
      while (k < len && input.charCodeAt(k) !== 0x07 && !(input.charCodeAt(k) === 0x1b && input[k + 1] === '\\')) k++;
      i = k >= len ? len : input.charCodeAt(k) === 0x07 ? k + 1 : k + 2;
    } else if (input[i + 1] === '(' || input[i + 1] === ')' || input[i + 1] === '#' || input[i + 1] === '%') {
      i = Math.min(len, i + 3); // charset selection etc.: ESC ( B
    } else {
      i = Math.min(len, i + 2); // two-byte escapes (ESC 7, ESC M, …) and a lone ESC
    }
    start = i;
  }
  text += input.slice(start);
  push();
  return segs;
}

/** Apply one SGR parameter string ("1;31", "38;5;208", "38:2::1:2:3") to a style. */
export function applySgr(style, params) {
  const s = { ...style };
  const parts = params === '' ? ['0'] : params.split(';');
  for (let idx = 0; idx < parts.length; idx++) {
    const part = parts[idx];
    if (part.includes(':')) {
      // ITU form: 38:5:n or 38:2:[colorspace]:r:g:b
      const sub = part.split(':').map((x) => (x === '' ? NaN : Number(x)));
      const code = sub[0];
      if (code === 38 || code === 48 || code === 58) {
        let color = null;
        if (sub[1] === 5) color = clampIndex(sub[2]);
        else if (sub[1] === 2) {
          const rgb = sub.length >= 6 ? sub.slice(sub.length - 3) : sub.slice(2, 5);
          color = rgbHex(rgb[0], rgb[1], rgb[2]);
        }
        if (code === 38) s.fg = color;
        else if (code === 48) s.bg = color;
      } else if (code === 4) {
        s.underline = sub[1] !== 0;
      }
      continue;
    }
    const n = part === '' ? 0 : Number(part);
    if (!Number.isInteger(n)) continue;
    if (n === 0) Object.assign(s, DEFAULT_STYLE);
    else if (n === 1) s.bold = true;
    else if (n === 2) s.dim = true;
    else if (n === 3) s.italic = true;
    else if (n === 4) s.underline = true;
    else if (n === 7) s.inverse = true;
    else if (n === 9) s.strike = true;
    else if (n === 21 || n === 22) { s.bold = false; s.dim = false; }
    else if (n === 23) s.italic = false;
    else if (n === 24) s.underline = false;
    else if (n === 27) s.inverse = false;
    else if (n === 29) s.strike = false;
    else if (n >= 30 && n <= 37) s.fg = n - 30;
    else if (n === 39) s.fg = null;
    else if (n >= 40 && n <= 47) s.bg = n - 40;
    else if (n === 49) s.bg = null;
    else if (n >= 90 && n <= 97) s.fg = n - 90 + 8;
    else if (n >= 100 && n <= 107) s.bg = n - 100 + 8;
    else if (n === 38 || n === 48 || n === 58) {
      // Extended colour, ';' form: consumes the following parameters.
      const mode = Number(parts[idx + 1]);
      let color = null;
      if (mode === 5) {
        color = clampIndex(Number(parts[idx + 2]));
        idx += 2;
      } else if (mode === 2) {
        color = rgbHex(Number(parts[idx + 2]), Number(parts[idx + 3]), Number(parts[idx + 4]));
        idx += 4;
      } else {
        idx += 1;
      }
      if (n === 38) s.fg = color;
      else if (n === 48) s.bg = color;
    }
  }
  // Keep identity for unchanged styles so adjacent segments merge.
  for (const k in s) if (s[k] !== style[k]) return s;
  return style;
}

function clampIndex(v) {
  return Number.isInteger(v) && v >= 0 && v <= 255 ? v : null;
}

function rgbHex(r, g, b) {
  if (![r, g, b].every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) return null;
  return '#' + [r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('');
}

const CUBE = [0, 95, 135, 175, 215, 255];

/** xterm colour for a 256-palette index ≥ 16 as '#rrggbb' (0–15 come from the theme). */
export function xterm256(i) {
  if (i < 16) return null;
  if (i < 232) {
    const v = i - 16;
    return rgbHex(CUBE[Math.floor(v / 36)], CUBE[Math.floor(v / 6) % 6], CUBE[v % 6]);
  }
  const g = 8 + (i - 232) * 10;
  return rgbHex(g, g, g);
}

/**
 * How to render a style: CSS classes (theme-aware palette for 0–15 and the
 * text attributes) plus CSSOM colours for 256/truecolor. Never an HTML string.
 */
export function renderStyle(style) {
  const classes = [];
  let color = null;
  let background = null;
  let fg = style.fg;
  let bg = style.bg;
  if (style.inverse) {
    if (fg == null && bg == null) classes.push('a-inv');
    else {
      [fg, bg] = [bg, fg];
      if (fg == null) classes.push('a-fgbg');
      if (bg == null) classes.push('a-bgfg');
    }
  }
  if (typeof fg === 'number') {
    if (fg < 16) classes.push('a-fg' + fg);
    else color = xterm256(fg);
  } else if (typeof fg === 'string') color = fg;
  if (typeof bg === 'number') {
    if (bg < 16) classes.push('a-bg' + bg);
    else background = xterm256(bg);
  } else if (typeof bg === 'string') background = bg;
  if (style.bold) classes.push('a-b');
  if (style.dim) classes.push('a-d');
  if (style.italic) classes.push('a-i');
  if (style.underline) classes.push('a-u');
  if (style.strike) classes.push('a-s');
  return { classes, color, background };
}
