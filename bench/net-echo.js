#!/usr/bin/env node
'use strict';
// The echo server on Node's net module (libuv's event loop): the idiom from Node's own
// documentation, `socket.pipe(socket)`, which also pauses reading while writes are backed up.
//
//   node bench/net-echo.js [--host 127.0.0.1] [--port 10000]
//
// Says "starting up on HOST port P" on stderr once listening; SIGINT or SIGTERM closes the
// listener and every connection and exits 0.
const net = require('node:net');
const { parseArgs } = require('node:util');

const { values } = parseArgs({ options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '10000' } } });

const sockets = new Set();
const server = net.createServer((socket) => {
  sockets.add(socket);
  // A peer that resets (the load generator stopping mid-stream) is not an error of the server.
  socket.on('error', () => socket.destroy());
  socket.on('close', () => sockets.delete(socket));
  socket.pipe(socket);
});

server.on('error', (err) => {
  process.stderr.write(`net-echo: cannot listen on ${values.host} port ${values.port}: ${err.message}\n`);
  process.exit(1);
});
server.listen({ host: values.host, port: Number(values.port), backlog: 128 }, () => {
  process.stderr.write(`starting up on ${values.host} port ${server.address().port}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    for (const socket of sockets) socket.destroy();
    process.exitCode = 0;
  });
}
