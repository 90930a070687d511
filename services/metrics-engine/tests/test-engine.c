#define G_LOG_DOMAIN "test-engine"

/* Integration tests of the metrics-engine against real servers (suite "integration"):
 *   ODD_TEST_POSTGRES_URL  postgresql://postgres@127.0.0.1:15432/odd_me
 *   ODD_TEST_REDIS_URL     redis://127.0.0.1:16379/3
 *   ODD_TEST_RABBITMQ_URL  amqp://guest:guest@127.0.0.1:15672/me
 * Every test empties that namespace first (TRUNCATE, FLUSHDB, queue purge). Without them the
 * tests skip: `meson test --setup servers` (what ./setup.sh test runs) gives the program
 * private servers through the integration fixture (odd-with-servers). */

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "odd-aggregates.h"
#include "odd-event-store.h"
#include "odd-metrics-engine.h"
#include "odd-projection.h"
#include "odd-test-util.h"

static const char *pg_url;
static const char *redis_url;
static const char *amqp_url;
static OddSchemaRegistry *registry;
static guint run_counter;

static const OddProducer producer = { "processor", "test-engine", "0.0.0" };

static gboolean
have_servers (void)
{
  return odd_test_have_servers (ODD_TEST_POSTGRES | ODD_TEST_REDIS | ODD_TEST_RABBITMQ);
}

/* ---- servers ---------------------------------------------------------------------------- */

static PGconn *
pg (void)
{
  g_autoptr(GError) error = NULL;
  PGconn *conn = odd_pg_connect (pg_url, &error);

  g_assert_no_error (error);
  return conn;
}

static gint64
pg_int (const char *sql)
{
  g_autoptr(PGconn) conn = pg ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PGresult) res = odd_pg_query (conn, sql, 0, NULL, &error);

  g_assert_no_error (error);
  return g_ascii_strtoll (PQgetvalue (res, 0, 0), NULL, 10);
}

static redisContext *
redis (void)
{
  g_autoptr(GError) error = NULL;
  redisContext *ctx = odd_redis_connect (redis_url, &error);

  g_assert_no_error (error);
  return ctx;
}

/* GET @key as an integer; -1 when missing. */
static gint64
redis_int (const char *key)
{
  g_autoptr(redisContext) ctx = redis ();
  g_autoptr(GError) error = NULL;
  g_autoptr(redisReply) reply = odd_redis_command (ctx, &error, "GET %s", key);

  g_assert_no_error (error);
  if (reply->type == REDIS_REPLY_NIL)
    return -1;
  return g_ascii_strtoll (reply->str, NULL, 10);
}

static gint64
redis_hget (const char *key,
            const char *field)
{
  g_autoptr(redisContext) ctx = redis ();
  g_autoptr(GError) error = NULL;
  g_autoptr(redisReply) reply = odd_redis_command (ctx, &error, "HGET %s %s", key, field);

  g_assert_no_error (error);
  if (reply->type == REDIS_REPLY_NIL)
    return -1;
  return g_ascii_strtoll (reply->str, NULL, 10);
}

static amqp_connection_state_t
amqp (void)
{
  g_autoptr(GError) error = NULL;
  amqp_connection_state_t conn = odd_amqp_connect (amqp_url, "metrics-engine test", &error);

  g_assert_no_error (error);
  odd_amqp_declare_topology (conn, 1, &error);
  g_assert_no_error (error);
  return conn;
}

static guint
queue_messages (const char *queue)
{
  amqp_connection_state_t conn = amqp ();
  g_autoptr(GError) error = NULL;
  guint messages = 0, consumers = 0;

  odd_amqp_queue_stats (conn, 1, queue, &messages, &consumers, &error);
  g_assert_no_error (error);
  odd_amqp_close (conn);
  return messages;
}

static void
reset_namespace (void)
{
  g_autoptr(PGconn) conn = pg ();
  g_autoptr(redisContext) ctx = redis ();
  g_autoptr(GError) error = NULL;
  g_autoptr(redisReply) reply = NULL;
  amqp_connection_state_t mq;

  odd_pg_migrate (conn, &error);
  g_assert_no_error (error);
  odd_pg_exec (conn, "TRUNCATE job_events, dead_letters RESTART IDENTITY", &error);
  g_assert_no_error (error);
  reply = odd_redis_command (ctx, &error, "FLUSHDB");
  g_assert_no_error (error);

  mq = amqp ();
  for (const char *const *q = (const char *const[]) { ODD_QUEUE_LIFECYCLE, ODD_QUEUE_FAILED_VALIDATION, NULL };
       *q != NULL; q++)
    {
      amqp_queue_purge (mq, 1, amqp_cstring_bytes (*q));
      odd_amqp_check_reply (amqp_get_rpc_reply (mq), "queue.purge", &error);
      g_assert_no_error (error);
    }
  odd_amqp_close (mq);
}

/* ---- a deterministic workload ----------------------------------------------------------- */

typedef struct {
  GPtrArray  *events;      /* JsonNode envelopes, in publishing order */
  guint       n_jobs;
  gint64      completed;
  gint64      failed;
  gint64      inflight;
  GHashTable *attempts;    /* job type → guint attempts */
} Workload;

static void
workload_free (Workload *w)
{
  g_ptr_array_unref (w->events);
  g_hash_table_unref (w->attempts);
  g_free (w);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Workload, workload_free)

static void
add_event (Workload   *w,
           const char *job_id,
           const char *job_type,
           const char *event_type,
           int         generation,
           int         attempt,
           const char *status,
           gint64      created_usec,
           gint64      occurred_usec)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) payload = NULL;
  g_autofree char *created = odd_time_format_rfc3339 (created_usec);
  g_autofree char *occurred = odd_time_format_rfc3339 (occurred_usec);
  g_autofree char *name = attempt > 0
    ? g_strdup_printf ("%s/%d/%s/%d", job_id, generation, event_type, attempt)
    : g_strdup_printf ("%s/%d/%s", job_id, generation, event_type);
  g_autofree char *event_id = odd_uuid_v5 (ODD_EVENT_NAMESPACE, name);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, job_id);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, job_type);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, status);
  json_builder_set_member_name (builder, "createdAt");
  json_builder_add_string_value (builder, created);
  json_builder_set_member_name (builder, "attempts");
  json_builder_add_int_value (builder, MAX (attempt, 0));
  json_builder_set_member_name (builder, "generation");
  json_builder_add_int_value (builder, generation);
  json_builder_end_object (builder);
  payload = json_builder_get_root (builder);

  g_ptr_array_add (w->events, odd_envelope_new (event_type, event_id, occurred, &producer, NULL,
                                                job_id, payload));
  if (g_str_equal (event_type, "job.executed"))
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (w->attempts, job_type));
      g_hash_table_insert (w->attempts, g_strdup (job_type), GUINT_TO_POINTER (n + 1));
    }
}

/* Per job, by i % 10: 0 fails for good, 1 fails then succeeds in a retry generation, 2 stays in
 * flight, others complete after one failed attempt or at once. */
static Workload *
workload_new (guint n_jobs)
{
  Workload *w = g_new0 (Workload, 1);
  gint64 now = g_get_real_time ();
  guint run = ++run_counter;

  w->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  w->attempts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  w->n_jobs = n_jobs;

  for (guint i = 0; i < n_jobs; i++)
    {
      g_autofree char *name = g_strdup_printf ("metrics-engine-test/%d/%u/%u", getpid (), run, i);
      g_autofree char *id = odd_uuid_v5 (ODD_EVENT_NAMESPACE, name);
      g_autofree char *type = g_strdup_printf ("type-%u", i % 3);
      gint64 c = now - 30 * G_USEC_PER_SEC + (gint64) i * 1000;

      add_event (w, id, type, "job.validated", 0, 0, "VALIDATED", c, c + 1000);
      switch (i % 10)
        {
        case 0:
          for (int a = 1; a <= 3; a++)
            add_event (w, id, type, "job.executed", 0, a, a < 3 ? "EXECUTING" : "FAILED", c, c + a * 10000);
          add_event (w, id, type, "job.failed", 0, 0, "FAILED", c, c + 40000);
          w->failed++;
          break;
        case 1:
          add_event (w, id, type, "job.executed", 0, 1, "FAILED", c, c + 10000);
          add_event (w, id, type, "job.failed", 0, 0, "FAILED", c, c + 20000);
          add_event (w, id, type, "job.validated", 1, 0, "VALIDATED", c, c + 30000);
          add_event (w, id, type, "job.executed", 1, 1, "COMPLETED", c, c + 40000);
          add_event (w, id, type, "job.completed", 1, 0, "COMPLETED", c, c + 3 * G_USEC_PER_SEC);
          w->completed++;
          break;
        case 2:
          add_event (w, id, type, "job.executed", 0, 1, "EXECUTING", c, c + 10000);
          w->inflight++;
          break;
        default:
          if (i % 2)
            add_event (w, id, type, "job.executed", 0, 1, "EXECUTING", c, c + 5000);
          add_event (w, id, type, "job.executed", 0, 1 + i % 2, "COMPLETED", c, c + 15000);
          add_event (w, id, type, "job.completed", 0, 0, "COMPLETED", c, c + 15000 + (i % 7) * 1000);
          w->completed++;
          break;
        }
    }
  return w;
}

