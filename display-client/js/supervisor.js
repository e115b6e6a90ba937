// Supervisor dashboard (运行监控): /supervisor?hall=ID&token=SUPERVISOR_TOKEN

import { $, el, api, params, hallId, hallBase, fmtWait, fmtDuration, fmtTime, startClock, hallDate } from '/static/lib/api.js';
import { label, categoryName, reasonText, warningText, failoverEventText } from '/static/lib/labels.js';
import { Live } from '/static/lib/live.js';
import { toast, errorText } from '/static/lib/ui.js';

const hall = hallId();
const base = hallBase(hall);
const TKEY = `hallcall.supervisor.${hall}`;
const token = params.get('token') || sessionStorage.getItem(TKEY) || '';
if (params.get('token')) sessionStorage.setItem(TKEY, params.get('token'));
$('#token-warn').hidden = !!token;

let view = null;
let stats = null;
let tab = 'by_category';
const knownStaff = new Map(); // id -> name
const FEED_TYPES = new Set(['warning', 'failover', 'tidal_advice', 'advice_resolved', 'window_summoned', 'summons_ended', 'window_opened', 'window_closed', 'window_paused', 'window_resumed', 'post_handover', 'day_closed', 'config_edited', 'config_reloaded']);
const feedSeqs = new Set();

// ---- rendering the view -------------------------------------------------------

function render(v) {
  view = v;
  $('#hall-name').textContent = v.name;
  document.title = `${v.name} · 运行监控`;
  for (const w of v.windows) {
    for (const s of [w.staff, w.standby]) if (s) knownStaff.set(s.id, s.name);
  }
  renderKpis(v);
  renderWindows(v);
  renderCats(v);
  renderAdvice(v);
  renderChart(v);
  if (stats) renderStats();
  // Other cards of the dashboard (supervisor-plan.js) follow the same view.
  document.dispatchEvent(new CustomEvent('hallcall:view', { detail: v }));
}

function renderKpis(v) {
  const t = v.totals || {};
  const l = v.load || {};
  const reds = v.categories.filter((c) => c.level === 'red').length + v.windows.filter((w) => w.level === 'red').length;
  const k = (val, name, cls = '') => el('div', { class: `kpi ${cls}` }, el('b', { class: 'num' }, val), el('span', {}, name));
  $('#kpis').replaceChildren(
    k(t.issued ?? 0, '今日取号'),
    k(t.done ?? 0, '已办结'),
    k(l.waiting ?? t.waiting ?? 0, '正在等候'),
    k(t.no_show ?? 0, '过号'),
    k(`${l.staffed_windows ?? '-'}/${v.windows.length}`, '在岗窗口'),
    k(l.per_window === null || l.per_window === undefined ? '—' : l.per_window.toFixed(1), '窗均等候'),
    k(reds, '红色预警', reds ? 'red' : ''),
  );
}

/** Seconds since the view's figures were computed: views come with batches, not on a timer. */
function viewAge() {
  try {
    return Math.round(live.viewAgeS());
  } catch {
    return 0; // before the live link exists
  }
}

