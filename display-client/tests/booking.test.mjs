// 网上预约 on a phone (issue 15 item 2), in headless Chromium (TZ=UTC):
// the page offers the categories that take bookings, today up to
// booking_days_ahead, and each slot with what is left, in hall time; a
// booking returns a code and its QR, fills the slot (the API agrees), and
// the page cancels it; a holiday in closed_dates shows as 休息 and takes no
// booking; the page is readable (axe-core, nothing cut).
//
//   cargo build --bin hallcall -q && HALLCALL_BIN=$PWD/target/debug/hallcall \
//     node display-client/tests/booking.test.mjs

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, textOverflows, runAxe, tempDir, cleanup } from './harness.mjs';

const TZ = 'Asia/Shanghai';
const PHONE = { width: 390, height: 844 };
const p2 = (n) => String(n).padStart(2, '0');

function hallDate(at, plusDays = 0) {
  const o = {};
  for (const { type, value } of new Intl.DateTimeFormat('en-US', { timeZone: TZ, year: 'numeric', month: 'numeric', day: 'numeric' }).formatToParts(new Date(at))) o[type] = value;
  const d = new Date(Date.UTC(Number(o.year), Number(o.month) - 1, Number(o.day) + plusDays));
  return d.toISOString().slice(0, 10);
}

function hallHm(iso) {
  const o = {};
  for (const { type, value } of new Intl.DateTimeFormat('en-US', { timeZone: TZ, hourCycle: 'h23', hour: 'numeric', minute: 'numeric' }).formatToParts(new Date(iso))) o[type] = value;
  return `${p2(Number(o.hour) % 24)}:${p2(o.minute)}`;
}

