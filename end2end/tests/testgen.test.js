// Generated regression tests, tried as a new user would: open an analysis of a Java service's
// log, go to its tests, read the coverage and validation, narrow the frameworks to browser tests
// and back, generate Jest tests, read a file highlighted and copy it, download the suite, save
// preferences and see the next suite follow them; in light and dark.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { analyse, api, artifacts, hydrated, launchBrowser, startServer, watchErrors } from './server.js';

const logs = resolve(import.meta.dirname, '..', '..', 'server', 'tests', 'fixtures', 'logs');

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

test('generate, read, copy and download regression tests of an analysis', async () => {
  await api(server, browser, 'POST', '/api/v1/auth/signup', {
    email: 'ada@acme.example',
    password: 'correct horse battery staple',
    org_name: 'Acme',
  });
  const id = await analyse(server, browser, 'acme', 'java-service.log', readFileSync(join(logs, 'java-service.log'), 'utf8'));

  const page = await browser.newPage();
  const errors = watchErrors(page, { expected4xx: true });
  await page.goto(`${server.base}/orgs/acme/analyses/${id}`);
  await hydrated(page);
  await page.getByRole('link', { name: 'Generate tests' }).click();
  await page.waitForURL(/\/tests$/);
  await hydrated(page);

  // The defaults: pytest, every error pattern covered, every file valid.
  const summary = page.getByTestId('tests-summary');
  await summary.waitFor();
  assert.match(await summary.innerText(), /pytest in \d+ files/);
  assert.match(await summary.innerText(), /all valid/i);
  assert.match(await page.getByTestId('coverage-count').innerText(), /^(\d+) of \1 error patterns$/);
  assert.equal(await page.getByRole('progressbar', { name: 'Error patterns with tests' }).getAttribute('value'), '100');
  await page.getByText('Every error pattern has tests.').waitFor();

  // The first test file is shown, highlighted, with the pattern it guards.
  const code = page.getByTestId('code-view');
  assert.match(await code.innerText(), /# Pattern p\d+: "/);
  assert.ok(await code.locator('.tok-keyword').count() > 5, 'keywords are highlighted');
  assert.ok(await code.locator('.tok-string').count() > 5, 'strings are highlighted');
  // Run the suite in the sandbox: nothing to call there, so every test is skipped, none fails.
  await page.getByTestId('run-tests').click();
  const result = page.getByTestId('run-result');
  await result.waitFor({ timeout: 60_000 });
  assert.match(await result.innerText(), /no failures/i);
  assert.match(await result.innerText(), /0 failed/i);
  assert.match(await result.innerText(), /\d+ skipped/i);
  await page.screenshot({ path: join(artifacts, 'tests-pytest.png'), fullPage: true });

  // A test type narrows the frameworks at once, before anything is submitted.
  const frameworks = page.getByTestId('framework');
  await page.getByTestId('test-type').selectOption('e2e');
  assert.deepEqual(await frameworks.locator('option').allInnerTexts(), ['Playwright', 'Cypress', 'Selenium (Python)']);
  await page.getByTestId('test-type').selectOption('unit');
  assert.ok((await frameworks.locator('option').allInnerTexts()).includes('Jest'));
  await frameworks.selectOption('jest');
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.waitForURL(/framework=jest/);
  await page.getByText(/Jest in \d+ files/).waitFor();
  const files = page.getByTestId('test-files');
  assert.doesNotMatch(await files.innerText(), /integration/, 'unit tests only');

  // Another file from the list, then copy it.
  await files.getByRole('link', { name: 'tests/support.js' }).click();
  await page.waitForURL(/file=tests%2Fsupport\.js/);
  await page.getByText('Checked by tree-sitter javascript').waitFor();
  assert.match(await code.innerText(), /function caught\(call\)/);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  await page.getByTestId('copy-file').click();
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(copied, /module\.exports = \{ available, target, load, failure, caught, baseUrl, request \}/);

  // The whole suite downloads as a ZIP.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the suite (ZIP)' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'faultline-jest-tests.zip');
  const zip = readFileSync(await download.path());
  assert.equal(zip.subarray(0, 2).toString(), 'PK');

  // Preferences: compact names, Mocha by default; the next suite follows them.
  await page.getByLabel('Framework', { exact: true }).last().selectOption('mocha');
  await page.getByLabel('Test names').selectOption('compact');
  await page.getByLabel('Edge cases').uncheck();
  await page.getByLabel('Base URL of the service under test').fill('not a url');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Give an http:// or https:// address without spaces.').waitFor();
  await page.getByLabel('Base URL of the service under test').fill('http://localhost:8080');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Saved. Generate again to use them.').waitFor();
  await page.goto(`${server.base}/orgs/acme/analyses/${id}/tests`);
  await hydrated(page);
  await page.getByText(/Mocha \+ Chai in \d+ files/).waitFor();
  assert.match(await code.innerText(), /it\('p\d+ \w+/, 'compact names');
  assert.doesNotMatch(await code.innerText(), /boundary inputs/, 'no edge cases');

  // Dark mode keeps the code readable.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(artifacts, 'tests-mocha-dark.png'), fullPage: true });
  assert.deepEqual(errors, []);
});

test('a team writes its own template, previews it on the analysis, saves it and generates with it', async () => {
  // Signed in and analysed by the first test.
  await api(server, browser, 'POST', '/api/v1/orgs/acme/teams', { name: 'Checkout' });
  const { items } = await api(server, browser, 'GET', '/api/v1/analyses?org=acme');
  const id = items[0].id;
  const page = await browser.newPage();
  const errors = watchErrors(page, { expected4xx: true });
  await page.goto(`${server.base}/orgs/acme/analyses/${id}/tests?framework=pytest`);
  await hydrated(page);
  const editor = page.getByTestId('template-editor');
  await editor.waitFor();
  assert.equal(await page.getByTestId('no-templates').count(), 1, 'none yet');

  // A mistake in a variable is named before anything is saved.
  await editor.getByLabel('Name', { exact: true }).fill('No 5xx again');
  const test_ = editor.getByLabel('The test, written for every error pattern');
  const starter = await test_.inputValue();
  assert.match(starter, /\{\{test_name\}\}/, 'a starting point is offered');
  await test_.fill(`${starter}    assert {{nonsense}}\n`);
  await editor.getByRole('button', { name: 'Preview on this analysis' }).click();
  await editor.getByText(/Unknown variable \{\{nonsense\}\}/).waitFor();

  // Fixed, previewed: a valid pytest file with a test per error pattern.
  await test_.fill(starter);
  await editor.getByRole('button', { name: 'Preview on this analysis' }).click();
  const preview = editor.getByTestId('code-view');
  await preview.waitFor();
  assert.match(await preview.innerText(), /def test_\w+_p\d+\(base_url\):/);
  assert.match(await preview.innerText(), /# Logged \d+ times: "/);
  await page.screenshot({ path: join(artifacts, 'tests-template.png'), fullPage: true });

  // Saved for the team; it is listed and offered as the team template.
  await editor.getByRole('button', { name: 'Save for the team' }).click();
  await editor.getByText('Saved. Choose it above as the team template to generate with it.').waitFor();
  await page.getByTestId('templates').getByText('No 5xx again · Checkout · pytest').waitFor();
  await page.getByTestId('template').selectOption({ label: 'No 5xx again (Checkout)' });
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.waitForURL(/template=/);
  await page.getByRole('link', { name: 'tests/custom/test_no_5xx_again.py' }).click();
  await page.waitForURL(/file=tests%2Fcustom/);
  assert.match(await page.getByTestId('code-view').first().innerText(), /requests\.request\(/);

  // The team's saved preferences can be generated with instead of one's own.
  await page.getByTestId('settings-of').selectOption({ label: 'Checkout team' });
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.waitForURL(/team=/);
  await page.getByTestId('tests-summary').waitFor();
  assert.deepEqual(errors, []);
});
