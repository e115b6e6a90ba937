// Hall notices ticker (公告滚动) for the hall wall display: the supervisor's
// notices whose time range includes the hall clock, scrolling inside the
// notice bar beside the hall's own notice (tidal window opened, a window
// paused), and with them what the hall says by itself about
// tickets sent on to another window (多窗联办: "A012 请到 5、6号窗口 继续办理
// 社保医保"). Self-contained:
// hall.js calls mountNoticeTicker() once and update(view) with each view;
// the ticker also looks again every 15 s, so a notice starts and ends on
// time without an event.

import { el } from '/static/lib/api.js';
import { categoryName, windowList } from '/static/lib/labels.js';

const T = {
  zh: {
    tag: '公告',
    chained: (n, cat, wins) => (wins ? `${n} 号请到${wins}继续办理${cat}` : `${n} 号请等候办理${cat}`),
  },
  en: {
    tag: 'Notices',
    chained: (n, cat, wins) => (wins ? `${n}: please go on to ${wins} for ${cat}` : `${n}: please wait for ${cat}`),
  },
};

/**
 * Mounts the ticker at the end of `anchor` (the notice bar). `now()` is the hall clock (the server's
 * time as the page knows it). Returns {update(view)}.
 */
export function mountNoticeTicker({ anchor, lang = 'zh', now = () => Date.now() }) {
  const t = T[lang] || T.zh;
  if (!document.querySelector('link[href="/static/css/notices.css"]')) {
    document.head.append(el('link', { rel: 'stylesheet', href: '/static/css/notices.css' }));
  }
  const text = el('span', { class: 'nt-text', id: 'notices-text' });
  const bar = el('div', { class: 'nt-bar', id: 'notices', hidden: true }, el('span', { class: 'nt-tag' }, t.tag), el('div', { class: 'nt-track' }, text));
  anchor.append(bar);
  const hooks = (globalThis.__hallcall = Object.assign(globalThis.__hallcall || {}, { notices: [] }));
  let view = null;
  let shown = '';

  function items() {
    const v = view;
    if (!v) return [];
    const at = now();
    const out = [];
    for (const n of v.notices || []) {
      if (Date.parse(n.starts_at) <= at && at < Date.parse(n.ends_at)) out.push({ kind: 'notice', text: n.text });
    }
    for (const s of v.system_notices || []) {
      if (s.code === 'chained') {
        const cat = categoryName(v, s.category, lang);
        out.push({ kind: 'chained', text: t.chained(s.number, cat, s.windows && s.windows.length ? windowList(lang, s.windows) : '') });
      }
    }
    return out;
  }

  function refresh() {
    const list = items();
    hooks.notices = list.map((i) => i.text);
    bar.hidden = !list.length;
    const joined = list.map((i) => i.text).join('　　◆　　');
    if (joined === shown) return;
    shown = joined;
    text.textContent = joined;
    // About 8 characters a second whatever the length, at least 12 s a pass.
    text.style.animationDuration = `${Math.max(12, joined.length / 8)}s`;
  }

  setInterval(refresh, 15000);
  return {
    update(v) {
      view = v;
      refresh();
    },
  };
}
