/**
 * Shutdown etiquette, from the socket HOWTO's "Disconnecting": an HTTP-like exchange where the
 * client sends its request and then `shutdown(SHUT_WR)` ("I am done sending, but I am still
 * listening"), and the server reads to end-of-file before it answers. First, the same request
 * without the shutdown: the server has no way to know the request is over, and waits in vain.
 *
 *   select-reactor shutdown-demo [--host localhost] [--port 10000]
 *
 * Client and server take turns on one thread: everything they send fits in the kernel's buffers,
 * so neither ever waits on the other.
 */
import { SHUT_WR, TimeoutError, create_connection, create_server, type Socket } from '../../index';
import { parseOptions } from '../support/options';
import { sayer } from '../support/say';

const REQUEST = 'GET /hello HTTP/1.0\r\nHost: localhost\r\n\r\n';
const PATIENCE = 0.5; // seconds the server waits for the end of a request that never ends

/** The server's side: read to EOF (recv() returning b''), then answer and close. */
function readRequest(conn: Socket, say: (format: string, ...args: unknown[]) => void): Buffer | null {
  const chunks: Buffer[] = [];
  conn.settimeout(PATIENCE);
  for (;;) {
    let data: Buffer;
    try {
      data = conn.recv(1024);
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      say('server: no end-of-file after %s s: is the request over? The server cannot know', PATIENCE);
      return null;
    }
    say('server: recv() -> %r', data);
    if (data.length === 0) return Buffer.concat(chunks); // py: if not data: break  -- the request is complete
    chunks.push(data);
  }
}

function exchange(server: Socket, port: number, host: string, politely: boolean): void {
  const say = sayer(1);
  // py: s = socket.create_connection((host, port)); s.sendall(request)
  const client = create_connection([host, port]);
  const [conn] = server.accept();
  try {
    client.sendall(REQUEST);
    say('client: sent %s bytes of request', REQUEST.length);
    if (politely) {
      // py: s.shutdown(socket.SHUT_WR)
      client.shutdown(SHUT_WR);
      say('client: shutdown(SHUT_WR): done sending, still listening');
    }
    const request = readRequest(conn, say);
    if (request === null) return;
    const firstLine = request.toString().split('\r\n')[0];
    conn.sendall(`HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nyou asked for: ${firstLine}\n`);
    conn.close(); // the end of the response is the end of the connection
    say('server: answered and closed');
    // py: while chunk := s.recv(1024): ...  -- the client reads the answer to EOF in turn
    const answer: Buffer[] = [];
    for (let chunk = client.recv(1024); chunk.length > 0; chunk = client.recv(1024)) answer.push(chunk);
    say('client: received %r, then end-of-file', Buffer.concat(answer));
  } finally {
    conn.close();
    client.close();
  }
}

export function main(argv: string[]): number {
  const { host, port } = parseOptions(argv);
  const say = sayer(1);
  // py: server = socket.create_server((host, port), backlog=1)  -- socket, SO_REUSEADDR, bind, listen
  const server = create_server([host, port], { backlog: 1 });
  try {
    const bound = Number(server.getsockname()[1]);
    say('shutdown-demo: server on %s port %s', host, bound);
    say('-- without shutdown(SHUT_WR)');
    exchange(server, bound, host, false);
    say('-- with shutdown(SHUT_WR)');
    exchange(server, bound, host, true);
  } finally {
    server.close();
  }
  return 0;
}