function renderWindows(v) {
  const staffed = v.windows.filter((w) => ['open', 'calling', 'serving'].includes(w.state)).length;
  $('#win-sum').textContent = `在岗 ${staffed} / 共 ${v.windows.length}`;
  $('#wins').replaceChildren(
    ...v.windows.map((w) => {
      // Opening is a summons: a closed window with a summons is 召集中 until the clerk logs in (citizens still see it closed).
      const st = w.summons ? '召集中' : w.state === 'paused' && w.pause_reason ? `暂停（${label('zh', 'pause', w.pause_reason)}）` : label('zh', 'state', w.state);
      const staff = w.staff ? `${w.staff.name}（${label('zh', 'post', w.staff.post)}）` : w.summons ? `已召集 ${w.summons.staff.name}，限 ${fmtTime(w.summons.deadline)} 前登录` : '无人在岗';
      const sb = w.standby ? ` · 备：${w.standby.name}` : '';
      const cur = w.current
        ? [w.current.number, el('small', {}, ` ${categoryName(v, w.current.category)} ${fmtDuration(w.current.elapsed_s + viewAge())}`)]
        : w.go_to && w.go_to.length && w.state !== 'closed'
          ? [el('small', {}, `引导至 ${w.go_to.join('、')}号`)]
          : [el('small', {}, '')];
      const btns = [];
      if (w.staff) btns.push(el('button', { type: 'button', title: '使该人员的登录令牌失效（空闲时同时退出窗口）', onclick: () => endSession(w.staff.id) }, '结束登录'));
      if (w.summons) btns.push(el('button', { type: 'button', class: 'danger', title: '取消召集', onclick: () => closeWindow(w.number) }, '取消召集'));
      else if (w.state === 'closed') btns.push(el('button', { type: 'button', onclick: () => openWindow(w.number) }, '开放'));
      else btns.push(el('button', { type: 'button', class: 'danger', disabled: w.current ? true : undefined, title: w.current ? '办理中不可关闭' : '', onclick: () => closeWindow(w.number) }, '关闭'));
      return el(
        'div',
        { class: `sw ${w.summons ? 'opening' : w.state} lvl-${w.level}`, 'data-window': w.number },
        el('div', { class: 'row' }, el('span', { class: 'no' }, `${w.number}号`), el('span', { class: 'kind' }, label('zh', 'kind', w.kind)), el('span', { class: 'st' }, st)),
        el('div', { class: 'staff', title: staff + sb }, staff + sb),
        el('div', { class: 'cur num' }, ...cur),
        el('div', { class: 'btns' }, ...btns),
      );
    }),
  );
}

function renderCats(v) {
  $('#cats').replaceChildren(
    ...v.categories.map((c) =>
      el(
        'tr',
        { class: c.level },
        el('td', {}, el('span', { class: `lvl ${c.level}`, title: label('zh', 'level', c.level) })),
        el('td', {}, `${c.prefix}  ${c.name}`),
        el('td', { class: 'r big num' }, String(c.waiting)),
        el('td', { class: 'r' }, c.estimated_wait_s === null || c.estimated_wait_s === undefined ? '无可办窗口' : fmtWait(c.estimated_wait_s)),
        el('td', { class: 'r num' }, c.oldest_wait_s === null || c.oldest_wait_s === undefined ? '—' : fmtDuration(c.oldest_wait_s + viewAge())),
        el('td', { class: 'r num' }, `${Math.round(c.wait_target_s / 60)}分`),
        el('td', { class: 'r num' }, String(c.open_windows)),
        el('td', { class: 'r num' }, fmtDuration(c.avg_service_s)),
      ),
    ),
  );
}

function renderAdvice(v) {
  const l = v.load || {};
  $('#load-line').textContent = '';
  const list = (v.advice || []).map((a) =>
    el(
      'div',
      { class: `adv ${a.action}` },
      el('div', { class: 'what' }, `建议${a.action === 'open' ? '开放' : '关闭'} ${a.window}号潮汐窗口${a.staff ? '，安排 ' + (knownStaff.get(a.staff) || a.staff) : ''}`),
      el('div', { class: 'why' }, `${fmtTime(a.at)} · ${reasonText('zh', a.reason)}`),
      el('button', { type: 'button', onclick: () => resolveAdvice(a.id, 'accept') }, '采纳'),
      el('button', { type: 'button', class: 'dismiss', onclick: () => resolveAdvice(a.id, 'dismiss') }, '忽略'),
    ),
  );
  const loadBox = el(
    'div',
    { class: 'load-box' },
    `等候 ${l.waiting ?? 0} 人 · 在岗窗口 ${l.staffed_windows ?? 0} · 开放窗口 ${l.open_windows ?? 0}`,
    el('br'),
    `窗均等候 ${l.per_window ?? '—'} · 新号预计等候 ${l.newest_wait_s === null || l.newest_wait_s === undefined ? '—' : fmtWait(l.newest_wait_s)}`,
    l.overload_since ? el('div', { style: 'color:#c8102e' }, `持续高负荷，自 ${fmtTime(l.overload_since, true)}`) : null,
    l.underload_since ? el('div', {}, `持续低负荷，自 ${fmtTime(l.underload_since, true)}`) : null,
  );
  $('#advice').replaceChildren(...(list.length ? list : [el('div', { class: 'empty' }, '暂无待处理建议')]), loadBox);
}

