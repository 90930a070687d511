#define G_LOG_DOMAIN "odd-dashboard-client"

#include "odd-build-config.h"
#include "odd-dashboard.h"

/* Every request goes through OddClient with a 2 s timeout: the screen never waits for the
 * network. The answers land in the dashboard's state here, and only here. */

void
odd_dash_client_init (OddDash *dash)
{
  g_autofree char *agent = g_strdup_printf ("odd-dashboard/%s", ODD_VERSION);
  g_autoptr(OddEndpoints) endpoints = odd_endpoints_new (ODD_ENDPOINTS_DEFAULT_READ_MODEL_URL,
                                                         ODD_ENDPOINTS_DEFAULT_GATEWAY_URL,
                                                         ODD_ENDPOINTS_SOURCE_DEFAULT);

  dash->client = g_object_new (ODD_TYPE_CLIENT,
                               "endpoints", endpoints,
                               "timeout", ODD_DASH_HTTP_TIMEOUT_S,
                               "user-agent", agent,
                               NULL);
}

const char *
odd_dash_error_reason (const GError *error)
{
  const char *reason = odd_client_error_get_reason (error);

  return reason != NULL ? reason : error->message;
}

/* ---- the poll: five GETs in parallel, the next one only after all answered ---- */

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

/* Quitting cancels what is in flight: then the dashboard may be gone, touch nothing. */
#define RETURN_IF_CANCELLED(error) \
  G_STMT_START { \
    if (g_error_matches ((error), G_IO_ERROR, G_IO_ERROR_CANCELLED)) \
      return; \
  } G_STMT_END

static void
on_stats (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  OddDash *dash = user_data;
  g_autoptr(GError) error = NULL;
  OddStats *stats = odd_client_get_stats_finish (ODD_CLIENT (source), result, &error);

  RETURN_IF_CANCELLED (error);
  if (stats != NULL)
    {
      g_clear_object (&dash->stats);
      dash->stats = stats;
      dash->reachable = TRUE;
      dash->last_update = g_get_real_time ();
      g_clear_pointer (&dash->poll_error, g_free);
    }
  else
    {
      /* Keep the last numbers on screen, marked stale by the header. */
      g_free (dash->poll_error);
      dash->poll_error = g_strdup_printf ("read model: %s", odd_dash_error_reason (error));
      dash->reachable = FALSE;
    }
  poll_done (dash);
}

static void
on_series (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  OddDash *dash = user_data;
  g_autoptr(GError) error = NULL;
  OddSeries *series = odd_client_get_series_finish (ODD_CLIENT (source), result, &error);

  RETURN_IF_CANCELLED (error);
  if (series != NULL)
    {
      g_clear_object (&dash->series);
      dash->series = series;
    }
  poll_done (dash);
}

static void
on_queues (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  OddDash *dash = user_data;
  g_autoptr(GError) error = NULL;
  GPtrArray *queues = odd_client_get_queues_finish (ODD_CLIENT (source), result, &error);

  RETURN_IF_CANCELLED (error);
  if (queues != NULL)
    {
      g_ptr_array_unref (dash->queues);
      dash->queues = queues;
    }
  poll_done (dash);
}

static void
on_jobs (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  OddDash *dash = user_data;
  g_autoptr(GError) error = NULL;
  GPtrArray *jobs = odd_client_get_recent_jobs_finish (ODD_CLIENT (source), result, &error);

  RETURN_IF_CANCELLED (error);
  if (jobs != NULL)
    {
      g_autofree char *selected_id = NULL;

      /* The selection follows its job as new ones push it down. */
      if (dash->selected >= 0 && (guint) dash->selected < dash->jobs->len)
        selected_id = g_strdup (odd_job_get_id (dash->jobs->pdata[dash->selected]));

      g_ptr_array_unref (dash->jobs);
      dash->jobs = jobs;
      for (guint i = 0; selected_id != NULL && i < jobs->len; i++)
        if (g_str_equal (odd_job_get_id (jobs->pdata[i]), selected_id))
          dash->selected = (int) i;
      if (dash->selected >= (int) dash->jobs->len)
        dash->selected = (int) dash->jobs->len - 1;
      if (dash->selected < 0 && dash->jobs->len > 0)
        dash->selected = 0;
    }
  poll_done (dash);
}

static void
on_alerts (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  OddDash *dash = user_data;
  g_autoptr(GError) error = NULL;
  GPtrArray *alerts = odd_client_get_alerts_finish (ODD_CLIENT (source), result, &error);

  RETURN_IF_CANCELLED (error);
  if (alerts != NULL)
    {
      g_clear_pointer (&dash->alerts_error, g_free);
      g_ptr_array_unref (dash->alerts);
      dash->alerts = alerts;
    }
  else
    {
      g_free (dash->alerts_error);
      dash->alerts_error = g_strdup_printf ("alerts unavailable: %s", odd_dash_error_reason (error));
    }
  poll_done (dash);
}

void
odd_dash_poll (OddDash *dash)
{
  /* A slow read model gets no pile of requests: the next poll waits for this one. */
  if (dash->pending > 0)
    return;

  dash->pending = 5;
  odd_client_get_stats_async (dash->client, dash->cancellable, on_stats, dash);
  odd_client_get_series_async (dash->client, ODD_DASH_SERIES_WINDOW, dash->cancellable,
                               on_series, dash);
  odd_client_get_queues_async (dash->client, dash->cancellable, on_queues, dash);
  odd_client_get_recent_jobs_async (dash->client, 50, dash->cancellable, on_jobs, dash);
  odd_client_get_alerts_async (dash->client, dash->cancellable, on_alerts, dash);

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
