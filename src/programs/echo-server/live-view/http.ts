/**
 * Just enough HTTP/1.1 for the live view, over the package's own sockets: parse a request head,
 * build a response. Every response but the event stream closes its connection, so there are no
 * bodies to read and no keep-alive to track.
 */

/** A request head larger than this is refused (431): the server holds it in memory. */
export const MAX_HEAD = 16 * 1024;

export interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const REASONS: Record<number, string> = {
  200: 'OK',
  204: 'No Content',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  431: 'Request Header Fields Too Large',
};

/** The request in `head`, null while its blank line has not arrived, or an HttpError. */
export function parseHead(head: Buffer): Request | null {
  const end = head.indexOf('\r\n\r\n');
  if (end < 0) {
    if (head.length > MAX_HEAD) throw new HttpError(431, `a request head over ${MAX_HEAD} bytes`);
    return null;
  }
  const [line] = head.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^([A-Z]+) (\/\S*) HTTP\/1\.[01]$/.exec(line ?? '');
  if (!m) throw new HttpError(400, 'not an HTTP/1.x request line');
  const url = new URL(m[2], 'http://localhost');
  return { method: m[1], path: url.pathname, query: url.searchParams };
}

/** A complete response that ends the connection. */
export function response(status: number, type: string, body: string): Buffer {
  const bytes = Buffer.from(body);
  const head =
    `HTTP/1.1 ${status} ${REASONS[status] ?? ''}\r\n` +
    `Content-Type: ${type}\r\nContent-Length: ${bytes.length}\r\n` +
    'Cache-Control: no-store\r\nConnection: close\r\n\r\n';
  return Buffer.concat([Buffer.from(head), bytes]);
}

/** The head of a Server-Sent Events stream, which stays open. */
export function eventStreamHead(): string {
  return 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n\r\n' + 'retry: 1000\n\n';
}

/** One event: one `data:` line (JSON never contains a raw newline) and the blank line. */
export function sseEvent(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}
