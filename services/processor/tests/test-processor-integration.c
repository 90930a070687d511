#define G_LOG_DOMAIN "test-processor-integration"

/* Runs the processor against the real PostgreSQL and RabbitMQ of ODD_TEST_POSTGRES_URL and
 * ODD_TEST_RABBITMQ_URL (skipped when unset): in-process for most tests, as a subprocess
 * for the crash test. Each test starts from empty tables and purged queues. */

#include "odd-processor-private.h"
#include "odd-test-util.h"

#include <signal.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

static const char *pg_url;
static const char *amqp_url;
static OddSchemaRegistry *registry;

typedef struct {
  PGconn                  *pg;
  amqp_connection_state_t  pub;
  amqp_connection_state_t  sub;
  OddAmqpConfirms         *confirms;
  OddMetrics              *metrics;
  OddProcessor            *processor;
} Fixture;

static const char *const queues[] = {
  ODD_QUEUE_JOBS_CREATED, ODD_QUEUE_LIFECYCLE, ODD_QUEUE_FAILED_VALIDATION, ODD_QUEUE_DEAD,
};

static void
purge_all (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (queues); i++)
    {
      amqp_queue_purge (f->sub, 1, amqp_cstring_bytes (queues[i]));
      g_assert_true (odd_amqp_check_reply (amqp_get_rpc_reply (f->sub), "queue.purge", &error));
    }
  g_assert_true (odd_pg_exec (f->pg, "TRUNCATE jobs, dead_letters", &error));
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  if (pg_url == NULL || amqp_url == NULL)
    return;

  f->pg = odd_pg_connect (pg_url, &error);
  g_assert_no_error (error);
  g_assert_true (odd_pg_migrate (f->pg, &error));
  f->pub = odd_amqp_connect (amqp_url, "processor-test publisher", &error);
  g_assert_no_error (error);
  g_assert_true (odd_amqp_declare_topology (f->pub, 1, &error));
  f->confirms = odd_amqp_confirms_new (f->pub, 1, &error);
  g_assert_no_error (error);
  f->sub = odd_amqp_connect (amqp_url, "processor-test reader", &error);
  g_assert_no_error (error);
  purge_all (f);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (f->processor != NULL)
    {
      odd_processor_stop (f->processor);
      g_clear_object (&f->processor);
    }
  g_clear_pointer (&f->metrics, odd_metrics_free);
  g_clear_pointer (&f->confirms, odd_amqp_confirms_free);
  g_clear_pointer (&f->pub, odd_amqp_close);
  g_clear_pointer (&f->sub, odd_amqp_close);
  g_clear_pointer (&f->pg, PQfinish);
}

static gboolean
skip_without_servers (void)
{
  return !odd_test_have_servers (ODD_TEST_POSTGRES | ODD_TEST_RABBITMQ);
}

/* ---- the processor ---- */

static void
start_processor (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  OddProcessorConfig config;

  /* The defaults (or ODD_PREFETCH / ODD_BATCH_SIZE from the environment, to experiment),
   * with short retry delays. */
  g_assert_true (odd_processor_config_from_env (&config, &error));
  g_free (config.rabbitmq_url);
  config.rabbitmq_url = g_strdup (amqp_url);
  g_free (config.postgres_url);
  config.postgres_url = g_strdup (pg_url);
  config.max_attempts = 3;
  config.retry_backoff_ms = 10;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  f->metrics = odd_metrics_new ("processor");
  f->processor = odd_processor_new (&config, registry, f->metrics);
  odd_processor_config_clear (&config);
  odd_processor_start (f->processor);

  for (;;)
    {
      g_autofree char *reason = odd_processor_dup_not_ready_reason (f->processor);

      if (reason == NULL)
        break;
      if (g_get_monotonic_time () > deadline)
        g_error ("the processor did not get ready: %s", reason);
      g_usleep (20 * 1000);
    }
}

/* ---- messages ---- */

static char *
created_message (const char *job_id,
                 const char *simulate,
                 int         retry_generation)
{
  OddProducer producer = { "gateway", "processor-test", "0.1.0" };
  g_autoptr(JsonNode) job = NULL;
  g_autoptr(JsonNode) envelope = NULL;
  g_autofree char *now = odd_time_now_rfc3339 ();
  g_autofree char *metadata = retry_generation > 0
    ? g_strdup_printf (",\"metadata\":{\"retryGeneration\":%d}", retry_generation)
    : g_strdup ("");
  g_autofree char *text = g_strdup_printf ("{\"id\":\"%s\",\"type\":\"it-proc\",\"status\":\"PENDING\","
                                           "\"createdAt\":\"%s\",\"payload\":{\"n\":1%s%s}%s}",
                                           job_id, now, simulate != NULL ? ",\"simulate\":" : "",
                                           simulate != NULL ? simulate : "", metadata);

  job = odd_json_parse (text, -1, NULL);
  g_assert_nonnull (job);
  envelope = odd_envelope_new ("job.created", NULL, NULL, &producer, NULL, job_id, job);
  return odd_json_to_string (envelope);
}

static void
publish (Fixture    *f,
         const char *body)
{
  g_autoptr(GError) error = NULL;
  OddAmqpProps props = { NULL, NULL, "job.created" };

  odd_amqp_confirms_publish (f->confirms, "", ODD_QUEUE_JOBS_CREATED, &props, body,
                             strlen (body), &error);
  g_assert_no_error (error);
}

static void
publish_wait (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  odd_amqp_confirms_wait (f->confirms, 30000, &error);
  g_assert_no_error (error);
}

/* Takes messages off @queue until @expected arrived and the queue stayed empty for 300 ms
 * (to catch duplicates), or @timeout_ms passed. */
