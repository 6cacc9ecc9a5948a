#!/usr/bin/env node
'use strict';
// The benchmark: every contender in every cell, alternating A B C A B C for three rounds, then a
// table (medians, ranges, ratios to Node's net from this same run), the JSON of every sample,
// and the plot.
//
//   npm run bench [-- --quick]        also: select-reactor bench [--quick]
//
// --quick runs each kind of load once, briefly: it checks that every contender echoes every
// byte (the load generator verifies each one), not how fast; it writes no files.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const { build } = require('./build');
const { contenders: allContenders, BASELINE, CEILING } = require('./contenders');
const matrix = require('./matrix');
const { progress } = require('./progress');
const { readmeBlock, table, updateReadme, writeJson } = require('./report');
const { killLive, planCpus, runOne } = require('./runner');
const { summarize } = require('./stats');

const usage = `usage: npm run bench -- [options]      (or: select-reactor bench [options])

  --quick            integrity only: each kind of load once, briefly; writes no files
  --rounds N         rounds per cell, contenders alternating in each (default 3)
  --duration SEC     measured seconds per run (default 2), after --warmup SEC (default 0.5)
  --only a,b         only these contenders (${allContenders.map((c) => c.name).join(', ')})
  --cells a,b        only these cells, by id or its start (pingpong-64-10, pingpong-64, stream, idle)
  --out DIR          where the JSON and the SVG go (default bench/results)
  --readme           put this run's table and plot in README.md's Performance section
`;

