#define G_LOG_DOMAIN "odd-alerts"

#include "odd-ids.h"
#include "odd-alerts.h"

#include <string.h>

typedef struct {
  const char *name;
  const char *severity;
  char       *service;
  char       *summary;
  gint64      since_usec;
  const char *runbook;
} Alert;

static void
alert_clear (gpointer data)
{
  Alert *alert = data;

  g_free (alert->service);
  g_free (alert->summary);
}

static void
add_alert (GArray     *alerts,
           const char *name,
           const char *severity,
           const char *service,
           gint64      since_usec,
           const char *runbook,
           char       *summary)
{
  Alert alert = {
    .name = name,
    .severity = severity,
    .service = g_strdup (service),
    .summary = summary,
    .since_usec = since_usec,
    .runbook = runbook,
  };

  g_array_append_val (alerts, alert);
}

static int
severity_rank (const char *severity)
{
  return g_str_equal (severity, "critical") ? 0 : 1;
}

static int
compare_alerts (gconstpointer a,
                gconstpointer b)
{
  const Alert *x = a;
  const Alert *y = b;
  int r;

  if ((r = severity_rank (x->severity) - severity_rank (y->severity)) != 0)
    return r;
  if ((r = g_strcmp0 (x->name, y->name)) != 0)
    return r;
  return g_strcmp0 (x->service, y->service);
}

static gint64
second_usec (gint64 second)
{
  return second * G_USEC_PER_SEC;
}

static void
check_failure_rate (const OddAlertSnapshot *s,
                    GArray                 *alerts)
{
  gint64 now_sec = s->now_usec / G_USEC_PER_SEC;
  gint64 completed = 0;
  gint64 failed = 0;
  gint64 first_failure = -1;
  double rate;
  const char *severity;

  for (guint i = 0; i < s->n_seconds; i++)
    {
      const OddSecondBucket *b = &s->seconds[i];
      gint64 t = s->first_second + i;

      if (t <= now_sec - ODD_ALERT_FAILURE_WINDOW_SEC || t > now_sec)
        continue;
      if (b->completed > 0)
        completed += b->completed;
      if (b->failed > 0)
        {
          failed += b->failed;
          if (first_failure < 0)
            first_failure = t;
        }
    }

  /* A handful of jobs says nothing about a rate. */
  if (completed + failed < ODD_ALERT_FAILURE_MIN_TERMINAL || failed == 0)
    return;

  rate = (double) failed / (double) (completed + failed);
  if (rate > ODD_ALERT_FAILURE_CRITICAL)
    severity = "critical";
  else if (rate > ODD_ALERT_FAILURE_WARNING)
    severity = "warning";
  else
    return;

  add_alert (alerts, "FailureRateHigh", severity, "processor", second_usec (first_failure),
             "docs/runbooks.md#failure-rate-high",
             g_strdup_printf ("%.1f%% of %" G_GINT64_FORMAT " jobs failed in the last %d minutes "
                              "(warning above %.0f%%, critical above %.0f%%)",
                              rate * 100.0, completed + failed, ODD_ALERT_FAILURE_WINDOW_SEC / 60,
                              ODD_ALERT_FAILURE_WARNING * 100.0,
                              ODD_ALERT_FAILURE_CRITICAL * 100.0));
}

static void
check_backlog (const OddAlertSnapshot *s,
               GArray                 *alerts)
{
  gint64 now_sec = s->now_usec / G_USEC_PER_SEC;
  gint64 first_depth = -1;
  gint64 first_t = 0;
  gint64 last_depth = -1;
  guint samples = 0;

  for (guint i = 0; i < s->n_seconds; i++)
    {
      gint64 t = s->first_second + i;
      gint64 depth = s->seconds[i].queue_depth;

      if (t <= now_sec - ODD_ALERT_BACKLOG_WINDOW_SEC || t > now_sec || depth < 0)
        continue;
      if (first_depth < 0)
        {
          first_depth = depth;
          first_t = t;
        }
      last_depth = depth;
      samples++;
    }

  /* Growing means: above the threshold now, and more than at the start of the window. */
  if (samples < 2 || last_depth <= ODD_ALERT_BACKLOG_THRESHOLD || last_depth <= first_depth)
    return;

  add_alert (alerts, "QueueBacklogGrowing", "warning", "rabbitmq", second_usec (first_t),
             "docs/runbooks.md#queue-backlog-growing",
             g_strdup_printf ("jobs.created holds %" G_GINT64_FORMAT " messages, up from %"
                              G_GINT64_FORMAT " %" G_GINT64_FORMAT " s ago",
                              last_depth, first_depth, now_sec - first_t));
}

/* The length of the service part of a probe name: "processor-2" is replica 2 of
 * "processor" (the local stack's names); "metrics-engine" is itself. */
static gsize
service_name_length (const char *name)
{
  const char *dash = strrchr (name, '-');
  gsize len = strlen (name);

  if (dash == NULL || dash[1] == '\0')
    return len;
  for (const char *p = dash + 1; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p))
      return len;
  return (gsize) (dash - name);
}

