/**
 * The lab's scenarios: real clients of the echo server, made by the live view in the server's own
 * process and served in the same select() as the page's sockets, each showing one rule of the
 * three lists. A scenario watches the echo loop's lists going in to each wait (tick) and moves on
 * when the rule it shows has happened; stopping it, or starting another, closes all its sockets.
 */
import { endianness } from 'node:os';

import {
  AF_INET,
  MSG_OOB,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_ERROR,
  SO_LINGER,
  SO_SNDBUF,
  SHUT_WR,
  BlockingIOError,
  SocketError,
  formatAddress,
  socket,
  type Address,
  type Socket,
} from '../../../index';
import type { Lists } from './lab';

export interface ScenarioInfo {
  name: string;
  title: string;
  /** What to look for, in one sentence. */
  lookFor: string;
}

export const SCENARIOS: readonly ScenarioInfo[] = [
  {
    name: 'slow-reader',
    title: 'slow reader',
    lookFor:
      'A client that sends and never reads: its queue grows with each step until it passes --max-queue, then it leaves inputs; once it reads again it comes back at the low-water mark (half of --max-queue).',
  },
  {
    name: 'half-close',
    title: 'half-close',
    lookFor:
      "A client sends, then shuts down its side: recv() returns b'', it leaves inputs, still gets every byte queued for it, and only then is closed.",
  },
  {
    name: 'reset',
    title: 'reset mid-stream',
    lookFor:
      'A client closes with SO_LINGER 0 while its echo is queued: the kernel sends a reset, recv() raises ConnectionResetError, and the loop drops it.',
  },
  {
    name: 'urgent',
    title: 'urgent byte',
    lookFor:
      'One byte sent with MSG_OOB puts the client in the exceptional list (xlist is inputs again), and the loop drops it.',
  },
  {
    name: 'idle-100',
    title: '100 idle clients',
    lookFor:
      'inputs grows to 101 sockets going in, and select() blocks with nothing coming back: an idle client costs a place in the list, nothing more.',
  },
  {
    name: 'spin',
    title: 'left in outputs',
    lookFor:
      'The lab keeps an idle client in outputs, as a loop that forgot outputs.remove(s) would: it is writable at once, so select() never blocks and the calls per second soar; the rule that prevents it: a socket sits in outputs only while its outbox holds bytes.',
  },
];

/** What a scenario needs from the live view. */
export interface Host {
  /** The echo server's address. */
  target(): Address;
  /** The echo server's socket for the client of that name, if it has accepted it. */
  peer(name: string): Socket | undefined;
  readonly maxQueue: number;
  /** Tells the page how the scenario is going. */
  progress(info: ScenarioInfo, phase: string, text: string): void;
  /** Closes one of the scenario's sockets (forgetting it wherever the view watches it). */
  close(s: Socket): void;
  /** Whether the lab is paused: a paused loop does not spin. */
  paused(): boolean;
}

interface Client {
  name: string;
  connected: boolean;
  reading: boolean;
  /** Bytes to keep queued while writable (the slow reader's flood), or 0. */
  flood: number;
  /** Called once the non-blocking connect has finished. */
  onConnect?: (s: Socket) => void;
}

const CHUNK = Buffer.alloc(64 * 1024, 'all work and no play makes a slow reader\n');
// The kernel's send buffer for the server's side of a slow client: autotuned, it would absorb
// megabytes before the outbox grew, so the lab shrinks it, and the bytes the client does not
// read pile up in the outbox where the page shows them. Widened again once the client reads.
const SMALL_SNDBUF = 4096;
const WIDE_SNDBUF = 64 * 1024;
// How long the lab keeps a client in outputs, counting only the time the loop runs (not paused).
const SPIN_MS = 3000;

export class Scenario {
  readonly clients = new Map<Socket, Client>();
  phase = 'starting';
  #spinUntil = 0;
  #spinRan = 0;
  #lastTick = 0;
  #shrunk = false;

  constructor(
    readonly info: ScenarioInfo,
    readonly host: Host,
  ) {}

