// Entry point: sign-in, routing, and wiring the fleet list, the log viewer
// and the one WebSocket together. Also exposes window.tailgate for tests.

import * as api from './api.js';
import { TailClient } from './socket.js';
import { Viewer } from './viewer.js';
import { Fleet } from './fleet.js';
import { parseHash, buildHash, sameTargets } from './router.js';
import { isTyping, setText, setAttr, store } from './dom.js';

const $ = (id) => document.getElementById(id);

// ---- theme (dark Dracula by default, remembered) ----------------------------------

function applyTheme(theme) {
  const t = theme === 'light' ? 'light' : 'dark';
  document.documentElement.setAttribute('data-theme', t);
  setAttr($('theme-toggle'), 'aria-label', t === 'dark' ? 'Switch to light theme' : 'Switch to dark theme');
  return t;
}
let theme = applyTheme(store.get('tailgate.theme', 'dark'));
$('theme-toggle').addEventListener('click', () => {
  theme = applyTheme(theme === 'dark' ? 'light' : 'dark');
  store.set('tailgate.theme', theme);
});

// ---- toast --------------------------------------------------------------------------

let toastTimer = 0;
function toast(text) {
  const el = $('toast');
  setText(el, text);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
}

// ---- connection status ------------------------------------------------------------------

const LABELS = { connected: 'Connected', reconnecting: 'Reconnecting…', offline: 'Offline' };
let connState = 'offline';
function showConnection(state, info = {}) {
  if (state !== 'connected' && typeof navigator !== 'undefined' && navigator.onLine === false) state = 'offline';
  connState = state;
  const el = $('connection-status');
  setAttr(el, 'data-state', state);
  let label = LABELS[state] || state;
  if (state !== 'connected' && info.retryInMs) label += ` (retry in ${Math.ceil(info.retryInMs / 1000)} s)`;
  setText(el.querySelector('.conn-label'), label);
}

// ---- the socket, the viewer, the fleet ------------------------------------------------

const client = new TailClient({
  url: api.logSocketUrl(),
  onEvent: (ev) => viewer.handleEvent(ev),
  onStatus: showConnection,
});

const viewer = new Viewer({
  client,
  onToast: toast,
  // Search and stream filter live in the URL too, without a history entry per keystroke.
  onRouteState: (q, stream) => {
    if (!viewer.isOpen) return;
    const hash = buildHash(viewer.targets(), { q, stream, merged: viewer.merged });
    if (hash !== location.hash) history.replaceState(history.state, '', hash);
  },
});

const fleet = new Fleet({
  root: $('fleet'),
  api,
  onOpenMerged: (targets) => { location.hash = buildHash(targets, { merged: true }); },
});

window.addEventListener('online', () => { showConnection(client.state); client.kick(); });
window.addEventListener('offline', () => showConnection('offline'));
document.addEventListener('visibilitychange', () => { if (!document.hidden) client.kick(); });

$('sidebar-toggle').addEventListener('click', () => {
  const hidden = document.body.classList.toggle('fleet-hidden');
  setAttr($('sidebar-toggle'), 'aria-label', hidden ? 'Show the container list' : 'Hide the container list');
});

// ---- routing -------------------------------------------------------------------------

function onRoute() {
  const r = parseHash(location.hash);
  document.body.setAttribute('data-view', r.view);
  if (r.view === 'logs') {
    if (!viewer.isOpen || viewer.merged !== r.merged || !sameTargets(viewer.targets(), r.targets)) {
      viewer.open(r.targets, { merged: r.merged, q: r.q, stream: r.stream });
    } else {
      if ($('search-input').value !== r.q) { $('search-input').value = r.q; viewer.setQuery(r.q); }
      if (viewer.timeline.stream !== r.stream) viewer.setStream(r.stream);
    }
    fleet.setActive(r.targets);
  } else {
    viewer.close();
    document.title = 'Tailgate';
    fleet.setActive([]);
  }
}
window.addEventListener('hashchange', onRoute);

// ---- sign-in -----------------------------------------------------------------------------

let started = false;

function showSignIn(message = '') {
  fleet.stop();
  client.stop();
  $('app').hidden = true;
  $('connection-status').hidden = true;
  $('signin').hidden = false;
  const err = $('sign-in-error');
  setText(err, message);
  err.hidden = !message;
  $('token-input').focus();
}

function startApp() {
  $('signin').hidden = true;
  $('connection-status').hidden = false;
  $('app').hidden = false;
  fleet.start();
  client.start();
  if (!started) {
    started = true;
    onRoute();
  }
}

api.onUnauthorized(() => {
  if (!$('signin').hidden) return;
  showSignIn('Your session has expired or the token was revoked. Please sign in again.');
});

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = $('token-input');
  const button = $('sign-in-button');
  const err = $('sign-in-error');
  const token = input.value.trim();
  if (!token) {
    setText(err, 'Please enter a token.');
    err.hidden = false;
    return;
  }
  button.disabled = true;
  err.hidden = true;
  try {
    await api.createSession(token);
    input.value = '';
    startApp();
  } catch (ex) {
    setText(err, signInMessage(ex));
    err.hidden = false;
    input.select();
  } finally {
    button.disabled = false;
  }
});

