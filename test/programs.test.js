'use strict';
// The other programs of the bin: blocking-echo-server and the command itself.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const net = require('node:net');

const { startProgram, killStarted, echoOnce, cli } = require('./helpers/programs');
const { root, sr } = require('./helpers/sockets');

describe('programs', function () {
  this.timeout(30000);
  afterEach(() => killStarted());

  it('blocking-echo-server serves exactly one connection, makes the next one wait, then exits 0', async () => {
    const server = await startProgram('blocking-echo-server');
    // A first client that takes its time; a second one connects meanwhile and gets no answer.
    const first = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise((resolve) => first.on('connect', resolve));
    const second = net.connect(server.port, '127.0.0.1');
    second.on('error', () => {});
    let secondGot = '';
    second.on('data', (d) => { secondGot += d; });
    await new Promise((resolve) => second.on('connect', resolve));
    second.write('anyone there?');
    first.write('first ');
    await new Promise((resolve) => first.once('data', resolve));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(secondGot, '', 'the second client is not served while the first one is');
    const rest = new Promise((resolve) => {
      let got = '';
      first.on('data', (d) => { got += d; });
      first.on('end', () => resolve(got));
    });
    first.end('and last');
    assert.equal(await rest, 'and last');
    assert.deepEqual(await server.exited, { code: 0, signal: null });
    assert.match(server.output, /connected by \('127\.0\.0\.1', \d+\)/);
    second.destroy();
  });

  it('blocking-echo-server exits 0 on SIGINT while blocked in accept()', async () => {
    const server = await startProgram('blocking-echo-server');
    assert.deepEqual(await server.stop('SIGINT'), { code: 0, signal: null });
    assert.match(server.output, /SIGINT: closing/);
  });

  it('echo-client reports a server that goes away, and exits 1 when nobody listens', async () => {
    const r = spawnSync(process.execPath, [cli, 'echo-client', '--port', String(require('./helpers/sockets').closedPort())], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ConnectionRefusedError: connect ECONNREFUSED/);
  });

  it('the command lists its programs and rejects unknown ones', () => {
    const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    const names = ['echo-server', 'echo-client', 'blocking-echo-server', 'threaded-echo-server', 'forking-echo-server',
      'chat-server', 'framing-demo', 'shutdown-demo', 'byteorder-demo', 'oob-demo'];
    for (const name of names) assert.match(help.stdout, new RegExp(`\\n  ${name} `));
    const bad = spawnSync(process.execPath, [cli, 'no-such-program'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown command 'no-such-program'/);
  });

  it('npm start runs the echo server, and Ctrl-C closes it', async function () {
    // As on a terminal: npm in its own process group, SIGINT to the whole group (npm does not
    // forward SIGTERM to the script it runs).
    const child = spawn('npm', ['start', '--', '--port', '0'], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      for (let i = 0; i < 200 && !/starting up on localhost port (\d+)/.test(output); i++) await new Promise((r) => setTimeout(r, 50));
      const port = Number(output.match(/starting up on localhost port (\d+)/)[1]);
      assert.equal((await echoOnce(port, Buffer.from('npm start'))).toString(), 'npm start');
      process.kill(-child.pid, 'SIGINT');
      // npm itself ends by the signal (as on a terminal); the server's part is to close and exit.
      const npmExit = await exited;
      assert.ok(npmExit.code === 0 || npmExit.signal === 'SIGINT', JSON.stringify(npmExit));
      for (let i = 0; i < 100 && !/SIGINT: closing the listener/.test(output); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(output, /SIGINT: closing the listener and [01] clients/);
      const probe = sr.socket();
      try {
        assert.equal(probe.connect_ex(['127.0.0.1', port]), sr.errno.ECONNREFUSED, 'the listener is closed');
      } finally {
        probe.close();
      }
    } finally {
      try {
        process.kill(-child.pid, 'SIGKILL'); // only this test's own process group
      } catch {
        // already gone
      }
    }
  });
});
