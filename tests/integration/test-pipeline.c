/* test-pipeline.c: 1,000 jobs through the whole pipeline, then exact agreement everywhere
 *
 * The mix: 70 % succeed at once, 10 % take 50 ms, 10 % fail their first attempt and complete
 * on the second, 10 % fail every attempt and end FAILED after ODD_MAX_ATTEMPTS (3).
 * Afterwards the jobs table, /stats, the event store, the cursor-walked job lists, every job's
 * timeline and the dead letters must all tell the same story, to the unit.
 */
#define G_LOG_DOMAIN "test-pipeline"

#include <math.h>
#include <string.h>

#include "odd-it.h"
#include "odd-contracts.h"

#define N_JOBS 1000

typedef enum {
  KIND_OK,
  KIND_SLOW,
  KIND_FLAKY,
  KIND_DOOMED,
} Kind;

static const struct {
  const char *type;
  const char *simulate;
} kinds[] = {
  [KIND_OK] = { "it-ok", NULL },
  [KIND_SLOW] = { "it-slow", "{\"durationMs\":50}" },
  [KIND_FLAKY] = { "it-flaky", "{\"failAttempts\":1}" },
  [KIND_DOOMED] = { "it-doomed", "{\"failAttempts\":5}" },
};

static OddIt *it;
static GPtrArray *ids;      /* job ids, index i has kind kind_of (i) */
static gboolean submitted;  /* later tests need the first one's jobs */

static Kind
kind_of (guint i)
{
  switch (i % 10)
    {
    case 7:
      return KIND_SLOW;
    case 8:
      return KIND_FLAKY;
    case 9:
      return KIND_DOOMED;
    default:
      return KIND_OK;
    }
}

static gboolean
all_terminal (OddIt   *self,
              gpointer data)
{
  gint64 expected = GPOINTER_TO_SIZE (data);
  PGconn *conn = odd_it_pg (self);
  gint64 rows = odd_it_pg_int (conn, "SELECT count(*) FROM jobs", NULL);
  gint64 open = odd_it_pg_int (conn, "SELECT count(*) FROM jobs WHERE status NOT IN ('COMPLETED', 'FAILED')", NULL);
  OddItStats stats;

  PQfinish (conn);
  if (rows != expected || open != 0)
    return FALSE;
  /* the projection may trail the table by a batch */
  odd_it_get_stats (self, &stats);
  return stats.total == expected && stats.in_flight == 0
         && stats.completed + stats.failed == expected;
}

static void
require_submitted (void)
{
  if (!submitted)
    g_test_skip ("needs /pipeline/submit");
}

static void
test_submit (void)
{
  gint64 start = g_get_monotonic_time ();

  ids = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < N_JOBS; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      Kind k = kind_of (i);
      guint status = odd_it_submit (it, id, kinds[k].type, kinds[k].simulate);

      if (status != 202)
        g_error ("job %u (%s): POST /jobs answered %u, not 202", i, id, status);
      g_ptr_array_add (ids, g_steal_pointer (&id));
    }
  g_test_message ("%d jobs accepted in %.2f s", N_JOBS,
                  (g_get_monotonic_time () - start) / 1e6);

  g_assert_true (odd_it_wait (it, all_terminal, GSIZE_TO_POINTER (N_JOBS), 240, 250));
  g_test_message ("all terminal after %.2f s", (g_get_monotonic_time () - start) / 1e6);
  submitted = TRUE;
}

static void
test_agreement (void)
{
  PGconn *conn;
  gint64 failed;

  require_submitted ();
  if (g_test_failed () || !submitted)
    return;

  failed = odd_it_assert_agreement (it, N_JOBS);
  g_assert_cmpint (failed, ==, N_JOBS / 10);

  conn = odd_it_pg (it);
  /* per job: the status and the attempt count its simulation dictates */
  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = ids->pdata[i];
      const char *params[1] = { id };
      PGresult *res = PQexecParams (conn, "SELECT status, attempts, generation FROM jobs WHERE id = $1",
                                    1, NULL, params, NULL, NULL, 0);
      const char *status;
      int attempts;

      g_assert_cmpint (PQresultStatus (res), ==, PGRES_TUPLES_OK);
      g_assert_cmpint (PQntuples (res), ==, 1);
      status = PQgetvalue (res, 0, 0);
      attempts = atoi (PQgetvalue (res, 0, 1));
      g_assert_cmpstr (PQgetvalue (res, 0, 2), ==, "0");
      switch (kind_of (i))
        {
        case KIND_OK:
        case KIND_SLOW:
          g_assert_cmpstr (status, ==, "COMPLETED");
          g_assert_cmpint (attempts, ==, 1);
          break;
        case KIND_FLAKY:
          g_assert_cmpstr (status, ==, "COMPLETED");
          g_assert_cmpint (attempts, ==, 2);
          break;
        case KIND_DOOMED:
          g_assert_cmpstr (status, ==, "FAILED");
          g_assert_cmpint (attempts, ==, 3);
          break;
        default:
          g_assert_not_reached ();
        }
      PQclear (res);
    }

  /* deterministic ids: a lifecycle event's id is uuidv5(namespace, "<job>/<generation>/<type>") */
  for (guint i = 0; i < ids->len; i += 37)
    {
      g_autofree char *name = g_strdup_printf ("%s/0/job.validated", (char *) ids->pdata[i]);
      g_autofree char *expected = odd_uuid_v5 (ODD_EVENT_NAMESPACE, name);

      g_assert_cmpint (odd_it_pg_int (conn,
                                      "SELECT count(*) FROM job_events WHERE event_id = $1::uuid"
                                      " AND event_type = 'job.validated'", expected), ==, 1);
    }
  PQfinish (conn);
}

