#!/usr/bin/env node
'use strict';
// A small, honest measurement of the echo server's backends at many connections: the classic
// select() loop, --selector select|poll|epoll, --workers 2, and an echo server on Node's net, at
// 1,000 and 10,000 connections. Not the benchmark (that is `bench`, issue 3's harness, with a C
// load generator): this one's load generator is Node's net in this very process, so it shares
// the machine with the server under test, and at high rates it is the limit as much as the
// server is. Every contender meets the same client, in turn, in the same run.
//
//   node scripts/compare-selectors.js [--seconds 8] [--rounds 2] [--cells 1000,10000] [--json FILE]
//
// Load: pingpong. Each connection sends 64 bytes, waits for all 64 to come back, and sends
// again, for --seconds (after one second of warm-up that is not counted). Figures: round trips
// per second (all connections together), the latency of a round trip (p50, p99), and the server's
// CPU time per 1,000 round trips. Every echo is checked byte for byte; a wrong byte, an error or a
// closed connection fails the run. select() cannot hold 10,000 connections (FD_SETSIZE), so the
// select-based contenders only run at 1,000.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const sr = require('..');
const { cpuSeconds } = require('../bench/procfs');

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    cells: { type: 'string', default: '1000,10000' },
    json: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CELLS = values.cells.split(',').map(Number);
const SIZE = 64;
const cli = path.resolve(__dirname, '../lib/cli.js');

const netServer = `
  const net = require('node:net');
  const server = net.createServer({ noDelay: true }, (s) => { s.on('error', () => {}); s.on('data', (d) => s.write(d)); });
  server.listen(0, '127.0.0.1', () => process.stderr.write('starting up on 127.0.0.1 port ' + server.address().port + '\\n'));
  process.on('SIGTERM', () => process.exit(0));
`;

const ours = (...options) => [cli, 'echo-server', '--quiet', '--host', '127.0.0.1', '--port', '0', ...options];
const contenders = [
  { name: 'select() loop (default)', args: ours(), maxConns: 1000 },
  { name: '--selector select', args: ours('--selector', 'select'), maxConns: 1000 },
  { name: '--selector poll', args: ours('--selector', 'poll'), maxConns: Infinity },
  { name: '--selector epoll', args: ours('--selector', 'epoll'), maxConns: Infinity },
  { name: '--workers 2 --selector epoll', args: ours('--workers', '2', '--selector', 'epoll'), maxConns: Infinity },
  { name: "Node's net", args: ['-e', netServer], maxConns: Infinity },
];

async function start(contender) {
  const child = spawn(process.execPath, contender.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  const port = await new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      output += d;
      const m = /starting up on \S+ port (\d+)/.exec(output);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`${contender.name} exited (${code}):\n${output}`)));
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, port, exited, output: () => output };
}

async function connectMany(port, n) {
  const sockets = [];
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, n - i) }, () =>
      new Promise((resolve, reject) => {
        const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      })));
    sockets.push(...batch);
  }
  return sockets;
}

async function run(contender, conns) {
  const server = await start(contender);
  const sockets = await connectMany(server.port, conns);
  const message = Buffer.alloc(SIZE);
  let counting = false;
  let roundTrips = 0;
  let failure = null;
  const samples = [];
  for (const [i, s] of sockets.entries()) {
    message.writeUInt32LE(i, 0);
    const mine = Buffer.from(message); // each connection's own bytes, checked on return
    let got = 0;
    let sentAt = 0;
    const chunks = [];
    s.on('error', (err) => (failure ??= `connection ${i}: ${err.message}`));
    s.on('close', () => {
      if (!s.stopping) failure ??= `connection ${i} closed by the server`;
    });
    s.on('data', (d) => {
      chunks.push(d);
      got += d.length;
      if (got < SIZE) return;
      const echo = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      chunks.length = 0;
      if (got !== SIZE || !echo.equals(mine)) failure ??= `connection ${i}: a wrong echo`;
      got = 0;
      if (counting) {
        roundTrips++;
        if ((roundTrips & 15) === 0) samples.push(performance.now() - sentAt);
      }
      if (!s.stopping) {
        sentAt = performance.now();
        s.write(mine);
      }
    });
    sentAt = performance.now();
    s.write(mine);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000)); // warm-up
  const cpu0 = cpuSeconds(server.child.pid); // and its children's: the processes of --workers
  const t0 = performance.now();
  counting = true;
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  counting = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(server.child.pid) - cpu0;
  for (const s of sockets) s.stopping = true;
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const s of sockets) s.destroy();
  server.child.kill('SIGTERM');
  await server.exited;
  if (failure) throw new Error(`${contender.name} at ${conns}: ${failure}`);
  samples.sort((a, b) => a - b);
  const pct = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  return {
    rtPerSecond: roundTrips / elapsed,
    p50ms: pct(0.5),
    p99ms: pct(0.99),
    cpuMsPer1000: (cpu * 1e6) / roundTrips,
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  const { getrlimit, setrlimit, RLIMIT_NOFILE } = sr.resource;
  const [, hard] = getrlimit(RLIMIT_NOFILE);
  setrlimit(RLIMIT_NOFILE, [hard, hard]);
  const started = new Date();
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`compare-selectors: ${os.cpus().length} CPUs (${os.cpus()[0].model}), Node ${process.version}, load average ${load}`);
  console.log(`pingpong ${SIZE} B, ${SECONDS} s per run after 1 s of warm-up, ${ROUNDS} rounds (contenders alternate), median of the rounds\n`);
  const results = {};
  for (const conns of CELLS) {
    const here = contenders.filter((c) => conns <= c.maxConns);
    for (let round = 0; round < ROUNDS; round++) {
      for (const contender of here) {
        const r = await run(contender, conns);
        (results[`${conns} ${contender.name}`] ??= []).push(r);
        process.stderr.write(`  ${conns} conns, round ${round + 1}, ${contender.name}: ${Math.round(r.rtPerSecond)} rt/s\n`);
      }
    }
  }
  const rows = [];
  for (const conns of CELLS) {
    const base = results[`${conns} Node's net`];
    const baseRate = median(base.map((r) => r.rtPerSecond));
    console.log(`\n${conns.toLocaleString('en-US')} connections`);
    console.log('| server | round trips/s | vs Node net | p50 ms | p99 ms | server CPU ms per 1,000 rt |');
    console.log('|---|---|---|---|---|---|');
    for (const contender of contenders) {
      const runs = results[`${conns} ${contender.name}`];
      if (!runs) {
        console.log(`| ${contender.name} | n/a: select() stops at FD_SETSIZE (1024 descriptors) | | | | |`);
        continue;
      }
      const row = {
        conns,
        server: contender.name,
        rtPerSecond: Math.round(median(runs.map((r) => r.rtPerSecond))),
        p50ms: +median(runs.map((r) => r.p50ms)).toFixed(2),
        p99ms: +median(runs.map((r) => r.p99ms)).toFixed(2),
        cpuMsPer1000: +median(runs.map((r) => r.cpuMsPer1000)).toFixed(1),
      };
      rows.push(row);
      const ratio = (row.rtPerSecond / baseRate).toFixed(2);
      console.log(`| ${row.server} | ${row.rtPerSecond.toLocaleString('en-US')} | ${ratio}× | ${row.p50ms} | ${row.p99ms} | ${row.cpuMsPer1000} |`);
    }
  }
  console.log(`\nran ${started.toISOString()} to ${new Date().toISOString()}; load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  if (values.json) fs.writeFileSync(values.json, JSON.stringify({ started, seconds: SECONDS, rounds: ROUNDS, rows }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
