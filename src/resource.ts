/**
 * The resource module, the part a server needs: `getrlimit(RLIMIT_NOFILE)` and `setrlimit()`, as
 * Python's. Node has no way to raise the open-file limit, and holding 10,000 connections takes
 * more descriptors than the usual soft limit of 1024. Limits are numbers; `RLIM_INFINITY` is
 * `Infinity`.
 */
import { binding } from './binding';

/** The most descriptors this process may have open: `[soft, hard]`. */
export const RLIMIT_NOFILE = binding.RLIMIT_NOFILE;
/** An unlimited resource. */
export const RLIM_INFINITY = Infinity;

/** `[soft, hard]` for `resource` (an RLIMIT_* constant). */
export function getrlimit(resource: number): [soft: number, hard: number] {
  return binding.getrlimit(resource);
}

/**
 * Sets `resource`'s limits to `[soft, hard]`. Raising the soft limit up to the hard one needs no
 * privilege; raising the hard one does (PermissionError); soft > hard is EINVAL (SocketError).
 */
export function setrlimit(resource: number, limits: [soft: number, hard: number]): void {
  if (!Array.isArray(limits) || limits.length !== 2) {
    throw new TypeError('Expected limits to be [soft, hard]');
  }
  binding.setrlimit(resource, limits[0], limits[1]);
}
