// The soak test of issue 26 item 4: the release binary, 64 connections for five minutes
// (KEYPORT_SOAK_SECONDS), half rendering signed-in portal pages and half issuing tokens, every
// request under a timeout. It passes only if every request is answered, and answered as it
// should be: a future that is never woken shows here as a request that times out.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, 'target');
const releaseBin = process.env.KEYPORT_RELEASE_BIN ?? join(targetDir, 'release', 'keyport');
const SOAK_SECONDS = Number(process.env.KEYPORT_SOAK_SECONDS ?? 300);
const CONNECTIONS = 64;
/** Far above any answer's time under this load; a request still open then was never answered. */
const TIMEOUT_MS = 10_000;

/** One request on `agent`'s keep-alive connections; rejects on a timeout or a network error. */
function send(agent, url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolveResponse, reject) => {
    const req = request(url, { agent, method, headers, timeout: TIMEOUT_MS }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolveResponse({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms: ${method} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

function cli(env, args, input = '') {
  const out = spawnSync(releaseBin, args, { input, env: { ...env, KEYPORT_LOG: 'warn' } });
  if (out.status !== 0) throw new Error(`keyport ${args.slice(0, 2).join(' ')} failed: ${out.stderr}`);
  return out.stdout.toString();
}

async function startRelease(t) {
  const dir = mkdtempSync(join(tmpdir(), 'keyport-soak-'));
  const env = { ...process.env, KEYPORT_DATABASE_URL: `sqlite://${join(dir, 'keyport.db')}` };
  delete env.KEYPORT_SITE_ROOT;
  const port = 20000 + Math.floor(Math.random() * 20000);
  // Warnings only: five minutes of request logs would only fill this test's memory.
  const child = spawn(releaseBin, ['serve', '--addr', `127.0.0.1:${port}`], {
    cwd: dir,
    env: { ...env, KEYPORT_LOG: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = [];
  child.stderr.on('data', (chunk) => stderr.push(chunk.toString()));
  t.after(async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ready = await send(undefined, `${base}/readyz`).catch(() => null);
    if (ready?.status === 200) break;
    assert.ok(i < 300 && child.exitCode === null, `keyport did not start: ${stderr.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, env, stderr };
}

/** The session cookie of a person signed in through the portal's own sign-in form. */
async function signIn(base, email, password) {
  const page = await send(undefined, `${base}/signin`);
  const form = page.body.match(/<form([^>]*)>([\s\S]*?)<\/form>/);
  assert.ok(form && /method="post"/.test(form[1]), 'the sign-in page has a form');
  form[1] = form[1].match(/action="([^"]+)"/)?.[1];
  assert.ok(form[1], 'the sign-in form posts somewhere');
  const fields = new URLSearchParams();
  for (const [tag] of form[2].matchAll(/<input[^>]*>/g)) {
    const attr = (name) => tag.match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];
    if (attr('type') === 'hidden' && attr('name')) fields.set(attr('name'), attr('value') ?? '');
  }
  fields.set('email', email);
  fields.set('password', password);
  const answer = await send(undefined, new URL(form[1], base).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base, accept: 'text/html' },
    body: fields.toString(),
  });
  const cookies = [answer.headers['set-cookie'] ?? []].flat().map((c) => c.split(';')[0]);
  assert.ok(cookies.length > 0, `signing in set no cookie (HTTP ${answer.status})`);
  return cookies.join('; ');
}

test('64 connections of signed-in pages and tokens for five minutes: every request is answered', { timeout: (SOAK_SECONDS + 120) * 1000 }, async (t) => {
  const { base, env, stderr } = await startRelease(t);
  const created = JSON.parse(cli(env, ['client', 'create', '--tenant', 'soak', '--create-tenant', '--name', 'soak', '--scope', 'orders:read']));
  const password = 'soak-' + Math.random().toString(36).slice(2) + '-Pw1!';
  cli(env, ['user', 'create', '--email', 'soak@example.com', '--tenant', 'soak', '--admin'], password + '\n');
  const cookie = await signIn(base, 'soak@example.com', password);
  const basic = 'Basic ' + Buffer.from(`${created.client_id}:${created.client_secret}`).toString('base64');

  const pages = ['/apps', `/apps/${created.client_id}`, `/apps/${created.client_id}?tab=oauth`, '/settings', '/connected', '/'];
  const first = await send(undefined, `${base}${pages[1]}`, { headers: { cookie } });
  assert.equal(first.status, 200, 'the signed-in app page renders');
  assert.match(first.body, /soak/);

  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  t.after(() => agent.destroy());
  const counts = { pages: 0, tokens: 0 };
  const failures = [];
  const until = Date.now() + SOAK_SECONDS * 1000;
  const pageLoop = async (i) => {
    for (let n = i; Date.now() < until && failures.length === 0; n++) {
      const path = pages[n % pages.length];
      try {
        const res = await send(agent, `${base}${path}`, { headers: { cookie } });
        if (res.status !== 200) failures.push(`${path}: HTTP ${res.status}`);
        else counts.pages++;
      } catch (err) {
        failures.push(`${path}: ${err.message}`);
      }
    }
  };
  const tokenLoop = async () => {
    while (Date.now() < until && failures.length === 0) {
      try {
        const res = await send(agent, `${base}/oauth/token`, {
          method: 'POST',
          headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials&scope=orders:read',
        });
        if (res.status !== 200 || !JSON.parse(res.body).access_token) failures.push(`token: HTTP ${res.status} ${res.body.slice(0, 200)}`);
        else counts.tokens++;
      } catch (err) {
        failures.push(`token: ${err.message}`);
      }
    }
  };
  const loops = [];
  for (let i = 0; i < CONNECTIONS / 2; i++) loops.push(pageLoop(i), tokenLoop());
  await Promise.all(loops);
  console.log(`soak: ${JSON.stringify({ seconds: SOAK_SECONDS, connections: CONNECTIONS, ...counts, failures: failures.length })}`);
  assert.deepEqual(failures.slice(0, 5), [], `requests unanswered or refused; server said: ${stderr.join('').slice(-2000)}`);
  assert.ok(counts.pages > 0 && counts.tokens > 0);
});
