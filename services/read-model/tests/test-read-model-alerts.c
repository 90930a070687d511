/* Unit tests of the alert rules (odd-alerts.c): no servers, only snapshots. */
#include <string.h>

#include "odd-alerts.h"
#include "odd-ids.h"

#define NOW_SEC 1800000000
#define NOW_USEC ((gint64) NOW_SEC * G_USEC_PER_SEC + 500000)

typedef struct {
  OddSecondBucket  seconds[ODD_ALERT_FAILURE_WINDOW_SEC];
  OddAlertSnapshot snapshot;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  for (guint i = 0; i < G_N_ELEMENTS (f->seconds); i++)
    f->seconds[i] = (OddSecondBucket) { -1, -1, -1, -1 };

  f->snapshot = (OddAlertSnapshot) {
    .now_usec = NOW_USEC,
    .pg_ok = TRUE,
    .redis_ok = TRUE,
    .seconds = f->seconds,
    .n_seconds = G_N_ELEMENTS (f->seconds),
    .first_second = NOW_SEC - ODD_ALERT_FAILURE_WINDOW_SEC + 1,
  };
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
}

/* The bucket of @ago seconds before now. */
static OddSecondBucket *
bucket (Fixture *f,
        guint    ago)
{
  return &f->seconds[G_N_ELEMENTS (f->seconds) - 1 - ago];
}

static JsonArray *
evaluate (Fixture   *f,
          JsonNode **holder)
{
  *holder = odd_alerts_evaluate (&f->snapshot);
  g_assert_nonnull (*holder);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (*holder));
  return json_node_get_array (*holder);
}

static JsonObject *
find (JsonArray  *alerts,
      const char *name,
      const char *service)
{
  for (guint i = 0; i < json_array_get_length (alerts); i++)
    {
      JsonObject *a = json_array_get_object_element (alerts, i);

      if (g_str_equal (json_object_get_string_member (a, "name"), name) &&
          (service == NULL || g_str_equal (json_object_get_string_member (a, "service"), service)))
        return a;
    }
  return NULL;
}

static void
assert_well_formed (JsonArray *alerts)
{
  for (guint i = 0; i < json_array_get_length (alerts); i++)
    {
      JsonObject *a = json_array_get_object_element (alerts, i);
      const char *severity = json_object_get_string_member (a, "severity");
      gint64 since;

      g_assert_true (g_str_equal (severity, "warning") || g_str_equal (severity, "critical"));
      g_assert_cmpstr (json_object_get_string_member (a, "service"), !=, "");
      g_assert_cmpstr (json_object_get_string_member (a, "summary"), !=, "");
      g_assert_true (g_str_has_prefix (json_object_get_string_member (a, "runbook"), "docs/runbooks.md#"));
      g_assert_true (odd_time_parse_rfc3339 (json_object_get_string_member (a, "since"), &since));
      g_assert_cmpint (since, <=, NOW_USEC);
    }
}

static void
test_quiet (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(JsonNode) node = NULL;
  JsonArray *alerts;

  /* Busy but healthy: 1000 completed, 10 failed (1 %). */
  for (guint i = 0; i < 100; i++)
    *bucket (f, i) = (OddSecondBucket) { 10, 10, i < 10 ? 1 : 0, 5 };

  alerts = evaluate (f, &node);
  g_assert_cmpuint (json_array_get_length (alerts), ==, 0);
}

