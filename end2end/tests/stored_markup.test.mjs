// Stored text is text (SPEC §5, issue 26): every field a person fills is given values that
// would end their element or attribute and add markup of their own — a `<meta>` refresh after
// `</title>`, a form and a "Save changes" button after `</textarea></form>`, an `<svg onload>`
// after `">`, an `<img onerror>` — through the same API the portal uses (its forms, and
// /api/v1 as the portal's session). What a field refuses must be refused with a 4xx, never a
// 500. Then every portal page that shows one is checked three ways: the server's HTML as
// fetched (the values appear escaped, no injected tag), that HTML parsed without running it,
// and the page in Chromium once the WASM has hydrated it (and after client-side navigation):
// the title reads the stored text literally, no injected element, attribute or meta exists,
// nothing ran (no dialog, no `window.__pwned`) and the browser stayed on the page.
//
// The portal's Content-Security-Policy would stop an injected handler from running; the
// contexts bypass it, so that these checks test the escaping itself, not the safety net.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { launchBrowser, startServer, waitForHydration } from '../support.mjs';

const PASSWORD = 'correct horse battery';
const TIMEOUT = 60_000;
// A zero-delay meta refresh fires as soon as the page is parsed; this is ample for it.
const SETTLE_MS = 300;

// The values of issue 26.
const TITLE = '</title><meta http-equiv="refresh" content="0;url=https://evil.example/">';
const FORM = '</textarea></form><form method="post" action="/api/x"><button id="injected">Save changes</button></form><textarea>';
const SVG = '"><svg onload=alert(1)>';
const IMG = '<img src=x onerror=window.__pwned=1>';
const JS_URL = 'javascript:alert(1)';
const VALUES = [TITLE, FORM, SVG, IMG];
// Beside them: a value that would end the inline scripts leptos writes for hydration.
const SCRIPT = '</script><script>window.__pwned=2</script>';
// FORM is 114 characters, past the 100 a name may have; this much of it fits.
const FORM_SHORT = '</textarea></form><form method="post" action="/api/x"><button id="injected">Save</button></form>';
// The same attacks without spaces or double quotes, for the fields that refuse those: scope
// and role names (RFC 6749 scope tokens, at most 64 characters), emails, URLs.
const TIGHT_TITLE = "</title><meta/http-equiv='refresh'/content=0;url=//evil.example>";
const TIGHT_FORM = "</textarea></form><button/id='injected'>Save</button>";
const TIGHT_SVG = "'><svg/onload=alert(1)>";
const TIGHT_IMG = "<img/src='x'/onerror='window.__pwned=1'>";

// What is finally stored, field by field (probes of every value come first, see the test).
const ADMIN = { email: `"><svg/onload=alert(1)>${TIGHT_TITLE}@evil.example`, name: TITLE + SVG };
const MEMBER = { email: `${TIGHT_IMG}${TIGHT_FORM}@evil.example`, name: FORM_SHORT };
const PENDING = `'"><img/src='x'/onerror='alert(1)'>@evil.example`; // invited, never signs up
const TENANT = `${IMG} ${SVG}`;
const MEMBER_TENANT = `${MEMBER.name}'s team`; // what a sign-up names the person's own tenant
const AUDIENCE = `urn:"><svg/onload=alert(1)>${TIGHT_IMG}`;
const APP_NAMES = [TITLE, SVG, IMG, FORM_SHORT]; // FORM itself is too long for a name
const MAIN_NAME = TITLE + SVG;
const MAIN_DESCRIPTION = [...VALUES, SCRIPT].join('\n');
const CATALOGUE = [
  { name: 'orders:read', description: TITLE },
  { name: TIGHT_TITLE, description: FORM },
  { name: TIGHT_FORM, description: SVG },
  { name: TIGHT_SVG, description: IMG },
  { name: TIGHT_IMG, description: SCRIPT },
];
const APP_AUDIENCES = [JS_URL, `urn:x:"><svg/onload=alert(1)>${TIGHT_IMG}`];