function signInMessage(ex) {
  if (ex && ex.status === 401) return 'That token was not accepted. Check it and try again.';
  if (ex && ex.status === 0) return 'Cannot reach the gateway. Check your connection and try again.';
  if (ex && ex.status === 429) return 'Too many attempts. Wait a moment and try again.';
  return `Sign-in failed: ${(ex && ex.message) || ex}`;
}

// ---- keyboard shortcuts ------------------------------------------------------------------

document.addEventListener('keydown', (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  if (!$('signin').hidden) return;
  const typing = isTyping(e.target);
  if (e.key === 'Escape') {
    if (viewer.detailOpen) viewer.hideDetail();
    else if (viewer.isOpen && $('search-input').value) viewer.clearSearch();
    return;
  }
  if (typing) return;
  const onControl = e.target && e.target.closest && e.target.closest('button, a, summary, [role="button"]');
  if (e.key === '/') {
    e.preventDefault();
    if (viewer.isOpen && document.body.getAttribute('data-view') === 'logs') viewer.focusSearch();
    else $('fleet-filter').focus();
  } else if (e.key === ' ' && viewer.isOpen && !onControl) {
    e.preventDefault();
    viewer.togglePause();
  } else if (e.key === 'End' && viewer.isOpen) {
    e.preventDefault();
    viewer.jumpToLatest();
  } else if (e.key === '?') {
    $('help-dialog').showModal();
  }
});
$('help-button').addEventListener('click', () => $('help-dialog').showModal());

// ---- window.tailgate: read-only accessors for tests and debugging --------------------------

function publicLine(e) {
  return {
    seq: e.seq,
    stream: e.stream,
    message: e.message,
    containerId: e.containerId,
    agentId: e.agentId,
    epoch: e.epoch,
    timestamp: e.timestamp,
    container: e.src ? e.src.name || e.src.requested : null,
  };
}
// Lines received but not yet merged (waiting for the next frame) are merged
// first, so tests never race the renderer. Paused lines stay queued.
function sync() {
  if (!viewer.timeline.paused && viewer.timeline.pending.length) viewer.flush();
  return viewer.timeline;
}

const tailgate = Object.freeze({
  version: 1,
  /** Lines held in the page (all containers, ignoring filters). */
  lineCount: () => sync().lineTotal,
  /** Those lines, oldest first: {seq, stream, message, containerId, agentId, epoch, timestamp, container}. */
  lines: () => sync().entries.filter((e) => e.kind === 'line').map(publicLine),
  /** Lines passing the stream filter and search, as shown. */
  shownCount: () => sync().viewLines,
  shownLines: () => sync().view.filter((e) => e.kind === 'line').map(publicLine),
  /** Marker rows: {kind: gap|reset|ended|error|info, text, container, containerId, fromSeq, toSeq}. */
  markers: () => sync().entries.filter((e) => e.kind !== 'line').map((e) => ({
    kind: e.kind, text: e.text, container: e.src ? e.src.name || e.src.requested : null,
    containerId: e.src ? e.src.containerId : null, fromSeq: e.fromSeq ?? null, toSeq: e.toSeq ?? null,
  })),
  /** Lines buffered while paused. */
  pendingCount: () => viewer.timeline.pendingLines,
  isPaused: () => viewer.timeline.paused,
  isFollowing: () => viewer.view.follow,
  maxLines: () => viewer.timeline.maxLines,
  droppedCount: () => viewer.timeline.dropped,
  connectionState: () => connState,
  subscriptions: () => client.describe(),
  stats: () => ({ ...client.stats }),
  route: () => parseHash(location.hash),
  query: () => ({ text: $('search-input').value, kind: viewer.query.kind, error: viewer.query.error || null, stream: viewer.timeline.stream }),
  theme: () => theme,
});
Object.defineProperty(window, 'tailgate', { value: tailgate, writable: false, configurable: false, enumerable: true });

// ---- boot ----------------------------------------------------------------------------------

async function boot() {
  // /?token=T: trade it for the cookie, and take it out of the address bar and history.
  const url = new URL(location.href);
  let signInError = '';
  if (url.searchParams.has('token')) {
    const token = url.searchParams.get('token') || '';
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    try {
      await api.createSession(token);
    } catch (ex) {
      signInError = signInMessage(ex);
    }
  }
  try {
    await api.getAgents({ quiet401: true });
    startApp();
  } catch (ex) {
    if (ex && ex.status === 401) showSignIn(signInError);
    else {
      startApp(); // gateway unreachable or erroring: the fleet shows it and keeps retrying
      if (signInError) toast(signInError);
    }
  }
}

boot();
