// Hash routes, so deep links survive a reload and need nothing from the server. Pure.
//
//   #/                                              fleet only
//   #/agents/{agentId}/containers/{idOrName}        one container
//   #/merged?c=agent/container,agent/container      several, one timeline
// Optional view state rides along as query parameters: q (search), stream.

const AGENT_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function dec(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** @returns {{view: 'fleet'|'logs', targets: {agentId, containerId}[], merged: boolean, q: string, stream: string}} */
export function parseHash(hash) {
  let h = String(hash || '').replace(/^#/, '');
  if (!h.startsWith('/')) h = '/' + h;
  const qi = h.indexOf('?');
  const path = qi === -1 ? h : h.slice(0, qi);
  const params = new URLSearchParams(qi === -1 ? '' : h.slice(qi + 1));
  const parts = path.split('/').filter(Boolean).map(dec);
  const route = {
    view: 'fleet',
    targets: [],
    merged: false,
    q: params.get('q') || '',
    stream: ['stdout', 'stderr'].includes(params.get('stream')) ? params.get('stream') : 'all',
  };
  if (parts[0] === 'agents' && parts.length >= 4 && parts[2] === 'containers') {
    route.view = 'logs';
    route.targets = [{ agentId: parts[1], containerId: parts.slice(3).join('/') }];
  } else if (parts[0] === 'merged') {
    const seen = new Set();
    for (const item of (params.get('c') || '').split(',')) {
      const slash = item.indexOf('/');
      if (slash <= 0) continue;
      const t = { agentId: dec(item.slice(0, slash)), containerId: dec(item.slice(slash + 1)) };
      const key = t.agentId + '/' + t.containerId;
      if (!t.containerId || seen.has(key)) continue;
      seen.add(key);
      route.targets.push(t);
    }
    if (route.targets.length) {
      route.view = 'logs';
      route.merged = true;
    }
  }
  route.targets = route.targets.filter((t) => AGENT_RE.test(t.agentId) && t.containerId.length <= 256);
  if (!route.targets.length) route.view = 'fleet';
  return route;
}

/** Build the hash for a set of targets (one → container link, several → merged). */
export function buildHash(targets, { q = '', stream = 'all', merged = targets.length > 1 } = {}) {
  const params = new URLSearchParams();
  let path;
  if (!targets.length) path = '/';
  else if (!merged) {
    const t = targets[0];
    path = `/agents/${encodeURIComponent(t.agentId)}/containers/${encodeURIComponent(t.containerId)}`;
  } else {
    path = '/merged';
    params.set('c', targets.map((t) => encodeURIComponent(t.agentId) + '/' + encodeURIComponent(t.containerId)).join(','));
  }
  if (q) params.set('q', q);
  if (stream && stream !== 'all') params.set('stream', stream);
  const qs = params.toString().replace(/%2C/g, ',').replace(/%2F/g, '/');
  return '#' + path + (qs ? '?' + qs : '');
}

/** Same targets, in any order? (Decides whether a hash change needs new subscriptions.) */
export function sameTargets(a, b) {
  if (a.length !== b.length) return false;
  const key = (t) => t.agentId + '/' + t.containerId;
  const set = new Set(a.map(key));
  return b.every((t) => set.has(key(t)));
}