/** Tags that may exist in a page only if stored text became markup. The server escapes `<` in
 * text, attributes and its inline script data alike, so none may appear in its HTML. */
const RAW_MARKUP = [
  '<meta http-equiv', '<meta/http-equiv', '<svg onload', '<svg/onload', '<img src=x', '<img/src=',
  '<button id="injected"', '<button/id=', '<form method="post" action="/api/x"', '<script>window.__pwned',
];

let server;
let browser;
let callback;
/** Requests stored text must never cause: to evil.example, the injected form's target. */
const strays = [];
const dialogs = [];
/** What each field refused, for the report. */
const refusals = [];
/** Filled in by the first test, used by the others. */
const data = {};

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

/** The app's side of the code flow: answers every request to /cb. */
async function startCallbackServer() {
  const http = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>Back</title><p>Back at the app</p></html>');
  });
  await new Promise((resolveListen) => http.listen(0, '127.0.0.1', resolveListen));
  return {
    url: `http://127.0.0.1:${http.address().port}/cb`,
    close: () => new Promise((resolveClose) => http.close(resolveClose)),
  };
}

/** A browser context for one person, watched for dialogs and stray requests. */
async function person() {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1200, height: 900 } });
  await context.route(/^https?:\/\/evil\.example(\/|$)/, (route) => route.abort());
  context.on('request', (request) => {
    const url = request.url();
    const { hostname, origin, pathname } = new URL(url);
    if (hostname === 'evil.example' || (origin === server.base && /^\/api\/x\b/.test(pathname))) strays.push(url);
  });
  const page = await context.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(`${page.url()}: ${dialog.type()} ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  return { context, page };
}

const escapeText = (s) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const escapeAttr = (s) => escapeText(s).replaceAll('"', '&quot;');
const fullTitle = (title) => `${title} · Keyport`;

/** Assert that a probe was answered as a client error or a success, never a server error. */
function settled(field, value, status) {
  assert.ok((status >= 200 && status < 300) || (status >= 400 && status < 500),
    `${field} = ${JSON.stringify(value)} answered ${status}, not a 2xx or a 4xx`);
  if (status >= 400) refusals.push(`${field} refused ${JSON.stringify(value).slice(0, 40)}… with ${status}`);
  return status < 300;
}

/** /api/v1 as the portal's signed-in session. */
async function api({ context }, method, path, body) {
  const response = await context.request.fetch(`${server.base}/api/v1${path}`, {
    method,
    data: body,
    headers: { origin: server.base },
  });
  return { status: response.status(), body: await response.json().catch(() => null) };
}

/** Fills `form` (a locator) as a person would, though past any maxlength, presses `button`
 * and returns the status of the server function it posted to. */
async function submit(page, form, values, button) {
  const action = await form.evaluate((el, entries) => {
    for (const [name, value] of entries) el.elements.namedItem(name).value = value;
    return new URL(el.action).pathname;
  }, Object.entries(values));
  // (resources reload through server functions too: only the form's own answer counts)
  const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === action);
  await form.getByRole('button', { name: button, exact: true }).click();
  return (await answered).status();
}

/** Runs in the page: what stored text became in the live document (`html` null) or in `html`
 * parsed without running it — anything it added, the title, and which of `shows` cannot be
 * read literally in the text, the attributes or (live) the form fields. */
function inspect({ html, shows }) {
  const doc = html === null ? document : new DOMParser().parseFromString(html, 'text/html');
  const found = [];
  const note = (why, el) => found.push(`${why}: ${el.outerHTML.slice(0, 120)}`);
  const attacks = '#injected, meta[http-equiv], svg[onload], img[onerror], form[action="/api/x"], script:not([nonce]):not([src])';
  for (const el of doc.querySelectorAll(attacks)) note('injected element', el);
  const readable = [doc.documentElement.textContent];
  for (const el of doc.querySelectorAll('*')) {
    for (const name of el.getAttributeNames()) {
      const value = el.getAttribute(name);
      readable.push(value);
      if (/^on/i.test(name)) note(`event handler attribute ${name}`, el);
      if (/^(href|src|action|formaction)$/i.test(name) && /^\s*javascript:/i.test(value)) note(`javascript: in ${name}`, el);
    }
  }
  if (html === null) for (const el of doc.querySelectorAll('input, textarea, select')) readable.push(el.value);
  const text = readable.join('\n');
  return {
    title: doc.title,
    found,
    missing: shows.filter((s) => !text.includes(s)),
    saveChanges: [...doc.querySelectorAll('button')].filter((b) => b.textContent.trim() === 'Save changes').length,
    pwned: html === null ? String(window.__pwned) : 'undefined',
  };
}

function judge(where, seen, { title, shows }) {
  assert.deepEqual(seen.found, [], `${where}: stored text became markup`);
  assert.equal(seen.title, fullTitle(title), `${where}: the title reads the stored text`);
  assert.deepEqual(seen.missing, [], `${where}: stored text is not shown as typed`);
  assert.ok(seen.saveChanges <= 1, `${where}: ${seen.saveChanges} "Save changes" buttons`);
  assert.equal(seen.pwned, 'undefined', `${where}: window.__pwned was set`);
}

/** The live page, after the WASM took it over or rendered it: judged, and still `url`. */
async function judgeLive(who, where, expected, url) {
  const { page } = who;
  const stayed = () => {
    assert.deepEqual(strays, [], `${where}: stored text made the browser fetch something`);
    assert.equal(page.url(), url, `${where}: the browser left the page`);
    assert.deepEqual(dialogs, [], `${where}: stored text opened a dialog`);
  };
  // Before hydration too: a refresh would keep the WASM from ever marking the page.
  await page.waitForTimeout(SETTLE_MS);
  stayed();
  await waitForHydration(page);
  await page.waitForTimeout(SETTLE_MS);
  stayed();
  judge(where, await page.evaluate(inspect, { html: null, shows: expected.shows }), expected);
}

/**
 * Opens `path` as `who`, three ways: the server's HTML (as `who`'s cookies get it), that HTML
 * parsed without running it, and the page in Chromium after hydration. `title` is the page's
 * own part of the title, `shows` the stored values the page displays.
 */
async function visit(who, path, { title, shows = [], status = 200 }) {
  const { context, page } = who;
  const url = server.base + path;
  const response = await context.request.get(url, { maxRedirects: 0 });
  assert.equal(response.status(), status, `GET ${path} answered ${response.status()}`);
  const html = await response.text();
  for (const raw of RAW_MARKUP) {
    const at = html.indexOf(raw);
    assert.equal(at, -1, `${path}: the server wrote ${raw} as markup: …${html.slice(Math.max(0, at - 80), at + 80)}…`);
  }
  assert.ok(html.includes(`<title>${escapeText(fullTitle(title))}</title>`), `${path}: the server's <title> is the escaped text`);
  for (const value of shows) {
    assert.ok(html.includes(escapeText(value)) || html.includes(escapeAttr(value)),
      `${path}: ${JSON.stringify(value)} is not in the server's HTML, escaped`);
  }
  judge(`${path} (server HTML, parsed)`, await page.evaluate(inspect, { html, shows }), { title, shows });

  const loaded = await page.goto(url);
  assert.equal(loaded.status(), status, `${path} in the browser answered ${loaded.status()}`);
  await judgeLive(who, `${path} (hydrated)`, { title, shows }, url);
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return createHash('sha256').update(verifier).digest('base64url');
}

