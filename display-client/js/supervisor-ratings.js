// 差评回访 on the supervisor dashboard (好差评, issue 13 item 13): every
// 不满意 / 非常不满意 with its reason, its follow-up status (待回访 / 已回访 /
// 已整改 + note) set here, and the export (CSV for Excel, JSON). The list is
// the supervisor's (reasons are not public): GET …/ratings/bad with the
// token; it is refreshed when the dashboard's stream brings a rating or a
// follow-up (supervisor.js re-dispatches events as `hallcall:event`).

import { $, el, api, params, hallId, hallBase } from '/static/lib/api.js';
import { toast, errorText } from '/static/lib/ui.js';
import { FOLLOW_UP, isBad, charCount } from '/static/lib/rating.js';

const hall = hallId();
const base = hallBase(hall);
const token = params.get('token') || sessionStorage.getItem(`hallcall.supervisor.${hall}`) || '';
const MAX_NOTE = 500;
const hooks = (globalThis.__hallcall = Object.assign(globalThis.__hallcall || {}, { badRatings: null }));

let filter = '';
let list = null;
let tz = 'Asia/Shanghai';
let editing = null; // the 差评 in the dialog

/** Hall-time `MM-DD HH:MM` of an RFC 3339 instant (never the browser's zone). */
function when(iso) {
  if (!iso) return '';
  const parts = new Intl.DateTimeFormat('zh-CN', { timeZone: tz, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }).formatToParts(new Date(iso));
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

const WORDS = {
  note_required: '已回访、已整改需填写回访说明',
  note_too_long: `回访说明不超过${MAX_NOTE}字`,
  handler_too_long: '回访人姓名过长',
  unknown_bad_rating: '该差评已不在列表中',
};

async function load() {
  if (!token) {
    $('#cp-rows').replaceChildren(el('tr', {}, el('td', { colspan: 10, class: 'empty' }, '缺少主管令牌，差评列表不可用')));
    return;
  }
  try {
    const r = await api(`${base}/ratings/bad${filter ? `?status=${filter}` : ''}`, { token });
    list = r;
    hooks.badRatings = r;
    render();
  } catch (e) {
    $('#cp-rows').replaceChildren(el('tr', {}, el('td', { colspan: 10, class: 'empty' }, `差评列表不可用：${errorText(e)}`)));
  }
}

function render() {
  const r = list || { ratings: [], pending: 0 };
  $('#cp-pending').textContent = r.pending ? `待回访 ${r.pending} 条` : '无待回访';
  $('#cp-pending').classList.toggle('warn', r.pending > 0);
  const rows = r.ratings.map((b) => {
    const last = b.follow_ups.length ? b.follow_ups[b.follow_ups.length - 1] : null;
    const reason = [...b.reason_names, b.comment].filter(Boolean).join('；');
    return el(
      'tr',
      { 'data-ticket': b.ticket, 'data-status': b.status, class: `cp-${b.status}` },
      el('td', { class: 'num' }, when(b.rated_at)),
      el('td', { class: 'num' }, b.number),
      el('td', {}, b.category_name),
      el('td', {}, b.window ? `${b.window}号` : '—'),
      el('td', {}, b.staff_name || '—'),
      el('td', {}, el('span', { class: `cp-score s${b.score}` }, b.score_name)),
      el('td', { class: 'cp-wrap', title: reason }, reason || '—'),
      el('td', {}, el('span', { class: `cp-status ${b.status}` }, b.status_name)),
      el('td', { class: 'cp-wrap', title: last ? last.note : '' }, last ? `${last.note}${last.handler ? `（${last.handler}，${when(last.at)}）` : `（${when(last.at)}）`}` : '—'),
      el('td', {}, el('button', { type: 'button', class: 'cp-act', onclick: () => openDialog(b) }, b.status === 'pending' ? '回访' : '更新')),
    );
  });
  $('#cp-rows').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 10, class: 'empty' }, filter ? '没有该状态的差评' : '暂无差评'))]));
}

