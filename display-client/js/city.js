// 同城通办 overview: /city?token=CITY_TOKEN (or typed once; kept for the tab).
// Every hall's waiting, longest wait, open windows and red warnings, from
// GET /api/v1/overview every 5 s: one small request for the whole city, read
// from each hall's latest snapshot on the server (no WebSocket per hall).

import { $, el, api, params, fmtDuration } from '/static/lib/api.js';

const TKEY = 'hallcall.city.token';
const POLL_MS = 5000;
let token = params.get('token') || sessionStorage.getItem(TKEY) || '';
if (params.get('token')) sessionStorage.setItem(TKEY, params.get('token'));
let timer = null;

function askToken(message) {
  $('#token-form').hidden = false;
  if (message) showError(message);
  $('#token-input').focus();
}

function showError(text) {
  const e = $('#error');
  e.textContent = text || '';
  e.hidden = !text;
}

$('#token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  token = $('#token-input').value.trim();
  if (!token) return;
  sessionStorage.setItem(TKEY, token);
  $('#token-form').hidden = true;
  showError('');
  poll();
});

/** Minutes for a longest wait: "12分钟", under a minute "不足1分钟". */
function waitText(s) {
  if (!s) return '无人等候';
  if (s < 60) return '不足1分钟';
  if (s >= 3600) return fmtDuration(s);
  return `${Math.floor(s / 60)}分钟`;
}

function redText(r) {
  if (r.kind === 'category') {
    const why = r.open_windows === 0 && r.waiting > 0 ? '无开放窗口' : '等候超时';
    const oldest = r.oldest_wait_s ? `，最长${waitText(r.oldest_wait_s)}` : '';
    return `${r.name}：${why}（${r.waiting}人等候${oldest}）`;
  }
  const who = r.number_served ? ` ${r.number_served}` : '';
  const t = r.elapsed_s ? `，已办理${fmtDuration(r.elapsed_s)}` : '';
  return `${r.number}号窗口：办理超时${who}${t}`;
}

function card(h) {
  const reds = h.red.map((r) => el('li', {}, redText(r)));
  return el(
    'article',
    { class: `ct-hall lv-${h.level}`, dataset: { hall: h.hall }, 'aria-label': h.name },
    el('h2', {}, el('span', { class: 'ct-name' }, h.name), h.open_today ? null : el('span', { class: 'ct-closed' }, '今日休息')),
    el(
      'dl',
      { class: 'ct-figs' },
      el('div', {}, el('dt', {}, '排队'), el('dd', { class: 'num ct-waiting' }, String(h.waiting))),
      el('div', {}, el('dt', {}, '最长等候'), el('dd', { class: 'ct-longest' }, waitText(h.longest_wait_s))),
      el('div', {}, el('dt', {}, '开放窗口'), el('dd', { class: 'num ct-open' }, `${h.open_windows}/${h.windows}`)),
    ),
    reds.length
      ? el('ul', { class: 'ct-reds', 'aria-label': '红色预警' }, reds)
      : h.yellow
        ? el('p', { class: 'ct-yellow' }, `黄色预警 ${h.yellow} 项`)
        : el('p', { class: 'ct-ok' }, '运行正常'),
    el('a', { class: 'ct-link', href: `/display/hall?hall=${encodeURIComponent(h.hall)}` }, '查看大厅综合屏'),
  );
}

function render(o) {
  $('#t-halls').textContent = o.totals.halls;
  $('#t-waiting').textContent = o.totals.waiting;
  $('#t-open').textContent = o.totals.open_windows;
  $('#t-red').textContent = o.totals.halls_red;
  const d = new Date(o.at);
  $('#updated').textContent = `更新于 ${d.toLocaleTimeString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' })}`;
  // Red halls first, then yellow, then by how many wait.
  const rank = { red: 0, yellow: 1, green: 2 };
  const halls = [...o.halls].sort(
    (a, b) => rank[a.level] - rank[b.level] || b.waiting - a.waiting || a.hall.localeCompare(b.hall),
  );
  $('#halls').replaceChildren(...halls.map(card));
}

async function poll() {
  clearTimeout(timer);
  if (!token) return askToken();
  try {
    render(await api('/api/v1/overview', { token }));
    showError('');
  } catch (e) {
    if (e.status === 401 || e.status === 403) {
      sessionStorage.removeItem(TKEY);
      token = '';
      return askToken('令牌无效：请输入同城通办令牌');
    }
    showError(`暂时无法刷新（${e.message}），稍后自动重试`);
  }
  timer = setTimeout(poll, POLL_MS);
}

poll();
