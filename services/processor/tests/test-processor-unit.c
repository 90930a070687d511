#define G_LOG_DOMAIN "test-processor-unit"

#include "odd-processor-private.h"

#include <string.h>

static OddSchemaRegistry *registry;

static void
test_draw_range (void)
{
  for (int i = 0; i < 1000; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      double d = odd_processor_draw (id, 0, 1);

      g_assert_cmpfloat (d, >=, 0.0);
      g_assert_cmpfloat (d, <, 1.0);
    }
}

static void
test_outcome_deterministic (void)
{
  OddSimulation sim = { 0, 0.5, 0 };
  guint differ = 0;

  for (int i = 0; i < 1000; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      g_autofree char *e1 = NULL;
      g_autofree char *e2 = NULL;
      gboolean a = odd_processor_attempt_outcome (id, 0, 1, &sim, &e1);
      gboolean b = odd_processor_attempt_outcome (id, 0, 1, &sim, &e2);

      g_assert_cmpint (a, ==, b);
      g_assert_cmpstr (e1, ==, e2);
      g_assert_true (a == (e1 == NULL));
      g_assert_cmpfloat (odd_processor_draw (id, 0, 1), ==, odd_processor_draw (id, 0, 1));
      /* Another generation or attempt is another draw. */
      if (odd_processor_draw (id, 1, 1) != odd_processor_draw (id, 0, 1))
        differ++;
    }
  g_assert_cmpuint (differ, ==, 1000);
}

static void
test_outcome_fail_attempts (void)
{
  OddSimulation sim = { 0, 0.0, 2 };
  g_autofree char *error = NULL;

  g_assert_false (odd_processor_attempt_outcome ("a", 0, 1, &sim, &error));
  g_assert_nonnull (strstr (error, "attempt 1"));
  g_clear_pointer (&error, g_free);
  g_assert_false (odd_processor_attempt_outcome ("a", 0, 2, &sim, &error));
  g_assert_nonnull (error);
  g_clear_pointer (&error, g_free);
  g_assert_true (odd_processor_attempt_outcome ("a", 0, 3, &sim, &error));
  g_assert_null (error);
  g_assert_true (odd_processor_attempt_outcome ("a", 5, 4, &sim, NULL));

  sim.fail_attempts = 0;
  g_assert_true (odd_processor_attempt_outcome ("a", 0, 1, &sim, NULL));
}

static guint
count_failures (double rate)
{
  OddSimulation sim = { 0, rate, 0 };
  guint failures = 0;

  for (int i = 0; i < 10000; i++)
    {
      g_autofree char *name = g_strdup_printf ("job-%d", i);
      g_autofree char *id = odd_uuid_v5 (ODD_EVENT_NAMESPACE, name);

      if (!odd_processor_attempt_outcome (id, 0, 1, &sim, NULL))
        failures++;
    }
  return failures;
}

static void
test_outcome_fail_rate (void)
{
  guint n;

  g_assert_cmpuint (count_failures (0.0), ==, 0);
  g_assert_cmpuint (count_failures (1.0), ==, 10000);

  /* Binomial(10000, p): 3 % is more than six standard deviations at every p below. */
  n = count_failures (0.3);
  g_assert_cmpuint (n, >=, 2700);
  g_assert_cmpuint (n, <=, 3300);
  n = count_failures (0.5);
  g_assert_cmpuint (n, >=, 4700);
  g_assert_cmpuint (n, <=, 5300);
  n = count_failures (0.05);
  g_assert_cmpuint (n, >=, 350);
  g_assert_cmpuint (n, <=, 650);
}

static void
test_backoff (void)
{
  g_assert_cmpuint (odd_processor_retry_backoff_ms (100, 1), ==, 100);
  g_assert_cmpuint (odd_processor_retry_backoff_ms (100, 2), ==, 200);
  g_assert_cmpuint (odd_processor_retry_backoff_ms (100, 3), ==, 400);
  g_assert_cmpuint (odd_processor_retry_backoff_ms (100, 9), ==, 25600);
  g_assert_cmpuint (odd_processor_retry_backoff_ms (100, 10), ==, 30000);
  g_assert_cmpuint (odd_processor_retry_backoff_ms (100, 100), ==, 30000);
  g_assert_cmpuint (odd_processor_retry_backoff_ms (30000, 1), ==, 30000);
  g_assert_cmpuint (odd_processor_retry_backoff_ms (0, 5), ==, 0);
  g_assert_cmpuint (odd_processor_retry_backoff_ms (7, 0), ==, 7);
}