static GPtrArray *
take_messages (Fixture    *f,
               const char *queue,
               guint       expected,
               guint       timeout_ms)
{
  GPtrArray *messages = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gint64 settle = 0;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      amqp_rpc_reply_t reply;
      gint64 now = g_get_monotonic_time ();

      if (now > deadline || (settle > 0 && now > settle))
        break;

      reply = amqp_basic_get (f->sub, 1, amqp_cstring_bytes (queue), 1);
      g_assert_true (odd_amqp_check_reply (reply, "basic.get", &error));

      if (reply.reply.id == AMQP_BASIC_GET_OK_METHOD)
        {
          amqp_message_t message;
          JsonNode *node;

          reply = amqp_read_message (f->sub, 1, &message, 0);
          g_assert_true (odd_amqp_check_reply (reply, "read message", &error));
          node = odd_json_parse (message.body.bytes, (gssize) message.body.len, &error);
          g_assert_no_error (error);
          amqp_destroy_message (&message);
          if (JSON_NODE_HOLDS_ARRAY (node))
            {
              /* an event batch: its envelopes, each a message of its own before batches */
              g_autoptr(GPtrArray) errors = odd_schema_registry_validate (registry, "event-batch",
                                                                          node, &error);
              JsonArray *array = json_node_get_array (node);

              g_assert_no_error (error);
              g_assert_cmpuint (errors->len, ==, 0);
              g_assert_cmpuint (json_array_get_length (array), >=, 2);
              for (guint i = 0; i < json_array_get_length (array); i++)
                g_ptr_array_add (messages, json_array_dup_element (array, i));
              json_node_unref (node);
            }
          else
            g_ptr_array_add (messages, node);
          /* Enough: now drain what is there, and a little more (duplicates). */
          if (messages->len >= expected)
            settle = g_get_monotonic_time () + 300 * 1000;
        }
      else
        g_usleep (20 * 1000);
      amqp_maybe_release_buffers (f->sub);
    }

  return messages;
}

static const char *
member_string (JsonNode   *node,
               const char *member)
{
  return json_object_get_string_member_with_default (json_node_get_object (node), member, NULL);
}

static JsonObject *
event_job (JsonNode *event)
{
  return json_object_get_object_member (json_node_get_object (event), "payload");
}

/* Counts events by type, asserting every event is valid and no eventId repeats. */
static GHashTable *
count_events (GPtrArray *events,
              gboolean   allow_duplicates)
{
  GHashTable *counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < events->len; i++)
    {
      JsonNode *event = g_ptr_array_index (events, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) errors = odd_schema_registry_validate (registry, "event-envelope",
                                                                  event, &error);
      const char *type = member_string (event, "eventType");
      const char *id = member_string (event, "eventId");

      g_assert_no_error (error);
      g_assert_cmpuint (errors->len, ==, 0);
      if (g_hash_table_contains (seen, id))
        {
          if (!allow_duplicates)
            g_error ("event %s (%s) was published twice", id, type);
          continue;
        }
      g_hash_table_add (seen, g_strdup (id));
      g_hash_table_replace (counts, g_strdup (type),
                            GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, type)) + 1));
    }
  return counts;
}

static guint
count_of (GHashTable *counts,
          const char *type)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (counts, type));
}

static gint64
query_int (Fixture    *f,
           const char *sql)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PGresult) result = odd_pg_query (f->pg, sql, 0, NULL, &error);

  g_assert_no_error (error);
  return g_ascii_strtoll (PQgetvalue (result, 0, 0), NULL, 10);
}

static void
wait_terminal (Fixture *f,
               gint64   expected,
               guint    timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

  while (query_int (f, "SELECT count(*) FROM jobs WHERE status IN ('COMPLETED', 'FAILED')")
         < expected)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("only %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " jobs are terminal",
                 query_int (f, "SELECT count(*) FROM jobs WHERE status IN ('COMPLETED', 'FAILED')"),
                 expected);
      g_usleep (50 * 1000);
    }
}

/* ---- tests ---- */

