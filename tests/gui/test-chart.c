/* test-chart.c: OddChart on its own, in a real window under Xvfb (cairo renderer)
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "test-chart"

#include <adwaita.h>
#include <float.h>
#include <math.h>
#include <time.h>

#include "odd-chart-private.h"
#include "odd-gui-test.h"

#define T0 ((gint64) 1798632000 * G_USEC_PER_SEC) /* 2026-12-30 12:00:00 UTC */
#define SEC ((gint64) G_USEC_PER_SEC)

typedef struct {
  GtkWindow *window;
  OddChart  *chart;
} Fixture;

static void
iterate_until_drawn (OddChart *chart)
{
  OddChartStats before, now;
  gint64 deadline = g_get_monotonic_time () + 10 * SEC;

  odd_chart_get_stats (chart, &before);
  gtk_widget_queue_draw (GTK_WIDGET (chart));
  do
    {
      g_main_context_iteration (NULL, FALSE);
      odd_chart_get_stats (chart, &now);
      if (now.n_snapshots > before.n_snapshots)
        return;
      g_usleep (1000);
    }
  while (g_get_monotonic_time () < deadline);
  g_error ("the chart was not drawn within 10 s");
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->window = GTK_WINDOW (gtk_window_new ());
  f->chart = ODD_CHART (odd_chart_new ());
  gtk_widget_set_size_request (GTK_WIDGET (f->chart), 800, 320);
  gtk_window_set_child (f->window, GTK_WIDGET (f->chart));
  gtk_window_set_resizable (f->window, FALSE);
  gtk_window_present (f->window);
  odd_chart_set_window (f->chart, 60);
  odd_chart_set_end_time (f->chart, T0 + 60 * SEC);
  while (!gtk_widget_get_mapped (GTK_WIDGET (f->chart)) || gtk_widget_get_width (GTK_WIDGET (f->chart)) == 0)
    g_main_context_iteration (NULL, TRUE);
  iterate_until_drawn (f->chart);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  gtk_window_destroy (f->window);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* The window as the user sees it, rendered by its own (cairo) renderer. */
static GdkTexture *
render_window (Fixture *f)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (GTK_WIDGET (f->window));
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  int w = gtk_widget_get_width (GTK_WIDGET (f->window));
  int h = gtk_widget_get_height (GTK_WIDGET (f->window));

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  return gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (f->window)), node,
                                      &GRAPHENE_RECT_INIT (0, 0, w, h));
}

/* The colour at a point of the chart (chart coordinates), as 0..255 RGB. */
static void
pixel_at (Fixture    *f,
          GdkTexture *texture,
          double      x,
          double      y,
          guint8      rgb[3])
{
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  g_autofree guint8 *data = g_malloc ((gsize) w * h * 4);
  graphene_point_t p;
  int px, py;

  g_assert_true (gtk_widget_compute_point (GTK_WIDGET (f->chart), GTK_WIDGET (f->window),
                                           &GRAPHENE_POINT_INIT (x, y), &p));
  px = (int) floor (p.x);
  py = (int) floor (p.y);
  g_assert_cmpint (px, >=, 0);
  g_assert_cmpint (py, >=, 0);
  g_assert_cmpint (px, <, w);
  g_assert_cmpint (py, <, h);
  gdk_texture_download (texture, data, (gsize) w * 4);
  /* GDK_MEMORY_DEFAULT: B, G, R, A premultiplied; the window is opaque here. */
  rgb[0] = data[(py * w + px) * 4 + 2];
  rgb[1] = data[(py * w + px) * 4 + 1];
  rgb[2] = data[(py * w + px) * 4 + 0];
}

static gboolean
near_color (const guint8  rgb[3],
            const char   *spec,
            int           tolerance)
{
  GdkRGBA c;

  g_assert_true (gdk_rgba_parse (&c, spec));
  return abs (rgb[0] - (int) lround (c.red * 255)) <= tolerance &&
         abs (rgb[1] - (int) lround (c.green * 255)) <= tolerance &&
         abs (rgb[2] - (int) lround (c.blue * 255)) <= tolerance;
}

static void
set_ramp (OddChart   *chart,
          const char *id,
          guint       n,
          double      (*f) (guint i))
{
  g_autofree OddChartPoint *pts = g_new (OddChartPoint, n);

  for (guint i = 0; i < n; i++)
    pts[i] = (OddChartPoint) { T0 + (gint64) i * SEC, f (i) };
  odd_chart_set_points (chart, id, pts, n);
}

static double identity (guint i) { return i; }
static double five (guint i) { return 5; }
static double two (guint i) { return 2; }

/* ---------------------------------------------------------------------------------------- */

