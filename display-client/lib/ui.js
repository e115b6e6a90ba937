// Small UI pieces shared by the interactive pages (kiosk, clerk, supervisor, ticket).

import { el } from './api.js';

let box = null;

/** Shows a short message at the bottom right; kind: 'info' | 'ok' | 'error'. */
export function toast(text, kind = 'info', ms = 4000) {
  if (!box) {
    box = el('div', { class: 'toast-box', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const t = el('div', { class: `toast ${kind}` }, text);
  box.append(t);
  setTimeout(() => t.remove(), ms);
  return t;
}

// Chinese words for the API's stable error codes; the server's (English)
// message is the fallback.
const CODES = {
  bad_credentials: '工号或密码错误',
  unknown_category: '业务类别不存在',
  unknown_window: '窗口不存在',
  unknown_ticket: '号票不存在',
  unknown_staff: '工号不存在',
  unknown_appointment: '预约码无效，请核对',
  unknown_advice: '该建议已处理或不存在',
  hall_closed: '当前不在办公时间',
  window_closed: '窗口未开放',
  window_paused: '窗口已暂停',
  window_busy: '当前号码尚未办结，请先办结、过号或转办',
  nothing_called: '当前没有正在呼叫的号码',
  nothing_serving: '当前没有正在办理的号码',
  recall_first: '请先重呼，重呼后仍未到场再标记过号',
  daily_cap_reached: '今日号已取完，请明日再来',
  last_ticket_passed: '临近下班，今日已停止取号',
  already_summoned: '该窗口已在召集人员，或该人员已被召集到其他窗口',
  not_paused: '窗口未处于暂停状态',
  already_open: '窗口已开放',
  not_on_duty: '您当前不在岗（备岗待命中）',
  not_a_post: '您不是该窗口的A岗或B岗人员',
  already_logged_in: '该工号已在其他窗口登录',
  window_full: '该窗口A岗、B岗均已有人登录',
  no_standby: '没有备岗人员可以交接',
  cannot_serve: '目标窗口不能办理该业务',
  empty_transfer: '请选择转办的业务或窗口',
  transfer_to_self: '不能转给本窗口',
  not_requeueable: '该号不能重新排队',
  not_done: '业务办结后才能评价',
  already_rated: '已经评价过了',
  appointment_used: '该预约码已签到',
  appointment_too_early: '未到签到时间（预约时段前15分钟起可签到）',
  appointment_category: '预约的业务与所选业务不一致',
  close_while_busy: '窗口正在叫号或办理，不能关闭',
  no_staff_available: '没有可安排的工作人员',
  not_cancellable: '该号已被叫号或已办结，不能取消',
  unknown_number: '今天没有这个号码',
  not_callable: '该号码当前不在等候中，不能叫号',
  held_elsewhere: '该号码已被其他窗口挂起',
  directed_elsewhere: '该号码已转给其他窗口',
  chain_same_category: '联办业务不能与当前业务相同',
  clerk_only: '只有窗口工作人员可以操作',
  supervisor_only: '只有值班长可以操作',
  not_logged_in: '该工号当前没有登录',
  staff_locked: '该工号密码错误次数过多，已暂时锁定，请联系值班长解锁',
  rate_limited: '操作太频繁，请稍后再试',
  storage_failed: '系统暂时无法保存，请稍后再试（本次操作未生效）',
  session_store_failed: '系统暂时无法保存登录，请稍后再试',
  shutting_down: '系统正在重启，请稍后再试',
  not_owner: '系统正在切换服务节点，请稍后再试',
  no_owner: '系统正在切换服务节点，请稍后再试',
  unknown_hall: '大厅不存在',
  slot_full: '该时段已约满，请选择其他时段',
  booking_banned: '近期多次预约未到，暂时不能预约',
  appointment_expired: '该预约已过期',
  appointment_missed: '该预约已过签到时间',
  no_appointments: '该业务不接受预约',
  duplicate_id: '编号已存在',
  bad_pin: '密码须为6至12位数字',
  note_required: '请填写处理说明',
  note_too_long: '说明太长，请精简',
  reason_required: '请选择或填写差评原因',
  reason_too_long: '原因太长，请精简',
  unknown_notice: '该公告不存在或已删除',
  bad_notice: '公告内容不符合要求',
};

// Codes whose server message carries the detail a person must fix (which
// field of the configuration, which date): the Chinese lead-in, then it.
const DETAILED = {
  bad_config: '配置有误：',
  bad_request: '请求有误：',
};

/** A message for an ApiError, in Chinese, with the server's own words as fallback. */
export function errorText(e) {
  if (!e) return '未知错误';
  if (e.status === 0) return '网络连接失败，请稍后再试';
  if (CODES[e.code]) return CODES[e.code];
  if (DETAILED[e.code]) return `${DETAILED[e.code]}${e.message || e.code}`;
  if (e.status === 401) return `未授权：${e.message || e.code}`;
  if (e.status === 403) return `无权限：${e.message || e.code}`;
  return e.message || e.code || String(e);
}

/**
 * Shrinks the font of each element until its text fits its box (no wider than
 * clientWidth, no taller than clientHeight), never below `minPx` (14 px: the
 * readable floor, issue 13 item 15). Long names in a fixed layout — a
 * category of ten characters, an English name, 约11小时39分 — are shown
 * whole and a little smaller instead of cut with "…" or pushed off screen.
 * The element must clip (overflow hidden) and have a bounded size; it starts
 * from its stylesheet size each time, so a shorter text grows back.
 * Returns the elements that still do not fit at minPx.
 */
export function fitText(els, { minPx = 14, step = 0.93 } = {}) {
  const stuck = [];
  // Too wide, or (text that wraps) a line more than the box holds. Height is
  // not judged for one-line text: a CJK font's glyph box is taller than a
  // tight line-height at every size, which no shrinking changes.
  const over = (e) => {
    if (e.scrollWidth > e.clientWidth + 1) return true;
    const cs = getComputedStyle(e);
    return cs.whiteSpace !== 'nowrap' && e.scrollHeight > e.clientHeight + parseFloat(cs.fontSize) * 0.3;
  };
  for (const e of els) {
    if (!e || !e.isConnected) continue;
    e.style.fontSize = '';
    // Displays redraw the same texts in the same boxes on every view: a size
    // found once is reused (one layout instead of one per step).
    const key = `${e.className}|${e.clientWidth}x${e.clientHeight}|${e.textContent}`;
    const known = fitted.get(key);
    if (known) {
      e.style.fontSize = known;
      if (!over(e)) continue;
      e.style.fontSize = '';
    }
    if (!over(e)) continue;
    let px = parseFloat(getComputedStyle(e).fontSize);
    for (let i = 0; i < 40 && over(e) && px > minPx; i++) {
      px = Math.max(minPx, Math.floor(px * step * 10) / 10);
      e.style.fontSize = `${px}px`;
    }
    if (fitted.size > 2000) fitted.clear();
    fitted.set(key, e.style.fontSize);
    if (over(e)) stuck.push(e);
  }
  return stuck;
}
const fitted = new Map();

/**
 * Calls fn now, when the fonts have loaded, and whenever one of `els` changes
 * size (a panel that gets taller, a font that arrives late): fitted text is
 * fitted again against the box it finally has.
 */
export function refitOn(els, fn) {
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(fn);
  if (typeof ResizeObserver === 'undefined') return addEventListener('resize', fn);
  let pending = 0;
  const ro = new ResizeObserver(() => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(fn);
  });
  for (const e of els) if (e) ro.observe(e);
}
