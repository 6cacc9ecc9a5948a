/**
 * The seed's "simple chat", on the select() echo server's loop (docs/python/chat_server.py):
 * every line a client sends goes to every other client. Each client has its own outbox; one that
 * reads too slowly is disconnected once its outbox passes --max-queue, so that it can neither stall
 * the others nor make the server hold an unbounded backlog for it (IRC's "SendQ exceeded").
 *
 *   select-reactor chat-server [--host localhost] [--port 10000] [--quiet] [--max-queue BYTES]
 */
import {
  AF_INET,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  FD_SETSIZE,
  InterruptedError,
  SocketError,
  select,
  formatAddress,
  interrupt_on,
  socket,
  type Address,
  type Socket,
} from '../../index';
import { parseOptions, UsageError } from '../support/options';
import { sayer, writeAll } from '../support/say';

/** A line longer than this without its newline is refused: the server holds it in memory. */
const MAX_LINE = 64 * 1024;

export function main(argv: string[]): number {
  const { host, port, values } = parseOptions(argv, {
    quiet: { type: 'boolean' },
    'max-queue': { type: 'string', default: String(1 << 20) },
  });
  const maxQueue = Number(values['max-queue']);
  if (!Number.isInteger(maxQueue) || maxQueue < MAX_LINE) {
    throw new UsageError(`--max-queue must be an integer of at least ${MAX_LINE} bytes, got ${String(values['max-queue'])}`);
  }
  const say = sayer(2, values.quiet === true);

  // py: server = socket.socket(...); setsockopt(SO_REUSEADDR); setblocking(False); bind; listen
  const server = socket(AF_INET, SOCK_STREAM);
  server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  server.setblocking(false);
  try {
    server.bind([host, port]);
  } catch (err) {
    server.close();
    if (!(err instanceof SocketError)) throw err;
    writeAll(2, `chat-server: cannot listen on ${host} port ${port}: ${err.message}\n`);
    return 1;
  }
  server.listen(128);
  sayer(2)('starting up on %s port %s', host, server.getsockname()[1]);

  // py: inputs = [server]; outputs = []  -- departs from Python: Sets, so that `s in outputs`
  // and `outputs.remove(s)` for every recipient of every line do not scan the list.
  const inputs = new Set<Socket>([server]);
  const outputs = new Set<Socket>();
  const partial = new Map<Socket, Buffer>(); // py: partial = {}  (a line not yet ended, per client)
  const peers = new Map<Socket, Address>(); // py: peers = {}

  // py: def drop(s):
  function drop(s: Socket, why: string): void {
    say('closing %s %s', peers.get(s), why);
    inputs.delete(s);
    outputs.delete(s);
    partial.delete(s);
    peers.delete(s);
    s.close(); // its outbox goes with it
  }

  // py: def broadcast(sender, line):
  function broadcast(sender: Socket, line: Buffer): void {
    const text = Buffer.concat([Buffer.from(`${formatAddress(peers.get(sender) ?? null)}: `), line, Buffer.from('\n')]);
    // departs from Python: only clients still reading (in inputs) are sent to: one that has
    // half-closed has left, and gets only what was queued before.
    for (const s of [...inputs]) {
      if (s === server || s === sender) continue;
      s.outbox.put(text);
      // departs from Python: the outbox is bounded. Past the bound, the kernel is offered the
      // backlog at once (flush() never waits); a client whose kernel buffer is full too is so far
      // behind that it is let go.
      if (s.outbox.pending > maxQueue && !flushOrDrop(s)) continue;
      if (s.outbox.pending > maxQueue) {
        drop(s, `after ${s.outbox.pending} bytes queued for it, more than --max-queue`);
        continue;
      }
      if (!s.outbox.empty()) outputs.add(s);
    }
  }

  /** Writes what the kernel takes now; false if that failed and `s` was dropped. */
  function flushOrDrop(s: Socket): boolean {
    try {
      s.outbox.flush(); // py: sent = s.send(outbox[s]); outbox[s] = outbox[s][sent:]
      return true;
    } catch (err) {
      if (!(err instanceof SocketError)) throw err;
      drop(s, 'after a failed send');
      return false;
    }
  }

  /** Splits what `s` sent into lines, keeping the unfinished end for the next recv(). */
  function lines(s: Socket, data: Buffer): Buffer[] {
    let buf = Buffer.concat([partial.get(s) ?? Buffer.alloc(0), data]);
    const out: Buffer[] = [];
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a)) {
      out.push(buf.subarray(0, nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl));
      buf = buf.subarray(nl + 1);
    }
    partial.set(s, Buffer.from(buf)); // a copy: the rest of the recv() buffer can be freed
    return out;
  }

  interrupt_on('SIGINT', 'SIGTERM');
  try {
    // py: while inputs:
    while (inputs.size > 0) {
      // py: readable, writable, exceptional = select.select(inputs, outputs, inputs)
      const [readable, writable, exceptional] = select(inputs, outputs, inputs);
      for (const s of readable) {
        if (s === server) {
          // py: conn, addr = s.accept()
          let conn: Socket, addr: Address;
          try {
            [conn, addr] = s.accept();
          } catch (err) {
            if (err instanceof SocketError) continue; // reset before accept(): that one is lost, nobody else
            throw err;
          }
          if (conn.fileno() >= FD_SETSIZE) {
            conn.close(); // select() cannot watch it
            continue;
          }
          conn.setblocking(false);
          inputs.add(conn);
          peers.set(conn, addr);
          say('new connection from %s', addr);
        } else if (peers.has(s)) {
          // py: data = s.recv(65536)
          let data: Buffer;
          try {
            data = s.recv(65536);
          } catch (err) {
            if (!(err instanceof SocketError)) throw err;
            drop(s, 'after a reset');
            continue;
          }
          if (data.length === 0) {
            // departs from Python: an unfinished last line is still delivered, and what is
            // queued for the client is sent before it is closed.
            const rest = partial.get(s);
            if (rest && rest.length > 0) broadcast(s, rest);
            inputs.delete(s);
            if (s.outbox.empty()) drop(s, 'after reading no data');
            continue;
          }
          for (const line of lines(s, data)) broadcast(s, line);
          if ((partial.get(s)?.length ?? 0) > MAX_LINE) drop(s, `after a line longer than ${MAX_LINE} bytes`);
        }
      }
      // py: for s in writable:
      for (const s of writable) {
        if (!peers.has(s) || !flushOrDrop(s)) continue; // dropped while handling readable, or now
        if (s.outbox.empty()) {
          outputs.delete(s); // py: if not outbox[s]: outputs.remove(s)
          if (!inputs.has(s)) drop(s, 'after reading no data');
        }
      }
      // py: for s in exceptional: drop(s)
      for (const s of exceptional) if (peers.has(s)) drop(s, 'after an exceptional condition');
    }
  } catch (err) {
    if (!(err instanceof InterruptedError)) throw err;
    say('%s: closing the listener and %s clients', err.signal, peers.size);
  } finally {
    server.close();
    for (const s of peers.keys()) s.close();
  }
  return 0;
}
