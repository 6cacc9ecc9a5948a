#!/usr/bin/env node
'use strict';
// A small comparison of the four answers to "more than one client" (blocking, a thread per
// connection, a process per connection, select()), for docs/servers.md. Not the benchmark (that
// is `bench`): one machine, loopback, a load generator on Node's net in this process.
//
//   node scripts/compare-servers.js [--clients 50] [--round-trips 200] [--connections 200]
//
// steady: --clients connect at once, and each makes --round-trips 64-byte round trips in turn.
// churn:  --connections short connections, 10 at a time: connect, one round trip, close.
const net = require('node:net');
const { parseArgs } = require('node:util');

const { startProgram, killStarted } = require('../test/helpers/programs');

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '50' },
    'round-trips': { type: 'string', default: '200' },
    connections: { type: 'string', default: '200' },
  },
});
const CLIENTS = Number(values.clients);
const ROUND_TRIPS = Number(values['round-trips']);
const CONNECTIONS = Number(values.connections);
const MESSAGE = Buffer.alloc(64, 'x');

/** One client: connect, `n` round trips of MESSAGE, close. Resolves when the last echo is back. */
function client(port, n) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    let left = n;
    let got = 0;
    sock.on('error', reject);
    sock.on('connect', () => sock.write(MESSAGE));
    sock.on('data', (d) => {
      got += d.length;
      while (got >= MESSAGE.length) {
        got -= MESSAGE.length;
        if (--left === 0) {
          sock.end();
          return resolve();
        }
        sock.write(MESSAGE);
      }
    });
  });
}

async function timed(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function steady(port, clients) {
  const seconds = await timed(() => Promise.all(Array.from({ length: clients }, () => client(port, ROUND_TRIPS))));
  return (clients * ROUND_TRIPS) / seconds;
}

async function churn(port) {
  let next = 0;
  const worker = async () => {
    while (next++ < CONNECTIONS) await client(port, 1);
  };
  const seconds = await timed(() => Promise.all(Array.from({ length: 10 }, worker)));
  return CONNECTIONS / seconds;
}

/** Says which server and phase failed, with the end of what the server printed. */
const phase = (command, name, server) => (err) => {
  throw new Error(`${command}, ${name}: ${err.message}\n${server.output.slice(-2000)}`);
};

const fmt = (n) => (n === null ? '—' : Math.round(n).toLocaleString('en-US'));

async function main() {
  const rows = [];
  for (const [command, args] of [['echo-server', ['--quiet']], ['threaded-echo-server', []], ['forking-echo-server', []]]) {
    const server = await startProgram(command, args);
    try {
      const s = await steady(server.port, CLIENTS).catch(phase(command, 'steady', server));
      const c = await churn(server.port).catch(phase(command, 'churn', server));
      rows.push([command, s, c]);
    } finally {
      await server.stop('SIGTERM');
    }
  }
  // The blocking server serves one connection, ever: one client is all it can be measured with.
  const blocking = await startProgram('blocking-echo-server');
  rows.push(['blocking-echo-server (1 client)', await steady(blocking.port, 1), null]);
  await blocking.exited;

  console.log(`steady: ${CLIENTS} clients x ${ROUND_TRIPS} round trips of ${MESSAGE.length} B; churn: ${CONNECTIONS} connections, 10 at a time`);
  console.log('| server | steady: round trips/s | churn: connections/s |');
  console.log('|---|---:|---:|');
  for (const [name, s, c] of rows) console.log(`| ${name} | ${fmt(s)} | ${fmt(c)} |`);
}

main().then(
  () => killStarted(),
  (err) => {
    killStarted();
    console.error(err);
    process.exitCode = 1;
  },
);
