// 大厅公告 on the supervisor dashboard: add a scrolling notice for the hall
// display with the time range it shows in (from now or a time today, for a
// chosen length, all in the hall's time zone), see which notices show now
// or later, remove one. GET/POST/DELETE /api/v1/halls/{hall}/notices; the
// list follows the view (supervisor.js hands each over as `hallcall:view`).

import { $, el, api, params, hallId, hallBase, fmtTime, hallParts } from '/static/lib/api.js';
import { toast, errorText } from '/static/lib/ui.js';

const hall = hallId();
const base = hallBase(hall);
const token = params.get('token') || sessionStorage.getItem(`hallcall.supervisor.${hall}`) || '';
const MAX = 200;

if (!document.querySelector('link[href="/static/css/supervisor-notices.css"]')) {
  document.head.append(el('link', { rel: 'stylesheet', href: '/static/css/supervisor-notices.css' }));
}

const LENGTHS = [
  ['1h', '1小时', 60],
  ['2h', '2小时', 120],
  ['4h', '半天（4小时）', 240],
  ['today', '到今天闭厅', 'close'],
  ['1d', '24小时', 1440],
  ['3d', '3天', 3 * 1440],
  ['7d', '7天', 7 * 1440],
];

const card = el(
  'section',
  { class: 'sv-card sv-notices', id: 'notices-card' },
  el('h2', {}, '大厅公告 ', el('small', {}, '（综合屏滚动显示，按大厅时间）')),
  el(
    'form',
    { class: 'nc-form', id: 'nc-form', autocomplete: 'off' },
    el('label', { class: 'nc-text' }, '公告内容', el('input', { id: 'nc-text', maxlength: String(MAX), required: true, placeholder: '如：今天15:00起暂停办理不动产登记业务，请谅解' }), el('small', { id: 'nc-count' }, `0/${MAX}`)),
    el('label', {}, '开始', el('input', { id: 'nc-start', type: 'time', title: '留空为立即开始（大厅时间，今天）' })),
    el('label', {}, '显示', el('select', { id: 'nc-len' }, ...LENGTHS.map(([v, t]) => el('option', { value: v }, t)))),
    el('button', { type: 'submit', class: 'primary', id: 'nc-add' }, '发布公告'),
  ),
  el('ul', { class: 'nc-list', id: 'nc-list' }),
);
(document.querySelector('main') || document.body).append(card);

let view = null;
let notices = [];

/** Unix ms of HH:MM today in the hall's zone (the browser's zone plays no part). */
function hallTimeToday(hhmm, now) {
  const [h, m] = hhmm.split(':').map(Number);
  const p = hallParts(new Date(now));
  const sinceMidnight = ((p.hour * 60 + p.minute) * 60 + p.second) * 1000 + (now % 1000);
  return now - sinceMidnight + (h * 60 + m) * 60000;
}

function hallNow() {
  return (view && Date.parse(view.now)) || Date.now();
}

function render() {
  const list = $('#nc-list');
  if (!notices.length) {
    list.replaceChildren(el('li', { class: 'empty' }, '暂无公告'));
    return;
  }
  const day = (iso) => {
    const p = hallParts(new Date(iso));
    return `${p.month}月${p.day}日 ${fmtTime(iso)}`;
  };
  list.replaceChildren(
    ...notices.map((n) =>
      el(
        'li',
        { 'data-notice': String(n.id) },
        el('span', { class: `nc-state ${n.showing ? 'on' : ''}` }, n.showing ? '显示中' : '未开始'),
        el('span', { class: 'nc-t' }, n.text),
        el('span', { class: 'nc-when' }, `${day(n.starts_at)} — ${day(n.ends_at)}`),
        el('button', { type: 'button', class: 'nc-del', disabled: token ? undefined : true, onclick: () => remove(n) }, '删除'),
      ),
    ),
  );
}

async function remove(n) {
  if (!confirm(`删除公告“${n.text}”？`)) return;
  try {
    await api(`${base}/notices/${n.id}`, { method: 'DELETE', token });
    notices = notices.filter((x) => x.id !== n.id);
    render();
    toast('公告已删除', 'ok');
  } catch (e) {
    toast(`删除失败：${errorText(e)}`, 'error');
  }
}

$('#nc-text').addEventListener('input', (e) => ($('#nc-count').textContent = `${[...e.target.value].length}/${MAX}`));

$('#nc-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!token) return toast('缺少主管令牌', 'error');
  const text = $('#nc-text').value.trim();
  if (!text) return;
  const now = hallNow();
  const start = $('#nc-start').value ? hallTimeToday($('#nc-start').value, now) : null;
  const from = start ?? now;
  const len = LENGTHS.find(([v]) => v === $('#nc-len').value) || LENGTHS[0];
  let end;
  if (len[2] === 'close') {
    end = view && view.closes_at ? Date.parse(view.closes_at) : hallTimeToday('23:59', now);
    if (end <= from) return toast('闭厅时间已过，请选择其他时长', 'error');
  } else end = from + len[2] * 60000;
  const body = { text, ends_at: new Date(end).toISOString() };
  if (start !== null) body.starts_at = new Date(start).toISOString();
  $('#nc-add').disabled = true;
  try {
    const r = await api(`${base}/notices`, { method: 'POST', body, token });
    if (r && r.notice) notices = [...notices.filter((x) => x.id !== r.notice.id), r.notice];
    render();
    $('#nc-text').value = '';
    $('#nc-count').textContent = `0/${MAX}`;
    toast('公告已发布', 'ok');
  } catch (err) {
    toast(`发布失败：${errorText(err)}`, 'error');
  } finally {
    $('#nc-add').disabled = false;
  }
});

document.addEventListener('hallcall:view', (e) => {
  view = e.detail;
  if (Array.isArray(view.notices)) {
    notices = view.notices;
    render();
  }
});
render();