static void
test_value_axis (void)
{
  static const struct {
    double data_min, data_max;
    guint max_ticks;
    double min, max, step;
  } cases[] = {
    { 0, 1, 5, 0, 1, 0.2 },
    { 0, 7, 5, 0, 8, 2 },
    { 0, 7, 8, 0, 7, 1 },
    { 0, 1e6, 5, 0, 1e6, 2e5 },
    { 3, 7, 4, 0, 8, 2 },                 /* positive data keep 0 in view */
    { -7, 3, 6, -8, 4, 2 },
    { -7, 3, 5, -10, 5, 5 },              /* -8..4 by 2 would be 6 intervals */
    { -5, -1, 5, -5, 0, 1 },              /* negative data too */
    { 0, 3e-9, 3, 0, 3e-9, 1e-9 },
    { 0, 0, 5, 0, 1, 0.2 },               /* nothing to show: 0..1 */
    { 42, 42, 4, 0, 60, 20 },
    { 42, 42, 5, 0, 50, 10 },
    { 0, 0.3, 3, 0, 0.3, 0.1 },
    { 0, 9.99, 1, 0, 10, 10 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      double min, max, step;

      odd_chart_nice_value_axis (cases[i].data_min, cases[i].data_max, cases[i].max_ticks, &min, &max, &step);
      g_test_message ("%g..%g/%u → %g..%g step %g", cases[i].data_min, cases[i].data_max,
                      cases[i].max_ticks, min, max, step);
      g_assert_cmpfloat_with_epsilon (step, cases[i].step, cases[i].step * 1e-9);
      g_assert_cmpfloat_with_epsilon (min, cases[i].min, cases[i].step * 1e-9);
      g_assert_cmpfloat_with_epsilon (max, cases[i].max, cases[i].step * 1e-9);
      g_assert_cmpfloat ((max - min) / step, <=, cases[i].max_ticks + 1e-9);
    }

  /* Beyond what a double can subtract, and not numbers at all: still a finite axis. */
  {
    double edge[][2] = { { -DBL_MAX, DBL_MAX }, { 1e300, 1e308 }, { NAN, 1 }, { -INFINITY, INFINITY } };

    for (guint i = 0; i < G_N_ELEMENTS (edge); i++)
      {
        double min, max, step;

        odd_chart_nice_value_axis (edge[i][0], edge[i][1], 5, &min, &max, &step);
        g_assert_true (isfinite (min) && isfinite (max) && isfinite (step));
        g_assert_cmpfloat (max, >, min);
        g_assert_cmpfloat (step, >, 0);
      }
  }
}

static void
test_time_axis (void)
{
  g_autofree char *a = NULL, *b = NULL, *c = NULL;

  g_assert_cmpint (odd_chart_nice_time_step (60 * SEC, 7), ==, 10 * SEC);
  g_assert_cmpint (odd_chart_nice_time_step (60 * SEC, 30), ==, 2 * SEC);
  g_assert_cmpint (odd_chart_nice_time_step (300 * SEC, 7), ==, 60 * SEC);
  g_assert_cmpint (odd_chart_nice_time_step (900 * SEC, 7), ==, 5 * 60 * SEC);
  g_assert_cmpint (odd_chart_nice_time_step (3600 * SEC, 7), ==, 10 * 60 * SEC);
  g_assert_cmpint (odd_chart_nice_time_step (3600 * SEC, 3), ==, 30 * 60 * SEC);
  g_assert_cmpint (odd_chart_nice_time_step (7 * 24 * 3600 * SEC, 3), ==, 24 * 3600 * SEC);

  /* Scrolling steps: the nice time at or below a device pixel's, so that charts of a page
   * whose plots differ a little in width step together. */
  g_assert_cmpint (odd_chart_scroll_quantum (300.0 * SEC / 900), ==, 300000);
  g_assert_cmpint (odd_chart_scroll_quantum (300.0 * SEC / 880), ==, 300000);
  g_assert_cmpint (odd_chart_scroll_quantum (60.0 * SEC / 900), ==, 60000);
  g_assert_cmpint (odd_chart_scroll_quantum (3600.0 * SEC / 900), ==, 4 * SEC);
  g_assert_cmpint (odd_chart_scroll_quantum (999999), ==, 800000);
  g_assert_cmpint (odd_chart_scroll_quantum (1000000), ==, SEC);
  g_assert_cmpint (odd_chart_scroll_quantum (0.25), ==, 1);
  g_assert_cmpint (odd_chart_scroll_quantum (NAN), ==, 1);

  /* TZ=UTC (main). */
  a = odd_chart_format_time (T0 + 5 * SEC, 5 * SEC);
  b = odd_chart_format_time (T0 + 60 * SEC, 60 * SEC);
  c = odd_chart_format_time (T0 + 3600 * SEC, 3600 * SEC);
  g_assert_cmpstr (a, ==, "12:00:05");
  g_assert_cmpstr (b, ==, "12:01");
  g_assert_cmpstr (c, ==, "13:00");
}

static void
test_labels (void)
{
  static const struct { double value, step; const char *text; } ticks[] = {
    { 0, 0.2, "0" }, { 0.2, 0.2, "0.2" }, { 1, 0.2, "1" }, { 0.6000000000000001, 0.2, "0.6" },
    { 6, 2, "6" }, { 200000, 200000, "200k" }, { 1e6, 2e5, "1M" }, { 1500, 500, "1.5k" },
    { 2000, 500, "2k" }, { -4, 2, "−4" }, { -1e6, 5e5, "−1M" }, { 3e-9, 1e-9, "3e-09" }, { 1.5e-9, 5e-10, "1.5e-09" },
    { 0.005, 0.005, "0.005" }, { 2e21, 1e21, "2e+21" }, { 1e15, 2e14, "1P" },
  };
  static const struct { double value; const char *text; } values[] = {
    { 0, "0" }, { 12.25, "12.2" }, { 3.5, "3.5" }, { 250, "250" }, { 1234.6, "1235" },
    { 12345, "12.35k" }, { -2.5, "−2.5" }, { 0.001234, "1.23e-03" }, { 5e15, "5P" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (ticks); i++)
    {
      g_autofree char *s = odd_chart_format_tick (ticks[i].value, ticks[i].step);

      g_assert_cmpstr (s, ==, ticks[i].text);
    }
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *s = odd_chart_format_value (values[i].value);

      g_assert_cmpstr (s, ==, values[i].text);
    }
}

/* Points in, the same points back at their pixels, and drawn there. */
static void
test_points_at_pixels (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GdkTexture) texture = NULL;
  OddChartPoint pt;
  double x, y, v, min, max, step;
  guint8 rgb[3];

  odd_chart_add_series (f->chart, "high", "High", "jobs/s");
  odd_chart_add_series (f->chart, "low", "Low", "jobs/s");
  odd_chart_set_series_color (f->chart, "high", ODD_CHART_COLOR_BLUE);
  odd_chart_set_series_color (f->chart, "low", ODD_CHART_COLOR_GREEN);
  set_ramp (f->chart, "high", 61, five);
  set_ramp (f->chart, "low", 61, two);
  iterate_until_drawn (f->chart);

  odd_chart_get_value_range (f->chart, &min, &max, &step);
  g_assert_cmpfloat (min, ==, 0);
  g_assert_cmpfloat (max, >=, 5);
  g_assert_cmpfloat (max, <=, 10);

  for (guint i = 0; i <= 60; i += 15)
    {
      g_assert_true (odd_chart_pixel_for_point (f->chart, T0 + i * SEC, 5, &x, &y));
      g_assert_true (odd_chart_point_at_x (f->chart, "high", x, &pt));
      g_assert_cmpint (pt.time, ==, T0 + i * SEC);
      g_assert_cmpfloat (pt.value, ==, 5);
      /* Half a sample off still finds the nearest one. */
      g_assert_true (odd_chart_point_at_x (f->chart, "low", x + 3, &pt));
      g_assert_cmpint (pt.time, ==, T0 + i * SEC);
      g_assert_cmpfloat (pt.value, ==, 2);
      g_assert_true (odd_chart_value_at_pixel (f->chart, y, &v));
      g_assert_cmpfloat_with_epsilon (v, 5, 1e-9);
    }

  /* On screen: blue at value 5, green at value 2, neither half-way between. */
  texture = render_window (f);
  odd_chart_pixel_for_point (f->chart, T0 + 30 * SEC, 5, &x, &y);
  pixel_at (f, texture, x, y, rgb);
  g_assert_true (near_color (rgb, "#1c71d8", 40));
  odd_chart_pixel_for_point (f->chart, T0 + 30 * SEC, 2, &x, &y);
  pixel_at (f, texture, x, y, rgb);
  g_assert_true (near_color (rgb, "#26a269", 40));
  odd_chart_pixel_for_point (f->chart, T0 + 30 * SEC, 3.5, &x, &y);
  pixel_at (f, texture, x, y, rgb);
  g_assert_false (near_color (rgb, "#1c71d8", 60));
  g_assert_false (near_color (rgb, "#26a269", 60));

  /* Outside the window there is nothing to find. */
  g_assert_false (odd_chart_pixel_for_point (f->chart, T0 - 10 * SEC, 5, NULL, NULL));
  g_assert_false (odd_chart_point_at_x (f->chart, "nope", x, &pt));
}

