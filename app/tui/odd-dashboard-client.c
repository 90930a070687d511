#define G_LOG_DOMAIN "odd-dashboard-client"

#include <string.h>
#include <json-glib/json-glib.h>

#include "odd-build-config.h"
#include "odd-dashboard.h"

/* Every request is async with a 2 s timeout: the screen never waits for the network. */

void
odd_job_row_free (OddJobRow *row)
{
  if (row == NULL)
    return;
  g_free (row->id);
  g_free (row->type);
  g_free (row->status);
  g_free (row->created_at);
  g_free (row);
}

void
odd_dash_client_init (OddDash *dash)
{
  g_autofree char *agent = g_strdup_printf ("odd-dashboard/%s", ODD_VERSION);

  const char *proxy = g_getenv ("http_proxy");
  const char *no_proxy = g_getenv ("no_proxy");
  g_auto(GStrv) ignore = NULL;
  g_autoptr(GProxyResolver) resolver = NULL;

  /* A proxy resolver of our own: the default one loads GIO modules (libproxy, the GNOME
   * settings through dconf) that cost the start time and memory of a small terminal tool.
   * The usual variables still apply. */
  if (proxy == NULL)
    proxy = g_getenv ("HTTP_PROXY");
  if (no_proxy == NULL)
    no_proxy = g_getenv ("NO_PROXY");
  ignore = g_strsplit (no_proxy != NULL && *no_proxy != '\0' ? no_proxy : "localhost,127.0.0.1,::1",
                       ",", -1);
  resolver = g_simple_proxy_resolver_new (proxy != NULL && *proxy != '\0' ? proxy : NULL,
                                          ignore);

  dash->session = soup_session_new_with_options ("timeout", ODD_DASH_HTTP_TIMEOUT_S,
                                                 "idle-timeout", 30,
                                                 "user-agent", agent,
                                                 "proxy-resolver", resolver,
                                                 NULL);
}

typedef struct
{
  OddDash         *dash;
  SoupMessage     *msg;
  OddDashHttpFunc  callback;
  gpointer         user_data;
} Request;

static void
on_response (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Request *request = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = soup_session_send_and_read_finish (SOUP_SESSION (source), result,
                                                               &error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *body = NULL;
  guint status = 0;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Quitting: the dashboard is going away, nobody waits for this answer. */
      g_object_unref (request->msg);
      g_free (request);
      return;
    }

  if (bytes != NULL)
    {
      gsize size;
      const char *data = g_bytes_get_data (bytes, &size);

      status = soup_message_get_status (request->msg);
      if (size > 0 && json_parser_load_from_data (parser, data, (gssize) size, NULL))
        body = json_parser_get_root (parser);
    }

  request->callback (request->dash, status, body, error != NULL ? error->message : NULL,
                     request->user_data);
  g_object_unref (request->msg);
  g_free (request);
}

void
odd_dash_http (OddDash         *dash,
               const char      *method,
               const char      *url,
               JsonNode        *body,
               OddDashHttpFunc  callback,
               gpointer         user_data)
{
  Request *request;
  SoupMessage *msg = soup_message_new (method, url);

  if (msg == NULL)
    {
      g_autofree char *why = g_strdup_printf ("invalid URL %s", url);

      callback (dash, 0, NULL, why, user_data);
      return;
    }

  if (body != NULL)
    {
      g_autofree char *text = json_to_string (body, FALSE);
      gsize length = strlen (text);
      g_autoptr(GBytes) bytes = g_bytes_new_take (g_steal_pointer (&text), length);

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept",
                                "application/json");

  request = g_new0 (Request, 1);
  request->dash = dash;
  request->msg = msg;
  request->callback = callback;
  request->user_data = user_data;
  soup_session_send_and_read_async (dash->session, msg, G_PRIORITY_DEFAULT, dash->cancellable,
                                    on_response, request);
}

char *
odd_dash_describe_http_error (guint       status,
                              JsonNode   *body,
                              const char *error)
{
  if (status == 0)
    return g_strdup (error != NULL ? error : "no answer");

  if (body != NULL && JSON_NODE_HOLDS_OBJECT (body))
    {
      JsonObject *object = json_node_get_object (body);
      const char *message = json_object_get_string_member_with_default (object, "error", NULL);
      JsonArray *details = json_object_has_member (object, "details") &&
                           JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, "details"))
                           ? json_object_get_array_member (object, "details") : NULL;

      if (message != NULL && details != NULL && json_array_get_length (details) > 0 &&
          JSON_NODE_HOLDS_OBJECT (json_array_get_element (details, 0)))
        {
          JsonObject *first = json_array_get_object_element (details, 0);

          return g_strdup_printf ("%s: %s %s", message,
                                  json_object_get_string_member_with_default (first, "path", ""),
                                  json_object_get_string_member_with_default (first, "message", ""));
        }
      if (message != NULL)
        return g_strdup (message);
    }

  return g_strdup_printf ("HTTP %u %s", status, soup_status_get_phrase (status));
}

