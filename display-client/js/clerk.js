// Clerk console (窗口工作台): /clerk?hall=ID

import { $, el, api, params, hallId, hallBase, fmtDuration, fmtTime, debounce, startClock } from '/static/lib/api.js';
import { label, categoryName, reasonText, warningText, failoverEventText } from '/static/lib/labels.js';
import { Live } from '/static/lib/live.js';
import { toast, errorText } from '/static/lib/ui.js';

const hall = hallId();
const base = hallBase(hall);
const SKEY = `hallcall.clerk.${hall}`;

let session = loadSession(); // {token, staff, window, name}
let view = null;
let live = null;
let pending = false;
let lastNoShow = null; // {id, number} of the ticket we marked no-show
let lastCalled = null; // {id, number} from call-next

const hooks = (globalThis.__hallcall = Object.assign(globalThis.__hallcall || {}, { alerts: [] }));

function loadSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SKEY) || 'null');
  } catch {
    return null;
  }
}
function saveSession(s) {
  session = s;
  if (s) sessionStorage.setItem(SKEY, JSON.stringify(s));
  else sessionStorage.removeItem(SKEY);
}

// ---- login -------------------------------------------------------------------

function showLogin(msg, kind = 'error') {
  $('#console-view').hidden = true;
  $('#login-view').hidden = false;
  const m = $('#login-msg');
  m.hidden = !msg;
  m.className = `ck-login-msg ${kind}`;
  m.textContent = msg || '';
  const last = JSON.parse(localStorage.getItem(`${SKEY}.last`) || '{}');
  if (last.staff && !$('#f-staff').value) $('#f-staff').value = last.staff;
  if (last.window && !$('#f-window').dataset.touched) $('#f-window').dataset.want = last.window;
  fillWindows();
  setTimeout(() => ($('#f-staff').value ? $('#f-pin') : $('#f-staff')).focus(), 0);
}

function fillWindows() {
  const sel = $('#f-window');
  const want = sel.value || sel.dataset.want;
  const wins = view ? view.windows : [];
  if (!wins.length) return;
  sel.replaceChildren(
    ...wins.map((w) => el('option', { value: w.number }, `${w.number}号窗口（${label('zh', 'kind', w.kind)}）${w.staff ? ' · 当班 ' + w.staff.name : ''}`)),
  );
  if (want) sel.value = String(want);
}
$('#f-window').addEventListener('change', (e) => (e.target.dataset.touched = '1'));

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const staff = $('#f-staff').value.trim();
  const pin = $('#f-pin').value;
  const window = Number($('#f-window').value || $('#f-window').dataset.want);
  if (!staff || !pin || !window) return;
  $('#login-btn').disabled = true;
  try {
    const r = await api(`${base}/sessions`, { method: 'POST', body: { staff, pin, window } });
    saveSession({ token: r.token, staff: r.staff || staff, window: r.window || window, name: r.name || staff });
    localStorage.setItem(`${SKEY}.last`, JSON.stringify({ staff, window }));
    $('#f-pin').value = '';
    showConsole();
  } catch (err) {
    const m = $('#login-msg');
    m.hidden = false;
    m.className = 'ck-login-msg error';
    m.textContent = `登录失败：${loginError(err)}`;
  } finally {
    $('#login-btn').disabled = false;
  }
});

function loginError(e) {
  if (e.status === 401) return '工号或密码错误';
  return errorText(e);
}

// ---- console -----------------------------------------------------------------

function showConsole() {
  $('#login-view').hidden = true;
  $('#console-view').hidden = false;
  $('#c-window').textContent = session.window;
  $('#c-name').textContent = `${session.name}（${session.staff}）`;
  document.title = `${session.window}号窗口 · 窗口工作台`;
  log(`登录 ${session.window}号窗口`);
  if (view) render(view);
  refreshQueue();
  refreshStats();
}

function myWindow(v = view) {
  return v && session ? v.windows.find((w) => w.number === session.window) : null;
}

