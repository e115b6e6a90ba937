// 好差评: the national five levels and the common reasons for a 差评, shared
// by the evaluator, the phone page and the supervisor's 差评 panel. The
// codes are the API's (the core checks them: hall::rating::ReasonCode).

/** [score, label], best first, as the evaluator shows them. */
export const LEVELS = [
  [5, '非常满意'],
  [4, '满意'],
  [3, '基本满意'],
  [2, '不满意'],
  [1, '非常不满意'],
];

/** [code, label] of the common reasons offered for 不满意 / 非常不满意. */
export const REASONS = [
  ['long_wait', '等候时间过长'],
  ['slow', '办事效率低'],
  ['attitude', '服务态度不好'],
  ['unskilled', '业务不熟练'],
  ['not_told_at_once', '未一次性告知'],
  ['unclear_materials', '材料要求不清楚'],
  ['other', '其他'],
];

/** Longest reason text the API accepts (characters). */
export const MAX_REASON_CHARS = 200;

/** Follow-up status of a 差评, in order. */
export const FOLLOW_UP = [
  ['pending', '待回访'],
  ['contacted', '已回访'],
  ['rectified', '已整改'],
];

export function levelName(score) {
  const l = LEVELS.find(([s]) => s === Number(score));
  return l ? l[1] : '';
}

export function reasonName(code) {
  const r = REASONS.find(([c]) => c === code);
  return r ? r[1] : code;
}

/** Is this score one of the two bad levels (a reason is required)? */
export function isBad(score) {
  return Number(score) <= 2;
}

/** Characters as the server counts them (code points, not UTF-16 units). */
export function charCount(s) {
  return [...(s || '')].length;
}