static void
test_mixed (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GPtrArray) dead = NULL;
  g_autoptr(GHashTable) counts = NULL;
  const guint n = 200;
  guint n_ok = 0, n_retry = 0, n_fail = 0;

  if (skip_without_servers ())
    return;
  start_processor (f);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      g_autofree char *body = NULL;
      g_autofree char *simulate = NULL;

      switch (i % 3)
        {
        case 0:
          simulate = g_strdup_printf ("{\"durationMs\":%u}", i % 20);
          n_ok++;
          break;
        case 1:
          simulate = g_strdup_printf ("{\"durationMs\":%u,\"failAttempts\":1}", i % 7);
          n_retry++;
          break;
        default:
          simulate = g_strdup ("{\"failAttempts\":5}");
          n_fail++;
          break;
        }
      body = created_message (id, simulate, 0);
      publish (f, body);
    }
  publish_wait (f);

  wait_terminal (f, n, 60);

  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs"), ==, n);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'COMPLETED' AND attempts = 1 "
                                 "AND payload->'simulate'->>'failAttempts' IS NULL"), ==, n_ok);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'COMPLETED' AND attempts = 2 "
                                 "AND payload->'simulate'->>'failAttempts' = '1' "
                                 "AND last_error IS NOT NULL"), ==, n_retry);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'FAILED' AND attempts = 3 "
                                 "AND last_error IS NOT NULL AND generation = 0"), ==, n_fail);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE finished_at IS NULL "
                                 "OR started_at IS NULL OR finished_at < started_at"), ==, 0);

  events = take_messages (f, ODD_QUEUE_LIFECYCLE, n + n_ok + 2 * n_retry + 3 * n_fail + n, 30000);
  counts = count_events (events, FALSE);
  g_assert_cmpuint (count_of (counts, "job.validated"), ==, n);
  g_assert_cmpuint (count_of (counts, "job.executed"), ==, n_ok + 2 * n_retry + 3 * n_fail);
  g_assert_cmpuint (count_of (counts, "job.completed"), ==, n_ok + n_retry);
  g_assert_cmpuint (count_of (counts, "job.failed"), ==, n_fail);
  g_assert_cmpuint (events->len, ==, n + n_ok + 2 * n_retry + 3 * n_fail + n);

  for (guint i = 0; i < events->len; i++)
    {
      JsonNode *event = g_ptr_array_index (events, i);
      JsonObject *job = event_job (event);
      const char *type = member_string (event, "eventType");
      g_autofree char *expected_id = NULL;
      int attempt = 0;

      if (g_str_equal (type, "job.executed"))
        attempt = json_object_get_int_member (json_object_get_object_member (job, "metadata"),
                                              "attempt");
      expected_id = odd_processor_event_id (json_object_get_string_member (job, "id"),
                                            0, type, attempt);
      g_assert_cmpstr (member_string (event, "eventId"), ==, expected_id);
      if (g_str_equal (type, "job.completed"))
        g_assert_cmpstr (json_object_get_string_member (job, "status"), ==, "COMPLETED");
      if (g_str_equal (type, "job.failed"))
        g_assert_cmpstr (json_object_get_string_member (job, "status"), ==, "FAILED");
      g_assert_cmpstr (member_string (json_object_get_member (json_node_get_object (event),
                                                              "producer"), "service"),
                       ==, "processor");
    }

  dead = take_messages (f, ODD_QUEUE_DEAD, n_fail, 10000);
  g_assert_cmpuint (dead->len, ==, n_fail);
  for (guint i = 0; i < dead->len; i++)
    {
      JsonNode *message = g_ptr_array_index (dead, i);
      g_autoptr(GPtrArray) errors = odd_schema_registry_validate (registry, "dead-letter", message,
                                                                  NULL);

      g_assert_cmpuint (errors->len, ==, 0);
      g_assert_cmpstr (member_string (message, "reason"), ==, "retries_exhausted");
      g_assert_true (odd_uuid_is_valid (member_string (message, "job_id")));
    }
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM dead_letters WHERE queue = 'jobs.dead' "
                                 "AND reason = 'retries_exhausted' AND job_id IS NOT NULL"),
                   ==, n_fail);

  g_assert_cmpfloat (odd_counter_get (odd_metrics_counter (f->metrics, "processor_jobs_completed_total",
                                                           "", NULL), NULL), ==, n_ok + n_retry);
}

static void
test_invalid (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *id = odd_uuid_new ();
  g_autofree char *bad_sim = created_message (id, "{\"durationMs\":-1}", 0);
  const char *no_payload = "{\"contractVersion\":\"1.0.0\",\"eventType\":\"job.created\"}";
  const char *garbage = "this is {not json";
  g_autoptr(GPtrArray) dead = NULL;
  gboolean saw_unparseable = FALSE;
  guint invalid = 0;

  if (skip_without_servers ())
    return;
  start_processor (f);

  publish (f, bad_sim);
  publish (f, no_payload);
  publish (f, garbage);
  publish_wait (f);

  dead = take_messages (f, ODD_QUEUE_FAILED_VALIDATION, 3, 15000);
  g_assert_cmpuint (dead->len, ==, 3);
  for (guint i = 0; i < dead->len; i++)
    {
      JsonNode *message = g_ptr_array_index (dead, i);
      g_autoptr(GPtrArray) errors = odd_schema_registry_validate (registry, "dead-letter", message,
                                                                  NULL);
      const char *reason = member_string (message, "reason");
      JsonNode *original = json_object_get_member (json_node_get_object (message),
                                                   "original_event");

      g_assert_cmpuint (errors->len, ==, 0);
      g_assert_cmpstr (member_string (message, "service"), ==, "processor");
      g_assert_nonnull (member_string (message, "validation_error"));
      if (g_str_equal (reason, "unparseable"))
        {
          saw_unparseable = TRUE;
          g_assert_cmpstr (json_node_get_string (original), ==, garbage);
        }
      else
        {
          g_assert_cmpstr (reason, ==, "invalid");
          g_assert_true (JSON_NODE_HOLDS_OBJECT (original));
          invalid++;
          if (g_strcmp0 (member_string (message, "job_id"), id) == 0)
            g_assert_nonnull (strstr (member_string (message, "validation_error"), "simulate"));
        }
    }
  g_assert_true (saw_unparseable);
  g_assert_cmpuint (invalid, ==, 2);

  /* Stored too, and nothing reached the jobs table or the event spine. */
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM dead_letters WHERE queue = 'jobs.failed.validation'"),
                   ==, 3);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM dead_letters WHERE reason = 'unparseable' "
                                 "AND message->>'original_event' = 'this is {not json'"), ==, 1);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs"), ==, 0);
  g_assert_cmpuint (odd_processor_get_in_flight (f->processor), ==, 0);
  {
    g_autoptr(GPtrArray) events = take_messages (f, ODD_QUEUE_LIFECYCLE, 1, 500);

    g_assert_cmpuint (events->len, ==, 0);
  }
}

static char *
row_snapshot (Fixture    *f,
              const char *id)
{
  g_autoptr(GError) error = NULL;
  const char *values[] = { id };
  g_autoptr(PGresult) result = odd_pg_query (f->pg,
                                             "SELECT status || attempts || generation || updated_at::text "
                                             "|| finished_at::text FROM jobs WHERE id = $1",
                                             1, values, &error);

  g_assert_no_error (error);
  g_assert_cmpint (PQntuples (result), ==, 1);
  return g_strdup (PQgetvalue (result, 0, 0));
}

