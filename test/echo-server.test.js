'use strict';
// The select() echo server as a black box: spawned as a process, driven by Node's own net module,
// by Python's socket module, and compared with the Python reference it mirrors.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const net = require('node:net');
const path = require('node:path');

const { startProgram, killStarted, echoOnce, randomPayloads, resetMidStream } = require('./helpers/programs');
const { sr, closedPort } = require('./helpers/sockets');

const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : null;
const reference = path.resolve(__dirname, '../docs/python/select_echo_server.py');

describe('echo-server', function () {
  this.timeout(60000);
  let server;

  before(async () => {
    server = await startProgram('echo-server', ['--quiet']);
  });
  after(async () => {
    if (server) assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
    killStarted();
  });

  it('echoes 120 concurrent clients with distinct random payloads up to 256 KiB, byte for byte', async () => {
    const payloads = randomPayloads(120, 256 * 1024);
    const echoes = await Promise.all(payloads.map((p) => echoOnce(server.port, p)));
    echoes.forEach((echo, i) => assert.ok(echo.equals(payloads[i]), `client ${i}: ${echo.length} of ${payloads[i].length} bytes, or different`));
  });

  it('returns all of a 4 MiB stream to a client that half-closes, then closes', async () => {
    const payload = crypto.randomBytes(4 << 20);
    const echo = await echoOnce(server.port, payload, { halfClose: true, chunk: 1 << 20 });
    assert.equal(echo.length, payload.length);
    assert.ok(echo.equals(payload));
  });

  it('keeps serving everyone else when a client resets mid-stream', async () => {
    const resets = Array.from({ length: 10 }, () => resetMidStream(server.port));
    const payloads = randomPayloads(20, 128 * 1024);
    const echoes = await Promise.all([...payloads.map((p) => echoOnce(server.port, p)), ...resets]);
    payloads.forEach((p, i) => assert.ok(echoes[i].equals(p), `client ${i}`));
    // And after the resets are dealt with, a new client still gets its echo.
    const late = await echoOnce(server.port, Buffer.from('still here'));
    assert.equal(late.toString(), 'still here');
  });

  it('serves a burst of 200 connects (the backlog is 128, not 5)', async () => {
    const sockets = await Promise.all(Array.from({ length: 200 }, () =>
      new Promise((resolve, reject) => {
        const s = net.connect(server.port, '127.0.0.1', () => resolve(s));
        s.on('error', reject);
      })));
    const echoes = await Promise.all(sockets.map((s, i) =>
      new Promise((resolve) => {
        const msg = `burst ${i}`;
        let got = '';
        s.setEncoding('utf8');
        s.on('data', (d) => {
          got += d;
          if (got.length >= msg.length) {
            s.destroy();
            resolve(got === msg);
          }
        });
        s.write(msg);
      })));
    assert.equal(echoes.filter(Boolean).length, 200);
  });

  it('serves Python\'s own socket module as a client', function () {
    if (!python) this.skip();
    const code = [
      'import socket, sys, os',
      'data = os.urandom(300000)',
      `with socket.create_connection(("127.0.0.1", ${server.port})) as s:`,
      '    s.sendall(data)',
      '    s.shutdown(socket.SHUT_WR)',
      '    got = b"".join(iter(lambda: s.recv(65536), b""))',
      'print("ok" if got == data else "mismatch %d" % len(got))',
    ].join('\n');
    const r = spawnSync(python, ['-c', code], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.stdout.trim(), 'ok', r.stderr);
  });

  it('the echo-client program gets every message back', () => {
    const r = spawnSync(process.execPath, [require('./helpers/programs').cli, 'echo-client', '--host', '127.0.0.1', '--port', String(server.port), 'one', 'two three'], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /: received b'one'\n/);
    assert.match(r.stdout, /: received b'two three'\n/);
  });
});

