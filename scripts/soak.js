#!/usr/bin/env node
'use strict';
// npm run soak -- --seconds N [--clients 500] [--max-size 262144] [--max-queue BYTES]
//
// Starts the echo server (lib/cli.js echo-server --quiet --port 0) and keeps `clients` clients
// churning against it for N seconds: each connects, sends a payload of random size in random
// pieces, half-closes (or not), checks that every byte came back in order, closes, and starts
// over. At the end it prints the bytes verified, the errors, and the server's descriptor count
// and RSS at the start and at the end; it exits 1 on any error, on a descriptor count that does
// not come back to where it started, on RSS still growing in the second half of the run, or on a
// server that does not exit 0 on SIGTERM.
// Traffic goes to 127.0.0.1 only, and stops by itself.
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const net = require('node:net');
const path = require('node:path');
const { parseArgs } = require('node:util');

const { fdCount, rssMiB } = require('../bench/procfs');

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    clients: { type: 'string', default: '500' },
    'max-size': { type: 'string', default: String(256 * 1024) },
    'max-queue': { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const maxSize = Number(values['max-size']);
for (const [name, n] of [['--seconds', seconds], ['--clients', clients], ['--max-size', maxSize]]) {
  if (!(n > 0) || !Number.isFinite(n)) {
    process.stderr.write(`soak: ${name} must be a positive number\n`);
    process.exit(2);
  }
}

const cli = path.resolve(__dirname, '../lib/cli.js');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (text) => process.stdout.write(`${text}\n`);

// Payloads are slices of one random pool: checking them costs a compare, not a hash.
const pool = crypto.randomBytes(2 * maxSize + 1);

const stats = { connections: 0, verified: 0, errors: 0, kinds: new Map() };

function failure(kind) {
  stats.errors++;
  stats.kinds.set(kind, (stats.kinds.get(kind) || 0) + 1);
}

/** One connection: resolves with true if every byte came back in order, false otherwise. */
function oneConnection(port) {
  // Sizes spread over every order of magnitude up to maxSize, not bunched near the top.
  const size = Math.max(1, Math.floor(Math.exp(Math.random() * Math.log(maxSize))));
  const offset = crypto.randomInt(pool.length - size);
  const payload = pool.subarray(offset, offset + size);
  const halfClose = Math.random() < 0.5;
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let got = 0;
    let sent = false;
    let done = false;
    const finish = (ok, kind) => {
      if (done) return;
      done = true;
      if (!ok) failure(kind);
      sock.destroy();
      resolve(ok);
    };
    sock.on('error', (err) => finish(false, `${err.code || err.message} after ${got} of ${size} bytes${sent ? '' : ', before connecting'}`));
    sock.on('data', (data) => {
      if (got + data.length > size) return finish(false, `${got + data.length} bytes back of ${size} sent`);
      if (!data.equals(payload.subarray(got, got + data.length))) {
        // Say what came instead: bytes of this payload from elsewhere (lost or repeated bytes), or
        // bytes from some other payload (another connection's), or neither.
        let at = 0;
        while (at < data.length && data[at] === payload[got + at]) at++;
        const probe = data.subarray(at, at + 32);
        const own = probe.length >= 8 ? payload.indexOf(probe) : -1;
        const where = own >= 0 ? `own byte ${own}` : pool.indexOf(probe) >= 0 ? 'another payload' : 'unknown bytes';
        return finish(false, `mismatch at byte ${got + at} of ${size} (${where})`);
      }
      got += data.length;
      if (got > size) return finish(false, 'too many bytes');
      if (got === size && !halfClose) {
        stats.verified += size;
        finish(true);
      }
    });
    sock.on('end', () => {
      // With a half-close, the server closes once it has answered everything: all of it, then EOF.
      if (got === size && halfClose) {
        stats.verified += size;
        finish(true);
      } else {
        finish(false, `EOF after ${got} of ${size} bytes`);
      }
    });
    sock.on('connect', () => {
      sent = true;
      for (let off = 0; off < size;) {
        const piece = 1 + crypto.randomInt(Math.min(size - off, 65536));
        sock.write(payload.subarray(off, off + piece));
        off += piece;
      }
      if (halfClose) sock.end();
    });
  });
}

