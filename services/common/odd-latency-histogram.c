#define G_LOG_DOMAIN "odd-latency-histogram"

#include "odd-latency-histogram.h"

/* The width of the buckets among which @usec (>= 0) lies: 1 below 100, then a tenth of the
 * power of ten at or below it. */
static gint64
bucket_width (gint64 usec)
{
  gint64 width = 1;

  while (usec >= 100)
    {
      usec /= 10;
      width *= 10;
    }
  return width;
}

gint64
odd_latency_histogram_bucket (gint64 usec)
{
  gint64 width;

  usec = CLAMP (usec, 0, ODD_LATENCY_HISTOGRAM_MAX_USEC);
  width = bucket_width (usec);
  return usec / width * width;
}

gboolean
odd_latency_histogram_is_bucket (gint64 lower)
{
  return lower >= 0 && lower <= ODD_LATENCY_HISTOGRAM_MAX_USEC &&
         odd_latency_histogram_bucket (lower) == lower;
}

gint64
odd_latency_histogram_bucket_end (gint64 lower)
{
  g_return_val_if_fail (odd_latency_histogram_is_bucket (lower), lower + 1);

  return lower + bucket_width (lower);
}

double
odd_latency_histogram_bucket_value_ms (gint64 lower)
{
  double smallest = (double) lower;
  double largest = (double) (odd_latency_histogram_bucket_end (lower) - 1);

  /* Latencies are whole microseconds: a bucket of width 1 holds one value. */
  if (largest <= smallest)
    return smallest / 1000.0;
  return 2.0 * smallest * largest / (smallest + largest) / 1000.0;
}