/* @into gets @from's events and expected counts. */
static void
workload_merge (Workload *into,
                Workload *from)
{
  GHashTableIter iter;
  gpointer type, n;

  for (guint i = 0; i < from->events->len; i++)
    g_ptr_array_add (into->events, json_node_ref (from->events->pdata[i]));
  into->n_jobs += from->n_jobs;
  into->completed += from->completed;
  into->failed += from->failed;
  into->inflight += from->inflight;
  g_hash_table_iter_init (&iter, from->attempts);
  while (g_hash_table_iter_next (&iter, &type, &n))
    g_hash_table_insert (into->attempts, g_strdup (type),
                         GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (into->attempts, type))
                                           + GPOINTER_TO_UINT (n)));
}

/* Publishes every event @copies times (all of them, then all again): at-least-once delivery. */
static void
publish_events (GPtrArray *events,
                guint      copies)
{
  amqp_connection_state_t conn = amqp ();
  g_autoptr(GError) error = NULL;
  g_autoptr(OddAmqpConfirms) confirms = odd_amqp_confirms_new (conn, 1, &error);

  g_assert_no_error (error);
  for (guint copy = 0; copy < copies; copy++)
    for (guint i = 0; i < events->len; i++)
      {
        JsonObject *e = json_node_get_object (events->pdata[i]);
        g_autofree char *body = odd_json_to_string (events->pdata[i]);
        const char *type = json_object_get_string_member (e, "eventType");
        OddAmqpProps props = { json_object_get_string_member (e, "eventId"),
                               json_object_get_string_member (e, "correlationId"), type };

        odd_amqp_confirms_publish (confirms, ODD_EXCHANGE_EVENTS, type, &props, body, strlen (body), &error);
        g_assert_no_error (error);
        if (odd_amqp_confirms_pending (confirms) >= 500)
          {
            odd_amqp_confirms_wait (confirms, 30000, &error);
            g_assert_no_error (error);
          }
      }
  odd_amqp_confirms_wait (confirms, 30000, &error);
  g_assert_no_error (error);
  g_clear_pointer (&confirms, odd_amqp_confirms_free);
  odd_amqp_close (conn);
}

static void
publish_raw (const char *body)
{
  amqp_connection_state_t conn = amqp ();
  g_autoptr(GError) error = NULL;
  g_autoptr(OddAmqpConfirms) confirms = odd_amqp_confirms_new (conn, 1, &error);
  OddAmqpProps props = { NULL, NULL, NULL };

  g_assert_no_error (error);
  odd_amqp_confirms_publish (confirms, ODD_EXCHANGE_EVENTS, "job.completed", &props, body, strlen (body), &error);
  g_assert_no_error (error);
  odd_amqp_confirms_wait (confirms, 30000, &error);
  g_assert_no_error (error);
  g_clear_pointer (&confirms, odd_amqp_confirms_free);
  odd_amqp_close (conn);
}

/* ---- waiting ---------------------------------------------------------------------------- */

typedef gboolean (*Condition) (gpointer data);

static gboolean
wait_for (Condition  condition,
          gpointer   data,
          guint      timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      if (condition (data))
        return TRUE;
      g_usleep (50 * 1000);
    }
  return condition (data);
}

/* Every unique event stored and the watermark at the store's max seq. */
static gboolean
all_applied (gpointer data)
{
  gint64 expected = GPOINTER_TO_SIZE (data);
  gint64 stored = pg_int ("SELECT count(*) FROM job_events");

  if (stored != expected)
    return FALSE;
  return redis_int (ODD_KEY_APPLIED_SEQ) == pg_int ("SELECT coalesce(max(seq), 0) FROM job_events");
}

static void
assert_counts (Workload *w)
{
  GHashTableIter iter;
  gpointer type, attempts;
  gint64 submitted_by_type = 0;

  g_assert_cmpint (pg_int ("SELECT count(*) FROM job_events"), ==, w->events->len);
  g_assert_cmpint (pg_int ("SELECT count(DISTINCT event_id) FROM job_events"), ==, w->events->len);
  g_assert_cmpint (redis_int (ODD_KEY_JOBS_TOTAL), ==, w->n_jobs);
  g_assert_cmpint (redis_int (ODD_KEY_JOBS_COMPLETED), ==, w->completed);
  g_assert_cmpint (redis_int (ODD_KEY_JOBS_FAILED), ==, w->failed);
  g_assert_cmpint (redis_int (ODD_KEY_JOBS_INFLIGHT), ==, w->inflight);

  g_hash_table_iter_init (&iter, w->attempts);
  while (g_hash_table_iter_next (&iter, &type, &attempts))
    {
      g_autofree char *key = g_strconcat (ODD_KEY_TYPE_PREFIX, type, NULL);

      g_assert_cmpint (redis_hget (key, "attempts"), ==, GPOINTER_TO_UINT (attempts));
      submitted_by_type += redis_hget (key, "submitted");
    }
  g_assert_cmpint (submitted_by_type, ==, w->n_jobs);

  /* One latency observation per completion. */
  {
    g_autoptr(redisContext) ctx = redis ();
    g_autoptr(redisReply) reply = redisCommand (ctx, "HVALS %s", ODD_KEY_LATENCY);
    gint64 sum = 0;

    for (size_t i = 0; i < reply->elements; i++)
      sum += g_ascii_strtoll (reply->element[i]->str, NULL, 10);
    g_assert_cmpint (sum, ==, w->completed);
  }
}

/* ---- the engine ------------------------------------------------------------------------- */

static OddMetricsEngine *
engine_new (OddMetrics *metrics)
{
  OddMetricsEngineConfig config;

  odd_metrics_engine_config_init (&config);
  config.rabbitmq_url = amqp_url;
  config.postgres_url = pg_url;
  config.redis_url = redis_url;
  config.check_interval_ms = 300;
  config.sample_interval_ms = 200;
  return odd_metrics_engine_new (&config, metrics, registry);
}

static gboolean
engine_ready (gpointer data)
{
  g_autofree char *reason = odd_metrics_engine_dup_not_ready_reason (data);

  return reason == NULL;
}

/* Sum of every sample of @name in the Prometheus text of @metrics. */
static double
metric_value (OddMetrics *metrics,
              const char *name)
{
  g_autofree char *text = odd_metrics_render (metrics);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  double sum = 0;
  gsize len = strlen (name);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], name) && (lines[i][len] == '{' || lines[i][len] == ' '))
      {
        const char *value = strrchr (lines[i], ' ');
        sum += g_ascii_strtod (value + 1, NULL);
      }
  return sum;
}

typedef struct {
  OddMetrics *metrics;
  guint       expected;
} DupProbe;

static gboolean
duplicates_seen (gpointer data)
{
  DupProbe *probe = data;

  return metric_value (probe->metrics, "metrics_engine_events_duplicate_total") >= probe->expected;
}

