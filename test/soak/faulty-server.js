'use strict';
// A server on Node's net with one fault of our choosing, for test/soak.test.js: the soak must
// pass it with --fault none and fail it with any fault. The echo shape or the chat shape (the
// chat server's line format: "127.0.0.1:<port>: <line>" to every other client).
//
//   node test/soak/faulty-server.js echo|chat none|corrupt|leak|die|grow|dup|lose|back
const net = require('node:net');

const [shape, fault] = process.argv.slice(2);
let connections = 0;
const hold = []; // what the faults keep: sockets never closed, memory never freed

function echo(sock) {
  const n = ++connections;
  if (fault === 'die' && n === 100) process.exit(3);
  if (fault === 'grow' && n === 100) {
    const big = Buffer.alloc(64 * 2 ** 20, 1); // filled, so that it is resident
    hold.push(big);
  }
  sock.on('data', (data) => {
    if (fault === 'corrupt' && n % 50 === 0) data[0] ^= 0xff;
    sock.write(data);
  });
  sock.on('end', () => {
    if (fault === 'leak' && n % 25 === 0) return hold.push(sock); // never closed
    sock.end();
  });
  sock.on('error', () => sock.destroy());
}

const clients = new Set();
function chat(sock) {
  const n = ++connections;
  const name = `127.0.0.1:${sock.remotePort}`;
  let partial = '';
  clients.add(sock);
  sock.setEncoding('utf8');
  sock.on('data', (text) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      let skipped = false;
      for (const other of clients) {
        if (other === sock && !(fault === 'back' && n % 50 === 0)) continue;
        // lose: one receiver misses this line, the rest get it.
        if (fault === 'lose' && n % 50 === 0 && !skipped) {
          skipped = true;
          continue;
        }
        other.write(`${name}: ${line}\n`);
        if (fault === 'dup' && n % 50 === 0) other.write(`${name}: ${line}\n`);
      }
    }
  });
  sock.on('end', () => {
    clients.delete(sock);
    sock.end();
  });
  sock.on('error', () => {
    clients.delete(sock);
    sock.destroy();
  });
}

const server = net.createServer({ allowHalfOpen: true }, shape === 'chat' ? chat : echo);
server.listen(0, '127.0.0.1', () => process.stderr.write(`starting up on 127.0.0.1 port ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
