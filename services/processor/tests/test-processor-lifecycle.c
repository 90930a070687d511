#define G_LOG_DOMAIN "test-processor-lifecycle"

/* The lifecycle decisions without any server: what a job.created means for each stored
 * row, what each attempt's end does, and the events, rows and acks that come out. */

#include "odd-processor-private.h"

#include <string.h>

#define MS 1000 /* usec */

static OddSchemaRegistry *registry;

typedef struct {
  OddMetrics   *metrics;
  OddScheduler *scheduler;
  GHashTable   *runs;
  OddLifecycle  lifecycle;
  OddIteration  it;
  guint64       next_tag;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  OddProducer producer = { "processor", "test", "0.1.0" };

  f->metrics = odd_metrics_new ("processor");
  f->scheduler = odd_scheduler_new ();
  f->runs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                   (GDestroyNotify) odd_job_run_free);
  odd_lifecycle_init (&f->lifecycle, f->metrics, &producer, 3, 100, f->scheduler, f->runs);
  odd_iteration_init (&f->it);
  f->next_tag = 1;
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  odd_iteration_clear (&f->it);
  odd_scheduler_free (f->scheduler);
  g_hash_table_unref (f->runs);
  odd_metrics_free (f->metrics);
}

/* A new iteration, as the worker starts one after committing the previous. */
static void
next_iteration (Fixture *f)
{
  for (guint i = 0; i < f->it.dirty->len; i++)
    {
      OddJobRun *run = g_ptr_array_index (f->it.dirty, i);

      run->dirty = run->started = run->finished = FALSE;
      run->old_generation = run->generation;
    }
  odd_iteration_clear (&f->it);
  odd_iteration_init (&f->it);
}

static OddProcessorIntake *
intake_new (Fixture    *f,
            const char *job_id,
            const char *simulate,
            int         retry_generation)
{
  OddProducer producer = { "gateway", "test", "0.1.0" };
  g_autofree char *metadata = retry_generation > 0
    ? g_strdup_printf (",\"metadata\":{\"retryGeneration\":%d}", retry_generation)
    : g_strdup ("");
  g_autofree char *text = g_strdup_printf ("{\"id\":\"%s\",\"type\":\"t\",\"status\":\"PENDING\","
                                           "\"createdAt\":\"2026-01-01T00:00:00Z\","
                                           "\"payload\":{\"simulate\":%s}%s}",
                                           job_id, simulate, metadata);
  g_autoptr(JsonNode) job = odd_json_parse (text, -1, NULL);
  g_autoptr(JsonNode) envelope = odd_envelope_new ("job.created", NULL, NULL, &producer, NULL,
                                                   "k", job);
  g_autofree char *body = odd_json_to_string (envelope);
  OddProcessorIntake *intake = odd_processor_intake_parse (registry, body, strlen (body), NULL, f->next_tag++);

  g_assert_cmpint (intake->kind, ==, ODD_INTAKE_JOB);
  return intake;
}

/* The row odd_processor_db_upsert() would return. */
static OddProcessorJobRow *
row_new (OddProcessorIntake *intake,
         const char         *status,
         int                 attempts,
         int                 generation,
         const char         *last_error)
{
  OddProcessorJobRow *row = g_new0 (OddProcessorJobRow, 1);

  row->id = g_strdup (intake->job_id);
  row->type = g_strdup (intake->type);
  row->status = odd_job_status_intern (status);
  /* as the batch reads it back from PostgreSQL: parsed, and its text */
  row->payload_text = g_strdup (odd_json_raw_get_text (intake->payload));
  row->payload = row->payload_text != NULL ? odd_json_parse (row->payload_text, -1, NULL)
                                           : json_node_copy (intake->payload);
  row->attempts = attempts;
  row->generation = generation;
  row->last_error = g_strdup (last_error);
  row->created_at = g_strdup (intake->created_at);
  row->inserted = g_str_equal (status, "VALIDATED") && attempts == 0 && generation == 0;
  return row;
}

static OddJobRun *
start (Fixture            *f,
       OddProcessorIntake *intake,
       OddProcessorJobRow *row,
       gint64              now)
{
  OddJobRun *run = odd_job_run_new (intake->job_id);

  g_array_append_val (run->delivery_tags, intake->delivery_tag);
  odd_lifecycle_start_run (&f->lifecycle, &f->it, run, intake, row, now);
  return run;
}

