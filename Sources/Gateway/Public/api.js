// HTTP API calls. Same origin, so the HttpOnly tailgate_token cookie set by
// POST /api/session authenticates every request (and the WebSocket upgrade).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
  }
}

let unauthorizedHandler = null;

/** Called whenever an API request answers 401 (session expired, token revoked). */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

async function errorFrom(res) {
  let code = '';
  let message = '';
  try {
    const body = await res.json();
    if (body && body.error) {
      code = body.error.code || '';
      message = body.error.message || '';
    }
  } catch { /* not JSON */ }
  return new ApiError(res.status, code, message || res.statusText || `HTTP ${res.status}`);
}

export async function request(path, { method = 'GET', body, signal, quiet401 = false } = {}) {
  let res;
  try {
    res = await fetch(path, {
      method,
      signal,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: body !== undefined ? { 'Content-Type': 'application/json', Accept: 'application/json' } : { Accept: 'application/json' },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'Cannot reach the gateway');
  }
  if (res.status === 401) {
    const err = await errorFrom(res);
    if (!quiet401 && unauthorizedHandler) unauthorizedHandler(err);
    throw err;
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'bad_response', 'The gateway sent something that is not JSON');
  }
}

/** Exchange a token for the session cookie. Throws ApiError (401 = wrong token). */
export function createSession(token) {
  return request('/api/session', { method: 'POST', body: { token }, quiet401: true });
}

export function getAgents(opts) {
  return request('/api/agents', opts);
}

export function getContainers(agentId, opts) {
  return request(`/api/agents/${encodeURIComponent(agentId)}/containers`, opts);
}

/** URL of the any-agent log WebSocket on this origin. */
export function logSocketUrl(loc = globalThis.location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/api/logs/ws`;
}