static void
test_failure_rate_thresholds (Fixture       *f,
                              gconstpointer  data)
{
  struct {
    gint64      completed;
    gint64      failed;
    const char *severity;  /* NULL: no alert */
  } cases[] = {
    { 95, 5, NULL },          /* exactly 5 %: not above */
    { 94, 6, "warning" },
    { 80, 20, "warning" },    /* exactly 20 %: not above the critical threshold */
    { 79, 21, "critical" },
    { 10, 9, NULL },          /* 47 % of only 19 jobs: too few to judge */
    { 10, 10, "critical" },   /* 50 % of 20 */
    { 0, 0, NULL },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(JsonNode) node = NULL;
      JsonArray *alerts;
      JsonObject *alert;

      fixture_set_up (f, NULL);
      /* Spread over the window, the first failure 200 s ago. */
      bucket (f, 250)->completed = cases[c].completed;
      bucket (f, 200)->failed = cases[c].failed;

      alerts = evaluate (f, &node);
      assert_well_formed (alerts);
      alert = find (alerts, "FailureRateHigh", "processor");
      if (cases[c].severity == NULL)
        {
          g_assert_null (alert);
          continue;
        }
      g_assert_nonnull (alert);
      g_assert_cmpstr (json_object_get_string_member (alert, "severity"), ==, cases[c].severity);
      g_assert_cmpstr (json_object_get_string_member (alert, "runbook"), ==,
                       "docs/runbooks.md#failure-rate-high");
      {
        g_autofree char *since = odd_time_format_rfc3339 ((gint64) (NOW_SEC - 200) * G_USEC_PER_SEC);
        g_assert_cmpstr (json_object_get_string_member (alert, "since"), ==, since);
      }
    }
}

static void
test_failure_rate_window (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(JsonNode) node = NULL;
  OddSecondBucket old[ODD_ALERT_FAILURE_WINDOW_SEC + 100];
  JsonArray *alerts;

  /* Failures older than five minutes do not count, even when the snapshot holds them. */
  for (guint i = 0; i < G_N_ELEMENTS (old); i++)
    old[i] = (OddSecondBucket) { -1, -1, -1, -1 };
  old[0].failed = 100;
  old[50].completed = 100;
  old[G_N_ELEMENTS (old) - 1].completed = 30;
  f->snapshot.seconds = old;
  f->snapshot.n_seconds = G_N_ELEMENTS (old);
  f->snapshot.first_second = NOW_SEC - G_N_ELEMENTS (old) + 1;

  alerts = evaluate (f, &node);
  g_assert_null (find (alerts, "FailureRateHigh", NULL));
}

static void
test_backlog (Fixture       *f,
              gconstpointer  data)
{
  struct {
    gint64      first;
    gint64      last;
    gboolean    fires;
  } cases[] = {
    { 50, 150, TRUE },
    { 150, 150, FALSE },   /* high but steady */
    { 300, 150, FALSE },   /* high but draining */
    { 10, 100, FALSE },    /* rising to exactly the threshold */
    { 10, 101, TRUE },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(JsonNode) node = NULL;
      JsonArray *alerts;
      JsonObject *alert;

      fixture_set_up (f, NULL);
      bucket (f, 70)->queue_depth = 0;      /* outside the 60 s window: ignored */
      bucket (f, 55)->queue_depth = cases[c].first;
      bucket (f, 30)->queue_depth = (cases[c].first + cases[c].last) / 2;
      bucket (f, 0)->queue_depth = cases[c].last;

      alerts = evaluate (f, &node);
      assert_well_formed (alerts);
      alert = find (alerts, "QueueBacklogGrowing", NULL);
      g_assert_true ((alert != NULL) == cases[c].fires);
      if (alert != NULL)
        {
          g_assert_cmpstr (json_object_get_string_member (alert, "severity"), ==, "warning");
          g_assert_cmpstr (json_object_get_string_member (alert, "runbook"), ==,
                           "docs/runbooks.md#queue-backlog-growing");
          g_assert_nonnull (strstr (json_object_get_string_member (alert, "summary"), "jobs.created"));
        }
    }

  /* One sample is no trend. */
  {
    g_autoptr(JsonNode) node = NULL;

    fixture_set_up (f, NULL);
    bucket (f, 0)->queue_depth = 500;
    g_assert_null (find (evaluate (f, &node), "QueueBacklogGrowing", NULL));
  }
}

