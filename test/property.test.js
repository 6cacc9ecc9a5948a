'use strict';
// Property-based tests (fast-check). First, random sequences of operations on both ends of a
// socket pair, each checked against a small model of what every side must receive, what every
// call must return or throw, and what select() must report. Then random garbage for the arguments
// of every public function: whatever comes in, the only errors are TypeError, RangeError or
// SocketError with a message, and the process carries on. Sockets are non-blocking or have short
// timeouts, and blocking calls are made only where the model knows they return at once.
const assert = require('node:assert/strict');
const fc = require('fast-check');
const fs = require('node:fs');
const { constants: osConstants } = require('node:os');

const { sr } = require('./helpers/sockets');

// Bounded runs keep the file to a few seconds; FC_RUNS=N asks for more (FC_SEED to replay).
const runs = Number(process.env.FC_RUNS) || 0;
const settings = (numRuns) => ({
  numRuns: runs || numRuns,
  ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
});

// ---- the model ------------------------------------------------------------------------------

const empty = Buffer.alloc(0);

/** One end of the pair, as the model sees it. */
function side() {
  return {
    open: true,
    shutRd: false, // this end did SHUT_RD (or SHUT_RDWR)
    shutWr: false, // this end did SHUT_WR (or SHUT_RDWR)
    mode: 'nonblocking', // 'nonblocking' | 'timeout' | 'blocking'
    timeout: 0,
    outbox: empty, // bytes put() and not yet flushed
    inflight: empty, // bytes this end sent that the other end has not read yet
    writes: 0, // send()/flush() calls since `inflight` was last empty (the kernel's skb count)
    resetPending: false, // the other end closed with bytes for it unread: ECONNRESET may come
  };
}

const other = (i) => 1 - i;

function isSocketError(err, code) {
  return err instanceof sr.SocketError && (code === undefined || err.code === code);
}

/** Runs `call`, expecting it to throw an error accepted by `accept`. */
function expectThrow(call, accept, what) {
  let thrown = null;
  try {
    call();
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown, `${what}: expected an error, got none`);
  assert.ok(accept(thrown), `${what}: unexpected ${thrown.name}: ${thrown.message}`);
  return thrown;
}

/** True where no call of side `i` can block on the pair. */
function writesBroken(m, i) {
  const peer = m.sides[other(i)];
  return m.sides[i].shutWr || !peer.open || peer.shutRd;
}

/** Whether side `i` must be readable (select) and what recv() returns when nothing is queued. */
function atEof(m, i) {
  const me = m.sides[i];
  const peer = m.sides[other(i)];
  return me.shutRd || peer.shutWr || !peer.open;
}

// A blocking send must fit the kernel's buffer whatever its accounting (each write costs its bytes
// plus an skb's overhead): few writes, few bytes, fewer still with the small buffers.
function blockingWriteFits(m, i, len) {
  const me = m.sides[i];
  const [bytes, writes] = m.small ? [4096, 4] : [32768, 48];
  return len <= 2048 && me.inflight.length + len <= bytes && me.writes < writes;
}

function wrote(m, i, bytes) {
  const me = m.sides[i];
  if (bytes.length === 0) return;
  me.inflight = Buffer.concat([me.inflight, bytes]);
  me.writes++;
}

function consumed(m, i, n) {
  const src = m.sides[other(i)];
  src.inflight = src.inflight.subarray(n);
  if (src.inflight.length === 0) src.writes = 0;
}

// ---- the commands -----------------------------------------------------------------------------

class Send {
  constructor(i, data) {
    Object.assign(this, { i, data });
  }
  check(m) {
    const me = m.sides[this.i];
    return me.mode !== 'blocking' || !me.open || writesBroken(m, this.i) || blockingWriteFits(m, this.i, this.data.length);
  }
  run(m, r) {
    const me = m.sides[this.i];
    const s = r[this.i];
    if (!me.open) return void expectThrow(() => s.send(this.data), (e) => isSocketError(e, 'EBADF'), 'send on a closed socket');
    if (writesBroken(m, this.i)) {
      return void expectThrow(() => s.send(this.data), (e) => e instanceof sr.BrokenPipeError || e instanceof sr.ConnectionResetError, 'send to a peer that is gone');
    }
    let n;
    try {
      n = s.send(this.data);
    } catch (err) {
      const expected = me.mode === 'nonblocking' ? sr.BlockingIOError : sr.TimeoutError;
      assert.ok(err instanceof expected && this.data.length > 0 && me.inflight.length > 0, `send threw ${err.name}: ${err.message}`);
      return;
    }
    assert.ok(Number.isInteger(n) && n <= this.data.length && (n > 0 || this.data.length === 0), `send returned ${n}`);
    if (me.mode === 'blocking') assert.equal(n, this.data.length, 'a blocking send sends everything');
    wrote(m, this.i, this.data.subarray(0, n));
  }
  toString() {
    return `send(${this.i}, ${this.data.length} bytes)`;
  }
}

