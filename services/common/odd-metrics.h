/* odd-metrics.h: a Prometheus registry (text exposition format 0.0.4)
 *
 * Counters, gauges and histograms, optionally with one label; every sample also gets
 * service="<name>". A label keeps at most 100 distinct values; further values count as
 * "other", so user input (a job type) cannot grow the registry without bound.
 * All updates are atomic or locked: any thread may update.
 * Process metrics (process_resident_memory_bytes, process_cpu_seconds_total,
 * process_start_time_seconds, process_open_fds) are added on render.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OddMetrics   OddMetrics;
typedef struct _OddCounter   OddCounter;
typedef struct _OddGauge     OddGauge;
typedef struct _OddHistogram OddHistogram;

OddMetrics   *odd_metrics_new           (const char   *service);
void          odd_metrics_free          (OddMetrics   *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddMetrics, odd_metrics_free)

/* @label_name NULL for an unlabelled metric. Names must be unique in a registry.
 * The returned pointers belong to the registry. */
OddCounter   *odd_metrics_counter       (OddMetrics   *self,
                                         const char   *name,
                                         const char   *help,
                                         const char   *label_name);
OddGauge     *odd_metrics_gauge         (OddMetrics   *self,
                                         const char   *name,
                                         const char   *help,
                                         const char   *label_name);
OddHistogram *odd_metrics_histogram     (OddMetrics   *self,
                                         const char   *name,
                                         const char   *help,
                                         const double *upper_bounds,
                                         guint         n_bounds);
/* Added: a histogram with one label (bounded like the other labels), e.g. the HTTP route. */
OddHistogram *odd_metrics_histogram_labelled (OddMetrics   *self,
                                              const char   *name,
                                              const char   *help,
                                              const char   *label_name,
                                              const double *upper_bounds,
                                              guint         n_bounds);

void          odd_counter_add           (OddCounter   *counter,
                                         const char   *label_value,
                                         double        amount);
#define       odd_counter_inc(c, l)     odd_counter_add ((c), (l), 1.0)
double        odd_counter_get           (OddCounter   *counter,
                                         const char   *label_value);
void          odd_gauge_set             (OddGauge     *gauge,
                                         const char   *label_value,
                                         double        value);
void          odd_gauge_add             (OddGauge     *gauge,
                                         const char   *label_value,
                                         double        amount);
void          odd_histogram_observe     (OddHistogram *histogram,
                                         double        value);
void          odd_histogram_observe_labelled (OddHistogram *histogram,
                                              const char   *label_value,
                                              double        value);

/* Default latency buckets in seconds (0.0005 .. 10). */
extern const double odd_metrics_latency_buckets[];
extern const guint  odd_metrics_n_latency_buckets;

char         *odd_metrics_render        (OddMetrics   *self);

G_END_DECLS
