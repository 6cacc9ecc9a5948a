'use strict';
// echo-server --ui: the live view's HTTP and Server-Sent Events, read with raw TCP sockets from
// Node's net module, and the promise that no viewer, slow or gone, disturbs the echo server.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');

const { startProgram, killStarted, echoOnce } = require('./helpers/programs');
const sr = require('..');
const { MAX_VIEWER_QUEUE } = require('../lib/programs/echo-server/live-view/view');

/** Starts the echo server with a live view on a port of its own choosing. */
async function startWithView(args = []) {
  const server = await startProgram('echo-server', ['--ui', '0', ...args]);
  server.ui = Number((await server.waitFor(/live view on http:\/\/localhost:(\d+)\//))[1]);
  return server;
}

/** One HTTP request over a fresh connection, read to EOF: {status, headers, body}. */
function request(port, method, path) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(`${method} ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`));
    const chunks = [];
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      const [head, ...body] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), head, body: body.join('\r\n\r\n') });
    });
  });
}

/** An SSE viewer: every event parsed from its `data:` lines, and a way to wait for one. */
function viewer(port) {
  const sock = net.connect(port, '127.0.0.1', () => sock.write('GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n'));
  const v = { sock, events: [], head: null, text: '' };
  sock.setEncoding('utf8');
  sock.on('error', () => {});
  sock.on('data', (d) => {
    v.text += d;
    if (v.head === null) {
      const end = v.text.indexOf('\r\n\r\n');
      if (end < 0) return;
      v.head = v.text.slice(0, end);
      v.text = v.text.slice(end + 4);
    }
    let blank;
    while ((blank = v.text.indexOf('\n\n')) >= 0) {
      const block = v.text.slice(0, blank);
      v.text = v.text.slice(blank + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data: '));
      assert.ok(data.length <= 1, `one data: line per event, got ${JSON.stringify(block)}`);
      if (data.length === 1) v.events.push(JSON.parse(data[0].slice(6)));
    }
  });
  v.waitFor = (predicate, ms = 10000) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no such event among ${JSON.stringify(v.events.slice(-20))}`)), ms);
    const check = () => {
      const found = v.events.find(predicate);
      if (!found) return;
      clearTimeout(timer);
      sock.off('data', check);
      resolve(found);
    };
    sock.on('data', check);
    check();
  });
  return v;
}

describe('echo-server --ui', function () {
  this.timeout(60000);
  afterEach(() => killStarted());

  it('serves the page at GET /, and says 404 and 405 elsewhere', async () => {
    const server = await startWithView();
    const page = await request(server.ui, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.head, /Content-Type: text\/html/);
    assert.match(page.body, /<title>select\(\) live view/);
    assert.match(page.body, /new EventSource\('\/events'\)/);
    assert.equal((await request(server.ui, 'GET', '/nothing')).status, 404);
    assert.equal((await request(server.ui, 'DELETE', '/')).status, 405);
    assert.equal((await request(server.ui, 'POST', '/client/send?name=nobody&text=x')).status, 404);
    // Meanwhile the echo server echoes.
    assert.equal((await echoOnce(server.port, Buffer.from('still echoing'))).toString(), 'still echoing');
    assert.deepEqual(await server.stop('SIGINT'), { code: 0, signal: null });
  });

  it('streams one event per select() call and per connection change, with the lists select() returned', async () => {
    const server = await startWithView();
    const v = viewer(server.ui);
    await v.waitFor((e) => e.type === 'hello');
    assert.match(v.head, /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/event-stream/);
    const client = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve) => client.on('connect', resolve));
    const name = `127.0.0.1:${client.localPort}`;
    client.write('hello, view\n');
    await new Promise((resolve) => client.once('data', resolve));
    await v.waitFor((e) => e.type === 'log' && e.line === `received "b'hello, view\\n'" from ('127.0.0.1', ${client.localPort})`);
    assert.ok(v.events.find((e) => e.type === 'connect' && e.name === name));
    const selects = v.events.filter((e) => e.type === 'select');
    assert.deepEqual(selects.map((e) => e.n), selects.map((_, i) => i + 1), 'every select() call, numbered');
    assert.deepEqual(selects[0].readable, ['listener'], 'the first call returned the listener');
    const read = selects.find((e) => e.readable.includes(name));
    assert.ok(read && read.inputs.includes(name) && read.inputs.includes('listener'));
    const wrote = await v.waitFor((e) => e.type === 'select' && e.writable.includes(name));
    assert.ok(wrote.outputs.includes(name));
    assert.equal(wrote.queued[name], 'hello, view\n'.length, 'the echo waiting in its outbox');
    client.destroy();
    await v.waitFor((e) => e.type === 'disconnect' && e.name === name);
    v.sock.destroy();
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
  });

  it('opens a test client on request, which connects, says hello and gets its echo', async () => {
    const server = await startWithView();
    const v = viewer(server.ui);
    await v.waitFor((e) => e.type === 'hello');
    const opened = await request(server.ui, 'POST', '/client');
    assert.equal(opened.status, 200);
    const { name } = JSON.parse(opened.body);
    await v.waitFor((e) => e.type === 'log' && e.line === `test client ${name} got back b'hello from the browser\\n'`);
    const sent = await request(server.ui, 'POST', `/client/send?name=${encodeURIComponent(name)}&text=${encodeURIComponent('second line')}`);
    assert.equal(sent.status, 200);
    await v.waitFor((e) => e.type === 'log' && e.line === `test client ${name} got back b'second line\\n'`);
    assert.equal((await request(server.ui, 'POST', `/client/close?name=${encodeURIComponent(name)}`)).status, 200);
    await v.waitFor((e) => e.type === 'disconnect' && e.name === name);
    v.sock.destroy();
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
  });

  it('a viewer that never reads is bounded and told what it missed; one that vanishes is forgotten', async () => {
    const server = await startWithView(['--quiet']);
    // A viewer of our own sockets, with a small receive buffer set before it connects, so that
    // what it does not read piles up in the view's outbox for it, not in the kernel.
    const stalled = sr.socket(sr.AF_INET, sr.SOCK_STREAM);
    stalled.setsockopt(sr.SOL_SOCKET, sr.SO_RCVBUF, 2048);
    stalled.connect(['127.0.0.1', server.ui]);
    stalled.sendall(Buffer.from('GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n'));
    stalled.setblocking(false);
    const vanished = viewer(server.ui);
    await vanished.waitFor((e) => e.type === 'hello');
    vanished.sock.resetAndDestroy();
    const watcher = viewer(server.ui);
    await watcher.waitFor((e) => e.type === 'hello');
    // Every echo makes events: its select() calls, each with the lists and the queued bytes of
    // the hundred idle clients of a scenario (some 5 KB), and its lines.
    assert.equal((await request(server.ui, 'POST', '/lab/scenario?name=idle-100')).status, 200);
    await watcher.waitFor((e) => e.type === 'scenario' && e.phase === 'idle');
    const most = () => Math.max(0, ...watcher.events.filter((e) => e.type === 'select').flatMap((e) => e.viewers));
    const until = Date.now() + 20000;
    for (let i = 0; most() <= MAX_VIEWER_QUEUE && Date.now() < until; i++) {
      const payload = crypto.randomBytes(16 * 1024);
      assert.ok((await echoOnce(server.port, payload)).equals(payload), `echo ${i}`);
    }
    assert.ok(most() > MAX_VIEWER_QUEUE, `the stalled viewer's queue grew to the bound (${most()} B at most)`);
    assert.ok(most() <= MAX_VIEWER_QUEUE + 64 * 1024, `and stayed bounded (${most()} B at most)`);
    // Read again, with room to: once it has caught up, it is told how many events it missed.
    stalled.setsockopt(sr.SOL_SOCKET, sr.SO_RCVBUF, 1 << 20);
    let text = '';
    const readUntil = Date.now() + 20000;
    for (let idle = 0; !text.includes('"type":"skipped"') && Date.now() < readUntil; ) {
      try {
        text += stalled.recv(65536).toString('latin1');
      } catch (err) {
        if (!(err instanceof sr.BlockingIOError)) throw err;
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (++idle % 100 === 0) await echoOnce(server.port, Buffer.from('one more')); // an event to carry the news
      }
    }
    const skipped = /"type":"skipped","count":(\d+)/.exec(text);
    assert.ok(skipped && Number(skipped[1]) > 0, 'told how many events it missed');
    stalled.close();
    watcher.sock.destroy();
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
  });

  it('refuses a bad --ui port, and a taken one, with a clear message', async () => {
    const { spawnSync } = require('node:child_process');
    const { cli } = require('./helpers/programs');
    const bad = spawnSync(process.execPath, [cli, 'echo-server', '--port', '0', '--ui', 'web'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--ui must be an integer in \[0, 65535\], got web/);
    const server = await startWithView();
    const taken = spawnSync(process.execPath, [cli, 'echo-server', '--port', '0', '--ui', String(server.ui)], { encoding: 'utf8', timeout: 10000 });
    assert.equal(taken.status, 1);
    assert.match(taken.stderr, /bind EADDRINUSE/);
    await server.stop();
  });
});
