// 今日排班计划 on the supervisor dashboard (issue 18, tidal mode `plan`): the
// card draws the view's `staffing_plan` — per half-hour the windows planned
// and the most windows open — with the half-hour under way and a shortfall
// called out, in the hall's time (Asia/Shanghai) in a browser on UTC; the
// card stays hidden when the view has no plan (modes auto and advise).
//
// The server forecasting a plan from a hall's history is tests/plan.rs
// (cargo); here the real server's view is passed through with a plan of
// known figures added (to /state and to every view on the WebSocket), so
// each figure on the page can be checked.
//
//   cargo build --bin hallcall -q && HALLCALL_BIN=$PWD/target/debug/hallcall \
//     node display-client/tests/plan.test.mjs      (BROWSER_TEST_FILTER=regex for some steps)

import { suite } from './harness.mjs';

const HALF = 30 * 60e3;
const p2 = (n) => String(n).padStart(2, '0');
const hallHm = (at) => {
  const o = {};
  for (const { type, value } of new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Shanghai', hourCycle: 'h23', hour: 'numeric', minute: 'numeric' }).formatToParts(new Date(at))) o[type] = value;
  return `${p2(Number(o.hour) % 24)}:${p2(o.minute)}`;
};

/** Twelve half-hours around now: six past, the current one short of one window, five to come. */
function planAround(nowIso) {
  const cur = Math.floor(Date.parse(nowIso) / HALF) * HALF;
  const slots = [];
  for (let k = -6; k <= 5; k++) {
    const at = cur + k * HALF;
    const planned = 3 + (k >= 0 && k <= 2 ? 3 : 0); // the peak: now and the next hour
    const staffed = k < 0 ? 3 : k === 0 ? 5 : null;
    slots.push({ at: new Date(at).toISOString().replace('.000Z', 'Z'), planned, staffed });
  }
  return { lead_s: 120, slots };
}

function withPlan(view) {
  if (view && view.now) view.staffing_plan = planAround(view.now);
  return view;
}

await suite('supervisor plan (issue 18: planned against staffed windows per half-hour)', async ({ step, assert, startServer, newPage, log }) => {
  const server = await startServer();
  const url = `${server.base}/supervisor?hall=demo&token=supervisor-demo`;

  const page = await newPage({ width: 1600, height: 1100 }, 'supervisor+plan');
  await page.route('**/api/v1/halls/demo/state', async (route) => {
    const r = await route.fetch();
    await route.fulfill({ response: r, json: withPlan(await r.json()) });
  });
  await page.routeWebSocket(/\/events/, (ws) => {
    const srv = ws.connectToServer();
    srv.onMessage((m) => {
      try {
        const msg = JSON.parse(m);
        if (msg.type === 'view') withPlan(msg.view);
        if (msg.type === 'snapshot') withPlan(msg.state);
        ws.send(JSON.stringify(msg));
      } catch {
        ws.send(m);
      }
    });
    ws.onMessage((m) => srv.send(m));
  });
  await page.goto(url);

  await step('the card shows the half-hour under way: planned 6, open 5, short by one', async () => {
    await page.waitForSelector('#plan:not([hidden]) #plan-chart svg', { timeout: 10000 });
    const got = await page.evaluate(() => ({
      planned: document.querySelector('#plan-now-planned').textContent,
      staffed: document.querySelector('#plan-now-staffed').textContent,
      short: document.querySelector('#plan-now-staffed').classList.contains('short'),
      line: document.querySelector('#plan-now').textContent,
      lead: document.querySelector('#plan-lead').textContent,
    }));
    assert(got.planned === '6' && got.staffed === '5' && got.short, JSON.stringify(got));
    assert(/差 1 个/.test(got.line), got.line);
    assert(got.lead === '提前 2 分钟召集潮汐窗口', got.lead);
  });

  await step('one bar group per half-hour, in hall time, the future without an open-window bar', async () => {
    const now = Date.now();
    const cur = Math.floor(now / HALF) * HALF;
    const slots = await page.$$eval('#plan-chart g.slot', (gs) =>
      gs.map((g) => ({
        at: g.dataset.at,
        planned: Number(g.dataset.planned),
        staffed: g.dataset.staffed,
        title: g.querySelector('title').textContent,
        staffedBars: g.querySelectorAll('rect.staffed').length,
        now: g.classList.contains('now'),
      })),
    );
    assert(slots.length === 12, `12 half-hours: ${slots.length}`);
    const first = slots[0];
    const want = `${hallHm(cur - 6 * HALF)}–${hallHm(cur - 5 * HALF)} 计划 3 个窗口 · 实开 3 个`;
    assert(first.title === want, `${first.title} != ${want}`);
    const nowSlot = slots.find((s) => s.now);
    assert(nowSlot && Date.parse(nowSlot.at) === cur && nowSlot.planned === 6, JSON.stringify(nowSlot));
    const future = slots.filter((s) => Date.parse(s.at) > cur);
    assert(future.length === 5 && future.every((s) => s.staffed === '' && s.staffedBars === 0), JSON.stringify(future));
    assert(!/实开/.test(future[0].title), future[0].title);
  });

  await step('a short half-hour is drawn in red, a staffed one in blue', async () => {
    const fills = await page.$$eval('#plan-chart rect.staffed', (rs) => rs.map((r) => [r.classList.contains('short'), getComputedStyle(r).fill]));
    assert(fills.length === 7, `7 half-hours with open windows: ${fills.length}`);
    const red = fills.filter(([s]) => s);
    assert(red.length === 1 && red[0][1] !== fills[0][1], JSON.stringify(fills));
    await page.locator('#plan').screenshot({ path: process.env.PLAN_SCREENSHOT || '/tmp/hallcall-plan-card.png' });
  });

  await step('without a plan in the view (tidal auto) the card stays hidden', async () => {
    const plain = await newPage({ width: 1600, height: 1100 }, 'supervisor');
    await plain.goto(url);
    await plain.waitForFunction(() => document.querySelector('#hall-name').textContent !== '便民服务中心' || document.querySelectorAll('#wins > *').length > 0, null, { timeout: 10000 });
    await plain.waitForTimeout(300);
    assert(await plain.$eval('#plan', (e) => e.hidden), 'hidden');
  });
  log('screenshot of the card: ' + (process.env.PLAN_SCREENSHOT || '/tmp/hallcall-plan-card.png'));
});
