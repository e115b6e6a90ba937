// Kiosk (取号机): /kiosk?hall=ID&token=KIOSK_TOKEN[&print=0]

import { $, el, api, params, hallId, hallBase, fmtWait, fmtTime, fmtDateTime, startClock } from '/static/lib/api.js';
import { label } from '/static/lib/labels.js';
import { Live } from '/static/lib/live.js';
import { toast, errorText, fitText, refitOn } from '/static/lib/ui.js';

const hall = hallId();
const base = hallBase(hall);
const token = params.get('token') || localStorage.getItem(`hallcall.kiosk.${hall}`) || '';
if (params.get('token')) localStorage.setItem(`hallcall.kiosk.${hall}`, params.get('token'));
const autoPrint = params.get('print') !== '0';
const RESET_S = 20; // the ticket screen closes by itself

// mode: null | {kind:'green', priority} | {kind:'assist'} | {kind:'appt', code}
let mode = null;
let view = null;
let busy = false;

// ---- large / high-contrast mode ------------------------------------------------
function setLarge(on) {
  document.body.classList.toggle('large', on);
  $('#btn-large').setAttribute('aria-pressed', String(on));
  fitCats();
}
$('#btn-large').addEventListener('click', () => {
  const on = !document.body.classList.contains('large');
  setLarge(on);
  // Deliberately not persisted for long: the next citizen starts normal.
  clearTimeout(setLarge.t);
  if (on) setLarge.t = setTimeout(() => setLarge(false), 3 * 60000);
});
if (params.get('large') === '1') setLarge(true);

// Large print also speaks (issue 15 item 11): the chosen category and then the
// ticket, through the browser's speech (the voice pack has only numbers and
// windows, not the hall's category names). Said texts are kept for tests.
const kioskHooks = (globalThis.__hallcall = Object.assign(globalThis.__hallcall || {}, { spoken: [] }));
function say(text) {
  if (!document.body.classList.contains('large')) return;
  kioskHooks.spoken.push(text);
  const synth = globalThis.speechSynthesis;
  if (!synth || typeof SpeechSynthesisUtterance === 'undefined') return;
  const u = new SpeechSynthesisUtterance(text);
  u.lang = 'zh-CN';
  u.rate = 0.9;
  const zh = synth.getVoices().find((v) => /^zh/i.test(v.lang));
  if (zh) u.voice = zh;
  synth.cancel(); // the newest choice, not a queue of old ones
  synth.speak(u);
}
/** A ticket number letter by letter, so A012 is said 「A 0 1 2」. */
const spell = (n) => String(n).split('').join(' ');

// ---- modes -----------------------------------------------------------------------
function setMode(m) {
  mode = m;
  const bar = $('#mode');
  bar.hidden = !m;
  bar.classList.toggle('appt', !!m && m.kind === 'appt');
  if (m && m.kind === 'green') $('#mode-text').textContent = `绿色通道：${label('zh', 'priority', m.priority)} — 请选择业务`;
  else if (m && m.kind === 'assist') $('#mode-text').textContent = '帮办代办 — 请选择业务';
  else if (m && m.kind === 'appt') $('#mode-text').textContent = `预约签到：${m.code} — 请选择预约的业务`;
  $('#prompt').textContent = m ? '请选择业务' : '请选择您要办理的业务';
}
$('#mode-cancel').addEventListener('click', () => setMode(null));

function openModal(id) {
  for (const m of document.querySelectorAll('.ks-modal')) m.hidden = m.id !== id;
}
function closeModals() {
  for (const m of document.querySelectorAll('.ks-modal')) m.hidden = true;
}
for (const b of document.querySelectorAll('[data-close]')) b.addEventListener('click', closeModals);

$('#btn-green').addEventListener('click', () => openModal('green-modal'));
for (const b of document.querySelectorAll('#green-modal [data-priority]')) {
  b.addEventListener('click', () => {
    closeModals();
    setMode({ kind: 'green', priority: b.dataset.priority });
  });
}
$('#btn-assist').addEventListener('click', () => setMode(mode && mode.kind === 'assist' ? null : { kind: 'assist' }));

