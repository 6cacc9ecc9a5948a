#!/usr/bin/env node
'use strict';
// Rebuilds the addon and fails if the compiler printed a single warning: the build runs with
// -Wall -Wextra (binding.gyp), and the count is kept at zero.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const gyp = require.resolve('node-gyp/bin/node-gyp.js');
const r = spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: path.resolve(__dirname, '..'), encoding: 'utf8' });
const output = `${r.stdout}\n${r.stderr}`;
const warnings = output.split('\n').filter((line) => /\bwarning:/.test(line));
if (r.status !== 0) {
  process.stderr.write(output);
  process.exit(r.status ?? 1);
}
if (warnings.length > 0) {
  process.stderr.write(`${warnings.length} compiler warning(s):\n${warnings.join('\n')}\n`);
  process.exit(1);
}
console.log('native build: 0 warnings');
