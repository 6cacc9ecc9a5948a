/**
 * The Unix answer, from docs/python/forking_echo_server.py: a child process per connection,
 * serving it with blocking calls, while the parent goes back to accept(). Node cannot fork(), so
 * the child is a new Node process started on this file, and the accepted descriptor reaches it as
 * its descriptor 3 (`stdio`), which is what fork() would have left it: the same open socket.
 *
 *   select-reactor forking-echo-server [--host localhost] [--port 10000]
 */
import { spawn, type ChildProcess } from 'node:child_process';

import {
  AF_INET,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  InterruptedError,
  SocketError,
  interrupt_on,
  Socket,
  socket,
  type Address,
} from '../../index';
import { parseOptions } from '../support/options';
import { sayer } from '../support/say';
import { acceptForever } from './accept-forever';

/** The descriptor the child finds its connection on: after stdin, stdout and stderr. */
const CONNECTION_FD = 3;

// py: def handle(conn, addr):  -- in the child
function child(addr: Address): number {
  const say = sayer(1);
  interrupt_on('SIGINT', 'SIGTERM'); // the parent passes these on when it is stopped
  let conn: Socket;
  try {
    conn = new Socket(undefined, undefined, undefined, CONNECTION_FD);
  } catch (err) {
    if (!(err instanceof SocketError)) throw err;
    say('forking-echo-server: descriptor %s is not a connection (%s): run me through the parent', CONNECTION_FD, err.code);
    return 2;
  }
  try {
    say('process %s serving %s', process.pid, addr);
    for (;;) {
      const data = conn.recv(1024);
      if (data.length === 0) break; // py: if not data: break
      conn.sendall(data);
    }
    say('process %s done with %s', process.pid, addr);
  } catch (err) {
    if (!(err instanceof SocketError)) throw err;
    say('process %s closing %s: %s', process.pid, addr, err instanceof InterruptedError ? err.signal : err.code);
  } finally {
    conn.close();
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const { host, port } = parseOptions(argv);
  const say = sayer(1);
  interrupt_on('SIGINT', 'SIGTERM');
  const children = new Set<ChildProcess>();

  // py: with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
  const server: Socket = socket(AF_INET, SOCK_STREAM);
  try {
    server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    server.bind([host, port]);
    server.listen(128);
    say('starting up on %s port %s', host, server.getsockname()[1]);
    // py: while True: conn, addr = server.accept()
    // departs from Python: the event loop turns between accepts, to reap the children (accept-forever.ts).
    for await (const [conn, addr] of acceptForever(server)) {
      // py: if os.fork() == 0: handle(conn, addr)
      // The listener is close-on-exec, so only the connection crosses, as descriptor 3.
      const proc = spawn(process.execPath, [__filename, JSON.stringify(addr)], {
        stdio: ['ignore', 'inherit', 'inherit', conn.fileno()],
      });
      children.add(proc);
      proc.on('exit', () => children.delete(proc));
      // A child that could not be started (EAGAIN, ENOMEM) costs that one connection, which
      // closes below; without this listener Node would end the server over it.
      proc.on('error', (err) => {
        children.delete(proc);
        say('could not start a process for %s: %s', addr, err.message);
      });
      // py: conn.close()  -- the parent's copy; the child has its own
      conn.close();
    }
  } catch (err) {
    if (!(err instanceof InterruptedError)) throw err;
    // departs from Python: a forked child outlives its parent; ours are told to close, and Node
    // exits 0 once the last of them has.
    say('%s: closing the listener and stopping %s children', err.signal, children.size);
    for (const proc of children) proc.kill(err.signal as NodeJS.Signals);
  } finally {
    server.close();
  }
  return 0;
}

// A child started by main() runs this file directly, with the client's address as its argument.
if (require.main === module) process.exitCode = child(JSON.parse(process.argv[2] ?? 'null') as Address);