static gboolean
queues_sampled (gpointer data)
{
  return redis_hget (ODD_KEY_QUEUES, ODD_QUEUE_DEAD) >= 0;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void
test_projection_watermark (void)
{
  g_autoptr(redisContext) ctx = NULL;
  g_autoptr(OddAggregates) agg = NULL;
  g_autoptr(Workload) w = NULL;
  g_autoptr(GError) error = NULL;
  OddProjectionResult result;
  gint64 seq;
  gboolean present;

  if (!have_servers ())
    return;
  reset_namespace ();
  ctx = redis ();
  w = workload_new (10);
  agg = odd_aggregates_new (g_get_real_time ());
  for (guint i = 0; i < w->events->len; i++)
    {
      odd_aggregates_add (agg, json_node_get_object (w->events->pdata[i]), &error);
      g_assert_no_error (error);
    }

  /* No watermark: nothing is applied, the caller must rebuild. */
  g_assert_true (odd_projection_apply (ctx, agg, 0, 10, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result, ==, ODD_PROJECTION_MISSING);
  g_assert_cmpint (redis_int (ODD_KEY_JOBS_TOTAL), ==, -1);

  g_assert_true (odd_projection_reset (ctx, &error));
  g_assert_true (odd_projection_get_applied_seq (ctx, &seq, &present, &error));
  g_assert_true (present);
  g_assert_cmpint (seq, ==, 0);
  g_assert_cmpint (redis_int (ODD_KEY_FORMAT), ==, atoi (ODD_PROJECTION_FORMAT));

  /* The batch must start exactly at the watermark. */
  g_assert_true (odd_projection_apply (ctx, agg, 5, 10, &result, &error));
  g_assert_cmpint (result, ==, ODD_PROJECTION_GAP);
  g_assert_cmpint (redis_int (ODD_KEY_JOBS_TOTAL), ==, -1);

  g_assert_true (odd_projection_apply (ctx, agg, 0, 10, &result, &error));
  g_assert_cmpint (result, ==, ODD_PROJECTION_APPLIED);
  g_assert_cmpint (redis_int (ODD_KEY_JOBS_TOTAL), ==, 10);
  g_assert_cmpint (redis_int (ODD_KEY_APPLIED_SEQ), ==, 10);

  /* The same batch again (a retry after a lost reply): already there, not counted twice. */
  g_assert_true (odd_projection_apply (ctx, agg, 0, 10, &result, &error));
  g_assert_cmpint (result, ==, ODD_PROJECTION_ALREADY);
  g_assert_cmpint (redis_int (ODD_KEY_JOBS_TOTAL), ==, 10);

  /* Reset deletes every metrics:* key, even ones the engine does not know. */
  {
    g_autoptr(redisReply) r1 = redisCommand (ctx, "SET metrics:stray 1");
    g_autoptr(redisReply) r2 = redisCommand (ctx, "SET other 1");
  }
  g_assert_true (odd_projection_reset (ctx, &error));
  g_assert_cmpint (redis_int (ODD_KEY_JOBS_TOTAL), ==, -1);
  g_assert_cmpint (redis_int ("metrics:stray"), ==, -1);
  g_assert_cmpint (redis_int ("other"), ==, 1);
  g_assert_cmpint (redis_int (ODD_KEY_APPLIED_SEQ), ==, 0);
  g_assert_no_error (error);

  /* An older engine's key space (no metrics:format, or another one) counts as lost. */
  {
    g_autoptr(redisReply) r1 = redisCommand (ctx, "DEL %s", ODD_KEY_FORMAT);
  }
  g_assert_true (odd_projection_get_applied_seq (ctx, &seq, &present, &error));
  g_assert_no_error (error);
  g_assert_false (present);
  {
    g_autoptr(redisReply) r1 = redisCommand (ctx, "SET %s 1", ODD_KEY_FORMAT);
  }
  g_assert_true (odd_projection_get_applied_seq (ctx, &seq, &present, &error));
  g_assert_false (present);
  g_assert_true (odd_projection_reset (ctx, &error));

  /* A watermark that is not even a string counts as lost, not as an error. */
  {
    g_autoptr(redisReply) r1 = redisCommand (ctx, "DEL %s", ODD_KEY_APPLIED_SEQ);
    g_autoptr(redisReply) r2 = redisCommand (ctx, "HSET %s a 1", ODD_KEY_APPLIED_SEQ);
  }
  g_assert_true (odd_projection_get_applied_seq (ctx, &seq, &present, &error));
  g_assert_no_error (error);
  g_assert_false (present);
}

static void
test_counts_exact_with_duplicates (void)
{
  g_autoptr(Workload) w = NULL;
  g_autoptr(OddMetrics) metrics = NULL;
  g_autoptr(OddMetricsEngine) engine = NULL;
  gint64 start;
  double seconds;

  if (!have_servers ())
    return;
  reset_namespace ();
  /* ODD_ME_TEST_JOBS makes this a throughput measurement (default 1000 jobs, ~3800 events). */
  w = workload_new (g_getenv ("ODD_ME_TEST_JOBS") ? (guint) atoi (g_getenv ("ODD_ME_TEST_JOBS")) : 1000);
  publish_events (w->events, 2);

  metrics = odd_metrics_new ("metrics-engine");
  engine = engine_new (metrics);
  start = g_get_monotonic_time ();
  odd_metrics_engine_start (engine);

  g_assert_true (wait_for (all_applied, GSIZE_TO_POINTER (w->events->len), 600));
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  /* The queue holds every first copy, then every second copy: this is the first half. */
  g_test_message ("%u new events stored and applied in %.2f s: %.0f events/s",
                  w->events->len, seconds, w->events->len / seconds);
  g_assert_true (wait_for (engine_ready, engine, 10));

  /* The second copies are dropped by the event store, not counted again. */
  g_assert_true (wait_for (duplicates_seen, &(DupProbe) { metrics, w->events->len }, 300));
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_test_message ("all %u deliveries (duplicates included) done in %.2f s: %.0f deliveries/s",
                  w->events->len * 2, seconds, w->events->len * 2 / seconds);
  for (int i = 0; i < 200 && queue_messages (ODD_QUEUE_LIFECYCLE) > 0; i++)
    g_usleep (50 * 1000);
  g_assert_cmpuint (queue_messages (ODD_QUEUE_LIFECYCLE), ==, 0);
  assert_counts (w);

  {
    g_autofree char *text = odd_metrics_render (metrics);

    g_assert_nonnull (strstr (text, "metrics_engine_events_total"));
    g_assert_nonnull (strstr (text, "odd_jobs_submitted_total"));
    g_assert_nonnull (strstr (text, "odd_job_latency_seconds_bucket"));
  }

  /* The sampler reports every queue. */
  g_assert_true (wait_for (queues_sampled, NULL, 10));

  odd_metrics_engine_stop (engine);
  g_assert_cmpint (odd_metrics_engine_get_n_applied (engine), ==, w->events->len);
}

static gboolean
dead_letters_stored (gpointer data)
{
  return pg_int ("SELECT count(*) FROM dead_letters") >= GPOINTER_TO_UINT (data);
}

static void
test_invalid_dead_lettered (void)
{
  g_autoptr(Workload) w = NULL;
  g_autoptr(OddMetrics) metrics = NULL;
  g_autoptr(OddMetricsEngine) engine = NULL;
  g_autofree char *bad_payload = NULL;
  amqp_connection_state_t conn;
  guint n_seen = 0;

  if (!have_servers ())
    return;
  reset_namespace ();
  w = workload_new (20);
  {
    /* An envelope with a 1000-character correlationId and a payload that breaks job.json. */
    g_autofree char *text = odd_json_to_string (w->events->pdata[0]);
    /* A deep copy: json_node_copy() would share the object with the workload. */
    g_autoptr(JsonNode) copy = odd_json_parse (text, -1, NULL);
    JsonObject *e = json_node_get_object (copy);
    g_autofree char *other_id = odd_uuid_new ();

    json_object_set_string_member (e, "eventId", other_id);
    json_object_set_string_member (json_object_get_object_member (e, "payload"), "status", "DONE");
    {
      /* Longer than an AMQP short string: must not make the dead letter unpublishable. */
      g_autofree char *long_id = g_strnfill (1000, 'c');
      json_object_set_string_member (e, "correlationId", long_id);
    }
    bad_payload = odd_json_to_string (copy);
  }
  publish_raw ("this is not { json");
  publish_events (w->events, 1);
  publish_raw (bad_payload);
  {
    /* \u0000 is valid JSON, but json-glib cuts strings there and jsonb cannot hold it:
     * odd_json_parse() refuses it, so it is dead-lettered as unparseable and the events
     * around it are counted as usual. */
    g_autofree char *text = odd_json_to_string (w->events->pdata[1]);
    g_autoptr(JsonNode) copy = odd_json_parse (text, -1, NULL);
    JsonObject *e = json_node_get_object (copy);
    g_autofree char *other_id = odd_uuid_new ();
    g_autofree char *body = NULL;
    g_autofree char *with_nul = NULL;

    json_object_set_string_member (e, "eventId", other_id);
    json_object_set_string_member (e, "idempotencyKey", "NUL-MARK");
    body = odd_json_to_string (copy);
    {
      g_auto(GStrv) parts = g_strsplit (body, "NUL-MARK", 2);
      with_nul = g_strconcat (parts[0], "nul\\u0000here", parts[1], NULL);
    }
    publish_raw (with_nul);
  }
  publish_events (w->events, 1);

  metrics = odd_metrics_new ("metrics-engine");
  engine = engine_new (metrics);
  odd_metrics_engine_start (engine);
  g_assert_true (wait_for (all_applied, GSIZE_TO_POINTER (w->events->len), 30));
  g_assert_true (wait_for (dead_letters_stored, GUINT_TO_POINTER (3), 30));
  odd_metrics_engine_stop (engine);

  /* The valid events around them are counted as usual. */
  assert_counts (w);
  g_assert_cmpint (pg_int ("SELECT count(*) FROM dead_letters"), ==, 3);
  g_assert_cmpint (pg_int ("SELECT count(*) FROM dead_letters WHERE queue = 'jobs.failed.validation'"
                           " AND reason = 'unparseable' AND job_id IS NULL"), ==, 2);
  g_assert_cmpint (pg_int ("SELECT count(*) FROM dead_letters WHERE reason = 'unparseable'"
                           " AND message->>'validation_error' LIKE '%\\u0000 is not allowed%'"), ==, 1);
  g_assert_cmpint (pg_int ("SELECT count(*) FROM dead_letters WHERE reason = 'invalid'"
                           " AND message->>'service' = 'metrics-engine' AND job_id IS NOT NULL"), ==, 1);
  g_assert_cmpfloat (metric_value (metrics, "metrics_engine_events_invalid_total"), ==, 3);

  /* Both went to jobs.failed.validation, confirmed, shaped like dead-letter.json. */
  conn = amqp ();
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      amqp_rpc_reply_t reply = amqp_basic_get (conn, 1, amqp_cstring_bytes (ODD_QUEUE_FAILED_VALIDATION), 1);
      amqp_message_t message;
      g_autoptr(JsonNode) node = NULL;
      g_autoptr(GPtrArray) errors = NULL;
      const char *reason;

      odd_amqp_check_reply (reply, "basic.get", &error);
      g_assert_no_error (error);
      if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
        break;
      reply = amqp_read_message (conn, 1, &message, 0);
      odd_amqp_check_reply (reply, "read message", &error);
      g_assert_no_error (error);
      node = odd_json_parse (message.body.bytes, message.body.len, &error);
      g_assert_no_error (error);
      amqp_destroy_message (&message);
      errors = odd_schema_registry_validate (registry, "dead-letter", node, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (errors->len, ==, 0);
      reason = json_object_get_string_member (json_node_get_object (node), "reason");
      if (g_str_equal (reason, "unparseable"))
        g_assert_true (g_str_equal (json_object_get_string_member (json_node_get_object (node), "original_event"),
                                    "this is not { json") ||
                       strstr (json_object_get_string_member (json_node_get_object (node), "validation_error"),
                               "\\u0000") != NULL);
      else
        g_assert_nonnull (strstr (json_object_get_string_member (json_node_get_object (node), "validation_error"),
                                  "/correlationId"));
      n_seen++;
    }
  odd_amqp_close (conn);
  g_assert_cmpuint (n_seen, ==, 3);
}

/* The JSON array of the texts of @events[from, from + n): an event batch (event-batch.json). */
static char *
batch_of (GPtrArray *events,
          guint      from,
          guint      n)
{
  GString *body = g_string_new ("[");

  for (guint i = from; i < from + n && i < events->len; i++)
    {
      g_autofree char *text = odd_json_to_string (events->pdata[i]);

      if (i > from)
        g_string_append_c (body, ',');
      g_string_append (body, text);
    }
  g_string_append_c (body, ']');
  return g_string_free (body, FALSE);
}

static void
publish_batch (const char *body)
{
  amqp_connection_state_t conn = amqp ();
  g_autoptr(GError) error = NULL;
  g_autoptr(OddAmqpConfirms) confirms = odd_amqp_confirms_new (conn, 1, &error);
  OddAmqpProps props = { NULL, NULL, ODD_EVENT_BATCH_TYPE };

  g_assert_no_error (error);
  odd_amqp_confirms_publish (confirms, ODD_EXCHANGE_EVENTS, ODD_EVENT_BATCH_ROUTING_KEY, &props,
                             body, strlen (body), &error);
  g_assert_no_error (error);
  odd_amqp_confirms_wait (confirms, 30000, &error);
  g_assert_no_error (error);
  g_clear_pointer (&confirms, odd_amqp_confirms_free);
  odd_amqp_close (conn);
}

/* Event batches, one with a bad event, each delivered twice, and old-style single envelopes
 * among them: every valid event counted once, the bad one dead-lettered alone, once. */
static void
test_batches (void)
{
  g_autoptr(Workload) w = NULL;
  g_autoptr(OddMetrics) metrics = NULL;
  g_autoptr(OddMetricsEngine) engine = NULL;
  g_autoptr(GPtrArray) bodies = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *bad = NULL;
  guint n_single = 0, n_batched = 0;

  if (!have_servers ())
    return;
  reset_namespace ();
  w = workload_new (60);
  {
    g_autofree char *text = odd_json_to_string (w->events->pdata[0]);
    g_autoptr(JsonNode) copy = odd_json_parse (text, -1, NULL);
    JsonObject *e = json_node_get_object (copy);
    g_autofree char *other_id = odd_uuid_new ();

    json_object_set_string_member (e, "eventId", other_id);
    json_object_set_string_member (json_object_get_object_member (e, "payload"), "status", "DONE");
    bad = odd_json_to_string (copy);
  }

  /* batches of 1 to 12 events; every fifth event goes alone, as an old producer sends it */
  for (guint i = 0, size = 1; i < w->events->len; size = size % 12 + 1)
    {
      if (i % 5 == 0)
        {
          g_ptr_array_add (bodies, odd_json_to_string (w->events->pdata[i]));
          n_single++;
          i++;
          continue;
        }
      g_ptr_array_add (bodies, batch_of (w->events, i, size));
      n_batched += MIN (size, w->events->len - i);
      i += size;
      if (bodies->len == 7)
        {
          /* the bad event in the middle of a batch */
          g_autofree char *with_bad = NULL;
          char *last = g_ptr_array_steal_index (bodies, bodies->len - 1);

          last[strlen (last) - 1] = '\0';
          with_bad = g_strconcat (last, ",", bad, "]", NULL);
          g_free (last);
          g_ptr_array_add (bodies, g_steal_pointer (&with_bad));
        }
    }
  g_assert_cmpuint (n_single + n_batched, ==, w->events->len);
  for (guint copy = 0; copy < 2; copy++)
    for (guint i = 0; i < bodies->len; i++)
      {
        if (((char *) bodies->pdata[i])[0] == '[')
          publish_batch (bodies->pdata[i]);
        else
          publish_raw (bodies->pdata[i]);
      }

  metrics = odd_metrics_new ("metrics-engine");
  engine = engine_new (metrics);
  odd_metrics_engine_start (engine);
  g_assert_true (wait_for (all_applied, GSIZE_TO_POINTER (w->events->len), 60));
  g_assert_true (wait_for (duplicates_seen, &(DupProbe) { metrics, w->events->len }, 60));
  g_assert_true (wait_for (dead_letters_stored, GUINT_TO_POINTER (1), 30));
  for (int i = 0; i < 200 && queue_messages (ODD_QUEUE_LIFECYCLE) > 0; i++)
    g_usleep (50 * 1000);
  odd_metrics_engine_stop (engine);

  assert_counts (w);
  g_assert_cmpfloat (metric_value (metrics, "metrics_engine_messages_total"), ==, 2 * bodies->len);
  g_assert_cmpfloat (metric_value (metrics, "metrics_engine_events_duplicate_total"), ==, w->events->len);
  /* one row for the bad event, whose two deliveries are the same dead letter */
  g_assert_cmpint (pg_int ("SELECT count(*) FROM dead_letters"), ==, 1);
  g_assert_cmpint (pg_int ("SELECT count(*) FROM dead_letters WHERE reason = 'invalid' "
                           "AND jsonb_typeof (message->'original_event') = 'object' "
                           "AND message->'original_event'->'payload'->>'status' = 'DONE' "
                           "AND message->>'validation_error' LIKE '%/payload/status%'"), ==, 1);
  g_assert_cmpuint (queue_messages (ODD_QUEUE_FAILED_VALIDATION), ==, 2);
  g_assert_cmpfloat (metric_value (metrics, "metrics_engine_events_invalid_total"), ==, 2);
}

static gboolean
dead_letter_reason_stored (gpointer data)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM dead_letters WHERE reason = '%s'",
                                          (const char *) data);

  return pg_int (sql) >= 1;
}

