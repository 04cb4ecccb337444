import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, startServer, waitForHydration, watchConsole } from '../support.mjs';

const PASSWORD = 'correct horse battery';
// The README's screenshots: refreshed only on request (UPDATE_DOCS=1 make test-e2e), so a
// test run does not dirty the working tree.
const docs = process.env.UPDATE_DOCS ? resolve(import.meta.dirname, '..', '..', 'docs') : mkdtempSync(join(tmpdir(), 'keyport-shots-'));
let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  mkdirSync(docs, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signedIn(email, extraArgs = []) {
  server.createUser(email, PASSWORD, extraArgs);
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const page = await context.newPage();
  await page.goto(server.base + '/signin');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(server.base + '/apps');
  return { context, page };
}

async function createApp(page, name) {
  await page.getByRole('link', { name: 'Create an app' }).click();
  await page.getByRole('heading', { name: 'Create an app' }).waitFor();
  await waitForHydration(page);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Callback URL').fill('https://app.example.com/callback');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('client-secret').waitFor();
  return {
    clientId: await page.getByTestId('client-id').inputValue(),
    secret: await page.getByTestId('client-secret').inputValue(),
  };
}

test('create an app, see its secret once, copy it, refresh it behind a dialog', async () => {
  const { context, page } = await signedIn('ann@example.com');
  const problems = watchConsole(page);
  const { clientId, secret } = await createApp(page, 'Billing service');
  assert.match(clientId, /^kpc_[0-9A-Za-z]{22}$/);
  assert.match(secret, /^kps_[A-Za-z0-9_-]{43}[0-9A-Za-z]{6}$/);
  await page.getByText('You will not see this secret again').waitFor();
  await page.screenshot({ path: join(docs, 'create-app.png') });

  await page.getByRole('button', { name: 'Copy client secret' }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);

  await page.getByRole('link', { name: 'Go to the app' }).click();
  await page.getByRole('heading', { name: 'Client secrets' }).waitFor();
  assert.equal(await page.getByTestId('client-secret').count(), 0, 'the secret is not shown again');
  await page.reload();
  await waitForHydration(page);
  assert.equal(await page.getByTestId('client-id').inputValue(), clientId);
  assert.equal(await page.getByTestId('client-secret').count(), 0, 'nor after a reload');
  assert.ok(!(await page.content()).includes(secret.slice(10)), 'the page holds no trace of it');

  // Escape cancels the dialog: nothing changes.
  const row = page.locator('tr[data-secret]');
  await row.getByRole('button', { name: 'Refresh' }).click();
  const dialog = page.getByRole('dialog', { name: 'Refresh this secret?' });
  await dialog.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.closest('dialog') !== null), true, 'focus moved into the dialog');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await page.locator('tr[data-secret]').count(), 1);
  assert.equal(await page.getByTestId('client-secret').count(), 0);

  // Confirming shows the new secret once.
  await row.getByRole('button', { name: 'Refresh' }).click();
  await dialog.getByLabel('The old secret stops working').selectOption('3600');
  await page.screenshot({ path: join(docs, 'refresh-secret.png') });
  await dialog.getByRole('button', { name: 'Refresh secret' }).click();
  await page.getByTestId('client-secret').waitFor();
  const fresh = await page.getByTestId('client-secret').inputValue();
  assert.notEqual(fresh, secret);
  assert.match(fresh, /^kps_/);
  await page.getByText(/Old, works until/).waitFor();
  assert.equal(await page.locator('tr[data-secret]').count(), 2);

  // Delete the old one.
  const old = page.locator('tr[data-secret]', { hasText: 'Old, works until' });
  await old.getByRole('button', { name: 'Delete' }).click();
  const del = page.getByRole('dialog', { name: 'Delete this secret?' });
  await del.getByRole('button', { name: 'Delete secret' }).click();
  await page.waitForFunction(() => document.querySelectorAll('tr[data-secret]').length === 1);

  assert.deepEqual(problems, []);
  await context.close();
});

test('an app name with markup renders as text, and developers see only their own apps', async () => {
  server.createUser('lead@example.com', PASSWORD, ['--tenant', 'team', '--admin']);
  const dev = await signedIn('dev1@example.com', ['--tenant', 'team']);
  let alerted = false;
  dev.page.on('dialog', async (d) => { alerted = true; await d.dismiss(); });
  const xss = '<img src=x onerror=alert(1)>';
  await createApp(dev.page, xss);
  await dev.page.getByRole('link', { name: 'Go to the app' }).click();
  await dev.page.getByRole('heading', { name: xss }).waitFor();
  assert.equal(await dev.page.locator('img[src="x"]').count(), 0);
  assert.equal(alerted, false);
  await dev.context.close();

  const other = await signedIn('dev2@example.com', ['--tenant', 'team']);
  await other.page.getByText('This tenant has no apps yet.').waitFor();
  assert.equal(await other.page.getByText(xss).count(), 0, "another developer's app is not listed");
  await other.context.close();
});