/* Runs every attempt due at @now. */
static guint
run_due (Fixture *f,
         gint64   now)
{
  OddJobRun *run;
  guint n = 0;

  while ((run = odd_scheduler_pop_due (f->scheduler, now)) != NULL)
    {
      odd_lifecycle_finish_attempt (&f->lifecycle, &f->it, run, now);
      n++;
    }
  return n;
}

/* "job.validated job.executed ..." (routing keys) of what the iteration publishes. */
static char *
published (Fixture *f)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < f->it.outgoing->len; i++)
    {
      OddOutgoing *o = g_ptr_array_index (f->it.outgoing, i);

      g_string_append_printf (out, "%s%s", i > 0 ? " " : "", o->routing_key);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static JsonNode *
outgoing_body (Fixture *f,
               guint    index)
{
  OddOutgoing *o = g_ptr_array_index (f->it.outgoing, index);

  return odd_json_parse (o->body, -1, NULL);
}

static void
assert_event (Fixture    *f,
              guint       index,
              const char *job_id,
              int         generation,
              const char *type,
              int         attempt,
              const char *status)
{
  OddOutgoing *o = g_ptr_array_index (f->it.outgoing, index);
  g_autofree char *id = odd_processor_event_id (job_id, generation, type, attempt);
  g_autoptr(JsonNode) body = outgoing_body (f, index);
  JsonObject *job = json_object_get_object_member (json_node_get_object (body), "payload");
  g_autoptr(GPtrArray) errors = odd_schema_registry_validate (registry, "event-envelope", body, NULL);

  g_assert_cmpuint (errors->len, ==, 0);
  g_assert_cmpstr (o->exchange, ==, ODD_EXCHANGE_EVENTS);
  g_assert_cmpstr (o->routing_key, ==, type);
  g_assert_cmpstr (o->message_id, ==, id);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (body), "eventId"), ==, id);
  g_assert_cmpstr (json_object_get_string_member (job, "status"), ==, status);
  g_assert_cmpint (json_object_get_int_member (job, "generation"), ==, generation);
}

static gboolean
acked (Fixture *f,
       guint64  tag)
{
  for (guint i = 0; i < f->it.acks->len; i++)
    if (g_array_index (f->it.acks, guint64, i) == tag)
      return TRUE;
  return FALSE;
}

static void
test_success (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *id = odd_uuid_new ();
  g_autoptr(OddProcessorIntake) intake = intake_new (f, id, "{\"durationMs\":250}", 0);
  g_autoptr(OddProcessorJobRow) row = row_new (intake, "VALIDATED", 0, 0, NULL);
  g_autofree char *events = NULL;
  OddJobRun *run;
  gint64 due;

  run = start (f, intake, row, 1000 * MS);
  g_assert_true (g_hash_table_lookup (f->runs, id) == run);
  g_assert_cmpstr (run->status, ==, "EXECUTING");
  g_assert_true (run->dirty && run->started && !run->finished);
  g_assert_cmpuint (f->it.dirty->len, ==, 1);
  events = published (f);
  g_assert_cmpstr (events, ==, "job.validated");
  assert_event (f, 0, id, 0, "job.validated", 0, "VALIDATED");
  g_assert_true (odd_scheduler_next_due (f->scheduler, &due));
  g_assert_cmpint (due, ==, 1250 * MS);
  g_assert_cmpuint (f->it.acks->len, ==, 0);

  /* Not yet. */
  g_assert_cmpuint (run_due (f, 1249 * MS), ==, 0);
  next_iteration (f);
  g_assert_cmpuint (run_due (f, 1250 * MS), ==, 1);

  g_clear_pointer (&events, g_free);
  events = published (f);
  g_assert_cmpstr (events, ==, "job.executed job.completed");
  assert_event (f, 0, id, 0, "job.executed", 1, "COMPLETED");
  assert_event (f, 1, id, 0, "job.completed", 0, "COMPLETED");
  g_assert_true (acked (f, intake->delivery_tag));
  g_assert_null (g_hash_table_lookup (f->runs, id));
  g_assert_cmpuint (f->it.done->len, ==, 1);
  g_assert_true (run->finished && run->attempts == 1);
  g_assert_cmpuint (f->it.dead_rows->len, ==, 0);
  g_assert_cmpfloat (odd_counter_get (f->lifecycle.completed, NULL), ==, 1);
}

