// 统计报表 on the supervisor dashboard (issue 15 item 7, issue 13 item 14):
// a date range, the range's figures, charts drawn as SVG here (no library,
// no CDN), a table per category / window / staff, and the CSV export.
// Dates are business dates of the hall (its time zone, from the state),
// never the browser's.

import { $, el, api, params, hallId, hallBase } from '/static/lib/api.js';
import { toast, errorText } from '/static/lib/ui.js';

const hall = hallId();
const base = hallBase(hall);
const token = params.get('token') || sessionStorage.getItem(`hallcall.supervisor.${hall}`) || '';
const root = $('#reports');
const SVGNS = 'http://www.w3.org/2000/svg';
const LEVELS = [
  // index in rating_levels, label, colour (AA on white for the legend text)
  [4, '非常满意', '#1f7a45'],
  [3, '满意', '#4c9a2a'],
  [2, '基本满意', '#9a7b00'],
  [1, '不满意', '#c2570c'],
  [0, '非常不满意', '#b3261e'],
];

let report = null;
let tab = 'by_category';
let today = null; // the hall's business date

function addDays(iso, n) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

const mins = (s) => (s === null || s === undefined ? '—' : s < 60 ? `${Math.round(s)}秒` : `${(s / 60).toFixed(1)}分`);
const pct = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

/** The top of a chart's axis: four equal steps of a round size (1, 2, 5 × 10^n), so every tick is a whole number. */
function niceMax(max) {
  const raw = Math.max(1, Math.ceil(max / 4));
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return 4 * m * p;
  return 40 * p;
}

/**
 * A bar chart: `groups` = [{label, values: [n, ...]}], one colour per series.
 * Every bar carries a <title> so a hover (and a test) reads its figure.
 */
function barChart({ title, groups, series, width = 640, height = 220, labelEvery = 1 }) {
  const pad = { l: 40, r: 8, t: 10, b: 26 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const max = niceMax(Math.max(0, ...groups.flatMap((g) => g.values)));
  // An accessible name: the chart's title and its figures in words.
  const summary = groups.map((g) => `${g.label} ${g.values.join('/')}`).join('，');
  const s = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'rp-svg', role: 'img', 'aria-label': `${title}：${summary}` });
  s.append(svg('title', {}, title));
  for (let i = 0; i <= 4; i++) {
    const y = pad.t + h - (h * i) / 4;
    s.append(svg('line', { x1: pad.l, x2: width - pad.r, y1: y, y2: y, class: 'grid' }));
    s.append(svg('text', { x: pad.l - 5, y: y + 4, class: 'ax', 'text-anchor': 'end' }, String(Math.round((max * i) / 4))));
  }
  const gw = w / Math.max(1, groups.length);
  const bw = Math.max(1, (gw * 0.8) / series.length);
  groups.forEach((g, gi) => {
    const x0 = pad.l + gi * gw + gw * 0.1;
    g.values.forEach((v, si) => {
      const bh = (h * v) / max;
      const r = svg('rect', {
        x: x0 + si * bw,
        y: pad.t + h - bh,
        width: Math.max(0.5, bw - 1),
        height: bh,
        fill: series[si].color,
        'data-series': series[si].key,
        'data-label': g.label,
        'data-value': v,
      });
      r.append(svg('title', {}, `${g.label} ${series[si].name}：${v}`));
      s.append(r);
    });
    if (gi % labelEvery === 0) {
      s.append(svg('text', { x: x0 + (gw * 0.8) / 2, y: height - 8, class: 'ax', 'text-anchor': 'middle' }, g.label));
    }
  });
  return s;
}

function legend(items) {
  return el('div', { class: 'rp-legend' }, ...items.map(([name, color]) => el('span', {}, el('i', { style: `background:${color}` }), name)));
}

function ratingBar(levels) {
  const total = levels.reduce((a, b) => a + b, 0);
  const bar = el('div', { class: 'rp-rating', role: 'img', 'aria-label': '好差评分布' });
  if (!total) bar.append(el('span', { class: 'rp-none' }, '暂无评价'));
  for (const [i, name, color] of LEVELS) {
    const n = levels[i] || 0;
    if (!n) continue;
    bar.append(el('span', { style: `flex:${n};background:${color}`, title: `${name} ${n}`, 'data-level': i + 1 }, n));
  }
  return el(
    'div',
    {},
    bar,
    el('div', { class: 'rp-legend' }, ...LEVELS.map(([i, name, color]) => el('span', {}, el('i', { style: `background:${color}` }), `${name} ${levels[i] || 0}`))),
  );
}