static void
test_event_ids (void)
{
  const char *job = "0b1e4c5e-6a51-4a43-9d0f-5b2a1c3d4e5f";
  g_autofree char *key = odd_processor_event_key (job, 2, "job.executed", 3);
  g_autofree char *key0 = odd_processor_event_key (job, 0, "job.validated", 0);
  g_autofree char *a = odd_processor_event_id (job, 0, "job.validated", 0);
  g_autofree char *b = odd_processor_event_id (job, 0, "job.validated", 0);
  g_autofree char *expected = odd_uuid_v5 (ODD_EVENT_NAMESPACE, key0);
  g_autofree char *gen1 = odd_processor_event_id (job, 1, "job.validated", 0);
  g_autofree char *att1 = odd_processor_event_id (job, 0, "job.executed", 1);
  g_autofree char *att2 = odd_processor_event_id (job, 0, "job.executed", 2);

  g_assert_cmpstr (key, ==, "0b1e4c5e-6a51-4a43-9d0f-5b2a1c3d4e5f/2/job.executed/3");
  g_assert_cmpstr (key0, ==, "0b1e4c5e-6a51-4a43-9d0f-5b2a1c3d4e5f/0/job.validated");
  g_assert_true (odd_uuid_is_valid (a));
  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (a, ==, expected);
  g_assert_cmpstr (a, !=, gen1);
  g_assert_cmpstr (att1, !=, att2);
  g_assert_cmpstr (a, !=, att1);
}

static void
test_scheduler_order (void)
{
  g_autoptr(OddScheduler) s = odd_scheduler_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  gint64 due, last = G_MININT64;
  guint n = 0;

  g_assert_false (odd_scheduler_next_due (s, &due));
  g_assert_null (odd_scheduler_pop_due (s, G_MAXINT64));

  for (int i = 0; i < 2000; i++)
    {
      gint64 *value = g_new (gint64, 1);

      *value = g_rand_int_range (rand, 0, 500);
      odd_scheduler_add (s, *value, value);
    }
  g_assert_cmpuint (odd_scheduler_size (s), ==, 2000);

  /* Nothing is due before the earliest item. */
  g_assert_true (odd_scheduler_next_due (s, &due));
  g_assert_null (odd_scheduler_pop_due (s, due - 1));

  for (;;)
    {
      g_autofree gint64 *value = odd_scheduler_pop_due (s, 250);

      if (value == NULL)
        break;
      g_assert_cmpint (*value, >=, last);
      g_assert_cmpint (*value, <=, 250);
      last = *value;
      n++;
    }
  g_assert_true (odd_scheduler_next_due (s, &due));
  g_assert_cmpint (due, >, 250);

  for (;;)
    {
      g_autofree gint64 *value = odd_scheduler_pop_due (s, G_MAXINT64);

      if (value == NULL)
        break;
      g_assert_cmpint (*value, >=, last);
      last = *value;
      n++;
    }
  g_assert_cmpuint (n, ==, 2000);
  g_assert_cmpuint (odd_scheduler_size (s), ==, 0);
}

static void
test_scheduler_fifo (void)
{
  g_autoptr(OddScheduler) s = odd_scheduler_new ();
  static int items[100];

  for (int i = 0; i < 100; i++)
    odd_scheduler_add (s, i % 2 == 0 ? 10 : 5, &items[i]);

  /* Items due at the same time come out in insertion order: odd indexes first (due 5). */
  for (int i = 1; i < 100; i += 2)
    g_assert_true (odd_scheduler_pop_due (s, 10) == &items[i]);
  for (int i = 0; i < 100; i += 2)
    g_assert_true (odd_scheduler_pop_due (s, 10) == &items[i]);
  g_assert_null (odd_scheduler_pop_due (s, 10));

  odd_scheduler_add (s, 1, &items[0]);
  odd_scheduler_clear (s);
  g_assert_cmpuint (odd_scheduler_size (s), ==, 0);
}

static void
assert_valid (const char *schema,
              JsonNode   *instance)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) errors = odd_schema_registry_validate (registry, schema, instance, &error);
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  text = odd_validation_errors_to_string (errors);
  if (errors->len > 0)
    g_error ("not a valid %s: %s", schema, text);
}

