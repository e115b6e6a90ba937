// 网上预约 (issue 15 item 2): /book?hall=ID[&code=CODE]
// Pick a category, a day (today up to booking_days_ahead; holidays and
// closed days shown closed), a slot with what is left, give a phone number,
// get a code and its QR. Times are the hall's (its time zone), never the
// phone's.

import { $, el, api, params, hallId, hallBase, setHallTimezone, hallParts } from '/static/lib/api.js';
import { errorText } from '/static/lib/ui.js';

const hall = hallId();
const base = hallBase(hall);
const WEEK = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];

let categories = [];
let category = null;
let day = null;
let slot = null;
let days = []; // [{date, open, left}]
let today = null;
let lastDate = null;

const p2 = (n) => String(n).padStart(2, '0');

function addDays(iso, n) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** 11月24日 周二 of a YYYY-MM-DD (a calendar date: no time zone involved). */
function dayLabel(iso) {
  const d = new Date(`${iso}T00:00:00Z`);
  return { md: `${d.getUTCMonth() + 1}月${d.getUTCDate()}日`, wd: iso === today ? '今天' : WEEK[d.getUTCDay()] };
}

/** HH:MM of an RFC 3339 time in the hall's zone. */
function hhmm(iso) {
  const t = hallParts(new Date(iso));
  return `${p2(t.hour)}:${p2(t.minute)}`;
}

function bookingError(e) {
  switch (e.code) {
    case 'booking_banned':
      return '该手机号近30天内多次预约未到，暂时不能预约，请到大厅现场取号。';
    case 'slot_full':
      return '该时段刚刚约满，请选择其他时段。';
    case 'bad_phone':
      return '请输入正确的手机号（6至15位数字）。';
    case 'rate_limited':
      return '预约过于频繁，请稍后再试。';
    case 'bad_slot':
      return '该时段不可预约（已过时、不在办公时间或超出可预约天数）。';
    case 'unknown_appointment':
      return '预约码不存在或已取消。';
    case 'appointment_used':
      return '该预约已签到，不能取消。';
    case 'appointment_missed':
      return '预约时段已过，不能取消。';
    default:
      return errorText(e);
  }
}

function showErr(text) {
  $('#err').textContent = text || '';
  $('#err').hidden = !text;
}

function radio(cls, selected, attrs, ...children) {
  return el('button', { type: 'button', class: `${cls}${selected ? ' on' : ''}`, role: 'radio', 'aria-checked': selected ? 'true' : 'false', ...attrs }, ...children);
}

function renderCats() {
  $('#cats').replaceChildren(
    ...(categories.length
      ? categories.map((c) => radio('bk-cat', category === c.id, { 'data-id': c.id, onclick: () => pickCategory(c.id) }, c.name))
      : [el('p', { class: 'bk-none' }, '本大厅暂未开放网上预约。')]),
  );
}

function renderDays() {
  $('#days').replaceChildren(
    ...days.map((d) => {
      const { md, wd } = dayLabel(d.date);
      const closed = !d.open;
      const full = d.open && d.left === 0;
      return radio(
        'bk-day',
        day === d.date,
        { 'data-date': d.date, disabled: closed || full, onclick: () => pickDay(d.date) },
        el('b', {}, wd),
        el('span', {}, md),
        el('small', {}, closed ? '休息' : full ? '约满' : d.left === null ? '' : `余${d.left}`),
      );
    }),
  );
}

async function loadSlots(date) {
  return api(`${base}/appointments/slots?date=${date}&category=${encodeURIComponent(category)}`);
}

function renderSlots(list) {
  if (!day) {
    $('#slots').replaceChildren(el('p', { class: 'bk-none' }, '请先选择日期'));
    return;
  }
  const shown = list.filter((s) => s.bookable || s.booked >= s.capacity);
  $('#slot-hint').textContent = shown.length ? '（余 = 剩余名额）' : '';
  $('#slots').replaceChildren(
    ...(shown.length
      ? shown.map((s) =>
          radio(
            'bk-slot',
            slot === s.start,
            { 'data-start': s.start, disabled: !s.bookable, onclick: () => pickSlot(s.start) },
            el('b', { class: 'num' }, hhmm(s.start)),
            el('small', {}, s.bookable ? `余${s.capacity - s.booked}` : '约满'),
          ),
        )
      : [el('p', { class: 'bk-none' }, '当天已无可预约时段')]),
  );
  updateSubmit();
}

function updateSubmit() {
  $('#submit').disabled = !(category && day && slot);
}

