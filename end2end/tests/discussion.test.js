// Two people discuss a pattern in two browsers: a comment with an @mention appears live on the
// teammate's open page, the reply comes back live, edits show, the mention reaches the
// teammate's list, and the reports download as real files.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { analyse, api, artifacts, hydrated, launchBrowser, mailTo, paymentLog, startServer, watchErrors } from './server.js';

const PASSWORD = 'correct horse battery staple';

let server;
let ada;
let bob;

before(async () => {
  server = await startServer({ FAULTLINE_WORKERS: '1' });
  ada = await launchBrowser();
  bob = await launchBrowser();
});

after(async () => {
  await ada?.close();
  await bob?.close();
  await server?.stop();
});

/** Signs Ada (owner of Acme) and Bob (a member) up, and analyses a small log. */
async function setUp() {
  await api(server, ada, 'POST', '/api/v1/auth/signup', { email: 'ada@acme.example', password: PASSWORD, org_name: 'Acme' });
  await api(server, ada, 'POST', '/api/v1/orgs/acme/invitations', { email: 'bob@acme.example', role: 'member' });
  const token = /token=([A-Za-z0-9_-]+)/.exec(mailTo(server, 'bob@acme.example'))[1];
  await api(server, bob, 'POST', '/api/v1/auth/signup', { email: 'bob@acme.example', password: PASSWORD, org_name: 'Bob Home' });
  await api(server, bob, 'POST', '/api/v1/orgs/acme/invitations/accept', { token });
  const id = await analyse(server, ada, 'acme', 'pay.log', paymentLog());
  const page = await api(server, ada, 'GET', `/api/v1/analyses/${id}/patterns?org=acme&q=payment`);
  return { id, pattern: page.items[0].id };
}

test('comment with a mention, see it live in a second browser, reply, edit, read the mention', async () => {
  const { id, pattern } = await setUp();
  const url = `${server.base}/orgs/acme/analyses/${id}/patterns/${pattern}`;
  const mine = await ada.newPage();
  const theirs = await bob.newPage();
  const errors = watchErrors(mine);
  const theirErrors = watchErrors(theirs);
  await Promise.all([mine.goto(url), theirs.goto(url)]);
  await Promise.all([hydrated(mine), hydrated(theirs)]);
  const discussion = (page) => page.getByTestId('discussion');
  await discussion(theirs).getByText('No comments yet.').waitFor();
  assert.match(await discussion(mine).innerText(), /Mention teammates with @ada, @bob/);

  // Ada writes from the keyboard; Ctrl+Enter posts.
  const box = discussion(mine).getByLabel('Add a comment');
  await box.focus();
  await mine.keyboard.type('Started after the deploy. @bob, is the pool too small?');
  await mine.keyboard.press('Control+Enter');
  await discussion(mine).getByText('1 comment').waitFor();
  assert.equal(await box.inputValue(), '', 'the box empties once posted');
  assert.equal(await discussion(mine).locator('mark.mention').innerText(), '@bob');

  // Bob's open page shows it without a reload.
  await discussion(theirs).getByText('Started after the deploy.').waitFor({ timeout: 10_000 });
  assert.equal(await discussion(theirs).locator('mark.mention').getAttribute('title'), 'bob@acme.example');
  assert.equal(await discussion(theirs).getByRole('button', { name: 'Edit' }).count(), 0, 'only the author edits');

  // Bob replies in the thread; Ada sees the reply arrive.
  await discussion(theirs).getByRole('button', { name: 'Reply' }).click();
  await discussion(theirs).getByLabel('Reply', { exact: true }).fill('Yes: 10 connections for 40 workers. @ada');
  await discussion(theirs).locator('form').getByRole('button', { name: 'Reply' }).click();
  await discussion(mine).getByText('Yes: 10 connections for 40 workers.').waitFor({ timeout: 10_000 });
  assert.equal(await discussion(mine).getByRole('listitem', { name: 'Thread with 1 reply' }).count(), 1);

  // Ada edits her comment; Bob sees the new text, marked edited.
  await discussion(mine).getByRole('button', { name: 'Edit' }).click();
  const edit = discussion(mine).getByLabel('Edit your comment');
  await edit.fill('Started after the 14:00 deploy. @bob, is the pool too small?');
  await discussion(mine).getByRole('button', { name: 'Save' }).click();
  await discussion(theirs).getByText('Started after the 14:00 deploy.').waitFor({ timeout: 10_000 });
  assert.match(await discussion(theirs).innerText(), /edited/);

  // An empty comment is refused in place.
  await discussion(mine).getByLabel('Add a comment').fill('   ');
  await discussion(mine).getByRole('button', { name: 'Comment' }).click();
  assert.equal(await discussion(mine).locator('.comment').count(), 2, 'nothing posted');

  await mine.screenshot({ path: join(artifacts, 'discussion.png'), fullPage: true });
  await theirs.emulateMedia({ colorScheme: 'dark' });
  await theirs.screenshot({ path: join(artifacts, 'discussion-dark.png'), fullPage: true });

  // Bob's header counts the mention; his list links to the pattern and marks it read.
  await theirs.goto(`${server.base}/orgs/acme`);
  await hydrated(theirs);
  await theirs.getByRole('link', { name: 'Mentions, 1 unread' }).click();
  await theirs.waitForURL(`${server.base}/orgs/acme/mentions`);
  const item = theirs.locator('.mention-item').first();
  assert.match(await item.innerText(), /new[\s\S]*ada@acme\.example on pay\.log › p\d+/i);
  await theirs.screenshot({ path: join(artifacts, 'mentions-dark.png'), fullPage: true });
  await theirs.getByRole('button', { name: 'Mark all read' }).click();
  await theirs.getByText('All read.').waitFor();
  await theirs.getByRole('link', { name: 'Mentions', exact: true }).waitFor();
  await item.getByRole('link').click();
  await theirs.waitForURL(new RegExp(`/patterns/${pattern}`));
  await discussion(theirs).getByText('Started after the 14:00 deploy.').waitFor();

  // Ada deletes her comment; the reply keeps its place under a placeholder.
  await discussion(mine).getByRole('button', { name: 'Delete' }).first().click();
  await discussion(mine).getByRole('group', { name: 'Confirm deletion' }).getByRole('button', { name: 'Delete' }).click();
  await discussion(theirs).getByText('This comment was deleted.').waitFor({ timeout: 10_000 });
  assert.match(await discussion(theirs).innerText(), /Yes: 10 connections/);

  assert.deepEqual(errors, [], 'no console errors for Ada');
  assert.deepEqual(theirErrors, [], 'no console errors for Bob');
  await mine.close();
  await theirs.close();
});

