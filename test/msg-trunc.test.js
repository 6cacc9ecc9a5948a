'use strict';
// MSG_TRUNC on recv, recvfrom and recv_into, over AF_UNIX datagram and seqpacket pairs, UDP and TCP
// on loopback, each call made here and, the same way, by CPython (the API's namesake) to compare.
// recv_into must match Python exactly. recv and recvfrom return at most bufsize bytes, the first
// bytes of Python's answer: CPython returns the datagram's full length, and the bytes past bufsize
// are whatever memory followed its buffer (on TCP, where Linux discards the bytes and writes
// nothing, all of them are). Ours read as zeros where the kernel wrote nothing.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');

const { sr, Opened } = require('./helpers/sockets');

const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : null;

/** The bytes sent: a pattern whose every offset is checkable. */
function pattern(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i % 251) + 1;
  return b;
}

// One case: a connected pair of `kind`, one message of `size` bytes sent, then one read.
// op: 'recv' (bufsize, flags), 'recvfrom' (bufsize, flags), 'recv_into' (buflen, nbytes, flags).
const { MSG_TRUNC, MSG_PEEK } = sr;
const cases = [
  { kind: 'unix-dgram', size: 200000, op: 'recv', bufsize: 16, flags: MSG_TRUNC },
  { kind: 'unix-dgram', size: 200000, op: 'recvfrom', bufsize: 16, flags: MSG_TRUNC },
  { kind: 'unix-dgram', size: 200000, op: 'recv_into', buflen: 32, nbytes: 16, flags: MSG_TRUNC },
  { kind: 'unix-dgram', size: 100000, op: 'recvfrom', bufsize: 70000, flags: MSG_TRUNC },
  { kind: 'unix-dgram', size: 100000, op: 'recv', bufsize: 70000, flags: MSG_TRUNC },
  { kind: 'unix-dgram', size: 100, op: 'recvfrom', bufsize: 70000, flags: 0 },
  { kind: 'unix-dgram', size: 10, op: 'recv', bufsize: 16, flags: MSG_TRUNC },
  { kind: 'unix-dgram', size: 300, op: 'recv', bufsize: 16, flags: MSG_TRUNC | MSG_PEEK },
  { kind: 'unix-seqpacket', size: 5000, op: 'recv_into', buflen: 64, nbytes: 10, flags: MSG_TRUNC },
  { kind: 'unix-seqpacket', size: 5000, op: 'recv', bufsize: 10, flags: MSG_TRUNC },
  { kind: 'udp', size: 60000, op: 'recv', bufsize: 16, flags: MSG_TRUNC },
  { kind: 'udp', size: 60000, op: 'recvfrom', bufsize: 16, flags: MSG_TRUNC },
  { kind: 'udp', size: 60000, op: 'recv_into', buflen: 100, nbytes: 20, flags: MSG_TRUNC },
  { kind: 'tcp', size: 26, op: 'recv', bufsize: 5, flags: MSG_TRUNC },
  { kind: 'tcp', size: 26, op: 'recv_into', buflen: 32, nbytes: 10, flags: MSG_TRUNC },
];

/** A connected [sender, receiver] of `kind`, with buffers big enough for 200,000-byte datagrams. */
function pair(opened, kind) {
  if (kind === 'unix-dgram' || kind === 'unix-seqpacket') {
    const [a, b] = opened.add(...sr.socketpair(sr.AF_UNIX, kind === 'unix-dgram' ? sr.SOCK_DGRAM : sr.SOCK_SEQPACKET));
    a.setsockopt(sr.SOL_SOCKET, sr.SO_SNDBUF, 1 << 20);
    b.setsockopt(sr.SOL_SOCKET, sr.SO_RCVBUF, 1 << 20);
    return [a, b];
  }
  if (kind === 'udp') {
    const b = opened.add(sr.socket(sr.AF_INET, sr.SOCK_DGRAM));
    b.bind(['127.0.0.1', 0]);
    const a = opened.add(sr.socket(sr.AF_INET, sr.SOCK_DGRAM));
    a.connect(b.getsockname());
    return [a, b];
  }
  const server = opened.add(sr.create_server(['127.0.0.1', 0]));
  const a = opened.add(sr.create_connection(server.getsockname()));
  const [b] = server.accept();
  opened.add(b);
  return [a, b];
}

/** What the read returned here: { n, bytes (hex) }; for recv_into the whole buffer. */
function ours(c) {
  const opened = new Opened();
  try {
    const [a, b] = pair(opened, c.kind);
    a.sendall(pattern(c.size));
    b.settimeout(2);
    if (c.kind === 'tcp') sr.select([b], [], [], 2);
    if (c.op === 'recv_into') {
      const buf = Buffer.alloc(c.buflen, 0x2e);
      const n = b.recv_into(buf, c.nbytes, c.flags);
      return { n, bytes: buf.toString('hex') };
    }
    const got = c.op === 'recv' ? b.recv(c.bufsize, c.flags) : b.recvfrom(c.bufsize, c.flags)[0];
    return { n: got.length, bytes: got.toString('hex') };
  } finally {
    opened.closeAll();
  }
}

