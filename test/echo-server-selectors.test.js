'use strict';
// echo-server --selector select|poll|epoll and --workers N, as black boxes: spawned, driven by
// Node's own net module, compared with the Python reference they mirror. One suite, run once per
// backend; then 2,000 connections on epoll, the workers sharing a port, and the open-file limit.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const { startProgram, killStarted, echoOnce, randomPayloads, cli } = require('./helpers/programs');
const { sr, closedPort } = require('./helpers/sockets');

const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : null;
const reference = path.resolve(__dirname, '../docs/python/selectors_echo_server.py');
const backends = ['select', 'poll', ...(process.platform === 'linux' ? ['epoll'] : [])];
const defaultBackend = backends.at(-1); // DefaultSelector's: epoll on Linux, else poll
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens `n` connections in batches below the listen backlog (128: a SYN past it waits a 1 s retransmit), resolving with the sockets. */
async function connectMany(port, n, batch = 100) {
  const sockets = [];
  for (let i = 0; i < n; i += batch) {
    const some = await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () =>
      new Promise((resolve, reject) => {
        const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      })));
    sockets.push(...some);
  }
  return sockets;
}

/**
 * Starts the echo server on port 0 from a shell that first runs `limit` (a ulimit command), and
 * resolves once it listens. Stopped (SIGTERM) by the test, or killed after it by killShells().
 */
const shells = new Set();
function startUnder(limit, args) {
  const child = spawn('sh', ['-c', `${limit} && exec "$0" "$@"`, process.execPath, cli, 'echo-server', '--port', '0', ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  shells.add(child);
  let output = '';
  child.stderr.setEncoding('utf8');
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    shells.delete(child);
    resolve({ code, signal });
  }));
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      output += d;
      const m = output.match(/starting up on \S+ port (\d+)/);
      if (m) resolve({ port: Number(m[1]), output: () => output, stop: () => (child.kill('SIGTERM'), exited) });
    });
    exited.then(() => reject(new Error(`exited before it was ready:\n${output}`)));
  });
}
function killShells() {
  for (const child of shells) child.kill('SIGKILL');
  shells.clear();
}

/** The CPU time (user + system, ms) a process has used so far, from /proc. */
function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // USER_HZ is 100 on Linux
}

/** The CPU time a process uses during the next `ms` milliseconds. */
async function cpuMsDuring(pid, ms) {
  const before = cpuMs(pid);
  await sleep(ms);
  return cpuMs(pid) - before;
}

/** Sends each socket its own message and resolves with how many got exactly it back. */
async function echoEach(sockets, round) {
  const results = await Promise.all(sockets.map((s, i) =>
    new Promise((resolve) => {
      const msg = `client ${i} round ${round}\n`;
      let got = '';
      const onData = (d) => {
        got += d;
        if (got.length >= msg.length) {
          s.off('data', onData);
          resolve(got === msg);
        }
      };
      s.setEncoding('utf8');
      s.on('data', onData);
      s.once('error', () => resolve(false));
      s.write(msg);
    })));
  return results.filter(Boolean).length;
}

