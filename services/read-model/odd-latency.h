/* odd-latency.h: percentiles of the submit-to-completed histogram (Redis metrics:latency) */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  double  upper_ms;  /* bucket upper bound; INFINITY for the overflow bucket */
  guint64 count;     /* observations in this bucket alone (not cumulative) */
} OddLatencyBucket;

/* Parses the fields and values of HGETALL metrics:latency ("250" → "12", "+Inf" → "3") into
 * buckets sorted by upper bound. Unparseable or negative entries are skipped. */
GArray   *odd_latency_buckets_parse   (const char *const *fields,
                                       const char *const *values,
                                       guint              n);

/* The bucket bounds (ms) the metrics-engine writes (its odd_aggregates_latency_bounds_ms,
 * plus "+Inf"). It only writes buckets that have observations. */
extern const double odd_latency_standard_bounds_ms[];
extern const guint  odd_latency_n_standard_bounds;

/* Adds an empty bucket for each of @bounds that @buckets lacks, keeping them sorted. Without
 * them, a bucket's lower bound would be the previous *non-empty* one and the interpolation
 * would run over too wide a range: 4 observations in (50, 100] alone would give p50 = 50. */
void      odd_latency_buckets_add_bounds (GArray       *buckets,
                                          const double *bounds,
                                          guint         n_bounds);

/* The @quantile (0..1) of @buckets (sorted): linear interpolation inside the bucket that holds
 * the rank, from the previous bound (0 for the first) to its own; the overflow bucket answers
 * its lower bound. 0 when there are no observations. */
double    odd_latency_percentile      (const OddLatencyBucket *buckets,
                                       guint                   n,
                                       double                  quantile);

/* {"p50": ms, "p95": ms, "p99": ms} */
JsonNode *odd_latency_summary         (GArray *buckets);

G_END_DECLS
