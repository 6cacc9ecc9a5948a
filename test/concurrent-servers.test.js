'use strict';
// The HOWTO's other answers to "more than one client": a thread per connection and a process per
// connection, both with blocking calls inside. Each is run as a program and driven over loopback.
const assert = require('node:assert/strict');
const net = require('node:net');

const { startProgram, killStarted, echoOnce, randomPayloads } = require('./helpers/programs');

/** A connected net socket that collects what it receives; `until(n)` waits for n bytes. */
async function openClient(port) {
  const sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const client = { sock, got: '', closed: null };
  sock.setEncoding('utf8');
  sock.on('data', (d) => { client.got += d; });
  sock.on('error', () => {});
  sock.on('end', () => sock.end());
  client.closed = new Promise((resolve) => sock.on('close', resolve));
  client.until = (n) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only got ${JSON.stringify(client.got)}`)), 10000);
    const check = () => {
      if (client.got.length < n) return;
      clearTimeout(timer);
      sock.off('data', check);
      resolve(client.got);
    };
    sock.on('data', check);
    check();
  });
  await new Promise((resolve) => sock.on('connect', resolve));
  return client;
}

for (const [command, who] of [['threaded-echo-server', /thread (\d+) serving/g], ['forking-echo-server', /process (\d+) serving/g]]) {
  describe(command, function () {
    this.timeout(60000);
    afterEach(() => killStarted());

    it('serves two clients at once, each by its own thread or process, with blocking calls', async () => {
      const server = await startProgram(command);
      // The first client stays connected and silent; a blocking server with one thread of
      // control would never get to the second one.
      const first = await openClient(server.port);
      const second = await openClient(server.port);
      second.sock.write('second first');
      assert.equal(await second.until(12), 'second first');
      first.sock.write('first last');
      assert.equal(await first.until(10), 'first last');
      first.sock.end();
      second.sock.end();
      await Promise.all([first.closed, second.closed]);
      await server.waitFor(/done with[^]*done with/);
      const ids = [...server.output.matchAll(who)].map((m) => m[1]);
      assert.equal(ids.length, 2);
      assert.notEqual(ids[0], ids[1], 'two connections, two threads or processes');
      assert.deepEqual(await server.stop('SIGINT'), { code: 0, signal: null });
    });

    it('echoes 12 concurrent clients byte for byte', async () => {
      const server = await startProgram(command);
      const payloads = randomPayloads(12, 64 * 1024); // each costs a thread or a Node process: kept few
      const echoes = await Promise.all(payloads.map((p) => echoOnce(server.port, p)));
      echoes.forEach((echo, i) => assert.ok(echo.equals(payloads[i]), `client ${i}`));
      assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
    });

    if (command === 'threaded-echo-server') {
      it('frees what each finished thread held, even while no client comes', async () => {
        // A main thread blocked in accept() would never let Node join its finished workers: each
        // would stay mapped (about two mappings per connection) until thread creation failed.
        const server = await startProgram(command);
        const mappings = () => require('node:fs').readFileSync(`/proc/${server.child.pid}/maps`, 'utf8').split('\n').length;
        await echoOnce(server.port, Buffer.from('warm'));
        await new Promise((resolve) => setTimeout(resolve, 1200));
        const before = mappings();
        for (let round = 0; round < 5; round++) {
          await Promise.all(randomPayloads(20, 64).map((p) => echoOnce(server.port, p)));
        }
        await new Promise((resolve) => setTimeout(resolve, 1200)); // two accept() timeouts
        const grown = mappings() - before;
        // Under ASan (test:asan) each thread also leaves the sanitizer's own mappings behind.
        if (process.env.SR_SANITIZED !== '1') assert.ok(grown < 110, `100 finished connections left ${grown} more mappings`);
        assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
      });
    }

    it('exits 0 on SIGTERM with clients connected, closing their connections', async () => {
      const server = await startProgram(command);
      const clients = [await openClient(server.port), await openClient(server.port)];
      clients[0].sock.write('ping');
      await clients[0].until(4);
      await server.waitFor(/serving[^]*serving/);
      assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
      await Promise.all(clients.map((c) => c.closed));
      assert.match(server.output, /SIGTERM: closing the listener and (waking|stopping) 2 (threads|children)/);
      if (command === 'forking-echo-server') {
        // No child outlives the server.
        for (const [, pid] of server.output.matchAll(who)) assert.throws(() => process.kill(Number(pid), 0), /ESRCH/);
      }
    });
  });
}
