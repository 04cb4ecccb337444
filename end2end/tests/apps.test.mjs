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

async function signedIn(email, extraArgs = [], { javaScriptEnabled = true } = {}) {
  server.createUser(email, PASSWORD, extraArgs);
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, javaScriptEnabled });
  if (javaScriptEnabled) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const page = await context.newPage();
  await page.goto(server.base + '/signin');
  if (javaScriptEnabled) await waitForHydration(page);
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
  await row.getByRole('link', { name: 'Refresh' }).click();
  const dialog = page.getByRole('dialog', { name: 'Refresh this secret?' });
  await dialog.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.closest('dialog') !== null), true, 'focus moved into the dialog');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await page.locator('tr[data-secret]').count(), 1);
  assert.equal(await page.getByTestId('client-secret').count(), 0);

  // Confirming shows the new secret once.
  await row.getByRole('link', { name: 'Refresh' }).click();
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
  await old.getByRole('link', { name: 'Delete' }).click();
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

test('without WASM: create an app, refresh and delete its secret, delete the app, through confirmation pages', async () => {
  const { context, page } = await signedIn('nojs@example.com', [], { javaScriptEnabled: false });
  await page.getByRole('link', { name: 'Create an app' }).click();
  await page.getByLabel('Name').fill('Plain HTML app');
  await page.getByRole('button', { name: 'Save' }).click();

  // The form post lands on the OAuth tab, which shows the first secret this once.
  await page.waitForURL(/\/apps\/kpc_[0-9A-Za-z]{22}\?tab=oauth$/);
  const appUrl = page.url();
  const first = await page.getByTestId('client-secret').inputValue();
  assert.match(first, /^kps_[A-Za-z0-9_-]{43}[0-9A-Za-z]{6}$/);
  await page.getByText('You will not see this secret again').waitFor();
  await page.reload();
  assert.equal(await page.getByTestId('client-secret').count(), 0, 'gone after a reload');
  assert.ok(!(await page.content()).includes(first.slice(10)));

  // Refresh: the button is a link to a confirmation page; Cancel changes nothing.
  await page.locator('tr[data-secret]').getByRole('link', { name: 'Refresh' }).click();
  await page.getByRole('heading', { name: 'Refresh this secret?' }).waitFor();
  await page.getByRole('link', { name: 'Cancel' }).click();
  await page.waitForURL(appUrl);
  assert.equal(await page.locator('tr[data-secret]').count(), 1);

  await page.locator('tr[data-secret]').getByRole('link', { name: 'Refresh' }).click();
  await page.getByLabel('The old secret stops working').selectOption('0');
  await page.getByRole('button', { name: 'Refresh secret' }).click();
  await page.waitForURL(appUrl);
  const fresh = await page.getByTestId('client-secret').inputValue();
  assert.match(fresh, /^kps_/);
  assert.notEqual(fresh, first);
  assert.equal(await page.locator('tr[data-secret]').count(), 2);
  assert.equal(await page.locator('tr[data-secret]', { hasText: 'Active' }).count(), 1, 'the old secret stopped working at once');

  // Delete the new secret.
  await page.locator('tr[data-secret]', { hasText: 'Active' }).getByRole('link', { name: 'Delete' }).click();
  await page.getByRole('heading', { name: 'Delete this secret?' }).waitFor();
  await page.getByRole('button', { name: 'Delete secret' }).click();
  await page.waitForURL(appUrl);
  assert.equal(await page.locator('tr[data-secret]', { hasText: 'Active' }).count(), 0);

  // Add one, seen once.
  await page.getByLabel('Description').fill('Batch job');
  await page.getByRole('button', { name: 'Add secret' }).click();
  await page.waitForURL(appUrl);
  assert.match(await page.getByTestId('client-secret').inputValue(), /^kps_/);

  // Grant types are checkboxes of a plain form: without a callback URL only client
  // credentials; the device grant and refresh tokens are added by ticking them.
  const grant = (name) => page.getByRole('checkbox', { name });
  assert.equal(await grant(/^Client credentials/).isChecked(), true);
  assert.equal(await grant(/^Authorization code/).isChecked(), false);
  await grant(/^Device code/).check();
  await grant(/^Refresh token/).check();
  await page.getByRole('form', { name: 'Grant types and scopes' }).getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(appUrl);
  for (const [name, ticked] of [[/^Client credentials/, true], [/^Authorization code/, false], [/^Refresh token/, true], [/^Device code/, true]]) {
    assert.equal(await grant(name).isChecked(), ticked, String(name));
  }

  // Delete the app.
  await page.goto(appUrl.replace('?tab=oauth', ''));
  await page.getByRole('link', { name: 'Delete app…' }).click();
  await page.getByRole('heading', { name: 'Delete Plain HTML app?' }).waitFor();
  await page.getByRole('button', { name: 'Delete app' }).click();
  await page.waitForURL(server.base + '/apps');
  await page.getByText('This tenant has no apps yet.').waitFor();
  await context.close();
});

