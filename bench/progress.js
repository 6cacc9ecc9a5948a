'use strict';
// The live progress line: on a terminal, the run under way with the count, the time so far and
// an estimate of what is left (the count grows when a noisy cell gets more rounds), rewritten in
// place; each finished run leaves one line above it. Elsewhere (CI logs, pipes), only the
// finished runs' lines.

function clock(ms) {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function progress(total, stream = process.stderr) {
  const tty = Boolean(stream.isTTY);
  const t0 = Date.now();
  const head = (i) => {
    const elapsed = Date.now() - t0;
    const left = i > 0 ? ` ~${clock((elapsed / i) * (total - i))} left` : '';
    return `[${String(i + 1).padStart(String(total).length)}/${total} ${clock(elapsed)}${left}]`;
  };
  const clear = tty ? '\r\x1b[K' : '';
  return {
    start(i, what) {
      if (tty) stream.write(`${clear}${`${head(i)} ${what} …`.slice(0, (stream.columns || 200) - 1)}`);
    },
    done(i, what) {
      stream.write(`${clear}${head(i)} ${what}\n`);
    },
    /** More runs than planned: a noisy cell's extra rounds. */
    grow(runs) {
      total += runs;
    },
    end() {
      stream.write(`${clear}${total} runs in ${clock(Date.now() - t0)}\n`);
    },
  };
}

module.exports = { progress };
