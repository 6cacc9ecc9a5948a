#!/usr/bin/env node
'use strict';
// npm run soak -- [--seconds N] [--connections N] [--mode mixed|churn] [--clients N]
//                 [--max-size BYTES] [--shape echo|chat] [--settle 10] [--rss-slack 32]
//                 [--warm-up 5] [-- PROGRAM [ITS OPTIONS]]
//
// Starts a server program (`select-reactor PROGRAM --host 127.0.0.1 --port 0 ...`; by default
// `echo-server`, the select() loop; any other command is run as given, and must say "starting
// up on HOST port N" with the port it listens on) and keeps `clients` clients connecting to it
// until N seconds or N connections have passed, every byte they get back checked: the echo shape
// for the echo servers (scripts/soak/echo.js), the chat shape for chat servers (soak/chat.js). Mixed
// mode sends payloads of every size; churn mode makes short connections as fast as the machine
// allows. It prints the connections, the bytes verified, the errors by kind, and the server's
// descriptors and RSS (all its processes, for --workers) at the start, at 10% of the run and at
// the end; and exits 1 on any error, on the server's death, on descriptors that do not come back
// to where they started, on RSS at the end more than 32 MiB above the 10% mark (or above half
// time; neither mark is taken before the warm-up's seconds have passed), or on a server of ours that does not exit 0 on SIGTERM (another command may die of it).
// Traffic goes to 127.0.0.1 only, and stops by itself.
const { spawn } = require('node:child_process');
const path = require('node:path');
const { parseArgs } = require('node:util');

const { chatShape } = require('./soak/chat');
const { echoShape } = require('./soak/echo');
const { serverUsage } = require('./soak/procfs');

const cli = path.resolve(__dirname, '../lib/cli.js');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (text) => process.stdout.write(`${text}\n`);
/** RSS may rise this far above its 10% mark (and its half-time mark) by the end of a run. */
const RSS_SLACK_MIB = 32; // --rss-slack
/**
 * No RSS mark is taken before this many seconds of load: under a high allocation rate V8 grows its
 * young generation to its full size (semi-spaces of up to 16 MiB) in the first seconds, once, and a
 * short run's 10% mark would count that growth as a leak.
 */
const WARM_UP_SECONDS = 5; // --warm-up

function usage(message) {
  process.stderr.write(`soak: ${message}\n` +
    'usage: npm run soak -- [--seconds N] [--connections N] [--mode mixed|churn] [--clients N] ' +
    '[--max-size BYTES] [--shape echo|chat] [--settle SECONDS] [--rss-slack MIB] [--warm-up SECONDS]\n' +
    '  [-- PROGRAM [OPTIONS]]\n' +
    '  PROGRAM: echo-server (default; with --selector select|poll|epoll or --workers N), chat-server,\n' +
    '  another select-reactor server, or any command that says "starting up on HOST port N"\n');
  process.exit(2);
}

function options(argv) {
  const cut = argv.indexOf('--');
  const program = cut < 0 ? [] : argv.slice(cut + 1);
  let values;
  try {
    ({ values } = parseArgs({
      args: cut < 0 ? argv : argv.slice(0, cut),
      options: {
        seconds: { type: 'string' },
        connections: { type: 'string' },
        mode: { type: 'string', default: 'mixed' },
        clients: { type: 'string' },
        'max-size': { type: 'string', default: String(256 * 1024) },
        shape: { type: 'string' },
        settle: { type: 'string' },
        'rss-slack': { type: 'string' },
        'warm-up': { type: 'string' },
      },
    }));
  } catch (err) {
    usage(`${err.message} (the server's own options go after --)`);
  }
  const number = (name, fallback) => {
    if (values[name] === undefined) return fallback;
    const n = Number(values[name]);
    if (!(n > 0) || !Number.isFinite(n)) usage(`--${name} must be a positive number, got ${values[name]}`);
    return n;
  };
  if (!['mixed', 'churn'].includes(values.mode)) usage(`--mode must be mixed or churn, got ${values.mode}`);
  const command = program[0] ?? 'echo-server';
  const shape = values.shape ?? (/chat/.test(program.join(' ')) ? 'chat' : 'echo');
  if (!['echo', 'chat'].includes(shape)) usage(`--shape must be echo or chat, got ${shape}`);
  const connections = number('connections', Infinity);
  return {
    command,
    args: program.slice(1),
    shape,
    mode: values.mode,
    // Neither given: a minute. One given: that alone ends the run. Both: whichever comes first.
    seconds: number('seconds', connections === Infinity ? 60 : Infinity),
    connections,
    rssSlack: number('rss-slack', RSS_SLACK_MIB),
    warmUp: values['warm-up'] === '0' ? 0 : number('warm-up', WARM_UP_SECONDS), // 0: marks on time
    // The chat server sends each line to every client: fewer of them keep it a relay, not a flood.
    clients: number('clients', shape === 'chat' ? 20 : values.mode === 'churn' ? 400 : 500),
    maxSize: number('max-size'),
    // How long the server may take to close what the clients closed (and the chat server to deliver
    // what it holds), before a count is a leak (or a line lost).
    settle: number('settle', 10),
  };
}

