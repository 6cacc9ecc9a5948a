'use strict';
// socket.outbox on message sockets (SOCK_DGRAM, SOCK_SEQPACKET): one put() is one message, never
// merged with another, and a message the kernel refuses for its size is reported once and dropped.
// Over AF_UNIX datagram and seqpacket pairs and UDP on loopback.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { sr, Opened } = require('./helpers/sockets');

/** Every message waiting on the non-blocking `s`, each as a string (its boundaries kept). */
function messages(s) {
  const got = [];
  for (;;) {
    try {
      got.push(s.recv(1 << 17).toString('latin1'));
    } catch (err) {
      if (err instanceof sr.BlockingIOError) return got;
      throw err;
    }
  }
}

/** A connected, non-blocking [sender, receiver] of `kind`. */
function pair(opened, kind) {
  let a, b;
  if (kind === 'udp') {
    b = opened.add(sr.socket(sr.AF_INET, sr.SOCK_DGRAM));
    b.bind(['127.0.0.1', 0]);
    a = opened.add(sr.socket(sr.AF_INET, sr.SOCK_DGRAM));
    a.connect(b.getsockname());
  } else {
    [a, b] = opened.add(...sr.socketpair(sr.AF_UNIX, kind === 'unix-dgram' ? sr.SOCK_DGRAM : sr.SOCK_SEQPACKET));
  }
  a.setblocking(false);
  b.setblocking(false);
  return [a, b];
}

/** A message the kernel refuses for its size on `a`: past UDP's limit, or past the send buffer. */
function tooBig(a, kind) {
  if (kind === 'udp') return Buffer.alloc(70000, 'x');
  a.setsockopt(sr.SOL_SOCKET, sr.SO_SNDBUF, 4096);
  return Buffer.alloc(4 * a.getsockopt(sr.SOL_SOCKET, sr.SO_SNDBUF), 'x');
}

describe('outbox on message sockets', () => {
  const opened = new Opened();
  afterEach(() => opened.closeAll());

  for (const kind of ['unix-dgram', 'unix-seqpacket', 'udp']) {
    describe(kind, () => {
      it('one put() is one message: put(a), put(b), flush() sends two', () => {
        const [a, b] = pair(opened, kind);
        a.outbox.put('a');
        a.outbox.put('b');
        a.outbox.put(Buffer.from('ccc'));
        assert.equal(a.outbox.pending, 5);
        assert.equal(a.outbox.peek().toString(), 'abccc');
        assert.equal(a.outbox.flush(), 5);
        assert.ok(a.outbox.empty());
        sr.select([b], [], [], 2);
        assert.deepEqual(messages(b), ['a', 'b', 'ccc']);
      });

      it('an empty put() queues nothing', () => {
        const [a, b] = pair(opened, kind);
        a.outbox.put('');
        a.outbox.put('x');
        a.outbox.put(new Uint8Array(0));
        assert.equal(a.outbox.flush(), 1);
        sr.select([b], [], [], 2);
        assert.deepEqual(messages(b), ['x']);
      });

      it('a message refused for its size is reported once and dropped; the others go', () => {
        const [a, b] = pair(opened, kind);
        const big = tooBig(a, kind);
        a.outbox.put('before');
        a.outbox.put(big);
        a.outbox.put('after');
        assert.equal(a.outbox.pending, 11 + big.length);
        assert.throws(() => a.outbox.flush(), (err) => err instanceof sr.SocketError && err.code === 'EMSGSIZE' && err.syscall === 'sendmsg');
        assert.equal(a.outbox.pending, 5, 'the refused message left the queue');
        assert.equal(a.outbox.flush(), 5, 'the next flush sends the rest, and throws nothing');
        assert.ok(a.outbox.empty());
        assert.equal(a.outbox.flush(), 0);
        sr.select([b], [], [], 2);
        assert.deepEqual(messages(b), ['before', 'after']);
      });
    });
  }

  it('a backlog through a full receiver keeps every message whole and in order', () => {
    // An AF_UNIX datagram pair blocks the sender (EAGAIN) once the receiver's queue is full.
    const [a, b] = pair(opened, 'unix-dgram');
    const sent = [];
    for (let i = 0; i < 2000; i++) {
      const m = crypto.randomBytes(1 + crypto.randomInt(1500)).toString('latin1');
      sent.push(m);
      a.outbox.put(Buffer.from(m, 'latin1'));
    }
    const got = [];
    let stalls = 0;
    while (!a.outbox.empty()) {
      const before = a.outbox.pending;
      const wrote = a.outbox.flush();
      assert.equal(a.outbox.pending, before - wrote);
      if (!a.outbox.empty()) stalls++;
      got.push(...messages(b));
    }
    got.push(...messages(b));
    assert.ok(stalls > 0, 'the receiver filled up at least once');
    assert.equal(got.length, sent.length);
    assert.deepEqual(got, sent);
  });

  it('a stream socket still writes its queue in one piece: put(a), put(b) arrive as ab', () => {
    const [a, b] = opened.add(...sr.socketpair(sr.AF_UNIX, sr.SOCK_STREAM));
    a.outbox.put('a');
    a.outbox.put('b');
    assert.equal(a.outbox.flush(), 2);
    assert.equal(b.recv(10).toString(), 'ab');
  });
});
