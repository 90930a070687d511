/* odd-chart-private.h: OddChart's axis arithmetic and counters, for its tests and benchmark
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "odd-chart.h"

G_BEGIN_DECLS

typedef struct {
  guint  n_layer_builds;  /* series texture + time axis rebuilt */
  guint  n_layer_appends; /* new points added to the series texture */
  guint  n_axis_builds;   /* value axis (grid and labels) rebuilt */
  gsize  n_points_drawn;  /* points read since the last layer build began, over all series */
  guint  n_snapshots;
} OddChartStats;

void      odd_chart_get_stats         (OddChart *self,
                                       OddChartStats *stats);
gboolean  odd_chart_is_ticking        (OddChart *self);
/* The time ticks (µs) of the last frame, visible or about to scroll in. */
const gint64 *odd_chart_get_time_ticks (OddChart *self,
                                        gint64   *step,
                                        guint    *n_ticks);

/* A value axis for data in [data_min, data_max] with at most max_ticks intervals: a step of
 * 1, 2 or 5 × 10ⁿ and bounds on multiples of it; 0 is kept in view for one-signed data. */
void      odd_chart_nice_value_axis   (double  data_min,
                                       double  data_max,
                                       guint   max_ticks,
                                       double *axis_min,
                                       double *axis_max,
                                       double *step);
/* The smallest of 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12, 24 h that
 * gives at most max_ticks ticks over the window. */
gint64    odd_chart_nice_time_step    (gint64  window,
                                       guint   max_ticks);
/* The time (µs) between two scrolling frames of a chart whose device pixel spans @us_per_px. */
gint64    odd_chart_scroll_quantum    (double  us_per_px);
char     *odd_chart_format_tick       (double  value,
                                       double  step);
char     *odd_chart_format_value      (double  value);
char     *odd_chart_format_time       (gint64  time,
                                       gint64  step);

G_END_DECLS