await suite('booking page', async ({ step, assert, startServer, newPage, log }) => {
  const server = await startServer({});
  const page = await newPage(PHONE, 'book');
  const tomorrow = hallDate(Date.now(), 1);
  const slotsOf = async (date) => (await server.api(`/api/v1/halls/demo/appointments/slots?date=${date}&category=market`)).body;

  await step('the page offers the bookable category, 8 days and the slots in hall time', async () => {
    await page.goto(`${server.base}/book?hall=demo`);
    await page.waitForSelector('.bk-day.on');
    assert((await page.textContent('#hall-name')).includes('示范镇'), 'hall name');
    const cats = await page.$$eval('.bk-cat', (bs) => bs.map((b) => b.textContent));
    assert(cats.length === 1 && cats[0] === '市场准入', `categories ${cats}`);
    const days = await page.$$eval('.bk-day', (bs) => bs.map((b) => b.dataset.date));
    assert(days.length === 8, `today + booking_days_ahead 7: ${days}`);
    assert(days[1] === tomorrow, `tomorrow in hall time ${tomorrow}: ${days}`);
    await page.click(`.bk-day[data-date="${tomorrow}"]`);
    await page.waitForSelector('.bk-slot[data-start]');
    const api = await slotsOf(tomorrow);
    const first = await page.$eval('.bk-slot b', (b) => b.textContent);
    assert(first === hallHm(api.slots[0].start) && first === '00:00', `first slot ${first} (hall time of ${api.slots[0].start})`);
    const ten = await page.$eval('.bk-slot:nth-child(21)', (b) => b.textContent);
    assert(ten === '10:00余2', `10:00 with 2 left: ${ten}`);
  });

  let code = null;
  await step('booking returns a code and a QR, and the slot fills', async () => {
    const ten = (await slotsOf(tomorrow)).slots.find((s) => hallHm(s.start) === '10:00');
    await page.click(`.bk-slot[data-start="${ten.start}"]`);
    await page.fill('#phone', '138 0013 8000');
    if (process.env.SHOT_DIR) {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(process.env.SHOT_DIR, 'book-390x844.png') });
    }
    await page.click('#submit');
    await page.waitForSelector('#done:not([hidden])');
    code = (await page.textContent('#code')).trim();
    assert(/^\d{6}$/.test(code), `code ${code}`);
    const when = await page.textContent('#when');
    assert(when.includes('市场准入') && when.includes('10:00'), `when: ${when}`);
    assert(await page.$('#qr svg'), 'a QR');
    const checkin = await page.textContent('#checkin');
    assert(checkin.includes('09:45') && checkin.includes('10:15'), `check-in window in hall time: ${checkin}`);
    const after = (await slotsOf(tomorrow)).slots.find((s) => hallHm(s.start) === '10:00');
    assert(after.booked === 1, `booked ${after.booked}`);
    // SHOT_DIR=dir keeps a screenshot of the booked page to look at.
    if (process.env.SHOT_DIR) await page.screenshot({ path: join(process.env.SHOT_DIR, 'book-done-390x844.png'), fullPage: true });
  });

  await step('the page cancels the booking and the place is free again', async () => {
    page.once('dialog', (d) => d.accept());
    await page.click('#cancel');
    await page.waitForFunction(() => document.querySelector('#cancel').textContent === '已取消预约');
    const after = (await slotsOf(tomorrow)).slots.find((s) => hallHm(s.start) === '10:00');
    assert(after.booked === 0, `booked ${after.booked}`);
    await page.click('#again');
    await page.waitForSelector('#form:not([hidden]) .bk-slot[data-start]');
  });

  await step('a wrong phone number is said on the page, nothing is booked', async () => {
    await page.click('.bk-slot:not(:disabled)');
    await page.fill('#phone', '12ab');
    await page.click('#submit');
    const err = await page.textContent('#err');
    assert(err.includes('手机号'), `error: ${err}`);
    const booked = (await slotsOf(tomorrow)).slots.reduce((a, s) => a + s.booked, 0);
    assert(booked === 0, `booked ${booked}`);
  });

  await step('the booking page is readable: nothing cut, no serious axe finding', async () => {
    const cut = await page.evaluate(textOverflows, 'body');
    assert(cut.length === 0, `cut: ${JSON.stringify(cut).slice(0, 400)}`);
    const v = await runAxe(page);
    assert(v.length === 0, JSON.stringify(v, null, 1).slice(0, 1500));
  });

  await step('a holiday (closed_dates) shows 休息 and takes no booking', async () => {
    const dir = tempDir('hallcall-book-cfg-');
    const cfg = join(dir, 'hall.toml');
    writeFileSync(
      cfg,
      `[[hall]]
id = "town"
name = "节假日测试中心"
closed_dates = ["${tomorrow}"]
kiosk_tokens = ["kiosk-town-0001"]
supervisor_tokens = ["supervisor-town-01"]

[[hall.category]]
id = "market"
name = "市场准入"
prefix = "D"
expected_s = 900
limit_s = 1800
wait_target_s = 1800
appointment_slots = { slot_s = 1800, capacity = 2 }

[[hall.window]]
number = 1
kind = "comprehensive"
a_post = "s01"

[[hall.staff]]
id = "s01"
name = "张敏"
`,
    );
    const holiday = await startServer({ config: cfg });
    const p = await newPage(PHONE, 'book-holiday');
    await p.goto(`${holiday.base}/book?hall=town`);
    await p.waitForSelector(`.bk-day[data-date="${tomorrow}"] small:text("休息")`);
    assert(await p.$eval(`.bk-day[data-date="${tomorrow}"]`, (b) => b.disabled), 'the holiday cannot be picked');
    const r = await holiday.api('/api/v1/halls/town/appointments', { method: 'POST', body: { category: 'market', slot_start: `${tomorrow}T10:00:00+08:00`, phone: '13800138000' } });
    assert(r.status === 400 && r.body.error.code === 'bad_slot', JSON.stringify(r));
    log(`holiday ${tomorrow}: ${r.body.error.message}`);
    if (process.env.SHOT_DIR) await p.screenshot({ path: join(process.env.SHOT_DIR, 'book-holiday-390x844.png'), fullPage: true });
    cleanup(dir);
  });
});
