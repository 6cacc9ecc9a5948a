/**
 * `echo-server --ui PORT`: a live view of the select() loop in a browser. The view is served by
 * the same loop, over the package's own sockets: its listener, its HTTP connections and its test
 * clients ride along in the echo server's select() call (see {@link LiveView.select}), and only
 * the echo server's own sockets come back to it, so the loop reads as it always did.
 *
 *   GET /          the page (page.ts)
 *   GET /events    Server-Sent Events: one `data:` line per select() call, per connection change,
 *                  and per line the server says
 *   POST /client   opens a test client, which connects to the echo server and says hello
 *   POST /client/send?name=...&text=...   and   POST /client/close?name=...
 *
 * A browser that reads slowly, or has gone, never stalls the echo server: each viewer has an
 * outbox like any client, and past MAX_VIEWER_QUEUE it misses events (and is told how many).
 */
import {
  AF_INET,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_ERROR,
  SO_REUSEADDR,
  SHUT_WR,
  BlockingIOError,
  SocketError,
  select,
  formatAddress,
  socket,
  type Address,
  type Socket,
} from '../../../index';
import { eventStreamHead, HttpError, parseHead, response, sseEvent, type Request } from './http';
import { PAGE } from './page';
import { pyBytes } from '../../support/say';
import { namer } from '../trace';

/** Bytes queued for one viewer past which it misses events instead of growing the queue. */
export const MAX_VIEWER_QUEUE = 256 * 1024;
const RECENT = 200; // log lines replayed to a viewer that has just arrived
const MAX_TEST_CLIENTS = 32;
const GREETING = 'hello from the browser\n';

type Conn =
  | { kind: 'request'; head: Buffer } // reading an HTTP request
  | { kind: 'viewer'; skipped: number } // an open event stream
  | { kind: 'answering' } // a response queued; closed once sent
  | { kind: 'draining' }; // response sent and SHUT_WR done: reading to EOF, so close() sends no reset

interface TestClient {
  name: string;
  connected: boolean;
}

export class LiveView {
  readonly #listener: Socket;
  readonly #conns = new Map<Socket, Conn>();
  readonly #clients = new Map<Socket, TestClient>();
  readonly #recent: unknown[] = [];
  #echo: Socket | null = null;
  #peers: ReadonlyMap<Socket, Address> = new Map();
  #known = new Set<Socket>();
  #lastNames = new Map<Socket, Address>(); // a closed socket has no name left to ask for
  #name: (s: Socket) => string = (s) => `fd ${s.fileno()}`;
  #calls = 0;

  /** Listens at once, so that a taken port is an error before the echo server starts. */
  constructor(host: string, port: number) {
    const s = socket(AF_INET, SOCK_STREAM);
    try {
      s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
      s.setblocking(false);
      s.bind([host, port]);
      s.listen(16);
    } catch (err) {
      s.close();
      throw err;
    }
    this.#listener = s;
  }

