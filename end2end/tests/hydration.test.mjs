// Issue #11: a page opened directly (a reload, a bookmark) must hydrate whatever the timing.
// Every page that reads a resource is loaded many times while two processes keep the machine's
// cores busy, so the server resolves its data in ever different orders; each load must hydrate
// without a panic (the shared watcher in support.mjs fails the test on the first one) and its
// dialogs must open afterwards.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { launchBrowser, startServer, waitForHydration } from '../support.mjs';

const PASSWORD = 'correct horse battery';
const LOADS_PER_TAB = Number(process.env.KEYPORT_STRESS_LOADS_PER_TAB ?? 50);
const LOADS_PER_PAGE = 10;
const TIME_LIMIT_MS = 20 * 60 * 1000;
// Each burner spins until the time limit or until this test's process is gone, so none is
// left behind if the test dies without its `after` hook.
const BURNER = `const end = Date.now() + ${TIME_LIMIT_MS};
for (let n = 1; Date.now() < end; n++) {
  if (n % 1e6 === 0) { try { process.kill(${process.pid}, 0); } catch { process.exit(0); } }
}`;

let server;
let browser;
let burners = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  burners = [0, 1].map(() => spawn(process.execPath, ['-e', BURNER], { stdio: 'ignore' }));
});

after(async () => {
  for (const burner of burners) burner.kill('SIGKILL');
  await browser?.close();
  await server?.stop();
});

async function load(page, path) {
  const response = await page.goto(server.base + path);
  assert.equal(response.status(), 200, path);
  await waitForHydration(page);
}

/** Opens a confirm dialog with its link, then closes it with Escape: the WASM is alive. */
async function dialogOpens(page, link, title) {
  await link.click();
  const dialog = page.getByRole('dialog', { name: title });
  await dialog.waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
}

test('every page that reads a resource hydrates on direct loads while the machine is busy', { timeout: TIME_LIMIT_MS }, async () => {
  const { tenant_id } = server.createUser('stress@example.com', PASSWORD);
  const { client_id: clientId } = server.cli(['client', 'create', '--tenant', tenant_id, '--name', 'Stress app']);
  const context = await browser.newContext();
  const page = await context.newPage();
  await load(page, '/signin');
  await page.getByLabel('Email').fill('stress@example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(server.base + '/apps');

  // Apps and Settings also show invitations: one for this person from another tenant, and
  // one this person made as the admin of their own.
  server.createUser('inviter@example.com', PASSWORD, ['--tenant', 'stressco', '--admin']);
  const inviter = await browser.newContext();
  const inviterPage = await inviter.newPage();
  await load(inviterPage, '/signin');
  await inviterPage.getByLabel('Email').fill('inviter@example.com');
  await inviterPage.getByLabel('Password').fill(PASSWORD);
  await inviterPage.getByRole('button', { name: 'Sign in' }).click();
  await inviterPage.waitForURL(server.base + '/apps');
  for (const [who, email] of [[inviterPage, 'stress@example.com'], [page, 'pending@example.com']]) {
    await load(who, '/settings');
    await who.getByLabel('Email').fill(email);
    await who.getByRole('button', { name: 'Invite', exact: true }).click();
    await who.locator(`tr[data-invitation="${email}"]`).waitFor();
  }
  await inviter.close();

  const app = `/apps/${clientId}`;
  await load(page, `${app}?tab=oauth`);
  const refreshHref = await page.locator('tr[data-secret]').getByRole('link', { name: 'Refresh' }).getAttribute('href');
  const secretPage = refreshHref.replace(/\/refresh$/, '');

  const tabs = {
    basic: async () => {
      await dialogOpens(page, page.getByRole('link', { name: 'Delete app…' }), 'Delete Stress app?');
      // The hydrated page also moves between tabs by itself, loading what the tab shows.
      await page.getByRole('link', { name: 'Activity' }).click();
      await page.locator('table.activity tbody tr').first().waitFor();
    },
    oauth: async () => {
      await page.getByRole('checkbox', { name: /^Client credentials/ }).waitFor();
      await dialogOpens(page, page.locator('tr[data-secret]').getByRole('link', { name: 'Refresh' }), 'Refresh this secret?');
      await dialogOpens(page, page.locator('tr[data-secret]').getByRole('link', { name: 'Delete' }), 'Delete this secret?');
    },
    roles: async () => page.getByLabel('Allowed audiences').waitFor(),
    activity: async () => page.locator('table.activity').waitFor(),
  };
  for (let round = 0; round < LOADS_PER_TAB; round++) {
    for (const [tab, check] of Object.entries(tabs)) {
      await load(page, `${app}?tab=${tab}`);
      await check();
    }
  }

  const pages = {
    '/': async () => page.getByRole('link', { name: 'Go to your apps' }).waitFor(),
    '/apps': async () => {
      await page.getByRole('link', { name: 'Stress app' }).waitFor();
      await page.locator('li[data-invitation="stressco"]').waitFor();
    },
    '/apps/new': async () => page.getByRole('heading', { name: 'Create an app' }).waitFor(),
    '/settings': async () => {
      await page.getByRole('heading', { name: 'Signing keys' }).waitFor();
      await page.locator('tr[data-invitation="pending@example.com"]').waitFor();
    },
    [`${app}/delete`]: async () => page.getByRole('heading', { name: 'Delete Stress app?' }).waitFor(),
    [`${secretPage}/refresh`]: async () => page.getByRole('heading', { name: 'Refresh this secret?' }).waitFor(),
    [`${secretPage}/delete`]: async () => page.getByRole('heading', { name: 'Delete this secret?' }).waitFor(),
  };
  for (let round = 0; round < LOADS_PER_PAGE; round++) {
    for (const [path, check] of Object.entries(pages)) {
      await load(page, path);
      await check();
    }
  }
  assert.ok(burners.every((b) => b.exitCode === null), 'the machine stayed busy throughout');
  await context.close();
});
