// Starts a real `faultline` process on a free loopback port with a fresh data directory, and a
// headless Chromium (Debian's) driven by playwright-core. Shared by the browser tests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..', '..');
export const artifacts = resolve(import.meta.dirname, '..', 'artifacts');

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

async function waitUntilHealthy(base, child, log, deadlineMs = 30_000) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`faultline exited early:\n${log.join('')}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`faultline did not become healthy in ${deadlineMs} ms:\n${log.join('')}`);
}

/** Starts the server; returns { base, stop }. */
export async function startServer(env = {}) {
  const bin = process.env.FAULTLINE_BIN ?? join(root, 'target', 'release', 'faultline');
  const site = process.env.SITE ?? join(root, 'target', 'site');
  const dataDir = mkdtempSync(join(tmpdir(), 'faultline-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = [];
  const child = spawn(bin, ['serve'], {
    env: {
      PATH: process.env.PATH,
      FAULTLINE_ADDR: `127.0.0.1:${port}`,
      FAULTLINE_DATA_DIR: dataDir,
      FAULTLINE_SITE_ROOT: site,
      FAULTLINE_LOG: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => log.push(d.toString()));
  child.stderr.on('data', (d) => log.push(d.toString()));
  await waitUntilHealthy(base, child, log);
  return {
    base,
    log,
    dataDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Launches headless Chromium with a fresh profile; returns the persistent context. */
export async function launchBrowser(options = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'faultline-chromium-'));
  mkdirSync(artifacts, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    rmSync(profile, { recursive: true, force: true });
  };
  return context;
}

/**
 * Collects console errors and uncaught exceptions (CSP violations show up here). Chromium also
 * logs every 4xx answer as an error; with `expected4xx` those are left out, for pages whose forms
 * are meant to be refused.
 */
export function watchErrors(page, { expected4xx = false } = {}) {
  const errors = [];
  page.on('console', (msg) => {
    const clientError = /status of 4\d\d/.test(msg.text());
    // A failed load names its address, so a refused request says which one it was.
    const where = msg.location()?.url;
    if (msg.type() === 'error' && !(expected4xx && clientError)) {
      errors.push(where ? `${msg.text()} (${where})` : msg.text());
    }
  });
  page.on('pageerror', (err) => errors.push(String(err)));
  return errors;
}

/** Waits until the page has hydrated (the frontend sets body[data-hydrated]). */
export async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20_000 });
}

/** The newest mail to `to` in `server`'s outbox, with quoted-printable undone. */
export function mailTo(server, to) {
  const dir = join(server.dataDir, 'outbox');
  const mails = readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .map((m) => m.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))))
    .filter((m) => m.includes(`To: ${to}`));
  assert.ok(mails.length > 0, `a mail to ${to} is in the outbox`);
  return mails[mails.length - 1];
}

/** Calls `server`'s JSON API with a browser context's cookies, as a script would. */
export async function api(server, context, method, path, data) {
  const response = await context.request.fetch(`${server.base}${path}`, { method, data });
  const text = await response.text();
  assert.ok(response.ok(), `${method} ${path}: ${response.status()} ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Uploads `text` as `name` to organisation `org` and waits for its analysis to finish;
 * returns the analysis id.
 */
export async function analyse(server, context, org, name, text) {
  const upload = await context.request.post(`${server.base}/api/v1/uploads?org=${org}&name=${encodeURIComponent(name)}`, {
    headers: { 'content-type': 'text/plain' },
    data: text,
  });
  assert.ok(upload.ok(), await upload.text());
  const { id: uploadId } = await upload.json();
  const { id } = await api(server, context, 'POST', `/api/v1/analyses?org=${org}`, { upload_ids: [uploadId] });
  const until = Date.now() + 60_000;
  for (;;) {
    const a = await api(server, context, 'GET', `/api/v1/analyses/${id}?org=${org}`);
    if (a.status === 'done') return id;
    assert.ok(!['failed', 'cancelled'].includes(a.status), JSON.stringify(a));
    assert.ok(Date.now() < until, 'the analysis finished in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A small API log: payment errors among ordinary requests. */
export function paymentLog(lines = 200) {
  const out = [];
  for (let i = 0; i < lines; i++) {
    const s = String(i % 60).padStart(2, '0');
    out.push(i % 4 === 0
      ? `2026-12-01T10:00:${s}Z ERROR payment ${i} failed: connection refused to db-${i % 3}`
      : `2026-12-01T10:00:${s}Z INFO GET /api/orders/${i} 200 ${i % 90} ms`);
  }
  return `${out.join('\n')}\n`;
}

/** Five incidents over a day: a DB timeout, API 500s 2 s later, a lagging queue 2 s after. */
export function cascadeLog() {
  const events = [];
  for (const m of [3, 90, 400, 800, 1200]) {
    const t = m * 60_000;
    for (const d of [0, 500]) events.push([t + d, 'ERROR db query timed out after 5000 ms on pool main']);
    for (const d of [2000, 2500, 3000]) events.push([t + d, `ERROR GET /api/orders/${m} returned 500 Internal Server Error`]);
    for (const d of [4000, 4500]) events.push([t + d, `WARN queue consumer lagging by ${m} messages`]);
  }
  for (let i = 0; i < 40; i++) events.push([(i * 36 + 7) * 60_000, `INFO heartbeat ok from worker ${i % 4}`]);
  events.sort((a, b) => a[0] - b[0]);
  const day = Date.UTC(2026, 10, 5);
  return `${events.map(([t, m]) => `${new Date(day + t).toISOString()} ${m}`).join('\n')}\n`;
}

const axeSource = readFileSync(resolve(import.meta.dirname, '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/**
 * Looks at `page` as a person would, in light and then dark mode: a full-page screenshot of
 * each (`<name>-light.png`, `<name>-dark.png` in the artifacts) and an axe-core audit of each.
 * Returns the serious and critical violations found, described (empty when there are none).
 */
export async function inspect(page, name) {
  const found = [];
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    // Charts redraw for the new scheme on the next frame.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({ path: join(artifacts, `${name}-${scheme}.png`), fullPage: true });
    // Evaluated through the debugging protocol, so the page's CSP (rightly) does not apply.
    if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run(document, { resultTypes: ['violations'] });
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    });
    found.push(...violations.map((v) => `${name} (${scheme}) ${v}`));
  }
  await page.emulateMedia({ colorScheme: null });
  return found;
}
