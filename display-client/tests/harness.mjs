// Shared by browser.test.mjs and screenshots.mjs: start a hallcall server,
// launch the system's headless Chromium through playwright-core, small helpers.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, createWriteStream, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Servers still running when this process ends (an exception, a closed pipe,
// Ctrl-C) are killed rather than left behind.
const running = new Set();
process.on('exit', () => {
  for (const p of running) {
    try {
      p.kill('SIGKILL');
    } catch {}
  }
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));
process.stdout.on('error', () => {}); // a closed pipe must not skip the clean-up

/**
 * A `hallcall serve` process on the demo hall. `start()` waits for /healthz;
 * `kill()` ends it the hard way (like a crash), `stop()` with SIGTERM.
 */
export class Server {
  constructor({ bin, dataDir, port, logPath }) {
    this.bin = bin;
    this.dataDir = dataDir;
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.logPath = logPath;
    this.proc = null;
    this.starts = 0;
  }

  async start(timeoutMs = 60000) {
    if (!existsSync(this.bin)) throw new Error(`HALLCALL_BIN ${this.bin} does not exist`);
    const log = this.logPath ? createWriteStream(this.logPath, { flags: 'a' }) : null;
    this.starts++;
    const proc = spawn(this.bin, ['serve', '--data', this.dataDir, '--listen', `127.0.0.1:${this.port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
    });
    this.proc = proc;
    running.add(proc);
    this.output = '';
    const collect = (d) => {
      this.output += d.toString();
      if (this.output.length > 200000) this.output = this.output.slice(-100000);
      if (log) log.write(d);
    };
    proc.stdout.on('data', collect);
    proc.stderr.on('data', collect);
    let exited = null;
    proc.on('exit', (code, sig) => {
      running.delete(proc);
      exited = { code, sig };
      if (log) log.end(`\n[hallcall exited code=${code} signal=${sig}]\n`);
    });
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (exited) throw new Error(`hallcall exited during start-up (${JSON.stringify(exited)}):\n${this.output.slice(-3000)}`);
      try {
        const r = await fetch(`${this.base}/healthz`);
        if (r.ok) return this;
      } catch {}
      await sleep(100);
    }
    throw new Error(`hallcall did not answer /healthz within ${timeoutMs} ms:\n${this.output.slice(-3000)}`);
  }

  async kill(signal = 'SIGKILL') {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await Promise.race([gone, sleep(10000)]);
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGKILL');
      await gone;
    }
  }

  stop() {
    return this.kill('SIGTERM');
  }

  /** JSON API call; resolves to {status, body}. */
  async api(path, { method = 'GET', body, token, accept } = {}) {
    const headers = { Accept: accept || 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let data = text;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {}
    return { status: r.status, body: data };
  }
}

export async function launchBrowser(extraArgs = []) {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: apt-get install -y chromium chromium-driver fonts-noto-cjk`);
  }
  // playwright-core gives every launch a fresh temporary --user-data-dir of its
  // own (and refuses one in args), which it removes on close.
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: 60000,
  });
}

export function cleanup(dir) {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {}
}
