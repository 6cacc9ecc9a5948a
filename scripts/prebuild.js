#!/usr/bin/env node
'use strict';
// Builds the prebuilt addons that ship inside the tarball, prebuilds/<platform>-<arch>/, for every
// target whose compiler this machine has, so that users install without one (node-gyp-build loads
// them). npm runs it before packing and removes prebuilds/ after (`--remove`), so a checkout never
// loads a prebuild older than its sources. Each build runs prebuildify in a staging copy of the
// native sources, never in the checkout's build/, and is cached under node_modules/.cache keyed
// by a hash of those sources: packing again rebuilds nothing.
//
//   node scripts/prebuild.js            fill prebuilds/ (build what the cache lacks)
//   node scripts/prebuild.js --all      the same, failing if any target cannot be built here
//   node scripts/prebuild.js --remove   delete prebuilds/
const { createHash } = require('node:crypto');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'prebuilds');
const cache = path.join(root, 'node_modules', '.cache', 'select-reactor-prebuilds');
const { name } = require('../package.json');

// The targets prebuilt when their compiler is here: the host natively, the others with Debian's
// cross compilers (a GNU triplet's `<triplet>-g++`). musl and macOS need toolchains Debian does
// not package (a C++ standard library built for musl, Apple's SDK): README "Platforms" says so.
const TARGETS = [
  { platform: 'linux', arch: 'x64', triplet: 'x86_64-linux-gnu', libc: 'glibc' },
  { platform: 'linux', arch: 'arm64', triplet: 'aarch64-linux-gnu', libc: 'glibc' },
];
// ELF e_machine, to check that a cross build is for the machine it claims.
const ELF_MACHINE = { x64: 62, arm64: 183 };

function onPath(command) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// How a target gets built here, or why it cannot be.
function toolchain(target) {
  if (target.platform !== os.platform()) return { skip: `needs a ${target.platform} machine` };
  if (target.arch === os.arch()) return { env: {} };
  const cxx = `${target.triplet}-g++`;
  if (!onPath(cxx)) return { skip: `no ${cxx} (apt-get install g++-${target.triplet})` };
  return {
    env: { CC: `${target.triplet}-gcc`, CXX: cxx, LINK: cxx, AR: `${target.triplet}-ar` },
    strip: `${target.triplet}-strip`,
  };
}

function nativeSources() {
  const native = fs.readdirSync(path.join(root, 'native')).filter((f) => /\.(cc|h)$/.test(f)).sort();
  return ['binding.gyp', ...native.map((f) => path.join('native', f))];
}

// How a target is built: prebuildify's options, with the compilers toolchain() chose.
function prebuildifyArgs(target, tools) {
  const args = [
    '--napi',
    '--strip',
    '--tag-libc',
    `--target=node@${process.versions.node}`,
    `--platform=${target.platform}`,
    `--arch=${target.arch}`,
    `--libc=${target.libc}`,
  ];
  if (tools.strip) args.push(`--strip-bin=${tools.strip}`);
  return args;
}

// What a prebuild depends on: the sources, node-addon-api, node-gyp and how it is built.
function cacheKey(target, tools) {
  const hash = createHash('sha256');
  for (const file of nativeSources()) hash.update(`${file}\0`).update(fs.readFileSync(path.join(root, file)));
  const versions = ['node-addon-api', 'node-gyp', 'prebuildify'].map((dep) => require(`${dep}/package.json`).version);
  hash.update(JSON.stringify([versions, prebuildifyArgs(target, tools), tools.env]));
  return hash.digest('hex').slice(0, 16);
}

// node-gyp builds against the installed Node headers (npm's `nodedir`) rather than downloading
// them, which is also what keeps this offline; prebuildify's own default target would download.
function nodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function build(target, tools, dest) {
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-prebuild-`));
  try {
    for (const file of [...nativeSources(), 'package.json']) {
      fs.cpSync(path.join(root, file), path.join(stage, file));
    }
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
    const env = { ...process.env, ...tools.env, JOBS: String(os.availableParallelism()) };
    // A prebuild is a plain release build: no flags inherited from a sanitizer run. (libstdc++
    // stays shared: linked statically, it would ask for a newer glibc than the addon does.)
    for (const flags of ['CFLAGS', 'CXXFLAGS', 'CPPFLAGS', 'LDFLAGS']) delete env[flags];
    const dir = nodedir();
    if (dir) env.npm_config_nodedir = dir;
    const args = [
      require.resolve('prebuildify/bin.js'),
      ...prebuildifyArgs(target, tools),
      `--node-gyp=${require.resolve('node-gyp/bin/node-gyp.js')}`,
    ];
    const run = spawnSync(process.execPath, args, { cwd: stage, env, encoding: 'utf8' });
    if (run.status !== 0) {
      process.stderr.write(run.stdout + run.stderr);
      throw new Error(`prebuildify for ${target.platform}-${target.arch} exited ${run.status}`);
    }
    fs.cpSync(path.join(stage, 'prebuilds', `${target.platform}-${target.arch}`), dest, { recursive: true });
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

// A prebuild for this machine must load; one for another must at least be an ELF for its machine.
function check(target, file) {
  if (target.platform === os.platform() && target.arch === os.arch()) {
    execFileSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'inherit' });
    return;
  }
  const head = fs.readFileSync(file).subarray(0, 20);
  const machine = head.readUInt16LE(18);
  if (head.toString('latin1', 0, 4) !== '\x7fELF' || machine !== ELF_MACHINE[target.arch]) {
    throw new Error(`${file} is not an ELF for ${target.arch} (e_machine ${machine})`);
  }
}

function main() {
  fs.rmSync(out, { recursive: true, force: true });
  if (process.argv.includes('--remove')) return;
  for (const target of TARGETS) {
    const label = `${target.platform}-${target.arch}`;
    const tools = toolchain(target);
    if (tools.skip) {
      if (process.argv.includes('--all')) throw new Error(`prebuild ${label}: cannot be built here, ${tools.skip}`);
      process.stderr.write(`prebuild ${label}: not built, ${tools.skip}\n`);
      continue;
    }
    const cached = path.join(cache, `${label}-${cacheKey(target, tools)}`);
    const hit = fs.existsSync(cached);
    if (!hit) {
      process.stderr.write(`prebuild ${label}: building (prebuildify, node-gyp)\n`);
      fs.rmSync(`${cached}.tmp`, { recursive: true, force: true });
      build(target, tools, `${cached}.tmp`);
      fs.renameSync(`${cached}.tmp`, cached);
      // Only the newest build of each target is kept.
      for (const old of fs.readdirSync(cache)) {
        const file = path.join(cache, old);
        if (old.startsWith(`${label}-`) && file !== cached) fs.rmSync(file, { recursive: true, force: true });
      }
    }
    fs.cpSync(cached, path.join(out, label), { recursive: true });
    for (const file of fs.readdirSync(path.join(out, label))) {
      const full = path.join(out, label, file);
      check(target, full);
      const kb = Math.round(fs.statSync(full).size / 1024);
      process.stderr.write(`prebuild ${label}: prebuilds/${label}/${file} ${kb} KiB${hit ? ' (cached)' : ''}\n`);
    }
  }
  if (!fs.existsSync(path.join(out, `${os.platform()}-${os.arch()}`))) {
    throw new Error(`no prebuild for this machine (${os.platform()}-${os.arch()}): nothing to pack`);
  }
}

main();