/* /stats' percentiles against the exact ones (nearest rank) of every completed job's
 * submit-to-completed latency as the metrics-engine measures it (job.completed occurredAt −
 * payload.createdAt, from the event store): within the 5 % the API states. Before, one
 * 509 ms job read as p50 750 ms. */
static void
test_latency (void)
{
  static const guint permilles[] = { 500, 950, 990 };
  static const char *const names[] = { "p50", "p95", "p99" };
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(JsonNode) stats = NULL;
  JsonObject *latency;
  PGconn *conn;

  require_submitted ();
  if (g_test_failed () || !submitted)
    return;

  conn = odd_it_pg (it);
  rows = odd_it_pg_column (conn,
                           "SELECT greatest (0, round ((extract (epoch FROM (envelope->>'occurredAt')::timestamptz)"
                           " - extract (epoch FROM (envelope->'payload'->>'createdAt')::timestamptz))"
                           " * 1000000))::bigint FROM job_events WHERE event_type = 'job.completed'"
                           " ORDER BY 1",
                           NULL);
  PQfinish (conn);
  g_assert_cmpuint (rows->len, ==, N_JOBS - N_JOBS / 10);

  stats = odd_it_get_json (odd_it_read_model_url (it), "/stats");
  latency = json_object_get_object_member (json_node_get_object (stats), "latencyMs");
  for (guint i = 0; i < G_N_ELEMENTS (permilles); i++)
    {
      guint rank = MAX (1, (rows->len * permilles[i] + 999) / 1000);
      double exact = g_ascii_strtod (rows->pdata[rank - 1], NULL) / 1000.0;
      double reported = json_object_get_double_member (latency, names[i]);

      g_test_message ("%s: reported %.3f ms, exact %.3f ms", names[i], reported, exact);
      /* 0.0005: the answer is rounded to the microsecond. */
      g_assert_cmpfloat (fabs (reported - exact), <=, exact * 0.05 + 0.0005);
    }
}

static void
assert_same_set (GHashTable *listed,
                 GPtrArray  *rows,
                 const char *status)
{
  g_assert_cmpuint (g_hash_table_size (listed), ==, rows->len);
  for (guint i = 0; i < rows->len; i++)
    if (!g_hash_table_contains (listed, rows->pdata[i]))
      g_error ("GET /jobs?status=%s misses %s", status, (char *) rows->pdata[i]);
}

static void
test_lists (void)
{
  static const char *const statuses[] = { "COMPLETED", "FAILED" };
  PGconn *conn;

  require_submitted ();
  if (!submitted)
    return;

  conn = odd_it_pg (it);
  for (guint s = 0; s < G_N_ELEMENTS (statuses); s++)
    {
      /* a page size that divides neither count, so the last page is partial */
      g_autoptr (GHashTable) listed = odd_it_list_jobs (it, statuses[s], 97);
      g_autoptr (GPtrArray) rows = odd_it_pg_column (conn, "SELECT id::text FROM jobs WHERE status = $1",
                                                     statuses[s]);

      assert_same_set (listed, rows, statuses[s]);
    }
  PQfinish (conn);
}

static void
assert_timeline (const char *id,
                 Kind        kind,
                 JsonArray  *timeline)
{
  static const char *const ok[] = { "job.validated", "job.executed", "job.completed", NULL };
  static const char *const flaky[] = { "job.validated", "job.executed", "job.executed", "job.completed", NULL };
  static const char *const doomed[] = { "job.validated", "job.executed", "job.executed", "job.executed",
                                        "job.failed", NULL };
  const char *const *expected = kind == KIND_FLAKY ? flaky : kind == KIND_DOOMED ? doomed : ok;
  guint n = g_strv_length ((char **) expected);

  if (json_array_get_length (timeline) != n)
    g_error ("job %s: timeline has %u events, expected %u", id, json_array_get_length (timeline), n);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *event = json_array_get_object_element (timeline, i);

      if (g_strcmp0 (odd_it_event_type (event), expected[i]) != 0)
        g_error ("job %s: timeline[%u] is %s, expected %s", id, i, odd_it_event_type (event), expected[i]);
    }
}

