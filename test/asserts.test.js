'use strict';
// The addon's own invariants (SR_ASSERT, native/checks.h): checked in the sanitizer build
// (npm run test:asan) and in debug builds, compiled out of Release. These tests make sure the
// checks are on exactly where they should be, then drive the two structures they guard, the
// outbox and the table of open sockets, through every kind of change, so that under test:asan a
// broken invariant aborts the run. Each test also checks the outcome itself (every byte, every
// message boundary, every count), so it means something in a Release build too.
const assert = require('node:assert/strict');
const path = require('node:path');
const nodeGypBuild = require('node-gyp-build');

const { sr, Opened } = require('./helpers/sockets');

const { binding } = require('../lib/binding');

// A small seeded generator (mulberry32): a failure replays exactly.
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bytes(rand, n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (rand() * 256) | 0;
  return b;
}

/** Reads what `s` (non-blocking) has: its chunks, until it would block. */
function readAvailable(s, bufsize, into) {
  for (;;) {
    try {
      const chunk = s.recv(bufsize);
      if (chunk.length === 0) return;
      into.push(Buffer.from(chunk)); // recv() returns a view of a shared pool: copy to keep it
    } catch (err) {
      if (err instanceof sr.BlockingIOError) return;
      throw err;
    }
  }
}

describe('invariant checks (SR_ASSERT)', () => {
  const opened = new Opened();
  afterEach(() => opened.closeAll());

  it('are compiled in under the sanitizers and in debug builds, and out of Release', () => {
    const file = nodeGypBuild.resolve(path.join(__dirname, '..'));
    const debug = /[\\/]Debug[\\/]/.test(file);
    const sanitized = process.env.SR_SANITIZED === '1'; // scripts/test-asan.js sets it, and builds with SR_CHECKS
    assert.equal(typeof binding.checksEnabled, 'boolean');
    assert.equal(binding.checksEnabled, sanitized || debug, `${file}: SR_SANITIZED=${process.env.SR_SANITIZED}`);
  });

  it('a stream outbox through thousands of puts, partial flushes, peeks and clears keeps every byte in order', () => {
    const rand = random(12);
    const [a, b] = opened.add(...sr.socketpair());
    a.setsockopt(sr.SOL_SOCKET, sr.SO_SNDBUF, 4096); // small: most flushes are partial
    a.setblocking(false);
    b.setblocking(false);
    const model = []; // what the outbox should hold, in order
    let modelLen = 0;
    const sent = []; // what flush() said it wrote, in order
    const got = [];
    let partial = 0;
    for (let step = 0; step < 4000; step++) {
      const r = rand();
      if (r < 0.5) {
        // Sizes from empty (queues nothing) through tiny (shares a chunk) to past a chunk's minimum.
        const n = rand() < 0.1 ? 0 : rand() < 0.7 ? 1 + ((rand() * 64) | 0) : 1 + ((rand() * 12000) | 0);
        const data = bytes(rand, n);
        a.outbox.put(data);
        if (n > 0) model.push(data);
        modelLen += n;
      } else if (r < 0.8) {
        const wrote = a.outbox.flush();
        if (a.outbox.pending > 0 && wrote > 0) partial++;
        let left = wrote;
        while (left > 0) {
          const head = model[0];
          const take = Math.min(left, head.length);
          sent.push(head.subarray(0, take));
          if (take === head.length) model.shift();
          else model[0] = head.subarray(take);
          left -= take;
        }
        modelLen -= wrote;
      } else if (r < 0.93) {
        readAvailable(b, 1 + ((rand() * 8192) | 0), got);
      } else if (r < 0.98) {
        const max = (rand() * 300) | 0;
        assert.deepEqual(a.outbox.peek(max), Buffer.concat(model).subarray(0, max));
      } else {
        a.outbox.clear();
        model.length = 0;
        modelLen = 0;
      }
      assert.equal(a.outbox.pending, modelLen, `step ${step}`);
    }
    while (!a.outbox.empty()) {
      const before = a.outbox.pending;
      const wrote = a.outbox.flush();
      sent.push(Buffer.concat(model).subarray(0, wrote));
      model.splice(0, model.length, Buffer.concat(model).subarray(wrote));
      assert.equal(a.outbox.pending, before - wrote);
      readAvailable(b, 65536, got);
    }
    readAvailable(b, 65536, got);
    assert.ok(partial > 50, `${partial} partial flushes`);
    assert.ok(Buffer.concat(got).equals(Buffer.concat(sent)), 'the peer read what flush() wrote, in order');
  });

  for (const type of ['SOCK_DGRAM', 'SOCK_SEQPACKET']) {
    it(`a ${type} outbox keeps each put() one message through full queues, clears and dropped messages`, () => {
      const rand = random(type.length);
      const [a, b] = opened.add(...sr.socketpair(sr.AF_UNIX, sr[type]));
      a.setsockopt(sr.SOL_SOCKET, sr.SO_SNDBUF, 8192); // the kernel soon refuses more: EAGAIN
      a.setblocking(false);
      b.setblocking(false);
      const queued = [];
      const sent = [];
      const got = [];
      let blocked = 0;
      let dropped = 0;
      for (let step = 0; step < 3000; step++) {
        const r = rand();
        if (r < 0.55) {
          // Now and then one too big for the socket's buffer: the kernel refuses it (EMSGSIZE).
          const data = bytes(rand, rand() < 0.01 ? 100000 : 1 + ((rand() * 1500) | 0));
          a.outbox.put(data);
          queued.push(data);
        } else if (r < 0.8) {
          const before = queued.length;
          let refused = false;
          try {
            a.outbox.flush();
          } catch (err) {
            assert.equal(err.code, 'EMSGSIZE');
            refused = true;
            dropped++;
          }
          // Whole messages only: what left the queue is a prefix of whole puts, the refused one last.
          let left = a.outbox.pending;
          let keep = 0;
          for (let i = queued.length - 1; i >= 0 && left > 0; i--, keep++) left -= queued[i].length;
          assert.equal(left, 0, 'pending is a sum of whole messages');
          const gone = queued.splice(0, queued.length - keep);
          if (refused) assert.equal(gone.pop().length, 100000, 'the refused message is the one dropped');
          sent.push(...gone);
          if (keep > 0 && keep === before) blocked++;
        } else if (r < 0.97) {
          readAvailable(b, 2048, got);
        } else {
          a.outbox.clear();
          queued.length = 0;
        }
      }
      while (!a.outbox.empty()) {
        try {
          a.outbox.flush();
        } catch (err) {
          assert.equal(err.code, 'EMSGSIZE');
          const at = queued.findIndex((m) => m.length === 100000);
          sent.push(...queued.splice(0, at));
          queued.shift();
          dropped++;
          continue;
        }
        let left = a.outbox.pending;
        let keep = 0;
        for (let i = queued.length - 1; i >= 0 && left > 0; i--, keep++) left -= queued[i].length;
        sent.push(...queued.splice(0, queued.length - keep));
        readAvailable(b, 2048, got);
      }
      readAvailable(b, 2048, got);
      assert.ok(blocked > 10, `${blocked} flushes the kernel refused whole`);
      assert.ok(dropped > 0, 'a message too big was dropped');
      assert.equal(got.length, sent.length, 'one message a put()');
      for (let i = 0; i < sent.length; i++) assert.ok(got[i].equals(sent[i]), `message ${i} whole and in order`);
    });
  }

  it('closing sockets with queued bytes frees their queues with their slots', () => {
    const rand = random(7);
    const [open0] = binding.handles();
    for (let round = 0; round < 200; round++) {
      const [a, b] = sr.socketpair();
      a.setblocking(false);
      for (let i = 0; i < 1 + ((rand() * 20) | 0); i++) a.outbox.put(bytes(rand, 1 + ((rand() * 20000) | 0)));
      if (rand() < 0.5) a.outbox.flush(); // some partly written, some not at all
      (rand() < 0.5 ? [a, b] : [b, a]).forEach((s) => s.close());
      assert.equal(a.outbox.pending, 0);
    }
    assert.equal(binding.handles()[0], open0);
  });

  it('the table of open sockets keeps ids, slots and the free list straight through heavy reuse', () => {
    const rand = random(99);
    const [open0, slots0] = binding.handles();
    const live = new Map(); // id -> fileno
    const stale = [];
    let peak = 0;
    for (let step = 0; step < 20000; step++) {
      if (live.size === 0 || rand() < 0.52) {
        const id = binding.open(sr.AF_UNIX, sr.SOCK_DGRAM, 0, -1);
        assert.ok(!live.has(id), 'an id is never handed out twice while open');
        live.set(id, binding.fileno(id));
        peak = Math.max(peak, live.size);
      } else {
        // Close one at random: the free list then hands slots back in no simple order.
        const ids = [...live.keys()];
        const id = ids[(rand() * ids.length) | 0];
        if (rand() < 0.1) require('node:fs').closeSync(binding.detach(id));
        else binding.close(id);
        live.delete(id);
        if (stale.length < 64) stale.push(id);
      }
    }
    assert.equal(binding.handles()[0], open0 + live.size);
    assert.ok(binding.handles()[1] <= Math.max(slots0, open0 + peak), 'closed slots are reused');
    for (const [id, fd] of live) assert.equal(binding.fileno(id), fd, 'an open id finds its own socket');
    for (const id of stale) {
      // Its slot has been reused under a new generation since: the old id finds nothing.
      assert.equal(binding.fileno(id), -1);
      assert.throws(() => binding.send(id, 'x'), (err) => err.code === 'EBADF');
    }
    for (const id of live.keys()) binding.close(id);
    assert.equal(binding.handles()[0], open0);
  });
});