static void
test_axis_in_widget (Fixture       *f,
                     gconstpointer  data)
{
  double min, max, step;
  const gint64 *ticks;
  gint64 time_step;
  guint n;

  odd_chart_add_series (f->chart, "a", "A", "ms");
  set_ramp (f->chart, "a", 61, identity);
  iterate_until_drawn (f->chart);
  odd_chart_get_value_range (f->chart, &min, &max, &step);
  g_assert_cmpfloat (min, ==, 0);
  g_assert_cmpfloat (max, >=, 60);
  g_assert_cmpfloat (max, <, 60 + step + 1e-9);
  g_assert_cmpfloat (fmod (max, step), ==, 0);

  /* Time ticks on whole steps, about one per 100 px of an 800 px chart. */
  ticks = odd_chart_get_time_ticks (f->chart, &time_step, &n);
  g_assert_cmpint (time_step, ==, 10 * SEC);
  g_assert_cmpuint (n, >=, 7);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (ticks[i] % time_step, ==, 0);

  /* A longer window: longer steps, and fewer points read per draw than there are. */
  odd_chart_set_window (f->chart, 3600);
  iterate_until_drawn (f->chart);
  odd_chart_get_time_ticks (f->chart, &time_step, &n);
  g_assert_cmpint (time_step, ==, 10 * 60 * SEC);
  odd_chart_set_window (f->chart, 30);
  iterate_until_drawn (f->chart);
  odd_chart_get_time_ticks (f->chart, &time_step, &n);
  g_assert_cmpint (time_step, ==, 5 * SEC);
  g_assert_cmpfloat (odd_chart_get_window (f->chart), ==, 30);
  /* Only the last 30 s are in view now, so the range shrank to them. */
  odd_chart_get_value_range (f->chart, &min, &max, &step);
  g_assert_cmpfloat (max, >=, 60);
}

static void
test_window_changes (Fixture       *f,
                     gconstpointer  data)
{
  OddChartPoint pt;
  OddChartStats stats;
  double x, y, min, max, step;
  g_autofree OddChartPoint *many = g_new (OddChartPoint, 100000);

  odd_chart_add_series (f->chart, "a", "A", NULL);
  for (guint i = 0; i < 100000; i++)
    many[i] = (OddChartPoint) { T0 + 60 * SEC - (gint64) (100000 - 1 - i) * SEC, i < 99000 ? 1000 : 10 };
  odd_chart_set_points (f->chart, "a", many, 100000);
  iterate_until_drawn (f->chart);

  /* 60 s of 100,000 samples are in view: only those (and the next ones) are read. */
  odd_chart_get_stats (f->chart, &stats);
  g_assert_cmpuint (stats.n_points_drawn, <=, 60 * 1.125 + 4);
  odd_chart_get_value_range (f->chart, &min, &max, &step);
  g_assert_cmpfloat (max, ==, 10);

  /* The left edge is 60 s back; with a 2 h window it is 7200 s back and the range grows. */
  odd_chart_pixel_for_point (f->chart, T0, 0, &x, &y);
  g_assert_true (odd_chart_point_at_x (f->chart, "a", x, &pt));
  g_assert_cmpint (pt.time, ==, T0);
  odd_chart_set_window (f->chart, 7200);
  iterate_until_drawn (f->chart);
  odd_chart_get_value_range (f->chart, &min, &max, &step);
  g_assert_cmpfloat (max, >=, 1000);
  odd_chart_pixel_for_point (f->chart, T0 - 7000 * SEC, 1000, &x, &y);
  g_assert_true (odd_chart_point_at_x (f->chart, "a", x, &pt));
  g_assert_cmpint (llabs (pt.time - (T0 - 7000 * SEC)), <=, 10 * SEC);
  odd_chart_get_stats (f->chart, &stats);
  g_assert_cmpuint (stats.n_points_drawn, <=, 7200 * 1.125 + 4);
}

