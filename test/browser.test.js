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
});
