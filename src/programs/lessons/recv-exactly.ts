/** Reads exactly `n` bytes from a blocking socket: recv() may return fewer than asked. */
import type { Socket } from '../../index';

export function recvExactly(sock: Socket, n: number): Buffer {
  const chunks: Buffer[] = [];
  let got = 0;
  while (got < n) {
    const chunk = sock.recv(n - got);
    if (chunk.length === 0) throw new Error(`the peer closed the connection after ${got} of ${n} bytes`);
    chunks.push(chunk);
    got += chunk.length;
  }
  return Buffer.concat(chunks, n);
}
