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

/** A message for an ApiError, in Chinese with the server's own words. */
export function errorText(e) {
  if (!e) return '未知错误';
  if (e.status === 0) return '网络连接失败，请稍后再试';
  if (e.status === 401 || e.status === 403) return `无权限：${e.message || e.code}`;
  return e.message || e.code || String(e);
}
