// Members join by invitation (SPEC §5): an admin invites an email with a role; the person
// accepts or declines in their portal, at sign-in or right after signing up with that email.
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

async function signIn(page, email) {
  await page.goto(server.base + '/signin');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(server.base + '/apps');
}

/** Invites `email` as `role` on the admin's Settings page; what the page answered. */
async function invite(page, email, role) {
  await page.getByLabel('Email').fill(email);
  await page.locator('#invite-role').selectOption(role);
  await page.getByRole('button', { name: 'Invite', exact: true }).click();
  await page.locator(`tr[data-invitation="${email}"]`).waitFor();
  // Everything the form says after the answer: the status, and any error beside a field.
  return (await page.locator('form:has(#invite-email)').locator('[role=status], [role=alert]').allTextContents()).join(' | ');
}

test('an admin invites two emails alike; one person accepts at sign-in, the other declines right after signing up', async () => {
  const acme = server.createUser('lead@example.com', PASSWORD, ['--tenant', 'acme', '--admin']);
  server.cli(['client', 'create', '--tenant', acme.tenant_id, '--name', 'Acme app']);
  server.createUser('kim@example.com', PASSWORD);

  // The admin invites an email with an account and one without: the answers are the same.
  const admin = await browser.newContext();
  const adminPage = await admin.newPage();
  const adminProblems = watchConsole(adminPage);
  await signIn(adminPage, 'lead@example.com');
  await adminPage.goto(server.base + '/settings');
  await waitForHydration(adminPage);
  const known = await invite(adminPage, 'kim@example.com', 'admin');
  await adminPage.reload();
  await waitForHydration(adminPage);
  const unknown = await invite(adminPage, 'New.Person@example.com', 'developer');
  assert.match(known, /^Invitation saved\./);
  assert.equal(known, unknown, 'the same answer whether or not an account uses the email');
  const kimRow = adminPage.locator('tr[data-invitation="kim@example.com"]');
  assert.match(await kimRow.textContent(), /Admin/);
  assert.equal(await adminPage.locator('tr[data-member="kim@example.com"]').count(), 0, 'not a member before accepting');
  assert.deepEqual(adminProblems, []);

  // Kim signs in and finds the invitation on the Apps page; accepting it with the keyboard
  // offers the tenant in the header's switcher.
  const kimContext = await browser.newContext();
  const kim = await kimContext.newPage();
  const kimProblems = watchConsole(kim);
  await signIn(kim, 'kim@example.com');
  const invitation = kim.locator('li[data-invitation="acme"]');
  await invitation.getByText('lead invited you to join acme as admin.').waitFor();
  await waitForHydration(kim);
  await kim.getByRole('button', { name: 'Accept the invitation to acme' }).focus();
  await kim.keyboard.press('Enter');
  await kim.getByRole('status').filter({ hasText: 'Invitation accepted' }).waitFor();
  await invitation.waitFor({ state: 'detached' }); // an accepted invitation is gone
  await kim.getByLabel('Tenant').selectOption(acme.tenant_id);
  await kim.getByRole('button', { name: 'Switch' }).click();
  await kim.getByText('Apps registered in acme.').waitFor();
  await kim.getByRole('link', { name: 'Acme app' }).waitFor();
  await kim.getByRole('link', { name: 'Settings' }).waitFor(); // invited as admin
  assert.deepEqual(kimProblems, []);
  await kimContext.close();

  // The second person signs up with the invited email (in another case), without any WASM:
  // the invitation is on the first page they see, and Decline is a plain form post.
  const newContext = await browser.newContext({ javaScriptEnabled: false });
  const newcomer = await newContext.newPage();
  await newcomer.goto(server.base + '/signup');
  await newcomer.getByText('Invited to a team?').waitFor();
  await newcomer.getByLabel('Email').fill('new.person@EXAMPLE.com');
  await newcomer.getByLabel('Password').fill(PASSWORD);
  await newcomer.getByRole('button', { name: 'Create account' }).click();
  await newcomer.waitForURL(server.base + '/apps');
  const offer = newcomer.locator('li[data-invitation="acme"]');
  await offer.getByText('lead invited you to join acme as developer.').waitFor();
  await newcomer.getByRole('button', { name: 'Decline the invitation to acme' }).click();
  await offer.waitFor({ state: 'detached' }); // the post lands back on /apps, without it
  assert.equal(new URL(newcomer.url()).pathname, '/apps');
  assert.equal(await newcomer.getByLabel('Tenant').count(), 0, 'no second tenant to switch to');
  await newContext.close();

  // The admin sees Kim as a member and nothing pending any more.
  await adminPage.reload();
  await adminPage.locator('tr[data-member="kim@example.com"]').waitFor();
  await adminPage.getByText('No pending invitations.').waitFor();
  await admin.close();
});

test('an admin cancels a pending invitation, and the invited person no longer sees it', async () => {
  server.createUser('boss@example.com', PASSWORD, ['--tenant', 'initech', '--admin']);
  server.createUser('sam@example.com', PASSWORD);
  const admin = await browser.newContext();
  const adminPage = await admin.newPage();
  await signIn(adminPage, 'boss@example.com');
  await adminPage.goto(server.base + '/settings');
  await waitForHydration(adminPage);
  await invite(adminPage, 'sam@example.com', 'developer');
  await adminPage.getByRole('button', { name: 'Cancel the invitation of sam@example.com' }).click();
  await adminPage.getByText('No pending invitations.').waitFor();
  await admin.close();

  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, 'sam@example.com');
  await page.getByRole('heading', { name: 'Apps' }).waitFor();
  await waitForHydration(page);
  assert.equal(await page.locator('li[data-invitation]').count(), 0);
  await context.close();
});
