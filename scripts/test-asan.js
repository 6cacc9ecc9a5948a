#!/usr/bin/env node
'use strict';
// npm run test:asan: the whole mocha suite (property tests included) against the addon built with
// AddressSanitizer and UndefinedBehaviorSanitizer. The instrumented build is made in a copy of the
// package under the system's temp directory, so the normal build in build/ is never touched, and
// the copy is removed afterwards. Any sanitizer report, from mocha's process or from any program
// a test spawned, fails the run: reports go to files, which are counted at the end.
//
//   npm run test:asan [-- mocha options]     e.g. npm run test:asan -- -g outbox
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'select-reactor-asan-'));
const reports = fs.mkdtempSync(path.join(os.tmpdir(), 'select-reactor-asan-reports-'));

function step(text) {
  process.stdout.write(`== test:asan: ${text}\n`);
}

function runtime(name) {
  // The sanitizers' runtimes as the compiler that builds the addon has them: node itself is not
  // instrumented, so ASan's runtime must be loaded first (LD_PRELOAD) to own malloc and free.
  const file = execFileSync(process.env.CXX || 'g++', [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
  if (!path.isAbsolute(file) || !fs.existsSync(file)) {
    throw new Error(`${name} not found (is the compiler's sanitizer runtime installed? apt-get install libasan8)`);
  }
  return file;
}

let status;
try {
  // The copy: the checkout as it is, compiled TypeScript included, without the normal build, git's
  // data or node_modules, which is linked instead (bindings finds the addon from lib/, so the copy
  // loads its own build).
  const skip = new Set(['node_modules', 'build', '.git'].map((name) => path.join(root, name)));
  const copied = (src) => {
    if (skip.has(src)) return false;
    const stat = fs.lstatSync(src);
    return stat.isFile() || stat.isDirectory() || stat.isSymbolicLink(); // not a test's stray AF_UNIX socket
  };
  fs.cpSync(root, work, { recursive: true, filter: copied });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'), 'dir');

  step(`building the addon with -fsanitize=address,undefined and SR_CHECKS in ${work}`);
  const flags = [
    '-fsanitize=address,undefined',
    // The addon's own invariants too (SR_ASSERT, native/checks.h): a broken one aborts the run.
    '-DSR_CHECKS',
    // Every finding stops the process: UBSan would otherwise print and carry on.
    '-fno-sanitize-recover=all',
    '-fno-omit-frame-pointer',
    '-g',
  ].join(' ');
  const gyp = require.resolve('node-gyp/bin/node-gyp.js');
  const build = spawnSync(process.execPath, [gyp, 'rebuild'], {
    cwd: work,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CFLAGS: flags, CXXFLAGS: flags, LDFLAGS: '-fsanitize=address,undefined' },
  });
  if (build.status !== 0) throw new Error(`the sanitizer build failed (${build.status})`);

  const env = {
    ...process.env,
    LD_PRELOAD: runtime('libasan.so'),
    // detect_leaks=0: LeakSanitizer would report what node and V8 deliberately never free at exit
    // (isolate, heap, static tables), and its suppressions match any frame of a stack, so a rule
    // broad enough for node's frames would hide the addon's leaks too. Leaks are checked with
    // valgrind instead (see the issue notes). Everything else ASan finds is fatal. LD_PRELOAD
    // reaches every program the tests spawn (make and g++ in the package test, python3, bash), so
    // the options stay ones that hold for any correct C program: no strict_string_checks, which
    // flags make's own strndup() calls.
    ASAN_OPTIONS: [
      'detect_leaks=0',
      'abort_on_error=1',
      'detect_stack_use_after_return=1',
      'check_initialization_order=1',
      `log_path=${path.join(reports, 'asan')}`,
    ].join(':'),
    UBSAN_OPTIONS: ['halt_on_error=1', 'print_stacktrace=1', `log_path=${path.join(reports, 'ubsan')}`].join(':'),
    // Tests whose figures mean nothing under ASan (RSS, latency) check only what still does.
    SR_SANITIZED: '1',
  };
  step('running the mocha suite under the sanitizers');
  // Not the browser test: LD_PRELOAD would put ASan's runtime into chromium, which is no code of
  // ours (the live view's server side is covered by live-view.test.js, under the sanitizers too).
  // (The package test, npm run test:package, is not in the suite: the tarball it installs loads
  // its own prebuilt addon, never this build.)
  const ignore = ['--ignore', 'test/browser.test.js'];
  const mocha = spawnSync(process.execPath, [require.resolve('mocha/bin/mocha.js'), ...ignore, ...process.argv.slice(2)], {
    cwd: work,
    stdio: 'inherit',
    env,
  });
  status = mocha.status ?? 1;

  const found = fs.readdirSync(reports);
  for (const file of found) {
    process.stderr.write(`\n== sanitizer report ${file}:\n${fs.readFileSync(path.join(reports, file), 'utf8')}\n`);
  }
  if (found.length > 0) {
    step(`FAILED: ${found.length} sanitizer report(s)`);
    status = 1;
  } else if (status === 0) {
    step('clean: no sanitizer reports, every test passed');
  } else {
    step(`FAILED: mocha exited ${status}`);
  }
} catch (err) {
  process.stderr.write(`test:asan: ${err.message}\n`);
  status = 1;
} finally {
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(reports, { recursive: true, force: true });
}
process.exit(status);
