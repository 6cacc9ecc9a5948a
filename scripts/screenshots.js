#!/usr/bin/env node
'use strict';
// Regenerates the docs' screenshots of the live view (docs/live-view.png and docs/lab-*.png), each
// a real echo server with --ui driven by headless chromium through playwright-core:
//
//   npm run screenshots            (or: node scripts/screenshots.js [--only NAME])
//
// CHROMIUM_PATH names the browser (default /usr/bin/chromium; `apt-get install chromium`).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'lib', 'cli.js');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** An echo server with a live view on ports of its own choosing: its process and the view's port. */
async function start(args) {
  const child = spawn(process.execPath, [cli, 'echo-server', '--port', '0', '--ui', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  child.stderr.on('data', (d) => { said += d; });
  const until = Date.now() + 10000;
  let m;
  while (!(m = /live view on http:\/\/\S+:(\d+)\//.exec(said))) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`echo-server --ui did not start: ${said}`);
    await sleep(50);
  }
  return { child, ui: Number(m[1]) };
}

/** Steps (S) until what the loop did matches `re`. */
async function stepUntil(page, re, max = 80) {
  for (let i = 0; i < max; i++) {
    const next = (await page.locator('#labstate').textContent()).replace(/\D+/g, '');
    await page.keyboard.press('s');
    await page.locator('#labstate', { hasText: `paused before select() #${Number(next) + 1}` }).waitFor();
    if (re.test(await page.locator('#did').textContent())) return;
  }
  throw new Error(`no step matched ${re}`);
}

async function paused(page, scenario) {
  await page.keyboard.press('Space');
  await page.locator('#labstate', { hasText: 'paused before' }).waitFor();
  if (scenario) {
    await page.click(`button.scenario[data-name="${scenario}"]`);
    await sleep(200);
  }
}

// Each scene: the server's arguments, and what to do in the page before the picture.
const SCENES = {
  'live-view': [['--quiet'], async (page) => {
    await page.click('#open');
    await page.locator('#log', { hasText: 'got back' }).waitFor();
    await page.fill('.testclient input', 'typed in the page');
    await page.click('.testclient button:text("send")');
    await page.locator('#log', { hasText: "got back b'typed in the page" }).waitFor();
  }],
  'lab-slow-reader': [['--quiet'], async (page) => {
    await paused(page, 'slow-reader');
    await stepUntil(page, /leaves inputs/);
  }],
  'lab-half-close': [['--quiet'], async (page) => {
    await paused(page, 'half-close');
    await stepUntil(page, /recv\(\) returned b''/);
  }],
  'lab-reset': [['--quiet'], async (page) => {
    await paused(page, 'reset');
    await stepUntil(page, /ConnectionResetError/);
  }],
  'lab-urgent': [['--quiet'], async (page) => {
    await paused(page, 'urgent');
    await stepUntil(page, /exceptional/);
  }],
  'lab-idle-100': [['--quiet'], async (page) => {
    await page.click('button.scenario[data-name="idle-100"]');
    await page.locator('#scenario-phase', { hasText: 'idle:' }).waitFor({ timeout: 20000 });
    await paused(page);
  }],
  'lab-spin': [['--quiet'], async (page) => {
    await page.click('button.scenario[data-name="spin"]');
    await page.locator('#scenario-phase', { hasText: 'spinning' }).waitFor();
    await page.waitForFunction(() => parseInt(globalThis.document.getElementById('rate').textContent.replace(/,/g, ''), 10) > 1000);
    await sleep(300);
  }],
  'lab-selectors': [['--quiet', '--selector', 'epoll'], async (page) => {
    await paused(page, 'half-close');
    await stepUntil(page, /joins EVENT_WRITE/);
  }],
};

async function main() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  const only = process.argv.indexOf('--only') >= 0 ? process.argv[process.argv.indexOf('--only') + 1] : null;
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    for (const [name, [args, act]] of Object.entries(SCENES)) {
      if (only !== null && name !== only) continue;
      const { child, ui } = await start(args);
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      try {
        await page.goto(`http://127.0.0.1:${ui}/`);
        await page.locator('#status', { hasText: 'live' }).waitFor();
        await act(page);
        await sleep(150); // a frame for the last events to be drawn
        const file = path.join(root, 'docs', `${name}.png`);
        await page.screenshot({ path: file });
        console.log(`wrote ${path.relative(root, file)}`);
      } finally {
        await page.close();
        child.kill('SIGINT');
        await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on('exit', resolve)));
      }
    }
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(`screenshots: ${err.message}`);
  process.exit(1);
});
