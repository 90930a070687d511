/* odd-dashboard-page.c: counters and live charts of the system, from the read model
 *
 * SPDX-License-Identifier: MIT
 *
 * While shown, the page polls the read model every refresh interval: /stats for the counters,
 * /stats/series for the per-second history (the whole window the first time, so the charts
 * are full at once, then only the seconds since the last poll; the latency percentiles and the
 * queue depths of each second included). A poll starts only when the one before has finished,
 * and its answers are shown together, so that all charts move and draw their new points in one
 * frame. Hidden, or in a minimised window, it asks nothing and its charts draw nothing.
 */
#define G_LOG_DOMAIN "odd-dashboard-page"

#include <glib/gi18n.h>

#include "odd-chart.h"
#include "odd-dashboard-page.h"
#include "odd-dashboard-resources.h"

#define SEC ((gint64) G_USEC_PER_SEC)

struct _OddDashboardPage
{
  AdwBin              parent_instance;

  GtkRevealer        *banner_revealer;
  GtkLabel           *banner_label;
  /* Inscriptions, not labels: a new figure is drawn, not laid out (a label's new text would
   * lay out the whole window, every second while jobs arrive). */
  GtkInscription     *total_label;
  GtkInscription     *completed_label;
  GtkInscription     *failed_label;
  GtkInscription     *in_flight_label;
  GtkInscription     *throughput_label;
  OddChart           *throughput_chart;
  OddChart           *queue_chart;
  OddChart           *latency_chart;

  OddClient          *client;
  GCancellable       *cancellable;
  GSimpleActionGroup *actions;
  guint               poll_id;
  guint               refresh_interval;
  guint               window_minutes;
  guint               pending;
  gboolean            reachable;
  gboolean            failed_before;
  gboolean            need_history;
  gint64              last_bucket;
  /* One poll's answers, shown together when the last arrives: one frame for all charts. */
  OddSeries          *answer_series;
  GdkSurface         *surface;       /* weak: the toplevel's, watched while mapped */
  gboolean            minimized;
};

G_DEFINE_FINAL_TYPE (OddDashboardPage, odd_dashboard_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_REFRESH_INTERVAL,
  PROP_WINDOW_MINUTES,
  PROP_REACHABLE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void odd_dashboard_page_schedule (OddDashboardPage *self);

/* The page's child (not a bound template child: AdwBin unparents its child itself). */
static void
add_toast (OddDashboardPage *self,
           const char       *text)
{
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (adw_bin_get_child (ADW_BIN (self))), adw_toast_new (text));
}

/* ------------------------------------------------------------------------------------ */
/* Showing answers */

/* Unchanged text is not even drawn again. */
static void
set_count (GtkInscription *counter,
           gint64          value)
{
  g_autofree char *text = g_strdup_printf ("%'" G_GINT64_FORMAT, value);

  gtk_inscription_set_text (counter, text);
}

static void
set_reachable (OddDashboardPage *self,
               const GError     *error)
{
  gboolean reachable = error == NULL;

  if (error != NULL)
    {
      gboolean stop = g_str_has_suffix (error->message, ".");
      g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b> %s%s ", _("The stack does not answer."),
                                                         error->message, stop ? "" : ".");
      g_autofree char *retry = g_strdup_printf (ngettext ("Trying again every second.",
                                                          "Trying again every %u seconds.",
                                                          self->refresh_interval),
                                                self->refresh_interval);
      g_autofree char *text = g_strconcat (markup, retry, NULL);

      gtk_label_set_markup (self->banner_label, text);
    }
  /* Shown only while it is unfolded (the page's box would space a folded one too). */
  if (!reachable)
    gtk_widget_set_visible (GTK_WIDGET (self->banner_revealer), TRUE);
  gtk_revealer_set_reveal_child (self->banner_revealer, !reachable);
  if (reachable && self->failed_before && !self->reachable)
    add_toast (self, _("The stack answers again"));
  if (!reachable)
    self->failed_before = TRUE;
  if (reachable != self->reachable)
    {
      self->reachable = reachable;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REACHABLE]);
    }
}

