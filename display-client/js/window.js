// Window display (窗口屏): /display/window/{n}?hall=ID[&lang=en]

import { $, el, params, hallId, hallBase, lastPathSegment, api } from '/static/lib/api.js';
import { label, langOf, windowList } from '/static/lib/labels.js';
import { Live } from '/static/lib/live.js';
import { fitText, refitOn } from '/static/lib/ui.js';

const lang = langOf(params);
const hall = hallId();
const n = Number(params.get('n') || params.get('window') || lastPathSegment());

const T = {
  zh: {
    unit: '号窗口',
    now: ['请', '号'],
    calling: '请',
    serving: '正在办理',
    idle: '欢迎光临',
    paused: '暂停服务',
    closed: '暂停服务',
    goTo: (go) => `请到${go}办理`,
    reason: (r) => `（${r}）`,
  },
  en: {
    unit: '',
    calling: 'Now',
    serving: 'Serving',
    idle: 'Welcome',
    paused: 'Paused',
    closed: 'Closed',
    goTo: (go) => `Please go to ${go}`,
    reason: (r) => ` (${r})`,
  },
}[lang];

document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
$('#wno').textContent = lang === 'en' ? `#${n}` : String(n);
$('#wno-unit').textContent = T.unit;
document.title = `${n}号窗口 · 窗口屏`;

const hooks = (globalThis.__hallcall = Object.assign(globalThis.__hallcall || {}, { flashed: [] }));
let flashTimer = null;

function onCall(ev) {
  if (ev.window !== n) return;
  const main = $('#wmain');
  show({ number: ev.number, state: 'called' });
  main.classList.remove('flash');
  void main.offsetWidth;
  main.classList.add('flash');
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => main.classList.remove('flash'), 6000);
  hooks.flashed.push({ seq: ev.seq, number: ev.number, window: ev.window });
  document.documentElement.dataset.flashes = String(hooks.flashed.length);
}

function show(cur) {
  const main = $('#wmain');
  main.classList.remove('idle', 'paused');
  $('#wlabel').textContent = cur.state === 'serving' ? T.serving : T.calling;
  $('#wbig').textContent = cur.number;
}

function render(v) {
  const w = v.windows.find((x) => x.number === n);
  const main = $('#wmain');
  if (!w) {
    $('#wkind').textContent = '';
    $('#wstaff').textContent = '';
    main.className = 'wd-main paused';
    $('#wbig').textContent = lang === 'en' ? 'No such window' : '无此窗口';
    $('#wlabel').textContent = '';
    return;
  }
  // The window's configured name ("综合受理 3号窗口": the number is in the red box).
  const named = info && info.window_name && info.window_name !== `${n}号窗口`;
  $('#wkind').textContent = named && lang !== 'en' ? info.window_name.replace(new RegExp(`\\s*${n}\\s*号窗口$`), '') || info.window_name : label(lang, 'kind', w.kind);
  const s = w.staff;
  const card = s && info ? info.staff.find((c) => c.id === s.id) : null;
  $('#wstaff').replaceChildren(
    ...(s
      ? [
          el('span', { class: `post ${s.post}` }, label(lang, 'post', s.post)),
          s.name || s.id,
          ...(card && card.staff_no ? [el('span', { class: 'staff-no num' }, `${lang === 'en' ? 'No.' : '工号'}${card.staff_no}`)] : []),
        ]
      : []),
  );
  const photo = $('#wphoto');
  if (card && card.photo_url) {
    if (photo.getAttribute('src') !== card.photo_url) photo.src = card.photo_url;
    photo.hidden = false;
  } else {
    photo.hidden = true;
    photo.removeAttribute('src');
  }
  fitTop();
  const flashing = main.classList.contains('flash');
  if (w.current) {
    show(w.current);
    if (flashing) main.classList.add('flash');
  } else if (w.state === 'paused' || w.state === 'closed') {
    main.className = 'wd-main paused';
    const reason = w.pause_reason ? T.reason(label(lang, 'pause', w.pause_reason)) : '';
    $('#wbig').textContent = w.state === 'paused' ? T.paused : T.closed;
    const go = windowList(lang, w.go_to);
    $('#wlabel').textContent = go ? T.goTo(go) : reason.replace(/[（）()]/g, '').trim();
  } else {
    main.className = 'wd-main idle';
    $('#wlabel').textContent = '';
    $('#wbig').textContent = T.idle;
  }
}

/** The clerk's name first, then the window's name in what is left: shrunk to fit, never cut. */
function fitTop() {
  fitText([$('#wstaff'), $('#wkind'), $('#wname-full'), $('#wphone')]);
}
refitOn([document.querySelector('.wd-top')], fitTop);

// Window name, 工号, photos and 监督电话 (configuration: fetched at start and
// every few minutes, so a reload shows up without a page reload).
let info = null;
let lastView = null;
async function loadInfo() {
  try {
    info = await api(`${hallBase()}/windows/${n}/info`);
  } catch {
    return;
  }
  $('#wname-full').textContent = info.window_name;
  $('#wphone').textContent = info.supervision_phone ? `${lang === 'en' ? 'Complaints' : '监督电话'} ${info.supervision_phone}` : '';
  if (lastView) render(lastView);
  else fitTop();
}
loadInfo();
setInterval(loadInfo, 5 * 60 * 1000);

new Live({
  hall,
  onState: (v) => {
    lastView = v;
    render(v);
  },
  onCall,
}).start();