static void
test_retry_then_success (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *id = odd_uuid_new ();
  g_autoptr(OddProcessorIntake) intake = intake_new (f, id, "{\"durationMs\":50,\"failAttempts\":1}", 0);
  g_autoptr(OddProcessorJobRow) row = row_new (intake, "VALIDATED", 0, 0, NULL);
  g_autofree char *events = NULL;
  OddJobRun *run;
  gint64 due;

  run = start (f, intake, row, 0);
  next_iteration (f);
  g_assert_cmpuint (run_due (f, 50 * MS), ==, 1);
  events = published (f);
  g_assert_cmpstr (events, ==, "job.executed");
  assert_event (f, 0, id, 0, "job.executed", 1, "EXECUTING");
  g_assert_cmpstr (run->status, ==, "EXECUTING");
  g_assert_cmpint (run->attempts, ==, 1);
  g_assert_nonnull (run->last_error);
  g_assert_true (run->dirty && !run->finished);
  g_assert_cmpuint (f->it.acks->len, ==, 0);
  /* ODD_RETRY_BACKOFF_MS (100) after the failure, then the 50 ms of work. */
  g_assert_true (odd_scheduler_next_due (f->scheduler, &due));
  g_assert_cmpint (due, ==, 200 * MS);
  g_assert_cmpfloat (odd_counter_get (f->lifecycle.retried, NULL), ==, 1);

  next_iteration (f);
  g_assert_cmpuint (run_due (f, 200 * MS), ==, 1);
  g_clear_pointer (&events, g_free);
  events = published (f);
  g_assert_cmpstr (events, ==, "job.executed job.completed");
  assert_event (f, 0, id, 0, "job.executed", 2, "COMPLETED");
  g_assert_true (acked (f, intake->delivery_tag));
  g_assert_cmpint (run->attempts, ==, 2);
}

static void
test_exhausted (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *id = odd_uuid_new ();
  g_autoptr(OddProcessorIntake) intake = intake_new (f, id, "{\"failAttempts\":5}", 0);
  g_autoptr(OddProcessorJobRow) row = row_new (intake, "VALIDATED", 0, 0, NULL);
  g_autofree char *events = NULL;
  OddDeadLetterRow *dead;
  OddOutgoing *letter;
  OddJobRun *run;

  run = start (f, intake, row, 0);
  next_iteration (f);
  g_assert_cmpuint (run_due (f, 0), ==, 1);
  next_iteration (f);
  g_assert_cmpuint (run_due (f, 100 * MS), ==, 1);
  next_iteration (f);
  g_assert_cmpuint (run_due (f, 299 * MS), ==, 0);
  g_assert_cmpuint (run_due (f, 300 * MS), ==, 1);

  events = published (f);
  g_assert_cmpstr (events, ==, "job.executed job.failed jobs.dead");
  assert_event (f, 0, id, 0, "job.executed", 3, "FAILED");
  assert_event (f, 1, id, 0, "job.failed", 0, "FAILED");
  letter = g_ptr_array_index (f->it.outgoing, 2);
  g_assert_cmpstr (letter->exchange, ==, "");
  g_assert_true (acked (f, intake->delivery_tag));
  g_assert_cmpstr (run->status, ==, "FAILED");
  g_assert_true (run->finished);
  g_assert_cmpint (run->attempts, ==, 3);

  g_assert_cmpuint (f->it.dead_rows->len, ==, 1);
  dead = g_ptr_array_index (f->it.dead_rows, 0);
  g_assert_cmpstr (dead->queue, ==, ODD_QUEUE_DEAD);
  g_assert_cmpstr (dead->reason, ==, "retries_exhausted");
  g_assert_cmpstr (dead->job_id, ==, id);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (dead->message), "generation"), ==, 0);
  {
    g_autoptr(GPtrArray) errors = odd_schema_registry_validate (registry, "dead-letter",
                                                                dead->message, NULL);

    g_assert_cmpuint (errors->len, ==, 0);
  }
  g_assert_cmpfloat (odd_counter_get (f->lifecycle.failed, NULL), ==, 1);
}