async function main() {
  const args = [cli, 'echo-server', '--port', '0', '--quiet'];
  if (values['max-queue'] !== undefined) args.push('--max-queue', values['max-queue']);
  const server = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  server.stderr.setEncoding('utf8');
  server.stderr.on('data', (text) => { output += text; });
  const exited = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
  let port = 0;
  for (let i = 0; i < 200 && !port; i++) {
    const m = output.match(/starting up on \S+ port (\d+)/);
    if (m) port = Number(m[1]);
    else await sleep(50);
  }
  if (!port) throw new Error(`the server did not start:\n${output}`);
  const pid = server.pid;

  // The baseline, once the server is in its loop (the signal pipe is made after "starting up").
  if (!(await oneConnection(port))) throw new Error('the warm-up echo failed');
  await sleep(200);
  stats.verified = 0;
  const start = { fds: fdCount(pid), rss: rssMiB(pid) };
  say(`soak: ${clients} clients for ${seconds} s against the echo server (pid ${pid}, port ${port}); ` +
    `payloads 1 B to ${maxSize} B`);
  say(`start: ${start.fds} descriptors, RSS ${start.rss.toFixed(1)} MiB`);

  const began = Date.now();
  const deadline = began + seconds * 1000;
  let peakRss = start.rss;
  let halfRss = null; // RSS once half the time is gone: the memory should have levelled off by then
  setTimeout(() => { halfRss = rssMiB(pid); }, (seconds * 1000) / 2).unref();
  const progress = setInterval(() => {
    const rss = rssMiB(pid);
    peakRss = Math.max(peakRss, rss);
    say(`  ${((Date.now() - began) / 1000).toFixed(0)} s: ${stats.connections} connections, ` +
      `${(stats.verified / 2 ** 20).toFixed(0)} MiB verified, ${stats.errors} errors, ` +
      `${fdCount(pid)} descriptors, RSS ${rss.toFixed(1)} MiB`);
  }, seconds > 60 ? 15000 : 5000);

  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < deadline) {
      stats.connections++;
      await oneConnection(port);
    }
  }));
  clearInterval(progress);

  // Every client has closed; the server must get back to the descriptors it started with.
  const settleUntil = Date.now() + 10000;
  let fds = fdCount(pid);
  while (fds !== start.fds && Date.now() < settleUntil) {
    await sleep(50);
    fds = fdCount(pid);
  }
  const end = { fds, rss: rssMiB(pid) };
  peakRss = Math.max(peakRss, end.rss);
  server.kill('SIGTERM');
  const exit = await exited;

  const elapsed = (Date.now() - began) / 1000;
  say(`end: ${end.fds} descriptors, RSS ${end.rss.toFixed(1)} MiB (peak ${peakRss.toFixed(1)} MiB)`);
  say(`${stats.connections} connections in ${elapsed.toFixed(1)} s (${(stats.connections / elapsed).toFixed(0)}/s), ` +
    `${stats.verified} bytes verified (${(stats.verified / 2 ** 20).toFixed(1)} MiB), ${stats.errors} errors` +
    (stats.errors ? `: ${[...stats.kinds].map(([k, n]) => `${k} x${n}`).join(', ')}` : ''));
  say(`descriptors ${start.fds} -> ${end.fds}; RSS ${start.rss.toFixed(1)} -> ${end.rss.toFixed(1)} MiB; ` +
    `server exit ${JSON.stringify(exit)}`);

  const problems = [];
  if (stats.errors > 0) problems.push(`${stats.errors} errors`);
  if (end.fds !== start.fds) problems.push(`descriptors ${start.fds} -> ${end.fds}`);
  if (exit.code !== 0) problems.push(`the server exited ${JSON.stringify(exit)}`);
  if (stats.verified === 0) problems.push('nothing was verified');
  // Memory that keeps growing through the second half is a leak, not warm-up: 32 MiB of slack for
  // the allocator and V8. (A run of 20 s is too short to see a slow leak; minutes are not.)
  if (halfRss !== null && end.rss > halfRss + 32) {
    problems.push(`RSS still growing: ${halfRss.toFixed(1)} MiB at half time, ${end.rss.toFixed(1)} MiB at the end`);
  }
  if (problems.length > 0) {
    say(`soak: FAILED: ${problems.join('; ')}`);
    if (output.trim()) say(`server said:\n${output.trim().split('\n').slice(-20).join('\n')}`);
    return 1;
  }
  say('soak: ok');
  return 0;
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`soak: ${err.stack || err.message}\n`);
  process.exit(1);
});
