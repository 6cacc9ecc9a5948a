'use strict';
// The cells of the benchmark: what load, at how many connections. Each cell runs every contender
// that can hold its connections, alternating A B C A B C for `rounds` rounds.
//
//   pingpong  each connection sends `size` bytes and waits for them: round trips/s (higher wins)
//   stream    each connection streams `size`-byte chunks, `window` bytes in flight: MB/s (higher wins)
//   idle      `conns` connections held open: the server's RSS growth per connection, KiB
//             (lower wins; bench/runner.js measureIdle says how, and how far to trust it)

const KiB = 1024;
const WINDOW = 256 * KiB;

const full = [
  { kind: 'pingpong', size: 64, conns: 1 },
  { kind: 'pingpong', size: 64, conns: 10 },
  { kind: 'pingpong', size: 64, conns: 100 },
  { kind: 'pingpong', size: 64, conns: 1000 },
  // Beyond select()'s FD_SETSIZE: runs when a contender other than Node's net can hold it.
  { kind: 'pingpong', size: 64, conns: 10000 },
  { kind: 'pingpong', size: 4 * KiB, conns: 10 },
  { kind: 'stream', size: 16 * KiB, conns: 1, window: WINDOW },
  { kind: 'stream', size: 16 * KiB, conns: 10, window: WINDOW },
  { kind: 'idle', size: 64, conns: 1000 },
];

// --quick: every kind of load once, briefly, for integrity (every byte checked), not for figures.
const quick = [
  { kind: 'pingpong', size: 64, conns: 10 },
  { kind: 'pingpong', size: 4 * KiB, conns: 3 },
  { kind: 'stream', size: 16 * KiB, conns: 2, window: WINDOW },
  { kind: 'idle', size: 64, conns: 50 },
];

const units = {
  pingpong: { unit: 'round trips/s', short: 'rt/s', higherWins: true },
  stream: { unit: 'MB/s', short: 'MB/s', higherWins: true },
  idle: { unit: 'KiB RSS per idle connection', short: 'KiB/conn', higherWins: false },
};

function formatSize(bytes) {
  return bytes >= KiB && bytes % KiB === 0 ? `${bytes / KiB} KiB` : `${bytes} B`;
}

/** A cell's stable key and its name in tables: 'pingpong-64-10', 'pingpong 64 B × 10'. */
function describeCell(cell) {
  const id = `${cell.kind}-${cell.size}-${cell.conns}`;
  const conns = `${cell.conns.toLocaleString('en-US')} conn${cell.conns === 1 ? '' : 's'}`;
  const name = cell.kind === 'idle' ? `RSS, ${conns} idle` : `${cell.kind} ${formatSize(cell.size)}, ${conns}`;
  return { ...cell, id, name, ...units[cell.kind] };
}

module.exports = { full: full.map(describeCell), quick: quick.map(describeCell), describeCell, units };