static void
test_redelivered_completed (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *id = odd_uuid_new ();
  g_autofree char *body = created_message (id, "{\"failAttempts\":1}", 0);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *completed_id = odd_processor_event_id (id, 0, "job.completed", 0);
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GHashTable) counts = NULL;
  gboolean found = FALSE;

  if (skip_without_servers ())
    return;
  start_processor (f);

  publish (f, body);
  publish_wait (f);
  wait_terminal (f, 1, 20);
  first = take_messages (f, ODD_QUEUE_LIFECYCLE, 4, 10000);
  g_assert_cmpuint (first->len, ==, 4);
  before = row_snapshot (f, id);

  /* The same job.created again (a gateway retry, or a redelivery). */
  publish (f, body);
  publish_wait (f);
  second = take_messages (f, ODD_QUEUE_LIFECYCLE, 4, 10000);

  /* Its whole history again, with the same ids: the event store drops them. */
  counts = count_events (second, FALSE);
  g_assert_cmpuint (count_of (counts, "job.completed"), ==, 1);
  g_assert_cmpuint (count_of (counts, "job.validated"), ==, 1);
  g_assert_cmpuint (count_of (counts, "job.executed"), ==, 2);
  for (guint i = 0; i < second->len; i++)
    {
      JsonNode *event = g_ptr_array_index (second, i);
      gboolean same = FALSE;

      for (guint j = 0; j < first->len; j++)
        if (g_str_equal (member_string (event, "eventId"),
                         member_string (g_ptr_array_index (first, j), "eventId")))
          same = TRUE;
      g_assert_true (same);
      if (g_str_equal (member_string (event, "eventId"), completed_id))
        found = TRUE;
    }
  g_assert_true (found);

  after = row_snapshot (f, id);
  g_assert_cmpstr (before, ==, after);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs"), ==, 1);
  g_assert_cmpuint (odd_processor_get_in_flight (f->processor), ==, 0);
}

/* A job id whose generation 0 fails all its attempts at @rate and whose generation 1 passes
 * its first attempt: found by the same deterministic draw the processor makes. */
static char *
find_retry_job (double rate)
{
  for (int i = 0; ; i++)
    {
      g_autofree char *name = g_strdup_printf ("retry-%d-%d", g_test_rand_int (), i);
      char *id = odd_uuid_v5 (ODD_EVENT_NAMESPACE, name);

      if (odd_processor_draw (id, 0, 1) < rate && odd_processor_draw (id, 0, 2) < rate
          && odd_processor_draw (id, 0, 3) < rate && odd_processor_draw (id, 1, 1) >= rate)
        return id;
      g_free (id);
    }
}

/* Copies of a job.created arriving while the job runs ride along with it: one run, one set
 * of events, every copy acked at its end. */
static void
test_duplicates_while_running (Fixture       *f,
                               gconstpointer  data)
{
  const guint n = 50;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GError) error = NULL;
  guint messages = 1, consumers = 0;
  gint64 deadline;

  if (skip_without_servers ())
    return;
  start_processor (f);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      g_autofree char *body = created_message (id, "{\"durationMs\":300}", 0);

      for (guint copy = 0; copy < 3; copy++)
        publish (f, body);
    }
  publish_wait (f);

  wait_terminal (f, n, 30);
  events = take_messages (f, ODD_QUEUE_LIFECYCLE, 3 * n, 15000);
  counts = count_events (events, FALSE);
  g_assert_cmpuint (events->len, ==, 3 * n);
  g_assert_cmpuint (count_of (counts, "job.validated"), ==, n);
  g_assert_cmpuint (count_of (counts, "job.completed"), ==, n);

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      g_assert_true (odd_amqp_queue_stats (f->sub, 1, ODD_QUEUE_JOBS_CREATED, &messages,
                                           &consumers, &error));
      if (messages == 0 && odd_processor_get_in_flight (f->processor) == 0)
        break;
      g_usleep (50 * 1000);
    }
  g_assert_cmpuint (messages, ==, 0);
  g_assert_cmpuint (odd_processor_get_in_flight (f->processor), ==, 0);

  /* Every copy acked: stopping hands nothing back. */
  odd_processor_stop (f->processor);
  g_assert_true (odd_amqp_queue_stats (f->sub, 1, ODD_QUEUE_JOBS_CREATED, &messages,
                                       &consumers, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (messages, ==, 0);
}

/* After a crash the original job.created of a failed job and its retry can come back
 * together: the retry still happens. */
static void
test_retry_with_original (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *id = find_retry_job (0.6);
  g_autofree char *body = created_message (id, "{\"failRate\":0.6}", 0);
  g_autofree char *retry = created_message (id, "{\"failRate\":0.6}", 1);
  gint64 deadline;

  if (skip_without_servers ())
    return;
  start_processor (f);

  publish (f, body);
  publish_wait (f);
  wait_terminal (f, 1, 20);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'FAILED'"), ==, 1);

  /* Stop, so that both wait in the queue and arrive in one batch. */
  odd_processor_stop (f->processor);
  g_clear_object (&f->processor);
  g_clear_pointer (&f->metrics, odd_metrics_free);
  publish (f, body);
  publish (f, retry);
  publish (f, body);
  publish_wait (f);
  start_processor (f);

  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'COMPLETED' AND generation = 1") != 1)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (50 * 1000);
    }
}

