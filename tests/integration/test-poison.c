/* test-poison.c: no single message may stop the pipeline
 *
 * For each class of bad-but-valid-looking input (the table `cases` below): submit it (to the
 * gateway, or straight to jobs.created or jobs.lifecycle as no gateway or processor would),
 * then ordinary jobs. Every ordinary job must complete; the poison must be refused at the
 * gateway (a 4xx with {error, details}), dead-lettered once with its reason, stored and
 * processed like any job, or stored and then given up as FAILED, as the case allows; and the
 * processor and the metrics-engine must be ready afterwards. The test database carries
 * triggers that refuse some marker types, as a database may refuse a row for its own reasons. Then backpressure:
 * with the processor stopped and a small length limit on jobs.created, the gateway answers
 * 503 + Retry-After and says not ready, and every job it accepted completes exactly once
 * when the processor resumes.
 *
 * To add a class: one body function and one row in `cases`.
 */
#define G_LOG_DOMAIN "test-poison"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "odd-it.h"
#include "odd-contracts.h"

/* What may happen to a poison; a case allows one or more. */
typedef enum {
  OUTCOME_REFUSED = 1 << 0,  /* 4xx from the gateway with {error, details}: nothing stored */
  OUTCOME_DEAD    = 1 << 1,  /* exactly one dead letter, with one of the case's reasons */
  OUTCOME_STORED  = 1 << 2,  /* a job like any other: it reaches a terminal state */
  OUTCOME_FAILED  = 1 << 3,  /* stored, then given up: a FAILED row, its job.failed event and
                              * exactly one dead letter */
} Outcome;

typedef enum {
  ROUTE_GATEWAY,     /* POST /jobs with the body */
  ROUTE_QUEUE,       /* the body is a job, wrapped in a job.created envelope, to jobs.created */
  ROUTE_QUEUE_RAW,   /* the body as it is, to jobs.created */
  ROUTE_EVENT,       /* the body as it is, to jobs.lifecycle (the metrics-engine's queue) */
} Route;

typedef struct {
  const char *name;
  Route       route;
  /* The job (or raw message) for @job_id; the id must appear in it, so that a dead letter
   * can be found even when the message does not parse. */
  char     *(*body) (const char *job_id);
  guint       outcomes;
  const char *reasons;    /* allowed dead-letter reasons, "|"-separated */
  const char *sqlstate;   /* the SQLSTATE a storage_refused dead letter must carry, or NULL */
  gboolean    in_batch;   /* an event batch: its good event (neighbour_of()) is stored */
} PoisonCase;

#define N_ORDINARY 5
#define TRIGGER_TYPE    "poison-trigger"     /* the test database refuses to insert it */
#define CRASH_LOOP_TYPE "poison-crash-loop"  /* ... and to update it: the processor fails on
                                              * it every time it is delivered */
#define LATE_LOOP_TYPE  "poison-crash-loop-late" /* ... and to complete it, once it is stored */
#define EVENT_LOOP_TYPE "poison-engine-loop" /* its events the event store refuses with a
                                              * transient error (deadlock), every time */

static OddIt *it;

/* ---- bodies ---- */

static char *
job_with (const char *job_id,
          const char *type,
          const char *created_at,
          const char *payload)
{
  g_autofree char *now = odd_time_now_rfc3339 ();

  return g_strdup_printf ("{\"id\":\"%s\",\"type\":\"%s\",\"status\":\"PENDING\","
                          "\"createdAt\":\"%s\",\"payload\":%s}",
                          job_id, type, created_at != NULL ? created_at : now,
                          payload != NULL ? payload : "{}");
}

/* Random letters: incompressible, so PostgreSQL cannot shrink the index entry. */
static char *
letters (guint n)
{
  GString *s = g_string_sized_new (n);

  for (guint i = 0; i < n; i++)
    g_string_append_c (s, (char) g_random_int_range ('a', 'z' + 1));
  return g_string_free (s, FALSE);
}

static char *
body_type_5000 (const char *job_id)
{
  g_autofree char *type = letters (5000);

  return job_with (job_id, type, NULL, NULL);
}