// The same cases through CPython's socket module.
const PYTHON = String.raw`
import json, select, socket, sys
def pattern(n): return bytes((i % 251) + 1 for i in range(n))
def pair(kind):
    if kind in ('unix-dgram', 'unix-seqpacket'):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM if kind == 'unix-dgram' else socket.SOCK_SEQPACKET)
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        return a, b, []
    if kind == 'udp':
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        b.bind(('127.0.0.1', 0))
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        a.connect(b.getsockname())
        return a, b, []
    server = socket.create_server(('127.0.0.1', 0))
    a = socket.create_connection(server.getsockname())
    b, _ = server.accept()
    return a, b, [server]
out = []
for c in json.loads(sys.argv[1]):
    a, b, rest = pair(c['kind'])
    a.sendall(pattern(c['size']))
    b.settimeout(2)
    if c['kind'] == 'tcp': select.select([b], [], [], 2)
    if c['op'] == 'recv_into':
        buf = bytearray(b'.' * c['buflen'])
        n = b.recv_into(buf, c['nbytes'], c['flags'])
        out.append({'n': n, 'bytes': buf.hex()})
    else:
        got = b.recv(c['bufsize'], c['flags']) if c['op'] == 'recv' else b.recvfrom(c['bufsize'], c['flags'])[0]
        out.append({'n': len(got), 'bytes': got[:c['bufsize']].hex()})  # past bufsize: garbage
    for s in (a, b, *rest): s.close()
print(json.dumps(out))
`;

describe('MSG_TRUNC', () => {
  const label = (c) => `${c.kind} ${c.op}(${c.op === 'recv_into' ? `buf[${c.buflen}], ${c.nbytes}` : c.bufsize}, ${c.flags}) of ${c.size} bytes`;

  it('recv() and recvfrom() return at most bufsize bytes, each one the kernel wrote', () => {
    for (const c of cases.filter((c) => c.op !== 'recv_into')) {
      const { n, bytes } = ours(c);
      const want = Math.min(c.size, c.bufsize);
      assert.equal(n, want, label(c));
      // TCP discards with MSG_TRUNC and writes nothing: zeros, never bytes of an earlier read.
      const expected = c.kind === 'tcp' ? Buffer.alloc(want) : pattern(want);
      assert.equal(bytes, expected.toString('hex'), label(c));
    }
  });

  it("recv_into() writes at most nbytes and returns the datagram's real length", () => {
    for (const c of cases.filter((c) => c.op === 'recv_into')) {
      const { n, bytes } = ours(c);
      const datagram = c.kind !== 'tcp';
      assert.equal(n, datagram ? c.size : c.nbytes, label(c));
      const buf = Buffer.from(bytes, 'hex');
      if (datagram) assert.deepEqual(buf.subarray(0, c.nbytes), pattern(c.nbytes), label(c));
      assert.ok(buf.subarray(c.nbytes).every((x) => x === 0x2e), `${label(c)}: nothing written past nbytes`);
    }
  });

  it("bytes TCP discards read as zeros, never as an earlier read's", () => {
    const opened = new Opened();
    try {
      const [a, b] = pair(opened, 'tcp');
      for (const read of [(n, flags) => b.recv(n, flags), (n, flags) => b.recvfrom(n, flags)[0]]) {
        a.sendall('secret');
        sr.select([b], [], [], 2);
        assert.equal(read(6, 0).toString(), 'secret'); // what the shared buffers now hold
        a.sendall('public');
        sr.select([b], [], [], 2);
        assert.deepEqual(read(6, MSG_TRUNC), Buffer.alloc(6)); // discarded by Linux, not written
      }
    } finally {
      opened.closeAll();
    }
  });

  it('a truncated datagram leaves the next one whole', () => {
    const opened = new Opened();
    try {
      const [a, b] = pair(opened, 'unix-dgram');
      a.send(pattern(5000));
      a.send('next');
      assert.equal(b.recv(8, MSG_TRUNC).length, 8);
      assert.equal(b.recv(100).toString(), 'next');
    } finally {
      opened.closeAll();
    }
  });

  (python ? it : it.skip)('agrees with CPython: recv_into exactly, recv and recvfrom up to bufsize', function () {
    this.timeout(20000);
    const r = spawnSync(python, ['-c', PYTHON, JSON.stringify(cases)], { encoding: 'utf8', timeout: 15000 });
    assert.equal(r.status, 0, r.stderr);
    const theirs = JSON.parse(r.stdout);
    cases.forEach((c, i) => {
      const mine = ours(c);
      const py = theirs[i];
      if (c.op === 'recv_into') {
        assert.deepEqual(mine, py, label(c));
      } else {
        // Python's length is the kernel's; its bytes past bufsize were never read (memory garbage).
        assert.equal(mine.n, Math.min(py.n, c.bufsize), label(c));
        if (c.kind !== 'tcp') assert.equal(mine.bytes, py.bytes, label(c));
      }
    });
  });
});
