/* odd-latency.h: percentiles of the submit-to-completed histogram (Redis
 * ODD_LATENCY_HISTOGRAM_KEY, see odd-latency-histogram.h) */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  gint64  lower_usec;  /* the bucket's lower bound, its field in Redis */
  guint64 count;       /* latencies in this bucket */
} OddLatencyBucket;

/* Parses the fields and values of HGETALL into buckets sorted by lower bound. A field that is
 * not a bucket's lower bound, or a count that is not a non-negative integer, is skipped. */
GArray   *odd_latency_buckets_parse (const char *const *fields,
                                     const char *const *values,
                                     guint              n);

/* The @permille (0..1000) percentile in ms by nearest rank: the value of the bucket that holds
 * the ceil(permille/1000 × total)-th smallest latency (at least the first). It is within
 * ODD_LATENCY_HISTOGRAM_RELATIVE_ERROR of that latency. 0 when there are no observations. */
double    odd_latency_percentile    (const OddLatencyBucket *buckets,
                                     guint                   n,
                                     guint                   permille);

/* {"p50": ms, "p95": ms, "p99": ms} */
JsonNode *odd_latency_summary       (GArray *buckets);

G_END_DECLS
