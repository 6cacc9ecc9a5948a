/**
 * The classic select() echo server, block for block from docs/python/select_echo_server.py:
 * one non-blocking listener, `inputs` and `outputs`, `select(inputs, outputs, inputs)`, and an
 * outbound queue per client (the socket's native `outbox`). `// py:` names the Python a block
 * mirrors; `// departs from Python:` marks where this one is deliberately different.
 *
 *   select-reactor echo-server [--host localhost] [--port 10000] [--quiet] [--trace] [--ui PORT]
 *                              [--max-queue BYTES] [--selector select|poll|epoll] [--workers N]
 *
 * `--selector` runs the same loop on the selectors module (selectors-loop.ts); `--workers`
 * runs N of them on one port with SO_REUSEPORT (workers.ts). Without them, this file's
 * select() loop, as the classic has it, is the server.
 */
import { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, FD_SETSIZE } from '../../constants';
import { BlockingIOError, InterruptedError, SocketError } from '../../errors';
import { select } from '../../select';
import { socket, interrupt_on, type Address, type Socket } from '../../socket';
import { AcceptGuard } from '../support/accept-guard';
import { backendOf, serve as serveOnSelector } from './selectors-loop';
import { runWorkers, workerCount } from './workers';
import { raiseOpenFileLimit } from '../support/limits';
import { parseOptions, portOption, UsageError } from '../support/options';
import { sayer, writeAll } from '../support/say';
import { LiveView } from './live-view/view';
import { tracer } from './trace';

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

/** A client's outbox may hold this much before the server stops reading from it (--max-queue). */
export const defaultMaxQueue = 1 << 20;

/** Connections accepted per readable listener, at most: a bound, so that clients are still served. */
const acceptBurst = 64;

