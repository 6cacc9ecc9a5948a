'use strict';
// What /proc says about the server under soak: the process started and its children (the
// workers of --workers), with the open descriptors and resident memory of each. Linux only.
const { childrenOf, fdCount, rssMiB } = require('../../bench/procfs');

/** `{each: [{pid, fds, rss}], fds, rss}` for `pid` and its children; rss in MiB. */
function serverUsage(pid) {
  const each = [];
  for (const p of [pid, ...childrenOf(pid)]) {
    try {
      each.push({ pid: p, fds: fdCount(p), rss: rssMiB(p) });
    } catch {
      // Gone between the listing and the read: the soak hears of a death from the exit itself.
    }
  }
  return { each, fds: each.reduce((n, p) => n + p.fds, 0), rss: each.reduce((n, p) => n + p.rss, 0) };
}

module.exports = { serverUsage };
