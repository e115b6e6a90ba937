// User-facing words for the hall's enums, Chinese by default, English by ?lang=en.

export const LABELS = {
  zh: {
    kind: { comprehensive: '综合受理', specialist: '专科', tidal: '潮汐', fallback: '兜底' },
    kindShort: { comprehensive: '综合', specialist: '专科', tidal: '潮汐', fallback: '兜底' },
    kindLong: { comprehensive: '综合受理窗口', specialist: '专科窗口', tidal: '潮汐窗口', fallback: '兜底窗口' },
    state: { closed: '未开放', open: '空闲', calling: '呼叫中', serving: '办理中', paused: '暂停服务' },
    pause: { leave: '离岗', meeting: '开会', break: '休息', no_staff: '无人值守', other: '暂停' },
    post: { a: 'A岗', b: 'B岗', relief: '顶岗' },
    priority: { normal: '普通', elderly: '老年人', disabled: '残疾人', pregnant: '孕妇', military: '军人', appointment: '预约' },
    ticketState: { waiting: '等待中', called: '已叫号', serving: '办理中', held: '已挂起', done: '已办结', no_show: '已过号', cancelled: '已取消', expired: '已过期' },
    level: { green: '正常', yellow: '黄色预警', red: '红色预警' },
  },
  en: {
    kind: { comprehensive: 'One-stop', specialist: 'Specialist', tidal: 'Tidal', fallback: 'Fallback' },
    kindShort: { comprehensive: 'One-stop', specialist: 'Spec.', tidal: 'Tidal', fallback: 'Fallback' },
    kindLong: { comprehensive: 'One-stop window', specialist: 'Specialist window', tidal: 'Tidal window', fallback: 'Fallback window' },
    state: { closed: 'Closed', open: 'Available', calling: 'Calling', serving: 'Serving', paused: 'Paused' },
    pause: { leave: 'away', meeting: 'meeting', break: 'break', no_staff: 'unstaffed', other: 'paused' },
    post: { a: 'Post A', b: 'Post B', relief: 'Relief' },
    priority: { normal: 'Normal', elderly: 'Elderly', disabled: 'Disabled', pregnant: 'Pregnant', military: 'Military', appointment: 'Appointment' },
    ticketState: { waiting: 'Waiting', called: 'Called', serving: 'Being served', held: 'On hold', done: 'Done', no_show: 'Missed', cancelled: 'Cancelled', expired: 'Expired' },
    level: { green: 'OK', yellow: 'Yellow alert', red: 'Red alert' },
  },
};

export function langOf(params) {
  return (params.get('lang') || '').toLowerCase().startsWith('en') ? 'en' : 'zh';
}

/** label(lang, 'kind', 'tidal') → '潮汐'; unknown values come back unchanged. */
export function label(lang, group, value) {
  const g = (LABELS[lang] || LABELS.zh)[group] || {};
  return g[value] ?? value ?? '';
}

/** "3号窗口" / "Window 3". */
export function windowName(lang, n) {
  return lang === 'en' ? `Window ${n}` : `${n}号窗口`;
}

/** "1、2号窗口" / "windows 1, 2". */
export function windowList(lang, ns) {
  if (!ns || !ns.length) return '';
  return lang === 'en' ? `${ns.length > 1 ? 'windows' : 'window'} ${ns.join(', ')}` : `${ns.join('、')}号窗口`;
}

/** Category name by id from a HallView. */
export function categoryName(view, id, lang = 'zh') {
  const c = view && view.categories && view.categories.find((x) => x.id === id);
  if (!c) return id || '';
  return lang === 'en' ? c.name_en || c.name : c.name;
}

// ---- reasons and warnings -------------------------------------------------
// Events carry a reason as a code with its figures ({code: 'tidal_overload',
// sustain_s: 60, …}); these words are the only place it becomes a sentence.
// Events logged before codes carry a sentence: it is shown as it is.

const REASON = {
  zh: {
    login: () => '窗口人员登录',
    logout: () => '退出登录',
    handover: () => '交接',
    pause: (r) => label('zh', 'pause', r.pause),
    supervisor_open: () => '主管开窗',
    supervisor_close: () => '主管关窗',
    tidal_overload: (r) =>
      `持续${r.sustain_s}秒高负荷：排队${r.waiting}人，每窗口${r.per_window}人（阈值${r.open_per_window}），新取号预计等待${r.newest_wait_s}秒（阈值${r.open_wait_s}）${r.no_free_staff ? '；无空闲人员，请主管安排' : ''}`,
    tidal_underload: (r) => `持续${r.sustain_s}秒低负荷：每窗口${r.per_window}人（阈值${r.close_per_window}）`,
    advice_accepted: (r) => `主管采纳建议：${reasonText('zh', r.why)}`,
    summons_unanswered: (r) => `已召集的人员（${r.staff}）未按时到岗，且无其他空闲人员`,
  },
  en: {
    login: () => 'clerk logged in',
    logout: () => 'clerk logged out',
    handover: () => 'handover',
    pause: (r) => label('en', 'pause', r.pause),
    supervisor_open: () => 'opened by the supervisor',
    supervisor_close: () => 'closed by the supervisor',
    tidal_overload: (r) =>
      `high load for ${r.sustain_s} s: ${r.waiting} waiting, ${r.per_window} per window (threshold ${r.open_per_window}), a new ticket would wait ${r.newest_wait_s} s (threshold ${r.open_wait_s})${r.no_free_staff ? '; nobody is free, please assign someone' : ''}`,
    tidal_underload: (r) => `low load for ${r.sustain_s} s: ${r.per_window} per window (threshold ${r.close_per_window})`,
    advice_accepted: (r) => `advice accepted by the supervisor: ${reasonText('en', r.why)}`,
    summons_unanswered: (r) => `the summoned clerk (${r.staff}) did not log in in time and nobody else is free`,
  },
};

