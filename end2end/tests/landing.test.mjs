import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, startServer, takeHydrationFailures, waitForHydration, watchConsole } from '../support.mjs';

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

test('the landing page hydrates and calls a server function, with a clean console', async () => {
  const page = await browser.newPage();
  const problems = watchConsole(page);
  const response = await page.goto(server.base + '/');
  assert.equal(response.status(), 200);
  assert.equal(await page.locator('h1').textContent(), 'Keyport');

  await waitForHydration(page);
  const button = page.getByRole('button', { name: 'Check server status' });
  await button.click();
  await page.getByText('Database (sqlite) ready').waitFor({ timeout: 10_000 });

  assert.deepEqual(problems, [], 'no console errors or hydration warnings');
  await page.close();
});

test('an unknown address shows the 404 page inside the layout', async () => {
  const page = await browser.newPage();
  const problems = watchConsole(page);
  const response = await page.goto(server.base + '/definitely/not/here');
  assert.equal(response.status(), 404);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Back to the start page' }).click();
  await page.getByRole('heading', { name: 'Keyport' }).waitFor();
  assert.deepEqual(problems.filter((p) => !p.includes('404')), [], 'no console errors besides the 404 itself');
  await page.close();
});

test('a page whose code chunk is gone (the server was upgraded meanwhile) is loaded from the server', async () => {
  const page = await browser.newPage();
  // A tab opened before an upgrade asks for the old release's chunk names, which 404 now.
  await page.route('**/pkg/split___sign_in_route*', (route) => route.fulfill({ status: 404, body: 'gone' }));
  await page.goto(server.base + '/');
  await waitForHydration(page);

  const fullLoads = [];
  page.on('request', (req) => { if (req.isNavigationRequest()) fullLoads.push(req.url()); });
  await page.getByRole('navigation').getByRole('link', { name: 'Sign in' }).click();
  await page.waitForURL(server.base + '/signin');
  await page.getByRole('heading', { name: 'Sign in to Keyport' }).waitFor();

  // The reloaded page's chunk still 404s, so it aborts too, and must not reload again.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.deepEqual(fullLoads, [server.base + '/signin']);
  // Each abort is a failed chunk load (the panic, then the trap), and nothing else.
  const failures = takeHydrationFailures();
  assert.ok(failures.length >= 2, failures.join('\n'));
  for (const failure of failures) {
    assert.match(failure, /load callback should succeed|RuntimeError: unreachable/);
  }
  await page.close();
});
