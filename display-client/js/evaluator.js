// Window evaluator (评价器): /evaluator/{n}?hall=ID&token=EVALUATOR_TOKEN
// A tablet facing the citizen. Shows the clerk on duty and the ticket being
// served; after 办结 the five national levels (a reason is required for
// 不满意 and 非常不满意); idle, the window's satisfaction today. One rating
// per ticket, whether from here or the phone (the server refuses a second).

import { $, el, params, hallId, hallBase, lastPathSegment, api } from '/static/lib/api.js';
import { Live } from '/static/lib/live.js';
import { LEVELS, REASONS, MAX_REASON_CHARS, charCount } from '/static/lib/rating.js';

const n = Number(params.get('window') || lastPathSegment());
const token = params.get('token') || '';
const base = hallBase();
// The hall's event stream says when this window changes (a call, 办结, a
// rating from the phone); the poll is only a safety net.
const POLL_MS = 20000;
const THANKS_MS = 6000;

let state = null;
let tz = 'Asia/Shanghai';
let chosen = null; // the bad score waiting for a reason
const picked = new Set(); // reason codes
let thanksUntil = 0;
let ratedId = null;
const hooks = (globalThis.__hallcall = Object.assign(globalThis.__hallcall || {}, { ratings: [] }));

function mode(name) {
  for (const m of ['serving', 'rate', 'thanks', 'idle']) $(`#mode-${m}`).hidden = m !== name;
  document.documentElement.dataset.mode = name;
}

function showError(text) {
  const e = $('#error');
  e.hidden = !text;
  e.textContent = text || '';
}

function render() {
  const v = state;
  if (!v) return;
  tz = v.timezone || tz;
  $('#hall-name').textContent = v.hall_name;
  $('#window-name').textContent = v.window_name;
  document.title = `${v.window_name} · 服务评价器`;
  $('#phone-line').hidden = !v.supervision_phone;
  $('#phone').textContent = v.supervision_phone || '';
  const c = v.clerk;
  $('#clerk').classList.toggle('none', !c);
  $('#clerk-name').textContent = c ? c.name : '暂无工作人员';
  $('#clerk-no').textContent = c && c.staff_no ? `工号 ${c.staff_no}` : '';
  $('#clerk-duty').textContent = c ? '为您服务' : v.window_state === 'paused' ? '暂停服务' : '';
  $('#photo-initial').textContent = c ? c.name.slice(0, 1) : '';
  const img = $('#photo-img');
  if (c && c.photo_url) {
    if (img.getAttribute('src') !== c.photo_url) img.src = c.photo_url;
    img.hidden = false;
  } else {
    img.hidden = true;
    img.removeAttribute('src');
  }
  if (Date.now() < thanksUntil) return mode('thanks');
  if (v.to_rate && v.to_rate.id !== ratedId) {
    if ($('#mode-rate').hidden) resetReason();
    $('#rate-number').textContent = v.to_rate.number;
    return mode('rate');
  }
  if (v.ticket) {
    $('#serving-label').textContent = v.ticket.state === 'serving' ? '正在为您办理' : '请您到本窗口办理';
    $('#serving-number').textContent = v.ticket.number;
    $('#serving-cat').textContent = v.ticket.category_name;
    return mode('serving');
  }
  const t = v.today;
  $('#share').textContent = t.ratings ? `${Math.round(t.satisfied_share * 1000) / 10}%` : '--';
  $('#count').textContent = t.ratings ? `今日共 ${t.ratings} 条评价 · 平均 ${t.mean.toFixed(2)} 分` : '今日暂无评价';
  const max = Math.max(1, ...t.by_score);
  $('#bars').replaceChildren(
    ...LEVELS.map(([s, name]) =>
      el(
        'div',
        { class: `bar s${s}` },
        el('span', { class: 'bar-name' }, name),
        el('span', { class: 'bar-track' }, el('span', { class: 'bar-fill', style: `width:${(t.by_score[s - 1] / max) * 100}%` })),
        el('span', { class: 'bar-n num' }, String(t.by_score[s - 1])),
      ),
    ),
  );
  mode('idle');
}