/** A reason ({code, …} or an old sentence) in words; '' when absent. */
export function reasonText(lang, r) {
  if (!r) return '';
  if (typeof r === 'string') return r;
  if (r.code === 'text') return r.text || '';
  const f = (REASON[lang] || REASON.zh)[r.code];
  return f ? f(r) : r.code || '';
}

const minutes = (s) => Math.floor((s || 0) / 60);

/** Categories by name, joined: "社保、医保" / "Social security, Medical". */
function categoryNames(view, ids, lang) {
  return (ids || []).map((c) => categoryName(view, c, lang)).join(lang === 'en' ? ', ' : '、');
}

/** A window by its configured name (from the view), else "3号窗口" / "Window 3". */
function windowByName(lang, view, n) {
  const w = view && view.windows && view.windows.find((x) => x.number === n);
  return (w && w.name) || windowName(lang, n);
}

/** "综合业务由2号窗口、3号窗口办理；社保由2号窗口办理": per category, the windows serving it now (never an empty list). */
function servingText(lang, f, view) {
  const parts = (f.serving || [])
    .filter((s) => s.windows && s.windows.length)
    .map((s) => {
      const names = s.windows.map((n) => windowByName(lang, view, n)).join(lang === 'en' ? ', ' : '、');
      return lang === 'en' ? `${categoryName(view, s.category, lang)} at ${names}` : `${categoryName(view, s.category, lang)}由${names}办理`;
    });
  return parts.join(lang === 'en' ? '; ' : '；');
}

/** What a failover did, from its figures (a warning's detail or a failover event). */
function failoverText(lang, f, view) {
  const serving = servingText(lang, f, view);
  if (serving) {
    // Per category, by window name (issue 13 item 3): a planned pause reads as a pause, not a failure.
    const unserved = f.unserved || [];
    const n = f.tickets_moved ?? (f.tickets || []).length;
    const why = reasonText(lang, f.reason);
    if (lang === 'en') {
      let s = `${why}${n ? `: ${n} transferred ticket${n === 1 ? '' : 's'} back to the common queue` : ''}; ${serving}`;
      if (unserved.length) s += `; no open window serves ${categoryNames(view, unserved, lang)}, act now`;
      return s;
    }
    let s = `${why}${n ? `：${n}张转办票退回公共队列` : ''}；${serving}`;
    if (unserved.length) s += `；${categoryNames(view, unserved, lang)}无窗口可办，请立即安排`;
    return s;
  }
  const unserved = f.unserved || [];
  const moved = (f.categories || []).filter((c) => !unserved.includes(c));
  const to = f.to_windows || [];
  const n = f.tickets_moved ?? (f.tickets || []).length;
  const why = reasonText(lang, f.reason);
  if (lang === 'en') {
    let s = `${why}: ${n} transferred ticket${n === 1 ? '' : 's'} back to the common queue`;
    if (moved.length && to.length) s += `; ${categoryNames(view, moved, lang)} now at ${windowList(lang, to)}`;
    if (unserved.length) s += `; no open window serves ${categoryNames(view, unserved, lang)}, act now`;
    return s;
  }
  let s = `${why}：${n}张转办票退回公共队列`;
  if (moved.length && to.length) s += `，${categoryNames(view, moved, lang)}改由${windowList(lang, to)}办理`;
  if (unserved.length) s += `；${categoryNames(view, unserved, lang)}无窗口可办，请立即安排`;
  return s;
}

/** A warning event in words: from its detail, or its old sentence. */
export function warningText(lang, ev, view) {
  const d = ev.detail;
  if (!d) return ev.message || '';
  const cat = categoryName(view, ev.category, lang);
  const en = lang === 'en';
  switch (d.code) {
    case 'service_time':
      return en
        ? `${windowName(lang, ev.window)}: ${ev.number} in service for ${minutes(d.elapsed_s)} min, ${cat} limit ${minutes(d.limit_s)} min`
        : `${windowName(lang, ev.window)}办理${ev.number}已${minutes(d.elapsed_s)}分钟，${cat}限时${minutes(d.limit_s)}分钟`;
    case 'wait':
      return en
        ? `${ev.number} has waited ${minutes(d.waited_s)} min, over the ${cat} target of ${minutes(d.target_s)} min`
        : `${ev.number}已等候${minutes(d.waited_s)}分钟，超过${cat}目标${minutes(d.target_s)}分钟`;
    case 'failover':
    case 'failover_unserved':
      return failoverText(lang, d, view);
    case 'bad_rating': {
      // 好差评: the reason is in the supervisor's 差评 list, not in the (public) warning.
      const lv = d.score <= 1 ? (en ? 'very dissatisfied' : '非常不满意') : en ? 'dissatisfied' : '不满意';
      return en
        ? `${ev.number} at ${windowName(lang, ev.window)} rated ${lv} (${cat}): follow it up in the complaints list`
        : `${windowName(lang, ev.window)}${ev.number}（${cat}）评价为「${lv}」，请在差评回访中跟进`;
    }
    default:
      return ev.message || d.code || '';
  }
}

/** A failover event in words (which windows took over, what nobody serves). */
export function failoverEventText(lang, ev, view) {
  return failoverText(lang, ev, view);
}