  /** Opens its clients. */
  start(): void {
    const { name } = this.info;
    if (name === 'slow-reader') {
      this.#open({ flood: 4 * CHUNK.length });
      this.#say('feeding', 'sending without reading (the lab shrinks the server\'s kernel send buffer for it, SO_SNDBUF, so what it does not read piles up in the outbox): watch its queued bytes grow with each step');
    } else if (name === 'half-close') {
      const size = Math.max(1, Math.min(256 * 1024, Math.floor(this.host.maxQueue / 2)));
      this.#open({
        onConnect: (s) => {
          for (let left = size; left > 0; left -= CHUNK.length) s.outbox.put(CHUNK.subarray(0, Math.min(left, CHUNK.length)));
        },
      });
      this.#say('sending', `sending ${size} bytes, then shutdown(SHUT_WR), reading nothing until the server has seen the end`);
    } else if (name === 'reset') {
      this.#open({ onConnect: (s) => s.outbox.put(CHUNK.subarray(0, 16 * 1024)) });
      this.#say('sending', 'sending 16 KiB; it resets the connection once its echo is queued (the client in outputs)');
    } else if (name === 'urgent') {
      this.#open({
        reading: true,
        onConnect: (s) => {
          s.send(Buffer.from('!'), MSG_OOB);
          this.#say('sent', 'sent one urgent byte with MSG_OOB: the next select() has it in the exceptional list');
        },
      });
    } else if (name === 'idle-100') {
      for (let i = 0; i < 100; i++) this.#open({ reading: true });
      this.#say('connecting', 'connecting 100 clients that send nothing');
    } else if (name === 'spin') {
      this.#open({ reading: true });
      this.#say('connecting', 'connecting one idle client');
    }
  }

  /** The echo server's socket the lab keeps in outputs (the spin scenario), by name, or null. */
  spinning(): string | null {
    if (this.info.name !== 'spin' || this.phase !== 'spinning') return null;
    return [...this.clients.values()][0]?.name ?? null;
  }

  /** Called before each wait of the echo loop with its lists going in, and while paused. */
  tick(lists: Lists): void {
    const now = performance.now();
    const elapsed = this.#lastTick === 0 ? 0 : now - this.#lastTick;
    this.#lastTick = now;
    const [first] = this.clients.values();
    const peer = first?.name;
    const { name } = this.info;
    if ((name === 'slow-reader' || name === 'half-close') && peer) this.#sendBuffer(peer, lists);
    if (name === 'slow-reader' && first && peer) {
      if (this.phase === 'feeding' && lists.peers.has(peer) && !lists.inputs.has(peer) && lists.outputs.has(peer)) {
        first.flood = 0;
        first.reading = true;
        this.#widen(peer);
        this.#say('draining', `left inputs (its queue passed --max-queue); now the client reads: step on until it is back in inputs`);
      } else if (this.phase === 'draining' && lists.inputs.has(peer)) {
        this.#say('done', 'back in inputs: its outbox drained to the low-water mark, so the loop reads from it again');
      }
    } else if (name === 'half-close' && first && peer) {
      if (this.phase === 'sent' && lists.peers.has(peer) && !lists.inputs.has(peer)) {
        first.reading = true;
        this.#widen(peer);
        this.#say('draining', 'the server read the end: it left inputs, and now sends what is queued before it closes');
      }
    } else if (name === 'reset' && first && peer) {
      if (this.phase === 'sending' && lists.outputs.has(peer)) {
        const linger = Buffer.alloc(8);
        if (endianness() === 'LE') linger.writeInt32LE(1, 0);
        else linger.writeInt32BE(1, 0);
        const [s] = this.clients.keys();
        s.setsockopt(SOL_SOCKET, SO_LINGER, linger); // l_onoff 1, l_linger 0: close() resets
        this.#close(s);
        this.#say('reset', 'closed with SO_LINGER 0: the kernel sent a reset; the next select() has the server side readable');
      }
    } else if (name === 'idle-100') {
      const inside = [...this.clients.values()].filter((c) => lists.inputs.has(c.name)).length;
      if (this.phase === 'connecting' && inside === this.clients.size && inside > 0) {
        this.#say('idle', `all ${inside} clients in inputs: select() goes in with ${lists.inputs.size} sockets and blocks`);
      }
    } else if (name === 'spin' && first && peer) {
      if (this.phase === 'connecting' && lists.inputs.has(peer)) {
        this.#spinUntil = SPIN_MS;
        this.#spinRan = 0;
        this.#say('spinning', 'kept in outputs by the lab: every select() returns at once with it writable');
      } else if (this.phase === 'spinning') {
        if (!this.host.paused()) this.#spinRan += elapsed;
        if (this.#spinRan >= this.#spinUntil) {
          this.#say('done', 'no longer kept in outputs: the loop blocks again, because it removes a socket from outputs once its outbox is empty');
        }
      }
    }
  }

  /** Shrinks the kernel's send buffer on the server's side of the client once it is accepted. */
  #sendBuffer(peer: string, lists: Lists): void {
    if (this.#shrunk || !lists.peers.has(peer)) return;
    this.host.peer(peer)?.setsockopt(SOL_SOCKET, SO_SNDBUF, SMALL_SNDBUF);
    this.#shrunk = true;
  }

  /** Gives the server's side of the client its room back, now that the client reads. */
  #widen(peer: string): void {
    this.host.peer(peer)?.setsockopt(SOL_SOCKET, SO_SNDBUF, WIDE_SNDBUF);
  }

  readers(): Socket[] {
    return [...this.clients].filter(([, c]) => c.connected && c.reading).map(([s]) => s);
  }

  writers(): Socket[] {
    return [...this.clients].filter(([s, c]) => !c.connected || !s.outbox.empty() || c.flood > 0).map(([s]) => s);
  }

  onReadable(s: Socket): void {
    let data: Buffer;
    try {
      data = s.recv(65536);
    } catch (err) {
      // The server closed with bytes of ours unread (the urgent byte): a reset, and the end.
      if (!(err instanceof SocketError)) throw err;
      data = Buffer.alloc(0);
    }
    if (data.length > 0) return;
    this.#close(s);
    if (this.info.name === 'half-close') this.#say('done', 'got every byte back, then the end: the server closed it once its outbox was empty');
    else if (this.info.name === 'urgent' && this.phase === 'sent') this.#say('done', 'the server dropped it for its exceptional condition');
  }

  onWritable(s: Socket): void {
    const client = this.clients.get(s);
    if (!client) return;
    if (!client.connected) {
      // A non-blocking connect() has finished: SO_ERROR says how.
      const error = s.getsockopt(SOL_SOCKET, SO_ERROR);
      if (error !== 0) {
        this.#say('failed', `a client could not connect (errno ${error})`);
        return this.#close(s);
      }
      client.connected = true;
      client.onConnect?.(s);
    }
    while (client.flood > 0 && s.outbox.pending < client.flood) s.outbox.put(CHUNK);
    if (!s.outbox.empty()) s.outbox.flush();
    if (this.info.name === 'half-close' && this.phase === 'sending' && s.outbox.empty() && client.connected) {
      s.shutdown(SHUT_WR);
      this.#say('sent', 'sent everything and shut down its side (SHUT_WR); it reads nothing until the server has seen the end');
    }
  }

  /** Closes one of its sockets that failed. */
  drop(s: Socket): void {
    this.#close(s);
  }

  /** Closes every socket it opened. */
  stop(): void {
    for (const s of [...this.clients.keys()]) this.#close(s);
  }

  #open({ reading = false, flood = 0, onConnect }: { reading?: boolean; flood?: number; onConnect?: (s: Socket) => void }): void {
    const s = socket(AF_INET, SOCK_STREAM);
    try {
      s.setblocking(false);
      try {
        s.connect(this.host.target());
      } catch (err) {
        if (!(err instanceof BlockingIOError)) throw err;
      }
    } catch (err) {
      s.close();
      throw err;
    }
    this.clients.set(s, { name: formatAddress(s.getsockname()), connected: false, reading, flood, onConnect });
  }

  #close(s: Socket): void {
    if (!this.clients.delete(s)) return;
    this.host.close(s);
  }

  #say(phase: string, text: string): void {
    this.phase = phase;
    this.host.progress(this.info, phase, text);
  }
}