static gboolean
same_service (const char *a,
              const char *b)
{
  gsize len = service_name_length (a);

  return len == service_name_length (b) && strncmp (a, b, len) == 0;
}

static void
check_services (const OddAlertSnapshot *s,
                GArray                 *alerts)
{
  g_autoptr(GString) reasons = g_string_new (NULL);
  gint64 since = 0;

  for (guint i = 0; i < s->n_services; i++)
    {
      const OddServiceState *svc = &s->services[i];
      gboolean sibling_ready = FALSE;

      if (!svc->probed || svc->ready)
        continue;

      for (guint j = 0; j < s->n_services && !sibling_ready; j++)
        sibling_ready = j != i && s->services[j].probed && s->services[j].ready &&
                        same_service (svc->name, s->services[j].name);

      if (!sibling_ready)
        add_alert (alerts, "ServiceNotReady", "critical", svc->name, svc->since_usec,
                   "docs/runbooks.md#service-not-ready",
                   g_strdup_printf ("%s is not ready: %s", svc->name,
                                    svc->reason ? svc->reason : "no answer"));
      /* Another replica serves. One that answers "not ready" stands by (a metrics-engine
       * waiting for the event store lock): no alert. One that does not answer is down: the
       * service runs with fewer replicas than asked for (ServiceReplicaDown, as Prometheus
       * names it in a cluster). */
      else if (svc->reason == NULL || !g_str_has_prefix (svc->reason, "HTTP "))
        add_alert (alerts, "ServiceReplicaDown", "warning", svc->name, svc->since_usec,
                   "docs/runbooks.md#service-replica-down",
                   g_strdup_printf ("%s does not answer (other replicas serve): %s", svc->name,
                                    svc->reason ? svc->reason : "no answer"));
    }

  /* The read model judges itself by its own connections. */
  if (!s->pg_ok)
    {
      g_string_append_printf (reasons, "PostgreSQL: %s", s->pg_error ? s->pg_error : "unreachable");
      since = s->pg_down_since_usec;
    }
  if (!s->redis_ok)
    {
      if (reasons->len > 0)
        g_string_append (reasons, "; ");
      g_string_append_printf (reasons, "Redis: %s", s->redis_error ? s->redis_error : "unreachable");
      if (since == 0 || (s->redis_down_since_usec > 0 && s->redis_down_since_usec < since))
        since = s->redis_down_since_usec;
    }
  if (reasons->len > 0)
    add_alert (alerts, "ServiceNotReady", "critical", "read-model", since,
               "docs/runbooks.md#service-not-ready",
               g_strdup_printf ("read-model is not ready: %s", reasons->str));
}

static void
check_dead_letters (const OddAlertSnapshot *s,
                    GArray                 *alerts)
{
  if (!s->pg_ok || s->dead_letters_recent <= 0)
    return;

  add_alert (alerts, "DeadLettersGrowing", "warning", "processor", s->dead_letters_oldest_usec,
             "docs/runbooks.md#dead-letters-growing",
             g_strdup_printf ("%" G_GINT64_FORMAT " message%s dead-lettered in the last %d minutes",
                              s->dead_letters_recent, s->dead_letters_recent == 1 ? "" : "s",
                              ODD_ALERT_DEAD_LETTER_WINDOW_SEC / 60));
}

static void
check_database (const OddAlertSnapshot *s,
                GArray                 *alerts)
{
  if (s->pg_ok)
    return;

  add_alert (alerts, "DatabaseDown", "critical", "postgres", s->pg_down_since_usec,
             "docs/runbooks.md#database-down",
             g_strdup_printf ("PostgreSQL is unreachable: %s",
                              s->pg_error ? s->pg_error : "no connection"));
}

JsonNode *
odd_alerts_evaluate (const OddAlertSnapshot *snapshot)
{
  g_autoptr(GArray) alerts = g_array_new (FALSE, TRUE, sizeof (Alert));
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (snapshot != NULL, NULL);

  g_array_set_clear_func (alerts, alert_clear);

  if (snapshot->redis_ok)
    {
      check_failure_rate (snapshot, alerts);
      check_backlog (snapshot, alerts);
    }
  check_services (snapshot, alerts);
  check_dead_letters (snapshot, alerts);
  check_database (snapshot, alerts);

  g_array_sort (alerts, compare_alerts);

  json_builder_begin_array (builder);
  for (guint i = 0; i < alerts->len; i++)
    {
      const Alert *alert = &g_array_index (alerts, Alert, i);
      gint64 since = alert->since_usec > 0 ? alert->since_usec : snapshot->now_usec;
      g_autofree char *since_text = odd_time_format_rfc3339 (since);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, alert->name);
      json_builder_set_member_name (builder, "severity");
      json_builder_add_string_value (builder, alert->severity);
      json_builder_set_member_name (builder, "service");
      json_builder_add_string_value (builder, alert->service);
      json_builder_set_member_name (builder, "summary");
      json_builder_add_string_value (builder, alert->summary);
      json_builder_set_member_name (builder, "since");
      json_builder_add_string_value (builder, since_text);
      json_builder_set_member_name (builder, "runbook");
      json_builder_add_string_value (builder, alert->runbook);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  return json_builder_get_root (builder);
}
