#define G_LOG_DOMAIN "odd-dashboard-render"

#include <string.h>

#include "odd-dashboard.h"
#include "odd-dashboard-sparkline.h"

static void
render_header (OddDash *dash,
               OddGrid *grid)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *clock = g_date_time_format (now, "%H:%M:%S");
  g_autofree char *title = g_strdup_printf (" Distributed Task Observatory  %s", dash->read_model_url);
  g_autofree char *state = NULL;
  int state_width;

  if (dash->reachable)
    state = g_strdup_printf (" %s live %s ", grid->unicode ? "●" : "*", clock);
  else
    state = g_strdup_printf (" %s stale %s ", grid->unicode ? "●" : "!", clock);
  state_width = odd_text_width (state);

  odd_grid_fill (grid, 0, 0, 1, grid->cols, ' ', ODD_COLOR_DEFAULT, ODD_ATTR_REVERSE);
  odd_grid_print (grid, 0, 0, grid->cols - state_width - 1, ODD_COLOR_DEFAULT,
                  ODD_ATTR_REVERSE | ODD_ATTR_BOLD, title);
  odd_grid_print (grid, 0, grid->cols - state_width, state_width,
                  dash->reachable ? ODD_COLOR_GREEN : ODD_COLOR_RED, ODD_ATTR_REVERSE, state);
}

/* "Label value" pairs on one line, each label dim and each value in its colour. */
static int
render_stat (OddGrid    *grid,
             int         y,
             int         x,
             const char *label,
             OddColor    color,
             const char *value)
{
  x += odd_grid_print (grid, y, x, -1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, label);
  x += odd_grid_print (grid, y, x, -1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, " ");
  x += odd_grid_print (grid, y, x, -1, color, ODD_ATTR_BOLD, value);
  return x + 2;
}

static void
render_stats (OddDash *dash,
              OddGrid *grid,
              int      y)
{
  OddStats *s = dash->stats;
  g_autofree char *total = NULL, *completed = NULL, *failed = NULL, *in_flight = NULL;
  g_autofree char *throughput = NULL;
  double p50, p95;
  int x = 1;

  if (s == NULL)
    {
      odd_grid_print (grid, y, 1, -1, ODD_COLOR_YELLOW, ODD_ATTR_NONE,
                      "No statistics yet");
      return;
    }

  total = g_strdup_printf ("%" G_GINT64_FORMAT, odd_stats_get_total (s));
  completed = g_strdup_printf ("%" G_GINT64_FORMAT, odd_stats_get_completed (s));
  failed = g_strdup_printf ("%" G_GINT64_FORMAT, odd_stats_get_failed (s));
  in_flight = g_strdup_printf ("%" G_GINT64_FORMAT, odd_stats_get_in_flight (s));
  throughput = g_strdup_printf ("%.2f/s", odd_stats_get_throughput (s));
  p50 = odd_stats_get_p50 (s);
  p95 = odd_stats_get_p95 (s);

  x = render_stat (grid, y, x, "Total", ODD_COLOR_YELLOW, total);
  x = render_stat (grid, y, x, "Completed", ODD_COLOR_GREEN, completed);
  x = render_stat (grid, y, x, "Failed", ODD_COLOR_RED, failed);
  x = render_stat (grid, y, x, "In flight", ODD_COLOR_CYAN, in_flight);
  x = render_stat (grid, y, x, "Throughput", ODD_COLOR_BLUE, throughput);
  if (grid->cols - x > 16 && (p50 > 0 || p95 > 0))
    {
      g_autofree char *latency = g_strdup_printf ("%.0f/%.0f ms", p50, p95);

      render_stat (grid, y, x, "p50/p95", ODD_COLOR_MAGENTA, latency);
    }
}

