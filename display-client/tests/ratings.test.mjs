// Issue 13 items 9, 12, 13 in the browser (fixtures/ratings-hall.toml):
// 好差评 on the evaluator and the phone (five labelled levels, a reason for the
// two bad ones, stored), the supervisor's 差评 panel (warning, follow-up with a
// note, CSV export) and the printed-links warning, and the kiosk's check-in by
// code alone (too early: a large dialog that stays until touched).
//
//   cargo build --bin hallcall -q &&
//   HALLCALL_BIN=$PWD/target/debug/hallcall node display-client/tests/ratings.test.mjs

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, tempDir, cleanup, runAxe } from './harness.mjs';

const HALL = 'rt';
const H = `/api/v1/halls/${HALL}`;
const KIOSK = 'kiosk-rt';
const SUP = 'supervisor-rt';
const EVAL = 'evaluator-rt-0001';
const PIN = '123456';

await suite('ratings', async ({ step, assert, startServer, newPage, sleep, log }) => {
  const server = await startServer({ config: 'display-client/tests/fixtures/ratings-hall.toml' });
  const base = server.base;
  const must = async (what, p) => {
    const r = await p;
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const login = await must('login', server.api(`${H}/sessions`, { method: 'POST', body: { staff: 's01', pin: PIN, window: 1 } }));
  const clerk = login.token;
  /** Issues, calls, starts and completes a ticket at window 1; its issue body. */
  const serveOne = async () => {
    const t = await must('issue', server.api(`${H}/tickets`, { method: 'POST', token: KIOSK, body: { category: 'general' } }));
    for (const a of ['call-next', 'start', 'complete']) await must(a, server.api(`${H}/windows/1/${a}`, { method: 'POST', token: clerk, body: {} }));
    return t;
  };
  const badList = async () => must('bad list', server.api(`${H}/ratings/bad`, { token: SUP }));
  const shots = tempDir('hallcall-ratings-shots-');

  // ---- the evaluator ------------------------------------------------------------------
  const ev = await newPage({ width: 1280, height: 800 }, 'evaluator');
  let first;
  await step('evaluator: five labelled levels; 不满意 asks for a reason and sends the codes and the text', async () => {
    first = await serveOne();
    await ev.goto(`${base}/evaluator/1?hall=${HALL}&token=${EVAL}`);
    await ev.waitForSelector('#mode-rate:not([hidden])', { timeout: 15000 });
    const labels = await ev.$$eval('#levels button', (bs) => bs.map((b) => b.textContent.trim()));
    assert(JSON.stringify(labels) === JSON.stringify(['非常满意', '满意', '基本满意', '不满意', '非常不满意']), `levels ${labels}`);
    await ev.click('#levels button[data-score="2"]');
    await ev.waitForSelector('#reason:not([hidden])');
    assert(await ev.isDisabled('#reason-submit'), 'submit enabled without a reason');
    const chips = await ev.$$eval('#chips .chip', (bs) => bs.map((b) => b.dataset.reason));
    assert(chips.includes('long_wait') && chips.includes('other'), `chips ${chips}`);
    await ev.click('#chips .chip[data-reason="long_wait"]');
    await ev.fill('#reason-text', '材料清单没有一次说清');
    assert(!(await ev.isDisabled('#reason-submit')), 'submit disabled with a reason');
    await ev.screenshot({ path: join(shots, 'evaluator-reason.png') });
    const bad = await runAxe(ev, { include: '#mode-rate' });
    assert(bad.length === 0, `axe on the evaluator's reason: ${JSON.stringify(bad)}`);
    await ev.click('#reason-submit');
    await ev.waitForSelector('#mode-thanks:not([hidden])', { timeout: 10000 });
    const list = await badList();
    const b = list.ratings.find((r) => r.ticket === first.id);
    assert(b, `not on the 差评 list: ${JSON.stringify(list)}`);
    assert(b.score === 2 && JSON.stringify(b.reasons) === '["long_wait"]' && b.comment === '材料清单没有一次说清', JSON.stringify(b));
  });

  // ---- the phone ---------------------------------------------------------------------
  const phone = await newPage({ width: 390, height: 844 }, 'phone', { isMobile: true, hasTouch: true });
  let second;
  await step('phone: labelled stars; 非常不满意 needs a reason chip before it can be sent', async () => {
    second = await serveOne();
    await phone.goto(`${base}/t/${second.id}?hall=${HALL}`);
    await phone.waitForSelector('#rate-box:not([hidden])', { timeout: 15000 });
    const labels = await phone.$$eval('#stars button small', (s) => s.map((x) => x.textContent));
    assert(JSON.stringify(labels) === JSON.stringify(['非常不满意', '不满意', '基本满意', '满意', '非常满意']), `labels ${labels}`);
    // Five labels fit the phone's width (none cut, no horizontal scroll).
    const fits = await phone.evaluate(() => {
      const box = document.querySelector('#stars').getBoundingClientRect();
      return [...document.querySelectorAll('#stars button')].every((b) => {
        const r = b.getBoundingClientRect();
        return r.left >= box.left - 1 && r.right <= box.right + 1 && r.right <= window.innerWidth;
      }) && document.documentElement.scrollWidth <= window.innerWidth;
    });
    assert(fits, 'the labelled stars overflow the phone width');
    await phone.click('#stars button[data-score="1"]');
    await phone.waitForSelector('#rate-reason:not([hidden])');
    assert(await phone.isDisabled('#rate-submit'), 'submit enabled without a reason');
    await phone.click('#rate-chips .chip[data-reason="attitude"]');
    assert(!(await phone.isDisabled('#rate-submit')), 'submit disabled with a reason');
    await phone.screenshot({ path: join(shots, 'phone-reason.png') });
    const bad = await runAxe(phone, { include: '#rate-box' });
    assert(bad.length === 0, `axe on the rating box: ${JSON.stringify(bad)}`);
    await phone.click('#rate-submit');
    await phone.waitForSelector('#rated-box:not([hidden])', { timeout: 10000 });
    const b = (await badList()).ratings.find((r) => r.ticket === second.id);
    assert(b && b.score === 1 && b.reasons[0] === 'attitude', JSON.stringify(b));
  });

  // ---- the supervisor -----------------------------------------------------------------
  const sv = await newPage({ width: 1920, height: 1080 }, 'supervisor', { acceptDownloads: true });
  await step('supervisor: warned that printed links point at an address phones cannot open (no public_url)', async () => {
    await sv.goto(`${base}/supervisor?hall=${HALL}&token=${SUP}`);
    await sv.waitForSelector('#links-warn:not([hidden])', { timeout: 15000 });
    const t = await sv.textContent('#links-warn');
    assert(t.includes('public_url') && t.includes('无法打开'), t);
  });

  await step('supervisor: the 差评 panel lists both with reasons and 待回访; the feed has the 差评 warnings', async () => {
    await sv.waitForSelector('#cp-rows tr[data-ticket]', { timeout: 15000 });
    const rows = await sv.$$eval('#cp-rows tr[data-ticket]', (trs) => trs.map((tr) => ({ t: tr.dataset.ticket, s: tr.dataset.status, text: tr.textContent })));
    assert(rows.length === 2, `rows ${JSON.stringify(rows)}`);
    const a = rows.find((r) => r.t === first.id);
    assert(a && a.s === 'pending' && a.text.includes('等候时间过长') && a.text.includes('材料清单没有一次说清') && a.text.includes('不满意') && a.text.includes('王建国'), JSON.stringify(a));
    assert((await sv.textContent('#cp-pending')).includes('待回访 2'), await sv.textContent('#cp-pending'));
    await sv.waitForFunction(() => [...document.querySelectorAll('#feed li')].some((li) => li.textContent.includes('差评')), null, { timeout: 15000 });
  });

  await step('supervisor: 回访 needs a note for 已回访; saved, the row says 已回访 with the note', async () => {
    await sv.click(`#cp-rows tr[data-ticket="${first.id}"] .cp-act`);
    await sv.waitForSelector('#cp-modal:not([hidden])');
    assert(await sv.isChecked('#cp-form input[value="contacted"]'), 'pending → 已回访 preselected');
    await sv.click('#cp-form button[type="submit"]');
    await sleep(300);
    assert(!(await sv.isHidden('#cp-modal')), 'closed without a note');
    await sv.fill('#cp-note', '已电话回访，群众表示理解');
    await sv.fill('#cp-handler', '王主任');
    await sv.screenshot({ path: join(shots, 'supervisor-follow-up.png') });
    await sv.click('#cp-form button[type="submit"]');
    await sv.waitForSelector('#cp-modal', { state: 'hidden', timeout: 10000 });
    await sv.waitForSelector(`#cp-rows tr[data-ticket="${first.id}"][data-status="contacted"]`, { timeout: 10000 });
    const row = await sv.textContent(`#cp-rows tr[data-ticket="${first.id}"]`);
    assert(row.includes('已回访') && row.includes('已电话回访，群众表示理解') && row.includes('王主任'), row);
    const b = (await badList()).ratings.find((r) => r.ticket === first.id);
    assert(b.status === 'contacted' && b.follow_ups[0].by === 'supervisor' && b.follow_ups[0].handler === '王主任', JSON.stringify(b));
    await sv.locator('#chaping').screenshot({ path: join(shots, 'supervisor-chaping.png') });
    for (const sel of ['#chaping', '#links-warn']) {
      const bad = await runAxe(sv, { include: sel });
      assert(bad.length === 0, `axe on ${sel}: ${JSON.stringify(bad)}`);
    }
  });

  await step('supervisor: the 待回访 tab and the CSV export (BOM, Chinese headers)', async () => {
    await sv.click('#cp-tabs button[data-status="pending"]');
    await sv.waitForFunction((id) => document.querySelectorAll('#cp-rows tr[data-ticket]').length === 1 && document.querySelector('#cp-rows tr[data-ticket]').dataset.ticket === id, second.id, { timeout: 10000 });
    await sv.click('#cp-tabs button[data-status=""]');
    await sv.waitForFunction(() => document.querySelectorAll('#cp-rows tr[data-ticket]').length === 2, null, { timeout: 10000 });
    const [dl] = await Promise.all([sv.waitForEvent('download', { timeout: 15000 }), sv.click('#cp-csv')]);
    const file = join(shots, 'export.csv');
    await dl.saveAs(file);
    const bytes = readFileSync(file);
    assert(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf, 'no UTF-8 BOM');
    const text = bytes.toString('utf8').replace(/^\ufeff/, '');
    assert(text.startsWith('评价时间,业务日期,号码,业务,窗口,工作人员,评价,原因,意见,回访状态'), text.slice(0, 120));
    assert(text.includes('已回访') && text.includes('服务态度不好'), text);
  });

  // ---- the kiosk ------------------------------------------------------------------------
  const kiosk = await newPage({ width: 1080, height: 1920 }, 'kiosk');
  const now = Date.now();
  const soon = Math.ceil((now + 1000) / 900e3) * 900e3; // the next 15-minute slot: check-in is open
  const later = soon + 2 * 3600e3;
  const book = async (slot) => (await must('book', server.api(`${H}/appointments`, { method: 'POST', body: { category: 'market', slot_start: new Date(slot).toISOString(), phone: '13800138000' } }))).code;
  const codeLater = await book(later);
  const codeSoon = await book(soon);

  // After an error the code dialog stays open for a corrected code.
  const openAppt = async () => {
    if (await kiosk.isHidden('#appt-modal')) await kiosk.click('#btn-appt');
  };
  await step('kiosk: too early, a large dialog says when check-in opens and stays until touched', async () => {
    await kiosk.goto(`${base}/kiosk?hall=${HALL}&token=${KIOSK}&print=0`);
    await kiosk.waitForSelector('.cat-btn', { timeout: 15000 });
    await kiosk.click('#btn-appt');
    await kiosk.fill('#appt-code', codeLater);
    await kiosk.click('#appt-next');
    await kiosk.waitForSelector('#err-box:not([hidden])', { timeout: 10000 });
    const text = await kiosk.textContent('#err-text');
    // The hall's local times (Asia/Shanghai), not the browser's UTC.
    const hm = (ms) => new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(ms));
    assert(text.includes('未到签到时间') && text.includes(`签到时间 ${hm(later - 900e3)} 至 ${hm(later + 900e3)}`), text);
    const box = await kiosk.locator('.ks-err-dialog').boundingBox();
    assert(box && box.width >= 700 && box.height >= 300, `dialog too small: ${JSON.stringify(box)}`);
    const fontPx = await kiosk.$eval('#err-text', (p) => parseFloat(getComputedStyle(p).fontSize));
    assert(fontPx >= 28, `error text ${fontPx}px`);
    await kiosk.screenshot({ path: join(shots, 'kiosk-too-early.png') });
    const bad = await runAxe(kiosk, { include: '#err-box' });
    assert(bad.length === 0, `axe on the error dialog: ${JSON.stringify(bad)}`);
    await sleep(2500);
    assert(await kiosk.isVisible('#err-box'), 'the dialog went away by itself');
    await kiosk.mouse.click(540, 1500);
    await kiosk.waitForSelector('#err-box', { state: 'hidden', timeout: 3000 });
  });

  await step('kiosk: an unknown code shows the dialog too', async () => {
    await openAppt();
    await kiosk.fill('#appt-code', '000000');
    await kiosk.click('#appt-next');
    await kiosk.waitForSelector('#err-box:not([hidden])', { timeout: 10000 });
    assert((await kiosk.textContent('#err-text')).includes('预约码'), await kiosk.textContent('#err-text'));
    await kiosk.mouse.click(540, 960);
    await kiosk.waitForSelector('#err-box', { state: 'hidden', timeout: 3000 });
  });

  await step('kiosk: on time, the code alone issues a ticket of the booked category', async () => {
    await openAppt();
    await kiosk.fill('#appt-code', codeSoon);
    await kiosk.click('#appt-next');
    await kiosk.waitForSelector('#ticket-modal:not([hidden])', { timeout: 10000 });
    const t = await kiosk.evaluate(() => globalThis.__hallcall.lastTicket);
    assert(t.category === 'market' && t.number.startsWith('D') && t.appointment && t.appointment.late === false, JSON.stringify(t));
    assert((await kiosk.textContent('#t-cat')) === '市场准入', await kiosk.textContent('#t-cat'));
    assert((await kiosk.textContent('#t-extra')).includes('预约签到'), await kiosk.textContent('#t-extra'));
    await kiosk.click('#t-done');
  });

  log(`screenshots in ${shots}`);
  if (!process.env.KEEP_SHOTS) cleanup(shots);
});