/** Which buttons make sense in which window state. */
function allowed(w, onDuty) {
  const s = w ? w.state : 'closed';
  const a = new Set(['logout']);
  if (!onDuty) return a;
  if (s === 'open') a.add('call-next').add('call').add('pause');
  if (s === 'calling') a.add('recall').add('no-show').add('start').add('transfer').add('pause');
  if (s === 'serving') a.add('complete').add('complete-send').add('hold').add('transfer').add('pause');
  if (s === 'paused' || s === 'closed') a.add('resume');
  if (w && w.standby) a.add('handover');
  return a;
}

function render(v) {
  view = v;
  $('#login-hall').textContent = v.name;
  if (!$('#login-view').hidden) fillWindows();
  if (!session) return;
  const w = myWindow(v);
  if (!w) return;
  $('#c-kind').textContent = label('zh', 'kindLong', w.kind);
  const onDuty = !!(w.staff && w.staff.id === session.staff);
  const standby = !!(w.standby && w.standby.id === session.staff);
  const me = onDuty ? w.staff : standby ? w.standby : null;
  $('#c-post').textContent = me ? label('zh', 'post', me.post) : '';
  $('#c-post').hidden = !me;
  $('#c-duty').textContent = onDuty ? '当班' : standby ? `备岗待命${w.staff ? '（当班：' + w.staff.name + '）' : ''}` : '';
  const ws = $('#c-wstate');
  ws.className = `ck-wstate ${w.state}`;
  ws.textContent = w.state === 'paused' && w.pause_reason ? `暂停（${label('zh', 'pause', w.pause_reason)}）` : label('zh', 'state', w.state);

  const cur = w.current;
  const box = $('#current');
  box.className = `ck-current ${cur ? cur.state : ''} ${w.level !== 'green' ? w.level : ''}`;
  $('#cur-number').textContent = cur ? cur.number : '—';
  // The B post on standby does not call: 待命 (A岗在岗), not "空闲，可叫号" over disabled buttons.
  $('#cur-label').textContent = cur ? (cur.state === 'serving' ? '正在办理' : '正在呼叫') : standby && !onDuty ? `待命（${w.staff ? label('zh', 'post', w.staff.post) : 'A岗'}在岗）` : w.state === 'open' ? '空闲，可叫号' : '当前号码';
  $('#cur-cat').textContent = cur ? categoryName(v, cur.category) : '';
  $('#cur-state').textContent = cur ? label('zh', 'ticketState', cur.state) : '';
  curSince = cur ? Date.parse(cur.since) : null;
  tickElapsed();

  const ok = allowed(w, onDuty);
  for (const b of document.querySelectorAll('[data-action]')) b.disabled = pending || !ok.has(b.dataset.action);
  canCall = !pending && ok.has('call');
  $('#callnum-btn').disabled = !canCall;
  for (const b of document.querySelectorAll('[data-call]')) b.disabled = !canCall;
  renderHeld(w);
  $('#q-count').textContent = `（${w.serves.length ? v.categories.filter((c) => w.serves.includes(c.id)).reduce((s, c) => s + c.waiting, 0) : 0} 人）`;
}

let canCall = false;

// 挂起: the tickets held at this window, each with its time left and 叫回.
function renderHeld(w) {
  const held = (w && w.held) || [];
  $('#held-box').hidden = !held.length;
  $('#held-count').textContent = held.length ? `（${held.length}）` : '';
  $('#held').replaceChildren(
    ...held.map((h) =>
      el(
        'li',
        { 'data-held': h.number },
        el('span', { class: 'n num' }, h.number),
        el('span', {}, categoryName(view, h.category)),
        el('span', { class: 'left num', 'data-deadline': h.deadline }, ''),
        el('button', { type: 'button', 'data-call': h.number, disabled: canCall ? undefined : true, onclick: () => callNumber(h.number) }, '叫回'),
      ),
    ),
  );
  tickHeld();
}
function tickHeld() {
  if (!live) return;
  for (const s of document.querySelectorAll('#held [data-deadline]')) {
    const left = (Date.parse(s.dataset.deadline) - live.serverNow()) / 1000;
    s.textContent = left > 0 ? `${fmtDuration(left)} 后过号` : '即将过号';
    s.classList.toggle('late', left < 300);
  }
}
setInterval(tickHeld, 1000);

