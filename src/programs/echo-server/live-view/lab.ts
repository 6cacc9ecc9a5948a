/**
 * What the echo loop did with each socket between two waits, and why, for the live view's lab.
 * It is read from what the loop said (its say() formats and their arguments, the same lines
 * `--trace` and the log show), so the loops carry no lab code: a new say() format the narrator
 * does not know is simply not narrated. Moves between the lists that no line explains (a
 * selectors loop's modify(), say) are found by comparing the lists going in to two waits.
 */
import { formatAddress, selectors, type Address, type Outbox, type Socket } from '../../../index';

/** One line per socket the loop touched: what it did, each step with its reason. */
export interface Deed {
  name: string;
  did: string[];
}

/** The words for a socket's place: the select() loop's lists, or a selector key's events. */
export interface Words {
  inputs: string;
  outputs: string;
}

export const SELECT_WORDS: Words = { inputs: 'inputs', outputs: 'outputs' };
export const SELECTOR_WORDS: Words = { inputs: 'EVENT_READ', outputs: 'EVENT_WRITE' };

type Move = '+inputs' | '-inputs' | '+outputs' | '-outputs' | 'closed';

interface Entry {
  did: string[];
  moves: Set<Move>;
  flushing: Outbox | null; // the outbox being flushed, what it held before, where to say so
  before: number;
  at: number;
}

const name = (address: unknown): string => formatAddress((address ?? null) as Address | null);
const bytes = (n: unknown): string => `${Number(n).toLocaleString('en')} B`;

export class Narrator {
  readonly #entries = new Map<string, Entry>();
  readonly #high: number;
  readonly #low: number;
  readonly #w: Words;

  constructor(maxQueue: number, words: Words) {
    this.#high = maxQueue;
    this.#low = Math.floor(maxQueue / 2);
    this.#w = words;
  }

  #entry(who: string): Entry {
    let e = this.#entries.get(who);
    if (!e) {
      e = { did: [], moves: new Set(), flushing: null, before: 0, at: 0 };
      this.#entries.set(who, e);
    }
    return e;
  }

  #note(who: string, text: string, ...moves: Move[]): void {
    const e = this.#entry(who);
    e.did.push(text);
    for (const m of moves) e.moves.add(m);
  }

  /** A line the loop said, as its format and arguments. */
  heard(format: string, args: unknown[]): void {
    const { inputs, outputs } = this.#w;
    const [a, b] = args;
    switch (format) {
      case 'new connection from %s':
        return this.#note(name(a), `accepted: joins ${inputs}`, '+inputs');
      case 'received "%r" from %s':
        return this.#note(name(b), `read ${bytes((a as Uint8Array).length)} and queued them in its outbox`);
      case '%s is done sending: %s bytes still queued for it':
        return this.#note(
          name(a),
          `recv() returned b'': the peer shut down its side, so it leaves ${inputs}; ${bytes(b)} still queued are sent first, then it is closed`,
          '-inputs',
        );
      case 'closing %s after reading no data':
        return this.#note(name(a), 'closed: the peer is done sending and nothing is left to send it', 'closed');
      case 'closing %s after a reset':
        return this.#note(name(a), 'recv() raised ConnectionResetError (the peer reset the connection): dropped and closed', 'closed');
      case 'closing %s after a failed send':
        return this.#note(name(a), 'send failed (BrokenPipeError or ConnectionResetError): dropped and closed', 'closed');
      case 'handling exceptional condition for %s':
        return this.#note(name(a), 'in the exceptional list (urgent data, MSG_OOB): dropped and closed', 'closed');
      case 'closing %s: descriptor %s is past FD_SETSIZE':
        return this.#note(name(a), `refused: descriptor ${String(b)} is past FD_SETSIZE`, 'closed');
      case 'sending "%r" to %s': {
        const e = this.#entry(name(b));
        e.flushing = a as Outbox;
        e.before = e.flushing.pending;
        e.at = e.did.length;
        return;
      }
      case 'output queue for %s is empty':
        return this.#note(
          name(a),
          `outbox empty: leaves ${outputs} (a socket is watched for writing only while it has bytes to send)`,
          '-outputs',
        );
      case 'not reading from %s: %s bytes queued':
        return this.#note(
          name(a),
          `leaves ${inputs}: ${bytes(b)} queued is over --max-queue (${bytes(this.#high)}), so the loop stops reading from it (backpressure) until its outbox drains to ${bytes(this.#low)}`,
          '-inputs',
        );
      case 'reading from %s again: %s bytes queued':
        return this.#note(
          name(a),
          `back in ${inputs}: its outbox drained to ${bytes(b)}, at or under the low-water mark (${bytes(this.#low)}, half of --max-queue)`,
          '+inputs',
        );
      default:
    }
  }

  /**
   * What happened since the last wait, for the call that came back then: the lines heard, the
   * bytes each flush() wrote, and the moves between the lists that no line explained. `before`
   * and `now` are the lists going in to that wait and to this one.
   */
  deeds(before: Lists, now: Lists): Deed[] {
    const { inputs, outputs } = this.#w;
    for (const e of this.#entries.values()) {
      if (e.flushing === null) continue;
      let after: number | null;
      try {
        after = e.flushing.pending;
      } catch {
        after = null; // closed since: the line that closed it says why
      }
      if (after !== null && !(after === e.before && e.moves.has('closed'))) {
        e.did.splice(e.at, 0, `flushed ${bytes(e.before - after)}${after > 0 ? `; ${bytes(after)} still queued` : ''}`);
      }
    }
    const move = (who: string, m: Move, text: string): void => {
      const e = this.#entry(who);
      if (!e.moves.has(m) && !e.moves.has('closed')) this.#note(who, text, m);
    };
    for (const who of before.peers) {
      if (!now.peers.has(who)) move(who, 'closed', 'closed');
    }
    for (const who of now.peers) {
      if (!before.peers.has(who)) continue;
      if (before.inputs.has(who) && !now.inputs.has(who)) move(who, '-inputs', `leaves ${inputs}`);
      if (!before.inputs.has(who) && now.inputs.has(who)) move(who, '+inputs', `back in ${inputs}`);
      if (!before.outputs.has(who) && now.outputs.has(who)) move(who, '+outputs', `joins ${outputs}: it has bytes queued`);
      if (before.outputs.has(who) && !now.outputs.has(who)) move(who, '-outputs', `leaves ${outputs}`);
    }
    const deeds = [...this.#entries].filter(([, e]) => e.did.length > 0).map(([who, e]) => ({ name: who, did: e.did }));
    this.#entries.clear();
    return deeds;
  }
}

/** The lists going in to one wait, by name: what the lab compares between two waits. */
export interface Lists {
  inputs: Set<string>;
  outputs: Set<string>;
  peers: Set<string>;
}

/** `R`, `W` or `RW`: a selector key's events as the page shows them. */
export function maskName(mask: number): string {
  return (mask & selectors.EVENT_READ ? 'R' : '') + (mask & selectors.EVENT_WRITE ? 'W' : '');
}

/** One select() call on the timeline: [n, ms blocked, in, out, readable, writable, exceptional]. */
export type Mark = [number, number, number, number, number, number, number];

/** The sockets of a list, by the names the page shows. */
export function names(sockets: Iterable<Socket>, nameOf: (s: Socket) => string): Set<string> {
  const set = new Set<string>();
  for (const s of sockets) set.add(nameOf(s));
  return set;
}
