/**
 * The echo server on the selectors module: `echo-server --selector select|poll|epoll`. Block for
 * block from docs/python/selectors_echo_server.py, which is select_echo_server.py rewritten the
 * way the selectors documentation writes a server: each registered socket carries, as its key's
 * data, the function to call when it is ready, the loop only dispatches, and what is received
 * is sent back at once (libuv writes first too, and waits for writable only when the kernel
 * refuses). It prints the same lines and keeps the same guarantees as the select() loop in
 * select-loop.ts. `// py:` names the
 * Python a block mirrors; `// departs from Python:` marks where this one is deliberately different.
 *
 *   select-reactor echo-server --selector epoll [--host localhost] [--port 10000] [--quiet] [--trace]
 *                              [--max-queue BYTES]
 */
import { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT } from '../../constants';
import { BlockingIOError, InterruptedError, SocketError } from '../../errors';
import {
  EpollSelector,
  EVENT_READ,
  EVENT_WRITE,
  PollSelector,
  SelectSelector,
  type BaseSelector,
} from '../../selectors';
import { socket, interrupt_on, type Address, type Socket } from '../../socket';
import { AcceptGuard } from '../support/accept-guard';
import { UsageError } from '../support/options';
import { sayer, writeAll } from '../support/say';
import { tracer } from './trace';

/** Connections taken per readiness of the listener (Redis's acceptor takes up to 1,000). */
const MAX_ACCEPTS_PER_CALL = 64;

/** What each registered socket's key carries: the function to call when it is ready. */
type Callback = (s: Socket, mask: number) => void;

const backends = {
  select: SelectSelector<Callback>,
  poll: PollSelector<Callback>,
  epoll: EpollSelector<Callback>,
} as const;

export type Backend = keyof typeof backends;

/** `--selector`'s value, checked. */
export function backendOf(name: string): Backend {
  if (!Object.hasOwn(backends, name)) {
    throw new UsageError(`--selector must be select, poll or epoll, got ${name}`);
  }
  if (name === 'epoll' && process.platform !== 'linux') {
    throw new UsageError('--selector epoll needs Linux; use poll here');
  }
  return name as Backend;
}

export interface Options {
  backend: Backend;
  quiet: boolean;
  trace: boolean;
  /** The high-water mark of a client's outbox, in bytes (--max-queue): see backpressure(). */
  maxQueue: number;
  /** SO_REUSEPORT on the listener: set for the processes of --workers, which share one port. */
  reusePort: boolean;
}

