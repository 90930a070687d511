/* test-dashboard-page.c: the Dashboard page against a real stack (the fixture's)
 *
 * Jobs of known outcomes go in; the page's counters must equal /stats, its throughput chart
 * must hold the read model's per-second history (its sums equal the counters), its latency
 * chart the percentiles of each second in which jobs completed, its queue chart the queue
 * depths sampled before it opened, it must say
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
#include "odd-gui-test.h"
#include "odd-it.h"

#define N_OK     8
#define N_DOOMED 3

static OddIt *it;
static OddClient *client;

static gboolean
all_done (OddIt   *self,
          gpointer data)
{
  OddItStats stats;

  odd_it_get_stats (self, &stats);
  return stats.total >= N_OK + N_DOOMED && stats.in_flight == 0 &&
         stats.completed + stats.failed == stats.total;
}

/* The rows of the chart's CSV export (what a user gets) in which @series, the column of its
 * label, has a value: their times (the first column) and values. */
typedef struct
{
  char   *time;
  double  value;
} ChartRow;

static void
chart_row_clear (gpointer data)
{
  g_free (((ChartRow *) data)->time);
}

static GArray *
chart_rows (OddDashboardPage *page,
            const char       *chart_name,
            const char       *series)
{
  OddChart *chart = ODD_CHART (odd_dashboard_page_get_chart (page, chart_name));
  g_autoptr(GBytes) csv = odd_chart_write_csv (chart);
  g_auto(GStrv) lines = g_strsplit (g_bytes_get_data (csv, NULL), "\r\n", -1);
  g_auto(GStrv) header = g_strsplit (lines[0], ",", -1);
  GArray *rows = g_array_new (FALSE, FALSE, sizeof (ChartRow));
  int column = -1;

  g_array_set_clear_func (rows, chart_row_clear);
  for (int i = 0; header[i] != NULL; i++)
    if (g_str_has_prefix (header[i], series))
      column = i;
  g_assert_cmpint (column, >, 0);
  for (guint l = 1; lines[l] != NULL && lines[l][0] != '\0'; l++)
    {
      g_auto(GStrv) cells = g_strsplit (lines[l], ",", -1);
      ChartRow row;

      if ((int) g_strv_length (cells) <= column || cells[column][0] == '\0')
        continue;
      row.time = g_strdup (cells[0]);
      row.value = g_ascii_strtod (cells[column], NULL);
      g_array_append_val (rows, row);
    }
  return rows;
}

static double
chart_sum (OddDashboardPage *page,
           const char       *chart_name,
           const char       *series)
{
  g_autoptr(GArray) rows = chart_rows (page, chart_name, series);
  double sum = 0;

  for (guint i = 0; i < rows->len; i++)
    sum += g_array_index (rows, ChartRow, i).value;
  return sum;
}

/* The times at which @series has a value above @above. */
static GHashTable *
chart_times (OddDashboardPage *page,
             const char       *chart_name,
             const char       *series,
             double            above)
{
  g_autoptr(GArray) rows = chart_rows (page, chart_name, series);
  GHashTable *times = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < rows->len; i++)
    if (g_array_index (rows, ChartRow, i).value > above)
      g_hash_table_add (times, g_strdup (g_array_index (rows, ChartRow, i).time));
  return times;
}

/* How many points @series of @chart_name has before @before (unix µs), and its newest value
 * of those and of all. */
static guint
chart_points_before (OddDashboardPage *page,
                     const char       *chart_name,
                     const char       *series,
                     gint64            before,
                     double           *last_before,
                     double           *last)
{
  g_autoptr(GArray) rows = chart_rows (page, chart_name, series);
  guint n = 0;

  *last_before = *last = -1;
  for (guint i = 0; i < rows->len; i++)
    {
      const ChartRow *row = &g_array_index (rows, ChartRow, i);
      gint64 t = 0;

      g_assert_true (odd_time_parse_rfc3339 (row->time, &t));
      *last = row->value;
      if (t < before)
        {
          *last_before = *last;
          n++;
        }
    }
  return n;
}

