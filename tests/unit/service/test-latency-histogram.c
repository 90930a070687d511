/* Unit tests of the latency histogram's buckets (odd-latency-histogram.c). */
#include <math.h>

#include "odd-latency-histogram.h"

static void
test_bounds (void)
{
  static const struct { gint64 usec; gint64 lower; gint64 end; } cases[] = {
    { 0, 0, 1 }, { 1, 1, 2 }, { 99, 99, 100 }, { 100, 100, 110 }, { 109, 100, 110 },
    { 110, 110, 120 }, { 999, 990, 1000 }, { 1000, 1000, 1100 }, { 1099, 1000, 1100 },
    { 509000, 500000, 510000 }, { 999999, 990000, 1000000 }, { 1000000, 1000000, 1100000 },
    /* Clocks the other way round, and a millennium: clamped. */
    { -5, 0, 1 }, { G_MININT64, 0, 1 },
    { G_MAXINT64, ODD_LATENCY_HISTOGRAM_MAX_USEC / G_GINT64_CONSTANT (10000000000000000) *
                  G_GINT64_CONSTANT (10000000000000000),
      G_GINT64_CONSTANT (1000000000000000000) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gint64 lower = odd_latency_histogram_bucket (cases[i].usec);

      g_assert_cmpint (lower, ==, cases[i].lower);
      g_assert_true (odd_latency_histogram_is_bucket (lower));
      g_assert_cmpint (odd_latency_histogram_bucket_end (lower), ==, cases[i].end);
    }

  g_assert_false (odd_latency_histogram_is_bucket (105));
  g_assert_false (odd_latency_histogram_is_bucket (-1));
  g_assert_false (odd_latency_histogram_is_bucket (ODD_LATENCY_HISTOGRAM_MAX_USEC + 1));
}

/* Two significant digits: 90 buckets per power of ten, next to each other. */
static void
test_buckets_per_decade (void)
{
  for (gint64 decade = 100; decade <= G_GINT64_CONSTANT (100000000000); decade *= 10)
    {
      guint n = 0;

      for (gint64 lower = decade; lower < decade * 10; lower = odd_latency_histogram_bucket_end (lower))
        {
          g_assert_true (odd_latency_histogram_is_bucket (lower));
          n++;
        }
      g_assert_cmpuint (n, ==, 90);
    }
}

/* Every latency is within 1/21 (4.8 %) of its bucket's value: the stated bound. */
static void
test_relative_error (void)
{
  double worst = 0;

  for (gint64 usec = 1; usec < 10000000; usec = usec < 10000 ? usec + 1 : usec + usec / 997)
    {
      double value_ms = odd_latency_histogram_bucket_value_ms (odd_latency_histogram_bucket (usec));
      double error = fabs (value_ms * 1000 - (double) usec) / (double) usec;

      worst = MAX (worst, error);
      g_assert_cmpfloat (error, <=, ODD_LATENCY_HISTOGRAM_RELATIVE_ERROR + 1e-12);
    }
  g_test_message ("largest relative error: %.4f", worst);
  g_assert_cmpfloat (worst, >, 0.04);
  g_assert_cmpfloat (ODD_LATENCY_HISTOGRAM_RELATIVE_ERROR, <, 0.05);
  /* Below 100 µs a bucket holds one value: exact. */
  g_assert_cmpfloat (odd_latency_histogram_bucket_value_ms (42), ==, 0.042);
  g_assert_cmpfloat (odd_latency_histogram_bucket_value_ms (0), ==, 0.0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/service/latency-histogram/bounds", test_bounds);
  g_test_add_func ("/service/latency-histogram/buckets-per-decade", test_buckets_per_decade);
  g_test_add_func ("/service/latency-histogram/relative-error", test_relative_error);

  return g_test_run ();
}