function parse(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      only: { type: 'string' },
      cells: { type: 'string' },
      out: { type: 'string', default: path.join(__dirname, 'results') },
      readme: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const number = (name, fallback, min) => {
    if (values[name] === undefined) return fallback;
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got ${values[name]}`);
    return n;
  };
  const quick = values.quick;
  return {
    help: values.help,
    quick,
    rounds: Math.round(number('rounds', quick ? 1 : 3, 1)),
    duration: number('duration', quick ? 0.3 : 2, 0.05),
    warmup: number('warmup', quick ? 0.1 : 0.5, 0),
    settle: quick ? 100 : 500, // ms between idle connections being ready and reading the RSS
    only: values.only?.split(',').filter(Boolean) ?? null,
    cells: values.cells?.split(',').filter(Boolean) ?? null,
    out: path.resolve(values.out),
    readme: values.readme,
  };
}

function machine(cpus) {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.availableParallelism(),
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    pinning: cpus.pinned ? `server on CPU ${cpus.server}, load generator on CPU ${cpus.loadgen} (taskset)` : `none (${cpus.why})`,
    loadgen_threads: cpus.threads,
  };
}

function chooseContenders(settings, say) {
  const chosen = [];
  for (const c of allContenders) {
    if (settings.only && !settings.only.includes(c.name)) continue;
    const available = c.available ? c.available() : true;
    if (available !== true) {
      say(`skipping ${c.label}: ${available}`);
      continue;
    }
    chosen.push(c);
  }
  if (settings.only) {
    const unknown = settings.only.filter((n) => !allContenders.some((c) => c.name === n));
    if (unknown.length) throw new Error(`unknown contender(s): ${unknown.join(', ')}`);
  }
  return chosen;
}

/**
 * The runs in order: for each cell, each round, each contender that can take the cell; a cell
 * that only the baseline can take (10,000 connections without issue 4's selectors) is skipped.
 */
function plan(cells, contenders, rounds) {
  const runs = [];
  for (const cell of cells) {
    const eligible = contenders.filter((c) => cell.conns <= c.maxConns && (!c.cells || c.cells(cell)));
    if (!eligible.some((c) => c.name !== BASELINE)) continue;
    for (let round = 1; round <= rounds; round++) for (const contender of eligible) runs.push({ cell, contender, round });
  }
  return runs;
}

function stampOf(date) {
  return date.toISOString().slice(0, 19).replace(/:/g, '-');
}

async function main(argv) {
  const settings = parse(argv);
  if (settings.help) {
    process.stdout.write(usage);
    return 0;
  }
  const say = (line) => process.stderr.write(`${line}\n`);
  const started = new Date();
  const loadStart = os.loadavg();
  if (!fs.existsSync(path.join(__dirname, '..', 'lib', 'cli.js'))) throw new Error('lib/cli.js is missing: run `npm run build` first');
  const programs = build({ log: (line) => say(`bench: ${line}`) });
  const cpus = planCpus();
  const contenders = chooseContenders(settings, say);
  let cells = settings.quick ? matrix.quick : matrix.full;
  if (settings.cells) cells = cells.filter((cell) => settings.cells.some((part) => cell.id === part || cell.id.startsWith(`${part}-`)));
  const runs = plan(cells, contenders, settings.rounds);
  if (runs.length === 0) throw new Error('nothing to run: no cell and contender match the options');
  cells = cells.filter((cell) => runs.some((run) => run.cell === cell));

  const info = machine(cpus);
  say(`${settings.quick ? 'quick (integrity only)' : 'benchmark'}: ${cells.length} cells × ${contenders.map((c) => c.name).join(', ')} × ${settings.rounds} round(s) = ${runs.length} runs`);
  say(`machine: ${info.cpu}, ${info.cpus} CPUs, ${info.kernel}, Node ${info.node}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  say(`pinning: ${info.pinning}`);

  const samples = new Map(cells.map((cell) => [cell.id, Object.fromEntries(contenders.map((c) => [c.name, []]))]));
  const failures = [];
  const bar = progress(runs.length);
  let verified = 0;
  for (const [i, { cell, contender, round }] of runs.entries()) {
    bar.start(i, `${cell.name} · round ${round}/${settings.rounds} · ${contender.label}`);
    try {
      const result = await runOne(cell, contender, programs, cpus, settings);
      verified += result.verified_bytes;
      samples.get(cell.id)[contender.name].push({ round, ...result });
      bar.done(i, `${cell.name} · round ${round}/${settings.rounds} · ${contender.label}: ${describe(cell, result)}`);
    } catch (err) {
      failures.push({ cell: cell.id, contender: contender.name, round, error: err.message });
      bar.done(i, `${cell.name} · round ${round}/${settings.rounds} · ${contender.label}: FAILED`);
      say(`  ${err.message.trim().split('\n').join('\n  ')}`);
    }
  }
  bar.end();

  const results = {
    date: started.toISOString(),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    machine: { ...info, loadavg_start: loadStart, loadavg_end: os.loadavg() },
    settings: { rounds: settings.rounds, warmup_s: settings.warmup, duration_s: settings.duration, quick: settings.quick },
    contenders: contenders.map(({ name, label }) => ({ name, label })),
    baseline: BASELINE,
    ceiling: CEILING,
    cells: cells.map((cell) => {
      const byContender = samples.get(cell.id);
      const summaries = {};
      for (const [name, list] of Object.entries(byContender)) {
        if (!runs.some((r) => r.cell === cell && r.contender.name === name)) continue;
        summaries[name] = summarize(list);
      }
      return { ...cell, samples: byContender, summaries };
    }),
    failures,
    verified_bytes: verified,
  };

  if (settings.quick) {
    say(`quick: ${runs.length - failures.length} of ${runs.length} runs passed; ${(verified / 1e6).toFixed(1)} MB echoed, every byte verified`);
  } else {
    process.stdout.write(`\n${table(results, contenders, { baseline: BASELINE, ceiling: CEILING })}\n\n`);
    say(`pinning: ${info.pinning}; load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const stamp = stampOf(started);
    say(`wrote ${path.relative(process.cwd(), writeJson(settings.out, stamp, results))}`);
    const svg = await plotFile(results, contenders, info);
    const svgFile = path.join(settings.out, `${stamp}.svg`);
    if (svg) {
      fs.writeFileSync(svgFile, svg);
      say(`wrote ${path.relative(process.cwd(), svgFile)}`);
    }
    if (settings.readme) {
      const readme = path.join(__dirname, '..', 'README.md');
      const rel = path.relative(path.dirname(readme), svgFile).split(path.sep).join('/');
      updateReadme(readme, readmeBlock(results, contenders, { baseline: BASELINE, ceiling: CEILING, svg: rel }));
      say(`updated ${path.relative(process.cwd(), readme)}`);
    }
  }
  for (const f of failures) say(`FAILED: ${f.contender} in ${f.cell}, round ${f.round}: ${f.error.split('\n')[0]}`);
  return failures.length ? 1 : 0;
}

function describe(cell, result) {
  const cpu = `server CPU ${result.cpu_us_per_op?.toFixed(1)} µs/${cell.kind === 'pingpong' ? 'round trip' : 'MB'}`;
  if (cell.kind === 'pingpong') return `${Math.round(result.rps).toLocaleString('en-US')} rt/s, p50 ${Math.round(result.p50_us)} µs, ${cpu}`;
  if (cell.kind === 'stream') return `${result.mbps.toFixed(1)} MB/s, ${cpu}`;
  return `${result.value.toFixed(2)} KiB/conn (RSS ${result.rss_before_kib} → ${result.rss_after_kib} KiB)`;
}

/** pingpong 64 B: round trips/s against connections, one line per contender. */
async function plotFile(results, contenders, info) {
  const { plotSvg } = await import('./plot.mjs');
  const series = {};
  for (const c of contenders) {
    const points = results.cells
      .filter((cell) => cell.kind === 'pingpong' && cell.size === 64 && cell.summaries[c.name])
      .map((cell) => [cell.conns, cell.summaries[c.name].median]);
    if (points.length) series[c.label] = points;
  }
  if (Object.keys(series).length === 0) return null;
  const svg = await plotSvg({
    series,
    title: 'Echo round trips per second, 64-byte pingpong (median of 3)',
    note: `${info.cpu}, ${info.cpus} CPUs, ${info.pinning}; ${results.date.slice(0, 10)}`,
    yLabel: 'round trips/s',
  });
  if (!svg) process.stderr.write('plot skipped: @observablehq/plot and linkedom are devDependencies (npm install in a checkout)\n');
  return svg;
}

// Interrupted: stop what this harness started, and nothing else.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killLive();
    process.stderr.write(`\nbench: ${signal}, stopped\n`);
    process.exit(130);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench: ${err.message}\n`);
    process.exitCode = 1;
  },
);
