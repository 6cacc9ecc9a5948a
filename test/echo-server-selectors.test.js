'use strict';
// echo-server --selector select|poll|epoll and --workers N, as black boxes: spawned, driven by
// Node's own net module, compared with the Python reference they mirror. One suite, run once per
// backend; backpressure and descriptor exhaustion on the level-triggered backends (poll, epoll);
// then 2,000 connections on epoll, the workers sharing a port, and the open-file limit.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const { startProgram, killStarted, echoOnce, pinger, roundTrip, client, randomPayloads, startFlood, resetMidStream, cli } = require('./helpers/programs');
const { rssMiB, quantile, cpuSeconds, childrenOf } = require('./helpers/procfs');
const { sr, closedPort } = require('./helpers/sockets');

const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : null;
const reference = path.resolve(__dirname, '../docs/python/selectors_echo_server.py');
const backends = ['select', 'poll', ...(process.platform === 'linux' ? ['epoll'] : [])];
const defaultBackend = backends.at(-1); // DefaultSelector's: epoll on Linux, else poll
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sanitized = process.env.SR_SANITIZED === '1'; // test:asan: memory figures are ASan's, not ours

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
      if (m) resolve({ port: Number(m[1]), pid: child.pid, output: () => output, stop: () => (child.kill('SIGTERM'), exited) });
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

/**
 * Writes all of `payload`, then half-closes, to a server that echoes into a client that reads
 * nothing; resolves with how many bytes had left once nothing more leaves for half a second.
 */
