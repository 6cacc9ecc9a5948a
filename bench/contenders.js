'use strict';
// The contenders: each an echo server that the harness starts on a free port for one run, waits
// for, and stops. One entry each; a new server (another selector, more workers) is one more entry.
//
//   name       key in the results
//   label      what the table and the plot call it
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

const contenders = [
  ours('ours', 'select-reactor', [], { maxConns: SELECT_MAX_CONNS }),
  {
    name: 'net',
    label: 'Node net (libuv)',
    command: (port) => [process.execPath, [path.join(__dirname, 'net-echo.js'), '--port', String(port)]],
    maxConns: Infinity,
  },
  {
    name: 'c-select',
    label: 'C select()',
    command: (port, programs) => [programs['select-echo'], ['--quiet', '--port', String(port)]],
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
  ours('ours-epoll', 'select-reactor, epoll', ['--selector', 'epoll'], {
    maxConns: Infinity,
    cells: manyConnections,
    available: echoServerTakes('--selector', 'epoll'),
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

/** The contender every ratio is taken against, and the ceiling of the select() design. */
const BASELINE = 'net';
const CEILING = 'c-select';

module.exports = { contenders, BASELINE, CEILING };
