// Hall wall display (综合屏): /display/hall?hall=ID[&lang=en][&audio=1]

import { $, el, params, hallId, hallBase, fmtWait, fmtTime, startClock } from '/static/lib/api.js';
import { label, langOf, windowName, windowList, categoryName } from '/static/lib/labels.js';
import { Live } from '/static/lib/live.js';
import { fitText, refitOn } from '/static/lib/ui.js';
import { mountNoticeTicker } from '/static/js/notices-ticker.js';

const lang = langOf(params);
const hall = hallId();
const audioOn = params.get('audio') === '1';

const T = {
  zh: {
    subtitle: '排队叫号信息',
    notice: '通知',
    nowCalling: '正在呼叫',
    recent: '最近叫号',
    number: '号码',
    window: '窗口',
    time: '时间',
    waitingHead: '等候情况',
    category: '业务类别',
    waiting: '等候',
    estimate: '预计等候',
    totalWaiting: (n) => `共 ${n} 人等候`,
    goTo: '请到',
    recallSay: '重复呼叫，请尽快前往',
    recall: '重呼',
    noCall: '暂无叫号',
    noOthers: '请留意叫号，过号请到取号机重新排队',
    noWindow: '暂无窗口',
    idle: '等待叫号',
    welcome: '欢迎光临！请取号后在等候区休息，留意屏幕和广播叫号。',
    tidalOpen: (w) => `${w}号潮汐窗口已开放，欢迎前往办理`,
    tidalClosed: (w) => `${w}号潮汐窗口已关闭`,
    paused: (w, go) => (go ? `${w}号窗口暂停服务，请到${go}办理` : `${w}号窗口暂停服务`),
    goto: (go) => `请到${go}`,
    more: '等',
    pausedShort: '暂停',
  },
  en: {
    subtitle: 'Queue and calling information',
    notice: 'Notice',
    nowCalling: 'Now calling',
    recent: 'Recent calls',
    number: 'Number',
    window: 'Window',
    time: 'Time',
    waitingHead: 'Waiting',
    category: 'Service',
    waiting: 'Waiting',
    estimate: 'Est. wait',
    totalWaiting: (n) => `${n} waiting`,
    goTo: 'go to',
    recallSay: 'Called again — please go now',
    recall: 'again',
    noCall: 'No calls yet',
    noOthers: 'Please watch for your number. Missed it? Re-queue at the ticket machine.',
    noWindow: 'No windows',
    idle: 'Ready',
    welcome: 'Welcome! Please take a ticket and wait in the waiting area.',
    tidalOpen: (w) => `Tidal window ${w} is now open`,
    tidalClosed: (w) => `Tidal window ${w} has closed`,
    paused: (w, go) => (go ? `Window ${w} is paused, please go to ${go}` : `Window ${w} is paused`),
    goto: (go) => `Go to ${go}`,
    more: ' etc.',
    pausedShort: 'Paused',
  },
}[lang];

document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
document.body.classList.add(`lang-${lang}`);
for (const e of document.querySelectorAll('[data-i18n]')) {
  const v = T[e.dataset.i18n];
  if (typeof v === 'string') e.textContent = v;
}

const FLASH_MS = 6000; // how long the newest call flashes
const DWELL_MS = 2500; // minimum time a call stays in the hero when others queue
const FLASH_MAX_AGE_MS = 120000; // replayed calls older than this are listed, not flashed
const SAY_MAX_AGE_MS = 60000; // ... and not announced

const live = new Live({ hall, onState: render, onCall, onEvent });
// The supervisor's notices and where sent-on tickets go, beside the notice bar's own (js/notices-ticker.js).
const ticker = mountNoticeTicker({ anchor: $('#notice'), lang, now: () => live.serverNow() });
const testHooks = (globalThis.__hallcall = Object.assign(globalThis.__hallcall || {}, { flashed: [] }));

// ---- calls: the hero and its flash queue -----------------------------------

const heroQueue = [];
let heroBusyUntil = 0;
let heroTimer = null;
let heroCall = null; // the call in the hero {seq, number, window, recall}

function onCall(ev) {
  const age = live.serverNow() - Date.parse(ev.at || '');
  const fresh = !(age > FLASH_MAX_AGE_MS);
  if (fresh) {
    heroQueue.push(ev);
    pumpHero();
  } else if (!heroCall || ev.seq > heroCall.seq) {
    showHero(ev, false);
  }
  if (audioOn && !(age > SAY_MAX_AGE_MS)) announce(ev.seq);
}

