'use strict';
// Faulty peers against the echo server, as a black box: peers that reset mid-stream, half-close,
// connect and vanish (their process killed), send one byte at a time, or open and close 10,000
// times. Throughout, a client that stays keeps getting every byte back; at the end the server
// holds exactly the descriptors it held before (/proc/PID/fd), and still exits 0.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const net = require('node:net');

const { startProgram, killStarted, echoOnce, randomPayloads, sleep, settle } = require('./helpers/programs');
const { fdCount } = require('../bench/procfs');

/** Resolves once `sock` has connected. */
function connected(sock) {
  return new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
}

/**
 * A client that stays for the whole test and keeps echoing random messages: `stop()` resolves with
 * how many round trips it made, and rejects if any echo differed or the connection broke.
 */
function stayer(port) {
  let stopping = false;
  const done = (async () => {
    const sock = net.connect(port, '127.0.0.1');
    await connected(sock);
    let trips = 0;
    let pending = Buffer.alloc(0);
    let failure = null;
    sock.on('data', (d) => { pending = Buffer.concat([pending, d]); });
    sock.on('error', (err) => { failure = err; });
    sock.on('close', () => { failure = failure || new Error('the server closed a client that stayed'); });
    while (!stopping) {
      const msg = crypto.randomBytes(1 + crypto.randomInt(8192));
      sock.write(msg);
      const until = Date.now() + 10000;
      while (pending.length < msg.length && !failure && Date.now() < until) await sleep(2);
      if (failure) throw failure;
      if (!pending.subarray(0, msg.length).equals(msg)) throw new Error(`round trip ${trips}: the echo differs`);
      pending = pending.subarray(msg.length);
      trips++;
    }
    sock.destroy();
    return trips;
  })();
  return { stop: () => { stopping = true; return done; } };
}

describe('echo-server under faulty peers', function () {
  this.timeout(120000);
  let server;
  let pid;
  let startFds;
  let stay;

  before(async () => {
    server = await startProgram('echo-server', ['--quiet']);
    pid = server.child.pid;
    // "starting up" is said before the signal pipe exists: count once a client has come and gone.
    assert.equal((await echoOnce(server.port, Buffer.from('warm-up'))).toString(), 'warm-up');
    await sleep(100);
    startFds = fdCount(pid);
    stay = stayer(server.port);
  });

  after(async () => {
    killStarted();
  });

  it('peers that reset mid-stream, while sending and while being answered', async () => {
    const resetters = Array.from({ length: 20 }, (_, i) => (async () => {
      const sock = net.connect(server.port, '127.0.0.1');
      sock.on('error', () => {});
      await connected(sock);
      sock.write(crypto.randomBytes(300000));
      if (i % 2) await new Promise((resolve) => sock.once('data', resolve)); // half of them mid-answer
      else await sleep(crypto.randomInt(5));
      sock.resetAndDestroy();
    })());
    const payloads = randomPayloads(20, 512 * 1024);
    const echoes = await Promise.all([...payloads.map((p) => echoOnce(server.port, p)), ...resetters]);
    payloads.forEach((p, i) => assert.ok(echoes[i].equals(p), `client ${i} lost or changed bytes`));
  });

  it('peers that half-close: each gets all of its stream back, then EOF', async () => {
    const payloads = randomPayloads(40, 1 << 20);
    const echoes = await Promise.all(payloads.map((p) => echoOnce(server.port, p, { halfClose: true, chunk: 1 + crypto.randomInt(100000) })));
    payloads.forEach((p, i) => assert.ok(echoes[i].equals(p), `client ${i}`));
  });

  it('peers that connect and vanish: closed before accept(), or their process killed mid-stream', async () => {
    // Gone before the server even accepts: connect, then reset at once.
    await Promise.all(Array.from({ length: 50 }, async () => {
      const sock = net.connect(server.port, '127.0.0.1');
      sock.on('error', () => {});
      await connected(sock);
      sock.resetAndDestroy();
    }));
    // A process with 30 connections, half of them mid-send, killed with SIGKILL: the kernel closes
    // them behind its back (FIN, or RST where bytes were left unread).
    const code = `
      const net = require('node:net');
      let n = 0;
      for (let i = 0; i < 30; i++) {
        const s = net.connect(${server.port}, '127.0.0.1', () => {
          if (i % 2) s.write(Buffer.alloc(200000, i));
          if (++n === 30) process.stdout.write('connected\\n');
        });
        s.on('error', () => {});
      }
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    await sleep(100);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    const echo = await echoOnce(server.port, Buffer.from('after the vanishing'));
    assert.equal(echo.toString(), 'after the vanishing');
  });

  it('peers that send one byte at a time get every byte back, in order', async () => {
    const echoes = await Promise.all(Array.from({ length: 8 }, async () => {
      const payload = crypto.randomBytes(600);
      const sock = net.connect(server.port, '127.0.0.1');
      sock.setNoDelay(true);
      const chunks = [];
      let got = 0;
      const all = new Promise((resolve, reject) => {
        sock.on('data', (d) => {
          chunks.push(d);
          got += d.length;
          if (got >= payload.length) resolve();
        });
        sock.on('error', reject);
      });
      await connected(sock);
      // Each byte is its own write(), sent after the previous one has left: one segment each.
      for (let i = 0; i < payload.length; i++) {
        await new Promise((resolve) => sock.write(payload.subarray(i, i + 1), resolve));
      }
      await all;
      sock.destroy();
      return [Buffer.concat(chunks), payload];
    }));
    for (const [echo, payload] of echoes) assert.ok(echo.equals(payload));
  });

  it('peers that open and close 10,000 times', async () => {
    let opened = 0;
    const worker = async () => {
      while (opened < 10000) {
        opened++;
        const sock = net.connect(server.port, '127.0.0.1');
        sock.on('error', () => {});
        const closed = new Promise((resolve) => sock.on('close', resolve));
        sock.resume(); // read (and drop) whatever comes, so that the server's FIN is seen
        await connected(sock).catch(() => {});
        // Most close cleanly (FIN); some reset; some send a byte first and close without reading.
        const kind = opened % 10;
        if (kind === 0) sock.resetAndDestroy();
        else if (kind === 1) sock.end('x');
        else sock.end();
        await closed;
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    assert.equal(opened, 10000);
    const echo = await echoOnce(server.port, Buffer.from('after 10,000'));
    assert.equal(echo.toString(), 'after 10,000');
  });

  it('the client that stayed lost nothing, and the server holds the descriptors it started with', async () => {
    const trips = await stay.stop();
    assert.ok(trips > 50, `${trips} round trips`);
    const now = await settle(() => fdCount(pid), startFds);
    assert.equal(now, startFds, `${now} descriptors open, ${startFds} at the start`);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
});
