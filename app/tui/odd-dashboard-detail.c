#define G_LOG_DOMAIN "odd-dashboard-detail"

#define _XOPEN_SOURCE_EXTENDED 1

#include <curses.h>
#include <json-glib/json-glib.h>

#include "odd-dashboard.h"
#include "odd-ids.h"

void
odd_dash_detail_clear (OddDash *dash)
{
  OddDetail *d = &dash->detail;

  g_clear_pointer (&d->id, g_free);
  g_clear_object (&d->job);
  g_clear_pointer (&d->error, g_free);
  g_clear_pointer (&d->flash, g_free);
  d->loading = FALSE;
  d->retrying = FALSE;
  d->scroll = 0;
}

typedef struct
{
  OddDash *dash;
  char    *id;
} DetailRequest;

static void
on_detail (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  DetailRequest *request = user_data;
  g_autofree char *id = request->id;
  OddDash *dash = request->dash;
  g_autoptr(GError) error = NULL;
  g_autoptr(OddJob) job = odd_client_get_job_finish (ODD_CLIENT (source), result, &error);
  OddDetail *d;

  g_free (request);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* An answer for a job the user already left. */
  d = &dash->detail;
  if (g_strcmp0 (id, d->id) != 0)
    return;

  d->loading = FALSE;
  if (job != NULL)
    {
      g_clear_object (&d->job);
      d->job = g_steal_pointer (&job);
      g_clear_pointer (&d->error, g_free);
    }
  else
    {
      g_free (d->error);
      d->error = g_strdup_printf ("GET /jobs/%s: %s", id, odd_dash_error_reason (error));
    }
  odd_dash_queue_redraw (dash);
}

void
odd_dash_detail_refresh (OddDash *dash)
{
  OddDetail *d = &dash->detail;
  DetailRequest *request;

  if (d->id == NULL || d->loading)
    return;
  d->loading = TRUE;
  request = g_new0 (DetailRequest, 1);
  request->dash = dash;
  request->id = g_strdup (d->id);
  odd_client_get_job_async (dash->client, d->id, dash->cancellable, on_detail, request);
}

void
odd_dash_detail_open (OddDash    *dash,
                      const char *job_id)
{
  odd_dash_detail_clear (dash);
  dash->detail.id = g_strdup (job_id);
  odd_dash_set_screen (dash, ODD_SCREEN_DETAIL);
  odd_dash_detail_refresh (dash);
}

static void
on_retried (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  DetailRequest *request = user_data;
  g_autofree char *id = request->id;
  OddDash *dash = request->dash;
  g_autoptr(GError) error = NULL;
  gboolean accepted = odd_client_retry_job_finish (ODD_CLIENT (source), result, NULL, &error);
  OddDetail *d;

  g_free (request);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  d = &dash->detail;
  if (g_strcmp0 (id, d->id) != 0)
    return;
  d->retrying = FALSE;
  g_clear_pointer (&d->flash, g_free);
  if (accepted)
    {
      d->flash = g_strdup ("Retry accepted: the job runs again as its next generation");
      d->flash_error = FALSE;
      odd_dash_detail_refresh (dash);
      odd_dash_poll (dash);
    }
  else
    {
      d->flash = g_strdup_printf ("Retry refused: %s", odd_dash_error_reason (error));
      d->flash_error = TRUE;
    }
  odd_dash_queue_redraw (dash);
}

static void
retry (OddDash *dash)
{
  OddDetail *d = &dash->detail;
  const char *status = d->job != NULL ? odd_job_status_to_string (odd_job_get_status (d->job)) : NULL;
  DetailRequest *request;

  g_clear_pointer (&d->flash, g_free);
  if (d->retrying)
    return;
  if (g_strcmp0 (status, "FAILED") != 0)
    {
      d->flash = g_strdup_printf ("Only a FAILED job can be retried (this one is %s)",
                                  status != NULL ? status : "not loaded yet");
      d->flash_error = TRUE;
      odd_dash_queue_redraw (dash);
      return;
    }
  d->retrying = TRUE;
  request = g_new0 (DetailRequest, 1);
  request->dash = dash;
  request->id = g_strdup (d->id);
  odd_client_retry_job_async (dash->client, d->id, dash->cancellable, on_retried, request);
  odd_dash_queue_redraw (dash);
}

