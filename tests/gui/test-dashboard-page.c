/* test-dashboard-page.c: the Dashboard page against a real stack (the fixture's)
 *
 * Jobs of known outcomes go in; the page's counters must equal /stats, its throughput chart
 * must hold the read model's per-second history (its sums equal the counters), it must say
 * so when the read model stops answering and recover when it is back. Screenshots light and
 * dark land in the screenshot directory (live data: not compared with a reference).
 */
#define G_LOG_DOMAIN "test-dashboard-page"

#include <adwaita.h>
#include <signal.h>

#include "odd-chart.h"
#include "odd-client.h"
#include "odd-dashboard-page.h"
#include "odd-ids.h"
#include "odd-it.h"

#define N_OK     8
#define N_DOOMED 3

static OddIt *it;
static OddClient *client;

/* Asserts @expr within @seconds, iterating the main context meanwhile. */
#define ASSERT_WITHIN(expr, seconds) \
  G_STMT_START { \
    gint64 deadline_ = g_get_monotonic_time () + (gint64) (seconds) * G_USEC_PER_SEC; \
    while (!(expr)) \
      { \
        if (g_get_monotonic_time () > deadline_) \
          g_error ("%s:%d: not within %d s: %s", __FILE__, __LINE__, (int) (seconds), #expr); \
        g_main_context_iteration (NULL, FALSE); \
        g_usleep (2000); \
      } \
  } G_STMT_END

static void
spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

static GtkWindow *
show_in_window (GtkWidget *child,
                int        width,
                int        height)
{
  GtkWindow *window = GTK_WINDOW (adw_window_new ());

  adw_window_set_content (ADW_WINDOW (window), child);
  gtk_window_set_default_size (window, width, height);
  gtk_window_present (window);
  ASSERT_WITHIN (gtk_widget_get_mapped (child) && gtk_widget_get_width (child) > 0, 10);
  return window;
}

static void
save_screenshot (GtkWindow  *window,
                 const char *name)
{
  g_autofree char *dir = g_build_filename (g_getenv ("ODD_BUILD_DIR") ? g_getenv ("ODD_BUILD_DIR") : ".",
                                           "tests", "gui", "screenshots", NULL);
  g_autofree char *path = g_strconcat (dir, G_DIR_SEPARATOR_S, name, ".png", NULL);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (GTK_WIDGET (window));
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int w = gtk_widget_get_width (GTK_WIDGET (window)), h = gtk_widget_get_height (GTK_WIDGET (window));

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
}

static void
set_dark (gboolean dark)
{
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      dark ? ADW_COLOR_SCHEME_FORCE_DARK : ADW_COLOR_SCHEME_FORCE_LIGHT);
}

static gboolean
all_done (OddIt   *self,
          gpointer data)
{
  OddItStats stats;

  odd_it_get_stats (self, &stats);
  return stats.total >= N_OK + N_DOOMED && stats.in_flight == 0 &&
         stats.completed + stats.failed == stats.total;
}

static double
chart_sum (OddDashboardPage *page,
           const char       *chart_name,
           const char       *series)
{
  OddChart *chart = ODD_CHART (odd_dashboard_page_get_chart (page, chart_name));
  g_autoptr(GBytes) csv = odd_chart_write_csv (chart);
  g_auto(GStrv) lines = g_strsplit (g_bytes_get_data (csv, NULL), "\r\n", -1);
  g_auto(GStrv) header = g_strsplit (lines[0], ",", -1);
  int column = -1;
  double sum = 0;

  /* The CSV export is what a user gets: sum the column of the series' label. */
  for (int i = 0; header[i] != NULL; i++)
    if (g_str_has_prefix (header[i], series))
      column = i;
  g_assert_cmpint (column, >, 0);
  for (guint l = 1; lines[l] != NULL && lines[l][0] != '\0'; l++)
    {
      g_auto(GStrv) cells = g_strsplit (lines[l], ",", -1);

      if ((int) g_strv_length (cells) > column && cells[column][0] != '\0')
        sum += g_ascii_strtod (cells[column], NULL);
    }
  return sum;
}

static char *
count_text (gint64 n)
{
  return g_strdup_printf ("%'" G_GINT64_FORMAT, n);
}

