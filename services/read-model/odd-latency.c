#define G_LOG_DOMAIN "odd-latency"

#include <math.h>

#include "odd-latency.h"

static int
compare_buckets (gconstpointer a,
                 gconstpointer b)
{
  const OddLatencyBucket *x = a;
  const OddLatencyBucket *y = b;

  return (x->upper_ms > y->upper_ms) - (x->upper_ms < y->upper_ms);
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
      char *end = NULL;
      double bound;
      guint64 count;

      if (fields[i] == NULL || values[i] == NULL)
        continue;

      bound = g_ascii_strtod (fields[i], &end);
      if (end == fields[i] || *end != '\0' || isnan (bound) || bound < 0)
        continue;
      if (!g_ascii_string_to_unsigned (values[i], 10, 0, G_MAXUINT64, &count, NULL))
        continue;

      bucket.upper_ms = bound;
      bucket.count = count;
      g_array_append_val (buckets, bucket);
    }

  g_array_sort (buckets, compare_buckets);
  return buckets;
}

const double odd_latency_standard_bounds_ms[] = {
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000,
};
const guint odd_latency_n_standard_bounds = G_N_ELEMENTS (odd_latency_standard_bounds_ms);

void
odd_latency_buckets_add_bounds (GArray       *buckets,
                                const double *bounds,
                                guint         n_bounds)
{
  guint n_present = buckets->len;

  for (guint i = 0; i < n_bounds; i++)
    {
      gboolean present = FALSE;

      for (guint j = 0; j < n_present && !present; j++)
        present = g_array_index (buckets, OddLatencyBucket, j).upper_ms == bounds[i];
      if (!present)
        {
          OddLatencyBucket empty = { bounds[i], 0 };
          g_array_append_val (buckets, empty);
        }
    }

  g_array_sort (buckets, compare_buckets);
}

double
odd_latency_percentile (const OddLatencyBucket *buckets,
                        guint                   n,
                        double                  quantile)
{
  guint64 total = 0;
  double rank;
  double below = 0;
  double lower = 0;

  for (guint i = 0; i < n; i++)
    total += buckets[i].count;
  if (total == 0)
    return 0;

  quantile = CLAMP (quantile, 0.0, 1.0);
  rank = quantile * (double) total;

  for (guint i = 0; i < n; i++)
    {
      double count = (double) buckets[i].count;

      if (count > 0 && below + count >= rank)
        {
          if (isinf (buckets[i].upper_ms))
            return lower;
          return lower + (buckets[i].upper_ms - lower) * (rank - below) / count;
        }

      below += count;
      if (!isinf (buckets[i].upper_ms))
        lower = buckets[i].upper_ms;
    }

  return lower;
}

static double
round_ms (double ms)
{
  /* Microsecond resolution is more than the histogram can claim. */
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
  json_builder_add_double_value (builder, round_ms (odd_latency_percentile (data, n, 0.50)));
  json_builder_set_member_name (builder, "p95");
  json_builder_add_double_value (builder, round_ms (odd_latency_percentile (data, n, 0.95)));
  json_builder_set_member_name (builder, "p99");
  json_builder_add_double_value (builder, round_ms (odd_latency_percentile (data, n, 0.99)));
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}
