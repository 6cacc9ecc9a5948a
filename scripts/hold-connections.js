#!/usr/bin/env node
'use strict';
// Holds many connections to the echo server at once, each echoing a message every second, and
// reports whether any went wrong: the scale check for `echo-server --selector epoll`.
//
//   node scripts/hold-connections.js [--connections 10000] [--seconds 30] [--selector epoll]
//                                    [--workers N] [--interval 1] [--server node]
//
// `--server node` runs the same clients against an echo server on Node's own net module
// instead, for comparison on the same machine at the same time.
// It starts the server itself (lib/cli.js echo-server --quiet --port 0 ...), raises its own
// open-file limit (the server raises its own), opens the connections in batches below the
// listen backlog, then for --seconds every connection sends a numbered message each --interval
// seconds (spread over the interval) and checks that exactly that message comes back, in order.
// Any error, unexpected close, wrong byte or echo missing at the end is an error; the exit code is
// 0 only when there were none. Echoes slower than the interval are counted and reported apart
// (with the latency percentiles): on a loaded machine the client itself is late too. Clients are Node's own net module (libuv), independent of the server under test.
const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const { parseArgs } = require('node:util');

const sr = require('..');
const { cpuSeconds, rssMiB } = require('../bench/procfs');

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '30' },
    interval: { type: 'string', default: '1' },
    selector: { type: 'string', default: 'epoll' },
    workers: { type: 'string' },
    server: { type: 'string', default: 'select-reactor' },
  },
});
const connections = Number(values.connections);
const seconds = Number(values.seconds);
const interval = Number(values.interval) * 1000;

function raiseLimit(need) {
  const { getrlimit, setrlimit, RLIMIT_NOFILE } = sr.resource;
  const [soft, hard] = getrlimit(RLIMIT_NOFILE);
  if (soft < need) setrlimit(RLIMIT_NOFILE, [Math.min(hard, need), hard]);
  const [now] = getrlimit(RLIMIT_NOFILE);
  if (now < need) throw new Error(`this process may open ${now} descriptors, ${need} are needed: raise the hard limit (ulimit -Hn)`);
}

/** utime + stime (seconds) and resident memory (MiB) of a process, from /proc. */
function usage(pid) {
  try {
    return { cpu: cpuSeconds(pid), rss: rssMiB(pid) };
  } catch {
    return { cpu: NaN, rss: NaN };
  }
}

// The comparison: an echo server on Node's net (libuv, epoll underneath), as Node users write one.
const nodeServer = `
  const net = require('node:net');
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
    s.on('error', () => {});
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end());
  });
  server.listen(0, '127.0.0.1', () => process.stderr.write('starting up on 127.0.0.1 port ' + server.address().port + '\\n'));
  process.on('SIGTERM', () => process.exit(0));
`;