static void
test_retry_generation (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *id = find_retry_job (0.6);
  g_autofree char *body = created_message (id, "{\"failRate\":0.6}", 0);
  g_autofree char *retry = created_message (id, "{\"failRate\":0.6}", 1);
  g_autofree char *too_far = created_message (id, "{\"failRate\":0.6}", 5);
  g_autofree char *g1_completed = odd_processor_event_id (id, 1, "job.completed", 0);
  g_autofree char *g1_validated = odd_processor_event_id (id, 1, "job.validated", 0);
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GPtrArray) third = NULL;
  g_autoptr(GHashTable) counts = NULL;
  gint64 deadline;

  if (skip_without_servers ())
    return;
  start_processor (f);

  publish (f, body);
  publish_wait (f);
  wait_terminal (f, 1, 20);
  first = take_messages (f, ODD_QUEUE_LIFECYCLE, 5, 10000);
  g_assert_cmpuint (first->len, ==, 5);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'FAILED' AND generation = 0"), ==, 1);

  /* A retry that skips a generation is not one: the job stays failed. */
  publish (f, too_far);
  publish_wait (f);
  third = take_messages (f, ODD_QUEUE_LIFECYCLE, 5, 10000);
  counts = count_events (third, FALSE);
  g_assert_cmpuint (count_of (counts, "job.failed"), ==, 1);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'FAILED' AND generation = 0"), ==, 1);
  g_clear_pointer (&counts, g_hash_table_unref);

  publish (f, retry);
  publish_wait (f);
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'COMPLETED' AND generation = 1 "
                       "AND attempts = 1 AND finished_at IS NOT NULL") != 1)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (50 * 1000);
    }

  second = take_messages (f, ODD_QUEUE_LIFECYCLE, 3, 10000);
  counts = count_events (second, FALSE);
  g_assert_cmpuint (second->len, ==, 3);
  g_assert_cmpuint (count_of (counts, "job.validated"), ==, 1);
  g_assert_cmpuint (count_of (counts, "job.executed"), ==, 1);
  g_assert_cmpuint (count_of (counts, "job.completed"), ==, 1);
  for (guint i = 0; i < second->len; i++)
    {
      JsonNode *event = g_ptr_array_index (second, i);
      const char *type = member_string (event, "eventType");

      g_assert_cmpint (json_object_get_int_member (event_job (event), "generation"), ==, 1);
      if (g_str_equal (type, "job.completed"))
        g_assert_cmpstr (member_string (event, "eventId"), ==, g1_completed);
      if (g_str_equal (type, "job.validated"))
        g_assert_cmpstr (member_string (event, "eventId"), ==, g1_validated);
    }

  /* The retry message redelivered: the new generation is done, nothing moves. */
  g_clear_pointer (&third, g_ptr_array_unref);
  publish (f, retry);
  publish_wait (f);
  third = take_messages (f, ODD_QUEUE_LIFECYCLE, 3, 10000);
  g_assert_cmpuint (third->len, ==, 3);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'COMPLETED' AND generation = 1"), ==, 1);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM dead_letters WHERE reason = 'retries_exhausted'"), ==, 1);
}

/* ---- the crash test, with the real binary ---- */

static GSubprocess *
spawn_processor (guint port)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  const char *bin = g_getenv ("ODD_PROCESSOR_BIN");
  GSubprocess *process;

  g_assert_nonnull (bin);
  /* Its own warnings (a lost connection) are expected here, not fatal. */
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_setenv (launcher, "RABBITMQ_URL", amqp_url, TRUE);
  g_subprocess_launcher_setenv (launcher, "POSTGRES_URL", pg_url, TRUE);
  g_subprocess_launcher_setenv (launcher, "PORT", port_text, TRUE);
  g_subprocess_launcher_setenv (launcher, "ODD_RETRY_BACKOFF_MS", "20", TRUE);
  g_subprocess_launcher_setenv (launcher, "ODD_LOG_FORMAT", "json", TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, bin, NULL);
  g_assert_no_error (error);
  return process;
}

static void
test_crash_and_restart (Fixture       *f,
                        gconstpointer  data)
{
  const guint n = 300;
  g_autoptr(GSubprocess) first = NULL;
  g_autoptr(GSubprocess) second = NULL;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline, terminal_at_kill;
  guint n_retry = 0;

  if (skip_without_servers ())
    return;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      g_autofree char *simulate = g_strdup_printf ("{\"durationMs\":%u%s}", 50 + (i * 37) % 400,
                                                   i % 4 == 0 ? ",\"failAttempts\":1" : "");
      g_autofree char *body = created_message (id, simulate, 0);

      if (i % 4 == 0)
        n_retry++;
      publish (f, body);
    }
  publish_wait (f);

  first = spawn_processor (odd_test_free_port ());
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while ((terminal_at_kill = query_int (f, "SELECT count(*) FROM jobs WHERE status IN ('COMPLETED', 'FAILED')"))
         < n / 3)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (5 * 1000);
    }

  /* SIGKILL mid-run: rows half-way, events published but not acked, deliveries pending. */
  g_subprocess_force_exit (first);
  g_subprocess_wait (first, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_signaled (first));
  g_test_message ("killed with %" G_GINT64_FORMAT " of %u jobs terminal", terminal_at_kill, n);
  g_assert_cmpint (terminal_at_kill, <, n);

  second = spawn_processor (odd_test_free_port ());
  wait_terminal (f, n, 60);

  /* A clean stop: SIGTERM ends it with status 0. */
  g_subprocess_send_signal (second, SIGTERM);
  g_subprocess_wait (second, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (second));
  g_assert_cmpint (g_subprocess_get_exit_status (second), ==, 0);

  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs"), ==, n);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'COMPLETED'"), ==, n);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE attempts = 2"), ==, n_retry);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE attempts = 1"), ==, n - n_retry);

  /* Every event at least once; by id, each exactly once. */
  events = take_messages (f, ODD_QUEUE_LIFECYCLE, 3 * n + n_retry, 30000);
  counts = count_events (events, TRUE);
  g_assert_cmpuint (count_of (counts, "job.validated"), ==, n);
  g_assert_cmpuint (count_of (counts, "job.executed"), ==, n + n_retry);
  g_assert_cmpuint (count_of (counts, "job.completed"), ==, n);
  g_assert_cmpuint (count_of (counts, "job.failed"), ==, 0);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM dead_letters"), ==, 0);
}