export function serve(host: string, port: number, options: Options): number {
  const { backend, quiet, trace: traced, maxQueue, reusePort } = options;
  const lowWater = Math.floor(maxQueue / 2);
  const say = sayer(2, quiet);
  // Conditions an operator must hear about (refused connections) are said even with --quiet.
  const warn = sayer(2, false);

  // py: sel = selectors.DefaultSelector()  (or the backend --selector names)
  const sel: BaseSelector<Callback> = new backends[backend]();

  // py: server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
  const server = socket(AF_INET, SOCK_STREAM);
  // py: server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
  server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  if (reusePort && SO_REUSEPORT !== undefined) server.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
  // py: server.setblocking(False)
  server.setblocking(false);
  // py: server.bind(("localhost", port))
  try {
    server.bind([host, port]);
  } catch (err) {
    server.close();
    sel.close();
    if (!(err instanceof SocketError)) throw err;
    const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.message;
    writeAll(2, `echo-server: cannot listen on ${host} port ${port}: ${why}\n`);
    return 1;
  }
  // py: server.listen(128)
  server.listen(128);
  // departs from Python: SIGINT and SIGTERM end the blocking select() with InterruptedError
  // (Python's KeyboardInterrupt), and the server closes every socket and exits 0. Taken over
  // before "starting up" is said: whoever reads that line may signal at once.
  interrupt_on('SIGINT', 'SIGTERM');
  // departs from Python: said once listening (see select-loop.ts), even with --quiet.
  sayer(2)('starting up on %s port %s', host, server.getsockname()[1]);

  // py: message_queues = {}  -- each socket's outbox
  const peers = new Map<Socket, Address>(); // py: peers = {}
  const paused = new Set<Socket>(); // clients not read from while their outbox is too full
  const guard = new AcceptGuard(server, warn); // EMFILE/ENFILE on accept(): see support/accept-guard.ts
  // What the guard pauses, when it has no spare descriptor: the listener's registration.
  const listening = {
    unwatch: () => sel.unregister(server),
    watch: () => sel.register(server, EVENT_READ, accept),
  };
  const trace = traced ? tracer(server, peers) : null;

  // py: def drop(s): forget a client everywhere and close it
  function drop(s: Socket): void {
    sel.unregister(s);
    peers.delete(s);
    paused.delete(s);
    s.close(); // the outbox (message_queues[s]) goes with the socket
  }

  // py: def accept(server, mask):
  // departs from Python: takes every connection waiting, up to MAX_ACCEPTS_PER_CALL, not one per
  // event, as Redis's acceptor does: with poll, each turn costs O(registered), and a burst of
  // 10,000 connects taken one per turn made the setup quadratic (measured: 9,532 of 10,000
  // connections after 30 s on a loaded machine).
  function accept(listener: Socket): void {
    for (let i = 0; i < MAX_ACCEPTS_PER_CALL; i++) {
      // py: connection, client_address = server.accept()
      let connection: Socket, client_address: Address;
      try {
        [connection, client_address] = listener.accept();
      } catch (err) {
        if (err instanceof BlockingIOError) return; // none left
        // departs from Python: out of descriptors (EMFILE/ENFILE), the waiting connections are
        // closed (or the listener unregistered for a while) instead of dying, or spinning: poll
        // and epoll report a listener with a backlog readable again at once.
        if (guard.exhausted(err, listening)) return;
        // Any other (a client that connected and reset before accept()) costs that one
        // connection, never the server.
        if (err instanceof SocketError) continue;
        throw err;
      }
      guard.accepted();
      say('new connection from %s', client_address);
      // py: connection.setblocking(False)
      connection.setblocking(false);
      // py: sel.register(connection, selectors.EVENT_READ, serve)
      try {
        sel.register(connection, EVENT_READ, serveClient);
      } catch (err) {
        // departs from Python: SelectSelector cannot watch a descriptor >= FD_SETSIZE; refuse it.
        if (!(err instanceof RangeError)) throw err;
        warn('closing %s: descriptor %s is past FD_SETSIZE', client_address, connection.fileno());
        connection.close();
        continue;
      }
      // py: message_queues[connection] = queue.Queue()  -- the outbox comes with the socket
      peers.set(connection, client_address);
    }
  }

  // departs from Python: backpressure. A client that sends and never reads would make its queue,
  // and our memory, grow without bound. So, checked after every flush():
  //   - above the high-water mark (--max-queue) we stop reading from it: EVENT_READ leaves its
  //     registration (EVENT_WRITE stays), its bytes wait in the kernel's buffers, and its own
  //     send() blocks, which is the point;
  //   - once its outbox has drained to the low-water mark (half the high one) it is read again.
  // A client that half-closed has lost EVENT_READ for good and is never in `paused`, so it is
  // never put back. A paused client always has bytes queued, and is read again before its outbox
  // can be empty: the close-on-empty rule in send_queued never closes a client for being paused.
  function backpressure(s: Socket): void {
    const pending = s.outbox.pending;
    const { events } = sel.get_key(s);
    if (!paused.has(s) && pending > maxQueue && events & EVENT_READ) {
      paused.add(s);
      sel.modify(s, EVENT_WRITE, serveClient);
      say('not reading from %s: %s bytes queued', peers.get(s), pending);
    } else if (paused.has(s) && pending <= lowWater) {
      paused.delete(s);
      sel.modify(s, events | EVENT_READ, serveClient);
      say('reading from %s again: %s bytes queued', peers.get(s), pending);
    }
  }

  // py: def send_queued(s):  -- what is queued, now, as far as the kernel takes it; write
  // interest only while something is left (writable is almost always true: watched while idle,
  // it would make select() return at once, and the loop spin).
  function sendQueued(s: Socket): void {
    if (!s.outbox.empty()) {
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
        return;
      }
      backpressure(s);
    }
    const { events } = sel.get_key(s);
    const reading = events & EVENT_READ; // py: reading = sel.get_key(s).events & selectors.EVENT_READ
    if (s.outbox.empty()) {
      say('output queue for %s is empty', peers.get(s));
      if (!reading) {
        // py: if not reading: -- half-closed by the peer and fully answered: done
        say('closing %s after reading no data', peers.get(s));
        drop(s);
        return;
      }
    }
    // py: events = reading | (0 if message_queues[s].empty() else selectors.EVENT_WRITE)
    const wanted = reading | (s.outbox.empty() ? 0 : EVENT_WRITE);
    if (wanted !== events) sel.modify(s, wanted, serveClient);
  }

  // py: def serve(s, mask):
  function serveClient(s: Socket, mask: number): void {
    if (!peers.has(s)) return; // py: closed earlier in this round
    // py: if mask & selectors.EVENT_READ:
    if (mask & EVENT_READ) {
      // py: data = s.recv(65536)
      let data: Buffer;
      try {
        data = s.recv(65536);
      } catch (err) {
        // py: except ConnectionResetError:
        if (!(err instanceof SocketError)) throw err;
        say('closing %s after a reset', peers.get(s));
        drop(s);
        return;
      }
      if (data.length > 0) {
        say('received "%r" from %s', data, peers.get(s));
        // py: message_queues[s].put(data)
        s.outbox.put(data);
        // py: send_queued(s)  -- at once, as the selectors documentation's echo server does
        sendQueued(s);
      } else if (s.outbox.empty()) {
        say('closing %s after reading no data', peers.get(s));
        drop(s);
      } else {
        // py: sel.modify(s, selectors.EVENT_WRITE, serve)  -- the peer is done sending: stop
        // reading, deliver what is still queued, then close.
        sel.modify(s, EVENT_WRITE, serveClient);
      }
    } else if (mask & EVENT_WRITE) {
      // py: elif mask & selectors.EVENT_WRITE: send_queued(s)
      sendQueued(s);
    }
  }

  // py: sel.register(server, selectors.EVENT_READ, accept)
  sel.register(server, EVENT_READ, accept);

  try {
    // py: while True:
    for (;;) {
      guard.resume(listening);
      say('waiting for the next event');
      // --trace: what goes in is what is registered for reading and for writing.
      const watched = trace ? [...(sel.get_map()?.values() ?? [])] : [];
      // py: events = sel.select()
      // departs from Python: a timeout only while the listener is paused; null (block) otherwise.
      const events = sel.select(guard.timeout());
      if (trace) {
        const sockets = (keys: { fileobj: unknown }[]): Socket[] => keys.map((key) => key.fileobj as Socket);
        trace(
          sockets(watched.filter((key) => key.events & EVENT_READ)),
          sockets(watched.filter((key) => key.events & EVENT_WRITE)),
          sockets(events.filter(([, mask]) => mask & EVENT_READ).map(([key]) => key)),
          sockets(events.filter(([, mask]) => mask & EVENT_WRITE).map(([key]) => key)),
          [],
        );
      }
      // py: for key, mask in events: callback = key.data; callback(key.fileobj, mask)
      for (const [key, mask] of events) key.data(key.fileobj as Socket, mask);
    }
  } catch (err) {
    if (!(err instanceof InterruptedError)) throw err;
    say('%s: closing the listener and %s clients', err.signal, peers.size);
  } finally {
    guard.close();
    server.close();
    for (const s of peers.keys()) s.close();
    sel.close();
  }
  return 0;
}
