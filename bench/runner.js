'use strict';
// One run of the benchmark: start a contender's server (pinned to its CPU), wait until it accepts
// connections, point the load generator at it (pinned to the other CPUs), read the result, stop
// the server. Only processes started here are ever signalled.
const { spawn, spawnSync } = require('node:child_process');
const net = require('node:net');
const os = require('node:os');

const { cpuSeconds, cpuWaitSeconds, rssKiB } = require('./procfs');

const HOST = '127.0.0.1';

// Every process started here and still running, so that an interrupted benchmark can stop them.
const live = new Set();

function track(child) {
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

/** Kills the servers and load generators this harness started and that are still running. */
function killLive() {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/**
 * Which CPUs the server and the load generator get. With taskset and two or more CPUs, the
 * server is pinned to the first and the load generator to the rest, so neither steals the
 * other's core; otherwise both float and the output says so.
 */
function planCpus() {
  const cpus = os.availableParallelism();
  const taskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  if (!taskset || cpus < 2) {
    return { pinned: false, why: taskset ? 'one CPU only' : 'taskset not found', server: null, loadgen: null, threads: 1 };
  }
  const loadgen = cpus === 2 ? '1' : `1-${cpus - 1}`;
  return { pinned: true, server: '0', loadgen, threads: Math.min(4, cpus - 1) };
}

function pinned(cpuList, file, args) {
  return cpuList === null ? [file, args] : ['taskset', ['-c', cpuList, file, ...args]];
}

/** A port nobody listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, HOST);
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/**
 * Starts a server and resolves once it accepts connections: every contender is judged ready the
 * same way, by connecting, since not all of them say anything when they are quiet.
 */
async function startServer(contender, programs, cpus, { timeout = 15000 } = {}) {
  const port = await freePort();
  const [file, args] = pinned(cpus.server, ...contender.command(port, programs));
  const child = track(spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  const server = { child, port, stderr: '', exit: null };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    server.stderr = (server.stderr + text).slice(-4000);
  });
  server.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      server.exit = { code, signal };
      resolve(server.exit);
    });
    child.on('error', (err) => {
      server.exit = { code: null, signal: null, error: err.message };
      resolve(server.exit);
    });
  });
  const deadline = Date.now() + timeout;
  while (!(await canConnect(port))) {
    if (server.exit) throw new Error(`${contender.name} exited before it listened (${describeExit(server.exit)}):\n${server.stderr}`);
    if (Date.now() > deadline) {
      await stopServer(server);
      throw new Error(`${contender.name} did not listen on port ${port} within ${timeout / 1000} s:\n${server.stderr}`);
    }
    await sleep(20);
  }
  return server;
}

function describeExit({ code, signal, error }) {
  return error ?? (signal ? `signal ${signal}` : `exit ${code}`);
}

/** SIGTERM, then SIGKILL if it has not gone within `grace` ms. Resolves with how it exited. */
async function stopServer(server, { grace = 5000 } = {}) {
  if (!server.exit) server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.exit || server.child.kill('SIGKILL'), grace);
  const exit = await server.exited;
  clearTimeout(timer);
  return exit;
}

/**
 * Runs the load generator and resolves with its JSON result. `onLine` sees every line it prints
 * before the result (idle mode's "ready"); stdin stays open until `release()` is called.
 */
function loadgen(programs, cpus, options, { onLine, keepStdin = false } = {}) {
  const args = Object.entries(options).flatMap(([k, v]) => [`--${k}`, String(v)]);
  const [file, argv] = pinned(cpus.loadgen, programs.loadgen, args);
  const child = track(spawn(file, argv, { stdio: [keepStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  let seen = 0;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    stdout += text;
    const lines = stdout.split('\n');
    for (; seen < lines.length - 1; seen++) onLine?.(lines[seen]);
  });
  child.stderr.on('data', (text) => {
    stderr += text;
  });
  const done = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const lines = stdout.trim().split('\n');
      if (code !== 0) {
        reject(new Error(`load generator (${describeExit({ code, signal })}): ${stderr.trim() || 'no message'}`));
        return;
      }
      try {
        resolve(JSON.parse(lines[lines.length - 1]));
      } catch {
        reject(new Error(`load generator printed no result: ${stdout}${stderr}`));
      }
    });
  });
  return { done, release: () => child.stdin?.end(), kill: () => child.kill('SIGKILL') };
}

function loadOptions(cell, port, settings, cpus) {
  const options = { port, host: HOST, mode: cell.kind, conns: cell.conns, size: cell.size };
  if (cell.kind !== 'idle') {
    Object.assign(options, { threads: Math.min(cpus.threads, cell.conns), warmup: settings.warmup, duration: settings.duration });
  }
  if (cell.window) options.window = cell.window;
  return options;
}