static void
test_redelivered_completed (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *id = odd_uuid_new ();
  g_autoptr(OddProcessorIntake) intake = intake_new (f, id, "{\"failAttempts\":1}", 0);
  g_autoptr(OddProcessorJobRow) row = row_new (intake, "COMPLETED", 2, 0, "simulated failure");
  g_autofree char *events = NULL;

  start (f, intake, row, 0);

  /* Its whole history again, same ids, and the delivery goes: nothing else changes. */
  events = published (f);
  g_assert_cmpstr (events, ==, "job.validated job.executed job.executed job.completed");
  assert_event (f, 0, id, 0, "job.validated", 0, "VALIDATED");
  assert_event (f, 1, id, 0, "job.executed", 1, "EXECUTING");
  assert_event (f, 2, id, 0, "job.executed", 2, "COMPLETED");
  assert_event (f, 3, id, 0, "job.completed", 0, "COMPLETED");
  g_assert_true (acked (f, intake->delivery_tag));
  g_assert_cmpuint (f->it.dirty->len, ==, 0);
  g_assert_cmpuint (f->it.dead_rows->len, ==, 0);
  g_assert_cmpuint (g_hash_table_size (f->runs), ==, 0);
  g_assert_cmpuint (odd_scheduler_size (f->scheduler), ==, 0);
  g_assert_cmpfloat (odd_counter_get (f->lifecycle.completed, NULL), ==, 0);
}

static void
test_redelivered_failed (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *id = odd_uuid_new ();
  /* A retry asking for generation 3 of a job at generation 0 is not a retry. */
  g_autoptr(OddProcessorIntake) intake = intake_new (f, id, "{\"failAttempts\":9}", 3);
  g_autoptr(OddProcessorJobRow) row = row_new (intake, "FAILED", 3, 0, "simulated failure");
  g_autofree char *events = NULL;

  start (f, intake, row, 0);
  events = published (f);
  g_assert_cmpstr (events, ==,
                   "job.validated job.executed job.executed job.executed job.failed jobs.dead");
  assert_event (f, 3, id, 0, "job.executed", 3, "FAILED");
  assert_event (f, 4, id, 0, "job.failed", 0, "FAILED");
  g_assert_true (acked (f, intake->delivery_tag));
  /* The dead letter is sent again (it may have been lost) but stored only once. */
  g_assert_cmpuint (f->it.dead_rows->len, ==, 0);
  g_assert_cmpuint (f->it.dirty->len, ==, 0);
}

static void
test_retry_generation (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *id = odd_uuid_new ();
  g_autoptr(OddProcessorIntake) intake = intake_new (f, id, "{\"durationMs\":10}", 2);
  g_autoptr(OddProcessorJobRow) row = row_new (intake, "FAILED", 3, 1, "simulated failure");
  g_autofree char *events = NULL;
  OddJobRun *run;

  run = start (f, intake, row, 0);
  events = published (f);
  g_assert_cmpstr (events, ==, "job.validated");
  assert_event (f, 0, id, 2, "job.validated", 0, "VALIDATED");
  g_assert_cmpint (run->generation, ==, 2);
  g_assert_cmpint (run->old_generation, ==, 1);
  g_assert_cmpint (run->attempts, ==, 0);
  g_assert_null (run->last_error);
  g_assert_cmpstr (run->status, ==, "EXECUTING");
  g_assert_true (run->dirty && !run->finished);
  g_assert_cmpuint (f->it.acks->len, ==, 0);

  next_iteration (f);
  g_assert_cmpuint (run_due (f, 10 * MS), ==, 1);
  g_clear_pointer (&events, g_free);
  events = published (f);
  g_assert_cmpstr (events, ==, "job.executed job.completed");
  assert_event (f, 0, id, 2, "job.executed", 1, "COMPLETED");
  assert_event (f, 1, id, 2, "job.completed", 0, "COMPLETED");
  g_assert_true (acked (f, intake->delivery_tag));
}