void
odd_dash_detail_key (OddDash *dash,
                     int      key,
                     gboolean is_char)
{
  int k = is_char && key < 128 ? g_ascii_tolower (key) : key;

  if (is_char && (k == 27 || k == 'b' || k == 127 || k == 8))
    {
      odd_dash_detail_clear (dash);
      odd_dash_set_screen (dash, ODD_SCREEN_DASHBOARD);
    }
  else if (is_char && (k == 'q' || k == 3))
    odd_dash_quit (dash, 0);
  else if (is_char && k == 'r')
    retry (dash);
  else if ((!is_char && key == KEY_DOWN) || (is_char && k == 'j'))
    {
      dash->detail.scroll++;
      odd_dash_queue_redraw (dash);
    }
  else if ((!is_char && key == KEY_UP) || (is_char && k == 'k'))
    {
      dash->detail.scroll = MAX (0, dash->detail.scroll - 1);
      odd_dash_queue_redraw (dash);
    }
}

/* "03:04:05.700" of a time, in local time. */
static char *
event_time (GDateTime *time)
{
  g_autoptr(GDateTime) local = NULL;
  g_autofree char *hms = NULL;

  if (time == NULL)
    return g_strdup ("?");
  local = g_date_time_to_local (time);
  hms = g_date_time_format (local, "%H:%M:%S");
  return g_strdup_printf ("%s.%03d", hms, g_date_time_get_microsecond (local) / 1000);
}

/* The time as the services write it (RFC 3339, UTC, milliseconds), "-" when none. */
static char *
rfc3339 (GDateTime *time)
{
  if (time == NULL)
    return g_strdup ("-");
  return odd_time_format_rfc3339 (g_date_time_to_unix (time) * G_USEC_PER_SEC +
                                  g_date_time_get_microsecond (time));
}

static void
render_event (OddGrid     *grid,
              int          row,
              OddJobEvent *event)
{
  const char *status = odd_job_event_get_status (event);
  g_autofree char *when = event_time (odd_job_event_get_occurred_at (event));
  g_autoptr(GString) extra = g_string_new (NULL);
  const char *event_type = odd_job_event_get_event_type (event);
  int x = 2;

  if (odd_job_event_get_attempt (event) >= 0)
    g_string_append_printf (extra, "attempt %" G_GINT64_FORMAT " ", odd_job_event_get_attempt (event));
  if (odd_job_event_get_outcome (event) != NULL)
    g_string_append_printf (extra, "%s ", odd_job_event_get_outcome (event));
  if (odd_job_event_get_error (event) != NULL)
    g_string_append_printf (extra, "(%s)", odd_job_event_get_error (event));

  x += odd_grid_print (grid, row, x, -1, ODD_COLOR_DEFAULT, ODD_ATTR_DIM, when) + 2;
  odd_grid_print (grid, row, x, 16, ODD_COLOR_CYAN, ODD_ATTR_NONE,
                  event_type != NULL ? event_type : "?");
  x += 17;
  odd_grid_print (grid, row, x, 10, odd_dash_status_color (status), ODD_ATTR_BOLD, status);
  x += 11;
  odd_grid_print (grid, row, x, -1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, extra->str);
}