/** The servers of `select-reactor`, and whether each takes --quiet. */
const servers = { 'echo-server': true, 'chat-server': true, 'threaded-echo-server': false, 'forking-echo-server': false };

/** Starts the server and resolves with {child, port, output(), exited} once it listens. */
async function startServer(command, args) {
  const ours = command in servers;
  const argv = ours ? [cli, command, '--host', '127.0.0.1', '--port', '0', ...(servers[command] ? ['--quiet'] : []), ...args] : args;
  const child = spawn(ours ? process.execPath : command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  // The server's last words, for the report: the tail only, as a run may last millions of connections.
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (text) => { output = (output + text).slice(-16384); });
  }
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let gone = null;
  exited.then((exit) => { gone = exit; });
  // Up to 30 s: a server under a sanitizer, started beside others on a busy machine, is slow to listen.
  for (let i = 0; i < 600; i++) {
    const m = output.match(/starting up on \S+ port (\d+)/);
    if (m) return { child, port: Number(m[1]), output: () => output, exited, ours };
    if (gone) break;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not start${gone ? ` (exit ${JSON.stringify(gone)})` : ''}:\n${output}`);
}

function newStats() {
  const stats = {};
  /** Back to zero: the warm-up's figures are not the run's. */
  stats.reset = () => Object.assign(stats, { connections: 0, verified: 0, lines: 0, errors: 0, dropped: 0, kinds: new Map(), notes: [] });
  stats.reset();
  /** Counts a failure of `kind`, keeping the first detail of each kind as its example. */
  stats.fail = (kind, detail) => {
    stats.errors++;
    const entry = stats.kinds.get(kind);
    if (entry) entry.count++;
    else stats.kinds.set(kind, { count: 1, example: detail });
  };
  stats.note = (text) => { if (stats.notes.length < 20) stats.notes.push(text); };
  return stats;
}

const mib = (n) => `${n.toFixed(1)} MiB`;
const bytes = (n) => (n < 2 ** 20 ? `${(n / 1024).toFixed(0)} KiB` : `${(n / 2 ** 20).toFixed(n < 2 ** 30 ? 1 : 0)} MiB`);
function usageLine(label, u) {
  const each = u.each.length > 1 ? ` (${u.each.map((p) => `pid ${p.pid}: ${p.fds}, ${mib(p.rss)}`).join('; ')})` : '';
  return `${label}: ${u.fds} descriptors, RSS ${mib(u.rss)}${each}`;
}

async function main() {
  const opts = options(process.argv.slice(2));
  const stats = newStats();
  const server = await startServer(opts.command, opts.args);
  const pid = server.child.pid;
  process.on('exit', () => server.child.kill('SIGTERM')); // the soak failed: --workers passes it on
  const shapeOf = opts.shape === 'chat' ? chatShape : echoShape;
  const shape = shapeOf(server.port, stats, { maxSize: opts.maxSize, settle: opts.settle });

  // The baseline, once the server is in its loop and has served one client.
  if (!(await shape.warmUp())) throw new Error(`the warm-up failed: ${JSON.stringify([...stats.kinds])}\n${server.output()}`);
  await sleep(200);
  const start = serverUsage(pid);
  stats.reset();
  await shape.begin?.();
  const until = [Number.isFinite(opts.seconds) ? `${opts.seconds} s` : '', Number.isFinite(opts.connections) ? `${opts.connections} connections` : '']
    .filter(Boolean).join(' or ');
  say(`soak: ${opts.clients} clients for ${until} against ${opts.command} ${opts.args.join(' ')}`.trimEnd() +
    ` (pid ${pid}, port ${server.port}); ${opts.mode}: ${shape.describe(opts.mode)}`);
  say(usageLine('start', start));

  // Stops starting connections at the deadline, at the count, or when the server dies.
  const began = Date.now();
  const deadline = began + opts.seconds * 1000;
  let stopping = false;
  let died = null;
  server.exited.then((exit) => {
    if (stopping) return;
    died = exit;
    stopping = true;
    stats.fail('server died', `exit ${JSON.stringify(exit)} after ${stats.connections} connections`);
  });

  const marks = {}; // usage at 10% and at half of the run
  const markAt = (name, fraction) => {
    const byCount = Number.isFinite(opts.connections);
    let waited = false;
    return (last = false) => {
      if (marks[name] || died) return;
      if (byCount ? stats.connections < opts.connections * fraction : Date.now() < began + opts.seconds * 1000 * fraction) return;
      if (!last && Date.now() < began + opts.warmUp * 1000) {
        waited = true;
        return;
      }
      marks[name] = serverUsage(pid);
      const after = waited ? `, after the ${opts.warmUp} s warm-up` : '';
      if (name === 'tenth') say(usageLine(`10% (${stats.connections} connections${after})`, marks[name]));
    };
  };
  const checks = [markAt('tenth', 0.1), markAt('half', 0.5)];
  const ticker = setInterval(() => checks.forEach((check) => check()), 100);
  let peakRss = start.rss;
  const progress = setInterval(() => {
    if (died) return;
    const u = serverUsage(pid);
    peakRss = Math.max(peakRss, u.rss);
    const s = (Date.now() - began) / 1000;
    say(`  ${s.toFixed(0)} s: ${stats.connections} connections (${(stats.connections / s).toFixed(0)}/s), ` +
      `${bytes(stats.verified)} verified, ${stats.errors} errors, ${u.fds} descriptors, RSS ${mib(u.rss)}`);
  }, opts.seconds > 60 || Number.isFinite(opts.connections) ? 15000 : 5000);

  await Promise.all(Array.from({ length: opts.clients }, async () => {
    while (!stopping && Date.now() < deadline && stats.connections < opts.connections) {
      stats.connections++;
      await shape.connection(opts.mode);
    }
  }));
  clearInterval(progress);
  clearInterval(ticker);
  checks.forEach((check) => check(true));
  if (!died) await shape.finish();

  // Every client has closed; the server must get back to the descriptors it started with.
  let end = start;
  let exit = died;
  if (!died) {
    const settleUntil = Date.now() + opts.settle * 1000;
    end = serverUsage(pid);
    while (end.fds !== start.fds && Date.now() < settleUntil && !died) {
      await sleep(50);
      end = serverUsage(pid);
    }
    peakRss = Math.max(peakRss, end.rss);
    stopping = true;
    server.child.kill('SIGTERM');
    exit = await server.exited;
  }

  const elapsed = (Date.now() - began) / 1000;
  if (!died) say(`${usageLine('end', end)} (peak ${mib(peakRss)})`);
  say(`${stats.connections} connections in ${elapsed.toFixed(1)} s (${(stats.connections / elapsed).toFixed(0)}/s), ` +
    `${stats.verified} bytes verified (${bytes(stats.verified)}` +
    `${opts.shape === 'chat' ? `, ${stats.lines} lines` : ''}), ${stats.errors} errors`);
  for (const [kind, { count, example }] of stats.kinds) say(`  error: ${kind} x${count} (first: ${example})`);
  if (stats.dropped) say(`  disconnected by the server as slow readers (allowed by design): ${stats.dropped}`);
  for (const note of stats.notes) say(`  note: ${note}`);
  say(`descriptors ${start.fds} -> ${end.fds}; RSS ${mib(start.rss)} -> ` +
    `${marks.tenth ? `${mib(marks.tenth.rss)} at 10% -> ` : ''}${mib(end.rss)}; server exit ${JSON.stringify(exit)}`);

  const problems = [];
  if (stats.errors > 0) problems.push(`${stats.errors} errors`);
  if (!died && end.fds !== start.fds) problems.push(`descriptors ${start.fds} -> ${end.fds}`);
  if (!died && exit.code !== 0 && (server.ours || exit.signal !== 'SIGTERM')) {
    problems.push(`the server exited ${JSON.stringify(exit)} on SIGTERM`);
  }
  if (stats.verified === 0) problems.push('nothing was verified');
  // Memory still growing after the first 10% (or after half time) is a leak, not warm-up: the slack
  // is for the allocator and V8. Each process of --workers is held to it on its own.
  for (const [name, label] of [['tenth', '10% of the run'], ['half', 'half time']]) {
    if (died || !marks[name]) continue;
    for (const p of end.each) {
      const then = marks[name].each.find((q) => q.pid === p.pid);
      if (then && p.rss > then.rss + opts.rssSlack) {
        problems.push(`RSS of pid ${p.pid} grew from ${mib(then.rss)} at ${label} to ${mib(p.rss)} at the end`);
      }
    }
  }
  if (problems.length > 0) {
    say(`soak: FAILED: ${problems.join('; ')}`);
    if (server.output().trim()) say(`server said:\n${server.output().trim().split('\n').slice(-20).join('\n')}`);
    return 1;
  }
  say('soak: ok');
  return 0;
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`soak: ${err.stack || err.message}\n`);
  process.exit(1);
});