static char *
body_type_2000 (const char *job_id)
{
  g_autofree char *type = letters (2000);

  return job_with (job_id, type, NULL, NULL);
}

/* 1,000 characters but 4,000 bytes: a bound that counts characters is not a bound in bytes. */
static char *
body_type_emoji (const char *job_id)
{
  g_autoptr (GString) type = g_string_new (NULL);

  for (guint i = 0; i < 1000; i++)
    g_string_append_unichar (type, 0x1F600 + g_random_int_range (0, 64));
  return job_with (job_id, type->str, NULL, NULL);
}

static char *
body_year_0000 (const char *job_id)
{
  return job_with (job_id, "poison-date", "0000-01-01T00:00:00Z", NULL);
}

/* Year 1 in its own time zone is year 0 in UTC. */
static char *
body_year_0001_offset (const char *job_id)
{
  return job_with (job_id, "poison-date", "0001-01-01T00:00:00+01:00", NULL);
}

static char *
body_year_0001 (const char *job_id)
{
  return job_with (job_id, "poison-date", "0001-01-01T00:00:00Z", NULL);
}

static char *
body_year_9999 (const char *job_id)
{
  return job_with (job_id, "poison-date", "9999-12-31T23:59:59.999Z", NULL);
}

static char *
body_year_9999_offset (const char *job_id)
{
  /* 9999-12-31T23:59:59-01:00 is year 10000 in UTC. */
  return job_with (job_id, "poison-date", "9999-12-31T23:59:59-01:00", NULL);
}

static char *
body_trigger (const char *job_id)
{
  return job_with (job_id, TRIGGER_TYPE, NULL, NULL);
}

static char *
nested (guint depth)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < depth; i++)
    g_string_append (s, "{\"a\":");
  g_string_append (s, "1");
  for (guint i = 0; i < depth; i++)
    g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

static char *
body_deep_60 (const char *job_id)
{
  g_autofree char *payload = nested (60);

  return job_with (job_id, "poison-deep", NULL, payload);
}

static char *
body_deep_100 (const char *job_id)
{
  g_autofree char *payload = nested (100);

  return job_with (job_id, "poison-deep", NULL, payload);
}

static char *
body_deep_500 (const char *job_id)
{
  g_autofree char *payload = nested (500);

  return job_with (job_id, "poison-deep", NULL, payload);
}

static char *
body_deep_5000 (const char *job_id)
{
  g_autofree char *payload = nested (5000);

  return job_with (job_id, "poison-deep", NULL, payload);
}

static char *
body_huge_number (const char *job_id)
{
  return job_with (job_id, "poison-number", NULL, "{\"n\":1e400}");
}

static char *
body_beyond_numeric (const char *job_id)
{
  /* numeric holds 131,072 digits before the point: this is past what jsonb can store */
  return job_with (job_id, "poison-number", NULL, "{\"n\":1e200000}");
}

static char *
body_crash_loop (const char *job_id)
{
  return job_with (job_id, CRASH_LOOP_TYPE, NULL, NULL);
}

static char *
body_crash_loop_late (const char *job_id)
{
  /* the attempt ends in a later transaction than the one that stored the job */
  return job_with (job_id, LATE_LOOP_TYPE, NULL, "{\"simulate\":{\"durationMs\":200}}");
}

/* An @event_type as the processor would send it, of a job of @type with @status. */
static char *
lifecycle_event (const char *job_id,
                 const char *type,
                 const char *event_type,
                 const char *status,
                 int         attempts)
{
  g_autofree char *now = odd_time_now_rfc3339 ();
  g_autofree char *event_id = odd_uuid_new ();
  g_autofree char *correlation_id = odd_uuid_new ();

  return g_strdup_printf ("{\"contractVersion\":\"%s\",\"eventType\":\"%s\","
                          "\"eventId\":\"%s\",\"occurredAt\":\"%s\","
                          "\"producer\":{\"service\":\"processor\",\"instanceId\":\"poison\","
                          "\"version\":\"0.1.0\"},\"correlationId\":\"%s\","
                          "\"idempotencyKey\":\"%s/0/%s\","
                          "\"payload\":{\"id\":\"%s\",\"type\":\"%s\","
                          "\"status\":\"%s\",\"createdAt\":\"%s\",\"payload\":{},"
                          "\"attempts\":%d,\"generation\":0}}",
                          ODD_CONTRACT_VERSION, event_type, event_id, now, correlation_id, job_id,
                          event_type, job_id, type, status, now, attempts);
}