function byteCount(text: string | boolean | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (typeof text !== 'string' || !/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new UsageError(`--max-queue must be a number of bytes (an integer >= 0), got ${String(text)}`);
  }
  return n;
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
  const maxQueue = byteCount(values['max-queue'], defaultMaxQueue);
  const lowWater = Math.floor(maxQueue / 2);
  const backend = values.selector === undefined ? null : backendOf(String(values.selector));
  if (values.ui !== undefined && (backend !== null || values.workers !== undefined)) {
    throw new UsageError('--ui shows the select() loop of one process: not with --selector or --workers');
  }
  if (values.workers !== undefined) return runWorkers(argv, host, port, workerCount(String(values.workers)));
  // A descriptor per client: as many as the hard limit allows (select() cannot use more than FD_SETSIZE).
  const limited = raiseOpenFileLimit(backend === null || backend === 'select' ? FD_SETSIZE : 10240);
  if (limited !== null) writeAll(2, `echo-server: ${limited}\n`);
  if (backend !== null) {
    const options = { backend, quiet: values.quiet === true, trace: values.trace === true, maxQueue };
    return serveOnSelector(host, port, { ...options, reusePort: values['reuse-port'] === true });
  }
  const ui = values.ui === undefined ? null : new LiveView(host, portOption('--ui', values.ui));
  const say = sayer(2, values.quiet === true, ui?.log);
  // Conditions an operator must hear about (refused connections) are said even with --quiet.
  const warn = sayer(2, false, ui?.log);

  // py: server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
  const server = socket(AF_INET, SOCK_STREAM);
  // py: server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
  server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  if (values['reuse-port'] === true && SO_REUSEPORT !== undefined) server.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
  // py: server.setblocking(False)
  server.setblocking(false);
  // py: server.bind(("localhost", port))
  try {
    server.bind([host, port]);
  } catch (err) {
    server.close();
    ui?.close();
    if (!(err instanceof SocketError)) throw err;
    const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.message;
    writeAll(2, `echo-server: cannot listen on ${host} port ${port}: ${why}\n`);
    return 1;
  }
  // py: server.listen(128)  -- the classic listen(5) stalls a burst of connects
  server.listen(128);
  // departs from Python: SIGINT and SIGTERM end the blocking select() with InterruptedError
  // (Python's KeyboardInterrupt), and the server closes every socket and exits 0. Taken over
  // before "starting up" is said: whoever reads that line may signal at once.
  interrupt_on('SIGINT', 'SIGTERM');
  // py: say("starting up on localhost port", port)
  // departs from Python: said once listening, so that it means "ready", shows the port the
  // kernel picked for --port 0, and is said even with --quiet: scripts need to know where to connect.
  sayer(2)('starting up on %s port %s', host, server.getsockname()[1]);

  const inputs: Socket[] = [server]; // py: inputs = [server]  (sockets we expect to read from)
  const outputs: Socket[] = []; // py: outputs = []  (sockets we expect to write to)
  const peers = new Map<Socket, Address>(); // py: peers = {}  (getpeername() fails once the peer is gone)
  const paused = new Set<Socket>(); // clients not read from while their outbox is too full
  let closed = 0; // clients closed since the loop last let Node's event loop run
  const guard = new AcceptGuard(server, warn); // EMFILE/ENFILE on accept(): see support/accept-guard.ts
  const trace = values.trace === true ? tracer(server, peers) : null;
  // --ui: the live view's sockets ride along in this loop's select() (live-view/view.ts).
  ui?.watch(server, peers);
  if (ui) sayer(2)('live view on http://%s:%s/', host, ui.port);

  // py: def drop(s): forget a client everywhere and close it
  function drop(s: Socket): void {
    remove(inputs, s);
    remove(outputs, s);
    peers.delete(s);
    paused.delete(s);
    s.close(); // the outbox (message_queues[s]) goes with the socket
    closed++;
  }

  // departs from Python: backpressure. A client that sends and never reads would make its queue,
  // and our memory, grow without bound. So, checked after every put() and every flush():
  //   - above the high-water mark (--max-queue) we stop reading from it: it leaves `inputs`, its
  //     bytes wait in the kernel's buffers, and its own send() blocks, which is the point;
  //   - once its outbox has drained to the low-water mark (half the high one) it is read again.
  // A client that half-closed has left `inputs` for good and is never in `paused`, so it is never
  // put back. A paused client always has bytes queued, so it stays in `outputs` (a reset is seen
  // there), and it is back in `inputs` before its outbox can be empty: the close-on-empty rule
  // below never closes a client just because it was paused.
  function backpressure(s: Socket): void {
    const pending = s.outbox.pending;
    if (!paused.has(s) && pending > maxQueue && inputs.includes(s)) {
      remove(inputs, s);
      paused.add(s);
      say('not reading from %s: %s bytes queued', peers.get(s), pending);
    } else if (paused.has(s) && pending <= lowWater) {
      paused.delete(s);
      inputs.push(s);
      say('reading from %s again: %s bytes queued', peers.get(s), pending);
    }
  }

  try {
    // py: while inputs:
    // departs from Python: the listener may be out of `inputs` for a moment (out of descriptors).
    while (inputs.length > 0 || guard.paused) {
      guard.resume(inputs);
      // departs from Python: now and then, one turn of Node's event loop. N-API frees the native
      // half of a garbage-collected socket only from there (finalizers are deferred to it), and
      // this loop never returns to it otherwise: every connection would cost ~300 bytes till exit.
      if (closed >= 256) {
        closed = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
      say('waiting for the next event');
      // py: readable, writable, exceptional = select.select(inputs, outputs, inputs)
      // departs from Python: a timeout only while the listener is paused; null (block) otherwise.
      const [readable, writable, exceptional] = (ui?.select ?? select)(inputs, outputs, inputs, guard.timeout());
      trace?.(inputs, outputs, readable, writable, exceptional);

      // py: for s in readable:
      for (const s of readable) {
        if (s === server) {
          // departs from Python: accept every connection waiting (up to acceptBurst), not one per
          // select(). One per turn of a busy loop cannot keep up with clients that reconnect all
          // the time: the listen queue overflows and the kernel starts refusing and resetting them.
          for (let n = 0; n < acceptBurst; n++) {
            // py: connection, client_address = s.accept()
            let connection: Socket, client_address: Address;
            try {
              [connection, client_address] = s.accept();
            } catch (err) {
              if (err instanceof BlockingIOError) break; // nobody else is waiting
              // departs from Python: out of descriptors (EMFILE/ENFILE), the waiting connections
              // are closed (or the listener paused) instead of spinning or dying.
              if (guard.exhausted(err, inputs)) break;
              // departs from Python: a client that connected and reset before accept() costs
              // that one connection, never the server.
              if (err instanceof SocketError) continue;
              throw err;
            }
            guard.accepted();
            say('new connection from %s', client_address);
            // departs from Python: select() cannot watch a descriptor >= FD_SETSIZE; refuse it.
            if (connection.fileno() >= FD_SETSIZE) {
              warn('closing %s: descriptor %s is past FD_SETSIZE', client_address, connection.fileno());
              connection.close();
              continue;
            }
            // py: connection.setblocking(False)
            connection.setblocking(false);
            // py: inputs.append(connection)
            inputs.push(connection);
            // py: message_queues[connection] = queue.Queue()  -- the outbox comes with the socket
            peers.set(connection, client_address);
          }
        } else {
          // py: data = s.recv(65536)
          let data: Buffer;
          try {
            data = s.recv(65536);
          } catch (err) {
            // py: except ConnectionResetError: -- on Linux a reset shows up as readable
            if (!(err instanceof SocketError)) throw err;
            say('closing %s after a reset', peers.get(s));
            drop(s);
            continue;
          }
          if (data.length > 0) {
            say('received "%r" from %s', data, peers.get(s));
            // py: message_queues[s].put(data)
            s.outbox.put(data);
            // py: if s not in outputs: outputs.append(s)
            if (!outputs.includes(s)) outputs.push(s);
            backpressure(s);
          } else {
            // py: inputs.remove(s)  -- the peer is done sending
            remove(inputs, s);
            // departs from the classic loop (as the reference does): whatever is still queued is
            // delivered first, and the socket closes once its outbox is empty.
            if (s.outbox.empty()) {
              say('closing %s after reading no data', peers.get(s));
              drop(s);
            } else {
              say('%s is done sending: %s bytes still queued for it', peers.get(s), s.outbox.pending);
            }
          }
        }
      }

      // py: for s in writable:
      for (const s of writable) {
        if (!peers.has(s)) continue; // py: closed while handling readable
        // py: next_msg = message_queues[s].get_nowait(); sent = s.send(next_msg)
        // departs from Python: one flush() writes all that is queued, in one gather write, and
        // keeps in order whatever the kernel did not take (the reference re-queues by hand).
        say('sending "%r" to %s', s.outbox, peers.get(s)); // the outbox is only peeked at when printed
        try {
          s.outbox.flush();
        } catch (err) {
          // py: except (BrokenPipeError, ConnectionResetError):
          if (!(err instanceof SocketError)) throw err;
          say('closing %s after a failed send', peers.get(s));
          drop(s);
          continue;
        }
        backpressure(s);
        // departs from Python: a socket sits in outputs only while its outbox holds bytes.
        // Writable is almost always true, so an idle socket left in outputs makes select()
        // return at once, and the loop spins.
        if (s.outbox.empty()) {
          // py: except queue.Empty: say("output queue for", peers[s], "is empty"); outputs.remove(s)
          say('output queue for %s is empty', peers.get(s));
          remove(outputs, s);
          // py: if s not in inputs: -- half-closed by the peer and fully answered: done
          if (!inputs.includes(s)) {
            say('closing %s after reading no data', peers.get(s));
            drop(s);
          }
        }
      }

      // py: for s in exceptional:
      for (const s of exceptional) {
        if (!peers.has(s)) continue;
        say('handling exceptional condition for %s', peers.get(s));
        drop(s);
      }
    }
  } catch (err) {
    if (!(err instanceof InterruptedError)) throw err;
    say('%s: closing the listener and %s clients', err.signal, peers.size);
  } finally {
    guard.close();
    server.close();
    for (const s of peers.keys()) s.close();
    ui?.close();
  }
  return 0;
}
