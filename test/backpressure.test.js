'use strict';
// Backpressure in the echo server (--max-queue): a client that sends and never reads is no longer
// read from once its queue passes the high-water mark, so the server's memory stays bounded and
// everyone else is still served promptly; a client that reads again gets every byte, in order.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');

const { startProgram, killStarted, pinger, roundTrip, startFlood, sleep, quantile } = require('./helpers/programs');
const { rssMiB } = require('../bench/procfs');

// Under the sanitizers (npm run test:asan) memory and time mean something else: ASan keeps freed
// memory in quarantine and shadows all of it, and every call is slower. The flood must still stall
// there; the RSS bound and the 100 ms figure are checked on the normal build only.
const sanitized = process.env.SR_SANITIZED === '1';

describe('echo-server backpressure', function () {
  this.timeout(60000);
  afterEach(() => killStarted());

  it('50 clients that flood and never read: RSS stays under start + 164 MiB, the flood stalls, and a ' +
     'well-behaved client beside them gets its echoes within 100 ms (p99)', async () => {
    const maxQueue = 1 << 20; // the default, said explicitly so that the bound below follows from it
    const server = await startProgram('echo-server', ['--quiet', '--max-queue', String(maxQueue)]);
    const pid = server.child.pid;
    const startRss = rssMiB(pid);
    // The bound: each flooder may hold max-queue + one 64 KiB read in its outbox; twice that per
    // client covers the allocator's slack and the 64 KiB recv() Buffers awaiting GC; 64 MiB more
    // covers V8's own heap growth. Without backpressure the server grows as fast as the flood.
    const bound = startRss + (50 * 2 * maxQueue) / (1 << 20) + 64;

    const flood = startFlood(server.port, 50);
    try {
      const sock = await pinger(server.port);
      const latencies = [];
      let peakRss = startRss;
      const began = Date.now();
      // Round trips from the first flooded byte on, ramp-up included, for 3 s.
      while (Date.now() - began < 3000) {
        latencies.push(await roundTrip(sock, `ping ${latencies.length}`));
        peakRss = Math.max(peakRss, rssMiB(pid));
        await sleep(10);
      }
      latencies.sort((a, b) => a - b);
      const ms = (list, q) => quantile(list, q).toFixed(1);
      const describe = (list) => `p50 ${ms(list, 0.5)} ms, p90 ${ms(list, 0.9)} ms, p99 ${ms(list, 0.99)} ms, ` +
        `max ${list[list.length - 1].toFixed(1)} ms`;

      assert.deepEqual(flood.errors, []);
      assert.equal(flood.status.connected, 50, 'every flooder connected');
      // The flood filled every queue past the mark, and then stalled: the flooders can write next
      // to nothing more once the server no longer reads them (the kernel buffers between are full).
      // Slower builds (the sanitizers) take longer to get there, so this waits up to 30 s for one
      // second without growth.
      assert.ok(flood.status.written > 50 * maxQueue, `the flooders wrote only ${flood.status.written} bytes`);
      let grew = Infinity;
      for (const until = Date.now() + 30000; grew > 50 * 64 * 1024 && Date.now() < until;) {
        const before = flood.status.written;
        await sleep(1000);
        grew = flood.status.written - before;
      }
      assert.ok(grew <= 50 * 64 * 1024, `the flood did not stall: ${grew} more bytes in the last second`);
      peakRss = Math.max(peakRss, rssMiB(pid));

      // With the flooders stalled against the mark (still connected, still trying to send), 200
      // more round trips.
      const steady = [];
      for (let i = 0; i < 200; i++) {
        steady.push(await roundTrip(sock, `steady ${i}`));
        await sleep(5);
      }
      sock.destroy();
      steady.sort((a, b) => a - b);
      peakRss = Math.max(peakRss, rssMiB(pid));
      console.log(`      beside 50 flooders, ramp-up included (${latencies.length} echoes): ${describe(latencies)}`);
      console.log(`      once they are held back (${steady.length} echoes): ${describe(steady)}`);
      console.log(`      RSS ${startRss.toFixed(0)} -> peak ${peakRss.toFixed(0)} MiB (bound ${bound.toFixed(0)}); ` +
        `flooders wrote ${(flood.status.written / 2 ** 20).toFixed(0)} MiB`);

      if (!sanitized) {
        assert.ok(peakRss < bound, `RSS reached ${peakRss.toFixed(0)} MiB, over the bound of ${bound.toFixed(0)} MiB`);
        // The requirement is 100 ms for every echo. Other work shares this machine's two cores and
        // can delay any one echo for reasons that are not the server's, so: once the flood is held
        // back, the 99th percentile is held to 100 ms; during the ramp-up (the first second, when
        // the server still reads 64 KiB from each of 50 clients per turn, its tail follows the
        // machine's load) only the median is asserted, and both distributions are printed above.
        assert.ok(quantile(latencies, 0.5) < 20, `median echo ${ms(latencies, 0.5)} ms during the flood`);
        assert.ok(quantile(steady, 0.5) < 20, `median echo ${ms(steady, 0.5)} ms once held back`);
        assert.ok(quantile(steady, 0.99) < 100, `99th percentile echo ${ms(steady, 0.99)} ms once held back`);
      }
    } finally {
      flood.kill();
    }
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it('a client that stops reading, then reads, gets every byte in order, across many pauses', async () => {
    // A small mark, so that 4 MiB crosses it hundreds of times; the trace lines show it did.
    const server = await startProgram('echo-server', ['--max-queue', '16384']);
    const payload = crypto.randomBytes(4 << 20);
    const sock = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise((resolve) => sock.on('connect', resolve));
    sock.pause(); // not reading yet: the server must stop reading from us
    sock.end(payload); // everything, then a half-close the server sees only once it reads again
    await server.waitFor(/not reading from \('127\.0\.0\.1', \d+\): \d+ bytes queued/);
    await sleep(300);
    const chunks = [];
    const done = new Promise((resolve, reject) => {
      sock.on('end', resolve);
      sock.on('error', reject);
    });
    sock.on('data', (d) => chunks.push(d));
    sock.resume();
    await done;
    const echo = Buffer.concat(chunks);
    assert.equal(echo.length, payload.length);
    assert.ok(echo.equals(payload), 'every byte, in order');
    await server.waitFor(/closing \('127\.0\.0\.1', \d+\) after reading no data/);
    const pauses = server.lines().filter((l) => l.startsWith('not reading from')).length;
    const resumes = server.lines().filter((l) => l.startsWith('reading from')).length;
    assert.ok(pauses >= 10, `${pauses} pauses`);
    assert.ok(resumes >= pauses - 1 && resumes <= pauses, `${pauses} pauses, ${resumes} resumes`);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it('a paused client that half-closed is answered in full, closed, and never read again', async () => {
    // The case needs the server to read our EOF while bytes are still queued for us, which depends
    // on the kernel's buffers and the machine's load: up to three tries to get there, each checked.
    for (let attempt = 1; ; attempt++) {
      const server = await startProgram('echo-server', ['--max-queue', '65536']);
      const payload = crypto.randomBytes(2 << 20);
      const sock = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
      await new Promise((resolve) => sock.on('connect', resolve));
      sock.pause();
      sock.end(payload);
      await server.waitFor(/not reading from/);
      // Read slowly (8 KiB every 10 ms), so that the server still has bytes queued for us when it
      // reads our EOF: the half-closed client must then stay out of `inputs` until it is closed.
      const chunks = [];
      let closed = false;
      sock.on('close', () => { closed = true; });
      while (!closed) {
        let chunk;
        while ((chunk = sock.read(8192)) !== null) chunks.push(chunk);
        await sleep(10);
      }
      assert.ok(Buffer.concat(chunks).equals(payload), 'every byte, in order');
      const lines = server.lines();
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
      const eof = lines.findIndex((l) => / is done sending: \d+ bytes still queued for it$/.test(l));
      if (eof < 0 && attempt < 3) continue; // the EOF came with nothing queued: not the case wanted
      assert.ok(eof >= 0, 'precondition: the EOF was read while bytes were still queued');
      assert.equal(lines.filter((l) => l.includes('is done sending')).length, 1, 'the EOF was read once');
      assert.deepEqual(lines.slice(eof).filter((l) => l.startsWith('reading from')), [], 'never read from again');
      assert.equal(lines.filter((l) => l.startsWith('closing')).length, 1, 'closed exactly once');
      break;
    }
  });
});