typedef void (*FaultFunc) (Fixture *f,
                           guint    cut);

typedef struct {
  guint n;
  guint n_retry;   /* fail once, then complete */
  guint n_fail;    /* fail every attempt: FAILED, a dead letter */
  guint n_ok;
} MixedJobs;

/* Publishes @n jobs of @duration_ms-ish: a fifth fail once, a fifth fail for good. */
static void
publish_mixed (Fixture   *f,
               guint      n,
               guint      duration_ms,
               MixedJobs *jobs)
{
  *jobs = (MixedJobs) { n, 0, 0, 0 };
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      const char *extra = i % 5 == 0 ? ",\"failAttempts\":1" : i % 5 == 1 ? ",\"failAttempts\":9" : "";
      g_autofree char *simulate = g_strdup_printf ("{\"durationMs\":%u%s}",
                                                   duration_ms / 10 + (i * 53) % duration_ms, extra);
      g_autofree char *body = created_message (id, simulate, 0);

      jobs->n_retry += i % 5 == 0;
      jobs->n_fail += i % 5 == 1;
      publish (f, body);
    }
  publish_wait (f);
  jobs->n_ok = n - jobs->n_retry - jobs->n_fail;
}

/* Every job of publish_mixed() ended exactly as it should, every event was sent (by id,
 * once), one dead letter per failed job. Returns the lifecycle messages seen. */
static guint
assert_mixed_outcome (Fixture         *f,
                      const MixedJobs *jobs)
{
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GPtrArray) dead = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GHashTable) dead_jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n = jobs->n, n_retry = jobs->n_retry, n_fail = jobs->n_fail, n_ok = jobs->n_ok;

  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'COMPLETED' AND attempts = 2"), ==, n_retry);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'COMPLETED' AND attempts = 1"), ==, n_ok);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'FAILED' AND attempts = 3"), ==, n_fail);
  /* One stored dead letter per failed job, however often its end was replayed. */
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM dead_letters"), ==, n_fail);
  g_assert_cmpint (query_int (f, "SELECT count(DISTINCT job_id) FROM dead_letters"), ==, n_fail);

  events = take_messages (f, ODD_QUEUE_LIFECYCLE, 2 * n + n_ok + 2 * n_retry + 3 * n_fail, 30000);
  counts = count_events (events, TRUE);
  g_assert_cmpuint (count_of (counts, "job.validated"), ==, n);
  g_assert_cmpuint (count_of (counts, "job.executed"), ==, n_ok + 2 * n_retry + 3 * n_fail);
  g_assert_cmpuint (count_of (counts, "job.completed"), ==, n - n_fail);
  g_assert_cmpuint (count_of (counts, "job.failed"), ==, n_fail);

  dead = take_messages (f, ODD_QUEUE_DEAD, n_fail, 10000);
  for (guint i = 0; i < dead->len; i++)
    g_hash_table_add (dead_jobs, g_strdup (member_string (g_ptr_array_index (dead, i), "job_id")));
  g_assert_cmpuint (g_hash_table_size (dead_jobs), ==, n_fail);
  return events->len;
}

/* Runs 300 mixed jobs through a processor subprocess while @fault strikes @n_cuts times,
 * then checks that every job ended exactly as it should and every event was sent. */
static void
run_with_faults (Fixture   *f,
                 FaultFunc  fault,
                 guint      n_cuts,
                 guint      duration_ms,
                 guint      port)
{
  const guint n = 300;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  MixedJobs jobs;
  guint cuts = 0, seen;
  gint64 deadline;

  publish_mixed (f, n, duration_ms, &jobs);

  process = spawn_processor (port);
  deadline = g_get_monotonic_time () + 90 * G_USEC_PER_SEC;
  for (;;)
    {
      gint64 done = query_int (f, "SELECT count(*) FROM jobs WHERE status IN ('COMPLETED', 'FAILED')");

      if (done >= n)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      if (cuts < n_cuts && done >= (gint64) (cuts + 1) * n / (n_cuts + 2))
        fault (f, cuts++);
      g_usleep (20 * 1000);
    }
  g_assert_cmpuint (cuts, >=, n_cuts - 1);

  g_subprocess_send_signal (process, SIGTERM);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);

  seen = assert_mixed_outcome (f, &jobs);
  g_test_message ("%u faults, %u lifecycle messages for %u distinct events", cuts, seen,
                  2 * n + jobs.n_ok + 2 * jobs.n_retry + 3 * jobs.n_fail);
}

/* Two processor replicas share jobs.created; one is SIGKILLed mid-run, its deliveries (runs
 * between attempts, retries waiting for their backoff) go to the other, which resumes them
 * from the stored rows: every job ends once, with its attempts, events and dead letter. */
