'use strict';
// Compiles the benchmark's C programs (the load generator, the C select() server) with the
// system's C compiler, at bench time, into bench/build/ (git-ignored), and only when a source is
// newer than its binary. They stay out of binding.gyp so that `npm install` builds only the
// addon, and the benchmark owns its whole toolchain in this one file.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const here = __dirname;
const programs = {
  loadgen: { sources: ['loadgen.c', 'histogram.h'], flags: ['-pthread'] },
  'select-echo': { sources: ['select-echo.c'], flags: [] },
};
const cflags = ['-O2', '-Wall', '-Wextra', '-std=gnu11'];

/** bench/build/, or a directory under the system's temp dir when the package is read-only. */
function buildDir() {
  const dir = path.join(here, 'build');
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    return dir;
  } catch {
    const tmp = path.join(os.tmpdir(), `select-reactor-bench-${process.getuid?.() ?? 'user'}`);
    fs.mkdirSync(tmp, { recursive: true });
    return tmp;
  }
}

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/**
 * Builds what is out of date and returns {name: binary path}. Throws with the compiler's output
 * when a build fails, and when it prints a warning: these programs compile warning-free too.
 */
function build({ cc = process.env.CC || 'cc', log = () => {} } = {}) {
  const dir = buildDir();
  const out = {};
  for (const [name, { sources, flags }] of Object.entries(programs)) {
    const binary = path.join(dir, name);
    const inputs = sources.map((s) => path.join(here, s));
    out[name] = binary;
    if (Math.max(...inputs.map(mtime), mtime(__filename)) < mtime(binary)) continue;
    log(`building ${path.relative(process.cwd(), binary) || binary}`);
    const args = [...cflags, ...flags, '-o', binary, inputs[0]];
    const r = spawnSync(cc, args, { encoding: 'utf8' });
    if (r.error) throw new Error(`bench: cannot run the C compiler '${cc}' (${r.error.message}); set CC or install one`);
    const output = `${r.stdout}${r.stderr}`;
    if (r.status !== 0 || /\bwarning:/.test(output)) {
      fs.rmSync(binary, { force: true });
      throw new Error(`bench: ${cc} ${args.join(' ')}\n${output}`);
    }
  }
  return out;
}

module.exports = { build, cflags };
