/* odd-notifier.c: desktop notifications when jobs start failing or an alert starts firing
 *
 * SPDX-License-Identifier: MIT
 *
 * Every interval it reads /stats and /alerts. The failure rate is the share of the jobs that
 * finished since the last look which failed; crossing the threshold upwards notifies (staying
 * above does not again). An alert notifies when it starts firing (what fires at the first look
 * is where it starts from). Whatever happens, no more than one notification a minute: the rest
 * is left out (the Dashboard shows it).
 */
#define G_LOG_DOMAIN "odd-notifier"

#include <glib/gi18n.h>

#include "odd-notifier.h"

struct _OddNotifier
{
  GObject        parent_instance;

  GApplication  *application;   /* weak */
  OddClient     *client;
  GCancellable  *cancellable;
  guint          timeout_id;
  guint          interval;
  double         threshold;
  guint          pending;

  gboolean       seen;
  gint64         completed;
  gint64         failed;
  gboolean       above;
  GHashTable    *firing;        /* alert names */
  gint64         last_sent;     /* monotonic µs, 0: never */

  /* One look's answers. */
  OddStats      *stats;
  GPtrArray     *alerts;
};

G_DEFINE_FINAL_TYPE (OddNotifier, odd_notifier, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FAILURE_THRESHOLD,
  PROP_INTERVAL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GNotification *
rate_notification (gint64 finished,
                   gint64 failed)
{
  g_autofree char *title = g_strdup_printf (_("Jobs Are Failing: %.0f %%"), 100.0 * failed / finished);
  g_autofree char *body = g_strdup_printf (ngettext ("%u of the last %u finished job failed.",
                                                     "%u of the last %u finished jobs failed.",
                                                     (gulong) finished),
                                           (guint) failed, (guint) finished);
  GNotification *notification = g_notification_new (title);

  g_notification_set_body (notification, body);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_HIGH);
  return notification;
}

static GNotification *
alert_notification (const char *name,
                    const char *summary)
{
  g_autofree char *title = g_strdup_printf (_("Alert Firing: %s"), name);
  GNotification *notification = g_notification_new (title);

  if (summary != NULL && summary[0] != '\0')
    g_notification_set_body (notification, summary);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_HIGH);
  return notification;
}

GNotification *
odd_notifier_observe (OddNotifier        *self,
                      gint64              completed,
                      gint64              failed,
                      const char * const *firing,
                      const char * const *summaries,
                      gint64              now,
                      const char        **id)
{
  g_autoptr(GNotification) notification = NULL;
  g_autoptr(GHashTable) now_firing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *notification_id = NULL;

  g_return_val_if_fail (ODD_IS_NOTIFIER (self), NULL);

  for (guint i = 0; firing != NULL && firing[i] != NULL; i++)
    {
      g_hash_table_add (now_firing, g_strdup (firing[i]));
      /* The first look only learns what fires already: it did not start now. */
      if (self->seen && notification == NULL && !g_hash_table_contains (self->firing, firing[i]))
        {
          notification = alert_notification (firing[i], summaries != NULL ? summaries[i] : NULL);
          notification_id = "odd-alert";
        }
    }
  g_hash_table_unref (self->firing);
  self->firing = g_steal_pointer (&now_firing);

  if (self->seen && completed >= self->completed && failed >= self->failed)
    {
      gint64 d_failed = failed - self->failed;
      gint64 d_finished = d_failed + completed - self->completed;

      /* Too few to judge: they count with the next ones. */
      if (d_finished < ODD_NOTIFIER_MIN_FINISHED)
        goto rate_done;
      if (self->threshold > 0)
        {
          gboolean above = (double) d_failed / d_finished >= self->threshold;

          if (above && !self->above && notification == NULL)
            {
              notification = rate_notification (d_finished, d_failed);
              notification_id = "odd-failure-rate";
            }
          self->above = above;
        }
    }
  /* The first look, a judged one, or counters that went back (a new stack): start here. */
  self->seen = TRUE;
  self->completed = completed;
  self->failed = failed;
rate_done:

  if (notification == NULL)
    return NULL;
  if (self->last_sent != 0 && now - self->last_sent < ODD_NOTIFIER_QUIET_S * G_USEC_PER_SEC)
    {
      g_debug ("a notification left out: one was sent less than a minute ago");
      return NULL;
    }
  self->last_sent = now;
  if (self->application != NULL)
    g_application_send_notification (self->application, notification_id, notification);
  if (id != NULL)
    *id = notification_id;
  return g_steal_pointer (&notification);
}

/* ------------------------------------------------------------------------------------ */
/* Looking */

static void schedule (OddNotifier *self);