static void
test_resume (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *id = odd_uuid_new ();
  g_autoptr(OddProcessorIntake) intake = intake_new (f, id, "{\"failAttempts\":1}", 0);
  /* Stored by a processor that crashed after attempt 1 failed, longer ago than its backoff. */
  g_autoptr(OddProcessorJobRow) row = row_new (intake, "EXECUTING", 1, 0, "simulated failure");
  g_autofree char *events = NULL;
  OddJobRun *run;

  row->idle_ms = 10000;
  run = start (f, intake, row, 0);
  events = published (f);
  g_assert_cmpstr (events, ==, "job.validated job.executed");
  assert_event (f, 1, id, 0, "job.executed", 1, "EXECUTING");
  g_assert_cmpint (run->attempts, ==, 1);

  /* Attempt 1 is not run again: the next one is attempt 2. */
  next_iteration (f);
  g_assert_cmpuint (run_due (f, 0), ==, 1);
  g_clear_pointer (&events, g_free);
  events = published (f);
  g_assert_cmpstr (events, ==, "job.executed job.completed");
  assert_event (f, 0, id, 0, "job.executed", 2, "COMPLETED");
}

/* Resumed by another replica 30 ms after attempt 1 failed: the rest of the 100 ms backoff is
 * still owed, not skipped. */
static void
test_resume_owes_backoff (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *id = odd_uuid_new ();
  g_autoptr(OddProcessorIntake) intake = intake_new (f, id, "{\"durationMs\":5,\"failAttempts\":2}", 0);
  g_autoptr(OddProcessorJobRow) row = row_new (intake, "EXECUTING", 1, 0, "simulated failure");
  gint64 due;

  row->idle_ms = 30;
  start (f, intake, row, 1000 * MS);
  g_assert_true (odd_scheduler_next_due (f->scheduler, &due));
  g_assert_cmpint (due, ==, 1000 * MS + 70 * MS + 5 * MS);
  next_iteration (f);
  g_assert_cmpuint (run_due (f, 1074 * MS), ==, 0);
  g_assert_cmpuint (run_due (f, 1075 * MS), ==, 1);

  /* After attempt 2 failed, twice that: 200 ms, none of it spent yet. */
  g_assert_true (odd_scheduler_next_due (f->scheduler, &due));
  g_assert_cmpint (due, ==, 1075 * MS + 200 * MS + 5 * MS);
}

static void
test_reject (Fixture       *f,
             gconstpointer  data)
{
  const char *body = "{\"eventType\":\"job.created\"}";
  g_autoptr(OddProcessorIntake) a = odd_processor_intake_parse (registry, body, strlen (body), NULL, 41);
  g_autoptr(OddProcessorIntake) b = odd_processor_intake_parse (registry, body, strlen (body), NULL, 42);
  OddOutgoing *first, *second;
  OddDeadLetterRow *row;

  odd_lifecycle_reject (&f->lifecycle, &f->it, a, NULL);
  odd_lifecycle_reject (&f->lifecycle, &f->it, b, NULL);

  g_assert_cmpuint (f->it.outgoing->len, ==, 2);
  first = g_ptr_array_index (f->it.outgoing, 0);
  second = g_ptr_array_index (f->it.outgoing, 1);
  g_assert_cmpstr (first->exchange, ==, "");
  g_assert_cmpstr (first->routing_key, ==, ODD_QUEUE_FAILED_VALIDATION);
  /* The same message twice (a redelivery) makes the same message id. */
  g_assert_cmpstr (first->message_id, ==, second->message_id);
  g_assert_cmpstr (first->correlation_id, ==, "unknown");
  g_assert_true (acked (f, 41) && acked (f, 42));

  row = g_ptr_array_index (f->it.dead_rows, 0);
  g_assert_cmpstr (row->queue, ==, ODD_QUEUE_FAILED_VALIDATION);
  g_assert_cmpstr (row->reason, ==, "invalid");
  g_assert_null (row->job_id);
  /* Stored once whatever the number of copies: the key is the message id. */
  g_assert_cmpstr (row->message_key, ==, first->message_id);
  g_assert_cmpfloat (odd_counter_get (f->lifecycle.validation_failed, NULL), ==, 2);
}

/* A valid job the database refuses goes to jobs.dead with the SQLSTATE, and every delivery
 * of it is acked. */