function pumpHero() {
  clearTimeout(heroTimer);
  const now = Date.now();
  if (now < heroBusyUntil) {
    heroTimer = setTimeout(pumpHero, heroBusyUntil - now);
    return;
  }
  let ev = heroQueue.shift();
  // A queued call the view already shows finished, transferred or paused away is skipped.
  while (ev && live.state && live.state.seq >= ev.seq && !stillCurrent(live.state, ev)) ev = heroQueue.shift();
  if (!ev) return;
  showHero(ev, true);
  heroBusyUntil = Date.now() + DWELL_MS;
  if (heroQueue.length) heroTimer = setTimeout(pumpHero, DWELL_MS);
}

/**
 * The hero shows the latest call that is still current: its ticket is still
 * the called or served one at its window, and the window is neither paused
 * nor closed. A ticket completed, transferred away, marked no-show, or at a
 * window that paused no longer stands there (issue 13 item 10).
 */
function stillCurrent(v, call) {
  const w = v.windows.find((x) => x.number === call.window);
  return !!(w && w.current && w.current.number === call.number && ['called', 'serving'].includes(w.current.state) && w.state !== 'paused' && w.state !== 'closed');
}

/** The newest call of `v` still current, or null: from recent_calls, then any window's current ticket (recent_calls keeps only 10). */
function latestCurrent(v) {
  const recent = (v.recent_calls || []).find((c) => stillCurrent(v, c));
  if (recent) return recent;
  const w = v.windows
    .filter((x) => x.current && x.state !== 'paused' && x.state !== 'closed' && ['called', 'serving'].includes(x.current.state))
    .sort((a, b) => Date.parse(b.current.since) - Date.parse(a.current.since))[0];
  return w ? { seq: 0, number: w.current.number, window: w.number, recall: false } : null;
}

function clearHero() {
  heroCall = null;
  const hero = $('#hero');
  hero.classList.add('empty');
  hero.classList.remove('flash');
  hero.dataset.seq = '';
  $('#hero-number').textContent = '—';
  $('#hero-goto').textContent = '';
  $('#hero-window').textContent = T.noCall;
  $('#hero-say').hidden = true;
}

function showHero(call, flash) {
  heroCall = { seq: call.seq, number: call.number, window: call.window, recall: !!call.recall };
  const hero = $('#hero');
  hero.dataset.seq = call.seq;
  hero.classList.remove('empty');
  $('#hero-number').textContent = call.number;
  $('#hero-goto').textContent = T.goTo;
  $('#hero-window').textContent = windowName(lang, call.window);
  $('#hero-say').hidden = !call.recall;
  $('#hero-say').textContent = call.recall ? T.recallSay : '';
  if (flash) {
    hero.classList.remove('flash');
    void hero.offsetWidth; // restart the animation
    hero.classList.add('flash');
    clearTimeout(showHero.t);
    showHero.t = setTimeout(() => hero.classList.remove('flash'), FLASH_MS);
    testHooks.flashed.push({ seq: call.seq, number: call.number, window: call.window, recall: !!call.recall });
    document.documentElement.dataset.flashes = String(testHooks.flashed.length);
  }
  if (live.state) renderOthers(live.state);
}

// ---- notices -------------------------------------------------------------

const eventNotices = []; // {text, until, kind}
let noticeIdx = 0;
let lastNoticeText = '';

function onEvent(ev) {
  const now = Date.now();
  if (ev.type === 'window_opened' && ev.tidal) {
    eventNotices.push({ text: T.tidalOpen(ev.window), until: now + 10 * 60000, kind: 'tidal', key: `t${ev.window}` });
    if (audioOn) announce(ev.seq);
    showNotice(true);
  } else if (ev.type === 'window_closed' && ev.tidal) {
    dropNotice(`t${ev.window}`);
    eventNotices.push({ text: T.tidalClosed(ev.window), until: now + 5 * 60000, kind: 'tidal', key: `c${ev.window}` });
    showNotice(true);
  } else if (ev.type === 'window_paused') {
    if (audioOn) announce(ev.seq);
  }
}

function dropNotice(key) {
  for (let i = eventNotices.length - 1; i >= 0; i--) if (eventNotices[i].key === key) eventNotices.splice(i, 1);
}

function currentNotices() {
  const now = Date.now();
  for (let i = eventNotices.length - 1; i >= 0; i--) if (eventNotices[i].until < now) eventNotices.splice(i, 1);
  const list = [...eventNotices].reverse();
  const v = live.state;
  if (v) {
    for (const w of v.windows) {
      if (w.kind === 'tidal' && ['open', 'calling', 'serving'].includes(w.state) && !list.some((n) => n.key === `t${w.number}`)) {
        list.push({ text: T.tidalOpen(w.number), kind: 'tidal', key: `t${w.number}` });
      }
      if (w.state === 'paused') {
        list.push({ text: T.paused(w.number, windowList(lang, w.go_to)), kind: 'paused', key: `p${w.number}` });
      }
    }
  }
  // Tidal notices first; drop those of windows no longer open.
  list.sort((a, b) => (b.kind === 'tidal') - (a.kind === 'tidal'));
  return list.filter((n) => {
    if (!v || !n.key || n.key[0] !== 't') return true;
    const w = v.windows.find((x) => `t${x.number}` === n.key);
    return !w || w.state !== 'closed';
  });
}