// appointment code with an on-screen keypad
const keys = '1234567890ABCDEFGHJKLMNPQRSTUVWXYZ'.split('');
$('#keypad').replaceChildren(
  ...keys.map((k) => el('button', { type: 'button', onclick: () => typeKey(k) }, k)),
  el('button', { type: 'button', class: 'wide', onclick: () => typeKey('⌫') }, '退格'),
  el('button', { type: 'button', class: 'wide', onclick: () => ($('#appt-code').value = '') }, '清空'),
);
function typeKey(k) {
  const inp = $('#appt-code');
  inp.value = k === '⌫' ? inp.value.slice(0, -1) : (inp.value + k).slice(0, 16);
}
$('#btn-appt').addEventListener('click', () => {
  $('#appt-code').value = '';
  openModal('appt-modal');
  $('#appt-code').focus();
});
// Check-in by the code alone: the booking knows its category. Too early (or a
// slot of an earlier day) the server says when check-in opens; it shows in
// the large dialog that stays until touched.
async function checkIn() {
  const code = $('#appt-code').value.trim().toUpperCase();
  if (!code) return showError('请输入预约码', '签到未成功');
  if (busy) return;
  if (!token) return showError('本取号机未配置令牌（URL 缺少 token 参数），请联系管理员', '签到未成功');
  busy = true;
  $('#busy').hidden = false;
  try {
    const t = await api(`${base}/appointments/${encodeURIComponent(code)}/check-in`, { method: 'POST', token });
    setMode(null);
    showTicket(t, { name: t.category_name }, { appointment_code: code, late: t.appointment && t.appointment.late ? t.appointment.local : null });
  } catch (e) {
    showError(checkInError(e), '签到未成功');
  } finally {
    busy = false;
    $('#busy').hidden = true;
  }
}
function checkInError(e) {
  // The server's message says when check-in opens (in the hall's time).
  if (e.code === 'appointment_too_early' || e.code === 'appointment_expired') return e.message;
  if (e.code === 'unknown_appointment') return '没有这个预约码，请核对后重新输入；如有疑问请咨询工作人员';
  if (e.code === 'appointment_used') return '该预约码已签到取号，请勿重复签到';
  return errorText(e);
}
$('#appt-next').addEventListener('click', checkIn);
$('#appt-code').addEventListener('keydown', (e) => e.key === 'Enter' && checkIn());

// ---- errors: a large dialog that stays until touched -------------------------------
function showError(text, title = '取号未成功') {
  $('#err-title').textContent = title;
  $('#err-text').textContent = text;
  $('#err-box').hidden = false;
  globalThis.__hallcall = Object.assign(globalThis.__hallcall || {}, { lastError: text });
}
function hideError() {
  $('#err-box').hidden = true;
}
// Any touch on the dialog closes it (not a timer: a slow reader keeps it).
$('#err-box').addEventListener('pointerdown', (e) => {
  e.preventDefault();
  hideError();
});
document.addEventListener('keydown', (e) => {
  if (!$('#err-box').hidden && (e.key === 'Enter' || e.key === 'Escape' || e.key === ' ')) {
    e.preventDefault();
    hideError();
  }
});

// ---- categories ----------------------------------------------------------------
function renderCats(v) {
  view = v;
  $('#hall-name').textContent = v.name;
  document.title = `${v.name} · 自助取号`;
  $('#cats').replaceChildren(
    ...v.categories.map((c) => {
      const nowin = c.estimated_wait_s === null || c.estimated_wait_s === undefined;
      const info = nowin
        ? [`等候 `, el('b', { class: 'num' }, String(c.waiting)), ` 人`, el('span', { class: 'sep' }, ' · '), `暂无窗口，请咨询工作人员`]
        : [`等候 `, el('b', { class: 'num' }, String(c.waiting)), ` 人`, el('span', { class: 'sep' }, ' · '), `预计 `, el('b', {}, c.waiting ? fmtWait(c.estimated_wait_s) : '无需等候')];
      if (c.sold_out) info.splice(0, info.length, el('b', {}, '今日号已取完'));
      else if (c.past_closing) info.push(el('span', { class: 'sep' }, ' · '), '预计超过今日办公时间');
      // 红黄绿: the category's level looks ahead (a new ticket's estimate against the wait target).
      if (c.level === 'yellow' || c.level === 'red') info.push(el('span', { class: 'sep' }, ' · '), el('span', { class: `lvl ${c.level}` }), c.level === 'red' ? '排队拥挤' : '排队较长');
      return el(
        'button',
        { type: 'button', class: `cat-btn${nowin ? ' nowin' : ''} lvl-${c.level || 'green'}`, 'data-category': c.id, 'data-level': c.level || 'green', onclick: () => issue(c) },
        el('span', { class: 'px' }, c.prefix),
        el('span', { class: 'nm' }, c.name),
        el('span', { class: 'en' }, c.name_en || ''),
        el('span', { class: 'info' }, ...info),
      );
    }),
  );
  fitCats();
}

/** Long names (十个字的业务, English) are shown whole: each button's text shrinks until it fits (issue 13 item 11). */
function fitCats() {
  fitText([$('#hall-name')]);
  // The button's own size may go below 14 px: its small lines have a 14 px floor in kiosk.css.
  // Large print (适老化) keeps its size: its list scrolls instead.
  if (!document.body.classList.contains('large')) fitText(document.querySelectorAll('#cats .cat-btn'), { minPx: 8 });
  else for (const b of document.querySelectorAll('#cats .cat-btn')) b.style.fontSize = '';
}
refitOn([$('#cats')], fitCats);

