// 后台管理 on the supervisor dashboard (issue 15 item 10): add a clerk, post
// them on a window, reset their PIN, set a category's cap; a refused edit
// says why and changes nothing; every edit shows in the audit feed.
//
//   cargo build --bin hallcall -q &&
//   HALLCALL_BIN=$PWD/target/debug/hallcall node display-client/tests/admin.test.mjs

import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { suite, textOverflows, runAxe, ROOT } from './harness.mjs';

const SUP = 'supervisor-demo';
const H = '/api/v1/halls/demo';

await suite('admin', async ({ step, assert, startServer, newPage }) => {
  const server = await startServer();
  const shots = process.env.SCREENSHOT_DIR || join(ROOT, 'target', 'screenshots');
  mkdirSync(shots, { recursive: true });
  const cfg = async () => (await server.api(`${H}/admin`, { token: SUP })).body;
  const login = (staff, pin, window) => server.api(`${H}/sessions`, { method: 'POST', body: { staff, pin, window } });
  const page = await newPage({ width: 1920, height: 1080 }, 'supervisor');
  page.on('dialog', (d) => d.accept());

  await step('the card lists staff, windows and categories', async () => {
    await page.goto(`${server.base}/supervisor?hall=demo&token=${SUP}`);
    await page.waitForSelector('#admin-card tr[data-staff="s01"]');
    assert(await page.isVisible('#ad-staff'), 'staff tab first');
    assert(await page.isHidden('#ad-windows'), 'windows tab hidden');
  });

  await step('add a clerk with a PIN: listed, in the audit feed, and able to log in once posted', async () => {
    await page.fill('#ad-new-id', 's21');
    await page.fill('#ad-new-name', '钱多多');
    await page.fill('#ad-new-no', '0021');
    await page.fill('#ad-new-pin', '135790');
    await page.click('#ad-add');
    await page.waitForSelector('#admin-card tr[data-staff="s21"]');
    await page.waitForFunction(() => /后台管理.*添加人员/.test(document.querySelector('#feed').textContent), null, { timeout: 8000 });
    await page.click('#admin-card [data-tab="windows"]');
    const row = page.locator('#admin-card tr[data-window="6"]');
    await row.locator('select').nth(1).selectOption('s21');
    await row.locator('button[data-act="save"]').click();
    await page.waitForFunction(() => /设置窗口/.test(document.querySelector('#feed').textContent), null, { timeout: 8000 });
    const w6 = (await cfg()).windows.find((w) => w.number === 6);
    assert(w6.a_post === 's21', `window 6: ${JSON.stringify(w6)}`);
    const r = await login('s21', '135790', 6);
    assert(r.status === 200, `login: ${r.status} ${JSON.stringify(r.body)}`);
  });

  await step('reset the PIN from the card: the old one stops working', async () => {
    await page.click('#admin-card [data-tab="staff"]');
    const row = page.locator('#admin-card tr[data-staff="s21"]');
    await row.locator('input[type=password]').fill('246802');
    await row.locator('button[data-act="pin"]').click();
    await page.waitForFunction(() => /重置密码/.test(document.querySelector('#feed').textContent), null, { timeout: 8000 });
    assert((await login('s21', '135790', 6)).status === 401, 'old PIN refused');
    assert((await login('s21', '246802', 6)).status === 200, 'new PIN works');
  });

  await step('a category cap is saved; a bad time limit is refused with the reason and changes nothing', async () => {
    await page.click('#admin-card [data-tab="categories"]');
    const row = page.locator('#admin-card tr[data-category="general"]');
    await row.locator('input').nth(3).fill('150');
    await row.locator('button[data-act="save"]').click();
    await page.waitForFunction(() => /设置业务/.test(document.querySelector('#feed').textContent), null, { timeout: 8000 });
    let general = (await cfg()).categories.find((c) => c.id === 'general');
    assert(general.daily_cap === 150, `cap: ${JSON.stringify(general)}`);
    const before = JSON.stringify(general);
    await page.locator('#admin-card tr[data-category="general"] input').nth(1).fill('0');
    await page.locator('#admin-card tr[data-category="general"] button[data-act="save"]').click();
    await page.waitForSelector('.toast.error');
    const msg = await page.textContent('.toast.error');
    assert(/未保存：配置有误：/.test(msg) && /limit_s/.test(msg), `toast: ${msg}`);
    general = (await cfg()).categories.find((c) => c.id === 'general');
    assert(JSON.stringify(general) === before, 'unchanged');
  });

  await step('the card holds its layout and passes axe', async () => {
    for (const tab of ['staff', 'windows', 'categories']) {
      await page.click(`#admin-card [data-tab="${tab}"]`);
      const over = await page.evaluate(textOverflows, '#admin-card');
      assert(over.length === 0, `${tab}: text out of its box: ${JSON.stringify(over).slice(0, 400)}`);
    }
    await page.click('#admin-card [data-tab="windows"]');
    const bad = await runAxe(page, { include: '#admin-card' });
    assert(bad.length === 0, `axe: ${JSON.stringify(bad).slice(0, 600)}`);
    await page.locator('#admin-card').screenshot({ path: join(shots, 'supervisor-admin.png') });
  });
});