/** Opens `conns` idle connections and resolves once each has made its round trip; they stay open until release(). */
async function openIdle(conns, server, programs, cpus) {
  let ready;
  const readyLine = new Promise((resolve) => {
    ready = resolve;
  });
  const run = loadgen(programs, cpus, { port: server.port, host: HOST, mode: 'idle', conns, size: 64 }, {
    keepStdin: true,
    onLine: (line) => line.includes('"ready"') && ready(),
  });
  try {
    await Promise.race([readyLine, run.done]);
  } catch (err) {
    run.release();
    throw err;
  }
  return run;
}

/**
 * RSS per idle connection: after a warm-up (so code paths are compiled), a tenth of the
 * connections are opened and the RSS read; then the other nine tenths are opened, the RSS is
 * sampled every 10 ms until they have sat idle a while, and the highest sample is taken; the
 * growth, per connection of the nine tenths. RSS moves in steps of hundreds of KiB when a
 * garbage-collected heap or a buffer pool grows or shrinks, and a collection during the burst of
 * accepts can even return more than the connections cost (a plain before/after difference came
 * out negative for ours), so for a server whose connections cost about 1 KiB the figure is
 * only good to a KiB or two; for the others it is steady. Each connection makes one verified
 * round trip when it opens and one more at the end, so none was dropped.
 */
async function measureIdle(cell, server, programs, cpus, settings) {
  await loadgen(programs, cpus, { port: server.port, host: HOST, mode: 'pingpong', conns: 10, size: 64, warmup: 0, duration: 0.2 }).done;
  const first = Math.max(1, Math.round(cell.conns / 10));
  const runs = [];
  let before;
  let peak = 0;
  let sampler;
  try {
    runs.push(await openIdle(first, server, programs, cpus));
    await sleep(settings.settle);
    before = rssKiB(server.child.pid);
    sampler = setInterval(() => {
      peak = Math.max(peak, rssKiB(server.child.pid));
    }, 10);
    runs.push(await openIdle(cell.conns - first, server, programs, cpus));
    await sleep(settings.settle);
    peak = Math.max(peak, rssKiB(server.child.pid));
  } finally {
    clearInterval(sampler);
    for (const run of runs) run.release();
  }
  const results = await Promise.all(runs.map((run) => run.done));
  const verified = results.reduce((sum, r) => sum + r.verified_bytes, 0);
  return {
    ...results[results.length - 1],
    conns: cell.conns,
    verified_bytes: verified,
    rss_before_kib: before,
    rss_after_kib: peak,
    measured_conns: cell.conns - first,
    value: (peak - before) / (cell.conns - first),
  };
}

/** One run: this contender, this cell. Resolves with the load generator's result and `value`. */
async function runOne(cell, contender, programs, cpus, settings) {
  let server;
  try {
    server = await startServer(contender, programs, cpus);
  } catch {
    // The free port may have been taken between the probe and the server's bind: one more try.
    server = await startServer(contender, programs, cpus);
  }
  let result;
  try {
    if (cell.kind === 'idle') {
      result = await measureIdle(cell, server, programs, cpus, settings);
    } else {
      const cpu0 = cpuSeconds(server.child.pid);
      const wait0 = cpuWaitSeconds(server.child.pid);
      const t0 = process.hrtime.bigint();
      result = await loadgen(programs, cpus, loadOptions(cell, server.port, settings, cpus)).done;
      result.value = cell.kind === 'pingpong' ? result.rps : result.mbps;
      // The server's CPU time per round trip (or per MB) over the whole load, warm-up included:
      // a figure that another process's load on the machine disturbs far less than throughput.
      const cpu = cpuSeconds(server.child.pid) - cpu0;
      const ops = cell.kind === 'pingpong' ? result.verified_bytes / cell.size : result.verified_bytes / 1e6;
      result.server_cpu_s = cpu;
      result.cpu_us_per_op = ops > 0 ? (cpu * 1e6) / ops : null;
      // How much of the run the server's loop stood ready with no CPU to run on: the machine's
      // own noise, which explains a round that disagrees with the others.
      result.server_cpu_wait_share = (cpuWaitSeconds(server.child.pid) - wait0) / (Number(process.hrtime.bigint() - t0) / 1e9);
    }
    if (server.exit) throw new Error(`${contender.name} exited during the run (${describeExit(server.exit)}):\n${server.stderr}`);
  } finally {
    await stopServer(server);
  }
  // A server that crashed when asked to stop has not earned its figure either. (Python's
  // reference has no SIGTERM handler, so being ended by SIGTERM counts as stopping.)
  const { code, signal } = server.exit;
  if (code !== 0 && signal !== 'SIGTERM') {
    throw new Error(`${contender.name} exited with ${describeExit(server.exit)} when stopped:\n${server.stderr}`);
  }
  return result;
}

module.exports = { planCpus, runOne, startServer, stopServer, loadgen, rssKiB, cpuSeconds, killLive, HOST };
