'use strict';
// The results as people read them: one table (Markdown, padded so it also reads in a terminal)
// and the JSON file that keeps every sample.
const fs = require('node:fs');
const path = require('node:path');

const { ratio } = require('./stats');

function formatValue(value, kind) {
  if (kind === 'pingpong') return Math.round(value).toLocaleString('en-US');
  if (kind === 'stream') return value.toFixed(1);
  return value.toFixed(2);
}

function formatRatio(r) {
  return r === null ? '–' : `${r.toFixed(2)}×`;
}

/** Rows of cells, padded to their columns' widths. */
function markdownTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/**
 * The table: every cell, every contender that ran in it, median and range, latency for pingpong,
 * and "times better" than the baseline and the ceiling, from the same run.
 */
function table(results, contenders, { baseline, ceiling }) {
  const label = Object.fromEntries(contenders.map((c) => [c.name, c.label]));
  const header = ['cell', 'contender', 'median', 'min–max', 'p50 / p99 µs', 'server CPU µs/op', `× ${label[baseline]}`, `× ${label[ceiling]}`];
  const rows = [];
  for (const cell of results.cells) {
    const s = cell.summaries;
    for (const name of Object.keys(s)) {
      const m = s[name];
      if (!m) {
        rows.push([`${cell.name} (${cell.short})`, label[name] ?? name, 'failed', '', '', '', '', '']);
        continue;
      }
      rows.push([
        `${cell.name} (${cell.short})`,
        label[name] ?? name,
        formatValue(m.median, cell.kind),
        `${formatValue(m.min, cell.kind)}–${formatValue(m.max, cell.kind)}`,
        m.p50_us === undefined ? '' : `${Math.round(m.p50_us)} / ${Math.round(m.p99_us)}`,
        m.cpu_us_per_op === undefined ? '' : m.cpu_us_per_op.toFixed(cell.kind === 'pingpong' ? 1 : 0),
        name === baseline ? '1.00×' : formatRatio(ratio(m, s[baseline], cell.higherWins)),
        name === ceiling ? '1.00×' : formatRatio(ratio(m, s[ceiling], cell.higherWins)),
      ]);
    }
  }
  return markdownTable(header, rows);
}

/** Writes the JSON; returns its path. `stamp` is the run's start, 2025-01-31T12-00-00. */
function writeJson(dir, stamp, results) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${stamp}.json`);
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

/**
 * The README's results block: the plot, the table, and where and how they were measured, from
 * the machine's load average too, since a busy machine moves every figure.
 */
function readmeBlock(results, contenders, { baseline, ceiling, svg }) {
  const m = results.machine;
  const load = (l) => l.map((x) => x.toFixed(1)).join(' ');
  return [
    `![round trips per second against connections](${svg})`,
    '',
    table(results, contenders, { baseline, ceiling }),
    '',
    `Measured with \`${results.command}\` on ${results.date.slice(0, 10)}: ${m.cpu}, ${m.cpus} CPUs, ` +
      `${m.memory_gib} GiB, ${m.kernel}, Node ${m.node}; ${m.pinning}; load average ${load(m.loadavg_start)} ` +
      `at the start and ${load(m.loadavg_end)} at the end (a busy machine lowers every figure, and ` +
      'the server CPU per operation least). The JSON beside the plot has every sample.',
  ].join('\n');
}

/** Replaces the block between the bench markers in the README; throws if they are missing. */
function updateReadme(file, block) {
  const text = fs.readFileSync(file, 'utf8');
  const re = /(<!-- bench:begin[^>]*-->\n)[\s\S]*?(\n<!-- bench:end -->)/;
  if (!re.test(text)) throw new Error(`${file} has no <!-- bench:begin --> ... <!-- bench:end --> block`);
  fs.writeFileSync(file, text.replace(re, (_, begin, end) => `${begin}${block}${end}`));
}

module.exports = { table, markdownTable, writeJson, formatValue, readmeBlock, updateReadme };
