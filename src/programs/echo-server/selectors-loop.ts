/**
 * The echo server on the selectors module (`echo-server --selector select|poll|epoll`), block for
 * block from docs/python/selectors_echo_server.py: each registered socket carries, as its key's
 * data, the function to call when it is ready, the loop only dispatches, and what is received is
 * sent back at once (libuv writes first too, and waits for writable only when the kernel
 * refuses). It prints the same lines and keeps the same guarantees as select-loop.ts. `// py:`
 * names the Python a block mirrors; `// departs from Python:` marks where this one is
 * deliberately different, the helpers it calls there written once for both loops in
 * departures.ts.
 */
import {
  AF_INET,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SocketError,
  interrupt_on,
  selectors,
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
import { SELECTOR_WORDS } from './live-view/lab';
import { selectorLists, tracer } from './trace';

const { EVENT_READ, EVENT_WRITE } = selectors;

/** What each registered socket's key carries: the function to call when it is ready. */
type Callback = (s: Socket, mask: number) => void;

// py: backends = {"select": "SelectSelector", "poll": "PollSelector", "epoll": "EpollSelector"}
const backends = {
  select: selectors.SelectSelector<Callback>,
  poll: selectors.PollSelector<Callback>,
  epoll: selectors.EpollSelector<Callback>,
} as const;

export type Backend = keyof typeof backends;

/** Whether `name` is a backend --selector may name. */
export function isBackend(name: string): name is Backend {
  return Object.hasOwn(backends, name);
}

export interface SelectorsLoopOptions extends ServeOptions {
  backend: Backend;
  /** --ui: the live view, whose sockets ride in this selector (see `wait` below), or null. */
  view: LiveView | null;
}

/** Serves until SIGINT or SIGTERM (0), or says why it cannot listen (1). */
export function serve(host: string, port: number, options: SelectorsLoopOptions): number {
  const { view } = options;
  // Undefined under --quiet: `say?.(...)` then skips its arguments too (see loopSayer).
  const say = loopSayer(2, options.quiet, view?.log);
  // Conditions an operator must hear about (refused connections) are said even with --quiet.
  const warn = sayer(2, false, view?.log);

  // py: sel = getattr(selectors, backends[backend])()
  const sel: selectors.BaseSelector<Callback> = new backends[options.backend]();

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
    sel.close();
    return 1;
  }
  // py: server.listen(128)
  server.listen(128);
  // departs from Python: SIGINT and SIGTERM end the loop, which closes everything (endedBySignal).
  interrupt_on('SIGINT', 'SIGTERM');
  // py: say("starting up on localhost port", port)  -- departs from Python: once listening
  sayListening(host, server);

  // py: message_queues = {}  -- each socket's outbox
  const peers = new Map<Socket, Address>(); // py: peers = {}
  const guard = new AcceptGuard(server, warn); // departs from Python: EMFILE/ENFILE on accept()
  // What the guard pauses, when it has no spare descriptor: the listener's registration.
  const listening = {
    unwatch: () => sel.unregister(server),
    watch: () => sel.register(server, EVENT_READ, accept),
  };
  const backpressure = new Backpressure(options.maxQueue, say, peers, (s) => (sel.get_key(s).events & EVENT_READ) !== 0);
  const trace = options.trace ? tracer(server, peers) : null;
  // --ui: the live view registers its own sockets in `sel`, serves them in this wait, and returns
  // only this loop's events; paused, it waits there until a step.
  const wait = view ? view.selectorWait(sel) : sel.select.bind(sel);
  if (view) {
    view.watch(server, peers, options.maxQueue, SELECTOR_WORDS);
    sayer(2)('live view on http://%s:%s/', host, view.port);
  }

  // py: def drop(s): forget a client everywhere and close it
  function drop(s: Socket): void {
    sel.unregister(s);
    peers.delete(s);
    backpressure.forget(s);
    s.close(); // the outbox (message_queues[s]) goes with the socket
  }

  // departs from Python: after every flush(), a client whose outbox is too full is no longer
  // read (EVENT_READ leaves its registration, EVENT_WRITE stays), and one that has drained is
  // read again.
  function checkBackpressure(s: Socket): void {
    const change = backpressure.check(s);
    if (change === 'pause') sel.modify(s, EVENT_WRITE, serveClient);
    else if (change === 'resume') sel.modify(s, sel.get_key(s).events | EVENT_READ, serveClient);
  }

  // py: def accept(server, mask):
  function accept(listener: Socket): void {
    // py: connection, client_address = server.accept()
    // departs from Python: every connection waiting, not one per event.
    for (const [connection, client_address] of acceptWaiting(listener, guard, listening)) {
      say?.('new connection from %s', client_address);
      // py: connection.setblocking(False)
      connection.setblocking(false);
      // py: sel.register(connection, selectors.EVENT_READ, serve)
      try {
        sel.register(connection, EVENT_READ, serveClient);
      } catch (err) {
        // departs from Python: SelectSelector cannot watch a descriptor >= FD_SETSIZE; refuse it.
        if (!(err instanceof RangeError)) throw err;
        refuse(connection, client_address, warn);
        continue;
      }
      // py: message_queues[connection] = queue.Queue()  -- the outbox comes with the socket
      peers.set(connection, client_address);
    }
  }

  // py: def send_queued(s):  -- what is queued, now, as far as the kernel takes it; write
  // interest only while something is left (writable is almost always true: watched while idle,
  // it would make select() return at once, and the loop spin).
  function sendQueued(s: Socket): void {
    if (!s.outbox.empty()) {
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
        return;
      }
      checkBackpressure(s);
    }
    const { events } = sel.get_key(s);
    const reading = events & EVENT_READ; // py: reading = sel.get_key(s).events & selectors.EVENT_READ
    if (s.outbox.empty()) {
      say?.('output queue for %s is empty', peers.get(s));
      if (!reading) {
        // py: if not reading: -- half-closed by the peer and fully answered: done
        say?.('closing %s after reading no data', peers.get(s));
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
        say?.('closing %s after a reset', peers.get(s));
        drop(s);
        return;
      }
      if (data.length > 0) {
        say?.('received "%r" from %s', data, peers.get(s));
        // py: message_queues[s].put(data)
        s.outbox.put(data);
        // py: send_queued(s)  -- at once, as the selectors documentation's echo server does
        sendQueued(s);
      } else if (s.outbox.empty()) {
        say?.('closing %s after reading no data', peers.get(s));
        drop(s);
      } else {
        // py: sel.modify(s, selectors.EVENT_WRITE, serve)  -- the peer is done sending: stop
        // reading, deliver what is still queued, then close. departs from Python: says so, as
        // the select() loop does.
        say?.('%s is done sending: %s bytes still queued for it', peers.get(s), s.outbox.pending);
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
      say?.('waiting for the next event');
      const watched = trace ? [...(sel.get_map()?.values() ?? [])] : []; // --trace: what goes in
      // py: events = sel.select()
      // departs from Python: a timeout only while the listener is paused; null (block) otherwise.
      const events = wait(guard.timeout());
      trace?.(...selectorLists(watched, events));
      // py: for key, mask in events: callback = key.data; callback(key.fileobj, mask)
      for (const [key, mask] of events) key.data(key.fileobj as Socket, mask);
    }
  } catch (err) {
    endedBySignal(err, say, peers.size);
  } finally {
    guard.close();
    server.close();
    for (const s of peers.keys()) s.close();
    sel.close();
  }
  return 0;
}
