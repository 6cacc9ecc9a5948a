'use strict';
// Starting the package's programs as real processes, talking to them with Node's own net module
// (an implementation independent of ours), and stopping only the processes a test started.
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const net = require('node:net');
const path = require('node:path');

const cli = path.resolve(__dirname, '../../lib/cli.js');
const started = new Set();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe()` until it returns `want` or `ms` pass; resolves with the last value seen. */
async function settle(probe, want, ms = 10000) {
  const until = Date.now() + ms;
  let value = probe();
  while (value !== want && Date.now() < until) {
    await sleep(50);
    value = probe();
  }
  return value;
}

/** The q-quantile (0..1) of sorted numbers. */
function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Starts `select-reactor <command> --port 0 ...args` and resolves once it says where it listens.
 * The result collects everything the program prints and can stop it. `ulimit` (a shell command
 * such as `ulimit -n 64`) is run first, in a shell that then becomes the program (same pid).
 */
function startProgram(command, args = [], { portArgs = ['--port', '0'], ready = /starting up on \S+ port (\d+)/, ulimit = null } = {}) {
  const argv = [cli, command, ...portArgs, ...args];
  const [file, fileArgs] = ulimit === null
    ? [process.execPath, argv]
    : ['sh', ['-c', `${ulimit} && exec "$0" "$@"`, process.execPath, ...argv]];
  // Its own process group, so that killStarted() also reaches what it started (--workers, the
  // forking server's children), which would otherwise outlive it holding our pipes open.
  const child = spawn(file, fileArgs, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  started.add(child);
  const program = { child, port: 0, output: '', exited: null };
  program.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    started.delete(child);
    resolve({ code, signal });
  }));
  program.lines = () => program.output.split('\n').filter(Boolean);
  /** How many lines match `re`. */
  program.count = (re) => program.lines().filter((l) => re.test(l)).length;
  /** Resolves when the output matches `re` (or rejects after `ms`). */
  program.waitFor = (re, ms = 10000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const m = program.output.match(re);
        if (!m) return false;
        clearTimeout(timer);
        child.stdout.off('data', check);
        child.stderr.off('data', check);
        resolve(m);
        return true;
      };
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${program.output}`)), ms);
      if (!check()) {
        child.stdout.on('data', check);
        child.stderr.on('data', check);
      }
    });
  /**
   * How many lines match `re`, once at least one does or `ms` have passed: a program's output
   * reaches us on its own schedule, possibly after the sockets' news.
   */
  program.said = async (re, ms = 5000) => {
    const until = Date.now() + ms;
    while (program.count(re) === 0 && Date.now() < until) await sleep(20);
    return program.count(re);
  };
  /** Sends `signal` and resolves with {code, signal} once the process has exited. */
  program.stop = async (signal = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return program.exited;
  };
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (text) => {
      program.output += text;
    });
  }
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`${command} exited (${code}) before it was ready:\n${program.output}`)));
    program.waitFor(ready).then((m) => {
      program.port = Number(m[1]);
      resolve(program);
    }, reject);
  });
}

/** Kills whatever a test left running (only processes started here). */
function killStarted() {
  for (const child of started) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL'); // the group is gone already
    }
  }
  started.clear();
}

/**
 * One echo client on Node's net: sends `payload` (in pieces of `chunk` bytes), then half-closes if
 * asked, and resolves with everything that came back once `payload.length` bytes (or EOF) arrive.
 */
function echoOnce(port, payload, { halfClose = false, chunk = 65536, host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host, allowHalfOpen: true });
    const chunks = [];
    let got = 0;
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      sock.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    sock.on('error', finish);
    sock.on('data', (data) => {
      chunks.push(data);
      got += data.length;
      if (got >= payload.length && !halfClose) finish();
    });
    sock.on('end', () => finish());
    sock.on('connect', () => {
      for (let off = 0; off < payload.length; off += chunk) sock.write(payload.subarray(off, off + chunk));
      if (halfClose) sock.end();
    });
  });
}

/** One connected net socket with Nagle off, for ping-pong round trips. */
async function pinger(port) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.setNoDelay(true);
  return sock;
}

/** One round trip of `msg`: resolves with the milliseconds until all of it came back. */
function roundTrip(sock, msg) {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d) => {
      got += d;
      if (got.length < msg.length) return;
      sock.off('data', onData);
      sock.off('error', reject);
      if (got !== msg) reject(new Error(`echo was ${JSON.stringify(got)}, not ${JSON.stringify(msg)}`));
      else resolve(Number(process.hrtime.bigint() - start) / 1e6);
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.write(msg);
  });
}

/**
 * A client that connects and keeps its connection. `echo(msg)` resolves with what came back, or
 * with null once the server has closed the connection (how a refused client ends).
 */
async function client(port) {
  const sock = net.connect(port, '127.0.0.1');
  sock.setEncoding('utf8');
  let ended = false;
  let got = '';
  let waiter = null;
  const wake = () => { if (waiter) waiter(); };
  sock.on('data', (d) => { got += d; wake(); });
  sock.on('error', () => { ended = true; wake(); });
  sock.on('close', () => { ended = true; wake(); });
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  return {
    sock,
    get ended() { return ended; },
    async echo(msg, ms = 10000) {
      got = '';
      if (!ended) sock.write(msg);
      const until = Date.now() + ms;
      while (got.length < msg.length && !ended && Date.now() < until) {
        await new Promise((resolve) => {
          waiter = resolve;
          setTimeout(resolve, 100);
        });
      }
      waiter = null;
      return got.length >= msg.length ? got : null;
    },
    close() { sock.destroy(); },
  };
}

/** `n` random payloads of 1 byte to `max` bytes, each different. */
function randomPayloads(n, max) {
  return Array.from({ length: n }, () => crypto.randomBytes(1 + crypto.randomInt(max)));
}

/**
 * Starts helpers/flood.js: `count` connections to `port` that write as fast as the kernel takes
 * and never read, in a child process (so their writes never delay what a test measures).
 * `flood.status` is its last report ({connected, written}); `flood.errors` what went wrong.
 */
function startFlood(port, count) {
  const child = spawn(process.execPath, [path.join(__dirname, 'flood.js'), String(port), String(count)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const flood = { child, status: { connected: 0, written: 0 }, errors: [], kill: () => child.kill('SIGKILL') };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    for (const line of text.split('\n').filter(Boolean)) {
      const msg = JSON.parse(line);
      if (msg.error) flood.errors.push(msg.error);
      else flood.status = msg;
    }
  });
  return flood;
}

/** A client that sends `bytes` and resets the connection (RST) 5 ms later; resolves once closed. */
function resetMidStream(port, bytes = 200000) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write(crypto.randomBytes(bytes));
      setTimeout(() => sock.resetAndDestroy(), 5);
    });
    sock.on('error', () => {});
    sock.on('close', resolve);
  });
}

module.exports = {
  startProgram, killStarted, echoOnce, pinger, roundTrip, client, randomPayloads, startFlood, resetMidStream, cli,
  sleep, settle, quantile,
};
