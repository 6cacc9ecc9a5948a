'use strict';
// select-reactor's side of test/differential.test.js: the same language as driver.py, step for
// step, on this package's socket and select. One JSON request per line on stdin, one answer per
// line on stdout. A child process of its own, so that a call that blocks where Python's did not
// hangs this process, not the test's (the test kills it and says so).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const sr = require('../..');

const BASE = fs.mkdtempSync(path.join(os.tmpdir(), 'srd-js-'));
const LOOPBACK = ['127.0.0.1', 0];

/** The bytes step `step` sends: the same on both sides. */
function pattern(step, n) {
  const out = Buffer.alloc(n);
  for (let k = 0; k < n; k++) out[k] = (step * 31 + k * 7) & 0xff;
  return out;
}

function flagsOf(names) {
  return (names ?? []).reduce((value, name) => value | sr[name], 0);
}

const asBytes = (data) => ({ hex: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex') });

/** Python compares addresses by value; so do we, for a slot's name. */
const sameAddress = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** One sequence: its sockets (slots), their names, its directory. */
class Run {
  constructor(number) {
    this.slots = [];
    this.names = new Map(); // slot -> getsockname() after the last step
    this.prefix = `srd-${process.pid}-${number}-`;
    this.dir = path.join(BASE, String(number));
    fs.mkdirSync(this.dir);
  }

  close() {
    for (const s of this.slots) s.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  add(s) {
    this.slots.push(s);
    return this.slots.length - 1;
  }

  /** An address from its symbol: a slot's name, an unused one, or a path of this run. */
  address(spec, family) {
    if ('slot' in spec) return this.names.get(spec.slot) ?? (family === sr.AF_INET ? LOOPBACK : '');
    if (family === sr.AF_UNIX) {
      if ('abstract' in spec) return `\0${this.prefix}${spec.abstract}`;
      return path.join(this.dir, spec.path ?? 'nowhere');
    }
    return spec.closed ? ['127.0.0.1', 9] : LOOPBACK;
  }

  symbol(address) {
    if (address === null || address === '') return address;
    for (const [slot, name] of this.names) if (name !== '' && sameAddress(name, address)) return { slot };
    if (Array.isArray(address)) return { host: address[0], port: address[1] === 0 ? 0 : 'other' };
    if (address.startsWith('\0')) {
      const name = address.slice(1);
      return { abstract: name.startsWith(this.prefix) ? name.slice(this.prefix.length) : 'other' };
    }
    if (address.startsWith(`${this.dir}/`)) return { path: address.slice(this.dir.length + 1) };
    return { unix: address };
  }

  rememberNames() {
    this.slots.forEach((s, slot) => {
      if (s.fileno() < 0) return;
      try {
        this.names.set(slot, s.getsockname());
      } catch {
        // Not bound, or gone: Python's side skips it too.
      }
    });
  }
}

function setup(run, kind) {
  let a, b;
  const pairs = { 'unix-stream': sr.SOCK_STREAM, 'unix-dgram': sr.SOCK_DGRAM, 'unix-seqpacket': sr.SOCK_SEQPACKET };
  if (kind in pairs) {
    const type = pairs[kind];
    [a, b] = sr.socketpair(sr.AF_UNIX, type);
  } else if (kind === 'tcp-listen' || kind === 'unix-listen') {
    const family = kind === 'tcp-listen' ? sr.AF_INET : sr.AF_UNIX;
    a = sr.socket(family, sr.SOCK_STREAM);
    a.bind(family === sr.AF_INET ? LOOPBACK : path.join(run.dir, 'listener'));
    a.listen(5);
    b = sr.socket(family, sr.SOCK_STREAM);
    b.connect(a.getsockname()); // queued in the backlog: accept() steps take it
  } else if (kind === 'tcp') {
    const listener = sr.socket();
    listener.bind(LOOPBACK);
    listener.listen(1);
    a = sr.create_connection(listener.getsockname());
    [b] = listener.accept();
    listener.close();
  } else {
    a = sr.socket(sr.AF_INET, sr.SOCK_DGRAM);
    b = sr.socket(sr.AF_INET, sr.SOCK_DGRAM);
    a.bind(LOOPBACK);
    b.bind(LOOPBACK);
    if (kind === 'udp') {
      a.connect(b.getsockname());
      b.connect(a.getsockname());
    }
  }
  for (const s of [a, b]) {
    s.settimeout(0);
    run.add(s);
  }
}

/** A select() list entry: the socket itself, its descriptor, or an object with fileno(). */
function entry(run, e) {
  const s = run.slots[e.s];
  if (e.as === 'fd') return s.fileno();
  return e.as === 'object' ? { fileno: () => s.fileno() } : s;
}

/** Where each ready entry stands in the list given (select() keeps their order). */
function positions(given, ready) {
  const out = [];
  let k = 0;
  for (const r of ready) {
    while (given[k] !== r) k++;
    out.push(k++);
  }
  return out;
}

function step(run, i, st) {
  const { op } = st;
  if (op === 'create') {
    const s = sr.socket(sr[st.family], sr[st.type]);
    const before = s.gettimeout();
    if ('timeout' in st) s.settimeout(st.timeout);
    return [run.add(s), before];
  }
  if (op === 'select') {
    const lists = [st.r, st.w, st.x].map((entries) => entries.map((e) => entry(run, e)));
    const ready = sr.select(lists[0], lists[1], lists[2], 0);
    return lists.map((given, l) => positions(given, ready[l]));
  }
  if (st.s >= run.slots.length) return { skip: true };
  const s = run.slots[st.s];
  const flags = flagsOf(st.flags);
  const option = () => [sr[st.opt[0]], sr[st.opt[1]]];
  switch (op) {
    case 'send': return s.send(pattern(i, st.n), flags);
    case 'sendall': return s.sendall(pattern(i, st.n), flags);
    case 'sendto': return s.sendto(pattern(i, st.n), flags, run.address(st.to, s.family));
    case 'recv': return asBytes(s.recv(st.n, flags));
    case 'recvfrom': {
      const [data, address] = s.recvfrom(st.n, flags);
      return [asBytes(data), run.symbol(address)];
    }
    case 'recv_into': {
      const buf = Buffer.alloc(st.size, 0xee);
      const n = s.recv_into(buf, st.nbytes, flags);
      return [n, asBytes(buf)];
    }
    case 'shutdown': return s.shutdown(typeof st.how === 'string' ? sr[st.how] : st.how);
    case 'close': return s.close();
    case 'setsockopt': return s.setsockopt(...option(), st.value);
    case 'getsockopt': return 'buflen' in st ? asBytes(s.getsockopt(...option(), st.buflen)) : s.getsockopt(...option());
    case 'settimeout': return s.settimeout(st.t);
    case 'setblocking': return s.setblocking(st.flag);
    case 'state': return [s.gettimeout(), s.getblocking(), s.fileno() < 0, s.family, s.type, s.proto];
    case 'setattr':
      s[st.name] = st.value; // strict mode: a read-only property throws TypeError
      return null;
    case 'getsockname': return run.symbol(s.getsockname());
    case 'getpeername': return run.symbol(s.getpeername());
    case 'bind': return s.bind(run.address(st.addr, s.family));
    case 'connect': return s.connect(run.address(st.to, s.family));
    case 'connect_ex': {
      const code = s.connect_ex(run.address(st.to, s.family));
      return code ? (Object.keys(sr.errno).find((name) => sr.errno[name] === code) ?? code) : 0;
    }
    case 'listen': return s.listen(st.backlog);
    case 'accept': {
      const [conn, address] = s.accept();
      return [run.add(conn), run.symbol(address)];
    }
    case 'put': return s.outbox.put(pattern(i, st.n));
    case 'flush': return s.outbox.flush();
    case 'pending': return s.outbox.pending;
    default: throw new Error(`unknown op ${op}`);
  }
}

function runSequence(number, request) {
  const run = new Run(number);
  const results = [];
  try {
    setup(run, request.setup);
    run.rememberNames();
    request.steps.forEach((st, i) => {
      let result;
      try {
        const value = step(run, i, st);
        result = value !== null && typeof value === 'object' && 'skip' in value ? value : { ok: value ?? null };
      } catch (err) {
        result = { error: err.name, errno: err instanceof sr.SocketError ? err.code : null };
      }
      results.push(result);
      run.rememberNames();
    });
  } finally {
    run.close();
  }
  return { results };
}

let number = 0;
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  process.stdout.write(`${JSON.stringify(runSequence(number++, JSON.parse(line)))}\n`);
});
process.stdin.on('end', () => fs.rmSync(BASE, { recursive: true, force: true }));
