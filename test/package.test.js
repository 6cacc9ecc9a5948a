'use strict';
// The package as users get it: `npm pack`, install the tarball into an empty directory (which
// builds the addon there), and use it from there with require, import and the bin.
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { root } = require('./helpers/sockets');

describe('package', function () {
  this.timeout(240000);
  let dir;

  before(function () {
    if (process.env.SR_SKIP_PACK === '1') this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-pack-'));
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    this.files = packed[0].files.map((f) => f.path);
    const tarball = path.join(dir, packed[0].filename);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: dir, stdio: 'ignore' });
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ships sources, compiled JS and types, and nothing else', function () {
    const files = this.test.parent.ctx.files ?? [];
    for (const f of ['binding.gyp', 'native/addon.cc', 'lib/index.js', 'lib/index.d.ts', 'lib/cli.js', 'README.md', 'package.json']) {
      assert.ok(files.includes(f), `${f} is packed`);
    }
    assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('build/') || f.startsWith('src/')), files.join(' '));
  });

  it('works from an installed tarball: require, import and the bin', () => {
    const run = (args) => spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout: 20000 });
    let r = run(['-e', `const sr = require('select-reactor'); const [a, b] = sr.socketpair(); a.send('cjs'); console.log(b.recv(3).toString()); a.close(); b.close();`]);
    assert.equal(r.stdout.trim(), 'cjs', r.stderr);
    r = run(['--input-type=module', '-e', `import { socket, AF_INET } from 'select-reactor'; const s = socket(AF_INET); console.log(s.family === AF_INET); s.close();`]);
    assert.equal(r.stdout.trim(), 'true', r.stderr);
    r = run([path.join(dir, 'node_modules/.bin/select-reactor'), '--help']);
    assert.match(r.stdout, /echo-server/, r.stderr);
    assert.ok(fs.existsSync(path.join(dir, 'node_modules/select-reactor/build/Release/select_reactor.node')));
  });

  it('types resolve for TypeScript users', () => {
    fs.writeFileSync(path.join(dir, 'use.ts'), [
      "import { socket, select, type Socket, SocketError } from 'select-reactor';",
      'const s: Socket = socket();',
      'const [r]: Socket[][] = select([s], [], [], 0);',
      'const e: SocketError | null = null;',
      'console.log(r.length, e);',
      's.close();',
    ].join('\n'));
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'node16', '--types', 'node', '--typeRoots', path.join(root, 'node_modules/@types'), 'use.ts'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
