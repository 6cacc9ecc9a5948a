'use strict';
// Summaries of a cell's samples: the median and spread of each contender's rounds, whether they
// agree well enough to be read, and ratios between contenders taken round by round.

/** Rounds whose figures spread wider than this, (max - min) / median, are called noisy. */
const NOISY = 0.15;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * How far the rounds disagree: (max - min) / median. From five rounds on, the highest and the
 * lowest are left out first, so that one round that another process disturbed does not call a
 * figure noisy that the other rounds agree on (a range of all rounds only widens as rounds are
 * added, and adding rounds is how a noisy cell is given its chance). null for no figures.
 */
function spread(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const drop = sorted.length >= 5 ? 1 : 0;
  const kept = sorted.slice(drop, sorted.length - drop);
  const mid = median(sorted);
  if (mid === 0) return kept[kept.length - 1] === kept[0] ? 0 : Infinity;
  return (kept[kept.length - 1] - kept[0]) / Math.abs(mid);
}

function summarize(samples) {
  if (samples.length === 0) return null;
  const values = samples.map((s) => s.value);
  const summary = {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    spread: spread(values),
    n: values.length,
  };
  // Latency percentiles: the median over runs of each run's own percentile.
  if (samples.every((s) => typeof s.p50_us === 'number' && s.roundtrips > 0)) {
    summary.p50_us = median(samples.map((s) => s.p50_us));
    summary.p99_us = median(samples.map((s) => s.p99_us));
  }
  if (samples.every((s) => typeof s.cpu_us_per_op === 'number')) {
    const cpu = samples.map((s) => s.cpu_us_per_op);
    summary.cpu_us_per_op = median(cpu);
    summary.cpu_spread = spread(cpu);
  }
  if (samples.every((s) => typeof s.server_cpu_wait_share === 'number')) summary.cpu_wait_share = median(samples.map((s) => s.server_cpu_wait_share));
  summary.noisy = summary.spread >= NOISY || summary.cpu_spread >= NOISY;
  return summary;
}

/**
 * How `samples` compare with `reference`'s, as "times better": in each round both ran, the
 * throughput over the reference's (or for memory, where lower wins, the reference's over ours),
 * and the median of those. Pairing by round cancels what the machine did to that round. null
 * when no round has both.
 */
function pairedRatio(samples, reference, higherWins) {
  const theirs = new Map((reference ?? []).map((s) => [s.round, s.value]));
  const ratios = [];
  for (const s of samples ?? []) {
    const r = theirs.get(s.round);
    if (r === undefined || s.value <= 0 || r <= 0) continue;
    ratios.push(higherWins ? s.value / r : r / s.value);
  }
  return ratios.length ? { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), n: ratios.length } : null;
}

/** True while some contender's rounds in this cell disagree by NOISY or more. */
function cellIsNoisy(samplesByContender) {
  return Object.values(samplesByContender).some((list) => list.length > 0 && summarize(list).noisy);
}

/**
 * How many more rounds a cell gets after `round`: none once its rounds agree or it has had
 * `maxRounds`, else two (so that the median stays one round's figure), or the one left below the cap.
 */
function moreRounds(samplesByContender, round, maxRounds) {
  if (round >= maxRounds || !cellIsNoisy(samplesByContender)) return 0;
  return Math.min(2, maxRounds - round);
}

module.exports = { NOISY, median, spread, summarize, pairedRatio, cellIsNoisy, moreRounds };
