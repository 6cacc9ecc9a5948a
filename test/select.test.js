'use strict';
// select(): the three lists, the rules the contract lists, and the errors.
const assert = require('node:assert/strict');

const { sr, Opened, tcpPair, listener } = require('./helpers/sockets');

describe('select', () => {
  const opened = new Opened();
  afterEach(() => opened.closeAll());

  it('reports readable, writable and exceptional, with the same objects in the order given', () => {
    const [a, b] = opened.add(...sr.socketpair());
    const [c, d] = opened.add(...sr.socketpair());
    b.sendall('x');
    d.sendall('y');
    const [r, w, x] = sr.select([c, a, b], [a, c], [a], 0);
    assert.deepEqual(r, [c, a]);
    assert.ok(r[0] === c && r[1] === a, 'the same objects');
    assert.deepEqual(w, [a, c]);
    assert.deepEqual(x, []);
  });

  it('TCP urgent data lands a socket in the exceptional list', () => {
    const [client, conn] = tcpPair(opened);
    client.send('!', sr.MSG_OOB);
    const [, , x] = sr.select([], [], [conn], 2);
    assert.deepEqual(x, [conn]);
    assert.equal(conn.recv(1, sr.MSG_OOB).toString(), '!');
  });

  it('accepts raw descriptors and objects with fileno()', () => {
    const [a, b] = opened.add(...sr.socketpair());
    b.sendall('z');
    const wrapper = { fileno: () => a.fileno(), label: 'mine' };
    const [r] = sr.select([wrapper, a.fileno()], [], [], 0);
    assert.equal(r[0], wrapper);
    assert.equal(r[1], a.fileno());
  });

  it('a listener is readable when a connection is waiting', () => {
    const [server, port] = listener(opened);
    assert.deepEqual(sr.select([server], [], [], 0)[0], []);
    opened.add(sr.create_connection(['127.0.0.1', port]));
    assert.deepEqual(sr.select([server], [], [], 2)[0], [server]);
  });

  it('timeout 0 polls, a timeout waits about that long, null waits for an event', () => {
    const [a, b] = opened.add(...sr.socketpair());
    let t0 = Date.now();
    assert.deepEqual(sr.select([a], [], [], 0), [[], [], []]);
    assert.ok(Date.now() - t0 < 100);
    t0 = Date.now();
    assert.deepEqual(sr.select([a], [], [], 0.15), [[], [], []]);
    const ms = Date.now() - t0;
    assert.ok(ms >= 140 && ms < 2000, `waited ${ms} ms`);
    b.sendall('now');
    assert.deepEqual(sr.select([a], [], [])[0], [a]);
    assert.deepEqual(sr.select([a], [], [], null)[0], [a]);
  });

  it('checks every descriptor against FD_SETSIZE before the system call', () => {
    const [a] = opened.add(...sr.socketpair());
    assert.throws(() => sr.select([a], [a, a, 1024], []), {
      name: 'RangeError',
      message: 'Expected wlist[2] to be a descriptor in [0, FD_SETSIZE=1024), got 1024',
    });
    assert.throws(() => sr.select([], [], [-1]), { name: 'RangeError', message: /xlist\[0\].*got -1/ });
    assert.throws(() => sr.select([{ fileno: () => 5000 }], [], []), { name: 'RangeError', message: /rlist\[0\]/ });
    // The native layer checks again, whatever reaches it.
    const binding = require('bindings')({ bindings: 'select_reactor', module_root: require('./helpers/sockets').root });
    assert.throws(() => binding.select(new Int32Array([3, 99999]), 1, 1, 0, 0, new Uint8Array(2)), {
      name: 'RangeError',
      message: /wlist\[0\].*got 99999/,
    });
  });

  it('names a closed socket, and a number that is not open, by list and index', () => {
    const [a, b] = opened.add(...sr.socketpair());
    b.close();
    assert.throws(() => sr.select([a], [a, a, b], []), (err) =>
      err instanceof sr.SocketError && err.code === 'EBADF' && err.errno === sr.errno.EBADF && /wlist\[2\] is a closed socket/.test(err.message));
    const fd = a.fileno();
    const spare = opened.add(sr.socket());
    const unused = spare.fileno();
    spare.close();
    assert.throws(() => sr.select([fd, unused], [], [], 0), (err) => err.code === 'EBADF' && /rlist\[1\] = \d+ is not open/.test(err.message));
  });

  it('rejects wrong types with TypeError', () => {
    assert.throws(() => sr.select(null, [], []), TypeError);
    assert.throws(() => sr.select(['3'], [], []), { name: 'TypeError', message: /rlist\[0\]/ });
    assert.throws(() => sr.select([1.5], [], []), TypeError);
    assert.throws(() => sr.select([{ fileno: () => 'x' }], [], []), TypeError);
    assert.throws(() => sr.select([], [], [], 'soon'), TypeError);
    assert.throws(() => sr.select([], [], [], -1), RangeError);
    assert.throws(() => sr.select([], [], [], Infinity), RangeError);
    assert.throws(() => sr.select([], [], [], NaN), TypeError);
  });

  it('accepts iterables and many sockets, and empty lists with a timeout', () => {
    const pairs = [];
    for (let i = 0; i < 200; i++) pairs.push(opened.add(...sr.socketpair()));
    pairs.forEach(([, b], i) => i % 3 === 0 && b.sendall('.'));
    const readers = new Set(pairs.map(([a]) => a));
    const [r] = sr.select(readers, [], [], 1);
    assert.equal(r.length, 67);
    assert.deepEqual(sr.select([], [], [], 0.01), [[], [], []]);
  });

  it('takes Sets as they are, in insertion order, entries deleted and added again included', () => {
    const pairs = [];
    for (let i = 0; i < 6; i++) pairs.push(opened.add(...sr.socketpair()));
    const inputs = new Set(pairs.map(([a]) => a));
    const outputs = new Set();
    // Deleted entries leave holes in a Set's table: the flags must still line up with the entries.
    inputs.delete(pairs[1][0]);
    inputs.delete(pairs[3][0]);
    inputs.add(pairs[1][0]);
    pairs[1][1].sendall('.');
    pairs[4][1].sendall('.');
    outputs.add(pairs[5][0]);
    outputs.add(pairs[3][0]); // deleted from inputs above
    const [r, w, x] = sr.select(inputs, outputs, inputs, 1);
    assert.deepEqual(r, [pairs[4][0], pairs[1][0]], 'readable, in the Set order');
    assert.deepEqual(w, [pairs[5][0], pairs[3][0]], 'writable, in the Set order');
    assert.deepEqual(x, []);
    pairs[3][0].close();
    assert.throws(() => sr.select(inputs, outputs, []), (err) => err.code === 'EBADF' && /wlist\[1\] is a closed socket/.test(err.message));
  });
});

