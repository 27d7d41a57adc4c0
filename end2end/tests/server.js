// Starts a real `faultline` process on a free loopback port with a fresh data directory, and a
// headless Chromium (Debian's) driven by playwright-core. Shared by the browser tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
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
    if (msg.type() === 'error' && !(expected4xx && clientError)) errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(String(err)));
  return errors;
}

/** Waits until the page has hydrated (the frontend sets body[data-hydrated]). */
export async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20_000 });
}
