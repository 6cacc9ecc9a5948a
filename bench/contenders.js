'use strict';
// The contenders: each an echo server that the harness starts on a free port for one run, waits
// for, and stops. One entry each; a new server (another selector, more workers) is one more entry.
// The order here is the order of the table's rows.
//
//   name       key in the results
//   label      what the table and the plot call it
//   short      optional: its name over the table's "times better than" column, if it has one
//   command    (port, programs) => [file, args]: listens on 127.0.0.1:port, echoes, exits on SIGTERM
//   maxConns   the most connections it can hold (select() stops at FD_SETSIZE, 1024 descriptors)
//   cells      optional (cell) => boolean: the cells it runs in (default: all it can hold)
//   available  optional () => true, or a string saying why it is skipped here
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'lib', 'cli.js');
const pythonReference = path.join(root, 'docs', 'python', 'select_echo_server.py');
const uvloopServer = path.join(__dirname, 'uvloop-echo.py');
const SELECT_MAX_CONNS = 1000; // FD_SETSIZE (1024) less the descriptors a process already has

// Issue 4 adds --selector poll|epoll and --workers N to the echo server. Whether this build has
// them is asked of the program itself: an option it does not know fails before the port check,
// one it knows reaches the port check (65536 is out of range), and nothing listens either way.
function echoServerTakes(...args) {
  let answer;
  return () => {
    if (answer === undefined) {
      const r = spawnSync(process.execPath, [cli, 'echo-server', ...args, '--port', '65536'], { encoding: 'utf8', timeout: 20000 });
      answer = /--port must be/.test(r.stderr) ? true : `echo-server does not take ${args.join(' ')} in this build`;
    }
    return answer;
  };
}

/** The cells the other selectors and the workers run in: many connections, where they differ. */
const manyConnections = (cell) => cell.kind === 'pingpong' && cell.size === 64 && cell.conns >= 1000;

function ours(name, label, options, extra) {
  return {
    name,
    label,
    command: (port) => [process.execPath, [cli, 'echo-server', '--quiet', '--host', '127.0.0.1', '--port', String(port), ...options]],
    ...extra,
  };
}

let python;
function pythonAvailable() {
  if (!fs.existsSync(pythonReference)) return `${path.relative(root, pythonReference)} is not here`;
  python ??= spawnSync('python3', ['--version'], { encoding: 'utf8' });
  return python.status === 0 ? true : 'python3 is not installed';
}

// Debian's python3-uvloop is installed for Debian's own Python (/usr/bin/python3), which a pyenv
// or virtualenv python3 earlier on PATH does not see; so each is asked in turn, unless
// UVLOOP_PYTHON names the one to use.
let uvloop;
function findUvloop() {
  if (!fs.existsSync(uvloopServer)) return `${path.relative(root, uvloopServer)} is not here`;
  if (!uvloop) {
    const candidates = process.env.UVLOOP_PYTHON ? [process.env.UVLOOP_PYTHON] : ['python3', '/usr/bin/python3'];
    const python = candidates.find((p) => spawnSync(p, ['-c', 'import uvloop'], { timeout: 20000 }).status === 0);
    uvloop = python
      ? { python, answer: true }
      : { answer: `${candidates.join(' and ')} cannot import uvloop (on Debian: apt-get install python3-uvloop)` };
  }
  return uvloop.answer;
}

const contenders = [
  ours('ours', 'select-reactor', [], { maxConns: SELECT_MAX_CONNS }),
  // The selectors loop on epoll in every cell: the loop to hold against uvloop, which is on epoll too.
  ours('ours-epoll', 'select-reactor, epoll', ['--selector', 'epoll'], {
    maxConns: Infinity,
    available: echoServerTakes('--selector', 'epoll'),
  }),
  {
    name: 'net',
    label: 'Node net (libuv)',
    short: 'net',
    command: (port) => [process.execPath, [path.join(__dirname, 'net-echo.js'), '--port', String(port)]],
    maxConns: Infinity,
  },
  {
    name: 'uvloop',
    label: 'uvloop (Python, libuv)',
    short: 'uvloop',
    command: (port) => [uvloop.python, [uvloopServer, '--host', '127.0.0.1', '--port', String(port)]],
    maxConns: Infinity,
    available: findUvloop,
  },
  {
    name: 'c-select',
    label: 'C select(), tuned',
    short: 'C tuned',
    command: (port, programs) => [programs['select-echo'], ['--quiet', '--port', String(port)]],
    maxConns: SELECT_MAX_CONNS,
  },
  {
    name: 'c-select-python',
    label: 'C select(), Python-shaped',
    short: 'C Python-shaped',
    command: (port, programs) => [programs['select-echo'], ['--quiet', '--python-shaped', '--port', String(port)]],
    maxConns: SELECT_MAX_CONNS,
  },
  {
    name: 'python',
    label: 'Python select',
    command: (port) => ['python3', [pythonReference, String(port), '--quiet']],
    maxConns: SELECT_MAX_CONNS,
    available: pythonAvailable,
  },
  ours('ours-poll', 'select-reactor, poll', ['--selector', 'poll'], {
    maxConns: Infinity,
    cells: manyConnections,
    available: echoServerTakes('--selector', 'poll'),
  }),
  ours('ours-workers', 'select-reactor, 2 workers', ['--workers', '2'], {
    maxConns: SELECT_MAX_CONNS,
    cells: manyConnections,
    available: echoServerTakes('--workers', '2'),
  }),
  // Each worker on epoll: two processes past FD_SETSIZE, in the 10,000-connection cell too.
  ours('ours-workers-epoll', 'select-reactor, 2 workers, epoll', ['--workers', '2', '--selector', 'epoll'], {
    maxConns: Infinity,
    cells: manyConnections,
    available: echoServerTakes('--workers', '2', '--selector', 'epoll'),
  }),
];

/**
 * The contender a cell needs besides one other to be worth running, and the ones every other is
 * held against, each in a column of its own: Node's net, uvloop, and the two C servers (the
 * ceilings of our loop's design and of the Python's).
 */
const BASELINE = 'net';
const REFERENCES = ['net', 'uvloop', 'c-select', 'c-select-python'];

module.exports = { contenders, BASELINE, REFERENCES };