static void
test_scroll_cache (Fixture       *f,
                   gconstpointer  data)
{
  OddChartStats a, b;

  odd_chart_add_series (f->chart, "a", "A", NULL);
  set_ramp (f->chart, "a", 61, five);
  iterate_until_drawn (f->chart);
  odd_chart_get_stats (f->chart, &a);

  /* Sliding by less than the layer's lead reuses it, and the value axis. */
  odd_chart_set_end_time (f->chart, T0 + 62 * SEC);
  iterate_until_drawn (f->chart);
  odd_chart_set_end_time (f->chart, T0 + 65 * SEC);
  iterate_until_drawn (f->chart);
  odd_chart_get_stats (f->chart, &b);
  g_assert_cmpuint (b.n_layer_builds, ==, a.n_layer_builds);
  g_assert_cmpuint (b.n_axis_builds, ==, a.n_axis_builds);
  g_assert_cmpuint (b.n_snapshots, >=, a.n_snapshots + 2);

  /* Beyond it the layer is drawn again. */
  odd_chart_set_end_time (f->chart, T0 + 75 * SEC);
  iterate_until_drawn (f->chart);
  odd_chart_get_stats (f->chart, &a);
  g_assert_cmpuint (a.n_layer_builds, ==, b.n_layer_builds + 1);

  /* Newer points are added to it, and drawn where they belong. */
  for (int i = 61; i <= 64; i++)
    odd_chart_append_point (f->chart, "a", T0 + i * SEC, 5);
  iterate_until_drawn (f->chart);
  odd_chart_get_stats (f->chart, &b);
  g_assert_cmpuint (b.n_layer_builds, ==, a.n_layer_builds);
  g_assert_cmpuint (b.n_layer_appends, ==, a.n_layer_appends + 1);
  g_assert_cmpuint (b.n_axis_builds, ==, a.n_axis_builds);
  {
    g_autoptr(GdkTexture) texture = render_window (f);
    double x, y;
    guint8 rgb[3];

    odd_chart_pixel_for_point (f->chart, T0 + 62 * SEC + SEC / 2, 5, &x, &y);
    pixel_at (f, texture, x, y, rgb);
    g_assert_true (near_color (rgb, "#1c71d8", 40));
  }

  /* An older point, or a new value for a known time, changes the drawn line: drawn again. */
  odd_chart_append_point (f->chart, "a", T0 + 30 * SEC, 4);
  iterate_until_drawn (f->chart);
  odd_chart_get_stats (f->chart, &a);
  g_assert_cmpuint (a.n_layer_builds, ==, b.n_layer_builds + 1);
  odd_chart_append_point (f->chart, "a", T0 + 64 * SEC, 4.5);
  iterate_until_drawn (f->chart);
  odd_chart_get_stats (f->chart, &b);
  g_assert_cmpuint (b.n_layer_builds, ==, a.n_layer_builds + 1);
}

static void
test_live_ticks_only_when_shown (Fixture       *f,
                                 gconstpointer  data)
{
  gint64 now = g_get_real_time ();
  gint64 before;

  odd_chart_add_series (f->chart, "a", "A", NULL);
  /* Nothing to show: no tick even when live. */
  odd_chart_set_live (f->chart, TRUE);
  g_assert_false (odd_chart_is_ticking (f->chart));

  for (int i = 60; i >= 0; i--)
    odd_chart_append_point (f->chart, "a", now - i * SEC, i);
  g_assert_true (odd_chart_is_ticking (f->chart));
  /* Live: the window ends one sample interval behind the clock. */
  before = odd_chart_get_end_time (f->chart);
  g_assert_cmpint (before, <=, g_get_real_time () - SEC + 1);
  g_assert_cmpint (before, >=, now - 2 * SEC);

  gtk_widget_set_visible (GTK_WIDGET (f->chart), FALSE);
  g_assert_false (gtk_widget_get_mapped (GTK_WIDGET (f->chart)));
  g_assert_false (odd_chart_is_ticking (f->chart));
  odd_chart_append_point (f->chart, "a", g_get_real_time (), 1);
  g_assert_false (odd_chart_is_ticking (f->chart));

  gtk_widget_set_visible (GTK_WIDGET (f->chart), TRUE);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (f->chart)));
  g_assert_true (odd_chart_is_ticking (f->chart));

  /* The clock moves the window. */
  iterate_until_drawn (f->chart);
  g_usleep (50000);
  g_assert_cmpint (odd_chart_get_end_time (f->chart), >, before);

  odd_chart_set_end_time (f->chart, 0);
  g_assert_false (odd_chart_get_live (f->chart));
  g_assert_false (odd_chart_is_ticking (f->chart));
}

/* A live chart whose source answers without new points for it (latency in seconds without
 * completed jobs) moves when touched, not on its own clock between two answers. */
static void
test_live_touch_paces (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree OddChartPoint *points = g_new (OddChartPoint, 300);
  gint64 now = g_get_real_time ();
  gint64 touched;
  OddChartStats a, b;

  /* 5 minutes over about 750 px: a pixel every 400 ms, a few pixels a sample. */
  odd_chart_set_window (f->chart, 300);
  odd_chart_add_series (f->chart, "a", "A", NULL);
  for (int i = 0; i < 300; i++)
    points[i] = (OddChartPoint) { now - (300 - i) * SEC, i % 7 };
  odd_chart_set_points (f->chart, "a", points, 300);
  odd_chart_set_live (f->chart, TRUE);
  iterate_until_drawn (f->chart);

  /* Never touched: it slides on the clock. */
  odd_chart_get_stats (f->chart, &a);
  ODD_GUI_ASSERT_WITHIN ((odd_chart_get_stats (f->chart, &b), b.n_snapshots > a.n_snapshots), 10);

  /* Touched: no frame of its own until a sample interval and a quarter have passed. */
  odd_chart_touch (f->chart);
  touched = g_get_monotonic_time ();
  iterate_until_drawn (f->chart);
  odd_chart_get_stats (f->chart, &a);
  while (g_get_monotonic_time () < touched + SEC)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  odd_chart_get_stats (f->chart, &b);
  g_assert_cmpuint (b.n_snapshots, ==, a.n_snapshots);
  g_assert_true (odd_chart_is_ticking (f->chart));
}

static void
test_hover (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GdkTexture) texture = NULL;
  OddChartPoint pt;
  gint64 t;
  double x, y, x2;
  guint8 rgb[3];

  odd_chart_add_series (f->chart, "a", "A", "jobs/s");
  odd_chart_add_series (f->chart, "b", "B", "jobs/s");
  set_ramp (f->chart, "a", 61, identity);
  set_ramp (f->chart, "b", 61, two);

  g_assert_false (odd_chart_get_hover_time (f->chart, &t));
  odd_chart_pixel_for_point (f->chart, T0 + 30 * SEC, 30, &x, &y);
  odd_chart_pixel_for_point (f->chart, T0 + 31 * SEC, 30, &x2, NULL);
  /* A pointer a third of a sample off snaps to the sample. */
  odd_chart_hover_at (f->chart, x + (x2 - x) / 3);
  g_assert_true (odd_chart_get_hover_time (f->chart, &t));
  g_assert_cmpint (t, ==, T0 + 30 * SEC);
  g_assert_true (odd_chart_get_hover_point (f->chart, "a", &pt));
  g_assert_cmpfloat (pt.value, ==, 30);
  g_assert_true (odd_chart_get_hover_point (f->chart, "b", &pt));
  g_assert_cmpfloat (pt.value, ==, 2);
  g_assert_cmpint (pt.time, ==, T0 + 30 * SEC);

  /* The crosshair is drawn: the line's colour above the series, where the plot is empty. */
  iterate_until_drawn (f->chart);
  texture = render_window (f);
  odd_chart_pixel_for_point (f->chart, T0 + 30 * SEC, 45, &x, &y);
  pixel_at (f, texture, x, y + 30, rgb);
  {
    guint8 away[3];

    pixel_at (f, texture, x + 5, y + 30, away);
    g_assert_true (abs (rgb[0] - away[0]) + abs (rgb[1] - away[1]) + abs (rgb[2] - away[2]) > 30);
  }

  /* A hidden series is not in the box; outside the plot, or gone: no crosshair. */
  odd_chart_set_series_visible (f->chart, "b", FALSE);
  g_assert_false (odd_chart_get_hover_point (f->chart, "b", &pt));
  g_assert_true (odd_chart_get_hover_point (f->chart, "a", &pt));
  odd_chart_hover_at (f->chart, 1);
  g_assert_false (odd_chart_get_hover_time (f->chart, &t));
  odd_chart_hover_at (f->chart, -1);
  g_assert_false (odd_chart_get_hover_time (f->chart, &t));
}