/** 指定叫号: a waiting number this window may serve, or one held here. */
function callNumber(number) {
  const n = String(number || '').trim().toUpperCase();
  if (!n) return;
  act('call', { number: n });
}
$('#callnum-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (!canCall) return;
  callNumber($('#callnum').value);
});

let curSince = null;
function tickElapsed() {
  if (!live) return;
  $('#cur-elapsed').textContent = curSince ? fmtDuration((live.serverNow() - curSince) / 1000) : '';
}
setInterval(tickElapsed, 1000);

// ---- actions -----------------------------------------------------------------

const ACTION_WORD = {
  'call-next': '叫号',
  recall: '重呼',
  'no-show': '过号',
  start: '开始办理',
  complete: '办结',
  transfer: '转办',
  pause: '暂停',
  resume: '恢复',
  call: '指定叫号',
  hold: '挂起',
  'complete-send': '办结联办',
  handover: '交接',
  logout: '退出',
};

async function act(action, body) {
  if (!session || pending) return;
  const btn = document.querySelector(`.act[data-action="${action}"]`);
  if (btn && btn.disabled && action !== 'logout') return;
  if (action === 'transfer' && !body) return openTransfer();
  if (action === 'pause' && !body) return openModal('pause-modal');
  if (action === 'complete-send' && !body) return openChain();
  if (action === 'logout' && !confirm('确定退出登录吗？')) return;
  // 过号 is refused until the ticket was recalled (min_recalls_before_no_show); ask before marking it.
  if (action === 'no-show' && !confirm(`确定将 ${(myWindow() && myWindow().current && myWindow().current.number) || '当前号码'} 标记为过号吗？`)) return;
  pending = true;
  if (btn) btn.classList.add('busy');
  const w = myWindow();
  const curNumber = w && w.current ? w.current.number : '';
  try {
    const path = action === 'complete-send' ? 'complete' : action;
    const r = await api(`${base}/windows/${session.window}/${path}`, { method: 'POST', body: body || {}, token: session.token });
    if (action === 'call') {
      const held = (w && w.held ? w.held : []).some((h) => r && r.ticket && h.number === r.ticket.number);
      if (r && r.ticket) {
        lastCalled = r.ticket;
        log(held ? `叫回挂起 ${r.ticket.number}` : `指定叫号 ${r.ticket.number}`);
      }
      $('#callnum').value = '';
    } else if (action === 'hold') {
      log(`挂起 ${curNumber}`);
      toast(`${curNumber} 已挂起，可先叫下一位；群众回来后在“挂起中”叫回`, 'info', 5000);
    } else if (action === 'complete-send') {
      const name = categoryName(view, body.next_category);
      log(`办结 ${curNumber}，联办转 ${name}`);
      toast(`${curNumber} 已办结，转 ${name} 继续办理（保留原排队位置）`, 'ok', 5000);
    } else if (action === 'call-next') {
      if (r && r.ticket) {
        lastCalled = r.ticket;
        log(`叫号 ${r.ticket.number}`);
      } else {
        log('暂无等候');
        toast('当前没有可叫的号', 'info');
      }
    } else if (action === 'no-show') {
      lastNoShow = lastCalled && lastCalled.number === curNumber ? lastCalled : null;
      log(`过号 ${curNumber}`);
      showRequeue();
    } else if (action === 'transfer') {
      // A category transfer goes to another open window serving it; the reply says when it can only come back here.
      const tr = r && Array.isArray(r.events) ? r.events.find((e) => e.type === 'ticket_transferred') : null;
      const where = tr && tr.only_here ? '（暂无其他窗口办理该业务，仍回本窗口排队）' : tr && tr.to_window ? `（转至 ${tr.to_window} 号窗口）` : '';
      log(`转办 ${curNumber}${where}`);
      if (tr && tr.only_here) toast(`${curNumber} 已转办，但暂无其他窗口办理该业务，将回到本窗口排队`, 'info', 6000);
      else if (tr && tr.to_window) toast(`${curNumber} 已转至 ${tr.to_window} 号窗口`, 'ok');
    } else if (action === 'logout') {
      log('退出');
      saveSession(null);
      showLogin('已退出登录', 'info');
    } else {
      log(`${ACTION_WORD[action]}${curNumber ? ' ' + curNumber : ''}${body && body.reason ? '（' + label('zh', 'pause', body.reason) + '）' : ''}`);
    }
    if (live) live.refresh(0);
  } catch (e) {
    if (e.status === 401) {
      saveSession(null);
      showLogin('登录已失效，请重新登录');
    } else {
      log(`${ACTION_WORD[action]}失败：${errorText(e)}`, true);
      toast(`${ACTION_WORD[action]}失败：${errorText(e)}`, 'error');
    }
  } finally {
    pending = false;
    if (btn) btn.classList.remove('busy');
    if (view) render(view);
    refreshQueue();
  }
}

