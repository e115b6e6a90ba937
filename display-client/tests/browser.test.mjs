// Browser test of the hallcall pages in real headless Chromium (issue 7).
//
//   HALLCALL_BIN=target/release/hallcall node display-client/tests/browser.test.mjs
//
// Starts `hallcall serve` on the demo hall in a temporary data directory,
// issues a ticket by clicking the kiosk, logs a clerk in through the clerk
// page and calls the ticket with its keyboard shortcut, and checks the call
// reaches the hall display, the window display and the ticket's status page
// within one second. Then it kills the server, checks the displays show the
// reconnect banner, restarts the server on the same data directory and port,
// and checks the displays recover and show each later call exactly once —
// one made while they were still reconnecting and one after.
// Exits non-zero on any failure; ends with "N passed, N failed".

import { join } from 'node:path';
import { Server, launchBrowser, tempDir, freePort, sleep, cleanup } from './harness.mjs';
import { liveUnit } from './live.unit.mjs';

const BIN = process.env.HALLCALL_BIN;
if (!BIN) {
  console.error('set HALLCALL_BIN to the hallcall binary (cargo build --release --bin hallcall)');
  process.exit(2);
}
const HALL = 'demo';
const KIOSK_TOKEN = process.env.KIOSK_TOKEN || 'kiosk-demo';
const SUPERVISOR_TOKEN = process.env.SUPERVISOR_TOKEN || 'supervisor-demo';
const CALL_DEADLINE_MS = Number(process.env.CALL_DEADLINE_MS || 1000);
const pin = (staff) => staff.replace(/\D/g, '').repeat(2); // demo PINs: s01 -> 0101