static void
render_sparkline (OddDash    *dash,
                  OddGrid    *grid,
                  int         y,
                  const char *label,
                  OddColor    color,
                  gboolean    failures)
{
  guint n = 0;
  const OddSeriesPoint *points = dash->series != NULL ? odd_series_get_points (dash->series, &n) : NULL;
  g_autofree double *values = g_new0 (double, MAX (n, 1));
  g_autofree char *line = NULL;
  g_autofree char *tail = NULL;
  int width = grid->cols - 14 - 12;
  double max = 0;

  for (guint i = 0; i < n; i++)
    values[i] = (double) (failures ? points[i].failed : points[i].completed);
  /* The newest second is still filling: leave it out so the line does not dip at the end. */
  line = odd_sparkline (values, n > 0 ? n - 1 : 0,
                        (guint) MAX (width, 1), grid->unicode, &max);
  tail = g_strdup_printf (" max %.0f/s", max);

  odd_grid_print (grid, y, 1, 12, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, label);
  odd_grid_print (grid, y, 13, width, color, ODD_ATTR_NONE, line);
  odd_grid_print (grid, y, 13 + width, -1, ODD_COLOR_DEFAULT, ODD_ATTR_DIM, tail);
}

static void
render_section (OddGrid    *grid,
                int         y,
                int         x,
                int         width,
                const char *title)
{
  odd_grid_hline (grid, y, x, width, ODD_COLOR_DEFAULT);
  odd_grid_printf (grid, y, x + 1, width - 2, ODD_COLOR_CYAN, ODD_ATTR_BOLD, " %s ", title);
}

static void
render_queues (OddDash *dash,
               OddGrid *grid,
               int      y,
               int      x,
               int      width,
               int      height)
{
  render_section (grid, y, x, width, "Queues");
  if (dash->queues->len == 0)
    odd_grid_print (grid, y + 1, x + 1, width - 2, ODD_COLOR_DEFAULT, ODD_ATTR_DIM,
                    "no queue data");
  for (int i = 0; i < height - 1 && (guint) i < dash->queues->len; i++)
    {
      OddQueue *q = dash->queues->pdata[i];
      g_autofree char *numbers = g_strdup_printf ("%4" G_GINT64_FORMAT " msg %" G_GINT64_FORMAT " con",
                                                  odd_queue_get_messages (q),
                                                  odd_queue_get_consumers (q));
      int nwidth = odd_text_width (numbers);

      odd_grid_print (grid, y + 1 + i, x + 1, width - nwidth - 2, ODD_COLOR_DEFAULT,
                      ODD_ATTR_NONE, odd_queue_get_name (q));
      odd_grid_print (grid, y + 1 + i, x + width - nwidth - 1, nwidth,
                      odd_queue_get_messages (q) > 0 ? ODD_COLOR_YELLOW : ODD_COLOR_DEFAULT, ODD_ATTR_NONE,
                      numbers);
    }
}

static void
render_alerts (OddDash *dash,
               OddGrid *grid,
               int      y,
               int      x,
               int      width,
               int      height)
{
  g_autofree char *title = g_strdup_printf ("Alerts (%u)", dash->alerts->len);

  render_section (grid, y, x, width, title);
  if (dash->alerts_error != NULL && dash->alerts->len == 0)
    {
      odd_grid_printf (grid, y + 1, x + 1, width - 2, ODD_COLOR_YELLOW, ODD_ATTR_NONE,
                       "%s %s", grid->unicode ? "⚠" : "!", dash->alerts_error);
      return;
    }
  if (dash->alerts->len == 0)
    {
      odd_grid_printf (grid, y + 1, x + 1, width - 2, ODD_COLOR_GREEN, ODD_ATTR_NONE,
                       "%s No active alerts", grid->unicode ? "✓" : "OK");
      return;
    }
  for (int i = 0; i < height - 1 && (guint) i < dash->alerts->len; i++)
    {
      OddAlert *a = dash->alerts->pdata[i];
      gboolean critical = odd_alert_is_critical (a);
      const char *service = odd_alert_get_service (a);
      g_autofree char *line = g_strdup_printf ("%s [%s] %s", odd_alert_get_name (a),
                                               service != NULL && *service != '\0' ? service : "-",
                                               odd_alert_get_summary (a));

      odd_grid_print (grid, y + 1 + i, x + 1, width - 2,
                      critical ? ODD_COLOR_RED : ODD_COLOR_YELLOW,
                      critical ? ODD_ATTR_BOLD : ODD_ATTR_NONE, line);
    }
}

