// 统计报表 on the supervisor dashboard (issue 15 item 7, issue 13 item 14),
// in headless Chromium (TZ=UTC): the range defaults to the last 7 business
// days of the hall (its time zone), the figures and charts show what the
// API counted, the tables name categories, windows and staff, the date-range
// picker re-queries, and the CSV export downloads UTF-8 with a BOM and
// Chinese headers.
//
//   cargo build --bin hallcall -q && HALLCALL_BIN=$PWD/target/debug/hallcall \
//     node display-client/tests/reports.test.mjs

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, runAxe } from './harness.mjs';

const TZ = 'Asia/Shanghai';
const SUP = 'supervisor-demo';

function hallDate(plusDays = 0) {
  const o = {};
  for (const { type, value } of new Intl.DateTimeFormat('en-US', { timeZone: TZ, year: 'numeric', month: 'numeric', day: 'numeric' }).formatToParts(new Date())) o[type] = value;
  return new Date(Date.UTC(Number(o.year), Number(o.month) - 1, Number(o.day) + plusDays)).toISOString().slice(0, 10);
}

const hallHour = () => Number(new Intl.DateTimeFormat('en-US', { timeZone: TZ, hourCycle: 'h23', hour: 'numeric' }).format(new Date())) % 24;

await suite('reports', async ({ step, assert, startServer, newPage }) => {
  const server = await startServer({});
  const hall = '/api/v1/halls/demo';
  // A short morning: three general tickets, two served at window 1 by s01
  // (rated 5 and 4), one waiting.
  for (let i = 0; i < 3; i++) await server.api(`${hall}/tickets`, { method: 'POST', token: 'kiosk-demo', body: { category: 'general' } });
  const login = await server.api(`${hall}/sessions`, { method: 'POST', body: { staff: 's01', pin: '0101', window: 1 } });
  const t = login.body.token;
  for (const score of [5, 4]) {
    const c = await server.api(`${hall}/windows/1/call-next`, { method: 'POST', token: t });
    await server.api(`${hall}/windows/1/start`, { method: 'POST', token: t });
    await server.api(`${hall}/windows/1/complete`, { method: 'POST', token: t });
    const r = await server.api(`${hall}/tickets/${c.body.ticket.id}/rating`, { method: 'POST', body: { score } });
    if (r.status !== 200) throw new Error(`rating: ${JSON.stringify(r)}`);
  }
  const page = await newPage({ width: 1920, height: 1080 }, 'supervisor');
  const today = hallDate();

  await step('the range is the last 7 business days of the hall, with the figures of the API', async () => {
    await page.goto(`${server.base}/supervisor?hall=demo&token=${SUP}`);
    await page.waitForSelector('#rp-figs .fig');
    assert((await page.inputValue('#rp-to')) === today, `to ${await page.inputValue('#rp-to')} != ${today}`);
    assert((await page.inputValue('#rp-from')) === hallDate(-6), `from ${await page.inputValue('#rp-from')}`);
    const figs = await page.$$eval('#rp-figs .fig', (fs) => Object.fromEntries(fs.map((f) => [f.querySelector('span').textContent, f.querySelector('b').textContent])));
    assert(figs['取号'] === '3' && figs['办结'] === '2', JSON.stringify(figs));
    assert(figs['满意率'] === '100.0%', JSON.stringify(figs));
  });

  await step('charts: 7 days of issued and served, arrivals in the hall hour, the five 好差评 levels', async () => {
    const bars = await page.$$eval('#rp-days rect', (rs) => rs.map((r) => [r.dataset.series, r.dataset.label, Number(r.dataset.value)]));
    assert(bars.length === 14, `7 days × 2 series: ${bars.length}`);
    const last = bars.filter(([, l]) => l === today.slice(5));
    assert(JSON.stringify(last) === JSON.stringify([['issued', today.slice(5), 3], ['served', today.slice(5), 2]]), JSON.stringify(last));
    const hour = `${hallHour()}时`;
    const arrivals = await page.$$eval('#rp-hours rect', (rs) => rs.map((r) => [r.dataset.label, Number(r.dataset.value)]));
    const at = arrivals.find(([l]) => l === hour);
    // The tickets were issued a moment ago; allow the hour to have turned.
    assert(at && (at[1] === 3 || arrivals.some(([, v]) => v === 3)), `arrivals ${JSON.stringify(arrivals)} at ${hour}`);
    const levels = await page.$$eval('#rp-ratings [data-level]', (ss) => ss.map((s) => [s.dataset.level, s.textContent]));
    assert(JSON.stringify(levels) === JSON.stringify([['5', '1'], ['4', '1']]), JSON.stringify(levels));
  });

  await step('the tables name categories, windows and staff', async () => {
    const first = await page.$eval('#rp-rows tr td', (td) => td.textContent);
    assert(first === '综合业务（general）', first);
    await page.click('#rp-tabs [data-tab="by_staff"]');
    const staff = await page.$$eval('#rp-rows tr', (rs) => rs.map((r) => r.querySelector('td').textContent));
    assert(staff[0] === '张敏（s01）' && staff.at(-1) === '合计', JSON.stringify(staff));
    await page.click('#rp-tabs [data-tab="by_window"]');
    const win = await page.$eval('#rp-rows tr td', (td) => td.textContent);
    assert(win.includes('1号窗口'), win);
  });

  await step('the date-range picker re-queries: yesterday alone has no data', async () => {
    const y = hallDate(-1);
    await page.fill('#rp-from', y);
    await page.fill('#rp-to', y);
    await page.click('#rp-go');
    await page.waitForFunction((y) => document.querySelector('#rp-status').textContent.startsWith(`${y} 至 ${y}`), y);
    const figs = await page.$$eval('#rp-figs .fig', (fs) => Object.fromEntries(fs.map((f) => [f.querySelector('span').textContent, f.querySelector('b').textContent])));
    assert(figs['取号'] === '0', JSON.stringify(figs));
    assert((await page.textContent('#rp-rows')).includes('所选日期内暂无数据'), await page.textContent('#rp-rows'));
  });

  await step('CSV export: UTF-8 with BOM, Chinese headers, the range in the file name', async () => {
    await page.click('[data-days="7"]');
    await page.waitForFunction(() => document.querySelector('#rp-status').textContent.includes('共 7 天'));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#rp-csv')]);
    assert(download.suggestedFilename() === `demo-${hallDate(-6)}_${today}.csv`, download.suggestedFilename());
    const path = await download.path();
    const bytes = readFileSync(path);
    assert(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf, 'UTF-8 BOM');
    const text = bytes.toString('utf8').slice(1);
    assert(text.startsWith('日期,统计范围,名称,编号,取号数'), text.slice(0, 80));
    assert(text.includes(`${today},人员,张敏,s01,`), 'staff row by name and id');
  });

  await step('the report card is readable (axe-core)', async () => {
    const v = await runAxe(page, { include: '#reports' });
    assert(v.length === 0, JSON.stringify(v, null, 1).slice(0, 1500));
    if (process.env.SHOT_DIR) await page.locator('#reports').screenshot({ path: join(process.env.SHOT_DIR, 'supervisor-reports-1920.png') });
  });
});
