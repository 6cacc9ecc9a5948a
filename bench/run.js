#!/usr/bin/env node
'use strict';
// The benchmark: every contender in every cell, taking turns (A B C, B C A, C A B) for three
// rounds, and two more at a time, up to a cap, in a cell whose rounds disagree; then a table
// (server CPU per operation and throughput, their spread, ratios to Node's net, uvloop and the C
// servers taken round by round), the JSON of every sample, and the plot. docs/benchmark.md says
// how to read them.
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
const { contenders: allContenders, BASELINE, REFERENCES } = require('./contenders');
const matrix = require('./matrix');
const { progress } = require('./progress');
const { legend, readmeBlock, table, updateReadme, waited, writeJson } = require('./report');
const { killLive, planCpus, runOne } = require('./runner');
const { NOISY, cellIsNoisy, moreRounds, pairedRatio, summarize } = require('./stats');

const usage = `usage: npm run bench -- [options]      (or: select-reactor bench [options])

  --quick            integrity only: each kind of load once, briefly; writes no files
  --rounds N         rounds every cell gets, contenders taking turns in each (default 3)
  --max-rounds N     a cell whose rounds disagree by ${NOISY * 100}% or more gets two more rounds at a
                     time, up to N (default 9); one still noisy then says so in the table
  --duration SEC     measured seconds per run (default 2), after --warmup SEC (default 0.5)
  --only a,b         only these contenders (${allContenders.map((c) => c.name).join(', ')})
  --cells a,b        only these cells, by id or its start (pingpong-64-10, pingpong-64, stream, idle)
  --out DIR          where the JSON and the SVG go (default bench/results)
  --readme           put this run's table and plot in README.md's Performance section

  UVLOOP_PYTHON=PATH the Python that runs uvloop's server (default: python3, else /usr/bin/python3,
                     whichever imports uvloop; Debian's package is python3-uvloop)
`;