static void
on_series (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Seconds of the read model's last minute in which the metrics-engine sampled @n_dead dead
 * letters waiting in jobs.dead (the sampler may miss a second on a loaded machine). */
static guint
seconds_with_dead_letters (gint64 n_dead)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(OddSeries) series = NULL;
  const OddSeriesPoint *points;
  guint n = 0, found = 0;

  odd_client_get_series_async (client, 60, NULL, on_series, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  series = odd_client_get_series_finish (client, result, &error);
  g_assert_no_error (error);
  points = odd_series_get_points (series, &n);
  for (guint i = 0; i < n; i++)
    {
      const OddSeriesQueue *dead = odd_series_point_get_queue (&points[i], "jobs.dead");

      if (dead != NULL && dead->messages == n_dead)
        found++;
    }
  return found;
}

static gboolean
same_times (GHashTable *a,
            GHashTable *b)
{
  GHashTableIter iter;
  gpointer key;

  if (g_hash_table_size (a) != g_hash_table_size (b))
    return FALSE;
  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (b, key))
      return FALSE;
  return TRUE;
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
  gint64 opened;

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
  /* The dead letters in the history (the seconds before the page opens) of the queue chart. */
  ODD_GUI_ASSERT_WITHIN (seconds_with_dead_letters (N_DOOMED) >= 3, 30);

  g_object_set (page, "refresh-interval", 1, NULL);
  opened = g_get_real_time ();
  window = odd_gui_test_window (GTK_WIDGET (page), 1100, 1000);
  ODD_GUI_ASSERT_WITHIN (counters_match (page, &stats), 30);
  g_assert_true (odd_dashboard_page_get_reachable (page));

  /* The throughput chart came full from the read model's history: over the 5 minutes, its
   * completed and failed jobs are the counters' (the fixture's stack is younger than that). */
  ODD_GUI_ASSERT_WITHIN ((completed_sum = chart_sum (page, "throughput", "Completed")) == stats.completed, 30);
  g_assert_cmpfloat (chart_sum (page, "throughput", "Failed"), ==, stats.failed);
  g_assert_cmpfloat (chart_sum (page, "throughput", "Submitted"), ==, stats.total);

  /* The latency chart came full from the read model's history too, though no job completes
   * any more: a point in each second in which jobs completed, and only there; each job ran
   * 20 ms, so no percentile is below that. */
  {
    g_autoptr(GHashTable) completions = chart_times (page, "throughput", "Completed", 0);
    g_autoptr(GHashTable) p50 = chart_times (page, "latency", "p50", 20);
    g_autoptr(GHashTable) p99 = chart_times (page, "latency", "p99", 20);

    g_assert_cmpuint (g_hash_table_size (completions), >, 0);
    g_assert_true (same_times (completions, p50));
    g_assert_true (same_times (completions, p99));
    g_assert_cmpuint (odd_chart_get_n_points (ODD_CHART (odd_dashboard_page_get_chart (page, "latency")), "p95"), ==,
                      g_hash_table_size (completions));
  }

  /* The queue chart came full from the history too (the metrics-engine's sample of each
   * second): the doomed jobs' dead letters were waiting in jobs.dead for seconds before the
   * page opened (two of them, the newest second not being shown); then it goes on live. */
  {
    double dead_before, dead_last, waiting_before, waiting_last;
    guint n_history = chart_points_before (page, "queues", "Dead letters", opened, &dead_before, &dead_last);

    g_assert_cmpuint (n_history, >=, 2);
    g_assert_cmpfloat (dead_before, ==, N_DOOMED);
    g_assert_cmpuint (chart_points_before (page, "queues", "Waiting", opened, &waiting_before, &waiting_last), ==,
                      n_history);
    g_assert_cmpfloat (waiting_before, ==, 0);
    ODD_GUI_ASSERT_WITHIN (chart_points_before (page, "queues", "Dead letters", G_MAXINT64, &dead_before, &dead_last) >
                           n_history, 30);
    g_assert_cmpfloat (dead_last, ==, N_DOOMED);
  }

  /* A longer window fetches the longer history at once. */
  odd_dashboard_page_set_window_minutes (page, 15);
  g_assert_cmpfloat (odd_chart_get_window (ODD_CHART (odd_dashboard_page_get_chart (page, "throughput"))), ==, 900);
  ODD_GUI_ASSERT_WITHIN (chart_sum (page, "throughput", "Completed") == stats.completed, 30);
  odd_dashboard_page_set_window_minutes (page, 5);

  for (int dark = 0; dark <= 1; dark++)
    {
      odd_gui_test_set_dark (dark);
      odd_gui_test_spin (500);
      odd_gui_test_save_screenshot (window, dark ? "dashboard-dark" : "dashboard-light");
    }
  odd_gui_test_set_dark (FALSE);

  /* The read model goes away: the page says so, and keeps its charts. */
  if (odd_it_can_inject_faults (it))
    {
      odd_it_kill (it, ODD_IT_READ_MODEL, SIGKILL);
      ODD_GUI_ASSERT_WITHIN (!odd_dashboard_page_get_reachable (page), 30);
      g_assert_cmpuint (odd_chart_get_n_points (ODD_CHART (odd_dashboard_page_get_chart (page, "throughput")), "completed"), >, 0);
      odd_gui_test_spin (500);
      odd_gui_test_save_screenshot (window, "dashboard-unreachable-light");
      odd_it_restart (it, ODD_IT_READ_MODEL);
      ODD_GUI_ASSERT_WITHIN (odd_dashboard_page_get_reachable (page), 60);
      ODD_GUI_ASSERT_WITHIN (counters_match (page, &stats), 30);
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

  odd_gui_test_init (&argc, &argv);
  it = odd_it_start ();
  endpoints = odd_endpoints_new (odd_it_read_model_url (it), odd_it_gateway_url (it), ODD_ENDPOINTS_SOURCE_ENV);
  client = odd_client_new (endpoints);

  g_test_add_func ("/dashboard-page/counters-charts-outage", test_counters_charts_outage);
  status = g_test_run ();

  g_clear_object (&client);
  odd_it_stop (it);
  return status;
}
