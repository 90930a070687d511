/* chart-bench.c: how long OddChart takes to draw, and what a live chart costs while idle
 *
 * SPDX-License-Identifier: MIT
 *
 * Run under a display with the cairo renderer (docs/performance.md, "Observatory: OddChart"):
 *   GSK_RENDERER=cairo GDK_BACKEND=x11 GTK_A11Y=none xvfb-run -a -s '-screen 0 1280x1024x24' \
 *     build/tests/bench/odd-chart-bench [--frames 200] [--idle-seconds 30]
 *
 * A frame is what GTK does to draw a window (without decorations) holding only the chart, timed
 * by its frame clock from before-paint to after-paint: layout, snapshot, rendering by the
 * window's renderer and the copy to the X server. Kinds:
 *   scroll     the window slid by a pixel (the normal live frame: the cached layer moves; when
 *              it slid past the layer's lead, about every 110th frame, it is drawn again)
 *   new-data   a new point per series and the window slid by a pixel (the points are added)
 *   full       the window's length changed (axis, layer and labels all drawn again)
 *   hover      the pointer moved over the chart (crosshair and the values box)
 */
#define G_LOG_DOMAIN "odd-chart-bench"

#include <adwaita.h>
#include <math.h>
#include <sys/resource.h>

#include "odd-chart-private.h"
#include "odd-frame-timer.h"

#define SEC ((gint64) G_USEC_PER_SEC)
#define N_SERIES 4
#define N_POINTS 3600

static const char *ids[N_SERIES] = { "submitted", "completed", "failed", "depth" };

/* Draws the next frame; its wall and CPU time are in the timer. */
static void
next_frame (GtkWidget  *chart,
            OddFrameTimer *timer)
{
  OddChartStats before, after;
  guint frames = timer->frames;

  odd_chart_get_stats (ODD_CHART (chart), &before);
  gtk_widget_queue_draw (chart);
  while (timer->frames == frames)
    g_main_context_iteration (NULL, TRUE);
  odd_chart_get_stats (ODD_CHART (chart), &after);
  if (after.n_snapshots == before.n_snapshots)
    g_error ("a frame went by without drawing the chart");
}

static void
report (const char *kind,
        GArray     *ms,
        GArray     *cpu_ms,
        guint       layer_builds)
{
  g_print ("{\"kind\": \"%s\", \"frames\": %u, \"cpu_median_ms\": %.3f, \"cpu_p95_ms\": %.3f, "
           "\"wall_median_ms\": %.3f, \"wall_p95_ms\": %.3f, \"layer_builds\": %u}\n",
           kind, ms->len, odd_frame_quantile (cpu_ms, 0.5), odd_frame_quantile (cpu_ms, 0.95),
           odd_frame_quantile (ms, 0.5), odd_frame_quantile (ms, 0.95), layer_builds);
}

