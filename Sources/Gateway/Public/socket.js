// The log WebSocket: protocol, reconnect and exact resume. Pure: the
// WebSocket class and timers are injected, so node tests drive it with fakes.
//
// One socket carries every subscription of the page. Per stream we remember
// the epoch and the last seq delivered; after a reconnect each subscription
// is re-sent with sinceSeq/epoch so the gateway replays exactly what was
// missed, and any line with seq <= last seen is dropped, so nothing is lost
// or doubled. Where lines really were lost (log.gap, an incomplete resume, a
// jump in seq) the consumer is told, to show a marker row.

export const BACKOFF_BASE_MS = 250; // first retry within ~¼ s: less to replay
export const BACKOFF_CAP_MS = 10000;
export const OFFLINE_AFTER_FAILURES = 4; // then the status says "offline" (still retrying)
const RETRYABLE_STREAM_ERRORS = new Set(['agent_offline', 'docker_unavailable', 'internal']);

/** Reconnect delay for attempt n (0-based): exponential, capped, "equal jitter". */
export function backoffDelay(attempt, random = Math.random, base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS) {
  const exp = Math.min(cap, base * Math.pow(2, Math.min(attempt, 20)));
  return Math.round(exp / 2 + random() * (exp / 2));
}

function streamKey(agentId, containerId) {
  return (agentId || '') + '\u0000' + containerId;
}

/**
 * Events passed to onEvent(ev):
 *  {type:'subscribed', sub}
 *  {type:'lines', sub, lines}                          new lines, oldest first, deduplicated
 *  {type:'marker', sub, kind, text, at, ...}           kind: gap | ended | error | reset | info
 *  {type:'unsubscribed', sub}
 *  {type:'error', code, message}                       a connection-level error frame
 * onStatus(state, info): state is 'connected' | 'reconnecting' | 'offline'.
 */
export class TailClient {
  constructor({
    url,
    WebSocketImpl = globalThis.WebSocket,
    setTimeoutFn = (f, ms) => setTimeout(f, ms),
    clearTimeoutFn = (t) => clearTimeout(t),
    random = Math.random,
    onEvent = () => {},
    onStatus = () => {},
  }) {
    this.url = url;
    this.WS = WebSocketImpl;
    this.setTimeout = setTimeoutFn;
    this.clearTimeout = clearTimeoutFn;
    this.random = random;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.ws = null;
    this.running = false;
    this.state = 'offline';
    this.failures = 0; // consecutive connection attempts that never or briefly opened
    this.timer = null;
    this.nextRetryAt = 0;
    this.subs = new Map(); // local key -> sub
    this.byStream = new Map(); // agentId + containerId (full) -> sub
    this.requests = new Map(); // message id -> sub
    this.unsubscribing = []; // {agentId, containerId, requested}: log.unsubscribed we expect
    this.nextKey = 1;
    this.nextMsg = 1;
    this.stats = { framesIn: 0, linesIn: 0, duplicatesDropped: 0, reconnects: 0 };
  }

  start() {
    if (this.running) return;
    this.running = true;
    this._connect();
  }

