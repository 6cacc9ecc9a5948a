/**
 * `select-reactor bench [--quick] [options]`: the benchmark against Node's net. The harness is
 * bench/run.js, plain JavaScript beside the C programs it compiles; it runs here as a child
 * process with the same arguments, its output passed through, and its exit status returned.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

import { writeAll } from './programs/support/say';

export function main(argv: string[]): number {
  const harness = path.resolve(__dirname, '..', 'bench', 'run.js');
  if (!existsSync(harness)) {
    writeAll(2, `select-reactor bench: ${harness} is missing from this install\n`);
    return 1;
  }
  const r = spawnSync(process.execPath, [harness, ...argv], { stdio: 'inherit' });
  if (r.error) throw r.error;
  return r.status ?? 1;
}
