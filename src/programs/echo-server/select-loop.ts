/**
 * The classic select() echo server, block for block from docs/python/select_echo_server.py:
 * one non-blocking listener, `inputs` and `outputs`, `select(inputs, outputs, inputs)`, and an
 * outbound queue per client (the socket's native `outbox`). `// py:` names the Python a block
 * mirrors; `// departs from Python:` marks where this one is deliberately different, the helpers
 * it calls there written once for both loops in departures.ts.
 */
import {
  AF_INET,
  FD_SETSIZE,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SocketError,
  interrupt_on,
  select,
  socket,
  type Address,
  type Socket,
} from '../../index';
import { AcceptGuard } from '../support/accept-guard';
import { loopSayer, sayer } from '../support/say';
import {
  acceptWaiting,
  Backpressure,
  bindOrSay,
  endedBySignal,
  refuse,
  sayListening,
  type ServeOptions,
} from './departures';
import type { LiveView } from './live-view/view';
import { tracer } from './trace';

export interface SelectLoopOptions extends ServeOptions {
  /** --ui: the live view, which waits in this loop's place (see `wait` below), or null. */
  view: LiveView | null;
}

/** Serves until SIGINT or SIGTERM (0), or says why it cannot listen (1). */
export function serve(host: string, port: number, options: SelectLoopOptions): number {
  const { view } = options;
  // Undefined under --quiet: `say?.(...)` then skips its arguments too (see loopSayer).
  const say = loopSayer(2, options.quiet, view?.log);
  // Conditions an operator must hear about (refused connections) are said even with --quiet.
  const warn = sayer(2, false, view?.log);

  // py: server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
  const server = socket(AF_INET, SOCK_STREAM);
  // py: server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
  server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  if (options.reusePort && SO_REUSEPORT !== undefined) server.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
  // py: server.setblocking(False)
  server.setblocking(false);
  // py: server.bind(("localhost", port))
  if (!bindOrSay(server, host, port)) {
    server.close();
    return 1;
  }
  // py: server.listen(128)  -- the classic listen(5) stalls a burst of connects
  server.listen(128);
  // departs from Python: SIGINT and SIGTERM end the loop, which closes everything (endedBySignal).
  interrupt_on('SIGINT', 'SIGTERM');
  // py: say("starting up on localhost port", port)  -- departs from Python: once listening
  sayListening(host, server);

  // py: inputs = [server]  (sockets we expect to read from)
  // py: outputs = []  (sockets we expect to write to)
  // departs from Python: Sets, not lists. Both are asked `s in inputs` and told `remove(s)` for
  // every message; a list answers by scanning, which at 1,000 clients was most of the loop's time.
  // A Set keeps the order things were added in, as the lists do, and select() takes either.
  const inputs = new Set<Socket>([server]);
  const outputs = new Set<Socket>();
  const peers = new Map<Socket, Address>(); // py: peers = {}  (getpeername() fails once the peer is gone)
  const guard = new AcceptGuard(server, warn); // departs from Python: EMFILE/ENFILE on accept()
  const backpressure = new Backpressure(options.maxQueue, say, peers, (s) => inputs.has(s));
  const trace = options.trace ? tracer(server, peers) : null;
  // --ui: the live view's select() adds the view's own sockets to this loop's call, serves them,
  // and returns only this loop's; the view shows what went in and what came back.
  // It takes arrays: copies, made only under --ui.
  const wait = view
    ? (r: Set<Socket>, w: Set<Socket>, x: Set<Socket>, t: number | null) => view.select([...r], [...w], [...x], t)
    : select;
  if (view) {
    view.watch(server, peers, options.maxQueue);
    sayer(2)('live view on http://%s:%s/', host, view.port);
  }

  // py: def drop(s): forget a client everywhere and close it
  function drop(s: Socket): void {
    inputs.delete(s);
    outputs.delete(s);
    peers.delete(s);
    backpressure.forget(s);
    s.close(); // the outbox (message_queues[s]) goes with the socket
  }

  // departs from Python: after every put() and flush(), a client whose outbox is too full is
  // no longer read (out of `inputs`), and one that has drained is read again.
  function checkBackpressure(s: Socket): void {
    const change = backpressure.check(s);
    if (change === 'pause') inputs.delete(s);
    else if (change === 'resume') inputs.add(s);
  }

  try {
    // py: while inputs:
    // departs from Python: the listener may be out of `inputs` for a moment (out of descriptors).
    while (inputs.size > 0 || guard.paused) {
      guard.resume(inputs);
      say?.('waiting for the next event');
      // py: readable, writable, exceptional = select.select(inputs, outputs, inputs)
      // departs from Python: a timeout only while the listener is paused; null (block) otherwise.
      const [readable, writable, exceptional] = wait(inputs, outputs, inputs, guard.timeout());
      trace?.([...inputs], [...outputs], readable, writable, exceptional);

      // py: for s in readable:
      for (const s of readable) {
        if (s === server) {
          // py: connection, client_address = s.accept()
          // departs from Python: every connection waiting, not one per select().
          for (const [connection, client_address] of acceptWaiting(server, guard, inputs)) {
            say?.('new connection from %s', client_address);
            // departs from Python: select() cannot watch a descriptor >= FD_SETSIZE; refuse it.
            if (connection.fileno() >= FD_SETSIZE) {
              refuse(connection, client_address, warn);
              continue;
            }
            // py: connection.setblocking(False)
            connection.setblocking(false);
            // py: inputs.append(connection)
            inputs.add(connection);
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
            say?.('closing %s after a reset', peers.get(s));
            drop(s);
            continue;
          }
          if (data.length > 0) {
            say?.('received "%r" from %s', data, peers.get(s));
            // py: message_queues[s].put(data)
            s.outbox.put(data);
            // py: if s not in outputs: outputs.append(s)
            outputs.add(s);
            checkBackpressure(s);
          } else {
            // py: inputs.remove(s)  -- the peer is done sending
            inputs.delete(s);
            // departs from the classic loop (as the reference does): whatever is still queued is
            // delivered first, and the socket closes once its outbox is empty.
            if (s.outbox.empty()) {
              say?.('closing %s after reading no data', peers.get(s));
              drop(s);
            } else {
              say?.('%s is done sending: %s bytes still queued for it', peers.get(s), s.outbox.pending);
            }
          }
        }
      }

      // py: for s in writable:
      for (const s of writable) {
        if (!peers.has(s)) continue; // py: closed while handling readable
        // py: next_msg = message_queues[s].get_nowait(); sent = s.send(next_msg)
        // departs from Python: one flush() writes all that is queued, in one write (send or sendmsg), and
        // keeps in order whatever the kernel did not take (the reference re-queues by hand).
        say?.('sending "%r" to %s', s.outbox, peers.get(s)); // the outbox is only peeked at when printed
        try {
          s.outbox.flush();
        } catch (err) {
          // py: except (BrokenPipeError, ConnectionResetError):
          if (!(err instanceof SocketError)) throw err;
          say?.('closing %s after a failed send', peers.get(s));
          drop(s);
          continue;
        }
        checkBackpressure(s);
        // departs from Python: a socket sits in outputs only while its outbox holds bytes.
        // Writable is almost always true, so an idle socket left in outputs makes select()
        // return at once, and the loop spins.
        if (s.outbox.empty()) {
          // py: except queue.Empty: say("output queue for", peers[s], "is empty"); outputs.remove(s)
          say?.('output queue for %s is empty', peers.get(s));
          outputs.delete(s);
          // py: if s not in inputs: -- half-closed by the peer and fully answered: done
          if (!inputs.has(s)) {
            say?.('closing %s after reading no data', peers.get(s));
            drop(s);
          }
        }
      }

      // py: for s in exceptional:
      for (const s of exceptional) {
        if (!peers.has(s)) continue;
        say?.('handling exceptional condition for %s', peers.get(s));
        drop(s);
      }
    }
  } catch (err) {
    endedBySignal(err, say, peers.size);
  } finally {
    guard.close();
    server.close();
    for (const s of peers.keys()) s.close();
  }
  return 0;
}