static void
test_refuse (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(OddProcessorIntake) intake = intake_new (f, "0b1e4c5e-6a51-4a43-9d0f-5b2a1c3d4e5f", "{}", 0);
  g_autoptr(GArray) tags = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint64 tag = intake->delivery_tag;
  OddOutgoing *out;
  OddDeadLetterRow *row;
  JsonObject *message;

  g_assert_cmpint (intake->kind, ==, ODD_INTAKE_JOB);
  g_array_append_val (tags, tag);
  tag = intake->delivery_tag + 100;
  g_array_append_val (tags, tag);

  odd_processor_intake_refuse (intake, "storage_refused", "index row size 3000 exceeds maximum 2704",
                     "54000");
  odd_lifecycle_reject (&f->lifecycle, &f->it, intake, tags);

  out = g_ptr_array_index (f->it.outgoing, 0);
  g_assert_cmpstr (out->routing_key, ==, ODD_QUEUE_DEAD);
  row = g_ptr_array_index (f->it.dead_rows, 0);
  g_assert_cmpstr (row->queue, ==, ODD_QUEUE_DEAD);
  g_assert_cmpstr (row->reason, ==, "storage_refused");
  g_assert_nonnull (row->job_id);
  message = json_node_get_object (row->message);
  g_assert_cmpstr (json_object_get_string_member (message, "sqlstate"), ==, "54000");
  /* The original event is the job.created itself, as sent. */
  g_assert_cmpstr (odd_json_get_string (json_object_get_object_member (message, "original_event"),
                                        "eventType"), ==, "job.created");
  g_assert_true (acked (f, intake->delivery_tag) && acked (f, intake->delivery_tag + 100));
  g_assert_cmpuint (f->it.acks->len, ==, 2);
  g_assert_cmpfloat (odd_counter_get (f->lifecycle.refused, NULL), ==, 1);
  g_assert_cmpfloat (odd_counter_get (f->lifecycle.validation_failed, NULL), ==, 0);
}

/* A stored job whose delivery kept crashing the processor (its row just made FAILED): the
 * events of a failed job with the attempts it had, one dead letter, the delivery acked. */
static void
test_give_up (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *id = odd_uuid_new ();
  g_autoptr(OddProcessorIntake) intake = intake_new (f, id, "{\"durationMs\":100}", 0);
  g_autoptr(OddProcessorJobRow) row = row_new (intake, "FAILED", 1, 0, "redelivered 6 times");
  OddJobRun *run = odd_job_run_new (intake->job_id);
  guint64 tag = intake->delivery_tag;
  g_autofree char *keys = NULL;
  OddDeadLetterRow *dead;

  g_array_append_val (run->delivery_tags, tag);
  odd_lifecycle_give_up (&f->lifecycle, &f->it, run, intake, row, "redelivered 6 times");

  keys = published (f);
  g_assert_cmpstr (keys, ==, "job.validated job.executed job.failed " ODD_QUEUE_DEAD);
  assert_event (f, 2, id, 0, "job.failed", 0, "FAILED");
  g_assert_true (acked (f, tag));
  g_assert_cmpuint (f->it.acks->len, ==, 1);
  g_assert_cmpuint (f->it.dead_rows->len, ==, 1);
  dead = g_ptr_array_index (f->it.dead_rows, 0);
  g_assert_cmpstr (dead->reason, ==, "redelivered_too_often");
  g_assert_cmpstr (dead->job_id, ==, id);
  /* the run is done with this iteration, not left running */
  g_assert_cmpuint (f->it.done->len, ==, 1);
  g_assert_cmpuint (g_hash_table_size (f->runs), ==, 0);
  g_assert_cmpfloat (odd_counter_get (f->lifecycle.refused, NULL), ==, 1);
}

/* The eventIds, in order, of what the iteration publishes on odd.events, batches unpacked;
 * each batch and each envelope checked against its contract. */
