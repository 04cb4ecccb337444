import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, startServer, waitForHydration, watchConsole } from '../support.mjs';

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
