'use strict';
// Comparing the two sides' results, step by step, with the differences that differences.json
// allows: the one place that says where select-reactor answers differently from Python, and why.
const differences = require('./differences.json');

const normalName = (name) => (name === 'SocketError' ? differences.errorNames.SocketError : name);

/** Our result with our error names in Python's words (differences.json's errorNames). */
function normal(result) {
  return result.error ? { ...result, error: normalName(result.error) } : result;
}

const oneOf = (want, value) => (Array.isArray(want) ? want.includes(value) : want === value);

/** Does `result` match a `python` or `ours` pattern of differences.json? */
function matches(pattern = {}, result) {
  if (pattern.ok && !('ok' in result)) return false;
  if ('error' in pattern && !oneOf(pattern.error, result.error)) return false;
  if ('errno' in pattern && !oneOf(pattern.errno, result.errno)) return false;
  return true;
}

/**
 * Does step `st`, on a socket of Python's `ctx` ([family, type, closed]), match a `when` of
 * differences.json: its op, the flags it names, the socket's type, whether the socket is closed,
 * the step's other arguments (`args`)?
 */
function applies(when, st, ctx) {
  if (when.op && !when.op.includes(st.op)) return false;
  if (when.flags && !when.flags.every((flag) => (st.flags ?? []).includes(flag))) return false;
  if (when.type && !(ctx && when.type.includes(ctx[1]))) return false;
  if ('closed' in when && !(ctx && ctx[2] === when.closed)) return false;
  if (when.args && !Object.entries(when.args).every(([name, want]) => oneOf(want, st[name]))) return false;
  return true;
}

const hexOf = (value) => (Array.isArray(value) ? value[0].hex : value.hex);
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
/** The byte count of a recv (bytes), recvfrom ([bytes, address]) or recv_into ([count, buffer]). */
const countOf = (value) => (Array.isArray(value) ? (typeof value[0] === 'number' ? value[0] : value[0].hex.length / 2) : value.hex.length / 2);

/** What must still agree between the two results under an entry's `compare`. */
const comparisons = {
  classes: () => true,
  any: () => true,
  // Python's bytes past n were never written: ours must be exactly the n before them.
  'capped-at-n': (st, py, ours) => {
    const [p, o] = [hexOf(py.ok), hexOf(ours.ok)];
    return p.length > 2 * st.n && o === p.slice(0, 2 * st.n) && (!Array.isArray(py.ok) || same(py.ok[1], ours.ok[1]));
  },
  'length-only': (st, py, ours) => countOf(py.ok) === countOf(ours.ok),
  // Python returned more than n bytes (the kernel's count, not what it wrote): ours may do anything.
  'python-over-n': (st, py) => countOf(py.ok) > st.n,
};

/** The entry of differences.json that excuses a difference at step `i`, or null. */
function excuse(steps, pyResults, i, py, ours) {
  const st = steps[i];
  for (const entry of [...differences.deliberate, ...differences.pending]) {
    const { since, ...when } = entry.when;
    if (!applies(when, st, py.ctx)) continue;
    if (since && !steps.slice(0, i + 1).some((earlier, k) => applies(since, earlier, pyResults[k].ctx))) continue;
    if (!matches(entry.python, py) || !matches(entry.ours, ours)) continue;
    if (comparisons[entry.compare](st, py, ours)) return entry;
  }
  return null;
}

/** A result without the socket's [family, type] that Python's side adds for `when`. */
function withoutCtx(result) {
  const bare = { ...result };
  delete bare.ctx;
  return bare;
}

const usage = new Map(); // entry id -> times it excused a difference

/**
 * Compares Python's results with ours, step by step. Returns null when they agree (or differ only
 * as differences.json allows), or the first step where they differ without a listed reason.
 */
function compare(steps, pyResults, ourResults) {
  for (let i = 0; i < pyResults.length; i++) {
    const py = pyResults[i];
    if (py.blocked) return null; // Python would wait forever here: ours never ran it
    const ours = ourResults[i];
    if (ours === undefined) return { step: i, py, ours: { missing: true } };
    if (same(withoutCtx(py), normal(ours))) continue;
    const entry = excuse(steps, pyResults, i, py, normal(ours));
    if (!entry) return { step: i, py, ours };
    usage.set(entry.id, (usage.get(entry.id) ?? 0) + 1);
    if (entry.then === 'stop') return null;
  }
  return null;
}

module.exports = { differences, compare, excuse, comparisons, usage, withoutCtx };
