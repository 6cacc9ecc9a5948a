/**
 * Message framing, run (docs/python/framing.py): messages of 1 B to 1 MiB go through a
 * MessageSocket whose buffers were made tiny (SO_SNDBUF, SO_RCVBUF), so that send() really takes
 * only part of a message and recv() really returns only part of one; the counts show it. A thread
 * receives each message and answers with its SHA-256, which the sender checks.
 *
 *   select-reactor framing-demo [--host localhost] [--port 10000]
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { isMainThread, Worker, workerData } from 'node:worker_threads';

import {
  AF_INET,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_SNDBUF,
  create_connection,
  Socket,
  socket,
} from '../../index';
import { MessageSocket } from './message-socket';
import { parseOptions } from '../support/options';
import { sayer } from '../support/say';

const SIZES = [1, 10, 100, 1000, 10_000, 100_000, 1 << 20];
/** What the demo asks of the kernel; Linux doubles it and applies a floor (see socket(7)). */
const TINY_BUFFER = 4096;
const TIMEOUT = 20; // seconds: a stuck demo says so instead of hanging

interface Receiver {
  program: 'framing-demo';
  listenerFd: number;
}

// py: def receiver():  -- in its own thread, with blocking calls
function receiver({ listenerFd }: Receiver): void {
  const server = new Socket(undefined, undefined, undefined, listenerFd);
  server.settimeout(TIMEOUT); // if the sender never comes, this thread must not keep Node alive
  const [conn] = server.accept();
  server.close();
  try {
    conn.settimeout(TIMEOUT);
    const s = new MessageSocket(conn);
    for (let msg = s.myreceive(); msg !== null; msg = s.myreceive()) {
      const digest = createHash('sha256').update(msg).digest('hex');
      s.mysend(Buffer.from(JSON.stringify({ digest, recvs: s.recvs })));
    }
  } finally {
    conn.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const { host, port } = parseOptions(argv);
  const say = sayer(1);

  const server = socket(AF_INET, SOCK_STREAM);
  server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  // Set before listen(), so that accepted sockets inherit it and the window is sized for it.
  server.setsockopt(SOL_SOCKET, SO_RCVBUF, TINY_BUFFER);
  try {
    server.bind([host, port]);
    server.listen(1);
  } catch (err) {
    server.close();
    throw err;
  }
  const address = server.getsockname();
  const rcvbuf = server.getsockopt(SOL_SOCKET, SO_RCVBUF);
  const thread = new Worker(__filename, { workerData: { program: 'framing-demo', listenerFd: server.detach() } satisfies Receiver });
  const exited = once(thread, 'exit');

  let damaged = 0;
  // py: with socket.create_connection(server.getsockname()) as sock:
  const sock = create_connection([host, Number(address[1])], TIMEOUT);
  try {
    sock.setsockopt(SOL_SOCKET, SO_SNDBUF, TINY_BUFFER);
    // With a timeout the descriptor is non-blocking underneath, as in Python: send() returns as
    // soon as the kernel has taken what fits, and mysend() is what loops over the rest.
    say('framing-demo: receiver on %s port %s; sender SO_SNDBUF %s B, receiver SO_RCVBUF %s B, as the kernel set them',
      host, address[1], sock.getsockopt(SOL_SOCKET, SO_SNDBUF), rcvbuf);
    const s = new MessageSocket(sock);
    for (const size of SIZES) {
      const msg = randomBytes(size);
      s.mysend(msg);
      const reply = s.myreceive();
      if (reply === null) throw new Error('the receiver closed the connection early');
      const { digest, recvs } = JSON.parse(reply.toString()) as { digest: string; recvs: number };
      const intact = digest === createHash('sha256').update(msg).digest('hex');
      if (!intact) damaged++;
      say('%s bytes: %s send() calls, %s recv() calls, %s', String(size).padStart(7), String(s.sends).padStart(3),
        String(recvs).padStart(3), intact ? 'intact' : 'DAMAGED');
    }
  } finally {
    sock.close(); // the receiver's myreceive() sees the end between two messages, and stops
  }
  const [code] = (await exited) as [number];
  say('every message arrived whole, however many calls it took: %s', damaged === 0 && code === 0 ? 'yes' : 'NO');
  return damaged === 0 && code === 0 ? 0 : 1;
}

if (!isMainThread && (workerData as Partial<Receiver> | null)?.program === 'framing-demo') {
  receiver(workerData as Receiver);
}
