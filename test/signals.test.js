'use strict';
// interrupt_on() and interrupt_off(), and PEP 475 for every blocking call: EINTR is retried
// unless a signal taken by interrupt_on() is pending, which ends the call with InterruptedError.
// Each case runs in a child process, whose signal dispositions it may change; signals come from
// a process the child starts (bash: sleep, then kill), or from this one.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { buildInject, runInjected } = require('./helpers/inject');
const { sr, Opened, runNode, root } = require('./helpers/sockets');

// Child code: kill(signal) after `seconds`, from another process, while this one blocks.
const KILL_LATER = `
  const { execFile } = require('node:child_process');
  const killLater = (signal, seconds) =>
    execFile('bash', ['-c', 'sleep ' + seconds + '; kill -' + signal + ' ' + process.pid]);`;

// Child code: the write end of the signal pipe that interrupt_on() created, found in /proc.
const WAKE_PIPE = `
  const fs = require('node:fs');
  function pipes() {
    const found = new Map();
    for (const fd of fs.readdirSync('/proc/self/fd')) {
      try {
        if (!fs.readlinkSync('/proc/self/fd/' + fd).startsWith('pipe:')) continue;
        const flags = parseInt(/flags:\\s*(\\d+)/.exec(fs.readFileSync('/proc/self/fdinfo/' + fd, 'utf8'))[1], 8);
        found.set(Number(fd), flags & 3);
      } catch {}  // the descriptor readdir itself used, closed since
    }
    return found;
  }
  function interruptOnWithPipe(signal) {
    const before = pipes();
    sr.interrupt_on(signal);
    return [...pipes()].find(([fd, mode]) => !before.has(fd) && mode === 1 /* O_WRONLY */)[0];
  }`;

const outcome = (fn) => `(() => { try { ${fn}; return 'returned'; } catch (err) { return err.name + ':' + (err.signal ?? err.code); } })()`;