static OddJobRun *
sample_run (void)
{
  OddJobRun *run = odd_job_run_new ("0b1e4c5e-6a51-4a43-9d0f-5b2a1c3d4e5f");

  run->type = g_strdup ("report");
  run->payload = odd_json_parse ("{\"simulate\":{\"failAttempts\":1},\"x\":1}", -1, NULL);
  run->metadata = odd_json_parse ("{\"source\":\"test\",\"attempt\":99}", -1, NULL);
  run->created_at = g_strdup ("2026-01-02T03:04:05.678Z");
  run->correlation_id = g_strdup ("a7c1d4e2-1111-4222-8333-944455556666");
  run->generation = 1;
  return run;
}

static void
test_event_envelope (void)
{
  g_autoptr(OddJobRun) run = sample_run ();
  OddProducer producer = { "processor", "host-1", "0.1.0" };
  OddEventDetails details = { 2, "error", "boom", "EXECUTING", 2, "boom" };
  g_autofree char *event_id = NULL;
  g_autofree char *expected_id = odd_processor_event_id (run->id, 1, "job.executed", 2);
  g_autoptr(JsonNode) envelope = odd_processor_event_new (run, "job.executed", &details,
                                                          &producer, &event_id);
  JsonObject *e = json_node_get_object (envelope);
  JsonObject *job = json_object_get_object_member (e, "payload");
  JsonObject *metadata = json_object_get_object_member (job, "metadata");

  assert_valid ("event-envelope", envelope);
  assert_valid ("job", json_object_get_member (e, "payload"));

  g_assert_cmpstr (event_id, ==, expected_id);
  g_assert_cmpstr (json_object_get_string_member (e, "eventId"), ==, expected_id);
  g_assert_cmpstr (json_object_get_string_member (e, "eventType"), ==, "job.executed");
  g_assert_cmpstr (json_object_get_string_member (e, "idempotencyKey"), ==,
                   "0b1e4c5e-6a51-4a43-9d0f-5b2a1c3d4e5f/1/job.executed/2");
  g_assert_cmpstr (json_object_get_string_member (e, "correlationId"), ==, run->correlation_id);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (e, "producer"),
                                                  "service"), ==, "processor");
  g_assert_cmpstr (json_object_get_string_member (job, "status"), ==, "EXECUTING");
  g_assert_cmpint (json_object_get_int_member (job, "attempts"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (job, "generation"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (job, "lastError"), ==, "boom");
  g_assert_cmpstr (json_object_get_string_member (job, "createdAt"), ==, run->created_at);
  g_assert_cmpint (json_object_get_int_member (metadata, "attempt"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (metadata, "outcome"), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (metadata, "error"), ==, "boom");
  g_assert_cmpstr (json_object_get_string_member (metadata, "source"), ==, "test");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (e, "metadata"),
                                               "attempt"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (
                     json_object_get_object_member (job, "payload"), "x"), ==, 1);
}

static void
test_event_terminal (void)
{
  g_autoptr(OddJobRun) run = sample_run ();
  OddProducer producer = { "processor", "host-1", "0.1.0" };
  OddEventDetails details = { 0, NULL, NULL, "COMPLETED", 2, NULL };
  g_autoptr(JsonNode) envelope = odd_processor_event_new (run, "job.completed", &details,
                                                          &producer, NULL);
  JsonObject *job = json_object_get_object_member (json_node_get_object (envelope), "payload");

  assert_valid ("event-envelope", envelope);
  g_assert_false (json_object_has_member (json_node_get_object (envelope), "metadata"));
  g_assert_false (json_object_has_member (job, "lastError"));
  g_assert_cmpstr (json_object_get_string_member (job, "status"), ==, "COMPLETED");
  /* The job's own metadata passes through untouched when the event is not an attempt. */
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (job, "metadata"),
                                               "attempt"), ==, 99);
}

