'use strict';
// What a socket costs natively: its state lives in the addon's table by id (native/addon.h,
// HandleTable), and close() frees it and its slot at once, so a loop that never returns to the
// event loop (where N-API and FinalizationRegistry callbacks run) keeps flat memory and slots.
const assert = require('node:assert/strict');

const { sr, Opened, runNode } = require('./helpers/sockets');

const { binding } = require('../lib/binding');

const sanitized = process.env.SR_SANITIZED === '1'; // test:asan: memory figures are ASan's, not ours

describe('handles', () => {
  const opened = new Opened();
  afterEach(() => opened.closeAll());

  it('a loop that never yields opens and closes more than 2^20 sockets with flat memory and slots', function () {
    this.timeout(180000);
    // Most are socket() + close(), the cheapest the kernel has; every 64th turn also accepts a real
    // AF_UNIX connection, makes a socketpair, dup()s, detach()es and adopts with fromfd().
    const r = runNode(
      `
      const sr = require(process.env.SR_ROOT);
      const { binding } = require(process.env.SR_ROOT + '/lib/binding');
      const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
      const rss = () => Number(fs.readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-handles-'));
      const where = path.join(dir, 'listener');
      const listener = sr.socket(sr.AF_UNIX);
      listener.bind(where);
      listener.listen(128);
      const target = ${2 ** 20} + ${2 ** 15};
      let made = 0, turn = 0, atTenth = 0;
      try {
        while (made < target) {
          sr.socket(sr.AF_UNIX, sr.SOCK_DGRAM).close();
          made++;
          if (++turn % 64 === 0) {
            const c = sr.socket(sr.AF_UNIX);
            c.connect(where);
            const [s] = listener.accept();
            const [a, b] = sr.socketpair();
            const d = s.dup();
            const f = sr.fromfd(b.fileno(), sr.AF_UNIX, sr.SOCK_STREAM);
            fs.closeSync(a.detach());
            for (const t of [c, s, b, d, f]) t.close();
            made += 6;
          }
          if (!atTenth && made >= target / 10) atTenth = rss();
        }
        console.log(JSON.stringify({ made, atTenth, end: rss(), handles: binding.handles() }));
      } catch (err) {
        console.log(JSON.stringify({ made, error: String(err) }));
      } finally {
        listener.close();
        fs.rmSync(dir, { recursive: true });
      }`,
      { timeout: 170000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    assert.equal(got.error, undefined, `after ${got.made} sockets: ${got.error}`);
    assert.ok(got.made > 2 ** 20, `${got.made} sockets`);
    const [open, slots] = got.handles;
    assert.equal(open, 1, 'only the listener is open');
    assert.ok(slots <= 8, `${slots} slots: a slot is freed by close(), not by the garbage collector`);
    if (!sanitized) {
      const grew = (got.end - got.atTenth) / 2 ** 20;
      assert.ok(grew < 16, `RSS grew ${grew.toFixed(1)} MiB from 10% of the run to its end`);
    }
  });

  it('close() and detach() free the slot at once; open sockets keep theirs', () => {
    const [open0, slots0] = binding.handles();
    const sockets = [];
    for (let i = 0; i < 500; i++) sockets.push(sr.socket(sr.AF_UNIX, sr.SOCK_DGRAM));
    assert.equal(binding.handles()[0], open0 + 500);
    for (const s of sockets.splice(0, 250)) s.close();
    for (const s of sockets.splice(0, 100)) require('node:fs').closeSync(s.detach());
    assert.equal(binding.handles()[0], open0 + 150);
    for (let i = 0; i < 350; i++) sockets.push(sr.socket(sr.AF_UNIX, sr.SOCK_DGRAM));
    assert.ok(binding.handles()[1] <= Math.max(slots0, open0 + 500), 'freed slots are reused');
    for (const s of sockets) s.close();
    assert.equal(binding.handles()[0], open0);
  });

  it('a closed socket holds no id: its calls throw EBADF even after its slot is reused', () => {
    const [a] = opened.add(...sr.socketpair());
    a.close();
    const others = [];
    for (let i = 0; i < 5000; i++) sr.socket(sr.AF_UNIX, sr.SOCK_DGRAM).close(); // the slot, reused thousands of times
    others.push(...opened.add(...sr.socketpair()));
    assert.equal(a.fileno(), -1);
    assert.throws(() => a.send('x'), (err) => err.code === 'EBADF' && err.syscall === 'send');
    assert.throws(() => a.outbox.put('x'), (err) => err.code === 'EBADF' && err.syscall === 'outbox.put');
    assert.throws(() => a.recv(1), (err) => err.code === 'EBADF' && err.syscall === 'recv');
    assert.equal(a.detach(), -1);
    a.close();
    assert.equal(String(a), '<socket [closed] fd=-1, family=AF_UNIX, type=SOCK_STREAM>');
    others[0].send('still theirs');
    assert.equal(others[1].recv(100).toString(), 'still theirs');
  });

  it("a closed socket checks an address as its family reads it, then throws EBADF, as Python's does", () => {
    const unix = sr.socket(sr.AF_UNIX);
    const inet = sr.socket(sr.AF_INET, sr.SOCK_DGRAM);
    unix.close();
    require('node:fs').closeSync(inet.detach());
    const ebadf = (syscall) => (err) => err instanceof sr.SocketError && err.code === 'EBADF' && err.syscall === syscall;
    // An AF_UNIX socket takes a path; [host, port] is a TypeError, open or closed (Python: TypeError).
    assert.throws(() => unix.connect(['127.0.0.1', 9]), TypeError);
    assert.throws(() => unix.bind(['127.0.0.1', 0]), TypeError);
    assert.throws(() => unix.connect('/nonexistent'), ebadf('connect'));
    assert.throws(() => inet.sendto('x', '/a/path'), TypeError);
    assert.throws(() => inet.sendto('x', ['127.0.0.1', 9]), ebadf('sendto'));
    assert.throws(() => inet.connect_ex(['127.0.0.1', 70000]), RangeError);
    assert.throws(() => inet.bind(['127.0.0.1', 0]), ebadf('bind'));
  });

  it('a socket closed or detached by JS run inside one of its calls: EBADF, and no other socket is touched', () => {
    for (const end of ['close', 'detach']) {
      const s = sr.socket();
      let bystanders = [];
      let detached = -1;
      const address = ['127.0.0.1'];
      Object.defineProperty(address, 1, {
        get() {
          if (end === 'close') s.close();
          else detached = s.detach();
          // New sockets take the freed slot (and, after close, the number) while bind() runs.
          bystanders = opened.add(sr.socket(), sr.socket(), sr.socket());
          return 0;
        },
      });
      assert.throws(() => s.bind(address), (err) => err.code === 'EBADF' && err.syscall === 'bind', end);
      for (const b of bystanders) assert.deepEqual(b.getsockname(), ['0.0.0.0', 0], `${end}: a bystander was bound`);
      if (end === 'detach') {
        const adopted = opened.add(new sr.Socket(undefined, undefined, undefined, detached));
        assert.deepEqual(adopted.getsockname(), ['0.0.0.0', 0], 'the detached descriptor is open and unbound');
      }
    }
  });

  it('sockets leaked open by a loop that never yields are closed, with a ResourceWarning, once it does', () => {
    const r = runNode(
      `
      const sr = require(process.env.SR_ROOT);
      const { binding } = require(process.env.SR_ROOT + '/lib/binding');
      const warned = [];
      process.on('warning', (w) => warned.push(w.name));
      const kept = [];
      for (let i = 0; i < 20000; i++) {
        const s = sr.socket(sr.AF_UNIX, sr.SOCK_DGRAM);
        if (i % 4000 === 0) continue; // leaked open: 5 of them
        if (i % 4000 === 1) { kept.push(s); continue; } // open and still referenced: 5
        s.close();
      }
      const during = binding.handles()[0];
      (async () => {
        for (let i = 0; i < 20 && warned.length < 5; i++) {
          global.gc();
          await new Promise((r) => setTimeout(r, 20));
        }
        console.log(during, binding.handles()[0], warned.length, warned[0]);
        for (const s of kept) s.close();
      })();`,
      { args: ['--expose-gc'] },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '10 5 5 ResourceWarning');
  });

  it('each worker_thread has its own table, and its open sockets are closed when it ends', async () => {
    const { Worker } = require('node:worker_threads');
    const before = binding.handles()[0];
    const worker = new Worker(
      `const sr = require(require('node:worker_threads').workerData.root);
       const { binding } = require(require('node:worker_threads').workerData.root + '/lib/binding');
       const start = binding.handles()[0];
       for (let i = 0; i < 20000; i++) sr.socket(sr.AF_UNIX, sr.SOCK_DGRAM).close();
       globalThis.leaked = sr.socketpair(); // still open when the worker ends
       const inode = require('node:fs').readlinkSync('/proc/self/fd/' + globalThis.leaked[0].fileno());
       require('node:worker_threads').parentPort.postMessage([start, ...binding.handles(), inode]);`,
      { eval: true, workerData: { root: require('./helpers/sockets').root } },
    );
    const exited = new Promise((resolve) => worker.on('exit', resolve));
    const [start, open, slots, inode] = await new Promise((resolve, reject) => {
      worker.on('message', resolve);
      worker.on('error', reject);
    });
    await exited;
    assert.deepEqual([start, open], [0, 2]);
    assert.ok(slots <= 4, `${slots} slots`);
    assert.equal(binding.handles()[0], before, "the worker's sockets were never in this thread's table");
    const fs = require('node:fs');
    const links = fs.readdirSync('/proc/self/fd').map((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return ''; // the directory's own descriptor, gone by now
      }
    });
    assert.ok(inode.startsWith('socket:'), inode);
    assert.ok(!links.includes(inode), 'the leaked pair was closed with the worker');
  });
});

describe('family, type and proto', () => {
  const opened = new Opened();
  afterEach(() => opened.closeAll());

  it('are read-only: assigning throws TypeError in strict mode code and changes nothing in sloppy mode', () => {
    const s = opened.add(sr.socket(sr.AF_INET, sr.SOCK_DGRAM));
    for (const name of ['family', 'type', 'proto']) {
      const before = s[name];
      const strict = new Function('s', `'use strict'; s.${name} = 99;`);
      assert.throws(() => strict(s), TypeError, name);
      const sloppy = new Function('s', `s.${name} = 99; return s.${name};`);
      assert.equal(sloppy(s), before, `${name}: sloppy assignment is ignored`);
      const descriptor = Object.getOwnPropertyDescriptor(sr.Socket.prototype, name);
      assert.equal(typeof descriptor.get, 'function', name);
      assert.equal(descriptor.set, undefined, name);
    }
    assert.deepEqual([s.family, s.type, s.proto], [sr.AF_INET, sr.SOCK_DGRAM, 0]);
  });

  it('survive close(), for the repr', () => {
    const s = sr.socket(sr.AF_INET6, sr.SOCK_STREAM);
    s.close();
    assert.deepEqual([s.family, s.type, s.proto], [sr.AF_INET6, sr.SOCK_STREAM, 0]);
    assert.equal(String(s), '<socket [closed] fd=-1, family=AF_INET6, type=SOCK_STREAM>');
  });
});