for (const b of document.querySelectorAll('[data-action]')) b.addEventListener('click', () => act(b.dataset.action));

function showRequeue() {
  const box = $('#requeue-box');
  box.hidden = !lastNoShow;
  if (lastNoShow) $('#requeue-text').textContent = `${lastNoShow.number} 已过号。如群众到场，可重新排队：`;
}
$('#requeue-btn').addEventListener('click', async () => {
  if (!lastNoShow) return;
  try {
    await api(`${base}/tickets/${encodeURIComponent(lastNoShow.id)}/requeue`, { method: 'POST', body: {}, token: session.token });
    log(`过号重排 ${lastNoShow.number}`);
    toast(`${lastNoShow.number} 已重新排队`, 'ok');
    lastNoShow = null;
    showRequeue();
  } catch (e) {
    toast(`重排失败：${errorText(e)}`, 'error');
  }
});

// transfer
function openTransfer() {
  const v = view;
  const w = myWindow();
  if (!v || !w || !w.current) return;
  $('#tr-number').textContent = w.current.number;
  $('#tr-cats').replaceChildren(
    ...v.categories.map((c) =>
      el('button', { type: 'button', disabled: c.id === w.current.category ? true : undefined, onclick: () => doTransfer({ category: c.id }) }, `${c.prefix} ${c.name}`),
    ),
  );
  $('#tr-wins').replaceChildren(
    ...v.windows
      .filter((x) => x.number !== w.number)
      .map((x) =>
        el(
          'button',
          { type: 'button', disabled: x.state === 'closed' || x.state === 'paused' ? true : undefined, onclick: () => doTransfer({ window: x.number }) },
          `${x.number}号（${label('zh', 'kind', x.kind)}）`,
        ),
      ),
  );
  openModal('transfer-modal');
}
// 多窗联办: complete here, send the same ticket on to the next category.
function openChain() {
  const v = view;
  const w = myWindow();
  if (!v || !w || !w.current) return;
  $('#ch-number').textContent = w.current.number;
  $('#ch-cats').replaceChildren(
    ...v.categories.map((c) =>
      el(
        'button',
        {
          type: 'button',
          'data-next': c.id,
          disabled: c.id === w.current.category ? true : undefined,
          onclick: () => {
            closeModals();
            act('complete-send', { next_category: c.id });
          },
        },
        `${c.prefix} ${c.name}`,
      ),
    ),
  );
  openModal('chain-modal');
}

function doTransfer(body) {
  closeModals();
  act('transfer', body);
}

