// Shared by every browser test file and screenshots.mjs: start a hallcall
// server, launch the system's headless Chromium through playwright-core, and
// the step/assert/report helpers a test file needs.
//
// Writing a browser test for your area: make display-client/tests/<area>.test.mjs
// (scripts/test.sh runs every *.test.mjs in this folder, one after another, each
// a node script that must exit non-zero on failure):
//
//   import { suite } from './harness.mjs';
//   await suite('ratings', async ({ step, assert, startServer, newPage }) => {
//     const server = await startServer({ config: 'display-client/tests/fixtures/big-hall.toml' }); // or {} for the demo hall
//     const page = await newPage({ width: 1920, height: 1080 }, 'hall');   // 'hall' names its errors
//     await step('the hall display shows …', async () => {
//       await page.goto(`${server.base}/display/hall?hall=demo`);
//       assert(await page.isVisible('#hero'), 'no hero');
//     });
//   });
//
// `suite` launches Chromium (TZ=UTC, so a page that shows browser time instead
// of the hall's is caught), runs your function, adds a final step "no script
// errors on any page" for pages made with newPage(), prints "N passed, N failed",
// stops every server it started, removes their data (kept on failure, path
// printed) and exits 1 on any failure. The helpers it hands you:
//   step(name, fn)        runs one named check; a throw fails it, the rest go on.
//                         BROWSER_TEST_FILTER=regex (env) runs only matching steps
//                         (other steps are skipped and counted as skipped).
//   assert(cond, msg)     throws Error(msg) unless cond.
//   startServer({config, env, args, port}) a started Server (see the class) on a fresh
//                         temporary data directory: config = a TOML path (relative to
//                         the repository root or absolute; none = demo hall), env = extra
//                         environment, args = extra `serve` arguments.
//   browser               the playwright Browser; newContext(viewport, opts) and
//                         newPage(viewport, name, opts) make contexts/pages on it
//                         (newPage watches page errors and console errors).
//   watch(page, name)     the same error watching for a page you made yourself.
//   errors                the collected page errors (strings).
//   sleep(ms), log(msg)   log prints a "# msg" comment line.
// Also exported for your own use: Server, launchBrowser, tempDir, freePort,
// sleep, cleanup, textOverflows (the layout check of issue 13 item 11) and
// runAxe (axe-core, issue 13 item 15).
//
// Run one file:  cargo build --bin hallcall -q &&
//   HALLCALL_BIN=$PWD/target/debug/hallcall node display-client/tests/<area>.test.mjs
// (a debug binary serves display-client/ from disk — the folder of the checkout
// it was built in — so page edits need no rebuild; with a binary built elsewhere
// add HALLCALL_PAGES_DIR=display-client to take the pages from this tree).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import net from 'node:net';
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Servers still running when this process ends (an exception, a closed pipe,
// Ctrl-C) are killed rather than left behind.
const running = new Set();
process.on('exit', () => {
  for (const p of running) {
    try {
      p.kill('SIGKILL');
    } catch {}
  }
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));
process.stdout.on('error', () => {}); // a closed pipe must not skip the clean-up

/**
 * A `hallcall serve` process on the demo hall. `start()` waits for /healthz;
 * `kill()` ends it the hard way (like a crash), `stop()` with SIGTERM.
 */
export class Server {
  constructor({ bin, dataDir, port, logPath, config, env, args }) {
    this.bin = bin;
    this.config = config || null;
    this.env = env || {};
    this.args = args || [];
    this.dataDir = dataDir;
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.logPath = logPath;
    this.proc = null;
    this.starts = 0;
  }

  async start(timeoutMs = 60000) {
    if (!existsSync(this.bin)) throw new Error(`HALLCALL_BIN ${this.bin} does not exist`);
    const log = this.logPath ? createWriteStream(this.logPath, { flags: 'a' }) : null;
    this.starts++;
    const argv = ['serve', '--data', this.dataDir, '--listen', `127.0.0.1:${this.port}`];
    if (this.config) argv.push('--config', this.config);
    argv.push(...this.args);
    const proc = spawn(this.bin, argv, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...this.env },
    });
    this.proc = proc;
    running.add(proc);
    this.output = '';
    const collect = (d) => {
      this.output += d.toString();
      if (this.output.length > 200000) this.output = this.output.slice(-100000);
      if (log) log.write(d);
    };
    proc.stdout.on('data', collect);
    proc.stderr.on('data', collect);
    let exited = null;
    proc.on('exit', (code, sig) => {
      running.delete(proc);
      exited = { code, sig };
      if (log) log.end(`\n[hallcall exited code=${code} signal=${sig}]\n`);
    });
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (exited) throw new Error(`hallcall exited during start-up (${JSON.stringify(exited)}):\n${this.output.slice(-3000)}`);
      try {
        const r = await fetch(`${this.base}/healthz`);
        if (r.ok) return this;
      } catch {}
      await sleep(100);
    }
    throw new Error(`hallcall did not answer /healthz within ${timeoutMs} ms:\n${this.output.slice(-3000)}`);
  }

  async kill(signal = 'SIGKILL') {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await Promise.race([gone, sleep(10000)]);
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGKILL');
      await gone;
    }
  }

  stop() {
    return this.kill('SIGTERM');
  }

  /** JSON API call; resolves to {status, body}. */
  async api(path, { method = 'GET', body, token, accept } = {}) {
    const headers = { Accept: accept || 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let data = text;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {}
    return { status: r.status, body: data };
  }
}

