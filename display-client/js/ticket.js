// The citizen's status page: /t/{id}?hall=ID

import { $, el, api, params, hallId, hallBase, lastPathSegment, fmtWait, fmtTime } from '/static/lib/api.js';
import { label, langOf } from '/static/lib/labels.js';
import { Live } from '/static/lib/live.js';
import { toast, errorText } from '/static/lib/ui.js';
import { REASONS, MAX_REASON_CHARS, isBad, charCount } from '/static/lib/rating.js';

const hall = hallId();
const id = params.get('id') || lastPathSegment();
const base = hallBase(hall);

// ---- for everyone: English and large print (issue 15 item 11) ----------------
// `?lang=en` or the English button; the choice and large print are kept on
// this phone (localStorage) for the next ticket too.
const LKEY = 'hallcall.ticket.lang';
const BKEY = 'hallcall.ticket.large';
let lang = params.get('lang') ? langOf(params) : localStorage.getItem(LKEY) === 'en' ? 'en' : 'zh';
let large = localStorage.getItem(BKEY) === '1';
const T = {
  zh: {
    sub: '排队进度 · 实时更新', your_number: '您的号码', ahead: '前面等候（人）', est: '预计等候',
    near: '即将到号', near_sub: '请回到大厅，留意叫号屏和广播', go_a: '请到', go_b: '号窗口',
    cancel: '不排了（取消排队）', rate_title: '请为本次服务评价（好差评）', reason_title: '请选择不满意的原因（必填，可多选）',
    reason_text: '其他意见（不超过200字）', submit: '提交评价', thanks: '感谢您的评价', recent: '最近叫号',
    footer: '过号请到取号机或窗口重新排队', title: '我的排队号', no_window: '暂无窗口', soon: '即将叫号',
    bring: '请携带材料尽快前往办理', serving: '正在办理中', done: '业务已办结，感谢您的耐心等待！',
    no_show: '您已过号。如需继续办理，请到取号机或窗口申请重新排队。', expired: '本号票已过期（当日未办理），请重新取号。',
    cancelled: '本号票已取消。', not_found: '未找到该号票，请核对二维码或链接。', unavailable: '暂时无法获取排队信息：',
    held: (w, until) => `您的号已挂起：请取回材料后回到 ${w ?? ''} 号窗口${until ? `，${until} 前未回视为过号` : ''}。`,
    issued: (t) => `取号时间 ${t}`, window: (n) => `${n}号窗口`, no_calls: '暂无叫号', tap_stars: '请点击星星评分',
    chained: (from, to) => `${from} 已办结，请继续办理 ${to}（无需重新取号）`,
    next_windows: (ws) => `请到 ${ws.join('、')}号窗口等候叫号`, next_none: '暂无窗口办理，请留意叫号屏',
    confirm_cancel: (n) => `确定不排了吗？取消后 ${n} 号将作废，如需办理请重新取号。`, cancelled_toast: '已取消排队',
    cancel_failed: '取消失败：', rated_toast: '评价已提交，谢谢！', rate_failed: '评价失败：',
    lang_btn: 'English', large_btn: '大字', stars: ['', '非常不满意', '不满意', '基本满意', '满意', '非常满意'],
  },
  en: {
    sub: 'Your place in line · live', your_number: 'Your number', ahead: 'Ahead of you', est: 'Estimated wait',
    near: 'Almost your turn', near_sub: 'Please come back to the hall and watch the screens', go_a: 'Please go to window', go_b: '',
    cancel: 'Leave the queue', rate_title: 'Please rate the service', reason_title: 'What went wrong? (required, pick any)',
    reason_text: 'Other comments (up to 200 characters)', submit: 'Send rating', thanks: 'Thank you for your rating', recent: 'Latest calls',
    footer: 'Missed your call? Ask at a kiosk or window to queue again', title: 'My ticket', no_window: 'No window yet', soon: 'Very soon',
    bring: 'Please bring your documents', serving: 'Being served', done: 'Done. Thank you for your patience!',
    no_show: 'Your number was missed. Ask at a kiosk or window to queue again.', expired: 'This ticket expired (not served that day). Please take a new one.',
    cancelled: 'This ticket was cancelled.', not_found: 'Ticket not found. Please check the QR code or link.', unavailable: 'Cannot load your ticket right now: ',
    held: (w, until) => `On hold: fetch your documents and come back to window ${w ?? ''}${until ? ` before ${until}, or the number is missed` : ''}.`,
    issued: (t) => `Taken at ${t}`, window: (n) => `Window ${n}`, no_calls: 'No calls yet', tap_stars: 'Tap the stars',
    chained: (from, to) => `${from} is done; next: ${to} (no new ticket needed)`,
    next_windows: (ws) => `Please wait at window${ws.length > 1 ? 's' : ''} ${ws.join(', ')}`, next_none: 'No window serves it yet; watch the screens',
    confirm_cancel: (n) => `Leave the queue? Number ${n} will be void; take a new ticket to come back.`, cancelled_toast: 'You left the queue',
    cancel_failed: 'Could not cancel: ', rated_toast: 'Thank you for your rating!', rate_failed: 'Could not send the rating: ',
    lang_btn: '中文', large_btn: 'Large text', stars: ['', 'Very dissatisfied', 'Dissatisfied', 'Fair', 'Satisfied', 'Very satisfied'],
  },
};
const REASONS_EN = { long_wait: 'Waited too long', slow: 'Slow', attitude: 'Unfriendly', unskilled: 'Did not know the job', not_told_at_once: 'Not told everything at once', unclear_materials: 'Unclear what to bring', other: 'Other' };
const t = (k, ...a) => {
  const v = T[lang][k] ?? T.zh[k];
  return typeof v === 'function' ? v(...a) : v;
};
let view = null;
/** A category's name in the page's language (the view has the English names). */
function catName(idOrNull, zhName) {
  if (lang === 'en' && view && idOrNull) {
    const c = (view.categories || []).find((x) => x.id === idOrNull);
    if (c && c.name_en) return c.name_en;
  }
  return zhName || idOrNull || '';
}