static void
test_dead_letter (void)
{
  g_autoptr(JsonNode) original = odd_json_parse ("{\"a\":1}", -1, NULL);
  g_autoptr(JsonNode) dl = odd_processor_dead_letter_new (original, "bad", NULL, "invalid",
                                                          "jobs.created", NULL, -1, NULL);
  g_autoptr(JsonNode) dl2 = odd_processor_dead_letter_new (original, "gone", "c", "retries_exhausted",
                                                           "jobs.created",
                                                           "0b1e4c5e-6a51-4a43-9d0f-5b2a1c3d4e5f", 3, NULL);
  g_autoptr(JsonNode) dl3 = odd_processor_dead_letter_new (original, "index row too big", "c",
                                                           "storage_refused", "jobs.created",
                                                           "0b1e4c5e-6a51-4a43-9d0f-5b2a1c3d4e5f",
                                                           -1, "54000");
  g_autoptr(JsonNode) dl4 = odd_processor_dead_letter_new (original, "redelivered 6 times", "c",
                                                           "redelivered_too_often", "jobs.created",
                                                           NULL, -1, NULL);
  JsonObject *o = json_node_get_object (dl);

  assert_valid ("dead-letter", dl);
  assert_valid ("dead-letter", dl2);
  assert_valid ("dead-letter", dl3);
  assert_valid ("dead-letter", dl4);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (dl3), "sqlstate"), ==,
                   "54000");
  g_assert_false (json_object_has_member (o, "sqlstate"));
  g_assert_cmpstr (json_object_get_string_member (o, "correlation_id"), ==, "unknown");
  g_assert_cmpstr (json_object_get_string_member (o, "service"), ==, "processor");
  g_assert_false (json_object_has_member (o, "job_id"));
  g_assert_false (json_object_has_member (o, "generation"));
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (dl2), "generation"), ==, 3);
}

static char *
created_message (const char *simulate)
{
  g_autofree char *id = odd_uuid_new ();

  return g_strdup_printf ("{\"contractVersion\":\"1.0.0\",\"eventType\":\"job.created\","
                          "\"eventId\":\"%s\",\"occurredAt\":\"2026-01-02T03:04:05Z\","
                          "\"producer\":{\"service\":\"gateway\",\"instanceId\":\"g\",\"version\":\"0.1.0\"},"
                          "\"correlationId\":\"a7c1d4e2-1111-4222-8333-944455556666\","
                          "\"idempotencyKey\":\"k\",\"payload\":{\"id\":\"%s\",\"type\":\"t\","
                          "\"status\":\"PENDING\",\"createdAt\":\"2026-01-02T04:04:05+01:00\","
                          "\"payload\":{%s%s%s},\"metadata\":{\"retryGeneration\":2}}}",
                          id, id, simulate != NULL ? "\"simulate\":" : "",
                          simulate != NULL ? simulate : "", "");
}

static void
test_intake_valid (void)
{
  g_autofree char *body = created_message ("{\"durationMs\":5,\"failAttempts\":1}");
  g_autoptr(OddProcessorIntake) intake = odd_processor_intake_parse (registry, body, strlen (body), NULL, 7);

  g_assert_cmpint (intake->kind, ==, ODD_INTAKE_JOB);
  g_assert_cmpuint (intake->delivery_tag, ==, 7);
  g_assert_true (odd_uuid_is_valid (intake->job_id));
  g_assert_cmpstr (intake->type, ==, "t");
  /* Normalised to UTC. */
  g_assert_cmpstr (intake->created_at, ==, "2026-01-02T03:04:05.000Z");
  g_assert_cmpstr (intake->correlation_id, ==, "a7c1d4e2-1111-4222-8333-944455556666");
  g_assert_cmpint (intake->retry_generation, ==, 2);
  /* the payload as it was written in the message, to be stored digit for digit */
  g_assert_cmpstr (odd_json_raw_get_text (intake->payload), ==, "{\"simulate\":{\"durationMs\":5,\"failAttempts\":1}}");
}

/* Numbers json-glib would rewrite reach the batch exactly as written; a retry generation no
 * gint64 holds is ignored, not converted (undefined behaviour). */
