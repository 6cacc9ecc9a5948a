/**
 * The accept loop of the thread and process servers: Python's `while True: conn, addr =
 * server.accept()`, with one departure. Node joins a finished worker's thread, and reaps an exited
 * child, only from its event loop, which a loop blocked in accept() never returns to: finished
 * threads would stay mapped until no thread can be made, exited children would stay zombies. So
 * accept() waits at most half a second, and the event loop turns before each one, even when no
 * client comes, as socketserver's ForkingMixIn polls and collects its children (docs/servers.md).
 * Errors of workers or children that could not start are heard in those turns too.
 */
import { TimeoutError, type Address, type Socket } from '../../index';

/** Seconds accept() waits before the event loop gets its turn anyway. */
const TURN_EVERY = 0.5;

/** `server`'s connections as they come, for `for await`; InterruptedError ends it. */
export async function* acceptForever(server: Socket): AsyncGenerator<[Socket, Address]> {
  server.settimeout(TURN_EVERY);
  for (;;) {
    await new Promise((resolve) => setImmediate(resolve));
    let accepted: [Socket, Address];
    try {
      // py: conn, addr = server.accept()
      accepted = server.accept();
    } catch (err) {
      if (err instanceof TimeoutError) continue;
      throw err;
    }
    yield accepted;
  }
}