/* A batch with an event the store keeps refusing with a transient error: after the
 * redeliveries, its events are stored one by one and only that one is dead-lettered. */
static void
test_batch_crash_loop (void)
{
  g_autoptr(Workload) w = NULL;
  g_autoptr(OddMetrics) metrics = NULL;
  g_autoptr(OddMetricsEngine) engine = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *body = NULL;
  g_autofree char *poison = NULL;
  OddMetricsEngineConfig config;
  GLogLevelFlags old_fatal;
  PGconn *conn;

  if (!have_servers ())
    return;
  reset_namespace ();
  w = workload_new (10);
  {
    g_autofree char *text = odd_json_to_string (w->events->pdata[0]);
    g_autoptr(JsonNode) copy = odd_json_parse (text, -1, NULL);
    JsonObject *e = json_node_get_object (copy);
    g_autofree char *other_id = odd_uuid_new ();

    json_object_set_string_member (e, "eventId", other_id);
    json_object_set_string_member (json_object_get_object_member (e, "payload"), "type",
                                   "engine-test-deadlock");
    poison = odd_json_to_string (copy);
  }
  body = batch_of (w->events, 0, w->events->len);
  body[strlen (body) - 1] = '\0';
  {
    g_autofree char *whole = g_strconcat (body, ",", poison, "]", NULL);

    publish_batch (whole);
  }

  conn = pg ();
  odd_pg_exec (conn,
               "CREATE OR REPLACE FUNCTION engine_test_deadlock () RETURNS trigger "
               "LANGUAGE plpgsql AS $$ BEGIN "
               "  IF NEW.envelope->'payload'->>'type' = 'engine-test-deadlock' THEN "
               "    RAISE EXCEPTION 'engine test: deadlock, again' USING ERRCODE = '40P01'; "
               "  END IF; RETURN NEW; END $$; "
               "DROP TRIGGER IF EXISTS engine_test_deadlock ON job_events; "
               "CREATE TRIGGER engine_test_deadlock BEFORE INSERT ON job_events "
               "  FOR EACH ROW EXECUTE FUNCTION engine_test_deadlock ()", &error);
  g_assert_no_error (error);

  /* The engine warns at each failed try (the point of the test): not fatal here. */
  old_fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  metrics = odd_metrics_new ("metrics-engine");
  odd_metrics_engine_config_init (&config);
  config.rabbitmq_url = amqp_url;
  config.postgres_url = pg_url;
  config.redis_url = redis_url;
  config.check_interval_ms = 300;
  config.sample_interval_ms = 0;
  config.max_redeliveries = 2;
  engine = odd_metrics_engine_new (&config, metrics, registry);
  odd_metrics_engine_start (engine);
  g_assert_true (wait_for (dead_letter_reason_stored, (gpointer) "redelivered_too_often", 60));
  g_assert_true (wait_for (all_applied, GSIZE_TO_POINTER (w->events->len), 30));
  odd_metrics_engine_stop (engine);
  g_log_set_always_fatal (old_fatal);

  odd_pg_exec (conn, "DROP TRIGGER engine_test_deadlock ON job_events", &error);
  g_assert_no_error (error);
  PQfinish (conn);

  assert_counts (w);
  g_assert_cmpint (pg_int ("SELECT count(*) FROM dead_letters"), ==, 1);
  g_assert_cmpint (pg_int ("SELECT count(*) FROM dead_letters WHERE reason = 'redelivered_too_often' "
                           /* what the store refused is kept as text */
                           "AND strpos (message->>'original_event', 'engine-test-deadlock') > 0 "
                           "AND message->>'validation_error' LIKE '%40P01%'"), ==, 1);
}

