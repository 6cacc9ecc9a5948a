/**
 * The open-file limit of the programs. A server holds one descriptor per client, and the usual
 * soft limit (1024) stops it far short of 10,000 clients; any process may raise its soft limit
 * up to the hard one, so the servers do at start, and say so when they cannot.
 */
import { resource, SocketError } from '../../index';

const { getrlimit, RLIMIT_NOFILE, setrlimit } = resource;

/** Enough for a server, where the hard limit is unlimited (macOS refuses RLIM_INFINITY itself). */
const enough = [1 << 20, 65536, 10240];

/**
 * Raises the soft RLIMIT_NOFILE to the hard limit. Returns what to tell the user when the limit
 * stays low (at most `want` descriptors): why, and what to do; otherwise null.
 */
export function raiseOpenFileLimit(want = 4096): string | null {
  const [soft, hard] = getrlimit(RLIMIT_NOFILE);
  let failure: SocketError | null = null;
  if (soft < hard) {
    for (const target of hard === Infinity ? enough : [hard]) {
      try {
        setrlimit(RLIMIT_NOFILE, [target, hard]);
        failure = null;
        break;
      } catch (err) {
        if (!(err instanceof SocketError)) throw err;
        failure = err;
      }
    }
  }
  const [now] = getrlimit(RLIMIT_NOFILE);
  if (now >= want) return null;
  if (failure !== null) return `cannot raise the open-file limit from ${soft} to ${hard} (${failure.message}): at most about ${now} clients`;
  return `the open-file limit is ${now} and the hard limit allows no more (ulimit -Hn): at most about ${now} clients`;
}
