'use strict';
// The benchmark's own parts: the load generator must fail a run whenever an echo is wrong (a
// benchmark that cannot fail proves nothing), its latency percentiles must be right, the C
// programs must build warning-free, and the harness must run end to end.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const { build, cflags } = require('../bench/build');
const { median, ratio, summarize } = require('../bench/stats');
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

  it('summarizes samples: medians, ranges and ratios from the same run', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    const ours = summarize([{ value: 150 }, { value: 100 }, { value: 120 }]);
    assert.deepEqual([ours.median, ours.min, ours.max, ours.n], [120, 100, 150, 3]);
    const net = summarize([{ value: 60 }, { value: 80 }, { value: 40 }]);
    assert.equal(ratio(ours, net, true), 2, 'throughput: higher wins');
    assert.equal(ratio(net, ours, false), 2, 'memory: lower wins, so the ratio is turned over');
    assert.equal(ratio(ours, null, true), null);
    assert.equal(summarize([]), null);
  });

  it('select-reactor bench --quick runs the harness end to end and passes', () => {
    const cli = path.join(root, 'lib', 'cli.js');
    const r = spawnSync(process.execPath, [cli, 'bench', '--quick', '--only', 'ours,c-select', '--cells', 'pingpong-64-10,idle'], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /pinning: /);
    assert.match(r.stderr, /quick: 4 of 4 runs passed; [\d.]+ MB echoed, every byte verified/);
  });
});