/* Every metrics:* key and its value, without what the queue sampler writes. */
static GHashTable *
snapshot (void)
{
  g_autoptr(redisContext) ctx = redis ();
  g_autoptr(redisReply) keys = redisCommand (ctx, "KEYS metrics:*");
  GHashTable *snap = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (size_t i = 0; i < keys->elements; i++)
    {
      const char *key = keys->element[i]->str;
      g_autoptr(redisReply) type = redisCommand (ctx, "TYPE %s", key);

      if (g_str_equal (key, ODD_KEY_QUEUES))
        continue;
      if (g_str_equal (type->str, "string"))
        {
          g_autoptr(redisReply) value = redisCommand (ctx, "GET %s", key);
          g_hash_table_insert (snap, g_strdup (key), g_strdup (value->str));
        }
      else
        {
          g_autoptr(redisReply) all = redisCommand (ctx, "HGETALL %s", key);

          for (size_t j = 0; j + 1 < all->elements; j += 2)
            if (!g_str_equal (all->element[j]->str, ODD_SEC_FIELD_QUEUE_DEPTH) &&
                !g_str_has_prefix (all->element[j]->str, ODD_SEC_FIELD_QUEUE_PREFIX))
              g_hash_table_insert (snap, g_strdup_printf ("%s[%s]", key, all->element[j]->str),
                                   g_strdup (all->element[j + 1]->str));
        }
    }
  return snap;
}

static void
assert_same_snapshot (GHashTable *a,
                      GHashTable *b)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *other = g_hash_table_lookup (b, key);

      if (g_strcmp0 (value, other) != 0)
        g_error ("%s: %s before, %s after", (char *) key, (char *) value, other ? other : "(missing)");
    }
  g_assert_cmpuint (g_hash_table_size (a), ==, g_hash_table_size (b));
}

static gboolean
rebuilt (gpointer data)
{
  return redis_int (ODD_KEY_APPLIED_SEQ) == (gint64) GPOINTER_TO_SIZE (data)
         && redis_int (ODD_KEY_JOBS_TOTAL) >= 0;
}

/* Rebuilt in this engine's format: metrics:format set, no old metrics:latency, all applied. */
static gboolean
format_current (gpointer data)
{
  g_autoptr(redisContext) ctx = redis ();
  g_autoptr(redisReply) old = redisCommand (ctx, "EXISTS metrics:latency");

  return old->integer == 0 && redis_int (ODD_KEY_FORMAT) == atoi (ODD_PROJECTION_FORMAT) &&
         rebuilt (data);
}

static void
test_rebuild_after_flush (void)
{
  g_autoptr(Workload) w = NULL;
  g_autoptr(OddMetrics) metrics = NULL;
  g_autoptr(OddMetricsEngine) engine = NULL;
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GHashTable) after = NULL;
  g_autoptr(redisContext) ctx = NULL;
  g_autoptr(redisReply) reply = NULL;
  gint64 max_seq;

  if (!have_servers ())
    return;
  reset_namespace ();
  w = workload_new (300);
  publish_events (w->events, 1);

  metrics = odd_metrics_new ("metrics-engine");
  engine = engine_new (metrics);
  odd_metrics_engine_start (engine);
  g_assert_true (wait_for (all_applied, GSIZE_TO_POINTER (w->events->len), 60));
  before = snapshot ();
  g_assert_cmpuint (g_hash_table_size (before), >, 20);
  max_seq = pg_int ("SELECT max(seq) FROM job_events");

  /* Redis loses everything: the engine notices the missing watermark and replays the store. */
  ctx = redis ();
  reply = redisCommand (ctx, "FLUSHDB");
  g_assert_true (wait_for (rebuilt, GSIZE_TO_POINTER (max_seq), 30));
  after = snapshot ();
  assert_same_snapshot (before, after);
  assert_counts (w);
  g_assert_cmpfloat (metric_value (metrics, "metrics_engine_rebuilds_total"), >=, 2);

  /* Redis restored from an older snapshot: the watermark is behind, the rest is replayed. */
  {
    g_autoptr(redisReply) r1 = redisCommand (ctx, "SET %s 0", ODD_KEY_APPLIED_SEQ);
    g_autoptr(redisReply) r2 = redisCommand (ctx, "DEL %s", ODD_KEY_JOBS_TOTAL);
    g_autoptr(GHashTable) again = NULL;
    g_autofree char *total = g_strdup_printf ("%u", w->n_jobs);

    g_assert_true (wait_for (rebuilt, GSIZE_TO_POINTER (max_seq), 30));
    again = snapshot ();
    /* Everything else was applied a second time: only the deleted key is right. */
    g_assert_cmpstr (g_hash_table_lookup (again, ODD_KEY_JOBS_TOTAL), ==, total);
  }

  /* The key space of an engine before metrics:format (its coarse metrics:latency buckets):
   * rebuilt in the current format, the old histogram gone, the new one complete. */
  {
    g_autoptr(redisReply) r1 = redisCommand (ctx, "DEL %s", ODD_KEY_FORMAT);
    g_autoptr(redisReply) r2 = redisCommand (ctx, "HSET metrics:latency 500 250 +Inf 50");
    g_autoptr(GHashTable) migrated = NULL;

    g_assert_true (wait_for (format_current, GSIZE_TO_POINTER (max_seq), 30));
    migrated = snapshot ();
    assert_same_snapshot (before, migrated);
    assert_counts (w);
  }
  odd_metrics_engine_stop (engine);
}

static GSubprocess *
spawn_engine_with_redis (const char *redis)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  const char *binary = g_getenv ("ODD_METRICS_ENGINE_BIN");
  GSubprocess *process;

  g_assert_nonnull (binary);
  g_subprocess_launcher_setenv (launcher, "PORT", "0", TRUE);
  g_subprocess_launcher_setenv (launcher, "RABBITMQ_URL", amqp_url, TRUE);
  g_subprocess_launcher_setenv (launcher, "POSTGRES_URL", pg_url, TRUE);
  g_subprocess_launcher_setenv (launcher, "REDIS_URL", redis, TRUE);
  g_subprocess_launcher_setenv (launcher, "ODD_LOG_FORMAT", "text", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  process = g_subprocess_launcher_spawn (launcher, &error, binary, NULL);
  g_assert_no_error (error);
  return process;
}

static GSubprocess *
spawn_engine (void)
{
  return spawn_engine_with_redis (redis_url);
}

static gboolean
some_stored (gpointer data)
{
  return pg_int ("SELECT count(*) FROM job_events") >= (gint64) GPOINTER_TO_SIZE (data);
}

static void
test_sigkill_restart (void)
{
  g_autoptr(Workload) w = NULL;
  g_autoptr(GSubprocess) first = NULL;
  g_autoptr(GSubprocess) second = NULL;
  g_autoptr(GError) error = NULL;
  gint64 stored_at_kill;
  gint64 start;
  double seconds;

  if (!have_servers ())
    return;
  reset_namespace ();
  w = workload_new (3000);
  publish_events (w->events, 2);

  first = spawn_engine ();
  g_assert_true (wait_for (some_stored, GSIZE_TO_POINTER (500), 60));
  g_subprocess_send_signal (first, SIGKILL);
  g_subprocess_wait (first, NULL, &error);
  g_assert_no_error (error);
  stored_at_kill = pg_int ("SELECT count(*) FROM job_events");
  g_test_message ("SIGKILL with %" G_GINT64_FORMAT " of %u events stored", stored_at_kill, w->events->len);
  if (stored_at_kill >= w->events->len)
    g_test_message ("the engine finished before the kill: the restart only re-checks the counts");

  start = g_get_monotonic_time ();
  second = spawn_engine ();
  g_assert_true (wait_for (all_applied, GSIZE_TO_POINTER (w->events->len), 120));
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_test_message ("restart: the remaining %" G_GINT64_FORMAT " events applied in %.2f s",
                  w->events->len - stored_at_kill, seconds);
  for (int i = 0; i < 400 && queue_messages (ODD_QUEUE_LIFECYCLE) > 0; i++)
    g_usleep (50 * 1000);
  assert_counts (w);

  /* SIGTERM: finish the batch, exit 0. */
  g_subprocess_send_signal (second, SIGTERM);
  g_subprocess_wait (second, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (second));
  g_assert_cmpint (g_subprocess_get_exit_status (second), ==, 0);
  assert_counts (w);
}

/* ---- Redis going away and coming back empty ---------------------------------------------- */

static guint own_redis_port;
static char own_redis_url[64];

