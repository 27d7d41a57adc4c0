// The application shell in a real browser: server rendering, hydration, theme persistence,
// the plotters chart on a canvas, probes, the 404 page, small screens and keyboard access.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { artifacts, hydrated, launchBrowser, startServer, watchErrors } from './server.js';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the landing page is rendered on the server', async () => {
  const res = await fetch(`${server.base}/`);
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /<h1>From production logs to findings and regression tests<\/h1>/);
  assert.match(html, /<canvas[^>]+class="chart__canvas"/);
  const csp = res.headers.get('content-security-policy');
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  assert.ok(nonce, `page CSP carries a nonce: ${csp}`);
  assert.ok(html.includes(`nonce="${nonce}"`), 'inline scripts carry the same nonce');
  assert.ok(!/'unsafe-inline'|'unsafe-eval'/.test(csp), csp);
  assert.match(csp, /frame-ancestors 'none'/);
});

test('the page hydrates, and the theme switch works and survives a reload', async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.base}/`);
  await hydrated(page);
  await page.screenshot({ path: join(artifacts, 'landing-light.png'), fullPage: true });

  // The switch only works once the WASM has hydrated the page.
  await page.getByRole('button', { name: 'Dark', exact: true }).click();
  await page.waitForSelector('html[data-theme="dark"]');
  assert.equal(await page.getAttribute('button[data-theme-choice="dark"]', 'aria-pressed'), 'true');
  await page.getByText('Theme set to dark').waitFor();

  await page.reload();
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark', 'server renders the saved theme');
  await hydrated(page);
  assert.equal(await page.getAttribute('button[data-theme-choice="dark"]', 'aria-pressed'), 'true');
  await page.waitForSelector('canvas.chart__canvas[data-drawn="true"]');
  await page.screenshot({ path: join(artifacts, 'landing-dark.png'), fullPage: true });

  await page.getByRole('button', { name: 'Light', exact: true }).click();
  await page.waitForSelector('html[data-theme="light"]');
  assert.deepEqual(errors, [], 'no console errors or CSP violations');
  await page.close();
});

test('the chart draws on its canvas', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.base}/`);
  await hydrated(page);
  await page.waitForSelector('canvas.chart__canvas[data-drawn="true"]');
  const stats = await page.$eval('canvas.chart__canvas', (canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const colours = new Set();
    let painted = 0;
    for (let i = 0; i < data.length; i += 4) {
      const key = `${data[i]},${data[i + 1]},${data[i + 2]}`;
      colours.add(key);
      if (key !== '255,255,255') painted += 1;
    }
    return { colours: colours.size, painted, total: data.length / 4 };
  });
  assert.ok(stats.painted > stats.total * 0.05, `painted ${stats.painted} of ${stats.total}`);
  assert.ok(stats.colours >= 6, `bars in several colours, axes and text: ${stats.colours}`);
  await page.close();
});

test('/healthz and /readyz answer', async () => {
  const health = await fetch(`${server.base}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
  const ready = await fetch(`${server.base}/readyz`);
  assert.equal(ready.status, 200);
  const body = await ready.json();
  assert.equal(body.status, 'ready');
  assert.equal(body.schema_version, body.schema_expected);
});

test('the status page shows live figures', async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.base}/status`);
  await hydrated(page);
  await page.getByText('Schema version').waitFor();
  assert.match(await page.textContent('main'), /sqlite/);
  await page.screenshot({ path: join(artifacts, 'status.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('unknown pages answer 404 with a page people can use', async () => {
  const page = await browser.newPage();
  const res = await page.goto(`${server.base}/no/such/page`);
  assert.equal(res.status(), 404);
  await page.getByRole('heading', { name: 'This page does not exist' }).waitFor();
  await page.screenshot({ path: join(artifacts, 'not-found.png') });
  await page.close();
});

test('the design system page works by keyboard alone', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.base}/design`);
  await hydrated(page);
  // The first Tab reaches the skip link, which moves focus to the main landmark.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash === '#main');
  const toast = page.getByRole('button', { name: 'Show a toast' });
  await toast.focus();
  await page.keyboard.press('Enter');
  await page.getByText('Saved', { exact: true }).waitFor();
  await page.screenshot({ path: join(artifacts, 'design.png'), fullPage: true });
  await page.close();
});

test('a 360 px phone gets a usable layout', async () => {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto(`${server.base}/`);
  await hydrated(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
  await page.screenshot({ path: join(artifacts, 'landing-phone.png'), fullPage: true });
  await page.close();
});
