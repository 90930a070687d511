#define G_LOG_DOMAIN "odd-latency"

#include <math.h>

#include "odd-latency-histogram.h"
#include "odd-latency.h"

static int
compare_buckets (gconstpointer a,
                 gconstpointer b)
{
  const OddLatencyBucket *x = a;
  const OddLatencyBucket *y = b;

  return (x->lower_usec > y->lower_usec) - (x->lower_usec < y->lower_usec);
}

GArray *
odd_latency_buckets_parse (const char *const *fields,
                           const char *const *values,
                           guint              n)
{
  GArray *buckets = g_array_sized_new (FALSE, FALSE, sizeof (OddLatencyBucket), n);

  for (guint i = 0; i < n; i++)
    {
      OddLatencyBucket bucket;
      gint64 lower;
      guint64 count;

      if (fields[i] == NULL || values[i] == NULL)
        continue;
      if (!g_ascii_string_to_signed (fields[i], 10, 0, G_MAXINT64, &lower, NULL) ||
          !odd_latency_histogram_is_bucket (lower))
        continue;
      if (!g_ascii_string_to_unsigned (values[i], 10, 0, G_MAXUINT64, &count, NULL))
        continue;

      bucket.lower_usec = lower;
      bucket.count = count;
      g_array_append_val (buckets, bucket);
    }

  g_array_sort (buckets, compare_buckets);
  return buckets;
}

double
odd_latency_percentile (const OddLatencyBucket *buckets,
                        guint                   n,
                        guint                   permille)
{
  guint64 total = 0;
  guint64 rank;
  guint64 below = 0;

  for (guint i = 0; i < n; i++)
    total = buckets[i].count > G_MAXUINT64 - total ? G_MAXUINT64 : total + buckets[i].count;
  if (total == 0)
    return 0;

  /* In integers: 0.95 × 100 in doubles is a little above 95, and its ceiling 96. */
  permille = MIN (permille, 1000);
  rank = total / 1000 * permille + ((total % 1000) * permille + 999) / 1000;
  rank = MAX (rank, 1);

  for (guint i = 0; i < n; i++)
    {
      below += buckets[i].count;
      if (buckets[i].count > 0 && below >= rank)
        return odd_latency_histogram_bucket_value_ms (buckets[i].lower_usec);
    }

  return odd_latency_histogram_bucket_value_ms (buckets[n - 1].lower_usec);
}

static double
round_ms (double ms)
{
  /* Microseconds: the unit the histogram counts in. */
  return round (ms * 1000.0) / 1000.0;
}

JsonNode *
odd_latency_summary (GArray *buckets)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const OddLatencyBucket *data = buckets ? (const OddLatencyBucket *) buckets->data : NULL;
  guint n = buckets ? buckets->len : 0;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "p50");
  json_builder_add_double_value (builder, round_ms (odd_latency_percentile (data, n, 500)));
  json_builder_set_member_name (builder, "p95");
  json_builder_add_double_value (builder, round_ms (odd_latency_percentile (data, n, 950)));
  json_builder_set_member_name (builder, "p99");
  json_builder_add_double_value (builder, round_ms (odd_latency_percentile (data, n, 990)));
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}
