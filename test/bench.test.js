'use strict';
// The benchmark's own parts: the load generator must fail a run whenever an echo is wrong (a
// benchmark that cannot fail proves nothing), its latency percentiles must be right, the C
// programs must build warning-free, the C server's Python-shaped mode must echo every byte and
// make the Python's extra select() turn, the spread and paired ratios must come out right on
// known samples, a missing uvloop must be skipped with one line, and the harness must run end
// to end.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { once } = require('node:events');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const { build, cflags } = require('../bench/build');
const { contenders } = require('../bench/contenders');
const { table } = require('../bench/report');
const { startServer, stopServer } = require('../bench/runner');
const { NOISY, cellIsNoisy, median, moreRounds, pairedRatio, spread, summarize } = require('../bench/stats');
const { childrenOf } = require('../bench/procfs');
const { root } = require('./helpers/sockets');
const { startProgram, killStarted } = require('./helpers/programs');

/** Runs the load generator to completion: {status, result (parsed JSON) or null, stderr}. */
function loadgen(programs, args) {
  return new Promise((resolve) => {
    const child = spawn(programs.loadgen, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => {
      let result = null;
      try {
        result = JSON.parse(stdout.trim().split('\n').pop());
      } catch {
        // No result: the run failed, and stderr says why.
      }
      resolve({ status, result, stderr });
    });
  });
}

/** An echo server that misbehaves once `after` bytes have passed, in the way `how` says. */
function faultyServer(how, after) {
  const sockets = new Set();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let seen = 0;
    s.on('data', (data) => {
      const start = seen;
      seen += data.length;
      if (seen <= after || start > after) return void s.write(data);
      const copy = Buffer.from(data);
      if (how === 'corrupt') copy[after - start] ^= 0x40;
      if (how === 'extra') return void s.write(Buffer.concat([copy, Buffer.from('!')]));
      if (how === 'close') return void s.end(copy.subarray(0, after - start));
      s.write(copy);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: server.address().port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  })));
}

