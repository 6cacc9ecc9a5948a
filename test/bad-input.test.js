'use strict';
// Bad input from JS: every case must throw a catchable TypeError, RangeError or SocketError with a
// message, in this very process. An abort or a crash would take mocha down with it.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { sr, Opened } = require('./helpers/sockets');

function expectError(call, Class, label) {
  let thrown;
  try {
    call();
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown, `${label}: expected ${Class.name}, nothing was thrown`);
  assert.ok(thrown instanceof Class, `${label}: expected ${Class.name}, got ${thrown && thrown.name}: ${thrown && thrown.message}`);
  assert.ok(typeof thrown.message === 'string' && thrown.message.length > 0, `${label}: no message`);
}

describe('bad input', () => {
  const opened = new Opened();
  afterEach(() => opened.closeAll());

  const garbage = [undefined, null, true, '7', 1.5, NaN, -1, 2 ** 53, 10n, {}, [], () => 0, Symbol('s')];

  it('constructors and module functions reject wrong types and ranges', () => {
    const cases = [
      [() => sr.socket('inet'), TypeError],
      [() => sr.socket(1.5), TypeError],
      [() => sr.socket(-5), RangeError],
      [() => sr.socket(sr.AF_INET, 99), sr.SocketError],
      [() => sr.socket(12345), sr.SocketError],
      [() => new sr.Socket(undefined, undefined, undefined, 99999), sr.SocketError],
      [() => new sr.Socket(undefined, undefined, undefined, 2 ** 40), RangeError],
      [() => sr.socketpair('x'), TypeError],
      [() => sr.getaddrinfo(null, null), TypeError],
      [() => sr.getaddrinfo(5, 80), TypeError],
      [() => sr.getaddrinfo('localhost', 70000), RangeError],
      [() => sr.create_connection('localhost:80'), TypeError],
      [() => sr.create_connection(['localhost', -1]), RangeError],
      [() => sr.create_server(['127.0.0.1', 65536]), RangeError],
      [() => sr.create_server(['127.0.0.1', 0], { backlog: -1 }), RangeError],
      [() => sr.fromfd(-1, sr.AF_INET, sr.SOCK_STREAM), RangeError],
      [() => sr.htons(70000), RangeError],
      [() => sr.ntohl('1'), TypeError],
      [() => sr.interrupt_on('SIGNOPE'), TypeError],
      [() => sr.interrupt_on('SIGKILL'), RangeError],
    ];
    cases.forEach(([call, Class], i) => expectError(call, Class, `case ${i}`));
  });

  it('socket methods reject wrong types and out-of-range numbers', () => {
    const s = opened.add(sr.socket());
    const [a] = opened.add(...sr.socketpair());
    const cases = [
      [() => s.bind('127.0.0.1:80'), TypeError],
      [() => s.bind(['127.0.0.1']), TypeError],
      [() => s.bind([127, 80]), TypeError],
      [() => s.bind(['127.0.0.1', 65536]), RangeError],
      [() => s.bind(['127.0.0.1', -1]), RangeError],
      [() => s.bind(['127.0.0.1', 80.5]), TypeError],
      [() => s.bind(['127.0.0.1', '80']), TypeError],
      [() => s.connect(null), TypeError],
      [() => s.connect_ex({ host: 'x', port: 1 }), TypeError],
      [() => s.listen(-1), RangeError],
      [() => s.listen('5'), TypeError],
      [() => s.settimeout(-1), RangeError],
      [() => s.settimeout(Infinity), RangeError],
      [() => s.settimeout('1'), TypeError],
      [() => s.setblocking('yes'), TypeError],
      [() => s.setsockopt('a', 1, 1), TypeError],
      [() => s.setsockopt(sr.SOL_SOCKET, sr.SO_REUSEADDR, 'on'), TypeError],
      [() => s.setsockopt(sr.SOL_SOCKET, sr.SO_REUSEADDR, 2 ** 40), RangeError],
      [() => s.getsockopt(sr.SOL_SOCKET, sr.SO_TYPE, 0), RangeError],
      [() => s.getsockopt(sr.SOL_SOCKET, sr.SO_TYPE, 1 << 20), RangeError],
      [() => s.shutdown(99), RangeError],
      [() => a.send(12), TypeError],
      [() => a.send({}), TypeError],
      [() => a.send('x', -1), RangeError],
      [() => a.sendall([1, 2]), TypeError],
      [() => a.recv(-1), RangeError],
      [() => a.recv(2 ** 31), RangeError],
      [() => a.recv('10'), TypeError],
      [() => a.recv(10, 'peek'), TypeError],
      [() => a.recv_into('buffer'), TypeError],
      [() => a.recv_into(Buffer.alloc(4), 5), RangeError],
      [() => a.recvfrom(-3), RangeError],
      [() => a.sendto('x', 'not an address for AF_UNIX?'.repeat(20)), RangeError],
      [() => a.outbox.put(42), TypeError],
      [() => a.outbox.put(null), TypeError],
      [() => a.outbox.peek(-1), RangeError],
      [() => s.recv(10), sr.SocketError], // not connected: ENOTCONN
    ];
    cases.forEach(([call, Class], i) => expectError(call, Class, `case ${i}`));
  });

  it('running out of memory for a buffer is a SocketError (ENOMEM), not an abort', function () {
    // Not under the sanitizers (npm run test:asan): ASan reserves terabytes of address space for
    // its shadow memory at start, which a child under `ulimit -v` cannot do, and its allocator
    // reports a failed allocation instead of returning null.
    if (process.env.SR_SANITIZED === '1') this.skip();
    // A child with little address space: recv() and outbox.put() allocate what the caller asks.
    const code = `const sr = require(process.env.SR_ROOT);
      const [a, b] = sr.socketpair();
      b.send('x');
      const big = Buffer.alloc(256 << 20);
      const fill = () => { for (let i = 0; i < 8; i++) a.outbox.put(big); }; // copies outgrow the limit
      for (const call of [() => a.recv(2 ** 31 - 1), fill]) {
        try { call(); console.log('no error'); } catch (err) { console.log(err.name, err.code); }
      }`;
    const r = require('node:child_process').spawnSync('bash', ['-c', `ulimit -v 1500000 && exec "${process.execPath}" -e "$0"`, code], {
      encoding: 'utf8', env: { ...process.env, SR_ROOT: require('./helpers/sockets').root }, timeout: 20000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['SocketError ENOMEM', 'SocketError ENOMEM']);
  });

  it('every method after close() throws SocketError EBADF', () => {
    const s = sr.socket();
    s.close();
    const calls = {
      bind: () => s.bind(['127.0.0.1', 0]),
      listen: () => s.listen(),
      accept: () => s.accept(),
      connect: () => s.connect(['127.0.0.1', 1]),
      connect_ex: () => s.connect_ex(['127.0.0.1', 1]),
      send: () => s.send('x'),
      sendall: () => s.sendall('x'),
      sendto: () => s.sendto('x', ['127.0.0.1', 1]),
      recv: () => s.recv(1),
      recv_into: () => s.recv_into(Buffer.alloc(1)),
      recvfrom: () => s.recvfrom(1),
      shutdown: () => s.shutdown(sr.SHUT_RDWR),
      setsockopt: () => s.setsockopt(sr.SOL_SOCKET, sr.SO_REUSEADDR, 1),
      getsockopt: () => s.getsockopt(sr.SOL_SOCKET, sr.SO_REUSEADDR),
      settimeout: () => s.settimeout(1),
      gettimeout: () => s.gettimeout(),
      setblocking: () => s.setblocking(false),
      getsockname: () => s.getsockname(),
      getpeername: () => s.getpeername(),
      dup: () => s.dup(),
      'outbox.put': () => s.outbox.put('x'),
      'outbox.flush': () => s.outbox.flush(),
      select: () => sr.select([s], [], [], 0),
    };
    for (const [name, call] of Object.entries(calls)) {
      assert.throws(call, (err) => err instanceof sr.SocketError && err.code === 'EBADF', name);
    }
    assert.equal(s.fileno(), -1);
  });

  it('garbage in every argument of every method never crashes the process', () => {
    const [a, b] = opened.add(...sr.socketpair());
    a.setblocking(false);
    b.setblocking(false);
    const methods = ['bind', 'listen', 'connect', 'connect_ex', 'send', 'sendall', 'sendto', 'recv', 'recv_into',
      'recvfrom', 'shutdown', 'setsockopt', 'getsockopt', 'settimeout', 'setblocking'];
    let thrown = 0;
    for (const name of methods) {
      for (const x of garbage) {
        for (const args of [[x], [x, x], [x, x, x], [1, x], [1, 1, x]]) {
          a.setblocking(false); // garbage may have set a timeout, or null (blocking)
          try {
            a[name](...args);
          } catch (err) {
            thrown++;
            assert.ok(err instanceof TypeError || err instanceof RangeError || err instanceof sr.SocketError,
              `${name}(${args.map(String)}) threw ${err && err.name}`);
            assert.ok(err.message.length > 0);
          }
        }
      }
    }
    for (const x of garbage) {
      for (const call of [() => a.outbox.put(x), () => a.outbox.peek(x), () => sr.select([x], [], [], 0), () => sr.select([], [b], [], x)]) { // b is writable: any valid timeout returns at once
        try {
          call();
        } catch (err) {
          thrown++;
          assert.ok(err instanceof TypeError || err instanceof RangeError || err instanceof sr.SocketError, err.name);
        }
      }
    }
    // Garbage such as '7' is a valid AF_UNIX path: bind() made that socket file; remove it.
    for (const x of garbage) if (typeof x === 'string') fs.rmSync(path.join(process.cwd(), x), { force: true });
    assert.ok(thrown > 500, `${thrown} errors thrown`);
    // The process and the addon still work afterwards.
    const [c, d] = opened.add(...sr.socketpair());
    c.sendall('alive');
    assert.equal(d.recv(5).toString(), 'alive');
  });
  it('garbage into the selectors, selectAsync, resource and the native poll/epoll objects never crashes', async () => {
    const [a, b] = opened.add(...sr.socketpair());
    const ok = (err) => err instanceof TypeError || err instanceof RangeError || err instanceof sr.SocketError || err instanceof sr.KeyError;
    let thrown = 0;
    const attempt = (call, label) => {
      try {
        call();
      } catch (err) {
        thrown++;
        assert.ok(ok(err), `${label} threw ${err && err.name}: ${err && err.message}`);
      }
    };
    for (const name of ['SelectSelector', 'PollSelector', ...(sr.selectors.EpollSelector && process.platform === 'linux' ? ['EpollSelector'] : [])]) {
      const sel = new sr.selectors[name]();
      try {
        sel.register(b, sr.selectors.EVENT_WRITE); // always ready: every valid timeout returns at once
        for (const x of garbage) {
          attempt(() => sel.register(x, sr.selectors.EVENT_READ), `${name}.register(${String(x)})`);
          attempt(() => sel.register(a, x), `${name}.register(a, ${String(x)})`);
          attempt(() => sel.modify(b, x), `${name}.modify(b, ${String(x)})`);
          attempt(() => sel.unregister(x), `${name}.unregister(${String(x)})`);
          attempt(() => sel.get_key(x), `${name}.get_key(${String(x)})`);
          attempt(() => sel.select(x), `${name}.select(${String(x)})`);
          try {
            await sel.selectAsync(x);
          } catch (err) {
            thrown++;
            assert.ok(ok(err), `${name}.selectAsync(${String(x)}) rejected with ${err && err.name}`);
          }
          if (sel.get_map().has(a)) sel.unregister(a);
        }
        assert.equal(sel.get_key(b).events, sr.selectors.EVENT_WRITE, 'the registration survived it all');
      } finally {
        sel.close();
      }
    }
    for (const x of garbage) {
      try {
        await sr.selectAsync([], [b], [x], 0);
      } catch (err) {
        thrown++;
        assert.ok(ok(err), `selectAsync(${String(x)}) rejected with ${err && err.name}`);
      }
      attempt(() => sr.resource.getrlimit(x), `getrlimit(${String(x)})`);
      attempt(() => sr.resource.setrlimit(sr.resource.RLIMIT_NOFILE, [x, x]), `setrlimit(${String(x)})`);
    }
    // The native objects behind them check what they are given, whoever calls them.
    const binding = require('bindings')({ bindings: 'select_reactor', module_root: require('./helpers/sockets').root });
    const natives = [new binding.Poll(), ...(binding.Epoll ? [new binding.Epoll()] : [])];
    for (const native of natives) {
      for (const x of garbage) {
        // A number is a valid descriptor, or a timeout (< 0 blocks); the rest must be refused.
        if (typeof x === 'number' && !Number.isNaN(x)) continue;
        for (const call of [() => native.register(x, 1), () => native.register(b.fileno(), x), () => native.modify(x, 1),
          () => native.unregister(x), () => native.poll(x, new Int32Array(8)), () => native.poll(0, x),
          () => native.pollAsync(x, 1, 1), () => binding.selectAsync(x, 0, 0, 0, 0, 1), () => binding.selectAsync(new Int32Array(1), 5, 0, 0, 0, x)]) {
          attempt(call, 'native');
        }
      }
      native.close?.();
    }
    assert.ok(thrown > 300, `${thrown} errors thrown`);
    const [c, d] = opened.add(...sr.socketpair());
    c.sendall('alive');
    assert.equal(d.recv(5).toString(), 'alive');
  });
});

describe('arguments that run JS while being read', () => {
  const opened = new Opened();
  afterEach(() => opened.closeAll());

  /** [host, port] whose port is a getter that runs `effect` first. */
  function sneakyAddress(effect) {
    const address = ['127.0.0.1'];
    Object.defineProperty(address, 1, { get() { effect(); return 0; }, enumerable: true });
    return address;
  }

  it('an address getter that closes the socket: EBADF, and the socket that took its number is untouched', () => {
    for (const method of ['bind', 'connect', 'connect_ex', 'sendto']) {
      const s = sr.socket(sr.AF_INET, method === 'sendto' ? sr.SOCK_DGRAM : sr.SOCK_STREAM);
      let bystander = null;
      const address = sneakyAddress(() => {
        const fd = s.fileno();
        s.close();
        bystander = opened.add(sr.socket()); // the kernel hands out the lowest number: s's old one
        assert.equal(bystander.fileno(), fd, 'precondition: the number was reused');
      });
      const call = method === 'sendto' ? () => s.sendto('x', address) : () => s[method](address);
      assert.throws(call, (err) => err instanceof sr.SocketError && err.code === 'EBADF', method);
      assert.throws(() => bystander.getpeername(), (err) => err.code === 'ENOTCONN', `${method}: not connected`);
      assert.deepEqual(bystander.getsockname(), ['0.0.0.0', 0], `${method}: not bound`);
    }
  });

  it('an address getter that detaches the data being sent: no use of freed memory', () => {
    const server = opened.add(sr.socket(sr.AF_INET, sr.SOCK_DGRAM));
    server.bind(['127.0.0.1', 0]);
    const port = server.getsockname()[1];
    const u = opened.add(sr.socket(sr.AF_INET, sr.SOCK_DGRAM));
    let data = new Uint8Array(1 << 16).fill(7);
    const address = ['127.0.0.1'];
    Object.defineProperty(address, 1, { get() {
      structuredClone(data.buffer, { transfer: [data.buffer] }); // detaches (and frees) data's bytes
      return port;
    }, enumerable: true });
    // Either the detached (empty) view is sent, or it throws; it must never read the freed bytes.
    const sent = u.sendto(data, address);
    assert.equal(sent, 0);
    server.settimeout(1);
    assert.equal(server.recv(1 << 16).length, 0);
    data = null;
  });
});