function authorizeUrl(extra = {}) {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: data.main.client_id,
    redirect_uri: data.main.callback_url,
    scope: CATALOGUE.map((s) => s.name).join(' '),
    state: 'st',
    code_challenge: pkce(),
    code_challenge_method: 'S256',
    ...extra,
  });
  return `${data.issuer}/oauth/authorize?${params}`;
}

test('hostile values are stored where a field accepts them and refused with a 4xx where not', { timeout: TIMEOUT }, async (t) => {
  const admin = await person();
  data.admin = admin;
  const { page } = admin;

  // Display name and email: the sign-up form. What it refuses creates nobody.
  await page.goto(server.base + '/signup');
  await waitForHydration(page);
  const signup = page.locator('form:has(#password)');
  const tooLong = { email: 'probe@example.com', name: FORM, password: PASSWORD };
  assert.equal(settled('display name', FORM, await submit(page, signup, tooLong, 'Create account')), false);
  for (const value of VALUES) {
    const email = `${value}@evil.example`;
    const status = await submit(page, signup, { email, name: 'Probe', password: PASSWORD }, 'Create account');
    assert.equal(settled('email', email, status), false, 'an email with spaces is refused');
  }
  await signup.evaluate((el, { email, name, password }) => {
    Object.assign(el.elements.namedItem('email'), { value: email });
    Object.assign(el.elements.namedItem('name'), { value: name });
    Object.assign(el.elements.namedItem('password'), { value: password });
  }, { ...ADMIN, password: PASSWORD });
  await signup.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(server.base + '/apps');

  // The tenant: every value as its name in turn, then the one kept; its default audience.
  for (const value of VALUES) settled('tenant name', value, (await api(admin, 'PATCH', '/tenant', { name: value })).status);
  for (const audience of [JS_URL, AUDIENCE]) settled('default audience', audience, (await api(admin, 'PATCH', '/tenant', { audience })).status);
  const tenant = await api(admin, 'PATCH', '/tenant', { name: TENANT, audience: AUDIENCE });
  assert.equal(tenant.status, 200, JSON.stringify(tenant.body));
  assert.equal(tenant.body.name, TENANT);
  assert.equal(tenant.body.audience, AUDIENCE);
  data.issuer = tenant.body.issuer;
  data.audience = tenant.body.audience;

  // The scope and role catalogues (Settings → Scopes, Roles): names and descriptions.
  for (const kind of ['scopes', 'roles']) {
    for (const value of VALUES) settled(`${kind} name`, value, (await api(admin, 'POST', `/${kind}`, { name: value, description: 'probe' })).status);
    const long = VALUES.join(' ');
    settled(`${kind} description`, long, (await api(admin, 'POST', `/${kind}`, { name: 'probe:long', description: long })).status);
    for (const entry of CATALOGUE) {
      const created = await api(admin, 'POST', `/${kind}`, entry);
      assert.equal(created.status, 201, `${kind} ${entry.name}: ${JSON.stringify(created.body)}`);
    }
  }

  // Apps: one per value as its name (FORM is over 100 characters), and the app the other
  // pages show, whose callback URL is tried with javascript: and a space first.
  data.apps = [];
  for (const name of [...VALUES, FORM_SHORT]) {
    const created = await api(admin, 'POST', '/apps', { name, description: name });
    if (settled('app name', name, created.status)) data.apps.push(created.body);
  }
  assert.deepEqual(data.apps.map((a) => a.name), APP_NAMES);
  const mainApp = { name: MAIN_NAME, description: MAIN_DESCRIPTION, scopes: CATALOGUE.map((s) => s.name) };
  for (const callback_url of [JS_URL, `https://evil.example/cb?next=${SVG}`]) {
    const status = (await api(admin, 'POST', '/apps', { ...mainApp, callback_url })).status;
    assert.equal(settled('callback URL', callback_url, status), false, `the callback ${callback_url} is refused`);
  }
  const created = await api(admin, 'POST', '/apps', { ...mainApp, callback_url: `${callback.url}?next="><svg/onload=alert(1)>` });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  data.main = created.body;
  assert.equal(data.main.description, MAIN_DESCRIPTION);
  const main = `/apps/${data.main.client_id}`;
  const js = await api(admin, 'PATCH', main, { callback_url: JS_URL });
  assert.equal(settled('callback URL', JS_URL, js.status), false, 'nor may an app change to it');
  // Roles and audiences, which only admins give.
  const audiences = [];
  for (const audience of APP_AUDIENCES) {
    if (settled('app audience', audience, (await api(admin, 'PATCH', main, { audiences: [audience] })).status)) audiences.push(audience);
  }
  const given = await api(admin, 'PATCH', main, { roles: CATALOGUE.map((r) => r.name), audiences });
  assert.equal(given.status, 200, JSON.stringify(given.body));
  data.main = given.body;
  data.audiences = audiences;

  // Secrets: one per value as its description; all four at once are too long.
  settled('secret description', VALUES.join(' '), (await api(admin, 'POST', `${main}/secrets`, { description: VALUES.join(' ') })).status);
  data.secrets = [];
  for (const description of VALUES) {
    const secret = await api(admin, 'POST', `${main}/secrets`, { description });
    assert.equal(secret.status, 201, JSON.stringify(secret.body));
    assert.equal(secret.body.description, description);
    data.secrets.push(secret.body);
  }

  // Invitations: the Settings form. An email may hold `<`, `>` and quotes, not spaces.
  await page.goto(server.base + '/settings');
  await waitForHydration(page);
  const invite = page.locator('form:has(#invite-email)');
  for (const value of VALUES) {
    const email = `${value}@evil.example`;
    assert.equal(settled('invitation email', email, await submit(page, invite, { email }, 'Invite')), false);
  }
  for (const email of [MEMBER.email, PENDING]) {
    assert.equal(await submit(page, invite, { email }, 'Invite'), 200, `inviting ${email}`);
  }
  await page.locator('#invite-status').waitFor();
  for (const refusal of refusals) t.diagnostic(refusal);
});

