'use strict';
// The layers of src/ (docs/architecture.md): the programs and the CLI use the library only through
// its public API (index.ts), and the library never imports a program.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const src = path.resolve(__dirname, '../src');

/** Every .ts file under `dir`, as paths relative to src/. */
function sources(dir = src) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [path.relative(src, full)] : [];
  });
}

/** The files of src/ that `file` imports (relative imports only), as paths relative to src/. */
function importsOf(file) {
  const text = fs.readFileSync(path.join(src, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]);
  return specifiers.map((s) => `${path.normalize(path.join(path.dirname(file), s))}.ts`);
}

const isProgram = (file) => file.startsWith(`programs${path.sep}`) || file === 'cli.ts' || file === 'bench.ts';

describe('layers', () => {
  const files = sources();

  it('finds the library, the programs and the CLI', () => {
    for (const f of ['index.ts', 'socket.ts', 'select.ts', 'selectors.ts', 'wait.ts', 'cli.ts', path.join('programs', 'echo-server', 'main.ts')]) {
      assert.ok(files.includes(f), f);
    }
  });

  it('programs and the CLI reach the library only through index.ts', () => {
    const wrong = files.filter(isProgram).flatMap((file) =>
      importsOf(file).filter((target) => !isProgram(target) && target !== 'index.ts').map((target) => `${file} -> ${target}`));
    assert.deepEqual(wrong, []);
  });

  it('the library never imports a program or the CLI', () => {
    const wrong = files.filter((file) => !isProgram(file)).flatMap((file) =>
      importsOf(file).filter(isProgram).map((target) => `${file} -> ${target}`));
    assert.deepEqual(wrong, []);
  });
});
