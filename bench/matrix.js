'use strict';
// The cells of the benchmark: what load, at how many connections. Each cell runs every contender
// that can hold its connections, taking turns A B C, B C A, ... for its rounds (bench/run.js).
//
//   pingpong  each connection sends `size` bytes and waits for them whole: round trips/s (higher
//             wins); uvloop's published benchmark measures the same way (its echo client sends a
//             message with sendall() and reads until all of it is back, then sends the next)
//   stream    each connection streams `size`-byte chunks, `window` bytes in flight: MB/s (higher wins)
//   idle      `conns` connections held open: the server's RSS growth per connection, KiB
//             (lower wins; bench/runner.js measureIdle says how, and how far to trust it)
//
// docs/benchmark.md says why each cell is shaped as it is.

const KiB = 1024;
const MiB = 1024 * KiB;

// The stream cell is shaped so that the server reads the same amount each time, whichever of it
// and the load generator is ahead: chunks of 64 KiB, the most the select() loops, the Python and
// Node's libuv read at once, with 4 MiB in flight per connection, so that the server's receive
// queue never drains and the two processes cannot settle into trading small pieces.
const STREAM = { size: 64 * KiB, window: 4 * MiB };

const full = [
  { kind: 'pingpong', size: 64, conns: 1 },
  { kind: 'pingpong', size: 64, conns: 10 },
  { kind: 'pingpong', size: 64, conns: 100 },
  { kind: 'pingpong', size: 64, conns: 1000 },
  // Beyond select()'s FD_SETSIZE: runs when a contender other than Node's net can hold it.
  { kind: 'pingpong', size: 64, conns: 10000 },
  { kind: 'pingpong', size: 4 * KiB, conns: 1 },
  { kind: 'pingpong', size: 4 * KiB, conns: 10 },
  { kind: 'pingpong', size: 4 * KiB, conns: 100 },
  { kind: 'pingpong', size: 4 * KiB, conns: 1000 },
  // uvloop's published cells: 1, 10 and 100 KiB messages at concurrency 10.
  { kind: 'pingpong', size: KiB, conns: 10, like: 'uvloop' },
  { kind: 'pingpong', size: 10 * KiB, conns: 10, like: 'uvloop' },
  { kind: 'pingpong', size: 100 * KiB, conns: 10, like: 'uvloop' },
  { kind: 'stream', ...STREAM, conns: 1 },
  { kind: 'stream', ...STREAM, conns: 10 },
  { kind: 'idle', size: 64, conns: 1000 },
];

// --quick: every kind of load once, briefly, for integrity (every byte checked), not for figures.
// A 100 KiB message takes the servers more than one read, so echoes put together are checked too.
const quick = [
  { kind: 'pingpong', size: 64, conns: 10 },
  { kind: 'pingpong', size: 4 * KiB, conns: 3 },
  { kind: 'pingpong', size: 100 * KiB, conns: 2 },
  { kind: 'stream', ...STREAM, conns: 2 },
  { kind: 'idle', size: 64, conns: 50 },
];

const units = {
  pingpong: { unit: 'round trips/s', short: 'rt/s', higherWins: true },
  stream: { unit: 'MB/s', short: 'MB/s', higherWins: true },
  idle: { unit: 'KiB RSS per idle connection', short: 'KiB/conn', higherWins: false },
};

function formatSize(bytes) {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  return bytes >= KiB && bytes % KiB === 0 ? `${bytes / KiB} KiB` : `${bytes} B`;
}

/** A cell's stable key and its name in tables: 'pingpong-64-10', 'pingpong 64 B, 10 conns'. */
function describeCell(cell) {
  const id = `${cell.kind}-${cell.size}-${cell.conns}`;
  const conns = `${cell.conns.toLocaleString('en-US')} conn${cell.conns === 1 ? '' : 's'}`;
  let name = `${cell.kind} ${formatSize(cell.size)}, ${conns}`;
  if (cell.kind === 'idle') name = `RSS, ${conns} idle`;
  if (cell.kind === 'stream') name = `stream ${formatSize(cell.size)}, ${formatSize(cell.window)} in flight, ${conns}`;
  if (cell.like) name += ` (${cell.like}'s cell)`;
  return { ...cell, id, name, ...units[cell.kind] };
}

module.exports = { full: full.map(describeCell), quick: quick.map(describeCell), describeCell, units };
