/**
 * `--trace`: one block per select() call, made for reading beside the code. What went in (the
 * `inputs` and `outputs` lists; the exceptional list is `inputs` again), what came back (the three
 * lists select() returned, exactly those), and the bytes still queued in each client's outbox:
 *
 *   select() #4
 *     going in   inputs=[listener, 127.0.0.1:51234]  outputs=[127.0.0.1:51234]
 *     came back  readable=[]  writable=[127.0.0.1:51234]  exceptional=[]
 *     queued     127.0.0.1:51234 6 B
 *
 * In colour when the stream it writes to is a terminal (NO_COLOR turns that off, FORCE_COLOR on).
 */
import { isatty } from 'node:tty';

import { createColors } from 'picocolors';

import { formatAddress, selectors, type Address, type Socket } from '../../index';
import { writeAll } from '../support/say';

export type Trace = (inputs: Socket[], outputs: Socket[], readable: Socket[], writable: Socket[], exceptional: Socket[]) => void;

/** Colour if the reader is a person at a terminal, unless told otherwise. */
export function wantsColour(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return isatty(fd) && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

/** A name for each socket of the loop: `listener` or the client's `127.0.0.1:51234`. */
export function namer(listener: Socket, peers: ReadonlyMap<Socket, Address>): (s: Socket) => string {
  return (s) => (s === listener ? 'listener' : formatAddress(peers.get(s) ?? null) || `fd ${s.fileno()}`);
}

export function tracer(listener: Socket, peers: ReadonlyMap<Socket, Address>, fd = 2): Trace {
  const c = createColors(wantsColour(fd));
  const name = namer(listener, peers);
  const list = (sockets: Socket[], paint: (text: string) => string): string =>
    `[${sockets.map((s) => paint(name(s))).join(', ')}]`;
  let calls = 0;
  return (inputs, outputs, readable, writable, exceptional) => {
    const queued = [...peers.keys()].map((s) => {
      const bytes = s.fileno() < 0 ? 0 : s.outbox.pending;
      return `${name(s)} ${bytes > 0 ? c.yellow(`${bytes} B`) : c.dim('0 B')}`;
    });
    writeAll(
      fd,
      `${c.bold(`select() #${++calls}`)}\n` +
        `  ${c.dim('going in ')}  inputs=${list(inputs, (t) => t)}  outputs=${list(outputs, (t) => t)}\n` +
        `  ${c.dim('came back')}  readable=${list(readable, c.green)}  writable=${list(writable, c.cyan)}  exceptional=${list(exceptional, c.red)}\n` +
        `  ${c.dim('queued   ')}  ${queued.length > 0 ? queued.join(', ') : c.dim('(no clients)')}\n`,
    );
  };
}

/**
 * A selectors loop's wait as the three lists trace prints: what was registered for reading and
 * for writing went in; what came back ready for each is readable and writable (a selector has
 * no exceptional list).
 */
export function selectorLists(
  watched: selectors.SelectorKey[],
  ready: selectors.Ready,
): [inputs: Socket[], outputs: Socket[], readable: Socket[], writable: Socket[], exceptional: Socket[]] {
  const { EVENT_READ, EVENT_WRITE } = selectors;
  const sockets = (keys: selectors.SelectorKey[]): Socket[] => keys.map((key) => key.fileobj as Socket);
  return [
    sockets(watched.filter((key) => key.events & EVENT_READ)),
    sockets(watched.filter((key) => key.events & EVENT_WRITE)),
    sockets(ready.filter(([, mask]) => mask & EVENT_READ).map(([key]) => key)),
    sockets(ready.filter(([, mask]) => mask & EVENT_WRITE).map(([key]) => key)),
    [],
  ];
}
