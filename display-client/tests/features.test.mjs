// Issue 15 items 1, 3, 4, 5, 6, 8 in the browser (demo hall): the phone page
// says 即将到号 and vibrates once, and cancels with 不排了 after a confirm;
// the clerk calls a number (指定叫号), holds the ticket (挂起), sees it in
// 挂起中 and calls it back, then completes and sends it on (多窗联办); the
// phone page says where to go next; the supervisor publishes a notice and
// the hall display scrolls it beside its own, with the sent-on ticket;
// removing it takes it off the display.
//
//   cargo build --bin hallcall -q &&
//   HALLCALL_BIN=$PWD/target/debug/hallcall node display-client/tests/features.test.mjs
// (SHOT_DIR=dir to keep screenshots of the phone, the console, the dashboard card and the display)

import { join } from 'node:path';
import { suite } from './harness.mjs';

const HALL = 'demo';
const H = `/api/v1/halls/${HALL}`;
const KIOSK = 'kiosk-demo';
const SUP = 'supervisor-demo';
const pin = (staff) => staff.replace(/\D/g, '').repeat(2); // demo PINs: s01 -> 0101

await suite('features', async ({ step, assert, startServer, newPage, browser, watch }) => {
  const server = await startServer({});
  const base = server.base;
  // SHOT_DIR=dir keeps screenshots of each page to look at.
  const shots = process.env.SHOT_DIR;
  const shot = (target, name) => (shots ? target.screenshot({ path: join(shots, name) }) : null);
  const must = async (what, p) => {
    const r = await p;
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const issue = (category = 'general') => must('issue', server.api(`${H}/tickets`, { method: 'POST', token: KIOSK, body: { category } }));
  const status = (id) => must('status', server.api(`${H}/tickets/${id}`));
  const tickets = [];
  for (let i = 0; i < 6; i++) tickets.push(await issue());

  /** A phone page that records navigator.vibrate calls in __vibrated. */
  const phoneFor = async (name) => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await ctx.addInitScript(() => {
      window.__vibrated = [];
      navigator.vibrate = (p) => (window.__vibrated.push(p), true);
    });
    const p = await ctx.newPage();
    watch(p, name);
    return p;
  };

  // ---- the phone: 即将到号, 不排了 ---------------------------------------------------
  const phone = await phoneFor('phone');
  await step('phone: a ticket with 3 or fewer ahead says 即将到号 and vibrates once', async () => {
    await phone.goto(`${base}/t/${tickets[2].id}?hall=${HALL}`);
    await phone.waitForSelector('#near-box:not([hidden])', { timeout: 8000 });
    assert((await phone.textContent('#near-box')).includes('即将到号'), 'no 即将到号');
    const first = await phone.evaluate(() => window.__vibrated);
    assert(first.length === 1, `vibrations ${JSON.stringify(first)}`);
    await phone.reload();
    await phone.waitForSelector('#near-box:not([hidden])', { timeout: 8000 });
    const v = await phone.evaluate(() => window.__vibrated.length);
    assert(v === 0, `vibrated again after a reload: ${v}`);
    await shot(phone, 'phone-near-turn.png');
  });
  await step('phone: a ticket 5 ahead is not near; it vibrates when a call moves it up', async () => {
    await phone.goto(`${base}/t/${tickets[5].id}?hall=${HALL}`);
    await phone.waitForSelector('#cancel-btn:not([hidden])', { timeout: 8000 });
    assert(await phone.isHidden('#near-box'), '即将到号 shown with 5 ahead');
    const login = await must('login', server.api(`${H}/sessions`, { method: 'POST', body: { staff: 's03', pin: pin('s03'), window: 2 } }));
    for (let i = 0; i < 2; i++) {
      await must('call', server.api(`${H}/windows/2/call-next`, { method: 'POST', token: login.token, body: {} }));
      await must('start', server.api(`${H}/windows/2/start`, { method: 'POST', token: login.token, body: {} }));
      await must('complete', server.api(`${H}/windows/2/complete`, { method: 'POST', token: login.token, body: {} }));
    }
    await phone.waitForSelector('#near-box:not([hidden])', { timeout: 8000 });
    await phone.waitForFunction(() => window.__vibrated.length === 1, null, { timeout: 5000 });
    await must('logout', server.api(`${H}/windows/2/logout`, { method: 'POST', token: login.token, body: {} }));
  });
  await step('phone: 不排了 asks first; dismissed it keeps the ticket, accepted it cancels', async () => {
    await phone.goto(`${base}/t/${tickets[4].id}?hall=${HALL}`);
    await phone.waitForSelector('#cancel-btn:not([hidden])', { timeout: 8000 });
    phone.once('dialog', (d) => d.dismiss());
    await phone.click('#cancel-btn');
    assert((await status(tickets[4].id)).state === 'waiting', 'cancelled without a yes');
    let asked = '';
    phone.once('dialog', (d) => {
      asked = d.message();
      d.accept();
    });
    await phone.click('#cancel-btn');
    await phone.waitForFunction(() => document.querySelector('#state').textContent === '已取消', null, { timeout: 5000 });
    assert(asked.includes('A005'), `confirm text ${asked}`);
    assert((await status(tickets[4].id)).state === 'cancelled', 'not cancelled on the server');
    assert(await phone.isHidden('#cancel-btn'), 'cancel button still shown');
    await shot(phone, 'phone-cancelled.png');
  });

  // ---- the clerk: 指定叫号, 挂起, 多窗联办 ------------------------------------------------
  const clerk = await newPage({ width: 1366, height: 768 }, 'clerk');
  await step('clerk: 指定叫号 calls A006 ahead of A003, and a row’s 叫 button is there', async () => {
    await clerk.goto(`${base}/clerk?hall=${HALL}`);
    await clerk.waitForSelector('#f-window option', { state: 'attached', timeout: 8000 });
    await clerk.fill('#f-staff', 's01');
    await clerk.fill('#f-pin', pin('s01'));
    await clerk.selectOption('#f-window', '1');
    await clerk.click('#login-btn');
    await clerk.waitForSelector('#console-view:not([hidden])', { timeout: 8000 });
    await clerk.waitForSelector('#queue button[data-call="A003"]', { timeout: 8000 });
    await clerk.fill('#callnum', 'a6');
    await clerk.click('#callnum-btn');
    await clerk.waitForFunction(() => document.querySelector('#cur-number').textContent === 'A006', null, { timeout: 5000 });
    assert((await status(tickets[5].id)).state === 'called', 'A006 not called');
    assert((await status(tickets[2].id)).state === 'waiting', 'A003 left the queue');
  });
  await step('clerk: 挂起 parks A006, lists it under 挂起中, the window calls A003, then 叫回 brings A006 back', async () => {
    await clerk.click('[data-action="start"]');
    await clerk.waitForFunction(() => !document.querySelector('[data-action="hold"]').disabled, null, { timeout: 5000 });
    await clerk.click('[data-action="hold"]');
    await clerk.waitForSelector('#held-box:not([hidden]) [data-held="A006"]', { timeout: 5000 });
    const left = await clerk.textContent('#held [data-held="A006"] .left');
    assert(/过号/.test(left), `time left ${left}`);
    assert((await status(tickets[5].id)).state === 'held', 'A006 not held');
    await shot(clerk, 'clerk-held.png');
    await clerk.click('[data-action="call-next"]');
    await clerk.waitForFunction(() => document.querySelector('#cur-number').textContent === 'A003', null, { timeout: 5000 });
    // 叫回 is for an idle window: disabled while A003 is called.
    assert(await clerk.isDisabled('#held button[data-call="A006"]'), '叫回 enabled while busy');
    await clerk.click('[data-action="start"]');
    await clerk.waitForFunction(() => !document.querySelector('[data-action="complete"]').disabled, null, { timeout: 5000 });
    await clerk.click('[data-action="complete"]');
    await clerk.waitForFunction(() => !document.querySelector('#held button[data-call="A006"]')?.disabled, null, { timeout: 5000 });
    await clerk.click('#held button[data-call="A006"]');
    await clerk.waitForFunction(() => document.querySelector('#cur-number').textContent === 'A006', null, { timeout: 5000 });
    await clerk.waitForSelector('#held-box[hidden]', { state: 'attached', timeout: 5000 });
  });
  await step('clerk: 办结·联办 sends A006 on to 市场准入 with its number', async () => {
    await clerk.click('[data-action="start"]');
    await clerk.waitForFunction(() => !document.querySelector('[data-action="complete-send"]').disabled, null, { timeout: 5000 });
    await clerk.click('[data-action="complete-send"]');
    await clerk.waitForSelector('#chain-modal:not([hidden])');
    assert(await clerk.isDisabled('#ch-cats button[data-next="general"]'), 'its own category offered');
    await shot(clerk, 'clerk-chain.png');
    await clerk.click('#ch-cats button[data-next="market"]');
    await clerk.waitForFunction(() => document.querySelector('#cur-number').textContent === '—', null, { timeout: 5000 });
    const s = await status(tickets[5].id);
    assert(s.state === 'waiting' && s.category === 'market' && s.number === 'A006', JSON.stringify(s));
  });
  await step('phone: the sent-on ticket says what is done and which windows to go to', async () => {
    await phone.goto(`${base}/t/${tickets[5].id}?hall=${HALL}`);
    await phone.waitForSelector('#next-box:not([hidden])', { timeout: 8000 });
    const t = await phone.textContent('#next-box');
    assert(t.includes('综合业务') && t.includes('市场准入') && t.includes('1号窗口'), `next step: ${t}`);
    await shot(phone, 'phone-next-step.png');
  });

  // ---- notices: the supervisor and the hall display ------------------------------
  const sup = await newPage({ width: 1600, height: 1000 }, 'supervisor');
  const hall = await newPage({ width: 1920, height: 1080 }, 'hall');
  const TEXT = '今天15:00起暂停办理不动产登记业务，请谅解';
  await step('supervisor: 发布公告 adds a notice that shows now', async () => {
    await sup.goto(`${base}/supervisor?hall=${HALL}&token=${SUP}`);
    await sup.waitForSelector('#notices-card #nc-form', { timeout: 8000 });
    await sup.fill('#nc-text', TEXT);
    await sup.selectOption('#nc-len', '2h');
    await sup.click('#nc-add');
    await sup.waitForSelector('#nc-list li[data-notice] .nc-state.on', { timeout: 5000 });
    assert((await sup.textContent('#nc-list')).includes(TEXT), 'not listed');
    const list = await must('notices', server.api(`${H}/notices`));
    assert(list.notices.length === 1 && list.notices[0].showing, JSON.stringify(list));
    await shot(sup.locator('#notices-card'), 'supervisor-notices.png');
  });
  await step('hall display: the notice scrolls beside the hall’s own, with where A006 goes next', async () => {
    await hall.goto(`${base}/display/hall?hall=${HALL}`);
    await hall.waitForSelector('#notices:not([hidden])', { timeout: 8000 });
    const items = await hall.evaluate(() => globalThis.__hallcall.notices);
    assert(items.includes(TEXT), `ticker ${JSON.stringify(items)}`);
    assert(items.some((t) => t.startsWith('A006') && t.includes('市场准入')), `no sent-on line: ${JSON.stringify(items)}`);
    const inBar = await hall.evaluate(() => document.querySelector('#notice').contains(document.querySelector('#notices')));
    assert(inBar, 'ticker is not in the notice bar');
    // The page layout is unchanged: nothing spills out of the window.
    const fits = await hall.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight + 1);
    assert(fits, 'the ticker made the page taller than the screen');
    await shot(hall, 'hall-notices.png');
  });
  await step('supervisor: 删除 removes the notice, and the display drops it', async () => {
    sup.once('dialog', (d) => d.accept());
    await sup.click('#nc-list li[data-notice] .nc-del');
    await sup.waitForSelector('#nc-list li.empty', { timeout: 5000 });
    await hall.waitForFunction((t) => !globalThis.__hallcall.notices.includes(t), TEXT, { timeout: 8000 });
  });
});
