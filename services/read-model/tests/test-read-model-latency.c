/* Unit tests of the latency percentiles (odd-latency.c). */
#include <math.h>

#include "odd-latency.h"

static void
test_interpolation (void)
{
  /* 100 observations: 10 in (0, 10], 80 in (10, 100], 10 in (100, 1000]. */
  const OddLatencyBucket buckets[] = {
    { 10, 10 }, { 100, 80 }, { 1000, 10 },
  };

  /* rank 50 lies 40 of 80 into (10, 100]: 10 + 90 * 40/80 = 55. */
  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (buckets, 3, 0.50), 55.0, 1e-9);
  /* rank 95 lies 5 of 10 into (100, 1000]: 550. */
  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (buckets, 3, 0.95), 550.0, 1e-9);
  /* rank 99: 100 + 900 * 9/10 = 910. */
  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (buckets, 3, 0.99), 910.0, 1e-9);
  /* rank 5 in the first bucket, from 0: 5. */
  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (buckets, 3, 0.05), 5.0, 1e-9);
  /* rank 10 is exactly the first bucket's upper bound. */
  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (buckets, 3, 0.10), 10.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (buckets, 3, 1.0), 1000.0, 1e-9);
}

static void
test_empty_buckets (void)
{
  /* Empty buckets in between move the lower bound along. */
  const OddLatencyBucket buckets[] = {
    { 5, 0 }, { 10, 0 }, { 50, 4 }, { 100, 0 },
  };

  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (buckets, 4, 0.5), 30.0, 1e-9);
  g_assert_cmpfloat (odd_latency_percentile (buckets, 0, 0.5), ==, 0.0);

  {
    const OddLatencyBucket none[] = { { 5, 0 }, { 10, 0 } };
    g_assert_cmpfloat (odd_latency_percentile (none, 2, 0.99), ==, 0.0);
  }
}

static void
test_overflow_bucket (void)
{
  /* The overflow bucket has no upper bound: its percentiles answer the largest finite bound. */
  const OddLatencyBucket buckets[] = {
    { 100, 50 }, { INFINITY, 50 },
  };

  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (buckets, 2, 0.25), 50.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (buckets, 2, 0.99), 100.0, 1e-9);
}

static void
test_parse (void)
{
  const char *fields[] = { "1000", "+Inf", "10", "100", "junk", "-5", "50", NULL };
  const char *values[] = { "10", "3", "10", "80", "7", "1", "x", "1" };
  g_autoptr(GArray) buckets = odd_latency_buckets_parse (fields, values, G_N_ELEMENTS (values));
  const OddLatencyBucket *b = (const OddLatencyBucket *) buckets->data;

  /* junk, negative, a bad count and a NULL field are skipped; the rest sorted by bound. */
  g_assert_cmpuint (buckets->len, ==, 4);
  g_assert_cmpfloat (b[0].upper_ms, ==, 10);
  g_assert_cmpuint (b[0].count, ==, 10);
  g_assert_cmpfloat (b[1].upper_ms, ==, 100);
  g_assert_cmpfloat (b[2].upper_ms, ==, 1000);
  g_assert_true (isinf (b[3].upper_ms));
  g_assert_cmpuint (b[3].count, ==, 3);
}

static void
test_standard_bounds (void)
{
  /* What the metrics-engine writes for 4 jobs of 60..95 ms: only the non-empty bucket. */
  const char *fields[] = { "100" };
  const char *values[] = { "4" };
  g_autoptr(GArray) buckets = odd_latency_buckets_parse (fields, values, 1);
  const OddLatencyBucket *b;

  g_assert_cmpfloat (odd_latency_percentile ((const OddLatencyBucket *) buckets->data, buckets->len, 0.5), ==, 50.0);

  odd_latency_buckets_add_bounds (buckets, odd_latency_standard_bounds_ms, odd_latency_n_standard_bounds);
  b = (const OddLatencyBucket *) buckets->data;
  g_assert_cmpuint (buckets->len, ==, odd_latency_n_standard_bounds);
  for (guint i = 1; i < buckets->len; i++)
    g_assert_cmpfloat (b[i - 1].upper_ms, <, b[i].upper_ms);
  /* (50, 100] now: 50 + 50 * 2/4. */
  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (b, buckets->len, 0.5), 75.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (b, buckets->len, 1.0), 100.0, 1e-9);

  /* Bounds already present are not doubled; other bounds stay. */
  {
    const char *f2[] = { "100", "+Inf", "75" };
    const char *v2[] = { "4", "1", "2" };
    g_autoptr(GArray) more = odd_latency_buckets_parse (f2, v2, 3);

    odd_latency_buckets_add_bounds (more, odd_latency_standard_bounds_ms, odd_latency_n_standard_bounds);
    g_assert_cmpuint (more->len, ==, odd_latency_n_standard_bounds + 2);
  }
}

static void
test_summary (void)
{
  const char *fields[] = { "100", "10", "1000" };
  const char *values[] = { "80", "10", "10" };
  g_autoptr(GArray) buckets = odd_latency_buckets_parse (fields, values, 3);
  g_autoptr(JsonNode) summary = odd_latency_summary (buckets);
  g_autoptr(JsonNode) empty = odd_latency_summary (NULL);
  JsonObject *o = json_node_get_object (summary);

  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "p50"), 55.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "p95"), 550.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "p99"), 910.0, 1e-9);

  o = json_node_get_object (empty);
  g_assert_cmpfloat (json_object_get_double_member (o, "p50"), ==, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (o, "p99"), ==, 0.0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/read-model/latency/interpolation", test_interpolation);
  g_test_add_func ("/read-model/latency/empty-buckets", test_empty_buckets);
  g_test_add_func ("/read-model/latency/overflow", test_overflow_bucket);
  g_test_add_func ("/read-model/latency/parse", test_parse);
  g_test_add_func ("/read-model/latency/standard-bounds", test_standard_bounds);
  g_test_add_func ("/read-model/latency/summary", test_summary);

  return g_test_run ();
}