static void
on_banner_folded (OddDashboardPage *self)
{
  if (!gtk_revealer_get_child_revealed (self->banner_revealer) && !gtk_revealer_get_reveal_child (self->banner_revealer))
    gtk_widget_set_visible (GTK_WIDGET (self->banner_revealer), FALSE);
}

static void show_series (OddDashboardPage *self, OddSeries *series);

static void
clear_answers (OddDashboardPage *self)
{
  g_clear_object (&self->answer_series);
}

static void
poll_done (OddDashboardPage *self)
{
  g_assert (self->pending > 0);
  if (--self->pending > 0)
    return;
  if (self->answer_series != NULL)
    show_series (self, self->answer_series);
  clear_answers (self);
  odd_dashboard_page_schedule (self);
}

static void
on_stats (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  OddDashboardPage *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(OddStats) stats = odd_client_get_stats_finish (ODD_CLIENT (source), result, &error);
  g_autofree char *throughput = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  set_reachable (self, error);
  if (stats != NULL)
    {
      set_count (self->total_label, odd_stats_get_total (stats));
      set_count (self->completed_label, odd_stats_get_completed (stats));
      set_count (self->failed_label, odd_stats_get_failed (stats));
      set_count (self->in_flight_label, odd_stats_get_in_flight (stats));
      throughput = g_strdup_printf (_("%.1f/s"), odd_stats_get_throughput (stats));
      gtk_inscription_set_text (self->throughput_label, throughput);
    }
  poll_done (self);
}

typedef struct
{
  double waiting;
  double events;
  double dead;
} QueueDepths;

/* The queue chart's values of @point; FALSE when no queues were sampled in its second. */
static gboolean
point_queue_depths (const OddSeriesPoint *point,
                    QueueDepths          *depths)
{
  *depths = (QueueDepths) { 0, 0, 0 };
  for (guint i = 0; i < point->n_queues; i++)
    {
      const OddSeriesQueue *q = &point->queues[i];

      if (g_str_equal (q->name, "jobs.created"))
        depths->waiting = q->messages;
      else if (g_str_equal (q->name, "jobs.lifecycle"))
        depths->events = q->messages;
      else if (odd_queue_name_is_dead_letter (q->name))
        depths->dead += q->messages;
    }
  return point->n_queues > 0;
}

