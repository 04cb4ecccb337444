import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, startServer, waitForHydration, watchConsole } from '../support.mjs';

const PASSWORD = 'correct horse battery';
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

test('the first visitor signs up from the start page, lands on Apps, and signs out', async () => {
  const page = await browser.newPage();
  const problems = watchConsole(page);
  await page.goto(server.base + '/');
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Create the first account' }).click();
  await page.getByRole('heading', { name: 'Create your account' }).waitFor();

  await page.getByLabel('Email').fill('ann@example.com');
  await page.getByLabel('Your name').fill('Ann');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();

  await page.waitForURL(server.base + '/apps');
  await page.getByRole('heading', { name: 'Apps' }).waitFor();
  await page.getByText("Apps registered in Ann's team.").waitFor();
  await page.getByRole('link', { name: 'Settings' }).waitFor();

  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'keyport_session');
  assert.ok(session, 'a session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('navigation').getByRole('link', { name: 'Sign in' }).waitFor();
  await page.goto(server.base + '/apps');
  await page.waitForURL(server.base + '/signin');

  assert.deepEqual(problems, []);
  await page.close();
});

test('a wrong password shows the error beside the field and keeps the typed email', async () => {
  server.createUser('bob@example.com', PASSWORD);
  const page = await browser.newPage();
  const problems = watchConsole(page);
  await page.goto(server.base + '/signin');
  await waitForHydration(page);
  await page.getByLabel('Email').fill('bob@example.com');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();

  const error = page.locator('#password-error');
  await error.waitFor();
  assert.equal(await error.textContent(), 'Email or password is incorrect.');
  assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByLabel('Email').inputValue(), 'bob@example.com');

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(server.base + '/apps');

  // The 401 of the failed attempt is the only console noise we accept.
  assert.deepEqual(problems.filter((p) => !p.includes('401')), []);
  await page.close();
});

test('a developer opening Settings is told it is not allowed', async () => {
  server.createUser('lead@example.com', PASSWORD, ['--tenant', 'acme', '--admin']);
  server.createUser('dev@example.com', PASSWORD, ['--tenant', 'acme']);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.base + '/signin');
  await waitForHydration(page);
  await page.getByLabel('Email').fill('dev@example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(server.base + '/apps');
  assert.equal(await page.getByRole('link', { name: 'Settings' }).count(), 0, 'no Settings link for developers');

  const response = await page.goto(server.base + '/settings');
  assert.equal(response.status(), 403);
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  await context.close();
});

test('a person in two tenants switches between them on the Apps page and sees each one’s apps', async () => {
  const own = server.createUser('both@example.com', PASSWORD);
  server.cli(['client', 'create', '--tenant', own.tenant_id, '--name', 'Own app']);
  const globex = server.createUser('boss@example.com', PASSWORD, ['--tenant', 'globex', '--admin']);
  server.cli(['client', 'create', '--tenant', globex.tenant_id, '--name', 'Globex app']);

  // The admin of globex invites the person, who already has an account, as an admin (who sees
  // every app of the tenant; a developer sees only their own); they accept.
  const admin = await browser.newContext();
  const adminPage = await admin.newPage();
  await signIn(adminPage, 'boss@example.com');
  await adminPage.goto(server.base + '/settings');
  await waitForHydration(adminPage);
  await adminPage.getByLabel('Email').fill('both@example.com');
  await adminPage.locator('#invite-role').selectOption('admin');
  await adminPage.getByRole('button', { name: 'Invite', exact: true }).click();
  await adminPage.locator('tr[data-invitation="both@example.com"]').waitFor();
  await admin.close();

  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, 'both@example.com');
  await page.getByRole('link', { name: 'Own app' }).waitFor();
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Accept the invitation to globex' }).click();
  await page.getByRole('status').filter({ hasText: 'Invitation accepted' }).waitFor();
  await page.getByLabel('Tenant').selectOption(globex.tenant_id);
  await page.getByRole('button', { name: 'Switch' }).click();
  await page.getByRole('link', { name: 'Globex app' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Own app' }).count(), 0, 'the other tenant’s apps are gone');
  await context.close();
});

async function signIn(page, email) {
  await page.goto(server.base + '/signin');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(server.base + '/apps');
}
