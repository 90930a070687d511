/* jobs-bench.c: the Jobs page scrolled through 100,000 jobs, and one found by its id
 *
 * SPDX-License-Identifier: MIT
 *
 * Run under a display with the cairo renderer (docs/performance.md, "Jobs page with 100,000
 * jobs"):
 *   GSK_RENDERER=cairo GDK_BACKEND=x11 GTK_A11Y=none xvfb-run -a -s '-screen 0 1600x1000x24' \
 *     build/tests/bench/odd-jobs-bench [--jobs 100000] [--step-pages 2]
 *
 * It starts the integration fixture's local stack (or uses a running one: ODD_IT_EXTERNAL=1
 * with ODD_IT_GATEWAY_URL, ODD_IT_READ_MODEL_URL, ODD_IT_POSTGRES_URL, ODD_IT_REDIS_URL), puts
 * the jobs straight into its PostgreSQL with one INSERT ... SELECT generate_series (real rows
 * the read model serves; rows already there from an earlier run are kept), and shows
 * OddJobsPage, the app's page, in a 1280 × 800 window. Then it scrolls the list down in three
 * phases, the page asking for the next page by cursor as the user nears the end, as it does
 * for a user:
 *   rows         3 rows a frame, --phase-frames frames: a flick of kinetic scrolling
 *   page         one screen a frame, --phase-frames frames: a fast scroll wheel
 *   two-screens  --step-pages screens a frame (2) until the end of the list: the extreme
 * Reported for each: the frames (odd-frame-timer.h: each frame's before-paint to after-paint
 * time, wall and main-thread CPU; frames per second over the phase), and for the last the
 * process's RSS (now and peak) before and after; then the time from typing a job's id (and an
 * 8-character prefix of it) in the search field to the list holding that one job.
 */
#define G_LOG_DOMAIN "odd-jobs-bench"

#include <adwaita.h>
#include <libpq-fe.h>
#include <string.h>
#include <time.h>

#include "odd-client.h"
#include "odd-frame-timer.h"
#include "odd-gui.h"
#include "odd-it.h"
#include "odd-jobs-page.h"

/* kB of a /proc/self/status line ("VmRSS", "VmHWM"). */
static double
status_mb (const char *field)
{
  g_autofree char *status = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  lines = g_strsplit (status, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], field) && lines[i][strlen (field)] == ':')
      return g_ascii_strtod (lines[i] + strlen (field) + 1, NULL) / 1024.0;
  return 0;
}

/* The page's jobs list: the first scrolled window holding a GtkColumnView. */
static GtkScrolledWindow *
find_scroller (GtkWidget *widget)
{
  if (GTK_IS_SCROLLED_WINDOW (widget) &&
      GTK_IS_COLUMN_VIEW (gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (widget))))
    return GTK_SCROLLED_WINDOW (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkScrolledWindow *found = find_scroller (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* The 1-minute load average: the frames per second depend on what else runs. */
static double
load_average (void)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return 0;
  return g_ascii_strtod (text, NULL);
}

typedef struct {
  GtkAdjustment *adjustment;
  OddJobList    *jobs;
  double         step_rows;   /* rows a frame, or */
  double         step_pages;  /* screens a frame */
  guint          frames_left; /* 0: to the end of the list */
  gboolean       done;
} Scroll;

static gboolean
at_end (Scroll *scroll)
{
  GtkAdjustment *a = scroll->adjustment;

  return !odd_job_list_get_has_more (scroll->jobs) && !odd_job_list_get_loading (scroll->jobs) &&
         gtk_adjustment_get_value (a) >= gtk_adjustment_get_upper (a) - gtk_adjustment_get_page_size (a) - 1;
}

/* Each frame, the list moves on by a few rows or screens, as a flick or a scroll wheel moves
 * it. */
static gboolean
scroll_tick (GtkWidget     *widget,
             GdkFrameClock *clock,
             gpointer       data)
{
  Scroll *scroll = data;
  GtkAdjustment *a = scroll->adjustment;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (scroll->jobs));
  double step;

  if (at_end (scroll) || (scroll->frames_left > 0 && --scroll->frames_left == 0))
    {
      scroll->done = TRUE;
      return G_SOURCE_REMOVE;
    }
  step = scroll->step_rows > 0 ? scroll->step_rows * gtk_adjustment_get_upper (a) / MAX (n, 1)
                               : scroll->step_pages * gtk_adjustment_get_page_size (a);
  gtk_adjustment_set_value (a, MIN (gtk_adjustment_get_value (a) + step,
                                    gtk_adjustment_get_upper (a) - gtk_adjustment_get_page_size (a)));
  return G_SOURCE_CONTINUE;
}

