/* odd-series.h: the per-second history of GET /stats/series?window=N (stats-series.json) */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* One queue as the metrics-engine sampled it in a second (GET /queues' members). */
typedef struct
{
  const char *name;
  gint64      messages;   /* ready */
  gint64      consumers;
} OddSeriesQueue;

typedef struct
{
  gint64 time;         /* unix microseconds of the second's start */
  gint64 submitted;
  gint64 completed;
  gint64 failed;
  gint64 queue_depth;
  /* Latency percentiles (ms) of the jobs completed in this second; has_latency is FALSE
   * (and they are 0) when none completed or the read model predates stats-series 1.1. */
  gboolean has_latency;
  double p50;
  double p95;
  double p99;
  /* The queues sampled in this second, by name, owned by the series; n_queues is 0 when no
   * sample was taken in it (or the read model predates stats-series 1.2), and queue_depth is
   * then 0 without meaning it. */
  const OddSeriesQueue *queues;
  guint n_queues;
} OddSeriesPoint;

/* @point's sample of @queue, or NULL when the second has none. */
const OddSeriesQueue *odd_series_point_get_queue (const OddSeriesPoint *point,
                                                  const char           *queue);

#define ODD_TYPE_SERIES (odd_series_get_type ())
G_DECLARE_FINAL_TYPE (OddSeries, odd_series, ODD, SERIES, GObject)

/* From an answer the caller checked against stats-series.json. */
OddSeries            *odd_series_new_from_json  (JsonObject  *object);

/* Oldest first, one a second; @n_points may be NULL. */
const OddSeriesPoint *odd_series_get_points     (OddSeries   *self,
                                                 guint       *n_points);
guint                 odd_series_get_n_points   (OddSeries   *self);
/* Unix microseconds of "from" and "to". */
gint64                odd_series_get_from       (OddSeries   *self);
gint64                odd_series_get_to         (OddSeries   *self);
/* Seconds between points (1). */
guint                 odd_series_get_step       (OddSeries   *self);
/* Latency percentiles over the window, ms. */
double                odd_series_get_p50        (OddSeries   *self);
double                odd_series_get_p95        (OddSeries   *self);
double                odd_series_get_p99        (OddSeries   *self);

G_END_DECLS
