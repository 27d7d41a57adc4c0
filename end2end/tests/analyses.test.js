// Logs into findings in a real browser: drop two files on the analyses page, watch both
// uploads and then the analysis progress run to completion, and see the results appear.
// A teammate watching the same analysis sees the same live progress.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
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
  await page.getByRole('heading', { name: 'Patterns', exact: true }).waitFor();
  const stat = async (label) => page.locator('.stat', { hasText: label }).locator('.stat__value').innerText();
  assert.equal(await stat('Events'), '620,000');
  // Tests were written as the last stage, in the owner's framework.
  assert.match(await stat('Tests written'), /^[\d,]+ pytest$/);
  assert.equal(await stat('Test coverage'), '100 %');
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

test('search, filter and sort the patterns, then open one in detail', async () => {
  // Signed in by the first test; its analysis is the newest.
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.base}/orgs/acme/analyses`);
  await hydrated(page);
  await page.getByTestId('analyses').getByRole('link').first().click();
  await page.getByTestId('patterns').waitFor();
  const analysisUrl = page.url().split('?')[0];
  assert.match(await page.getByTestId('pattern-count').innerText(), /^\d+ patterns$/);
  const canvas = page.locator('canvas.chart__canvas').first();
  await page.waitForFunction(() => document.querySelector('canvas.chart__canvas')?.dataset.drawn === 'true');
  assert.ok(await canvas.isVisible(), 'events over time are charted');

  // The patterns download as CSV, every one a row.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Patterns (CSV)' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /\.csv$/);
  const csv = await readFile(await download.path(), 'utf8');
  assert.match(csv, /^id,template,count,/);
  assert.match(csv, /payment <\*> failed: connection refused to <\*>/);

  // Search from the keyboard: the query lands in the address, and only matches remain.
  await page.getByLabel('Search templates').fill('refused');
  await page.getByLabel('Search templates').press('Enter');
  await page.waitForURL(/[?&]q=refused/);
  // Only the fields that hold something are in the address (no `severity=`, no bare `=`).
  assert.equal(new URL(page.url()).search, '?q=refused');
  await page.getByTestId('pattern-count').filter({ hasText: 'match' }).waitFor();
  let rows = await page.getByTestId('patterns').locator('tbody tr').allInnerTexts();
  assert.ok(rows.length > 0 && rows.every((r) => r.includes('refused')), rows.join('\n'));

  // A filter no pattern passes shows the empty state with a way back.
  await page.getByRole('search').getByLabel(/^Severity/).selectOption('low');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/severity=low/);
  await page.getByText('No patterns match').waitFor();
  await page.getByRole('link', { name: 'Clear the filters' }).click();
  await page.waitForURL(analysisUrl);
  await page.getByTestId('pattern-count').filter({ hasNotText: 'match' }).waitFor();

  // Sorting by a column flips with a second press and says so to assistive technology.
  const events = page.getByTestId('patterns').getByRole('columnheader', { name: /Events/ });
  assert.equal(await events.getAttribute('aria-sort'), 'descending');
  await events.getByRole('link').click();
  await page.waitForURL(/sort=count|asc=true/);
  await page.waitForFunction(() => document.querySelector('th[aria-sort="ascending"]') !== null);
  const counts = (await page.getByTestId('patterns').locator('tbody tr td:first-child').allInnerTexts())
    .map((t) => Number(t.split('\n')[0].replaceAll(',', '')));
  assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'fewest first');
  await page.screenshot({ path: join(artifacts, 'patterns-table.png'), fullPage: true });

  // Open the payment pattern: its template with slots, values, risk, samples and chart.
  await page.getByLabel('Search templates').fill('payment');
  await page.getByLabel('Search templates').press('Enter');
  await page.waitForURL(/q=payment/);
  // The address changes before the filtered rows replace the sorted ones: wait for the rows.
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid="patterns"] tbody tr')];
    return rows.length > 0 && rows.every((r) => r.innerText.includes('payment'));
  });
  await page.getByTestId('patterns').locator('tbody tr').first().getByRole('link').click();
  await page.waitForURL(/\/patterns\/p\d+$/);
  await page.getByRole('heading', { name: /^Pattern p\d+$/ }).waitFor();
  const template = await page.getByTestId('template').innerText();
  assert.match(template, /payment <1> failed: connection refused to <2>/);
  const slot = page.getByTestId('template').locator('mark.slot').nth(1);
  assert.match(await slot.getAttribute('title'), /Variable 2: db-\d \([\d,]+\)/);
  const variables = await page.getByTestId('variables').innerText();
  assert.match(variables, /db-0/);
  assert.match(await page.getByTestId('risk').innerText(), /Severity[\s\S]*Frequency[\s\S]*Impact[\s\S]*Recency/);
  assert.match(await page.getByTestId('samples').innerText(), /api\.log · line \d+/);
  await page.waitForFunction(() => document.querySelector('canvas.chart__canvas')?.dataset.drawn === 'true');
  await page.screenshot({ path: join(artifacts, 'pattern-detail.png'), fullPage: true });
  // The chart follows the system's colour scheme as it changes.
  const corner = () => page.evaluate(() => [...document.querySelector('canvas.chart__canvas').getContext('2d').getImageData(1, 1, 1, 1).data].slice(0, 3));
  assert.deepEqual(await corner(), [255, 255, 255]);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForFunction(() => document.querySelector('canvas.chart__canvas').getContext('2d').getImageData(1, 1, 1, 1).data[0] < 100);
  assert.deepEqual(await corner(), [23, 27, 34]);
  await page.screenshot({ path: join(artifacts, 'pattern-detail-dark.png'), fullPage: true });

  // Hovering the chart shows the bucket's numbers.
  const box = await page.locator('canvas.chart__canvas').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.locator('.chart__tooltip').waitFor();
  assert.match(await page.locator('.chart__tooltip').innerText(), /\d/);

  // Another organisation's pattern, or one that does not exist, is not there.
  await page.goto(`${analysisUrl}/patterns/p99999`);
  await page.getByText('No such pattern').waitFor();
  assert.deepEqual(errors.filter((e) => !/status of 404/.test(e)), [], 'no console errors');
});

test('a running analysis is cancelled from its page, and one deleted while a teammate watches says so', async () => {
  // Signed in by the first test.
  const page = await browser.newPage();
  const errors = watchErrors(page);
  const open = async (name) => {
    await page.goto(`${server.base}/orgs/acme/analyses`);
    await hydrated(page);
    await dropFiles(page, '[data-testid="dropzone"]', [{ name, lines: 1_500_000, kind: 'api' }]);
    await page.waitForURL(/\/orgs\/acme\/analyses\/[0-9a-f-]{36}$/, { timeout: 60_000 });
    await hydrated(page);
    return page.url();
  };

  await open('cancel-me.log');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByText('This analysis was cancelled before it finished.').waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId('summary').count(), 0, 'no results for a cancelled analysis');

  const url = await open('delete-me.log');
  const teammate = await browser.newPage();
  await teammate.goto(url);
  await hydrated(teammate);
  await teammate.getByTestId('live-progress').waitFor();
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.waitForURL(`${server.base}/orgs/acme/analyses`);
  await teammate.getByText('This analysis was deleted.').waitFor({ timeout: 30_000 });
  await teammate.close();
  assert.deepEqual(errors, [], 'no console errors');
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
