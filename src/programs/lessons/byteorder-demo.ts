/**
 * Byte order, from the socket HOWTO's "Binary Data": numbers go on the wire in network byte order
 * (big-endian), whatever the machine's own order is. The client stores htons(port) and
 * htonl(address) in memory the way C does, in host order; the bytes that cross are printed in hex on
 * both sides, and the server turns them back with ntohs/ntohl. Then the same numbers sent without
 * the conversions, to show what a little-endian receiver would make of them.
 *
 *   select-reactor byteorder-demo [--host localhost] [--port 10000]
 */
import { endianness } from 'node:os';

import { create_connection, create_server, htonl, htons, ntohl, ntohs } from '../../index';
import { parseOptions } from '../support/options';
import { recvExactly } from './recv-exactly';
import { sayer } from '../support/say';

const PORT_NUMBER = 10000;
const ADDRESS = 0xc0a80101; // 192.168.1.1, as one 32-bit number
const host16 = endianness() === 'LE' ? 'writeUInt16LE' : 'writeUInt16BE';
const host32 = endianness() === 'LE' ? 'writeUInt32LE' : 'writeUInt32BE';
const read16 = endianness() === 'LE' ? 'readUInt16LE' : 'readUInt16BE';
const read32 = endianness() === 'LE' ? 'readUInt32LE' : 'readUInt32BE';

const hex = (buf: Uint8Array): string => Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join(' ');
const dotted = (n: number): string => [24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join('.');

/** Six bytes as C's `memcpy` of a uint16_t and a uint32_t would lay them out: in host order. */
function packInHostOrder(a: number, b: number): Buffer {
  const buf = Buffer.alloc(6);
  buf[host16](a, 0);
  buf[host32](b, 2);
  return buf;
}

export function main(argv: string[]): number {
  const { host, port } = parseOptions(argv);
  const say = sayer(1);
  // py: server = socket.create_server((host, port), backlog=1)  -- socket, SO_REUSEADDR, bind, listen
  const server = create_server([host, port], { backlog: 1 });
  try {
    const bound = Number(server.getsockname()[1]);
    say('byteorder-demo: server on %s port %s; this machine is %s-endian', host, bound, endianness() === 'LE' ? 'little' : 'big');
    const client = create_connection([host, bound]);
    const [conn] = server.accept();
    try {
      for (const convert of [true, false]) {
        say(convert ? '-- with htons/htonl' : '-- without them');
        const port16 = convert ? htons(PORT_NUMBER) : PORT_NUMBER;
        const addr32 = convert ? htonl(ADDRESS) : ADDRESS;
        // py: s.sendall(struct.pack("=HI", socket.htons(port), socket.htonl(address)))
        const wire = packInHostOrder(port16, addr32);
        say('client: %s and %s (%s) -> sends %s', PORT_NUMBER, ADDRESS, dotted(ADDRESS), hex(wire));
        client.sendall(wire);
        const got = recvExactly(conn, wire.length);
        // py: port, address = struct.unpack("!HI", data)  -- the receiver reads network order
        const gotPort = ntohs(got[read16](0));
        const gotAddr = ntohl(got[read32](2));
        const right = gotPort === PORT_NUMBER && gotAddr === ADDRESS;
        say('server: received %s -> ntohs/ntohl give %s and %s (%s): %s', hex(got), gotPort, gotAddr, dotted(gotAddr),
          right ? 'right' : 'wrong');
      }
    } finally {
      conn.close();
      client.close();
    }
  } finally {
    server.close();
  }
  return 0;
}