static gboolean
counters_match (OddDashboardPage *page,
                const OddItStats *stats)
{
  g_autofree char *total = count_text (stats->total);
  g_autofree char *completed = count_text (stats->completed);
  g_autofree char *failed = count_text (stats->failed);

  return g_strcmp0 (odd_dashboard_page_get_counter (page, "total"), total) == 0 &&
         g_strcmp0 (odd_dashboard_page_get_counter (page, "completed"), completed) == 0 &&
         g_strcmp0 (odd_dashboard_page_get_counter (page, "failed"), failed) == 0;
}

static void
test_counters_charts_outage (void)
{
  OddDashboardPage *page = ODD_DASHBOARD_PAGE (odd_dashboard_page_new (client));
  GtkWindow *window;
  OddItStats stats;
  double completed_sum = 0;

  for (guint i = 0; i < N_OK + N_DOOMED; i++)
    {
      g_autofree char *id = odd_uuid_new ();

      g_assert_cmpuint (odd_it_submit (it, id, i < N_OK ? "demo" : "doomed",
                                       i < N_OK ? "{\"durationMs\": 20}" : "{\"failAttempts\": 5}"), ==, 202);
    }
  g_assert_true (odd_it_wait (it, all_done, NULL, 120, 200));
  odd_it_get_stats (it, &stats);
  /* The second of the last completion must be complete to be shown. */
  g_usleep (2 * G_USEC_PER_SEC);

  g_object_set (page, "refresh-interval", 1, NULL);
  window = show_in_window (GTK_WIDGET (page), 1100, 1000);
  ASSERT_WITHIN (counters_match (page, &stats), 30);
  g_assert_true (odd_dashboard_page_get_reachable (page));

  /* The throughput chart came full from the read model's history: over the 5 minutes, its
   * completed and failed jobs are the counters' (the fixture's stack is younger than that). */
  ASSERT_WITHIN ((completed_sum = chart_sum (page, "throughput", "Completed")) == stats.completed, 30);
  g_assert_cmpfloat (chart_sum (page, "throughput", "Failed"), ==, stats.failed);
  g_assert_cmpfloat (chart_sum (page, "throughput", "Submitted"), ==, stats.total);

  /* A longer window fetches the longer history at once. */
  odd_dashboard_page_set_window_minutes (page, 15);
  g_assert_cmpfloat (odd_chart_get_window (ODD_CHART (odd_dashboard_page_get_chart (page, "throughput"))), ==, 900);
  ASSERT_WITHIN (chart_sum (page, "throughput", "Completed") == stats.completed, 30);
  odd_dashboard_page_set_window_minutes (page, 5);

  for (int dark = 0; dark <= 1; dark++)
    {
      set_dark (dark);
      spin (500);
      save_screenshot (window, dark ? "dashboard-dark" : "dashboard-light");
    }
  set_dark (FALSE);

  /* The read model goes away: the page says so, and keeps its charts. */
  if (odd_it_can_inject_faults (it))
    {
      odd_it_kill (it, ODD_IT_READ_MODEL, SIGKILL);
      ASSERT_WITHIN (!odd_dashboard_page_get_reachable (page), 30);
      g_assert_cmpuint (odd_chart_get_n_points (ODD_CHART (odd_dashboard_page_get_chart (page, "throughput")), "completed"), >, 0);
      spin (500);
      save_screenshot (window, "dashboard-unreachable-light");
      odd_it_restart (it, ODD_IT_READ_MODEL);
      ASSERT_WITHIN (odd_dashboard_page_get_reachable (page), 60);
      ASSERT_WITHIN (counters_match (page, &stats), 30);
    }
  else
    g_test_message ("an external stack: no outage test");

  gtk_window_destroy (window);
}

int
main (int   argc,
      char *argv[])
{
  int status;
  g_autoptr(OddEndpoints) endpoints = NULL;

  g_test_init (&argc, &argv, NULL);
  adw_init ();
  set_dark (FALSE);
  it = odd_it_start ();
  endpoints = odd_endpoints_new (odd_it_read_model_url (it), odd_it_gateway_url (it), ODD_ENDPOINTS_SOURCE_ENV);
  client = odd_client_new (endpoints);

  g_test_add_func ("/dashboard-page/counters-charts-outage", test_counters_charts_outage);
  status = g_test_run ();

  g_clear_object (&client);
  odd_it_stop (it);
  return status;
}
