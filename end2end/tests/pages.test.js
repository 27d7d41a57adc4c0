// Every main page, looked at in light and dark mode: a screenshot of each is kept in the
// artifacts, and axe-core finds no serious or critical accessibility violation in either.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { analyse, api, cascadeLog, hydrated, inspect, launchBrowser, paymentLog, startServer, watchErrors } from './server.js';

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

/** Opens `path`, waits for hydration and for `ready` (text on the page), and inspects it. */
async function look(page, path, name, ready) {
  await page.goto(`${server.base}${path}`);
  await hydrated(page).catch((e) => { throw new Error(`${path} did not hydrate: ${e.message}`); });
  if (ready) await page.getByText(ready).first().waitFor();
  return inspect(page, name);
}

test('the main pages have no serious or critical accessibility violations, light or dark', async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page, { expected4xx: true });
  const found = [];
  for (const [path, name, ready] of [
    ['/', 'landing', null],
    ['/signup', 'signup', 'Create account'],
    ['/login', 'login', 'Sign in'],
    ['/reset-password', 'reset-password', null],
    ['/status', 'status', 'Database'],
    ['/api', 'api-reference', null],
    ['/no-such-page', 'not-found', null],
  ]) {
    found.push(...(await look(page, path, name, ready)));
  }

  await api(server, browser, 'POST', '/api/v1/auth/signup', {
    email: 'ada@acme.example',
    password: 'correct horse battery staple',
    org_name: 'Acme',
  });
  const id = await analyse(server, browser, 'acme', 'pay.log', paymentLog(400));
  const { items } = await api(server, browser, 'GET', `/api/v1/analyses/${id}/patterns?org=acme&q=payment`);
  const pattern = items[0].id;
  const calmer = await analyse(server, browser, 'acme', 'pay-later.log', paymentLog(200));
  const cascade = await analyse(server, browser, 'acme', 'cascade.log', cascadeLog());
  await api(server, browser, 'POST', `/api/v1/analyses/${id}/patterns/${pattern}/comments?org=acme`, {
    body: 'Started after the deploy. @ada, check the pool size.',
  });
  for (const [path, name, ready] of [
    ['/orgs', 'orgs', 'Your organisations'],
    ['/orgs/new', 'org-new', null],
    ['/orgs/acme', 'org-admin', 'Members'],
    ['/orgs/acme/audit', 'audit', 'auth.signup'],
    ['/orgs/acme/analyses', 'analyses', 'pay.log'],
    [`/orgs/acme/analyses/${id}`, 'analysis', 'Patterns'],
    [`/orgs/acme/analyses/${id}/patterns/${pattern}`, 'pattern', 'Started after the deploy.'],
    [`/orgs/acme/analyses/${cascade}`, 'analysis-chains', 'Root-cause chains'],
    [`/orgs/acme/compare?ids=${id},${calmer}`, 'compare', 'Patterns × analyses'],
    [`/orgs/acme/analyses/${id}/tests`, 'tests', 'Preferences and project context'],
    ['/orgs/acme/mentions', 'mentions', 'No mentions yet'],
    ['/account', 'account', 'Sessions'],
  ]) {
    found.push(...(await look(page, path, name, ready)));
  }
  assert.deepEqual(found, [], `axe-core violations:\n${found.join('\n')}`);
  assert.deepEqual(errors.filter((e) => !/status of 404/.test(e)), [], 'no console errors');
});
