// Fleet view: agents and their containers, polled every few seconds.
// Updates are keyed (one element per agent / container, patched in place
// and only moved when the order changes), so polling never flickers, never
// steals focus from the filter box and keeps checkboxes and scroll position.

import { fuzzyMatch } from './fuzzy.js';
import { formatRelative } from './time.js';
import { buildHash } from './router.js';
import { h, setText, setAttr, highlighted } from './dom.js';

export const POLL_MS = 5000;

const stateRank = (s) => ({ running: 0, restarting: 1, paused: 2, created: 3, exited: 4, dead: 5 }[s] ?? 3);
const countOf = (v) => (Array.isArray(v) ? v.length : Number(v) || 0);
const cleanName = (n) => String(n || '').replace(/^\//, '');

export class Fleet {
  constructor({ root, api, onOpenMerged, onSelectionChange = () => {} }) {
    this.root = root;
    this.api = api; // {getAgents, getContainers}
    this.onOpenMerged = onOpenMerged;
    this.onSelectionChange = onSelectionChange;
    this.agents = [];
    this.containers = new Map(); // agentId -> [container]
    this.containerErrors = new Map();
    this.selected = new Set(); // "agentId/name"
    this.collapsed = new Set();
    this.active = new Set(); // "agentId/containerIdOrName" being viewed
    this.query = '';
    this.rows = new Map(); // agentId -> {el, head parts, list, items: Map}
    this.timer = 0;
    this.running = false;
    this.generation = 0;
    this.loaded = false;

    this.filter = root.querySelector('[data-testid="fleet-filter"]');
    this.list = root.querySelector('[data-testid="agent-list"]');
    this.status = root.querySelector('[data-testid="fleet-status"]');
    this.mergedBtn = root.querySelector('[data-testid="open-merged"]');
    this.clearSelBtn = root.querySelector('[data-testid="clear-selection"]');

    this.filter.addEventListener('input', () => {
      this.query = this.filter.value.trim();
      this.render();
    });
    this.filter.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        this.filter.value = '';
        this.query = '';
        this.render();
      } else if (e.key === 'Enter') {
        // Enter opens the best match.
        const first = this.list.querySelector('[data-testid="container-row"]:not([hidden]) a');
        if (first) first.click();
      }
    });
    this.mergedBtn.addEventListener('click', () => {
      if (this.selected.size) this.onOpenMerged(this.selectedTargets());
    });
    this.clearSelBtn.addEventListener('click', () => {
      this.selected.clear();
      this.render();
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.running) this.refresh();
    });
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.refresh();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
  }

  selectedTargets() {
    return [...this.selected].map((k) => {
      const i = k.indexOf('/');
      return { agentId: k.slice(0, i), containerId: k.slice(i + 1) };
    });
  }

  /** Mark the containers being viewed (highlighted in the list). */
  setActive(targets) {
    this.active = new Set(targets.map((t) => t.agentId + '/' + t.containerId));
    this.render();
  }

  async refresh() {
    clearTimeout(this.timer);
    const gen = ++this.generation;
    try {
      const agents = await this.api.getAgents();
      if (gen !== this.generation) return;
      this.agents = Array.isArray(agents) ? agents : [];
      const results = await Promise.allSettled(this.agents.map((a) => this.api.getContainers(a.id)));
      if (gen !== this.generation) return;
      results.forEach((r, i) => {
        const id = this.agents[i].id;
        if (r.status === 'fulfilled') {
          this.containers.set(id, Array.isArray(r.value) ? r.value : []);
          this.containerErrors.delete(id);
        } else if (r.reason && r.reason.status === 404) {
          this.containers.set(id, []);
          this.containerErrors.set(id, 'unknown agent');
        } else {
          this.containerErrors.set(id, (r.reason && r.reason.message) || 'failed to load');
        }
      });
      for (const id of [...this.containers.keys()]) {
        if (!this.agents.some((a) => a.id === id)) this.containers.delete(id);
      }
      this.loaded = true;
      this.setStatus('');
    } catch (e) {
      if (e && e.status === 401) return; // app shows the sign-in
      this.setStatus(`Cannot load agents: ${(e && e.message) || e}. Retrying…`);
    } finally {
      if (this.running && gen === this.generation) {
        this.render();
        this.timer = setTimeout(() => this.refresh(), document.hidden ? POLL_MS * 4 : POLL_MS);
      }
    }
  }

  setStatus(text) {
    setText(this.status, text);
    this.status.hidden = !text;
  }

  // ---- rendering ----------------------------------------------------------------

  /** Agents and containers to show, ranked by the fuzzy filter. */
  model() {
    const q = this.query;
    const out = [];
    for (const agent of this.agents) {
      const agentMatch = q ? fuzzyMatch(q, agent.id) : null;
      const items = [];
      for (const c of this.containers.get(agent.id) || []) {
        const name = cleanName(c.name) || String(c.id || '').slice(0, 12);
        const m = q ? fuzzyMatch(q, name) : { score: 0, positions: [] };
        if (!m && !agentMatch) continue;
        items.push({ c, name, score: m ? m.score : -1000, positions: m ? m.positions : [] });
      }
      if (q && !items.length && !agentMatch) continue;
      if (q) items.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
      else items.sort((a, b) => stateRank(a.c.state) - stateRank(b.c.state) || a.name.localeCompare(b.name));
      const best = Math.max(agentMatch ? agentMatch.score : -Infinity, ...items.map((i) => i.score));
      out.push({ agent, items, best, agentPositions: agentMatch ? agentMatch.positions : [] });
    }
    if (q) out.sort((a, b) => b.best - a.best || a.agent.id.localeCompare(b.agent.id));
    else out.sort((a, b) => Number(!!b.agent.online) - Number(!!a.agent.online) || a.agent.id.localeCompare(b.agent.id));
    return out;
  }

  render() {
    const model = this.model();
    const wanted = [];
    const seen = new Set();
    for (const m of model) {
      seen.add(m.agent.id);
      wanted.push(this._renderAgent(m));
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.el.remove();
        this.rows.delete(id);
      }
    }
    placeInOrder(this.list, wanted);

    let empty = this.list.querySelector('.fleet-empty');
    const msg = !this.loaded ? 'Loading…' : !this.agents.length ? 'No agents are registered yet.' : !model.length ? `Nothing matches “${this.query}”.` : '';
    if (msg) {
      if (!empty) {
        empty = h('p', { class: 'fleet-empty' });
        this.list.append(empty);
      }
      setText(empty, msg);
    } else if (empty) empty.remove();

    // Selection may name containers that vanished; keep it, but count what's there.
    const n = this.selected.size;
    setText(this.mergedBtn, n ? `Open merged (${n})` : 'Open merged');
    this.mergedBtn.disabled = n === 0;
    this.clearSelBtn.hidden = n === 0;
    this.onSelectionChange(n);
  }

  _renderAgent({ agent, items, agentPositions }) {
    let row = this.rows.get(agent.id);
    if (!row) {
      const toggle = h('button', { class: 'agent-toggle icon-btn', type: 'button', 'aria-label': 'Collapse' });
      const name = h('span', { class: 'agent-name' });
      const host = h('span', { class: 'agent-host' });
      const meta = h('span', { class: 'agent-meta' });
      const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
      const list = h('ul', { class: 'containers' });
      const err = h('p', { class: 'agent-error', hidden: true });
      const el = h('div', { class: 'agent', 'data-testid': 'agent-row', 'data-agent-id': agent.id },
        h('div', { class: 'agent-head' }, toggle, dot, name, host, meta), err, list);
      toggle.addEventListener('click', () => {
        if (this.collapsed.has(agent.id)) this.collapsed.delete(agent.id);
        else this.collapsed.add(agent.id);
        this.render();
      });
      row = { el, toggle, name, host, meta, dot, list, err, items: new Map(), namePos: null };
      this.rows.set(agent.id, row);
    }
    const online = !!agent.online;
    setAttr(row.el, 'data-online', online ? 'true' : 'false');
    row.dot.className = 'dot ' + (online ? 'online' : 'offline');
    setAttr(row.dot, 'title', online ? 'online' : 'offline');
    const posKey = agentPositions.join(',');
    if (row.namePos !== posKey || row.name.textContent !== agent.id) {
      row.name.replaceChildren(highlighted(agent.id, agentPositions));
      row.namePos = posKey;
    }
    setText(row.host, agent.hostname && agent.hostname !== agent.id ? agent.hostname : '');
    const nc = (this.containers.get(agent.id) || []).length || countOf(agent.containers);
    const ns = countOf(agent.activeStreams);
    setText(row.meta, `${online ? '' : 'offline · '}seen ${formatRelative(agent.lastSeen)} · ${nc} container${nc === 1 ? '' : 's'} · ${ns} stream${ns === 1 ? '' : 's'}`);
    setAttr(row.meta, 'title', `${online ? 'online' : 'offline'}; ${ns} log stream${ns === 1 ? '' : 's'} followed now`);
    const errText = this.containerErrors.get(agent.id) || '';
    setText(row.err, errText);
    row.err.hidden = !errText;

    const collapsed = this.collapsed.has(agent.id) && !this.query;
    setAttr(row.toggle, 'aria-expanded', collapsed ? 'false' : 'true');
    setAttr(row.toggle, 'aria-label', collapsed ? 'Expand' : 'Collapse');
    row.list.hidden = collapsed;

    const wanted = [];
    const seen = new Set();
    for (const it of items) {
      const key = it.c.id || it.name;
      seen.add(key);
      wanted.push(this._renderContainer(agent, row, key, it));
    }
    for (const [key, item] of row.items) {
      if (!seen.has(key)) {
        item.el.remove();
        row.items.delete(key);
      }
    }
    placeInOrder(row.list, wanted);
    return row.el;
  }

  _renderContainer(agent, row, key, { c, name, positions }) {
    let item = row.items.get(key);
    if (!item) {
      const box = h('input', { type: 'checkbox', class: 'ctr-select', 'data-testid': 'container-select' });
      const link = h('a', { class: 'ctr-name', 'data-testid': 'container-link' });
      const state = h('span', { class: 'ctr-state' });
      const image = h('span', { class: 'ctr-image' });
      const status = h('span', { class: 'ctr-status' });
      const el = h('li', { class: 'ctr', 'data-testid': 'container-row' }, box,
        h('div', { class: 'ctr-main' }, h('div', { class: 'ctr-line1' }, link, state), h('div', { class: 'ctr-line2' }, image, status)));
      item = { el, box, link, state, image, status, selKey: '', namePos: null };
      box.addEventListener('change', () => {
        if (box.checked) this.selected.add(item.selKey);
        else this.selected.delete(item.selKey);
        this.render();
      });
      row.items.set(key, item);
    }
    item.selKey = agent.id + '/' + name;
    setAttr(item.el, 'data-container-name', name);
    setAttr(item.el, 'data-container-id', c.id || '');
    setAttr(item.el, 'data-agent-id', agent.id);
    setAttr(item.el, 'data-state', c.state || '');
    const active = this.active.has(agent.id + '/' + name) || (c.id && [...this.active].some((k) => k.startsWith(agent.id + '/') && c.id.startsWith(k.slice(agent.id.length + 1))));
    item.el.classList.toggle('active', !!active);
    setAttr(item.el, 'aria-current', active ? 'true' : null);
    const posKey = positions.join(',');
    if (item.namePos !== posKey || item.link.textContent !== name) {
      item.link.replaceChildren(highlighted(name, positions));
      item.namePos = posKey;
    }
    setAttr(item.link, 'href', buildHash([{ agentId: agent.id, containerId: name }]));
    setAttr(item.link, 'title', `${name} (${String(c.id || '').slice(0, 12)})`);
    setText(item.state, c.state || 'unknown');
    item.state.className = 'ctr-state st-' + String(c.state || 'unknown').replace(/[^a-z]/g, '');
    setText(item.image, c.image || '');
    setAttr(item.image, 'title', c.image || null);
    setText(item.status, c.status || '');
    const checked = this.selected.has(item.selKey);
    if (item.box.checked !== checked) item.box.checked = checked;
    setAttr(item.box, 'aria-label', `Select ${name} for the merged view`);
    return item.el;
  }
}

/** Make parent's element children equal `wanted` in order, moving as little as possible. */
function placeInOrder(parent, wanted) {
  let cursor = parent.firstElementChild;
  for (const el of wanted) {
    // Skip non-managed children (the empty-state paragraph).
    while (cursor && cursor.classList.contains('fleet-empty')) cursor = cursor.nextElementSibling;
    if (cursor === el) {
      cursor = cursor.nextElementSibling;
    } else {
      parent.insertBefore(el, cursor); // moves it if already present elsewhere
    }
  }
}
