// Screenshots of every page at its target size (run by scripts/screenshots.sh,
// which starts the server and makes the activity first).
//
//   node screenshots.mjs --base http://127.0.0.1:8080 --out docs/screenshots \
//        --waiting <ticket id> --called <ticket id> --done <ticket id> [--bin target/debug/hallcall]
//
// With --bin (or HALLCALL_BIN) it also starts the big hall of
// fixtures/big-hall.toml (20 windows, 12 categories, 300 waiting) and shoots
// the hall display, kiosk and dashboard at those limits (hall-big-*, …).
// The browser runs in TZ=UTC: the clocks show hall time by themselves.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, sleep, Server, tempDir, freePort, cleanup, ROOT } from './harness.mjs';
import { BIG, populateBigHall } from './fixtures/big-hall.mjs';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const base = args.base || 'http://127.0.0.1:8080';
const out = args.out || 'docs/screenshots';
const hall = args.hall || 'demo';
const kioskToken = args.kiosk || 'kiosk-demo';
const supervisorToken = args.supervisor || 'supervisor-demo';
mkdirSync(out, { recursive: true });

const browser = await launchBrowser();
const errors = [];
const made = [];

async function shot(name, url, viewport, prepare, opts = {}) {
  const ctx = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'zh-CN', isMobile: !!opts.mobile, hasTouch: !!opts.mobile });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
  await page.goto((opts.base || base) + url);
  await page.waitForFunction(() => document.documentElement.dataset.live === 'up', null, { timeout: 15000 }).catch(() => errors.push(`${name}: never live`));
  await sleep(600);
  if (prepare) await prepare(page);
  // Let any call flash finish so the picture is the steady state.
  await page.evaluate(() => document.querySelectorAll('.flash').forEach((e) => e.classList.remove('flash')));
  await sleep(300);
  const file = join(out, `${name}.png`);
  await page.screenshot({ path: file, fullPage: !!opts.fullPage });
  made.push(file);
  console.log(`  ${file}  ${viewport.width}×${viewport.height}`);
  await ctx.close();
}

await shot('hall-1920x1080', `/display/hall?hall=${hall}`, { width: 1920, height: 1080 });
await shot('hall-1280x720', `/display/hall?hall=${hall}`, { width: 1280, height: 720 });
await shot('hall-en-1920x1080', `/display/hall?hall=${hall}&lang=en`, { width: 1920, height: 1080 });
await shot('window-1-calling-480x160', `/display/window/1?hall=${hall}`, { width: 480, height: 160 });
await shot('window-2-serving-480x160', `/display/window/2?hall=${hall}`, { width: 480, height: 160 });
await shot('window-4-paused-480x160', `/display/window/4?hall=${hall}`, { width: 480, height: 160 });
await shot('window-5-idle-480x160', `/display/window/5?hall=${hall}`, { width: 480, height: 160 });
await shot('window-8-tidal-480x160', `/display/window/8?hall=${hall}`, { width: 480, height: 160 });
await shot('evaluator-1-1280x800', `/evaluator/1?hall=${hall}&token=evaluator-demo-01`, { width: 1280, height: 800 });
await shot('evaluator-2-1280x800', `/evaluator/2?hall=${hall}&token=evaluator-demo-02`, { width: 1280, height: 800 });
await shot('kiosk-1080x1920', `/kiosk?hall=${hall}&token=${kioskToken}&print=0`, { width: 1080, height: 1920 });
await shot('kiosk-1280x1024', `/kiosk?hall=${hall}&token=${kioskToken}&print=0`, { width: 1280, height: 1024 });
await shot('kiosk-large-1080x1920', `/kiosk?hall=${hall}&token=${kioskToken}&print=0&large=1`, { width: 1080, height: 1920 });
await shot('kiosk-green-channel-1080x1920', `/kiosk?hall=${hall}&token=${kioskToken}&print=0`, { width: 1080, height: 1920 }, async (p) => {
  await p.click('#btn-green');
});
await shot('kiosk-ticket-1080x1920', `/kiosk?hall=${hall}&token=${kioskToken}&print=0`, { width: 1080, height: 1920 }, async (p) => {
  await p.click('#btn-green');
  await p.click('#green-modal [data-priority="elderly"]');
  await p.click('.cat-btn[data-category="civil"]');
  await p.waitForSelector('#ticket-modal:not([hidden])');
  await p.waitForFunction(() => document.getElementById('t-qr').complete);
  await p.evaluate(() => {
    // Freeze the auto-close countdown for the picture.
    for (let i = 1; i < 99999; i++) clearInterval(i);
  });
});
// The 80 mm paper ticket as the printer gets it.
{
  const ctx = await browser.newContext({ viewport: { width: 1080, height: 1920 } });
  const p = await ctx.newPage();
  await p.goto(`${base}/kiosk?hall=${hall}&token=${kioskToken}&print=0`);
  await p.waitForSelector('.cat-btn');
  await p.click('.cat-btn[data-category="general"]');
  await p.waitForSelector('#ticket-modal:not([hidden])');
  await p.waitForFunction(() => document.getElementById('t-qr').complete);
  await p.emulateMedia({ media: 'print' });
  await p.setViewportSize({ width: 302, height: 700 }); // 80 mm at 96 dpi
  const file = join(out, 'kiosk-ticket-print-80mm.png');
  await p.screenshot({ path: file, fullPage: true });
  made.push(file);
  console.log(`  ${file}  80 mm print layout`);
  await ctx.close();
}
await shot('clerk-login-1366x768', `/clerk?hall=${hall}`, { width: 1366, height: 768 });
await shot('clerk-console-1366x768', `/clerk?hall=${hall}`, { width: 1366, height: 768 }, async (p) => {
  await p.fill('#f-staff', 's09');
  await p.fill('#f-pin', '0909');
  await p.selectOption('#f-window', '5');
  await p.click('#login-btn');
  await p.waitForSelector('#console-view:not([hidden])');
  await sleep(500);
  await p.keyboard.press('F1');
  await p.waitForFunction(() => document.getElementById('cur-number').textContent !== '—');
  await sleep(800);
});
await shot('supervisor-1920x1080', `/supervisor?hall=${hall}&token=${supervisorToken}`, { width: 1920, height: 1080 }, async (p) => {
  await p.waitForFunction(() => document.querySelectorAll('#stat-rows tr').length >= 2, null, { timeout: 10000 }).catch(() => {});
  await sleep(1500);
});
if (args.waiting) await shot('ticket-waiting-390x844', `/t/${args.waiting}?hall=${hall}`, { width: 390, height: 844 }, null, { mobile: true });
if (args.called) await shot('ticket-called-390x844', `/t/${args.called}?hall=${hall}`, { width: 390, height: 844 }, null, { mobile: true });
if (args.done) await shot('ticket-done-390x844', `/t/${args.done}?hall=${hall}`, { width: 390, height: 844 }, null, { mobile: true });