// pause
for (const b of document.querySelectorAll('#pause-modal [data-reason]')) {
  b.addEventListener('click', () => {
    closeModals();
    act('pause', { reason: b.dataset.reason });
  });
}

function openModal(id) {
  for (const m of document.querySelectorAll('.ck-modal')) m.hidden = m.id !== id;
}
function closeModals() {
  for (const m of document.querySelectorAll('.ck-modal')) m.hidden = true;
}
for (const b of document.querySelectorAll('[data-close]')) b.addEventListener('click', closeModals);

// keyboard shortcuts
const KEYS = { F1: 'call-next', F2: 'recall', F3: 'no-show', F4: 'start', F5: 'complete', F6: 'transfer', F7: 'pause', F8: 'resume', F9: 'handover', F10: 'logout' };
document.addEventListener('keydown', (e) => {
  if (!session || $('#console-view').hidden) return;
  const modalOpen = [...document.querySelectorAll('.ck-modal')].some((m) => !m.hidden);
  if (e.key === 'Escape') {
    closeModals();
    return;
  }
  if (modalOpen) {
    if (!$('#pause-modal').hidden && ['1', '2', '3', '4'].includes(e.key)) {
      e.preventDefault();
      document.querySelectorAll('#pause-modal [data-reason]')[Number(e.key) - 1].click();
    }
    if (e.key.startsWith('F')) e.preventDefault();
    return;
  }
  const tag = (e.target && e.target.tagName) || '';
  const typing = ['INPUT', 'TEXTAREA', 'SELECT'].includes(tag);
  let action = KEYS[e.key];
  if (!action && e.key === ' ' && !typing && tag !== 'BUTTON') action = 'call-next';
  if (!action && e.key === ' ' && tag === 'BUTTON') {
    // Space on a focused button would click it; make Space always mean call-next.
    e.preventDefault();
    action = 'call-next';
  }
  if (!action) return;
  e.preventDefault();
  act(action);
});

// ---- queue and figures -------------------------------------------------------

async function refreshQueue() {
  if (!session) return;
  try {
    const q = await api(`${base}/windows/${session.window}/queue`, { token: session.token });
    renderQueue(Array.isArray(q) ? q : (q && (q.queue || q.tickets)) || []);
  } catch (e) {
    if (e.status === 401) {
      saveSession(null);
      showLogin('登录已失效，请重新登录');
    }
  }
}
const refreshQueueSoon = debounce(refreshQueue, 250);

function renderQueue(q) {
  const tb = $('#queue');
  if (!q.length) {
    tb.replaceChildren(el('tr', {}, el('td', { colspan: 5, style: 'color:#7a8699;text-align:center;padding:18px' }, '暂无等候')));
    return;
  }
  tb.replaceChildren(
    ...q.slice(0, 30).map((t) => {
      const tags = [];
      if (t.directed) tags.push(el('span', { class: 'tag dir' }, '转入'));
      if (t.priority === 'appointment') tags.push(el('span', { class: 'tag appt' }, '预约'));
      else if (t.priority && t.priority !== 'normal') tags.push(el('span', { class: 'tag green' }, `绿色通道·${label('zh', 'priority', t.priority)}`));
      else if (!t.directed) tags.push(el('span', { class: 'tag' }, '普通'));
      return el(
        'tr',
        {},
        el('td', { class: 'n num' }, t.number),
        el('td', {}, categoryName(view, t.category)),
        el('td', {}, ...tags),
        el('td', { class: 'num' }, fmtDuration(t.waited_s)),
        el('td', {}, el('button', { type: 'button', 'data-call': t.number, title: `指定叫号 ${t.number}`, disabled: canCall ? undefined : true, onclick: () => callNumber(t.number) }, '叫')),
      );
    }),
  );
}

