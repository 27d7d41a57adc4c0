// Two `faultline` processes on one PostgreSQL database and one storage directory: B has no
// workers, A has one. A browser connected to B drops a file there; the job can only run in A,
// and its progress, published by A, reaches the browser through B.
// Needs PostgreSQL: runs when TEST_DATABASE_URL is set (`make test` under .ci/run sets it).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { artifacts, hydrated, launchBrowser, startServer, watchErrors } from './server.js';

const adminUrl = process.env.TEST_DATABASE_URL ?? '';
const schema = `e2e_${randomUUID().replaceAll('-', '')}`;
const shared = mkdtempSync(join(tmpdir(), 'faultline-e2e-objects-'));
let worker;
let front;
let browser;

function psql(sql) {
  execFileSync('psql', [adminUrl, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { stdio: 'pipe' });
}

before(async () => {
  if (!adminUrl) return;
  psql(`create schema ${schema}`);
  const sep = adminUrl.includes('?') ? '&' : '?';
  const env = {
    DATABASE_URL: `${adminUrl}${sep}options=-c%20search_path%3D${schema}`,
    FAULTLINE_STORAGE_URL: `file://${shared}`,
  };
  // Started one after the other: the first applies the migrations.
  worker = await startServer({ ...env, FAULTLINE_WORKERS: '1' });
  front = await startServer({ ...env, FAULTLINE_WORKERS: '0' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await front?.stop();
  await worker?.stop();
  rmSync(shared, { recursive: true, force: true });
  if (adminUrl) psql(`drop schema if exists ${schema} cascade`);
});

test('progress from a worker in one process reaches a browser on the other', { skip: !adminUrl && 'TEST_DATABASE_URL is not set' }, async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${front.base}/signup`);
  await hydrated(page);
  await page.getByLabel('Work email', { exact: true }).fill('ada@acme.example');
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery staple');
  await page.getByLabel('Organisation name', { exact: true }).fill('Acme');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${front.base}/orgs/acme`);
  await page.goto(`${front.base}/orgs/acme/analyses`);
  await hydrated(page);

  // Large enough that the analysis takes a few seconds and reports progress on the way.
  const dataTransfer = await page.evaluateHandle(() => {
    const parts = [];
    for (let i = 0; i < 500_000; i++) {
      const s = String(i % 60).padStart(2, '0');
      parts.push(i % 4 === 0
        ? `2026-12-01T10:00:${s}Z ERROR checkout ${i} failed: upstream 503 from pay-${i % 3}\n`
        : `2026-12-01T10:00:${s}Z INFO GET /api/cart/${i} 200 ${i % 89} ms\n`);
    }
    const dt = new DataTransfer();
    dt.items.add(new File(parts, 'checkout.log', { type: 'text/plain' }));
    return dt;
  });
  await page.dispatchEvent('[data-testid="dropzone"]', 'drop', { dataTransfer });
  await page.waitForURL(/\/orgs\/acme\/analyses\/[0-9a-f-]{36}$/, { timeout: 60_000 });

  const seen = [];
  const live = page.getByTestId('live-status');
  const summary = page.getByTestId('summary');
  const deadline = Date.now() + 120_000;
  while (!(await summary.isVisible())) {
    assert.ok(Date.now() < deadline, 'the analysis finished in time');
    const text = await live.innerText().catch(() => '');
    if (text && seen.at(-1) !== text) seen.push(text);
    await page.waitForTimeout(50);
  }
  // The front process runs no workers (FAULTLINE_WORKERS=0), so every update came from the other.
  const counted = seen.filter((t) => /[1-9][\d,]* events/.test(t));
  assert.ok(counted.length >= 2, `several progress updates from the other process were shown: ${seen.join(' | ')}`);
  const stat = await page.locator('.stat', { hasText: 'Events' }).locator('.stat__value').innerText();
  assert.equal(stat, '500,000');
  await page.screenshot({ path: join(artifacts, 'scaleout-done.png'), fullPage: true });

  assert.deepEqual(errors, [], 'no console errors');
});
