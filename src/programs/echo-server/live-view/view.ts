/**
 * `echo-server --ui PORT`: a live view of the echo loop in a browser, and a lab to pause and step
 * it. The view is served by the same loop, over the package's own sockets: its listener, its HTTP
 * connections, its test clients and its scenarios' clients ride along in the echo server's
 * select() call (see {@link LiveView.select}; for the selectors loop, in its selector, see
 * {@link LiveView.selectorWait}), and only the echo server's own sockets come back to it, so the
 * loop reads as it always did.
 *
 *   GET /          the page (page.ts)
 *   GET /events    Server-Sent Events: one `data:` line per select() call, per connection change,
 *                  and per line the server says
 *   POST /client   opens a test client, which connects to the echo server and says hello
 *   POST /client/send?name=...&text=...   and   POST /client/close?name=...
 *   POST /lab/pause, /lab/resume, /lab/step?count=N (or ?until=inputs)   the lab: the loop stops
 *                  before its next select() (serving only the view's sockets meanwhile), and runs
 *                  N calls on step (or as many as it takes for a socket to join or leave inputs)
 *   POST /lab/scenario?name=...  and  POST /lab/scenario/stop   one scenario's clients (scenarios.ts)
 *   GET /lab/state  paused or not, calls so far, the scenario running
 *
 * The echo loop calls the view's wait instead of select() (or its selector's select()), and
 * nothing else: what the loop did with each socket is read from what it says (lab.ts). Without
 * --ui none of this runs.
 *
 * A browser that reads slowly, or has gone, never stalls the echo server: each viewer has an
 * outbox like any client, and past MAX_VIEWER_QUEUE it misses events (and is told how many).
 */