test('admins keep the scope catalogue and the default audience; apps may be allowed only catalogue scopes, and choose their grant types', async () => {
  const { context, page } = await signedIn('admin@example.com');
  const problems = watchConsole(page);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Scopes' }).waitFor();
  await waitForHydration(page);
  await page.getByLabel('Scope', { exact: true }).fill('orders:read');
  await page.locator('#scope-description').fill('Read orders');
  await page.getByRole('button', { name: 'Add scope' }).click();
  await page.getByRole('cell', { name: 'orders:read' }).waitFor();

  const audience = page.getByLabel('Default audience');
  assert.match(await audience.inputValue(), /\/tenants\//, 'derived from the public URL and the tenant');
  // An audience under this server's address is refused beside the field, what was typed kept.
  await audience.fill(server.base + '/api/v1');
  await page.getByRole('button', { name: 'Save tenant' }).click();
  await page.locator('#audience-error').waitFor();
  assert.match(await page.locator('#audience-error').textContent(), /admin tool clients/);
  assert.equal(await audience.inputValue(), server.base + '/api/v1');
  problems.splice(0, problems.length, ...problems.filter((p) => !p.includes('status of 422')));
  await audience.fill('https://api.example.com');
  await page.getByRole('button', { name: 'Save tenant' }).click();
  await page.getByText('Saved.').waitFor();
  await page.reload();
  await waitForHydration(page);
  assert.equal(await page.getByLabel('Default audience').inputValue(), 'https://api.example.com');

  // The issuer and discovery URL a resource server is configured with, each with a copy button.
  const issuer = await page.locator('#tenant-issuer').inputValue();
  assert.match(issuer, new RegExp(`^${server.base}/t/[0-9a-f-]+$`), issuer);
  const discoveryUrl = await page.locator('#tenant-discovery').inputValue();
  assert.equal(discoveryUrl, `${issuer}/.well-known/openid-configuration`);
  await page.getByRole('button', { name: 'Copy issuer' }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), issuer);
  await page.getByRole('button', { name: 'Copy discovery URL' }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), discoveryUrl);
  const discovery = await (await page.request.get(discoveryUrl)).json();
  assert.equal(discovery.issuer, issuer, 'the document names the issuer shown');
  assert.equal(discovery.jwks_uri, `${issuer}/jwks.json`);

  // Signing keys: the one the JWKS publishes, shown as the one that signs.
  await page.getByRole('heading', { name: 'Signing keys' }).waitFor();
  const jwks = await (await page.request.get(discovery.jwks_uri)).json();
  assert.equal(jwks.keys.length, 1);
  const keyRow = page.locator(`tr[data-kid="${jwks.keys[0].kid}"]`);
  assert.match(await keyRow.textContent(), /ES256\s*Signing/);

  await page.getByRole('link', { name: 'Apps' }).first().click();
  await createApp(page, 'Orders reader');
  await page.getByRole('link', { name: 'Go to the app' }).click();
  // Scopes, token lifetime and grant types are on the OAuth & access scopes tab, not Roles.
  await page.getByRole('link', { name: 'Roles', exact: true }).click();
  await page.getByLabel('Roles', { exact: true }).waitFor();
  assert.equal(await page.getByLabel('Allowed scopes').count(), 0);
  await page.getByRole('link', { name: 'OAuth & access scopes' }).click();
  await page.getByRole('heading', { name: 'Grant types and scopes' }).waitFor();
  await waitForHydration(page);
  const save = page.getByRole('form', { name: 'Grant types and scopes' }).getByRole('button', { name: 'Save' });
  await page.getByLabel('Allowed scopes').fill('orders:write');
  await save.click();
  await page.locator('#scopes-error').waitFor();
  assert.match(await page.locator('#scopes-error').textContent(), /orders:write/);
  assert.equal(await page.getByLabel('Allowed scopes').inputValue(), 'orders:write', 'what was typed is kept');
  // The browser logs each refused save (422) itself; those are expected.
  const refusalsExpected = () => problems.splice(0, problems.length, ...problems.filter((p) => !p.includes('status of 422')));
  refusalsExpected();
  await page.getByLabel('Allowed scopes').fill('orders:read');
  await page.getByLabel('Access-token lifetime (seconds)').fill('600');
  await save.click();
  await page.getByText('Saved.').waitFor();

  // An app with a callback URL starts with client credentials and the code flow.
  const grant = (name) => page.getByRole('checkbox', { name });
  const [credentials, code, refresh, device] = [/^Client credentials/, /^Authorization code/, /^Refresh token/, /^Device code/].map(grant);
  assert.deepEqual(
    await Promise.all([credentials, code, refresh, device].map((box) => box.isChecked())),
    [true, true, true, false],
  );
  // A refresh token alone cannot work: refused beside the grant types, the boxes as ticked.
  await code.uncheck();
  await save.click();
  await page.locator('#grant_types-error').waitFor();
  assert.match(await page.locator('#grant_types-error').textContent(), /authorization code or device grant/);
  assert.equal(await code.isChecked(), false, 'what was chosen is kept');
  refusalsExpected();
  await device.check();
  await credentials.uncheck();
  await save.click();
  await page.getByText('Saved.').waitFor();
  await page.reload();
  await waitForHydration(page);
  assert.deepEqual(
    await Promise.all([credentials, code, refresh, device].map((box) => box.isChecked())),
    [false, false, true, true],
  );
  assert.equal(await page.getByLabel('Allowed scopes').inputValue(), 'orders:read');
  assert.equal(await page.getByLabel('Access-token lifetime (seconds)').inputValue(), '600');

  // With the code flow on again, the callback URL cannot be removed under it: the refusal
  // is beside the URL on Basic info, and the grants stay.
  await code.check();
  await save.click();
  await page.getByText('Saved.').waitFor();
  await page.getByRole('link', { name: 'Basic info' }).click();
  await page.getByLabel('Callback URL').fill('');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#callback_url-error').waitFor();
  assert.match(await page.locator('#callback_url-error').textContent(), /authorization code grant needs a callback URL/);
  refusalsExpected();
  await page.getByRole('link', { name: 'OAuth & access scopes' }).click();
  await page.getByRole('heading', { name: 'Grant types and scopes' }).waitFor();
  assert.equal(await code.isChecked(), true);
  assert.deepEqual(problems, []);
  await context.close();
});