static GSubprocess *
spawn_redis (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *port = g_strdup_printf ("%u", own_redis_port);
  GSubprocess *process;

  /* No --dir: nothing is saved (--save ""), and the working directory is never written. */
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, "redis-server",
                              "--port", port, "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", NULL);
  g_assert_no_error (error);
  for (int i = 0; i < 100; i++)
    {
      redisContext *ctx = redisConnect ("127.0.0.1", (int) own_redis_port);
      gboolean up = ctx != NULL && ctx->err == 0;

      g_clear_pointer (&ctx, redisFree);
      if (up)
        return process;
      g_usleep (50 * 1000);
    }
  g_error ("redis-server on port %u did not start", own_redis_port);
}

static gint64
own_redis_int (const char *key)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(redisContext) ctx = odd_redis_connect (own_redis_url, &error);
  g_autoptr(redisReply) reply = NULL;

  if (ctx == NULL)
    return -1;
  reply = odd_redis_command (ctx, &error, "GET %s", key);
  if (reply == NULL || reply->type == REDIS_REPLY_NIL)
    return -1;
  return g_ascii_strtoll (reply->str, NULL, 10);
}

typedef struct {
  guint  events;
  gint64 jobs;
} OwnExpect;

static gboolean
own_applied (gpointer data)
{
  OwnExpect *expect = data;

  return pg_int ("SELECT count(*) FROM job_events") == expect->events
         && own_redis_int (ODD_KEY_APPLIED_SEQ) == pg_int ("SELECT coalesce(max(seq), 0) FROM job_events")
         && own_redis_int (ODD_KEY_JOBS_TOTAL) == expect->jobs;
}

static void
test_redis_restart (void)
{
  g_autoptr(Workload) a = NULL;
  g_autoptr(Workload) b = NULL;
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(GSubprocess) engine = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *redis_server = g_find_program_in_path ("redis-server");

  if (!have_servers ())
    return;
  if (redis_server == NULL)
    {
      g_test_skip ("redis-server is not installed");
      return;
    }
  reset_namespace ();
  own_redis_port = odd_test_free_port ();
  g_snprintf (own_redis_url, sizeof own_redis_url, "redis://127.0.0.1:%u/0", own_redis_port);
  server = spawn_redis ();
  engine = spawn_engine_with_redis (own_redis_url);

  a = workload_new (200);
  publish_events (a->events, 1);
  g_assert_true (wait_for (own_applied, &(OwnExpect) { a->events->len, a->n_jobs }, 60));

  /* Redis dies; events keep coming. The engine stores them, fails to apply, reconnects... */
  g_subprocess_send_signal (server, SIGKILL);
  g_subprocess_wait (server, NULL, NULL);
  g_clear_object (&server);
  b = workload_new (200);
  publish_events (b->events, 1);
  g_usleep (G_USEC_PER_SEC);

  /* ...and when Redis is back, empty, rebuilds everything from the event store. */
  server = spawn_redis ();
  g_assert_true (wait_for (own_applied, &(OwnExpect) { a->events->len + b->events->len,
                                                       a->n_jobs + b->n_jobs }, 60));
  g_assert_cmpint (own_redis_int (ODD_KEY_JOBS_COMPLETED), ==, a->completed + b->completed);
  g_assert_cmpint (own_redis_int (ODD_KEY_JOBS_FAILED), ==, a->failed + b->failed);
  g_assert_cmpint (own_redis_int (ODD_KEY_JOBS_INFLIGHT), ==, a->inflight + b->inflight);

  g_subprocess_send_signal (engine, SIGTERM);
  g_subprocess_wait (engine, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (engine), ==, 0);
  g_subprocess_send_signal (server, SIGTERM);
  g_subprocess_wait (server, NULL, NULL);
}

static void
test_wrong_type_key (void)
{
  g_autoptr(Workload) a = NULL;
  g_autoptr(Workload) b = NULL;
  g_autoptr(GSubprocess) engine = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(redisContext) ctx = NULL;

  if (!have_servers ())
    return;
  reset_namespace ();
  engine = spawn_engine ();
  a = workload_new (100);
  publish_events (a->events, 1);
  g_assert_true (wait_for (all_applied, GSIZE_TO_POINTER (a->events->len), 60));

  /* Someone turns a counter into a hash: the next script fails half way (Redis does not roll
   * scripts back), so the engine must rebuild rather than retry. */
  ctx = redis ();
  {
    g_autoptr(redisReply) r1 = redisCommand (ctx, "DEL %s", ODD_KEY_JOBS_COMPLETED);
    g_autoptr(redisReply) r2 = redisCommand (ctx, "HSET %s x 1", ODD_KEY_JOBS_COMPLETED);
  }
  b = workload_new (100);
  publish_events (b->events, 1);
  workload_merge (a, b);
  g_assert_true (wait_for (all_applied, GSIZE_TO_POINTER (a->events->len), 60));
  assert_counts (a);

  g_subprocess_send_signal (engine, SIGTERM);
  g_subprocess_wait (engine, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (engine), ==, 0);
}

/* ---- several writers and replicas -------------------------------------------------------- */

/* Inserts @events into job_events on @conn as any writer would, inside the transaction the
 * caller opened. */
static void
insert_events_raw (PGconn    *conn,
                   GPtrArray *events)
{
  for (guint i = 0; i < events->len; i++)
    {
      g_autofree char *text = odd_json_to_string (events->pdata[i]);
      const char *params[] = { text };
      g_autoptr(GError) error = NULL;
      g_autoptr(PGresult) res = odd_pg_query (conn,
                                              "INSERT INTO job_events "
                                              "(event_id, job_id, event_type, occurred_at, envelope) "
                                              "SELECT (e->>'eventId')::uuid, (e->'payload'->>'id')::uuid, "
                                              "       e->>'eventType', (e->>'occurredAt')::timestamptz, e "
                                              "FROM (SELECT $1::jsonb AS e) AS t",
                                              1, params, &error);

      g_assert_no_error (error);
    }
}

/* The engine either committed events after the open transaction's (their seqs are higher:
 * the gap a "seq > watermark" reader skips), or it waits for that transaction. */
static gboolean
overtaken_or_waiting (gpointer data)
{
  gint64 committed_before = GPOINTER_TO_SIZE (data);

  return pg_int ("SELECT count(*) FROM job_events") > committed_before
         || pg_int ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") > 0;
}

typedef struct {
  gint64 events;
  gint64 jobs;
} Expect;

static gboolean
all_counted (gpointer data)
{
  Expect *expect = data;

  return all_applied (GSIZE_TO_POINTER (expect->events))
         && redis_int (ODD_KEY_JOBS_TOTAL) == expect->jobs;
}

/* Two writers of job_events, one of them slow: a transaction takes its seqs, then waits before
 * its COMMIT while the engine stores later events. bigserial hands out seqs at INSERT, not at
 * COMMIT, so without ordered commits the engine applies the later seqs, moves the watermark
 * past the open transaction's, and never counts those events. */
static void
test_uncommitted_seq_gap (void)
{
  g_autoptr(Workload) all = NULL;
  g_autoptr(Workload) later = NULL;
  g_autoptr(Workload) slow = NULL;
  g_autoptr(OddMetrics) metrics = NULL;
  g_autoptr(OddMetricsEngine) engine = NULL;
  g_autoptr(PGconn) writer = NULL;
  g_autoptr(GError) error = NULL;
  gint64 committed;
  gint64 slow_max;

  if (!have_servers ())
    return;
  reset_namespace ();
  metrics = odd_metrics_new ("metrics-engine");
  engine = engine_new (metrics);
  odd_metrics_engine_start (engine);
  all = workload_new (20);
  publish_events (all->events, 1);
  g_assert_true (wait_for (all_applied, GSIZE_TO_POINTER (all->events->len), 60));

  /* The slow writer: its events take their seqs now and stay uncommitted. */
  slow = workload_new (5);
  writer = pg ();
  odd_pg_exec (writer, "BEGIN", &error);
  g_assert_no_error (error);
  insert_events_raw (writer, slow->events);
  {
    g_autoptr(PGresult) res = odd_pg_query (writer, "SELECT max(seq) FROM job_events", 0, NULL, &error);

    g_assert_no_error (error);
    slow_max = g_ascii_strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  }

  /* Meanwhile the engine gets later events. */
  committed = pg_int ("SELECT count(*) FROM job_events");
  later = workload_new (20);
  publish_events (later->events, 1);
  g_assert_true (wait_for (overtaken_or_waiting, GSIZE_TO_POINTER (committed), 60));
  g_test_message ("while the slow transaction (seqs up to %" G_GINT64_FORMAT ") was open: "
                  "%" G_GINT64_FORMAT " later events committed, watermark %" G_GINT64_FORMAT,
                  slow_max, pg_int ("SELECT count(*) FROM job_events") - committed,
                  redis_int (ODD_KEY_APPLIED_SEQ));

  odd_pg_exec (writer, "COMMIT", &error);
  g_assert_no_error (error);
  /* The slow writer's messages reach the engine too (as their redeliveries would): stored
   * already, so dropped, not counted twice. */
  publish_events (slow->events, 1);

  workload_merge (all, later);
  workload_merge (all, slow);
  /* Waited for, then asserted: a skipped event leaves the watermark at max(seq) with a count
   * missing, which the assertions below name. */
  wait_for (all_counted, &(Expect) { all->events->len, all->n_jobs }, 30);
  g_assert_true (wait_for (duplicates_seen, &(DupProbe) { metrics, slow->events->len }, 30));
  for (int i = 0; i < 200 && queue_messages (ODD_QUEUE_LIFECYCLE) > 0; i++)
    g_usleep (50 * 1000);
  g_assert_cmpuint (queue_messages (ODD_QUEUE_LIFECYCLE), ==, 0);
  assert_counts (all);
  odd_metrics_engine_stop (engine);
}

