// Accounts and organisations in a real browser: sign up, create a second organisation, enrol
// two-factor authentication, invite a colleague by email, who signs up from the link and
// accepts; their role changes and their pages show exactly what the new role allows.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { artifacts, hydrated, launchBrowser, mailTo, startServer, watchErrors } from './server.js';

let server;
let owner;
let colleague;

before(async () => {
  server = await startServer();
  owner = await launchBrowser();
  colleague = await launchBrowser();
});

after(async () => {
  await owner?.close();
  await colleague?.close();
  await server?.stop();
});

const PASSWORD = 'correct horse battery staple';

/** RFC 6238 code for a base32 secret at the current time (the test's oracle, not our code). */
function totp(secret, stepOffset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + stepOffset));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

async function fill(page, label, value) {
  await page.getByLabel(label, { exact: true }).fill(value);
}

test('sign up, create an organisation, enrol MFA, invite, accept, change role', async () => {
  const page = await owner.newPage();
  const errors = watchErrors(page, { expected4xx: true });
  await page.goto(`${server.base}/signup`);
  await hydrated(page);
  await fill(page, 'Work email', 'ada@acme.example');
  await fill(page, 'Password', 'password');
  await fill(page, 'Organisation name', 'Acme');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText('too common').waitFor();
  assert.equal(await page.getAttribute('#field-password', 'aria-invalid'), 'true', 'the error sits on its field');
  await page.screenshot({ path: join(artifacts, 'signup-error.png'), fullPage: true });
  await fill(page, 'Password', PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${server.base}/orgs/acme`);
  await page.getByRole('heading', { name: 'Acme', level: 1 }).waitFor();
  await page.getByRole('navigation', { name: 'Account' }).getByText('Account').waitFor();

  // A second organisation.
  await page.goto(`${server.base}/orgs/new`);
  await hydrated(page);
  await fill(page, 'Name', 'Acme Labs');
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await page.waitForURL(`${server.base}/orgs/acme-labs`);
  await page.goto(`${server.base}/orgs`);
  await page.getByRole('link', { name: 'Acme Labs' }).waitFor();
  await page.getByRole('link', { name: 'Acme', exact: true }).first().waitFor();

  // Two-factor authentication.
  await page.goto(`${server.base}/account`);
  await hydrated(page);
  await fill(page, 'Your password, to confirm it is you', PASSWORD);
  await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
  const secret = (await page.getByTestId('totp-secret').textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.ok(await page.locator('.qr svg').count(), 'the QR code is drawn');
  await page.screenshot({ path: join(artifacts, 'mfa-enrol.png'), fullPage: true });
  const enrolCode = totp(secret);
  await fill(page, 'Code from the app', enrolCode);
  await page.getByRole('button', { name: 'Turn on' }).click();
  const codes = (await page.getByTestId('recovery-codes').innerText()).split('\n').filter(Boolean);
  assert.equal(codes.length, 10);

  // Sign out and back in: the second factor is asked for.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  await page.goto(`${server.base}/login`);
  await hydrated(page);
  await fill(page, 'Email', 'ada@acme.example');
  await fill(page, 'Password', PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Authentication code').waitFor();
  await fill(page, 'Authentication code', codes[0]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.base}/orgs`);

  // Invite a colleague as a viewer.
  await page.goto(`${server.base}/orgs/acme`);
  await hydrated(page);
  const invite = page.locator('section.card', { hasText: 'Invite people' });
  await invite.getByLabel('Email').fill('grace@acme.example');
  await invite.getByLabel('Role').selectOption('viewer');
  await invite.getByRole('button', { name: 'Send invitation' }).click();
  await page.getByText('Invitation sent.').waitFor();
  const link = /(http:\/\/127\.0\.0\.1:\d+\/invitations\/accept\?[^\s]+)/.exec(mailTo(server, 'grace@acme.example'))[1];

  // The colleague follows the link, signs up and accepts.
  const theirs = await colleague.newPage();
  const theirErrors = watchErrors(theirs, { expected4xx: true });
  await theirs.goto(link);
  await hydrated(theirs);
  await theirs.getByRole('link', { name: 'Create an account' }).click();
  await theirs.waitForURL(/\/signup\?next=/);
  await hydrated(theirs);
  await fill(theirs, 'Work email', 'grace@acme.example');
  await fill(theirs, 'Password', PASSWORD);
  await fill(theirs, 'Organisation name', 'Grace Home');
  await theirs.getByRole('button', { name: 'Create account' }).click();
  await theirs.waitForURL(/\/invitations\/accept/);
  await theirs.getByRole('button', { name: 'Accept the invitation' }).click();
  await theirs.waitForURL(`${server.base}/orgs/acme`);
  await theirs.getByRole('heading', { name: 'Acme', level: 1 }).waitFor();
  // A viewer sees the members but cannot invite, manage or read the audit log.
  await theirs.getByTestId('members').getByText('ada@acme.example').waitFor();
  assert.equal(await theirs.getByText('Invite people').count(), 0);
  assert.equal(await theirs.getByRole('link', { name: 'Audit log' }).count(), 0);
  assert.equal(await theirs.getByRole('button', { name: 'Create team' }).count(), 0);
  await theirs.screenshot({ path: join(artifacts, 'org-as-viewer.png'), fullPage: true });

  // The owner makes them an admin.
  await page.reload();
  await hydrated(page);
  const promoted = page.waitForResponse((r) => r.url().includes('/rpc/change_member_role') && r.ok());
  await page.getByLabel('Role of grace@acme.example').selectOption('admin');
  await promoted;
  await page.screenshot({ path: join(artifacts, 'org-as-owner.png'), fullPage: true });

  // An API token for CI: shown once, and it works from outside the browser.
  const tokens = page.locator('section.card', { hasText: 'API tokens' });
  await tokens.getByLabel('Token name').fill('CI');
  await tokens.getByRole('button', { name: 'Create token' }).click();
  const apiToken = (await page.getByTestId('new-token').textContent()).trim();
  assert.match(apiToken, /^flt_[0-9a-f]{8}_/);
  await page.locator('section.card', { hasText: 'API tokens' }).getByText('CI', { exact: true }).waitFor();
  const viaToken = await fetch(`${server.base}/api/v1/orgs/acme`, { headers: { authorization: `Bearer ${apiToken}` } });
  assert.equal(viaToken.status, 200);
  assert.deepEqual((await viaToken.json()).permissions, ['view_analyses']);

  // Now they can.
  await theirs.reload();
  await hydrated(theirs);
  await theirs.getByText('Invite people').waitFor();
  await theirs.getByRole('button', { name: 'Create team' }).waitFor();
  await theirs.getByRole('link', { name: 'Audit log' }).click();
  await theirs.waitForURL(`${server.base}/orgs/acme/audit`);
  await theirs.getByTestId('audit').getByText('member.role_changed').waitFor();
  // Filtering by who acted narrows the list to the owner's entries. The table keeps its old
  // rows until the filtered answer is rendered, which may come a moment after the response
  // (or after an earlier, unfiltered one), so wait for the rows themselves.
  await theirs.getByLabel('Who').selectOption({ label: 'ada@acme.example' });
  await theirs.waitForFunction(() => {
    const cells = [...document.querySelectorAll('[data-testid="audit"] tbody tr td:nth-child(3)')];
    return cells.length > 0 && cells.every((c) => c.innerText === 'ada@acme.example');
  });
  const actors = await theirs.getByTestId('audit').locator('tbody tr td:nth-child(3)').allInnerTexts();
  assert.ok(actors.length > 0 && actors.every((a) => a === 'ada@acme.example'), actors.join(','));
  await theirs.screenshot({ path: join(artifacts, 'audit-log.png'), fullPage: true });

  // The admin makes a team and puts the owner in it.
  await theirs.goto(`${server.base}/orgs/acme`);
  await hydrated(theirs);
  await fill(theirs, 'New team', 'Platform');
  await theirs.getByRole('button', { name: 'Create team' }).click();
  const team = theirs.getByRole('region', { name: 'Platform' });
  await team.waitFor();
  await team.getByLabel('Add').selectOption({ label: 'ada@acme.example' });
  await team.getByRole('button', { name: 'Add to team' }).click();
  await theirs.getByRole('region', { name: 'Platform' }).getByText('ada@acme.example').waitFor();
  await theirs.screenshot({ path: join(artifacts, 'org-teams.png'), fullPage: true });

  // The token's last use shows in the list.
  await page.reload();
  await hydrated(page);
  const ciToken = page.locator('section.card', { hasText: 'API tokens' }).locator('li', { hasText: 'CI' });
  assert.doesNotMatch(await ciToken.innerText(), /last used never/);

  // A custom role composed in the UI: an auditor reads the audit log and nothing more.
  const roles = page.locator('section.card', { hasText: 'Custom role name' });
  await roles.getByLabel('Custom role name').fill('Auditor');
  await roles.getByLabel('view audit', { exact: true }).check();
  await roles.getByLabel('view analyses', { exact: true }).check();
  await roles.getByRole('button', { name: 'Create role' }).click();
  await page.getByText('Role created.').waitFor();
  const assigned = page.waitForResponse((r) => r.url().includes('/rpc/change_member_role') && r.ok());
  await page.getByLabel('Role of grace@acme.example').selectOption({ label: 'Auditor' });
  await assigned;
  await theirs.reload();
  await hydrated(theirs);
  await theirs.getByRole('link', { name: 'Audit log' }).waitFor();
  assert.equal(await theirs.getByText('Invite people').count(), 0, 'an auditor cannot invite');
  // Editing the role takes the audit log away again.
  await page.getByText('Edit Auditor').click();
  const editor = page.locator('details.role-edit', { hasText: 'Edit Auditor' });
  await editor.getByLabel('view audit', { exact: true }).uncheck();
  await editor.getByRole('button', { name: 'Save role' }).click();
  await page.getByText('Role saved.').waitFor();
  await theirs.reload();
  await hydrated(theirs);
  await theirs.getByRole('heading', { name: 'Acme', level: 1 }).waitFor();
  assert.equal(await theirs.getByRole('link', { name: 'Audit log' }).count(), 0, 'the edit applies at once');

  // The owner hands the organisation over and stays on as an admin.
  await page.reload();
  await hydrated(page);
  await page.getByText('Transfer ownership', { exact: true }).first().click();
  await page.getByLabel('New owner').selectOption({ label: 'grace@acme.example' });
  await page.getByRole('button', { name: 'Transfer ownership' }).click();
  await page.getByText('Ownership transferred; you are now an admin.').waitFor();
  const members = page.getByTestId('members');
  await members.locator('tr', { hasText: 'grace@acme.example' }).getByText('Owner').waitFor();
  assert.equal(await page.getByLabel('Role of ada@acme.example').inputValue(), 'admin');
  assert.equal(await page.getByText('Delete this organisation').count(), 0, 'only the owner may delete it');

  // New recovery codes replace the old ones; they need a code the enrolment did not spend.
  await page.goto(`${server.base}/account`);
  await hydrated(page);
  await page.getByText('New recovery codes').click();
  while (totp(secret) === enrolCode) await new Promise((r) => setTimeout(r, 1000));
  await fill(page, 'Code from your authenticator app', totp(secret));
  await page.getByRole('button', { name: 'Replace my recovery codes' }).click();
  const fresh = (await page.getByTestId('recovery-codes').innerText()).split('\n').filter(Boolean);
  assert.equal(fresh.length, 10);
  assert.ok(fresh.every((c) => !codes.includes(c)), 'every code is new');

  assert.deepEqual(errors, [], 'no console errors for the owner');
  assert.deepEqual(theirErrors, [], 'no console errors for the colleague');
});

test('signed-out visitors are sent to sign in, and the API says who is signed in', async () => {
  const page = await colleague.newPage();
  await page.goto(`${server.base}/account`);
  await hydrated(page);
  const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
  assert.equal(me, 200, 'the colleague is signed in through cookies');
  const res = await fetch(`${server.base}/api/v1/me`);
  assert.equal(res.status, 401, 'without cookies the API answers 401');
  await page.close();
});