// ---- issuing ---------------------------------------------------------------------
async function issue(c) {
  if (busy) return;
  if (!token) {
    showError('本取号机未配置令牌（URL 缺少 token 参数），请联系管理员');
    return;
  }
  say(`您选择了：${c.name}`);
  const body = { category: c.id };
  if (mode && mode.kind === 'green') {
    body.priority = mode.priority;
  } else if (mode && mode.kind === 'assist') body.channel = 'assisted';
  else if (mode && mode.kind === 'appt') body.appointment_code = mode.code;
  // Issuing knows the day (a booked check-in is exempt): 今日号已取完, and an estimate past closing is said before printing.
  if (!body.appointment_code && c.sold_out) {
    showError(`「${c.name}」今日号已取完，请明日再来`);
    return;
  }
  if (!body.appointment_code && c.past_closing && !confirm(`「${c.name}」预计等候时间已超过今日办公结束时间${view && view.closes_at ? `（${fmtTime(view.closes_at)}）` : ''}，今日可能无法办理。仍要取号吗？`)) return;
  busy = true;
  $('#busy').hidden = false;
  try {
    const t = await api(`${base}/tickets`, { method: 'POST', body, token });
    showTicket(t, c, body);
    say(`${c.name}，您的号码是 ${spell(t.number)}，前面还有 ${t.ahead} 人`);
    setMode(null);
  } catch (e) {
    showError(issueError(e));
  } finally {
    busy = false;
    $('#busy').hidden = true;
  }
}

function issueError(e) {
  if (e.code === 'appointment_category' && view) {
    // The message names the booked category id: say its name.
    const m = /"([^"]+)"/.exec(e.message || '');
    const c = m && view.categories.find((x) => x.id === m[1]);
    if (c) return `该预约为「${c.name}」业务，请选择该业务`;
  }
  return errorText(e);
}

let countdown = null;
function showTicket(t, c, body) {
  $('#t-hall').textContent = view ? view.name : '';
  $('#t-cat').textContent = t.category_name || c.name;
  $('#t-number').textContent = t.number;
  $('#t-ahead').textContent = t.ahead ?? '-';
  $('#t-est').textContent = t.estimated_wait_s === null || t.estimated_wait_s === undefined ? '请咨询工作人员' : t.ahead ? fmtWait(t.estimated_wait_s) : '即将叫号';
  const extra = [];
  if (body.priority) extra.push('绿色通道');
  if (body.appointment_code) extra.push(body.late ? '预约（已过签到时间，按普通号排队）' : '预约签到');
  if (body.channel === 'assisted' && !body.priority) extra.push('帮办代办');
  $('#t-extra').textContent = extra.join(' · ');
  $('#t-qr').src = `${base}/tickets/${encodeURIComponent(t.id)}/qr.svg`;
  $('#t-time').textContent = `取号时间 ${fmtDateTime(t.issued_at || new Date().toISOString())}`; // hall time, like the clock
  $('#ticket-print').dataset.ticketId = t.id;
  $('#ticket-print').dataset.statusUrl = t.status_url || `/t/${t.id}?hall=${hall}`;
  globalThis.__hallcall = Object.assign(globalThis.__hallcall || {}, { lastTicket: t });
  // The kiosk's thermal printer ([[hall.printer]]) printed it, or could
  // not: then the screen is the ticket (请扫码). Without a server printer the
  // browser's print path stays.
  const serverPrinter = t.printed === true || !!t.printer_problem;
  $('#t-title').textContent = t.printed ? '取号成功，请取走号票' : '取号成功';
  $('#t-printer').hidden = !t.printer_problem;
  $('#t-printer').textContent = t.printer_problem
    ? `号票未能打印（${t.printer_problem}）。请扫码查看排队进度，或拍照记下号码 ${t.number}`
    : '';
  $('#t-print').hidden = serverPrinter;
  openModal('ticket-modal');
  if (autoPrint && !serverPrinter) {
    // Print once the QR code is in (or failed), so the paper is complete.
    const img = $('#t-qr');
    const go = () => setTimeout(() => window.print(), 50);
    if (img.complete) go();
    else {
      img.addEventListener('load', go, { once: true });
      img.addEventListener('error', go, { once: true });
    }
  }
  let left = RESET_S;
  clearInterval(countdown);
  $('#t-count').textContent = `(${left})`;
  countdown = setInterval(() => {
    left--;
    $('#t-count').textContent = `(${left})`;
    if (left <= 0) doneTicket();
  }, 1000);
}
function doneTicket() {
  clearInterval(countdown);
  closeModals();
}
$('#t-done').addEventListener('click', doneTicket);
$('#t-print').addEventListener('click', () => window.print());

// Idle reset: an abandoned mode or dialog goes away after a minute.
let idle = null;
function poke() {
  clearTimeout(idle);
  idle = setTimeout(() => {
    setMode(null);
    if ($('#ticket-modal').hidden) closeModals();
  }, 60000);
}
for (const ev of ['pointerdown', 'keydown']) document.addEventListener(ev, poke);

if (!token) toast('本取号机未配置令牌（URL 缺少 token 参数）', 'error', 15000);
// The clock follows the server's (hall) clock, not the kiosk's own, which may be
// wrong on a device nobody sets: the same offset the hall display uses.
const live = new Live({ hall, onState: renderCats, pollMs: 10000 });
startClock('zh', () => live.clockOffsetMs);
live.start();