describe('selectAsync', () => {
  const opened = new Opened();
  afterEach(() => opened.closeAll());
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  it('resolves with the same objects, in the order given, while a setInterval keeps ticking', async () => {
    const [a, b] = opened.add(...sr.socketpair());
    const [c, d] = opened.add(...sr.socketpair());
    let ticks = 0;
    const interval = setInterval(() => ticks++, 10);
    try {
      setTimeout(() => {
        b.sendall('x');
        d.sendall('y');
      }, 300);
      const [r, w, x] = await sr.selectAsync([c, a], [], [a], null);
      assert.ok(r.length >= 1 && r.every((s) => s === a || s === c));
      assert.deepEqual(w, []);
      assert.deepEqual(x, []);
    } finally {
      clearInterval(interval);
    }
    assert.ok(ticks >= 5, `the event loop ran during the wait (${ticks} ticks)`);
    const [r] = await sr.selectAsync([c, a], [], [], 1);
    assert.deepEqual(r, [c, a], 'both, in the order given');
  });

  it('times out with three empty lists; 0 polls', async () => {
    const [a] = opened.add(...sr.socketpair());
    const t0 = Date.now();
    assert.deepEqual(await sr.selectAsync([a], [], [], 0.2), [[], [], []]);
    const ms = Date.now() - t0;
    assert.ok(ms >= 190 && ms < 5000, `waited ${ms} ms`);
    assert.deepEqual(await sr.selectAsync([], [a], [], 0), [[], [a], []]);
  });

  it('closing a socket it waits on ends the wait with EBADF naming it; the number is held until then', async () => {
    const [a, b] = opened.add(...sr.socketpair());
    const fd = b.fileno();
    const waiting = sr.selectAsync([a, b], [], [], 30);
    await sleep(50);
    const t0 = Date.now();
    b.close();
    const fresh = opened.add(sr.socket());
    assert.notEqual(fresh.fileno(), fd, 'not reused while the worker thread may still wait on it');
    await assert.rejects(waiting, (err) => err instanceof sr.SocketError && err.code === 'EBADF' && /rlist\[1\] is a closed socket/.test(err.message));
    assert.ok(Date.now() - t0 < 5000, 'the close ended the wait');
    assert.equal(opened.add(sr.socket()).fileno(), fd, 'released once the wait returned');
  });

  it('many calls at once each get their own answer', async () => {
    const pairs = Array.from({ length: 8 }, () => opened.add(...sr.socketpair()));
    const waits = pairs.map(([a]) => sr.selectAsync([a], [], [], 10));
    pairs.forEach(([, b], i) => setTimeout(() => b.send('.'), 20 * i));
    const answers = await Promise.all(waits);
    answers.forEach(([r], i) => assert.deepEqual(r, [pairs[i][0]]));
  });

  it('rejects bad arguments with TypeError and RangeError, as select() throws them', async () => {
    const [a] = opened.add(...sr.socketpair());
    await assert.rejects(sr.selectAsync(null, [], []), TypeError);
    await assert.rejects(sr.selectAsync(['3'], [], []), { name: 'TypeError', message: /rlist\[0\]/ });
    await assert.rejects(sr.selectAsync([a], [a, 1024], []), { name: 'RangeError', message: /wlist\[1\].*FD_SETSIZE=1024/ });
    await assert.rejects(sr.selectAsync([], [], [], -1), RangeError);
    await assert.rejects(sr.selectAsync([], [], [], 'soon'), TypeError);
    const b = sr.socket();
    b.close();
    await assert.rejects(sr.selectAsync([b], [], [], 0), { code: 'EBADF', message: /rlist\[0\] is a closed socket/ });
  });
});