static char *
validated_event (const char *job_id,
                 const char *type,
                 const char *status)
{
  return lifecycle_event (job_id, type, "job.validated", status, 0);
}

/* For a job whose events the event store keeps refusing: the metrics-engine's crash loop. */
static char *
body_event_loop (const char *job_id)
{
  return validated_event (job_id, EVENT_LOOP_TYPE, "VALIDATED");
}

/* The job whose good event rides in an event batch with the poison of @job_id. */
static char *
neighbour_of (const char *job_id)
{
  g_autofree char *name = g_strconcat ("poison-neighbour/", job_id, NULL);

  return odd_uuid_v5 (ODD_EVENT_NAMESPACE, name);
}

/* An event batch (event-batch.json) of the events of a completed job (the row
 * insert_neighbour() stores) with @poison among them. */
static char *
batch_with (const char *job_id,
            char       *poison)
{
  g_autofree char *neighbour = neighbour_of (job_id);
  g_autofree char *validated = validated_event (neighbour, "poison-neighbour", "VALIDATED");
  g_autofree char *executed = lifecycle_event (neighbour, "poison-neighbour", "job.executed",
                                               "COMPLETED", 1);
  g_autofree char *completed = lifecycle_event (neighbour, "poison-neighbour", "job.completed",
                                                "COMPLETED", 1);
  g_autofree char *owned = poison;

  return g_strdup_printf ("[%s,%s,%s,%s]", validated, executed, owned, completed);
}

static char *
body_event_loop_in_batch (const char *job_id)
{
  return batch_with (job_id, body_event_loop (job_id));
}

static char *
body_invalid_in_batch (const char *job_id)
{
  return batch_with (job_id, validated_event (job_id, "poison-status", "DONE"));
}

static char *
body_garbage (const char *job_id)
{
  return g_strdup_printf ("this is not JSON, job %s", job_id);
}

static char *
body_invalid_utf8 (const char *job_id)
{
  return g_strdup_printf ("{\"id\":\"%s\",\"type\":\"\xff\xfe\"}", job_id);
}

static char *
body_wrong_event (const char *job_id)
{
  g_autofree char *now = odd_time_now_rfc3339 ();
  g_autofree char *event_id = odd_uuid_new ();

  return g_strdup_printf ("{\"contractVersion\":\"%s\",\"eventType\":\"job.completed\","
                          "\"eventId\":\"%s\",\"occurredAt\":\"%s\","
                          "\"producer\":{\"service\":\"gateway\",\"instanceId\":\"poison\","
                          "\"version\":\"0.1.0\"},\"correlationId\":\"%s\","
                          "\"idempotencyKey\":\"%s\",\"payload\":{\"id\":\"%s\"}}",
                          ODD_CONTRACT_VERSION, event_id, now, job_id, job_id, job_id);
}