  /** Close and stop reconnecting (e.g. the token was rejected). Subscriptions are kept for start(). */
  stop() {
    this.running = false;
    if (this.timer) this.clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try { ws.close(1000, 'bye'); } catch { /* already closed */ }
    }
    this._setState('offline');
  }

  /** Reconnect now if waiting for a retry (browser came back online, tab shown). */
  kick() {
    if (this.running && !this.ws) {
      if (this.timer) this.clearTimeout(this.timer);
      this.timer = null;
      this._connect();
    }
  }

  /**
   * Follow a container. containerId may be a name, id prefix or full id.
   * Returns the subscription object (read its fields, don't change them).
   */
  subscribe({ agentId, containerId, tail }) {
    const sub = {
      key: 's' + this.nextKey++,
      agentId,
      requested: containerId,
      containerId: null, // full id, from log.subscribed
      name: null,
      epoch: null,
      lastSeq: null,
      lastTimestamp: null,
      tail,
      state: 'pending', // pending | active | ended | error | closed
      resumed: false, // last subscribe carried sinceSeq
      suppressGap: false,
      lastGap: null,
      retryTimer: null,
      retries: 0,
      errorCode: null,
    };
    this.subs.set(sub.key, sub);
    this._sendSubscribe(sub);
    return sub;
  }

  unsubscribe(sub) {
    if (!this.subs.has(sub.key)) return;
    this.subs.delete(sub.key);
    if (sub.containerId) this.byStream.delete(streamKey(sub.agentId, sub.containerId));
    if (sub.retryTimer) this.clearTimeout(sub.retryTimer);
    sub.state = 'closed';
    const sent = this._send({
      type: 'log.unsubscribe',
      data: { agentId: sub.agentId, containerId: sub.containerId || sub.requested },
    });
    if (sent) {
      this.unsubscribing.push({ agentId: sub.agentId, containerId: sub.containerId, requested: sub.requested });
      if (this.unsubscribing.length > 200) this.unsubscribing.shift();
    }
  }

  unsubscribeAll() {
    for (const sub of [...this.subs.values()]) this.unsubscribe(sub);
  }

  // ---- connection ---------------------------------------------------------

  _setState(state, info = {}) {
    this.state = state;
    this.onStatus(state, info);
  }

  _connect() {
    this.timer = null;
    if (!this.running) return;
    if (this.failures < OFFLINE_AFTER_FAILURES) this._setState('reconnecting', { attempt: this.failures });
    let ws;
    try {
      ws = new this.WS(this.url);
    } catch {
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      opened = true;
      this.failures = 0;
      this.unsubscribing = []; // confirmations of the old connection never come
      this._setState('connected');
      // Re-send every subscription; with sinceSeq/epoch where we have them.
      for (const sub of this.subs.values()) this._sendSubscribe(sub);
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.handleFrame(ev.data);
    };
    ws.onerror = () => { /* onclose follows and handles it */ };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!opened) this.failures++;
      else this.stats.reconnects++;
      if (!this.running) return this._setState('offline');
      this._scheduleReconnect(ev && ev.code);
    };
  }

  _scheduleReconnect(code) {
    const delay = backoffDelay(this.failures, this.random);
    this.nextRetryAt = Date.now() + delay;
    const info = { retryInMs: delay, code };
    this._setState(this.failures >= OFFLINE_AFTER_FAILURES ? 'offline' : 'reconnecting', info);
    this.timer = this.setTimeout(() => this._connect(), delay);
  }

  _send(msg) {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) return false; // sent again on (re)open
    try {
      ws.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }

  _sendSubscribe(sub) {
    const data = { agentId: sub.agentId, containerId: sub.containerId || sub.requested, batch: true };
    if (sub.epoch != null) {
      // Resume: everything after the last line we have (0 = from the start of this epoch).
      data.sinceSeq = sub.lastSeq != null ? sub.lastSeq : 0;
      data.epoch = sub.epoch;
    } else if (sub.tail != null) {
      data.tail = sub.tail;
    }
    sub.resumed = data.sinceSeq != null;
    const id = sub.key + '.' + this.nextMsg++;
    this.requests.set(id, sub);
    if (this.requests.size > 1000) this.requests.delete(this.requests.keys().next().value);
    this._send({ type: 'log.subscribe', id, data });
  }

  // ---- frames -------------------------------------------------------------

  /** Handle one text frame (public for tests). */
  handleFrame(text) {
    this.stats.framesIn++;
    let frame;
    try {
      frame = typeof text === 'string' ? JSON.parse(text) : text;
    } catch {
      return;
    }
    if (!frame || typeof frame !== 'object') return;
    const data = frame.data || {};
    const sub = this._findSub(frame.id, data);
    switch (frame.type) {
      case 'log.subscribed':
        if (sub) this._onSubscribed(sub, data);
        break;
      case 'log.history':
        if (sub) this._onHistory(sub, data);
        break;
      case 'log.line':
        if (sub) this._onLines(sub, [data]);
        break;
      case 'log.lines':
        if (sub && Array.isArray(data.lines)) this._onLines(sub, data.lines);
        break;
      case 'log.gap':
        if (sub) this._onGap(sub, data);
        break;
      case 'log.stream.ended':
        if (sub) {
          sub.state = 'ended';
          this._marker(sub, 'ended', 'Container stopped' + (data.reason ? ` (${data.reason})` : ''), null, { reason: data.reason });
        }
        break;
      case 'log.stream.error':
        if (sub) this._onStreamError(sub, data);
        break;
      case 'log.unsubscribed': {
        // Our own unsubscribes are confirmed here; ignore those (the sub is gone,
        // or is a fresh subscription to the same container).
        const cid = String(data.containerId || '');
        const i = this.unsubscribing.findIndex((u) => (!data.agentId || u.agentId === data.agentId) &&
          (u.containerId === cid || u.requested === cid || (u.requested && cid.startsWith(u.requested))));
        if (i !== -1) {
          this.unsubscribing.splice(i, 1);
          break;
        }
        if (sub && this.subs.has(sub.key)) {
          // We did not ask for it (we forget subs when we do): say so.
          sub.state = 'closed';
          this._marker(sub, 'info', 'The server ended this subscription');
          this.onEvent({ type: 'unsubscribed', sub });
        }
        break;
      }
      case 'error':
        this._onError(sub, frame, data);
        break;
      default:
        break;
    }
  }

  _findSub(id, data) {
    if (id != null && this.requests.has(id)) {
      const sub = this.requests.get(id);
      if (this.subs.has(sub.key)) return sub;
    }
    const cid = data.containerId;
    if (!cid) return null;
    let sub = this.byStream.get(streamKey(data.agentId, cid));
    if (sub) return sub;
    // Not yet known by full id (first log.subscribed without an echoed id):
    // match what we asked for: a name, an id prefix or the full id.
    for (const s of this.subs.values()) {
      if (data.agentId && s.agentId !== data.agentId) continue;
      if (s.containerId && s.containerId === cid) return s;
      if (!s.containerId) {
        const r = s.requested;
        if (r === cid || cid.startsWith(r) || (data.name && (data.name === r || data.name === '/' + r))) return s;
      }
    }
    return null;
  }

  _onSubscribed(sub, data) {
    data = withoutEmptyEpoch(data);
    if (data.containerId && data.containerId !== sub.containerId) {
      if (sub.containerId) this.byStream.delete(streamKey(sub.agentId, sub.containerId));
      sub.containerId = data.containerId;
    }
    if (sub.containerId) this.byStream.set(streamKey(data.agentId || sub.agentId, sub.containerId), sub);
    if (data.name) sub.name = String(data.name).replace(/^\//, '');
    if (data.epoch != null && sub.epoch != null && data.epoch !== sub.epoch) {
      // The agent reset its history: seqs start over. log.history (complete:false) marks it.
      sub.lastSeq = null;
      sub.suppressGap = true;
    }
    if (data.epoch != null) sub.epoch = data.epoch;
    if (sub.state !== 'ended') sub.state = 'active';
    sub.retries = 0;
    sub.errorCode = null;
    this.onEvent({ type: 'subscribed', sub });
  }

  _onHistory(sub, data) {
    data = withoutEmptyEpoch(data);
    const lines = Array.isArray(data.lines) ? data.lines : [];
    if (data.epoch != null && sub.epoch != null && data.epoch !== sub.epoch) {
      sub.lastSeq = null;
    }
    if (data.epoch != null) sub.epoch = data.epoch;
    if (data.complete === false && sub.resumed) {
      // We asked to resume but the gateway could not replay everything.
      const at = lines.length ? lines[0].timestamp : null;
      this._marker(sub, 'gap', 'Some lines were lost while disconnected (not in history any more)', at, {
        fromSeq: sub.lastSeq != null ? sub.lastSeq + 1 : null,
        toSeq: lines.length ? lines[0].seq - 1 : null,
      });
      sub.suppressGap = true;
    }
    sub.resumed = false;
    this._onLines(sub, lines);
    sub.suppressGap = false;
  }

  _onLines(sub, lines) {
    const fresh = [];
    for (const line of lines) {
      if (!line || typeof line.seq !== 'number') continue;
      this.stats.linesIn++;
      if (line.epoch != null && sub.epoch != null && line.epoch !== sub.epoch) {
        // History reset on the agent while we were connected.
        if (fresh.length) { this.onEvent({ type: 'lines', sub, lines: fresh.splice(0) }); }
        this._marker(sub, 'reset', 'Log history was reset on the agent; earlier lines may be missing', line.timestamp);
        sub.epoch = line.epoch;
        sub.lastSeq = null;
      } else if (sub.epoch == null && line.epoch != null) {
        sub.epoch = line.epoch;
      }
      if (sub.lastSeq != null) {
        if (line.seq <= sub.lastSeq) {
          this.stats.duplicatesDropped++;
          continue;
        }
        if (line.seq > sub.lastSeq + 1 && !sub.suppressGap) {
          const from = sub.lastSeq + 1;
          const to = line.seq - 1;
          if (fresh.length) { this.onEvent({ type: 'lines', sub, lines: fresh.splice(0) }); }
          sub.lastGap = { from, to };
          this._marker(sub, 'gap', gapText(from, to), line.timestamp, { fromSeq: from, toSeq: to });
        }
      }
      sub.suppressGap = false;
      sub.lastSeq = line.seq;
      sub.lastTimestamp = line.timestamp;
      if (sub.state === 'ended' || sub.state === 'error') sub.state = 'active'; // restarted
      fresh.push(line);
    }
    if (fresh.length) this.onEvent({ type: 'lines', sub, lines: fresh });
  }

  _onGap(sub, data) {
    const from = Number(data.fromSeq);
    const to = Number(data.toSeq);
    // Already shown (we saw the jump in seq before this frame)?
    if (sub.lastGap && from >= sub.lastGap.from && to <= sub.lastGap.to) return;
    sub.lastGap = { from, to };
    this._marker(sub, 'gap', gapText(from, to), sub.lastTimestamp, { fromSeq: from, toSeq: to });
    // The next line will be to+1: don't report the same jump again.
    if (Number.isFinite(to) && (sub.lastSeq == null || to > sub.lastSeq)) sub.lastSeq = to;
  }

  _onStreamError(sub, data) {
    sub.state = 'error';
    sub.errorCode = data.code || 'internal';
    const text = `Stream error: ${data.code || 'error'}${data.message ? ' — ' + data.message : ''}`;
    this._marker(sub, 'error', text, null, { code: data.code });
    this._retryLater(sub, data.code);
  }

  _retryLater(sub, code) {
    if (!RETRYABLE_STREAM_ERRORS.has(code) || !this.subs.has(sub.key) || sub.retryTimer) return;
    const delay = backoffDelay(sub.retries++ + 2, this.random, BACKOFF_BASE_MS, 30000);
    sub.retryTimer = this.setTimeout(() => {
      sub.retryTimer = null;
      if (this.subs.has(sub.key) && sub.state === 'error') this._sendSubscribe(sub);
    }, delay);
  }

  _onError(sub, frame, data) {
    const code = data.code || 'error';
    const message = data.message || '';
    if (sub && frame.id != null) {
      // A reply to one of our subscribes.
      if (code === 'bad_request' && sub.tail != null && !sub.triedWithoutTail) {
        sub.triedWithoutTail = true; // maybe our tail is above this gateway's maximum
        sub.tail = null;
        this._sendSubscribe(sub);
        return;
      }
      sub.state = 'error';
      sub.errorCode = code;
      this._marker(sub, 'error', `Subscription refused: ${code}${message ? ' — ' + message : ''}`, null, { code });
      return;
    }
    this.onEvent({ type: 'error', code, message });
  }

  _marker(sub, kind, text, at = null, extra = {}) {
    this.onEvent({ type: 'marker', sub, kind, text, at, ...extra });
  }

  /** Read-only summary of subscriptions (debugging, tests). */
  describe() {
    return [...this.subs.values()].map((s) => ({
      agentId: s.agentId,
      requested: s.requested,
      containerId: s.containerId,
      name: s.name,
      epoch: s.epoch,
      lastSeq: s.lastSeq,
      state: s.state,
    }));
  }
}

function gapText(from, to) {
  if (!Number.isFinite(from) || !Number.isFinite(to)) return 'Some lines were dropped (connection too slow)';
  const n = to - from + 1;
  return `${n} line${n === 1 ? '' : 's'} lost (seq ${from}–${to})`;
}

// The gateway sends epoch "" for a stream with no history yet: that is no epoch, not a new one.
function withoutEmptyEpoch(data) {
  return data.epoch === '' ? { ...data, epoch: null } : data;
}