static void
test_replica_killed (Fixture       *f,
                     gconstpointer  data)
{
  const guint n = 300;
  g_autoptr(GSubprocess) doomed = NULL;
  g_autoptr(GSubprocess) survivor = NULL;
  g_autoptr(GError) error = NULL;
  MixedJobs jobs;
  gint64 deadline, done;

  if (skip_without_servers ())
    return;
  survivor = spawn_processor (odd_test_free_port ());
  doomed = spawn_processor (odd_test_free_port ());
  publish_mixed (f, n, 400, &jobs);

  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while ((done = query_int (f, "SELECT count(*) FROM jobs WHERE status IN ('COMPLETED', 'FAILED')")) < n / 3)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (5 * 1000);
    }
  g_subprocess_force_exit (doomed);
  g_subprocess_wait (doomed, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("one of two processors killed with %" G_GINT64_FORMAT " of %u jobs terminal, "
                  "%" G_GINT64_FORMAT " started and unfinished", done, n,
                  query_int (f, "SELECT count(*) FROM jobs WHERE status = 'EXECUTING'"));
  g_assert_cmpint (done, <, n);

  wait_terminal (f, n, 90);
  g_subprocess_send_signal (survivor, SIGTERM);
  g_subprocess_wait (survivor, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (survivor), ==, 0);
  assert_mixed_outcome (f, &jobs);
}

/* A replica cut off for a while may still commit what it had: a job another replica has run
 * further must not move back (before: a COMPLETED row went back to EXECUTING, and stayed so,
 * since the other replica had acked the job). */
static void
test_stale_replica_update (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *id = odd_uuid_new ();
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_job_run_free);
  g_autoptr(GHashTable) updated = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *insert = NULL;
  OddJobRun *run;

  if (skip_without_servers ())
    return;
  insert = g_strdup_printf ("INSERT INTO jobs (id, type, status, attempts, generation) "
                            "VALUES ('%s', 'stale', 'COMPLETED', 2, 0)", id);
  g_assert_true (odd_pg_exec (f->pg, insert, &error));

  /* The cut-off replica's run: still at attempt 1, about to write "EXECUTING". */
  run = odd_job_run_new (id);
  run->status = "EXECUTING";
  run->attempts = 1;
  run->started = TRUE;
  g_ptr_array_add (runs, run);
  updated = odd_processor_db_update (f->pg, runs, &error);
  g_assert_no_error (error);
  g_assert_false (g_hash_table_contains (updated, id));
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'COMPLETED' AND attempts = 2"), ==, 1);

  /* Nor can it end the job otherwise at the same attempt... */
  run->attempts = 2;
  run->status = "FAILED";
  run->finished = TRUE;
  g_clear_pointer (&updated, g_hash_table_unref);
  updated = odd_processor_db_update (f->pg, runs, &error);
  g_assert_no_error (error);
  g_assert_false (g_hash_table_contains (updated, id));
  /* ...but its attempt 2 ending as the other's did is the same state, no conflict. */
  run->status = "COMPLETED";
  g_clear_pointer (&updated, g_hash_table_unref);
  updated = odd_processor_db_update (f->pg, runs, &error);
  g_assert_no_error (error);
  g_assert_true (g_hash_table_contains (updated, id));
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'COMPLETED' AND attempts = 2"), ==, 1);

  /* Forward moves are written: a retry generation over the finished row, then its start. */
  run->generation = 1;
  run->attempts = 0;
  run->status = "EXECUTING";
  run->finished = FALSE;
  g_clear_pointer (&updated, g_hash_table_unref);
  updated = odd_processor_db_update (f->pg, runs, &error);
  g_assert_no_error (error);
  g_assert_true (g_hash_table_contains (updated, id));
  run->old_generation = 1;
  run->attempts = 1;
  g_clear_pointer (&updated, g_hash_table_unref);
  updated = odd_processor_db_update (f->pg, runs, &error);
  g_assert_no_error (error);
  g_assert_true (g_hash_table_contains (updated, id));
  /* The same state again (two replicas at the same attempt) is no move back. */
  g_clear_pointer (&updated, g_hash_table_unref);
  updated = odd_processor_db_update (f->pg, runs, &error);
  g_assert_no_error (error);
  g_assert_true (g_hash_table_contains (updated, id));
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'EXECUTING' AND attempts = 1 AND generation = 1"), ==, 1);
}

static void
cut_postgres (Fixture *f,
              guint    cut)
{
  query_int (f, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()");
}

/* PostgreSQL connections cut mid-run: the processor drops everything, reconnects, and the
 * redelivered messages resume from the stored rows. */
static void
test_db_connection_lost (Fixture       *f,
                         gconstpointer  data)
{
  if (skip_without_servers ())
    return;
  run_with_faults (f, cut_postgres, 4, 300, odd_test_free_port ());
}

/* Closes the processor's consumer (even cuts) or publisher (odd cuts) connection through
 * rabbitmqctl: $ODD_TEST_RABBITMQCTL is the command, e.g.
 * "env RABBITMQ_NODENAME=dev@localhost /usr/lib/rabbitmq/bin/rabbitmqctl". */
static void
cut_rabbitmq (Fixture *f,
              guint    cut)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = g_uri_parse (amqp_url, G_URI_FLAGS_NONE, &error);
  g_autofree char *vhost = NULL;
  g_autofree char *list = g_strdup_printf ("%s list_connections -q --no-table-headers pid vhost client_properties",
                                           g_getenv ("ODD_TEST_RABBITMQCTL"));
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  const char *which = cut % 2 == 0 ? "consumer" : "publisher";
  guint closed = 0;
  int status;

  g_assert_no_error (error);
  vhost = g_uri_unescape_string (g_uri_get_path (uri) + 1, NULL);
  g_assert_true (g_spawn_command_line_sync (list, &out, NULL, &status, &error));
  g_assert_no_error (error);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], "\t", 3);
      g_autofree char *close = NULL;

      if (g_strv_length (fields) < 3 || !g_str_equal (fields[1], vhost))
        continue;
      if (strstr (fields[2], "odd-processor") == NULL || strstr (fields[2], which) == NULL)
        continue;
      close = g_strdup_printf ("%s close_connection '%s' 'processor test: cut %u'",
                               g_getenv ("ODD_TEST_RABBITMQCTL"), fields[0], cut);
      g_assert_true (g_spawn_command_line_sync (close, NULL, NULL, &status, &error));
      g_assert_no_error (error);
      closed++;
    }
  g_test_message ("closed %u %s connection(s)", closed, which);
}

