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
    ticketState: { waiting: '等待中', called: '已叫号', serving: '办理中', done: '已办结', no_show: '已过号', cancelled: '已取消', expired: '已过期' },
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
    ticketState: { waiting: 'Waiting', called: 'Called', serving: 'Being served', done: 'Done', no_show: 'Missed', cancelled: 'Cancelled', expired: 'Expired' },
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
