'use strict';
// Summaries of a cell's samples: median and range per contender, and ratios between contenders'
// medians from the same run (never across runs: the machine drifts).

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function summarize(samples) {
  if (samples.length === 0) return null;
  const values = samples.map((s) => s.value);
  const summary = { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
  // Latency percentiles: the median over runs of each run's own percentile.
  if (samples.every((s) => typeof s.p50_us === 'number' && s.roundtrips > 0)) {
    summary.p50_us = median(samples.map((s) => s.p50_us));
    summary.p99_us = median(samples.map((s) => s.p99_us));
  }
  if (samples.every((s) => typeof s.cpu_us_per_op === 'number')) summary.cpu_us_per_op = median(samples.map((s) => s.cpu_us_per_op));
  return summary;
}

/**
 * How `summary` compares with `reference`, as "times better": throughput over the reference's,
 * or for memory (lower wins) the reference's over ours. null when either is missing or zero.
 */
function ratio(summary, reference, higherWins) {
  if (!summary || !reference || summary.median <= 0 || reference.median <= 0) return null;
  return higherWins ? summary.median / reference.median : reference.median / summary.median;
}

module.exports = { median, summarize, ratio };