function resetReason() {
  chosen = null;
  picked.clear();
  $('#reason').hidden = true;
  $('#levels').hidden = false;
  $('#reason-text').value = '';
  for (const b of $('#chips').children) {
    b.classList.remove('on');
    b.setAttribute('aria-pressed', 'false');
  }
  updateSubmit();
}

function updateSubmit() {
  const text = $('#reason-text').value.trim();
  $('#reason-submit').disabled = !(picked.size || text) || charCount(text) > MAX_REASON_CHARS;
}

/** Sends the rating; a bad one with its reason codes and text (the core checks them). */
async function submit(score, reasons = [], text = '') {
  const t = state && state.to_rate;
  if (!t) return;
  try {
    await api(`${base}/windows/${n}/evaluator/rating`, { method: 'POST', token, body: { ticket: t.id, score, reasons, reason: text || undefined } });
    hooks.ratings.push({ ticket: t.id, number: t.number, score, reasons, reason: text });
    ratedId = t.id;
    thanksUntil = Date.now() + THANKS_MS;
    resetReason();
    mode('thanks');
    showError('');
    setTimeout(refresh, THANKS_MS + 50);
  } catch (e) {
    if (e.code === 'already_rated') {
      ratedId = t.id;
      thanksUntil = Date.now() + THANKS_MS;
      resetReason();
      mode('thanks');
      return;
    }
    const words = { reason_required: '请选择或填写不满意的原因', reason_too_long: `原因请不超过${MAX_REASON_CHARS}字`, unknown_reason: '原因选项无效，请重新选择', not_done: '业务办结后才能评价' };
    showError(`评价未能提交：${words[e.code] || e.message}`);
  }
}

for (const b of $('#levels').querySelectorAll('button')) {
  b.addEventListener('click', () => {
    const score = Number(b.dataset.score);
    if (score <= 2) {
      chosen = score;
      $('#levels').hidden = true;
      $('#reason').hidden = false;
      $('#reason .ev-reason-title').textContent = `您选择了「${b.textContent}」，请选择原因（必填）`;
    } else {
      submit(score);
    }
  });
}
$('#chips').replaceChildren(
  ...REASONS.map(([code, name]) =>
    el('button', {
      type: 'button',
      class: 'chip',
      'data-reason': code,
      'aria-pressed': 'false',
      onclick: (e) => {
        const on = !picked.has(code);
        if (on) picked.add(code);
        else picked.delete(code);
        e.currentTarget.classList.toggle('on', on);
        e.currentTarget.setAttribute('aria-pressed', String(on));
        updateSubmit();
      },
    }, name),
  ),
);
$('#reason-text').addEventListener('input', updateSubmit);
$('#reason-cancel').addEventListener('click', resetReason);
$('#reason-submit').addEventListener('click', () => {
  const text = $('#reason-text').value.trim();
  if (chosen && (picked.size || text) && charCount(text) <= MAX_REASON_CHARS) submit(chosen, [...picked], text);
});

async function refresh() {
  try {
    state = await api(`${base}/windows/${n}/evaluator`, { token });
    showError('');
    render();
  } catch (e) {
    showError(e.status === 401 || e.status === 403 ? '本评价器未配置正确的令牌（URL 缺少 token 参数）' : `连接中断，正在重试…`);
  }
}

function tick() {
  $('#clock').textContent = new Intl.DateTimeFormat('zh-CN', {
    timeZone: tz,
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(new Date(Date.now() + (live ? live.clockOffsetMs : 0))); // the server's clock
}

let live = null;
tick();
setInterval(tick, 1000);
refresh();
setInterval(refresh, POLL_MS);
let pending = null;
const soon = () => {
  clearTimeout(pending);
  pending = setTimeout(refresh, 150);
};
live = new Live({
  hall: hallId(),
  onEvent: (ev) => {
    if (ev.window === n || ev.type === 'rating_recorded' || ev.type === 'snapshot') soon();
  },
  onResync: soon,
});
live.start();
