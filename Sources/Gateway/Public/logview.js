// Virtual list: a scroll container whose height stands for every entry,
// with only the visible rows (plus a little overscan) in the DOM. Rows have
// one fixed height, so index ↔ pixel offset is a multiplication and 100,000
// lines cost the same as 50. Row elements are pooled and re-filled.
//
// "Follow" mode keeps the view pinned to the newest line; scrolling up turns
// it off, scrolling back to the bottom turns it on again.

const OVERSCAN = 8;

export class LogView {
  /**
   * @param {HTMLElement} viewport  the scrolling element
   * @param {{rowHeight?: number, renderRow: (row: HTMLElement, entry: any) => void,
   *          onFollowChange?: (follow: boolean) => void, onActivate?: (entry: any, row: HTMLElement) => void}} opts
   */
  constructor(viewport, { rowHeight = 20, renderRow, onFollowChange = () => {}, onActivate = () => {} }) {
    this.viewport = viewport;
    this.rowHeight = rowHeight;
    this.renderRow = renderRow;
    this.onFollowChange = onFollowChange;
    this.items = [];
    this.follow = true;
    this.version = 0; // bump to force every visible row to re-render
    this.pool = [];
    this.first = 0;
    this.lastHeight = -1;
    this.expectTop = null; // scrollTop we set ourselves
    this.raf = 0;

    this.spacer = document.createElement('div');
    this.spacer.className = 'lv-spacer';
    this.rows = document.createElement('div');
    this.rows.className = 'lv-rows';
    this.spacer.append(this.rows);
    viewport.append(this.spacer);

    viewport.addEventListener('scroll', () => this._onScroll(), { passive: true });
    // A wheel/touch/key movement upwards is a clear "stop following" even
    // before the scroll position changes (e.g. when already at the top).
    viewport.addEventListener('wheel', (e) => { if (e.deltaY < 0) this.setFollow(false); }, { passive: true });
    viewport.addEventListener('keydown', (e) => {
      if (['ArrowUp', 'PageUp', 'Home'].includes(e.key)) this.setFollow(false);
    });
    this.rows.addEventListener('click', (e) => {
      if (e.target.closest('a, button')) return;
      if (window.getSelection && String(window.getSelection()).length) return; // selecting text, not opening
      const row = e.target.closest('.row');
      if (row && row._entry) onActivate(row._entry, row);
    });
    if (typeof ResizeObserver !== 'undefined') {
      new ResizeObserver(() => this.requestRender()).observe(viewport);
    }
  }

  setFollow(follow) {
    if (this.follow === follow) return;
    this.follow = follow;
    this.onFollowChange(follow);
    if (follow) this.requestRender();
  }

  /** Show `items` (the array may be the same one, mutated). */
  setItems(items) {
    this.items = items;
  }

  /** Entries before the viewport were removed: keep what the user looks at in place. */
  shiftUp(count) {
    if (!count || this.follow) return;
    const top = Math.max(0, this.viewport.scrollTop - count * this.rowHeight);
    this._setHeight();
    this._scrollTo(top);
  }

  /** The entry at the top of the viewport, and how far into it we are scrolled. */
  anchor() {
    const top = this.viewport.scrollTop;
    const idx = Math.floor(top / this.rowHeight);
    const entry = this.items[idx];
    return entry ? { entry, offset: top - idx * this.rowHeight } : null;
  }

  scrollToIndex(index, offset = 0) {
    this._setHeight();
    this._scrollTo(Math.max(0, index * this.rowHeight + offset));
  }

  jumpToLatest() {
    this.setFollow(true);
    this.render();
  }

  /** Re-render all visible rows on the next frame (search/timestamps changed). */
  invalidate() {
    this.version++;
    this.requestRender();
  }

  requestRender() {
    if (this.raf) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      this.render();
    });
  }

  _setHeight() {
    const h = this.items.length * this.rowHeight;
    if (h !== this.lastHeight) {
      this.spacer.style.height = h + 'px'; // CSSOM: allowed by the CSP
      this.lastHeight = h;
    }
  }

  _scrollTo(top) {
    this.viewport.scrollTop = top;
    this.expectTop = this.viewport.scrollTop; // the browser may clamp it
  }

  _onScroll() {
    const vp = this.viewport;
    if (this.expectTop !== null && Math.abs(vp.scrollTop - this.expectTop) < 1) {
      this.expectTop = null; // our own scroll
    } else {
      this.expectTop = null;
      this.setFollow(this.atBottom());
    }
    this.requestRender();
  }

  atBottom() {
    const vp = this.viewport;
    return vp.scrollTop + vp.clientHeight >= vp.scrollHeight - this.rowHeight / 2;
  }

  render() {
    const vp = this.viewport;
    const rh = this.rowHeight;
    const n = this.items.length;
    this._setHeight();
    if (this.follow) {
      const bottom = Math.max(0, n * rh - vp.clientHeight);
      if (Math.abs(vp.scrollTop - bottom) >= 1) this._scrollTo(bottom);
    }
    const top = vp.scrollTop;
    const height = vp.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / rh) - OVERSCAN);
    const last = Math.min(n, Math.ceil((top + height) / rh) + OVERSCAN);
    const count = Math.max(0, last - first);

    while (this.pool.length < count) {
      const row = document.createElement('div');
      row.className = 'row';
      this.rows.append(row);
      this.pool.push(row);
    }
    if (first !== this.first) {
      this.rows.style.transform = `translateY(${first * rh}px)`;
      this.first = first;
    }
    for (let i = 0; i < this.pool.length; i++) {
      const row = this.pool[i];
      const entry = i < count ? this.items[first + i] : undefined;
      if (!entry) {
        if (!row.hidden) {
          // Spare pooled row: hide it and make sure it no longer looks like a line.
          row.hidden = true;
          row._entry = null;
          row.removeAttribute('data-testid');
          row.replaceChildren();
        }
        continue;
      }
      if (row.hidden) row.hidden = false;
      if (row._entry !== entry || row._ver !== this.version) {
        row._entry = entry;
        row._ver = this.version;
        this.renderRow(row, entry);
      }
    }
    // Drop surplus pooled rows after a shrink (e.g. a phone rotated).
    if (this.pool.length > count + 2 * OVERSCAN + 10) {
      for (const row of this.pool.splice(count + OVERSCAN)) row.remove();
    }
  }
}