  get port(): number {
    return Number(this.#listener.getsockname()[1]);
  }

  /** The echo server's listener and its clients: what the view shows and what test clients reach. */
  watch(echoListener: Socket, peers: ReadonlyMap<Socket, Address>): void {
    this.#echo = echoListener;
    this.#peers = peers;
    this.#name = namer(echoListener, peers);
  }

  /** A line the echo server said, for the page's log. */
  readonly log = (line: string): void => {
    this.#publish({ type: 'log', line }, true);
  };

  /**
   * select(inputs, outputs, xlist) for the echo loop, with the view's own sockets added to the
   * call. The view's sockets are served here; the call returns only when some of the echo
   * server's own sockets are ready, and then with only those, as select() itself would have.
   */
  readonly select = (
    inputs: Socket[],
    outputs: Socket[],
    xlist: Socket[],
    timeout: number | null = null,
  ): [Socket[], Socket[], Socket[]] => {
    this.#noticeConnections();
    // The echo loop passes a timeout only while its listener is paused (out of descriptors).
    const deadline = timeout === null ? null : performance.now() + timeout * 1000;
    for (;;) {
      const left = deadline === null ? null : Math.max(0, deadline - performance.now()) / 1000;
      const [r, w, x] = select([...inputs, ...this.#readers()], [...outputs, ...this.#writers()], xlist, left);
      const readable = r.filter((s) => !this.#mine(s));
      const writable = w.filter((s) => !this.#mine(s));
      for (const s of r) if (this.#mine(s)) this.#guard(s, () => this.#onReadable(s));
      for (const s of w) if (this.#mine(s)) this.#guard(s, () => this.#onWritable(s));
      if (readable.length + writable.length + x.length > 0) {
        this.#publish({
          type: 'select',
          n: ++this.#calls,
          inputs: inputs.map(this.#name),
          outputs: outputs.map(this.#name),
          readable: readable.map(this.#name),
          writable: writable.map(this.#name),
          exceptional: x.map(this.#name),
          queued: this.#queued(),
          viewers: this.#viewerQueues(),
        });
        return [readable, writable, x];
      }
      if (deadline !== null && performance.now() >= deadline) return [[], [], []]; // timed out, as select() does
    }
  };

  close(): void {
    for (const s of [this.#listener, ...this.#conns.keys(), ...this.#clients.keys()]) s.close();
    this.#conns.clear();
    this.#clients.clear();
  }

  #mine(s: Socket): boolean {
    return s === this.#listener || this.#conns.has(s) || this.#clients.has(s);
  }

  #readers(): Socket[] {
    const conns = [...this.#conns].filter(([, c]) => c.kind !== 'answering').map(([s]) => s);
    const clients = [...this.#clients].filter(([, c]) => c.connected).map(([s]) => s);
    return [this.#listener, ...conns, ...clients];
  }

  #writers(): Socket[] {
    const conns = [...this.#conns.keys()].filter((s) => !s.outbox.empty());
    const clients = [...this.#clients].filter(([s, c]) => !c.connected || !s.outbox.empty()).map(([s]) => s);
    return [...conns, ...clients];
  }

  /** A failing view socket is closed; nothing it does may reach the echo loop. */
  #guard(s: Socket, act: () => void): void {
    if (!this.#mine(s)) return; // closed earlier in this round
    try {
      act();
    } catch (err) {
      if (!(err instanceof SocketError)) throw err;
      // A failed accept() (a client that reset first, EMFILE) costs that client, not the view.
      if (s !== this.#listener) this.#drop(s);
    }
  }

  #drop(s: Socket): void {
    const client = this.#clients.get(s);
    if (client) this.log(`test client ${client.name} closed`);
    this.#conns.delete(s);
    this.#clients.delete(s);
    s.close();
  }

  #onReadable(s: Socket): void {
    if (s === this.#listener) {
      const [conn] = s.accept();
      conn.setblocking(false);
      this.#conns.set(conn, { kind: 'request', head: Buffer.alloc(0) });
      return;
    }
    const client = this.#clients.get(s);
    const data = s.recv(65536);
    if (client) {
      if (data.length === 0) return this.#drop(s);
      return this.log(`test client ${client.name} got back ${pyBytes(data)}`);
    }
    const conn = this.#conns.get(s);
    if (data.length === 0 || conn === undefined) return this.#drop(s); // the browser has gone
    if (conn.kind !== 'request') return; // a viewer or a draining connection: nothing to read
    conn.head = Buffer.concat([conn.head, data]);
    try {
      const request = parseHead(conn.head);
      if (request !== null) this.#route(s, request);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      this.#answer(s, err.status, 'text/plain', `${err.message}\n`);
    }
  }

  #onWritable(s: Socket): void {
    const client = this.#clients.get(s);
    if (client && !client.connected) {
      // A non-blocking connect() has finished: SO_ERROR says how.
      const error = s.getsockopt(SOL_SOCKET, SO_ERROR);
      if (error !== 0) {
        this.log(`test client ${client.name} could not connect (errno ${error})`);
        return this.#drop(s);
      }
      client.connected = true;
      s.outbox.put(GREETING);
    }
    s.outbox.flush();
    const conn = this.#conns.get(s);
    if (conn?.kind === 'answering' && s.outbox.empty()) {
      s.shutdown(SHUT_WR);
      this.#conns.set(s, { kind: 'draining' });
    }
  }

  #route(s: Socket, { method, path, query }: Request): void {
    const json = (status: number, body: unknown): void => this.#answer(s, status, 'application/json', JSON.stringify(body));
    if (method === 'GET' && path === '/') return this.#answer(s, 200, 'text/html; charset=utf-8', PAGE);
    if (method === 'GET' && path === '/events') {
      this.#conns.set(s, { kind: 'viewer', skipped: 0 });
      s.outbox.put(eventStreamHead());
      s.outbox.put(sseEvent(this.#hello()));
      return;
    }
    if (method === 'POST' && path === '/client') {
      if (this.#clients.size >= MAX_TEST_CLIENTS) return json(409, { error: `at most ${MAX_TEST_CLIENTS} test clients` });
      return json(200, { name: this.#openClient() });
    }
    const target = [...this.#clients].find(([, c]) => c.name === query.get('name'));
    if (method === 'POST' && (path === '/client/send' || path === '/client/close')) {
      if (!target) return json(404, { error: 'no such test client' });
      const [sock, client] = target;
      if (path === '/client/close') {
        this.#drop(sock);
        return json(200, { closed: client.name });
      }
      if (!client.connected) return json(409, { error: 'still connecting' });
      sock.outbox.put(`${query.get('text') ?? ''}\n`);
      return json(200, { sent: client.name });
    }
    if (path === '/' || path === '/events' || path.startsWith('/client')) return json(405, { error: `${method} not allowed` });
    return json(404, { error: `nothing at ${path}` });
  }

  #answer(s: Socket, status: number, type: string, body: string): void {
    this.#conns.set(s, { kind: 'answering' });
    s.outbox.put(response(status, type, body));
  }

  /** A client of the echo server, on this loop: non-blocking connect, then a hello. */
  #openClient(): string {
    if (this.#echo === null) throw new HttpError(409, 'the echo server is not listening yet');
    const s = socket(AF_INET, SOCK_STREAM);
    s.setblocking(false);
    try {
      s.connect(this.#echo.getsockname());
    } catch (err) {
      if (!(err instanceof BlockingIOError)) {
        s.close();
        throw err;
      }
    }
    const name = formatAddress(s.getsockname());
    this.#clients.set(s, { name, connected: false });
    this.log(`test client ${name} connecting`);
    return name;
  }

  /** Connection changes, seen as changes in the echo server's peers between two select() calls. */
  #noticeConnections(): void {
    const now = new Set(this.#peers.keys());
    for (const s of now) if (!this.#known.has(s)) this.#publish({ type: 'connect', name: this.#name(s) });
    for (const s of this.#known) {
      if (!now.has(s)) this.#publish({ type: 'disconnect', name: formatAddress(this.#lastNames.get(s) ?? null) });
    }
    this.#lastNames = new Map(this.#peers);
    this.#known = now;
  }

  #queued(): Record<string, number> {
    const queued: Record<string, number> = {};
    for (const s of this.#peers.keys()) queued[this.#name(s)] = s.fileno() < 0 ? 0 : s.outbox.pending;
    return queued;
  }

  #viewerQueues(): number[] {
    return [...this.#conns].filter(([, c]) => c.kind === 'viewer').map(([s]) => s.outbox.pending);
  }

  #hello(): unknown {
    return {
      type: 'hello',
      listener: this.#echo ? formatAddress(this.#echo.getsockname()) : '',
      queued: this.#queued(),
      log: this.#recent,
    };
  }

  /** Queues `event` for every viewer that is keeping up; the others count what they missed. */
  #publish(event: unknown, keep = false): void {
    if (keep) {
      this.#recent.push(event);
      if (this.#recent.length > RECENT) this.#recent.shift();
    }
    const text = sseEvent(event);
    for (const [s, conn] of this.#conns) {
      if (conn.kind !== 'viewer') continue;
      if (s.outbox.pending > MAX_VIEWER_QUEUE) {
        conn.skipped++;
        continue;
      }
      if (conn.skipped > 0) {
        s.outbox.put(sseEvent({ type: 'skipped', count: conn.skipped }));
        conn.skipped = 0;
      }
      s.outbox.put(text);
    }
  }
}