static double
metric_sum (OddMetrics *m1,
            OddMetrics *m2,
            const char *name)
{
  return metric_value (m1, name) + metric_value (m2, name);
}

typedef struct {
  OddMetrics *m1;
  OddMetrics *m2;
  guint       expected;
} DupProbe2;

static gboolean
duplicates_seen_by_both (gpointer data)
{
  DupProbe2 *probe = data;

  return metric_sum (probe->m1, probe->m2, "metrics_engine_events_duplicate_total") >= probe->expected;
}

/* Publishes @n small messages straight to @queue (the default exchange). */
static void
publish_to_queue (const char *queue,
                  guint       n)
{
  amqp_connection_state_t conn = amqp ();
  g_autoptr(GError) error = NULL;
  g_autoptr(OddAmqpConfirms) confirms = odd_amqp_confirms_new (conn, 1, &error);
  OddAmqpProps props = { NULL, NULL, NULL };

  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    {
      odd_amqp_confirms_publish (confirms, "", queue, &props, "{}", 2, &error);
      g_assert_no_error (error);
    }
  odd_amqp_confirms_wait (confirms, 30000, &error);
  g_assert_no_error (error);
  g_clear_pointer (&confirms, odd_amqp_confirms_free);
  odd_amqp_close (conn);
}

static void
purge_queue (const char *queue)
{
  amqp_connection_state_t conn = amqp ();
  g_autoptr(GError) error = NULL;

  amqp_queue_purge (conn, 1, amqp_cstring_bytes (queue));
  odd_amqp_check_reply (amqp_get_rpc_reply (conn), "queue.purge", &error);
  g_assert_no_error (error);
  odd_amqp_close (conn);
}

/* The newest second (of the last 20) whose hash holds a queue sample; 0 when none does. */
static gint64
newest_sampled_second (void)
{
  g_autoptr(redisContext) ctx = redis ();
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  for (gint64 t = now; t > now - 20; t--)
    {
      g_autoptr(redisReply) reply = redisCommand (ctx, "HEXISTS " ODD_KEY_SEC_PREFIX "%" G_GINT64_FORMAT " "
                                                  ODD_SEC_FIELD_QUEUE_PREFIX ODD_QUEUE_JOBS_CREATED, t);
      if (reply->integer == 1)
        return t;
    }
  return 0;
}

typedef struct {
  guint  created;
  guint  dead;
  gint64 second;   /* out: the second found */
} DepthProbe;

static char *
sec_field (gint64      second,
           const char *field)
{
  g_autoptr(redisContext) ctx = redis ();
  g_autoptr(redisReply) reply = redisCommand (ctx, "HGET " ODD_KEY_SEC_PREFIX "%" G_GINT64_FORMAT " %s", second, field);

  return reply->type == REDIS_REPLY_STRING ? g_strdup (reply->str) : NULL;
}

static gboolean
depths_recorded (gpointer data)
{
  DepthProbe *probe = data;
  gint64 second = newest_sampled_second ();
  g_autofree char *created = NULL;
  g_autofree char *dead = NULL;
  g_autofree char *created_expected = g_strdup_printf ("%u 0", probe->created);
  g_autofree char *dead_expected = g_strdup_printf ("%u 0", probe->dead);

  if (second == 0)
    return FALSE;
  created = sec_field (second, ODD_SEC_FIELD_QUEUE_PREFIX ODD_QUEUE_JOBS_CREATED);
  dead = sec_field (second, ODD_SEC_FIELD_QUEUE_PREFIX ODD_QUEUE_DEAD);
  probe->second = second;
  return g_strcmp0 (created, created_expected) == 0 && g_strcmp0 (dead, dead_expected) == 0;
}

/* Two engines (replicas) sample the queue depths: each second that has a sample holds every
 * queue's "<messages> <consumers>" of one whole reading, in the second's hash with its expiry. */
static void
test_queue_depths_per_second (void)
{
  g_autoptr(OddMetrics) m1 = NULL;
  g_autoptr(OddMetrics) m2 = NULL;
  g_autoptr(OddMetricsEngine) first = NULL;
  g_autoptr(OddMetricsEngine) second = NULL;
  g_autoptr(redisContext) ctx = NULL;
  g_autoptr(redisReply) ttl = NULL;
  DepthProbe probe = { 7, 2, 0 };
  g_autofree char *key = NULL;
  g_autofree char *depth = NULL;

  if (!have_servers ())
    return;
  reset_namespace ();
  purge_queue (ODD_QUEUE_JOBS_CREATED);
  purge_queue (ODD_QUEUE_DEAD);
  publish_to_queue (ODD_QUEUE_JOBS_CREATED, probe.created);
  publish_to_queue (ODD_QUEUE_DEAD, probe.dead);

  m1 = odd_metrics_new ("metrics-engine");
  m2 = odd_metrics_new ("metrics-engine");
  first = engine_new (m1);
  second = engine_new (m2);
  odd_metrics_engine_start (first);
  odd_metrics_engine_start (second);

  g_assert_true (wait_for (depths_recorded, &probe, 30));
  key = g_strdup_printf (ODD_KEY_SEC_PREFIX "%" G_GINT64_FORMAT, probe.second);
  depth = sec_field (probe.second, ODD_SEC_FIELD_QUEUE_DEPTH);
  g_assert_cmpstr (depth, ==, "7");
  {
    /* The queues nobody published to are in the same sample, empty. */
    g_autofree char *failed = sec_field (probe.second, ODD_SEC_FIELD_QUEUE_PREFIX ODD_QUEUE_FAILED_VALIDATION);
    g_autofree char *lifecycle = sec_field (probe.second, ODD_SEC_FIELD_QUEUE_PREFIX ODD_QUEUE_LIFECYCLE);

    g_assert_cmpstr (failed, ==, "0 0");
    g_assert_nonnull (lifecycle);
    g_assert_true (g_str_has_prefix (lifecycle, "0 "));
  }
  ctx = redis ();
  ttl = redisCommand (ctx, "TTL %s", key);
  g_assert_cmpint (ttl->integer, >, ODD_AGGREGATES_SEC_TTL - 30);
  g_assert_cmpint (ttl->integer, <=, ODD_AGGREGATES_SEC_TTL);

  /* A depth that changes shows in a later second. */
  purge_queue (ODD_QUEUE_DEAD);
  probe.dead = 0;
  g_assert_true (wait_for (depths_recorded, &probe, 30));

  odd_metrics_engine_stop (first);
  odd_metrics_engine_stop (second);
  purge_queue (ODD_QUEUE_JOBS_CREATED);
}

/* Two engines on one queue, event store and Redis: every event stored and counted once, by
 * one of them; a FLUSHDB while both run is rebuilt once, exactly. */
static void
test_two_engines (void)
{
  g_autoptr(Workload) w = NULL;
  g_autoptr(Workload) more = NULL;
  g_autoptr(OddMetrics) m1 = NULL;
  g_autoptr(OddMetrics) m2 = NULL;
  g_autoptr(OddMetricsEngine) first = NULL;
  g_autoptr(OddMetricsEngine) second = NULL;
  g_autoptr(redisContext) ctx = NULL;
  g_autoptr(redisReply) reply = NULL;
  guint64 n1, n2;
  gint64 start;
  double seconds;

  if (!have_servers ())
    return;
  reset_namespace ();
  m1 = odd_metrics_new ("metrics-engine");
  m2 = odd_metrics_new ("metrics-engine");
  first = engine_new (m1);
  second = engine_new (m2);

  /* ODD_ME_TEST_JOBS: a throughput measurement, as in counts-exact-with-duplicates. Both
   * start together on a full queue, each with ODD_PREFETCH deliveries in hand: the broker
   * hands the rest out to both. */
  w = workload_new (g_getenv ("ODD_ME_TEST_JOBS") ? (guint) atoi (g_getenv ("ODD_ME_TEST_JOBS")) : 1000);
  publish_events (w->events, 2);
  start = g_get_monotonic_time ();
  odd_metrics_engine_start (first);
  odd_metrics_engine_start (second);
  g_assert_true (wait_for (all_applied, GSIZE_TO_POINTER (w->events->len), 600));
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_test_message ("two engines: %u new events stored and applied in %.2f s: %.0f events/s",
                  w->events->len, seconds, w->events->len / seconds);
  g_assert_true (wait_for (duplicates_seen_by_both, &(DupProbe2) { m1, m2, w->events->len }, 300));
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_test_message ("two engines: all %u deliveries (duplicates included) done in %.2f s: %.0f deliveries/s",
                  w->events->len * 2, seconds, w->events->len * 2 / seconds);
  g_assert_true (wait_for (engine_ready, first, 30));
  g_assert_true (wait_for (engine_ready, second, 30));
  for (int i = 0; i < 200 && queue_messages (ODD_QUEUE_LIFECYCLE) > 0; i++)
    g_usleep (50 * 1000);
  g_assert_cmpuint (queue_messages (ODD_QUEUE_LIFECYCLE), ==, 0);
  assert_counts (w);
  n1 = odd_metrics_engine_get_n_applied (first);
  n2 = odd_metrics_engine_get_n_applied (second);
  g_test_message ("new events stored by the first engine %" G_GUINT64_FORMAT ", by the second %"
                  G_GUINT64_FORMAT, n1, n2);
  g_assert_cmpuint (n1, >, 0);
  g_assert_cmpuint (n2, >, 0);
  g_assert_cmpuint (n1 + n2, ==, w->events->len);

  /* Redis loses everything while both run and more events arrive: one of them rebuilds (the
   * other's batches meanwhile wait in the store), and the counts come back exact. */
  more = workload_new (300);
  ctx = redis ();
  reply = redisCommand (ctx, "FLUSHDB");
  publish_events (more->events, 1);
  workload_merge (w, more);
  g_assert_true (wait_for (all_counted, &(Expect) { w->events->len, w->n_jobs }, 120));
  for (int i = 0; i < 200 && queue_messages (ODD_QUEUE_LIFECYCLE) > 0; i++)
    g_usleep (50 * 1000);
  assert_counts (w);
  g_assert_cmpuint (odd_metrics_engine_get_n_applied (first) + odd_metrics_engine_get_n_applied (second),
                    ==, w->events->len);
  g_assert_cmpfloat (metric_sum (m1, m2, "metrics_engine_rebuilds_total"), >=, 2);
  g_assert_true (engine_ready (first));
  g_assert_true (engine_ready (second));

  odd_metrics_engine_stop (first);
  odd_metrics_engine_stop (second);
}

