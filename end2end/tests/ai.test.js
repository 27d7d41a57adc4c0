// Optional AI, tried as a new user would: explain a pattern with no provider (the built-in engine
// answers), add an OpenAI-compatible provider on the organisation page (a loopback server that
// speaks Chat Completions), explain again and read the model's answer, rendered safely; ask for
// fixes; compare two models side by side; have the model write the pattern's tests, validated
// like the generator's; read the month's usage, route summaries to another model, keep a team's
// own prompts and preview them; download a report whose summary the model wrote; turn AI off and see the built-in engine answer again. In light and dark, checked with axe-core.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { analyse, api, hydrated, inspect, launchBrowser, paymentLog, startServer, watchErrors } from './server.js';

let server;
let browser;
let provider;
const requests = [];

/** A loopback model that answers with Markdown carrying things a page must not run; asked for
 * a stream, it sends the answer in three pieces, 300 ms apart, as Chat Completions chunks. */
function startProvider() {
  return new Promise((resolve) => {
    const http = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', async () => {
        requests.push({ url: req.url, auth: req.headers.authorization, body });
        if (JSON.parse(body).messages?.[0]?.content?.includes('test engineer')) {
          const file = "```python\nimport pytest\n\n\ndef test_payment_timeout_is_raised():\n    with pytest.raises(TimeoutError):\n        raise TimeoutError('db-1')\n```\n";
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({
            id: 'chatcmpl-e2e-tests',
            object: 'chat.completion',
            choices: [{ index: 0, message: { role: 'assistant', content: file }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 1500, completion_tokens: 200 },
          }));
          return;
        }
        const pieces = ['### What it means\n\n', 'The payment service cannot reach **db-1**.\n\n<script>window.pwned = 1</script>\n\n', '[runbook](https://runbooks.example/db) [bad](javascript:alert(1))'];
        const usage = { prompt_tokens: 900, completion_tokens: 120 };
        if (!JSON.parse(body).stream) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({
            id: 'chatcmpl-e2e',
            object: 'chat.completion',
            choices: [{ index: 0, message: { role: 'assistant', content: pieces.join('') }, finish_reason: 'stop' }],
            usage,
          }));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const content of pieces) {
          res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`);
          await new Promise((r) => setTimeout(r, 300));
        }
        res.write(`data: ${JSON.stringify({ choices: [], usage })}\n\n`);
        res.end('data: [DONE]\n\n');
      });
    });
    http.listen(0, '127.0.0.1', () => resolve(http));
  });
}

before(async () => {
  server = await startServer({ FAULTLINE_WORKERS: '1' });
  browser = await launchBrowser();
  provider = await startProvider();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  provider?.close();
});

test('explain a pattern with and without a model provider', async () => {
  await api(server, browser, 'POST', '/api/v1/auth/signup', {
    email: 'ada@acme.example',
    password: 'correct horse battery staple',
    org_name: 'Acme',
  });
  const id = await analyse(server, browser, 'acme', 'payments.log', paymentLog());
  const page = await browser.newPage();
  const errors = watchErrors(page, { expected4xx: true });
  const patternUrl = `${server.base}/orgs/acme/analyses/${id}/patterns/p1`;

  // No provider yet: the built-in engine explains.
  await page.goto(patternUrl);
  await hydrated(page);
  await page.getByTestId('explain').click();
  const explanation = page.getByTestId('explanation');
  await explanation.waitFor();
  assert.match(await explanation.innerText(), /built-in engine/);
  assert.match(await explanation.innerText(), /No model provider is configured/);
  assert.match(await explanation.innerText(), /What to do/);

  // Add a provider on the organisation page.
  await page.goto(`${server.base}/orgs/acme`);
  await hydrated(page);
  await page.getByTestId('ai-empty').waitFor();
  await page.getByText('Add a provider').click();
  await page.getByLabel('Name', { exact: true }).last().fill('Local model');
  await page.getByLabel('Kind', { exact: true }).selectOption('openai');
  await page.getByLabel('Address', { exact: true }).fill(`http://127.0.0.1:${provider.address().port}/v1`);
  await page.getByLabel('API key', { exact: true }).fill('sk-e2e-secret-key-4321');
  await page.getByLabel('Models (the default first)').fill('gpt-4o-mini, gpt-4o');
  await page.getByLabel('Price per 1,000 input tokens').fill('0.15');
  await page.getByLabel('Price per 1,000 output tokens').fill('0.6');
  const added = page.waitForResponse((r) => r.url().includes('/rpc/add_ai_provider'));
  await page.getByRole('button', { name: 'Add provider' }).click();
  assert.equal((await added).status(), 200);
  const row = page.getByTestId('ai-provider');
  await row.waitFor();
  assert.match(await row.innerText(), /Local model/);
  assert.match(await row.innerText(), /…4321/);
  assert.doesNotMatch(await page.content(), /sk-e2e-secret-key/, 'the key is never shown again');
  assert.equal(await page.getByLabel('API key', { exact: true }).inputValue(), '', 'the form is emptied');
  assert.deepEqual(await inspect(page, 'org-ai'), []);

  // Explain again: the answer shows while the model writes it, as plain text; once written,
  // its Markdown is rendered, its script and unsafe link not.
  await page.goto(patternUrl);
  await hydrated(page);
  await page.getByTestId('explain').click();
  const writing = page.getByTestId('writing');
  await writing.getByText('What it means').waitFor();
  assert.doesNotMatch(await writing.innerText(), /runbook/, 'the last piece has not come yet');
  await explanation.waitFor();
  await explanation.getByText('Local model · gpt-4o-mini').waitFor();
  assert.match(await explanation.innerText(), /900 tokens in, 120 out · cost 0\.2070/);
  assert.equal(await explanation.locator('h3').innerText(), 'What it means');
  assert.equal(await explanation.locator('strong').innerText(), 'db-1');
  assert.equal(await explanation.locator('script').count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await explanation.locator('a[href="https://runbooks.example/db"]').count(), 1);
  assert.equal(await explanation.locator('a[href^="javascript"]').count(), 0);
  assert.equal(requests.length, 1);
  assert.equal(requests[0].url, '/v1/chat/completions');
  assert.equal(JSON.parse(requests[0].body).stream, true, 'the answer was streamed');
  assert.equal(requests[0].auth, 'Bearer sk-e2e-secret-key-4321');
  assert.deepEqual(await inspect(page, 'pattern-explained'), []);

  // Asked again: the cache answers.
  await page.getByTestId('explain').click();
  await page.getByText('from the cache').waitFor();
  assert.equal(requests.length, 1);

  // Fix suggestions: a question of their own, so the model is asked again.
  await page.getByTestId('recommend').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="explanation"]')?.textContent.includes('tokens in') && !document.querySelector('[data-testid="explanation"]')?.textContent.includes('from the cache'));
  assert.equal(requests.length, 2);
  assert.match(JSON.parse(requests[1].body).messages[0].content, /Suggest concrete fixes/);

  // Compare two models beside the built-in engine: a column each, with tokens, time, cost
  // and the checks of each answer.
  await page.getByText('Compare models').click();
  await page.getByLabel('Local model · gpt-4o-mini').check();
  await page.getByLabel('Local model · gpt-4o', { exact: true }).check();
  const compared = page.waitForResponse((r) => r.url().includes('/rpc/compare_models'));
  await page.getByTestId('compare').click();
  assert.equal((await compared).status(), 200);
  const table = page.getByTestId('comparison');
  await table.waitFor();
  const heads = await table.locator('thead th').allInnerTexts();
  assert.deepEqual(heads.slice(1), ['Built-in engine', 'Local model · gpt-4o-mini', 'Local model · gpt-4o']);
  const text = await table.innerText();
  assert.match(text, /\(cached\)/, 'the explanation asked before came from the cache');
  assert.match(text, /Missing: Likely cause, What to do/);
  assert.match(text, /No raw HTML — Contains "<script>/);
  assert.equal(await table.locator('script').count(), 0);
  assert.equal(await table.locator('.check-fail').count() >= 4, true, 'two checks fail for each model');
  assert.equal(requests.length, 3, 'only the uncached model was called');
  assert.equal(JSON.parse(requests[2].body).model, 'gpt-4o');
  assert.deepEqual(await inspect(page, 'pattern-compared'), []);

  // The pattern's tests by the model: validated like the generator's and shown as a file. The
  // generator writes tests for error patterns; this one is not.
  assert.match(await page.getByTestId('no-tests').innerText(), /error patterns/);
  const failures = await api(server, browser, 'GET', `/api/v1/analyses/${id}/patterns?q=connection%20refused`);
  await page.goto(`${server.base}/orgs/acme/analyses/${id}/patterns/${failures.items[0].id}`);
  await hydrated(page);
  const wrote = page.waitForResponse((r) => r.url().includes('/rpc/write_tests'));
  await page.getByTestId('write-tests').click();
  const wroteResponse = await wrote;
  assert.equal(wroteResponse.status(), 200, await wroteResponse.text());
  const written = page.getByTestId('written-tests');
  await written.waitFor();
  assert.match(await written.innerText(), /Local model · gpt-4o-mini/);
  assert.match(await page.getByTestId('test-attempts').innerText(), /first\s+1\s+valid/i);
  assert.match(await page.getByTestId('code-view').innerText(), /def test_payment_timeout_is_raised/);
  assert.equal(requests.length, 4);
  assert.match(JSON.parse(requests[3].body).messages[1].content, /The generator's file:/);
  assert.deepEqual(await inspect(page, 'pattern-tests-by-model'), []);

  // The report's executive summary by the model: the analysis page's download links ask for it.
  await page.goto(`${server.base}/orgs/acme/analyses/${id}`);
  await hydrated(page);
  await page.getByTestId('summary-by-model').check();
  const pdfLink = page.getByRole('link', { name: 'Report (PDF)' });
  assert.match(await pdfLink.getAttribute('href'), /summary=ai/);
  const mdHref = await page.getByRole('link', { name: 'Markdown' }).getAttribute('href');
  const report = await page.request.get(`${server.base}${mdHref}`);
  assert.equal(report.status(), 200);
  const markdown = await report.text();
  assert.match(markdown, /Summary written by Local model · gpt-4o-mini/);
  assert.match(markdown, /The payment service cannot reach/);
  assert.equal(requests.length, 5);
  assert.match(JSON.parse(requests[4].body).messages[0].content, /executive summary/);

  // A team's own prompts: saved as a version on the organisation page, previewed with the
  // latest analysis, then used when the pattern page asks with the team.
  await api(server, browser, 'POST', '/api/v1/orgs/acme/teams', { name: 'Payments' });
  await page.goto(`${server.base}/orgs/acme`);
  await hydrated(page);

  // The month's usage: every call so far, the cached ones, a chart of cost per day.
  const usage = page.getByTestId('ai-usage');
  assert.match(await usage.getByTestId('usage-headline').innerText(), /^7 calls \(2 from the cache, 0 failed\)/);
  assert.match(await usage.innerText(), /Local model · gpt-4o-mini/);
  assert.equal(await usage.locator('canvas').count(), 1);
  // Routing: summaries to the second model, kept after a reload.
  await page.getByLabel('Summaries', { exact: true }).selectOption({ label: 'Local model · gpt-4o' });
  const routed = page.waitForResponse((r) => r.url().includes('/rpc/save_ai_routes'));
  await page.getByRole('button', { name: 'Save routing' }).click();
  assert.equal((await routed).status(), 200);
  await page.reload();
  await hydrated(page);
  assert.match(await page.getByLabel('Summaries', { exact: true }).inputValue(), /\/gpt-4o$/);

  const opened = page.waitForResponse((r) => r.url().includes('/rpc/team_prompts'));
  await page.getByTestId('open-prompts').click();
  assert.equal((await opened).status(), 200);
  const system = page.getByTestId('prompt-system');
  await system.waitFor();
  assert.match(await system.innerText(), /Built-in \(no version saved\)/);
  assert.equal(await page.getByLabel('Analysis prompt', { exact: true }).inputValue(), '{{evidence}}');
  await page.getByLabel('System prompt', { exact: true }).fill('We are the {{team}} team of {{org}}; keep to our runbooks.');
  const savedPrompt = page.waitForResponse((r) => r.url().includes('/rpc/save_team_prompt'));
  await page.getByTestId('save-prompt-system').click();
  assert.equal((await savedPrompt).status(), 200);
  await system.getByText(/Version 1 by ada@acme\.example/).waitFor();
  await page.getByLabel('Analysis prompt', { exact: true }).fill('Draft for {{pattern.id}}:\n{{evidence}}');
  await page.getByTestId('preview-prompts').click();
  const shown = page.getByTestId('prompt-preview');
  await shown.waitFor();
  const previewText = await shown.innerText();
  assert.match(previewText, /system: v1 · analysis: draft/);
  assert.match(previewText, /We are the Payments team of Acme; keep to our runbooks\./);
  assert.match(previewText, /Draft for p\d+:\nLog pattern/);
  assert.equal(requests.length, 5, 'a preview calls no model');
  assert.deepEqual(await inspect(page, 'org-prompts'), []);

  await page.goto(patternUrl);
  await hydrated(page);
  await page.getByLabel('Prompts', { exact: true }).first().selectOption({ label: 'Team Payments' });
  await page.getByTestId('explain').click();
  await explanation.waitFor();
  assert.equal(requests.length, 6);
  assert.match(JSON.parse(requests[5].body).messages[0].content, /^We are the Payments team of Acme; keep to our runbooks\.\n\n/);

  // AI off: nothing is sent; the built-in engine answers.
  await page.goto(`${server.base}/orgs/acme`);
  await hydrated(page);
  await page.getByLabel('Use AI (off: nothing is sent anywhere)').uncheck();
  const saved = page.waitForResponse((r) => r.url().includes('/rpc/save_ai_settings'));
  await page.getByRole('button', { name: 'Save AI settings' }).click();
  assert.equal((await saved).status(), 200);
  await page.goto(patternUrl);
  await hydrated(page);
  await page.getByTestId('explain').click();
  await explanation.waitFor();
  assert.match(await explanation.innerText(), /AI is turned off/);
  assert.equal(requests.length, 6);
  assert.deepEqual(errors, []);
});
