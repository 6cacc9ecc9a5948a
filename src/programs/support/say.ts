/**
 * Output for the programs: Python's `print` formats (`b'...'` for bytes, `('127.0.0.1', 51234)`
 * for addresses), so that a transcript reads like the Python original's, written synchronously.
 */
import { writeSync } from 'node:fs';

import { type Address, select, Outbox } from '../../index';

/** Python's repr() of bytes: `b'hello\n'`. */
export function pyBytes(data: Uint8Array): string {
  const quote = data.includes(0x27) && !data.includes(0x22) ? '"' : "'";
  let out = 'b' + quote;
  for (const byte of data) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte === quote.charCodeAt(0)) out += '\\' + quote;
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += '\\x' + byte.toString(16).padStart(2, '0');
  }
  return out + quote;
}

/** Python's str() of an address: `('127.0.0.1', 51234)`, or the AF_UNIX path. */
export function pyAddress(address: Address | null): string {
  if (address === null) return 'None';
  if (typeof address === 'string') return address;
  const [host, ...rest] = address;
  return `('${host}', ${rest.join(', ')})`;
}

function pyRepr(value: unknown): string {
  if (value instanceof Uint8Array) return pyBytes(value);
  if (value instanceof Outbox) return pyBytes(value.peek()); // copied only when printed
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return pyAddress(value as Address);
  return String(value);
}

function pyStr(value: unknown): string {
  if (Array.isArray(value)) return pyAddress(value as Address);
  if (value instanceof Uint8Array) return pyBytes(value);
  return String(value);
}

/**
 * Writes all of `text` to `fd` before returning. A select() loop never hands control back to
 * Node's event loop, so asynchronous stdio would never be flushed; and a non-blocking pipe that
 * is full is waited on with select() itself. A reader that has gone (EPIPE) is not an error.
 */
export function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') select([], [fd], []);
      else if (code === 'EPIPE') return;
      else throw err;
    }
  }
}

export type Say = (format: string, ...args: unknown[]) => void;

/** What a sayer hands its tap: the line said, and the format and arguments it was made of. */
export type Tap = (line: string, format: string, args: unknown[]) => void;

/**
 * A `say()` as the Python programs have: `say('received "%r" from %s', data, address)`. Like
 * Python's logging, it formats lazily, so a quiet server pays nothing for its messages. A `tap`
 * (the live view's log) gets every line, quiet or not, with the format and arguments it came from:
 * the live view reads from them what the loop did with each socket.
 */
export function sayer(fd: number, quiet = false, tap?: Tap): Say {
  if (quiet && !tap) return () => {};
  return (format, ...args) => {
    let i = 0;
    const line = format.replace(/%[rs]/g, (spec) => (spec === '%r' ? pyRepr(args[i++]) : pyStr(args[i++])));
    if (!quiet) writeAll(fd, line + '\n');
    tap?.(line, format, args);
  };
}

/**
 * The sayer of a loop that runs once per message: undefined when nothing would be said, so that
 * `say?.(format, ...)` skips its arguments too. A quiet echo server otherwise looks up a peer's
 * address (a Map lookup) for every line it does not print, several times per round trip.
 */
export function loopSayer(fd: number, quiet = false, tap?: Tap): Say | undefined {
  return quiet && !tap ? undefined : sayer(fd, quiet, tap);
}
