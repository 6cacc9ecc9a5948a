'use strict';
// resource: getrlimit/setrlimit for RLIMIT_NOFILE, as Python's resource module. Limits are only
// ever changed in child processes, never in mocha's own.
const assert = require('node:assert/strict');

const { sr, runNode } = require('./helpers/sockets');

describe('resource', () => {
  const { getrlimit, setrlimit, RLIMIT_NOFILE, RLIM_INFINITY } = sr.resource;

  it('getrlimit(RLIMIT_NOFILE) is [soft, hard], with soft <= hard', () => {
    assert.equal(typeof RLIMIT_NOFILE, 'number');
    assert.equal(RLIM_INFINITY, Infinity);
    const [soft, hard] = getrlimit(RLIMIT_NOFILE);
    assert.ok(Number.isInteger(soft) && soft > 0, String(soft));
    assert.ok(Number.isInteger(hard) || hard === Infinity, String(hard));
    assert.ok(soft <= hard);
  });

  it('setrlimit lowers the soft limit, which then refuses descriptors (EMFILE), and raises it back', () => {
    const r = runNode(`
      const sr = require(process.env.SR_ROOT);
      const { getrlimit, setrlimit, RLIMIT_NOFILE } = sr.resource;
      const [soft, hard] = getrlimit(RLIMIT_NOFILE);
      setrlimit(RLIMIT_NOFILE, [64, hard]);
      console.log('lowered', getrlimit(RLIMIT_NOFILE)[0]);
      const open = [];
      try {
        for (let i = 0; i < 100; i++) open.push(sr.socket());
        console.log('no limit hit');
      } catch (err) {
        console.log('refused', err.code);
      }
      for (const s of open) s.close();
      setrlimit(RLIMIT_NOFILE, [hard, hard]);
      console.log('raised', getrlimit(RLIMIT_NOFILE)[0] === hard);
      try {
        setrlimit(RLIMIT_NOFILE, [hard === Infinity ? Infinity : hard + 1, hard]);
        console.log('soft above hard accepted');
      } catch (err) {
        console.log('soft above hard', err.code);
      }
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /lowered 64\n/);
    assert.match(r.stdout, /refused EMFILE\n/);
    assert.match(r.stdout, /raised true\n/);
    assert.match(r.stdout, /soft above hard (EINVAL|accepted)\n/);
  });

  it('rejects bad arguments with TypeError and RangeError', () => {
    assert.throws(() => getrlimit('nofile'), TypeError);
    assert.throws(() => getrlimit(-1), RangeError);
    assert.throws(() => setrlimit(RLIMIT_NOFILE, 1024), { name: 'TypeError', message: /\[soft, hard\]/ });
    assert.throws(() => setrlimit(RLIMIT_NOFILE, [1.5, 2]), TypeError);
    assert.throws(() => setrlimit(RLIMIT_NOFILE, [-1, 2]), RangeError);
  });
});