async function pickCategory(id) {
  category = id;
  day = null;
  slot = null;
  showErr('');
  renderCats();
  renderSlots([]);
  // Every bookable day with what it has left, closed days marked.
  const dates = [];
  for (let d = today; d <= lastDate; d = addDays(d, 1)) dates.push(d);
  days = dates.map((date) => ({ date, open: true, left: null }));
  renderDays();
  const answers = await Promise.all(dates.map((d) => loadSlots(d).catch(() => null)));
  if (category !== id) return;
  days = dates.map((date, i) => {
    const r = answers[i];
    if (!r) return { date, open: false, left: 0 };
    const left = r.slots.filter((s) => s.bookable).reduce((a, s) => a + s.capacity - s.booked, 0);
    return { date, open: r.open, left };
  });
  renderDays();
  const first = days.find((d) => d.open && d.left > 0);
  if (first) pickDay(first.date);
}

async function pickDay(date) {
  day = date;
  slot = null;
  renderDays();
  try {
    const r = await loadSlots(date);
    if (day === date) renderSlots(r.slots);
  } catch (e) {
    showErr(bookingError(e));
  }
}

function pickSlot(start) {
  slot = start;
  for (const b of document.querySelectorAll('.bk-slot')) {
    const on = b.dataset.start === start;
    b.classList.toggle('on', on);
    b.setAttribute('aria-checked', on ? 'true' : 'false');
  }
  updateSubmit();
}

async function submit(ev) {
  ev.preventDefault();
  showErr('');
  const phone = $('#phone').value.trim();
  if (!/^[+\d][\d\s-]{5,19}$/.test(phone)) return showErr('请输入正确的手机号（6至15位数字）。');
  $('#submit').disabled = true;
  try {
    const b = await api(`${base}/appointments`, { method: 'POST', body: { category, slot_start: slot, phone } });
    showDone(b);
  } catch (e) {
    showErr(bookingError(e));
    if (e.code === 'slot_full' && day) pickDay(day);
  } finally {
    updateSubmit();
  }
}

function showDone(b) {
  $('#form').hidden = true;
  $('#done').hidden = false;
  $('#code').textContent = b.code;
  const c = categories.find((x) => x.id === b.category);
  const { md, wd } = dayLabel(b.local.slice(0, 10));
  $('#when').textContent = `${c ? c.name : b.category} · ${md} ${wd} ${hhmm(b.slot_start)}`;
  // The server's own SVG (a QR of the booking link).
  $('#qr').innerHTML = b.qr_svg;
  $('#checkin').textContent = `签到时间：${hhmm(b.check_in_from)} 至 ${hhmm(b.check_in_until)}，在取号机选择“预约签到”并输入预约码。`;
  $('#cancel').onclick = () => cancelBooking(b.code, $('#cancel'));
  window.scrollTo(0, 0);
}

async function cancelBooking(code, button) {
  if (!confirm(`确定取消预约 ${code} 吗？`)) return;
  button.disabled = true;
  try {
    await api(`${base}/appointments/${encodeURIComponent(code)}`, { method: 'DELETE' });
    button.textContent = '已取消预约';
    button.classList.add('done');
  } catch (e) {
    button.disabled = false;
    alert(bookingError(e));
  }
}

async function init() {
  $('#form').addEventListener('submit', submit);
  $('#again').addEventListener('click', () => {
    $('#done').hidden = true;
    $('#form').hidden = false;
    slot = null;
    if (day) pickDay(day);
  });
  const code = params.get('code');
  if (code && /^\d{6}$/.test(code)) {
    $('#mine').hidden = false;
    $('#mine-code').textContent = code;
    $('#mine-cancel').addEventListener('click', () => cancelBooking(code, $('#mine-cancel')));
  }
  try {
    const st = await api(`${base}/state`);
    $('#hall-name').textContent = st.name;
    document.title = `${st.name} · 网上预约`;
    setHallTimezone(st.timezone);
    today = st.business_date;
  } catch (e) {
    showErr(errorText(e));
    return;
  }
  if (!today) {
    const t = hallParts(new Date());
    today = `${t.year}-${p2(t.month)}-${p2(t.day)}`;
  }
  try {
    const r = await api(`${base}/appointments/slots?date=${today}`);
    categories = r.categories;
    lastDate = r.last_date;
  } catch (e) {
    showErr(bookingError(e));
    return;
  }
  renderCats();
  renderSlots([]);
  if (categories.length === 1) pickCategory(categories[0].id);
}

init();
