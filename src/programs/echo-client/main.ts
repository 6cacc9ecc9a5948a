/**
 * The seed's client: connect, send each message, read each echo back in full, print, close.
 *
 *   select-reactor echo-client [--host localhost] [--port 10000] [message ...]
 */
import { create_connection } from '../../index';
import { parseOptions } from '../support/options';
import { sayer } from '../support/say';

const defaultMessages = ['This is the message. ', 'It will be sent ', 'in parts.'];

export function main(argv: string[]): number {
  const { host, port, positionals } = parseOptions(argv, {}, true);
  const messages = positionals.length > 0 ? positionals : defaultMessages;
  const say = sayer(1);

  say('connecting to %s port %s', host, port);
  const sock = create_connection([host, port]);
  try {
    const me = sock.getsockname();
    for (const message of messages) {
      const data = Buffer.from(message);
      say('%s: sending %r', me, data);
      sock.sendall(data);
      // The echo may come back in pieces: read until all of it has.
      const chunks: Buffer[] = [];
      let received = 0;
      while (received < data.length) {
        const chunk = sock.recv(data.length - received);
        if (chunk.length === 0) {
          say('%s: the server closed the connection after %s of %s bytes', me, received, data.length);
          return 1;
        }
        chunks.push(chunk);
        received += chunk.length;
      }
      say('%s: received %r', me, Buffer.concat(chunks));
    }
    say('closing socket');
  } finally {
    sock.close();
  }
  return 0;
}
