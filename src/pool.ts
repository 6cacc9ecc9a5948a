/**
 * The memory recv() and outbox.peek() read into: one slab shared by every socket on this thread,
 * handed out as views, so that a read allocates no ArrayBuffer of its own (a Buffer made in native
 * code costs more than a small recv itself). Node's Buffer.allocUnsafe pool makes the same trade:
 * a view keeps its whole slab alive, so copy (`Buffer.from(view)`) small reads kept for long.
 */
const SLAB_SIZE = 256 * 1024;
/** Reads larger than this get a buffer of their own, not a slab. */
export const POOLED_MAX = SLAB_SIZE / 2;

let slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
let offset = 0;

/** A slab with room for `size` bytes at {@link poolOffset}; a new slab when this one is too full. */
export function poolFor(size: number): Buffer {
  if (slab.length - offset < size) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    offset = 0;
  }
  return slab;
}

export function poolOffset(): number {
  return offset;
}

/** The `n` bytes just written at the offset, as a view; the pool moves past them (8-aligned). */
export function poolTake(n: number): Buffer {
  const view = slab.subarray(offset, offset + n);
  offset = Math.min(slab.length, (offset + n + 7) & ~7);
  return view;
}
