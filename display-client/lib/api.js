// Small helpers shared by every page: URL parameters, the JSON API, formatting.
// No framework, no build step: plain ES modules served from /static/lib/.

/** Query parameters of the page URL. */
export const params = new URLSearchParams(location.search);

/** The hall id of this page (`?hall=ID`, default `demo`). */
export function hallId() {
  return params.get('hall') || 'demo';
}

/** `/api/v1/halls/{hall}` for this page's hall. */
export function hallBase(hall = hallId()) {
  return `/api/v1/halls/${encodeURIComponent(hall)}`;
}

/** The last non-empty path segment, e.g. `7` of `/display/window/7`. */
export function lastPathSegment() {
  const parts = location.pathname.split('/').filter(Boolean);
  return parts.length ? decodeURIComponent(parts[parts.length - 1]) : '';
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || `http_${status}`;
  }
}

/**
 * Calls the JSON API. Resolves to the parsed body (null for 204 or an empty
 * body); rejects with ApiError carrying the server's `{error:{code,message}}`.
 */
export async function api(path, { method = 'GET', body, token, accept, timeoutMs = 8000 } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers['Authorization'] = `Bearer ${token}`;
  headers['Accept'] = accept || 'application/json';
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      signal: ctl.signal,
    });
  } catch (e) {
    throw new ApiError(0, 'network', '网络连接失败 / network error');
  } finally {
    clearTimeout(timer);
  }
  if (accept && accept !== 'application/json') {
    if (!res.ok) throw await errorOf(res);
    return res;
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const err = data && data.error;
    throw new ApiError(res.status, err && err.code, (err && err.message) || (typeof data === 'string' ? data : ''));
  }
  return res.status === 204 ? null : data;
}

async function errorOf(res) {
  try {
    const data = await res.json();
    return new ApiError(res.status, data.error && data.error.code, data.error && data.error.message);
  } catch {
    return new ApiError(res.status, null, `HTTP ${res.status}`);
  }
}

/** Escapes text for innerHTML. */
export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** document.querySelector shorthand. */
export const $ = (sel, root = document) => root.querySelector(sel);

/** Creates an element: el('div', {class: 'x', onclick}, 'text', child...). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** Rounded minutes for an estimated wait: "约 12 分钟" / "about 12 min". */
export function fmtWait(s, lang = 'zh') {
  if (s === null || s === undefined) return lang === 'en' ? '—' : '—';
  const m = Math.round(s / 60);
  if (m < 1) return lang === 'en' ? '< 1 min' : '不足1分钟';
  if (m >= 120) {
    const h = Math.floor(m / 60);
    const r = m % 60;
    return lang === 'en' ? `${h} h ${r} min` : `约${h}小时${r ? r + '分' : ''}`;
  }
  return lang === 'en' ? `${m} min` : `约${m}分钟`;
}

/** mm:ss or h:mm:ss of a duration in seconds. */
export function fmtDuration(s) {
  if (s === null || s === undefined || !isFinite(s)) return '—';
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(h ? 2 : 1, '0');
  return h ? `${h}:${mm}:${String(sec).padStart(2, '0')}` : `${mm}:${String(sec).padStart(2, '0')}`;
}

// Every time a page shows is in the hall's time zone (the view's `timezone`,
// set by lib/live.js on each view), never the browser's: a hall PC or a
// citizen's phone set to another zone (or UTC, as many kiosks ship) must still
// show the hall's clock. Asia/Shanghai until the first view says otherwise.
let hallTz = 'Asia/Shanghai';
const formats = new Map();

/** Sets the zone every time below is shown in; true when it changed. */
export function setHallTimezone(tz) {
  if (!tz || tz === hallTz) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    return false; // an unknown zone name: keep the last good one
  }
  hallTz = tz;
  formats.clear();
  return true;
}

/** The hall's time zone (IANA name). */
export function hallTimezone() {
  return hallTz;
}

/** {year, month, day, hour, minute, second, weekday (0 = Sunday)} of a Date in the hall's zone. */
export function hallParts(d) {
  let f = formats.get('parts');
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: hallTz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
    formats.set('parts', f);
  }
  const o = {};
  for (const { type, value } of f.formatToParts(d)) o[type] = value;
  return {
    year: Number(o.year),
    month: Number(o.month),
    day: Number(o.day),
    hour: Number(o.hour) % 24,
    minute: Number(o.minute),
    second: Number(o.second),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(o.weekday),
  };
}

const p2 = (n) => String(n).padStart(2, '0');

/** HH:MM (or HH:MM:SS) of an RFC 3339 time, in the hall's zone. */
export function fmtTime(iso, withSeconds = false) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const t = hallParts(d);
  return `${p2(t.hour)}:${p2(t.minute)}${withSeconds ? ':' + p2(t.second) : ''}`;
}

/** YYYY-MM-DD of an instant (ms, default now) in the hall's zone: the hall's calendar day. */
export function hallDate(ms = Date.now()) {
  const t = hallParts(new Date(ms));
  return `${t.year}-${p2(t.month)}-${p2(t.day)}`;
}

/** YYYY-MM-DD HH:MM:SS of an RFC 3339 time, in the hall's zone (the printed ticket). */
export function fmtDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const t = hallParts(d);
  return `${t.year}-${p2(t.month)}-${p2(t.day)} ${p2(t.hour)}:${p2(t.minute)}:${p2(t.second)}`;
}

const WEEK_ZH = ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'];
const WEEK_EN = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Keeps `[data-clock]` and `[data-date]` elements ticking, in the hall's zone and by the server's clock (offsetMs). */
export function startClock(lang = 'zh', offsetMs = () => 0) {
  const tick = () => {
    const d = hallParts(new Date(Date.now() + offsetMs()));
    for (const e of document.querySelectorAll('[data-clock]')) e.textContent = `${p2(d.hour)}:${p2(d.minute)}:${p2(d.second)}`;
    for (const e of document.querySelectorAll('[data-date]')) {
      e.textContent =
        lang === 'en'
          ? `${WEEK_EN[d.weekday]} ${d.year}-${p2(d.month)}-${p2(d.day)}`
          : `${d.year}年${d.month}月${d.day}日 ${WEEK_ZH[d.weekday]}`;
    }
  };
  tick();
  return setInterval(tick, 1000);
}

/** Debounces fn by ms (trailing). */
export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
