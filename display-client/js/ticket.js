// The citizen's status page: /t/{id}?hall=ID

import { $, el, api, params, hallId, hallBase, lastPathSegment, fmtWait, fmtTime } from '/static/lib/api.js';
import { label } from '/static/lib/labels.js';
import { Live } from '/static/lib/live.js';
import { toast, errorText } from '/static/lib/ui.js';
import { REASONS, MAX_REASON_CHARS, isBad, charCount } from '/static/lib/rating.js';

const hall = hallId();
const id = params.get('id') || lastPathSegment();
const base = hallBase(hall);
const STAR_WORDS = ['', '非常不满意', '不满意', '基本满意', '满意', '非常满意'];

let status = null;
let flashedSeq = 0;
const hooks = (globalThis.__hallcall = Object.assign(globalThis.__hallcall || {}, { flashed: [] }));

async function load() {
  try {
    status = await api(`${base}/tickets/${encodeURIComponent(id)}`);
    render();
  } catch (e) {
    if (e.status === 404) {
      showMsg('未找到该号票，请核对二维码或链接。');
      $('#number').textContent = '----';
    } else if (!status) {
      showMsg(`暂时无法获取排队信息：${errorText(e)}`);
    }
  }
}

/** A `ticket` message from the stream: the status, pushed when it changes. */
function onTicket(s) {
  status = s;
  render();
}

function showMsg(text) {
  $('#wait-box').hidden = true;
  $('#call-box').hidden = true;
  const m = $('#msg');
  m.hidden = false;
  m.textContent = text;
}

function render() {
  const s = status;
  document.title = `${s.number} · 我的排队号`;
  $('#number').textContent = s.number;
  $('#cat').textContent = s.category_name || s.category;
  const st = $('#state');
  st.className = `tk-state ${s.state}`;
  st.textContent = label('zh', 'ticketState', s.state);
  $('#issued').textContent = s.issued_at ? `取号时间 ${fmtTime(s.issued_at)}` : '';
  $('#msg').hidden = true;
  $('#wait-box').hidden = true;
  $('#call-box').hidden = true;
  renderFeatures(s);
  if (s.state === 'waiting') {
    $('#wait-box').hidden = false;
    $('#ahead').textContent = s.ahead ?? '-';
    const est = $('#est');
    est.textContent = s.estimated_wait_s === null || s.estimated_wait_s === undefined ? '暂无窗口' : s.ahead === 0 ? '即将叫号' : fmtWait(s.estimated_wait_s);
    est.classList.toggle('small', est.textContent.length > 4);
  } else if (s.state === 'called' || s.state === 'serving') {
    $('#call-box').hidden = false;
    $('#call-window').textContent = s.window ?? '-';
    $('#call-sub').textContent = s.state === 'serving' ? '正在办理中' : '请携带材料尽快前往办理';
  } else if (s.state === 'done') {
    showMsg('业务已办结，感谢您的耐心等待！');
  } else if (s.state === 'no_show') {
    showMsg('您已过号。如需继续办理，请到取号机或窗口申请重新排队。');
  } else if (s.state === 'expired') {
    showMsg('本号票已过期（当日未办理），请重新取号。');
  } else if (s.state === 'cancelled') {
    showMsg('本号票已取消。');
  } else if (s.state === 'held') {
    showMsg(`您的号已挂起：请取回材料后回到 ${s.window ?? ''} 号窗口${s.held_until ? `，${fmtTime(s.held_until)} 前未回视为过号` : ''}。`);
  }
  $('#rate-box').hidden = !s.can_rate;
  const rated = s.rating !== null && s.rating !== undefined;
  $('#rated-box').hidden = !rated;
  if (rated) {
    $('#rated-stars').replaceChildren(...[1, 2, 3, 4, 5].map((i) => el('span', { class: i <= s.rating ? 'on' : '' }, '★')));
  }
}

// ---- 不排了, 即将到号, 多窗联办 --------------------------------------------------

const NEAR_KEY = `hallcall.near.${id}`;
function renderFeatures(s) {
  $('#cancel-btn').hidden = s.state !== 'waiting';
  const near = s.state === 'waiting' && !!s.near_turn;
  $('#near-box').hidden = !near;
  // Vibrate once per ticket, not on every update or reload.
  if (near && !sessionStorage.getItem(NEAR_KEY)) {
    sessionStorage.setItem(NEAR_KEY, '1');
    hooks.nearTurn = (hooks.nearTurn || 0) + 1;
    if (navigator.vibrate) navigator.vibrate([200, 100, 200, 100, 400]);
  }
  const next = s.state === 'waiting' ? s.next_step : null;
  $('#next-box').hidden = !next;
  if (next) {
    $('#next-title').textContent = `${next.from_category_name || next.from_category} 已办结，请继续办理 ${s.category_name || s.category}（无需重新取号）`;
    $('#next-windows').textContent = next.windows && next.windows.length ? `请到 ${next.windows.join('、')}号窗口等候叫号` : '暂无窗口办理，请留意叫号屏';
  }
}