for (const backend of backends) {
  describe(`echo-server --selector ${backend}`, function () {
    this.timeout(60000);
    let server;

    before(async () => {
      server = await startProgram('echo-server', ['--quiet', '--selector', backend]);
    });
    after(async () => {
      if (server) assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
      killStarted();
    });

    it('echoes 60 concurrent clients with distinct random payloads up to 128 KiB, byte for byte', async () => {
      const payloads = randomPayloads(60, 128 * 1024);
      const echoes = await Promise.all(payloads.map((p) => echoOnce(server.port, p)));
      echoes.forEach((echo, i) => assert.ok(echo.equals(payloads[i]), `client ${i}: ${echo.length} of ${payloads[i].length} bytes, or different`));
    });

    it('returns all of a 4 MiB stream to a client that half-closes, then closes', async () => {
      const payload = crypto.randomBytes(4 << 20);
      const echo = await echoOnce(server.port, payload, { halfClose: true, chunk: 1 << 20 });
      assert.equal(echo.length, payload.length);
      assert.ok(echo.equals(payload));
    });

    it('keeps serving everyone else when clients reset mid-stream', async () => {
      const resets = Array.from({ length: 8 }, () =>
        new Promise((resolve) => {
          const sock = net.connect(server.port, '127.0.0.1', () => {
            sock.write(crypto.randomBytes(200000));
            setTimeout(() => sock.resetAndDestroy(), 5);
          });
          sock.on('error', () => {});
          sock.on('close', resolve);
        }));
      const payloads = randomPayloads(16, 64 * 1024);
      const echoes = await Promise.all([...payloads.map((p) => echoOnce(server.port, p)), ...resets]);
      payloads.forEach((p, i) => assert.ok(echoes[i].equals(p), `client ${i}`));
      assert.equal((await echoOnce(server.port, Buffer.from('still here'))).toString(), 'still here');
    });
  });

  describe(`echo-server --selector ${backend}, as a program`, function () {
    this.timeout(30000);
    afterEach(() => killStarted());

    it('never spins: not while a peer reads nothing and bytes wait for it, not while idle', async function () {
      if (process.platform !== 'linux') this.skip(); // CPU time from /proc
      const server = await startProgram('echo-server', ['--quiet', '--selector', backend]);
      const sock = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
      await new Promise((resolve) => sock.on('connect', resolve));
      // A client that sends 16 MiB and reads nothing yet: the echo cannot all be sent, and the
      // server waits for writable, which does not come. A loop that spun would burn CPU now.
      sock.pause();
      const payload = crypto.randomBytes(16 << 20);
      sock.write(payload);
      for (let i = 0; i < 400 && sock.writableLength > 0; i++) await sleep(25);
      await sleep(200);
      const stalled = await cpuMsDuring(server.child.pid, 400);
      assert.ok(stalled < 80, `${stalled} ms of CPU in 400 ms while the peer read nothing`);
      // Now it reads: everything comes back, in order, so the rest was written when writable.
      const chunks = [];
      let got = 0;
      await new Promise((resolve) => {
        sock.on('data', (d) => {
          chunks.push(d);
          got += d.length;
          if (got >= payload.length) resolve();
        });
        sock.resume();
      });
      assert.ok(Buffer.concat(chunks).equals(payload));
      const idle = await cpuMsDuring(server.child.pid, 400);
      assert.ok(idle < 80, `${idle} ms of CPU in 400 ms while idle`);
      sock.destroy();
      await server.stop();
    });

    it('exits 0 on SIGINT and on SIGTERM with a client connected, closing it', async () => {
      for (const signal of ['SIGINT', 'SIGTERM']) {
        const server = await startProgram('echo-server', ['--selector', backend]);
        const sock = net.connect(server.port, '127.0.0.1');
        const closed = new Promise((resolve) => sock.on('close', resolve));
        sock.on('error', () => {});
        await new Promise((resolve) => sock.on('connect', resolve));
        await server.waitFor(/new connection/);
        assert.deepEqual(await server.stop(signal), { code: 0, signal: null });
        await closed;
        assert.match(server.output, new RegExp(`${signal}: closing the listener and 1 clients`));
      }
    });

    it('prints one clear line and exits 1 when the port is in use', () => {
      const taken = sr.create_server(['127.0.0.1', 0]);
      try {
        const port = taken.getsockname()[1];
        const r = spawnSync(process.execPath, [cli, 'echo-server', '--selector', backend, '--host', '127.0.0.1', '--port', String(port)], { encoding: 'utf8', timeout: 10000 });
        assert.equal(r.status, 1);
        assert.equal(r.stderr, `echo-server: cannot listen on 127.0.0.1 port ${port}: the address is already in use\n`);
      } finally {
        taken.close();
      }
    });

    // The loop is the same code on every backend: compared with Python once, on the default one.
    if (backend === defaultBackend) it('says the same lines as the Python selectors reference for the same session', async function () {
      if (!python) this.skip();
      const port = closedPort();
      const py = spawn(python, [reference, String(port), '--selector', backend], { stdio: ['ignore', 'pipe', 'pipe'] });
      let pyOut = '';
      py.stderr.on('data', (d) => { pyOut += d; });
      try {
        for (let i = 0; i < 100 && !pyOut.includes('starting up'); i++) await sleep(50);
        await sleep(200);
        const ours = await startProgram('echo-server', ['--selector', backend]);
        const session = async (p, read) => {
          const sock = net.connect({ port: p, host: '127.0.0.1', allowHalfOpen: true });
          await new Promise((resolve) => sock.on('connect', resolve));
          for (const msg of ['first message', 'second']) {
            sock.write(msg);
            await new Promise((resolve) => sock.once('data', resolve));
            await sleep(100);
          }
          sock.end();
          await new Promise((resolve) => sock.on('close', resolve));
          for (let i = 0; i < 40 && !read().includes('after reading no data'); i++) await sleep(50);
        };
        await session(port, () => pyOut);
        await session(ours.port, () => ours.output);
        const normal = (text) => text.split('\n')
          .filter((l) => l && !l.startsWith('starting up') && l !== 'waiting for the next event')
          .map((l) => l.replace(/\('127\.0\.0\.1', \d+\)/g, 'CLIENT'));
        assert.deepEqual(normal(ours.output), normal(pyOut));
        assert.ok(normal(ours.output).length >= 6);
        await ours.stop();
      } finally {
        py.kill('SIGKILL');
      }
    });
  });
}