static void
test_intake_exact_numbers (void)
{
  g_autofree char *id = odd_uuid_new ();
  g_autofree char *body = g_strdup_printf ("{\"contractVersion\":\"1.0.0\",\"eventType\":\"job.created\","
                                           "\"eventId\":\"%s\",\"occurredAt\":\"2026-01-02T03:04:05Z\","
                                           "\"producer\":{\"service\":\"gateway\",\"instanceId\":\"g\",\"version\":\"0.1.0\"},"
                                           "\"correlationId\":\"a7c1d4e2-1111-4222-8333-944455556666\","
                                           "\"idempotencyKey\":\"k\",\"payload\":{\"id\":\"%s\",\"type\":\"t\","
                                           "\"status\":\"PENDING\",\"createdAt\":\"2026-01-02T04:04:05+01:00\","
                                           "\"payload\":{\"n\":1e19, \"d\":0.1,\"big\":123456789012345678901234567890,"
                                           "\"simulate\":{\"failAttempts\":5}},\"metadata\":{\"retryGeneration\":1e300}}}",
                                           id, id);
  g_autoptr(OddProcessorIntake) intake = odd_processor_intake_parse (registry, body, strlen (body), NULL, 8);

  g_assert_cmpint (intake->kind, ==, ODD_INTAKE_JOB);
  g_assert_cmpstr (odd_json_raw_get_text (intake->payload), ==,
                   "{\"n\":1e19, \"d\":0.1,\"big\":123456789012345678901234567890,\"simulate\":{\"failAttempts\":5}}");
  g_assert_cmpint (intake->retry_generation, ==, -1);
}

static void
test_intake_rejects (void)
{
  struct {
    const char *body;
    const char *reason;
    const char *error_part;
  } cases[] = {
    { "{not json", "unparseable", "not JSON" },
    { "", "unparseable", NULL },
    { "[1,2]", "invalid", NULL },
    { "{\"eventType\":\"job.created\"}", "invalid", "eventId" },
  };
  g_autofree char *wrong_type = NULL;
  g_autofree char *bad_sim = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(OddProcessorIntake) intake = odd_processor_intake_parse (registry, cases[i].body,
                                                                         strlen (cases[i].body), "corr", 1);

      g_assert_cmpint (intake->kind, ==, ODD_INTAKE_DEAD_LETTER);
      g_assert_cmpstr (intake->reason, ==, cases[i].reason);
      if (cases[i].error_part != NULL)
        g_assert_nonnull (strstr (intake->error, cases[i].error_part));
      if (g_str_equal (cases[i].reason, "unparseable"))
        g_assert_cmpstr (json_node_get_string (intake->original_event), ==, cases[i].body);
      g_assert_cmpstr (intake->correlation_id, ==, "corr");
    }

  /* createdAt must read back as RFC 3339 once in UTC: years 0001 to 9999 */
  {
    static const struct {
      const char *created_at;
      gboolean    ok;
    } dates[] = {
      { "0001-01-01T00:00:00Z", TRUE },
      { "9999-12-31T23:59:59.999Z", TRUE },
      { "0000-01-01T00:00:00Z", FALSE },
      { "0001-01-01T00:00:00+01:00", FALSE },
      { "9999-12-31T23:59:59-01:00", FALSE },
    };

    for (guint i = 0; i < G_N_ELEMENTS (dates); i++)
      {
        g_autofree char *message = created_message (NULL);
        g_auto(GStrv) parts = g_strsplit (message, "2026-01-02T04:04:05+01:00", 2);
        g_autofree char *dated = g_strjoinv (dates[i].created_at, parts);
        g_autoptr(OddProcessorIntake) intake = odd_processor_intake_parse (registry, dated, strlen (dated), NULL, 1);

        g_assert_cmpint (intake->kind, ==, dates[i].ok ? ODD_INTAKE_JOB : ODD_INTAKE_DEAD_LETTER);
        if (!dates[i].ok)
          g_assert_nonnull (strstr (intake->error, "/payload/createdAt"));
      }
  }

  bad_sim = created_message ("{\"durationMs\":-5}");
  {
    g_autoptr(OddProcessorIntake) intake = odd_processor_intake_parse (registry, bad_sim, strlen (bad_sim), NULL, 1);

    g_assert_cmpint (intake->kind, ==, ODD_INTAKE_DEAD_LETTER);
    g_assert_cmpstr (intake->reason, ==, "invalid");
    g_assert_nonnull (strstr (intake->error, "/payload/payload/simulate"));
    /* The job id is known, so the dead letter can name it. */
    g_assert_true (odd_uuid_is_valid (intake->job_id));
  }

  {
    g_autofree char *message = created_message (NULL);
    g_auto(GStrv) parts = g_strsplit (message, "\"job.created\"", 2);
    g_autoptr(OddProcessorIntake) intake = NULL;

    wrong_type = g_strjoinv ("\"job.failed\"", parts);
    intake = odd_processor_intake_parse (registry, wrong_type, strlen (wrong_type), NULL, 1);
    g_assert_cmpint (intake->kind, ==, ODD_INTAKE_DEAD_LETTER);
    g_assert_cmpstr (intake->reason, ==, "invalid");
    g_assert_cmpint (intake->kind, ==, ODD_INTAKE_DEAD_LETTER);
    g_assert_nonnull (strstr (intake->error, "eventType"));
  }

  {
    const char raw[] = "{\"a\0\xff";
    g_autoptr(OddProcessorIntake) intake = odd_processor_intake_parse (registry, raw, sizeof raw - 1, NULL, 1);

    g_assert_cmpint (intake->kind, ==, ODD_INTAKE_DEAD_LETTER);
    g_assert_cmpstr (intake->reason, ==, "unparseable");
    g_assert_true (g_utf8_validate (json_node_get_string (intake->original_event), -1, NULL));
  }
}

