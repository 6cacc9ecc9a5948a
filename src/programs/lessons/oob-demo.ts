/**
 * The exceptional list, for real. On Linux, what puts a socket in select()'s third list is TCP
 * urgent data: `send(data, MSG_OOB)`. The urgent byte travels beside the stream, not in it: the
 * receiver reads it with `recv(1, MSG_OOB)`, and an ordinary recv() stops at the place it was sent
 * (the "mark"). This is also why the select() echo server watches `inputs` for exceptional
 * conditions, and drops a client that sends urgent data.
 *
 *   select-reactor oob-demo [--host localhost] [--port 10000]
 *
 * Client and server take turns on one thread; select() waits (2 s at most) for each send to land.
 */
import { MSG_OOB, create_connection, create_server, formatAddress, select, type Socket } from '../../index';
import { parseOptions } from '../support/options';
import { recvExactly } from './recv-exactly';
import { sayer, type Say } from '../support/say';

const WAIT = 2;

/** One select() on the server's connection, printed as the three lists that came back. */
function watch(conn: Socket, name: string, say: Say, timeout = WAIT): [boolean, boolean] {
  // py: readable, writable, exceptional = select.select([conn], [], [conn], 2)
  const [readable, , exceptional] = select([conn], [], [conn], timeout);
  const list = (l: Socket[]): string => `[${l.map(() => name).join(', ')}]`;
  say('server: select() -> readable=%s exceptional=%s', list(readable), list(exceptional));
  return [readable.length > 0, exceptional.length > 0];
}

export function main(argv: string[]): number {
  const { host, port } = parseOptions(argv);
  const say = sayer(1);
  // py: server = socket.create_server((host, port), backlog=1)  -- socket, SO_REUSEADDR, bind, listen
  const server = create_server([host, port], { backlog: 1 });
  try {
    say('oob-demo: server on %s port %s', host, server.getsockname()[1]);
    const client = create_connection([host, Number(server.getsockname()[1])]);
    const [conn, address] = server.accept();
    const name = formatAddress(address);
    try {
      say('-- ordinary data: readable');
      client.send('hello');
      say("client: send(b'hello')");
      watch(conn, name, say);
      say('server: recv() -> %r', conn.recv(100));

      say('-- one urgent byte: exceptional, and not readable: it is not in the stream');
      // py: client.send(b"!", socket.MSG_OOB)
      client.send('!', MSG_OOB);
      say("client: send(b'!', MSG_OOB)");
      const [readable, exceptional] = watch(conn, name, say);
      if (readable || !exceptional) {
        say('oob-demo: this kernel did not put the socket in the exceptional list alone, as Linux does');
        return 1;
      }
      // py: conn.recv(1, socket.MSG_OOB)
      say('server: recv(1, MSG_OOB) -> %r', conn.recv(1, MSG_OOB));
      watch(conn, name, say, 0.2);

      say('-- urgent data in the middle of a stream: recv() stops at the mark');
      client.send('before');
      client.send('X', MSG_OOB);
      client.send('after');
      say("client: send(b'before'); send(b'X', MSG_OOB); send(b'after')");
      watch(conn, name, say);
      say('server: recv() -> %r', conn.recv(100));
      say('server: recv(1, MSG_OOB) -> %r', conn.recv(1, MSG_OOB));
      say('server: recv() -> %r', recvExactly(conn, 'after'.length));
    } finally {
      conn.close();
      client.close();
    }
  } finally {
    server.close();
  }
  return 0;
}
