// 今日排班计划 on the supervisor dashboard (issue 18, tidal mode `plan`):
// per half-hour, the windows the plan wants open (forecast by the server
// from the hall's own history) beside the most windows actually open.
// Drawn from the view's `staffing_plan` (absent in the other tidal modes:
// the card stays hidden). supervisor.js hands each view over as a
// `hallcall:view` event; times are the hall's, never the browser's.

import { $, el, fmtTime } from '/static/lib/api.js';

const SVGNS = 'http://www.w3.org/2000/svg';
const HALF = 30 * 60e3;
const root = $('#plan');

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function render(v) {
  const plan = v.staffing_plan;
  root.hidden = !plan;
  if (!plan) return;
  const now = Date.parse(v.now) || Date.now();
  const slots = plan.slots
    .map((s) => ({ ...s, t: Date.parse(s.at) }))
    .filter((s) => !isNaN(s.t));
  const cur = slots.find((s) => s.t <= now && now < s.t + HALF);
  $('#plan-lead').textContent = `提前 ${Math.round(plan.lead_s / 60)} 分钟召集潮汐窗口`;
  const gap = cur && cur.staffed !== null ? cur.staffed - cur.planned : null;
  $('#plan-now').replaceChildren(
    el('span', {}, `本时段（${cur ? fmtTime(cur.at) : '—'}起）计划 `),
    el('b', { id: 'plan-now-planned' }, cur ? String(cur.planned) : '—'),
    el('span', {}, ' 个窗口，实开 '),
    el('b', { id: 'plan-now-staffed', class: gap !== null && gap < 0 ? 'short' : '' }, cur && cur.staffed !== null ? String(cur.staffed) : '—'),
    el('span', {}, gap !== null && gap < 0 ? `（差 ${-gap} 个）` : ''),
  );
  if (!slots.length) {
    $('#plan-chart').replaceChildren(el('p', { class: 'empty' }, '今日无排班计划'));
    return;
  }
  const W = 1100;
  const H = 220;
  const L = 36;
  const R = 10;
  const T = 12;
  const B = 28;
  const t0 = slots[0].t;
  const n = Math.round((slots[slots.length - 1].t - t0) / HALF) + 1;
  const max = Math.max(2, ...slots.map((s) => Math.max(s.planned, s.staffed ?? 0)));
  const bw = (W - L - R) / n;
  const x = (t) => L + ((t - t0) / HALF) * bw;
  const y = (k) => T + (1 - k / max) * (H - T - B);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': '今日排班计划与实开窗口' });
  for (let k = 0; k <= max; k += max > 10 ? 2 : 1) {
    chart.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(k), y2: y(k) }));
    chart.append(svg('text', { class: 'lbl', x: L - 6, y: y(k) + 4, 'text-anchor': 'end' }, String(k)));
  }
  const every = n > 24 ? 4 : 2;
  slots.forEach((s) => {
    const i = Math.round((s.t - t0) / HALF);
    const g = svg('g', {
      class: `slot${cur && s.t === cur.t ? ' now' : ''}`,
      'data-at': s.at,
      'data-planned': s.planned,
      'data-staffed': s.staffed ?? '',
    });
    const end = fmtTime(new Date(s.t + HALF).toISOString());
    g.append(svg('title', {}, `${fmtTime(s.at)}–${end} 计划 ${s.planned} 个窗口${s.staffed === null ? '' : ` · 实开 ${s.staffed} 个`}`));
    if (cur && s.t === cur.t) g.append(svg('rect', { class: 'cur', x: x(s.t), y: T, width: bw, height: H - T - B }));
    g.append(svg('rect', { class: 'planned', x: x(s.t) + 1, y: y(s.planned), width: Math.max(1, bw - 2), height: y(0) - y(s.planned) }));
    if (s.staffed !== null) {
      const cls = s.staffed < s.planned ? 'staffed short' : 'staffed';
      g.append(svg('rect', { class: cls, x: x(s.t) + bw * 0.3, y: y(s.staffed), width: Math.max(1, bw * 0.4), height: y(0) - y(s.staffed) }));
    }
    if (i % every === 0) g.append(svg('text', { class: 'lbl', x: x(s.t), y: H - B + 16, 'text-anchor': 'middle' }, fmtTime(s.at)));
    chart.append(g);
  });
  chart.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: y(0), y2: y(0) }));
  $('#plan-chart').replaceChildren(chart);
}

document.addEventListener('hallcall:view', (e) => render(e.detail));