static gboolean
press_key (Fixture *f,
           guint    keyval)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (f->chart));
  gboolean handled = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_KEY (controller))
        g_signal_emit_by_name (controller, "key-pressed", keyval, 0, 0, &handled);
    }
  return handled;
}

/* The crosshair from the keyboard: Left and Right walk the samples, Escape hides it. */
static void
test_hover_keys (Fixture       *f,
                 gconstpointer  data)
{
  OddChartPoint pts[] = { { T0 + 10 * SEC, 1 }, { T0 + 20 * SEC, 2 }, { T0 + 40 * SEC, 4 } };
  OddChartPoint late[] = { { T0 + 30 * SEC, 3 } };
  gint64 t;

  odd_chart_add_series (f->chart, "a", "A", NULL);
  odd_chart_add_series (f->chart, "b", "B", NULL);
  odd_chart_set_points (f->chart, "a", pts, G_N_ELEMENTS (pts));
  odd_chart_set_points (f->chart, "b", late, G_N_ELEMENTS (late));
  g_assert_true (gtk_widget_get_focusable (GTK_WIDGET (f->chart)));

  /* The first key shows the newest sample, then each one steps over the samples of both. */
  g_assert_true (press_key (f, GDK_KEY_Left));
  g_assert_true (odd_chart_get_hover_time (f->chart, &t));
  g_assert_cmpint (t, ==, T0 + 40 * SEC);
  press_key (f, GDK_KEY_Left);
  g_assert_true (odd_chart_get_hover_time (f->chart, &t));
  g_assert_cmpint (t, ==, T0 + 30 * SEC);
  press_key (f, GDK_KEY_Left);
  press_key (f, GDK_KEY_Left);
  g_assert_true (odd_chart_get_hover_time (f->chart, &t));
  g_assert_cmpint (t, ==, T0 + 10 * SEC);
  /* At the oldest it stays. */
  press_key (f, GDK_KEY_Left);
  g_assert_true (odd_chart_get_hover_time (f->chart, &t));
  g_assert_cmpint (t, ==, T0 + 10 * SEC);
  press_key (f, GDK_KEY_Right);
  g_assert_true (odd_chart_get_hover_time (f->chart, &t));
  g_assert_cmpint (t, ==, T0 + 20 * SEC);

  g_assert_true (press_key (f, GDK_KEY_Escape));
  g_assert_false (odd_chart_get_hover_time (f->chart, &t));
  g_assert_false (press_key (f, GDK_KEY_Escape));
  g_assert_false (press_key (f, GDK_KEY_a));
}

/* A silence of several sample intervals is not bridged by a line. */
static void
test_gap (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GdkTexture) texture = NULL;
  OddChartPoint pts[42];
  double x, y;
  guint8 rgb[3];

  for (guint i = 0; i < 21; i++)
    {
      pts[i] = (OddChartPoint) { T0 + i * SEC, 5 };
      pts[21 + i] = (OddChartPoint) { T0 + (40 + i) * SEC, 5 };
    }
  odd_chart_add_series (f->chart, "a", "A", NULL);
  odd_chart_set_series_color (f->chart, "a", ODD_CHART_COLOR_BLUE);
  odd_chart_set_points (f->chart, "a", pts, G_N_ELEMENTS (pts));
  iterate_until_drawn (f->chart);
  texture = render_window (f);
  odd_chart_pixel_for_point (f->chart, T0 + 10 * SEC, 5, &x, &y);
  pixel_at (f, texture, x, y, rgb);
  g_assert_true (near_color (rgb, "#1c71d8", 40));
  odd_chart_pixel_for_point (f->chart, T0 + 30 * SEC, 5, &x, &y);
  pixel_at (f, texture, x, y, rgb);
  g_assert_false (near_color (rgb, "#1c71d8", 60));
  odd_chart_pixel_for_point (f->chart, T0 + 50 * SEC, 5, &x, &y);
  pixel_at (f, texture, x, y, rgb);
  g_assert_true (near_color (rgb, "#1c71d8", 40));
}

static GtkWidget *
legend_button (Fixture *f,
               guint    index)
{
  GtkWidget *legend = gtk_widget_get_first_child (GTK_WIDGET (f->chart));
  GtkWidget *button = gtk_widget_get_first_child (legend);

  for (guint i = 0; i < index && button; i++)
    button = gtk_widget_get_next_sibling (button);
  g_assert_true (GTK_IS_BUTTON (button));
  return button;
}