/** The fixed texts, the buttons and large print; again after every switch. */
function applySettings() {
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  document.body.classList.toggle('tk-large', large);
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll('[data-i18n-ph]')) {
    e.placeholder = t(e.dataset.i18nPh);
    e.setAttribute('aria-label', t(e.dataset.i18nPh));
  }
  const lb = $('#lang-btn');
  lb.textContent = t('lang_btn');
  lb.lang = lang === 'en' ? 'zh-CN' : 'en';
  const bb = $('#large-btn');
  bb.textContent = t('large_btn');
  bb.setAttribute('aria-pressed', String(large));
  for (const b of document.querySelectorAll('#stars button')) {
    const n = Number(b.dataset.score);
    b.setAttribute('aria-label', lang === 'en' ? `${n} star${n > 1 ? 's' : ''}: ${t('stars')[n]}` : `${n}星 ${t('stars')[n]}`);
    b.querySelector('small').textContent = t('stars')[n];
  }
  $('#star-label').textContent = score ? t('stars')[score] : t('tap_stars');
  for (const c of document.querySelectorAll('#rate-chips .chip')) {
    const code = c.dataset.reason;
    c.textContent = lang === 'en' ? REASONS_EN[code] || code : (REASONS.find(([k]) => k === code) || [code, code])[1];
  }
  if (view) renderRecent(view);
  else if (status) render();
}
$('#lang-btn').addEventListener('click', () => {
  lang = lang === 'en' ? 'zh' : 'en';
  localStorage.setItem(LKEY, lang);
  applySettings();
});
$('#large-btn').addEventListener('click', () => {
  large = !large;
  localStorage.setItem(BKEY, large ? '1' : '0');
  applySettings();
});

let status = null;
let flashedSeq = 0;
const hooks = (globalThis.__hallcall = Object.assign(globalThis.__hallcall || {}, { flashed: [] }));

