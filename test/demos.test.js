'use strict';
// The HOWTO's lessons as programs: each runs a server and a client over loopback and exits 0 by
// itself; these tests run them and check that what they print is what happened. MessageSocket,
// the framing demo's class, is also tested on its own.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');

const { cli } = require('./helpers/programs');
const { sr, Opened, tcpPair, listener } = require('./helpers/sockets');
const { MessageSocket, MAX_MESSAGE } = require('../lib/programs/lessons/message-socket');

function run(command, args = []) {
  const r = spawnSync(process.execPath, [cli, command, '--port', '0', ...args], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, `${command} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

describe('demos', function () {
  this.timeout(40000);

  it('framing-demo: 1 B to 1 MiB arrive whole, and the big ones took many send() and recv() calls', () => {
    const out = run('framing-demo');
    const rows = [...out.matchAll(/^ *(\d+) bytes: +(\d+) send\(\) calls, +(\d+) recv\(\) calls, (\w+)$/gm)];
    assert.deepEqual(rows.map((m) => Number(m[1])), [1, 10, 100, 1000, 10000, 100000, 1 << 20]);
    for (const m of rows) assert.equal(m[4], 'intact');
    const [, , sends, recvs] = rows.at(-1).map(Number);
    assert.ok(sends > 1, `1 MiB in ${sends} send() calls: the tiny SO_SNDBUF should have made them partial`);
    assert.ok(recvs > 2, `1 MiB in ${recvs} recv() calls`);
    assert.deepEqual(rows[0].slice(2, 4).map(Number), [1, 2], 'one byte: one send(), a header recv() and a body recv()');
    assert.match(out, /however many calls it took: yes\n$/);
  });

  it('shutdown-demo: without SHUT_WR the server waits in vain; with it, it reads to EOF and answers', () => {
    const out = run('shutdown-demo');
    const [without, withShutdown] = out.split('-- with shutdown(SHUT_WR)\n');
    assert.match(without, /server: no end-of-file after 0\.5 s/);
    assert.doesNotMatch(without, /answered/);
    assert.match(withShutdown, /client: shutdown\(SHUT_WR\)[^]*server: recv\(\) -> b''\nserver: answered and closed\n/);
    assert.match(withShutdown, /client: received b'HTTP\/1\.0 200 OK\\r\\n[^']*you asked for: GET \/hello HTTP\/1\.0\\n', then end-of-file/);
  });

  it('byteorder-demo: network byte order on the wire, whatever the host order', () => {
    const out = run('byteorder-demo');
    // 10000 is 0x2710 and 192.168.1.1 is c0 a8 01 01, big-endian, on every machine.
    assert.match(out, /-- with htons\/htonl\nclient: 10000 and 3232235777 \(192\.168\.1\.1\) -> sends 27 10 c0 a8 01 01\n/);
    assert.match(out, /server: received 27 10 c0 a8 01 01 -> ntohs\/ntohl give 10000 and 3232235777 \(192\.168\.1\.1\): right/);
    const without = out.split('-- without them\n')[1];
    if (require('node:os').endianness() === 'LE') {
      assert.match(without, /sends 10 27 01 01 a8 c0\n/);
      assert.match(without, /give 4135 and 16885952 \(1\.1\.168\.192\): wrong/);
    } else {
      assert.match(without, /: right/);
    }
  });

  it('oob-demo: urgent data lands the socket in the exceptional list, and only there', () => {
    const out = run('oob-demo');
    const client = out.match(/readable=\[(127\.0\.0\.1:\d+)\] exceptional=\[\]/)[1];
    assert.match(out, new RegExp(`client: send\\(b'!', MSG_OOB\\)\\nserver: select\\(\\) -> readable=\\[\\] exceptional=\\[${client}\\]\\nserver: recv\\(1, MSG_OOB\\) -> b'!'\\nserver: select\\(\\) -> readable=\\[\\] exceptional=\\[\\]`));
    assert.match(out, new RegExp(`readable=\\[${client}\\] exceptional=\\[${client}\\]\\nserver: recv\\(\\) -> b'before'\\nserver: recv\\(1, MSG_OOB\\) -> b'X'\\nserver: recv\\(\\) -> b'after'\\n$`));
  });

  it('a demo whose port is taken says so and exits 1', () => {
    const opened = new Opened();
    try {
      const [, port] = listener(opened);
      for (const command of ['framing-demo', 'shutdown-demo', 'byteorder-demo', 'oob-demo']) {
        const r = spawnSync(process.execPath, [cli, command, '--host', '127.0.0.1', '--port', String(port)], { encoding: 'utf8', timeout: 20000 });
        assert.equal(r.status, 1, command);
        assert.match(r.stderr, new RegExp(`^select-reactor ${command}: SocketError: bind EADDRINUSE`), command);
      }
    } finally {
      opened.closeAll();
    }
  });
});

describe('MessageSocket', function () {
  this.timeout(30000);
  const opened = new Opened();
  afterEach(() => opened.closeAll());

  it('frames messages of 0 B to 1 MiB through tiny buffers, in a second process that sends them', async () => {
    // The sender runs in another process, so that both ends can block; the receiver is here.
    const [server, port] = listener(opened);
    server.setsockopt(sr.SOL_SOCKET, sr.SO_RCVBUF, 4096);
    const sizes = [0, 1, 3, 4, 5, 4095, 65536, 1 << 20];
    const seed = crypto.randomBytes(8).toString('hex');
    const code = `
      const sr = require(process.env.SR_ROOT);
      const { MessageSocket } = require(process.env.SR_ROOT + '/lib/programs/lessons/message-socket');
      const crypto = require('node:crypto');
      const s = sr.create_connection(['127.0.0.1', ${port}], 20);
      s.setsockopt(sr.SOL_SOCKET, sr.SO_SNDBUF, 4096);
      const m = new MessageSocket(s);
      const sends = [];
      for (const n of ${JSON.stringify(sizes)}) {
        m.mysend(crypto.createHash('shake256', { outputLength: n }).update('${seed}').digest());
        sends.push(m.sends);
      }
      console.log(JSON.stringify(sends));
      s.close();`;
    const child = spawn(process.execPath, ['-e', code], { env: { ...process.env, SR_ROOT: require('./helpers/sockets').root } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const [conn] = server.accept();
    opened.add(conn);
    conn.settimeout(20);
    const m = new MessageSocket(conn);
    for (const n of sizes) {
      const got = m.myreceive();
      assert.ok(got.equals(crypto.createHash('shake256', { outputLength: n }).update(seed).digest()), `${n} bytes`);
      if (n === 1 << 20) assert.ok(m.recvs > 2, `1 MiB in ${m.recvs} recv() calls`);
    }
    assert.equal(m.myreceive(), null, 'the end of the stream between two messages');
    assert.equal(await exited, 0);
    const sends = JSON.parse(out);
    assert.ok(sends.at(-1) > 1, `1 MiB in ${sends.at(-1)} send() calls`);
  });

  it('says the connection broke when it ends inside a message, and refuses absurd lengths', () => {
    const [a, b] = tcpPair(opened);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(10);
    a.sendall(Buffer.concat([header, Buffer.from('short')]));
    a.shutdown(sr.SHUT_WR);
    assert.throws(() => new MessageSocket(b).myreceive(), /socket connection broken: 5 of 10 bytes received/);

    const [c, d] = tcpPair(opened);
    header.writeUInt32BE(0xffffffff);
    c.sendall(header);
    assert.throws(() => new MessageSocket(d).myreceive(), RangeError);
    assert.throws(() => new MessageSocket(c).mysend(Buffer.alloc(MAX_MESSAGE + 1)), RangeError);
  });
});
