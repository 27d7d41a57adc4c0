// Batch comparison, sample context and the chain graph, tried as a new user would: tick two
// analyses in the history, compare them, narrow the matrix to what changed, follow a count to
// the pattern, read the lines around one of its sample events, and walk a root-cause chain
// drawn as a graph from the keyboard.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { analyse, api, cascadeLog, hydrated, launchBrowser, startServer, watchErrors } from './server.js';

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

/** A day of requests with `timeouts` upstream timeouts and `disk` disk-full errors. */
function dayLog(day, timeouts, disk) {
  const out = [];
  const at = (h, i) => `2026-11-0${day}T${h}:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`;
  for (let i = 0; i < 200; i++) out.push(`${at(10, i)} INFO request ${i} served in 12 ms`);
  for (let i = 0; i < timeouts; i++) out.push(`${at(11, i)} ERROR upstream billing timed out after ${i} ms`);
  for (let i = 0; i < disk; i++) out.push(`${at(12, i)} CRITICAL disk full: ${i} bytes free on /data`);
  return `${out.join('\n')}\n`;
}

test('compare two analyses from the history and read a sample in context', async () => {
  await api(server, browser, 'POST', '/api/v1/auth/signup', {
    email: 'ada@acme.example',
    password: 'correct horse battery staple',
    org_name: 'Acme',
  });
  await analyse(server, browser, 'acme', 'monday.log', dayLog(2, 10, 0));
  await analyse(server, browser, 'acme', 'tuesday.log', dayLog(3, 40, 5));

  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.base}/orgs/acme/analyses`);
  await hydrated(page);
  await page.getByRole('checkbox', { name: 'Compare monday.log' }).check();
  await page.getByRole('checkbox', { name: 'Compare tuesday.log' }).check();
  await page.getByRole('button', { name: 'Compare ticked analyses' }).click();
  await page.waitForURL(/\/compare\?ids=/);
  await hydrated(page);

  const columns = page.getByTestId('compare-columns');
  await columns.waitFor();
  assert.match(await columns.innerText(), /monday\.log[\s\S]*tuesday\.log/, 'oldest logs first');
  const matrix = page.getByTestId('compare-matrix');
  const rows = matrix.locator('tbody tr');
  assert.equal(await rows.count(), 3);
  assert.match(await rows.first().innerText(), /disk full[\s\S]*new/i, 'the new pattern leads');
  assert.match(await matrix.innerText(), /timed out[\s\S]*rising ×3\.4/i);
  await page.getByRole('img', { name: /Events per 1,000 by severity/ }).first().waitFor();

  // Only what changed, from the keyboard.
  await page.getByLabel('Only changed patterns').check();
  await page.getByLabel('Only changed patterns').press('Enter');
  await page.waitForURL(/changed=true/);
  await page.getByTestId('compare-count').getByText('2 of 3 patterns match').waitFor();
  assert.doesNotMatch(await matrix.innerText(), /served/);

  // A count leads to the pattern in that analysis; its samples open in context.
  await matrix.getByRole('link', { name: '40', exact: true }).click();
  await page.waitForURL(/\/patterns\/p\d+$/);
  await hydrated(page);
  const samples = page.getByTestId('samples');
  await samples.getByRole('button', { name: 'Show surrounding lines' }).first().click();
  const context = samples.getByTestId('sample-context').first();
  await context.waitFor();
  const text = await context.innerText();
  assert.match(text, /served in 12 ms/, 'the lines before the event');
  assert.match(text, /timed out after 0 ms/, 'the event itself');
  assert.equal(await context.locator('.context__line--event').count(), 1);
  await samples.getByRole('button', { name: 'Hide surrounding lines' }).first().click();
  assert.equal(await samples.getByTestId('sample-context').count(), 0);
  assert.deepEqual(errors, [], 'no console errors');
});

test('a comparison of nothing explains what to pick', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.base}/orgs/acme/compare`);
  await hydrated(page);
  await page.getByText('Pick what to compare').waitFor();
  await page.getByRole('link', { name: 'Go to the history' }).waitFor();
});

test('root-cause chains are drawn as a graph whose nodes lead to their patterns', async () => {
  const id = await analyse(server, browser, 'acme', 'cascade.log', cascadeLog());
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.base}/orgs/acme/analyses/${id}`);
  await hydrated(page);
  const graph = page.getByTestId('chain-graph');
  await graph.waitFor();
  assert.ok(await graph.locator('.graph__node').count() >= 2, 'a cause and its effect');
  assert.ok(await graph.locator('.graph__edge').count() >= 1);
  // The table view lists the same links.
  await page.getByText('Show the links as a table').click();
  assert.match(await page.getByTestId('chain-links').innerText(), /p\d+\s+p\d+/);
  // The root cause, reached by keyboard, opens its pattern.
  const root = graph.getByRole('link', { name: /db query timed out/ });
  await root.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/patterns\/p\d+$/);
  await page.getByTestId('template').getByText(/db query timed out/).waitFor();
  assert.deepEqual(errors, [], 'no console errors');
});
