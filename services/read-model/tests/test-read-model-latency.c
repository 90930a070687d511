/* Unit tests of the latency percentiles (odd-latency.c) over the histogram the metrics-engine
 * writes (odd-latency-histogram.h): known latencies in, percentiles within the stated error. */
#include <math.h>
#include <stdlib.h>

#include "odd-latency-histogram.h"
#include "odd-latency.h"

/* The histogram of @usec as the metrics-engine stores it, read back as the read-model does. */
static GArray *
histogram_of (const gint64 *usec,
              guint         n)
{
  g_autoptr(GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) fields = g_ptr_array_new ();
  g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer field, count;

  for (guint i = 0; i < n; i++)
    {
      char *key = g_strdup_printf ("%" G_GINT64_FORMAT, odd_latency_histogram_bucket (usec[i]));
      guint old = GPOINTER_TO_UINT (g_hash_table_lookup (counts, key));

      g_hash_table_replace (counts, key, GUINT_TO_POINTER (old + 1));
    }
  g_hash_table_iter_init (&iter, counts);
  while (g_hash_table_iter_next (&iter, &field, &count))
    {
      g_ptr_array_add (fields, field);
      g_ptr_array_add (values, g_strdup_printf ("%u", GPOINTER_TO_UINT (count)));
    }

  return odd_latency_buckets_parse ((const char *const *) fields->pdata,
                                    (const char *const *) values->pdata, fields->len);
}

static int
compare_int64 (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* Nearest rank: the ceil(permille/1000 × n)-th smallest (at least the first), in ms. */
static double
exact_percentile_ms (const gint64 *sorted,
                     guint         n,
                     guint         permille)
{
  guint rank = MAX (1, ((guint64) n * permille + 999) / 1000);

  return sorted[rank - 1] / 1000.0;
}

static void
assert_within_bound (double estimate_ms,
                     double exact_ms)
{
  /* The stated bound is 5 %; the buckets give at most 1/21. */
  if (fabs (estimate_ms - exact_ms) > exact_ms * ODD_LATENCY_HISTOGRAM_RELATIVE_ERROR + 1e-9)
    g_error ("estimate %.3f ms is more than 1/21 from the exact %.3f ms", estimate_ms, exact_ms);
  g_assert_cmpfloat (fabs (estimate_ms - exact_ms), <=, exact_ms * 0.05);
}

/* The case: one job of 509 ms was reported as p50 750 ms. */
static void
test_one_job (void)
{
  const gint64 one[] = { 509000 };
  g_autoptr(GArray) buckets = histogram_of (one, 1);
  const OddLatencyBucket *b = (const OddLatencyBucket *) buckets->data;

  for (guint permille = 0; permille <= 1000; permille += 10)
    assert_within_bound (odd_latency_percentile (b, buckets->len, permille), 509.0);
  /* [500, 510) ms reports their harmonic mean. */
  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (b, buckets->len, 500),
                                  2.0 * 500000 * 509999 / (500000 + 509999) / 1000, 1e-9);
}

/* Sets of known latencies, from a fixed seed: every percentile within the bound. */
static void
test_known_sets (void)
{
  const guint permilles[] = { 0, 1, 10, 100, 250, 500, 750, 900, 950, 990, 999, 1000 };
  const guint sizes[] = { 1, 2, 3, 7, 10, 99, 100, 101, 1000, 20000 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261207);

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (guint shape = 0; shape < 3; shape++)
      {
        guint n = sizes[s];
        g_autofree gint64 *usec = g_new (gint64, n);
        g_autoptr(GArray) buckets = NULL;

        for (guint i = 0; i < n; i++)
          {
            switch (shape)
              {
              case 0:  /* log-uniform from 1 µs to 100 s */
                usec[i] = (gint64) exp (g_rand_double_range (rand, 0, log (1e8)));
                break;
              case 1:  /* whole milliseconds, as occurredAt carries them: 1 ms .. 10 s */
                usec[i] = g_rand_int_range (rand, 1, 10000) * G_GINT64_CONSTANT (1000);
                break;
              default: /* a tight cluster around 500 ms and a slow tail */
                usec[i] = i % 20 == 0 ? g_rand_int_range (rand, 2000000, 60000000)
                                      : g_rand_int_range (rand, 495000, 525000);
                break;
              }
          }
        buckets = histogram_of (usec, n);
        qsort (usec, n, sizeof (gint64), compare_int64);

        for (guint p = 0; p < G_N_ELEMENTS (permilles); p++)
          assert_within_bound (odd_latency_percentile ((const OddLatencyBucket *) buckets->data,
                                                       buckets->len, permilles[p]),
                               exact_percentile_ms (usec, n, permilles[p]));
      }
}

