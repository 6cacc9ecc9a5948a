'use strict';
// Builds inject.c (faults at the C library's door) and runs node children with it preloaded.
// Under npm run test:asan, LD_PRELOAD already holds ASan's runtime, which must stay first: the
// shim goes after it, and ASan's interceptors reach it as the next definition.
const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { root } = require('./sockets');

/** Compiles the shim into a fresh temp directory; returns it, with `remove()` to clean up. */
function buildInject() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-inject-'));
  const lib = path.join(dir, 'inject.so');
  execFileSync(process.env.CC || 'cc', ['-shared', '-fPIC', '-O1', '-Wall', '-Wextra', '-Werror', '-o', lib, path.join(__dirname, 'inject.c'), '-ldl']);
  return {
    dir,
    lib,
    /** A path in the temp directory for a flag file (armed while it exists). */
    flag: (name) => path.join(dir, name),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** runNode() of helpers/sockets.js, with the shim preloaded and `env` added. */
function runInjected(inject, code, { env = {}, timeout = 20000 } = {}) {
  const preload = [process.env.LD_PRELOAD, inject.lib].filter(Boolean).join(' ');
  const r = spawnSync(process.execPath, ['-e', code], {
    cwd: root,
    env: { ...process.env, ...env, SR_ROOT: root, LD_PRELOAD: preload },
    encoding: 'utf8',
    timeout,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

module.exports = { buildInject, runInjected };
