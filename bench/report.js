'use strict';
// The results as people read them: one table (Markdown, padded so it also reads in a terminal)
// and the JSON file that keeps every sample.
const fs = require('node:fs');
const path = require('node:path');

const { NOISY, median } = require('./stats');

function formatValue(value, kind) {
  if (kind === 'pingpong') return Math.round(value).toLocaleString('en-US');
  if (kind === 'stream') return value.toFixed(1);
  return value.toFixed(2);
}

function formatRatio(r) {
  return r ? `${r.median.toFixed(2)}×` : '–';
}

function percent(fraction) {
  return fraction === Infinity ? '∞' : `${Math.round(fraction * 100)}%`;
}

/** Rows of cells, padded to their columns' widths. */
function markdownTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** "4% · 2%": how far the rounds' throughput and server CPU disagree, and "noisy" past NOISY. */
function formatSpread(m) {
  const parts = [m.spread, m.cpu_spread].filter((x) => x !== undefined && x !== null).map(percent);
  return `${parts.join(' · ')}${m.noisy ? ' noisy' : ''}`;
}

/**
 * The table: every cell, every contender that ran in it. Server CPU per operation first (the
 * figure another process's load moves least), then the median throughput, how far the rounds
 * disagree, latency, and "times better" than each reference, paired round by round.
 */
function table(results, contenders) {
  const byName = Object.fromEntries(contenders.map((c) => [c.name, c]));
  const refs = results.references.filter((name) => byName[name]);
  const header = ['cell', 'contender', 'server CPU µs/op', 'median', 'spread', 'rounds', 'p50 / p99 µs', ...refs.map((r) => `× ${byName[r].short ?? byName[r].label}`)];
  const rows = [];
  for (const cell of results.cells) {
    let first = true;
    for (const [name, m] of Object.entries(cell.summaries)) {
      const label = first ? `${cell.name} (${cell.short})` : '';
      first = false;
      if (!m) {
        rows.push([label, byName[name]?.label ?? name, 'failed', ...Array(header.length - 3).fill('')]);
        continue;
      }
      rows.push([
        label,
        byName[name]?.label ?? name,
        m.cpu_us_per_op === undefined ? '' : m.cpu_us_per_op.toFixed(cell.kind === 'pingpong' ? 1 : 0),
        formatValue(m.median, cell.kind),
        formatSpread(m),
        String(m.n),
        m.p50_us === undefined ? '' : `${Math.round(m.p50_us)} / ${Math.round(m.p99_us)}`,
        ...refs.map((ref) => (ref in cell.ratios[name] ? formatRatio(cell.ratios[name][ref]) : '')),
      ]);
    }
  }
  return markdownTable(header, rows);
}

/** How to read the table, in a few lines under it. */
function legend(results) {
  const { rounds, max_rounds: max } = results.settings;
  const extra = max > rounds ? `, and a noisy one two more at a time, up to ${max}` : '';
  return [
    '- server CPU µs/op: the server process\'s CPU time (user + system) per round trip, or per MB for',
    '  streams; the median of the rounds.',
    '- median: round trips/s, MB/s, or KiB of RSS per idle connection; the median of the rounds.',
    '- spread: (max − min) / median of the rounds, throughput · CPU; from five rounds on, the highest',
    `  and the lowest are left out. ${percent(NOISY)} or more is noisy. Each cell ran ${rounds} round${rounds === 1 ? '' : 's'}${extra}.`,
    '- × X: in each round, the throughput over X\'s in that same round (for memory, X\'s over ours);',
    '  the median of those.',
  ].join('\n');
}

/** "the servers waited for a CPU 2% of a run (median), 9% at most": how quiet the machine was. */
function waited(results) {
  const shares = results.cells.flatMap((cell) => Object.values(cell.samples).flat()).map((s) => s.server_cpu_wait_share).filter((x) => typeof x === 'number');
  if (shares.length === 0) return null;
  const pct = (x) => `${Math.round(x * 100)}%`;
  return `the servers stood ready with no CPU to run on ${pct(median(shares))} of a run (median), ${pct(Math.max(...shares))} at most`;
}

/** Writes the JSON; returns its path. `stamp` is the run's start, 2025-01-31T12-00-00. */
function writeJson(dir, stamp, results) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${stamp}.json`);
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

/**
 * The README's results block: the plot, the table, how to read it, and where and how it was
 * measured, the machine's load average included, since a busy machine moves every figure.
 */
function readmeBlock(results, contenders, { svg }) {
  const m = results.machine;
  const load = (l) => l.map((x) => x.toFixed(1)).join(' ');
  return [
    `![round trips per second and server CPU per round trip against connections](${svg})`,
    '',
    table(results, contenders),
    '',
    legend(results),
    '',
    `Measured with \`${results.command}\` on ${results.date.slice(0, 10)}: ${m.cpu}, ${m.cpus} CPUs, ` +
      `${m.memory_gib} GiB, ${m.kernel}, Node ${m.node}; ${m.pinning}; load average ${load(m.loadavg_start)} ` +
      `at the start and ${load(m.loadavg_end)} at the end${waited(results) ? `; ${waited(results)}` : ''} (a busy machine ` +
      'lowers every figure, and the server CPU per operation least). The JSON beside the plot has every sample; ' +
      '[docs/benchmark.md](docs/benchmark.md) says how it measures.',
  ].join('\n');
}

/** Replaces the block between the bench markers in the README; throws if they are missing. */
function updateReadme(file, block) {
  const text = fs.readFileSync(file, 'utf8');
  const re = /(<!-- bench:begin[^>]*-->\n)[\s\S]*?(\n<!-- bench:end -->)/;
  if (!re.test(text)) throw new Error(`${file} has no <!-- bench:begin --> ... <!-- bench:end --> block`);
  fs.writeFileSync(file, text.replace(re, (_, begin, end) => `${begin}${block}${end}`));
}

module.exports = { table, legend, waited, markdownTable, writeJson, formatValue, readmeBlock, updateReadme };
