#define G_LOG_DOMAIN "odd-dashboard-detail"

#define _XOPEN_SOURCE_EXTENDED 1

#include <curses.h>
#include <json-glib/json-glib.h>

#include "odd-dashboard.h"

void
odd_dash_detail_clear (OddDash *dash)
{
  OddDetail *d = &dash->detail;

  g_clear_pointer (&d->id, g_free);
  g_clear_pointer (&d->detail, json_node_unref);
  g_clear_pointer (&d->error, g_free);
  g_clear_pointer (&d->flash, g_free);
  d->loading = FALSE;
  d->retrying = FALSE;
  d->scroll = 0;
}

static void
on_detail (OddDash    *dash,
           guint       status,
           JsonNode   *body,
           const char *error,
           gpointer    user_data)
{
  g_autofree char *id = user_data;
  OddDetail *d = &dash->detail;

  /* An answer for a job the user already left. */
  if (g_strcmp0 (id, d->id) != 0)
    return;

  d->loading = FALSE;
  if (status == 200 && body != NULL && JSON_NODE_HOLDS_OBJECT (body))
    {
      g_clear_pointer (&d->detail, json_node_unref);
      d->detail = json_node_copy (body);
      g_clear_pointer (&d->error, g_free);
    }
  else
    {
      g_autofree char *why = odd_dash_describe_http_error (status, body, error);

      g_free (d->error);
      d->error = g_strdup_printf ("GET /jobs/%s: %s", id, why);
    }
  odd_dash_queue_redraw (dash);
}

void
odd_dash_detail_refresh (OddDash *dash)
{
  OddDetail *d = &dash->detail;
  g_autofree char *url = NULL;

  if (d->id == NULL || d->loading)
    return;
  d->loading = TRUE;
  url = g_strdup_printf ("%s/jobs/%s", dash->read_model_url, d->id);
  odd_dash_http (dash, "GET", url, NULL, on_detail, g_strdup (d->id));
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

static JsonObject *
job_object (OddDetail *d)
{
  JsonObject *root;

  if (d->detail == NULL)
    return NULL;
  root = json_node_get_object (d->detail);
  if (!json_object_has_member (root, "job") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, "job")))
    return NULL;
  return json_object_get_object_member (root, "job");
}

static const char *
str_or (JsonObject *object,
        const char *name,
        const char *fallback)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return fallback;
  return json_node_get_string (node);
}

static void
on_retried (OddDash    *dash,
            guint       status,
            JsonNode   *body,
            const char *error,
            gpointer    user_data)
{
  g_autofree char *id = user_data;
  OddDetail *d = &dash->detail;

  if (g_strcmp0 (id, d->id) != 0)
    return;
  d->retrying = FALSE;
  g_clear_pointer (&d->flash, g_free);
  if (status >= 200 && status < 300)
    {
      d->flash = g_strdup ("Retry accepted: the job runs again as its next generation");
      d->flash_error = FALSE;
      odd_dash_detail_refresh (dash);
      odd_dash_poll (dash);
    }
  else
    {
      g_autofree char *why = odd_dash_describe_http_error (status, body, error);

      d->flash = g_strdup_printf ("Retry refused: %s", why);
      d->flash_error = TRUE;
    }
  odd_dash_queue_redraw (dash);
}

