'use strict';
// The echo server as a black box, one suite run once per loop (the classic select() loop, the
// selectors loop on each backend, and --workers), as CPython's test_selectors.py runs one base
// class per selector: spawned as a process, driven by Node's own net module and by Python's
// socket module, compared with the Python reference it mirrors, and pushed to its limits
// (descriptors, FD_SETSIZE, clients that never read). Then what is not a loop's: options, 2,000
// connections, the workers sharing a port, the open-file limit.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const net = require('node:net');
const path = require('node:path');

const {
  startProgram, killStarted, echoOnce, pinger, roundTrip, client, randomPayloads, startFlood, resetMidStream, cli,
  sleep, settle, quantile,
} = require('./helpers/programs');
const { fdCount, rssMiB, cpuSeconds, childrenOf } = require('../bench/procfs');
const { sr, closedPort } = require('./helpers/sockets');
const echoServer = require('../lib/programs/echo-server/main');
const { UsageError } = require('../lib/programs/support/options');

const linux = process.platform === 'linux';
const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : null;
const sanitized = process.env.SR_SANITIZED === '1'; // test:asan: memory figures are ASan's, not ours
const pyReference = (file, ...args) => [path.resolve(__dirname, '../docs/python', file), ...args];

/**
 * The loops. `select`: it waits with select(), so a descriptor past FD_SETSIZE must be refused.
 * `levelTriggered`: the backends that report a socket ready for as long as it is (a listener left
 * with a backlog, a paused client left registered), where the protections are tried hardest; the
 * classic loop's own are in backpressure.test.js. `reference`: the Python it says the same lines
 * as. Each selectors backend runs the same loop: compared with Python once, on the default one.
 * `--selector select` is that loop too; what only it does (refuse a descriptor past FD_SETSIZE
 * when registering) is tried at the end.
 */
const loops = [
  { name: 'the select() loop', args: [], select: true, emfile: true, reference: pyReference('select_echo_server.py') },
  { name: '--selector poll', args: ['--selector', 'poll'], levelTriggered: linux, emfile: linux,
    reference: linux ? null : pyReference('selectors_echo_server.py', '--selector', 'poll') },
  ...(linux ? [{ name: '--selector epoll', args: ['--selector', 'epoll'], levelTriggered: true, emfile: true,
    reference: pyReference('selectors_echo_server.py', '--selector', 'epoll') }] : []),
  ...(sr.SO_REUSEPORT !== undefined ? [{ name: '--workers 2', args: ['--workers', '2'], workers: true, maxQueue: true }] : []),
];

/** Runs `file args` to its end: resolves with {status, stdout, stderr}. */
function run(file, args, { timeout = 20000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { status: null, stdout: '', stderr: '' };
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.stdout.setEncoding('utf8').on('data', (d) => { out.stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { out.stderr += d; });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ ...out, status });
    });
  });
}

/** A worker's line without its `[worker N] ` label. */
const unlabel = (line) => line.replace(/^\[worker \d+\] /, '');

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

