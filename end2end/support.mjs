// Shared by the browser tests: start a real `keyport serve` on a fresh SQLite database and a
// headless Debian Chromium driven by playwright-core (no browser download).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach } from 'node:test';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, 'target');

export const keyportBin = process.env.KEYPORT_BIN ?? join(targetDir, 'debug', 'keyport');
export const siteRoot = process.env.KEYPORT_SITE_ROOT ?? join(root, 'target', 'site');

/**
 * Starts keyport on a free port; resolves once it logs that it listens. `bin` and `cwd` run
 * another build from another directory; `builtInAssets` drops `--site-root`.
 */
export async function startServer({ databaseUrl, bin = keyportBin, cwd, builtInAssets = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'keyport-e2e-'));
  const url = databaseUrl ?? `sqlite://${join(dir, 'keyport.db')}`;
  const args = ['serve', '--addr', '127.0.0.1:0', ...(builtInAssets ? [] : ['--site-root', siteRoot])];
  const env = { ...process.env, KEYPORT_DATABASE_URL: url, KEYPORT_LOG_FORMAT: 'json', KEYPORT_LOG: 'info' };
  if (builtInAssets) delete env.KEYPORT_SITE_ROOT;
  const child = spawn(bin, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const logs = [];
  const base = await new Promise((resolveBase, reject) => {
    const timer = setTimeout(() => reject(new Error(`keyport did not start:\n${logs.join('\n')}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`keyport exited with ${code}:\n${logs.join('\n')}`)));
    createInterface({ input: child.stderr }).on('line', (line) => {
      logs.push(line);
      try {
        const event = JSON.parse(line);
        if (event.message === 'keyport listening') {
          clearTimeout(timer);
          resolveBase(`http://${event.addr}`);
        }
      } catch {
        // not JSON: a panic message or similar, kept in `logs` for the failure report
      }
    });
  });
  return {
    base,
    logs,
    databaseUrl: url,
    /** Runs a `keyport` command against this server's database; its JSON output. */
    cli(args, input = '') {
      const out = spawnSync(bin, args, {
        input,
        env: { ...process.env, KEYPORT_DATABASE_URL: url, KEYPORT_LOG: 'warn' },
      });
      if (out.status !== 0) throw new Error(`keyport ${args.slice(0, 2).join(' ')} failed: ${out.stderr}`);
      return JSON.parse(out.stdout.toString());
    },
    /** `keyport user create` against this server's database. */
    createUser(email, password, extraArgs = []) {
      return this.cli(['user', 'create', '--email', email, ...extraArgs], password + '\n');
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  // Every page any test opens is watched for hydration failures (see watchHydration).
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args) => {
    const context = await newContext(...args);
    context.on('page', watchHydration);
    return context;
  };
  const newPage = browser.newPage.bind(browser);
  browser.newPage = async (...args) => {
    const page = await newPage(...args);
    watchHydration(page);
    return page;
  };
  return browser;
}

// What the WASM prints when it cannot take over a server-rendered page: a Rust panic (debug
// builds name the hydration error; release builds trap with `unreachable`).
const HYDRATION_FAILURE = /panicked|unreachable|hydration error|RuntimeError/i;
const failedHydrations = [];
const hydrationFailed = new WeakMap();

function watchHydration(page) {
  if (hydrationFailed.has(page)) return;
  let fail;
  hydrationFailed.set(page, new Promise((resolve) => { fail = resolve; }));
  const record = (text, always = false) => {
    if (!always && !HYDRATION_FAILURE.test(text)) return;
    const line = `${page.url()}: ${text.split('\n').slice(0, 3).join(' | ')}`;
    failedHydrations.push(line);
    fail(line);
  };
  page.on('console', (msg) => {
    // Debug builds also warn of what leads to mismatches (a resource read outside Suspense).
    if (msg.type() === 'error') record(msg.text());
    else if (msg.type() === 'warning' && /hydrat/i.test(msg.text())) record(msg.text(), true);
  });
  page.on('pageerror', (err) => record(`${err.name}: ${err.message}`));
}

/** The hydration failures seen since the last call, which forgets them. */
export function takeHydrationFailures() {
  return failedHydrations.splice(0, failedHydrations.length);
}

// A hydration panic anywhere fails the test that saw it, whatever that test asserts itself.
afterEach(() => {
  const failures = takeHydrationFailures();
  if (failures.length > 0) {
    throw new Error(`the WASM failed to hydrate ${failures.length} time(s):\n${failures.join('\n')}`);
  }
});

/** Collects console errors, warnings and uncaught exceptions of a page. */
export function watchConsole(page) {
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  return problems;
}

/** Resolves once the WASM bundle has hydrated the page (our components mark it); fails at once
 * if hydration panicked instead of waiting for a marker that will never come. */
export async function waitForHydration(page) {
  const failed = hydrationFailed.get(page);
  const hydrated = page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
  if (!failed) return hydrated;
  hydrated.catch(() => {}); // when the failure wins, the marker's wait times out unheard
  const failure = failed.then((line) => { throw new Error(`hydration failed: ${line}`); });
  failure.catch(() => {}); // a failure after hydration is the afterEach hook's to report
  await Promise.race([hydrated, failure]);
}