static GPtrArray *
published_event_ids (Fixture *f,
                     guint   *n_batches)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);

  *n_batches = 0;
  for (guint i = 0; i < f->it.outgoing->len; i++)
    {
      OddOutgoing *o = g_ptr_array_index (f->it.outgoing, i);
      g_autoptr(JsonNode) body = NULL;
      g_autoptr(GPtrArray) errors = NULL;
      JsonArray *array;

      if (!g_str_equal (o->exchange, ODD_EXCHANGE_EVENTS))
        continue;
      body = odd_json_parse (o->body, -1, NULL);
      g_assert_nonnull (body);
      if (JSON_NODE_HOLDS_OBJECT (body))
        {
          errors = odd_schema_registry_validate (registry, "event-envelope", body, NULL);
          g_assert_cmpuint (errors->len, ==, 0);
          g_assert_cmpstr (o->type, ==, o->routing_key);
          g_ptr_array_add (ids, g_strdup (json_object_get_string_member (json_node_get_object (body), "eventId")));
          g_assert_cmpstr (o->message_id, ==, ids->pdata[ids->len - 1]);
          continue;
        }
      errors = odd_schema_registry_validate (registry, "event-batch", body, NULL);
      g_assert_cmpuint (errors->len, ==, 0);
      g_assert_cmpstr (o->routing_key, ==, ODD_EVENT_BATCH_ROUTING_KEY);
      g_assert_cmpstr (o->type, ==, ODD_EVENT_BATCH_TYPE);
      g_assert_true (odd_uuid_is_valid (o->message_id));
      g_assert_cmpuint (strlen (o->body), <=, ODD_LIFECYCLE_MESSAGE_MAX_BYTES);
      array = json_node_get_array (body);
      g_assert_cmpuint (json_array_get_length (array), >=, 2);
      for (guint k = 0; k < json_array_get_length (array); k++)
        {
          JsonNode *e = json_array_get_element (array, k);
          g_autoptr(GPtrArray) e_errors = odd_schema_registry_validate (registry, "event-envelope", e, NULL);

          g_assert_cmpuint (e_errors->len, ==, 0);
          g_ptr_array_add (ids, g_strdup (json_object_get_string_member (json_node_get_object (e), "eventId")));
        }
      (*n_batches)++;
    }
  return ids;
}

static void
add_ids (GPtrArray *ids,
         Fixture   *f)
{
  for (guint i = 0; i < f->it.outgoing->len; i++)
    {
      OddOutgoing *o = g_ptr_array_index (f->it.outgoing, i);

      if (g_str_equal (o->exchange, ODD_EXCHANGE_EVENTS))
        g_ptr_array_add (ids, g_strdup (o->message_id));
    }
}

static void
assert_same_ids (GPtrArray *a,
                 GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    g_assert_cmpstr (a->pdata[i], ==, b->pdata[i]);
}

static int
compare_strings (const char **a,
                 const char **b)
{
  return strcmp (*a, *b);
}

/* One step's events go out in as few messages as the bounds allow, in their order. */
static void
test_pack_events (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) intakes = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_processor_intake_free);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_processor_job_row_free);
  g_autoptr(GPtrArray) emitted = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) sent = NULL;
  guint n_batches = 0;

  /* three jobs done at once (9 events), one failing for good (a dead letter too) */
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      OddProcessorIntake *intake = intake_new (f, id, i == 3 ? "{\"failAttempts\":3}" : "{}", 0);
      OddProcessorJobRow *row = row_new (intake, "VALIDATED", i == 3 ? 2 : 0, 0, NULL);

      /* the failing job's backoff after its second attempt has passed: its third runs now */
      if (i == 3)
        row->idle_ms = 3600 * 1000;
      g_ptr_array_add (intakes, intake);
      g_ptr_array_add (rows, row);
      start (f, intake, row, 0);
    }
  run_due (f, 0);
  add_ids (emitted, f);
  g_assert_cmpuint (emitted->len, ==, 3 * 3 + 5);
  g_assert_cmpuint (f->it.dead_rows->len, ==, 1);

  f->lifecycle.events_per_message = 4;
  odd_lifecycle_pack_events (&f->lifecycle, &f->it);
  /* the dead letter first, then ceil(14 / 4) messages, the last one of two */
  g_assert_cmpuint (f->it.outgoing->len, ==, 1 + 4);
  g_assert_cmpstr (((OddOutgoing *) f->it.outgoing->pdata[0])->routing_key, ==, ODD_QUEUE_DEAD);
  sent = published_event_ids (f, &n_batches);
  g_assert_cmpuint (n_batches, ==, 4);
  assert_same_ids (emitted, sent);
  g_assert_cmpfloat (odd_counter_get (f->lifecycle.event_messages, NULL), ==, 4);
  g_assert_cmpfloat (odd_counter_get (f->lifecycle.events, NULL), ==, 14);

  /* A redelivery re-emits them (job by job, so in other batches): the same event ids, which
   * the event store drops. */
  next_iteration (f);
  for (guint i = 0; i < 4; i++)
    {
      OddProcessorIntake *intake = intakes->pdata[i];
      OddProcessorJobRow *done = row_new (intake, i == 3 ? "FAILED" : "COMPLETED", i == 3 ? 3 : 1,
                                          0, i == 3 ? "attempt 3 failed" : NULL);

      start (f, intake, done, 0);
      odd_processor_job_row_free (done);
    }
  odd_lifecycle_pack_events (&f->lifecycle, &f->it);
  {
    g_autoptr(GPtrArray) again_sent = published_event_ids (f, &n_batches);

    g_ptr_array_sort (emitted, (GCompareFunc) compare_strings);
    g_ptr_array_sort (again_sent, (GCompareFunc) compare_strings);
    assert_same_ids (emitted, again_sent);
    g_assert_cmpuint (n_batches, ==, 4);
  }

  /* One message per event, as before batches. */
  next_iteration (f);
  f->lifecycle.events_per_message = 1;
  for (guint i = 0; i < 3; i++)
    {
      OddProcessorJobRow *done = row_new (intakes->pdata[i], "COMPLETED", 1, 0, NULL);

      start (f, intakes->pdata[i], done, 0);
      odd_processor_job_row_free (done);
    }
  odd_lifecycle_pack_events (&f->lifecycle, &f->it);
  g_clear_pointer (&sent, g_ptr_array_unref);
  sent = published_event_ids (f, &n_batches);
  g_assert_cmpuint (n_batches, ==, 0);
  g_assert_cmpuint (sent->len, ==, 9);
  g_assert_cmpuint (f->it.outgoing->len, ==, 9);
}