static const PoisonCase cases[] = {
  { "type-5000-chars", ROUTE_GATEWAY, body_type_5000, OUTCOME_REFUSED | OUTCOME_DEAD,
    "storage_refused", "54000" },
  { "type-5000-chars-queue", ROUTE_QUEUE, body_type_5000, OUTCOME_DEAD,
    "storage_refused|invalid", NULL },
  { "type-2000-chars", ROUTE_GATEWAY, body_type_2000, OUTCOME_REFUSED | OUTCOME_STORED,
    NULL, NULL },
  /* compressible: PostgreSQL may shrink it under the index limit */
  { "type-1000-emoji", ROUTE_GATEWAY, body_type_emoji,
    OUTCOME_REFUSED | OUTCOME_DEAD | OUTCOME_STORED, "storage_refused", "54000" },
  { "created-year-0000", ROUTE_GATEWAY, body_year_0000, OUTCOME_REFUSED | OUTCOME_DEAD,
    "storage_refused|invalid", NULL },
  { "created-year-0000-queue", ROUTE_QUEUE, body_year_0000, OUTCOME_DEAD,
    "storage_refused|invalid", NULL },
  { "created-year-0001-plus-1h", ROUTE_GATEWAY, body_year_0001_offset,
    OUTCOME_REFUSED | OUTCOME_DEAD, "storage_refused|invalid", NULL },
  { "created-year-0001", ROUTE_GATEWAY, body_year_0001, OUTCOME_REFUSED | OUTCOME_STORED,
    NULL, NULL },
  { "created-year-9999", ROUTE_GATEWAY, body_year_9999, OUTCOME_REFUSED | OUTCOME_STORED,
    NULL, NULL },
  /* year 10000 in UTC: PostgreSQL would store it, but no event of it would be RFC 3339 */
  { "created-year-9999-minus-1h", ROUTE_GATEWAY, body_year_9999_offset,
    OUTCOME_REFUSED | OUTCOME_DEAD, "storage_refused|invalid", NULL },
  { "database-trigger-refuses", ROUTE_GATEWAY, body_trigger, OUTCOME_DEAD,
    "storage_refused", "P0001" },
  { "deep-payload-60", ROUTE_GATEWAY, body_deep_60, OUTCOME_REFUSED | OUTCOME_STORED,
    NULL, NULL },
  { "deep-payload-100", ROUTE_GATEWAY, body_deep_100, OUTCOME_REFUSED, NULL, NULL },
  { "deep-payload-500-queue", ROUTE_QUEUE, body_deep_500, OUTCOME_DEAD | OUTCOME_STORED,
    "invalid|unparseable|storage_refused", NULL },
  { "deep-payload-5000-queue", ROUTE_QUEUE, body_deep_5000, OUTCOME_DEAD,
    "invalid|unparseable|storage_refused", NULL },
  { "number-1e400", ROUTE_GATEWAY, body_huge_number, OUTCOME_REFUSED | OUTCOME_STORED,
    NULL, NULL },
  { "number-1e200000-queue", ROUTE_QUEUE, body_beyond_numeric, OUTCOME_DEAD | OUTCOME_STORED,
    "invalid|unparseable|storage_refused", NULL },
  { "crash-loop-queue", ROUTE_QUEUE, body_crash_loop, OUTCOME_DEAD,
    "redelivered_too_often", NULL },
  { "crash-loop-stored-job", ROUTE_GATEWAY, body_crash_loop_late, OUTCOME_FAILED,
    "redelivered_too_often", NULL },
  { "crash-loop-metrics-engine", ROUTE_EVENT, body_event_loop, OUTCOME_DEAD,
    "redelivered_too_often", NULL },
  { "crash-loop-in-event-batch", ROUTE_EVENT, body_event_loop_in_batch, OUTCOME_DEAD,
    "redelivered_too_often", NULL, TRUE },
  { "invalid-event-in-batch", ROUTE_EVENT, body_invalid_in_batch, OUTCOME_DEAD, "invalid",
    NULL, TRUE },
  { "not-json-queue", ROUTE_QUEUE_RAW, body_garbage, OUTCOME_DEAD, "unparseable", NULL },
  { "invalid-utf8-queue", ROUTE_QUEUE_RAW, body_invalid_utf8, OUTCOME_DEAD,
    "unparseable|invalid", NULL },
  { "wrong-event-type-queue", ROUTE_QUEUE_RAW, body_wrong_event, OUTCOME_DEAD, "invalid",
    NULL },
};

/* ---- helpers ---- */

static char *
envelope_for (const char *job_json,
              const char *job_id)
{
  g_autofree char *now = odd_time_now_rfc3339 ();
  g_autofree char *event_id = odd_uuid_new ();
  g_autofree char *correlation_id = odd_uuid_new ();

  /* Written by hand: json-glib would change what it cannot hold (1e200000). */
  return g_strdup_printf ("{\"contractVersion\":\"%s\",\"eventType\":\"job.created\","
                          "\"eventId\":\"%s\",\"occurredAt\":\"%s\","
                          "\"producer\":{\"service\":\"gateway\",\"instanceId\":\"poison\","
                          "\"version\":\"0.1.0\"},\"correlationId\":\"%s\","
                          "\"idempotencyKey\":\"poison/%s\",\"payload\":%s}",
                          ODD_CONTRACT_VERSION, event_id, now, correlation_id, job_id, job_json);
}

