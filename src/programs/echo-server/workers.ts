/**
 * `echo-server --workers N`: N processes, each running the same echo loop on its own listener
 * bound to the same port with SO_REUSEPORT, so that the kernel spreads new connections across
 * them (Linux hashes each connection to one listener). This parent serves nobody: it is an
 * ordinary async Node process that starts the workers, forwards SIGINT and SIGTERM to them, and
 * exits 0 once they all have.
 *
 *   select-reactor echo-server --workers 2 [--selector epoll] [--port 10000] [--quiet] ...
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

import { SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, socket } from '../../index';
import { UsageError } from '../support/options';
import { writeAll } from '../support/say';
import { bindOrSay } from './departures';

/** `--workers`' value, checked. */
export function workerCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`--workers must be an integer in [1, 256], got ${value}`);
  if (SO_REUSEPORT === undefined) throw new UsageError('--workers needs SO_REUSEPORT, which this platform lacks');
  return n;
}

/** `argv` without `--workers N` (or `--workers=N`) and `--port P`: the workers get their own. */
function workerArgs(argv: string[]): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--workers' || arg === '--port') i++;
    else if (!arg.startsWith('--workers=') && !arg.startsWith('--port=')) args.push(arg);
  }
  return args;
}

/**
 * Starts `n` workers on `host`:`port` and resolves with the exit code once they have all exited:
 * 0 when each exited 0 (as they do on SIGINT/SIGTERM), 1 otherwise.
 */
export async function runWorkers(argv: string[], host: string, port: number, n: number): Promise<number> {
  // The port is settled here, once: with --port 0 each worker would otherwise get a port of its
  // own. This socket holds it (bound with SO_REUSEPORT, never listening, so the kernel hands it
  // no connection) until every worker listens on it, and says "in use" the way the server does.
  const claim = socket();
  claim.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  claim.setsockopt(SOL_SOCKET, SO_REUSEPORT as number, 1);
  if (!bindOrSay(claim, host, port)) {
    claim.close();
    return 1;
  }
  const chosen = (claim.getsockname() as [string, number])[1];

  const cli = process.argv[1];
  const args = [cli, 'echo-server', ...workerArgs(argv), '--port', String(chosen), '--reuse-port'];
  const workers: ChildProcess[] = [];
  let ready = 0;
  let stopping = false;
  let forwarded: NodeJS.Signals | null = null;
  let failed = false;

  const stop = (signal: NodeJS.Signals): void => {
    stopping = true;
    forwarded = signal;
    for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill(signal);
  };
  const onSignal = (signal: NodeJS.Signals): void => stop(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const exits = Array.from({ length: n }, (_, i) => {
    const worker = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    workers.push(worker);
    const label = `[worker ${i + 1}]`;
    // Each worker's lines, labelled; its "starting up" line is the parent's to say, once.
    createInterface({ input: worker.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      if (/^starting up on /.test(line)) {
        if (++ready === n) {
          claim.close();
          writeAll(2, `starting up on ${host} port ${chosen} (${n} workers)\n`);
        }
        return;
      }
      writeAll(2, `${label} ${line}\n`);
    });
    return new Promise<void>((resolve) => {
      worker.on('error', (err) => {
        writeAll(2, `${label} could not start: ${err.message}\n`);
        failed = true;
        resolve();
      });
      worker.on('exit', (code, signal) => {
        // A worker ended by the signal passed on to it (before it could take the signal over)
        // stopped as asked; any other end but 0 is a failure.
        if (code !== 0 && !(stopping && signal === forwarded)) {
          failed = true;
          writeAll(2, `${label} exited with ${code ?? signal}\n`);
        }
        // One worker gone unasked (a crash, a port it could not bind): stop the others too.
        if (!stopping) stop('SIGTERM');
        resolve();
      });
    });
  });

  await Promise.all(exits);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  claim.close();
  return failed ? 1 : 0;
}