async function refreshStats() {
  if (!session) return;
  try {
    const s = await api(`${base}/windows/${session.window}/stats`, { token: session.token });
    renderStats(s || {});
  } catch {
    renderStats(null);
  }
}
const refreshStatsSoon = debounce(refreshStats, 500);
setInterval(() => {
  refreshStats();
  refreshQueue();
}, 30000);

function renderStats(s) {
  // The figures are the person's own today; the window's (every clerk who worked it) beside them.
  const win = (s && s.window) || null;
  const f = (v, n, wv) => el('div', { class: 'fig' }, el('b', { class: 'num' }, v), el('span', {}, n), wv === undefined ? '' : el('small', { class: 'win', title: '本窗口今日合计' }, `窗口 ${wv}`));
  if (!s) {
    $('#stats').replaceChildren(el('div', { class: 'fig', style: 'grid-column:1/-1' }, el('span', {}, '暂无统计')));
    return;
  }
  const mins = (x) => (!x ? '—' : x < 60 ? `${Math.round(x)}秒` : `${(x / 60).toFixed(1)}分`);
  const rating = (x) => (x.mean_rating === null || x.mean_rating === undefined ? '—' : Number(x.mean_rating).toFixed(1));
  const share = (x) => (x.good_share === null || x.good_share === undefined ? '—' : Math.round(x.good_share * 100) + '%');
  const wv = (get) => (win ? get(win) : undefined);
  $('#stats').replaceChildren(
    f(s.served ?? 0, '已办结', wv((x) => x.served ?? 0)),
    f(s.no_show ?? 0, '过号', wv((x) => x.no_show ?? 0)),
    f(s.transferred ?? 0, '转办', wv((x) => x.transferred ?? 0)),
    f(s.ratings ?? 0, '评价数', wv((x) => x.ratings ?? 0)),
    f(mins(s.mean_wait_s), '平均等候', wv((x) => mins(x.mean_wait_s))),
    f(mins(s.mean_handling_s), '平均办理', wv((x) => mins(x.mean_handling_s))),
    f(rating(s), '平均评分', wv(rating)),
    f(share(s), '好评率', wv(share)),
  );
}

// ---- live events: alerts -------------------------------------------------------

function alert(text, kind = 'yellow', actions = []) {
  hooks.alerts.push(text);
  const a = el('div', { class: `ck-alert ${kind}` }, el('span', { class: 'grow' }, text), ...actions, el('button', { type: 'button', onclick: () => a.remove() }, '知道了'));
  $('#alerts').prepend(a);
  while ($('#alerts').children.length > 3) $('#alerts').lastChild.remove();
  beep();
}

function beep() {
  try {
    // A short beep so the clerk notices even when looking away.
    const ctx = new AudioContext();
    const o = ctx.createOscillator();
    o.frequency.value = 880;
    o.connect(ctx.destination);
    o.start();
    o.stop(ctx.currentTime + 0.25);
    setTimeout(() => ctx.close(), 600);
  } catch {}
}