static void
look_done (OddNotifier *self)
{
  if (--self->pending > 0)
    return;
  if (self->stats != NULL)
    {
      g_autoptr(GPtrArray) names = g_ptr_array_new ();
      g_autoptr(GPtrArray) summaries = g_ptr_array_new ();
      g_autoptr(GNotification) notification = NULL;

      for (guint i = 0; self->alerts != NULL && i < self->alerts->len; i++)
        {
          g_ptr_array_add (names, (gpointer) odd_alert_get_name (g_ptr_array_index (self->alerts, i)));
          g_ptr_array_add (summaries, (gpointer) odd_alert_get_summary (g_ptr_array_index (self->alerts, i)));
        }
      g_ptr_array_add (names, NULL);
      g_ptr_array_add (summaries, NULL);
      notification = odd_notifier_observe (self, odd_stats_get_completed (self->stats),
                                           odd_stats_get_failed (self->stats),
                                           (const char * const *) names->pdata,
                                           (const char * const *) summaries->pdata,
                                           g_get_monotonic_time (), NULL);
    }
  g_clear_object (&self->stats);
  g_clear_pointer (&self->alerts, g_ptr_array_unref);
  schedule (self);
}

static void
on_stats (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  OddStats *stats = odd_client_get_stats_finish (ODD_CLIENT (source), result, &error);
  OddNotifier *self = user_data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->stats = stats;
  look_done (self);
}

static void
on_alerts (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *alerts = odd_client_get_alerts_finish (ODD_CLIENT (source), result, &error);
  OddNotifier *self = user_data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->alerts = alerts;
  look_done (self);
}

static gboolean
on_timeout (gpointer data)
{
  OddNotifier *self = data;

  self->timeout_id = 0;
  self->pending = 2;
  odd_client_get_stats_async (self->client, self->cancellable, on_stats, self);
  odd_client_get_alerts_async (self->client, self->cancellable, on_alerts, self);
  return G_SOURCE_REMOVE;
}

static void
schedule (OddNotifier *self)
{
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  if (self->cancellable != NULL)
    self->timeout_id = g_timeout_add_seconds (self->interval, on_timeout, self);
}

void
odd_notifier_start (OddNotifier *self)
{
  g_return_if_fail (ODD_IS_NOTIFIER (self));

  if (self->cancellable != NULL)
    return;
  self->cancellable = g_cancellable_new ();
  schedule (self);
}

void
odd_notifier_stop (OddNotifier *self)
{
  g_return_if_fail (ODD_IS_NOTIFIER (self));

  g_clear_handle_id (&self->timeout_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->stats);
  g_clear_pointer (&self->alerts, g_ptr_array_unref);
  self->pending = 0;
}

/* ------------------------------------------------------------------------------------ */
/* GObject */

static void
odd_notifier_dispose (GObject *object)
{
  OddNotifier *self = ODD_NOTIFIER (object);

  odd_notifier_stop (self);
  g_clear_weak_pointer (&self->application);
  g_clear_object (&self->client);
  g_clear_pointer (&self->firing, g_hash_table_unref);
  G_OBJECT_CLASS (odd_notifier_parent_class)->dispose (object);
}

static void
odd_notifier_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  OddNotifier *self = ODD_NOTIFIER (object);

  switch (prop_id)
    {
    case PROP_FAILURE_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, self->interval);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_notifier_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  OddNotifier *self = ODD_NOTIFIER (object);

  switch (prop_id)
    {
    case PROP_FAILURE_THRESHOLD:
      self->threshold = g_value_get_double (value);
      break;
    case PROP_INTERVAL:
      self->interval = g_value_get_uint (value);
      if (self->timeout_id != 0)
        schedule (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_notifier_class_init (OddNotifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = odd_notifier_dispose;
  object_class->get_property = odd_notifier_get_property;
  object_class->set_property = odd_notifier_set_property;

  properties[PROP_FAILURE_THRESHOLD] =
    g_param_spec_double ("failure-threshold", NULL, NULL, 0, 1, 0.1,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_INTERVAL] =
    g_param_spec_uint ("interval", NULL, NULL, 1, 3600, 5,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
odd_notifier_init (OddNotifier *self)
{
  self->interval = 5;
  self->threshold = 0.1;
  self->firing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/**
 * odd_notifier_new:
 * @application: (nullable): sends the notifications
 */
OddNotifier *
odd_notifier_new (GApplication *application,
                  OddClient    *client)
{
  OddNotifier *self;

  g_return_val_if_fail (application == NULL || G_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (ODD_IS_CLIENT (client), NULL);

  self = g_object_new (ODD_TYPE_NOTIFIER, NULL);
  g_set_weak_pointer (&self->application, application);
  self->client = g_object_ref (client);
  return self;
}