describe('echo-server at scale, with workers, and its open-file limit', function () {
  this.timeout(90000);
  afterEach(() => {
    killStarted();
    killShells();
  });

  before(function () {
    // 2,000 client sockets live in this process: raise its own soft limit if it must.
    const { getrlimit, setrlimit, RLIMIT_NOFILE } = sr.resource;
    const [soft, hard] = getrlimit(RLIMIT_NOFILE);
    if (soft < 4500 && hard >= 4500) setrlimit(RLIMIT_NOFILE, [Math.min(hard, 8192), hard]);
    if (getrlimit(RLIMIT_NOFILE)[0] < 4500) this.skip();
  });

  it('epoll holds 2,000 concurrent connections, each echoing twice, in seconds', async function () {
    if (process.platform !== 'linux') this.skip();
    const server = await startProgram('echo-server', ['--quiet', '--selector', 'epoll']);
    const t0 = Date.now();
    const sockets = await connectMany(server.port, 2000);
    try {
      assert.equal(await echoEach(sockets, 1), 2000);
      assert.equal(await echoEach(sockets, 2), 2000, 'and again, on the same connections');
    } finally {
      for (const s of sockets) s.destroy();
    }
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(seconds < 30, `${seconds} s`);
    assert.equal(await echoOnce(server.port, Buffer.from('after')).then(String), 'after');
    assert.deepEqual(await server.stop('SIGINT'), { code: 0, signal: null });
    assert.doesNotMatch(server.output, /Error/);
  });

  it('--workers 2: both processes serve clients on one port; SIGTERM and SIGINT end them all, exit 0', async function () {
    if (sr.SO_REUSEPORT === undefined) this.skip();
    for (const [signal, extra] of [['SIGTERM', ['--selector', 'poll']], ['SIGINT', []]]) {
      const parent = await startProgram('echo-server', ['--workers', '2', ...extra]);
      assert.match(parent.output, /starting up on localhost port \d+ \(2 workers\)/);
      // Each connection is hashed to one of the two listeners by its address: over 40 clients,
      // both get some unless the kernel does not balance at all (odds 2 in 2^40).
      const sockets = await connectMany(parent.port, 40, 40);
      try {
        assert.equal(await echoEach(sockets, 1), 40);
      } finally {
        for (const s of sockets) s.destroy();
      }
      const servedBy = (w) => parent.lines().filter((l) => l.startsWith(`[worker ${w}] new connection from`)).length;
      for (let i = 0; i < 100 && servedBy(1) + servedBy(2) < 40; i++) await sleep(50);
      const served = [servedBy(1), servedBy(2)];
      assert.equal(served[0] + served[1], 40, parent.output);
      assert.ok(served[0] > 0 && served[1] > 0, `each worker served some clients: ${served}`);
      const pids = spawnSync('pgrep', ['-P', String(parent.child.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
      assert.equal(pids.length, 2, 'two worker processes');
      assert.deepEqual(await parent.stop(signal), { code: 0, signal: null });
      for (const w of [1, 2]) assert.match(parent.output, new RegExp(`\\[worker ${w}\\] ${signal}: closing the listener`));
      for (const pid of pids) assert.throws(() => process.kill(Number(pid), 0), { code: 'ESRCH' }, `worker ${pid} is gone`);
    }
  });

  it('--workers: a port in use is one line and exit 1; a bad count is a usage error', () => {
    const taken = sr.create_server(['127.0.0.1', 0]);
    try {
      const port = taken.getsockname()[1];
      const r = spawnSync(process.execPath, [cli, 'echo-server', '--workers', '2', '--host', '127.0.0.1', '--port', String(port)], { encoding: 'utf8', timeout: 10000 });
      assert.equal(r.status, 1);
      assert.equal(r.stderr, `echo-server: cannot listen on 127.0.0.1 port ${port}: the address is already in use\n`);
    } finally {
      taken.close();
    }
    const bad = spawnSync(process.execPath, [cli, 'echo-server', '--workers', '0'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--workers must be an integer in \[1, 256\], got 0/);
    const badSelector = spawnSync(process.execPath, [cli, 'echo-server', '--selector', 'kqueue'], { encoding: 'utf8' });
    assert.equal(badSelector.status, 2);
    assert.match(badSelector.stderr, /--selector must be select, poll or epoll, got kqueue/);
  });

  it('raises its own soft open-file limit to the hard one, and says so when the hard one is low', async function () {
    if (process.platform !== 'linux') this.skip();
    // Started with a soft limit of 200, it must hold 400 clients.
    const server = await startUnder('ulimit -Sn 200', ['--quiet', '--selector', 'epoll']);
    try {
      const sockets = await connectMany(server.port, 400);
      try {
        assert.equal(await echoEach(sockets, 1), 400);
      } finally {
        for (const s of sockets) s.destroy();
      }
      assert.doesNotMatch(server.output(), /open-file limit/);
    } finally {
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
    }
    // With a hard limit of 256 (ulimit -n sets both), it cannot, and says so.
    const low = await startUnder('ulimit -n 256', ['--selector', 'epoll']);
    assert.deepEqual(await low.stop(), { code: 0, signal: null });
    assert.match(low.output(), /^echo-server: the open-file limit is 256 and the hard limit allows no more \(ulimit -Hn\): at most about 256 clients$/m);
  });
});