static void
test_legend_toggles (Fixture       *f,
                     gconstpointer  data)
{
  double min, max, step;
  g_autofree char *tip = NULL;

  odd_chart_add_series (f->chart, "small", "Small", "ms");
  odd_chart_add_series (f->chart, "big", "Big", "ms");
  set_ramp (f->chart, "small", 61, two);
  set_ramp (f->chart, "big", 61, identity);
  iterate_until_drawn (f->chart);
  odd_chart_get_value_range (f->chart, &min, &max, &step);
  g_assert_cmpfloat (max, >=, 60);

  /* A click on "Big" in the legend hides it; the axis follows what is left. */
  g_signal_emit_by_name (legend_button (f, 1), "clicked");
  g_assert_false (odd_chart_get_series_visible (f->chart, "big"));
  g_assert_true (odd_chart_get_series_visible (f->chart, "small"));
  tip = gtk_widget_get_tooltip_text (legend_button (f, 1)) ? g_strdup (gtk_widget_get_tooltip_text (legend_button (f, 1))) : NULL;
  g_assert_cmpstr (tip, ==, "Show “Big”");
  iterate_until_drawn (f->chart);
  odd_chart_get_value_range (f->chart, &min, &max, &step);
  g_assert_cmpfloat (max, <, 5);

  g_signal_emit_by_name (legend_button (f, 1), "clicked");
  g_assert_true (odd_chart_get_series_visible (f->chart, "big"));
  odd_chart_get_value_range (f->chart, &min, &max, &step);
  g_assert_cmpfloat (max, >=, 60);

  /* Removing a series takes its legend entry away. */
  g_assert_true (odd_chart_remove_series (f->chart, "small"));
  g_assert_false (odd_chart_remove_series (f->chart, "small"));
  g_assert_null (gtk_widget_get_next_sibling (legend_button (f, 0)));
}

static void
test_empty_and_one_point (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GError) error = NULL;
  OddChartPoint pt;
  double min, max, step, x, y;
  guint8 rgb[3];

  /* No series, then an empty one: an axis of 0..1 and nothing to find. */
  iterate_until_drawn (f->chart);
  odd_chart_add_series (f->chart, "a", "A", "jobs/s");
  iterate_until_drawn (f->chart);
  odd_chart_get_value_range (f->chart, &min, &max, &step);
  g_assert_cmpfloat (min, ==, 0);
  g_assert_cmpfloat (max, ==, 1);
  g_assert_false (odd_chart_point_at_x (f->chart, "a", 400, &pt));
  png = odd_chart_render_png (f->chart, 400, 200, &error);
  g_assert_no_error (error);
  g_assert_nonnull (png);

  /* One point: found, and drawn as a dot. */
  odd_chart_set_series_color (f->chart, "a", ODD_CHART_COLOR_RED);
  odd_chart_append_point (f->chart, "a", T0 + 30 * SEC, 3);
  iterate_until_drawn (f->chart);
  g_assert_cmpuint (odd_chart_get_n_points (f->chart, "a"), ==, 1);
  odd_chart_pixel_for_point (f->chart, T0 + 30 * SEC, 3, &x, &y);
  g_assert_true (odd_chart_point_at_x (f->chart, "a", x + 40, &pt));
  g_assert_cmpfloat (pt.value, ==, 3);
  texture = render_window (f);
  pixel_at (f, texture, x, y, rgb);
  g_assert_true (near_color (rgb, "#e01b24", 40));
}

static void
test_huge_negative_nan (Fixture       *f,
                        gconstpointer  data)
{
  OddChartPoint pts[] = {
    { T0 + 10 * SEC, 1e15 }, { T0 + 20 * SEC, NAN }, { T0 + 30 * SEC, -3e14 },
    { T0 + 40 * SEC, INFINITY }, { T0 + 50 * SEC, 2e14 },
  };
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GError) error = NULL;
  OddChartPoint pt;
  double min, max, step, x, y, v;

  odd_chart_add_series (f->chart, "a", "A", "B");
  odd_chart_set_points (f->chart, "a", pts, G_N_ELEMENTS (pts));
  /* NaN and inf are not drawable: left out. */
  g_assert_cmpuint (odd_chart_get_n_points (f->chart, "a"), ==, 3);
  odd_chart_append_point (f->chart, "a", T0 + 55 * SEC, NAN);
  g_assert_cmpuint (odd_chart_get_n_points (f->chart, "a"), ==, 3);

  iterate_until_drawn (f->chart);
  odd_chart_get_value_range (f->chart, &min, &max, &step);
  g_assert_cmpfloat (min, <=, -3e14);
  g_assert_cmpfloat (max, >=, 1e15);
  g_assert_cmpfloat (min, >, -1e15);
  odd_chart_pixel_for_point (f->chart, T0 + 30 * SEC, -3e14, &x, &y);
  g_assert_true (odd_chart_point_at_x (f->chart, "a", x, &pt));
  g_assert_cmpfloat (pt.value, ==, -3e14);
  g_assert_true (odd_chart_value_at_pixel (f->chart, y, &v));
  g_assert_cmpfloat (fabs (v - -3e14), <, 1e3);
  /* The NaN at 20 s is skipped: the nearest sample there is a real one. */
  odd_chart_pixel_for_point (f->chart, T0 + 20 * SEC, 0, &x, &y);
  g_assert_true (odd_chart_point_at_x (f->chart, "a", x, &pt));
  g_assert_true (isfinite (pt.value));

  /* The extremes of a double: drawn without a crash, the axis finite. */
  odd_chart_append_point (f->chart, "a", T0 + 58 * SEC, DBL_MAX);
  odd_chart_append_point (f->chart, "a", T0 + 59 * SEC, -DBL_MAX);
  iterate_until_drawn (f->chart);
  odd_chart_get_value_range (f->chart, &min, &max, &step);
  g_assert_true (isfinite (min) && isfinite (max) && max > min);
  png = odd_chart_render_png (f->chart, 640, 240, &error);
  g_assert_no_error (error);
}