import {
  AF_INET,
  selectors,
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
import { namer, selectorLists } from '../trace';
import { maskName, names, Narrator, SELECT_WORDS, SELECTOR_WORDS, type Lists, type Mark, type Words } from './lab';
import { Scenario, SCENARIOS, type Host } from './scenarios';

/** Bytes queued for one viewer past which it misses events instead of growing the queue. */
export const MAX_VIEWER_QUEUE = 256 * 1024;
const RECENT = 200; // log lines replayed to a viewer that has just arrived
const MAX_TEST_CLIENTS = 32;
const GREETING = 'hello from the browser\n';
const MARKS = 300; // select() calls the timeline keeps
// Past this many calls in a second the loop is spinning: the view sends a summary each second
// (the calls' marks and a rate) instead of an event per call and per line, which would cost
// the page, and the loop, more than the calls themselves.
const LOUD_CALLS = 200;
const MAX_STEPS = 1000;
// A line the echo server says can hold a whole outbox (`sending "b'...'"`): the page gets the
// start of it, or one line could cost a viewer more than all the events of a second.
const MAX_LINE = 300;

type Conn =
  | { kind: 'request'; head: Buffer } // reading an HTTP request
  | { kind: 'viewer'; skipped: number } // an open event stream
  | { kind: 'answering' } // a response queued; closed once sent
  | { kind: 'draining' }; // response sent and SHUT_WR done: reading to EOF, so close() sends no reset

interface TestClient {
  name: string;
  connected: boolean;
}

function sameSet<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
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
  // The lab: pause and step, what the loop did, scenarios, the timeline.
  #maxQueue = 0;
  #words: Words = SELECT_WORDS;
  #narrator = new Narrator(0, SELECT_WORDS);
  #paused = false;
  #steps = 0;
  #untilInputs = false; // stepping until a socket joins or leaves `inputs`
  #before: Lists | null = null; // the lists going in to the last wait
  #scenario: Scenario | null = null;
  readonly #marks: Mark[] = [];
  #windowStart = performance.now();
  #windowCalls = 0;
  #quietMarks: Mark[] = [];
  #quietLines = 0;
  // The selectors loop's selector, in which the view's own sockets are registered too.
  #selector: selectors.BaseSelector<unknown> | null = null;
  readonly #registered = new Map<Socket, number>();

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

  /**
   * The echo server's listener and its clients: what the view shows and what test clients reach;
   * `maxQueue` (--max-queue) for saying why a client left `inputs`.
   */
  watch(echoListener: Socket, peers: ReadonlyMap<Socket, Address>, maxQueue: number, words: Words = SELECT_WORDS): void {
    this.#echo = echoListener;
    this.#peers = peers;
    this.#name = namer(echoListener, peers);
    this.#maxQueue = maxQueue;
    this.#words = words;
    this.#narrator = new Narrator(maxQueue, words);
  }

  /** A line the echo server said, for the page's log and for the lab's account of the round. */
  readonly log = (line: string, format?: string, args?: unknown[]): void => {
    if (format !== undefined && args !== undefined) this.#narrator.heard(format, args);
    if (!this.#loud()) {
      this.#quietLines++;
      return;
    }
    const shown = line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}… (${(line.length - MAX_LINE).toLocaleString('en')} more characters)` : line;
    this.#publish({ type: 'log', line: shown }, true);
  };

  /**
   * select(inputs, outputs, xlist) for the echo loop, with the view's own sockets added to the
   * call. The view's sockets are served here; the call returns only when some of the echo
   * server's own sockets are ready, and then with only those, as select() itself would have.
   * Paused, it waits here, serving only the view's sockets, until a step or resume.
   */
  readonly select = (
    inputs: Socket[],
    outputs: Socket[],
    xlist: Socket[],
    timeout: number | null = null,
  ): [Socket[], Socket[], Socket[]] => {
    this.#enter(inputs, outputs);
    // The echo loop passes a timeout only while its listener is paused (out of descriptors).
    const deadline = timeout === null ? null : performance.now() + timeout * 1000;
    let waited = 0;
    for (;;) {
      const spin = this.#spinTarget();
      const outs = spin !== null && !outputs.includes(spin) ? [...outputs, spin] : outputs;
      if (this.#holding()) {
        this.#hold(() => ({ inputs: inputs.map(this.#name), outputs: outs.map(this.#name) }));
        waited = 0;
      }
      const left = deadline === null ? null : Math.max(0, deadline - performance.now()) / 1000;
      const start = performance.now();
      const [r, w, x] = select([...inputs, ...this.#readers()], [...outs, ...this.#writers()], xlist, left);
      waited += performance.now() - start;
      const readable = r.filter((s) => !this.#mine(s));
      const writable = w.filter((s) => !this.#mine(s));
      for (const s of r) if (this.#mine(s)) this.#guard(s, () => this.#onReadable(s));
      for (const s of w) if (this.#mine(s)) this.#guard(s, () => this.#onWritable(s));
      const timedOut = deadline !== null && performance.now() >= deadline;
      if (readable.length + writable.length + x.length > 0 || timedOut) {
        this.#came(waited, { inputs, outputs: outs, readable, writable, exceptional: x });
        return [readable, writable, x];
      }
    }
  };

  /**
   * The selectors loop's `sel.select(timeout)`, with the view's own sockets registered in the
   * same selector: served here, never returned. Paused, it waits here as select() above does.
   */
  selectorWait<D>(sel: selectors.BaseSelector<D>): (timeout?: number | null) => selectors.Ready<D> {
    this.#selector = sel;
    const { EVENT_READ, EVENT_WRITE } = selectors;
    const echoKeys = (): selectors.SelectorKey<D>[] =>
      [...(sel.get_map()?.values() ?? [])].filter((key) => !this.#mine(key.fileobj as Socket));
    return (timeout = null) => {
      const [inputs, outputs] = selectorLists(echoKeys(), []);
      this.#enter(inputs, outputs);
      const deadline = timeout === null ? null : performance.now() + timeout * 1000;
      let waited = 0;
      for (;;) {
        const spin = this.#spinTarget();
        const key = spin === null ? undefined : sel.get_map()?.get(spin);
        if (spin !== null && key && !(key.events & EVENT_WRITE)) sel.modify(spin, key.events | EVENT_WRITE, key.data);
        const keys = echoKeys();
        if (this.#holding()) {
          const [ins, outs] = selectorLists(keys, []);
          this.#hold(() => ({ inputs: ins.map(this.#name), outputs: outs.map(this.#name), keys: this.#keys(keys) }));
          waited = 0;
        }
        this.#register(sel);
        const left = deadline === null ? null : Math.max(0, deadline - performance.now()) / 1000;
        const start = performance.now();
        const ready = sel.select(left);
        waited += performance.now() - start;
        const theirs = ready.filter(([k]) => !this.#mine(k.fileobj as Socket));
        for (const [k, mask] of ready) {
          const s = k.fileobj as Socket;
          if (mask & EVENT_READ && this.#mine(s)) this.#guard(s, () => this.#onReadable(s));
          if (mask & EVENT_WRITE && this.#mine(s)) this.#guard(s, () => this.#onWritable(s));
        }
        const timedOut = deadline !== null && performance.now() >= deadline;
        if (theirs.length > 0 || timedOut) {
          const [ins, outs, readable, writable] = selectorLists(keys, theirs);
          this.#came(waited, { inputs: ins, outputs: outs, readable, writable, exceptional: [] }, {
            keys: this.#keys(keys),
            ready: theirs.map(([k, mask]) => [this.#name(k.fileobj as Socket), maskName(mask)]),
          });
          return theirs;
        }
      }
    };
  }

  /** After the echo loop has ended (and closed its selector, with the view's keys in it). */
  close(): void {
    this.#selector = null;
    this.#registered.clear();
    this.#scenario?.stop();
    this.#scenario = null;
    for (const s of [this.#listener, ...this.#conns.keys(), ...this.#clients.keys()]) this.#release(s);
    this.#conns.clear();
    this.#clients.clear();
  }

  /** Before each wait: the account of the last round, connection changes, the scenario's turn. */
  #enter(inputs: Socket[], outputs: Socket[]): void {
    this.#noticeConnections();
    const now: Lists = { inputs: names(inputs, this.#name), outputs: names(outputs, this.#name), peers: names(this.#peers.keys(), this.#name) };
    if (this.#before !== null) {
      const deeds = this.#narrator.deeds(this.#before, now);
      if (this.#loud()) this.#publish({ type: 'did', n: this.#calls, deeds });
    }
    if (this.#untilInputs && this.#before !== null && !sameSet(this.#before.inputs, now.inputs)) {
      this.#steps = 0;
      this.#untilInputs = false;
    }
    this.#before = now;
    this.#scenario?.tick(now);
  }

  #holding(): boolean {
    return this.#paused && this.#steps === 0;
  }

  /**
   * Paused: says what goes in to the next call, then serves only the view's own sockets (the
   * page, its test clients, the scenario's clients) until a step or resume.
   */
  #hold(goingIn: () => Record<string, unknown>): void {
    this.#publish({ type: 'lab', state: 'paused', next: this.#calls + 1, queued: this.#queued(), ...goingIn() });
    while (this.#holding()) {
      const [r, w] = select(this.#readers(), this.#writers(), [], null);
      for (const s of r) this.#guard(s, () => this.#onReadable(s));
      for (const s of w) this.#guard(s, () => this.#onWritable(s));
      if (this.#before !== null) this.#scenario?.tick(this.#before);
    }
    this.#publish({ type: 'lab', state: this.#paused ? 'stepping' : 'running', next: this.#calls + 1, steps: this.#steps });
  }

  /** A call that came back to the echo loop: counted, marked on the timeline, shown. */
  #came(waited: number, lists: Record<'inputs' | 'outputs' | 'readable' | 'writable' | 'exceptional', Socket[]>, extra: Record<string, unknown> = {}): void {
    const n = ++this.#calls;
    if (this.#steps > 0) this.#steps--;
    const mark: Mark = [
      n,
      Math.round(waited * 100) / 100,
      lists.inputs.length,
      lists.outputs.length,
      lists.readable.length,
      lists.writable.length,
      lists.exceptional.length,
    ];
    this.#marks.push(mark);
    if (this.#marks.length > MARKS) this.#marks.shift();
    const now = performance.now();
    this.#windowCalls++;
    if (now - this.#windowStart >= 1000) {
      this.#publish({
        type: 'rate',
        perSecond: Math.round((this.#windowCalls * 1000) / (now - this.#windowStart)),
        marks: this.#quietMarks,
        lines: this.#quietLines,
      });
      this.#windowStart = now;
      this.#windowCalls = 0;
      this.#quietMarks = [];
      this.#quietLines = 0;
    }
    if (!this.#loud()) {
      this.#quietMarks.push(mark);
      if (this.#quietMarks.length > MARKS) this.#quietMarks.shift();
      return;
    }
    this.#publish({
      type: 'select',
      n,
      blocked: mark[1],
      inputs: lists.inputs.map(this.#name),
      outputs: lists.outputs.map(this.#name),
      readable: lists.readable.map(this.#name),
      writable: lists.writable.map(this.#name),
      exceptional: lists.exceptional.map(this.#name),
      queued: this.#queued(),
      viewers: this.#viewerQueues(),
      ...extra,
    });
  }

  /** Whether each call is shown as it happens (not while the loop spins, unless paused). */
  #loud(): boolean {
    return this.#paused || this.#windowCalls <= LOUD_CALLS;
  }

  /** The echo server's socket the spin scenario keeps in outputs, or null. */
  #spinTarget(): Socket | null {
    const name = this.#scenario?.spinning() ?? null;
    if (name === null) return null;
    for (const s of this.#peers.keys()) if (this.#name(s) === name) return s;
    return null;
  }

  #keys(keys: selectors.SelectorKey<unknown>[]): [string, string][] {
    return keys.map((key) => [this.#name(key.fileobj as Socket), maskName(key.events)]);
  }

  /** The view's sockets in the selector, each for what it waits on now. */
  #register(sel: selectors.BaseSelector<unknown>): void {
    const want = new Map<Socket, number>();
    for (const s of this.#readers()) want.set(s, selectors.EVENT_READ);
    for (const s of this.#writers()) want.set(s, (want.get(s) ?? 0) | selectors.EVENT_WRITE);
    for (const s of [...this.#registered.keys()]) {
      if (want.has(s)) continue;
      sel.unregister(s);
      this.#registered.delete(s);
    }
    for (const [s, events] of want) {
      const had = this.#registered.get(s);
      if (had === events) continue;
      if (had === undefined) sel.register(s, events);
      else sel.modify(s, events);
      this.#registered.set(s, events);
    }
  }

  /** Closes one of the view's sockets, out of the selector first (its descriptor may be reused). */
  #release(s: Socket): void {
    if (this.#registered.delete(s)) this.#selector?.unregister(s);
    s.close();
  }

  #mine(s: Socket): boolean {
    return s === this.#listener || this.#conns.has(s) || this.#clients.has(s) || (this.#scenario?.clients.has(s) ?? false);
  }

  #readers(): Socket[] {
    const conns = [...this.#conns].filter(([, c]) => c.kind !== 'answering').map(([s]) => s);
    const clients = [...this.#clients].filter(([, c]) => c.connected).map(([s]) => s);
    return [this.#listener, ...conns, ...clients, ...(this.#scenario?.readers() ?? [])];
  }

  #writers(): Socket[] {
    const conns = [...this.#conns.keys()].filter((s) => !s.outbox.empty());
    const clients = [...this.#clients].filter(([s, c]) => !c.connected || !s.outbox.empty()).map(([s]) => s);
    return [...conns, ...clients, ...(this.#scenario?.writers() ?? [])];
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
    if (this.#scenario?.clients.has(s)) return this.#scenario.drop(s);
    const client = this.#clients.get(s);
    if (client) this.#say(`test client ${client.name} closed`);
    this.#conns.delete(s);
    this.#clients.delete(s);
    this.#release(s);
  }

  /** A line of the view's own for the page's log. */
  #say(line: string): void {
    this.#publish({ type: 'log', line }, true);
  }

  #onReadable(s: Socket): void {
    if (s === this.#listener) {
      const [conn] = s.accept();
      conn.setblocking(false);
      this.#conns.set(conn, { kind: 'request', head: Buffer.alloc(0) });
      return;
    }
    if (this.#scenario?.clients.has(s)) return this.#scenario.onReadable(s);
    const client = this.#clients.get(s);
    const data = s.recv(65536);
    if (client) {
      if (data.length === 0) return this.#drop(s);
      return this.#say(`test client ${client.name} got back ${pyBytes(data)}`);
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
    if (this.#scenario?.clients.has(s)) return this.#scenario.onWritable(s);
    const client = this.#clients.get(s);
    if (client && !client.connected) {
      // A non-blocking connect() has finished: SO_ERROR says how.
      const error = s.getsockopt(SOL_SOCKET, SO_ERROR);
      if (error !== 0) {
        this.#say(`test client ${client.name} could not connect (errno ${error})`);
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
    if (method === 'GET' && path === '/favicon.ico') return this.#answer(s, 204, 'image/x-icon', ''); // none, and no 404 in the console
    if (method === 'GET' && path === '/events') {
      this.#conns.set(s, { kind: 'viewer', skipped: 0 });
      s.outbox.put(eventStreamHead());
      s.outbox.put(sseEvent(this.#hello()));
      return;
    }
    if (path === '/lab' || path.startsWith('/lab/')) return this.#labRoute(method, path, query, json);
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

  /** The lab's controls: pause, step, resume, scenarios, and its state. */
  #labRoute(method: string, path: string, query: URLSearchParams, json: (status: number, body: unknown) => void): void {
    if (method === 'GET' && path === '/lab/state') return json(200, this.#labState());
    const posts = ['/lab/pause', '/lab/resume', '/lab/step', '/lab/scenario', '/lab/scenario/stop'];
    if (!posts.includes(path)) return json(path === '/lab/state' ? 405 : 404, { error: `${method} ${path}: not here` });
    if (method !== 'POST') return json(405, { error: `${method} not allowed` });
    if (path === '/lab/pause') {
      this.#paused = true;
      this.#steps = 0;
      this.#untilInputs = false;
      return json(200, this.#labState());
    }
    if (path === '/lab/resume') {
      this.#paused = false;
      this.#steps = 0;
      this.#untilInputs = false;
      this.#publish({ type: 'lab', state: 'running', next: this.#calls + 1 });
      return json(200, this.#labState());
    }
    if (path === '/lab/step') {
      const until = query.get('until');
      if (until !== null && until !== 'inputs') return json(400, { error: 'until must be inputs' });
      const text = query.get('count') ?? (until === null ? '1' : String(MAX_STEPS));
      const count = Number(text);
      if (!/^\d+$/.test(text) || count < 1 || count > MAX_STEPS) return json(400, { error: `count must be an integer in [1, ${MAX_STEPS}]` });
      if (!this.#paused) return json(409, { error: 'pause first: a step runs one select() of a paused loop' });
      this.#steps = count;
      this.#untilInputs = until !== null;
      return json(200, this.#labState());
    }
    if (path === '/lab/scenario/stop') {
      const name = this.#scenario?.info.name ?? null;
      this.#stopScenario();
      return json(200, { stopped: name });
    }
    const info = SCENARIOS.find((sc) => sc.name === query.get('name'));
    if (!info) return json(404, { error: `no scenario ${query.get('name') ?? ''}: ${SCENARIOS.map((sc) => sc.name).join(', ')}` });
    if (this.#echo === null) return json(409, { error: 'the echo server is not listening yet' });
    this.#stopScenario();
    this.#scenario = new Scenario(info, this.#scenarioHost());
    this.#say(`scenario ${info.title}: ${info.lookFor}`);
    this.#scenario.start();
    return json(200, { scenario: info.name, lookFor: info.lookFor });
  }

  #stopScenario(): void {
    const scenario = this.#scenario;
    if (scenario === null) return;
    this.#scenario = null;
    scenario.stop();
    this.#say(`scenario ${scenario.info.title}: stopped, its clients closed`);
    this.#publish({ type: 'scenario', name: scenario.info.name, title: scenario.info.title, phase: 'stopped', text: 'stopped: its clients closed' });
  }

  #scenarioHost(): Host {
    return {
      target: () => (this.#echo as Socket).getsockname(),
      peer: (name) => [...this.#peers.keys()].find((s) => this.#name(s) === name),
      maxQueue: this.#maxQueue,
      progress: (info, phase, text) => {
        this.#say(`scenario ${info.title}: ${text}`);
        this.#publish({ type: 'scenario', name: info.name, title: info.title, phase, text, lookFor: info.lookFor });
      },
      close: (s) => this.#release(s),
      paused: () => this.#paused,
    };
  }

  #labState(): unknown {
    const scenario = this.#scenario;
    return {
      paused: this.#paused,
      steps: this.#steps,
      calls: this.#calls,
      mode: this.#words === SELECTOR_WORDS ? 'selectors' : 'select',
      scenario: scenario && { name: scenario.info.name, phase: scenario.phase, sockets: scenario.clients.size },
    };
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
    this.#say(`test client ${name} connecting`);
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
      maxQueue: this.#maxQueue,
      lab: this.#labState(),
      words: this.#words,
      scenarios: SCENARIOS,
      marks: this.#marks,
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