/* Scrolls as @scroll says until it is done, and prints the frames of that. */
static void
run_phase (OddJobsPage   *page,
           OddFrameTimer *timer,
           Scroll        *scroll,
           const char    *name)
{
  gint64 start = g_get_monotonic_time ();
  gint64 cpu_start = thread_cpu_us ();
  double seconds, main_thread_s;
  guint n_frames;

  scroll->done = FALSE;
  odd_frame_timer_record (timer, TRUE);
  gtk_widget_add_tick_callback (GTK_WIDGET (page), scroll_tick, scroll, NULL);
  while (!scroll->done)
    g_main_context_iteration (NULL, TRUE);
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  main_thread_s = (thread_cpu_us () - cpu_start) / (double) G_USEC_PER_SEC;
  n_frames = timer->ms->len;
  g_print ("{\"kind\": \"scroll\", \"phase\": \"%s\", \"jobs\": %u, \"seconds\": %.1f, \"frames\": %u, "
           "\"fps\": %.1f, \"frame_cpu_median_ms\": %.2f, \"frame_cpu_p95_ms\": %.2f, "
           "\"frame_wall_median_ms\": %.2f, \"frame_wall_p95_ms\": %.2f, \"main_thread_cpu_s\": %.1f, "
           "\"load1\": %.2f}\n",
           name, g_list_model_get_n_items (G_LIST_MODEL (scroll->jobs)), seconds, n_frames,
           n_frames / seconds,
           odd_frame_quantile (timer->cpu_ms, 0.5), odd_frame_quantile (timer->cpu_ms, 0.95),
           odd_frame_quantile (timer->ms, 0.5), odd_frame_quantile (timer->ms, 0.95),
           main_thread_s, load_average ());
  odd_frame_timer_record (timer, FALSE);
}

static void
insert_jobs (const char *postgres_url,
             guint       n)
{
  g_autofree char *n_text = g_strdup_printf ("%u", n);
  const char *params[] = { n_text };
  PGconn *pg = PQconnectdb (postgres_url);
  PGresult *res;

  if (PQstatus (pg) != CONNECTION_OK)
    g_error ("PostgreSQL %s: %s", postgres_url, PQerrorMessage (pg));
  /* Real rows of every status and three types, one a second back in time; every tenth
   * failed with an error text the search can find. */
  res = PQexecParams (pg,
                      "INSERT INTO jobs (id, type, status, payload, attempts, last_error, created_at, updated_at) "
                      "SELECT md5('jobs-bench/' || g)::uuid, "
                      "(ARRAY['email', 'resize', 'report'])[1 + g % 3], "
                      "CASE WHEN g % 10 = 0 THEN 'FAILED' ELSE 'COMPLETED' END, "
                      "jsonb_build_object('n', g), 1, "
                      "CASE WHEN g % 10 = 0 THEN 'simulated failure of bench job ' || g END, "
                      "now() - g * interval '1 second', now() "
                      "FROM generate_series(1, $1::int) AS g "
                      "ON CONFLICT (id) DO NOTHING",
                      1, NULL, params, NULL, NULL, 0);
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    g_error ("INSERT: %s", PQerrorMessage (pg));
  g_print ("# inserted %s jobs\n", PQcmdTuples (res));
  PQclear (res);
  PQfinish (pg);
}

static gboolean
holds_only (OddJobList *jobs,
            const char *id)
{
  g_autoptr(OddJob) job = NULL;

  if (odd_job_list_get_loading (jobs) || g_list_model_get_n_items (G_LIST_MODEL (jobs)) != 1)
    return FALSE;
  job = g_list_model_get_item (G_LIST_MODEL (jobs), 0);
  return g_str_equal (odd_job_get_id (job), id);
}

/* ms from typing @text to the list holding only @id (and a frame drawn with it). */
static double
time_search (OddJobsPage   *page,
             OddFrameTimer *timer,
             const char    *text,
             const char    *id)
{
  OddJobList *jobs = odd_jobs_page_get_jobs (page);
  gint64 start = g_get_monotonic_time ();
  guint drawn;

  odd_jobs_page_search (page, text);
  while (!holds_only (jobs, id))
    g_main_context_iteration (NULL, TRUE);
  drawn = timer->frames;
  gtk_widget_queue_draw (GTK_WIDGET (page));
  while (timer->frames == drawn)
    g_main_context_iteration (NULL, TRUE);
  return (g_get_monotonic_time () - start) / 1000.0;
}