/** The repository root (display-client/tests/../..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Headless Chromium. The browser runs with TZ=UTC unless `tz` says otherwise
 * (a context's own timezoneId still wins): the halls are in Asia/Shanghai, so
 * a clock drawn in browser time instead of hall time shows up as 8 hours off.
 */
export async function launchBrowser(extraArgs = [], { tz = 'UTC' } = {}) {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: apt-get install -y chromium chromium-driver fonts-noto-cjk`);
  }
  // playwright-core gives every launch a fresh temporary --user-data-dir of its
  // own (and refuses one in args), which it removes on close.
  // A page fulfilled by the test (HALLCALL_PAGES_DIR) has no address, and
  // Chrome's local-network checks would then block its WebSocket to 127.0.0.1.
  const pagesArgs = process.env.HALLCALL_PAGES_DIR ? ['--disable-features=LocalNetworkAccessChecks'] : [];
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...pagesArgs, ...extraArgs],
    env: { ...process.env, TZ: tz },
    timeout: 60000,
  });
  if (process.env.HALLCALL_PAGES_DIR) {
    // Every context takes the pages from that folder (see pagesFromDisk).
    const newContext = browser.newContext.bind(browser);
    browser.newContext = async (...a) => {
      const ctx = await newContext(...a);
      await pagesFromDisk(ctx);
      return ctx;
    };
  }
  return browser;
}

export function cleanup(dir) {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {}
}

/**
 * Text that does not fit: every element in `root` (default body) with its own
 * visible text whose content is wider or taller than its box while it clips
 * (overflow not visible, or text-overflow: ellipsis), or whose box reaches past
 * its clipping ancestor or the viewport. Returns [{sel, text, why}] (empty: all fits).
 * Runs in the page: `await page.evaluate(textOverflows)` or with a selector.
 */
export function textOverflows(rootSel) {
  const root = (rootSel && document.querySelector(rootSel)) || document.body;
  const vw = document.documentElement.clientWidth;
  const vh = document.documentElement.clientHeight;
  const out = [];
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    else if (el.classList.length) s += '.' + [...el.classList].join('.');
    const p = el.parentElement;
    if (p && !el.id) s = (p.id ? '#' + p.id : p.tagName.toLowerCase() + (p.classList.length ? '.' + p.classList[0] : '')) + ' > ' + s;
    return s;
  };
  const visible = (el) => {
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden' || Number(cs.opacity) === 0) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const ownText = (el) => [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('').trim();
  const clips = (cs) => cs.overflowX !== 'visible' || cs.overflowY !== 'visible';
  for (const el of root.querySelectorAll('*')) {
    if (el.closest('[hidden], [aria-hidden="true"], svg, script, style, template')) continue;
    const text = ownText(el) || (el.tagName === 'INPUT' || el.tagName === 'BUTTON' ? el.value || el.textContent.trim() : '');
    if (!text || !visible(el)) continue;
    // A marquee (text that scrolls through its box by an animation) is meant to overflow.
    const moves = el.getAnimations().some((a) => a.playState === 'running' && a.effect && a.effect.getKeyframes().some((k) => 'transform' in k || 'translate' in k || 'left' in k || 'marginLeft' in k));
    if (moves) continue;
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    const why = [];
    // Scrollable areas (lists that scroll by design) are allowed to be taller.
    const scrolls = /auto|scroll/.test(cs.overflowY);
    if ((clips(cs) || cs.textOverflow === 'ellipsis') && el.scrollWidth > el.clientWidth + 1) why.push(`cut: ${el.scrollWidth}px of text in ${el.clientWidth}px`);
    // A line cut off below (more than half a line: a CJK glyph box is taller than a tight line-height anyway).
    if (clips(cs) && !scrolls && el.scrollHeight > el.clientHeight + Math.max(2, parseFloat(cs.fontSize) * 0.5) && el.clientHeight > 0) why.push(`cut: ${el.scrollHeight}px high in ${el.clientHeight}px`);
    if (r.right > vw + 1 || r.bottom > vh + 1 || r.left < -1 || r.top < -1) {
      // Past the viewport is fine only inside something that scrolls.
      let a = el.parentElement;
      let scroller = false;
      while (a && a !== document.documentElement) {
        const acs = getComputedStyle(a);
        if (/auto|scroll/.test(acs.overflowY) || /auto|scroll/.test(acs.overflowX)) { scroller = true; break; }
        a = a.parentElement;
      }
      const docScrolls = document.documentElement.scrollHeight > vh && getComputedStyle(document.body).overflowY !== 'hidden' && getComputedStyle(document.documentElement).overflowY !== 'hidden';
      if (!scroller && !docScrolls) why.push(`past the viewport (${Math.round(r.left)},${Math.round(r.top)})-(${Math.round(r.right)},${Math.round(r.bottom)}) of ${vw}x${vh}`);
    }
    // Inside its ancestors (up to the first that scrolls, or one it is
    // positioned out of): past a clipping one it is cut, past any other it
    // runs into what is beside it. Vertically a CJK glyph box may stand a
    // little out of a tight line-height: 0.3 em is allowed.
    const fs = parseFloat(cs.fontSize);
    let a = el.parentElement;
    let escaped = cs.position === 'fixed' || cs.position === 'absolute';
    while (a && a !== document.body && !escaped) {
      const acs = getComputedStyle(a);
      if (/auto|scroll/.test(acs.overflowY + acs.overflowX)) break;
      const ar = a.getBoundingClientRect();
      const vTol = Math.max(1, fs * 0.3);
      if (r.right > ar.right + 1 || r.left < ar.left - 1 || r.bottom > ar.bottom + vTol || r.top < ar.top - vTol) {
        why.push(`${clips(acs) ? 'past its clipping' : 'sticks out of'} ${name(a)}`);
        break;
      }
      if (acs.position === 'fixed' || acs.position === 'absolute') escaped = true;
      a = a.parentElement;
    }
    if (why.length) out.push({ sel: name(el), text: text.slice(0, 40), why: why.join('; ') });
  }
  return out;
}

const require = createRequire(import.meta.url);

/**
 * axe-core (npm) on a page: injects it once, runs WCAG 2 A/AA rules and returns
 * the violations of impact serious or critical as [{id, impact, help, nodes:[target…]}].
 */
export async function runAxe(page, { include, impacts = ['serious', 'critical'] } = {}) {
  const has = await page.evaluate(() => typeof globalThis.axe !== 'undefined');
  if (!has) await page.addScriptTag({ content: readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') });
  const res = await page.evaluate(
    async ([inc]) =>
      globalThis.axe.run(inc ? { include: [inc] } : document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        resultTypes: ['violations'],
      }),
    [include || null],
  );
  return res.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 6).map((n) => `${n.target.join(' ')}${n.any && n.any[0] ? ' — ' + n.any[0].message : ''}`) }));
}

const PAGE_FILES = [
  [/^\/display\/hall$/, 'hall.html'],
  [/^\/display\/window\/[^/]+$/, 'window.html'],
  [/^\/evaluator\/[^/]+$/, 'evaluator.html'],
  [/^\/kiosk$/, 'kiosk.html'],
  [/^\/clerk$/, 'clerk.html'],
  [/^\/supervisor$/, 'supervisor.html'],
  [/^\/t\/[^/]+$/, 'ticket.html'],
  [/^\/book$/, 'book.html'],
];
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

/**
 * HALLCALL_PAGES_DIR=display-client (env): the pages and /static files come
 * from that folder instead of the server binary (which serves the folder it
 * was built from: another checkout's, or an older one). For trying page
 * edits against any binary; the API still comes from the server.
 */
export async function pagesFromDisk(ctx, dir = process.env.HALLCALL_PAGES_DIR) {
  if (!dir) return;
  const root = isAbsolute(dir) ? dir : join(ROOT, dir);
  await ctx.route(/\/(static\/.*|display\/.*|evaluator\/.*|kiosk|clerk|supervisor|t\/.*|book)(\?.*)?$/, (route) => {
    const path = new URL(route.request().url()).pathname;
    let file = null;
    if (path.startsWith('/static/')) file = path.slice('/static/'.length);
    else for (const [re, f] of PAGE_FILES) if (re.test(path)) file = f;
    if (!file || file.includes('..') || !existsSync(join(root, file))) return route.continue();
    const ext = file.slice(file.lastIndexOf('.'));
    return route.fulfill({ status: 200, contentType: MIME[ext] || 'application/octet-stream', headers: { 'cache-control': 'no-cache' }, body: readFileSync(join(root, file)) });
  });
}

/**
 * A browser test file's frame: see the comment at the top of this file.
 * `fn` gets {browser, step, assert, startServer, newContext, newPage, watch, errors, sleep, log}.
 */
export async function suite(title, fn, { browserArgs = [] } = {}) {
  const started = Date.now();
  const bin = process.env.HALLCALL_BIN;
  if (!bin) {
    console.error('set HALLCALL_BIN to the hallcall binary (cargo build --bin hallcall)');
    process.exit(2);
  }
  const filter = process.env.BROWSER_TEST_FILTER ? new RegExp(process.env.BROWSER_TEST_FILTER) : null;
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const servers = [];
  const dirs = [];
  const errors = [];
  const contexts = [];
  console.log(`# ${title}`);

  async function step(name, f) {
    if (filter && !filter.test(name)) {
      skipped++;
      return false;
    }
    const t0 = Date.now();
    try {
      await f();
      passed++;
      console.log(`ok - ${name} (${Date.now() - t0} ms)`);
      return true;
    } catch (e) {
      failed++;
      console.log(`not ok - ${name}\n    ${String((e && e.stack) || e).split('\n').slice(0, 8).join('\n    ')}`);
      return false;
    }
  }
  function assert(cond, msg) {
    if (!cond) throw new Error(msg);
  }
  function watch(page, name) {
    page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
    page.on('console', (m) => {
      // Not script errors: failed loads while a server restarts, and Chrome's
      // notice that navigator.vibrate did nothing before the first tap.
      if (m.type() === 'error' && !/Failed to load resource|WebSocket connection|ERR_CONNECTION_REFUSED|net::ERR|Blocked call to navigator\.vibrate/.test(m.text())) errors.push(`${name}: ${m.text()}`);
    });
    return page;
  }
  async function startServer({ config, env, args, port } = {}) {
    const dir = tempDir('hallcall-browser-');
    dirs.push(dir);
    const cfg = config ? (isAbsolute(config) ? config : join(ROOT, config)) : null;
    const server = new Server({ bin, dataDir: join(dir, 'data'), port: port || (await freePort()), logPath: join(dir, 'server.log'), config: cfg, env, args });
    servers.push(server);
    await server.start();
    console.log(`# hallcall on ${server.base}${cfg ? ` (${config})` : ' (demo hall)'}, log ${server.logPath}`);
    return server;
  }
  let browser;
  async function newContext(viewport = { width: 1280, height: 800 }, opts = {}) {
    const ctx = await browser.newContext({ viewport, locale: 'zh-CN', ...opts });
    contexts.push(ctx);
    return ctx;
  }
  async function newPage(viewport, name = 'page', opts = {}) {
    const ctx = await newContext(viewport, opts);
    return watch(await ctx.newPage(), name);
  }
  try {
    browser = await launchBrowser(browserArgs);
    await fn({ browser, step, assert, startServer, newContext, newPage, watch, errors, sleep, log: (m) => console.log(`# ${m}`) });
    if (!filter || filter.test('no script errors on any page')) {
      await step('no script errors on any page', async () => assert(errors.length === 0, errors.join('\n')));
    }
  } catch (e) {
    failed++;
    console.log(`not ok - ${title}: run aborted\n    ${String((e && e.stack) || e)}`);
  } finally {
    for (const c of contexts) await c.close().catch(() => {});
    if (browser) await browser.close().catch(() => {});
    for (const s of servers) await s.stop().catch(() => {});
    if (!failed) for (const d of dirs) cleanup(d);
    else if (dirs.length) console.log(`# kept ${dirs.join(', ')} for inspection`);
  }
  console.log(`\n${title}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  process.exit(failed ? 1 : 0);
}