/* 1..100 ms: the 95th percentile is the 95th value, not the 96th (0.95 × 100 in doubles is a
 * little more than 95). */
static void
test_rank_is_exact (void)
{
  gint64 usec[100];
  g_autoptr(GArray) buckets = NULL;
  const OddLatencyBucket *b;

  for (guint i = 0; i < 100; i++)
    usec[i] = (i + 1) * 1000;
  buckets = histogram_of (usec, 100);
  b = (const OddLatencyBucket *) buckets->data;

  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (b, buckets->len, 950),
                                  odd_latency_histogram_bucket_value_ms (95000), 1e-9);
  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (b, buckets->len, 500),
                                  odd_latency_histogram_bucket_value_ms (50000), 1e-9);
  g_assert_cmpfloat_with_epsilon (odd_latency_percentile (b, buckets->len, 1000),
                                  odd_latency_histogram_bucket_value_ms (100000), 1e-9);
}

static void
test_empty (void)
{
  const char *fields[] = { "1000" };
  const char *values[] = { "0" };
  g_autoptr(GArray) zero = odd_latency_buckets_parse (fields, values, 1);

  g_assert_cmpfloat (odd_latency_percentile (NULL, 0, 500), ==, 0.0);
  g_assert_cmpfloat (odd_latency_percentile ((const OddLatencyBucket *) zero->data, zero->len, 990),
                     ==, 0.0);
}

static void
test_parse (void)
{
  /* Not bucket bounds (105, -5, junk, an old engine's "+Inf"), a bad count and a NULL field
   * are skipped; the rest sorted by bound. */
  const char *fields[] = { "1000000", "+Inf", "105", "100", "junk", "-5", "50", "0", NULL };
  const char *values[] = { "10", "3", "10", "80", "7", "1", "x", "4", "1" };
  g_autoptr(GArray) buckets = odd_latency_buckets_parse (fields, values, G_N_ELEMENTS (values));
  const OddLatencyBucket *b = (const OddLatencyBucket *) buckets->data;

  g_assert_cmpuint (buckets->len, ==, 3);
  g_assert_cmpint (b[0].lower_usec, ==, 0);
  g_assert_cmpuint (b[0].count, ==, 4);
  g_assert_cmpint (b[1].lower_usec, ==, 100);
  g_assert_cmpuint (b[1].count, ==, 80);
  g_assert_cmpint (b[2].lower_usec, ==, 1000000);
  g_assert_cmpuint (b[2].count, ==, 10);
}

static void
test_summary (void)
{
  const gint64 usec[] = { 10000, 20000, 30000, 40000, 509000 };
  g_autoptr(GArray) buckets = histogram_of (usec, G_N_ELEMENTS (usec));
  g_autoptr(JsonNode) summary = odd_latency_summary (buckets);
  g_autoptr(JsonNode) empty = odd_latency_summary (NULL);
  JsonObject *o = json_node_get_object (summary);

  /* Whole microseconds: 30 ms is alone in its bucket of 30.000..30.999 ms. */
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "p50"),
                                  round (odd_latency_histogram_bucket_value_ms (30000) * 1000) / 1000,
                                  1e-9);
  assert_within_bound (json_object_get_double_member (o, "p95"), 509.0);
  assert_within_bound (json_object_get_double_member (o, "p99"), 509.0);

  o = json_node_get_object (empty);
  g_assert_cmpfloat (json_object_get_double_member (o, "p50"), ==, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (o, "p99"), ==, 0.0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/read-model/latency/one-job", test_one_job);
  g_test_add_func ("/read-model/latency/known-sets", test_known_sets);
  g_test_add_func ("/read-model/latency/rank-is-exact", test_rank_is_exact);
  g_test_add_func ("/read-model/latency/empty", test_empty);
  g_test_add_func ("/read-model/latency/parse", test_parse);
  g_test_add_func ("/read-model/latency/summary", test_summary);

  return g_test_run ();
}
