'use strict';
// --trace: the blocks it prints show exactly what select() was given and what it returned.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startProgram, killStarted, echoOnce } = require('./helpers/programs');
const { sr, Opened, listener, tcpPair } = require('./helpers/sockets');
const { tracer, wantsColour } = require('../lib/programs/echo-server/trace');

/** Parses `--trace` blocks: [{n, inputs, outputs, readable, writable, exceptional, queued, after}]. */
function parseBlocks(text) {
  const list = (s) => (s === '' ? [] : s.split(', '));
  const re = /^select\(\) #(\d+)\n {2}going in {3}inputs=\[(.*)\] {2}outputs=\[(.*)\]\n {2}came back {2}readable=\[(.*)\] {2}writable=\[(.*)\] {2}exceptional=\[(.*)\]\n {2}queued {5}(.*)\n((?:(?!select\(\)).*\n)*)/gm;
  return [...text.matchAll(re)].map((m) => ({
    n: Number(m[1]),
    inputs: list(m[2]),
    outputs: list(m[3]),
    readable: list(m[4]),
    writable: list(m[5]),
    exceptional: list(m[6]),
    queued: Object.fromEntries(m[7] === '(no clients)' ? [] : m[7].split(', ').map((q) => [q.split(' ')[0], Number(q.split(' ')[1])])),
    after: m[8],
  }));
}

describe('--trace', function () {
  this.timeout(30000);
  const opened = new Opened();
  let dir;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-trace-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    opened.closeAll();
    killStarted();
  });

  it('prints the lists a real select() call was given and returned, socket for socket', () => {
    // Three kinds of readiness at once: a connection waiting on the listener (readable), a
    // client with bytes queued (writable), and a client sent urgent data (exceptional).
    const [server, port] = listener(opened);
    const early = opened.add(sr.create_connection(['127.0.0.1', port]));
    const [a, aPeer] = tcpPair(opened);
    const [b, bPeer] = tcpPair(opened);
    b.send('!', sr.MSG_OOB);
    const late = opened.add(sr.create_connection(['127.0.0.1', port]));
    void early;
    void late;
    aPeer.outbox.put('queued for a');
    const peers = new Map([[aPeer, a.getsockname()], [bPeer, b.getsockname()]]);
    const inputs = [server, aPeer, bPeer];
    const outputs = [aPeer];
    const [readable, writable, exceptional] = sr.select(inputs, outputs, inputs, 5);
    const file = path.join(dir, 'trace.txt');
    const fd = fs.openSync(file, 'w');
    try {
      tracer(server, peers, fd)(inputs, outputs, readable, writable, exceptional);
    } finally {
      fs.closeSync(fd);
    }
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(!text.includes('\x1b['), 'no colour in a file');
    const [block] = parseBlocks(text);
    const name = (s) => (s === server ? 'listener' : sr.formatAddress(peers.get(s)));
    assert.deepEqual(block.inputs, inputs.map(name));
    assert.deepEqual(block.outputs, outputs.map(name));
    assert.deepEqual(block.readable, readable.map(name));
    assert.deepEqual(block.writable, writable.map(name));
    assert.deepEqual(block.exceptional, exceptional.map(name));
    // And the lists are the interesting ones, so the comparison above means something.
    assert.ok(readable.includes(server));
    assert.deepEqual(writable, [aPeer]);
    assert.deepEqual(exceptional, [bPeer]);
    assert.deepEqual(block.queued, { [name(aPeer)]: 12, [name(bPeer)]: 0 });
  });

  it('colours only for a terminal, or when FORCE_COLOR asks, and never with NO_COLOR', () => {
    const file = path.join(dir, 'plain.txt');
    const fd = fs.openSync(file, 'w');
    try {
      assert.equal(wantsColour(fd, {}), false);
      assert.equal(wantsColour(fd, { FORCE_COLOR: '1' }), true);
      assert.equal(wantsColour(fd, { FORCE_COLOR: '0' }), false);
    } finally {
      fs.closeSync(fd);
    }
    // A pseudo-terminal is not at hand in CI; stdin of `script` would be. isatty() is the test.
    const tty = require('node:tty');
    if (tty.isatty(1)) assert.equal(wantsColour(1, {}), true);
    const previous = process.env.FORCE_COLOR;
    process.env.FORCE_COLOR = '1';
    const [server] = listener(opened);
    const fd2 = fs.openSync(file, 'w');
    try {
      tracer(server, new Map(), fd2)([server], [], [], [], []);
    } finally {
      fs.closeSync(fd2);
      if (previous === undefined) delete process.env.FORCE_COLOR;
      else process.env.FORCE_COLOR = previous;
    }
    assert.ok(fs.readFileSync(file, 'utf8').includes('\x1b[1mselect() #1\x1b[22m'), 'bold heading');
  });

  it('in the echo server, every block is consistent with the loop around it', async () => {
    const server = await startProgram('echo-server', ['--trace']);
    await Promise.all([1, 2, 3].map((i) => echoOnce(server.port, Buffer.from(`message ${i}\n`.repeat(1000)), { halfClose: true })));
    await server.waitFor(/(after reading no data[^]*){3}/);
    await server.stop();
    const blocks = parseBlocks(server.output);
    // 3 at least: the server accepts every waiting connection in one turn, so 3 clients that come
    // together may take one block to accept, one to read and one to answer.
    assert.ok(blocks.length >= 3, `${blocks.length} blocks in:\n${server.output.slice(-3000)}`);
    blocks.forEach((b, i) => {
      assert.equal(b.n, i + 1, 'numbered in order');
      const where = `block ${b.n}:\n${JSON.stringify(b)}`;
      for (const s of b.readable) assert.ok(b.inputs.includes(s), where);
      for (const s of b.writable) assert.ok(b.outputs.includes(s), where);
      for (const s of b.exceptional) assert.ok(b.inputs.includes(s), where);
      // Only sockets with bytes queued sit in outputs: that is what keeps the loop from spinning.
      for (const s of b.outputs) assert.ok(b.queued[s] > 0, where);
      assert.equal(b.readable.includes('listener'), /^new connection from/m.test(b.after), where);
    });
  });
});