function percentile(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  raiseLimit(connections + 200);
  const args = [path.resolve(__dirname, '../lib/cli.js'), 'echo-server', '--quiet', '--port', '0', '--selector', values.selector];
  if (values.workers) args.push('--workers', values.workers);
  if (values.server === 'node') {
    values.selector = "Node's net";
    args.splice(0, args.length, '-e', nodeServer);
  }
  const server = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'] });
  let serverOutput = '';
  const port = await new Promise((resolve, reject) => {
    server.stderr.setEncoding('utf8');
    server.stderr.on('data', (d) => {
      serverOutput += d;
      const m = /starting up on \S+ port (\d+)/.exec(serverOutput);
      if (m) resolve(Number(m[1]));
    });
    server.on('exit', (code) => reject(new Error(`the server exited (${code}):\n${serverOutput}`)));
  });
  const serverExit = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));

  const counts = { errors: 0, closes: 0, wrong: 0, sent: 0, echoed: 0, late: 0 };
  const latencies = [];
  const firstErrors = [];
  let running = true;

  const t0 = Date.now();
  const sockets = [];
  for (let i = 0; i < connections; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, connections - i) }, (_, j) =>
      new Promise((resolve, reject) => {
        const s = net.connect({ port, host: '127.0.0.1' });
        s.id = i + j;
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      })));
    sockets.push(...batch);
  }
  const connectSeconds = (Date.now() - t0) / 1000;
  console.log(`${connections} connections open in ${connectSeconds.toFixed(1)} s`);
  const atPeak = usage(server.pid);

  for (const s of sockets) {
    s.seq = 0;
    s.outstanding = []; // [message, sentAt], oldest first: echoes come back in order
    s.got = '';
    s.setEncoding('utf8');
    s.setNoDelay(true);
    s.on('error', (err) => {
      counts.errors++;
      if (firstErrors.length < 5) firstErrors.push(`connection ${s.id}: ${err.message}`);
    });
    s.on('close', () => {
      if (running) counts.closes++;
    });
    s.on('data', (d) => {
      s.got += d;
      for (let nl = s.got.indexOf('\n'); nl >= 0; nl = s.got.indexOf('\n')) {
        const line = s.got.slice(0, nl + 1);
        s.got = s.got.slice(nl + 1);
        const [expected, sentAt] = s.outstanding.shift() ?? ['(nothing)', 0];
        if (line !== expected) {
          counts.wrong++;
          if (firstErrors.length < 5) firstErrors.push(`connection ${s.id}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(line)}`);
          continue;
        }
        counts.echoed++;
        const ms = performance.now() - sentAt;
        if (ms > interval) counts.late++;
        latencies.push(ms);
      }
    });
  }

  // Every connection sends once per interval, at its own offset within it: one timer ticks every
  // 1/50 of the interval and sends for the connections of that slot (10,000 timers would cost
  // the client more than the server under test).
  const slots = 50;
  const cpuBefore = usage(server.pid).cpu;
  const clientBefore = process.cpuUsage();
  const loadStart = Date.now();
  let tick = 0;
  const send = (s) => {
    if (s.destroyed) return;
    const message = `connection ${s.id} message ${s.seq++}\n`;
    s.outstanding.push([message, performance.now()]);
    counts.sent++;
    s.write(message);
  };
  const ticker = setInterval(() => {
    // By the clock, not by the count of ticks: a late tick sends for every slot it missed.
    const due = Math.floor((Date.now() - loadStart) / (interval / slots));
    for (; tick < due; tick++) {
      for (let i = tick % slots; i < sockets.length; i += slots) send(sockets[i]);
    }
  }, interval / slots);
  const reporter = setInterval(() => {
    const elapsed = ((Date.now() - loadStart) / 1000).toFixed(0);
    console.log(`  ${elapsed} s: sent ${counts.sent}, echoed ${counts.echoed}, errors ${counts.errors + counts.closes + counts.wrong}`);
  }, 5000);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  running = false;
  clearInterval(reporter);
  clearInterval(ticker);
  // The last round's echoes: give them a moment, then count the missing ones.
  await new Promise((resolve) => setTimeout(resolve, Math.min(2000, interval)));
  const missing = sockets.reduce((n, s) => n + s.outstanding.length, 0);
  const loadSeconds = (Date.now() - loadStart) / 1000;
  const after = usage(server.pid);
  for (const s of sockets) s.destroy();
  server.kill('SIGTERM');
  const exit = await serverExit;

  latencies.sort((a, b) => a - b);
  const result = {
    backend: values.selector,
    workers: values.workers ? Number(values.workers) : 1,
    connections,
    connectSeconds: Number(connectSeconds.toFixed(2)),
    loadSeconds: Number(loadSeconds.toFixed(1)),
    sent: counts.sent,
    echoed: counts.echoed,
    missingAtEnd: missing,
    errors: counts.errors,
    unexpectedCloses: counts.closes,
    wrong: counts.wrong,
    echoesSlowerThanInterval: counts.late,
    latencyMs: { p50: +percentile(latencies, 50).toFixed(2), p99: +percentile(latencies, 99).toFixed(2), max: +(latencies.at(-1) ?? NaN).toFixed(2) },
    serverCpuSecondsDuringLoad: values.workers ? 'n/a (workers)' : +(after.cpu - cpuBefore).toFixed(2),
    clientCpuSecondsDuringLoad: +((process.cpuUsage(clientBefore).user + process.cpuUsage(clientBefore).system) / 1e6).toFixed(2),
    serverRssMiB: values.workers ? 'n/a (workers)' : { allConnected: +atPeak.rss.toFixed(1), end: +after.rss.toFixed(1) },
    serverExit: exit,
  };
  console.log(JSON.stringify(result, null, 2));
  if (firstErrors.length > 0) console.log(`first problems:\n  ${firstErrors.join('\n  ')}`);
  const clean = counts.errors + counts.closes + counts.wrong + missing === 0 && counts.echoed === counts.sent && exit.code === 0;
  console.log(clean ? 'OK: no error' : 'FAILED');
  process.exitCode = clean ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1); // the server and the connections would keep it running
});