/* ---- the poll: five GETs in parallel, the next one only after all answered ---- */

static gint64
int_member (JsonObject *object,
            const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return 0;
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return (gint64) json_node_get_double (node);
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return json_node_get_int (node);
  return 0;
}

static double
double_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return 0;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return (double) json_node_get_int (node);
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return json_node_get_double (node);
  return 0;
}

static char *
string_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return g_strdup ("");
  return g_strdup (json_node_get_string (node));
}

static void
poll_done (OddDash *dash)
{
  g_assert (dash->pending > 0);
  if (--dash->pending > 0)
    return;

  if (!dash->first_poll_done)
    {
      dash->first_poll_done = TRUE;
      /* The start decision: a reachable read model shows the dashboard, else the launcher. */
      if (dash->screen == ODD_SCREEN_LOADING)
        odd_dash_set_screen (dash, dash->reachable ? ODD_SCREEN_DASHBOARD : ODD_SCREEN_LAUNCHER);
    }
  odd_dash_queue_redraw (dash);
}

static void
on_stats (OddDash    *dash,
          guint       status,
          JsonNode   *body,
          const char *error,
          gpointer    user_data)
{
  if (status == 200 && body != NULL && JSON_NODE_HOLDS_OBJECT (body))
    {
      JsonObject *object = json_node_get_object (body);
      JsonObject *latency = json_object_has_member (object, "latencyMs") &&
                            JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "latencyMs"))
                            ? json_object_get_object_member (object, "latencyMs") : NULL;

      dash->stats.valid = TRUE;
      dash->stats.total = int_member (object, "totalJobs");
      dash->stats.completed = int_member (object, "completedJobs");
      dash->stats.failed = int_member (object, "failedJobs");
      dash->stats.in_flight = int_member (object, "inFlightJobs");
      dash->stats.throughput = double_member (object, "throughputPerSec");
      dash->stats.p50 = double_member (latency, "p50");
      dash->stats.p95 = double_member (latency, "p95");
      g_free (dash->stats.last_event);
      dash->stats.last_event = string_member (object, "lastEventTime");
      dash->reachable = TRUE;
      dash->last_update = g_get_real_time ();
      g_clear_pointer (&dash->poll_error, g_free);
    }
  else
    {
      /* Keep the last numbers on screen, marked stale by the header. */
      g_autofree char *why = odd_dash_describe_http_error (status, body, error);

      g_free (dash->poll_error);
      dash->poll_error = g_strdup_printf ("read model: %s", why);
      dash->reachable = FALSE;
    }
  poll_done (dash);
}

static void
on_series (OddDash    *dash,
           guint       status,
           JsonNode   *body,
           const char *error,
           gpointer    user_data)
{
  if (status == 200 && body != NULL && JSON_NODE_HOLDS_OBJECT (body) &&
      json_object_has_member (json_node_get_object (body), "points") &&
      JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (body), "points")))
    {
      JsonArray *points = json_object_get_array_member (json_node_get_object (body), "points");

      g_array_set_size (dash->series, 0);
      for (guint i = 0; i < json_array_get_length (points); i++)
        {
          JsonNode *node = json_array_get_element (points, i);
          OddSeriesPoint point = { 0 };

          if (JSON_NODE_HOLDS_OBJECT (node))
            {
              JsonObject *object = json_node_get_object (node);

              point.submitted = int_member (object, "submitted");
              point.completed = int_member (object, "completed");
              point.failed = int_member (object, "failed");
              point.queue_depth = int_member (object, "queueDepth");
            }
          g_array_append_val (dash->series, point);
        }
    }
  poll_done (dash);
}

static void
on_queues (OddDash    *dash,
           guint       status,
           JsonNode   *body,
           const char *error,
           gpointer    user_data)
{
  if (status == 200 && body != NULL && JSON_NODE_HOLDS_OBJECT (body) &&
      json_object_has_member (json_node_get_object (body), "queues") &&
      JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (body), "queues")))
    {
      JsonArray *queues = json_object_get_array_member (json_node_get_object (body), "queues");

      g_ptr_array_set_size (dash->queues, 0);
      for (guint i = 0; i < json_array_get_length (queues); i++)
        {
          JsonNode *node = json_array_get_element (queues, i);
          OddQueueRow *row;

          if (!JSON_NODE_HOLDS_OBJECT (node))
            continue;
          row = g_new0 (OddQueueRow, 1);
          row->name = string_member (json_node_get_object (node), "name");
          row->messages = int_member (json_node_get_object (node), "messages");
          row->consumers = int_member (json_node_get_object (node), "consumers");
          g_ptr_array_add (dash->queues, row);
        }
    }
  poll_done (dash);
}