function openDialog(b) {
  editing = b;
  $('#cp-what').textContent = `${b.number} · ${b.category_name} · ${b.window ? `${b.window}号窗口` : ''} ${b.staff_name || ''} · ${b.score_name}`;
  $('#cp-why').textContent = [...b.reason_names, b.comment].filter(Boolean).join('；') || '（未填写原因）';
  const next = b.status === 'pending' ? 'contacted' : b.status === 'contacted' ? 'rectified' : b.status;
  for (const r of document.querySelectorAll('#cp-form input[name="cp-status"]')) r.checked = r.value === next;
  $('#cp-note').value = '';
  $('#cp-handler').value = sessionStorage.getItem('hallcall.supervisor.handler') || '';
  $('#cp-count').textContent = `0/${MAX_NOTE}`;
  $('#cp-modal').hidden = false;
  $('#cp-note').focus();
}

function closeDialog() {
  $('#cp-modal').hidden = true;
  editing = null;
}

async function submit(e) {
  e.preventDefault();
  if (!editing) return;
  const status = (document.querySelector('#cp-form input[name="cp-status"]:checked') || {}).value;
  const note = $('#cp-note').value.trim();
  const handler = $('#cp-handler').value.trim();
  if (!status) return toast('请选择回访状态', 'error');
  if (status !== 'pending' && !note) return toast(WORDS.note_required, 'error');
  if (charCount(note) > MAX_NOTE) return toast(WORDS.note_too_long, 'error');
  try {
    await api(`${base}/ratings/${encodeURIComponent(editing.ticket)}/follow-up`, { method: 'POST', token, body: { status, note, handler } });
    if (handler) sessionStorage.setItem('hallcall.supervisor.handler', handler);
    toast(`${editing.number} 已记为「${FOLLOW_UP.find(([c]) => c === status)[1]}」`, 'ok');
    closeDialog();
    load();
  } catch (err) {
    toast(`保存失败：${WORDS[err.code] || errorText(err)}`, 'error', 6000);
  }
}

async function exportAs(format) {
  if (!token) return toast('缺少主管令牌', 'error');
  try {
    const q = new URLSearchParams();
    if (filter) q.set('status', filter);
    let blob;
    if (format === 'csv') {
      const res = await api(`${base}/ratings/bad?${q}`, { token, accept: 'text/csv' });
      blob = await res.blob();
    } else {
      const data = await api(`${base}/ratings/bad?${q}`, { token });
      blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
    }
    const a = el('a', { href: URL.createObjectURL(blob), download: `hallcall-${hall}-差评回访.${format}` });
    document.body.append(a);
    a.click();
    setTimeout(() => {
      URL.revokeObjectURL(a.href);
      a.remove();
    }, 1000);
    toast('差评回访已导出', 'ok');
  } catch (e) {
    toast(`导出失败：${errorText(e)}`, 'error');
  }
}

for (const b of document.querySelectorAll('#cp-tabs button')) {
  b.addEventListener('click', () => {
    filter = b.dataset.status;
    for (const o of document.querySelectorAll('#cp-tabs button')) o.classList.toggle('on', o === b);
    load();
  });
}
$('#cp-csv').addEventListener('click', () => exportAs('csv'));
$('#cp-json').addEventListener('click', () => exportAs('json'));
$('#cp-form').addEventListener('submit', submit);
$('#cp-cancel').addEventListener('click', closeDialog);
$('#cp-note').addEventListener('input', () => {
  const n = charCount($('#cp-note').value.trim());
  $('#cp-count').textContent = `${n}/${MAX_NOTE}`;
  $('#cp-count').classList.toggle('over', n > MAX_NOTE);
});

// A rating or a follow-up on the dashboard's stream: reload the list.
let pending = null;
document.addEventListener('hallcall:event', (e) => {
  const ev = e.detail || {};
  if ((ev.type === 'rating_recorded' && isBad(ev.score)) || ev.type === 'rating_followed_up') {
    clearTimeout(pending);
    pending = setTimeout(load, 200);
  }
});
document.addEventListener('hallcall:view', (e) => {
  if (e.detail && e.detail.timezone && e.detail.timezone !== tz) {
    tz = e.detail.timezone;
    render();
  }
});

load();
// A safety net for a missed event (and a follow-up from another dashboard).
setInterval(load, 60000);