static void
test_services (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(JsonNode) node = NULL;
  OddServiceState services[] = {
    { "gateway", TRUE, FALSE, "HTTP 503: RabbitMQ not connected", NOW_USEC - 30 * G_USEC_PER_SEC },
    { "processor", TRUE, TRUE, NULL, 0 },
    { "metrics-engine", FALSE, FALSE, NULL, 0 },   /* not probed yet: no verdict */
  };
  JsonArray *alerts;
  JsonObject *alert;

  f->snapshot.services = services;
  f->snapshot.n_services = G_N_ELEMENTS (services);

  alerts = evaluate (f, &node);
  assert_well_formed (alerts);
  g_assert_cmpuint (json_array_get_length (alerts), ==, 1);
  alert = find (alerts, "ServiceNotReady", "gateway");
  g_assert_nonnull (alert);
  g_assert_cmpstr (json_object_get_string_member (alert, "severity"), ==, "critical");
  g_assert_nonnull (strstr (json_object_get_string_member (alert, "summary"), "RabbitMQ not connected"));
  g_assert_cmpstr (json_object_get_string_member (alert, "runbook"), ==, "docs/runbooks.md#service-not-ready");
  {
    g_autofree char *since = odd_time_format_rfc3339 (NOW_USEC - 30 * G_USEC_PER_SEC);
    g_assert_cmpstr (json_object_get_string_member (alert, "since"), ==, since);
  }
}

/* Replicas ("processor-2"): a service is down only when none of its replicas is ready; a
 * replica that answers "not ready" while another serves stands by; one that does not answer
 * is a warning. */
static void
test_service_replicas (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(JsonNode) node = NULL;
  OddServiceState services[] = {
    { "metrics-engine", TRUE, FALSE, "HTTP 503: waiting for the event store lock", NOW_USEC - 60 * G_USEC_PER_SEC },
    { "metrics-engine-2", TRUE, TRUE, NULL, 0 },
    { "processor", TRUE, TRUE, NULL, 0 },
    { "processor-2", TRUE, FALSE, "Could not connect: Connection refused", NOW_USEC - 5 * G_USEC_PER_SEC },
    { "gateway", TRUE, FALSE, "HTTP 503: RabbitMQ not connected", NOW_USEC - 30 * G_USEC_PER_SEC },
    { "gateway-2", TRUE, FALSE, "Could not connect: Connection refused", NOW_USEC - 30 * G_USEC_PER_SEC },
    { "read-model-x", TRUE, FALSE, "HTTP 503: starting", NOW_USEC },  /* not a replica name */
    { "read-model", TRUE, TRUE, NULL, 0 },
  };
  JsonArray *alerts;
  JsonObject *alert;

  f->snapshot.services = services;
  f->snapshot.n_services = G_N_ELEMENTS (services);

  alerts = evaluate (f, &node);
  assert_well_formed (alerts);
  g_assert_null (find (alerts, "ServiceNotReady", "metrics-engine"));
  g_assert_null (find (alerts, "ServiceReplicaDown", "metrics-engine"));
  alert = find (alerts, "ServiceReplicaDown", "processor-2");
  g_assert_nonnull (alert);
  g_assert_cmpstr (json_object_get_string_member (alert, "severity"), ==, "warning");
  g_assert_null (find (alerts, "ServiceNotReady", "processor-2"));
  /* no gateway replica ready: both critical */
  g_assert_nonnull (find (alerts, "ServiceNotReady", "gateway"));
  g_assert_nonnull (find (alerts, "ServiceNotReady", "gateway-2"));
  g_assert_nonnull (find (alerts, "ServiceNotReady", "read-model-x"));
  g_assert_cmpuint (json_array_get_length (alerts), ==, 4);
}

static void
test_database_down (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(JsonNode) node = NULL;
  JsonArray *alerts;
  JsonObject *alert;

  f->snapshot.pg_ok = FALSE;
  f->snapshot.pg_error = "Connection refused";
  f->snapshot.pg_down_since_usec = NOW_USEC - 10 * G_USEC_PER_SEC;
  /* What PostgreSQL said before it went away must not raise a dead-letter alert. */
  f->snapshot.dead_letters_recent = 3;

  alerts = evaluate (f, &node);
  assert_well_formed (alerts);
  alert = find (alerts, "DatabaseDown", "postgres");
  g_assert_nonnull (alert);
  g_assert_cmpstr (json_object_get_string_member (alert, "severity"), ==, "critical");
  g_assert_cmpstr (json_object_get_string_member (alert, "runbook"), ==, "docs/runbooks.md#database-down");
  g_assert_nonnull (strstr (json_object_get_string_member (alert, "summary"), "Connection refused"));
  alert = find (alerts, "ServiceNotReady", "read-model");
  g_assert_nonnull (alert);
  g_assert_nonnull (strstr (json_object_get_string_member (alert, "summary"), "PostgreSQL"));
  g_assert_null (find (alerts, "DeadLettersGrowing", NULL));
  g_assert_cmpuint (json_array_get_length (alerts), ==, 2);
}