void
odd_dash_detail_render (OddDash *dash,
                        OddGrid *grid)
{
  OddDetail *d = &dash->detail;
  OddJob *job = d->job;
  GListModel *events = NULL;
  g_autofree char *title = g_strdup_printf (" Job %s", d->id != NULL ? d->id : "");
  const char *status = job != NULL ? odd_job_status_to_string (odd_job_get_status (job)) : NULL;
  int row = 2;

  if (status == NULL)
    status = "";
  odd_grid_fill (grid, 0, 0, 1, grid->cols, ' ', ODD_COLOR_DEFAULT, ODD_ATTR_REVERSE);
  odd_grid_print (grid, 0, 0, -1, ODD_COLOR_DEFAULT, ODD_ATTR_REVERSE | ODD_ATTR_BOLD, title);

  if (job == NULL)
    {
      if (d->error != NULL)
        odd_grid_print (grid, row, 2, grid->cols - 4, ODD_COLOR_RED, ODD_ATTR_NONE, d->error);
      else
        odd_grid_printf (grid, row, 2, -1, ODD_COLOR_YELLOW, ODD_ATTR_NONE, "%s Loading…",
                         odd_dash_spinner (dash, grid));
      odd_dash_render_help_bar (dash, grid, "Esc Back  Q Quit");
      return;
    }

  {
    g_autofree char *created = rfc3339 (odd_job_get_created_at (job));
    g_autofree char *finished = rfc3339 (odd_job_get_finished_at (job));

    odd_grid_printf (grid, row, 2, -1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, "Type      %s",
                     odd_job_get_job_type (job));
    odd_grid_print (grid, row + 1, 2, -1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, "Status");
    odd_grid_print (grid, row + 1, 12, -1, odd_dash_status_color (status), ODD_ATTR_BOLD, status);
    odd_grid_printf (grid, row + 2, 2, -1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE,
                     "Attempts  %" G_GINT64_FORMAT "   Generation %" G_GINT64_FORMAT,
                     odd_job_get_attempts (job), odd_job_get_generation (job));
    odd_grid_printf (grid, row + 3, 2, grid->cols - 4, ODD_COLOR_DEFAULT, ODD_ATTR_NONE,
                     "Created   %s", created);
    odd_grid_printf (grid, row + 4, 2, grid->cols - 4, ODD_COLOR_DEFAULT, ODD_ATTR_NONE,
                     "Finished  %s", finished);
  }
  if (odd_job_get_last_error (job) != NULL)
    odd_grid_printf (grid, row + 5, 2, grid->cols - 4, ODD_COLOR_RED, ODD_ATTR_NONE,
                     "Error     %s", odd_job_get_last_error (job));
  if (odd_job_get_payload (job) != NULL)
    {
      g_autofree char *payload = json_to_string (odd_job_get_payload (job), FALSE);

      odd_grid_printf (grid, row + 6, 2, grid->cols - 4, ODD_COLOR_DEFAULT, ODD_ATTR_DIM,
                       "Payload   %s", payload);
    }

  row += 8;
  events = odd_job_get_events (job);
  {
    g_autofree char *section = g_strdup_printf (" Timeline (%u events) ",
                                                events != NULL ? g_list_model_get_n_items (events) : 0);

    odd_grid_hline (grid, row, 0, grid->cols, ODD_COLOR_DEFAULT);
    odd_grid_print (grid, row, 2, -1, ODD_COLOR_CYAN, ODD_ATTR_BOLD, section);
  }
  row++;

  if (events != NULL)
    {
      guint n = g_list_model_get_n_items (events);
      int room = grid->rows - 2 - row;

      d->scroll = MIN (d->scroll, (int) MAX ((int) n - room, 0));
      for (int i = 0; i < room && (guint) (d->scroll + i) < n; i++)
        {
          g_autoptr(OddJobEvent) event = g_list_model_get_item (events, d->scroll + i);

          render_event (grid, row + i, event);
        }
    }

  if (d->flash != NULL)
    odd_grid_print (grid, grid->rows - 2, 1, grid->cols - 2,
                    d->flash_error ? ODD_COLOR_RED : ODD_COLOR_GREEN, ODD_ATTR_BOLD, d->flash);
  else if (d->retrying)
    odd_grid_printf (grid, grid->rows - 2, 1, grid->cols - 2, ODD_COLOR_YELLOW, ODD_ATTR_NONE,
                     "%s Asking the gateway to retry…", odd_dash_spinner (dash, grid));

  odd_dash_render_help_bar (dash, grid, g_strcmp0 (status, "FAILED") == 0
                            ? "Esc Back  R Retry this failed job  ↑↓ Scroll  Q Quit"
                            : "Esc Back  ↑↓ Scroll  Q Quit");
}
