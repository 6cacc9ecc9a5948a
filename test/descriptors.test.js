'use strict';
// Descriptor exhaustion: the echo server under a lowered `ulimit -n` (EMFILE on accept) and a
// raised one (descriptors past FD_SETSIZE), as a black box; and AcceptGuard, which does the work,
// on its own with a spare source that can be made to fail.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');

const { cli, killStarted, client } = require('./helpers/programs');
const { fdCount, cpuSeconds, settle } = require('./helpers/procfs');
const { sr, Opened, listener } = require('./helpers/sockets');
const { AcceptGuard } = require('../lib/programs/support/accept-guard');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The echo server under `ulimit -n limit`, started through bash so that the limit is the child's. */
const limited = new Set(); // children of startLimited() still running: killed after each test
function startLimited(limit, args = []) {
  const child = spawn('bash', ['-c', `ulimit -n ${limit} && exec "$0" "$@"`, process.execPath, cli, 'echo-server',
    '--port', '0', '--quiet', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { child, output: '', port: 0 };
  limited.add(child);
  server.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    limited.delete(child);
    resolve({ code, signal });
  }));
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (text) => { server.output += text; });
  }
  server.count = (re) => server.output.split('\n').filter((l) => re.test(l)).length;
  // Its stderr reaches us on its own schedule, possibly after the sockets' news: wait for a line.
  server.said = async (re, ms = 5000) => {
    const until = Date.now() + ms;
    while (server.count(re) === 0 && Date.now() < until) await sleep(20);
    return server.count(re);
  };
  server.stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return server.exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready:\n${server.output}`)), 10000);
    child.on('exit', () => reject(new Error(`exited before it was ready:\n${server.output}`)));
    const check = () => {
      const m = server.output.match(/starting up on \S+ port (\d+)/);
      if (!m) return;
      clearTimeout(timer);
      server.port = Number(m[1]);
      resolve(server);
    };
    child.stderr.on('data', check);
  });
}

/**
 * The server's descriptor count once it is in its loop: "starting up" is said before the signal
 * pipe is made, so the count is read after one client has come and gone.
 */
async function baseline(server) {
  const c = await client(server.port);
  assert.equal(await c.echo('warm-up'), 'warm-up');
  c.close();
  await sleep(100);
  return fdCount(server.child.pid);
}

describe('descriptor exhaustion', function () {
  this.timeout(60000);
  afterEach(() => {
    killStarted();
    // A test that failed before stopping its server must not leave it running (mocha would wait).
    for (const child of limited) child.kill('SIGKILL');
  });

  it('EMFILE under ulimit -n 64: no spin, no crash, one line per burst, accepting again once clients leave', async () => {
    const server = await startLimited(64);
    const pid = server.child.pid;
    const startFds = await baseline(server);
    try {
      // Most of what is left of the 64, each served.
      const keepers = [];
      for (let i = 0; i < 30; i++) keepers.push(await client(server.port));
      for (const [i, k] of keepers.entries()) assert.equal(await k.echo(`keeper ${i}`), `keeper ${i}`);

      // A burst far past the limit: some fit, the rest are accepted and closed at once.
      const burst = await Promise.all(Array.from({ length: 80 }, () => client(server.port)));
      const answers = await Promise.all(burst.map((c, i) => c.echo(`burst ${i}`, 5000)));
      const served = answers.filter((a, i) => a === `burst ${i}`).length;
      const refused = burst.filter((c) => c.ended).length;
      assert.equal(served + refused, 80, `${served} served, ${refused} closed, of 80`);
      assert.ok(refused > 0 && served > 0, `${served} served, ${refused} closed`);
      assert.equal(await server.said(/^out of descriptors \(EMFILE\): closing new connections until some are free$/), 1,
        server.output);

      // It does not spin while at the limit, with connections arriving (100 more in 1 s).
      const cpu0 = cpuSeconds(pid);
      const more = [];
      for (let i = 0; i < 10; i++) {
        more.push(...(await Promise.all(Array.from({ length: 10 }, () => client(server.port).catch(() => null)))));
        await sleep(100);
      }
      const cpu = cpuSeconds(pid) - cpu0;
      assert.ok(cpu < 0.5, `the server used ${cpu.toFixed(2)} s of CPU in ~1 s at the descriptor limit`);
      for (const c of more) if (c) assert.equal(await c.echo('x', 2000), null, 'a client past the limit is closed');
      assert.equal(server.count(/^out of descriptors/), 1, 'still one line for the burst');

      // The ones it kept are still served, every one.
      for (const [i, k] of keepers.entries()) assert.equal(await k.echo(`again ${i}`), `again ${i}`);

      // Clients leave; the server accepts again, says so once, and serves newcomers.
      for (const k of keepers.splice(0, 10)) k.close();
      await sleep(200);
      const late = await client(server.port);
      assert.equal(await late.echo('after the burst'), 'after the burst');
      assert.equal(await server.said(/^accepting again: \d+ connections were closed while out of descriptors \(EMFILE\)$/), 1,
        server.output);
      for (const c of [...keepers, ...burst, ...more, late]) if (c) c.close();
      const endFds = await settle(() => fdCount(pid), startFds);
      assert.equal(endFds, startFds, `descriptors back to where they started: ${require('node:fs').readdirSync(`/proc/${pid}/fd`).map((fd) => { try { return require('node:fs').readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return '?'; } }).join(' ')}`);
    } finally {
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
    }
  });

  for (const [loop, args] of [['the select() loop', []], ['--selector select', ['--selector', 'select']]]) it(
    `${loop}: a descriptor past FD_SETSIZE (ulimit -n 2048) is closed with a line, even with --quiet, and everyone else is served`, async () => {
    const server = await startLimited(2048, args);
    const pid = server.child.pid;
    const startFds = await baseline(server);
    const clients = [];
    try {
      // Enough to take every descriptor below FD_SETSIZE (1024) and then some.
      const want = sr.FD_SETSIZE - startFds + 40;
      for (let i = 0; i < want; i += 100) {
        clients.push(...(await Promise.all(Array.from({ length: Math.min(100, want - i) }, () => client(server.port)))));
      }
      const answers = await Promise.all(clients.map((c, i) => c.echo(`c${i}`, 5000)));
      const served = answers.filter((a, i) => a === `c${i}`).length;
      const refused = clients.filter((c) => c.ended).length;
      const pastLine = /^closing \('127\.0\.0\.1', \d+\): descriptor \d+ is past FD_SETSIZE$/;
      await server.said(pastLine);
      await sleep(200); // the last of those lines, too
      const lines = server.count(pastLine);
      assert.equal(served + refused, clients.length);
      assert.ok(refused >= 30, `${refused} refused`);
      assert.equal(lines, refused, 'one line per refused connection');
      assert.equal(fdCount(pid), startFds + served, 'only the served ones hold a descriptor');

      // Clients leave: a newcomer gets a descriptor below FD_SETSIZE and is served.
      for (const c of clients.splice(0, 5)) c.close();
      await sleep(200);
      const late = await client(server.port);
      clients.push(late);
      assert.equal(await late.echo('below the line'), 'below the line');
    } finally {
      for (const c of clients) c.close();
    }
    assert.equal(await settle(() => fdCount(pid), startFds), startFds);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
});

describe('AcceptGuard', () => {
  const opened = new Opened();
  afterEach(() => opened.closeAll());

  function recorder() {
    const lines = [];
    const warn = (format, ...args) => {
      let i = 0;
      lines.push(format.replace(/%s/g, () => String(args[i++])));
    };
    return [lines, warn];
  }

  it('sheds every waiting connection with the spare, takes the spare back, and says so once per burst', () => {
    const [server, port] = listener(opened);
    server.setblocking(false);
    let open = 0;
    let closed = 0;
    const source = { open: () => ++open + 1000, close: () => { closed++; } };
    const [lines, warn] = recorder();
    const guard = new AcceptGuard(server, warn, source);
    assert.equal(open, 1, 'the spare is taken at once');
    const waiting = Array.from({ length: 5 }, () => opened.add(sr.create_connection(['127.0.0.1', port])));
    const inputs = [server];
    const err = new sr.SocketError('accept EMFILE: Too many open files', sr.errno.EMFILE, 'EMFILE', 'accept');
    assert.equal(guard.exhausted(err, inputs), true);
    assert.deepEqual([open, closed], [2, 1], 'closed the spare, then took it back');
    assert.equal(guard.paused, false);
    assert.deepEqual(inputs, [server]);
    assert.equal(guard.timeout(), null);
    for (const c of waiting) assert.equal(c.recv(10).length, 0, 'each waiting client sees its connection closed');
    assert.throws(() => server.accept(), sr.BlockingIOError, 'the backlog is empty');
    assert.equal(guard.exhausted(err, inputs), true);
    assert.deepEqual([open, closed], [3, 2]);
    assert.equal(lines.length, 1);
    assert.equal(lines[0], 'out of descriptors (EMFILE): closing new connections until some are free');
    guard.accepted();
    guard.accepted();
    assert.deepEqual(lines.slice(1), ['accepting again: 5 connections were closed while out of descriptors (EMFILE)']);
    assert.equal(guard.exhausted(new sr.ConnectionAbortedError('x', sr.errno.ECONNABORTED, 'ECONNABORTED', 'accept'), inputs), false);
    assert.equal(guard.exhausted(new TypeError('x'), inputs), false);
    guard.close();
    assert.equal(closed, 3);
  });

  it('without a spare, takes the listener out of inputs for a while and gives select() a timeout', () => {
    const [server] = listener(opened);
    let now = 1000;
    let opens = 0;
    const source = { open: () => { opens++; throw new Error('EMFILE'); }, close: () => assert.fail('no spare to close') };
    const [lines, warn] = recorder();
    const guard = new AcceptGuard(server, warn, source, 250, () => now);
    const other = opened.add(sr.socket());
    const inputs = [server, other];
    const err = new sr.SocketError('accept ENFILE', sr.errno.ENFILE, 'ENFILE', 'accept');
    assert.equal(guard.exhausted(err, inputs), true);
    assert.deepEqual(inputs, [other], 'the listener left inputs');
    assert.equal(guard.paused, true);
    assert.equal(guard.timeout(), 0.25);
    now += 100;
    assert.equal(guard.timeout(), 0.15);
    guard.resume(inputs);
    assert.deepEqual(inputs, [other], 'not before the pause is over');
    now += 150;
    assert.equal(guard.timeout(), 0);
    guard.resume(inputs);
    assert.deepEqual(inputs, [server, other], 'back, first, as in the Python loop');
    assert.equal(guard.paused, false);
    assert.equal(guard.timeout(), null);
    assert.equal(opens, 2, 'tried for a spare again when the pause ended');
    assert.deepEqual(lines, ['out of descriptors (ENFILE): closing new connections until some are free',
      'no spare descriptor: not accepting for 250 ms']);
  });

  it('pauses a selector loop\'s listener with its unwatch() and watch(): unregistered, then registered again', () => {
    const [server] = listener(opened);
    let now = 0;
    const source = { open: () => { throw new Error('EMFILE'); }, close: () => assert.fail('no spare to close') };
    const guard = new AcceptGuard(server, () => {}, source, 250, () => now);
    const calls = [];
    const watch = { unwatch: () => calls.push('unwatch'), watch: () => calls.push('watch') };
    const err = new sr.SocketError('accept EMFILE', sr.errno.EMFILE, 'EMFILE', 'accept');
    assert.equal(guard.exhausted(err, watch), true);
    assert.equal(guard.exhausted(err, watch), true, 'a second failure in the same pause');
    assert.deepEqual(calls, ['unwatch'], 'unwatched once');
    guard.resume(watch);
    assert.deepEqual(calls, ['unwatch'], 'not before the pause is over');
    now += 250;
    guard.resume(watch);
    guard.resume(watch);
    assert.deepEqual(calls, ['unwatch', 'watch'], 'watched again once');
    assert.equal(guard.paused, false);
  });
});