$('#cancel-btn').addEventListener('click', async () => {
  if (!status || status.state !== 'waiting') return;
  if (!confirm(`确定不排了吗？取消后 ${status.number} 号将作废，如需办理请重新取号。`)) return;
  $('#cancel-btn').disabled = true;
  try {
    await api(`${base}/tickets/${encodeURIComponent(id)}/cancel`, { method: 'POST', body: {} });
    status = { ...status, state: 'cancelled', ahead: null };
    render();
    toast('已取消排队', 'ok');
  } catch (e) {
    toast(`取消失败：${errorText(e)}`, 'error');
    load();
  } finally {
    $('#cancel-btn').disabled = false;
  }
});

function renderRecent(v) {
  $('#hall-name').textContent = v.name;
  if (status) render(); // the 取号时间 again, now in the view's hall time zone
  const mine = status && status.number;
  $('#recent').replaceChildren(
    ...(v.recent_calls || []).slice(0, 4).map((c) =>
      el('li', { class: c.number === mine ? 'mine' : '' }, el('span', { class: 'n num' }, c.number), el('span', {}, `${c.window}号窗口`), el('span', { class: 'num' }, fmtTime(c.at))),
    ),
  );
  if (!(v.recent_calls || []).length) $('#recent').replaceChildren(el('li', {}, '暂无叫号'));
}

function onCall(ev) {
  if (!status || ev.number !== status.number) return;
  // Public events carry no ticket id: the number identifies our ticket.
  status = { ...status, state: 'called', window: ev.window, ahead: null };
  render();
  if (ev.seq > flashedSeq) {
    flashedSeq = ev.seq;
    const box = $('#call-box');
    box.classList.remove('flash');
    void box.offsetWidth;
    box.classList.add('flash');
    hooks.flashed.push({ seq: ev.seq, number: ev.number, window: ev.window });
    if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
  }
  // The full status follows as a `ticket` message at the batch's end.
}

// ---- rating ------------------------------------------------------------------
let score = 0;
// 不满意 and 非常不满意 need a reason: common reasons (codes) and/or a text.
const picked = new Set();
const rateReady = () => !!score && (!isBad(score) || picked.size > 0 || !!$('#rate-text').value.trim()) && charCount($('#rate-text').value.trim()) <= MAX_REASON_CHARS;
$('#rate-chips').replaceChildren(
  ...REASONS.map(([code, name]) =>
    el('button', { type: 'button', class: 'chip', 'data-reason': code, 'aria-pressed': 'false', onclick: (e) => {
      if (picked.has(code)) picked.delete(code);
      else picked.add(code);
      e.currentTarget.classList.toggle('on', picked.has(code));
      e.currentTarget.setAttribute('aria-pressed', String(picked.has(code)));
      $('#rate-submit').disabled = !rateReady();
    } }, name),
  ),
);
$('#rate-text').addEventListener('input', () => ($('#rate-submit').disabled = !rateReady()));
for (const b of document.querySelectorAll('#stars button')) {
  b.addEventListener('click', () => {
    score = Number(b.dataset.score);
    for (const o of document.querySelectorAll('#stars button')) o.classList.toggle('on', Number(o.dataset.score) <= score);
    $('#star-label').textContent = STAR_WORDS[score];
    $('#rate-reason').hidden = !isBad(score);
    $('#rate-submit').disabled = !rateReady();
  });
}
$('#rate-submit').addEventListener('click', async () => {
  if (!rateReady()) return;
  $('#rate-submit').disabled = true;
  const body = isBad(score) ? { score, reasons: [...picked], reason: $('#rate-text').value.trim() || undefined } : { score };
  try {
    await api(`${base}/tickets/${encodeURIComponent(id)}/rating`, { method: 'POST', body });
    status = { ...status, rating: score, can_rate: false };
    render();
    toast('评价已提交，谢谢！', 'ok');
  } catch (e) {
    toast(`评价失败：${errorText(e)}`, 'error');
    $('#rate-submit').disabled = false;
  }
});

// One request at load; after that the stream pushes this ticket's status
// (`ticket` messages) and the hall's recent calls (`view` messages).
await load();
const live = new Live({ hall, ticket: id, onState: renderRecent, onCall, onTicket, pollMs: 30000 });
await live.start();
// Without push (an older server) fall back to asking now and then.
setInterval(() => live.push || load(), 60000);