static gint64
pg_count (const char *sql,
          const char *param)
{
  PGconn *conn = odd_it_pg (it);
  gint64 n = odd_it_pg_int (conn, sql, param);

  PQfinish (conn);
  return n;
}

static gboolean
jobs_completed (OddIt   *self,
                gpointer data)
{
  GPtrArray *ids = data;

  for (guint i = 0; i < ids->len; i++)
    if (pg_count ("SELECT count(*) FROM jobs WHERE id = $1::uuid AND status = 'COMPLETED'",
                  ids->pdata[i]) != 1)
      return FALSE;
  return TRUE;
}

static const char dead_letters_of[] =
  "SELECT count(*) FROM dead_letters "
  "WHERE job_id::text = $1 OR strpos (message::text, $1) > 0";

static gboolean
poison_settled (OddIt   *self,
                gpointer data)
{
  const char *id = data;

  return pg_count (dead_letters_of, id) > 0
         || pg_count ("SELECT count(*) FROM jobs WHERE id::text = $1 "
                      "AND status IN ('COMPLETED', 'FAILED')", id) > 0;
}

static gboolean
terminal_event_stored (OddIt   *self,
                       gpointer data)
{
  return pg_count ("SELECT count(*) FROM job_events WHERE job_id::text = $1 "
                   "AND event_type IN ('job.completed', 'job.failed')", data) == 1;
}

static gboolean
events_stored (OddIt   *self,
               gpointer data)
{
  return pg_count ("SELECT count(*) FROM job_events WHERE job_id::text = $1", data) == 3;
}

/* The jobs row of the job whose events ride with a poison in a batch, as a processor would
 * have stored it: the tables and /stats must still agree. */
static void
insert_neighbour (const char *job_id)
{
  g_autofree char *neighbour = neighbour_of (job_id);
  PGconn *conn = odd_it_pg (it);
  const char *params[] = { neighbour };
  PGresult *res = PQexecParams (conn,
                                "INSERT INTO jobs (id, type, status, payload, attempts, generation, "
                                "                  correlation_id, created_at, updated_at, "
                                "                  started_at, finished_at) "
                                "VALUES ($1::uuid, 'poison-neighbour', 'COMPLETED', '{}', 1, 0, "
                                "        gen_random_uuid ()::text, now(), now(), now(), now())",
                                1, NULL, params, NULL, NULL, 0);

  g_assert_cmpint (PQresultStatus (res), ==, PGRES_COMMAND_OK);
  PQclear (res);
  PQfinish (conn);
}

static gboolean
ready (OddIt   *self,
       gpointer data)
{
  g_autofree char *url = g_strconcat ((const char *) data, "/readyz", NULL);
  g_autoptr (OddItResponse) r = odd_it_request ("GET", url, NULL, NULL, 0);

  return r->status == 200;
}

static void
submit_ordinary (GPtrArray *ids)
{
  for (guint i = 0; i < N_ORDINARY; i++)
    {
      g_autofree char *id = odd_uuid_new ();

      g_assert_cmpuint (odd_it_submit (it, id, "poison-neighbour", NULL), ==, 202);
      g_ptr_array_add (ids, g_steal_pointer (&id));
    }
}

static gboolean
reason_allowed (const char *reasons,
                const char *reason)
{
  g_auto (GStrv) allowed = g_strsplit (reasons != NULL ? reasons : "", "|", -1);

  return g_strv_contains ((const char * const *) allowed, reason);
}

/* ---- the poison classes ---- */

