// For everyone (issue 15 item 11): the phone page in English and in large
// print (both kept on the phone), and the kiosk's large print reading the
// chosen category and the ticket aloud.
//
//   cargo build --bin hallcall -q &&
//   HALLCALL_BIN=$PWD/target/debug/hallcall node display-client/tests/everyone.test.mjs

import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { suite, textOverflows, runAxe, ROOT } from './harness.mjs';

const KIOSK = 'kiosk-demo';

await suite('everyone', async ({ step, assert, startServer, newPage }) => {
  const server = await startServer();
  const base = server.base;
  const shots = process.env.SCREENSHOT_DIR || join(ROOT, 'target', 'screenshots');
  mkdirSync(shots, { recursive: true });
  const issue = async (category) => {
    const r = await server.api('/api/v1/halls/demo/tickets', { method: 'POST', token: KIOSK, body: { category } });
    if (r.status !== 201) throw new Error(`issue: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await issue('social');
  const t = await issue('social');
  const phone = await newPage({ width: 390, height: 844 }, 'ticket');
  const fig = (sel) => phone.$eval(sel, (e) => parseFloat(getComputedStyle(e).fontSize) * (parseFloat(getComputedStyle(document.body).zoom) || 1));

  await step('the phone page switches to English: fixed texts, category, state, hall', async () => {
    await phone.goto(`${base}/t/${t.id}?hall=demo`);
    await phone.waitForFunction(() => document.querySelector('#number').textContent !== '----');
    await phone.waitForFunction(() => document.querySelector('#recent li'));
    assert((await phone.textContent('#lang-btn')).trim() === 'English', 'the button offers English');
    await phone.click('#lang-btn');
    assert((await phone.getAttribute('html', 'lang')) === 'en', 'html lang=en');
    const text = (sel) => phone.textContent(sel).then((s) => s.trim());
    assert((await text('.tk-label')) === 'Your number', await text('.tk-label'));
    assert((await text('#state')) === 'Waiting', await text('#state'));
    assert((await text('#cat')) === 'Social and medical insurance', `category: ${await text('#cat')}`);
    assert((await text('#hall-name')) === 'Demo Town Service Centre', `hall: ${await text('#hall-name')}`);
    assert((await text('#cancel-btn')) === 'Leave the queue', 'cancel button');
    assert((await text('#lang-btn')) === '中文', 'the button offers Chinese back');
    const body = await phone.textContent('main');
    assert(!/[\u4e00-\u9fff]/.test(body), `Chinese left in English: ${body.replace(/\s+/g, ' ').slice(0, 300)}`);
  });

  await step('large print makes the number and texts bigger and keeps the layout', async () => {
    const before = await fig('#number');
    const labelBefore = await fig('.tk-label');
    await phone.click('#large-btn');
    assert((await phone.getAttribute('#large-btn', 'aria-pressed')) === 'true', 'aria-pressed');
    const after = await fig('#number');
    const labelAfter = await fig('.tk-label');
    assert(after >= before * 1.25 && labelAfter >= labelBefore * 1.25, `number ${before}→${after} px, label ${labelBefore}→${labelAfter} px`);
    const over = await phone.evaluate(textOverflows, 'body');
    assert(over.length === 0, `text out of its box: ${JSON.stringify(over).slice(0, 400)}`);
    const bad = await runAxe(phone);
    assert(bad.length === 0, `axe: ${JSON.stringify(bad).slice(0, 600)}`);
    await phone.screenshot({ path: join(shots, 'ticket-en-large.png'), fullPage: true });
  });

  await step('both choices are kept on the phone for the next page load', async () => {
    await phone.reload();
    await phone.waitForFunction(() => document.querySelector('#number').textContent !== '----');
    assert((await phone.getAttribute('html', 'lang')) === 'en', 'still English');
    assert(await phone.evaluate(() => document.body.classList.contains('tk-large')), 'still large');
    await phone.click('#lang-btn');
    await phone.click('#large-btn');
    assert((await phone.textContent('.tk-label')).trim() === '您的号码', 'back to Chinese');
    assert(!(await phone.evaluate(() => document.body.classList.contains('tk-large'))), 'back to normal print');
  });

  await step('the kiosk in large print reads the chosen category and the ticket aloud', async () => {
    const kiosk = await newPage({ width: 1080, height: 1920 }, 'kiosk');
    await kiosk.goto(`${base}/kiosk?hall=demo&token=${KIOSK}&print=0`);
    await kiosk.waitForSelector('#cats .cat-btn[data-category="civil"]');
    // Normal print says nothing.
    await kiosk.click('#cats .cat-btn[data-category="general"]');
    await kiosk.waitForSelector('#ticket:not([hidden]), .ks-ticket:not([hidden])', { timeout: 5000 }).catch(() => {});
    assert((await kiosk.evaluate(() => globalThis.__hallcall.spoken.length)) === 0, 'normal print is silent');
    await kiosk.goto(`${base}/kiosk?hall=demo&token=${KIOSK}&print=0&large=1`);
    await kiosk.waitForSelector('#cats .cat-btn[data-category="civil"]');
    await kiosk.click('#cats .cat-btn[data-category="civil"]');
    await kiosk.waitForFunction(() => globalThis.__hallcall.spoken.length >= 2, null, { timeout: 5000 });
    const said = await kiosk.evaluate(() => globalThis.__hallcall.spoken);
    assert(/您选择了：民政/.test(said[0]), `first: ${said[0]}`);
    assert(/民政.*您的号码是 C 0 0 1，前面还有 0 人/.test(said[1]), `then: ${said[1]}`);
    assert(await kiosk.evaluate(() => typeof speechSynthesis !== 'undefined'), 'the browser has speech synthesis');
  });
});
