// The history, tried as a new user would: create a project, search the analyses by pattern
// text, filter them by project from the keyboard, page through them, and file one under a
// project from its page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { analyse, api, hydrated, launchBrowser, paymentLog, startServer, watchErrors } from './server.js';

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

test('search, filter by project and file an analysis under a project', async () => {
  await api(server, browser, 'POST', '/api/v1/auth/signup', {
    email: 'ada@acme.example',
    password: 'correct horse battery staple',
    org_name: 'Acme',
  });
  const pay = await analyse(server, browser, 'acme', 'pay.log', paymentLog(120));
  await analyse(server, browser, 'acme', 'calm.log', '2026-12-01T10:00:00Z INFO all quiet\n');

  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.base}/orgs/acme/analyses`);
  await hydrated(page);
  const count = page.getByTestId('history-count');
  assert.equal(await count.innerText(), '2 analyses');
  await page.getByText('No projects yet').waitFor();

  // A project, created from the form.
  await page.getByLabel('New project').fill('Checkout');
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.getByTestId('projects').getByText('Checkout').waitFor();

  // Search by a pattern's text, by keyboard: only the payment log has it.
  const search = page.getByRole('search', { name: 'Search analyses' }).getByLabel('Search');
  await search.fill('connection refused');
  await search.press('Enter');
  await page.waitForURL(/q=connection/);
  // Fields left empty stay out of the address.
  assert.doesNotMatch(page.url(), /[?&][^=&]*=(&|$)/);
  await page.getByText('1 analysis match').waitFor();
  const rows = page.getByTestId('analyses').locator('tbody tr');
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().innerText(), /pay\.log/);

  // Nothing matches: a clear empty state with a way back.
  await search.fill('no such words anywhere');
  await search.press('Enter');
  await page.getByText('No analyses match').waitFor();
  await page.getByRole('link', { name: 'Clear the filters' }).click();
  await page.getByText('2 analyses').waitFor();

  // File the payment analysis under Checkout from its page.
  await page.goto(`${server.base}/orgs/acme/analyses/${pay}`);
  await hydrated(page);
  await page.getByTestId('project-select').selectOption({ label: 'Checkout' });
  await page.getByTestId('analysis-project').getByText('Checkout').waitFor();

  // The project's link filters the history to it.
  await page.goto(`${server.base}/orgs/acme/analyses`);
  await hydrated(page);
  await page.getByTestId('projects').getByRole('link', { name: 'Checkout' }).click();
  await page.waitForURL(/project=/);
  await page.getByText('1 analysis match').waitFor();
  assert.match(await page.getByTestId('analyses').innerText(), /pay\.log[\s\S]*Checkout/);
  assert.deepEqual(errors, [], 'no console errors');
});