class Recv {
  constructor(i, size, into) {
    Object.assign(this, { i, size, into });
  }
  check(m) {
    const me = m.sides[this.i];
    const queued = m.sides[other(this.i)].inflight.length;
    return me.mode !== 'blocking' || !me.open || queued > 0 || atEof(m, this.i) || me.resetPending;
  }
  run(m, r) {
    const me = m.sides[this.i];
    const s = r[this.i];
    const call = () => {
      if (!this.into) return s.recv(this.size);
      const buf = Buffer.alloc(this.size + 3, 0xee);
      const n = s.recv_into(buf, this.size);
      assert.ok(buf.subarray(n).every((b) => b === 0xee), 'recv_into wrote past what it returned');
      return buf.subarray(0, n);
    };
    if (!me.open) return void expectThrow(call, (e) => isSocketError(e, 'EBADF'), 'recv on a closed socket');
    const queued = m.sides[other(this.i)].inflight;
    let got;
    try {
      got = call();
    } catch (err) {
      if (queued.length === 0 && me.resetPending && err instanceof sr.ConnectionResetError) {
        me.resetPending = false; // reported once, then EOF
        return;
      }
      const waited = me.mode === 'nonblocking' ? sr.BlockingIOError : sr.TimeoutError;
      assert.ok(err instanceof waited && queued.length === 0 && !atEof(m, this.i), `recv threw ${err.name}: ${err.message} with ${queued.length} bytes queued`);
      return;
    }
    if (queued.length === 0) {
      assert.ok(atEof(m, this.i), `recv returned ${got.length} bytes, expected to wait`);
      assert.equal(got.length, 0, 'EOF is an empty read');
      return;
    }
    assert.ok(got.length >= 1 && got.length <= Math.min(this.size, queued.length), `recv got ${got.length} bytes`);
    assert.ok(got.equals(queued.subarray(0, got.length)), 'recv returned bytes out of order, or not sent');
    consumed(m, this.i, got.length);
  }
  toString() {
    return `${this.into ? 'recv_into' : 'recv'}(${this.i}, ${this.size})`;
  }
}

class Put {
  constructor(i, data) {
    Object.assign(this, { i, data });
  }
  check() {
    return true;
  }
  run(m, r) {
    const me = m.sides[this.i];
    const s = r[this.i];
    if (!me.open) return void expectThrow(() => s.outbox.put(this.data), (e) => isSocketError(e, 'EBADF'), 'put on a closed socket');
    s.outbox.put(this.data);
    me.outbox = Buffer.concat([me.outbox, Buffer.from(this.data)]);
    assert.equal(s.outbox.pending, me.outbox.length);
    assert.ok(s.outbox.peek(64).equals(me.outbox.subarray(0, 64)));
  }
  toString() {
    return `outbox.put(${this.i}, ${this.data.length} bytes)`;
  }
}

class Flush {
  constructor(i) {
    this.i = i;
  }
  check(m) {
    const me = m.sides[this.i];
    return me.mode !== 'blocking' || !me.open || writesBroken(m, this.i) || blockingWriteFits(m, this.i, me.outbox.length);
  }
  run(m, r) {
    const me = m.sides[this.i];
    const s = r[this.i];
    if (!me.open) return void expectThrow(() => s.outbox.flush(), (e) => isSocketError(e, 'EBADF'), 'flush on a closed socket');
    if (me.outbox.length > 0 && writesBroken(m, this.i)) {
      expectThrow(() => s.outbox.flush(), (e) => e instanceof sr.BrokenPipeError || e instanceof sr.ConnectionResetError, 'flush to a peer that is gone');
      assert.equal(s.outbox.pending, me.outbox.length, 'a failed flush keeps the queue');
      return;
    }
    const n = s.outbox.flush();
    assert.ok(Number.isInteger(n) && n >= 0 && n <= me.outbox.length, `flush returned ${n}`);
    if (me.mode === 'blocking') assert.equal(n, me.outbox.length, 'a blocking flush writes everything');
    wrote(m, this.i, me.outbox.subarray(0, n));
    me.outbox = me.outbox.subarray(n);
    assert.equal(s.outbox.pending, me.outbox.length);
  }
  toString() {
    return `outbox.flush(${this.i})`;
  }
}