function showNotice(newest = false) {
  const list = currentNotices();
  const box = $('#notice');
  const text = $('#notice-text');
  let n;
  if (!list.length) n = { text: T.welcome, kind: 'welcome' };
  else {
    if (newest) noticeIdx = 0;
    n = list[noticeIdx % list.length];
  }
  box.classList.toggle('tidal', n.kind === 'tidal');
  if (n.text !== lastNoticeText) {
    text.textContent = n.text;
    text.classList.remove('fresh');
    void text.offsetWidth;
    text.classList.add('fresh');
    lastNoticeText = n.text;
  }
}
setInterval(() => {
  noticeIdx++;
  showNotice();
}, 8000);

// ---- rendering the HallView ------------------------------------------------

function render(v) {
  $('#hall-name').textContent = lang === 'en' ? v.name_en || v.name : v.name;
  document.title = `${v.name} · 叫号综合屏`;
  // A view that has seen the hero's call (seq) and no longer shows it current
  // replaces it with the newest call that is; a view older than the call
  // (the call event came first) leaves it.
  if (!heroCall || (v.seq >= heroCall.seq && !stillCurrent(v, heroCall))) {
    const next = latestCurrent(v);
    if (next) showHero(next, false);
    else clearHero();
  }
  renderOthers(v);
  renderRecent(v);
  renderCats(v);
  renderWindows(v);
  showNotice();
  ticker.update(v);
  fitAll();
}

// ---- fitting: nothing cut, nothing dropped, at any size (issue 13 item 11) --

const px = (rem) => rem * parseFloat(getComputedStyle(document.documentElement).fontSize);

/** Row height (px) so `n` rows fill what the panel has below its heading and table head, at most `maxRem`. */
function rowHeight(tbody, n, maxRem) {
  const panel = tbody.closest('.panel');
  const head = panel.querySelector('.panel-h');
  const thead = tbody.parentElement.tHead;
  const avail = panel.clientHeight - head.offsetHeight - (thead ? thead.offsetHeight : 0) - 4;
  return Math.max(1, Math.min(px(maxRem), Math.floor(avail / Math.max(1, n))));
}

/** Sizes the table rows to the panels and shrinks whatever text is too long for its box. */
function fitAll() {
  const cats = $('#cats');
  const catRow = rowHeight(cats, cats.rows.length, 3.9);
  document.documentElement.style.setProperty('--cat-row', `${catRow}px`);
  for (const tr of cats.rows) tr.style.height = `${catRow}px`;
  const recent = $('#recent');
  const recentRow = rowHeight(recent, 10, 3.28);
  document.documentElement.style.setProperty('--recent-row', `${recentRow}px`);
  trimOthers();
  fitText([
    $('#hall-name'),
    $('#notice-text'),
    $('#hero-number'),
    $('#hero-window'),
    ...document.querySelectorAll('#cats .nm, #cats td.e, #cats td.w, #total-waiting, #others .other .w, #recent td, #windows .win .no, #windows .win .kind, #windows .win .st, #windows .win .cur'),
  ]);
}
// On a new size or late fonts, the other calls are drawn again (a row trimmed before may fit now) and all refitted.
refitOn([document.querySelector('.main'), $('#windows'), $('#hero')], () => {
  if (!live.state) return;
  renderOthers(live.state);
  fitAll();
});

/** Other calls: as many as the panel shows whole (each is also on its window's tile). */
function trimOthers() {
  const others = $('#others');
  const bottom = others.getBoundingClientRect().bottom;
  for (const o of [...others.querySelectorAll('.other')].reverse()) if (o.getBoundingClientRect().bottom > bottom + 1 && others.children.length > 1) o.remove();
  fitText(others.querySelectorAll('.other .w'));
}

function renderOthers(v) {
  const box = $('#others');
  const calling = v.windows
    .filter((w) => w.current && w.current.state === 'called' && !(heroCall && w.number === heroCall.window && w.current.number === heroCall.number))
    .sort((a, b) => Date.parse(b.current.since) - Date.parse(a.current.since))
    .slice(0, 4);
  box.replaceChildren(
    ...(calling.length
      ? calling.map((w) => el('div', { class: 'other' }, el('span', { class: 'n num' }, w.current.number), el('span', { class: 'w' }, windowName(lang, w.number))))
      : [el('div', { class: 'others-empty' }, T.noOthers)]),
  );
  trimOthers();
}