static void
retry (OddDash *dash)
{
  OddDetail *d = &dash->detail;
  JsonObject *job = job_object (d);
  const char *status = str_or (job, "status", NULL);
  g_autofree char *url = NULL;

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
  url = g_strdup_printf ("%s/jobs/%s/retry", dash->gateway_url, d->id);
  odd_dash_http (dash, "POST", url, NULL, on_retried, g_strdup (d->id));
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

/* "03:04:05.700" of an RFC 3339 time, in local time. */
static char *
event_time (const char *rfc3339)
{
  g_autoptr(GDateTime) time = rfc3339 != NULL ? g_date_time_new_from_iso8601 (rfc3339, NULL) : NULL;
  g_autoptr(GDateTime) local = NULL;
  g_autofree char *hms = NULL;

  if (time == NULL)
    return g_strdup (rfc3339 != NULL ? rfc3339 : "?");
  local = g_date_time_to_local (time);
  hms = g_date_time_format (local, "%H:%M:%S");
  return g_strdup_printf ("%s.%03d", hms, g_date_time_get_microsecond (local) / 1000);
}

static void
render_event (OddGrid    *grid,
              int         row,
              JsonObject *event)
{
  JsonObject *payload = json_object_has_member (event, "payload") &&
                        JSON_NODE_HOLDS_OBJECT (json_object_get_member (event, "payload"))
                        ? json_object_get_object_member (event, "payload") : NULL;
  JsonObject *metadata = json_object_has_member (event, "metadata") &&
                         JSON_NODE_HOLDS_OBJECT (json_object_get_member (event, "metadata"))
                         ? json_object_get_object_member (event, "metadata") : NULL;
  const char *status = str_or (payload, "status", "");
  g_autofree char *when = event_time (str_or (event, "occurredAt", NULL));
  g_autoptr(GString) extra = g_string_new (NULL);
  int x = 2;

  if (metadata != NULL && json_object_has_member (metadata, "attempt"))
    g_string_append_printf (extra, "attempt %" G_GINT64_FORMAT " ",
                            json_object_get_int_member_with_default (metadata, "attempt", 0));
  if (metadata != NULL && str_or (metadata, "outcome", NULL) != NULL)
    g_string_append_printf (extra, "%s ", str_or (metadata, "outcome", ""));
  if (metadata != NULL && str_or (metadata, "error", NULL) != NULL)
    g_string_append_printf (extra, "(%s)", str_or (metadata, "error", ""));

  x += odd_grid_print (grid, row, x, -1, ODD_COLOR_DEFAULT, ODD_ATTR_DIM, when) + 2;
  odd_grid_print (grid, row, x, 16, ODD_COLOR_CYAN, ODD_ATTR_NONE,
                  str_or (event, "eventType", "?"));
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
  JsonObject *job = job_object (d);
  JsonArray *events = NULL;
  g_autofree char *title = g_strdup_printf (" Job %s", d->id != NULL ? d->id : "");
  const char *status = str_or (job, "status", "");
  int row = 2;

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

  odd_grid_printf (grid, row, 2, -1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, "Type      %s",
                   str_or (job, "type", "?"));
  odd_grid_print (grid, row + 1, 2, -1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE, "Status");
  odd_grid_print (grid, row + 1, 12, -1, odd_dash_status_color (status), ODD_ATTR_BOLD, status);
  odd_grid_printf (grid, row + 2, 2, -1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE,
                   "Attempts  %" G_GINT64_FORMAT "   Generation %" G_GINT64_FORMAT,
                   json_object_get_int_member_with_default (job, "attempts", 0),
                   json_object_get_int_member_with_default (job, "generation", 0));
  odd_grid_printf (grid, row + 3, 2, grid->cols - 4, ODD_COLOR_DEFAULT, ODD_ATTR_NONE,
                   "Created   %s", str_or (job, "createdAt", "-"));
  odd_grid_printf (grid, row + 4, 2, grid->cols - 4, ODD_COLOR_DEFAULT, ODD_ATTR_NONE,
                   "Finished  %s", str_or (job, "finishedAt", "-"));
  if (str_or (job, "lastError", NULL) != NULL)
    odd_grid_printf (grid, row + 5, 2, grid->cols - 4, ODD_COLOR_RED, ODD_ATTR_NONE,
                     "Error     %s", str_or (job, "lastError", ""));
  if (json_object_has_member (job, "payload") &&
      !JSON_NODE_HOLDS_NULL (json_object_get_member (job, "payload")))
    {
      g_autofree char *payload = json_to_string (json_object_get_member (job, "payload"), FALSE);

      odd_grid_printf (grid, row + 6, 2, grid->cols - 4, ODD_COLOR_DEFAULT, ODD_ATTR_DIM,
                       "Payload   %s", payload);
    }

  row += 8;
  if (json_object_has_member (json_node_get_object (d->detail), "events") &&
      JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (d->detail), "events")))
    events = json_object_get_array_member (json_node_get_object (d->detail), "events");
  {
    g_autofree char *section = g_strdup_printf (" Timeline (%u events) ",
                                                events != NULL ? json_array_get_length (events) : 0);

    odd_grid_hline (grid, row, 0, grid->cols, ODD_COLOR_DEFAULT);
    odd_grid_print (grid, row, 2, -1, ODD_COLOR_CYAN, ODD_ATTR_BOLD, section);
  }
  row++;

  if (events != NULL)
    {
      guint n = json_array_get_length (events);
      int room = grid->rows - 2 - row;

      d->scroll = MIN (d->scroll, (int) MAX ((int) n - room, 0));
      for (int i = 0; i < room && (guint) (d->scroll + i) < n; i++)
        {
          JsonNode *node = json_array_get_element (events, d->scroll + i);

          if (JSON_NODE_HOLDS_OBJECT (node))
            render_event (grid, row + i, json_node_get_object (node));
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