// ---- chart: waiting over the day ------------------------------------------------

function renderChart(v) {
  const pts = (v.waiting_series || []).map((p) => ({ t: Date.parse(p.at), n: p.waiting })).filter((p) => !isNaN(p.t));
  const W = 560;
  const H = 300;
  const L = 40;
  const R = 24;
  const T = 14;
  const B = 30;
  const now = Date.parse(v.now) || Date.now();
  let t0;
  let t1;
  if (pts.length) {
    t0 = Math.min(pts[0].t, now - 3600e3);
    t1 = Math.max(pts[pts.length - 1].t + 600e3, now);
  } else {
    t0 = now - 3 * 3600e3;
    t1 = now;
  }
  // Round to whole hours.
  t0 = Math.floor(t0 / 3600e3) * 3600e3;
  t1 = Math.ceil(t1 / 3600e3) * 3600e3;
  const maxN = Math.max(5, ...pts.map((p) => p.n));
  const step = niceStep(maxN);
  const top = Math.ceil((maxN + step / 2) / step) * step; // room for the peak label
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (n) => T + (1 - n / top) * (H - T - B);
  const ns = 'http://www.w3.org/2000/svg';
  const s = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, val] of Object.entries(attrs)) e.setAttribute(k, val);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': '今日等候人数曲线' });
  for (let n = 0; n <= top; n += step) {
    svg.append(s('line', { class: 'grid', x1: L, x2: W - R, y1: y(n), y2: y(n) }));
    svg.append(s('text', { class: 'lbl', x: L - 6, y: y(n) + 4, 'text-anchor': 'end' }, String(n)));
  }
  const hours = (t1 - t0) / 3600e3;
  const hstep = hours > 12 ? 3 : hours > 6 ? 2 : 1;
  for (let t = t0; t <= t1; t += hstep * 3600e3) {
    svg.append(s('line', { class: 'grid', x1: x(t), x2: x(t), y1: T, y2: H - B }));
    svg.append(s('text', { class: 'lbl', x: x(t), y: H - B + 18, 'text-anchor': 'middle' }, fmtTime(new Date(t).toISOString())));
  }
  svg.append(s('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
  svg.append(s('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }));
  if (pts.length) {
    // Each point is the peak of a 10-minute bucket: draw it as a step line.
    let d = '';
    for (const p of pts) d += `${d ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.n).toFixed(1)}L${x(p.t + 600e3).toFixed(1)},${y(p.n).toFixed(1)}`;
    const last = pts[pts.length - 1];
    const area = `${d}L${x(last.t + 600e3).toFixed(1)},${y(0)}L${x(pts[0].t).toFixed(1)},${y(0)}Z`;
    svg.append(s('path', { class: 'area', d: area }));
    svg.append(s('path', { class: 'line', d }));
    const peak = pts.reduce((a, b) => (b.n > a.n ? b : a));
    svg.append(s('circle', { class: 'dot', cx: x(peak.t + 300e3), cy: y(peak.n), r: 4 }));
    svg.append(s('text', { class: 'lbl', x: x(peak.t + 300e3), y: y(peak.n) - 8, 'text-anchor': 'middle' }, `峰值 ${peak.n}`));
  } else {
    svg.append(s('text', { class: 'lbl', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, '今日暂无数据'));
  }
  $('#chart').replaceChildren(svg);
}

function niceStep(max) {
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

// ---- statistics ---------------------------------------------------------------

async function loadStats() {
  if (!token) return;
  try {
    const r = await api(`${base}/stats`, { token });
    // `{date, hall, stats: DayStats}`; a bare DayStats is accepted too.
    stats = r && r.stats && r.stats.total ? r.stats : r;
    for (const id of Object.keys(stats.by_staff || {})) if (!knownStaff.has(id)) knownStaff.set(id, id);
    renderStats();
  } catch (e) {
    $('#stat-rows').replaceChildren(el('tr', {}, el('td', { colspan: 12, class: 'empty' }, `统计不可用：${errorText(e)}`)));
  }
}

function renderStats() {
  const s = stats || {};
  const t = s.total || {};
  const mins = (x) => (!x ? '—' : x < 60 ? `${Math.round(x)}秒` : `${(x / 60).toFixed(1)}分`);
  const fig = (v, n) => el('div', { class: 'fig' }, el('b', { class: 'num' }, v), el('span', {}, n));
  $('#stat-total').replaceChildren(
    fig(t.issued ?? 0, '取号'),
    fig(t.served ?? 0, '办结'),
    fig(t.no_show ?? 0, '过号'),
    fig(t.transferred ?? 0, '转办'),
    fig(mins(t.mean_wait_s), '平均等候'),
    fig(mins(t.mean_handling_s), '平均办理'),
    fig(t.mean_rating === null || t.mean_rating === undefined ? '—' : Number(t.mean_rating).toFixed(2), '平均评分'),
    fig(t.good_share === null || t.good_share === undefined ? '—' : `${Math.round(t.good_share * 100)}%`, '好评率'),
  );
  const keyName = { by_category: '业务', by_window: '窗口', by_staff: '人员' }[tab];
  $('#stat-key').textContent = keyName;
  const rows = Object.entries(s[tab] || {});
  if (tab === 'by_category' && view) {
    // In the hall's own category order, not the ids' alphabetical one.
    const order = new Map(view.categories.map((c, i) => [c.id, i]));
    rows.sort(([a], [b]) => (order.get(a) ?? 99) - (order.get(b) ?? 99));
  } else if (tab === 'by_window') rows.sort(([a], [b]) => Number(a) - Number(b));
  const name = (k) => {
    if (tab === 'by_category') return categoryName(view, k) || '（未知）';
    if (tab === 'by_window') return `${k}号窗口`;
    const n = knownStaff.get(k);
    return n && n !== k ? `${n}（${k}）` : k;
  };
  const row = (k, f, cls = '') =>
    el(
      'tr',
      { class: cls },
      el('td', {}, k),
      ...[f.issued, f.called, f.served, f.no_show, f.transferred].map((x) => el('td', { class: 'r num' }, String(x ?? 0))),
      el('td', { class: 'r' }, mins(f.mean_wait_s)),
      el('td', { class: 'r' }, mins(f.max_wait_s)),
      el('td', { class: 'r' }, mins(f.mean_handling_s)),
      el('td', { class: 'r num' }, String(f.ratings ?? 0)),
      el('td', { class: 'r num' }, f.mean_rating === null || f.mean_rating === undefined ? '—' : Number(f.mean_rating).toFixed(2)),
      el('td', { class: 'r num' }, f.good_share === null || f.good_share === undefined ? '—' : `${Math.round(f.good_share * 100)}%`),
    );
  $('#stat-rows').replaceChildren(
    ...(rows.length ? rows.map(([k, f]) => row(name(k), f)) : [el('tr', {}, el('td', { colspan: 12, class: 'empty' }, '今日暂无数据'))]),
    ...(rows.length ? [row('合计', t, 'total')] : []),
  );
}

for (const b of document.querySelectorAll('#stat-tabs button')) {
  b.addEventListener('click', () => {
    tab = b.dataset.tab;
    for (const o of document.querySelectorAll('#stat-tabs button')) o.classList.toggle('on', o === b);
    renderStats();
  });
}

$('#csv').addEventListener('click', async () => {
  if (!token) return toast('缺少主管令牌', 'error');
  try {
    const res = await api(`${base}/stats`, { token, accept: 'text/csv' });
    const blob = await res.blob();
    const date = (view && view.business_date) || hallDate(); // the hall's day, not UTC's
    const a = el('a', { href: URL.createObjectURL(blob), download: `hallcall-${hall}-${date}.csv` });
    document.body.append(a);
    a.click();
    setTimeout(() => {
      URL.revokeObjectURL(a.href);
      a.remove();
    }, 1000);
    toast('统计已导出', 'ok');
  } catch (e) {
    toast(`导出失败：${errorText(e)}`, 'error');
  }
});

// ---- actions ------------------------------------------------------------------

async function resolveAdvice(id, what) {
  try {
    await api(`${base}/advice/${id}/${what}`, { method: 'POST', body: {}, token });
    toast(what === 'accept' ? '已采纳建议' : '已忽略建议', 'ok');
    live.refresh(0);
  } catch (e) {
    toast(`操作失败：${errorText(e)}`, 'error');
  }
}

let openNo = null;
function openWindow(n) {
  openNo = n;
  $('#open-no').textContent = n;
  $('#staff-list').replaceChildren(...[...knownStaff].map(([id, name]) => el('option', { value: id }, name)));
  $('#open-staff').value = '';
  $('#open-modal').hidden = false;
  $('#open-staff').focus();
}
$('#open-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const staff = $('#open-staff').value.trim();
  if (!staff || !openNo) return;
  try {
    await api(`${base}/windows/${openNo}/open`, { method: 'POST', body: { staff }, token });
    $('#open-modal').hidden = true;
    toast(`已召集 ${knownStaff.get(staff) || staff} 到 ${openNo}号窗口：登录后窗口才开放`, 'ok');
    live.refresh(0);
  } catch (err) {
    toast(`开放失败：${errorText(err)}`, 'error');
  }
});
for (const b of document.querySelectorAll('[data-close]')) b.addEventListener('click', () => ($('#open-modal').hidden = true));

async function closeWindow(n) {
  if (!confirm(`确定关闭 ${n}号窗口吗？`)) return;
  try {
    await api(`${base}/windows/${n}/close`, { method: 'POST', body: {}, token });
    toast(`${n}号窗口已关闭`, 'ok');
    live.refresh(0);
  } catch (e) {
    toast(`关闭失败：${errorText(e)}`, 'error');
  }
}

async function endSession(staff) {
  if (!confirm(`确定结束 ${staffName(staff)} 的登录吗？其令牌将立即失效。`)) return;
  try {
    const r = await api(`${base}/staff/${encodeURIComponent(staff)}/end-session`, { method: 'POST', body: {}, token });
    toast(r && r.logged_out ? `${staffName(staff)} 已退出登录` : `${staffName(staff)} 的令牌已失效（${(r && r.message) || ''}）`, 'ok');
    live.refresh(0);
  } catch (e) {
    toast(`操作失败：${errorText(e)}`, 'error');
  }
}

// ---- PIN lockouts: the server's own warnings (not hall events), polled --------------

async function loadLocks() {
  if (!token) return;
  let list;
  try {
    list = await api(`${base}/lockouts`, { token });
  } catch {
    return;
  }
  const box = $('#locks');
  box.hidden = !list || !list.length;
  box.replaceChildren(
    ...(list || []).map((l) =>
      el(
        'div',
        { class: 'lock', 'data-staff': l.staff },
        el('span', {}, el('b', {}, '红色预警·密码锁定'), ` ${staffName(l.staff)}（${l.staff}）密码连续错误 ${l.failures} 次，已锁定，约 ${Math.ceil(l.remaining_s / 60)} 分钟后自动解除`),
        el('button', { type: 'button', onclick: () => unlockStaff(l.staff) }, '解锁'),
      ),
    ),
  );
}

async function unlockStaff(staff) {
  try {
    await api(`${base}/staff/${encodeURIComponent(staff)}/unlock`, { method: 'POST', body: {}, token });
    toast(`${staffName(staff)} 已解锁`, 'ok');
  } catch (e) {
    toast(`解锁失败：${errorText(e)}`, 'error');
  }
  loadLocks();
}

// ---- ticket printers: the server's own warnings (polled, like the lockouts) ---------

async function loadPrinters() {
  if (!token) return;
  let d;
  try {
    d = await api(`${base}/devices`, { token });
  } catch {
    return;
  }
  renderLinks(d);
  const list = (d && d.printer_warnings) || [];
  const box = $('#printers');
  box.hidden = !list.length;
  box.replaceChildren(
    ...list.map((w) =>
      el(
        'div',
        { class: `lock printer ${w.level === 'yellow' ? 'yellow' : ''}`, 'data-printer': w.printer },
        el('span', {}, el('b', {}, `${w.level === 'yellow' ? '黄色' : '红色'}预警·取号机打印机`), ` ${w.message}（${w.connect}）${w.level === 'yellow' ? '，请及时更换纸卷' : '，号票改为屏幕显示，请尽快处理'}`),
      ),
    ),
  );
}

// Printed QR codes and status links must open on a citizen's phone: without a
// public_url (or with a loopback/private one) they point at an address phones cannot reach.
function renderLinks(d) {
  const p = d && d.public_url_problem;
  const box = $('#links-warn');
  box.hidden = !p;
  if (!p) return;
  const here = location.hostname;
  const why =
    p.code === 'missing'
      ? `本大厅未配置对外访问地址（public_url）：号票二维码和查询链接将指向取号机访问本服务器所用的地址（如 ${here}），市民手机无法打开。`
      : `对外访问地址 public_url 指向${p.code === 'loopback' ? '本机' : '内网'}地址 ${p.host}：号票二维码和查询链接在市民手机上无法打开。`;
  box.replaceChildren(el('b', {}, '号票链接不可用'), ` ${why}请在配置文件中为本大厅设置 public_url（如 https://dt.example.gov.cn）后重新加载配置。`);
}

// ---- the feed of warnings and dispatch events --------------------------------------

function staffName(id) {
  return id ? knownStaff.get(id) || id : '';
}

function feedItem(ev) {
  const w = ev.window ? `${ev.window}号窗口` : '';
  switch (ev.type) {
    case 'warning': {
      const kind = { service_time: '办理超时', wait: '等候超时', failover: '故障转移', bad_rating: '差评' }[ev.kind] || '预警';
      return { cls: ev.level === 'red' ? 'red' : 'yellow', text: [el('b', {}, `${label('zh', 'level', ev.level)}·${kind}`), ` ${warningText('zh', ev, view) || [w, ev.number].filter(Boolean).join(' ')}`] };
    }
    case 'failover':
      // A clerk's planned pause (休息/开会…) moves tickets quietly: not a failure unless a category is left unserved.
      return {
        cls: ev.planned && !(ev.unserved || []).length ? 'pause' : 'failover',
        text: [el('b', {}, ev.planned && !(ev.unserved || []).length ? '暂停转移' : '故障转移'), ` ${w}：${failoverEventText('zh', ev, view)}`],
      };
    case 'tidal_advice':
      return { cls: 'tidal', text: [el('b', {}, '潮汐建议'), ` ${ev.action === 'open' ? '开放' : '关闭'}${w}：${reasonText('zh', ev.reason)}`] };
    case 'advice_resolved':
      return { cls: 'tidal', text: [el('b', {}, '建议处理'), ` #${ev.advice} ${ev.accepted ? '已采纳' : '已忽略'}`] };
    case 'window_summoned':
      return { cls: ev.tidal ? 'tidal' : '', text: [el('b', {}, '召集开窗'), ` ${w} 召集 ${staffName(ev.staff)} 到岗${ev.reason ? '：' + reasonText('zh', ev.reason) : ''}`] };
    case 'summons_ended':
      return { cls: ev.outcome === 'expired' ? 'yellow' : '', text: [el('b', {}, ev.outcome === 'expired' ? '召集超时' : '取消召集'), ` ${w} ${staffName(ev.staff)}`] };
    case 'window_opened':
      return { cls: ev.tidal ? 'tidal' : '', text: [el('b', {}, ev.tidal ? '潮汐开窗' : '开窗'), ` ${w} ${staffName(ev.staff)}${ev.reason ? '：' + reasonText('zh', ev.reason) : ''}`] };
    case 'window_closed':
      return { cls: ev.tidal ? 'tidal' : '', text: [el('b', {}, ev.tidal ? '潮汐关窗' : '关窗'), ` ${w}${ev.reason ? '：' + reasonText('zh', ev.reason) : ''}`] };
    case 'window_paused':
      return { cls: 'yellow', text: [el('b', {}, '暂停'), ` ${w}（${label('zh', 'pause', ev.reason)}）${staffName(ev.staff)}`] };
    case 'window_resumed':
      return { cls: '', text: [el('b', {}, '恢复'), ` ${w} ${staffName(ev.staff)}`] };
    case 'post_handover':
      return { cls: '', text: [el('b', {}, 'AB岗交接'), ` ${w} ${staffName(ev.from)}→${staffName(ev.to)}（${label('zh', 'post', ev.to_post)}）${ev.reason ? '：' + reasonText('zh', ev.reason) : ''}`] };
    case 'config_edited': {
      const OPS = { add_staff: '添加人员', edit_staff: '修改人员', retire_staff: '人员离职', reset_pin: '重置密码', set_window: '设置窗口', set_category: '设置业务' };
      const what = ev.op === 'set_window' ? `${ev.target}号窗口` : ev.op === 'set_category' ? categoryName(view, ev.target) : staffName(ev.target);
      return { cls: '', text: [el('b', {}, '后台管理'), ` ${OPS[ev.op] || ev.op}：${what}（${ev.by === 'supervisor' ? '主管' : ev.by}）`] };
    }
    case 'config_reloaded':
      return { cls: '', text: [el('b', {}, '配置'), ' 已按配置文件重新加载'] };
    case 'day_closed':
      return { cls: '', text: [el('b', {}, '日终'), ` ${ev.date}，过期 ${ev.expired} 张`] };
  }
  return null;
}

function addFeed(ev, prepend = true) {
  if (!FEED_TYPES.has(ev.type) || feedSeqs.has(ev.seq)) return;
  const item = feedItem(ev);
  if (!item) return;
  feedSeqs.add(ev.seq);
  const li = el('li', { class: item.cls, 'data-seq': ev.seq }, el('span', { class: 't num' }, fmtTime(ev.at)), el('span', {}, ...item.text));
  const ol = $('#feed');
  const empty = ol.querySelector('.empty');
  if (empty) empty.remove();
  // Keep newest first, in seq order even when history arrives late.
  const after = [...ol.children].find((c) => Number(c.dataset.seq) < ev.seq);
  if (after) ol.insertBefore(li, after);
  else ol.append(li);
  while (ol.children.length > 200) ol.lastChild.remove();
}

function onEvent(ev) {
  if (ev.type === 'window_opened' || ev.type === 'post_handover') for (const k of ['staff', 'to', 'from']) if (ev[k] && !knownStaff.has(ev[k])) knownStaff.set(ev[k], ev[k]);
  addFeed(ev);
  // Other cards (supervisor-ratings.js: a 差评 or its follow-up) follow the stream too.
  document.dispatchEvent(new CustomEvent('hallcall:event', { detail: ev }));
  // The view comes with the stream; statistics are a log read, refreshed on
  // a timer rather than per event.
}

/** Today's earlier warnings and dispatch events, from the event stream's replay. */
function loadHistory(seq) {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const since = Math.max(0, seq - 2000);
  let ws;
  try {
    ws = new WebSocket(`${proto}://${location.host}${base}/events?since=${since}`);
  } catch {
    return;
  }
  const stop = setTimeout(() => ws.close(), 4000);
  ws.onmessage = (m) => {
    let msg;
    try {
      msg = JSON.parse(m.data);
    } catch {
      return;
    }
    const list = Array.isArray(msg) ? msg : Array.isArray(msg.events) ? msg.events : [msg];
    for (const ev of list) {
      if (ev.type === 'snapshot') {
        // Too far back for a replay: nothing more to learn here.
        clearTimeout(stop);
        ws.close();
        return;
      }
      if (typeof ev.seq === 'number' && ev.seq <= seq) addFeed(ev, false);
      if (typeof ev.seq === 'number' && ev.seq >= seq) {
        clearTimeout(stop);
        ws.close();
        return;
      }
    }
  };
}

// ---- start --------------------------------------------------------------------

$('#feed').append(el('li', { class: 'empty' }, '暂无记录'));
const live = new Live({ hall, onState: render, onEvent, onResync: loadStats, pollMs: 10000 });
startClock('zh', () => live.clockOffsetMs); // the server's clock, as on the hall display
await live.start();
if (live.lastSeq) loadHistory(live.lastSeq);
loadStats();
setInterval(loadStats, 30000);
loadLocks();
setInterval(loadLocks, 5000);
loadPrinters();
setInterval(loadPrinters, 10000);
// Views come only with events: keep the ages (serving for, oldest wait) moving.
setInterval(() => live.state && render(live.state), 10000);