static void
on_jobs (OddDash    *dash,
         guint       status,
         JsonNode   *body,
         const char *error,
         gpointer    user_data)
{
  if (status == 200 && body != NULL && JSON_NODE_HOLDS_ARRAY (body))
    {
      JsonArray *jobs = json_node_get_array (body);
      g_autofree char *selected_id = NULL;

      /* The selection follows its job as new ones push it down. */
      if (dash->selected >= 0 && (guint) dash->selected < dash->jobs->len)
        selected_id = g_strdup (((OddJobRow *) dash->jobs->pdata[dash->selected])->id);

      g_ptr_array_set_size (dash->jobs, 0);
      for (guint i = 0; i < json_array_get_length (jobs); i++)
        {
          JsonNode *node = json_array_get_element (jobs, i);
          OddJobRow *row;

          if (!JSON_NODE_HOLDS_OBJECT (node))
            continue;
          row = g_new0 (OddJobRow, 1);
          row->id = string_member (json_node_get_object (node), "id");
          row->type = string_member (json_node_get_object (node), "type");
          row->status = string_member (json_node_get_object (node), "status");
          row->created_at = string_member (json_node_get_object (node), "createdAt");
          row->attempts = int_member (json_node_get_object (node), "attempts");
          g_ptr_array_add (dash->jobs, row);
          if (selected_id != NULL && g_str_equal (row->id, selected_id))
            dash->selected = (int) dash->jobs->len - 1;
        }
      if (dash->selected >= (int) dash->jobs->len)
        dash->selected = (int) dash->jobs->len - 1;
      if (dash->selected < 0 && dash->jobs->len > 0)
        dash->selected = 0;
    }
  poll_done (dash);
}

static void
on_alerts (OddDash    *dash,
           guint       status,
           JsonNode   *body,
           const char *error,
           gpointer    user_data)
{
  JsonArray *alerts = NULL;

  if (status == 200 && body != NULL && JSON_NODE_HOLDS_ARRAY (body))
    alerts = json_node_get_array (body);
  else if (status == 200 && body != NULL && JSON_NODE_HOLDS_OBJECT (body) &&
           json_object_has_member (json_node_get_object (body), "alerts") &&
           JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (body), "alerts")))
    alerts = json_object_get_array_member (json_node_get_object (body), "alerts");

  if (alerts != NULL)
    {
      g_clear_pointer (&dash->alerts_error, g_free);
      g_ptr_array_set_size (dash->alerts, 0);
      for (guint i = 0; i < json_array_get_length (alerts); i++)
        {
          JsonNode *node = json_array_get_element (alerts, i);
          OddAlertRow *row;

          if (!JSON_NODE_HOLDS_OBJECT (node))
            continue;
          row = g_new0 (OddAlertRow, 1);
          row->name = string_member (json_node_get_object (node), "name");
          row->severity = string_member (json_node_get_object (node), "severity");
          row->service = string_member (json_node_get_object (node), "service");
          row->summary = string_member (json_node_get_object (node), "summary");
          g_ptr_array_add (dash->alerts, row);
        }
    }
  else
    {
      g_autofree char *why = odd_dash_describe_http_error (status, body, error);

      g_free (dash->alerts_error);
      dash->alerts_error = g_strdup_printf ("alerts unavailable: %s", why);
    }
  poll_done (dash);
}

void
odd_dash_poll (OddDash *dash)
{
  struct { const char *path; OddDashHttpFunc callback; } gets[] = {
    { "/stats", on_stats },
    { "/stats/series?window=" G_STRINGIFY (ODD_DASH_SERIES_WINDOW), on_series },
    { "/queues", on_queues },
    { "/jobs/recent?limit=50", on_jobs },
    { "/alerts", on_alerts },
  };

  /* A slow read model gets no pile of requests: the next poll waits for this one. */
  if (dash->pending > 0)
    return;

  dash->pending = G_N_ELEMENTS (gets);
  for (guint i = 0; i < G_N_ELEMENTS (gets); i++)
    {
      g_autofree char *url = g_strconcat (dash->read_model_url, gets[i].path, NULL);

      odd_dash_http (dash, "GET", url, NULL, gets[i].callback, NULL);
    }

  if (dash->screen == ODD_SCREEN_DETAIL)
    odd_dash_detail_refresh (dash);
}

static gboolean
on_poll_timer (gpointer user_data)
{
  odd_dash_poll (user_data);
  return G_SOURCE_CONTINUE;
}

void
odd_dash_start_polling (OddDash *dash)
{
  odd_dash_stop_polling (dash);
  odd_dash_poll (dash);
  dash->poll_id = g_timeout_add (dash->interval_ms, on_poll_timer, dash);
}

void
odd_dash_stop_polling (OddDash *dash)
{
  g_clear_handle_id (&dash->poll_id, g_source_remove);
}
