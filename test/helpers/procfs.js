'use strict';
// What /proc says about a process we started: its open descriptors, its resident memory and the
// CPU time it has used. Linux only, as the tests that use it.
const fs = require('node:fs');

/** The number of open descriptors of `pid`. */
function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size of `pid`, in MiB. */
function rssMiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) / 1024;
}

/** User + system CPU time of `pid`, in seconds. */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ)
}

/**
 * The pids whose parent is `pid`, from /proc/<n>/stat. Not pgrep: a program spawned by the tests
 * inherits test:asan's LD_PRELOAD, and procps' pgrep has deadlocked under libasan (seen in CI).
 */
function childrenOf(pid) {
  const children = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) children.push(Number(entry));
  }
  return children;
}

/** Polls `probe()` until it returns `want` or `ms` pass; resolves with the last value seen. */
async function settle(probe, want, ms = 10000) {
  const until = Date.now() + ms;
  let value = probe();
  while (value !== want && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = probe();
  }
  return value;
}

/** The q-quantile (0..1) of sorted numbers. */
function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

module.exports = { fdCount, rssMiB, cpuSeconds, childrenOf, settle, quantile };
