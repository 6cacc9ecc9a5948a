'use strict';
// Loopback helpers shared by the test files: every socket a test opens is tracked and closed
// after it, listeners bind port 0, and children are only ever the ones a test started.
const { spawnSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const sr = require('../..');

/** Tracks sockets so that `closeAll()` (in afterEach) closes whatever a test opened. */
class Opened {
  constructor() {
    this.sockets = [];
  }
  add(...sockets) {
    this.sockets.push(...sockets);
    return sockets.length === 1 ? sockets[0] : sockets;
  }
  closeAll() {
    for (const s of this.sockets.splice(0)) s.close();
  }
}

/** A listening TCP socket on 127.0.0.1 and a free port the kernel picked. */
function listener(opened, opts = {}) {
  const server = opened.add(sr.create_server(['127.0.0.1', 0], opts));
  return [server, server.getsockname()[1]];
}

/** [client, server-side connection] over loopback TCP. */
function tcpPair(opened) {
  const [server, port] = listener(opened);
  const client = opened.add(sr.create_connection(['127.0.0.1', port]));
  const [conn] = server.accept();
  opened.add(conn);
  return [client, conn];
}

/** A port nobody listens on: bound (not listening) and closed again. */
function closedPort() {
  const s = sr.socket();
  s.bind(['127.0.0.1', 0]);
  const port = s.getsockname()[1];
  s.close();
  return port;
}

/** Sets SO_LINGER {l_onoff: 1, l_linger: 0}: close() then sends a reset instead of a FIN. */
function lingerZero(s) {
  const linger = Buffer.alloc(8); // struct linger: two ints in host byte order
  if (os.endianness() === 'LE') linger.writeInt32LE(1, 0);
  else linger.writeInt32BE(1, 0);
  s.setsockopt(sr.SOL_SOCKET, sr.SO_LINGER, linger);
}

/** Reads until `n` bytes or EOF from a blocking (or timed) socket. */
function recvExactly(s, n) {
  const chunks = [];
  let got = 0;
  while (got < n) {
    const chunk = s.recv(Math.min(65536, n - got));
    if (chunk.length === 0) break;
    chunks.push(chunk);
    got += chunk.length;
  }
  return Buffer.concat(chunks);
}

const root = path.resolve(__dirname, '../..');

/**
 * Runs `code` in a fresh node process (for what must not touch mocha's own process: signal
 * dispositions, garbage collection, exit codes) and returns {status, stdout, stderr}.
 */
function runNode(code, { args = [], timeout = 20000, input } = {}) {
  const r = spawnSync(process.execPath, [...args, '-e', code], {
    cwd: root,
    env: { ...process.env, SR_ROOT: root },
    encoding: 'utf8',
    timeout,
    input,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

module.exports = { sr, Opened, listener, tcpPair, closedPort, lingerZero, recvExactly, runNode, root };