/* "03:04:05" (today's jobs), else the date too. */
static char *
short_time (GDateTime *time)
{
  g_autoptr(GDateTime) local = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  if (time == NULL)
    return g_strdup ("?");
  local = g_date_time_to_local (time);
  if (g_date_time_get_day_of_year (local) == g_date_time_get_day_of_year (now) &&
      g_date_time_get_year (local) == g_date_time_get_year (now))
    return g_date_time_format (local, "%H:%M:%S");
  return g_date_time_format (local, "%Y-%m-%d %H:%M");
}

static void
render_jobs (OddDash *dash,
             OddGrid *grid,
             int      y,
             int      height)
{
  int type_width = MAX (10, grid->cols - 10 - 11 - 5 - 18 - 2);
  int first = 0;
  int visible = height - 2;

  render_section (grid, y, 0, grid->cols, "Recent jobs");
  odd_grid_printf (grid, y + 1, 1, -1, ODD_COLOR_YELLOW, ODD_ATTR_BOLD, "%-9s %-*s %-10s %4s  %s",
                   "ID", type_width, "Type", "Status", "Try", "Created");
  if (dash->jobs->len == 0)
    {
      odd_grid_print (grid, y + 2, 1, -1, ODD_COLOR_DEFAULT, ODD_ATTR_DIM,
                      "No jobs yet: press N to submit one");
      return;
    }

  /* Keep the selected row in view. */
  if (dash->selected >= visible)
    first = dash->selected - visible + 1;

  for (int i = 0; i < visible && (guint) (first + i) < dash->jobs->len; i++)
    {
      OddJob *job = dash->jobs->pdata[first + i];
      const char *status = odd_job_status_to_string (odd_job_get_status (job));
      gboolean selected = first + i == dash->selected && dash->screen == ODD_SCREEN_DASHBOARD;
      OddAttr attrs = selected ? ODD_ATTR_REVERSE : ODD_ATTR_NONE;
      g_autofree char *when = short_time (odd_job_get_created_at (job));
      g_autofree char *attempts = g_strdup_printf ("%4" G_GINT64_FORMAT, odd_job_get_attempts (job));
      int row = y + 2 + i;
      int x = 1;

      if (selected)
        odd_grid_fill (grid, row, 0, 1, grid->cols, ' ', ODD_COLOR_DEFAULT, attrs);
      odd_grid_print (grid, row, 0, 1, ODD_COLOR_CYAN, attrs | ODD_ATTR_BOLD,
                      selected ? ">" : " ");
      odd_grid_printf (grid, row, x, 8, ODD_COLOR_DEFAULT, attrs, "%.8s", odd_job_get_id (job));
      x += 10;
      odd_grid_print (grid, row, x, type_width, ODD_COLOR_DEFAULT, attrs, odd_job_get_job_type (job));
      x += type_width + 1;
      odd_grid_print (grid, row, x, 10, odd_dash_status_color (status),
                      attrs | ODD_ATTR_BOLD, status != NULL ? status : "");
      x += 11;
      odd_grid_print (grid, row, x, 4, ODD_COLOR_DEFAULT, attrs, attempts);
      x += 6;
      odd_grid_print (grid, row, x, -1, ODD_COLOR_DEFAULT, attrs, when);
    }
}

void
odd_dash_render_dashboard (OddDash *dash,
                           OddGrid *grid)
{
  int half = grid->cols / 2;
  int panel = grid->rows >= 30 ? 6 : 5;
  int jobs_y = 4 + panel;
  /* Rows left for the jobs: all but the flash line and the help bar. */
  int jobs_height = grid->rows - 2 - jobs_y;

  render_header (dash, grid);
  render_stats (dash, grid, 1);
  render_sparkline (dash, grid, 2, "Throughput", ODD_COLOR_GREEN, FALSE);
  render_sparkline (dash, grid, 3, "Failures", ODD_COLOR_RED, TRUE);
  render_queues (dash, grid, 4, 0, half, panel);
  render_alerts (dash, grid, 4, half, grid->cols - half, panel);
  render_jobs (dash, grid, jobs_y, jobs_height);

  if (dash->poll_error != NULL && dash->flash == NULL)
    odd_grid_print (grid, grid->rows - 2, 1, grid->cols - 2, ODD_COLOR_RED, ODD_ATTR_NONE,
                    dash->poll_error);

  odd_dash_render_help_bar (dash, grid,
                            "Q Quit R Refresh N New job ↑↓ Select Enter Detail U UIs "
                            "D Doctor ^Q Stop");
}
