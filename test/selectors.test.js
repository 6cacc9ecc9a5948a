'use strict';
// selectors: one suite, run once per backend (as CPython's test_selectors runs one TestCase per
// selector class), over real sockets on loopback. Then what only some backends do.
const assert = require('node:assert/strict');
const fs = require('node:fs');

const { sr, Opened, listener, runNode } = require('./helpers/sockets');

const { selectors } = sr;
const { EVENT_READ, EVENT_WRITE } = selectors;
const backends = ['SelectSelector', 'PollSelector', ...(process.platform === 'linux' ? ['EpollSelector'] : [])];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The events select() reported for `fileobj`, or undefined. */
function eventsOf(ready, fileobj) {
  const found = ready.find(([key]) => key.fileobj === fileobj);
  return found && found[1];
}

for (const name of backends) {
  describe(`selectors.${name}`, () => {
    const opened = new Opened();
    let sel;
    const make = () => new selectors[name]();
    beforeEach(() => {
      sel = make();
    });
    afterEach(() => {
      sel.close();
      opened.closeAll();
    });

    it('register returns the key; get_key and get_map see it; unregister returns it', () => {
      const [a] = opened.add(...sr.socketpair());
      const key = sel.register(a, EVENT_READ, 'data');
      assert.ok(key instanceof selectors.SelectorKey);
      assert.equal(key.fileobj, a);
      assert.equal(key.fd, a.fileno());
      assert.equal(key.events, EVENT_READ);
      assert.equal(key.data, 'data');
      assert.ok(Object.isFrozen(key), 'a key is immutable, as a namedtuple');
      assert.equal(sel.get_key(a), key);
      const map = sel.get_map();
      assert.equal(map.size, 1);
      assert.equal(map.get(a.fileno()), key, 'by descriptor');
      assert.equal(map.get(a), key, 'and by file object');
      assert.ok(map.has(a));
      assert.deepEqual([...map.keys()], [a.fileno()]);
      assert.deepEqual([...map], [[a.fileno(), key]]);
      assert.equal(typeof map.set, 'undefined', 'read-only');
      assert.equal(sel.unregister(a), key);
      assert.equal(map.size, 0, 'a view: it follows the selector');
      assert.equal(map.get(a), undefined);
    });

    it('takes raw descriptors and objects with fileno(), and gives them back', () => {
      const [a, b] = opened.add(...sr.socketpair());
      const wrapper = { fileno: () => b.fileno() };
      sel.register(a.fileno(), EVENT_WRITE);
      sel.register(wrapper, EVENT_WRITE);
      const ready = sel.select(0);
      assert.equal(eventsOf(ready, a.fileno()), EVENT_WRITE);
      assert.equal(eventsOf(ready, wrapper), EVENT_WRITE);
    });

    it("throws Python's errors: KeyError for twice or unknown, RangeError/TypeError for bad events or objects", () => {
      const [a, b] = opened.add(...sr.socketpair());
      sel.register(a, EVENT_READ);
      assert.throws(() => sel.register(a, EVENT_WRITE), { name: 'KeyError', message: /\(FD \d+\) is already registered/ });
      assert.throws(() => sel.register(a.fileno(), EVENT_READ), sr.KeyError, 'the same descriptor, another object');
      assert.throws(() => sel.unregister(b), { name: 'KeyError', message: /is not registered/ });
      assert.throws(() => sel.modify(b, EVENT_READ), sr.KeyError);
      assert.throws(() => sel.get_key(b), sr.KeyError);
      assert.throws(() => sel.register(b, 0), { name: 'RangeError', message: /Invalid events: 0/ });
      assert.throws(() => sel.register(b, 4), { name: 'RangeError', message: /Invalid events: 4/ });
      assert.throws(() => sel.register(b, 2 ** 53), RangeError, 'not truncated to 0 by a bitwise operator');
      assert.throws(() => sel.register(b, 'read'), TypeError);
      assert.throws(() => sel.modify(a, 8), RangeError);
      assert.equal(sel.get_key(a).events, EVENT_READ, 'a refused modify changes nothing');
      assert.throws(() => sel.register('5', EVENT_READ), { name: 'TypeError', message: /Invalid file object/ });
      assert.throws(() => sel.register({}, EVENT_READ), TypeError);
      assert.throws(() => sel.register(-1, EVENT_READ), { name: 'RangeError', message: /Invalid file descriptor: -1/ });
      assert.throws(() => sel.select('soon'), TypeError);
      assert.equal(sel.get_map().size, 1, 'nothing half-registered');
    });

    it('reports readable and writable with the data attached, masked by what was asked', () => {
      const [a, b] = opened.add(...sr.socketpair());
      sel.register(a, EVENT_READ | EVENT_WRITE, 'a');
      sel.register(b, EVENT_READ, 'b');
      let ready = sel.select(0);
      assert.equal(eventsOf(ready, a), EVENT_WRITE);
      assert.equal(eventsOf(ready, b), undefined, 'b asked for reading only, and has nothing to read');
      b.send('x');
      ready = sel.select(1);
      assert.equal(eventsOf(ready, a), EVENT_READ | EVENT_WRITE);
      assert.equal(ready.find(([key]) => key.fileobj === a)[0].data, 'a');
      a.send('y');
      assert.equal(eventsOf(sel.select(1), b), EVENT_READ);
    });

    it('timeout 0 polls, a timeout waits about that long, null waits for an event', () => {
      const [a, b] = opened.add(...sr.socketpair());
      sel.register(a, EVENT_READ);
      let t0 = Date.now();
      assert.deepEqual(sel.select(0), []);
      assert.deepEqual(sel.select(-1), [], 'a negative timeout polls, as in Python');
      assert.ok(Date.now() - t0 < 500);
      t0 = Date.now();
      assert.deepEqual(sel.select(0.15), []);
      const ms = Date.now() - t0;
      assert.ok(ms >= 140 && ms < 3000, `waited ${ms} ms`);
      b.send('now');
      assert.equal(eventsOf(sel.select(), a), EVENT_READ);
      assert.equal(eventsOf(sel.select(null), a), EVENT_READ);
    });

    it('modify changes the events, or only the data, and keeps the registration', () => {
      const [a, b] = opened.add(...sr.socketpair());
      sel.register(a, EVENT_READ, 1);
      let key = sel.modify(a, EVENT_READ, 2);
      assert.equal(key.data, 2);
      assert.equal(sel.get_key(a), key);
      assert.deepEqual(sel.select(0), []);
      key = sel.modify(a, EVENT_WRITE, 3);
      assert.equal(key.events, EVENT_WRITE);
      assert.equal(eventsOf(sel.select(0), a), EVENT_WRITE);
      assert.equal(sel.modify(a, EVENT_READ, 3).events, EVENT_READ);
      assert.deepEqual(sel.select(0), [], 'no longer watched for writing');
      b.send('z');
      assert.equal(eventsOf(sel.select(1), a), EVENT_READ);
    });

    it('unregisters a socket that was closed since, without an error', () => {
      const [a] = opened.add(...sr.socketpair());
      const key = sel.register(a, EVENT_READ);
      a.close();
      assert.equal(sel.unregister(a), key);
      assert.equal(sel.get_map().size, 0);
    });

    it('a listener is readable when a connection waits; a whole echo exchange runs on the selector', () => {
      const [server, port] = listener(opened);
      server.setblocking(false);
      sel.register(server, EVENT_READ, 'listener');
      assert.deepEqual(sel.select(0), []);
      const client = opened.add(sr.create_connection(['127.0.0.1', port]));
      const [[key, events]] = sel.select(2);
      assert.equal(key.data, 'listener');
      assert.equal(events, EVENT_READ);
      const [conn] = server.accept();
      opened.add(conn);
      conn.setblocking(false);
      sel.register(conn, EVENT_READ, 'conn');
      client.sendall('ping');
      for (let turn = 0; turn < 10 && conn.outbox.empty(); turn++) {
        for (const [k, ev] of sel.select(2)) {
          if (k.data === 'conn' && ev & EVENT_READ) {
            conn.outbox.put(conn.recv(100));
            sel.modify(conn, EVENT_READ | EVENT_WRITE, 'conn');
          }
        }
      }
      const [[k2, ev2]] = sel.select(2);
      assert.equal(k2.data, 'conn');
      assert.ok(ev2 & EVENT_WRITE);
      conn.outbox.flush();
      assert.equal(client.recv(100).toString(), 'ping');
    });

    it('close(): get_map() is null, get_key throws, register and select throw EBADF; twice is fine', () => {
      const [a] = opened.add(...sr.socketpair());
      sel.register(a, EVENT_READ);
      sel.close();
      sel.close();
      assert.equal(sel.get_map(), null);
      assert.throws(() => sel.get_key(a), /Selector is closed/);
      assert.throws(() => sel.register(a, EVENT_READ), { code: 'EBADF', message: /selector is closed/ });
      assert.throws(() => sel.select(0), { code: 'EBADF' });
      sel.wakeup(); // a no-op, not an error
    });

    it('Symbol.dispose closes it (`using sel = ...`)', () => {
      const made = make();
      const [a] = opened.add(...sr.socketpair());
      made.register(a, EVENT_READ);
      made[Symbol.dispose]();
      assert.equal(made.get_map(), null);
    });

    describe('selectAsync', () => {
      it('waits off the main thread: a setInterval keeps ticking, then the event arrives', async () => {
        const [a, b] = opened.add(...sr.socketpair());
        sel.register(a, EVENT_READ, 'a');
        let ticks = 0;
        const interval = setInterval(() => ticks++, 10);
        try {
          setTimeout(() => b.send('late'), 300);
          const ready = await sel.selectAsync(null);
          assert.deepEqual(ready.map(([k, ev]) => [k.data, ev]), [['a', EVENT_READ]]);
        } finally {
          clearInterval(interval);
        }
        assert.ok(ticks >= 5, `the event loop ran during the wait (${ticks} ticks)`);
      });

      it('a timeout resolves with nothing, about on time', async () => {
        const [a] = opened.add(...sr.socketpair());
        sel.register(a, EVENT_READ);
        const t0 = Date.now();
        assert.deepEqual(await sel.selectAsync(0.2), []);
        const ms = Date.now() - t0;
        assert.ok(ms >= 190 && ms < 5000, `waited ${ms} ms`);
        assert.deepEqual(await sel.selectAsync(0), []);
      });

      it('wakeup() ends a wait early, from a timer; one before the wait ends the next one at once', async () => {
        const [a] = opened.add(...sr.socketpair());
        sel.register(a, EVENT_READ);
        let t0 = Date.now();
        setTimeout(() => sel.wakeup(), 100);
        assert.deepEqual(await sel.selectAsync(30), []);
        assert.ok(Date.now() - t0 < 5000, 'not the 30 s timeout');
        sel.wakeup();
        t0 = Date.now();
        assert.deepEqual(await sel.selectAsync(30), []);
        assert.deepEqual(sel.select(0), [], 'and the pipe is drained');
        sel.wakeup();
        assert.deepEqual(sel.select(30), [], 'a synchronous select() sees it too');
        assert.ok(Date.now() - t0 < 5000);
      });

      it('closing a registered socket ends the wait, and its number is not reused until the wait has returned', async () => {
        const [a, b] = opened.add(...sr.socketpair());
        sel.register(a, EVENT_READ);
        sel.register(b, EVENT_READ);
        const fd = a.fileno();
        const waiting = sel.selectAsync(30);
        await sleep(50); // the worker thread is in the system call by now
        const t0 = Date.now();
        sel.unregister(a);
        a.close();
        assert.equal(a.fileno(), -1, 'closed for JS at once');
        assert.throws(() => a.recv(1), { code: 'EBADF' });
        const fresh = opened.add(sr.socket());
        assert.notEqual(fresh.fileno(), fd, 'the number is still held while the thread may be waiting on it');
        await waiting;
        assert.ok(Date.now() - t0 < 5000, 'the close ended the wait');
        const later = opened.add(sr.socket());
        assert.equal(later.fileno(), fd, 'released once the wait returned');
      });

      it('closing the selector ends the wait with nothing; events() ends too', async () => {
        const [a] = opened.add(...sr.socketpair());
        sel.register(a, EVENT_READ);
        setTimeout(() => sel.close(), 100);
        const t0 = Date.now();
        assert.deepEqual(await sel.selectAsync(30), []);
        assert.ok(Date.now() - t0 < 5000);
        const other = make();
        other.register(a, EVENT_READ);
        setTimeout(() => other.close(), 100);
        let turns = 0;
        for await (const ready of other.events()) turns += ready.length + 1;
        assert.equal(turns, 0, 'nothing was ready, and the loop ended');
      });

      it('sees a registration made while it waits', async () => {
        const [a, b] = opened.add(...sr.socketpair());
        b.send('already here');
        const waiting = sel.selectAsync(30);
        await sleep(50);
        sel.register(a, EVENT_READ, 'late');
        const ready = await waiting;
        assert.deepEqual(ready.map(([k]) => k.data), ['late']);
      });

      it('events() yields each ready list to a for-await loop', async () => {
        const [a, b] = opened.add(...sr.socketpair());
        sel.register(a, EVENT_READ, 'a');
        const got = [];
        setTimeout(() => b.send('1'), 20);
        for await (const ready of sel.events()) {
          for (const [key] of ready) got.push(key.fileobj.recv(10).toString());
          if (got.length === 1) setTimeout(() => b.send('2'), 20);
          if (got.length === 2) break;
        }
        assert.deepEqual(got, ['1', '2']);
      });

      it('one wait at a time: another select() or selectAsync() meanwhile is EBUSY', async () => {
        const [a] = opened.add(...sr.socketpair());
        sel.register(a, EVENT_READ);
        const waiting = sel.selectAsync(30);
        await assert.rejects(sel.selectAsync(0), { code: 'EBUSY' });
        assert.throws(() => sel.select(0), { code: 'EBUSY' });
        sel.wakeup();
        assert.deepEqual(await waiting, []);
        assert.deepEqual(await sel.selectAsync(0), [], 'free again');
      });
    });
  });
}

