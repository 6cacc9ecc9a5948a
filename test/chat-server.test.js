'use strict';
// chat-server: the select() loop with a line relay between clients, driven over loopback by
// Node's net module (and, for a client that never reads, by a socket with a tiny receive buffer).
const assert = require('node:assert/strict');
const net = require('node:net');

const { startProgram, killStarted } = require('./helpers/programs');
const { sr } = require('./helpers/sockets');

/** A chat client: what it received, as text, and a promise for the next `n` lines. */
async function join(port) {
  const sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const c = { sock, text: '', name: '', count: 0 };
  sock.setEncoding('utf8');
  sock.on('data', (d) => {
    c.text += d;
    for (let i = d.indexOf('\n'); i >= 0; i = d.indexOf('\n', i + 1)) c.count++;
  });
  sock.on('error', () => {});
  sock.on('end', () => sock.end());
  c.closed = new Promise((resolve) => sock.on('close', resolve));
  c.lines = (n, ms = 15000) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wanted ${n} lines, got: ${JSON.stringify(c.text.slice(-300))}`)), ms);
    const check = () => {
      if (c.count < n) return; // counted as it comes: splitting megabytes on every chunk is too slow a reader
      clearTimeout(timer);
      sock.off('data', check);
      resolve(c.text.split('\n').slice(0, -1));
    };
    sock.on('data', check);
    check();
  });
  await new Promise((resolve) => sock.on('connect', resolve));
  c.port = sock.localPort;
  c.name = `127.0.0.1:${c.port}`;
  return c;
}

describe('chat-server', function () {
  this.timeout(60000);
  afterEach(() => killStarted());

  it('relays every line to every other client, and not back to its sender', async () => {
    const server = await startProgram('chat-server');
    const [a, b, c] = [await join(server.port), await join(server.port), await join(server.port)];
    await server.waitFor(/(new connection[^]*){3}/);
    a.sock.write('hel');
    await new Promise((resolve) => setTimeout(resolve, 50));
    a.sock.write('lo\nsecond line\r\n');
    b.sock.write('from b\n');
    assert.deepEqual((await c.lines(3)).sort(), [`${a.name}: hello`, `${a.name}: second line`, `${b.name}: from b`].sort());
    assert.deepEqual(await b.lines(2), [`${a.name}: hello`, `${a.name}: second line`]);
    assert.deepEqual(await a.lines(1), [`${b.name}: from b`]);
    // A client that half-closes: its unfinished last line still goes out, and it leaves.
    c.sock.end('no newline');
    assert.deepEqual((await a.lines(2))[1], `${c.name}: no newline`);
    await c.closed;
    await server.waitFor(new RegExp(`closing \\('127\\.0\\.0\\.1', ${c.port}\\) after reading no data`));
    assert.equal(a.text.split('\n').length - 1, 2, 'a never got its own lines back');
    assert.deepEqual(await server.stop('SIGINT'), { code: 0, signal: null });
    await Promise.all([a.closed, b.closed]);
  });

  it('lets go of a client that does not read, and everyone else still gets every line, in order', async () => {
    const server = await startProgram('chat-server', ['--max-queue', String(256 * 1024)]);
    // The slow one reads nothing and has a tiny receive buffer, so the backlog builds in the server.
    const slow = sr.socket();
    slow.setsockopt(sr.SOL_SOCKET, sr.SO_RCVBUF, 4096);
    slow.connect(['127.0.0.1', server.port]);
    const slowName = `('127.0.0.1', ${slow.getsockname()[1]})`;
    try {
      const [talker, reader] = [await join(server.port), await join(server.port)];
      await server.waitFor(/(new connection[^]*){3}/);
      // 6 MB in 30 paced batches: the reader keeps up; the slow one cannot take it all, even with
      // what Linux buffers on loopback (a few MB) for a client that reads nothing.
      const count = 27000;
      const line = (i) => `line ${String(i).padStart(6, '0')} ${'x'.repeat(200)}`;
      for (let i = 0; i < count; i += 900) {
        talker.sock.write(Array.from({ length: 900 }, (_, k) => line(i + k) + '\n').join(''));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const got = await reader.lines(count, 40000).catch((e) => { throw new Error(e.message + server.output); });
      got.forEach((l, i) => assert.equal(l, `${talker.name}: ${line(i)}`, `line ${i}`));
      const m = await server.waitFor(new RegExp(`closing ${slowName.replace(/[()]/g, '\\$&')} after (\\d+) bytes queued for it, more than --max-queue`));
      assert.ok(Number(m[1]) > 256 * 1024);
      assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
      await Promise.all([talker.closed, reader.closed]);
    } finally {
      slow.close();
    }
  });

  it('refuses a --max-queue smaller than a line', async () => {
    const r = require('node:child_process').spawnSync(process.execPath, [require('./helpers/programs').cli, 'chat-server', '--max-queue', '10'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--max-queue must be an integer of at least 65536 bytes, got 10/);
  });
});
