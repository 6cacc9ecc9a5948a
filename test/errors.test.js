'use strict';
// The SocketError family: classes, fields, and the errno table.
const assert = require('node:assert/strict');
const os = require('node:os');

const { sr, Opened, closedPort } = require('./helpers/sockets');

describe('errors', () => {
  const opened = new Opened();
  afterEach(() => opened.closeAll());

  it('every class is exported, and the hierarchy mirrors Python', () => {
    for (const name of ['SocketError', 'BlockingIOError', 'ConnectionError', 'ConnectionRefusedError', 'ConnectionResetError',
      'ConnectionAbortedError', 'BrokenPipeError', 'TimeoutError', 'InterruptedError', 'FileNotFoundError', 'PermissionError', 'GaiError']) {
      assert.equal(typeof sr[name], 'function', name);
      assert.ok(sr[name] === sr.SocketError || sr[name].prototype instanceof sr.SocketError, name);
      assert.ok(sr[name].prototype instanceof Error);
    }
    for (const name of ['ConnectionRefusedError', 'ConnectionResetError', 'ConnectionAbortedError', 'BrokenPipeError']) {
      assert.ok(sr[name].prototype instanceof sr.ConnectionError, name);
    }
  });

  it('carries errno, code and syscall like the system errors of Node', () => {
    const s = opened.add(sr.socket());
    let err;
    try {
      s.connect(['127.0.0.1', closedPort()]);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof sr.ConnectionRefusedError);
    assert.equal(err.name, 'ConnectionRefusedError');
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(err.errno, os.constants.errno.ECONNREFUSED);
    assert.ok(err.errno > 0);
    assert.equal(err.errno, sr.errno[err.code]);
    assert.equal(err.syscall, 'connect');
    assert.match(err.message, /^connect ECONNREFUSED: Connection refused \(127\.0\.0\.1:\d+\)$/);
    assert.match(err.stack, /ConnectionRefusedError: connect ECONNREFUSED/);
  });

  it('the errno table matches os.constants.errno and names every code it reports', () => {
    for (const [name, value] of Object.entries(sr.errno)) {
      if (name in os.constants.errno) assert.equal(value, os.constants.errno[name], name);
    }
    for (const code of ['EAGAIN', 'EINPROGRESS', 'EPIPE', 'ECONNRESET', 'EBADF', 'EMFILE', 'EINTR', 'ETIMEDOUT']) {
      assert.equal(typeof sr.errno[code], 'number', code);
    }
  });

  it('binding to a port in use is EADDRINUSE', () => {
    const a = opened.add(sr.create_server(['127.0.0.1', 0]));
    const b = opened.add(sr.socket());
    assert.throws(() => b.bind(a.getsockname()), (err) => err.code === 'EADDRINUSE' && err.syscall === 'bind');
  });
});