class SetMode {
  constructor(i, mode, timeout) {
    Object.assign(this, { i, mode, timeout });
  }
  check() {
    return true;
  }
  run(m, r) {
    const me = m.sides[this.i];
    const s = r[this.i];
    const call = () => {
      if (this.mode === 'timeout') s.settimeout(this.timeout);
      else s.setblocking(this.mode === 'blocking');
    };
    if (!me.open) return void expectThrow(call, (e) => isSocketError(e, 'EBADF'), 'setblocking on a closed socket');
    call();
    me.mode = this.mode;
    assert.equal(s.getblocking(), this.mode !== 'nonblocking');
    assert.equal(s.gettimeout(), { nonblocking: 0, blocking: null, timeout: this.timeout }[this.mode]);
  }
  toString() {
    return this.mode === 'timeout' ? `settimeout(${this.i}, ${this.timeout})` : `setblocking(${this.i}, ${this.mode === 'blocking'})`;
  }
}

class Shutdown {
  constructor(i, how) {
    Object.assign(this, { i, how });
  }
  check() {
    return true;
  }
  run(m, r) {
    const me = m.sides[this.i];
    const s = r[this.i];
    const how = sr[this.how];
    if (!me.open) return void expectThrow(() => s.shutdown(how), (e) => isSocketError(e, 'EBADF'), 'shutdown on a closed socket');
    s.shutdown(how);
    if (this.how !== 'SHUT_WR') me.shutRd = true;
    if (this.how !== 'SHUT_RD') me.shutWr = true;
  }
  toString() {
    return `shutdown(${this.i}, ${this.how})`;
  }
}

class Close {
  constructor(i) {
    this.i = i;
  }
  check() {
    return true;
  }
  run(m, r) {
    const me = m.sides[this.i];
    r[this.i].close();
    assert.equal(r[this.i].fileno(), -1);
    assert.equal(r[this.i].outbox.pending, 0, 'the outbox goes with the socket');
    if (!me.open) return;
    me.open = false;
    me.outbox = empty;
    // Bytes for this end that it never read are gone; AF_UNIX then tells the peer ECONNRESET.
    const peer = m.sides[other(this.i)];
    if (peer.inflight.length > 0) {
      peer.inflight = empty;
      peer.writes = 0;
      peer.resetPending = true;
    }
  }
  toString() {
    return `close(${this.i})`;
  }
}

/** select() over a random mix of Sockets, raw descriptors and objects with fileno(), timeout 0. */
class Select {
  constructor(picks) {
    this.picks = picks; // [list, side, form][]
  }
  check() {
    return true;
  }
  run(m, r) {
    const lists = [[], [], []];
    const sideOf = new Map();
    let closedSocket = false;
    let closedNumber = false;
    for (const [l, i, form] of this.picks) {
      const s = r[i];
      let entry;
      if (form === 'socket') {
        entry = s;
        if (!m.sides[i].open) closedSocket = true;
      } else if (form === 'number') {
        entry = s.fileno();
        if (!m.sides[i].open) closedNumber = true;
      } else {
        entry = { fileno: () => s.fileno() };
        if (!m.sides[i].open) closedNumber = true;
      }
      sideOf.set(entry, i);
      lists[l].push(entry);
    }
    const call = () => sr.select(lists[0], lists[1], lists[2], 0);
    if (closedSocket || closedNumber) {
      // The first bad entry decides; both kinds name it. -1 is out of range; a closed Socket is EBADF.
      return void expectThrow(call, (e) => (e instanceof RangeError || isSocketError(e, 'EBADF')) && /[rwx]list\[\d+\]/.test(e.message), 'select with a closed socket');
    }
    const [rd, wr, ex] = call();
    const subsequence = (got, of) => {
      let k = 0;
      for (const x of got) {
        while (k < of.length && of[k] !== x) k++;
        assert.ok(k < of.length, 'select returned an entry it was not given, or out of order');
        k++;
      }
    };
    subsequence(rd, lists[0]);
    subsequence(wr, lists[1]);
    subsequence(ex, lists[2]);
    for (const entry of lists[0]) {
      const i = sideOf.get(entry);
      const readable = m.sides[other(i)].inflight.length > 0 || atEof(m, i) || m.sides[i].resetPending;
      assert.equal(rd.includes(entry), readable, `side ${i} readable`);
    }
    for (const entry of lists[1]) {
      const i = sideOf.get(entry);
      if (!wr.includes(entry)) assert.ok(m.sides[i].inflight.length > 0, `side ${i} not writable with nothing in flight`);
    }
    assert.deepEqual(ex, [], 'no urgent data was sent');
  }
  toString() {
    return `select(${this.picks.map(([l, i, f]) => `${'rwx'[l]}${i}:${f}`).join(' ')})`;
  }
}

