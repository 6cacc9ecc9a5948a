/**
 * `--trace`: after every select(), one line with what came back in each of the three lists:
 *   readable=[listener 127.0.0.1:10000, 127.0.0.1:51234] writable=[] exceptional=[]
 */
import { formatAddress, type Address, type Socket } from '../socket';
import { writeAll } from './say';

export type Trace = (readable: Socket[], writable: Socket[], exceptional: Socket[]) => void;

export function tracer(listener: Socket, peers: ReadonlyMap<Socket, Address>, fd = 2): Trace {
  const listenerName = `listener ${formatAddress(listener.getsockname())}`;
  const name = (s: Socket): string => (s === listener ? listenerName : formatAddress(peers.get(s) ?? null));
  const list = (sockets: Socket[]): string => `[${sockets.map(name).join(', ')}]`;
  return (readable, writable, exceptional) =>
    writeAll(fd, `readable=${list(readable)} writable=${list(writable)} exceptional=${list(exceptional)}\n`);
}