function renderRecent(v) {
  const calls = (v.recent_calls || []).slice(0, 10);
  // A call just received may not be in this view yet: put it on top.
  if (heroCall && !calls.some((c) => c.seq === heroCall.seq) && (!calls.length || heroCall.seq > calls[0].seq)) {
    calls.unshift({ ...heroCall, at: new Date(live.serverNow()).toISOString() }); // the server's clock, shown in hall time
    calls.length = Math.min(calls.length, 10);
  }
  $('#recent').replaceChildren(
    ...calls.map((c) =>
      el(
        'tr',
        { class: c.recall ? 'recall' : '', 'data-seq': c.seq },
        el('td', { class: 'n num', 'data-recall': T.recall }, c.number),
        el('td', { class: 'w' }, lang === 'en' ? String(c.window) : `${c.window}号`),
        el('td', { class: 't num' }, fmtTime(c.at)),
      ),
    ),
  );
}

function renderCats(v) {
  $('#total-waiting').textContent = T.totalWaiting(v.load ? v.load.waiting : v.categories.reduce((s, c) => s + c.waiting, 0));
  $('#cats').replaceChildren(
    ...v.categories.map((c) =>
      el(
        'tr',
        { class: c.level },
        el('td', { class: 'name' }, el('div', { class: 'cell' }, el('span', { class: `lvl ${c.level}` }), el('span', { class: 'px' }, c.prefix), el('span', { class: 'nm' }, lang === 'en' ? c.name_en || c.name : c.name))),
        el('td', { class: 'w num' }, String(c.waiting)),
        c.estimated_wait_s === null || c.estimated_wait_s === undefined
          ? el('td', { class: 'e none' }, lang === 'en' ? 'no window' : '暂无窗口')
          : el('td', { class: 'e num' }, c.waiting ? fmtWait(c.estimated_wait_s, lang) : lang === 'en' ? 'no wait' : '无需等候'),
      ),
    ),
  );
}

function renderWindows(v) {
  const box = $('#windows');
  // More than 12 windows take two rows of compact tiles (20 windows: 10 a row).
  const two = v.windows.length > 12;
  document.body.classList.toggle('many-windows', two);
  box.style.setProperty('--n', String(Math.max(1, two ? Math.ceil(v.windows.length / 2) : v.windows.length)));
  box.replaceChildren(
    ...v.windows.map((w) => {
      let cur;
      if (w.current) cur = el('div', { class: 'cur num' }, w.current.number);
      else if (w.state === 'paused' || w.state === 'closed') {
        // A compact tile names two windows to go to ("请到1、2号窗口等"); the notice line has them all.
        const few = two && w.go_to && w.go_to.length > 2;
        const go = windowList(lang, few ? w.go_to.slice(0, 2) : w.go_to);
        cur = el('div', { class: 'cur sub' }, w.state === 'paused' && go ? T.goto(go) + (few ? T.more : '') : '');
      } else cur = el('div', { class: 'cur sub' }, '');
      const st = two && w.state === 'paused' ? T.pausedShort : label(lang, 'state', w.state);
      return el(
        'div',
        { class: `win ${w.state}`, 'data-window': w.number },
        el('div', { class: 'top' }, el('span', { class: 'no num' }, lang === 'en' ? `#${w.number}` : `${w.number}号`), el('span', { class: 'kind' }, label(lang, 'kindShort', w.kind))),
        el('div', { class: 'st' }, st),
        cur,
      );
    }),
  );
}

// ---- announcements: one at a time, in order --------------------------------

const audioQueue = [];
let playing = false;
let blocked = false;

function announce(seq) {
  if (audioQueue.includes(seq)) return;
  audioQueue.push(seq);
  playNext();
}

function playNext() {
  if (playing || blocked || !audioQueue.length) return;
  const seq = audioQueue[0];
  const a = new Audio(`${hallBase(hall)}/announcements/${seq}.wav`);
  playing = true;
  testHooks.announcing = seq;
  const done = (ok) => {
    if (!playing) return;
    playing = false;
    testHooks.announcing = null;
    audioQueue.shift();
    (testHooks.announced ||= []).push({ seq, ok });
    clearTimeout(guard);
    playNext();
  };
  // A clip that never ends (a broken sound device) must not stall the queue.
  const guard = setTimeout(() => done(false), 30000);
  a.addEventListener('ended', () => done(true));
  a.addEventListener('error', () => done(false)); // 404 or undecodable: skip
  a.play().catch((e) => {
    if (e && e.name === 'NotAllowedError') {
      // Autoplay is blocked until someone touches the screen once.
      clearTimeout(guard);
      playing = false;
      blocked = true;
      $('#audio-unlock').hidden = false;
    } else done(false);
  });
}

$('#audio-unlock-btn').addEventListener('click', () => {
  blocked = false;
  $('#audio-unlock').hidden = true;
  playNext();
});

startClock(lang, () => live.clockOffsetMs);
showNotice();
live.start();
