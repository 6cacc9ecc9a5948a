'use strict';
// The live view in a real browser: headless Debian chromium driven by playwright-core. The page
// must show a connection and a message after one click on "Open a test client". .ci/run installs
// chromium where it is missing; only where it cannot be had does this test skip, and says why.
const assert = require('node:assert/strict');
const fs = require('node:fs');

const { startProgram, killStarted } = require('./helpers/programs');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Without the background-networking flags, chromium keeps trying to reach Google's hosts, which a
// closed network refuses.
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

describe('the live view in headless chromium', function () {
  this.timeout(90000);
  let browser;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      console.log(`      (skipped: no chromium at ${CHROMIUM}; .ci/run installs it with apt-get install chromium)`);
      this.skip();
    }
    const { chromium } = require('playwright-core');
    // playwright gives the browser a new, empty profile of its own, and removes it on close.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  });
  after(async () => {
    if (browser) await browser.close();
    killStarted();
  });

  it('shows a test client connecting, its message arriving, and the lists of each select() call', async () => {
    const server = await startProgram('echo-server', ['--ui', '0']);
    const ui = Number((await server.waitFor(/live view on http:\/\/localhost:(\d+)\//))[1]);
    const page = await browser.newPage({ viewport: { width: 1200, height: 660 } });
    try {
      await page.goto(`http://127.0.0.1:${ui}/`);
      await page.locator('#status', { hasText: 'live' }).waitFor();
      await page.click('#open');
      // A connection: the test client in the clients table, and the connection in the log.
      const row = page.locator('#clients tr.client');
      await row.first().waitFor();
      const name = (await row.first().locator('td').first().textContent()).trim();
      assert.match(name, /^127\.0\.0\.1:\d+$/);
      const log = page.locator('#log');
      await log.getByText(`connected: ${name}`).waitFor();
      // A message: the server received it, and the test client got its echo back.
      const port = name.split(':')[1];
      await log.getByText(`received "b'hello from the browser\\n'" from ('127.0.0.1', ${port})`).waitFor();
      await log.getByText(`test client ${name} got back b'hello from the browser\\n'`).waitFor();
      // And a line typed into the page goes the same way.
      await page.fill('.testclient input', 'typed in the page');
      await page.click('.testclient button:text("send")');
      await log.getByText(`test client ${name} got back b'typed in the page\\n'`).waitFor();
      // The last select() call is drawn: the client is among the inputs going in.
      assert.match(await page.locator('#inputs').textContent(), new RegExp(`listener.*${name.replace(/\./g, '\\.')}`));
      if (process.env.SR_SCREENSHOT) await page.screenshot({ path: process.env.SR_SCREENSHOT });
    } finally {
      await page.close();
    }
    assert.deepEqual(await server.stop('SIGINT'), { code: 0, signal: null });
  });

  describe('the lab', () => {
    /** The page of a fresh echo server (args after --ui 0), live. */
    async function open(args = []) {
      const server = await startProgram('echo-server', ['--quiet', '--ui', '0', ...args]);
      const ui = Number((await server.waitFor(/live view on http:\/\/localhost:(\d+)\//))[1]);
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const errors = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`http://127.0.0.1:${ui}/`);
      await page.locator('#status', { hasText: 'live' }).waitFor();
      return { server, page, errors };
    }

    /** The call the loop is paused before, as the page says it. */
    async function pausedBefore(page) {
      const m = /^paused before select\(\) #(\d+)$/.exec(await page.locator('#labstate').textContent());
      return m ? Number(m[1]) : null;
    }

    /** Space: paused, and the page says before which call. */
    async function pause(page) {
      await page.keyboard.press('Space');
      await page.locator('#labstate', { hasText: /^paused before select\(\) #\d+$/ }).waitFor();
      return pausedBefore(page);
    }

    /** One key press, one select(): the page shows that call and pauses before the next. */
    async function step(page, key = 's') {
      const next = await pausedBefore(page);
      const columns = await page.locator('#timeline g.col').count();
      await page.keyboard.press(key);
      await page.locator('#labstate', { hasText: `paused before select() #${next + 1}` }).waitFor();
      assert.equal(await page.locator('#n').textContent(), `#${next}`, 'the call that came back');
      assert.equal(await page.locator('#timeline g.col').count(), Math.min(300, columns + 1), 'one more call on the timeline');
      return page.locator('#did').textContent();
    }

    /** Steps until what the loop did matches `re`, at most `max` times. */
    async function stepUntil(page, re, max = 80) {
      for (let i = 0; i < max; i++) {
        const did = await step(page);
        if (re.test(did)) return did;
      }
      throw new Error(`no step's account matched ${re}`);
    }

    async function close({ server, page, errors }) {
      await page.close();
      assert.deepEqual(errors, []);
      assert.deepEqual(await server.stop('SIGINT'), { code: 0, signal: null });
    }

    it('a newcomer pauses, clicks "slow reader", and steps until it leaves inputs: the page says why', async () => {
      const lab = await open(); // the default --max-queue, as `npx select-reactor echo-server --ui 8080` runs
      const { page } = lab;
      await pause(page);
      await page.click('button.scenario[data-name="slow-reader"]');
      await page.locator('#lookfor', { hasText: 'leaves inputs' }).waitFor();
      // Call by call: the first accepts it, the next ones read what it sends and queue the echo.
      assert.match(await step(page), /accepted: joins inputs/);
      for (let i = 0; i < 4; i++) assert.match(await step(page), /read [\d,]+ B and queued them in its outbox/);
      // I: steps until inputs changes: it leaves.
      const before = await pausedBefore(page);
      await page.keyboard.press('i');
      await page.locator('#did', { hasText: 'leaves inputs' }).waitFor();
      await page.locator('#labstate', { hasText: /^paused before/ }).waitFor();
      assert.ok((await pausedBefore(page)) > before + 1);
      const did = await page.locator('#did').textContent();
      assert.match(did, /leaves inputs: [\d,]+ B queued is over --max-queue \(1,048,576 B\), so the loop stops reading from it \(backpressure\) until its outbox drains to 524,288 B/);
      const name = (await page.locator('#did li.why b').textContent()).trim();
      assert.doesNotMatch(await page.locator('#next-inputs').textContent(), new RegExp(name.replace(/\./g, '\\.')));
      assert.match(await page.locator('#next-outputs').textContent(), new RegExp(name.replace(/\./g, '\\.')));
      // I: steps until inputs changes again: back at the low-water mark.
      await page.keyboard.press('i');
      await page.locator('#did', { hasText: 'back in inputs' }).waitFor();
      assert.match(await page.locator('#did').textContent(), /at or under the low-water mark \(524,288 B, half of --max-queue\)/);
      await page.locator('#scenario-phase', { hasText: 'done' }).waitFor();
      await page.click('#stopScenario');
      await page.locator('#scenario-phase', { hasText: 'stopped' }).waitFor();
      await page.keyboard.press('Space');
      await page.locator('#labstate', { hasText: 'running' }).waitFor();
      await close(lab);
    });

    it('half-close, reset and urgent byte, step by step', async () => {
      const lab = await open();
      const { page } = lab;
      await pause(page);
      await page.click('button.scenario[data-name="half-close"]');
      assert.match(await stepUntil(page, /recv\(\) returned b''/), /the peer shut down its side, so it leaves inputs; [\d,]+ B still queued/);
      assert.match(await stepUntil(page, /closed/), /outbox empty: leaves outputs.*closed: the peer is done sending/);
      await page.click('button.scenario[data-name="reset"]');
      assert.match(await stepUntil(page, /ConnectionResetError/), /recv\(\) raised ConnectionResetError/);
      await page.click('button.scenario[data-name="urgent"]');
      await stepUntil(page, /exceptional/);
      assert.match(await page.locator('#exceptional').textContent(), /^127\.0\.0\.1:\d+$/);
      await page.click('#stopScenario');
      await close(lab);
    });

    it('100 idle clients fill inputs; one left in outputs makes the loop spin', async () => {
      const lab = await open();
      const { page } = lab;
      await page.click('button.scenario[data-name="idle-100"]');
      await page.locator('#scenario-phase', { hasText: /^idle: all 100 clients in inputs/ }).waitFor({ timeout: 20000 });
      await pause(page);
      assert.equal(await page.locator('#next-inputs-count').textContent(), '(101)');
      await page.keyboard.press('Space');
      await page.click('button.scenario[data-name="spin"]');
      await page.locator('#scenario-phase', { hasText: /^spinning/ }).waitFor();
      await page.waitForFunction(() => parseInt(globalThis.document.getElementById('rate').textContent.replace(/,/g, ''), 10) > 1000);
      // The timeline shows it: most of its last calls returned at once.
      const atOnce = await page.locator('#timeline g.col rect[fill="#e0483e"]').count();
      assert.ok(atOnce > 150, `${atOnce} calls drawn as returning at once`);
      await page.click('#stopScenario');
      await close(lab);
    });

    it('the selectors loop: registered keys with their events, and stepping', async () => {
      const lab = await open(['--selector', 'poll']);
      const { page } = lab;
      assert.ok(await page.locator('#keyspanel').isVisible());
      await pause(page);
      assert.equal(await page.locator('#next-keys').textContent(), 'listener R');
      await page.click('button.scenario[data-name="half-close"]');
      await step(page);
      assert.equal(await page.locator('#ready').textContent(), 'listener R');
      const did = await stepUntil(page, /EVENT_WRITE/);
      assert.match(did, /joins EVENT_WRITE/);
      assert.match(await page.locator('#keys').textContent(), /127\.0\.0\.1:\d+ R/);
      assert.match(await page.locator('#next-keys').textContent(), /127\.0\.0\.1:\d+ RW/);
      await page.click('#stopScenario');
      await close(lab);
    });
  });
});