static void
test_order_and_duplicates (Fixture       *f,
                           gconstpointer  data)
{
  OddChartPoint pts[] = { { T0 + 30 * SEC, 3 }, { T0 + 10 * SEC, 1 }, { T0 + 30 * SEC, 33 }, { T0 + 20 * SEC, 2 } };
  OddChartPoint pt;
  double x;

  odd_chart_add_series (f->chart, "a", "A", NULL);
  odd_chart_set_points (f->chart, "a", pts, G_N_ELEMENTS (pts));
  /* Sorted; of two at one time the later given wins. */
  g_assert_cmpuint (odd_chart_get_n_points (f->chart, "a"), ==, 3);
  odd_chart_pixel_for_point (f->chart, T0 + 30 * SEC, 0, &x, NULL);
  g_assert_true (odd_chart_point_at_x (f->chart, "a", x, &pt));
  g_assert_cmpfloat (pt.value, ==, 33);

  /* An older point goes into its place; one at a known time updates it. */
  odd_chart_append_point (f->chart, "a", T0 + 15 * SEC, 1.5);
  odd_chart_append_point (f->chart, "a", T0 + 20 * SEC, 22);
  g_assert_cmpuint (odd_chart_get_n_points (f->chart, "a"), ==, 4);
  odd_chart_pixel_for_point (f->chart, T0 + 15 * SEC, 0, &x, NULL);
  g_assert_true (odd_chart_point_at_x (f->chart, "a", x, &pt));
  g_assert_cmpfloat (pt.value, ==, 1.5);
  odd_chart_pixel_for_point (f->chart, T0 + 20 * SEC, 0, &x, NULL);
  g_assert_true (odd_chart_point_at_x (f->chart, "a", x, &pt));
  g_assert_cmpfloat (pt.value, ==, 22);

  /* A series never holds more than its cap: the oldest go. */
  {
    g_autofree OddChartPoint *many = g_new (OddChartPoint, ODD_CHART_MAX_POINTS + 10);

    for (guint i = 0; i < ODD_CHART_MAX_POINTS + 10; i++)
      many[i] = (OddChartPoint) { T0 + i, i };
    odd_chart_set_points (f->chart, "a", many, ODD_CHART_MAX_POINTS + 10);
    g_assert_cmpuint (odd_chart_get_n_points (f->chart, "a"), ==, ODD_CHART_MAX_POINTS);
    odd_chart_append_point (f->chart, "a", T0 + ODD_CHART_MAX_POINTS + 20, 1);
    g_assert_cmpuint (odd_chart_get_n_points (f->chart, "a"), ==, ODD_CHART_MAX_POINTS);
  }
  odd_chart_clear (f->chart);
  g_assert_cmpuint (odd_chart_get_n_points (f->chart, "a"), ==, 0);
}

static void
test_csv (Fixture       *f,
          gconstpointer  data)
{
  OddChartPoint a[] = { { T0 - 5 * SEC, 9 }, { T0 + 10 * SEC, 1 }, { T0 + 20 * SEC, 2.5 } };
  OddChartPoint b[] = { { T0 + 20 * SEC, 7 }, { T0 + 30 * SEC, 8 } };
  g_autoptr(GBytes) csv = NULL;

  odd_chart_add_series (f->chart, "a", "Completed", "jobs/s");
  odd_chart_add_series (f->chart, "b", "p99, \"slow\"", "ms");
  odd_chart_add_series (f->chart, "c", "Hidden", NULL);
  odd_chart_set_points (f->chart, "a", a, G_N_ELEMENTS (a));
  odd_chart_set_points (f->chart, "b", b, G_N_ELEMENTS (b));
  odd_chart_append_point (f->chart, "c", T0 + 10 * SEC, 1);
  odd_chart_set_series_visible (f->chart, "c", FALSE);

  /* The visible window (T0 .. T0 + 60 s) of the shown series; the point before it is not. */
  csv = odd_chart_write_csv (f->chart);
  g_assert_cmpstr (g_bytes_get_data (csv, NULL), ==,
                   "time,Completed (jobs/s),\"p99, \"\"slow\"\" (ms)\"\r\n"
                   "2026-12-30T12:00:10.000Z,1,\r\n"
                   "2026-12-30T12:00:20.000Z,2.5,7\r\n"
                   "2026-12-30T12:00:30.000Z,,8\r\n");
}

static void
test_png (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  odd_chart_add_series (f->chart, "a", "A", "jobs/s");
  set_ramp (f->chart, "a", 61, identity);
  png = odd_chart_render_png (f->chart, 1000, 400, &error);
  g_assert_no_error (error);
  texture = gdk_texture_new_from_bytes (png, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, 1000);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, 400);

  g_clear_pointer (&png, g_bytes_unref);
  png = odd_chart_render_png (f->chart, 10, 400, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_null (png);
}

static void
test_dark (Fixture       *f,
           gconstpointer  data)
{
  AdwStyleManager *manager = adw_style_manager_get_default ();
  g_autoptr(GdkTexture) texture = NULL;
  double x, y;
  guint8 rgb[3];

  odd_chart_add_series (f->chart, "a", "A", NULL);
  set_ramp (f->chart, "a", 61, five);
  adw_style_manager_set_color_scheme (manager, ADW_COLOR_SCHEME_FORCE_DARK);
  iterate_until_drawn (f->chart);
  texture = render_window (f);
  odd_chart_pixel_for_point (f->chart, T0 + 30 * SEC, 5, &x, &y);
  pixel_at (f, texture, x, y, rgb);
  g_assert_true (near_color (rgb, "#62a0ea", 40));
  adw_style_manager_set_color_scheme (manager, ADW_COLOR_SCHEME_FORCE_LIGHT);
  iterate_until_drawn (f->chart);
  g_clear_object (&texture);
  texture = render_window (f);
  pixel_at (f, texture, x, y, rgb);
  g_assert_true (near_color (rgb, "#1c71d8", 40));
}

/* ---------------------------------------------------------------------------------------- */
/* Screenshots: the chart as a dashboard shows it, in a card, light and dark. They are kept
 * in BUILD_DIR/tests/gui/screenshots for a person (and CI's artifacts) to look at.           */

static void
fill_demo (OddChart *chart)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  gint64 end = T0 + 900 * SEC;
  double backlog = 0;

  odd_chart_add_series (chart, "submitted", "Submitted", "jobs/s");
  odd_chart_add_series (chart, "completed", "Completed", "jobs/s");
  odd_chart_add_series (chart, "failed", "Failed", "jobs/s");
  odd_chart_set_series_color (chart, "submitted", ODD_CHART_COLOR_BLUE);
  odd_chart_set_series_color (chart, "completed", ODD_CHART_COLOR_GREEN);
  odd_chart_set_series_color (chart, "failed", ODD_CHART_COLOR_RED);
  for (gint64 t = T0; t <= end; t += SEC)
    {
      double s = (t - T0) / (double) SEC;
      /* A steady load with a burst of work a little after the middle. */
      double submitted = 80 + 25 * sin (s / 70) + g_rand_double_range (rand, -8, 8) +
                         (s > 520 && s < 600 ? 260 * sin ((s - 520) / 80 * G_PI) : 0);
      double capacity = 170 + g_rand_double_range (rand, -10, 10);
      double completed;

      backlog += MAX (submitted, 0);
      completed = MIN (backlog, capacity);
      backlog -= completed;
      odd_chart_append_point (chart, "submitted", t, MAX (submitted, 0));
      odd_chart_append_point (chart, "completed", t, completed);
      odd_chart_append_point (chart, "failed", t, MAX (0, 0.03 * completed + g_rand_double_range (rand, -1.5, 1.5)));
    }
  odd_chart_set_window (chart, 900);
  odd_chart_set_end_time (chart, end);
}

