/**
 * The seed's first server, from docs/python/blocking_echo.py: blocking calls, one
 * connection, echo until the client is done, then exit. While it serves one client, every other
 * one waits in the backlog: the problem select() solves.
 *
 *   select-reactor blocking-echo-server [--host localhost] [--port 10000]
 */
import {
  AF_INET,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  InterruptedError,
  socket,
  interrupt_on,
} from '../../index';
import { parseOptions } from '../support/options';
import { sayer } from '../support/say';

export function main(argv: string[]): number {
  const { host, port } = parseOptions(argv);
  const say = sayer(1);
  interrupt_on('SIGINT', 'SIGTERM');

  // py: with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
  const s = socket(AF_INET, SOCK_STREAM);
  try {
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    s.bind([host, port]);
    s.listen(1);
    // departs from Python: says where it listens once it does, so that --port 0 can be used.
    say('starting up on %s port %s', host, s.getsockname()[1]);
    // py: conn, addr = s.accept()  -- blocks until a client arrives; serves only this one
    const [conn, addr] = s.accept();
    try {
      say('connected by %s', addr);
      for (;;) {
        const data = conn.recv(1024);
        if (data.length === 0) break; // py: if not data: break  -- the peer closed its side
        conn.sendall(data);
      }
    } finally {
      conn.close();
    }
  } catch (err) {
    if (!(err instanceof InterruptedError)) throw err;
    say('%s: closing', err.signal);
  } finally {
    s.close();
  }
  return 0;
}