/** A child node that prints lines; `lines()` resolves with each one as it comes. */
function startChild(code) {
  const child = spawn(process.execPath, ['-e', code], { cwd: root, env: { ...process.env, SR_ROOT: root } });
  let buffered = '';
  let stderr = '';
  const waiting = [];
  const lines = [];
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      while (waiting.length > 0 && lines.length > 0) waiting.shift()(lines.shift());
    }
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on('exit', (status, signal) => resolve({ status, signal, stderr })));
  return {
    child,
    exited,
    nextLine: () =>
      Promise.race([
        new Promise((resolve) => (lines.length > 0 ? resolve(lines.shift()) : waiting.push(resolve))),
        exited.then((r) => Promise.reject(new Error(`the child exited (${r.status ?? r.signal}) before its next line: ${r.stderr}`))),
      ]),
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('signals', function () {
  this.timeout(30000);

  describe('interrupt_on and interrupt_off', () => {
    it('refuses the signals of faults with a RangeError, and takes nothing from a list holding one', () => {
      const r = runNode(`
        const sr = require(process.env.SR_ROOT);
        const out = [];
        for (const signal of ['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGABRT', 'SIGTRAP', 'SIGSYS']) {
          try { sr.interrupt_on('SIGUSR2', signal); out.push('taken'); }
          catch (err) { out.push(err.name + (err.message.includes(signal + ' reports a fault') ? '' : ': ' + err.message)); }
        }
        console.log(out.join(' '));
        // SIGUSR2 came first in every list, and was not taken: its default action ends the process.
        process.kill(process.pid, 'SIGUSR2');
        setTimeout(() => console.log('SIGUSR2 was taken'), 2000);`);
      assert.equal(r.signal, 'SIGUSR2', r.stdout + r.stderr);
      assert.equal(r.stdout.trim(), Array(7).fill('RangeError').join(' '));
    });

    it('hands a signal back: a process.on() listener hears it during selectAsync() and a selector\'s', () => {
      const r = runNode(`
        const sr = require(process.env.SR_ROOT);
        ${KILL_LATER}
        const [a, b] = sr.socketpair();
        sr.interrupt_on('SIGINT');
        const taken = ${outcome("killLater('INT', 0.3); sr.select([a], [], [], 10)")};
        sr.interrupt_off('SIGINT');
        process.on('SIGINT', () => { console.log('listener'); b.send('x'); });
        (async () => {
          killLater('INT', 0.3);
          const [r] = await sr.selectAsync([a], [], [], 10);
          console.log('selectAsync', r.length);
          a.recv(1);
          const sel = new sr.selectors.DefaultSelector();
          sel.register(a, sr.selectors.EVENT_READ);
          killLater('INT', 0.3);
          console.log('selector', (await sel.selectAsync(10)).length);
          sel.close();
          console.log(taken);
          a.close(); b.close();
        })();`);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['listener', 'selectAsync 1', 'listener', 'selector 1', 'InterruptedError:SIGINT']);
    });

    it('hands back to a listener registered before interrupt_on(), and interrupt_off() with no names hands back all', () => {
      const r = runNode(`
        const sr = require(process.env.SR_ROOT);
        ${KILL_LATER}
        const [a, b] = sr.socketpair();
        process.on('SIGINT', () => { console.log('listener'); b.send('x'); });
        sr.interrupt_on('SIGINT', 'SIGTERM');
        console.log(${outcome("killLater('INT', 0.3); sr.select([a], [], [], 10)")});
        sr.interrupt_off();
        (async () => {
          killLater('INT', 0.3);
          const [r] = await sr.selectAsync([a], [], [], 10);
          console.log('selectAsync', r.length);
          a.close(); b.close();
          process.kill(process.pid, 'SIGTERM');  // Node's own disposition again: the end
          setTimeout(() => console.log('SIGTERM still taken'), 2000);
        })();`);
      assert.equal(r.signal, 'SIGTERM', r.stdout + r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['InterruptedError:SIGINT', 'listener', 'selectAsync 1']);
    });

    it('takes a signal again when called again, after a listener took it over', () => {
      const r = runNode(`
        const sr = require(process.env.SR_ROOT);
        ${KILL_LATER}
        const [a, b] = sr.socketpair();
        sr.interrupt_on('SIGUSR2');
        process.on('SIGUSR2', () => {});  // Node installs its own handler in place of ours
        sr.interrupt_on('SIGUSR2');
        const t0 = Date.now();
        console.log(${outcome("killLater('USR2', 0.2); sr.select([a], [], [], 3)")}, Date.now() - t0 < 2500);
        a.close(); b.close();`);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'InterruptedError:SIGUSR2 true');
    });
  });

  describe('PEP 475: every blocking call', () => {
    const opened = new Opened();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-signals-'));
    afterEach(() => opened.closeAll());
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('a blocking connect() to a full AF_UNIX backlog waits, for room or for a signal', async () => {
      const where = path.join(dir, 'full');
      const server = opened.add(sr.socket(sr.AF_UNIX));
      server.bind(where);
      server.listen(0);
      // Backlog 0 holds one connection: this one fills it.
      const filler = opened.add(sr.socket(sr.AF_UNIX));
      filler.setblocking(false);
      filler.connect(where);
      const probe = opened.add(sr.socket(sr.AF_UNIX));
      probe.setblocking(false);
      assert.throws(() => probe.connect(where), { code: 'EAGAIN' });

      const { child, exited, nextLine } = startChild(`
        const sr = require(process.env.SR_ROOT);
        sr.interrupt_on('SIGINT');
        for (let i = 0; i < 2; i++) {
          const c = sr.socket(sr.AF_UNIX);
          console.log('connecting');
          try { c.connect(${JSON.stringify(where)}); console.log('connected'); }
          catch (err) { console.log(err.name + ':' + (err.signal ?? err.code)); }
          c.close();
        }`);
      try {
        assert.equal(await nextLine(), 'connecting');
        await sleep(300);
        // Still waiting: room in the backlog lets it in.
        server.accept()[0].close();
        assert.equal(await nextLine(), 'connected');
        assert.equal(await nextLine(), 'connecting');
        await sleep(300);
        // Its own connection fills the backlog again: this one waits until the signal.
        child.kill('SIGINT');
        assert.equal(await nextLine(), 'InterruptedError:SIGINT');
        const r = await exited;
        assert.equal(r.status, 0, r.stderr);
      } finally {
        child.kill();
      }
    });

    it('a stray byte in the signal pipe is a retry, never an error', () => {
      // A byte with no signal behind it (a signal handled between the byte and the flag, on
      // another thread): connect(), blocking or timed, select() and recv() wait on.
      const r = runNode(`
        const sr = require(process.env.SR_ROOT);
        ${WAKE_PIPE}
        const wake = interruptOnWithPipe('SIGUSR2');
        const server = sr.create_server(['127.0.0.1', 0]);
        const out = [];
        for (const timeout of [null, 5]) {
          fs.writeSync(wake, 'x');
          const c = sr.socket();
          c.settimeout(timeout);
          out.push(${outcome("c.connect(['127.0.0.1', server.getsockname()[1]])")});
          c.close();
        }
        const [a, b] = sr.socketpair();
        fs.writeSync(wake, 'x');
        let t0 = Date.now();
        const ready = sr.select([a], [], [], 0.3);
        out.push('select:' + ready[0].length + ':' + (Date.now() - t0 >= 290));
        fs.writeSync(wake, 'x');
        a.settimeout(0.3);
        t0 = Date.now();
        out.push(${outcome('a.recv(1)')} + ':' + (Date.now() - t0 >= 290));
        console.log(out.join(' '));
        for (const s of [server, a, b]) s.close();`);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'returned returned select:0:true TimeoutError:ETIMEDOUT:true');
    });

    it('outbox.flush() on a blocking socket writes everything, and a signal ends its wait', () => {
      const r = runNode(`
        const sr = require(process.env.SR_ROOT);
        const { spawn } = require('node:child_process');
        ${KILL_LATER}
        sr.interrupt_on('SIGINT');
        const big = Buffer.alloc(8 << 20, 'x');
        const out = [];
        // A reader drains the peer: flush() waits for room until all of it is written.
        const [a, b] = sr.socketpair();
        const reader = spawn('cat', [], { stdio: [b.fileno(), 'ignore', 'inherit'] });
        b.close();
        a.outbox.put(big);
        out.push('written:' + a.outbox.flush() + ':' + a.outbox.pending);
        a.close();
        // Nobody reads: flush() waits until the signal.
        const [c, d] = sr.socketpair();
        c.outbox.put(big);
        killLater('INT', 0.3);
        out.push(${outcome('c.outbox.flush()')} + ':' + (c.outbox.pending > 0 && c.outbox.pending < big.length));
        console.log(out.join(' '));
        c.close(); d.close();`);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), `written:${8 << 20}:0 InterruptedError:SIGINT:true`);
    });

    describe('after readiness another process took (helpers/inject.c)', () => {
      let inject;
      before(() => {
        inject = buildInject();
      });
      after(() => inject.remove());

      it('a blocking accept() that waits in the kernel ends on a signal, and takes a connection otherwise', () => {
        const r = runInjected(
          inject,
          `
          const sr = require(process.env.SR_ROOT);
          const fs = require('node:fs');
          ${KILL_LATER}
          sr.interrupt_on('SIGINT');
          const server = sr.create_server(['127.0.0.1', 0]);
          const port = server.getsockname()[1];
          const out = [];
          fs.writeFileSync(process.env.SR_INJECT_SPURIOUS_ACCEPT, '');
          killLater('INT', 0.3);
          out.push(${outcome('server.accept()')});
          fs.writeFileSync(process.env.SR_INJECT_SPURIOUS_ACCEPT, '');
          const client = require('node:child_process').execFile('bash', ['-c', 'sleep 0.3; exec 3<>/dev/tcp/127.0.0.1/' + port + '; sleep 1']);
          const [conn] = server.accept();
          out.push('accepted');
          conn.close(); server.close(); client.kill();
          console.log(out.join(' '));`,
          { env: { SR_INJECT_SPURIOUS_ACCEPT: inject.flag('spurious-accept') }, timeout: 10000 },
        );
        assert.equal(r.status, 0, `status ${r.status} signal ${r.signal}\n${r.stderr}`);
        assert.equal(r.stdout.trim(), 'InterruptedError:SIGINT accepted');
      });
    });
  });
});
