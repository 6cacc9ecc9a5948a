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

let python;
function pythonAvailable() {
  if (!fs.existsSync(pythonReference)) return `${path.relative(root, pythonReference)} is not here`;
  python ??= spawnSync('python3', ['--version'], { encoding: 'utf8' });
  return python.status === 0 ? true : 'python3 is not installed';
}

const contenders = [
  {
    name: 'ours',
    label: 'select-reactor',
    command: (port) => [process.execPath, [cli, 'echo-server', '--quiet', '--host', '127.0.0.1', '--port', String(port)]],
    maxConns: SELECT_MAX_CONNS,
  },
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
];

/** The contender every ratio is taken against, and the ceiling of the select() design. */
const BASELINE = 'net';
const CEILING = 'c-select';

module.exports = { contenders, BASELINE, CEILING };