static void
test_poison (gconstpointer data)
{
  const PoisonCase *c = data;
  g_autofree char *id = odd_uuid_new ();
  g_autofree char *body = c->body (id);
  g_autoptr (GPtrArray) ordinary = g_ptr_array_new_with_free_func (g_free);
  const char *processor = odd_it_service_url (it, ODD_IT_PROCESSOR);
  const char *metrics_engine = odd_it_service_url (it, ODD_IT_METRICS_ENGINE);
  guint status = 0;
  Outcome seen;

  if (c->route == ROUTE_GATEWAY)
    {
      g_autofree char *url = g_strconcat (odd_it_gateway_url (it), "/jobs", NULL);
      g_autoptr (OddItResponse) r = odd_it_request ("POST", url, "application/json",
                                                    body, strlen (body));

      status = r->status;
      if (status >= 400 && status < 500)
        {
          g_autofree char *details = NULL;
          JsonObject *o;

          /* refused: it must say why, in the error contract */
          g_assert_true (c->outcomes & OUTCOME_REFUSED);
          g_assert_nonnull (r->json);
          odd_it_assert_valid ("error", r->json);
          o = json_node_get_object (r->json);
          if (json_object_has_member (o, "details"))
            details = json_to_string (json_object_get_member (o, "details"), FALSE);
          g_test_message ("%s: %u %s %s", c->name, status,
                          json_object_get_string_member (o, "error"),
                          details != NULL ? details : "");
        }
      else
        g_assert_cmpuint (status, ==, 202);
    }
  else
    {
      g_autofree char *message = c->route == ROUTE_QUEUE ? envelope_for (body, id)
                                                         : g_strdup (body);

      if (c->in_batch)
        insert_neighbour (id);

      odd_it_publish_raw (it, c->route == ROUTE_EVENT ? "jobs.lifecycle" : "jobs.created",
                          message, strlen (message));
    }

  /* the pipeline goes on */
  submit_ordinary (ordinary);
  g_assert_true (odd_it_wait (it, jobs_completed, ordinary, 120, 100));

  if (status >= 400 && status < 500)
    {
      seen = OUTCOME_REFUSED;
      g_assert_cmpint (pg_count ("SELECT count(*) FROM jobs WHERE id::text = $1", id), ==, 0);
    }
  else
    {
      g_assert_true (odd_it_wait (it, poison_settled, id, 120, 100));
      if (pg_count (dead_letters_of, id) > 0)
        {
          PGconn *conn = odd_it_pg (it);
          const char *params[] = { id };
          PGresult *res = PQexecParams (conn,
                                        "SELECT reason, message->>'sqlstate', "
                                        "       left (message->>'validation_error', 200) "
                                        "FROM dead_letters "
                                        "WHERE job_id::text = $1 OR strpos (message::text, $1) > 0",
                                        1, NULL, params, NULL, NULL, 0);

          seen = OUTCOME_DEAD;
          g_assert_cmpint (PQresultStatus (res), ==, PGRES_TUPLES_OK);
          /* stored once, whatever the redeliveries */
          g_assert_cmpint (PQntuples (res), ==, 1);
          g_test_message ("%s: dead letter %s (SQLSTATE %s): %s", c->name,
                          PQgetvalue (res, 0, 0),
                          PQgetisnull (res, 0, 1) ? "none" : PQgetvalue (res, 0, 1),
                          PQgetvalue (res, 0, 2));
          g_assert_true (reason_allowed (c->reasons, PQgetvalue (res, 0, 0)));
          if (c->sqlstate != NULL && g_str_equal (PQgetvalue (res, 0, 0), "storage_refused"))
            g_assert_cmpstr (PQgetvalue (res, 0, 1), ==, c->sqlstate);
          if (pg_count ("SELECT count(*) FROM jobs WHERE id::text = $1", id) > 0)
            {
              /* given up after it was stored: a failed job, all the way to the event store */
              seen = OUTCOME_FAILED;
              g_assert_cmpint (pg_count ("SELECT count(*) FROM jobs WHERE id::text = $1 "
                                         "AND status = 'FAILED'", id), ==, 1);
              g_assert_true (odd_it_wait (it, terminal_event_stored, id, 60, 100));
              g_test_message ("%s: the stored job is FAILED", c->name);
            }
          PQclear (res);
          PQfinish (conn);
        }
      else
        {
          /* stored: then all the way, its events in the event store and none refused */
          seen = OUTCOME_STORED;
          g_assert_true (odd_it_wait (it, terminal_event_stored, id, 60, 100));
          g_assert_cmpint (pg_count (dead_letters_of, id), ==, 0);
          g_test_message ("%s: stored and processed like any job", c->name);
        }
    }
  g_assert_true (c->outcomes & seen);
  if (c->in_batch)
    {
      /* the poison was dead-lettered alone: the rest of its batch is counted */
      g_autofree char *neighbour = neighbour_of (id);

      g_assert_true (odd_it_wait (it, events_stored, neighbour, 60, 100));
      g_assert_cmpint (pg_count (dead_letters_of, neighbour), ==, 0);
    }

  /* and the consumers are ready (a crash loop may have made them reconnect a few times) */
  g_assert_true (odd_it_wait (it, ready, (gpointer) processor, 60, 100));
  g_assert_true (odd_it_wait (it, ready, (gpointer) metrics_engine, 60, 100));
}