static void
test_screenshot_empty (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("ODD_BUILD_DIR") ? g_getenv ("ODD_BUILD_DIR") : ".",
                                           "tests", "gui", "screenshots", NULL);
  g_autofree char *path = g_build_filename (dir, "chart-empty-light.png", NULL);
  g_autoptr(GdkTexture) texture = NULL;
  Fixture f = { 0 };

  fixture_setup (&f, NULL);
  odd_chart_add_series (f.chart, "p50", "p50", "ms");
  odd_chart_add_series (f.chart, "p95", "p95", "ms");
  odd_chart_add_series (f.chart, "p99", "p99", "ms");
  iterate_until_drawn (f.chart);
  texture = render_window (&f);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
  fixture_teardown (&f, NULL);
}

static void
test_screenshot (gconstpointer data)
{
  gboolean dark = GPOINTER_TO_INT (data);
  AdwStyleManager *manager = adw_style_manager_get_default ();
  g_autofree char *dir = g_build_filename (g_getenv ("ODD_BUILD_DIR") ? g_getenv ("ODD_BUILD_DIR") : ".",
                                           "tests", "gui", "screenshots", NULL);
  g_autofree char *path = g_build_filename (dir, dark ? "chart-dark.png" : "chart-light.png", NULL);
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *pixels = NULL;
  Fixture f = { 0 };
  GtkWidget *box, *card, *title;
  double x, sum = 0;
  int w, h;

  adw_style_manager_set_color_scheme (manager, dark ? ADW_COLOR_SCHEME_FORCE_DARK : ADW_COLOR_SCHEME_FORCE_LIGHT);
  f.window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (f.window, 960, 420);
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_add_css_class (card, "card");
  title = gtk_label_new ("Throughput");
  gtk_widget_add_css_class (title, "heading");
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_widget_set_margin_top (title, 12);
  gtk_widget_set_margin_start (title, 16);
  f.chart = ODD_CHART (odd_chart_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (f.chart), TRUE);
  gtk_widget_set_margin_start (GTK_WIDGET (f.chart), 8);
  gtk_widget_set_margin_end (GTK_WIDGET (f.chart), 8);
  gtk_widget_set_margin_bottom (GTK_WIDGET (f.chart), 10);
  gtk_box_append (GTK_BOX (card), title);
  gtk_box_append (GTK_BOX (card), GTK_WIDGET (f.chart));
  gtk_box_append (GTK_BOX (box), card);
  gtk_window_set_child (f.window, box);
  fill_demo (f.chart);
  gtk_window_present (f.window);
  while (!gtk_widget_get_mapped (GTK_WIDGET (f.chart)) || gtk_widget_get_width (GTK_WIDGET (f.chart)) == 0)
    g_main_context_iteration (NULL, TRUE);
  iterate_until_drawn (f.chart);

  /* The pointer rests in the burst; in the dark one "Failed" is switched off in the legend. */
  if (dark)
    odd_chart_set_series_visible (f.chart, "failed", FALSE);
  odd_chart_pixel_for_point (f.chart, T0 + 560 * SEC, 0, &x, NULL);
  odd_chart_hover_at (f.chart, x);
  iterate_until_drawn (f.chart);
  texture = render_window (&f);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);

  /* The export of the same chart, as the dashboard saves it. */
  {
    g_autofree char *export_path = g_build_filename (dir, dark ? "chart-export-dark.png" : "chart-export-light.png", NULL);
    g_autoptr(GBytes) png = odd_chart_render_png (f.chart, 1200, 400, &error);

    g_assert_no_error (error);
    g_assert_true (g_file_set_contents (export_path, g_bytes_get_data (png, NULL), g_bytes_get_size (png), &error));
    g_assert_no_error (error);
    g_test_message ("export: %s", export_path);
  }

  /* A dark screenshot is dark and a light one light (the theme reached the drawing). */
  w = gdk_texture_get_width (texture);
  h = gdk_texture_get_height (texture);
  pixels = g_malloc ((gsize) w * h * 4);
  gdk_texture_download (texture, pixels, (gsize) w * 4);
  for (int i = 0; i < w * h; i++)
    sum += pixels[i * 4 + 1];
  if (dark)
    g_assert_cmpfloat (sum / (w * h), <, 90);
  else
    g_assert_cmpfloat (sum / (w * h), >, 180);

  fixture_teardown (&f, NULL);
  adw_style_manager_set_color_scheme (manager, ADW_COLOR_SCHEME_FORCE_LIGHT);
}

int
main (int   argc,
      char *argv[])
{
  /* Time labels in UTC whatever the machine's zone. */
  g_setenv ("TZ", "UTC", TRUE);
  tzset ();
  odd_gui_test_init (&argc, &argv);

  g_test_add_func ("/chart/axis/value", test_value_axis);
  g_test_add_func ("/chart/axis/time", test_time_axis);
  g_test_add_func ("/chart/axis/labels", test_labels);
#define ADD(path, fn) g_test_add ("/chart/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("points-at-pixels", test_points_at_pixels);
  ADD ("axis-in-widget", test_axis_in_widget);
  ADD ("window-changes", test_window_changes);
  ADD ("scroll-cache", test_scroll_cache);
  ADD ("live-ticks-only-when-shown", test_live_ticks_only_when_shown);
  ADD ("live-touch-paces", test_live_touch_paces);
  ADD ("hover", test_hover);
  ADD ("hover-keys", test_hover_keys);
  ADD ("gap", test_gap);
  ADD ("legend-toggles", test_legend_toggles);
  ADD ("empty-and-one-point", test_empty_and_one_point);
  ADD ("huge-negative-nan", test_huge_negative_nan);
  ADD ("order-and-duplicates", test_order_and_duplicates);
  ADD ("csv", test_csv);
  ADD ("png", test_png);
  ADD ("dark", test_dark);
#undef ADD
  g_test_add_data_func ("/chart/screenshot/light", GINT_TO_POINTER (FALSE), test_screenshot);
  g_test_add_data_func ("/chart/screenshot/dark", GINT_TO_POINTER (TRUE), test_screenshot);
  g_test_add_func ("/chart/screenshot/empty", test_screenshot_empty);
  return g_test_run ();
}
