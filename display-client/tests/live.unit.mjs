// Unit checks of lib/live.js in real Chromium, with no server: the page and
// its modules come from display-client/ through a routed fake origin, /state
// answers what the test says, and WebSocket is replaced by a fake the test
// drives (open, messages, close). This covers what an end-to-end run cannot
// force: a reconnect answered by a snapshot instead of the missed events,
// replays of old events, a server whose history went backwards.

import { readFile } from 'node:fs/promises';
import { join, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ORIGIN = 'http://hallcall.test';
const MIME = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' };

const PAGE = `<!doctype html><meta charset=utf-8><link rel=stylesheet href="/static/css/base.css"><body>
<script type=module>
import { Live } from '/static/lib/live.js';
window.seen = { calls: [], events: [], states: [], conn: [] };
window.live = new Live({
  hall: 'demo',
  onCall: (e) => seen.calls.push(e.seq + ':' + e.number),
  onEvent: (e) => seen.events.push(e.seq),
  onState: (v) => seen.states.push(v.seq),
  onConnection: (up) => seen.conn.push(up),
  pollMs: 3600000,
});
live.start();
</script>`;

// A WebSocket the test drives from outside.
const FAKE_WS = () => {
  window.__sockets = [];
  class FakeWS {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      window.__sockets.push(this);
    }
    send() {}
    close() {
      if (this.readyState === 3) return;
      this.readyState = 3;
      setTimeout(() => this.onclose && this.onclose({ code: 1000 }), 0);
    }
    __open() {
      this.readyState = 1;
      this.onopen && this.onopen({});
    }
    __msg(obj) {
      this.onmessage && this.onmessage({ data: JSON.stringify(obj) });
    }
  }
  window.WebSocket = FakeWS;
};

function view(seq, recent = []) {
  return { hall: 'demo', name: '测试', name_en: 'Test', seq, now: new Date().toISOString(), categories: [], windows: [], recent_calls: recent, advice: [], load: {}, totals: {}, waiting_series: [] };
}
const called = (seq, number, window = 1) => ({ seq, at: new Date().toISOString(), hall: 'demo', by: 'staff:s01', type: 'ticket_called', number, category: 'general', window, staff: 's01', recall: false });
const other = (seq) => ({ seq, at: new Date().toISOString(), hall: 'demo', by: 'kiosk', type: 'ticket_issued', number: 'X', category: 'general' });

