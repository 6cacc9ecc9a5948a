'use strict';
// socket.outbox: the native per-socket outbound queue.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { sr, Opened, recvExactly } = require('./helpers/sockets');

/** Drains `s` (non-blocking) into `into` until it would block. */
function drain(s, into) {
  for (;;) {
    let chunk;
    try {
      chunk = s.recv(65536);
    } catch (err) {
      if (err instanceof sr.BlockingIOError) return;
      throw err;
    }
    if (chunk.length === 0) return;
    into.push(chunk);
  }
}

describe('outbox', () => {
  const opened = new Opened();
  afterEach(() => opened.closeAll());

  it('put() copies: changing the source buffer afterwards changes nothing', () => {
    const [a, b] = opened.add(...sr.socketpair());
    const data = Buffer.from('original');
    a.outbox.put(data);
    data.write('CHANGED!');
    a.outbox.put('+text');
    assert.equal(a.outbox.pending, 13);
    assert.equal(a.outbox.peek().toString(), 'original+text');
    assert.equal(a.outbox.flush(), 13);
    assert.equal(recvExactly(b, 13).toString(), 'original+text');
    assert.ok(a.outbox.empty());
  });

  it('keeps what a partial write left, in order, through a small send buffer', () => {
    // AF_UNIX: tiny TCP windows on loopback stall on delayed ACKs, which is not what is tested here.
    const [client, conn] = opened.add(...sr.socketpair());
    conn.setsockopt(sr.SOL_SOCKET, sr.SO_SNDBUF, 8192);
    conn.setblocking(false);
    client.setblocking(false);
    // Many puts of varied sizes, so chunks are shared, split and written partially.
    const pieces = [];
    for (let i = 0; i < 400; i++) pieces.push(crypto.randomBytes(1 + crypto.randomInt(i % 7 === 0 ? 70000 : 300)));
    const expected = Buffer.concat(pieces);
    for (const p of pieces) conn.outbox.put(p);
    assert.equal(conn.outbox.pending, expected.length);

    const got = [];
    let partial = 0;
    let flushes = 0;
    while (!conn.outbox.empty()) {
      const before = conn.outbox.pending;
      const wrote = conn.outbox.flush();
      flushes++;
      assert.equal(conn.outbox.pending, before - wrote, 'pending counts what is left');
      if (wrote > 0 && !conn.outbox.empty()) partial++;
      sr.select([client], [], [], 1);
      drain(client, got);
    }
    for (let i = 0; i < 100 && Buffer.concat(got).length < expected.length; i++) {
      sr.select([client], [], [], 1);
      drain(client, got);
    }
    assert.ok(partial > 0, 'precondition: some flushes were partial');
    assert.ok(flushes > 1);
    assert.equal(Buffer.concat(got).length, expected.length);
    assert.ok(Buffer.concat(got).equals(expected), 'every byte, in order');
  });

  it('flush() returns 0 instead of blocking when the kernel takes nothing', () => {
    const [a] = opened.add(...sr.socketpair());
    a.setblocking(false);
    a.outbox.put(Buffer.alloc(16 << 20));
    const first = a.outbox.flush();
    assert.ok(first > 0 && first < 16 << 20);
    assert.equal(a.outbox.flush(), 0);
    assert.equal(a.outbox.pending, (16 << 20) - first);
  });

  it('clear() drops what is queued; close() drops it too', () => {
    const [a, b] = opened.add(...sr.socketpair());
    a.outbox.put('dropped');
    a.outbox.clear();
    assert.ok(a.outbox.empty());
    assert.equal(a.outbox.flush(), 0);
    a.outbox.put('also dropped');
    a.close();
    assert.equal(a.outbox.pending, 0);
    assert.throws(() => a.outbox.put('x'), (err) => err.code === 'EBADF');
    assert.throws(() => a.outbox.flush(), (err) => err.code === 'EBADF');
    b.setblocking(false);
    assert.equal(b.recv(100).length, 0, 'nothing was sent, then EOF');
  });

  it('a reset peer makes flush() throw, and the queue keeps its bytes', () => {
    const [a, b] = opened.add(...sr.socketpair());
    b.close();
    a.outbox.put('for nobody');
    assert.throws(() => a.outbox.flush(), sr.BrokenPipeError);
    assert.equal(a.outbox.pending, 10);
  });

  it('peek(max) copies the first bytes across chunks', () => {
    const [a] = opened.add(...sr.socketpair());
    a.outbox.put('abc');
    a.outbox.put(Buffer.alloc(5000, 'x'));
    a.outbox.put('tail');
    assert.equal(a.outbox.peek(5).toString(), 'abcxx');
    assert.equal(a.outbox.peek().length, 5007);
    assert.equal(a.outbox.peek(0).length, 0);
  });

  it('pending and empty() follow every put, full and partial flush, clear and close', () => {
    // The TypeScript Outbox keeps its own count of the native queue's bytes; it must never drift.
    const [a, b] = opened.add(...sr.socketpair());
    a.setblocking(false);
    a.setsockopt(sr.SOL_SOCKET, sr.SO_SNDBUF, 4096);
    const native = () => a.outbox.peek().length; // peek copies what the native queue really holds
    a.outbox.put('abc');
    a.outbox.put('');
    assert.equal(a.outbox.pending, 3);
    a.outbox.put(Buffer.alloc(1 << 20, 1));
    assert.equal(a.outbox.pending, 3 + (1 << 20));
    let total = 3 + (1 << 20);
    while (!a.outbox.empty()) {
      const wrote = a.outbox.flush();
      total -= wrote;
      assert.equal(a.outbox.pending, total);
      assert.equal(native(), total);
      if (wrote === 0) while (b.recv(65536, sr.MSG_DONTWAIT).length === 65536); // make room
    }
    assert.equal(total, 0);
    a.outbox.put('x');
    a.outbox.clear();
    assert.equal(a.outbox.pending, 0);
    a.outbox.put('yz');
    const [c] = opened.add(...sr.socketpair());
    c.outbox.put('kept');
    a.close();
    assert.equal(a.outbox.pending, 0);
    assert.ok(a.outbox.empty());
    assert.equal(c.outbox.pending, 4, 'another socket\'s queue is its own');
  });

  it('a flush that fails after writing keeps pending equal to what is left', () => {
    const [a, b] = opened.add(...sr.socketpair());
    a.outbox.put('first');
    assert.equal(a.outbox.flush(), 5);
    b.close();
    a.outbox.put('second');
    assert.throws(() => a.outbox.flush(), sr.BrokenPipeError);
    assert.equal(a.outbox.pending, 6);
    assert.equal(a.outbox.peek().toString(), 'second');
  });
});
