'use strict';
// The addon as a Node-API citizen: context-aware (worker_threads), cleanup hooks, leaked sockets
// closed by the garbage collector, named ESM exports, and one clear message for a broken build.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const { sr, closedPort, runNode, root } = require('./helpers/sockets');

describe('addon', function () {
  this.timeout(30000);

  it('loads and works in worker_threads, and sockets a worker leaks close when it exits', async () => {
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const sr = require(workerData.root);
       const [a, b] = sr.socketpair();
       a.sendall('from a worker');
       const echo = b.recv(100).toString();
       const leaked = sr.create_server(['127.0.0.1', 0]);  // never closed
       parentPort.postMessage([echo, leaked.getsockname()[1]]);`,
      { eval: true, workerData: { root } },
    );
    const [[echo, port]] = await Promise.all([
      new Promise((resolve, reject) => { worker.on('message', resolve); worker.on('error', reject); }),
      new Promise((resolve) => worker.on('exit', resolve)),
    ]);
    assert.equal(echo, 'from a worker');
    // The worker's environment cleanup hook closed its listener: nobody accepts on that port now.
    const s = sr.socket();
    try {
      assert.equal(s.connect_ex(['127.0.0.1', port]), sr.errno.ECONNREFUSED);
    } finally {
      s.close();
    }
  });

  it('interrupt_on is refused off the main thread', async () => {
    const worker = new Worker(
      `const sr = require(require('node:worker_threads').workerData.root);
       try { sr.interrupt_on('SIGINT'); } catch (err) { require('node:worker_threads').parentPort.postMessage(err.message); }`,
      { eval: true, workerData: { root } },
    );
    const message = await new Promise((resolve) => worker.on('message', resolve));
    assert.match(message, /main thread/);
  });

  it('closes a socket that is garbage collected while open, with a ResourceWarning', () => {
    const r = runNode(`
      const sr = require(process.env.SR_ROOT);
      const fs = require('node:fs');
      process.on('warning', (w) => console.log('warning', w.name, w.message));
      let s = sr.create_server(['127.0.0.1', 0]);
      const fd = s.fileno();
      // The number may be handed to someone else once closed: compare the socket's identity.
      const link = '/proc/self/fd/' + fd;
      const inode = fs.readlinkSync(link);
      const stillOpen = () => fs.existsSync(link) && fs.readlinkSync(link) === inode;
      s = null;
      (async () => {
        for (let i = 0; i < 20 && stillOpen(); i++) {
          global.gc();
          await new Promise((r) => setTimeout(r, 20));
        }
        console.log('open', stillOpen());
      })();`, { args: ['--expose-gc'] });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /warning ResourceWarning unclosed <socket fd=\d+, family=AF_INET, type=SOCK_STREAM, laddr=127\.0\.0\.1:\d+>/);
    assert.match(r.stdout, /open false/);
  });

  it('a closed socket is not warned about when collected', () => {
    const r = runNode(`
      const sr = require(process.env.SR_ROOT);
      process.on('warning', (w) => console.log('warning', w.name));
      (async () => {
        for (let i = 0; i < 50; i++) sr.socket().close();
        for (let i = 0; i < 5; i++) { global.gc(); await new Promise((r) => setTimeout(r, 10)); }
        console.log('done');
      })();`, { args: ['--expose-gc'] });
    assert.equal(r.stdout.trim(), 'done');
  });

  it('named exports work from ESM', () => {
    const r = runNode(`
        import * as sr from 'select-reactor';
        import { socketpair, select, AF_UNIX, SocketError } from 'select-reactor';
        const [a, b] = socketpair(AF_UNIX);
        a.send('esm');
        console.log(select([b], [], [], 1)[0].length, b.recv(3).toString(), typeof SocketError, typeof sr.default, Object.keys(sr).length > 100);
        a.close(); b.close();`, { args: ['--input-type=module'] });
    assert.equal(r.stdout.trim(), '1 esm function object true', r.stderr);
  });

  it('a missing build fails with one message that says how to rebuild', () => {
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'sr-nobuild-'));
    try {
      fs.cpSync(path.join(root, 'lib'), path.join(dir, 'lib'), { recursive: true });
      fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
      fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
      const r = runNode(`require(${JSON.stringify(dir)})`);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /select-reactor: the native addon is missing or broken .*Rebuild it with `npm rebuild select-reactor`/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the closed-port helper really finds a closed port', () => {
    const s = sr.socket();
    try {
      assert.equal(s.connect_ex(['127.0.0.1', closedPort()]), sr.errno.ECONNREFUSED);
    } finally {
      s.close();
    }
  });
});