static void
show_series (OddDashboardPage *self,
             OddSeries        *series)
{
  const OddSeriesPoint *points;
  guint n;

  points = odd_series_get_points (series, &n);
  /* The newest second is still filling up: it is shown once it is complete. */
  if (n > 0)
    n--;
  if (self->need_history)
    {
      g_autofree OddChartPoint *submitted = g_new (OddChartPoint, MAX (n, 1));
      g_autofree OddChartPoint *completed = g_new (OddChartPoint, MAX (n, 1));
      g_autofree OddChartPoint *failed = g_new (OddChartPoint, MAX (n, 1));
      g_autofree OddChartPoint *waiting = g_new (OddChartPoint, MAX (n, 1));
      g_autofree OddChartPoint *events = g_new (OddChartPoint, MAX (n, 1));
      g_autofree OddChartPoint *dead = g_new (OddChartPoint, MAX (n, 1));
      g_autofree OddChartPoint *p50 = g_new (OddChartPoint, MAX (n, 1));
      g_autofree OddChartPoint *p95 = g_new (OddChartPoint, MAX (n, 1));
      g_autofree OddChartPoint *p99 = g_new (OddChartPoint, MAX (n, 1));
      guint n_latency = 0;
      guint n_queues = 0;

      for (guint i = 0; i < n; i++)
        {
          submitted[i] = (OddChartPoint) { points[i].time, points[i].submitted };
          completed[i] = (OddChartPoint) { points[i].time, points[i].completed };
          failed[i] = (OddChartPoint) { points[i].time, points[i].failed };
          QueueDepths depths;

          /* Seconds in which no job completed have no latency: the line pauses there. */
          if (points[i].has_latency)
            {
              p50[n_latency] = (OddChartPoint) { points[i].time, points[i].p50 };
              p95[n_latency] = (OddChartPoint) { points[i].time, points[i].p95 };
              p99[n_latency] = (OddChartPoint) { points[i].time, points[i].p99 };
              n_latency++;
            }
          /* Nor do seconds in which no queue was sampled (no metrics-engine ran). */
          if (point_queue_depths (&points[i], &depths))
            {
              waiting[n_queues] = (OddChartPoint) { points[i].time, depths.waiting };
              events[n_queues] = (OddChartPoint) { points[i].time, depths.events };
              dead[n_queues] = (OddChartPoint) { points[i].time, depths.dead };
              n_queues++;
            }
        }
      odd_chart_set_points (self->throughput_chart, "submitted", submitted, n);
      odd_chart_set_points (self->throughput_chart, "completed", completed, n);
      odd_chart_set_points (self->throughput_chart, "failed", failed, n);
      odd_chart_set_points (self->queue_chart, "waiting", waiting, n_queues);
      odd_chart_set_points (self->queue_chart, "events", events, n_queues);
      odd_chart_set_points (self->queue_chart, "dead", dead, n_queues);
      odd_chart_set_points (self->latency_chart, "p50", p50, n_latency);
      odd_chart_set_points (self->latency_chart, "p95", p95, n_latency);
      odd_chart_set_points (self->latency_chart, "p99", p99, n_latency);
      self->need_history = FALSE;
    }
  else
    {
      for (guint i = 0; i < n; i++)
        {
          QueueDepths depths;

          if (points[i].time <= self->last_bucket)
            continue;
          odd_chart_append_point (self->throughput_chart, "submitted", points[i].time, points[i].submitted);
          odd_chart_append_point (self->throughput_chart, "completed", points[i].time, points[i].completed);
          odd_chart_append_point (self->throughput_chart, "failed", points[i].time, points[i].failed);
          if (point_queue_depths (&points[i], &depths))
            {
              odd_chart_append_point (self->queue_chart, "waiting", points[i].time, depths.waiting);
              odd_chart_append_point (self->queue_chart, "events", points[i].time, depths.events);
              odd_chart_append_point (self->queue_chart, "dead", points[i].time, depths.dead);
            }
          if (points[i].has_latency)
            {
              odd_chart_append_point (self->latency_chart, "p50", points[i].time, points[i].p50);
              odd_chart_append_point (self->latency_chart, "p95", points[i].time, points[i].p95);
              odd_chart_append_point (self->latency_chart, "p99", points[i].time, points[i].p99);
            }
        }
    }
  if (n > 0)
    self->last_bucket = points[n - 1].time;
  /* Every chart moves with this answer, in its one frame: the latency chart too, which has no
   * point in a second without completed jobs. */
  odd_chart_touch (self->throughput_chart);
  odd_chart_touch (self->queue_chart);
  odd_chart_touch (self->latency_chart);
}

static void
on_series (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  OddDashboardPage *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(OddSeries) series = odd_client_get_series_finish (ODD_CLIENT (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (series == NULL)
    g_debug ("series: %s", error->message);
  g_set_object (&self->answer_series, series);
  poll_done (self);
}

/* ------------------------------------------------------------------------------------ */
/* Polling */

static void
poll (OddDashboardPage *self)
{
  guint window_s = self->window_minutes * 60;
  guint since;

  if (self->client == NULL || self->pending > 0 || self->minimized)
    return;
  if (self->need_history || self->last_bucket == 0)
    since = window_s;
  else
    since = (guint) CLAMP ((g_get_real_time () - self->last_bucket) / SEC + 2, 2, window_s);
  self->pending = 2;
  odd_client_get_stats_async (self->client, self->cancellable, on_stats, self);
  odd_client_get_series_async (self->client, MIN (since, ODD_CLIENT_SERIES_WINDOW_MAX), self->cancellable,
                               on_series, self);
}

static gboolean
on_poll_timeout (gpointer data)
{
  OddDashboardPage *self = data;

  self->poll_id = 0;
  poll (self);
  return G_SOURCE_REMOVE;
}

static void
odd_dashboard_page_schedule (OddDashboardPage *self)
{
  g_clear_handle_id (&self->poll_id, g_source_remove);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)) && !self->minimized)
    self->poll_id = g_timeout_add_seconds (self->refresh_interval, on_poll_timeout, self);
}