int
main (int   argc,
      char *argv[])
{
  int n_jobs = 100000;
  int phase_frames = 600;
  double step_pages = 2;
  GOptionEntry entries[] = {
    { "jobs", 0, 0, G_OPTION_ARG_INT, &n_jobs, "Jobs to insert (100000)", "N" },
    { "phase-frames", 0, 0, G_OPTION_ARG_INT, &phase_frames, "Frames of the rows and page phases (600; 0: none)", "N" },
    { "step-pages", 0, 0, G_OPTION_ARG_DOUBLE, &step_pages, "Screens scrolled a frame to the end (2)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- the Jobs page with many jobs");
  g_autoptr(GError) error = NULL;
  g_autoptr(OddEndpoints) endpoints = NULL;
  g_autoptr(OddClient) client = NULL;
  g_autofree char *target = NULL;
  g_autofree char *prefix = NULL;
  OddFrameTimer timer = { 0 };
  Scroll scroll = { 0 };
  OddJobsPage *page;
  GtkWindow *window;
  OddIt *it;
  double rss_before, rss_after, hwm, find_id_ms, find_prefix_ms;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || n_jobs < 1 || phase_frames < 0 || step_pages <= 0)
    {
      g_printerr ("%s\n", error != NULL ? error->message
                                        : "--jobs and --step-pages must be positive, --phase-frames not negative");
      return 2;
    }
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  gtk_init ();
  odd_gui_init ();

  it = odd_it_start ();
  insert_jobs (odd_it_postgres_url (it), (guint) n_jobs);
  {
    /* The job in the middle, by the same name the INSERT gave it. */
    g_autofree char *name = g_strdup_printf ("jobs-bench/%d", n_jobs / 2 + 7);
    g_autofree char *hex = g_compute_checksum_for_string (G_CHECKSUM_MD5, name, -1);

    target = g_strdup_printf ("%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
    prefix = g_strndup (target, 8);
  }

  endpoints = odd_endpoints_new (odd_it_read_model_url (it), odd_it_gateway_url (it), ODD_ENDPOINTS_SOURCE_ENV);
  client = odd_client_new (endpoints);
  page = ODD_JOBS_PAGE (odd_jobs_page_new (client));
  window = GTK_WINDOW (adw_window_new ());
  adw_window_set_content (ADW_WINDOW (window), GTK_WIDGET (page));
  gtk_window_set_default_size (window, 1280, 800);
  gtk_window_present (window);

  while (gtk_widget_get_frame_clock (GTK_WIDGET (page)) == NULL || !gtk_widget_get_mapped (GTK_WIDGET (page)))
    g_main_context_iteration (NULL, TRUE);
  odd_frame_timer_attach (&timer, gtk_widget_get_frame_clock (GTK_WIDGET (page)));

  /* The first page, shown. */
  scroll.jobs = odd_jobs_page_get_jobs (page);
  scroll.adjustment = gtk_scrolled_window_get_vadjustment (find_scroller (GTK_WIDGET (page)));
  while (g_list_model_get_n_items (G_LIST_MODEL (scroll.jobs)) == 0 || odd_job_list_get_loading (scroll.jobs))
    g_main_context_iteration (NULL, TRUE);
  for (gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC; g_get_monotonic_time () < until;)
    g_main_context_iteration (NULL, FALSE);
  rss_before = status_mb ("VmRSS");

  if (phase_frames > 0)
    {
      scroll.step_rows = 3;
      scroll.frames_left = (guint) phase_frames;
      run_phase (page, &timer, &scroll, "rows");
      scroll.step_rows = 0;
      scroll.step_pages = 1;
      scroll.frames_left = (guint) phase_frames;
      run_phase (page, &timer, &scroll, "page");
    }
  scroll.step_rows = 0;
  scroll.step_pages = step_pages;
  scroll.frames_left = 0;
  run_phase (page, &timer, &scroll, "two-screens");
  if (g_list_model_get_n_items (G_LIST_MODEL (scroll.jobs)) < (guint) n_jobs)
    g_error ("the list ended at %u jobs of at least %d", g_list_model_get_n_items (G_LIST_MODEL (scroll.jobs)), n_jobs);
  rss_after = status_mb ("VmRSS");
  hwm = status_mb ("VmHWM");
  g_print ("{\"kind\": \"rss\", \"rss_first_page_mb\": %.1f, \"rss_end_mb\": %.1f, \"rss_peak_mb\": %.1f}\n",
           rss_before, rss_after, hwm);

  /* One job among them by its id, then by a prefix of it, typed in the search field. */
  find_id_ms = time_search (page, &timer, target, target);
  odd_jobs_page_search (page, NULL);
  while (odd_job_list_get_loading (scroll.jobs) || g_list_model_get_n_items (G_LIST_MODEL (scroll.jobs)) == 0)
    g_main_context_iteration (NULL, TRUE);
  find_prefix_ms = time_search (page, &timer, prefix, target);
  g_print ("{\"kind\": \"find\", \"id_ms\": %.1f, \"prefix8_ms\": %.1f, \"rss_peak_mb\": %.1f}\n",
           find_id_ms, find_prefix_ms, status_mb ("VmHWM"));

  gtk_window_destroy (window);
  odd_frame_timer_clear (&timer);
  g_clear_object (&client);
  odd_it_stop (it);
  return 0;
}
