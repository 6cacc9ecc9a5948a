'use strict';
// AcceptGuard (src/programs/support/accept-guard.ts) on its own, with a spare source that can be
// made to fail: what it does when accept() runs out of descriptors. The echo server under a real
// `ulimit -n` is in echo-server.test.js.
const assert = require('node:assert/strict');

const { sr, Opened, listener } = require('./helpers/sockets');
const { AcceptGuard } = require('../lib/programs/support/accept-guard');

describe('AcceptGuard', () => {
  const opened = new Opened();
  afterEach(() => opened.closeAll());

  function recorder() {
    const lines = [];
    const warn = (format, ...args) => {
      let i = 0;
      lines.push(format.replace(/%s/g, () => String(args[i++])));
    };
    return [lines, warn];
  }

  it('sheds every waiting connection with the spare, takes the spare back, and says so once per burst', () => {
    const [server, port] = listener(opened);
    server.setblocking(false);
    let open = 0;
    let closed = 0;
    const source = { open: () => ++open + 1000, close: () => { closed++; } };
    const [lines, warn] = recorder();
    const guard = new AcceptGuard(server, warn, source);
    assert.equal(open, 1, 'the spare is taken at once');
    const waiting = Array.from({ length: 5 }, () => opened.add(sr.create_connection(['127.0.0.1', port])));
    const inputs = new Set([server]);
    const err = new sr.SocketError('accept EMFILE: Too many open files', sr.errno.EMFILE, 'EMFILE', 'accept');
    assert.equal(guard.exhausted(err, inputs), true);
    assert.deepEqual([open, closed], [2, 1], 'closed the spare, then took it back');
    assert.equal(guard.paused, false);
    assert.deepEqual([...inputs], [server]);
    assert.equal(guard.timeout(), null);
    for (const c of waiting) assert.equal(c.recv(10).length, 0, 'each waiting client sees its connection closed');
    assert.throws(() => server.accept(), sr.BlockingIOError, 'the backlog is empty');
    assert.equal(guard.exhausted(err, inputs), true);
    assert.deepEqual([open, closed], [3, 2]);
    assert.equal(lines.length, 1);
    assert.equal(lines[0], 'out of descriptors (EMFILE): closing new connections until some are free');
    guard.accepted();
    guard.accepted();
    assert.deepEqual(lines.slice(1), ['accepting again: 5 connections were closed while out of descriptors (EMFILE)']);
    assert.equal(guard.exhausted(new sr.ConnectionAbortedError('x', sr.errno.ECONNABORTED, 'ECONNABORTED', 'accept'), inputs), false);
    assert.equal(guard.exhausted(new TypeError('x'), inputs), false);
    guard.close();
    assert.equal(closed, 3);
  });

  it('without a spare, takes the listener out of inputs for a while and gives select() a timeout', () => {
    const [server] = listener(opened);
    let now = 1000;
    let opens = 0;
    const source = { open: () => { opens++; throw new Error('EMFILE'); }, close: () => assert.fail('no spare to close') };
    const [lines, warn] = recorder();
    const guard = new AcceptGuard(server, warn, source, 250, () => now);
    const other = opened.add(sr.socket());
    const inputs = new Set([server, other]);
    const err = new sr.SocketError('accept ENFILE', sr.errno.ENFILE, 'ENFILE', 'accept');
    assert.equal(guard.exhausted(err, inputs), true);
    assert.deepEqual([...inputs], [other], 'the listener left inputs');
    assert.equal(guard.paused, true);
    assert.equal(guard.timeout(), 0.25);
    now += 100;
    assert.equal(guard.timeout(), 0.15);
    guard.resume(inputs);
    assert.deepEqual([...inputs], [other], 'not before the pause is over');
    now += 150;
    assert.equal(guard.timeout(), 0);
    guard.resume(inputs);
    assert.deepEqual([...inputs], [server, other], 'back, first, as in the Python loop');
    assert.equal(guard.paused, false);
    assert.equal(guard.timeout(), null);
    assert.equal(opens, 2, 'tried for a spare again when the pause ended');
    assert.deepEqual(lines, ['out of descriptors (ENFILE): closing new connections until some are free',
      'no spare descriptor: not accepting for 250 ms']);
  });

  it('pauses a selector loop\'s listener with its unwatch() and watch(): unregistered, then registered again', () => {
    const [server] = listener(opened);
    let now = 0;
    const source = { open: () => { throw new Error('EMFILE'); }, close: () => assert.fail('no spare to close') };
    const guard = new AcceptGuard(server, () => {}, source, 250, () => now);
    const calls = [];
    const watch = { unwatch: () => calls.push('unwatch'), watch: () => calls.push('watch') };
    const err = new sr.SocketError('accept EMFILE', sr.errno.EMFILE, 'EMFILE', 'accept');
    assert.equal(guard.exhausted(err, watch), true);
    assert.equal(guard.exhausted(err, watch), true, 'a second failure in the same pause');
    assert.deepEqual(calls, ['unwatch'], 'unwatched once');
    guard.resume(watch);
    assert.deepEqual(calls, ['unwatch'], 'not before the pause is over');
    now += 250;
    guard.resume(watch);
    guard.resume(watch);
    assert.deepEqual(calls, ['unwatch', 'watch'], 'watched again once');
    assert.equal(guard.paused, false);
  });
});
