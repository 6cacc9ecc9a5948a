/**
 * Message framing: the socket HOWTO's MySocket (docs/python/framing.py), with its fixed MSGLEN
 * replaced by a 4-byte length prefix in network byte order. TCP is a stream: send() may take fewer
 * bytes than it was given and recv() may return fewer than asked, so `mysend` and `myreceive` loop
 * until a whole message has moved. They count the system calls they made, to show that they did.
 */
import type { Socket } from '../../index';

/** The largest message `myreceive` accepts: a corrupt or hostile length must not allocate 4 GiB. */
export const MAX_MESSAGE = 64 * 1024 * 1024;

const HEADER = 4;

export class MessageSocket {
  /** send() calls the last `mysend` made. */
  sends = 0;
  /** recv() calls the last `myreceive` made, its length prefix included. */
  recvs = 0;

  constructor(readonly sock: Socket) {}

  // py: def mysend(self, msg):
  mysend(msg: Uint8Array): void {
    if (msg.length > MAX_MESSAGE) throw new RangeError(`Expected a message of at most ${MAX_MESSAGE} bytes, got ${msg.length}`);
    // py: msg = struct.pack("!I", len(msg)) + msg
    const header = Buffer.alloc(HEADER);
    header.writeUInt32BE(msg.length);
    const data = Buffer.concat([header, msg]);
    this.sends = 0;
    let totalsent = 0;
    // py: while totalsent < len(msg):
    while (totalsent < data.length) {
      const sent = this.sock.send(data.subarray(totalsent));
      this.sends++;
      if (sent === 0) throw new Error('socket connection broken');
      totalsent += sent;
    }
  }

  /** The next message, or null if the peer closed the connection between two messages. */
  // py: def myreceive(self):
  myreceive(): Buffer | null {
    this.recvs = 0;
    const header = this.#receive(HEADER, true);
    if (header === null) return null;
    // py: (n,) = struct.unpack("!I", self._receive(4))
    const n = header.readUInt32BE(0);
    if (n > MAX_MESSAGE) throw new RangeError(`a message of ${n} bytes announced, more than the ${MAX_MESSAGE} allowed`);
    return this.#receive(n, false) ?? Buffer.alloc(0);
  }

  // py: def _receive(self, n):
  #receive(n: number, eofAllowed: boolean): Buffer | null {
    const chunks: Buffer[] = [];
    let bytes_recd = 0;
    while (bytes_recd < n) {
      // departs from Python's HOWTO: up to 64 KiB at a time, not 2048, so that the count of
      // recv() calls shows what the kernel handed over rather than our own cap.
      const chunk = this.sock.recv(Math.min(n - bytes_recd, 65536));
      this.recvs++;
      if (chunk.length === 0) {
        if (eofAllowed && bytes_recd === 0) return null;
        throw new Error(`socket connection broken: ${bytes_recd} of ${n} bytes received`);
      }
      chunks.push(chunk);
      bytes_recd += chunk.length;
    }
    return Buffer.concat(chunks, n);
  }
}