const sideArb = fc.integer({ min: 0, max: 1 });
const dataArb = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 300 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1000, maxLength: 12000, size: 'max' }) },
);
// Weighted so that data moves most of the time, and ends are rarely shut or closed early on.
const commandArbs = [
  fc.oneof(
    { weight: 6, arbitrary: fc.tuple(sideArb, dataArb).map(([i, d]) => new Send(i, Buffer.from(d))) },
    { weight: 6, arbitrary: fc.tuple(sideArb, fc.integer({ min: 1, max: 100000 }), fc.boolean()).map(([i, n, into]) => new Recv(i, n, into)) },
    { weight: 6, arbitrary: fc.tuple(sideArb, fc.oneof(dataArb, fc.string({ maxLength: 50 }))).map(([i, d]) => new Put(i, d)) },
    { weight: 6, arbitrary: sideArb.map((i) => new Flush(i)) },
    {
      weight: 3,
      arbitrary: fc.tuple(sideArb, fc.constantFrom('nonblocking', 'blocking', 'timeout'), fc.constantFrom(0.001, 0.01, 0.02))
        .map(([i, mode, t]) => new SetMode(i, mode, t)),
    },
    {
      weight: 3,
      arbitrary: fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), sideArb, fc.constantFrom('socket', 'number', 'object')), { maxLength: 8 })
        .map((picks) => new Select(picks)),
    },
    { weight: 1, arbitrary: fc.tuple(sideArb, fc.constantFrom('SHUT_RD', 'SHUT_WR', 'SHUT_RDWR')).map(([i, how]) => new Shutdown(i, how)) },
    { weight: 1, arbitrary: sideArb.map((i) => new Close(i)) },
  ),
];

/** After a run: every byte in flight to an open end is still there to read, in order. */
function drainAndCompare(m, r) {
  for (const i of [0, 1]) {
    if (!m.sides[i].open) continue;
    r[i].setblocking(false);
    const expected = m.sides[other(i)].inflight;
    const chunks = [];
    for (;;) {
      let chunk;
      try {
        chunk = r[i].recv(65536);
      } catch (err) {
        if (err instanceof sr.BlockingIOError || err instanceof sr.ConnectionResetError) break;
        throw err;
      }
      if (chunk.length === 0) break;
      chunks.push(chunk);
    }
    assert.ok(Buffer.concat(chunks).equals(expected), `side ${i}: ${Buffer.concat(chunks).length} bytes left to read, the model says ${expected.length}`);
  }
}