async function load() {
  try {
    status = await api(`${base}/tickets/${encodeURIComponent(id)}`);
    render();
  } catch (e) {
    if (e.status === 404) {
      showMsg(t('not_found'));
      $('#number').textContent = '----';
    } else if (!status) {
      showMsg(`${t('unavailable')}${errorText(e)}`);
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
  document.title = `${s.number} · ${t('title')}`;
  $('#number').textContent = s.number;
  $('#cat').textContent = catName(s.category, s.category_name);
  const st = $('#state');
  st.className = `tk-state ${s.state}`;
  st.textContent = label(lang, 'ticketState', s.state);
  $('#issued').textContent = s.issued_at ? t('issued', fmtTime(s.issued_at)) : '';
  $('#msg').hidden = true;
  $('#wait-box').hidden = true;
  $('#call-box').hidden = true;
  renderFeatures(s);
  if (s.state === 'waiting') {
    $('#wait-box').hidden = false;
    $('#ahead').textContent = s.ahead ?? '-';
    const est = $('#est');
    est.textContent = s.estimated_wait_s === null || s.estimated_wait_s === undefined ? t('no_window') : s.ahead === 0 ? t('soon') : fmtWait(s.estimated_wait_s, lang);
    est.classList.toggle('small', est.textContent.length > (lang === 'en' ? 8 : 4));
  } else if (s.state === 'called' || s.state === 'serving') {
    $('#call-box').hidden = false;
    $('#call-window').textContent = s.window ?? '-';
    $('#call-sub').textContent = s.state === 'serving' ? t('serving') : t('bring');
  } else if (['done', 'no_show', 'expired', 'cancelled'].includes(s.state)) {
    showMsg(t(s.state));
  } else if (s.state === 'held') {
    showMsg(t('held', s.window, s.held_until ? fmtTime(s.held_until) : ''));
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
    $('#next-title').textContent = t('chained', catName(next.from_category, next.from_category_name), catName(s.category, s.category_name));
    $('#next-windows').textContent = next.windows && next.windows.length ? t('next_windows', next.windows) : t('next_none');
  }
}

$('#cancel-btn').addEventListener('click', async () => {
  if (!status || status.state !== 'waiting') return;
  if (!confirm(t('confirm_cancel', status.number))) return;
  $('#cancel-btn').disabled = true;
  try {
    await api(`${base}/tickets/${encodeURIComponent(id)}/cancel`, { method: 'POST', body: {} });
    status = { ...status, state: 'cancelled', ahead: null };
    render();
    toast(t('cancelled_toast'), 'ok');
  } catch (e) {
    toast(`${t('cancel_failed')}${errorText(e)}`, 'error');
    load();
  } finally {
    $('#cancel-btn').disabled = false;
  }
});

function renderRecent(v) {
  view = v;
  $('#hall-name').textContent = lang === 'en' && v.name_en ? v.name_en : v.name;
  if (status) render(); // the 取号时间 again, now in the view's hall time zone
  const mine = status && status.number;
  $('#recent').replaceChildren(
    ...(v.recent_calls || []).slice(0, 4).map((c) =>
      el('li', { class: c.number === mine ? 'mine' : '' }, el('span', { class: 'n num' }, c.number), el('span', {}, t('window', c.window)), el('span', { class: 'num' }, fmtTime(c.at))),
    ),
  );
  if (!(v.recent_calls || []).length) $('#recent').replaceChildren(el('li', {}, t('no_calls')));
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
    $('#star-label').textContent = t('stars')[score];
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
    toast(t('rated_toast'), 'ok');
  } catch (e) {
    toast(`${t('rate_failed')}${errorText(e)}`, 'error');
    $('#rate-submit').disabled = false;
  }
});

applySettings();

// One request at load; after that the stream pushes this ticket's status
// (`ticket` messages) and the hall's recent calls (`view` messages).
await load();
const live = new Live({ hall, ticket: id, onState: renderRecent, onCall, onTicket, pollMs: 30000 });
await live.start();
// Without push (an older server) fall back to asking now and then.
setInterval(() => live.push || load(), 60000);
