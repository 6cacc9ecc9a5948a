'use strict';
// scripts/soak.js against servers with a fault of our choosing (test/soak/faulty-server.js): the
// soak passes the sound one and fails each fault, saying which. Our own servers are soaked by
// `npm run soak` and by CI (.ci/run), not here.
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');

const soak = path.resolve(__dirname, '../scripts/soak.js');
const faulty = path.join(__dirname, 'soak/faulty-server.js');

/** Runs the soak and resolves with {code, out}. */
function runSoak(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [soak, ...args], { timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, out: stdout + stderr });
    });
  });
}

// A run this short ends before the default warm-up: its marks are taken on time.
const short = ['--connections', '150', '--clients', '20', '--max-size', '16384', '--settle', '1', '--warm-up', '0'];
// Under ASan (npm run test:asan) every node process carries the sanitizer's quarantine, which
// grows RSS by itself: the sound servers' runs allow for it, the 'grow' fault keeps the real slack.
const slack = (fault) => (process.env.SR_SANITIZED && fault === 'none' ? ['--rss-slack', '1024'] : []);
const againstFaulty = (shape, fault, mode = 'churn') =>
  runSoak([...short, ...slack(fault), '--mode', mode, '--', process.execPath, faulty, shape, fault]);

describe('soak', function () {
  this.timeout(60000);
  // Every run starts at once (each is mostly waiting); the tests then read their own results.
  const runs = new Map();
  const result = (...args) => {
    const key = args.join(' ');
    if (!runs.has(key)) runs.set(key, againstFaulty(...args));
    return runs.get(key);
  };

  for (const shape of ['echo', 'chat']) {
    it(`passes a sound ${shape} server, in both modes`, async () => {
      for (const mode of ['churn', 'mixed']) {
        const { code, out } = await result(shape, 'none', mode);
        assert.equal(code, 0, out);
        assert.match(out, /^start: \d+ descriptors, RSS [\d.]+ MiB$/m);
        assert.match(out, /^10% \(\d+ connections\): /m);
        assert.match(out, /^150 connections in .* 0 errors$/m);
        assert.match(out, /soak: ok/);
      }
    });
  }

  const faults = [
    ['echo', 'corrupt', 'corrupts an echo', /error: mismatch x\d+/],
    ['echo', 'leak', 'leaks descriptors', /FAILED: descriptors (\d+) -> (?!\1)\d+/],
    ['echo', 'die', 'dies', /error: server died x1 \(first: exit \{"code":3,"signal":null\}/],
    ['echo', 'grow', 'grows by 64 MiB', /FAILED: .*RSS of pid \d+ grew from [\d.]+ MiB at 10% of the run/],
    ['chat', 'dup', 'sends a line twice', /error: repeated line x\d+/],
    ['chat', 'lose', 'loses a line', /error: lost line x\d+/],
    ['chat', 'back', 'sends a line back to its sender', /error: own line back x\d+/],
  ];
  before(() => {
    for (const shape of ['echo', 'chat']) for (const mode of ['churn', 'mixed']) result(shape, 'none', mode);
    for (const [shape, fault] of faults) result(shape, fault, 'churn');
  });
  for (const [shape, fault, what, says] of faults) {
    it(`fails ${shape === 'echo' ? 'an' : 'a'} ${shape} server that ${what}, and says which`, async () => {
      const { code, out } = await result(shape, fault, 'churn');
      assert.equal(code, 1, out);
      assert.match(out, says);
      assert.match(out, /soak: FAILED/);
    });
  }

  it('wants the server\'s own options after --', async () => {
    const { code, out } = await runSoak(['--seconds', '1', '--selector', 'epoll']);
    assert.equal(code, 2);
    assert.match(out, /the server's own options go after --/);
  });
});
