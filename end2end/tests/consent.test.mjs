// People signing in to apps (SPEC §3a) in a real browser: an app sends a person to the
// authorization endpoint, the portal asks them to sign in, shows the consent page, and sends
// them back to the app's callback (a tiny HTTP server of this test) with a code; Connected apps
// lists the app and Revoke takes the access back. Once with the WASM, once without.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, startServer, waitForHydration, watchConsole } from '../support.mjs';

const PASSWORD = 'correct horse battery';
const TIMEOUT = 120_000;
// The README's screenshot of the consent page: refreshed only on request (UPDATE_DOCS=1), as
// in apps.test.mjs, so a test run does not dirty the working tree.
const docs = process.env.UPDATE_DOCS
  ? resolve(import.meta.dirname, '..', '..', 'docs')
  : mkdtempSync(join(tmpdir(), 'keyport-shots-'));
let server;
let browser;
let app;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  app = await startCallbackServer();
  mkdirSync(docs, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await app?.close();
});

/** The app's side: an HTTP server on 127.0.0.1 that records every request to /cb. */
async function startCallbackServer() {
  const hits = [];
  const http = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/cb') hits.push(url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>Order Tracker</title><h1>Back at the app</h1></html>');
  });
  await new Promise((resolveListen) => http.listen(0, '127.0.0.1', resolveListen));
  return {
    callback: `http://127.0.0.1:${http.address().port}/cb`,
    hits,
    close: () => new Promise((resolveClose) => http.close(resolveClose)),
  };
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** What an app puts in the authorization URL, with the state and verifier it keeps. */
function authorizationRequest(issuer, clientId, scope) {
  const { verifier, challenge } = pkce();
  const state = randomBytes(12).toString('base64url');
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: app.callback,
    scope,
    state,
    nonce: randomBytes(12).toString('base64url'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return { url: `${issuer}/oauth/authorize?${params}`, state, verifier };
}

/** The request that reached the app's callback last. */
function arrived() {
  assert.ok(app.hits.length > 0, 'the callback was reached');
  return Object.fromEntries(app.hits.at(-1).searchParams);
}

async function tokenRequest(issuer, client, form) {
  const basic = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.secret)}`).toString('base64');
  const resp = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: resp.status, body: await resp.json() };
}

async function exchange(issuer, client, code, verifier) {
  const { status, body } = await tokenRequest(issuer, client, {
    grant_type: 'authorization_code', code, redirect_uri: app.callback, code_verifier: verifier,
  });
  assert.equal(status, 200, JSON.stringify(body));
  assert.match(body.refresh_token ?? '', /^kpr_[A-Za-z0-9_-]{43}$/);
  return body;
}

/** Tab from the top of the page until `name` has focus; the buttons passed on the way. */
async function tabTo(page, name) {
  await page.evaluate(() => document.activeElement?.blur());
  const seen = [];
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      return el && el.tagName === 'BUTTON' ? el.textContent.trim() : null;
    });
    if (focused) seen.push(focused);
    if (focused === name) return seen;
  }
  assert.fail(`Tab never reached the ${name} button (buttons reached: ${seen.join(', ') || 'none'})`);
}

test('a new person allows an app from the consent page, by keyboard, then revokes it under Connected apps', { timeout: TIMEOUT }, async () => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  const problems = watchConsole(page);

  // Sign up: the person gets a tenant of their own.
  await page.goto(server.base + '/signup');
  await waitForHydration(page);
  await page.getByLabel('Email').fill('cora@example.com');
  await page.getByLabel('Your name').fill('Cora');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(server.base + '/apps');

  // A scope with its description and an app with a callback at the test's server, through the
  // REST API as the portal session.
  const origin = { origin: server.base };
  const tenant = await (await page.request.get(server.base + '/api/v1/tenant')).json();
  assert.ok(tenant.issuer && tenant.name, JSON.stringify(tenant));
  const scope = await page.request.post(server.base + '/api/v1/scopes', { data: { name: 'orders:read', description: 'Read your orders' }, headers: origin });
  assert.equal(scope.status(), 201, await scope.text());
  const created = await page.request.post(server.base + '/api/v1/apps', {
    data: { name: 'Order Tracker', client_type: 'confidential', visibility: 'private', callback_url: app.callback, scopes: ['orders:read'] },
    headers: origin,
  });
  assert.equal(created.status(), 201, await created.text());
  const { client_id: clientId, client_secret: secret } = await created.json();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('navigation').getByRole('link', { name: 'Sign in' }).waitFor();

  // The app sends the browser to the authorization endpoint; nobody is signed in.
  const request = authorizationRequest(tenant.issuer, clientId, 'openid email orders:read');
  await page.goto(request.url);
  await page.waitForURL((url) => url.pathname === '/signin' && url.searchParams.has('next'));
  await waitForHydration(page);
  await page.getByText('An app asked you to sign in.').waitFor();
  await page.getByLabel('Email').fill('cora@example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();

  // The consent page: which app, who registered it, what it may do.
  await page.waitForURL((url) => url.pathname === '/consent');
  await waitForHydration(page);
  await page.getByRole('heading', { name: 'Allow Order Tracker to use your account?' }).waitFor();
  assert.match(await page.locator('.consent-owner').textContent(), new RegExp(`Registered by ${tenant.name}`));
  const items = page.locator('ul.consent-scopes li');
  const listed = await items.evaluateAll((lis) => lis.map((li) => [li.dataset.scope, li.textContent.trim()]));
  assert.deepEqual(listed.map(([name]) => name).sort(), ['email', 'openid', 'orders:read']);
  for (const [name, text] of listed) assert.ok(text.length > name.length + 3, `${name} is described: ${text}`);
  assert.match(await page.locator('li[data-scope="orders:read"]').textContent(), /Read your orders/);
  await page.screenshot({ path: join(docs, 'consent.png') });

  // Keyboard only: Tab reaches Deny and Allow, Enter on Allow answers.
  const buttons = await tabTo(page, 'Allow');
  assert.ok(buttons.includes('Deny'), `Tab passes Deny before Allow: ${buttons.join(', ')}`);
  assert.equal(app.hits.length, 0, 'nothing reached the app yet');
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.href.startsWith(app.callback + '?'));
  const answer = arrived();
  assert.equal(answer.state, request.state);
  assert.equal(answer.iss, tenant.issuer, 'iss (RFC 9207) is the tenant issuer');
  assert.ok(answer.code, 'a code');
  assert.equal(answer.error, undefined);
  const tokens = await exchange(tenant.issuer, { clientId, secret }, answer.code, request.verifier);

  // Connected apps lists it; Revoke asks in a modal dialog, then the list is empty.
  await page.goto(server.base + '/connected');
  await waitForHydration(page);
  const row = page.locator(`tr[data-client-id="${clientId}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /Order Tracker/);
  assert.match(await row.textContent(), /orders:read/);
  await row.getByRole('link', { name: /^Revoke/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Revoke Order Tracker?' });
  await dialog.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.closest('dialog') !== null), true, 'focus moved into the dialog');
  await dialog.getByRole('button', { name: 'Revoke access' }).click();
  await row.waitFor({ state: 'detached' });
  await page.getByText('You have not connected any app.').waitFor();
  assert.equal(await page.locator('tr[data-client-id]').count(), 0);

  // The app's refresh token died with it.
  const refused = await tokenRequest(tenant.issuer, { clientId, secret }, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.equal(refused.body.error, 'invalid_grant');
  // And the consent with it: the app has to ask again.
  await page.goto(authorizationRequest(tenant.issuer, clientId, 'openid').url);
  await page.waitForURL((url) => url.pathname === '/consent');
  await page.getByRole('heading', { name: 'Allow Order Tracker to use your account?' }).waitFor();

  assert.deepEqual(problems, []);
  await context.close();
});