/* The same unparseable message twice: one dead letter (its key is the message). */
static void
test_dead_letter_once (void)
{
  g_autofree char *id = odd_uuid_new ();
  g_autofree char *body = body_garbage (id);
  g_autoptr (GPtrArray) ordinary = g_ptr_array_new_with_free_func (g_free);

  odd_it_publish_raw (it, "jobs.created", body, strlen (body));
  odd_it_publish_raw (it, "jobs.created", body, strlen (body));
  submit_ordinary (ordinary);
  g_assert_true (odd_it_wait (it, jobs_completed, ordinary, 120, 100));
  g_assert_true (odd_it_wait (it, poison_settled, id, 60, 100));
  g_assert_cmpint (pg_count (dead_letters_of, id), ==, 1);
}

/* ---- backpressure ---- */

static gboolean
all_once (OddIt   *self,
          gpointer data)
{
  GPtrArray *ids = data;

  for (guint i = 0; i < ids->len; i++)
    if (pg_count ("SELECT count(*) FROM jobs WHERE id = $1::uuid AND status = 'COMPLETED'",
                  ids->pdata[i]) != 1)
      return FALSE;
  return TRUE;
}

static void
test_backpressure (void)
{
  g_autoptr (GPtrArray) accepted = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) refused = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *gateway_ready = g_strconcat (odd_it_gateway_url (it), "/readyz", NULL);
  g_autofree char *jobs_url = g_strconcat (odd_it_gateway_url (it), "/jobs", NULL);
  g_autoptr (OddItResponse) first_503 = NULL;
  g_autoptr (OddItResponse) readiness = NULL;
  gint64 completed_events = 0;

  if (!odd_it_can_inject_faults (it))
    {
      g_test_skip ("needs the local-stack fixture");
      return;
    }

  /* nobody consumes, and the queue takes at most 20 ready jobs */
  odd_it_set_queue_limit (it, 20);
  odd_it_kill (it, ODD_IT_PROCESSOR, SIGSTOP);

  /* the processor holds up to its prefetch (200) unacked, the queue 20 more: a refusal
   * comes before 1,000 */
  for (guint i = 0; i < 1000 && first_503 == NULL; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      g_autofree char *body = odd_it_job_body (id, "poison-backpressure", NULL);
      g_autoptr (OddItResponse) r = odd_it_request ("POST", jobs_url, "application/json",
                                                    body, strlen (body));

      if (r->status == 202)
        g_ptr_array_add (accepted, g_steal_pointer (&id));
      else
        {
          g_assert_cmpuint (r->status, ==, 503);
          first_503 = g_steal_pointer (&r);
          g_ptr_array_add (refused, g_steal_pointer (&id));
        }
    }
  g_test_message ("backpressure: %u accepted, then 503", accepted->len);
  g_assert_nonnull (first_503);
  g_assert_nonnull (first_503->retry_after);
  g_assert_cmpint (atoi (first_503->retry_after), >=, 1);
  g_assert_nonnull (first_503->json);
  odd_it_assert_valid ("error", first_503->json);
  g_assert_cmpuint (accepted->len, >=, 20);

  /* the gateway says it cannot take jobs */
  readiness = odd_it_request ("GET", gateway_ready, NULL, NULL, 0);
  g_assert_cmpuint (readiness->status, ==, 503);
  g_test_message ("gateway /readyz: %.*s", (int) g_bytes_get_size (readiness->body),
                  (const char *) g_bytes_get_data (readiness->body, NULL));

  /* resume: everything accepted completes exactly once, nothing refused exists, and the
   * gateway takes jobs again */
  odd_it_kill (it, ODD_IT_PROCESSOR, SIGCONT);
  odd_it_set_queue_limit (it, 100000);
  g_assert_true (odd_it_wait (it, ready, (gpointer) odd_it_gateway_url (it), 30, 250));
  {
    g_autofree char *id = odd_uuid_new ();

    g_assert_cmpuint (odd_it_submit (it, id, "poison-backpressure", NULL), ==, 202);
    g_ptr_array_add (accepted, g_steal_pointer (&id));
  }
  g_assert_true (odd_it_wait (it, all_once, accepted, 180, 250));
  for (guint i = 0; i < accepted->len; i++)
    completed_events += pg_count ("SELECT count(*) FROM job_events "
                                  "WHERE job_id = $1::uuid AND event_type = 'job.completed'",
                                  accepted->pdata[i]);
  g_assert_cmpint (completed_events, ==, accepted->len);
  for (guint i = 0; i < refused->len; i++)
    g_assert_cmpint (pg_count ("SELECT count(*) FROM jobs WHERE id = $1::uuid", refused->pdata[i]),
                     ==, 0);
}