describe('bench', function () {
  this.timeout(60000);
  let programs;

  before(() => {
    programs = build();
  });
  afterEach(() => killStarted());

  it('builds the C programs with -Wall -Wextra and no warning, and only when a source changed', () => {
    assert.ok(cflags.includes('-Wall') && cflags.includes('-Wextra'));
    for (const binary of Object.values(programs)) assert.ok(fs.statSync(binary).mode & 0o111, `${binary} is executable`);
    const before = fs.statSync(programs.loadgen).mtimeMs;
    build();
    assert.equal(fs.statSync(programs.loadgen).mtimeMs, before, 'an up-to-date binary is not rebuilt');
  });

  for (const [how, expected] of [
    ['corrupt', /connection \d+: byte 1000 of the echo is 0x[0-9a-f]{2}, expected 0x[0-9a-f]{2}/],
    ['extra', /bytes came back, \d+ were in flight|byte \d+ of the echo is 0x21,/],
    ['close', /the server closed it after echoing 1000 of/],
  ]) {
    it(`fails the run when the server's echo is wrong: ${how}`, async () => {
      const server = await faultyServer(how, 1000);
      try {
        for (const mode of ['pingpong', 'stream']) {
          const r = await loadgen(programs, ['--port', server.port, '--mode', mode, '--conns', '1', '--size', '100', '--warmup', '0', '--duration', '0.5']);
          assert.equal(r.status, 1, `${mode}: the run must fail`);
          assert.equal(r.result, null, `${mode}: no result is printed`);
          assert.match(r.stderr, expected, mode);
        }
      } finally {
        server.close();
      }
    });
  }

  it('refuses a port nobody listens on, and says so', async () => {
    const probe = net.createServer();
    await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address();
    await new Promise((resolve) => probe.close(resolve));
    const r = await loadgen(programs, ['--port', port, '--duration', '0.2']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /connect: Connection refused/);
  });

  it('drives our echo server in every mode, and counts what it verified', async () => {
    const server = await startProgram('echo-server', ['--quiet']);
    try {
      const base = ['--port', server.port, '--warmup', '0.05', '--duration', '0.3'];
      let r = await loadgen(programs, [...base, '--mode', 'pingpong', '--conns', '20', '--size', '64', '--threads', '2']);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.result.roundtrips > 0 && r.result.rps > 0 && r.result.p50_us > 0 && r.result.p99_us >= r.result.p50_us, JSON.stringify(r.result));
      assert.equal(r.result.verified_bytes % 64, 0, 'pingpong verifies whole messages');
      assert.ok(r.result.verified_bytes >= r.result.roundtrips * 64);
      r = await loadgen(programs, [...base, '--mode', 'stream', '--conns', '3', '--size', '16384', '--window', '65536']);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.result.bytes > 0 && r.result.mbps > 0 && r.result.verified_bytes >= r.result.bytes, JSON.stringify(r.result));
    } finally {
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
    }
  });

  it('idle mode holds its connections until stdin closes, then checks that each is still served', async () => {
    const server = await startProgram('echo-server', ['--quiet']);
    try {
      const child = spawn(programs.loadgen, ['--port', String(server.port), '--mode', 'idle', '--conns', '150'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      await new Promise((resolve) => child.stdout.on('data', () => out.includes('"ready"') && resolve()));
      assert.match(out, /\{"ready":150\}/);
      child.stdin.end();
      const status = await new Promise((resolve) => child.on('close', resolve));
      assert.equal(status, 0);
      const result = JSON.parse(out.trim().split('\n').pop());
      assert.equal(result.verified_bytes, 150 * 64 * 2, 'two verified round trips per connection');
    } finally {
      await server.stop();
    }
  });

  it('reports latency percentiles within the histogram’s 1/64 resolution', function () {
    // A tiny C program over bench/histogram.h: known distributions in, percentiles out.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-hist-'));
    try {
      const source = path.join(dir, 'h.c');
      fs.writeFileSync(source, `#include <stdio.h>
#include "histogram.h"
int main(void) {
  static struct histogram a, b;
  for (unsigned long long v = 1; v <= 100000; v++) histogram_add(&a, v * 1000);  /* 1 us .. 100 ms */
  for (int i = 0; i < 990; i++) histogram_add(&b, 50000);
  for (int i = 0; i < 10; i++) histogram_add(&b, 9000000);
  struct histogram m = {0};
  histogram_merge(&m, &a);
  printf("%llu %llu %llu %llu %llu %llu\\n", (unsigned long long)histogram_percentile(&a, 0.5),
         (unsigned long long)histogram_percentile(&a, 0.99), (unsigned long long)histogram_percentile(&b, 0.5),
         (unsigned long long)histogram_percentile(&b, 0.99), (unsigned long long)histogram_percentile(&b, 0.999),
         (unsigned long long)m.total);
  for (unsigned long long v = 1; v < (1ull << 40); v = v * 3 + 1) {
    unsigned long long got = histogram_value(histogram_index(v));
    if ((got > v ? got - v : v - got) * 64 > v + 64) { printf("bad %llu -> %llu\\n", v, got); return 1; }
  }
  return 0;
}
`);
      const binary = path.join(dir, 'h');
      const cc = spawnSync(process.env.CC || 'cc', [...cflags, '-I', path.join(root, 'bench'), '-o', binary, source], { encoding: 'utf8' });
      assert.equal(cc.status, 0, cc.stderr);
      assert.doesNotMatch(cc.stderr, /warning:/);
      const r = spawnSync(binary, { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout);
      const [p50a, p99a, p50b, p99b, p999b, total] = r.stdout.trim().split(' ').map(Number);
      const near = (got, want) => Math.abs(got - want) <= want / 64;
      assert.ok(near(p50a, 50e6), `p50 ${p50a}`);
      assert.ok(near(p99a, 99e6), `p99 ${p99a}`);
      assert.ok(near(p50b, 50000) && near(p99b, 50000), `${p50b} ${p99b}`);
      assert.ok(near(p999b, 9e6), `p99.9 ${p999b}`);
      assert.equal(total, 100000);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('summarizes samples: medians, spreads with the extremes left out from five rounds on, noisy past 15%', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(NOISY, 0.15);
    // Three rounds: every round counts. (150 - 100) / 120.
    assert.equal(spread([150, 100, 120]), 50 / 120);
    // Five rounds: the highest and the lowest are left out, (105 - 95) / 100, however far they are.
    assert.equal(spread([100, 95, 500, 105, 1]), 10 / 100);
    assert.equal(spread([7]), 0);
    assert.equal(spread([]), null);
    const ours = summarize([
      { round: 1, value: 150, cpu_us_per_op: 10 },
      { round: 2, value: 100, cpu_us_per_op: 11 },
      { round: 3, value: 120, cpu_us_per_op: 10.5 },
    ]);
    assert.deepEqual([ours.median, ours.min, ours.max, ours.n, ours.cpu_us_per_op], [120, 100, 150, 3, 10.5]);
    assert.equal(ours.cpu_spread, 1 / 10.5);
    assert.equal(ours.noisy, true, 'throughput spread 42% is noisy, however steady the CPU');
    const steady = summarize([100, 104, 96, 300, 100].map((value, i) => ({ round: i + 1, value, cpu_us_per_op: 20 })));
    assert.equal(steady.spread, 0.04);
    assert.equal(steady.noisy, false, 'one disturbed round in five does not make the cell noisy');
    const cpuNoisy = summarize([100, 101, 102].map((value, i) => ({ round: i + 1, value, cpu_us_per_op: [10, 12, 10][i] })));
    assert.equal(cpuNoisy.noisy, true, 'nor does steady throughput hide a CPU figure that moves 20%');
    assert.equal(summarize([]), null);
    assert.equal(cellIsNoisy({ a: [{ round: 1, value: 10 }, { round: 2, value: 10.5 }], b: [] }), false);
    assert.equal(cellIsNoisy({ a: [{ round: 1, value: 10 }, { round: 2, value: 10.5 }], b: [{ round: 1, value: 5 }, { round: 2, value: 9 }] }), true);
  });

  it('gives a noisy cell two more rounds at a time up to the cap, and a steady one none', () => {
    const rounds = (values) => values.map((value, i) => ({ round: i + 1, value, cpu_us_per_op: 10 }));
    const noisy = { ours: rounds([100, 60, 100]), net: rounds([50, 50, 50]) };
    const steady = { ours: rounds([100, 101, 99]), net: rounds([50, 52, 50]) };
    assert.equal(moreRounds(noisy, 3, 9), 2);
    assert.equal(moreRounds(noisy, 8, 9), 1, 'never past the cap');
    assert.equal(moreRounds(noisy, 9, 9), 0);
    assert.equal(moreRounds(steady, 3, 9), 0);
    assert.equal(moreRounds(noisy, 1, 1), 0, '--quick: one round, however it went');
  });

  it('takes ratios round by round, pairing each round with the same round of the reference', () => {
    // The machine halves everything in round 2: the medians of each (120 and 60) happen to agree
    // here, but only paired ratios come out 2.0 in every round.
    const ours = [{ round: 1, value: 200 }, { round: 2, value: 100 }, { round: 3, value: 120 }];
    const net = [{ round: 1, value: 100 }, { round: 2, value: 50 }, { round: 3, value: 60 }];
    assert.deepEqual(pairedRatio(ours, net, true), { median: 2, min: 2, max: 2, n: 3 });
    assert.deepEqual(pairedRatio(net, ours, true), { median: 0.5, min: 0.5, max: 0.5, n: 3 });
    // The median of the rounds' ratios, 10/30, 20/10, 30/20, is 1.5; the ratio of the medians is 1.
    const a = [{ round: 1, value: 10 }, { round: 2, value: 20 }, { round: 3, value: 30 }];
    const b = [{ round: 1, value: 30 }, { round: 2, value: 10 }, { round: 3, value: 20 }];
    assert.equal(pairedRatio(a, b, true).median, 1.5);
    assert.equal(median(a.map((s) => s.value)) / median(b.map((s) => s.value)), 1);
    // A round the reference did not finish is left out, not paired with another round.
    assert.deepEqual(pairedRatio(ours, [net[0], net[2]], true), { median: 2, min: 2, max: 2, n: 2 });
    // Memory: lower wins, so the reference's over ours.
    assert.equal(pairedRatio([{ round: 1, value: 1 }], [{ round: 1, value: 6 }], false).median, 6);
    assert.equal(pairedRatio(ours, [], true), null);
    assert.equal(pairedRatio(ours, undefined, true), null);
  });

  it('puts server CPU first, says which rows are noisy, and has a column per reference', () => {
    const names = ['ours', 'net', 'uvloop', 'c-select', 'c-select-python'];
    const used = contenders.filter((c) => names.includes(c.name));
    const samples = {
      ours: [100, 104, 98].map((value, i) => ({ round: i + 1, value, cpu_us_per_op: 12, p50_us: 80, p99_us: 200, roundtrips: 1 })),
      net: [50, 80, 49].map((value, i) => ({ round: i + 1, value, cpu_us_per_op: 17, p50_us: 90, p99_us: 300, roundtrips: 1 })),
    };
    const cell = { name: 'pingpong 64 B, 10 conns', short: 'rt/s', kind: 'pingpong', higherWins: true };
    const results = {
      references: ['net', 'uvloop', 'c-select', 'c-select-python'],
      cells: [{
        ...cell,
        summaries: { ours: summarize(samples.ours), net: summarize(samples.net) },
        ratios: {
          ours: { net: pairedRatio(samples.ours, samples.net, true) },
          net: { net: pairedRatio(samples.net, samples.net, true) },
        },
      }],
    };
    const lines = table(results, used).split('\n');
    const cells = (line) => line.split('|').slice(1, -1).map((c) => c.trim());
    assert.deepEqual(cells(lines[0]), ['cell', 'contender', 'server CPU µs/op', 'median', 'spread', 'rounds', 'p50 / p99 µs', '× net', '× uvloop', '× C tuned', '× C Python-shaped']);
    assert.deepEqual(cells(lines[2]), ['pingpong 64 B, 10 conns (rt/s)', 'select-reactor', '12.0', '100', '6% · 0%', '3', '80 / 200', '2.00×', '', '', '']);
    assert.deepEqual(cells(lines[3]), ['', 'Node net (libuv)', '17.0', '50', '62% · 0% noisy', '3', '90 / 300', '1.00×', '', '', '']);
  });

  describe("the C select() server's two shapes", () => {
    const cSelect = (name) => contenders.find((c) => c.name === name);
    const servers = [];
    const start = async (contender) => {
      const server = await startServer(contender, programs, { server: null });
      servers.push(server);
      return server;
    };
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((server) => stopServer(server)));
    });

    it('Python-shaped: echoes every byte of pingpong, of 100 KiB messages (more than one read each) and of streams', async () => {
      const server = await start(cSelect('c-select-python'));
      const base = ['--port', server.port, '--warmup', '0.05', '--duration', '0.3'];
      for (const args of [
        ['--mode', 'pingpong', '--conns', '20', '--size', '64', '--threads', '2'],
        ['--mode', 'pingpong', '--conns', '3', '--size', String(100 * 1024)],
        ['--mode', 'stream', '--conns', '3', '--size', String(64 * 1024), '--window', String(1024 * 1024)],
      ]) {
        const r = await loadgen(programs, [...base, ...args]);
        assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
        assert.ok(r.result.verified_bytes > 0, JSON.stringify(r.result));
      }
      assert.equal(server.exit, null, 'still serving');
    });

    it('Python-shaped: a client that stops reading, then half-closes, gets all 16 MiB back', async () => {
      // While the client does not read, the kernel's buffers fill, select() stops saying writable
      // and the server's queue grows; all of it must still come back, in order, before it closes.
      const server = await start(cSelect('c-select-python'));
      const payload = crypto.randomBytes(16 * 1024 * 1024);
      const sock = net.connect(server.port, '127.0.0.1');
      const chunks = [];
      sock.on('data', (d) => chunks.push(d));
      sock.pause();
      sock.end(payload);
      await new Promise((resolve) => setTimeout(resolve, 300));
      sock.resume();
      await once(sock, 'end');
      const back = Buffer.concat(chunks);
      assert.ok(back.equals(payload), `got ${back.length} of ${payload.length} bytes, or different ones`);
      sock.destroy();
    });

    it('Python-shaped makes the extra select() turn the Python makes: 3 per round trip against 2', async function () {
      if (spawnSync('strace', ['-V']).status !== 0) this.skip(); // strace counts the calls
      const counts = {};
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-strace-'));
      const n = 60;
      try {
        for (const name of ['c-select', 'c-select-python']) {
          const out = path.join(dir, name);
          const traced = {
            name,
            command: (port) => {
              const [file, args] = cSelect(name).command(port, programs);
              return ['strace', ['-qq', '-c', '-o', out, '-e', 'trace=pselect6', file, ...args]];
            },
          };
          const strace = await start(traced);
          // The server is strace's child, and is stopped itself: strace then writes its count and
          // exits (a strace stopped first would leave the server running, detached).
          const [pid] = childrenOf(strace.child.pid);
          try {
            await spacedRoundTrips(strace.port, n, 5);
          } finally {
            process.kill(pid, 'SIGTERM');
            await strace.exited;
          }
          counts[name] = Number(fs.readFileSync(out, 'utf8').match(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?pselect6$/m)[1]);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      // Tuned: select() says readable (recv, queue), then writable (write all, leave outputs).
      // Python: readable, writable (send the message), writable again (queue empty: leave outputs).
      const tuned = counts['c-select'] / n;
      const python = counts['c-select-python'] / n;
      assert.ok(tuned > 1.8 && tuned < 2.4, `tuned: ${tuned} select() calls per round trip`);
      assert.ok(python > 2.6 && python < 3.4, `Python-shaped: ${python} select() calls per round trip`);
    });
  });

  it('skips uvloop with one line where Python cannot import it, and runs the rest', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-nouvloop-'));
    try {
      // A Python without site-packages: uvloop is installed there or not at all.
      const python = path.join(dir, 'python3');
      fs.writeFileSync(python, '#!/bin/sh\nexec python3 -I -S "$@"\n', { mode: 0o755 });
      const r = spawnSync(process.execPath, [path.join(root, 'bench', 'run.js'), '--quick', '--only', 'uvloop,c-select', '--cells', 'pingpong-64-10'], {
        encoding: 'utf8',
        timeout: 60000,
        env: { ...process.env, UVLOOP_PYTHON: python },
      });
      assert.equal(r.status, 0, r.stderr);
      const skips = r.stderr.split('\n').filter((line) => /uvloop/.test(line) && /skipping/.test(line));
      assert.deepEqual(skips, [`skipping uvloop (Python, libuv): ${python} cannot import uvloop (on Debian: apt-get install python3-uvloop)`]);
      assert.match(r.stderr, /quick: 1 of 1 runs passed/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('select-reactor bench --quick runs the harness end to end and passes', () => {
    const cli = path.join(root, 'lib', 'cli.js');
    const only = ['ours', 'c-select', 'c-select-python', 'uvloop'];
    const r = spawnSync(process.execPath, [cli, 'bench', '--quick', '--only', only.join(','), '--cells', 'pingpong-64-10,idle'], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /pinning: /);
    const ran = /skipping uvloop/.test(r.stderr) ? 3 : 4;
    assert.match(r.stderr, new RegExp(`quick: ${ran * 2} of ${ran * 2} runs passed; [\\d.]+ MB echoed, every byte verified`));
  });
});

/** One connection, `n` round trips of 64 bytes, `gapMs` apart, each checked. */
async function spacedRoundTrips(port, n, gapMs) {
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  await once(sock, 'connect');
  let received = Buffer.alloc(0);
  let waiting = null;
  sock.on('data', (d) => {
    received = Buffer.concat([received, d]);
    if (waiting && received.length >= 64) waiting();
  });
  for (let i = 0; i < n; i++) {
    const message = Buffer.alloc(64, i);
    const back = new Promise((resolve) => {
      waiting = resolve;
    });
    sock.write(message);
    await back;
    assert.ok(received.subarray(0, 64).equals(message), `round trip ${i}`);
    received = received.subarray(64);
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  sock.end();
  await once(sock, 'close');
}