test('the invited member: the invitation, the consent page, Connected apps', { timeout: TIMEOUT }, async () => {
  const member = await person();
  data.member = member;
  const { page } = member;
  await page.goto(server.base + '/signup');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(MEMBER.email);
  await page.getByLabel('Your name').fill(MEMBER.name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(server.base + '/apps');

  const header = [MEMBER.name, MEMBER.email];
  await visit(member, '/apps', { title: 'Apps', shows: [...header, MEMBER_TENANT, ADMIN.name, TENANT] });
  await page.getByRole('button', { name: `Accept the invitation to ${TENANT}`, exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Invitation accepted' }).waitFor();
  await visit(member, '/apps', { title: 'Apps', shows: [...header, MEMBER_TENANT, TENANT] });

  // The app sends the member to the authorization endpoint; the consent page names the app,
  // its tenant, each scope with its description, and the tenants the member may act in.
  await page.goto(authorizeUrl());
  await page.waitForURL((url) => url.pathname === '/consent');
  const consent = new URL(page.url());
  const scopes = CATALOGUE.flatMap((s) => [s.name, s.description]);
  await visit(member, consent.pathname + consent.search, { title: 'Allow access', shows: [MAIN_NAME, TENANT, MEMBER_TENANT, ...scopes] });
  await page.getByRole('button', { name: 'Allow', exact: true }).click();
  await page.waitForURL((url) => url.href.startsWith(callback.url + '?'));

  const connected = [MAIN_NAME, TENANT, ...CATALOGUE.map((s) => s.name)];
  await visit(member, '/connected', { title: 'Connected apps', shows: [...header, ...connected] });
  // The Revoke dialog, rendered by the WASM.
  await page.locator(`tr[data-client-id="${data.main.client_id}"]`).getByRole('link', { name: /^Revoke/ }).click();
  await page.getByRole('dialog').waitFor();
  await judgeLive(member, '/connected, Revoke dialog', { title: 'Connected apps', shows: [`Revoke ${MAIN_NAME}?`] }, server.base + '/connected');
  await page.keyboard.press('Escape');
  await visit(member, `/connected/${data.main.client_id}/revoke`, { title: 'Revoke access', shows: [`Revoke ${MAIN_NAME}?`] });
});

test("the admin's pages: apps, each tab, the confirm pages, Settings", { timeout: TIMEOUT }, async () => {
  const admin = data.admin;
  const { page } = admin;
  const header = [ADMIN.name, ADMIN.email];
  const main = `/apps/${data.main.client_id}`;
  await visit(admin, '/apps', { title: 'Apps', shows: [...header, TENANT, MAIN_NAME, ...APP_NAMES] });

  const tabs = {
    basic: [MAIN_DESCRIPTION, data.main.callback_url],
    oauth: [...data.secrets.map((s) => s.description), ...CATALOGUE.map((s) => s.name)],
    roles: [...CATALOGUE.map((r) => r.name), ...data.audiences],
    activity: [`${ADMIN.name} <${ADMIN.email}>`],
  };
  for (const [tab, shows] of Object.entries(tabs)) {
    await visit(admin, `${main}?tab=${tab}`, { title: MAIN_NAME, shows: [...header, MAIN_NAME, ...shows] });
  }
  // The description's box holds exactly what was stored, and the one form is the page's own.
  await page.goto(`${server.base}${main}?tab=basic`);
  await waitForHydration(page);
  assert.equal(await page.locator('#app-description').inputValue(), MAIN_DESCRIPTION);
  assert.equal(await page.locator('#app-name').inputValue(), MAIN_NAME);
  assert.equal(await page.getByRole('button', { name: 'Save changes' }).count(), 1);
  for (const app of data.apps) {
    await visit(admin, `/apps/${app.client_id}`, { title: app.name, shows: [app.name] });
    assert.equal(await page.locator('#app-description').inputValue(), app.name);
  }
  await visit(admin, `${main}/delete`, { title: 'Delete app', shows: [MAIN_NAME] });
  for (const [i, secret] of data.secrets.entries()) {
    const action = i % 2 === 0 ? 'refresh' : 'delete';
    await visit(admin, `${main}/secrets/${secret.id}/${action}`, {
      title: action === 'refresh' ? 'Refresh secret' : 'Delete secret',
      shows: [secret.description],
    });
  }
  await visit(admin, '/settings', {
    title: 'Settings',
    shows: [...header, MEMBER.name, MEMBER.email, PENDING, TENANT, data.audience, ...CATALOGUE.flatMap((e) => [e.name, e.description])],
  });

  // Rendered in the browser rather than by the server: client-side navigation from the list
  // to the app, its tabs, and the dialogs that show a secret's description or the app's name.
  await page.goto(server.base + '/apps');
  await waitForHydration(page);
  await page.getByRole('link', { name: MAIN_NAME, exact: true }).click();
  await page.waitForURL(server.base + main);
  await page.locator('#app-description').waitFor();
  await judgeLive(admin, `${main} (client-side)`, { title: MAIN_NAME, shows: [MAIN_NAME, MAIN_DESCRIPTION] }, server.base + main);
  await page.getByRole('link', { name: 'Delete app…' }).click();
  await page.getByRole('dialog').waitFor();
  await judgeLive(admin, `${main}, Delete app dialog`, { title: MAIN_NAME, shows: [MAIN_NAME] }, server.base + main);
  await page.keyboard.press('Escape');
  await page.getByRole('link', { name: 'OAuth & access scopes' }).click();
  await page.waitForURL(`${server.base}${main}?tab=oauth`);
  await page.locator('table.secrets').waitFor();
  for (const [i, secret] of data.secrets.entries()) {
    const row = page.locator(`tr[data-secret="${secret.prefix}"]`);
    await row.getByRole('link', { name: i % 2 === 0 ? 'Refresh' : 'Delete', exact: true }).click();
    await page.getByRole('dialog').waitFor();
    await judgeLive(admin, `${main}?tab=oauth, dialog for secret ${i}`, { title: MAIN_NAME, shows: [secret.description] }, `${server.base}${main}?tab=oauth`);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
  }
});

test('someone not signed in: the authorization error page names the app', { timeout: TIMEOUT }, async () => {
  const stranger = await person();
  const url = new URL(authorizeUrl({ prompt: 'none' }));
  assert.equal(url.origin, server.base);
  await visit(stranger, url.pathname + url.search, { title: 'Cannot sign you in', status: 400, shows: [MAIN_NAME] });
  assert.deepEqual(strays, []);
  assert.deepEqual(dialogs, []);
});