async function sendUntilStalled(sock, payload) {
  for (let off = 0; off < payload.length; off += 65536) sock.write(payload.subarray(off, off + 65536));
  sock.end();
  let sent = -1;
  for (let i = 0; i < 20 && payload.length - sock.writableLength !== sent; i++) {
    sent = payload.length - sock.writableLength;
    await sleep(500);
  }
  return sent;
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
      const resets = Array.from({ length: 8 }, () => resetMidStream(server.port));
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
      // Until the client's own writes stall: the server stops reading at --max-queue, so not all
      // 16 MiB leave the client.
      for (let i = 0, last = -1; i < 100 && sock.writableLength !== last; i++) {
        last = sock.writableLength;
        await sleep(100);
      }
      await sleep(100);
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

// The select() loop's protections (test/backpressure.test.js, test/descriptors.test.js), on the
// backends that report a socket ready for as long as it is: a listener left with a backlog, or a
// client left registered for reading, is reported again on every turn.
for (const backend of process.platform === 'linux' ? ['poll', 'epoll'] : []) {
  describe(`echo-server --selector ${backend}: backpressure and descriptor exhaustion`, function () {
    this.timeout(60000);
    afterEach(() => {
      killStarted();
      killShells();
    });

    it('20 clients that flood and never read: RSS stays under start + 74 MiB, the flood stalls, and a ' +
       'client beside them is echoed promptly', async () => {
      const maxQueue = 256 * 1024;
      const flooders = 20;
      const server = await startProgram('echo-server', ['--quiet', '--selector', backend, '--max-queue', String(maxQueue)]);
      const pid = server.child.pid;
      const startRss = rssMiB(pid);
      // As in backpressure.test.js: twice max-queue per flooder for the last 64 KiB read, the
      // allocator's slack and recv() Buffers awaiting GC, and 64 MiB for V8's own heap. Without
      // backpressure the server grows by hundreds of MiB a second, so the bound is checked as
      // the flood runs: a failing run stops early instead of eating the machine's memory.
      const bound = startRss + (flooders * 2 * maxQueue) / (1 << 20) + 64;
      let peakRss = startRss;
      const checkRss = () => {
        peakRss = Math.max(peakRss, rssMiB(pid));
        // Under ASan (test:asan) RSS is the sanitizer's: shadow memory and its quarantine of freed blocks.
        if (!sanitized) assert.ok(peakRss < bound, `RSS reached ${peakRss.toFixed(0)} MiB, over the bound of ${bound.toFixed(0)} MiB`);
      };

      const flood = startFlood(server.port, flooders);
      try {
        // Stalled: one second in which the flooders together wrote less than one 64 KiB block
        // each (the kernel's buffers between them and the server are full: it no longer reads).
        let grew = Infinity;
        for (const until = Date.now() + 20000; grew > flooders * 64 * 1024 && Date.now() < until;) {
          const before = flood.status.written;
          for (let i = 0; i < 10; i++) {
            await sleep(100);
            checkRss();
          }
          grew = flood.status.written - before;
        }
        assert.deepEqual(flood.errors, []);
        assert.equal(flood.status.connected, flooders, 'every flooder connected');
        assert.ok(flood.status.written > flooders * maxQueue, `the flooders wrote only ${flood.status.written} bytes`);
        assert.ok(grew <= flooders * 64 * 1024, `the flood did not stall: ${grew} more bytes in the last second`);

        const sock = await pinger(server.port);
        const steady = [];
        for (let i = 0; i < 100; i++) {
          steady.push(await roundTrip(sock, `steady ${i}`));
          checkRss();
          await sleep(5);
        }
        sock.destroy();
        steady.sort((a, b) => a - b);
        console.log(`      RSS ${startRss.toFixed(0)} -> peak ${peakRss.toFixed(0)} MiB (bound ${bound.toFixed(0)}); ` +
          `flooders wrote ${(flood.status.written / 2 ** 20).toFixed(0)} MiB; echoes beside them: ` +
          `p50 ${quantile(steady, 0.5).toFixed(1)} ms, p99 ${quantile(steady, 0.99).toFixed(1)} ms`);
        // Generous, for a loaded machine: an echo waits for at most one turn of the loop.
        assert.ok(quantile(steady, 0.5) < 50, `median echo ${quantile(steady, 0.5).toFixed(1)} ms beside the flood`);
      } finally {
        flood.kill();
      }
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
    });

    it('a client that stops reading is no longer read; once it reads and half-closes, it gets every byte in order, then is closed', async () => {
      const server = await startProgram('echo-server', ['--quiet', '--selector', backend, '--max-queue', '65536']);
      const payload = crypto.randomBytes(32 << 20);
      const sock = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
      try {
        await new Promise((resolve) => sock.on('connect', resolve));
        sock.pause(); // not reading yet: the server must stop reading from us
        const sent = await sendUntilStalled(sock, payload);
        // What the kernel's buffers hold both ways is ~4 MiB here: a server that kept reading would
        // have taken all 32 (into its memory).
        assert.ok(sent < payload.length / 2, `the server read ${(sent / 2 ** 20).toFixed(1)} of 32 MiB from a client that reads nothing`);
        // Now we read: the server reads from us again as its queue drains, meets our EOF (with
        // bytes queued for us, or not), and must deliver everything before it closes.
        const chunks = [];
        let ended = false;
        let closed = false;
        sock.on('end', () => { ended = true; });
        sock.on('close', () => { closed = true; });
        while (!closed) {
          let chunk;
          while ((chunk = sock.read()) !== null) chunks.push(chunk);
          await sleep(2);
        }
        const echo = Buffer.concat(chunks);
        assert.equal(echo.length, payload.length);
        assert.ok(echo.equals(payload), 'every byte, in order');
        assert.ok(ended, 'closed by the server after everything, not reset');
      } finally {
        sock.destroy();
      }
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
    });

    it('EMFILE under ulimit -n 64: no spin, no crash, one line per burst, accepting again once clients leave', async () => {
      const server = await startUnder('ulimit -n 64', ['--quiet', '--selector', backend]);
      const count = (re) => server.output().split('\n').filter((l) => re.test(l)).length;
      const said = async (re) => {
        for (let i = 0; i < 250 && count(re) === 0; i++) await sleep(20);
        return count(re);
      };
      const outOf = /^out of descriptors \(EMFILE\): closing new connections until some are free$/;
      const clients = [];
      try {
        // Clients until the server runs out: each one kept, and served, until one is refused.
        while (!clients.some((c) => c.ended)) {
          const c = await client(server.port);
          clients.push(c);
          const i = clients.length - 1;
          if (await c.echo(`client ${i}`, 3000) !== `client ${i}`) break;
          assert.ok(i < 64, 'refused within the limit of 64');
        }
        const kept = clients.filter((c) => !c.ended);
        assert.ok(kept.length >= 20, `${kept.length} clients served before the limit`);
        assert.equal(await said(outOf), 1, server.output());

        // At the limit, with connections arriving (10 every 100 ms), it does not spin: a loop
        // that only retried accept() would burn a core, the listener being readable all along.
        const cpu0 = cpuSeconds(server.pid);
        const refused = [];
        for (let i = 0; i < 20; i++) {
          refused.push(...(await Promise.all(Array.from({ length: 10 }, () => client(server.port).catch(() => null)))));
          await sleep(100);
        }
        const cpu = cpuSeconds(server.pid) - cpu0;
        console.log(`      ${kept.length} clients served; ${cpu.toFixed(2)} s of CPU in ~2 s of connections refused`);
        assert.ok(cpu < 0.5, `the server used ${cpu.toFixed(2)} s of CPU in ~2 s at the descriptor limit`);
        for (const c of refused) if (c) assert.equal(await c.echo('x', 2000), null, 'a client past the limit is closed');
        assert.equal(count(/^out of descriptors/), 1, 'still one line for the burst');
        for (const [i, c] of kept.entries()) assert.equal(await c.echo(`again ${i}`), `again ${i}`, 'the kept ones are served');

        // Clients leave; the server accepts again, says so once, and serves a newcomer.
        for (const c of kept.splice(0, 10)) c.close();
        await sleep(200);
        const late = await client(server.port);
        clients.push(late);
        assert.equal(await late.echo('after the burst'), 'after the burst');
        assert.equal(await said(/^accepting again: \d+ connections were closed while out of descriptors \(EMFILE\)$/), 1,
          server.output());
        for (const c of refused) if (c) c.close();
      } finally {
        for (const c of clients) c.close();
      }
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
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
      const pids = childrenOf(parent.child.pid);
      assert.equal(pids.length, 2, 'two worker processes');
      assert.deepEqual(await parent.stop(signal), { code: 0, signal: null });
      for (const w of [1, 2]) assert.match(parent.output, new RegExp(`\\[worker ${w}\\] ${signal}: closing the listener`));
      for (const pid of pids) assert.throws(() => process.kill(Number(pid), 0), { code: 'ESRCH' }, `worker ${pid} is gone`);
    }
  });

  it('--workers: each worker keeps --max-queue: a client that reads nothing is no longer read', async function () {
    if (sr.SO_REUSEPORT === undefined) this.skip();
    const parent = await startProgram('echo-server', ['--quiet', '--workers', '1', '--selector', 'epoll', '--max-queue', '65536']);
    const payload = crypto.randomBytes(32 << 20);
    const sock = net.connect({ port: parent.port, host: '127.0.0.1', allowHalfOpen: true });
    try {
      await new Promise((resolve) => sock.on('connect', resolve));
      sock.pause();
      const sent = await sendUntilStalled(sock, payload);
      assert.ok(sent < payload.length / 2, `the worker read ${(sent / 2 ** 20).toFixed(1)} of 32 MiB from a client that reads nothing`);
    } finally {
      sock.destroy();
      // SIGTERM, which the parent forwards: SIGKILL (afterEach) would leave the worker running.
      assert.deepEqual(await parent.stop(), { code: 0, signal: null });
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
