/* odd-chart.h: a time-series line chart widget (series in, a visible time window out)
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* One sample: microseconds since the Unix epoch (UTC) and a value. */
typedef struct {
  gint64 time;
  double value;
} OddChartPoint;

/* Series colours from the GNOME palette; each has a light and a dark shade. AUTO takes the
 * next unused one in this order. */
typedef enum {
  ODD_CHART_COLOR_AUTO,
  ODD_CHART_COLOR_BLUE,
  ODD_CHART_COLOR_GREEN,
  ODD_CHART_COLOR_RED,
  ODD_CHART_COLOR_PURPLE,
  ODD_CHART_COLOR_ORANGE,
  ODD_CHART_COLOR_YELLOW,
  ODD_CHART_COLOR_BROWN,
} OddChartColor;

/* A series keeps at most this many points; the oldest go first. */
#define ODD_CHART_MAX_POINTS 200000

#define ODD_TYPE_CHART (odd_chart_get_type ())
G_DECLARE_FINAL_TYPE (OddChart, odd_chart, ODD, CHART, GtkWidget)

GtkWidget  *odd_chart_new                 (void);

void        odd_chart_add_series          (OddChart            *self,
                                           const char          *id,
                                           const char          *label,
                                           const char          *unit);
void        odd_chart_set_series_color    (OddChart            *self,
                                           const char          *id,
                                           OddChartColor        color);
gboolean    odd_chart_remove_series       (OddChart            *self,
                                           const char          *id);
void        odd_chart_set_points          (OddChart            *self,
                                           const char          *id,
                                           const OddChartPoint *points,
                                           gsize                n_points);
void        odd_chart_append_point        (OddChart            *self,
                                           const char          *id,
                                           gint64               time,
                                           double               value);
void        odd_chart_clear               (OddChart            *self);
/* The source of the series answered now, with or without new points for this chart: a live
 * chart that scrolls with its data moves in this frame, together with the other charts fed
 * by the same answer, instead of on its own clock. */
void        odd_chart_touch               (OddChart            *self);
gsize       odd_chart_get_n_points        (OddChart            *self,
                                           const char          *id);

void        odd_chart_set_series_visible  (OddChart            *self,
                                           const char          *id,
                                           gboolean             visible);
gboolean    odd_chart_get_series_visible  (OddChart            *self,
                                           const char          *id);

void        odd_chart_set_window          (OddChart            *self,
                                           double               seconds);
double      odd_chart_get_window          (OddChart            *self);
void        odd_chart_set_live            (OddChart            *self,
                                           gboolean             live);
gboolean    odd_chart_get_live            (OddChart            *self);
void        odd_chart_set_end_time        (OddChart            *self,
                                           gint64               end_time);
gint64      odd_chart_get_end_time        (OddChart            *self);

/* Queries in widget coordinates, for the hover, keyboard navigation and tests. */
gboolean    odd_chart_point_at_x          (OddChart            *self,
                                           const char          *id,
                                           double               x,
                                           OddChartPoint       *point);
gboolean    odd_chart_value_at_pixel      (OddChart            *self,
                                           double               y,
                                           double              *value);
gboolean    odd_chart_pixel_for_point     (OddChart            *self,
                                           gint64               time,
                                           double               value,
                                           double              *x,
                                           double              *y);
void        odd_chart_get_value_range     (OddChart            *self,
                                           double              *min,
                                           double              *max,
                                           double              *step);

/* The crosshair: x in widget coordinates, a negative x hides it. */
void        odd_chart_hover_at            (OddChart            *self,
                                           double               x);
gboolean    odd_chart_get_hover_time      (OddChart            *self,
                                           gint64              *time);
gboolean    odd_chart_get_hover_point     (OddChart            *self,
                                           const char          *id,
                                           OddChartPoint       *point);

/* Export of what the window shows: a PNG of the chart at any size, the visible series' points
 * in the window as CSV (time in RFC 3339 UTC, one column per series). */
GBytes     *odd_chart_render_png          (OddChart            *self,
                                           int                  width,
                                           int                  height,
                                           GError             **error);
GBytes     *odd_chart_write_csv           (OddChart            *self);

G_END_DECLS