static const char *
event_job_id (JsonNode *event)
{
  return json_object_get_string_member (json_object_get_object_member (json_node_get_object (event),
                                                                       "payload"), "id");
}

static gboolean
all_applied_and_dead (gpointer data)
{
  Expect *expect = data;

  return all_applied (GSIZE_TO_POINTER (expect->events))
         && pg_int ("SELECT count(*) FROM dead_letters") >= expect->jobs;
}

/* The store refuses some events for their data (a trigger raising P0001 for two jobs): the
 * batch is stored again one event at a time behind savepoints, in one transaction, so what is
 * stored is still one run of seqs after the batch's prev and is counted exactly; each refused
 * event becomes a dead letter. */
static void
test_store_refuses_some (void)
{
  g_autoptr(Workload) good = NULL;
  g_autoptr(Workload) poison = NULL;
  g_autoptr(OddMetrics) metrics = NULL;
  g_autoptr(OddMetricsEngine) engine = NULL;
  g_autoptr(PGconn) conn = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) mixed = g_ptr_array_new ();
  g_autofree char *create = NULL;

  if (!have_servers ())
    return;
  reset_namespace ();
  good = workload_new (40);
  poison = workload_new (2);
  conn = pg ();
  create = g_strdup_printf ("CREATE OR REPLACE FUNCTION test_refuse_event () RETURNS trigger "
                            "LANGUAGE plpgsql AS $$ BEGIN "
                            "IF NEW.job_id IN ('%s', '%s') THEN "
                            "RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'P0001'; END IF; "
                            "RETURN NEW; END $$;"
                            "DROP TRIGGER IF EXISTS test_refuse_event ON job_events;"
                            "CREATE TRIGGER test_refuse_event BEFORE INSERT ON job_events "
                            "FOR EACH ROW EXECUTE FUNCTION test_refuse_event ();",
                            event_job_id (poison->events->pdata[0]),
                            event_job_id (poison->events->pdata[poison->events->len - 1]));
  odd_pg_exec (conn, create, &error);
  g_assert_no_error (error);

  /* Poison among the good ones, so that they share batches. */
  for (guint i = 0; i < good->events->len; i++)
    {
      g_ptr_array_add (mixed, good->events->pdata[i]);
      if (i % 20 == 0 && i / 20 < poison->events->len)
        g_ptr_array_add (mixed, poison->events->pdata[i / 20]);
    }
  for (guint i = good->events->len / 20 + 1; i < poison->events->len; i++)
    g_ptr_array_add (mixed, poison->events->pdata[i]);
  publish_events (mixed, 1);

  metrics = odd_metrics_new ("metrics-engine");
  engine = engine_new (metrics);
  odd_metrics_engine_start (engine);
  g_assert_true (wait_for (all_applied_and_dead, &(Expect) { good->events->len, poison->events->len }, 60));
  for (int i = 0; i < 200 && queue_messages (ODD_QUEUE_LIFECYCLE) > 0; i++)
    g_usleep (50 * 1000);
  g_assert_cmpuint (queue_messages (ODD_QUEUE_LIFECYCLE), ==, 0);
  assert_counts (good);
  g_assert_cmpint (pg_int ("SELECT count(*) FROM dead_letters WHERE reason = 'invalid' "
                           "AND message->>'validation_error' LIKE '%SQLSTATE P0001%'"), ==, poison->events->len);
  odd_metrics_engine_stop (engine);
  odd_pg_exec (conn, "DROP TRIGGER test_refuse_event ON job_events;"
                     "DROP FUNCTION test_refuse_event ()", &error);
  g_assert_no_error (error);
}

/* GET http://127.0.0.1:@port@path; returns the status, @body the text. */
static guint
http_get (guint        port,
          const char  *path,
          char       **body)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  for (int i = 0; i < 100; i++)
    {
      g_clear_error (&error);
      bytes = soup_session_send_and_read (session, msg, NULL, &error);
      if (bytes != NULL)
        break;
      g_clear_object (&msg);
      msg = soup_message_new ("GET", url);
      g_usleep (50 * 1000);
    }
  g_assert_no_error (error);
  *body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  return soup_message_get_status (msg);
}

static void
test_readyz_reason (void)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GSubprocess) engine = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *body = NULL;
  g_autoptr(JsonNode) node = NULL;
  const guint port = odd_test_free_port ();
  g_autofree char *port_str = g_strdup_printf ("%u", port);
  g_autofree char *dead_pg = g_strdup_printf ("postgresql://postgres@127.0.0.1:%u/odd_me", odd_test_free_port ());
  guint status;

  if (!have_servers ())
    return;
  /* PostgreSQL unreachable (nothing listens on its port): alive, but not ready, and says why. */
  g_subprocess_launcher_setenv (launcher, "PORT", port_str, TRUE);
  g_subprocess_launcher_setenv (launcher, "RABBITMQ_URL", amqp_url, TRUE);
  g_subprocess_launcher_setenv (launcher, "POSTGRES_URL", dead_pg, TRUE);
  g_subprocess_launcher_setenv (launcher, "REDIS_URL", redis_url, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  engine = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("ODD_METRICS_ENGINE_BIN"), NULL);
  g_assert_no_error (error);

  status = http_get (port, "/healthz", &body);
  g_assert_cmpuint (status, ==, 200);
  g_clear_pointer (&body, g_free);
  g_usleep (500 * 1000);
  status = http_get (port, "/readyz", &body);
  g_assert_cmpuint (status, ==, 503);
  node = odd_json_parse (body, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "status"), ==, "not_ready");
  g_assert_nonnull (strstr (json_object_get_string_member (json_node_get_object (node), "reason"), "PostgreSQL"));

  /* SIGTERM in the middle of the reconnect backoff: out, exit 0 (a stop that hung would meet
   * meson's timeout). */
  g_subprocess_send_signal (engine, SIGTERM);
  g_subprocess_wait (engine, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (engine), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  pg_url = g_getenv ("ODD_TEST_POSTGRES_URL");
  redis_url = g_getenv ("ODD_TEST_REDIS_URL");
  amqp_url = g_getenv ("ODD_TEST_RABBITMQ_URL");
  registry = odd_schema_registry_new_default (&error);
  g_assert_no_error (error);

  g_test_add_func ("/metrics-engine/projection-watermark", test_projection_watermark);
  g_test_add_func ("/metrics-engine/counts-exact-with-duplicates", test_counts_exact_with_duplicates);
  g_test_add_func ("/metrics-engine/invalid-dead-lettered", test_invalid_dead_lettered);
  g_test_add_func ("/metrics-engine/batches", test_batches);
  g_test_add_func ("/metrics-engine/batch-crash-loop", test_batch_crash_loop);
  g_test_add_func ("/metrics-engine/rebuild-after-flush", test_rebuild_after_flush);
  g_test_add_func ("/metrics-engine/sigkill-restart", test_sigkill_restart);
  g_test_add_func ("/metrics-engine/two-engines", test_two_engines);
  g_test_add_func ("/metrics-engine/queue-depths-per-second", test_queue_depths_per_second);
  g_test_add_func ("/metrics-engine/redis-restart", test_redis_restart);
  g_test_add_func ("/metrics-engine/readyz-reason", test_readyz_reason);
  g_test_add_func ("/metrics-engine/wrong-type-key", test_wrong_type_key);
  g_test_add_func ("/metrics-engine/uncommitted-seq-gap", test_uncommitted_seq_gap);
  g_test_add_func ("/metrics-engine/store-refuses-some", test_store_refuses_some);

  ret = g_test_run ();
  g_clear_object (&registry);
  return ret;
}
