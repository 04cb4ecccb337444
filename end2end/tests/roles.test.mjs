// The role catalogue (#13): an admin keeps it under Settings → Roles and gives apps roles
// from it; a role or scope apps still have cannot be removed, and the refusal shows beside
// it; a developer sees an app's roles but gets no editor for them.
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

async function signedIn(email, extraArgs = []) {
  server.createUser(email, PASSWORD, extraArgs);
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
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
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('client-id').waitFor();
  const clientId = await page.getByTestId('client-id').inputValue();
  await page.getByRole('link', { name: 'Go to the app' }).click();
  await page.waitForURL(new RegExp(`/apps/${clientId}`));
  return clientId;
}

/** The browser logs each refused request (403, 409) itself; those are expected. */
function withoutExpected(problems, ...statuses) {
  return problems.filter((p) => !statuses.some((s) => p.includes(`status of ${s}`)));
}

test('an admin adds a role, gives it to an app, and cannot remove it while the app has it', async () => {
  const { context, page } = await signedIn('admin@acme.example', ['--tenant', 'acme', '--admin']);
  const problems = watchConsole(page);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Roles', exact: true }).waitFor();
  await waitForHydration(page);
  const roles = page.getByRole('table', { name: 'Roles' });
  const adminRow = roles.getByRole('row').filter({ has: page.getByRole('cell', { name: 'admin', exact: true }) });
  await adminRow.getByText('Built in').waitFor();
  assert.equal(await adminRow.getByRole('button', { name: 'Remove' }).count(), 0, 'admin cannot be removed');

  // (the Members form has a "Role" field too)
  await page.locator('#role-name').fill('billing:reader');
  await page.locator('#role-description').fill('Reads invoices');
  await page.getByRole('button', { name: 'Add role' }).click();
  const readerRow = roles.getByRole('row').filter({ has: page.getByRole('cell', { name: 'billing:reader' }) });
  await readerRow.getByRole('cell', { name: 'Reads invoices' }).waitFor();

  // A role outside the catalogue is refused beside the field; one from it is saved.
  await page.getByRole('link', { name: 'Apps' }).first().click();
  const clientId = await createApp(page, 'Invoices');
  await page.getByRole('link', { name: 'Roles', exact: true }).click();
  await waitForHydration(page);
  await page.getByLabel('Roles', { exact: true }).fill('billing:superuser');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('#roles-error').waitFor();
  assert.match(await page.locator('#roles-error').textContent(), /billing:superuser.*Settings → Roles/);
  await page.getByLabel('Roles', { exact: true }).fill('billing:reader');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
  await page.reload();
  await waitForHydration(page);
  assert.equal(await page.getByLabel('Roles', { exact: true }).inputValue(), 'billing:reader');

  // Removing it now is refused, and the refusal shows in its row.
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Roles', exact: true }).waitFor();
  await waitForHydration(page);
  await readerRow.getByRole('button', { name: 'Remove' }).click();
  const refusal = readerRow.getByRole('alert');
  await refusal.waitFor();
  assert.match(await refusal.textContent(), /billing:reader is still given to 1 app \(Invoices\)/);
  assert.equal(await readerRow.count(), 1, 'the role stays');

  // Once the app no longer has it, it goes.
  await page.goto(`${server.base}/apps/${clientId}?tab=roles`);
  await waitForHydration(page);
  await page.getByLabel('Roles', { exact: true }).fill('');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Roles', exact: true }).waitFor();
  await waitForHydration(page);
  await readerRow.getByRole('button', { name: 'Remove' }).click();
  await readerRow.waitFor({ state: 'detached' });

  assert.deepEqual(withoutExpected(problems, 409, 422), []);
  await context.close();
});

test('a scope apps still have cannot be removed; the refusal shows beside it', async () => {
  const { context, page } = await signedIn('ops@scopes.example', ['--tenant', 'scopes', '--admin']);
  const problems = watchConsole(page);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Scopes', exact: true }).waitFor();
  await waitForHydration(page);
  await page.getByLabel('Scope', { exact: true }).fill('orders:read');
  await page.getByRole('button', { name: 'Add scope' }).click();
  const scopes = page.getByRole('table', { name: 'Scopes' });
  const row = scopes.getByRole('row').filter({ has: page.getByRole('cell', { name: 'orders:read' }) });
  await row.waitFor();

  await page.getByRole('link', { name: 'Apps' }).first().click();
  // (createApp lands on the OAuth & access scopes tab, where scopes are allowed)
  await createApp(page, 'Shipping');
  await page.getByRole('heading', { name: 'Grant types and scopes' }).waitFor();
  await waitForHydration(page);
  await page.getByLabel('Allowed scopes').fill('orders:read');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved.').waitFor();

  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Scopes', exact: true }).waitFor();
  await waitForHydration(page);
  await row.getByRole('button', { name: 'Remove' }).click();
  await row.getByRole('alert').waitFor();
  assert.match(await row.getByRole('alert').textContent(), /orders:read is still given to 1 app \(Shipping\)/);
  assert.deepEqual(withoutExpected(problems, 409), []);
  await context.close();
});

test('a developer sees the roles an admin gave their app, without an editor, and still saves it', async () => {
  server.createUser('lead@team.example', PASSWORD, ['--tenant', 'team', '--admin']);
  const { context, page } = await signedIn('dev@team.example', ['--tenant', 'team']);
  const problems = watchConsole(page);
  const clientId = await createApp(page, 'Dev tool');
  // The admin gives it a role, through the same API the portal's session may use.
  const lead = await browser.newContext();
  const leadPage = await lead.newPage();
  await leadPage.goto(server.base + '/signin');
  await waitForHydration(leadPage);
  await leadPage.getByLabel('Email').fill('lead@team.example');
  await leadPage.getByLabel('Password').fill(PASSWORD);
  await leadPage.getByRole('button', { name: 'Sign in' }).click();
  await leadPage.waitForURL(server.base + '/apps');
  const origin = { origin: server.base };
  assert.equal((await leadPage.request.post(server.base + '/api/v1/roles', { data: { name: 'reader' }, headers: origin })).status(), 201);
  const given = await leadPage.request.patch(`${server.base}/api/v1/apps/${clientId}`, { data: { roles: ['reader'] }, headers: origin });
  assert.equal(given.status(), 200, await given.text());
  await lead.close();

  await page.goto(`${server.base}/apps/${clientId}?tab=roles`);
  await waitForHydration(page);
  assert.equal(await page.getByLabel('Roles', { exact: true }).count(), 0, 'no editor for roles');
  assert.equal(await page.getByLabel('Allowed audiences').count(), 0, 'nor for audiences');
  assert.equal(await page.getByTestId('app-roles').textContent(), 'reader');
  await page.getByText('Only tenant admins give apps roles and audiences.').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Save' }).count(), 0, 'nothing to save here');
  // The app's other settings are saved with its roles carried along unchanged.
  await page.goto(`${server.base}/apps/${clientId}?tab=oauth`);
  await waitForHydration(page);
  await page.getByLabel('Access-token lifetime (seconds)').fill('900');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved.').waitFor();
  await page.reload();
  await waitForHydration(page);
  assert.equal(await page.getByLabel('Access-token lifetime (seconds)').inputValue(), '900');
  await page.goto(`${server.base}/apps/${clientId}?tab=roles`);
  await waitForHydration(page);
  assert.equal(await page.getByTestId('app-roles').textContent(), 'reader', 'the role stays');
  assert.deepEqual(problems, []);
  await context.close();
});
