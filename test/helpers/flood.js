'use strict';
// A child process of flooding clients: `node flood.js PORT N` opens N connections to 127.0.0.1:PORT,
// writes to each as fast as the kernel takes it, and never reads. Every 100 ms it prints one line,
// `{"connected":N,"written":BYTES}`, so the test can see the flood stall once the server stops
// reading. It runs apart from mocha so that its writes never delay the latency being measured.
const net = require('node:net');

const [port, count] = process.argv.slice(2).map(Number);
const block = Buffer.alloc(64 * 1024, 'flood ');
let connected = 0;
let written = 0;

function flood(sock) {
  // write() until the socket's buffer is full, then wait for 'drain', which never comes once the
  // server has stopped reading from us: the flood is then held in the kernel, as intended.
  for (;;) {
    written += block.length;
    if (!sock.write(block)) return;
  }
}

for (let i = 0; i < count; i++) {
  const sock = net.connect(port, '127.0.0.1', () => {
    connected++;
    sock.pause(); // never read: whatever the server echoes stays in its queue
    flood(sock);
  });
  sock.on('drain', () => flood(sock));
  sock.on('error', (err) => {
    process.stdout.write(`${JSON.stringify({ error: err.code || err.message })}\n`);
  });
}
setInterval(() => process.stdout.write(`${JSON.stringify({ connected, written })}\n`), 100);
