// 后台管理 on the supervisor dashboard (issue 15 item 10): staff (add, edit,
// retire, reset a PIN), windows (kind, categories, A/B posts) and categories
// (handling time, time limit, wait target, daily cap). Each save is one
// POST /api/v1/halls/{hall}/admin, decided by the core like a file reload;
// a refusal comes back as the server's message and changes nothing.

import { $, el, api, params, hallId, hallBase } from '/static/lib/api.js';
import { toast, errorText } from '/static/lib/ui.js';

const hall = hallId();
const base = hallBase(hall);
const token = params.get('token') || sessionStorage.getItem(`hallcall.supervisor.${hall}`) || '';
const KINDS = [
  ['comprehensive', '综合'],
  ['specialist', '专项'],
  ['tidal', '潮汐'],
  ['fallback', '兜底'],
];

if (!document.querySelector('link[href="/static/css/supervisor-admin.css"]')) {
  document.head.append(el('link', { rel: 'stylesheet', href: '/static/css/supervisor-admin.css' }));
}

const card = el(
  'section',
  { class: 'sv-card sv-admin', id: 'admin-card' },
  el('h2', {}, '后台管理 ', el('small', {}, '（每次保存即生效，记入审计，配置文件改动后以文件为准）')),
  el(
    'div',
    { class: 'ad-tabs', role: 'tablist' },
    ...[
      ['staff', '人员'],
      ['windows', '窗口'],
      ['categories', '业务'],
    ].map(([k, t], i) => el('button', { type: 'button', role: 'tab', 'data-tab': k, 'aria-selected': String(i === 0), onclick: () => showTab(k) }, t)),
  ),
  el('div', { class: 'ad-pane', id: 'ad-staff', role: 'tabpanel' }),
  el('div', { class: 'ad-pane', id: 'ad-windows', role: 'tabpanel', hidden: true }),
  el('div', { class: 'ad-pane', id: 'ad-categories', role: 'tabpanel', hidden: true }),
);
(document.querySelector('main') || document.body).append(card);

let cfg = null;

