'use strict';
// The fast-check arbitraries of the differential test: a setup to start from (a socket pair, or a
// listener with a client in its backlog) and up to 20 calls, in the language driver.py and
// driver.js both speak.
const fc = require('fast-check');

const kinds = ['unix-stream', 'unix-dgram', 'unix-seqpacket', 'tcp', 'udp', 'udp-unconnected', 'tcp-listen', 'unix-listen'];
const slot = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(0, 1) }, { weight: 2, arbitrary: fc.constantFrom(2, 3, 4) });
const pairSlot = fc.constantFrom(0, 1); // always there: select() lists take these
const size = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 300 }) }, { weight: 2, arbitrary: fc.constantFrom(0, 1, 16, 1000, 4096) }, { weight: 1, arbitrary: fc.constantFrom(20000, 70000) });
const bufsize = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(0, 1, 3, 16, 64, 1000, 4096, 65536) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 400 }) }, { weight: 1, arbitrary: fc.constantFrom(200000, -1) });
const recvFlags = fc.oneof({ weight: 6, arbitrary: fc.subarray(['MSG_PEEK', 'MSG_TRUNC', 'MSG_DONTWAIT']) }, { weight: 1, arbitrary: fc.subarray(['MSG_OOB', 'MSG_WAITALL', 'MSG_PEEK', 'MSG_DONTWAIT']) });
const sendFlags = fc.oneof({ weight: 6, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: fc.subarray(['MSG_DONTWAIT', 'MSG_OOB']) });
const target = fc.oneof(
  { weight: 4, arbitrary: fc.record({ slot: fc.constantFrom(0, 1, 2, 3) }) },
  { weight: 1, arbitrary: fc.constant({ closed: true }) },
  { weight: 1, arbitrary: fc.record({ path: fc.constantFrom('p1', 'p2') }) },
  { weight: 1, arbitrary: fc.record({ abstract: fc.constantFrom('a1', 'a2') }) },
);
const bindAddress = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ any: true }) },
  { weight: 2, arbitrary: fc.record({ path: fc.constantFrom('p1', 'p2') }) },
  { weight: 2, arbitrary: fc.record({ abstract: fc.constantFrom('a1', 'a2') }) },
  { weight: 1, arbitrary: fc.record({ slot: fc.constantFrom(0, 1, 2) }) },
);
const setOptions = [['SOL_SOCKET', 'SO_RCVBUF'], ['SOL_SOCKET', 'SO_SNDBUF'], ['SOL_SOCKET', 'SO_KEEPALIVE'], ['SOL_SOCKET', 'SO_REUSEADDR'],
  ['SOL_SOCKET', 'SO_OOBINLINE'], ['SOL_SOCKET', 'SO_BROADCAST'], ['SOL_SOCKET', 'SO_RCVLOWAT'], ['IPPROTO_TCP', 'TCP_NODELAY']];
const getOptions = [...setOptions, ['SOL_SOCKET', 'SO_TYPE'], ['SOL_SOCKET', 'SO_ERROR'], ['SOL_SOCKET', 'SO_ACCEPTCONN'],
  ['SOL_SOCKET', 'SO_DOMAIN'], ['SOL_SOCKET', 'SO_PROTOCOL'], ['SOL_SOCKET', 'SO_LINGER']];
const selectList = fc.array(fc.record({ s: pairSlot, as: fc.constantFrom('socket', 'fd', 'object') }), { maxLength: 3 });
const timeout = fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constant(0.01) }, { weight: 1, arbitrary: fc.constant(null) });

const op = (name, fields = {}) => fc.record({ op: fc.constant(name), ...fields });
const step = fc.oneof(
  { weight: 8, arbitrary: op('send', { s: slot, n: size, flags: sendFlags }) },
  { weight: 2, arbitrary: op('sendall', { s: slot, n: size, flags: sendFlags }) },
  { weight: 3, arbitrary: op('sendto', { s: slot, n: size, flags: sendFlags, to: target }) },
  { weight: 8, arbitrary: op('recv', { s: slot, n: bufsize, flags: recvFlags }) },
  { weight: 4, arbitrary: op('recvfrom', { s: slot, n: bufsize, flags: recvFlags }) },
  { weight: 4, arbitrary: op('recv_into', { s: slot, size: fc.constantFrom(0, 1, 8, 64), nbytes: fc.constantFrom(0, 0, 1, 4, 8, 100), flags: recvFlags }) },
  { weight: 2, arbitrary: op('shutdown', { s: slot, how: fc.oneof({ weight: 9, arbitrary: fc.constantFrom('SHUT_RD', 'SHUT_WR', 'SHUT_RDWR') }, { weight: 1, arbitrary: fc.constant(7) }) }) },
  { weight: 1, arbitrary: op('close', { s: slot }) },
  { weight: 2, arbitrary: op('setsockopt', { s: slot, opt: fc.constantFrom(...setOptions), value: fc.constantFrom(0, 1, 4, 2048, 65536) }) },
  { weight: 1, arbitrary: op('getsockopt', { s: slot, opt: fc.constantFrom(...getOptions) }) },
  { weight: 1, arbitrary: op('getsockopt', { s: slot, opt: fc.constantFrom(...getOptions), buflen: fc.constantFrom(4, 8) }) },
  { weight: 3, arbitrary: op('settimeout', { s: slot, t: timeout }) },
  { weight: 1, arbitrary: op('setblocking', { s: slot, flag: fc.boolean() }) },
  { weight: 1, arbitrary: op('state', { s: slot }) },
  { weight: 1, arbitrary: op('setattr', { s: slot, name: fc.constantFrom('family', 'type', 'proto'), value: fc.constant(99) }) },
  { weight: 1, arbitrary: op('getsockname', { s: slot }) },
  { weight: 1, arbitrary: op('getpeername', { s: slot }) },
  { weight: 4, arbitrary: op('select', { r: selectList, w: selectList, x: selectList }) },
  { weight: 2, arbitrary: op('create', { family: fc.constantFrom('AF_INET', 'AF_UNIX'), type: fc.constantFrom('SOCK_STREAM', 'SOCK_DGRAM', 'SOCK_SEQPACKET'), timeout }) },
  { weight: 2, arbitrary: op('bind', { s: slot, addr: bindAddress }) },
  { weight: 2, arbitrary: op('connect', { s: slot, to: target }) },
  { weight: 1, arbitrary: op('connect_ex', { s: slot, to: target }) },
  { weight: 1, arbitrary: op('listen', { s: slot, backlog: fc.constantFrom(0, 1, 5) }) },
  { weight: 1, arbitrary: op('accept', { s: slot }) },
  { weight: 3, arbitrary: op('put', { s: slot, n: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 3, arbitrary: op('flush', { s: slot }) },
  { weight: 1, arbitrary: op('pending', { s: slot }) },
);
const sequence = fc.record({ setup: fc.constantFrom(...kinds), steps: fc.array(step, { minLength: 1, maxLength: 20 }) });

module.exports = { sequence };
