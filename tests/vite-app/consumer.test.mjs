// The packed package installed into a fresh Vite app: it builds, is served on
// loopback, and in headless Chromium two pages join, publish and subscribe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('.', import.meta.url));
const SERVER = process.env.EMEDIA_TEST_SERVER ?? 'http://127.0.0.1:8080';
let browser;
let site;

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

before(async () => {
  // npm pack the built package, install the tarball here, and build the app.
  const pkg = join(here, '../../pkg');
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', here], { cwd: pkg, encoding: 'utf8' }).trim().split('\n').pop();
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', join(here, tgz)], { cwd: here, stdio: 'inherit' });
  execFileSync('npx', ['vite', 'build'], { cwd: here, stdio: 'inherit' });
  // Serve dist/ on a free loopback port.
  site = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const file = join(here, 'dist', path === '/' ? 'index.html' : path);
    const body = await readFile(file).catch(() => null);
    if (body === null) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  });
});

after(async () => {
  await browser?.close();
  site?.close();
});

test('a Vite app built on the npm package joins, publishes and subscribes', async () => {
  const url = `http://127.0.0.1:${site.address().port}/?server=${encodeURIComponent(SERVER)}`;
  const open = async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(url);
    await page.locator('#status', { hasText: 'ready' }).waitFor();
    return page;
  };
  const room = `vite${Date.now()}`;
  const [a, b] = [await open(), await open()];
  const confr = await a.evaluate((room) => window.app.join('vitea', room), room);
  assert.equal(await b.evaluate((room) => window.app.join('viteb', room), room), confr);
  const id = await a.evaluate(() => window.app.publish());
  await b.waitForFunction((id) => window.added.includes(id), id);
  await b.evaluate((id) => window.app.watch(id), id);
  await b.waitForFunction(() => document.getElementById('remote').videoWidth > 0, null, { timeout: 15000 });
});