static void
stop_polling (OddDashboardPage *self)
{
  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->pending = 0;
  clear_answers (self);
}

void
odd_dashboard_page_refresh (OddDashboardPage *self)
{
  g_return_if_fail (ODD_IS_DASHBOARD_PAGE (self));

  g_clear_handle_id (&self->poll_id, g_source_remove);
  poll (self);
}

static void
set_charts_live (OddDashboardPage *self,
                 gboolean          live)
{
  odd_chart_set_live (self->throughput_chart, live);
  odd_chart_set_live (self->queue_chart, live);
  odd_chart_set_live (self->latency_chart, live);
}

/* A minimised window is still mapped in GTK's terms: the page asks nothing and its charts
 * stand still until it is back. */
static void
on_surface_state (OddDashboardPage *self)
{
  gboolean minimized = self->surface != NULL &&
                       (gdk_toplevel_get_state (GDK_TOPLEVEL (self->surface)) & GDK_TOPLEVEL_STATE_MINIMIZED) != 0;

  if (minimized == self->minimized)
    return;
  self->minimized = minimized;
  set_charts_live (self, !minimized);
  if (minimized)
    stop_polling (self);
  else
    {
      /* The seconds it missed: the whole window again. */
      self->need_history = TRUE;
      poll (self);
    }
}

static void
odd_dashboard_page_map (GtkWidget *widget)
{
  OddDashboardPage *self = ODD_DASHBOARD_PAGE (widget);
  GdkSurface *surface;

  GTK_WIDGET_CLASS (odd_dashboard_page_parent_class)->map (widget);
  surface = gtk_native_get_surface (gtk_widget_get_native (widget));
  if (GDK_IS_TOPLEVEL (surface))
    {
      g_set_weak_pointer (&self->surface, surface);
      g_signal_connect_object (surface, "notify::state", G_CALLBACK (on_surface_state), self, G_CONNECT_SWAPPED);
      on_surface_state (self);
    }
  /* The charts may have missed seconds while hidden: the whole window again. */
  self->need_history = TRUE;
  poll (self);
}

static void
odd_dashboard_page_unmap (GtkWidget *widget)
{
  OddDashboardPage *self = ODD_DASHBOARD_PAGE (widget);

  if (self->surface != NULL)
    g_signal_handlers_disconnect_by_func (self->surface, on_surface_state, self);
  g_clear_weak_pointer (&self->surface);
  if (self->minimized)
    set_charts_live (self, TRUE);
  self->minimized = FALSE;
  stop_polling (self);
  GTK_WIDGET_CLASS (odd_dashboard_page_parent_class)->unmap (widget);
}

/* ------------------------------------------------------------------------------------ */
/* Export */

typedef struct {
  OddDashboardPage *self;
  OddChart         *chart;
  gboolean          image;
} ExportRequest;

static void
on_saved (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(OddDashboardPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_file_get_basename (G_FILE (source));
  g_autofree char *text = NULL;

  if (g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    text = g_strdup_printf (_("Saved “%s”"), name);
  else
    text = g_strdup_printf (_("Could not save “%s”: %s"), name, error->message);
  add_toast (self, text);
}

static void
export_to (ExportRequest *request,
           GFile         *file)
{
  OddDashboardPage *self = request->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  if (request->image)
    bytes = odd_chart_render_png (request->chart,
                                  MAX (gtk_widget_get_width (GTK_WIDGET (request->chart)), 640) * 2,
                                  MAX (gtk_widget_get_height (GTK_WIDGET (request->chart)), 240) * 2, &error);
  else
    bytes = odd_chart_write_csv (request->chart);
  if (bytes == NULL)
    {
      add_toast (self, error->message);
      return;
    }
  g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION, NULL,
                                       on_saved, g_object_ref (self));
}

static void
export_request_free (ExportRequest *request)
{
  g_clear_object (&request->self);
  g_free (request);
}

#if GTK_CHECK_VERSION (4, 10, 0)
static void
on_save_dialog (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  ExportRequest *request = user_data;
  g_autoptr(GFile) file = gtk_file_dialog_save_finish (GTK_FILE_DIALOG (source), result, NULL);

  if (file != NULL)
    export_to (request, file);
  export_request_free (request);
}
#else
static void
on_native_response (GtkNativeDialog *native,
                    int              response,
                    ExportRequest   *request)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));

      export_to (request, file);
    }
  export_request_free (request);
  g_object_unref (native);
}
#endif

