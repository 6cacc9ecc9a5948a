'use strict';
// The two sides of the differential test as long-lived child processes: python3 running
// driver.py (the oracle) and node running driver.js (this package), one JSON request per line,
// one answer per line.
const { spawn } = require('node:child_process');
const path = require('node:path');

/** A long-lived driver process: one JSON request per line, one answer per line, in order. */
class Driver {
  constructor(name, command, args) {
    Object.assign(this, { name, command, args });
    this.start();
  }

  start() {
    // Each process answers its own waiters only: a driver killed for hanging must not reject, as
    // it exits, the requests already sent to the one started in its place.
    const child = spawn(this.command, this.args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const waiting = [];
    this.child = child;
    this.waiting = waiting;
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      buffered += text;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        waiting.shift()?.resolve(JSON.parse(line));
      }
    });
    child.on('exit', (code, signal) => {
      for (const w of waiting.splice(0)) w.reject(new Error(`the ${this.name} driver exited (${code ?? signal})`));
    });
  }

  /** Runs one sequence; a side that does not answer within `ms` is killed, restarted, and says so. */
  run(request, ms = 10000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const child = this.child;
        this.start();
        child.kill('SIGKILL');
        resolve({ hung: true });
      }, ms);
      const done = (f) => (v) => {
        clearTimeout(timer);
        f(v);
      };
      this.waiting.push({ resolve: done(resolve), reject: done(reject) });
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  stop() {
    this.child.stdin.end();
  }
}

/** Both sides, started. */
function startDrivers() {
  return {
    python: new Driver('python', 'python3', [path.join(__dirname, 'driver.py')]),
    ours: new Driver('select-reactor', process.execPath, [path.join(__dirname, 'driver.js')]),
  };
}

/**
 * Runs `seq` on both sides: Python first, then ours up to (not including) a step where Python
 * would have waited forever. Resolves with [python's results, ours].
 */
async function runBoth({ python, ours }, seq) {
  const py = await python.run(seq);
  const last = py.results[py.results.length - 1];
  const upTo = last?.blocked ? py.results.length - 1 : py.results.length;
  const mine = await ours.run({ ...seq, steps: seq.steps.slice(0, upTo) });
  return [py.results, mine.hung ? [{ hung: 'ours did not answer within 10 s: a call blocked where Python returned' }] : mine.results];
}

module.exports = { Driver, startDrivers, runBoth };
