'use strict';
// The pool of threads the async waits run on (native/wait.cc): a thread that cannot be started,
// and a rejection that cannot be delivered, end one wait with an error and never the process.
// Thread creation fails for real, in the C library (helpers/inject.c), in a child process.
const assert = require('node:assert/strict');

const { buildInject, runInjected } = require('./helpers/inject');
const { runNode } = require('./helpers/sockets');

describe('wait pool', function () {
  this.timeout(60000);
  let inject;

  before(() => {
    inject = buildInject();
  });
  after(() => inject.remove());

  it('a wait that gets no thread rejects with a SocketError, and the next one works', () => {
    const r = runInjected(
      inject,
      `
      const sr = require(process.env.SR_ROOT);
      const fs = require('node:fs');
      const flag = process.env.SR_INJECT_THREAD_FAILURE;
      const [a, b] = sr.socketpair();
      (async () => {
        const out = [];
        fs.writeFileSync(flag, '');
        for (let i = 0; i < 3; i++) {
          try { await sr.selectAsync([a], [], [], 0.01); out.push('resolved'); }
          catch (err) { out.push(err.name + ':' + err.code + ':' + err.syscall + ':' + (err instanceof sr.SocketError)); }
        }
        fs.unlinkSync(flag);
        b.send('x');
        const [r] = await sr.selectAsync([a], [], [], 5);
        out.push('ready:' + r.length);
        console.log(out.join(' '));
        a.close(); b.close();
      })();`,
      { env: { SR_INJECT_THREAD_FAILURE: inject.flag('no-threads') } },
    );
    assert.equal(r.status, 0, r.stderr);
    const failed = Array(3).fill('BlockingIOError:EAGAIN:pthread_create:true');
    assert.equal(r.stdout.trim(), [...failed, 'ready:1'].join(' '));
  });

  it('a wait refused a thread is never run, and no wait is settled twice', () => {
    // Two threads, each busy for 10 ms with a wait, then a third wait while no thread can be
    // started (the attempt takes 20 ms to fail): it is refused. A pool that queued a wait before
    // starting its thread let a thread that came free meanwhile take it, while the refusal
    // deleted it: a use after free, and a second settlement, which killed the process.
    const r = runInjected(
      inject,
      `
      const sr = require(process.env.SR_ROOT);
      const fs = require('node:fs');
      const flag = process.env.SR_INJECT_THREAD_FAILURE;
      const [a, b] = sr.socketpair();
      const [idle, peer] = sr.socketpair();
      b.send('x');  // a is readable, idle never is
      (async () => {
        await Promise.all([sr.selectAsync([a], [], [], 5), sr.selectAsync([a], [], [], 5)]);
        fs.writeFileSync(flag, '');
        const tally = {};
        for (let round = 0; round < 50; round++) {
          const settled = await Promise.allSettled([
            sr.selectAsync([idle], [], [], 0.01),
            sr.selectAsync([idle], [], [], 0.01),
            sr.selectAsync([a], [], [], 0),
          ]);
          for (const s of settled) {
            const key = s.status === 'fulfilled' ? 'ready:' + s.value[0].length : s.reason.code;
            tally[key] = (tally[key] || 0) + 1;
          }
        }
        fs.unlinkSync(flag);
        const [r] = await sr.selectAsync([a], [], [], 5);
        console.log(JSON.stringify(tally), r.length);
        for (const s of [a, b, idle, peer]) s.close();
      })();`,
      { env: { SR_INJECT_THREAD_FAILURE: inject.flag('no-threads') } },
    );
    assert.equal(r.status, 0, `status ${r.status} signal ${r.signal}\n${r.stderr}`);
    const [tally, after] = r.stdout.trim().split(' ');
    const counts = JSON.parse(tally);
    assert.ok(Object.keys(counts).every((key) => ['ready:0', 'ready:1', 'EAGAIN'].includes(key)), tally);
    assert.equal((counts['ready:0'] ?? 0) + (counts['ready:1'] ?? 0) + counts.EAGAIN, 150, tally);
    assert.ok(counts.EAGAIN >= 25, tally);
    assert.equal(after, '1');
  });

  it('a rejection whose delivery throws or ends the worker leaves the process running', () => {
    // The error factory is JS: it can throw, or end a worker_thread (process.exit() there), after
    // which every call into JS is refused. Either way the callback that delivers the answer must
    // not take the process down.
    const r = runNode(`
      const { Worker } = require('node:worker_threads');
      const results = [];
      function run(factory) {
        return new Promise((resolve) => {
          const w = new Worker(\`
            const { parentPort } = require('node:worker_threads');
            const sr = require(process.env.SR_ROOT);
            const { binding } = require(process.env.SR_ROOT + '/lib/binding');
            const [waker, wakeFd] = sr.socketpair();
            const [c, d] = sr.socketpair();
            const closed = c.fileno();
            c.close(); d.close();
            binding.setup(\${factory}, false);
            binding.selectAsync(new Int32Array([closed]), 1, 0, 0, -1, wakeFd.fileno()).then(
              () => parentPort.postMessage('resolved'),
              (err) => parentPort.postMessage('rejected:' + err.message));\`, { eval: true });
          w.on('message', (m) => results.push(m));
          w.on('exit', (code) => { results.push('exit:' + code); resolve(); });
        });
      }
      (async () => {
        await run("() => { throw new Error('the factory failed'); }");
        await run('() => process.exit(7)');
        console.log(results.join(' '));
      })();`);
    assert.equal(r.status, 0, `status ${r.status} signal ${r.signal}\n${r.stderr}`);
    assert.equal(r.stdout.trim(), 'rejected:the factory failed exit:0 exit:7');
  });
});
