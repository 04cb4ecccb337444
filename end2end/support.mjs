// Shared by the browser tests: start a real `keyport serve` on a fresh SQLite database and a
// headless Debian Chromium driven by playwright-core (no browser download).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, 'target');

export const keyportBin = process.env.KEYPORT_BIN ?? join(targetDir, 'debug', 'keyport');
export const siteRoot = process.env.KEYPORT_SITE_ROOT ?? join(root, 'target', 'site');

/** Starts keyport on a free port; resolves once it logs that it listens. */
export async function startServer({ databaseUrl } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'keyport-e2e-'));
  const url = databaseUrl ?? `sqlite://${join(dir, 'keyport.db')}`;
  const child = spawn(keyportBin, ['serve', '--addr', '127.0.0.1:0', '--site-root', siteRoot], {
    env: { ...process.env, KEYPORT_DATABASE_URL: url, KEYPORT_LOG_FORMAT: 'json', KEYPORT_LOG: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
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
    /** `keyport user create` against this server's database. */
    createUser(email, password, extraArgs = []) {
      const out = spawnSync(keyportBin, ['user', 'create', '--email', email, ...extraArgs], {
        input: password + '\n',
        env: { ...process.env, KEYPORT_DATABASE_URL: url, KEYPORT_LOG: 'warn' },
      });
      if (out.status !== 0) throw new Error(`user create failed: ${out.stderr}`);
      return JSON.parse(out.stdout.toString());
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
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
}

/** Collects console errors, warnings and uncaught exceptions of a page. */
export function watchConsole(page) {
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  return problems;
}

/** Resolves once the WASM bundle has hydrated the page (our components mark it). */
export async function waitForHydration(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
}