// The 差评回访 panel of the dashboard (the demo activity leaves a 不满意 with a reason).
await shot('supervisor-ratings-1920x1080', `/supervisor?hall=${hall}&token=${supervisorToken}`, { width: 1920, height: 1080 }, async (p) => {
  await p.waitForSelector('#cp-rows', { timeout: 10000 }).catch(() => errors.push('supervisor: no 差评回访 panel (#cp-rows)'));
  await sleep(1000);
  await p.evaluate(() => {
    const rows = document.getElementById('cp-rows');
    const panel = rows && (rows.closest('section') || rows.closest('#chaping') || rows);
    if (panel) panel.scrollIntoView({ block: 'start' });
  });
  await sleep(300);
});

// A hall at the limits: 20 windows, 12 categories, 300 waiting.
const bin = args.bin || process.env.HALLCALL_BIN;
if (bin) {
  const dir = tempDir('hallcall-shots-big-');
  const big = new Server({ bin, dataDir: join(dir, 'data'), port: await freePort(), config: join(ROOT, BIG.config), env: BIG.env });
  try {
    await big.start();
    await populateBigHall(big);
    const o = { base: big.base };
    const H = BIG.hall;
    await shot('hall-big-1920x1080', `/display/hall?hall=${H}`, { width: 1920, height: 1080 }, null, o);
    await shot('hall-big-1280x720', `/display/hall?hall=${H}`, { width: 1280, height: 720 }, null, o);
    await shot('hall-big-en-1920x1080', `/display/hall?hall=${H}&lang=en`, { width: 1920, height: 1080 }, null, o);
    await shot('kiosk-big-1080x1920', `/kiosk?hall=${H}&token=${BIG.kiosk}&print=0`, { width: 1080, height: 1920 }, null, o);
    await shot('kiosk-big-1280x1024', `/kiosk?hall=${H}&token=${BIG.kiosk}&print=0`, { width: 1280, height: 1024 }, null, o);
    await shot('supervisor-big-1920x1080', `/supervisor?hall=${H}&token=${BIG.supervisor}`, { width: 1920, height: 1080 }, async () => sleep(1500), o);
    await shot('window-big-13-paused-480x160', `/display/window/13?hall=${H}`, { width: 480, height: 160 }, null, o);
  } finally {
    await big.stop().catch(() => {});
    cleanup(dir);
  }
}

await browser.close();
if (errors.length) {
  console.error(`page errors:\n  ${errors.join('\n  ')}`);
  process.exit(1);
}
console.log(`${made.length} screenshots`);