test('without WASM: sign in, Allow, and Revoke work as plain forms', { timeout: TIMEOUT }, async () => {
  const person = server.createUser('nojs@example.com', PASSWORD, ['--name', 'Noor']);
  // The app, registered by an admin tool client of Noor's own tenant.
  const tool = server.cli(['client', 'create', '--tenant', person.tenant_id, '--name', 'nojs-admin', '--tool', '--role', 'admin']);
  const basic = Buffer.from(`${tool.client_id}:${tool.client_secret}`).toString('base64');
  const granted = await fetch(server.base + '/oauth/token', {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: server.base + '/api/v1' }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(granted.status, 200);
  const bearer = { authorization: `Bearer ${(await granted.json()).access_token}`, 'content-type': 'application/json' };
  const tenant = await (await fetch(server.base + '/api/v1/tenant', { headers: bearer, signal: AbortSignal.timeout(10_000) })).json();
  const created = await fetch(server.base + '/api/v1/apps', {
    method: 'POST',
    headers: bearer,
    body: JSON.stringify({ name: 'Plain Reader', client_type: 'confidential', callback_url: app.callback }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await created.text();
  assert.equal(created.status, 201, body);
  const { client_id: clientId, client_secret: secret } = JSON.parse(body);

  const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, javaScriptEnabled: false });
  const page = await context.newPage();
  const request = authorizationRequest(tenant.issuer, clientId, 'openid profile');
  await page.goto(request.url);
  await page.waitForURL((url) => url.pathname === '/signin');
  await page.getByLabel('Email').fill('nojs@example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/consent');
  await page.getByRole('heading', { name: 'Allow Plain Reader to use your account?' }).waitFor();
  assert.match(await page.locator('li[data-scope="profile"]').textContent(), /name/);

  const before = app.hits.length;
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((url) => url.href.startsWith(app.callback + '?'));
  assert.equal(app.hits.length, before + 1);
  const answer = arrived();
  assert.equal(answer.state, request.state);
  assert.equal(answer.iss, tenant.issuer);
  const tokens = await exchange(tenant.issuer, { clientId, secret }, answer.code, request.verifier);
  assert.ok(tokens.id_token, 'scope openid gives an ID token');

  // Revoke goes through a confirmation page of its own.
  await page.goto(server.base + '/connected');
  const row = page.locator(`tr[data-client-id="${clientId}"]`);
  await row.getByRole('link', { name: /^Revoke/ }).click();
  await page.waitForURL(`${server.base}/connected/${clientId}/revoke`);
  await page.getByRole('heading', { name: 'Revoke Plain Reader?' }).waitFor();
  await page.getByRole('button', { name: 'Revoke access' }).click();
  await page.waitForURL(server.base + '/connected');
  await page.getByText('You have not connected any app.').waitFor();
  const refused = await tokenRequest(tenant.issuer, { clientId, secret }, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  assert.equal(refused.body.error, 'invalid_grant');
  await context.close();
});

/** A tool client of `tenantId`'s bearer headers, for the management API. */
async function toolHeaders(tenantId, name) {
  const tool = server.cli(['client', 'create', '--tenant', tenantId, '--name', name, '--tool', '--role', 'admin']);
  const basic = Buffer.from(`${tool.client_id}:${tool.client_secret}`).toString('base64');
  const granted = await fetch(server.base + '/oauth/token', {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: server.base + '/api/v1' }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(granted.status, 200);
  return { authorization: `Bearer ${(await granted.json()).access_token}`, 'content-type': 'application/json' };
}

test('a person in two organisations chooses which one an app acts in, and consent holds for that one only', { timeout: TIMEOUT }, async () => {
  // A public app of Board Makers; Mira has a tenant of her own and joins Third Org.
  const makers = server.createUser('maker@boards.example', PASSWORD, ['--tenant', 'Board Makers', '--admin']);
  const bearer = await toolHeaders(makers.tenant_id, 'boards-admin');
  const issuer = (await (await fetch(server.base + '/api/v1/tenant', { headers: bearer, signal: AbortSignal.timeout(10_000) })).json()).issuer;
  const created = await fetch(server.base + '/api/v1/apps', {
    method: 'POST',
    headers: bearer,
    body: JSON.stringify({ name: 'Shared Board', client_type: 'confidential', visibility: 'public', callback_url: app.callback }),
    signal: AbortSignal.timeout(10_000),
  });
  const createdBody = await created.text();
  assert.equal(created.status, 201, createdBody);
  const { client_id: clientId, client_secret: secret } = JSON.parse(createdBody);
  const third = server.createUser('lena@third.example', PASSWORD, ['--tenant', 'Third Org', '--admin']);
  const mira = server.createUser('mira@example.com', PASSWORD, ['--name', 'Mira']);
  const signIn = async (page, email) => {
    await page.goto(server.base + '/signin');
    await waitForHydration(page);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(server.base + '/apps');
    await waitForHydration(page);
  };
  // Lena, Third Org's admin, invites Mira on her Settings page.
  const lenaContext = await browser.newContext();
  const lena = await lenaContext.newPage();
  await signIn(lena, 'lena@third.example');
  await lena.goto(server.base + '/settings');
  await waitForHydration(lena);
  await lena.getByLabel('Email').fill('mira@example.com');
  await lena.locator('#invite-role').selectOption('developer');
  await lena.getByRole('button', { name: 'Invite', exact: true }).click();
  await lena.locator('tr[data-invitation="mira@example.com"]').waitFor();
  await lenaContext.close();
  assert.ok(third.tenant_id);

  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  const problems = watchConsole(page);
  await signIn(page, 'mira@example.com');
  await page.getByRole('button', { name: 'Accept the invitation to Third Org' }).click();
  await page.getByRole('status').filter({ hasText: 'Invitation accepted' }).waitFor();

  // The consent page offers both organisations, her session's first; she picks Third Org.
  const first = authorizationRequest(issuer, clientId, 'openid');
  await page.goto(first.url);
  await page.waitForURL((url) => url.pathname === '/consent');
  await waitForHydration(page);
  await page.getByRole('heading', { name: 'Allow Shared Board to use your account?' }).waitFor();
  const choice = page.getByLabel('Act in');
  const offered = await choice.locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
  assert.deepEqual(offered.map(([id]) => id), [mira.tenant_id, third.tenant_id]);
  assert.equal(offered[1][1], 'Third Org');
  await choice.selectOption(third.tenant_id);
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((url) => url.href.startsWith(app.callback + '?'));
  const tokens = await exchange(issuer, { clientId, secret }, arrived().code, first.verifier);
  const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url'));
  assert.equal(claims.tenant, third.tenant_id, 'the token acts in the organisation she chose');

  // Signing in again from the same session goes straight back, and the app still acts in
  // the organisation she chose, not in the one her session is in.
  const hits = app.hits.length;
  const again = authorizationRequest(issuer, clientId, 'openid');
  await page.goto(again.url);
  await page.waitForURL((url) => url.href.startsWith(app.callback + '?'));
  assert.equal(app.hits.length, hits + 1);
  const silent = await exchange(issuer, { clientId, secret }, arrived().code, again.verifier);
  assert.equal(JSON.parse(Buffer.from(silent.access_token.split('.')[1], 'base64url')).tenant, third.tenant_id);
  assert.deepEqual(problems, []);
  await context.close();
});