let passed = 0;
let failed = 0;
const failures = [];

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok - ${name} (${Date.now() - t0} ms)`);
    return true;
  } catch (e) {
    failed++;
    failures.push(name);
    console.log(`not ok - ${name}\n    ${String((e && e.stack) || e).split('\n').slice(0, 6).join('\n    ')}`);
    return false;
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

const dataDir = tempDir('hallcall-browser-test-');
const logPath = join(dataDir, '..', `${dataDir.split('/').pop()}.log`);
const port = await freePort();
const server = new Server({ bin: BIN, dataDir: join(dataDir, 'data'), port, logPath });
const base = server.base;
let browser;

async function main() {
  browser = await launchBrowser(['--autoplay-policy=no-user-gesture-required']);
  await liveUnit(browser, step, assert);
  await server.start();
  console.log(`# hallcall on ${base}, data ${server.dataDir}, log ${logPath}`);

  const consoleErrors = [];
  const watch = (page, name) => {
    page.on('pageerror', (e) => consoleErrors.push(`${name}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource|WebSocket connection|ERR_CONNECTION_REFUSED|net::ERR|Blocked call to navigator\.vibrate/.test(m.text())) consoleErrors.push(`${name}: ${m.text()}`);
    });
    return page;
  };

  const displays = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const hall = watch(await displays.newPage(), 'hall');
  const win = watch(await (await browser.newContext({ viewport: { width: 480, height: 160 } })).newPage(), 'window');
  const kiosk = watch(await (await browser.newContext({ viewport: { width: 1080, height: 1920 } })).newPage(), 'kiosk');
  const clerk = watch(await (await browser.newContext({ viewport: { width: 1366, height: 768 } })).newPage(), 'clerk');
  const phoneCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  let phone;

  // Every request each page makes, to show that pages do not re-fetch per event.
  const requests = new Map();
  const countRequests = (page) => {
    requests.set(page, []);
    page.on('request', (r) => requests.get(page).push(`${r.method()} ${new URL(r.url()).pathname}`));
    return page;
  };
  const requestsSince = (page, mark) => (requests.get(page) || []).slice(mark);
  for (const p of [hall, win]) countRequests(p);

  const flashesOf = (page, number) => page.evaluate((n) => ((globalThis.__hallcall && globalThis.__hallcall.flashed) || []).filter((f) => f.number === n).length, number);
  const callSeqs = (page) => page.evaluate(() => ((globalThis.__hallcall && globalThis.__hallcall.calls) || []).map((c) => c.seq));
  const bannerVisible = (page) => page.evaluate(() => {
    const b = document.getElementById('live-banner');
    return !!b && !b.hidden && getComputedStyle(b).display !== 'none';
  });

  /** Waits until the call of `number` to window `w` shows on all three pages; returns ms per page. */
  async function callShown(number, w, t0) {
    const within = async (page, name, fn, arg) => {
      await page.waitForFunction(fn, arg, { timeout: CALL_DEADLINE_MS + 4000, polling: 25 });
      const ms = Date.now() - t0;
      assert(ms <= CALL_DEADLINE_MS, `${name} showed ${number} after ${ms} ms (> ${CALL_DEADLINE_MS} ms)`);
      return ms;
    };
    const res = await Promise.all([
      within(hall, 'hall display', ([n, w]) => document.getElementById('hero-number').textContent === n && document.getElementById('hero-window').textContent.includes(String(w)), [number, w]),
      within(win, 'window display', (n) => document.getElementById('wbig').textContent === n, number),
      phone ? within(phone, 'ticket page', ([n, w]) => !document.getElementById('call-box').hidden && document.getElementById('call-window').textContent === String(w) && document.getElementById('number').textContent === n, [number, w]) : 0,
    ]);
    return res;
  }

  await step('pages load: hall (1920×1080) and window 1 (480×160) displays', async () => {
    await hall.goto(`${base}/display/hall?hall=${HALL}&audio=1`);
    await win.goto(`${base}/display/window/1?hall=${HALL}`);
    await hall.waitForFunction(() => document.querySelectorAll('#windows .win').length === 10 && document.documentElement.dataset.live === 'up', null, { timeout: 10000 });
    await win.waitForFunction(() => document.documentElement.dataset.live === 'up' && document.getElementById('wkind').textContent !== '', null, { timeout: 10000 });
    assert((await hall.textContent('#hall-name')).includes('示范镇便民服务中心'), 'hall name missing');
    assert((await hall.locator('#cats tr').count()) === 7, 'expected 7 categories on the hall display');
    assert((await win.textContent('#wno')) === '1', 'window number not shown');
  });

  let ticket1;
  await step('kiosk: clicking a category button issues a ticket and shows it with its QR code', async () => {
    await kiosk.goto(`${base}/kiosk?hall=${HALL}&token=${KIOSK_TOKEN}&print=0`);
    const btn = kiosk.locator('.cat-btn[data-category="general"]');
    await btn.waitFor({ timeout: 10000 });
    await btn.click();
    await kiosk.waitForSelector('#ticket-modal:not([hidden])', { timeout: 5000 });
    ticket1 = await kiosk.evaluate(() => globalThis.__hallcall.lastTicket);
    assert(ticket1 && /^A\d{3,}$/.test(ticket1.number), `unexpected ticket ${JSON.stringify(ticket1)}`);
    assert((await kiosk.textContent('#t-number')) === ticket1.number, 'ticket number not on the printed ticket');
    const qr = await kiosk.waitForFunction(() => {
      const i = document.getElementById('t-qr');
      return i.complete && i.naturalWidth > 0;
    }, null, { timeout: 5000 });
    assert(qr, 'QR image did not load');
    console.log(`#   issued ${ticket1.number} (${ticket1.id}), ahead ${ticket1.ahead}`);
    await kiosk.click('#t-done');
  });

  await step('ticket status page shows the number, people ahead and estimated wait', async () => {
    phone = countRequests(watch(await phoneCtx.newPage(), 'ticket'));
    await phone.goto(`${base}/t/${ticket1.id}?hall=${HALL}`);
    await phone.waitForFunction((n) => document.getElementById('number').textContent === n, ticket1.number, { timeout: 5000 });
    await phone.waitForFunction(() => document.documentElement.dataset.live === 'up', null, { timeout: 10000 });
    assert((await phone.textContent('#state')) === '等待中', 'state is not 等待中');
    assert((await phone.textContent('#ahead')) === '0', 'ahead is not 0');
  });

  await step('clerk page: s01 logs in to window 1 and sees the ticket in its queue', async () => {
    await clerk.goto(`${base}/clerk?hall=${HALL}`);
    await clerk.waitForFunction(() => document.querySelectorAll('#f-window option').length === 10, null, { timeout: 10000 });
    await clerk.fill('#f-staff', 's01');
    await clerk.fill('#f-pin', pin('s01'));
    await clerk.selectOption('#f-window', '1');
    await clerk.click('#login-btn');
    await clerk.waitForSelector('#console-view:not([hidden])', { timeout: 5000 });
    await clerk.waitForFunction((n) => [...document.querySelectorAll('#queue td.n')].some((td) => td.textContent === n), ticket1.number, { timeout: 5000 });
    await clerk.waitForFunction(() => !document.querySelector('.act[data-action="call-next"]').disabled, null, { timeout: 5000 });
  });

  const beforeCall = new Map([hall, win, phone].filter(Boolean).map((p) => [p, requests.get(p).length]));

  await step(`F1 on the clerk console calls the ticket: hall, window and ticket pages show it within ${CALL_DEADLINE_MS} ms`, async () => {
    await clerk.locator('body').click({ position: { x: 5, y: 700 } });
    const t0 = Date.now();
    await clerk.keyboard.press('F1');
    const ms = await callShown(ticket1.number, 1, t0);
    console.log(`#   shown after hall ${ms[0]} ms, window ${ms[1]} ms, ticket ${ms[2]} ms`);
    await clerk.waitForFunction((n) => document.getElementById('cur-number').textContent === n, ticket1.number, { timeout: 3000 });
    assert((await flashesOf(hall, ticket1.number)) === 1, 'hall display did not flash the call exactly once');
    assert((await flashesOf(win, ticket1.number)) === 1, 'window display did not flash the call exactly once');
  });

  await step('the call reached the pages over the WebSocket: no GET /state, no ticket status fetch', async () => {
    await sleep(1500); // longer than any debounce a re-fetch would wait
    for (const [name, page] of [['hall display', hall], ['window display', win], ['ticket page', phone]]) {
      const made = requestsSince(page, beforeCall.get(page)).filter((r) => !r.includes('/announcements/'));
      assert(!made.some((r) => r.endsWith('/state')), `${name} fetched /state after the call: ${made.join(', ')}`);
      assert(!made.some((r) => /^GET \/api\/v1\/halls\/[^/]+\/tickets\//.test(r)), `${name} fetched a ticket status after the call: ${made.join(', ')}`);
      assert(made.length === 0, `${name} made requests after the call: ${made.join(', ')}`);
    }
    const pushed = await hall.evaluate(() => globalThis.__hallcall.live.push);
    assert(pushed === true, 'the hall display is not on pushed views');
  });

  await step('recall (F2) flashes again; start (F4) and complete (F5) make the ticket page ask for a rating', async () => {
    await clerk.keyboard.press('F2');
    await hall.waitForFunction((n) => globalThis.__hallcall.flashed.filter((f) => f.number === n).length === 2, ticket1.number, { timeout: 3000 });
    await clerk.keyboard.press('F4');
    await clerk.waitForFunction(() => !document.querySelector('.act[data-action="complete"]').disabled, null, { timeout: 3000 });
    await win.waitForFunction(() => document.getElementById('wlabel').textContent === '正在办理', null, { timeout: 3000 });
    await clerk.keyboard.press('F5');
    await phone.waitForSelector('#rate-box:not([hidden])', { timeout: 5000 });
    await phone.click('#stars button[data-score="5"]');
    await phone.click('#rate-submit');
    await phone.waitForSelector('#rated-box:not([hidden])', { timeout: 5000 });
    await win.waitForFunction(() => document.getElementById('wbig').textContent === '欢迎光临', null, { timeout: 3000 });
    const st = await server.api(`/api/v1/halls/${HALL}/tickets/${ticket1.id}`);
    assert(st.body.state === 'done' && st.body.rating === 5, `ticket status ${JSON.stringify(st.body)}`);
  });

  await step('evaluator (评价器) at window 1 shows the clerk and the ticket, takes 不满意 with a reason after 办结, and the phone cannot rate again; the window display shows 工号 and 监督电话', async () => {
    const ev = watch(await (await browser.newContext({ viewport: { width: 1280, height: 800 }, hasTouch: true })).newPage(), 'evaluator');
    await ev.goto(`${base}/evaluator/1?hall=${HALL}&token=evaluator-demo-01`);
    await ev.waitForFunction(() => document.getElementById('clerk-name').textContent === '张敏' && document.getElementById('clerk-no').textContent === '工号 1001', null, { timeout: 5000 });
    const ph = await ev.evaluate(() => document.getElementById('phone').textContent);
    assert(ph === '12345', `监督电话 ${ph}`);
    await win.waitForFunction(() => document.getElementById('wstaff').textContent.includes('工号1001') && document.getElementById('wphone').textContent.includes('12345') && document.getElementById('wkind').textContent === '综合受理', null, { timeout: 5000 });
    const token = await clerk.evaluate((h) => JSON.parse(sessionStorage.getItem(`hallcall.clerk.${h}`)).token, HALL);
    const t = await server.api(`/api/v1/halls/${HALL}/tickets`, { method: 'POST', token: KIOSK_TOKEN, body: { category: 'general' } });
    assert(t.status === 201, `issue ${t.status}`);
    for (const a of ['call-next', 'start']) {
      const r = await server.api(`/api/v1/halls/${HALL}/windows/1/${a}`, { method: 'POST', token, body: {} });
      assert(r.status === 200, `${a}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    await ev.waitForFunction((n) => document.documentElement.dataset.mode === 'serving' && document.getElementById('serving-number').textContent === n, t.body.number, { timeout: 5000 });
    const done = await server.api(`/api/v1/halls/${HALL}/windows/1/complete`, { method: 'POST', token, body: {} });
    assert(done.status === 200, `complete ${done.status}`);
    await ev.waitForFunction((n) => document.documentElement.dataset.mode === 'rate' && document.getElementById('rate-number').textContent === n, t.body.number, { timeout: 5000 });
    const levels = await ev.$$eval('#levels button', (bs) => bs.map((b) => b.textContent));
    assert(levels.join(',') === '非常满意,满意,基本满意,不满意,非常不满意', `levels ${levels}`);
    await ev.click('#levels button[data-score="2"]');
    await ev.waitForSelector('#reason:not([hidden])', { timeout: 2000 });
    assert(await ev.isDisabled('#reason-submit'), 'submit without a reason');
    await ev.click('#chips .chip >> nth=0');
    assert(!(await ev.isDisabled('#reason-submit')), 'submit with a reason');
    await ev.click('#reason-submit');
    await ev.waitForFunction(() => document.documentElement.dataset.mode === 'thanks', null, { timeout: 5000 });
    const st = await server.api(`/api/v1/halls/${HALL}/tickets/${t.body.id}`);
    assert(st.body.rating === 2, `rating ${JSON.stringify(st.body)}`);
    const again = await server.api(`/api/v1/halls/${HALL}/tickets/${t.body.id}/rating`, { method: 'POST', body: { score: 5 } });
    assert(again.status === 409 && again.body.error.code === 'already_rated', `phone after evaluator: ${again.status} ${JSON.stringify(again.body)}`);
    // Idle again: today's satisfaction at window 1 (5 from the phone earlier, 2 here).
    await ev.waitForFunction(() => document.documentElement.dataset.mode === 'idle' && /共 2 条评价/.test(document.getElementById('count').textContent), null, { timeout: 10000 });
    await ev.close();
  });

  await step('supervisor dashboard shows windows, queues, statistics and exports CSV', async () => {
    const sup = watch(await displays.newPage(), 'supervisor');
    await sup.goto(`${base}/supervisor?hall=${HALL}&token=${SUPERVISOR_TOKEN}`);
    await sup.waitForFunction(() => document.querySelectorAll('#wins .sw').length === 10 && document.querySelectorAll('#cats tr').length === 7, null, { timeout: 10000 });
    await sup.waitForFunction(() => document.querySelectorAll('#stat-rows tr').length >= 2, null, { timeout: 10000 });
    assert(await sup.locator('#chart svg').count(), 'no chart');
    const [dl] = await Promise.all([sup.waitForEvent('download', { timeout: 5000 }), sup.click('#csv')]);
    assert(/\.csv$/.test(dl.suggestedFilename()), `download name ${dl.suggestedFilename()}`);
    await sup.close();
  });

  await step('supervisor dashboard shows a locked staff id as a red warning and unlocks it', async () => {
    // Five wrong PINs lock s09 (from any address); even the right PIN waits.
    for (let i = 0; i < 5; i++) {
      const r = await server.api(`/api/v1/halls/${HALL}/sessions`, { method: 'POST', body: { staff: 's09', pin: `88${i}`, window: 5 } });
      assert(r.status === 401, `wrong PIN ${i}: ${r.status}`);
    }
    const locked = await server.api(`/api/v1/halls/${HALL}/sessions`, { method: 'POST', body: { staff: 's09', pin: pin('s09'), window: 5 } });
    assert(locked.status === 429 && locked.body.error.code === 'staff_locked', `right PIN while locked: ${locked.status} ${JSON.stringify(locked.body)}`);
    const sup = watch(await displays.newPage(), 'supervisor');
    await sup.goto(`${base}/supervisor?hall=${HALL}&token=${SUPERVISOR_TOKEN}`);
    await sup.waitForSelector('#locks .lock[data-staff="s09"] button', { timeout: 10000 });
    await sup.click('#locks .lock[data-staff="s09"] button');
    await sup.waitForFunction(() => document.getElementById('locks').hidden, null, { timeout: 10000 });
    await sup.close();
    const left = await server.api(`/api/v1/halls/${HALL}/lockouts`, { token: SUPERVISOR_TOKEN });
    assert(left.status === 200 && Array.isArray(left.body) && left.body.length === 0, `lockouts after unlock: ${JSON.stringify(left.body)}`);
  });

  // ---- restart ---------------------------------------------------------------

  const seqsBefore = { hall: await callSeqs(hall), win: await callSeqs(win) };
  const clerkToken = await clerk.evaluate((h) => JSON.parse(sessionStorage.getItem(`hallcall.clerk.${h}`)).token, HALL);

  await step('killing the server shows the reconnect banner on the displays', async () => {
    await server.kill('SIGKILL');
    await hall.waitForFunction(() => !document.getElementById('live-banner').hidden, null, { timeout: 10000 });
    await win.waitForFunction(() => !document.getElementById('live-banner').hidden, null, { timeout: 10000 });
    assert(await bannerVisible(hall), 'hall banner not visible');
    assert(await bannerVisible(win), 'window banner not visible');
    await sleep(1500); // let the displays back off a little
  });

  let ticket2;
  await step('after a restart on the same data and port, a call made while the displays reconnect is shown exactly once', async () => {
    await server.start();
    // Straight away, before the displays are back: issue and call.
    const iss = await server.api(`/api/v1/halls/${HALL}/tickets`, { method: 'POST', token: KIOSK_TOKEN, body: { category: 'general' } });
    assert(iss.status === 201, `issue after restart: ${iss.status} ${JSON.stringify(iss.body)}`);
    ticket2 = iss.body;
    assert(ticket2.number !== ticket1.number, 'a number was issued twice across the restart');
    let call = await server.api(`/api/v1/halls/${HALL}/windows/1/call-next`, { method: 'POST', token: clerkToken, body: {} });
    if (call.status === 401) throw new Error('the clerk token did not survive the restart');
    assert(call.status === 200 && call.body.ticket.number === ticket2.number, `call-next: ${call.status} ${JSON.stringify(call.body)}`);
    const reconnected = await hall.evaluate(() => document.documentElement.dataset.live);
    console.log(`#   called ${ticket2.number} with the hall display ${reconnected === 'up' ? 'already back' : 'still reconnecting'}`);
    await hall.waitForFunction(() => document.getElementById('live-banner').hidden, null, { timeout: 15000 });
    await win.waitForFunction(() => document.getElementById('live-banner').hidden, null, { timeout: 15000 });
    await hall.waitForFunction((n) => document.getElementById('hero-number').textContent === n, ticket2.number, { timeout: 5000 });
    await win.waitForFunction((n) => document.getElementById('wbig').textContent === n, ticket2.number, { timeout: 5000 });
    await sleep(2500); // anything shown twice would show by now
    assert((await flashesOf(hall, ticket2.number)) === 1, `hall flashed ${ticket2.number} ${await flashesOf(hall, ticket2.number)} times`);
    assert((await flashesOf(win, ticket2.number)) === 1, `window flashed ${ticket2.number} ${await flashesOf(win, ticket2.number)} times`);
    // The earlier calls were not shown again.
    assert((await flashesOf(hall, ticket1.number)) === 2, 'hall re-showed the first call (or its recall)');
    assert((await flashesOf(win, ticket1.number)) === 2, 'window re-showed the first call (or its recall)');
  });

  await step(`after the restart, the clerk console works again and a new call shows exactly once within ${CALL_DEADLINE_MS} ms`, async () => {
    // Finish ticket 2 from the console, then issue ticket 3 at the kiosk page and call it with F1.
    await clerk.waitForFunction(() => document.documentElement.dataset.live === 'up', null, { timeout: 15000 });
    if (!(await clerk.isVisible('#console-view'))) throw new Error('the clerk console was logged out by the restart');
    await clerk.waitForFunction((n) => document.getElementById('cur-number').textContent === n, ticket2.number, { timeout: 5000 });
    // Finish it with start (F4) and complete (F5): a no-show now needs a recall first and a confirmation (issue 13 item 5).
    await clerk.keyboard.press('F4');
    await clerk.waitForFunction(() => !document.querySelector('.act[data-action="complete"]').disabled, null, { timeout: 5000 });
    await clerk.keyboard.press('F5');
    await clerk.waitForFunction(() => !document.querySelector('.act[data-action="call-next"]').disabled, null, { timeout: 5000 });
    await kiosk.waitForFunction(() => document.documentElement.dataset.live === 'up', null, { timeout: 15000 });
    await kiosk.locator('.cat-btn[data-category="social"]').click();
    await kiosk.waitForSelector('#ticket-modal:not([hidden])', { timeout: 5000 });
    const ticket3 = await kiosk.evaluate(() => globalThis.__hallcall.lastTicket);
    assert(/^B\d{3,}$/.test(ticket3.number), `unexpected ticket ${JSON.stringify(ticket3)}`);
    await phone.goto(`${base}/t/${ticket3.id}?hall=${HALL}`);
    await phone.waitForFunction((n) => document.getElementById('number').textContent === n && document.documentElement.dataset.live === 'up', ticket3.number, { timeout: 10000 });
    await clerk.waitForFunction((n) => [...document.querySelectorAll('#queue td.n')].some((td) => td.textContent === n), ticket3.number, { timeout: 5000 });
    const t0 = Date.now();
    await clerk.keyboard.press(' ');
    const ms = await callShown(ticket3.number, 1, t0);
    console.log(`#   ${ticket3.number} shown after hall ${ms[0]} ms, window ${ms[1]} ms, ticket ${ms[2]} ms`);
    await sleep(1500);
    assert((await flashesOf(hall, ticket3.number)) === 1, 'hall did not show the new call exactly once');
    assert((await flashesOf(win, ticket3.number)) === 1, 'window did not show the new call exactly once');
    assert((await flashesOf(phone, ticket3.number)) === 1, 'ticket page did not show the call exactly once');
  });

  await step('no display applied any call twice, and each saw every call in order', async () => {
    for (const [name, page, before] of [['hall', hall, seqsBefore.hall], ['window', win, seqsBefore.win]]) {
      const seqs = await callSeqs(page);
      assert(new Set(seqs).size === seqs.length, `${name}: a call seq was applied twice: ${seqs}`);
      assert(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), `${name}: calls out of order: ${seqs}`);
      assert(seqs.length === before.length + 2, `${name}: expected 2 new calls after the restart, saw ${seqs.slice(before.length)}`);
    }
    const all = await server.api(`/api/v1/halls/${HALL}/state`);
    const callSeqsServer = all.body.recent_calls.map((c) => c.seq).sort((a, b) => a - b);
    const hallSeqs = await callSeqs(hall);
    assert(JSON.stringify(callSeqsServer) === JSON.stringify(hallSeqs), `hall saw ${hallSeqs}, server has ${callSeqsServer}`);
  });

  await step('hall display with ?audio=1 queued one announcement per call, in order, one at a time', async () => {
    // Four calls so far (call, recall, and one on each side of the restart).
    await hall.waitForFunction(() => (globalThis.__hallcall.announced || []).length >= 4, null, { timeout: 40000 }).catch(() => {});
    const ann = await hall.evaluate(() => globalThis.__hallcall.announced || []);
    const seqs = ann.map((a) => a.seq);
    assert(seqs.length >= 3, `announced ${JSON.stringify(ann)}`);
    assert(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), `announcements out of order: ${seqs}`);
    console.log(`#   announcements: ${ann.map((a) => `${a.seq}${a.ok ? '' : '(skipped)'}`).join(', ')}`);
  });

  await step('window display shows 暂停服务 and where to go when its clerk pauses', async () => {
    const w2 = watch(await (await browser.newContext({ viewport: { width: 480, height: 160 } })).newPage(), 'window2');
    await w2.goto(`${base}/display/window/2?hall=${HALL}`);
    const login = await server.api(`/api/v1/halls/${HALL}/sessions`, { method: 'POST', body: { staff: 's03', pin: pin('s03'), window: 2 } });
    assert(login.status === 200, `login s03: ${login.status} ${JSON.stringify(login.body)}`);
    await w2.waitForFunction(() => document.getElementById('wstaff').textContent.includes('王强'), null, { timeout: 5000 });
    const p = await server.api(`/api/v1/halls/${HALL}/windows/2/pause`, { method: 'POST', token: login.body.token, body: { reason: 'break' } });
    assert(p.status === 200, `pause: ${p.status} ${JSON.stringify(p.body)}`);
    await w2.waitForFunction(() => document.getElementById('wbig').textContent === '暂停服务' && /请到.*1.*号窗口/.test(document.getElementById('wlabel').textContent), null, { timeout: 5000 });
    await hall.waitForFunction(() => document.querySelector('#windows .win[data-window="2"]').classList.contains('paused'), null, { timeout: 5000 });
  });

  await step('no script errors on any page', async () => {
    assert(consoleErrors.length === 0, consoleErrors.join('\n'));
  });
}

try {
  await main();
} catch (e) {
  failed++;
  console.log(`not ok - test run aborted\n    ${String((e && e.stack) || e)}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  await server.stop().catch(() => {});
  if (!failed) {
    cleanup(dataDir);
    cleanup(logPath);
  }
  else console.log(`# kept ${dataDir} and ${logPath} for inspection`);
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