static void
export_chart (OddDashboardPage *self,
              const char       *chart_name,
              gboolean          image)
{
  GtkWidget *chart = odd_dashboard_page_get_chart (self, chart_name);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%d %H.%M.%S");
  g_autofree char *name = g_strdup_printf ("%s %s.%s", chart_name, stamp, image ? "png" : "csv");
  ExportRequest *request;

  if (chart == NULL)
    return;
  request = g_new0 (ExportRequest, 1);
  request->self = g_object_ref (self);
  request->chart = ODD_CHART (chart);
  request->image = image;
#if GTK_CHECK_VERSION (4, 10, 0)
  {
    g_autoptr(GtkFileDialog) dialog = gtk_file_dialog_new ();

    gtk_file_dialog_set_initial_name (dialog, name);
    gtk_file_dialog_save (dialog, GTK_WINDOW (root), NULL, on_save_dialog, request);
  }
#else
  {
    GtkFileChooserNative *native = gtk_file_chooser_native_new (image ? _("Save Chart Image") : _("Save Chart Data"),
                                                                GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                                GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));

    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), name);
    gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
    g_signal_connect (native, "response", G_CALLBACK (on_native_response), request);
    gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
  }
#endif
}

static void
save_image_activated (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  export_chart (user_data, g_variant_get_string (parameter, NULL), TRUE);
}

static void
save_data_activated (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  export_chart (user_data, g_variant_get_string (parameter, NULL), FALSE);
}

static void
window_changed (GSimpleAction *action,
                GVariant      *value,
                gpointer       user_data)
{
  guint64 minutes = g_ascii_strtoull (g_variant_get_string (value, NULL), NULL, 10);

  if (minutes == 1 || minutes == 5 || minutes == 15 || minutes == 60)
    odd_dashboard_page_set_window_minutes (user_data, (guint) minutes);
}

/* ------------------------------------------------------------------------------------ */
/* GObject */

static void
odd_dashboard_page_dispose (GObject *object)
{
  OddDashboardPage *self = ODD_DASHBOARD_PAGE (object);

  stop_polling (self);
  g_clear_weak_pointer (&self->surface);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);
  g_clear_object (&self->actions);
  gtk_widget_dispose_template (GTK_WIDGET (self), ODD_TYPE_DASHBOARD_PAGE);
  G_OBJECT_CLASS (odd_dashboard_page_parent_class)->dispose (object);
}