export async function liveUnit(browser, step, assert) {
  const ctx = await browser.newContext();
  let stateSeq = 5;
  await ctx.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/t.html') return route.fulfill({ contentType: 'text/html', body: PAGE });
    if (url.pathname === '/api/v1/halls/demo/state') return route.fulfill({ contentType: 'application/json', body: JSON.stringify(view(stateSeq)) });
    if (url.pathname.startsWith('/static/')) {
      const file = join(ROOT, url.pathname.slice('/static/'.length));
      try {
        return route.fulfill({ contentType: MIME[extname(file)] || 'application/octet-stream', body: await readFile(file) });
      } catch {
        return route.fulfill({ status: 404, body: '' });
      }
    }
    return route.fulfill({ status: 404, body: '' });
  });
  await ctx.addInitScript(FAKE_WS);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const ev = (fn, arg) => page.evaluate(fn, arg);
  const sock = () => ev(() => ({ n: __sockets.length, url: __sockets.at(-1) && __sockets.at(-1).url }));
  const send = (obj) => ev((o) => __sockets.at(-1).__msg(o), obj);
  const calls = () => ev(() => seen.calls.slice());
  const banner = () => ev(() => !document.getElementById('live-banner').hidden);
  const waitSockets = (n) => page.waitForFunction((n) => __sockets.length >= n, n, { timeout: 8000 });

  await step('live.js: starts from /state and subscribes with since=<its seq>', async () => {
    await page.goto(`${ORIGIN}/t.html`);
    await waitSockets(1);
    const s = await sock();
    assert(s.url.endsWith('/api/v1/halls/demo/events?since=5'), `first url ${s.url}`);
    await ev(() => __sockets[0].__open());
    assert(!(await banner()), 'banner shown while connected');
  });

  await step('live.js: a call fires once; replays of it or of older seqs are ignored', async () => {
    await send(called(6, 'A001'));
    await send(called(6, 'A001'));
    await send(called(4, 'A000'));
    await send(other(5));
    const c = await calls();
    assert(JSON.stringify(c) === JSON.stringify(['6:A001']), `calls ${c}`);
    assert((await ev(() => live.lastSeq)) === 6, 'lastSeq not 6');
  });

  await step('live.js: a batch (array) of missed events is applied in order', async () => {
    await send([other(7), called(8, 'A002')]);
    const c = await calls();
    assert(JSON.stringify(c) === JSON.stringify(['6:A001', '8:A002']), `calls ${c}`);
  });

  await step('live.js: a dropped link shows the banner and reconnects with since=lastSeq', async () => {
    await ev(() => __sockets.at(-1).close());
    await page.waitForFunction(() => !document.getElementById('live-banner').hidden, null, { timeout: 2000 });
    assert((await ev(() => document.documentElement.dataset.live)) === 'down', 'data-live not down');
    await waitSockets(2);
    const s = await sock();
    assert(s.url.endsWith('since=8'), `reconnect url ${s.url}`);
  });

  await step('live.js: a reconnect answered by a snapshot emits exactly the calls newer than lastSeq, oldest first', async () => {
    await ev(() => __sockets.at(-1).__open());
    assert(!(await banner()), 'banner still shown after reconnect');
    const recent = [
      { seq: 11, at: new Date().toISOString(), number: 'A004', category: 'general', window: 2, recall: false },
      { seq: 10, at: new Date().toISOString(), number: 'B001', category: 'social', window: 3, recall: false },
      { seq: 8, at: new Date().toISOString(), number: 'A002', category: 'general', window: 1, recall: false },
      { seq: 6, at: new Date().toISOString(), number: 'A001', category: 'general', window: 1, recall: false },
    ];
    await send({ type: 'snapshot', seq: 12, state: view(12, recent) });
    const c = await calls();
    assert(JSON.stringify(c) === JSON.stringify(['6:A001', '8:A002', '10:B001', '11:A004']), `calls ${c}`);
    assert((await ev(() => live.lastSeq)) === 12, 'lastSeq not 12');
    // The same calls arriving again as events change nothing.
    await send(called(10, 'B001', 3));
    await send(called(11, 'A004', 2));
    await send(called(13, 'A005'));
    const c2 = await calls();
    assert(JSON.stringify(c2) === JSON.stringify(['6:A001', '8:A002', '10:B001', '11:A004', '13:A005']), `calls ${c2}`);
  });

  await step('live.js: a snapshot at the same seq after a reconnect emits nothing', async () => {
    await ev(() => __sockets.at(-1).close());
    await waitSockets(3);
    assert((await sock()).url.endsWith('since=13'), 'not since=13');
    await ev(() => __sockets.at(-1).__open());
    await send({ type: 'snapshot', seq: 13, state: view(13, [{ seq: 13, at: new Date().toISOString(), number: 'A005', category: 'general', window: 1, recall: false }]) });
    assert((await calls()).length === 5, 'a call was emitted twice');
  });

  await step('live.js: a server whose history went back (new data directory) is followed, not ignored', async () => {
    await ev(() => __sockets.at(-1).close());
    await waitSockets(4);
    await ev(() => __sockets.at(-1).__open());
    await send({ type: 'snapshot', seq: 2, state: view(2) });
    await send(called(3, 'A001'));
    const c = await calls();
    assert(c.at(-1) === '3:A001' && c.length === 6, `calls ${c}`);
    assert(errors.length === 0, errors.join('\n'));
  });

  await ctx.close();
}
