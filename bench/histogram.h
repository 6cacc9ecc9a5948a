// A latency histogram with bounded relative error (HdrHistogram's layout, simplified): values
// below 128 ns have a bucket each; above, each power of two is split into 64 buckets, so a
// percentile is within 1/64 (1.6 %) of the true value. Fixed size, no allocation, mergeable.
#pragma once

#include <stdint.h>

#define HISTOGRAM_SUB_BITS 7
#define HISTOGRAM_SUB (1u << HISTOGRAM_SUB_BITS)
#define HISTOGRAM_MAX_BITS 40  // 2^40 ns is 18 minutes; longer latencies land in the last bucket
#define HISTOGRAM_BUCKETS (HISTOGRAM_SUB + (HISTOGRAM_MAX_BITS - HISTOGRAM_SUB_BITS + 1) * (HISTOGRAM_SUB / 2))

struct histogram {
  uint64_t counts[HISTOGRAM_BUCKETS];
  uint64_t total;
};

static inline unsigned histogram_index(uint64_t v) {
  if (v < HISTOGRAM_SUB) return (unsigned)v;
  if (v >= (1ull << HISTOGRAM_MAX_BITS)) v = (1ull << HISTOGRAM_MAX_BITS) - 1;
  // Group g >= 1 covers [SUB << (g - 1), SUB << g) in SUB/2 buckets of width 2^g.
  unsigned msb = 63u - (unsigned)__builtin_clzll(v);
  unsigned g = msb - HISTOGRAM_SUB_BITS + 1;
  return HISTOGRAM_SUB + (g - 1) * (HISTOGRAM_SUB / 2) + (unsigned)((v >> g) - HISTOGRAM_SUB / 2);
}

// The middle of bucket i's range.
static inline uint64_t histogram_value(unsigned i) {
  if (i < HISTOGRAM_SUB) return i;
  unsigned g = (i - HISTOGRAM_SUB) / (HISTOGRAM_SUB / 2) + 1;
  uint64_t low = ((uint64_t)((i - HISTOGRAM_SUB) % (HISTOGRAM_SUB / 2)) + HISTOGRAM_SUB / 2) << g;
  return low + (1ull << g) / 2;
}

static inline void histogram_add(struct histogram* h, uint64_t v) {
  h->counts[histogram_index(v)]++;
  h->total++;
}

static inline void histogram_merge(struct histogram* into, const struct histogram* from) {
  for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++) into->counts[i] += from->counts[i];
  into->total += from->total;
}

// The smallest recorded value v such that a fraction p of the values are <= v (0 when empty).
static inline uint64_t histogram_percentile(const struct histogram* h, double p) {
  if (h->total == 0) return 0;
  uint64_t rank = (uint64_t)(p * (double)h->total);
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++) {
    seen += h->counts[i];
    if (seen >= rank) return histogram_value(i);
  }
  return histogram_value(HISTOGRAM_BUCKETS - 1);
}
