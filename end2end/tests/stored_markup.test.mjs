// Stored text is text (SPEC §5): every field a person can fill is stored with a value that
// would end its element or attribute and add markup of its own, and every portal page that
// shows one is opened in Chromium. No injected element, attribute or meta may appear, the
// browser must stay on the page (a `<meta http-equiv=refresh>` would move it at once), and the
// values must read back exactly as stored, in the title and the description's box too.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { launchBrowser, startServer, waitForHydration, watchConsole } from '../support.mjs';

const PASSWORD = 'correct horse battery';
const TIMEOUT = 180_000;

// Each ends a raw-text element, an attribute or a tag, then adds a marked element, an event
// handler and a redirect; `kp-injected` marks what must never become an element.
const TITLE = '</title><meta http-equiv="refresh" content="0;url=/kp-injected-title"><b id="kp-injected-t">';
const TEXTAREA = '</textarea></form><form id="kp-injected-form" method="post" action="/api/x"><button>Save changes</button></form><textarea>';
const ATTR = '"><svg id="kp-injected-svg" onload="window.kpPwned=1"></svg><img src=x onerror="window.kpPwned=2">';
const SHORT = '</title></textarea>"><b id="kp-injected-s" onclick=1>x</b>';

let server;
let browser;
let callback;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  callback = await startCallbackServer();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await callback?.close();
});

async function startCallbackServer() {
  const http = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>back</title><p>back at the app</p>');
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${http.address().port}/cb`,
    close: () => new Promise((r) => http.close(r)),
  };
}

/** What an injection would have left in the page, and whether the page is still `url`. */
async function injected(page) {
  return page.evaluate(() => {
    const found = [];
    for (const el of document.querySelectorAll('[id^="kp-injected"], meta[http-equiv], svg, img')) {
      found.push(el.outerHTML.slice(0, 120));
    }
    for (const el of document.querySelectorAll('*')) {
      for (const attr of el.getAttributeNames()) {
        if (/^on/i.test(attr)) found.push(`${el.tagName.toLowerCase()}[${attr}]`);
      }
      for (const attr of ['href', 'action', 'src', 'formaction']) {
        const value = el.getAttribute(attr);
        if (value && /^\s*javascript:/i.test(value)) found.push(`${el.tagName.toLowerCase()}[${attr}=${value}]`);
      }
    }
    if (window.kpPwned !== undefined) found.push(`window.kpPwned=${window.kpPwned}`);
    return found;
  });
}

async function visit(page, path) {
  const url = server.base + path;
  const response = await page.goto(url);
  assert.equal(response.status(), 200, `${path} answered ${response.status()}`);
  await waitForHydration(page);
  // A meta refresh with a zero delay fires as soon as the page is parsed; give it a moment.
  await page.waitForTimeout(200);
  assert.equal(page.url(), url, `${path}: the browser left the page`);
  assert.deepEqual(await injected(page), [], `${path}: markup from stored text became part of the page`);
  const html = await page.content();
  return html;
}

async function api(context, method, path, body) {
  const response = await context.request.fetch(server.base + path, {
    method,
    data: body,
    headers: { 'content-type': 'application/json' },
  });
  return { status: response.status(), body: await response.json().catch(() => null) };
}

test('hostile values in every field a person fills render as text on every page', { timeout: TIMEOUT }, async () => {
  // The display name and the tenant name come from the operator's command line.
  const admin = server.createUser('lead@example.com', PASSWORD, ['--tenant', SHORT, '--admin', '--name', SHORT]);
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchConsole(page);
  await page.goto(server.base + '/signin');
  await waitForHydration(page);
  await page.getByLabel('Email').fill('lead@example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(server.base + '/apps');

  // The catalogue's descriptions, an app with a hostile name, description and callback,
  // and a secret with a hostile description, through the portal session's API.
  assert.equal((await api(context, 'POST', '/api/v1/scopes', { name: 'orders:read', description: TITLE })).status, 201);
  assert.equal((await api(context, 'POST', '/api/v1/roles', { name: 'auditor', description: ATTR })).status, 201);
  const js = await api(context, 'POST', '/api/v1/apps', { name: 'x', callback_url: 'javascript:alert(1)' });
  assert.equal(js.status, 422, 'a javascript: callback URL is refused');
  const hostileCallback = `${callback.url}?next="><svg onload=alert(1)>`;
  const created = await api(context, 'POST', '/api/v1/apps', {
    name: TITLE.slice(0, 100),
    description: `${TEXTAREA}\n${ATTR}`,
    callback_url: hostileCallback,
    scopes: ['orders:read'],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const app = created.body;
  const patched = await api(context, 'PATCH', `/api/v1/apps/${app.client_id}`, { roles: ['auditor'] });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  const secret = await api(context, 'POST', `/api/v1/apps/${app.client_id}/secrets`, { description: SHORT });
  assert.equal(secret.status, 201, JSON.stringify(secret.body));

  // An invitation to an email that is all markup (an email may hold `<`, `>` and quotes).
  await page.goto(server.base + '/settings');
  await waitForHydration(page);
  const hostileEmail = '"><svg/onload=window.kpPwned=3>@evil.example';
  await page.getByLabel('Email').fill(hostileEmail);
  await page.getByRole('button', { name: 'Invite', exact: true }).click();
  await page.getByText('Invitation saved.').waitFor();

  const appPath = `/apps/${app.client_id}`;
  await visit(page, '/apps');
  for (const tab of ['basic', 'oauth', 'roles', 'activity']) {
    await visit(page, `${appPath}?tab=${tab}`);
    // The title and the description's box read exactly what was stored.
    assert.equal(await page.title(), `${app.name} · Keyport`);
    if (tab === 'basic') {
      assert.equal(await page.locator('#app-description').inputValue(), `${TEXTAREA}\n${ATTR}`);
      assert.equal(await page.locator('#app-name').inputValue(), app.name);
      assert.equal(await page.locator('#callback-url').inputValue(), app.callback_url);
      assert.equal(await page.locator('form').filter({ hasText: 'Save changes' }).count(), 1, 'one Save changes form');
    }
  }
  await visit(page, `${appPath}/delete`);
  await visit(page, `${appPath}/secrets/${secret.body.id}/refresh`);
  await visit(page, `${appPath}/secrets/${secret.body.id}/delete`);
  const settings = await visit(page, '/settings');
  assert.ok(settings.includes('kp-injected-s'), 'the names are on the settings page, as text');
  assert.ok(await page.getByText(hostileEmail).count() > 0, 'the invitation email is shown as typed');

  // The consent page names the app and describes its scope; Connected apps lists it.
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const authorize = new URLSearchParams({
    response_type: 'code',
    client_id: app.client_id,
    redirect_uri: app.callback_url,
    scope: 'orders:read',
    state: 'st',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  await page.goto(`${server.base}/t/${admin.tenant_id}/oauth/authorize?${authorize}`);
  await page.waitForURL(/\/consent/);
  await waitForHydration(page);
  await page.waitForTimeout(200);
  assert.match(page.url(), /\/consent/);
  assert.deepEqual(await injected(page), [], 'the consent page shows stored text as text');
  assert.ok(await page.getByText(TITLE.slice(0, 100)).count() > 0, 'the app is named as stored');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((url) => url.href.startsWith(callback.url));
  await visit(page, '/connected');
  await visit(page, `/connected/${app.client_id}/revoke`);

  assert.deepEqual(problems.filter((p) => !/favicon|404/.test(p)), []);
  await context.close();
});
