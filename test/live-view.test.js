'use strict';
// echo-server --ui: the live view's HTTP and Server-Sent Events, read with raw TCP sockets from
// Node's net module, and the promise that no viewer, slow or gone, disturbs the echo server.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');

const { startProgram, killStarted, echoOnce, settle } = require('./helpers/programs');
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

describe('echo-server --ui: the lab', function () {
  this.timeout(60000);
  afterEach(() => killStarted());

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** A lab endpoint: its status and its JSON. */
  async function lab(port, path, method = 'POST') {
    const answer = await request(port, method, path);
    return { status: answer.status, body: JSON.parse(answer.body) };
  }

  /** The server process's open descriptors. */
  const descriptors = (server) => fs.readdirSync(`/proc/${server.child.pid}/fd`).length;

  /** The first `did` whose account of `name` matches `re`, and that account. */
  async function deed(v, name, re) {
    const found = await v.waitFor((e) => e.type === 'did' && e.deeds.some((d) => d.name === name && d.did.some((t) => re.test(t))));
    return found.deeds.find((d) => d.name === name).did.join('; ');
  }

  /** Starts scenario `sc` and resolves with the name of its (first) client once it is accepted. */
  async function scenario(server, v, sc) {
    const from = v.events.length;
    const started = await lab(server.ui, `/lab/scenario?name=${sc}`);
    assert.equal(started.status, 200);
    assert.equal(started.body.scenario, sc);
    const accepted = await v.waitFor(
      (e) => e.type === 'did' && v.events.indexOf(e) >= from && e.deeds.some((d) => d.did.includes('accepted: joins inputs')),
    );
    return accepted.deeds[0].name;
  }

  it('pauses before the next select(), serves only its own sockets meanwhile, and steps one call at a time', async () => {
    const server = await startWithView();
    const v = viewer(server.ui);
    await v.waitFor((e) => e.type === 'hello');
    const client = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve) => client.on('connect', resolve));
    const name = `127.0.0.1:${client.localPort}`;
    const got = [];
    client.on('data', (d) => got.push(d));
    await v.waitFor((e) => e.type === 'connect' && e.name === name);

    assert.equal((await lab(server.ui, '/lab/pause')).body.paused, true);
    const paused = await v.waitFor((e) => e.type === 'lab' && e.state === 'paused');
    assert.deepEqual(paused.inputs, ['listener', name], 'the lists going in to the next call');
    assert.deepEqual(paused.outputs, []);
    const calls = paused.next - 1;
    client.write('held\n');
    // Paused, the page's own sockets are served (this request), the echo server's are not.
    const state = await lab(server.ui, '/lab/state', 'GET');
    assert.deepEqual({ paused: state.body.paused, calls: state.body.calls }, { paused: true, calls });
    assert.equal((await request(server.ui, 'GET', '/')).status, 200);
    await sleep(300);
    assert.equal(got.length, 0, 'nothing echoed while paused');
    assert.ok(!v.events.some((e) => e.type === 'select' && e.n > calls), 'no select() call while paused');

    // One step: exactly one select() call, what came back, what the loop did, then paused again.
    assert.equal((await lab(server.ui, '/lab/step')).status, 200);
    const next = await v.waitFor((e) => e.type === 'lab' && e.state === 'paused' && e.next === calls + 2);
    const first = v.events.filter((e) => e.type === 'select' && e.n > calls);
    assert.equal(first.length, 1, 'exactly one more select() call');
    assert.deepEqual([first[0].n, first[0].readable, first[0].writable], [calls + 1, [name], []]);
    assert.match(await deed(v, name, /^read/), /^read 5 B and queued them in its outbox; joins outputs/);
    assert.deepEqual(next.outputs, [name], 'in outputs going in to the next call');
    await sleep(300);
    assert.equal(v.events.filter((e) => e.type === 'select' && e.n > calls).length, 1, 'and no more');
    assert.equal(got.length, 0);

    // The next step flushes it and takes it out of outputs.
    await lab(server.ui, '/lab/step');
    await v.waitFor((e) => e.type === 'lab' && e.state === 'paused' && e.next === calls + 3);
    const second = v.events.filter((e) => e.type === 'select' && e.n > calls);
    assert.equal(second.length, 2);
    assert.deepEqual([second[1].readable, second[1].writable], [[], [name]]);
    assert.match(await deed(v, name, /^flushed/), /^flushed 5 B; outbox empty: leaves outputs/);
    await settle(() => Buffer.concat(got).toString(), 'held\n');
    assert.equal(Buffer.concat(got).toString(), 'held\n');

    // Steps until inputs changes: the client leaves (it closes) and the loop stops there.
    client.end();
    const until = await lab(server.ui, '/lab/step?until=inputs');
    assert.equal(until.status, 200);
    const after = await v.waitFor((e) => e.type === 'lab' && e.state === 'paused' && e.next > calls + 3);
    assert.deepEqual(after.inputs, ['listener']);
    assert.match(await deed(v, name, /^closed/), /closed: the peer is done sending/);

    // What a step refuses, and resuming.
    assert.equal((await lab(server.ui, '/lab/step?count=0')).status, 400);
    assert.equal((await lab(server.ui, '/lab/step?until=outputs')).status, 400);
    assert.equal((await lab(server.ui, '/lab/scenario?name=nothing')).status, 404);
    assert.equal((await lab(server.ui, '/lab/resume')).body.paused, false);
    assert.equal((await lab(server.ui, '/lab/step')).status, 409);
    assert.equal((await request(server.ui, 'GET', '/lab/pause')).status, 405);
    assert.equal((await echoOnce(server.port, Buffer.from('running again'))).toString(), 'running again');
    v.sock.destroy();
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
  });

  it('slow reader: its queue passes --max-queue, it leaves inputs, and comes back at the low-water mark', async () => {
    const server = await startWithView(['--quiet', '--max-queue', '131072']);
    const v = viewer(server.ui);
    await v.waitFor((e) => e.type === 'hello');
    const before = descriptors(server);
    const name = await scenario(server, v, 'slow-reader');
    const left = await deed(v, name, /^leaves inputs/);
    const m = /leaves inputs: ([\d,]+) B queued is over --max-queue \(131,072 B\), so the loop stops reading from it \(backpressure\) until its outbox drains to 65,536 B/.exec(left);
    assert.ok(m && Number(m[1].replace(/,/g, '')) > 131072, left);
    await v.waitFor((e) => e.type === 'select' && e.outputs.includes(name) && !e.inputs.includes(name));
    assert.match(await deed(v, name, /^back in inputs/), /back in inputs: its outbox drained to [\d,]+ B, at or under the low-water mark \(65,536 B/);
    await v.waitFor((e) => e.type === 'scenario' && e.name === 'slow-reader' && e.phase === 'done');
    assert.deepEqual((await lab(server.ui, '/lab/scenario/stop')).body, { stopped: 'slow-reader' });
    await v.waitFor((e) => e.type === 'disconnect' && e.name === name);
    assert.equal(await settle(() => descriptors(server), before), before, 'its sockets closed, both ends');
    assert.equal((await lab(server.ui, '/lab/state', 'GET')).body.scenario, null);
    v.sock.destroy();
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
  });

  it('half-close, reset, urgent byte: each rule in what the loop did, and nothing left open', async () => {
    const server = await startWithView(['--quiet']);
    const v = viewer(server.ui);
    await v.waitFor((e) => e.type === 'hello');
    const before = descriptors(server);

    let name = await scenario(server, v, 'half-close');
    assert.match(await deed(v, name, /^recv\(\) returned b''/), /the peer shut down its side, so it leaves inputs; [\d,]+ B still queued are sent first/);
    const last = await deed(v, name, /^closed/);
    assert.match(last, /^flushed [\d,]+ B; outbox empty: leaves outputs .*; closed: the peer is done sending/);
    await v.waitFor((e) => e.type === 'scenario' && e.name === 'half-close' && e.phase === 'done');

    name = await scenario(server, v, 'reset');
    assert.match(await deed(v, name, /ConnectionResetError/), /recv\(\) raised ConnectionResetError \(the peer reset the connection\): dropped and closed/);

    name = await scenario(server, v, 'urgent');
    const x = await v.waitFor((e) => e.type === 'select' && e.exceptional.includes(name));
    assert.ok(x.inputs.includes(name), 'xlist is inputs');
    assert.match(await deed(v, name, /exceptional/), /in the exceptional list \(urgent data, MSG_OOB\): dropped and closed/);
    await v.waitFor((e) => e.type === 'scenario' && e.name === 'urgent' && e.phase === 'done');

    await lab(server.ui, '/lab/scenario/stop');
    assert.equal(await settle(() => descriptors(server), before), before, 'every socket closed');
    v.sock.destroy();
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
  });

  it('100 idle clients go in with the listener; left in outputs, the loop spins; both clean up', async () => {
    const server = await startWithView(['--quiet']);
    const v = viewer(server.ui);
    await v.waitFor((e) => e.type === 'hello');
    const before = descriptors(server);
    await lab(server.ui, '/lab/scenario?name=idle-100');
    await v.waitFor((e) => e.type === 'scenario' && e.phase === 'idle', 20000);
    await echoOnce(server.port, Buffer.from('one more'));
    const call = await v.waitFor((e) => e.type === 'select' && e.inputs.length >= 101);
    assert.ok(call.readable.length <= 2, 'the idle ones never come back');
    assert.equal((await lab(server.ui, '/lab/state', 'GET')).body.scenario.sockets, 100);

    await lab(server.ui, '/lab/scenario?name=spin'); // stops the hundred first
    assert.equal(await settle(() => v.events.filter((e) => e.type === 'disconnect').length >= 101, true), true);
    const rate = await v.waitFor((e) => e.type === 'rate' && e.perSecond > 1000);
    const spun = rate.marks.filter(([, ms, , , , w]) => ms < 1 && w === 1).length;
    assert.ok(spun > 0.9 * rate.marks.length, `calls that returned at once with it writable: ${spun} of ${rate.marks.length}`);
    await v.waitFor((e) => e.type === 'scenario' && e.name === 'spin' && e.phase === 'done');
    await lab(server.ui, '/lab/scenario/stop');
    assert.equal(await settle(() => descriptors(server), before), before, 'every socket closed');
    v.sock.destroy();
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
  });

  for (const backend of ['epoll', 'poll', 'select']) {
    it(`the selectors loop (--selector ${backend}): registered keys, the events returned, pause and step`, async () => {
      const server = await startWithView(['--selector', backend]);
      const v = viewer(server.ui);
      const hello = await v.waitFor((e) => e.type === 'hello');
      assert.equal(hello.lab.mode, 'selectors');
      const client = net.connect(server.port, '127.0.0.1');
      await new Promise((resolve) => client.on('connect', resolve));
      const name = `127.0.0.1:${client.localPort}`;
      const accepted = await v.waitFor((e) => e.type === 'select' && e.ready.length > 0);
      assert.deepEqual([accepted.keys, accepted.ready], [[['listener', 'R']], [['listener', 'R']]]);
      await v.waitFor((e) => e.type === 'connect' && e.name === name);
      await lab(server.ui, '/lab/pause');
      const paused = await v.waitFor((e) => e.type === 'lab' && e.state === 'paused');
      assert.deepEqual(paused.keys, [['listener', 'R'], [name, 'R']]);
      client.write('selected\n');
      await sleep(200);
      await lab(server.ui, '/lab/step');
      await v.waitFor((e) => e.type === 'lab' && e.state === 'paused' && e.next === paused.next + 1);
      const stepped = v.events.filter((e) => e.type === 'select' && e.n >= paused.next);
      assert.equal(stepped.length, 1);
      assert.deepEqual(stepped[0].ready, [[name, 'R']]);
      assert.match(await deed(v, name, /^read/), /^read 9 B and queued them in its outbox; flushed 9 B/);
      await lab(server.ui, '/lab/resume');
      client.destroy();
      v.sock.destroy();
      assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
    });
  }
});