static void
odd_dashboard_page_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  OddDashboardPage *self = ODD_DASHBOARD_PAGE (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;
    case PROP_REFRESH_INTERVAL:
      g_value_set_uint (value, self->refresh_interval);
      break;
    case PROP_WINDOW_MINUTES:
      g_value_set_uint (value, self->window_minutes);
      break;
    case PROP_REACHABLE:
      g_value_set_boolean (value, self->reachable);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_dashboard_page_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  OddDashboardPage *self = ODD_DASHBOARD_PAGE (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      odd_dashboard_page_set_client (self, g_value_get_object (value));
      break;
    case PROP_REFRESH_INTERVAL:
      self->refresh_interval = MAX (g_value_get_uint (value), 1);
      if (self->poll_id != 0)
        odd_dashboard_page_schedule (self);
      break;
    case PROP_WINDOW_MINUTES:
      odd_dashboard_page_set_window_minutes (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_dashboard_page_class_init (OddDashboardPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = odd_dashboard_page_dispose;
  object_class->get_property = odd_dashboard_page_get_property;
  object_class->set_property = odd_dashboard_page_set_property;
  widget_class->map = odd_dashboard_page_map;
  widget_class->unmap = odd_dashboard_page_unmap;

  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, ODD_TYPE_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REFRESH_INTERVAL] =
    g_param_spec_uint ("refresh-interval", NULL, NULL, 1, 3600, 5,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_WINDOW_MINUTES] =
    g_param_spec_uint ("window-minutes", NULL, NULL, 1, 60, 5,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REACHABLE] =
    g_param_spec_boolean ("reachable", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (ODD_TYPE_CHART);
  /* The app's resource may carry the template already. */
  if (!g_resources_get_info (ODD_RESOURCE_PREFIX "/odd-dashboard-page.ui", G_RESOURCE_LOOKUP_FLAGS_NONE,
                             NULL, NULL, NULL))
    odd_dashboard_register_resource ();
  gtk_widget_class_set_template_from_resource (widget_class, ODD_RESOURCE_PREFIX "/odd-dashboard-page.ui");
  gtk_widget_class_bind_template_child (widget_class, OddDashboardPage, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, OddDashboardPage, banner_label);
  gtk_widget_class_bind_template_child (widget_class, OddDashboardPage, total_label);
  gtk_widget_class_bind_template_child (widget_class, OddDashboardPage, completed_label);
  gtk_widget_class_bind_template_child (widget_class, OddDashboardPage, failed_label);
  gtk_widget_class_bind_template_child (widget_class, OddDashboardPage, in_flight_label);
  gtk_widget_class_bind_template_child (widget_class, OddDashboardPage, throughput_label);
  gtk_widget_class_bind_template_child (widget_class, OddDashboardPage, throughput_chart);
  gtk_widget_class_bind_template_child (widget_class, OddDashboardPage, queue_chart);
  gtk_widget_class_bind_template_child (widget_class, OddDashboardPage, latency_chart);
}

static void
odd_dashboard_page_init (OddDashboardPage *self)
{
  static const GActionEntry entries[] = {
    { .name = "window", .parameter_type = "s", .state = "'5'", .change_state = window_changed },
    { .name = "save-image", .parameter_type = "s", .activate = save_image_activated },
    { .name = "save-data", .parameter_type = "s", .activate = save_data_activated },
  };

  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->refresh_interval = 5;
  self->window_minutes = 5;
  self->need_history = TRUE;

  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), entries, G_N_ELEMENTS (entries), self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "dashboard", G_ACTION_GROUP (self->actions));
  g_signal_connect_object (self->banner_revealer, "notify::child-revealed", G_CALLBACK (on_banner_folded), self,
                           G_CONNECT_SWAPPED);

  odd_chart_add_series (self->throughput_chart, "submitted", _("Submitted"), _("jobs/s"));
  odd_chart_add_series (self->throughput_chart, "completed", _("Completed"), _("jobs/s"));
  odd_chart_add_series (self->throughput_chart, "failed", _("Failed"), _("jobs/s"));
  odd_chart_set_series_color (self->throughput_chart, "submitted", ODD_CHART_COLOR_BLUE);
  odd_chart_set_series_color (self->throughput_chart, "completed", ODD_CHART_COLOR_GREEN);
  odd_chart_set_series_color (self->throughput_chart, "failed", ODD_CHART_COLOR_RED);
  /* Messages, as RabbitMQ counts them: one per job waiting or dead-lettered, one per batch
   * of events not yet applied. */
  odd_chart_add_series (self->queue_chart, "waiting", _("Waiting"), _("messages"));
  odd_chart_add_series (self->queue_chart, "events", _("Events"), _("messages"));
  odd_chart_add_series (self->queue_chart, "dead", _("Dead letters"), _("messages"));
  odd_chart_set_series_color (self->queue_chart, "waiting", ODD_CHART_COLOR_PURPLE);
  odd_chart_set_series_color (self->queue_chart, "events", ODD_CHART_COLOR_BLUE);
  odd_chart_set_series_color (self->queue_chart, "dead", ODD_CHART_COLOR_ORANGE);
  odd_chart_add_series (self->latency_chart, "p50", _("p50"), _("ms"));
  odd_chart_add_series (self->latency_chart, "p95", _("p95"), _("ms"));
  odd_chart_add_series (self->latency_chart, "p99", _("p99"), _("ms"));
  odd_chart_set_series_color (self->latency_chart, "p50", ODD_CHART_COLOR_BLUE);
  odd_chart_set_series_color (self->latency_chart, "p95", ODD_CHART_COLOR_ORANGE);
  odd_chart_set_series_color (self->latency_chart, "p99", ODD_CHART_COLOR_RED);
  odd_dashboard_page_set_window_minutes (self, 5);
}

/* ------------------------------------------------------------------------------------ */
/* API */

GtkWidget *
odd_dashboard_page_new (OddClient *client)
{
  return g_object_new (ODD_TYPE_DASHBOARD_PAGE, "client", client, NULL);
}

void
odd_dashboard_page_set_client (OddDashboardPage *self,
                               OddClient        *client)
{
  g_return_if_fail (ODD_IS_DASHBOARD_PAGE (self));
  g_return_if_fail (client == NULL || ODD_IS_CLIENT (client));

  if (!g_set_object (&self->client, client))
    return;
  stop_polling (self);
  odd_chart_clear (self->throughput_chart);
  odd_chart_clear (self->queue_chart);
  odd_chart_clear (self->latency_chart);
  self->need_history = TRUE;
  self->last_bucket = 0;
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    poll (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIENT]);
}