function showTab(k) {
  for (const b of card.querySelectorAll('[role=tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === k));
  for (const p of card.querySelectorAll('.ad-pane')) p.hidden = p.id !== `ad-${k}`;
}

async function load() {
  if (!token) return;
  try {
    cfg = await api(`${base}/admin`, { token });
    render();
  } catch (e) {
    $('#ad-staff').replaceChildren(el('p', { class: 'ad-err' }, `无法读取配置：${errorText(e)}`));
  }
}

/** Sends one edit; reloads the lists either way. True when it was taken. */
async function send(body, done) {
  try {
    await api(`${base}/admin`, { method: 'POST', body, token });
    toast(done, 'ok');
    await load();
    return true;
  } catch (e) {
    toast(`未保存：${errorText(e)}`, 'error', 8000);
    return false;
  }
}

const input = (attrs) => el('input', { ...attrs });
const staffName = (id) => (cfg.staff.find((s) => s.id === id) || {}).name || id;

function staffPane() {
  const rows = cfg.staff.map((s) => {
    const name = input({ value: s.name, 'aria-label': `${s.id} 姓名`, maxlength: '40' });
    const no = input({ value: s.staff_no || '', 'aria-label': `${s.id} 工号`, maxlength: '32', class: 'ad-short' });
    const pin = input({ type: 'password', inputmode: 'numeric', placeholder: '新密码', 'aria-label': `${s.id} 新密码`, autocomplete: 'new-password', class: 'ad-short' });
    return el(
      'tr',
      { 'data-staff': s.id },
      el('td', { class: 'num' }, s.id),
      el('td', {}, name),
      el('td', {}, no),
      el(
        'td',
        { class: 'ad-acts' },
        el('button', { type: 'button', 'data-act': 'save', onclick: () => send({ op: 'edit_staff', id: s.id, name: name.value.trim(), staff_no: no.value.trim() }, `已保存 ${s.id}`) }, '保存'),
        pin,
        el('button', { type: 'button', 'data-act': 'pin', onclick: async () => {
          if (await send({ op: 'reset_pin', id: s.id, pin: pin.value.trim() }, `已重置 ${s.name} 的密码`)) pin.value = '';
        } }, '重置密码'),
        el('button', { type: 'button', class: 'ad-danger', 'data-act': 'retire', onclick: () => confirm(`确定让 ${s.name}（${s.id}）离职吗？其登录将失效。`) && send({ op: 'retire_staff', id: s.id }, `${s.name} 已离职`) }, '离职'),
      ),
    );
  });
  const id = input({ id: 'ad-new-id', placeholder: '如 s21', maxlength: '64', 'aria-label': '新人员编号', class: 'ad-short' });
  const name = input({ id: 'ad-new-name', placeholder: '姓名', maxlength: '40', 'aria-label': '新人员姓名' });
  const no = input({ id: 'ad-new-no', placeholder: '工号', maxlength: '32', 'aria-label': '新人员工号', class: 'ad-short' });
  const pin = input({ id: 'ad-new-pin', type: 'password', inputmode: 'numeric', placeholder: '初始密码（6-12位数字）', 'aria-label': '新人员初始密码', autocomplete: 'new-password' });
  const form = el(
    'form',
    { class: 'ad-add', onsubmit: async (e) => {
      e.preventDefault();
      const ok = await send({ op: 'add_staff', id: id.value.trim(), name: name.value.trim(), staff_no: no.value.trim(), pin: pin.value.trim() }, `已添加 ${name.value.trim()}`);
      if (ok) for (const i of [id, name, no, pin]) i.value = '';
    } },
    el('b', {}, '添加人员'),
    id,
    name,
    no,
    pin,
    el('button', { type: 'submit', class: 'primary', id: 'ad-add' }, '添加'),
  );
  return [
    el('table', { class: 'ad-table' }, el('thead', {}, el('tr', {}, ...['编号', '姓名', '工号', '操作'].map((h) => el('th', {}, h)))), el('tbody', {}, rows)),
    form,
  ];
}

function windowsPane() {
  const staffOpts = (sel, allowNone) => [
    ...(allowNone ? [el('option', { value: '' }, '（无）')] : []),
    ...cfg.staff.map((s) => el('option', { value: s.id, selected: s.id === sel }, `${s.name}（${s.id}）`)),
  ];
  const rows = cfg.windows.map((w) => {
    const kind = el('select', { 'aria-label': `${w.number}号窗口 类型` }, ...KINDS.map(([v, t]) => el('option', { value: v, selected: v === w.kind }, t)));
    const cats = el(
      'div',
      { class: 'ad-cats' },
      ...cfg.categories.map((c) =>
        el('label', {}, el('input', { type: 'checkbox', value: c.id, checked: w.categories.includes(c.id) }), c.name),
      ),
    );
    const a = el('select', { 'aria-label': `${w.number}号窗口 A岗` }, ...staffOpts(w.a_post, false));
    const b = el('select', { 'aria-label': `${w.number}号窗口 B岗` }, ...staffOpts(w.b_post || '', true));
    return el(
      'tr',
      { 'data-window': w.number },
      el('td', { class: 'num' }, `${w.number}号`),
      el('td', {}, kind),
      el('td', {}, cats),
      el('td', {}, a),
      el('td', {}, b),
      el('td', {}, el('button', { type: 'button', 'data-act': 'save', onclick: () => {
        const categories = [...cats.querySelectorAll('input:checked')].map((i) => i.value);
        send({ op: 'set_window', number: w.number, kind: kind.value, categories, a_post: a.value, b_post: b.value || null }, `已保存 ${w.number}号窗口（A岗 ${staffName(a.value)}）`);
      } }, '保存')),
    );
  });
  return [
    el('table', { class: 'ad-table' }, el('thead', {}, el('tr', {}, ...['窗口', '类型', '业务（专项窗口）', 'A岗', 'B岗', ''].map((h) => el('th', {}, h)))), el('tbody', {}, rows)),
  ];
}

function categoriesPane() {
  const min = (s) => String(Math.round((s / 60) * 10) / 10);
  const rows = cfg.categories.map((c) => {
    const num = (v, label) => input({ type: 'number', min: '0', step: '0.5', value: v, 'aria-label': `${c.name} ${label}`, class: 'ad-num' });
    const expected = num(min(c.expected_s), '平均办理（分钟）');
    const limit = num(min(c.limit_s), '限时办结（分钟）');
    const target = num(min(c.wait_target_s), '等候目标（分钟）');
    const cap = input({ type: 'number', min: '1', step: '1', value: c.daily_cap ?? '', placeholder: '不限', 'aria-label': `${c.name} 每日限号`, class: 'ad-num' });
    return el(
      'tr',
      { 'data-category': c.id },
      el('td', {}, c.name),
      el('td', {}, expected),
      el('td', {}, limit),
      el('td', {}, target),
      el('td', {}, cap),
      el('td', {}, el('button', { type: 'button', 'data-act': 'save', onclick: () => {
        const s = (i) => Math.round(Number(i.value) * 60);
        const body = { op: 'set_category', id: c.id, expected_s: s(expected), limit_s: s(limit), wait_target_s: s(target), daily_cap: cap.value === '' ? null : Number(cap.value) };
        send(body, `已保存 ${c.name}`);
      } }, '保存')),
    );
  });
  return [
    el('table', { class: 'ad-table' }, el('thead', {}, el('tr', {}, ...['业务', '平均办理（分）', '限时办结（分）', '等候目标（分）', '每日限号', ''].map((h) => el('th', {}, h)))), el('tbody', {}, rows)),
  ];
}

function render() {
  $('#ad-staff').replaceChildren(...staffPane());
  $('#ad-windows').replaceChildren(...windowsPane());
  $('#ad-categories').replaceChildren(...categoriesPane());
}

// Someone else's edit (another supervisor, a file reload) shows here too.
document.addEventListener('hallcall:event', (e) => {
  const t = e.detail && e.detail.type;
  if (t === 'config_edited' || t === 'config_reloaded') load();
});

load();