static void
test_broker_connection_lost (Fixture       *f,
                             gconstpointer  data)
{
  if (skip_without_servers ())
    return;
  if (g_getenv ("ODD_TEST_RABBITMQCTL") == NULL)
    {
      g_test_skip ("ODD_TEST_RABBITMQCTL is not set");
      return;
    }
  /* rabbitmqctl takes a second or two: the jobs last long enough to be cut mid-run. */
  run_with_faults (f, cut_rabbitmq, 2, 3000, odd_test_free_port ());
}

static void
test_graceful_stop (Fixture       *f,
                    gconstpointer  data)
{
  const guint n = 20;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline, stopped;
  guint messages = 0, consumers = 1;

  if (skip_without_servers ())
    return;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      g_autofree char *body = created_message (id, "{\"durationMs\":600000}", 0);

      publish (f, body);
    }
  publish_wait (f);

  process = spawn_processor (odd_test_free_port ());
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'EXECUTING' AND started_at IS NOT NULL") < n)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (20 * 1000);
    }

  /* Ten-minute jobs do not hold the stop up: they stay un-acked for the next processor. */
  stopped = g_get_monotonic_time ();
  g_subprocess_send_signal (process, SIGTERM);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  /* Waiting for them would take ten minutes (meson's timeout ends that); they are still
   * EXECUTING below, and un-acked. */
  g_test_message ("stopped %.2f s after SIGTERM with %u jobs running",
                  (double) (g_get_monotonic_time () - stopped) / G_USEC_PER_SEC, n);

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  do
    {
      g_assert_true (odd_amqp_queue_stats (f->sub, 1, ODD_QUEUE_JOBS_CREATED, &messages,
                                           &consumers, &error));
      g_assert_no_error (error);
      if (messages == n)
        break;
      g_usleep (50 * 1000);
    }
  while (g_get_monotonic_time () < deadline);
  g_assert_cmpuint (messages, ==, n);
  g_assert_cmpuint (consumers, ==, 0);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'EXECUTING' AND attempts = 0"), ==, n);
}

static void
test_config_error (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;

  g_subprocess_launcher_setenv (launcher, "ODD_MAX_ATTEMPTS", "zero", TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("ODD_PROCESSOR_BIN"), NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 2);
  g_assert_nonnull (strstr (err, "ODD_MAX_ATTEMPTS"));
}

static void
test_throughput (Fixture       *f,
                 gconstpointer  data)
{
  const char *jobs = g_getenv ("ODD_TEST_THROUGHPUT_JOBS");
  const guint n = jobs != NULL ? (guint) g_ascii_strtoull (jobs, NULL, 10) : 5000;
  struct rusage before, after;
  gint64 start, elapsed;
  double cpu;

  if (skip_without_servers ())
    return;
  g_assert_cmpuint (n, >, 0);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      g_autofree char *body = created_message (id, NULL, 0);

      publish (f, body);
      if (i % 500 == 499)
        publish_wait (f);
    }
  publish_wait (f);

  getrusage (RUSAGE_SELF, &before);
  start = g_get_monotonic_time ();
  start_processor (f);
  wait_terminal (f, n, 120);
  elapsed = g_get_monotonic_time () - start;
  getrusage (RUSAGE_SELF, &after);

  /* The CPU time is mostly the worker's (this thread only polls the table meanwhile): a
   * figure that does not depend on how busy the machine is. */
  cpu = (after.ru_utime.tv_sec - before.ru_utime.tv_sec + after.ru_stime.tv_sec - before.ru_stime.tv_sec)
        + (after.ru_utime.tv_usec - before.ru_utime.tv_usec + after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e6;
  g_test_message ("throughput: %u jobs (0 ms of work) in %.2f s = %.0f jobs/s; %.3f ms of CPU a job", n,
                  (double) elapsed / G_USEC_PER_SEC, n / ((double) elapsed / G_USEC_PER_SEC),
                  cpu * 1000 / n);
  g_assert_cmpint (query_int (f, "SELECT count(*) FROM jobs WHERE status = 'COMPLETED'"), ==, n);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  odd_log_init ("processor-test");

  pg_url = g_getenv ("ODD_TEST_POSTGRES_URL");
  amqp_url = g_getenv ("ODD_TEST_RABBITMQ_URL");
  registry = odd_schema_registry_new_default (&error);
  g_assert_no_error (error);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/processor/integration/mixed", test_mixed);
  ADD ("/processor/integration/invalid", test_invalid);
  ADD ("/processor/integration/redelivered-completed", test_redelivered_completed);
  ADD ("/processor/integration/retry-generation", test_retry_generation);
  ADD ("/processor/integration/duplicates-while-running", test_duplicates_while_running);
  ADD ("/processor/integration/retry-with-original", test_retry_with_original);
  ADD ("/processor/integration/crash-and-restart", test_crash_and_restart);
  ADD ("/processor/integration/db-connection-lost", test_db_connection_lost);
  ADD ("/processor/integration/broker-connection-lost", test_broker_connection_lost);
  ADD ("/processor/integration/graceful-stop", test_graceful_stop);
  ADD ("/processor/integration/config-error", test_config_error);
  ADD ("/processor/integration/replica-killed", test_replica_killed);
  ADD ("/processor/integration/stale-replica-update", test_stale_replica_update);
  ADD ("/processor/integration/throughput", test_throughput);
#undef ADD

  ret = g_test_run ();
  g_clear_object (&registry);
  return ret;
}