describe('echo-server, as a program', function () {
  this.timeout(30000);
  afterEach(() => killStarted());

  it('prints the Python server\'s lines, and --trace shows the three lists', async () => {
    const server = await startProgram('echo-server', ['--trace']);
    await echoOnce(server.port, Buffer.from('hello\n'), { halfClose: true });
    await server.waitFor(/closing \('127\.0\.0\.1', \d+\) after reading no data/);
    const lines = server.lines();
    assert.equal(lines[0], `starting up on localhost port ${server.port}`);
    assert.ok(lines.includes('waiting for the next event'));
    assert.ok(lines.includes('  came back  readable=[listener]  writable=[]  exceptional=[]'), lines.join('\n'));
    const client = lines.find((l) => l.startsWith('new connection from')).match(/\d+\)$/)[0].slice(0, -1);
    assert.ok(lines.includes(`received "b'hello\\n'" from ('127.0.0.1', ${client})`), lines.join('\n'));
    assert.ok(lines.includes(`sending "b'hello\\n'" to ('127.0.0.1', ${client})`));
    assert.ok(lines.includes(`output queue for ('127.0.0.1', ${client}) is empty`));
    assert.ok(lines.some((l) => l.endsWith(`  writable=[127.0.0.1:${client}]  exceptional=[]`)), 'the client in the writable list');
    assert.ok(lines.includes(`  going in   inputs=[listener, 127.0.0.1:${client}]  outputs=[127.0.0.1:${client}]`));
    assert.deepEqual(await server.stop('SIGINT'), { code: 0, signal: null });
  });

  it('never spins: an idle client is not left in outputs', async () => {
    const server = await startProgram('echo-server', ['--trace']);
    const sock = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve) => sock.on('connect', resolve));
    sock.write('ping');
    await new Promise((resolve) => sock.once('data', resolve));
    await server.waitFor(/is empty\nwaiting for the next event\n/);
    const before = server.lines().filter((l) => l === 'waiting for the next event').length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = server.lines().filter((l) => l === 'waiting for the next event').length;
    assert.equal(after, before, 'select() returned while nothing happened');
    sock.destroy();
    await server.stop();
  });

  it('exits 0 on SIGINT and on SIGTERM with clients connected, closing them', async () => {
    for (const signal of ['SIGINT', 'SIGTERM']) {
      const server = await startProgram('echo-server', []);
      const sock = net.connect(server.port, '127.0.0.1');
      const closed = new Promise((resolve) => sock.on('close', resolve));
      sock.on('error', () => {});
      await new Promise((resolve) => sock.on('connect', resolve));
      await server.waitFor(/new connection/);
      assert.deepEqual(await server.stop(signal), { code: 0, signal: null });
      await closed;
      assert.match(server.output, new RegExp(`${signal}: closing the listener and 1 clients`));
    }
  });

  it('prints one clear line and exits 1 when the port is in use', async () => {
    const taken = sr.create_server(['127.0.0.1', 0]);
    try {
      const port = taken.getsockname()[1];
      const r = spawnSync(process.execPath, [require('./helpers/programs').cli, 'echo-server', '--host', '127.0.0.1', '--port', String(port)], { encoding: 'utf8', timeout: 10000 });
      assert.equal(r.status, 1);
      assert.equal(r.stderr, `echo-server: cannot listen on 127.0.0.1 port ${port}: the address is already in use\n`);
    } finally {
      taken.close();
    }
  });

  it('says what it expected of bad options and exits 2', () => {
    const r = spawnSync(process.execPath, [require('./helpers/programs').cli, 'echo-server', '--port', 'eighty'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--port must be an integer in \[0, 65535\]/);
  });

  it('says the same lines as the Python reference for the same session', async function () {
    if (!python) this.skip();
    const port = closedPort();
    const py = spawn(python, [reference, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pyOut = '';
    py.stderr.on('data', (d) => { pyOut += d; });
    try {
      for (let i = 0; i < 100 && !pyOut.includes('starting up'); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 200));
      const ours = await startProgram('echo-server', []);
      // One session, the same against both: two messages, each awaited, then a half-close.
      const session = async (p, read) => {
        const sock = net.connect({ port: p, host: '127.0.0.1', allowHalfOpen: true });
        await new Promise((resolve) => sock.on('connect', resolve));
        for (const msg of ['first message', 'second']) {
          sock.write(msg);
          await new Promise((resolve) => sock.once('data', resolve));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        sock.end();
        await new Promise((resolve) => sock.on('close', resolve));
        for (let i = 0; i < 40 && !read().includes('after reading no data'); i++) await new Promise((r) => setTimeout(r, 50));
      };
      await session(port, () => pyOut);
      await session(ours.port, () => ours.output);
      // Client ports differ between the two sessions; the words must not.
      const normal = (text) => text.split('\n')
        .filter((l) => l && !l.startsWith('starting up') && l !== 'waiting for the next event')
        .map((l) => l.replace(/\('127\.0\.0\.1', \d+\)/g, 'CLIENT'));
      assert.deepEqual(normal(ours.output), normal(pyOut));
      assert.ok(normal(ours.output).length >= 6);
      await ours.stop();
    } finally {
      py.kill('SIGKILL');
    }
  });
});