static double
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static gboolean
append_live (gpointer data)
{
  OddChart *chart = data;
  gint64 now = g_get_real_time () / SEC * SEC;

  for (guint s = 0; s < N_SERIES; s++)
    odd_chart_append_point (chart, ids[s], now, 100 + 50 * sin (now / (double) SEC / 30 + s));
  return G_SOURCE_CONTINUE;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  int frames = 200, idle_seconds = 30, width = 1000, height = 360;
  g_autofree char *only = NULL;
  GOptionEntry entries[] = {
    { "frames", 0, 0, G_OPTION_ARG_INT, &frames, "Frames per kind (200)", "N" },
    { "idle-seconds", 0, 0, G_OPTION_ARG_INT, &idle_seconds, "Seconds of the live idle phase, 0: none (30)", "S" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, "Chart width (1000)", "PX" },
    { "height", 0, 0, G_OPTION_ARG_INT, &height, "Chart height (360)", "PX" },
    { "only", 0, 0, G_OPTION_ARG_STRING, &only, "Only this kind of frame (for a profiler)", "KIND" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- OddChart drawing benchmark");
  g_autoptr(GError) error = NULL;
  const char *kinds[] = { "scroll", "new-data", "full", "hover" };
  GtkWindow *window;
  OddChart *chart;
  gint64 t0 = g_get_real_time () / SEC * SEC - N_POINTS * SEC;
  gint64 end;
  OddChartStats stats;
  OddFrameTimer timer = { 0 };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || frames < 10)
    {
      g_printerr ("%s\n", error ? error->message : "--frames must be at least 10");
      return 2;
    }
  adw_init ();

  window = GTK_WINDOW (gtk_window_new ());
  chart = ODD_CHART (odd_chart_new ());
  gtk_widget_set_size_request (GTK_WIDGET (chart), width, height);
  gtk_window_set_child (window, GTK_WIDGET (chart));
  gtk_window_set_resizable (window, FALSE);
  gtk_window_set_decorated (window, FALSE);

  for (guint s = 0; s < N_SERIES; s++)
    {
      g_autofree OddChartPoint *pts = g_new (OddChartPoint, N_POINTS);

      odd_chart_add_series (chart, ids[s], ids[s], "jobs/s");
      for (guint i = 0; i < N_POINTS; i++)
        pts[i] = (OddChartPoint) { t0 + (gint64) i * SEC, 100 + 50 * sin (i / 30.0 + s) + (i * 7919 % 13) };
      odd_chart_set_points (chart, ids[s], pts, N_POINTS);
    }
  odd_chart_set_window (chart, N_POINTS);
  end = t0 + N_POINTS * SEC;
  odd_chart_set_end_time (chart, end);
  gtk_window_present (window);
  /* Until the window's first frame is drawn. */
  do
    {
      g_main_context_iteration (NULL, TRUE);
      odd_chart_get_stats (chart, &stats);
    }
  while (stats.n_snapshots == 0);
  odd_frame_timer_attach (&timer, gtk_widget_get_frame_clock (GTK_WIDGET (chart)));

  g_print ("{\"chart\": \"%dx%d\", \"series\": %d, \"points_per_series\": %d, \"renderer\": \"%s\"}\n",
           gtk_widget_get_width (GTK_WIDGET (chart)), gtk_widget_get_height (GTK_WIDGET (chart)), N_SERIES, N_POINTS,
           G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (window))));

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autoptr(GArray) ms = g_array_new (FALSE, FALSE, sizeof (double));
      g_autoptr(GArray) cpu_ms = g_array_new (FALSE, FALSE, sizeof (double));
      guint builds_before;

      if (only != NULL && !g_str_equal (only, kinds[k]))
        continue;
      next_frame (GTK_WIDGET (chart), &timer);  /* warm: fonts, glyph caches */
      odd_chart_get_stats (chart, &stats);
      builds_before = stats.n_layer_builds;
      for (int i = 0; i < frames; i++)
        {
          switch (k)
            {
            case 0:
              /* Live scrolling: the window moves by a pixel (3.8 s of 3600 s over 950 px). */
              end += 4 * SEC;
              odd_chart_set_end_time (chart, end);
              break;
            case 1:
              end += 4 * SEC;
              for (guint s = 0; s < N_SERIES; s++)
                odd_chart_append_point (chart, ids[s], end, 100 + 50 * sin (i / 30.0 + s));
              odd_chart_set_end_time (chart, end);
              break;
            case 2:
              odd_chart_set_window (chart, i % 2 ? N_POINTS : N_POINTS - 1);
              break;
            case 3:
              odd_chart_hover_at (chart, 60 + (i * 37) % (width - 120));
              break;
            }
          next_frame (GTK_WIDGET (chart), &timer);
          g_array_append_val (ms, timer.last_ms);
          g_array_append_val (cpu_ms, timer.last_cpu_ms);
        }
      odd_chart_get_stats (chart, &stats);
      odd_chart_hover_at (chart, -1);
      odd_chart_set_window (chart, N_POINTS);
      report (kinds[k], ms, cpu_ms, stats.n_layer_builds - builds_before);
    }

  if (idle_seconds > 0)
    {
      /* A live chart on screen, fed one point per series a second, for idle_seconds. */
      g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
      guint feed;
      double cpu;
      gint64 wall;
      guint snapshots, builds, appends;

      /* An hour of history up to now (the phases above left points in the future). */
      gint64 now = g_get_real_time () / SEC * SEC;

      for (guint s = 0; s < N_SERIES; s++)
        {
          g_autofree OddChartPoint *pts = g_new (OddChartPoint, N_POINTS);

          for (guint i = 0; i < N_POINTS; i++)
            {
              gint64 t = now - (gint64) (N_POINTS - i) * SEC;

              pts[i] = (OddChartPoint) { t, 100 + 50 * sin (t / (double) SEC / 30 + s) };
            }
          odd_chart_set_points (chart, ids[s], pts, N_POINTS);
        }
      odd_chart_set_live (chart, TRUE);
      odd_chart_set_window (chart, 300);
      append_live (chart);
      feed = g_timeout_add_seconds (1, append_live, chart);
      odd_chart_get_stats (chart, &stats);
      snapshots = stats.n_snapshots;
      builds = stats.n_layer_builds;
      appends = stats.n_layer_appends;
      cpu = cpu_seconds ();
      wall = g_get_monotonic_time ();
      g_timeout_add_seconds (idle_seconds, quit_loop, loop);
      g_main_loop_run (loop);
      cpu = cpu_seconds () - cpu;
      wall = g_get_monotonic_time () - wall;
      g_source_remove (feed);
      odd_chart_get_stats (chart, &stats);
      g_print ("{\"kind\": \"live-idle\", \"window_s\": 300, \"seconds\": %.1f, \"cpu_percent\": %.2f, "
               "\"frames_drawn\": %u, \"layer_builds\": %u, \"layer_appends\": %u}\n",
               wall / 1e6, 100 * cpu / (wall / 1e6), stats.n_snapshots - snapshots,
               stats.n_layer_builds - builds, stats.n_layer_appends - appends);
    }

  gtk_window_destroy (window);
  return 0;
}