function render() {
  const r = report;
  const t = r.total.total;
  const fig = (v, n) => el('div', { class: 'fig' }, el('b', { class: 'num' }, v), el('span', {}, n));
  $('#rp-figs').replaceChildren(
    fig(t.issued, '取号'),
    fig(t.served, '办结'),
    fig(pct(t.no_show_rate), '过号率'),
    fig(mins(t.wait_p50_s), '等候中位数'),
    fig(mins(t.wait_p90_s), '等候P90'),
    fig(mins(t.served ? t.mean_handling_s : null), '平均办理'),
    fig(t.transferred, '转办'),
    fig(t.held, '挂起'),
    fig(t.out_of_order, '指定叫号'),
    fig(t.cancelled, '取消'),
    fig(pct(t.good_share), '满意率'),
  );
  const days = r.days.map((d) => ({ label: d.date.slice(5), values: [d.total.issued, d.total.served] }));
  $('#rp-days').replaceChildren(
    legend([['取号', '#1552b8'], ['办结', '#1f7a45']]),
    barChart({
      title: '每日取号与办结',
      groups: days,
      series: [
        { key: 'issued', name: '取号', color: '#1552b8' },
        { key: 'served', name: '办结', color: '#1f7a45' },
      ],
      labelEvery: Math.ceil(days.length / 14),
    }),
  );
  const hours = r.total.total.arrivals_by_hour || [];
  const first = hours.findIndex((n) => n > 0);
  const last = hours.length - 1 - [...hours].reverse().findIndex((n) => n > 0);
  const lo = first < 0 ? 8 : Math.min(first, 8);
  const hi = first < 0 ? 17 : Math.max(last, 17);
  const hourGroups = [];
  for (let hr = lo; hr <= hi; hr++) hourGroups.push({ label: `${hr}时`, values: [hours[hr] || 0] });
  $('#rp-hours').replaceChildren(barChart({ title: '到达时段（取号数）', groups: hourGroups, series: [{ key: 'arrivals', name: '到达', color: '#0b3d91' }] }));
  $('#rp-ratings').replaceChildren(ratingBar(t.rating_levels || [0, 0, 0, 0, 0]));
  renderTable();
}

function renderTable() {
  const r = report;
  const names = r.names || {};
  const rows = Object.entries(r.total[tab] || {});
  if (tab === 'by_category') {
    const order = Object.keys(names.categories || {});
    rows.sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
  } else if (tab === 'by_window') rows.sort(([a], [b]) => Number(a) - Number(b));
  const nameOf = (k) => {
    const n = tab === 'by_category' ? names.categories?.[k] : tab === 'by_window' ? names.windows?.[k] : names.staff?.[k];
    return n && n !== k ? `${n}（${k}）` : n || k || '（未知）';
  };
  const row = (k, f, cls = '') =>
    el(
      'tr',
      { class: cls },
      el('td', {}, k),
      ...[f.issued, f.called, f.served].map((x) => el('td', { class: 'r num' }, String(x ?? 0))),
      el('td', { class: 'r num' }, pct(f.no_show_rate)),
      el('td', { class: 'r' }, mins(f.wait_p50_s)),
      el('td', { class: 'r' }, mins(f.wait_p90_s)),
      el('td', { class: 'r' }, mins(f.served ? f.mean_handling_s : null)),
      ...[f.transferred, f.held, f.out_of_order].map((x) => el('td', { class: 'r num' }, String(x ?? 0))),
      ...[4, 3, 2, 1, 0].map((i) => el('td', { class: 'r num' }, String((f.rating_levels || [])[i] ?? 0))),
    );
  $('#rp-key').textContent = { by_category: '业务', by_window: '窗口', by_staff: '人员' }[tab];
  $('#rp-rows').replaceChildren(
    ...(rows.length ? rows.map(([k, f]) => row(nameOf(k), f)) : [el('tr', {}, el('td', { colspan: 16, class: 'empty' }, '所选日期内暂无数据'))]),
    ...(rows.length ? [row('合计', r.total.total, 'total')] : []),
  );
}

function range() {
  return { from: $('#rp-from').value, to: $('#rp-to').value };
}

async function load() {
  const { from, to } = range();
  if (!from || !to) return toast('请选择起止日期', 'error');
  if (from > to) return toast('开始日期不能晚于结束日期', 'error');
  $('#rp-status').textContent = '查询中…';
  try {
    report = await api(`${base}/stats?from=${from}&to=${to}`, { token });
    $('#rp-status').textContent = `${from} 至 ${to}，共 ${report.days.length} 天`;
    render();
  } catch (e) {
    $('#rp-status').textContent = `统计不可用：${errorText(e)}`;
  }
}

async function exportCsv() {
  const { from, to } = range();
  try {
    const res = await api(`${base}/stats?from=${from}&to=${to}`, { token, accept: 'text/csv' });
    const blob = await res.blob();
    const a = el('a', { href: URL.createObjectURL(blob), download: `${hall}-${from}_${to}.csv` });
    document.body.append(a);
    a.click();
    setTimeout(() => {
      URL.revokeObjectURL(a.href);
      a.remove();
    }, 1000);
    toast('报表已导出', 'ok');
  } catch (e) {
    toast(`导出失败：${errorText(e)}`, 'error');
  }
}

function setPreset(days) {
  $('#rp-to').value = today;
  $('#rp-from').value = addDays(today, 1 - days);
  for (const b of root.querySelectorAll('[data-days]')) b.classList.toggle('on', Number(b.dataset.days) === days);
  load();
}

async function init() {
  if (!root) return;
  if (!token) {
    root.hidden = true;
    return;
  }
  try {
    const st = await api(`${base}/state`);
    today = st.business_date;
  } catch {}
  if (!today) today = new Date().toISOString().slice(0, 10);
  $('#rp-from').max = today;
  $('#rp-to').max = today;
  for (const b of root.querySelectorAll('[data-days]')) b.addEventListener('click', () => setPreset(Number(b.dataset.days)));
  $('#rp-go').addEventListener('click', () => {
    for (const b of root.querySelectorAll('[data-days]')) b.classList.remove('on');
    load();
  });
  $('#rp-csv').addEventListener('click', exportCsv);
  for (const b of root.querySelectorAll('#rp-tabs button')) {
    b.addEventListener('click', () => {
      tab = b.dataset.tab;
      for (const o of root.querySelectorAll('#rp-tabs button')) o.classList.toggle('on', o === b);
      if (report) renderTable();
    });
  }
  setPreset(7);
}

init();
