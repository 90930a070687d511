/* window-bench.c: the Observatory's whole window, frame by frame, on the Dashboard page
 *
 * SPDX-License-Identifier: MIT
 *
 * Run under a display with the cairo renderer, against a running stack (docs/performance.md,
 * "Desktop app"):
 *   GSK_RENDERER=cairo GDK_BACKEND=x11 GTK_A11Y=none GSETTINGS_SCHEMA_DIR=build/data \
 *     xvfb-run -a -s '-screen 0 1280x1024x24' build/tests/bench/odd-window-bench [--seconds 20]
 *
 * The app's window (OddWindow, 960×720, refresh 1 s) opens on the Dashboard page, fed by the
 * stack of ODD_STATE_DIR/ODD_PORT_BASE, and every frame its clock paints is timed (odd-frame-
 * timer.h) in three phases:
 *   live-5min   the charts of a 5-minute window scroll with the points arriving every second
 *   live-1min   a 1-minute window: the charts slide a pixel every 67 ms
 *   page-scroll the user scrolls the page up and down, 12 px a frame, as fast as the frame
 *               clock goes (60 frames a second if every frame is done within 16.7 ms)
 * For each: frames, the CPU and wall time of a frame (median, p95, max) and, for the scroll,
 * the interval between frames (the frame rate reached).
 */
#define G_LOG_DOMAIN "odd-window-bench"

#include <adwaita.h>

#include "odd-application.h"
#include "odd-chart.h"
#include "odd-dashboard-page.h"
#include "odd-frame-timer.h"
#include "odd-gui.h"
#include "odd-window.h"

typedef struct {
  GtkAdjustment *adjustment;
  double         direction;
} Scroller;

static gboolean
scroll_tick (GtkWidget     *widget,
             GdkFrameClock *clock,
             gpointer       data)
{
  Scroller *scroller = data;
  double value = gtk_adjustment_get_value (scroller->adjustment);
  double top = gtk_adjustment_get_upper (scroller->adjustment) - gtk_adjustment_get_page_size (scroller->adjustment);

  if ((value >= top && scroller->direction > 0) || (value <= 0 && scroller->direction < 0))
    scroller->direction = -scroller->direction;
  gtk_adjustment_set_value (scroller->adjustment, CLAMP (value + 12 * scroller->direction, 0, top));
  return G_SOURCE_CONTINUE;
}

