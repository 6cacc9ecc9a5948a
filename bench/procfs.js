'use strict';
// What /proc says about a process: its open descriptors, resident memory, CPU time and children.
// One module for the benchmark, the tests and the soak (Linux only, as what uses it). It lives
// here because the benchmark ships with the package and runs from an install.
const fs = require('node:fs');

/** The fields of /proc/PID/stat after the command name, which is in parentheses and may hold spaces. */
function statFields(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The number of open descriptors of `pid`. */
function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size of `pid`, in KiB. */
function rssKiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]);
}

/** Resident set size of `pid`, in MiB. */
function rssMiB(pid) {
  return rssKiB(pid) / 1024;
}

/**
 * The pids whose parent is `pid`, from every /proc/N/stat: /proc/PID/task/T/children needs a
 * kernel built with CONFIG_PROC_CHILDREN, and pgrep has deadlocked under test:asan's LD_PRELOAD.
 */
function childrenOf(pid) {
  const children = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let ppid;
    try {
      ppid = Number(statFields(entry)[1]);
    } catch {
      continue; // gone meanwhile
    }
    if (ppid === pid) children.push(Number(entry));
  }
  return children;
}

/**
 * CPU seconds `pid` has used, user and system, all threads, and its live children's: the
 * processes of `echo-server --workers N` do the serving, their parent only waits for them.
 * /proc counts in USER_HZ ticks, which Linux fixes at 100 per second for this interface.
 */
function cpuSeconds(pid) {
  const fields = statFields(pid);
  let seconds = (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime
  for (const child of childrenOf(pid)) {
    try {
      seconds += cpuSeconds(child);
    } catch {
      // It has just exited: what it used is gone with it.
    }
  }
  return seconds;
}

/**
 * Seconds the process's main thread has spent runnable but waiting for a CPU (/proc/PID/schedstat,
 * its second field, in ns): time another process took from the server's loop during a run. (For
 * `--workers` that thread is the parent's, which only waits, so there it says little.)
 */
function cpuWaitSeconds(pid) {
  return Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
}

module.exports = { fdCount, rssKiB, rssMiB, childrenOf, cpuSeconds, cpuWaitSeconds };