static void
test_redis_down (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(JsonNode) node = NULL;
  JsonArray *alerts;
  JsonObject *alert;

  /* Buckets read before Redis failed must not be judged. */
  for (guint i = 0; i < 100; i++)
    *bucket (f, i) = (OddSecondBucket) { 1, 1, 5, 500 + i };
  f->snapshot.redis_ok = FALSE;
  f->snapshot.redis_error = "Connection refused";
  f->snapshot.redis_down_since_usec = NOW_USEC - G_USEC_PER_SEC;

  alerts = evaluate (f, &node);
  assert_well_formed (alerts);
  g_assert_cmpuint (json_array_get_length (alerts), ==, 1);
  alert = find (alerts, "ServiceNotReady", "read-model");
  g_assert_nonnull (alert);
  g_assert_nonnull (strstr (json_object_get_string_member (alert, "summary"), "Redis"));
}

static void
test_dead_letters (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(JsonNode) node = NULL;
  JsonArray *alerts;
  JsonObject *alert;

  f->snapshot.dead_letters_recent = 2;
  f->snapshot.dead_letters_oldest_usec = NOW_USEC - 120 * G_USEC_PER_SEC;

  alerts = evaluate (f, &node);
  assert_well_formed (alerts);
  alert = find (alerts, "DeadLettersGrowing", NULL);
  g_assert_nonnull (alert);
  g_assert_cmpstr (json_object_get_string_member (alert, "severity"), ==, "warning");
  g_assert_cmpstr (json_object_get_string_member (alert, "runbook"), ==, "docs/runbooks.md#dead-letters-growing");
  g_assert_nonnull (strstr (json_object_get_string_member (alert, "summary"), "2 messages"));
  {
    g_autofree char *since = odd_time_format_rfc3339 (NOW_USEC - 120 * G_USEC_PER_SEC);
    g_assert_cmpstr (json_object_get_string_member (alert, "since"), ==, since);
  }
}

static void
test_order (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(JsonNode) node = NULL;
  OddServiceState services[] = {
    { "processor", TRUE, FALSE, "no answer", NOW_USEC },
  };
  JsonArray *alerts;
  const char *last_severity = "critical";

  f->snapshot.services = services;
  f->snapshot.n_services = 1;
  f->snapshot.dead_letters_recent = 1;
  bucket (f, 40)->queue_depth = 200;
  bucket (f, 0)->queue_depth = 400;
  bucket (f, 10)->completed = 10;
  bucket (f, 10)->failed = 40;

  alerts = evaluate (f, &node);
  assert_well_formed (alerts);
  g_assert_cmpuint (json_array_get_length (alerts), ==, 4);
  /* Critical first. */
  for (guint i = 0; i < json_array_get_length (alerts); i++)
    {
      const char *severity = json_object_get_string_member (json_array_get_object_element (alerts, i), "severity");

      if (g_str_equal (last_severity, "warning"))
        g_assert_cmpstr (severity, ==, "warning");
      last_severity = severity;
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/read-model/alerts/quiet", test_quiet);
  ADD ("/read-model/alerts/failure-rate/thresholds", test_failure_rate_thresholds);
  ADD ("/read-model/alerts/failure-rate/window", test_failure_rate_window);
  ADD ("/read-model/alerts/backlog", test_backlog);
  ADD ("/read-model/alerts/services", test_services);
  ADD ("/read-model/alerts/service-replicas", test_service_replicas);
  ADD ("/read-model/alerts/database-down", test_database_down);
  ADD ("/read-model/alerts/redis-down", test_redis_down);
  ADD ("/read-model/alerts/dead-letters", test_dead_letters);
  ADD ("/read-model/alerts/order", test_order);
#undef ADD

  return g_test_run ();
}