/* Big envelopes: the byte bound splits before the count bound does. */
static void
test_pack_events_bytes (Fixture       *f,
                        gconstpointer  data)
{
  /* each event a little over a quarter of the byte bound: three of them to a message */
  gsize filler_len = ODD_LIFECYCLE_MESSAGE_MAX_BYTES / 4;
  g_autofree char *filler = g_strnfill (filler_len, 'x');
  g_autofree char *simulate = g_strdup_printf ("{},\"filler\":\"%s\"", filler);
  g_autoptr(GPtrArray) intakes = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_processor_intake_free);
  g_autoptr(GPtrArray) sent = NULL;
  guint n_batches = 0;
  guint per_message;

  /* each event carries the job's payload, filler and all */
  for (guint i = 0; i < 8; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      OddProcessorIntake *intake = intake_new (f, id, simulate, 0);
      g_autoptr(OddProcessorJobRow) row = row_new (intake, "VALIDATED", 0, 0, NULL);

      g_ptr_array_add (intakes, intake);
      start (f, intake, row, 0);
    }
  odd_lifecycle_pack_events (&f->lifecycle, &f->it);
  sent = published_event_ids (f, &n_batches);
  g_assert_cmpuint (sent->len, ==, 8);
  per_message = ODD_LIFECYCLE_MESSAGE_MAX_BYTES / (filler_len + 1024);
  g_assert_cmpuint (per_message, ==, 3);
  g_assert_cmpuint (f->it.outgoing->len, ==, (8 + per_message - 1) / per_message);
  g_assert_cmpuint (n_batches, ==, f->it.outgoing->len);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  registry = odd_schema_registry_new_default (&error);
  g_assert_no_error (error);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/processor/lifecycle/success", test_success);
  ADD ("/processor/lifecycle/retry-then-success", test_retry_then_success);
  ADD ("/processor/lifecycle/exhausted", test_exhausted);
  ADD ("/processor/lifecycle/redelivered-completed", test_redelivered_completed);
  ADD ("/processor/lifecycle/redelivered-failed", test_redelivered_failed);
  ADD ("/processor/lifecycle/retry-generation", test_retry_generation);
  ADD ("/processor/lifecycle/resume", test_resume);
  ADD ("/processor/lifecycle/resume-owes-backoff", test_resume_owes_backoff);
  ADD ("/processor/lifecycle/reject", test_reject);
  ADD ("/processor/lifecycle/refuse", test_refuse);
  ADD ("/processor/lifecycle/give-up", test_give_up);
  ADD ("/processor/lifecycle/pack-events", test_pack_events);
  ADD ("/processor/lifecycle/pack-events-bytes", test_pack_events_bytes);
#undef ADD

  ret = g_test_run ();
  g_clear_object (&registry);
  return ret;
}