describe('properties (fast-check)', function () {
  this.timeout(120000);

  it('random operation sequences on a socket pair match the model of what each side receives', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.commands(commandArbs, { maxCommands: 80, size: 'max' }), (small, cmds) => {
        const pair = sr.socketpair();
        for (const s of pair) {
          s.setblocking(false);
          // Small kernel buffers, half the time: then sends and flushes are often partial.
          if (small) s.setsockopt(sr.SOL_SOCKET, sr.SO_SNDBUF, 4096);
        }
        const model = { small, sides: [side(), side()] };
        try {
          fc.modelRun(() => ({ model, real: pair }), cmds);
          drainAndCompare(model, pair);
        } finally {
          for (const s of pair) s.close();
        }
      }),
      settings(300),
    );
  });

  // ---- garbage in every argument ------------------------------------------------------------

  function detachedBuffer() {
    const ab = new ArrayBuffer(16);
    structuredClone(ab, { transfer: [ab] });
    return ab;
  }

  const closed = sr.socket();
  closed.close();

  // Values picked to sit near every check: types, integer edges, NaN, typed arrays of every kind,
  // detached and resizable buffers, address-like arrays with wrong parts, objects with fileno().
  const garbage = fc.oneof(
    fc.anything({ withBigInt: true, withBoxedValues: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withMap: true, withSet: true, withDate: true }),
    fc.integer({ min: -(2 ** 32), max: 2 ** 32 }),
    fc.double(),
    fc.constantFrom(0, -0, 1, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), NaN, Infinity, -Infinity, 0.5,
      sr.AF_INET, sr.AF_INET6, sr.AF_UNIX, sr.SOCK_STREAM, sr.SOCK_DGRAM, sr.SOL_SOCKET, sr.SO_REUSEADDR, sr.SO_LINGER,
      sr.SO_RCVBUF, sr.IPPROTO_TCP, sr.TCP_NODELAY, sr.MSG_PEEK, sr.MSG_DONTWAIT, sr.MSG_OOB, sr.SHUT_RDWR, sr.FD_SETSIZE,
      '', '\0', '\0abstract', 'localhost', '127.0.0.1', '::1', null, undefined, true, false, closed),
    fc.string(),
    fc.uint8Array({ maxLength: 64 }),
    fc.constantFrom(Int8Array, Uint16Array, Int32Array, Float64Array, BigInt64Array, Uint8ClampedArray)
      .map((T) => new T(4)),
    fc.constant(null).map(() => new DataView(new ArrayBuffer(8), 2, 4)),
    fc.constant(null).map(() => {
      const view = new Uint8Array(16);
      structuredClone(view.buffer, { transfer: [view.buffer] }); // a view of zero length now
      return view;
    }),
    fc.constant(null).map(detachedBuffer),
    fc.constant(null).map(() => new Uint8Array(new ArrayBuffer(8, { maxByteLength: 64 }))),
    fc.constant(null).map(() => new Uint8Array(new SharedArrayBuffer(8))),
    fc.tuple(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), fc.oneof(fc.integer({ min: -10, max: 70000 }), fc.string(), fc.double())),
    fc.tuple(fc.constant('::1'), fc.integer(), fc.integer(), fc.integer()),
    fc.integer({ min: -5, max: 2000 }).map((fd) => ({ fileno: () => fd })),
    fc.anything().map((x) => ({ fileno: () => x })),
  );

  // Nothing here may reach beyond this machine, make files, or take over this process's signals.
  function tame(x) {
    // Addresses: hosts go to loopback, so that no garbage connects to, or sends to, any other host;
    // AF_UNIX paths go to the abstract namespace, so that no socket file is made.
    if (Array.isArray(x) && typeof x[0] === 'string') return ['127.0.0.1', ...x.slice(1)];
    if (typeof x === 'string') return x.startsWith('\0') ? x : `\0sr-fuzz-${x}`;
    return x;
  }
  const signalNames = new Set(Object.keys(osConstants.signals));

  /** Calls `fn`, and accepts no outcome but a return or a TypeError/RangeError/SocketError with a message. */
  function survive(fn, what) {
    let result;
    try {
      result = fn();
    } catch (err) {
      assert.ok(err instanceof TypeError || err instanceof RangeError || err instanceof sr.SocketError,
        `${what} threw ${err && err.constructor && err.constructor.name}: ${err && err.stack}`);
      assert.ok(typeof err.message === 'string' && err.message.length > 0, `${what} threw without a message`);
      return undefined;
    }
    return result;
  }

  /** Closes whatever Sockets a call returned (dup, accept, socketpair, create_*). */
  function release(result, adopted) {
    const all = Array.isArray(result) ? result.flat() : [result];
    for (const x of all) {
      if (!(x instanceof sr.Socket)) continue;
      // A Socket adopted from a garbage number may hold one of mocha's own descriptors: let go.
      if (adopted) x.detach();
      else x.close();
    }
  }

  const methodCalls = {
    setblocking: (s, a) => s.setblocking(a[0]),
    settimeout: (s, a) => s.settimeout(a[0]),
    setsockopt: (s, a) => s.setsockopt(a[0], a[1], a[2]),
    getsockopt: (s, a) => s.getsockopt(a[0], a[1], a[2]),
    bind: (s, a) => s.bind(tame(a[0])),
    listen: (s, a) => s.listen(a[0]),
    accept: (s) => s.accept(),
    connect: (s, a) => s.connect(tame(a[0])),
    connect_ex: (s, a) => s.connect_ex(tame(a[0])),
    send: (s, a) => s.send(a[0], a[1]),
    sendall: (s, a) => s.sendall(a[0], a[1]),
    sendto: (s, a) => s.sendto(a[0], tame(a[1]), tame(a[2])),
    recv: (s, a) => s.recv(a[0], a[1]),
    recv_into: (s, a) => s.recv_into(a[0], a[1], a[2]),
    recvfrom: (s, a) => s.recvfrom(a[0], a[1]),
    shutdown: (s, a) => s.shutdown(a[0]),
    dup: (s) => s.dup(),
    getsockname: (s) => s.getsockname(),
    getpeername: (s) => s.getpeername(),
    toString: (s) => s.toString(),
    'outbox.put': (s, a) => s.outbox.put(a[0]),
    'outbox.flush': (s) => s.outbox.flush(),
    'outbox.peek': (s, a) => s.outbox.peek(a[0]),
    'outbox.clear': (s) => s.outbox.clear(),
    close: (s) => s.close(),
  };

  it('garbage arguments to every Socket method: only TypeError, RangeError or SocketError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(methodCalls)), fc.constantFrom('tcp', 'udp', 'pair', 'closed'),
        fc.array(garbage, { maxLength: 3 }), (name, kind, args) => {
          const owned = [];
          let s;
          if (kind === 'tcp') s = sr.socket();
          else if (kind === 'udp') s = sr.socket(sr.AF_INET, sr.SOCK_DGRAM);
          else if (kind === 'pair') {
            owned.push(...sr.socketpair());
            s = owned[0];
            owned[1].sendall('some bytes to read');
          } else s = closed;
          if (s !== closed) owned.push(s);
          try {
            // Non-blocking, and again after any call that could change that: nothing may wait.
            if (s !== closed) s.setblocking(false);
            release(survive(() => methodCalls[name](s, args), `${name}(${args.length} args)`), false);
            if (s.fileno() >= 0) survive(() => s.setblocking(false), 'setblocking');
          } finally {
            for (const x of owned) x.close();
          }
        }),
      settings(2000),
    );
  });

  it('garbage arguments to every module function: only TypeError, RangeError or SocketError', () => {
    const [writable, peer] = sr.socketpair();
    const calls = {
      socket: (a) => sr.socket(a[0], a[1], a[2]),
      Socket: (a) => new sr.Socket(a[0], a[1], a[2], a[3]),
      socketpair: (a) => sr.socketpair(a[0], a[1], a[2]),
      fromfd: (a) => sr.fromfd(a[0], a[1], a[2], a[3]),
      getaddrinfo: (a) => sr.getaddrinfo(a[0], a[1], a[2], a[3], a[4], a[5]),
      create_connection: (a) => sr.create_connection(tame(a[0]), 0.5, a[2] === undefined ? undefined : tame(a[2])),
      create_server: (a) => sr.create_server(tame(a[0]), a[1]),
      htons: (a) => sr.htons(a[0]),
      ntohs: (a) => sr.ntohs(a[0]),
      htonl: (a) => sr.htonl(a[0]),
      ntohl: (a) => sr.ntohl(a[0]),
      // The lists are garbage with no wait (timeout 0); the timeout is garbage beside a socket
      // that is writable, so that any valid timeout returns at once.
      'select lists': (a) => sr.select(a[0], a[1], a[2], 0),
      'select timeout': (a) => sr.select([], [writable], [], a[0]),
      interrupt_on: (a) => sr.interrupt_on(...a),
      interrupt_off: (a) => sr.interrupt_off(...a),
    };
    try {
      fc.assert(
        fc.property(fc.constantFrom(...Object.keys(calls)), fc.array(garbage, { maxLength: 6 }), (name, args) => {
          // Real signal names would take this process's signals over (mocha's SIGINT, SIGCHLD).
          if (name.startsWith('interrupt_')) fc.pre(!args.some((x) => typeof x === 'string' && signalNames.has(x)));
          const adopted = name === 'Socket' && args[3] !== undefined && args[3] !== null;
          release(survive(() => calls[name](args), `${name}(${args.length} args)`), adopted);
        }),
        settings(3000),
      );
    } finally {
      writable.close();
      peer.close();
    }
    // Still working afterwards.
    const [a, b] = sr.socketpair();
    a.sendall('alive');
    assert.equal(b.recv(5).toString(), 'alive');
    a.close();
    b.close();
    assert.ok(fs.existsSync('/proc/self/fd'));
  });
});
