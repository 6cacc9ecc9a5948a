/**
 * `select-reactor echo-server`: reads the options and starts the loop they name. Without
 * --selector or --workers it is the classic select() loop (select-loop.ts); --selector runs the
 * selectors loop (selectors-loop.ts) on the backend named; --workers runs N processes of either
 * on one port (workers.ts); --ui adds the live view to either loop (live-view/).
 *
 *   select-reactor echo-server [--host localhost] [--port 10000] [--quiet] [--trace] [--ui PORT]
 *                              [--max-queue BYTES] [--selector select|poll|epoll] [--workers N]
 */
import { FD_SETSIZE } from '../../index';
import { raiseOpenFileLimit } from '../support/limits';
import { parseOptions, portOption, UsageError } from '../support/options';
import { writeAll } from '../support/say';
import { DEFAULT_MAX_QUEUE, type ServeOptions } from './departures';
import { LiveView } from './live-view/view';
import { serve as serveSelect } from './select-loop';
import { isBackend, serve as serveSelectors, type Backend } from './selectors-loop';
import { runWorkers, workerCount } from './workers';

function byteCount(text: string | boolean | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (typeof text !== 'string' || !/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new UsageError(`--max-queue must be a number of bytes (an integer >= 0), got ${String(text)}`);
  }
  return n;
}

/** `--selector`'s value, checked. */
function backendOf(name: string): Backend {
  if (!isBackend(name)) throw new UsageError(`--selector must be select, poll or epoll, got ${name}`);
  if (name === 'epoll' && process.platform !== 'linux') throw new UsageError('--selector epoll needs Linux; use poll here');
  return name;
}

export async function main(argv: string[]): Promise<number> {
  const { host, port, values } = parseOptions(argv, {
    quiet: { type: 'boolean' },
    trace: { type: 'boolean' },
    ui: { type: 'string' },
    selector: { type: 'string' },
    workers: { type: 'string' },
    'reuse-port': { type: 'boolean' }, // given to the processes of --workers
    'max-queue': { type: 'string' },
  });
  const options: ServeOptions = {
    quiet: values.quiet === true,
    trace: values.trace === true,
    maxQueue: byteCount(values['max-queue'], DEFAULT_MAX_QUEUE),
    reusePort: values['reuse-port'] === true,
  };
  const backend = values.selector === undefined ? null : backendOf(String(values.selector));
  if (values.ui !== undefined && values.workers !== undefined) {
    throw new UsageError('--ui shows the loop of one process: not with --workers');
  }
  if (values.workers !== undefined) return runWorkers(argv, host, port, workerCount(String(values.workers)));

  // A descriptor per client: as many as the hard limit allows (select() cannot use more than FD_SETSIZE).
  const limited = raiseOpenFileLimit(backend === null || backend === 'select' ? FD_SETSIZE : 10240);
  if (limited !== null) writeAll(2, `echo-server: ${limited}\n`);
  // The view listens before the echo server does, so that a taken --ui port is an error first.
  const view = values.ui === undefined ? null : new LiveView(host, portOption('--ui', values.ui));
  try {
    if (backend !== null) return serveSelectors(host, port, { ...options, backend, view });
    return serveSelect(host, port, { ...options, view });
  } finally {
    view?.close();
  }
}
