// Logs into findings in a real browser: drop two files on the analyses page, watch both
// uploads and then the analysis progress run to completion, and see the results appear.
// A teammate watching the same analysis sees the same live progress.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { artifacts, hydrated, launchBrowser, startServer, watchErrors } from './server.js';

let server;
let browser;

before(async () => {
  server = await startServer({ FAULTLINE_WORKERS: '1' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const PASSWORD = 'correct horse battery staple';

/** Drops files built inside the page (so large ones need not cross the wire) on `selector`. */
async function dropFiles(page, selector, files) {
  const dataTransfer = await page.evaluateHandle((specs) => {
    const dt = new DataTransfer();
    for (const { name, lines, kind } of specs) {
      const parts = [];
      for (let i = 0; i < lines; i++) {
        const s = String(i % 60).padStart(2, '0');
        if (kind === 'api') {
          parts.push(i % 5 === 0
            ? `2026-12-01T10:00:${s}Z ERROR payment ${i} failed: connection refused to db-${i % 4}\n`
            : `2026-12-01T10:00:${s}Z INFO GET /api/orders/${i} 200 ${i % 97} ms\n`);
        } else {
          parts.push(`{"time":"2026-12-01T10:01:${s}Z","level":"warn","msg":"cache miss for key user:${i}"}\n`);
        }
      }
      dt.items.add(new File(parts, name, { type: 'text/plain' }));
    }
    return dt;
  }, files);
  await page.dispatchEvent(selector, 'dragenter', { dataTransfer });
  await page.dispatchEvent(selector, 'drop', { dataTransfer });
}

test('drop two files, watch the analysis run, see the results', async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.base}/signup`);
  await hydrated(page);
  await page.getByLabel('Work email', { exact: true }).fill('ada@acme.example');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Organisation name', { exact: true }).fill('Acme');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${server.base}/orgs/acme`);

  await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Analyses' }).click();
  await page.waitForURL(`${server.base}/orgs/acme/analyses`);
  await hydrated(page);
  await page.getByText('No analyses yet').waitFor();
  await page.screenshot({ path: join(artifacts, 'analyses-empty.png'), fullPage: true });

  // Two files: a large one, so that progress has time to show, and a JSON-lines one.
  await dropFiles(page, '[data-testid="dropzone"]', [
    { name: 'api.log', lines: 600_000, kind: 'api' },
    { name: 'cache.jsonl', lines: 20_000, kind: 'json' },
  ]);
  const rows = page.getByTestId('upload-row');
  await rows.nth(1).waitFor();
  assert.equal(await rows.count(), 2, 'one progress bar per file');
  assert.match(await rows.nth(0).innerText(), /api\.log/);

  // The analysis opens and its progress is pushed live.
  await page.waitForURL(/\/orgs\/acme\/analyses\/[0-9a-f-]{36}$/, { timeout: 60_000 });
  const url = page.url();
  const teammate = await browser.newPage();
  await teammate.goto(url);
  const seen = new Set();
  const live = page.getByTestId('live-status');
  const summary = page.getByTestId('summary');
  const deadline = Date.now() + 120_000;
  while (!(await summary.isVisible())) {
    assert.ok(Date.now() < deadline, 'the analysis finished in time');
    if (await live.isVisible()) {
      const text = await live.innerText().catch(() => '');
      if (text) seen.add(text.replace(/[\d,.]+/g, '#'));
      if (/events/.test(text) && !(await page.locator('.artifact-taken').count())) {
        await page.screenshot({ path: join(artifacts, 'analysis-progress.png'), fullPage: true });
        await page.evaluate(() => document.body.classList.add('artifact-taken'));
      }
    }
    await page.waitForTimeout(50);
  }
  assert.ok([...seen].some((t) => /events · # patterns/.test(t)), `progress counts were shown live: ${[...seen].join(' | ')}`);

  // The results.
  await page.getByRole('heading', { name: 'Top patterns' }).waitFor();
  const stat = async (label) => page.locator('.stat', { hasText: label }).locator('.stat__value').innerText();
  assert.equal(await stat('Events'), '620,000');
  const patterns = await page.getByTestId('patterns').locator('tbody tr').allInnerTexts();
  assert.ok(patterns.some((p) => p.includes('payment <*> failed: connection refused to <*>')), patterns.join('\n'));
  const files = await page.getByTestId('files').innerText();
  assert.match(files, /api\.log/);
  assert.match(files, /cache\.jsonl/);
  await page.screenshot({ path: join(artifacts, 'analysis-done.png'), fullPage: true });

  // The teammate's page followed the same analysis to its end.
  await teammate.getByTestId('summary').waitFor({ timeout: 30_000 });
  await teammate.emulateMedia({ colorScheme: 'dark' });
  await teammate.screenshot({ path: join(artifacts, 'analysis-done-dark.png'), fullPage: true });
  await teammate.close();

  // The list shows it, done.
  await page.getByRole('link', { name: 'Analyses' }).first().click();
  await page.waitForURL(`${server.base}/orgs/acme/analyses`);
  const listed = await page.getByTestId('analyses').innerText();
  assert.match(listed, /api\.log and 1 more/);
  assert.match(listed, /done/i);

  // A binary file is refused with its type named, and nothing starts.
  await hydrated(page);
  const png = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1]);
    dt.items.add(new File([bytes], 'screenshot.log'));
    return dt;
  });
  await page.dispatchEvent('[data-testid="dropzone"]', 'drop', { dataTransfer: png });
  await page.getByText('PNG image').first().waitFor();
  await page.screenshot({ path: join(artifacts, 'upload-refused.png'), fullPage: true });
  assert.deepEqual(errors.filter((e) => !/status of 415/.test(e)), [], 'no console errors');
});

test('a file over the limit is refused before it is sent, with the limit named', async () => {
  const small = await startServer({ FAULTLINE_MAX_UPLOAD_BYTES: '1MB' });
  const context = await launchBrowser();
  try {
    const page = await context.newPage();
    await page.goto(`${small.base}/signup`);
    await hydrated(page);
    await page.getByLabel('Work email', { exact: true }).fill('lin@acme.example');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Organisation name', { exact: true }).fill('Acme');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${small.base}/orgs/acme`);
    await page.goto(`${small.base}/orgs/acme/analyses`);
    await hydrated(page);
    assert.match(await page.getByTestId('upload-limits').innerText(), /Up to 1 MiB per file/);
    const sent = [];
    page.on('request', (r) => { if (r.url().includes('/api/v1/uploads')) sent.push(r.url()); });
    await dropFiles(page, '[data-testid="dropzone"]', [
      { name: 'small.log', lines: 100, kind: 'api' },
      { name: 'huge.log', lines: 60_000, kind: 'api' },
    ]);
    await page.getByText('larger than this organisation').first().waitFor({ timeout: 30_000 });
    const notice = await page.getByRole('alert').innerText();
    assert.match(notice, /huge\.log was not uploaded/);
    assert.match(notice, /1 MiB/);
    assert.deepEqual(sent, [], 'refused before anything was sent');
    await page.screenshot({ path: join(artifacts, 'upload-too-large.png'), fullPage: true });
  } finally {
    await context.close();
    await small.stop();
  }
});
