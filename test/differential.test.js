'use strict';
// Differential tests against CPython: fast-check generates sequences of socket calls (create,
// options, bind/connect, send/recv/recvfrom/recv_into with MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT,
// shutdown, close, select with mixed lists, timeouts, the outbox), and each runs twice: through
// Python's socket and select (test/differential/driver.py, one long-lived python3) and through this
// package (test/differential/driver.js, one long-lived node), each on its own fresh sockets of the
// same kind, the same calls in the same order. Python is the oracle: every step must return the
// same values, lengths and bytes, or raise the same exception class with the same errno, unless
// test/differential/differences.json lists the difference and says why.
//
// `npm test` runs a few hundred sequences; FC_RUNS=N (or `npm run test:differential -- --long`)
// runs more, FC_SEED=S replays one run.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fc = require('fast-check');

const { differences, compare, excuse, comparisons, usage, withoutCtx } = require('./differential/compare');
const { startDrivers, runBoth } = require('./differential/drivers');
const { sequence } = require('./differential/sequences');

const long = process.argv.includes('--long');
const runs = Number(process.env.FC_RUNS) || (long ? 5000 : 300);
const settings = { numRuns: runs, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) };

const bare = (result) => JSON.stringify(withoutCtx(result ?? {}));

function report(seq, pyResults, ourResults, diff) {
  const lines = seq.steps.slice(0, diff.step + 1).map((st, i) =>
    `  ${String(i).padStart(2)} ${JSON.stringify(st)}\n      python: ${JSON.stringify(pyResults[i])}` +
    (i === diff.step || bare(pyResults[i]) !== bare(ourResults[i]) ? `\n      ours:   ${JSON.stringify(ourResults[i])}` : ''));
  return `step ${diff.step} differs from Python without a reason in differences.json (setup ${seq.setup}):\n${lines.join('\n')}`;
}

const hasPython = spawnSync('python3', ['-c', 'import socket, select'], { stdio: 'ignore' }).status === 0;

