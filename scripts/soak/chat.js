'use strict';
// The soak's chat clients, in the chat server's own shape (src/programs/chat-server/main.ts): clients
// join, send lines and leave, and every line must reach every other client exactly once, in order
// per sender, never its own sender. Each line says who sent it and where it stands:
// "<session> <seq> <total> <filler>", the filler a function of (session, seq), so that any client
// can check any line without a copy of what was sent. The server prefixes "127.0.0.1:<port>: ".
//
// What a client receives from one sender is a contiguous run of that sender's lines: the server
// sends a line to whoever is in its inputs when it reads it, and a client stays there from its
// accept() to its EOF. Two witnesses stay connected for the whole run, so every session that
// starts after they joined must reach each of them whole: lines 0 to total - 1. A client the
// server lets go of as too slow a reader (by design) is counted apart, not as an error.
const crypto = require('node:crypto');
const net = require('node:net');

const HOST = '127.0.0.1';
const LINE = /^127\.0\.0\.1:(\d+): (\d+) (\d+) (\d+) (\S+)$/;

function chatShape(port, stats, { maxSize, settle }) {
  const maxFill = Math.max(8, Math.min(maxSize, 1000));
  const fill = crypto.randomBytes(maxFill * 2).toString('base64url').slice(0, maxFill * 2);
  const filler = (sid, seq, max) => fill.substr((sid * 31 + seq * 17) % maxFill, 1 + ((sid * 7 + seq * 13) % max));
  // Sessions that may still be heard from: session -> {port, total, early, done, failed}.
  const sessions = new Map();
  const witnesses = [];
  let nextSid = 1;
  let joined = false; // the witnesses are in the server's inputs: sessions from now on reach them whole

  /**
   * One connection's reader: checks every line as it comes. `self` is the session this connection
   * sends as; `witness` a witness's state ({seen: session -> next seq, heard: the last session
   * heard}), when this connection must see every line whole.
   */
  function reader(self, witness) {
    const last = new Map(); // sender session -> last seq seen here
    let rest = '';
    return {
      /** Checks what came; returns a failure's [kind, detail], or null. */
      take(text) {
        const parts = (rest + text).split('\n');
        rest = parts.pop();
        for (const line of parts) {
          const bad = check(line);
          if (bad) return bad;
        }
        if (rest.length > 4096) return ['garbled line', `${rest.length} bytes without a newline`];
        return null;
      },
      /** At EOF: nothing may be left half-way through a line. */
      end: () => (rest ? ['partial line at EOF', JSON.stringify(rest.slice(0, 80))] : null),
      last,
    };

    function check(line) {
      const m = LINE.exec(line);
      if (!m) return ['garbled line', JSON.stringify(line.slice(0, 120))];
      const [from, sid, seq, total] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
      if (sid === self) return ['own line back', `session ${sid} line ${seq}`];
      if (seq >= total || m[5] !== filler(sid, seq, fillMax(total))) return ['corrupt line', JSON.stringify(line.slice(0, 120))];
      const session = sessions.get(sid);
      if (session && session.port !== from) return ['wrong sender', `session ${sid} is port ${session.port}, the line says ${from}`];
      const prev = last.get(sid);
      if (prev !== undefined && seq !== prev + 1) return [seq <= prev ? 'repeated line' : 'lost line', `session ${sid}: line ${seq} after ${prev}`];
      if (witness && prev === undefined && seq !== 0 && session && !session.early) {
        return ['lost line', `a witness got session ${sid}'s line ${seq} first`];
      }
      last.set(sid, seq); // kept past the sender's last line, so that a repeat of it is caught
      if (witness) {
        witness.heard = sid;
        if (session && !session.early) witness.seen.set(sid, seq + 1);
      }
      stats.lines++;
      stats.verified += line.length + 1;
      return null;
    }
  }

  // Churn lines fit in 64 bytes with their header; mixed ones reach up to --max-size (1000 at most).
  const fillMax = (total) => (total === 1 ? 32 : maxFill);

  /** One session: join, send its lines, half-close, read to EOF. */
  function session(mode) {
    const sid = nextSid++;
    const total = mode === 'churn' ? 1 : 1 + crypto.randomInt(20);
    const text = Array.from({ length: total }, (_, seq) => `${sid} ${seq} ${total} ${filler(sid, seq, fillMax(total))}\n`).join('');
    const record = { port: 0, total, early: !joined, done: false, failed: false };
    return new Promise((resolve) => {
      const sock = net.connect({ port, host: HOST, allowHalfOpen: true });
      const read = reader(sid, null);
      let halfClosed = false;
      let done = false;
      const finish = (kind, detail) => {
        if (done) return;
        done = true;
        if (kind === 'dropped') stats.dropped++;
        else if (kind) stats.fail(kind, `${detail} (session ${sid})`);
        if (kind) record.failed = true;
        else record.done = true;
        if (!kind && record.early) sessions.delete(sid);
        sock.destroy();
        resolve(!kind);
      };
      sock.setEncoding('utf8');
      sock.on('error', (err) => finish(halfClosed && err.code === 'ECONNRESET' ? 'dropped' : err.code || err.message, 'mid-session'));
      sock.on('data', (data) => {
        const bad = read.take(data);
        if (bad) finish(...bad);
      });
      sock.on('end', () => {
        if (!halfClosed) return finish('dropped');
        const bad = read.end();
        finish(...(bad ?? [null]));
      });
      sock.on('connect', async () => {
        record.port = sock.localPort;
        sessions.set(sid, record);
        if (mode === 'churn') {
          sock.end(text);
          halfClosed = true;
          return;
        }
        // Mixed: in random pieces a few milliseconds apart, so that lines arrive split.
        for (let off = 0; off < text.length && !done;) {
          const piece = 1 + crypto.randomInt(Math.min(text.length - off, 512));
          sock.write(text.slice(off, off + piece));
          off += piece;
          await new Promise((r) => setTimeout(r, crypto.randomInt(5)));
        }
        if (!done) {
          sock.end();
          halfClosed = true;
        }
      });
    });
  }

  /** A client that stays for the whole run and must see every later session whole. */
  function witness() {
    const sid = nextSid++;
    const w = { seen: new Map(), heard: 0, sid, gone: false, sock: net.connect({ port, host: HOST, allowHalfOpen: true }) };
    const read = reader(sid, w);
    w.last = read.last;
    w.sock.setEncoding('utf8');
    w.sock.on('data', (data) => {
      const bad = read.take(data);
      if (bad) {
        stats.fail(bad[0], `${bad[1]} (witness ${sid})`);
        w.gone = true;
        w.sock.destroy();
      }
    });
    const lost = (why) => {
      if (w.gone || w.leaving) return;
      w.gone = true; // let go as a slow reader: its completeness checks end here
      stats.dropped++;
      stats.note(`witness ${sid} ${why}`);
    };
    w.sock.on('end', () => lost('disconnected by the server'));
    w.sock.on('error', (err) => lost(`failed: ${err.code || err.message}`));
    w.connected = new Promise((resolve, reject) => {
      w.sock.once('connect', resolve);
      w.sock.once('error', reject);
    });
    return w;
  }

  /** Sessions done whose lines some witness still lacks: [witness, session, record] triples. */
  function missing() {
    const out = [];
    for (const [sid, record] of sessions) {
      if (record.early || !record.done) continue;
      for (const w of witnesses) if (!w.gone && (w.seen.get(sid) ?? 0) < record.total) out.push([w, sid, record]);
    }
    return out;
  }

  /** Forgets the sessions every witness has whole (the soak may run for millions of them). */
  function forget() {
    for (const [sid, record] of sessions) {
      if (record.failed || (record.done && witnesses.every((w) => w.gone || (w.seen.get(sid) ?? 0) >= record.total))) {
        sessions.delete(sid);
        for (const w of witnesses) {
          w.seen.delete(sid);
          w.last.delete(sid);
        }
      }
    }
  }

  let sweep = null;

  return {
    describe: (mode) => (mode === 'churn'
      ? 'connect, one line of at most 64 B, half-close, read to EOF; 2 witnesses see every line'
      : 'sessions of 1 to 20 lines in random pieces, half-close, read to EOF; 2 witnesses see every line'),
    warmUp: () => session('churn'),
    /** Two witnesses join; a session's line reaching both proves they are in the server's inputs. */
    async begin() {
      witnesses.push(witness(), witness());
      await Promise.all(witnesses.map((w) => w.connected));
      for (let tries = 0; !joined; tries++) {
        if (tries === 100) throw new Error('the witnesses never heard a line: is the chat server relaying?');
        const sid = nextSid;
        await session('churn');
        for (let i = 0; i < 10 && !joined; i++) {
          await new Promise((r) => setTimeout(r, 20));
          joined = witnesses.every((w) => !w.gone && w.heard === sid);
        }
      }
      sweep = setInterval(forget, 1000);
    },
    connection: session,
    /** The witnesses must catch up with every session done; then they leave. */
    async finish() {
      clearInterval(sweep);
      const until = Date.now() + settle * 1000;
      while (missing().length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      for (const [w, sid, record] of missing()) {
        stats.fail('lost line', `witness ${w.sid} has ${w.seen.get(sid) ?? 0} of session ${sid}'s ${record.total} lines`);
      }
      await Promise.all(witnesses.map((w) => new Promise((resolve) => {
        if (w.sock.destroyed) return resolve();
        w.sock.on('close', resolve);
        w.leaving = true;
        w.sock.end();
        setTimeout(() => w.sock.destroy(), 5000).unref();
      })));
    },
  };
}

module.exports = { chatShape };