function onEvent(ev) {
  if (!session) return;
  const mine = session.window;
  const me = session.staff;
  if (ev.type === 'window_summoned' && ev.staff === me && ev.window !== mine) {
    // Opening is a summons: the window opens (and counts) once this clerk logs in there.
    hooks.alerts.push(`summons:${ev.window}`);
    beep();
    switchTo(ev.window, `您被召集到 ${ev.window}号窗口开窗（${reasonText('zh', ev.reason) || '主管安排'}），请在 ${fmtTime(ev.deadline)} 前到岗并登录 ${ev.window}号窗口。`);
    return;
  } else if (ev.type === 'window_opened' && ev.tidal && ev.staff === me) {
    hooks.alerts.push(`tidal:${ev.window}`);
    if (ev.window === mine) alert(`系统已开放本窗口（${ev.window}号潮汐窗口），请开始叫号。原因：${reasonText('zh', ev.reason) || '等候人数较多'}`, 'yellow');
    else {
      // The hall moved this clerk to the tidal window: the session here has
      // ended, so go straight to the login for the new window.
      beep();
      switchTo(ev.window, `系统已为您开放 ${ev.window}号潮汐窗口（${reasonText('zh', ev.reason) || '等候人数较多'}），请登录 ${ev.window}号窗口并尽快到岗。`);
      return;
    }
  } else if (ev.type === 'failover' && ev.window === mine) {
    // A planned pause (休息, 开会, …) is not a failure: say where citizens go, quietly; red only when a category is left unserved.
    if (ev.planned && !(ev.unserved || []).length) log(`本窗口暂停：${failoverEventText('zh', ev, view)}`);
    else alert(`本窗口已暂停服务（故障转移）：${failoverEventText('zh', ev, view)}`, 'red');
  } else if (ev.type === 'window_resumed' && ev.window === mine) {
    // Back at work: the pause's alerts are over.
    for (const a of [...document.querySelectorAll('#alerts .ck-alert')]) a.remove();
  } else if (ev.type === 'window_paused' && ev.window === mine && ev.by !== `staff:${me}`) {
    alert(`本窗口已被暂停（${label('zh', 'pause', ev.reason)}），操作人：${ev.by}`, 'red');
  } else if (ev.type === 'window_closed' && ev.window === mine) {
    alert(`本窗口已关闭：${reasonText('zh', ev.reason)}`, 'red');
  } else if (ev.type === 'post_handover' && ev.window === mine) {
    if (ev.to === me) alert(`您已接替本窗口（${label('zh', 'post', ev.to_post)}），原因：${reasonText('zh', ev.reason) || '交接'}`, 'yellow');
    else if (ev.from === me) log(`已交接给 ${ev.to}`);
  } else if (ev.type === 'staff_logged_out' && ev.staff === me && ev.window === mine) {
    saveSession(null);
    showLogin(`您已退出 ${mine}号窗口：${reasonText('zh', ev.reason)}`, 'info');
    return;
  } else if (ev.type === 'warning' && ev.window === mine && ev.kind !== 'failover' && ev.kind !== 'bad_rating') {
    // A 差评 is the supervisor's to follow up (回访), not an alarm at the window.
    alert(`预警：${warningText('zh', ev, view)}`, ev.level === 'red' ? 'red' : 'yellow');
  }
  if (ev.window === mine || ['ticket_issued', 'ticket_called', 'ticket_transferred', 'ticket_requeued', 'ticket_cancelled', 'ticket_chained', 'window_opened', 'window_closed', 'window_paused', 'window_resumed', 'failover', 'day_closed'].includes(ev.type)) refreshQueueSoon();
  if (ev.window === mine || ev.from_window === mine) refreshStatsSoon();
}

function switchTo(n, msg) {
  const s = session;
  if (!s) return;
  api(`${base}/windows/${s.window}/logout`, { method: 'POST', body: {}, token: s.token }).catch(() => {});
  saveSession(null);
  $('#f-window').dataset.touched = '1';
  $('#f-window').dataset.want = String(n);
  $('#f-window').value = String(n);
  $('#f-staff').value = s.staff;
  $('#alerts').replaceChildren();
  showLogin(msg || `请登录 ${n}号窗口`, 'info');
}

// ---- log -----------------------------------------------------------------------

function log(text, error = false) {
  const ol = $('#log');
  ol.prepend(el('li', { class: error ? 'error' : '' }, `${fmtTime(new Date().toISOString(), true)}  ${text}`));
  while (ol.children.length > 12) ol.lastChild.remove();
}

// ---- start -------------------------------------------------------------------

startClock('zh', () => (live ? live.clockOffsetMs : 0)); // the server's clock, as on the hall display
live = new Live({
  hall,
  onState: render,
  onEvent,
  onResync: () => {
    refreshQueue();
    refreshStats();
  },
  onConnection: (up) => up && session && (refreshQueue(), refreshStats()),
});
if (session) showConsole();
else showLogin();
live.start();