describe('differential: select-reactor against CPython', function () {
  this.timeout(long ? 0 : 120000);
  let drivers;
  let nondeterministic = 0;

  before(function () {
    if (!hasPython) this.skip(); // python3 is on every machine this project targets
    drivers = startDrivers();
  });
  after(() => {
    drivers?.python.stop();
    drivers?.ours.stop();
  });

  it(`agrees with Python on ${runs} random sequences of socket calls, step for step`, async () => {
    await fc.assert(fc.asyncProperty(sequence, async (seq) => {
      const [pyResults, ourResults] = await runBoth(drivers, seq);
      const diff = compare(seq.steps, pyResults, ourResults);
      if (!diff) return;
      // Kernel timing could make a sequence answer differently from one run to the next (it
      // should not, on loopback and socketpairs): a difference counts only if both sides repeat
      // their answers up to it.
      const [pyAgain, oursAgain] = await runBoth(drivers, seq);
      const upTo = (r) => JSON.stringify(r.slice(0, diff.step + 1));
      if (upTo(pyAgain) !== upTo(pyResults) || upTo(oursAgain) !== upTo(ourResults)) {
        nondeterministic++;
        return;
      }
      assert.fail(report(seq, pyResults, ourResults, diff));
    }), settings);
    // A generator that mostly makes unrepeatable sequences would test little.
    assert.ok(nondeterministic <= runs / 20, `${nondeterministic} of ${runs} sequences did not repeat themselves`);
    if (long) console.log(`      differences excused: ${JSON.stringify(Object.fromEntries(usage))}; unrepeatable: ${nondeterministic}`);
  });
  // Sequences that once differed from Python, each fixed on the branch that added it: they run
  // every time, whatever the random ones find.
  const regressions = [
    ['bind(\'\') and sendto(\'\') on AF_UNIX mean no name (Linux autobinds one), not the abstract name "\\0"',
      { setup: 'unix-dgram', steps: [{ op: 'sendto', s: 0, n: 0, flags: [], to: { slot: 0 } }, { op: 'create', family: 'AF_UNIX', type: 'SOCK_DGRAM', timeout: 0 },
        { op: 'bind', s: 2, addr: { slot: 0 } }, { op: 'getsockname', s: 2 }, { op: 'create', family: 'AF_UNIX', type: 'SOCK_DGRAM', timeout: 0 },
        { op: 'bind', s: 3, addr: { slot: 1 } }] }],
    ['recv(0) returns b\'\' at once: no EAGAIN, no wait, and a datagram stays queued',
      { setup: 'unix-dgram', steps: [{ op: 'recv', s: 1, n: 0, flags: [] }, { op: 'send', s: 0, n: 5, flags: [] }, { op: 'recv', s: 1, n: 0, flags: [] },
        { op: 'settimeout', s: 1, t: null }, { op: 'recv', s: 1, n: 0, flags: [] }, { op: 'recv', s: 1, n: 10, flags: [] }] }],
    ['recv_into() of no bytes returns 0 at once',
      { setup: 'unix-stream', steps: [{ op: 'recv_into', s: 0, size: 0, nbytes: 0, flags: [] }, { op: 'recv_into', s: 0, size: 8, nbytes: 0, flags: [] }] }],
    ['sendall(b\'\') makes one send(): an empty record on SOCK_SEQPACKET, EPIPE once shut',
      { setup: 'unix-seqpacket', steps: [{ op: 'sendall', s: 0, n: 0, flags: [] }, { op: 'select', r: [{ s: 1, as: 'socket' }], w: [], x: [] },
        { op: 'recv', s: 1, n: 10, flags: [] }, { op: 'shutdown', s: 0, how: 'SHUT_WR' }, { op: 'sendall', s: 0, n: 0, flags: [] }] }],
  ];
  for (const [what, seq] of regressions) {
    it(`regression: ${what}`, async () => {
      const [pyResults, ourResults] = await runBoth(drivers, seq);
      const diff = compare(seq.steps, pyResults, ourResults);
      assert.equal(diff, null, diff && report(seq, pyResults, ourResults, diff));
    });
  }

  it('fails on a difference differences.json does not list, and excuses one it does', () => {
    const steps = [{ op: 'recv', s: 0, n: 4, flags: [] }];
    const py = [{ ok: { hex: '00070e15' }, ctx: ['AF_UNIX', 'SOCK_STREAM'] }];
    assert.equal(compare(steps, py, [{ ok: { hex: '00070e15' } }]), null);
    assert.deepEqual(compare(steps, py, [{ ok: { hex: '00070e' } }])?.step, 0);
    assert.deepEqual(compare(steps, py, [{ error: 'SocketError', errno: 'EAGAIN' }])?.step, 0);
    const truncated = [{ op: 'recv', s: 0, n: 2, flags: ['MSG_TRUNC'] }];
    const pyTrunc = [{ ok: { hex: '0007abcd' }, ctx: ['AF_UNIX', 'SOCK_DGRAM'] }];
    assert.equal(excuse(truncated, pyTrunc, 0, pyTrunc[0], { ok: { hex: '0007' } }).id, 'capped-at-bufsize');
    assert.equal(excuse(steps, py, 0, py[0], { error: 'OSError', errno: 'EAGAIN' }), null);
  });

  it('differences.json: every entry says why, and how it is compared', () => {
    for (const entry of [...differences.deliberate, ...differences.pending]) {
      assert.ok(entry.id && entry.reason && entry.when, JSON.stringify(entry));
      assert.ok(entry.compare in comparisons, `${entry.id}: compare ${entry.compare}`);
      assert.ok(['continue', 'stop'].includes(entry.then), `${entry.id}: then ${entry.then}`);
    }
    for (const entry of differences.pending) assert.ok(entry.issue, `${entry.id} names the issue that removes it`);
  });
});