/* After everything: the stores and the read model still agree to the unit. */
static gboolean
nothing_in_flight (OddIt   *self,
                   gpointer data)
{
  OddItStats stats;

  odd_it_get_stats (self, &stats);
  return stats.in_flight == 0
         && pg_count ("SELECT count(*) FROM jobs WHERE status NOT IN ('COMPLETED', 'FAILED')",
                      NULL) == 0;
}

static void
test_agreement (void)
{
  g_assert_true (odd_it_wait (it, nothing_in_flight, NULL, 120, 250));
  odd_it_assert_agreement (it, -1);
}

static void
install_triggers (void)
{
  PGconn *conn = odd_it_pg (it);
  PGresult *res = PQexec (conn,
    "CREATE OR REPLACE FUNCTION poison_refuse () RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    "  IF (TG_OP = 'INSERT' AND NEW.type = '" TRIGGER_TYPE "') "
    "     OR (TG_OP = 'UPDATE' AND NEW.type = '" CRASH_LOOP_TYPE "') "
    "     OR (TG_OP = 'UPDATE' AND NEW.type = '" LATE_LOOP_TYPE "' AND NEW.status = 'COMPLETED') THEN "
    "    RAISE EXCEPTION 'poison test: the database refuses job type %', NEW.type; "
    "  END IF; "
    "  RETURN NEW; "
    "END $$; "
    "CREATE TRIGGER poison_refuse BEFORE INSERT OR UPDATE ON jobs "
    "  FOR EACH ROW EXECUTE FUNCTION poison_refuse (); "
    "CREATE OR REPLACE FUNCTION poison_refuse_event () RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    "  IF NEW.envelope->'payload'->>'type' = '" EVENT_LOOP_TYPE "' THEN "
    "    RAISE EXCEPTION 'poison test: deadlock, again' USING ERRCODE = '40P01'; "
    "  END IF; "
    "  RETURN NEW; "
    "END $$; "
    "CREATE TRIGGER poison_refuse_event BEFORE INSERT ON job_events "
    "  FOR EACH ROW EXECUTE FUNCTION poison_refuse_event ();");

  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    g_error ("installing the test trigger: %s", PQerrorMessage (conn));
  PQclear (res);
  PQfinish (conn);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  it = odd_it_start ();
  /* The processor makes the schema; the trigger goes on its jobs table. */
  g_assert_true (odd_it_wait (it, ready, (gpointer) odd_it_service_url (it, ODD_IT_PROCESSOR),
                              60, 100));
  install_triggers ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strconcat ("/poison/", cases[i].name, NULL);

      g_test_add_data_func (path, &cases[i], test_poison);
    }
  g_test_add_func ("/poison/dead-letter-once", test_dead_letter_once);
  g_test_add_func ("/poison/backpressure", test_backpressure);
  g_test_add_func ("/poison/agreement", test_agreement);
  ret = g_test_run ();

  odd_it_stop (it);
  return ret;
}