void
odd_dashboard_page_set_window_minutes (OddDashboardPage *self,
                                       guint             minutes)
{
  g_autofree char *state = NULL;

  g_return_if_fail (ODD_IS_DASHBOARD_PAGE (self));
  g_return_if_fail (minutes == 1 || minutes == 5 || minutes == 15 || minutes == 60);

  odd_chart_set_window (self->throughput_chart, minutes * 60);
  odd_chart_set_window (self->queue_chart, minutes * 60);
  odd_chart_set_window (self->latency_chart, minutes * 60);
  state = g_strdup_printf ("%u", minutes);
  g_simple_action_set_state (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), "window")),
                             g_variant_new_string (state));
  if (self->window_minutes == minutes)
    return;
  self->window_minutes = minutes;
  /* A longer window needs the history it did not fetch yet. */
  self->need_history = TRUE;
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    odd_dashboard_page_refresh (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WINDOW_MINUTES]);
}

guint
odd_dashboard_page_get_window_minutes (OddDashboardPage *self)
{
  g_return_val_if_fail (ODD_IS_DASHBOARD_PAGE (self), 0);
  return self->window_minutes;
}

gboolean
odd_dashboard_page_get_reachable (OddDashboardPage *self)
{
  g_return_val_if_fail (ODD_IS_DASHBOARD_PAGE (self), FALSE);
  return self->reachable;
}

const char *
odd_dashboard_page_get_counter (OddDashboardPage *self,
                                const char       *name)
{
  GtkInscription *label = NULL;

  g_return_val_if_fail (ODD_IS_DASHBOARD_PAGE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if (g_str_equal (name, "total"))
    label = self->total_label;
  else if (g_str_equal (name, "completed"))
    label = self->completed_label;
  else if (g_str_equal (name, "failed"))
    label = self->failed_label;
  else if (g_str_equal (name, "in-flight"))
    label = self->in_flight_label;
  else if (g_str_equal (name, "throughput"))
    label = self->throughput_label;
  return label ? gtk_inscription_get_text (label) : NULL;
}

GtkWidget *
odd_dashboard_page_get_chart (OddDashboardPage *self,
                              const char       *name)
{
  g_return_val_if_fail (ODD_IS_DASHBOARD_PAGE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if (g_str_equal (name, "throughput"))
    return GTK_WIDGET (self->throughput_chart);
  if (g_str_equal (name, "queues"))
    return GTK_WIDGET (self->queue_chart);
  if (g_str_equal (name, "latency"))
    return GTK_WIDGET (self->latency_chart);
  return NULL;
}