/* A list of delivery tags, ended by 0 (no delivery has tag 0). */
static GArray *
tags_of (const guint64 *tags)
{
  GArray *array = g_array_new (FALSE, FALSE, sizeof (guint64));

  for (; *tags != 0; tags++)
    g_array_append_val (array, *tags);
  return array;
}

static void
assert_tags (GArray        *array,
             const guint64 *expected)
{
  guint n = 0;

  for (; expected[n] != 0; n++)
    g_assert_cmpuint (g_array_index (array, guint64, n), ==, expected[n]);
  g_assert_cmpuint (array->len, ==, n);
}

/* One multiple ack covers the oldest outstanding deliveries only while each is acked now:
 * a job waiting for its next attempt is never covered. */
static void
test_plan_acks (void)
{
  static const struct {
    guint64 outstanding[8];
    guint64 acked[8];
    guint64 multiple;
    guint64 singles[8];
    guint64 still[8];
  } cases[] = {
    /* 3 waits for its next attempt: 1 and 2 at once, the others one by one */
    { { 1, 2, 3, 4, 5, 6 }, { 5, 2, 1, 6, 4 }, 2, { 4, 5, 6 }, { 3 } },
    /* 3 ends later, with 7 and a second copy of 7: all of it in one ack */
    { { 3, 7, 8 }, { 7, 3, 7 }, 7, { 0 }, { 8 } },
    /* the oldest delivery is not acked now: single acks, each tag once */
    { { 10, 11, 12 }, { 12, 11, 12 }, 0, { 11, 12 }, { 10 } },
    /* a lone oldest delivery is a single ack */
    { { 4, 5 }, { 4 }, 0, { 4 }, { 5 } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GArray) outstanding = tags_of (cases[i].outstanding);
      g_autoptr(GArray) tags = tags_of (cases[i].acked);
      g_autoptr(GArray) singles = g_array_new (FALSE, FALSE, sizeof (guint64));
      guint64 multiple = 99;

      odd_processor_plan_acks (outstanding, tags, &multiple, singles);
      g_assert_cmpuint (multiple, ==, cases[i].multiple);
      assert_tags (singles, cases[i].singles);
      assert_tags (outstanding, cases[i].still);
    }
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;

  g_test_init (&argc, &argv, NULL);

  registry = odd_schema_registry_new_default (&error);
  g_assert_no_error (error);

  g_test_add_func ("/processor/sim/draw-range", test_draw_range);
  g_test_add_func ("/processor/sim/deterministic", test_outcome_deterministic);
  g_test_add_func ("/processor/sim/fail-attempts", test_outcome_fail_attempts);
  g_test_add_func ("/processor/sim/fail-rate", test_outcome_fail_rate);
  g_test_add_func ("/processor/sim/backoff", test_backoff);
  g_test_add_func ("/processor/events/ids", test_event_ids);
  g_test_add_func ("/processor/events/envelope", test_event_envelope);
  g_test_add_func ("/processor/events/terminal", test_event_terminal);
  g_test_add_func ("/processor/events/dead-letter", test_dead_letter);
  g_test_add_func ("/processor/scheduler/order", test_scheduler_order);
  g_test_add_func ("/processor/scheduler/fifo", test_scheduler_fifo);
  g_test_add_func ("/processor/acks/plan", test_plan_acks);
  g_test_add_func ("/processor/intake/valid", test_intake_valid);
  g_test_add_func ("/processor/intake/exact-numbers", test_intake_exact_numbers);
  g_test_add_func ("/processor/intake/rejects", test_intake_rejects);

  {
    int ret = g_test_run ();

    g_clear_object (&registry);
    return ret;
  }
}
