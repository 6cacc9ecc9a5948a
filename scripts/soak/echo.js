'use strict';
// The soak's echo clients, on Node's net (an implementation independent of ours). Mixed: a payload
// of any size up to --max-size in random pieces, half-closed or not, every byte checked. Churn: the
// shortest useful connection (connect, up to 64 bytes, the echo, close), as many as the machine takes.
const crypto = require('node:crypto');
const net = require('node:net');

/**
 * The echo shape: `connection(mode)` runs one connection of `mode` ('mixed' or 'churn') against
 * `port` and resolves with whether every byte came back in order. Failures go to `stats.fail`.
 */
function echoShape(port, stats, { maxSize }) {
  // Payloads are slices of one random pool: checking them costs a compare, not a hash.
  const pool = crypto.randomBytes(2 * Math.max(maxSize, 64) + 1);

  function connection(mode) {
    const churn = mode === 'churn';
    // Sizes spread over every order of magnitude up to maxSize, not bunched near the top.
    const size = churn ? 1 + crypto.randomInt(64) : Math.max(1, Math.floor(Math.exp(Math.random() * Math.log(maxSize))));
    const offset = crypto.randomInt(pool.length - size);
    const payload = pool.subarray(offset, offset + size);
    const halfClose = !churn && Math.random() < 0.5;
    return new Promise((resolve) => {
      const sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      let got = 0;
      let connected = false;
      let done = false;
      const finish = (kind, detail) => {
        if (done) return;
        done = true;
        if (kind) stats.fail(kind, detail);
        else stats.verified += size;
        sock.destroy();
        resolve(!kind);
      };
      const where = () => `after ${got} of ${size} bytes${connected ? '' : ', before connecting'}`;
      sock.on('error', (err) => finish(err.code || err.message, where()));
      sock.on('data', (data) => {
        if (got + data.length > size) return finish('too many bytes', `${got + data.length} bytes back of ${size} sent`);
        if (!data.equals(payload.subarray(got, got + data.length))) return finish('mismatch', mismatch(data, got));
        got += data.length;
        if (got === size && !halfClose) finish(null);
      });
      sock.on('end', () => {
        // With a half-close, the server closes once it has answered everything: all of it, then EOF.
        if (got === size && halfClose) finish(null);
        else finish('early EOF', where());
      });
      sock.on('connect', () => {
        connected = true;
        if (churn) {
          sock.write(payload);
          return;
        }
        for (let off = 0; off < size;) {
          const piece = 1 + crypto.randomInt(Math.min(size - off, 65536));
          sock.write(payload.subarray(off, off + piece));
          off += piece;
        }
        if (halfClose) sock.end();
      });

      /** Says what came instead: bytes of this payload from elsewhere, another payload's, or neither. */
      function mismatch(data, at0) {
        let at = 0;
        while (at < data.length && data[at] === payload[at0 + at]) at++;
        const probe = data.subarray(at, at + 32);
        const own = probe.length >= 8 ? payload.indexOf(probe) : -1;
        const what = own >= 0 ? `own byte ${own}` : pool.indexOf(probe) >= 0 ? 'another payload' : 'unknown bytes';
        return `at byte ${at0 + at} of ${size} (${what})`;
      }
    });
  }

  return {
    describe: (mode) => (mode === 'churn' ? 'connect, 1 to 64 B, the echo, close' : `payloads of 1 B to ${maxSize} B in random pieces, half of them half-closed`),
    warmUp: () => connection('mixed'),
    connection,
    finish: async () => {},
  };
}

module.exports = { echoShape };
