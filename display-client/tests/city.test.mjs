// 同城通办 overview page (issue 15 item 9): /city asks for the city token,
// then shows every hall's waiting, longest wait, open windows and red
// warnings, and follows the halls live (it polls GET /api/v1/overview).
//
//   cargo build --bin hallcall -q &&
//   HALLCALL_BIN=$PWD/target/debug/hallcall node display-client/tests/city.test.mjs

import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { suite, textOverflows, runAxe, ROOT } from './harness.mjs';

const CITY = 'city-test-token-000001';
const PIN = '123456';

await suite('city', async ({ step, assert, startServer, newPage, sleep }) => {
  const server = await startServer({ config: 'display-client/tests/fixtures/city.toml' });
  const base = server.base;
  const must = async (what, p) => {
    const r = await p;
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const issue = (hall, category) =>
    must('issue', server.api(`/api/v1/halls/${hall}/tickets`, { method: 'POST', token: `kiosk-${hall}`, body: { category } }));

  // North: one window open, two waiting. South: one waiting and no window (red).
  await must('login', server.api('/api/v1/halls/north/sessions', { method: 'POST', body: { staff: 's01', pin: PIN, window: 1 } }));
  await issue('north', 'general');
  await issue('north', 'social');
  await issue('south', 'general');

  const page = await newPage({ width: 1280, height: 800 }, 'city');
  const shots = process.env.SCREENSHOT_DIR || join(ROOT, 'target', 'screenshots');
  mkdirSync(shots, { recursive: true });

  await step('without a token the page asks for one, and a hall token is refused', async () => {
    await page.goto(`${base}/city`);
    await page.waitForSelector('#token-form:not([hidden])');
    await page.fill('#token-input', 'supervisor-north');
    await page.click('#token-form button');
    await page.waitForFunction(() => /令牌无效/.test(document.querySelector('#error').textContent));
    assert(!(await page.isHidden('#token-form')), 'the form stays for another try');
  });

  await step('with the city token every hall is listed, the red one first', async () => {
    await page.fill('#token-input', CITY);
    await page.click('#token-form button');
    await page.waitForSelector('.ct-hall[data-hall="north"]');
    const halls = await page.$$eval('.ct-hall', (cs) => cs.map((c) => c.dataset.hall));
    assert(JSON.stringify(halls) === '["south","north"]', `order ${halls}`);
    assert((await page.textContent('#t-halls')).trim() === '2', 'two halls');
    assert((await page.textContent('#t-waiting')).trim() === '3', 'three waiting in the city');
    assert((await page.textContent('#t-red')).trim() === '1', 'one red hall');
    const north = page.locator('.ct-hall[data-hall="north"]');
    assert((await north.locator('.ct-waiting').textContent()).trim() === '2', 'north: 2 waiting');
    assert((await north.locator('.ct-open').textContent()).trim() === '1/2', 'north: 1 of 2 windows open');
    const south = page.locator('.ct-hall[data-hall="south"]');
    assert(await south.evaluate((e) => e.classList.contains('lv-red')), 'south is red');
    const red = await south.locator('.ct-reds').textContent();
    assert(/综合受理/.test(red) && /无开放窗口/.test(red), `south red warning: ${red}`);
  });

  await step('live: a new ticket and an opened window show within one poll', async () => {
    await issue('north', 'general');
    await must('login', server.api('/api/v1/halls/south/sessions', { method: 'POST', body: { staff: 's01', pin: PIN, window: 1 } }));
    await page.waitForFunction(
      () => document.querySelector('.ct-hall[data-hall="north"] .ct-waiting')?.textContent.trim() === '3',
      null,
      { timeout: 12000 },
    );
    await page.waitForFunction(
      () => document.querySelector('.ct-hall[data-hall="south"] .ct-open')?.textContent.trim() === '1/2',
      null,
      { timeout: 12000 },
    );
    // South's ticket has waited past its 1 s target: still red, now for the wait.
    const red = await page.locator('.ct-hall[data-hall="south"] .ct-reds').textContent();
    assert(/等候超时/.test(red), `south: ${red}`);
  });

  await step('the page holds its layout and passes axe', async () => {
    const over = await page.evaluate(textOverflows, 'body');
    assert(over.length === 0, `text out of its box: ${JSON.stringify(over).slice(0, 400)}`);
    const bad = await runAxe(page);
    assert(bad.length === 0, `axe: ${JSON.stringify(bad).slice(0, 600)}`);
    await page.screenshot({ path: join(shots, 'city.png'), fullPage: true });
  });

  await step('a phone-sized screen shows one hall per row', async () => {
    const phone = await newPage({ width: 390, height: 844 }, 'city-phone');
    await phone.goto(`${base}/city?token=${CITY}`);
    await phone.waitForSelector('.ct-hall[data-hall="north"]');
    const over = await phone.evaluate(textOverflows, 'body');
    assert(over.length === 0, `text out of its box: ${JSON.stringify(over).slice(0, 400)}`);
    await phone.screenshot({ path: join(shots, 'city-phone.png'), fullPage: true });
  });
});