function parse(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      'max-rounds': { type: 'string' },
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
  const rounds = Math.round(number('rounds', quick ? 1 : 3, 1));
  return {
    help: values.help,
    quick,
    rounds,
    maxRounds: Math.max(rounds, Math.round(number('max-rounds', quick ? rounds : 9, 1))),
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
 * The cells to run, each with the contenders that take it; a cell that only the baseline can take
 * (10,000 connections with neither the selectors loops nor uvloop) is left out.
 */
function plan(cells, contenders, quick) {
  // --quick checks integrity, so there every contender takes every cell it can hold.
  const takes = (c, cell) => cell.conns <= c.maxConns && (quick || !c.cells || c.cells(cell));
  return cells
    .map((cell) => ({ cell, eligible: contenders.filter((c) => takes(c, cell)) }))
    .filter(({ eligible }) => eligible.some((c) => c.name !== BASELINE));
}

/** Round r's order: each contender goes first in turn, so none always runs first or last. */
function turn(eligible, round) {
  const k = (round - 1) % eligible.length;
  return [...eligible.slice(k), ...eligible.slice(0, k)];
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
  const schedule = plan(cells, contenders, settings.quick);
  if (schedule.length === 0) throw new Error('nothing to run: no cell and contender match the options');
  cells = schedule.map(({ cell }) => cell);
  const planned = schedule.reduce((sum, { eligible }) => sum + eligible.length * settings.rounds, 0);

  const info = machine(cpus);
  const rounds = settings.maxRounds > settings.rounds ? `${settings.rounds} to ${settings.maxRounds} rounds` : `${settings.rounds} round(s)`;
  say(`${settings.quick ? 'quick (integrity only)' : 'benchmark'}: ${cells.length} cells × ${contenders.map((c) => c.name).join(', ')} × ${rounds} = ${planned} runs${settings.maxRounds > settings.rounds ? ' or more' : ''}`);
  say(`machine: ${info.cpu}, ${info.cpus} CPUs, ${info.kernel}, Node ${info.node}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  say(`pinning: ${info.pinning}`);

  const samples = new Map(schedule.map(({ cell, eligible }) => [cell.id, Object.fromEntries(eligible.map((c) => [c.name, []]))]));
  const roundsRun = new Map();
  const failures = [];
  const bar = progress(planned);
  let done = 0;
  let verified = 0;
  for (const { cell, eligible } of schedule) {
    const byContender = samples.get(cell.id);
    let round = 0;
    const runRound = async () => {
      round++;
      for (const contender of turn(eligible, round)) {
        const what = `${cell.name} · round ${round} · ${contender.label}`;
        bar.start(done, what);
        try {
          const result = await runOne(cell, contender, programs, cpus, settings);
          verified += result.verified_bytes;
          byContender[contender.name].push({ round, ...result });
          bar.done(done++, `${what}: ${describe(cell, result)}`);
        } catch (err) {
          failures.push({ cell: cell.id, contender: contender.name, round, error: err.message });
          bar.done(done++, `${what}: FAILED`);
          say(`  ${err.message.trim().split('\n').join('\n  ')}`);
        }
      }
    };
    while (round < settings.rounds) await runRound();
    for (let more; (more = moreRounds(byContender, round, settings.maxRounds)) > 0; ) {
      bar.grow(more * eligible.length);
      for (let k = 0; k < more; k++) await runRound();
    }
    roundsRun.set(cell.id, round);
  }
  bar.end();

  const results = {
    date: started.toISOString(),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    machine: { ...info, loadavg_start: loadStart, loadavg_end: os.loadavg() },
    settings: {
      rounds: settings.rounds,
      max_rounds: settings.maxRounds,
      noisy_spread: NOISY,
      warmup_s: settings.warmup,
      duration_s: settings.duration,
      quick: settings.quick,
    },
    contenders: contenders.map(({ name, label }) => ({ name, label })),
    baseline: BASELINE,
    references: REFERENCES,
    cells: cells.map((cell) => {
      const byContender = samples.get(cell.id);
      const summaries = {};
      const ratios = {};
      for (const [name, list] of Object.entries(byContender)) {
        summaries[name] = summarize(list);
        ratios[name] = {};
        for (const ref of REFERENCES) {
          if (ref in byContender) ratios[name][ref] = pairedRatio(list, byContender[ref], cell.higherWins);
        }
      }
      return { ...cell, rounds: roundsRun.get(cell.id), noisy: cellIsNoisy(byContender), samples: byContender, summaries, ratios };
    }),
    failures,
    verified_bytes: verified,
  };

  if (settings.quick) {
    say(`quick: ${done - failures.length} of ${done} runs passed; ${(verified / 1e6).toFixed(1)} MB echoed, every byte verified`);
  } else {
    process.stdout.write(`\n${table(results, contenders)}\n\n${legend(results)}\n\n`);
    say([`pinning: ${info.pinning}`, `load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`, waited(results)].filter(Boolean).join('; '));
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
      updateReadme(readme, readmeBlock(results, contenders, { svg: rel }));
      say(`updated ${path.relative(process.cwd(), readme)}`);
    }
  }
  for (const f of failures) say(`FAILED: ${f.contender} in ${f.cell}, round ${f.round}: ${f.error.split('\n')[0]}`);
  return failures.length ? 1 : 0;
}

function describe(cell, result) {
  const cpu = `server CPU ${result.cpu_us_per_op?.toFixed(1)} µs/${cell.kind === 'pingpong' ? 'round trip' : 'MB'}, waited for a CPU ${Math.round(result.server_cpu_wait_share * 100)}% of the run`;
  if (cell.kind === 'pingpong') return `${Math.round(result.rps).toLocaleString('en-US')} rt/s, p50 ${Math.round(result.p50_us)} µs, ${cpu}`;
  if (cell.kind === 'stream') return `${result.mbps.toFixed(1)} MB/s, ${cpu}`;
  return `${result.value.toFixed(2)} KiB/conn (RSS ${result.rss_before_kib} → ${result.rss_after_kib} KiB)`;
}

/** pingpong 64 B against connections, one line per contender: round trips/s, and server CPU per round trip. */
async function plotFile(results, contenders, info) {
  const { plotSvg } = await import('./plot.mjs');
  const pingpong64 = results.cells.filter((cell) => cell.kind === 'pingpong' && cell.size === 64);
  const seriesOf = (figure) => {
    const series = {};
    for (const c of contenders) {
      const points = pingpong64.filter((cell) => cell.summaries[c.name]).map((cell) => [cell.conns, figure(cell.summaries[c.name])]);
      if (points.length) series[c.label] = points;
    }
    return series;
  };
  const rates = seriesOf((s) => s.median);
  if (Object.keys(rates).length === 0) return null;
  const svg = await plotSvg({
    panels: [
      { series: rates, title: 'Echo round trips per second, 64-byte pingpong (median of the rounds)', yLabel: 'round trips/s' },
      { series: seriesOf((s) => s.cpu_us_per_op), title: 'Server CPU per round trip, 64-byte pingpong (lower is better)', yLabel: 'µs of CPU per round trip' },
    ],
    note: `${info.cpu}, ${info.cpus} CPUs, ${info.pinning}; ${results.date.slice(0, 10)}`,
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
