// The portal on the wire: the release binary alone in an empty directory, its landing page's
// CSS + JS + WASM as a browser downloads them (brotli), and Lighthouse's performance score on
// the desktop profile (median of runs) against Debian's Chromium. Prints one JSON line.
//
// Usage: node bench/portal.mjs [--runs N]   (KEYPORT_RELEASE_BIN: binary, default target/release)
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import desktopConfig from 'lighthouse/core/config/desktop-config.js';
import { startServer } from '../end2end/support.mjs';

const root = resolve(import.meta.dirname, '..');
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, 'target');
const releaseBin = process.env.KEYPORT_RELEASE_BIN ?? join(targetDir, 'release', 'keyport');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;

function wireBytes(url) {
  return new Promise((done, fail) => {
    const req = request(url, { headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      res.on('end', () => done({ bytes, encoding: res.headers['content-encoding'] ?? 'identity' }));
    });
    req.on('error', fail);
    req.end();
  });
}

function pageText(url) {
  return fetch(url).then((r) => r.text());
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const binDir = mkdtempSync(join(tmpdir(), 'keyport-bin-'));
const cwd = mkdtempSync(join(tmpdir(), 'keyport-cwd-'));
const bin = join(binDir, 'keyport');
copyFileSync(releaseBin, bin);
chmodSync(bin, 0o755);
const server = await startServer({ bin, cwd, builtInAssets: true, databaseUrl: `sqlite://${join(cwd, 'keyport.db')}` });
let chrome;
try {
  const html = await pageText(`${server.base}/`);
  // What the page links, and what the browser fetched to show and hydrate it (the lazy pages'
  // loader module is imported by the main script, not linked), each measured with brotli.
  const assets = new Set([...html.matchAll(/"(\/pkg\/[^"]+)"/g)].map((m) => m[1]));

  chrome = await chromeLauncher.launch({
    chromePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu'],
  });
  const scores = [];
  const lcps = [];
  const tbts = [];
  for (let i = 0; i < runs; i++) {
    const result = await lighthouse(`${server.base}/`, { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: ['performance'] }, desktopConfig);
    const lhr = result.lhr;
    scores.push(Math.round(lhr.categories.performance.score * 100));
    lcps.push(lhr.audits['largest-contentful-paint'].numericValue);
    tbts.push(lhr.audits['total-blocking-time'].numericValue);
    for (const { url } of lhr.audits['network-requests'].details.items) {
      const path = new URL(url).pathname;
      if (url.startsWith(server.base) && path.startsWith('/pkg/')) assets.add(path);
    }
  }
  const sizes = {};
  for (const path of assets) {
    const measured = await wireBytes(`${server.base}${path}`);
    const kind = path.split('.').pop();
    sizes[kind] = { bytes: (sizes[kind]?.bytes ?? 0) + measured.bytes, encoding: measured.encoding };
  }
  const firstVisit = Object.values(sizes).reduce((sum, s) => sum + s.bytes, 0);
  console.log(JSON.stringify({
    first_visit_bytes: firstVisit,
    css_bytes: sizes.css?.bytes,
    js_bytes: sizes.js?.bytes,
    wasm_bytes: sizes.wasm?.bytes,
    encoding: sizes.wasm?.encoding,
    lighthouse_performance: median(scores),
    lighthouse_scores: scores,
    lcp_ms: Math.round(median(lcps)),
    tbt_ms: Math.round(median(tbts)),
  }));
} finally {
  if (chrome) await chrome.kill();
  await server.stop();
  rmSync(binDir, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
}