/** The CPU time (ms) a process and its children use during the next `ms` milliseconds. */
async function cpuMsDuring(pid, ms) {
  const before = cpuSeconds(pid);
  await sleep(ms);
  return (cpuSeconds(pid) - before) * 1000;
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

/** One session, the same against Python and against ours: two messages, each awaited, then a half-close. */
async function session(port, output) {
  const sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise((resolve) => sock.on('connect', resolve));
  for (const msg of ['first message', 'second']) {
    sock.write(msg);
    await new Promise((resolve) => sock.once('data', resolve));
    await sleep(100);
  }
  sock.end();
  await new Promise((resolve) => sock.on('close', resolve));
  for (let i = 0; i < 40 && !output().includes('after reading no data'); i++) await sleep(50);
}

const pastFdSetsize = 'a descriptor past FD_SETSIZE (ulimit -n 2048) is closed with a line, even with --quiet, and everyone else is served';

/** That case, for a loop that waits with select(): it cannot watch such a descriptor. */
async function refusesPastFdSetsize(args) {
  const server = await startProgram('echo-server', ['--quiet', ...args], { ulimit: 'ulimit -n 2048' });
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
    assert.equal(served + refused, clients.length);
    assert.ok(refused >= 30, `${refused} refused`);
    assert.equal(server.count(pastLine), refused, 'one line per refused connection');
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
}

for (const loop of loops) {
  describe(`echo-server, ${loop.name}`, function () {
    this.timeout(60000);
    const start = (args = [], opts) => startProgram('echo-server', [...loop.args, ...args], opts);

    describe('one server, many clients', () => {
      let server;
      before(async () => {
        server = await start(['--quiet']);
      });
      after(async () => {
        if (server) assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
        killStarted();
      });

      it('echoes 120 concurrent clients with distinct random payloads up to 256 KiB, byte for byte', async () => {
        const payloads = randomPayloads(120, 256 * 1024);
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
        const resets = Array.from({ length: 10 }, () => resetMidStream(server.port));
        const payloads = randomPayloads(20, 128 * 1024);
        const echoes = await Promise.all([...payloads.map((p) => echoOnce(server.port, p)), ...resets]);
        payloads.forEach((p, i) => assert.ok(echoes[i].equals(p), `client ${i}`));
        // And after the resets are dealt with, a new client still gets its echo.
        assert.equal((await echoOnce(server.port, Buffer.from('still here'))).toString(), 'still here');
      });

      it('serves a burst of 200 connects (the backlog is 128, not 5)', async () => {
        const sockets = await Promise.all(Array.from({ length: 200 }, () =>
          new Promise((resolve, reject) => {
            const s = net.connect(server.port, '127.0.0.1', () => resolve(s));
            s.on('error', reject);
          })));
        try {
          assert.equal(await echoEach(sockets, 1), 200);
        } finally {
          for (const s of sockets) s.destroy();
        }
      });

      it('serves other implementations\' clients: Python\'s socket module and the echo-client program', async () => {
        const code = [
          'import socket, sys, os',
          'data = os.urandom(300000)',
          `with socket.create_connection(("127.0.0.1", ${server.port})) as s:`,
          '    s.sendall(data)',
          '    s.shutdown(socket.SHUT_WR)',
          '    got = b"".join(iter(lambda: s.recv(65536), b""))',
          'print("ok" if got == data else "mismatch %d" % len(got))',
        ].join('\n');
        const [py, echoClient] = await Promise.all([
          python ? run(python, ['-c', code]) : null,
          run(process.execPath, [cli, 'echo-client', '--host', '127.0.0.1', '--port', String(server.port), 'one', 'two three']),
        ]);
        if (py) assert.equal(py.stdout.trim(), 'ok', py.stderr);
        assert.equal(echoClient.status, 0, echoClient.stderr);
        assert.match(echoClient.stdout, /: received b'one'\n/);
        assert.match(echoClient.stdout, /: received b'two three'\n/);
      });
    });

    describe('as a program', () => {
      afterEach(() => killStarted());

      it('prints the Python server\'s lines, and --trace shows the lists of each wait', async () => {
        const server = await start(['--trace']);
        await echoOnce(server.port, Buffer.from('hello\n'), { halfClose: true });
        await server.waitFor(/closing \('127\.0\.0\.1', \d+\) after reading no data/);
        const lines = server.lines().map(unlabel);
        // Ready is said first; the parent of --workers says it once every worker is, and passes
        // on what the first ones said meanwhile.
        const ready = loop.workers ? lines.find((l) => l.startsWith('starting up')) : lines[0];
        assert.ok(ready.startsWith(`starting up on localhost port ${server.port}`), lines.join('\n'));
        assert.ok(lines.includes('waiting for the next event'));
        assert.ok(lines.includes('  came back  readable=[listener]  writable=[]  exceptional=[]'), lines.join('\n'));
        const client = lines.find((l) => l.startsWith('new connection from')).match(/\d+\)$/)[0].slice(0, -1);
        assert.ok(lines.includes(`received "b'hello\\n'" from ('127.0.0.1', ${client})`), lines.join('\n'));
        assert.ok(lines.includes(`sending "b'hello\\n'" to ('127.0.0.1', ${client})`));
        assert.ok(lines.includes(`output queue for ('127.0.0.1', ${client}) is empty`));
        assert.ok(lines.some((l) => l.startsWith(`  going in   inputs=[listener, 127.0.0.1:${client}]`)), lines.join('\n'));
        if (loop.args.length === 0) {
          // The select() loop answers when the client is writable: it is in outputs, then in writable.
          assert.ok(lines.some((l) => l.endsWith(`  writable=[127.0.0.1:${client}]  exceptional=[]`)), 'the client in the writable list');
          assert.ok(lines.includes(`  going in   inputs=[listener, 127.0.0.1:${client}]  outputs=[127.0.0.1:${client}]`));
        }
        assert.deepEqual(await server.stop('SIGINT'), { code: 0, signal: null });
      });

      it('never spins: not while a peer reads nothing and bytes wait for it, not while idle', async function () {
        if (!linux) this.skip(); // CPU time from /proc
        // --trace prints one block per wait, even with --quiet: none may come while nothing happens.
        const server = await start(['--quiet', '--trace']);
        const waits = () => (server.output.match(/^(\[worker \d+\] )?select\(\) #\d+$/gm) ?? []).length;
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
        // Idle, the client still connected: an idle socket left in outputs would end every wait at once.
        await sleep(100);
        const before = waits();
        const idle = await cpuMsDuring(server.child.pid, 400);
        assert.equal(waits(), before, 'a wait returned while nothing happened');
        assert.ok(idle < 80, `${idle} ms of CPU in 400 ms while idle`);
        sock.destroy();
        await server.stop();
      });

      it('exits 0 on SIGINT and on SIGTERM with a client connected, closing it', async () => {
        await Promise.all(['SIGINT', 'SIGTERM'].map(async (signal) => {
          const server = await start();
          const sock = net.connect(server.port, '127.0.0.1');
          const closed = new Promise((resolve) => sock.on('close', resolve));
          sock.on('error', () => {});
          await new Promise((resolve) => sock.on('connect', resolve));
          await server.waitFor(/new connection/);
          assert.deepEqual(await server.stop(signal), { code: 0, signal: null });
          await closed;
          assert.match(server.output, new RegExp(`${signal}: closing the listener and 1 clients`));
        }));
      });

      it('prints one clear line and exits 1 when the port is in use', () => {
        const taken = sr.create_server(['127.0.0.1', 0]);
        try {
          const port = taken.getsockname()[1];
          const r = spawnSync(process.execPath, [cli, 'echo-server', ...loop.args, '--host', '127.0.0.1', '--port', String(port)], { encoding: 'utf8', timeout: 10000 });
          assert.equal(r.status, 1);
          assert.equal(r.stderr, `echo-server: cannot listen on 127.0.0.1 port ${port}: the address is already in use\n`);
        } finally {
          taken.close();
        }
      });

      if (loop.reference) it('says the same lines as the Python reference for the same session', async function () {
        if (!python) this.skip();
        const port = closedPort();
        const py = spawn(python, [loop.reference[0], String(port), ...loop.reference.slice(1)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let pyOut = '';
        py.stderr.on('data', (d) => { pyOut += d; });
        try {
          for (let i = 0; i < 100 && !pyOut.includes('starting up'); i++) await sleep(50);
          await sleep(200);
          const ours = await start();
          await session(port, () => pyOut);
          await session(ours.port, () => ours.output);
          // Client ports differ between the two sessions; the words must not.
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

    describe('at its limits', () => {
      afterEach(() => killStarted());

      if (loop.emfile) it('EMFILE under ulimit -n 64: no spin, no crash, one line per burst, accepting again once clients leave', async () => {
        const server = await start(['--quiet'], { ulimit: 'ulimit -n 64' });
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

          // It does not spin while at the limit, with connections arriving (100 more in 1 s): a
          // loop that only retried accept() would burn a core, the listener being readable all along.
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
          assert.equal(await settle(() => fdCount(pid), startFds), startFds, 'descriptors back to where they started');
        } finally {
          assert.deepEqual(await server.stop(), { code: 0, signal: null });
        }
      });

      if (loop.select) it(pastFdSetsize, () => refusesPastFdSetsize(loop.args));

      if (loop.levelTriggered) it('20 clients that flood and never read: RSS stays under start + 74 MiB, the flood stalls, and a ' +
         'client beside them is echoed promptly', async () => {
        const maxQueue = 256 * 1024;
        const flooders = 20;
        const server = await start(['--quiet', '--max-queue', String(maxQueue)]);
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

      if (loop.levelTriggered || loop.maxQueue) it('a client that stops reading is no longer read; once it reads and half-closes, it gets every byte in order, then is closed', async () => {
        const server = await start(['--quiet', '--max-queue', '65536']);
        const payload = crypto.randomBytes(32 << 20);
        const sock = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
        try {
          await new Promise((resolve) => sock.on('connect', resolve));
          sock.pause(); // not reading yet: the server must stop reading from us
          const sent = await sendUntilStalled(sock, payload);
          // The kernel's buffers both ways hold a few MiB: a server that kept reading would have
          // taken all 32 (into its memory).
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
        // SIGTERM: for --workers the parent forwards it (SIGKILL would leave the workers running).
        assert.deepEqual(await server.stop(), { code: 0, signal: null });
      });
    });
  });
}

describe('echo-server, whatever its loop', function () {
  this.timeout(90000);
  afterEach(() => killStarted());

  it(`--selector select: ${pastFdSetsize}`, () => refusesPastFdSetsize(['--selector', 'select']));

  it('says what it expected of bad options and exits 2', async () => {
    // Through the command once: the line and the exit status.
    const r = await run(process.execPath, [cli, 'echo-server', '--port', 'eighty']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'select-reactor echo-server: --port must be an integer in [0, 65535], got eighty\n');
    // The rest in this process: each is refused before anything is opened.
    const cases = [
      [['--workers', '0'], /^--workers must be an integer in \[1, 256\], got 0$/],
      [['--selector', 'kqueue'], /^--selector must be select, poll or epoll, got kqueue$/],
      [['--ui', '0', '--workers', '2'], /^--ui shows the loop of one process: not with --workers$/],
      ...['-1', '1.5', 'lots', ''].map((bad) => [[`--max-queue=${bad}`], /^--max-queue must be a number of bytes/]),
    ];
    for (const [args, message] of cases) {
      await assert.rejects(echoServer.main(['--port', '0', ...args]), (err) => err instanceof UsageError && message.test(err.message), args.join(' '));
    }
  });

  describe('with 2,000 clients, and its open-file limit', () => {
    before(function () {
      if (!linux) this.skip();
      // 2,000 client sockets live in this process: raise its own soft limit if it must.
      const { getrlimit, setrlimit, RLIMIT_NOFILE } = sr.resource;
      const [soft, hard] = getrlimit(RLIMIT_NOFILE);
      if (soft < 4500 && hard >= 4500) setrlimit(RLIMIT_NOFILE, [Math.min(hard, 8192), hard]);
      if (getrlimit(RLIMIT_NOFILE)[0] < 4500) this.skip();
    });

    it('epoll holds 2,000 concurrent connections, each echoing twice, in seconds', async () => {
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

    it('raises its own soft open-file limit to the hard one, and says so when the hard one is low', async () => {
      // Started with a soft limit of 200, it must hold 400 clients.
      const server = await startProgram('echo-server', ['--quiet', '--selector', 'epoll'], { ulimit: 'ulimit -Sn 200' });
      try {
        const sockets = await connectMany(server.port, 400);
        try {
          assert.equal(await echoEach(sockets, 1), 400);
        } finally {
          for (const s of sockets) s.destroy();
        }
        assert.doesNotMatch(server.output, /open-file limit/);
      } finally {
        assert.deepEqual(await server.stop(), { code: 0, signal: null });
      }
      // With a hard limit of 256 (ulimit -n sets both), it cannot, and says so.
      const low = await startProgram('echo-server', ['--selector', 'epoll'], { ulimit: 'ulimit -n 256' });
      assert.deepEqual(await low.stop(), { code: 0, signal: null });
      assert.match(low.output, /^echo-server: the open-file limit is 256 and the hard limit allows no more \(ulimit -Hn\): at most about 256 clients$/m);
    });
  });

  it('--workers 2 --selector poll: both processes serve clients on one port; SIGTERM ends them all, exit 0', async function () {
    if (sr.SO_REUSEPORT === undefined || !linux) this.skip(); // the workers from /proc
    const parent = await startProgram('echo-server', ['--workers', '2', '--selector', 'poll']);
    assert.match(parent.output, /starting up on localhost port \d+ \(2 workers\)/);
    // Each connection is hashed to one of the two listeners by its address: over 40 clients,
    // both get some unless the kernel does not balance at all (odds 2 in 2^40).
    const sockets = await connectMany(parent.port, 40, 40);
    try {
      assert.equal(await echoEach(sockets, 1), 40);
    } finally {
      for (const s of sockets) s.destroy();
    }
    const servedBy = (w) => parent.count(new RegExp(`^\\[worker ${w}\\] new connection from`));
    for (let i = 0; i < 100 && servedBy(1) + servedBy(2) < 40; i++) await sleep(50);
    const served = [servedBy(1), servedBy(2)];
    assert.equal(served[0] + served[1], 40, parent.output);
    assert.ok(served[0] > 0 && served[1] > 0, `each worker served some clients: ${served}`);
    const pids = childrenOf(parent.child.pid);
    assert.equal(pids.length, 2, 'two worker processes');
    assert.deepEqual(await parent.stop('SIGTERM'), { code: 0, signal: null });
    for (const w of [1, 2]) assert.match(parent.output, new RegExp(`\\[worker ${w}\\] SIGTERM: closing the listener`));
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `worker ${pid} is gone`);
  });
});