static void
test_timelines (void)
{
  require_submitted ();
  if (!submitted)
    return;

  for (guint i = 0; i < ids->len; i++)
    {
      JsonObject *job;
      JsonArray *timeline;
      g_autoptr (JsonNode) body = odd_it_get_job (it, ids->pdata[i], &job, &timeline);
      Kind k = kind_of (i);

      g_assert_cmpstr (json_object_get_string_member (job, "id"), ==, ids->pdata[i]);
      g_assert_cmpstr (json_object_get_string_member (job, "type"), ==, kinds[k].type);
      g_assert_cmpstr (json_object_get_string_member (job, "status"), ==,
                       k == KIND_DOOMED ? "FAILED" : "COMPLETED");
      g_assert_cmpint (json_object_get_int_member_with_default (job, "attempts", -1), ==,
                       k == KIND_DOOMED ? 3 : k == KIND_FLAKY ? 2 : 1);
      assert_timeline (ids->pdata[i], k, timeline);

      /* GET /events?jobId= tells the same story (a sample: every 10th job of each kind) */
      if (i % 100 < 10)
        {
          g_autofree char *path = g_strdup_printf ("/events?jobId=%s", (char *) ids->pdata[i]);
          g_autoptr (JsonNode) events = odd_it_get_json (odd_it_read_model_url (it), path);

          odd_it_assert_valid ("events", events);
          g_assert_cmpuint (json_array_get_length (json_node_get_array (events)), ==,
                            json_array_get_length (timeline));
        }
    }
}

/* job id → reason of its dead letters (GET /dlq, newest first) */
static GHashTable *
dead_letter_reasons (void)
{
  GHashTable *reasons = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (JsonNode) body = odd_it_get_json (odd_it_read_model_url (it), "/dlq?limit=500");
  JsonArray *items;

  odd_it_assert_valid ("dlq", body);
  items = odd_it_list_items (body);
  /* all of them fit one page here: the count must be the table's */
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (body), "total"), ==,
                   json_array_get_length (items));
  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonObject *dl = json_array_get_object_element (items, i);
      JsonNode *job_id = json_object_get_member (dl, "jobId");

      if (job_id != NULL && !JSON_NODE_HOLDS_NULL (job_id))
        g_hash_table_insert (reasons, g_strdup (json_node_get_string (job_id)),
                             g_strdup (json_object_get_string_member (dl, "reason")));
    }
  return reasons;
}

static void
test_dead_letters (void)
{
  g_autoptr (GHashTable) reasons = NULL;
  guint doomed = 0;

  require_submitted ();
  if (!submitted)
    return;

  reasons = dead_letter_reasons ();
  for (guint i = 0; i < ids->len; i++)
    {
      const char *reason = g_hash_table_lookup (reasons, ids->pdata[i]);

      if (kind_of (i) == KIND_DOOMED)
        {
          if (reason == NULL)
            g_error ("FAILED job %s has no dead letter in GET /dlq", (char *) ids->pdata[i]);
          g_assert_cmpstr (reason, ==, "retries_exhausted");
          doomed++;
        }
      else if (reason != NULL)
        g_error ("job %s succeeded but has a dead letter (%s)", (char *) ids->pdata[i], reason);
    }
  g_assert_cmpuint (doomed, ==, N_JOBS / 10);
}

static gboolean
generation_failed (OddIt   *self,
                   gpointer data)
{
  const char *id = data;
  PGconn *conn = odd_it_pg (self);
  gint64 n = odd_it_pg_int (conn, "SELECT count(*) FROM jobs WHERE id = $1::uuid"
                            " AND generation = 1 AND status = 'FAILED'", id);

  PQfinish (conn);
  return n == 1 && all_terminal (self, GSIZE_TO_POINTER (N_JOBS));
}