describe('selectors: what differs between backends', () => {
  const opened = new Opened();
  afterEach(() => opened.closeAll());

  it('DefaultSelector is epoll on Linux, poll elsewhere', () => {
    const sel = new selectors.DefaultSelector();
    try {
      assert.ok(sel instanceof (process.platform === 'linux' ? selectors.EpollSelector : selectors.PollSelector));
    } finally {
      sel.close();
    }
  });

  it('SelectSelector refuses a descriptor at or above FD_SETSIZE when it is registered', () => {
    const sel = new selectors.SelectSelector();
    try {
      assert.throws(() => sel.register({ fileno: () => sr.FD_SETSIZE }, EVENT_READ), {
        name: 'RangeError',
        message: /SelectSelector cannot watch .*descriptor 1024 is not below FD_SETSIZE=1024; use PollSelector or EpollSelector/,
      });
      assert.equal(sel.get_map().size, 0);
    } finally {
      sel.close();
    }
  });

  it('EpollSelector undoes a registration the kernel refuses (a regular file), and has a fileno()', function () {
    if (process.platform !== 'linux') this.skip();
    const sel = new selectors.EpollSelector();
    const fd = fs.openSync(__filename, 'r');
    try {
      assert.ok(sel.fileno() >= 0);
      assert.throws(() => sel.register(fd, EVENT_READ), (err) => err instanceof sr.PermissionError && err.code === 'EPERM' && err.syscall === 'epoll_ctl');
      assert.equal(sel.get_map().size, 0, 'not left half-registered');
      assert.throws(() => sel.get_key(fd), sr.KeyError);
    } finally {
      fs.closeSync(fd);
      sel.close();
    }
    assert.equal(sel.fileno(), -1);
  });

  it('a signal named in interrupt_on() ends a blocking select() of every backend with InterruptedError', function () {
    this.timeout(30000);
    const r = runNode(`
      const sr = require(process.env.SR_ROOT);
      const { spawn } = require('node:child_process');
      sr.interrupt_on('SIGUSR2');
      const [a] = sr.socketpair();
      for (const name of ${JSON.stringify(backends)}) {
        const sel = new sr.selectors[name]();
        sel.register(a, sr.selectors.EVENT_READ);
        spawn('sh', ['-c', 'sleep 0.3; kill -USR2 ' + process.pid], { stdio: 'ignore' }).unref();
        try {
          sel.select(20);
          console.log(name, 'returned');
        } catch (err) {
          console.log(name, err.name, err.signal);
        }
        sel.close();
      }
    `);
    assert.equal(r.status, 0, r.stderr);
    for (const name of backends) assert.match(r.stdout, new RegExp(`${name} InterruptedError SIGUSR2`));
  });

  it('EpollSelector: a signal caught during a selectAsync() neither ends nor spins it, and ends the next select()', function () {
    // Its select() watches the signal pipe in the epoll set itself, which a wait thread on the
    // same set sees too: that one must let the signal pass, and the next select() hear it.
    if (sr.selectors.EpollSelector === undefined || process.platform !== 'linux') this.skip();
    this.timeout(30000);
    const r = runNode(`
      const sr = require(process.env.SR_ROOT);
      const { spawn } = require('node:child_process');
      sr.interrupt_on('SIGUSR2');
      const [a, b] = sr.socketpair();
      const sel = new sr.selectors.EpollSelector();
      sel.register(a, sr.selectors.EVENT_READ);
      console.log('first', sel.select(0.05).length);
      spawn('sh', ['-c', 'sleep 0.2; kill -USR2 ' + process.pid], { stdio: 'ignore' }).unref();
      a.setblocking(false); // a blocking call would hear the pending signal first
      b.setblocking(false);
      setTimeout(() => b.send('x'), 800);
      const cpu = process.cpuUsage();
      const t0 = Date.now();
      sel.selectAsync(10).then((ready) => {
        const used = process.cpuUsage(cpu);
        console.log('async', ready.length, Date.now() - t0 >= 700, (used.user + used.system) / 1000 < 400);
        a.recv(1);
        const t1 = Date.now();
        try {
          sel.select(10);
          console.log('select returned');
        } catch (err) {
          console.log('select', err.name, err.signal, Date.now() - t1 < 1000);
        }
        sel.close(); a.close(); b.close();
      });
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['first 0', 'async 1 true true', 'select InterruptedError SIGUSR2 true']);
  });

  it('PollSelector and EpollSelector watch descriptors above 1024; SelectSelector says why it cannot', function () {
    this.timeout(30000);
    const r = runNode(`
      const sr = require(process.env.SR_ROOT);
      const fs = require('node:fs');
      const { RLIMIT_NOFILE, getrlimit, setrlimit } = sr.resource;
      const [, hard] = getrlimit(RLIMIT_NOFILE);
      setrlimit(RLIMIT_NOFILE, [Math.min(hard, 4096), hard]);
      // Push the next descriptors past FD_SETSIZE.
      while (fs.openSync('/dev/null', 'r') < 1100);
      const [a, b] = sr.socketpair();
      if (a.fileno() <= 1024) throw new Error('expected a high descriptor, got ' + a.fileno());
      const names = ['PollSelector', ...(process.platform === 'linux' ? ['EpollSelector'] : [])];
      for (const name of names) {
        const sel = new sr.selectors[name]();
        sel.register(a, sr.selectors.EVENT_READ, name);
        b.send('x');
        const ready = sel.select(5);
        console.log(name, a.fileno(), ready.length === 1 && ready[0][0].data === name ? 'ready' : 'NOT READY');
        a.recv(1);
        sel.close();
      }
      try {
        new sr.selectors.SelectSelector().register(a, sr.selectors.EVENT_READ);
      } catch (err) {
        console.log('SelectSelector', err.name, err.message);
      }
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /PollSelector \d{4} ready/);
    if (process.platform === 'linux') assert.match(r.stdout, /EpollSelector \d{4} ready/);
    assert.match(r.stdout, /SelectSelector RangeError SelectSelector cannot watch .* is not below FD_SETSIZE=1024/);
  });

  it('a worker thread ended while its selectAsync() waits is not left stuck, and neither is process.exit()', async function () {
    this.timeout(30000);
    const { Worker } = require('node:worker_threads');
    for (const name of backends) {
      const worker = new Worker(`
        const sr = require(${JSON.stringify(require('./helpers/sockets').root)});
        const { parentPort } = require('node:worker_threads');
        const [a, b] = sr.socketpair();
        const sel = new sr.selectors.${name}();
        sel.register(a, sr.selectors.EVENT_READ);
        sel.selectAsync(null);
        sr.selectAsync([b], [], [], null);
        parentPort.postMessage('waiting');
      `, { eval: true });
      await new Promise((resolve) => worker.once('message', resolve));
      const t0 = Date.now();
      await worker.terminate();
      assert.ok(Date.now() - t0 < 5000, `${name}: terminate() returned in ${Date.now() - t0} ms`);
    }
    const r = runNode(`
      const sr = require(process.env.SR_ROOT);
      const [a] = sr.socketpair();
      const sel = new sr.selectors.DefaultSelector();
      sel.register(a, sr.selectors.EVENT_READ);
      sel.selectAsync(null);
      setTimeout(() => process.exit(7), 100);
    `, { timeout: 10000 });
    assert.equal(r.status, 7, 'process.exit() did not hang on the waiting thread');
  });

  it("many waits at once do not starve libuv's thread pool (fs keeps working)", async () => {
    const sels = backends.flatMap(() => [0, 1, 2]).map((_, i) => new selectors[backends[i % backends.length]]());
    const [a, b] = opened.add(...sr.socketpair());
    try {
      for (const s of sels) s.register(a, EVENT_READ);
      const waits = sels.map((s) => s.selectAsync(30));
      const t0 = Date.now();
      await Promise.all([0, 1, 2, 3, 4, 5].map(() => fs.promises.readFile(__filename)));
      assert.ok(Date.now() - t0 < 3000, `fs took ${Date.now() - t0} ms beside ${sels.length} waits`);
      b.send('!');
      const answers = await Promise.all(waits);
      assert.ok(answers.every((ready) => ready.length === 1), 'every wait saw the byte');
    } finally {
      for (const s of sels) s.close();
    }
  });
});