test('the PDF report and the XLSX workbook download as real files', async () => {
  const page = await ada.newPage();
  await page.goto(`${server.base}/orgs/acme/analyses`);
  await hydrated(page);
  await page.getByTestId('analyses').getByRole('link').first().click();
  await page.getByTestId('summary').waitFor();
  for (const [name, magic, ext] of [['Report (PDF)', '%PDF-', 'pdf'], ['Workbook (XLSX)', 'PK', 'xlsx']]) {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name }).click(),
    ]);
    assert.match(download.suggestedFilename(), new RegExp(`\\.${ext}$`));
    const bytes = await readFile(await download.path());
    assert.equal(bytes.subarray(0, magic.length).toString('latin1'), magic, `${name} starts as a ${ext} file`);
    assert.ok(bytes.length > 2000, `${name} has content (${bytes.length} bytes)`);
  }
  await page.close();
});

test('make an analysis private from its page; a teammate no longer finds it, then does again', async () => {
  const page = await ada.newPage();
  await page.goto(`${server.base}/orgs/acme/analyses`);
  await hydrated(page);
  await page.getByTestId('analyses').getByRole('link').first().click();
  await page.getByTestId('summary').waitFor();
  await hydrated(page);
  const url = page.url();
  const sharing = page.getByTestId('sharing');
  assert.equal(await sharing.getByTestId('sharing-summary').innerText(), 'Everyone in Acme');
  await sharing.getByLabel('Only me (admins always can)').check();
  await sharing.getByRole('button', { name: 'Save sharing' }).click();
  await sharing.getByText('Only its author and admins').waitFor();
  await sharing.screenshot({ path: join(artifacts, 'sharing.png') });

  const theirs = await bob.newPage();
  await theirs.goto(url);
  await theirs.getByText('No such analysis').waitFor();
  await theirs.goto(`${server.base}/orgs/acme/analyses`);
  await theirs.getByText('No analyses yet').waitFor();

  await sharing.getByLabel('Everyone in Acme').check();
  await sharing.getByRole('button', { name: 'Save sharing' }).click();
  await sharing.getByTestId('sharing-summary').filter({ hasText: 'Everyone in Acme' }).waitFor();
  await theirs.goto(url);
  await theirs.getByTestId('summary').waitFor();
  assert.match(await theirs.getByTestId('sharing').innerText(), /Everyone in Acme/);
  await page.close();
  await theirs.close();
});