static void
test_retry (void)
{
  const char *doomed_id, *ok_id;
  g_autofree char *url = NULL;
  g_autoptr (OddItResponse) r = NULL;
  JsonObject *job;
  JsonArray *timeline;
  g_autoptr (JsonNode) body = NULL;
  guint validated = 0, failed = 0;

  require_submitted ();
  if (!submitted)
    return;
  doomed_id = ids->pdata[9];
  ok_id = ids->pdata[0];

  /* a FAILED job starts generation 1; its simulation still fails, so it ends FAILED again */
  url = odd_it_url (odd_it_gateway_url (it), "/jobs/%s/retry", doomed_id);
  r = odd_it_request ("POST", url, NULL, NULL, 0);
  g_assert_cmpuint (r->status, ==, 202);
  g_assert_nonnull (r->json);
  odd_it_assert_valid ("job-retry", r->json);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (r->json), "jobId"), ==, doomed_id);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (r->json), "generation"), ==, 1);
  g_assert_true (odd_it_wait (it, generation_failed, (gpointer) doomed_id, 60, 100));

  /* the retry neither adds a job nor a failure: failed −1 then +1, total unchanged */
  g_assert_cmpint (odd_it_assert_agreement (it, N_JOBS), ==, N_JOBS / 10);

  body = odd_it_get_job (it, doomed_id, &job, &timeline);
  g_assert_cmpint (json_object_get_int_member_with_default (job, "generation", -1), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (job, "status"), ==, "FAILED");
  for (guint i = 0; i < json_array_get_length (timeline); i++)
    {
      const char *type = odd_it_event_type (json_array_get_object_element (timeline, i));

      validated += g_str_equal (type, "job.validated");
      failed += g_str_equal (type, "job.failed");
    }
  g_assert_cmpuint (validated, ==, 2);
  g_assert_cmpuint (failed, ==, 2);

  /* a COMPLETED job is not retried */
  g_clear_pointer (&url, g_free);
  g_clear_pointer (&r, odd_it_response_free);
  url = odd_it_url (odd_it_gateway_url (it), "/jobs/%s/retry", ok_id);
  r = odd_it_request ("POST", url, NULL, NULL, 0);
  g_assert_cmpuint (r->status, ==, 409);
  g_assert_nonnull (r->json);
  odd_it_assert_valid ("error", r->json);
  g_assert_cmpint (odd_it_assert_agreement (it, N_JOBS), ==, N_JOBS / 10);
}

static gint64
generations_now (OddIt *self)
{
  PGconn *conn = odd_it_pg (self);
  gint64 n = odd_it_pg_int (conn, "SELECT coalesce(sum(generation), 0) FROM jobs", NULL);

  PQfinish (conn);
  return n;
}

static gboolean
replays_settled (OddIt   *self,
                 gpointer data)
{
  gint64 *last = data;
  gint64 now = generations_now (self);

  /* settled: a new generation started, all are terminal, and nothing moved since last poll */
  if (now > last[0] && now == last[1] && all_terminal (self, GSIZE_TO_POINTER (N_JOBS)))
    return TRUE;
  last[1] = now;
  return FALSE;
}

static void
test_dlq_replay (void)
{
  g_autofree char *url = NULL;
  g_autoptr (OddItResponse) r = NULL;
  JsonObject *o;
  gint64 replayed;
  gint64 generations[2];

  require_submitted ();
  if (!submitted)
    return;
  generations[0] = generations_now (it);
  generations[1] = -1;

  url = odd_it_url (odd_it_gateway_url (it), "/dlq/replay");
  r = odd_it_request ("POST", url, "application/json", "{}", 2);
  g_assert_cmpuint (r->status, ==, 200);
  g_assert_nonnull (r->json);
  odd_it_assert_valid ("dlq-replay", r->json);
  o = json_node_get_object (r->json);
  replayed = json_object_get_int_member (o, "replayed");
  g_test_message ("replay: replayed %" G_GINT64_FORMAT ", kept %" G_GINT64_FORMAT,
                  replayed, json_object_get_int_member (o, "kept"));
  /* 100 FAILED jobs had dead letters waiting (default limit 100) */
  g_assert_cmpint (replayed, >, 0);

  /* whatever it replayed runs another generation and, still failing, ends FAILED again:
   * the counts do not move */
  g_assert_true (odd_it_wait (it, replays_settled, generations, 120, 1000));
  g_assert_cmpint (odd_it_assert_agreement (it, N_JOBS), ==, N_JOBS / 10);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  it = odd_it_start ();
  g_test_add_func ("/pipeline/submit", test_submit);
  g_test_add_func ("/pipeline/agreement", test_agreement);
  g_test_add_func ("/pipeline/latency", test_latency);
  g_test_add_func ("/pipeline/lists", test_lists);
  g_test_add_func ("/pipeline/timelines", test_timelines);
  g_test_add_func ("/pipeline/dead-letters", test_dead_letters);
  g_test_add_func ("/pipeline/retry", test_retry);
  g_test_add_func ("/pipeline/dlq-replay", test_dlq_replay);
  ret = g_test_run ();

  odd_it_stop (it);
  g_clear_pointer (&ids, g_ptr_array_unref);
  return ret;
}
