/* odd-latency-histogram.h: the buckets of the submit-to-completed latency histogram
 *
 * The metrics-engine counts each completed job's latency in the Redis hash
 * ODD_LATENCY_HISTOGRAM_KEY, one field per bucket named by its lower bound in whole
 * microseconds; the read-model reads percentiles from it. The buckets are log-linear with two
 * significant digits: one per microsecond below 100 µs, then 90 per power of ten
 * ([100, 110), [110, 120) … [990, 1000), [1000, 1100) … µs). A bucket's value is within
 * ODD_LATENCY_HISTOGRAM_RELATIVE_ERROR (1/21, 4.8 %) of every latency in it, so a percentile
 * read from the histogram is within that of the exact one; the API states "within 5 %".
 * At most 90 fields per power of ten: about 600 for latencies from 1 ms to an hour.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ODD_LATENCY_HISTOGRAM_KEY            "metrics:latency_us"
/* The same histogram per second: the per-second hash metrics:sec:<t> holds one field per
 * bucket of the jobs completed in second <t>, this prefix and the bucket's lower bound. */
#define ODD_LATENCY_HISTOGRAM_SECOND_PREFIX  "lat:"
#define ODD_LATENCY_HISTOGRAM_RELATIVE_ERROR (1.0 / 21.0)
/* Longer latencies (clocks a millennium apart) are counted as this one. */
#define ODD_LATENCY_HISTOGRAM_MAX_USEC       G_GINT64_CONSTANT (999999999999999999)

/* The lower bound of the bucket that holds @usec (negative counts as 0). */
gint64  odd_latency_histogram_bucket          (gint64 usec);
/* Whether @lower is the lower bound of a bucket (a field the histogram may hold). */
gboolean odd_latency_histogram_is_bucket      (gint64 lower);
/* The first microsecond past the bucket that starts at @lower. */
gint64  odd_latency_histogram_bucket_end      (gint64 lower);
/* The value (ms) a percentile that falls in the bucket at @lower reports: the harmonic mean
 * of its smallest and largest member, which is the nearest in relative terms to both. */
double  odd_latency_histogram_bucket_value_ms (gint64 lower);

G_END_DECLS