static GtkScrolledWindow *
find_scrolled_window (GtkWidget *widget)
{
  if (GTK_IS_SCROLLED_WINDOW (widget))
    return GTK_SCROLLED_WINDOW (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      GtkScrolledWindow *found = find_scrolled_window (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
spin (double seconds)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);

  g_timeout_add ((guint) (seconds * 1000), quit_loop, loop);
  g_main_loop_run (loop);
}

/* Frames whose CPU time alone leaves no room for 60 a second. */
static guint
count_over_budget (GArray *cpu_ms)
{
  guint over = 0;

  for (guint i = 0; i < cpu_ms->len; i++)
    over += g_array_index (cpu_ms, double, i) > 1000.0 / 60;
  return over;
}

static void
report (const char    *phase,
        OddFrameTimer *timer,
        double         seconds)
{
  g_print ("{\"phase\": \"%s\", \"seconds\": %.0f, \"frames\": %u, "
           "\"cpu_ms\": {\"median\": %.2f, \"p95\": %.2f, \"max\": %.2f}, "
           "\"wall_ms\": {\"median\": %.2f, \"p95\": %.2f, \"max\": %.2f}, "
           "\"interval_ms\": {\"median\": %.2f, \"p95\": %.2f}, \"over_16_7ms_cpu\": %u}\n",
           phase, seconds, timer->ms->len,
           odd_frame_quantile (timer->cpu_ms, 0.5), odd_frame_quantile (timer->cpu_ms, 0.95),
           odd_frame_quantile (timer->cpu_ms, 1.0),
           odd_frame_quantile (timer->ms, 0.5), odd_frame_quantile (timer->ms, 0.95),
           odd_frame_quantile (timer->ms, 1.0),
           odd_frame_quantile (timer->interval_ms, 0.5), odd_frame_quantile (timer->interval_ms, 0.95),
           count_over_budget (timer->cpu_ms));
}

static void
measure (const char    *phase,
         OddFrameTimer *timer,
         double         seconds)
{
  odd_frame_timer_record (timer, TRUE);
  spin (seconds);
  report (phase, timer, seconds);
  odd_frame_timer_record (timer, FALSE);
}

int
main (int   argc,
      char *argv[])
{
  int seconds = 20;
  GOptionEntry entries[] = {
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Seconds per phase (20)", "S" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- the Observatory window's frames on the Dashboard");
  g_autoptr(GError) error = NULL;
  g_autoptr(OddApplication) app = NULL;
  OddFrameTimer timer = { 0 };
  Scroller scroller = { NULL, 1 };
  OddDashboardPage *page;
  OddWindow *window;
  GtkScrolledWindow *scrolled;
  OddChart *throughput;
  guint tick;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || seconds < 1)
    {
      g_printerr ("%s\n", error ? error->message : "--seconds must be at least 1");
      return 2;
    }
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_init ();
  odd_gui_init ();

  app = odd_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  if (!g_application_register (G_APPLICATION (app), NULL, &error))
    g_error ("%s", error->message);
  g_settings_set_boolean (odd_application_get_settings (app), "first-run-done", TRUE);
  g_settings_set_uint (odd_application_get_settings (app), "refresh-interval", 1);

  window = odd_window_new (app);
  gtk_window_set_default_size (GTK_WINDOW (window), 960, 720);
  odd_window_show_page (window, "dashboard");
  gtk_window_present (GTK_WINDOW (window));
  page = odd_window_get_dashboard_page (window);
  throughput = ODD_CHART (odd_dashboard_page_get_chart (page, "throughput"));

  /* The read model's history in the charts, or no stack. */
  for (int i = 0; i < 300 && odd_chart_get_n_points (throughput, "completed") == 0; i++)
    spin (0.1);
  if (odd_chart_get_n_points (throughput, "completed") == 0)
    {
      g_printerr ("odd-window-bench: the Dashboard got no series in 30 s: is a stack running "
                  "(oddctl local up, ODD_STATE_DIR/ODD_PORT_BASE)?\n");
      return 1;
    }
  spin (2);
  odd_frame_timer_attach (&timer, gtk_widget_get_frame_clock (GTK_WIDGET (window)));
  g_print ("{\"window\": \"%dx%d\", \"renderer\": \"%s\"}\n",
           gtk_widget_get_width (GTK_WIDGET (window)), gtk_widget_get_height (GTK_WIDGET (window)),
           G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (window))));

  measure ("live-5min", &timer, seconds);

  odd_dashboard_page_set_window_minutes (page, 1);
  spin (2);
  measure ("live-1min", &timer, seconds);
  odd_dashboard_page_set_window_minutes (page, 5);
  spin (2);

  scrolled = find_scrolled_window (GTK_WIDGET (page));
  g_assert (scrolled != NULL);
  scroller.adjustment = gtk_scrolled_window_get_vadjustment (scrolled);
  if (gtk_adjustment_get_upper (scroller.adjustment) - gtk_adjustment_get_page_size (scroller.adjustment) <= 0)
    g_printerr ("odd-window-bench: the page fits the window: nothing to scroll\n");
  tick = gtk_widget_add_tick_callback (GTK_WIDGET (scrolled), scroll_tick, &scroller, NULL);
  measure ("page-scroll", &timer, seconds);
  gtk_widget_remove_tick_callback (GTK_WIDGET (scrolled), tick);

  odd_frame_timer_clear (&timer);
  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
