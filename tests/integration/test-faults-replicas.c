/* test-faults-replicas.c: the fault suite with 3 processors and 2 metrics-engines (and two
 * gateways and read-models on their shared ports, so every service runs replicated)
 *
 * Under load (a submitter thread), one fault at a time:
 *   (a) SIGKILL of one processor replica, (b) SIGKILL of the metrics-engine replica that is
 *   projecting, (c) a RabbitMQ restart, (d) a PostgreSQL restart.
 * After each, once everything drained: every accepted job is in the jobs table once and
 * terminal, /stats (totals and per type), the event store and the table agree exactly, every
 * retry and dead letter is right for the job's simulated failures, and the timeline of sampled
 * jobs (GET /jobs/{id}) is in order. Each phase submits its own job type, so that the per-type
 * checks see that phase's jobs only.
 *
 * Jobs cycle through four simulations (docs/architecture.md, "Simulated work"), with the
 * defaults ODD_MAX_ATTEMPTS=3 and a 100 ms backoff:
 *   durationMs 100     completes on attempt 1
 *   failAttempts 1     fails once, completes on attempt 2
 *   failAttempts 5     fails three times: FAILED, one dead letter (jobs.dead, retries_exhausted)
 *   failRate 0.5       either; deterministic per job, so a replay decides the same
 */
#define G_LOG_DOMAIN "test-faults-replicas"

#include <signal.h>
#include <string.h>

#include "odd-it.h"
#include "odd-it-load.h"

#define REPLICAS        "processor=3,metrics-engine=2,gateway=2,read-model=2"
#define MAX_ATTEMPTS    3
#define TIMELINE_SAMPLE 12

static OddIt *it;

static const char * const simulates[] = {
  "{\"durationMs\":100}",
  "{\"failAttempts\":1}",
  "{\"failAttempts\":5}",
  "{\"failRate\":0.5}",
  NULL,
};

/* ---- checks ---- */

static gint64
count_of_type (PGconn     *conn,
               const char *sql,
               const char *type)
{
  return odd_it_pg_int (conn, sql, type);
}

/* /stats byType[@type]: {submitted, completed, failed} */
static void
stats_of_type (const char *type,
               gint64     *submitted,
               gint64     *completed,
               gint64     *failed)
{
  g_autoptr (JsonNode) body = odd_it_get_json (odd_it_read_model_url (it), "/stats");
  JsonObject *by_type = json_object_get_object_member (json_node_get_object (body), "byType");
  JsonObject *entry;

  g_assert_nonnull (by_type);
  g_assert_true (json_object_has_member (by_type, type));
  entry = json_object_get_object_member (by_type, type);
  *submitted = json_object_get_int_member_with_default (entry, "submitted", -1);
  *completed = json_object_get_int_member_with_default (entry, "completed", -1);
  *failed = json_object_get_int_member_with_default (entry, "failed", -1);
}

/* Every job of @type counted exactly once: table == event store == /stats. */
static void
assert_counts (PGconn     *conn,
               const char *type)
{
  gint64 rows = count_of_type (conn, "SELECT count(*) FROM jobs WHERE type = $1", type);
  gint64 completed = count_of_type (conn, "SELECT count(*) FROM jobs WHERE type = $1"
                                    " AND status = 'COMPLETED'", type);
  gint64 failed = count_of_type (conn, "SELECT count(*) FROM jobs WHERE type = $1"
                                 " AND status = 'FAILED'", type);
  gint64 attempts = count_of_type (conn, "SELECT coalesce(sum(attempts), 0) FROM jobs"
                                   " WHERE type = $1", type);
  gint64 ev_validated, ev_executed, ev_completed, ev_failed;
  gint64 st_submitted, st_completed, st_failed;
  const char *by_event =
    "SELECT count(*) FROM job_events e JOIN jobs j ON j.id = e.job_id"
    " WHERE j.type = $1 AND e.event_type = ";

  {
    g_autofree char *v = g_strconcat (by_event, "'job.validated'", NULL);
    g_autofree char *x = g_strconcat (by_event, "'job.executed'", NULL);
    g_autofree char *c = g_strconcat (by_event, "'job.completed'", NULL);
    g_autofree char *f = g_strconcat (by_event, "'job.failed'", NULL);

    ev_validated = count_of_type (conn, v, type);
    ev_executed = count_of_type (conn, x, type);
    ev_completed = count_of_type (conn, c, type);
    ev_failed = count_of_type (conn, f, type);
  }
  stats_of_type (type, &st_submitted, &st_completed, &st_failed);

  g_test_message ("%s: %" G_GINT64_FORMAT " jobs, %" G_GINT64_FORMAT " completed, %"
                  G_GINT64_FORMAT " failed, %" G_GINT64_FORMAT " attempts", type, rows, completed,
                  failed, attempts);
  g_assert_cmpint (completed + failed, ==, rows);
  /* The event store: no generation was replayed here, so one of each per job. */
  g_assert_cmpint (ev_validated, ==, rows);
  g_assert_cmpint (ev_completed, ==, completed);
  g_assert_cmpint (ev_failed, ==, failed);
  g_assert_cmpint (ev_executed, ==, attempts);
  /* /stats, the projection of the event store into Redis. With two metrics-engines a
   * projection that skipped or repeated a seq shows here first. */
  g_assert_cmpint (st_submitted, ==, rows);
  g_assert_cmpint (st_completed, ==, completed);
  g_assert_cmpint (st_failed, ==, failed);
}

/* Retries and dead letters as the simulations say. */
static void
assert_retries (PGconn     *conn,
                const char *type)
{
  /* fails once, then completes */
  g_assert_cmpint (count_of_type (conn, "SELECT count(*) FROM jobs WHERE type = $1"
                                  " AND payload->'simulate'->>'failAttempts' = '1'"
                                  " AND NOT (status = 'COMPLETED' AND attempts = 2)", type), ==, 0);
  /* fails every attempt: FAILED after the last one */
  g_assert_cmpint (count_of_type (conn, "SELECT count(*) FROM jobs WHERE type = $1"
                                  " AND payload->'simulate'->>'failAttempts' = '5'"
                                  " AND NOT (status = 'FAILED' AND attempts = " G_STRINGIFY (MAX_ATTEMPTS)
                                  ")", type), ==, 0);
  /* never fails */
  g_assert_cmpint (count_of_type (conn, "SELECT count(*) FROM jobs WHERE type = $1"
                                  " AND payload->'simulate' ? 'durationMs'"
                                  " AND NOT (status = 'COMPLETED' AND attempts = 1)", type), ==, 0);
  /* random: whatever it drew, a failure is the last attempt's */
  g_assert_cmpint (count_of_type (conn, "SELECT count(*) FROM jobs WHERE type = $1"
                                  " AND payload->'simulate' ? 'failRate' AND status = 'FAILED'"
                                  " AND attempts <> " G_STRINGIFY (MAX_ATTEMPTS), type), ==, 0);
  g_assert_cmpint (count_of_type (conn, "SELECT count(*) FROM jobs WHERE type = $1"
                                  " AND (attempts < 1 OR attempts > " G_STRINGIFY (MAX_ATTEMPTS) ")",
                                  type), ==, 0);
  /* Each attempt recorded once, with its number: 1 .. attempts, the last one's outcome
   * matching the status. */
  g_assert_cmpint (count_of_type (conn,
                                  "SELECT count(*) FROM jobs j WHERE j.type = $1 AND"
                                  " (SELECT array_agg((e.envelope->'metadata'->>'attempt')::int"
                                  "   ORDER BY (e.envelope->'metadata'->>'attempt')::int)"
                                  "  FROM job_events e WHERE e.job_id = j.id"
                                  "  AND e.event_type = 'job.executed')"
                                  " IS DISTINCT FROM (SELECT array_agg(g) FROM generate_series(1, j.attempts) g)",
                                  type), ==, 0);
  g_assert_cmpint (count_of_type (conn,
                                  "SELECT count(*) FROM jobs j WHERE j.type = $1 AND NOT EXISTS ("
                                  " SELECT 1 FROM job_events e WHERE e.job_id = j.id"
                                  " AND e.event_type = 'job.executed'"
                                  " AND (e.envelope->'metadata'->>'attempt')::int = j.attempts"
                                  " AND e.envelope->'metadata'->>'outcome' ="
                                  "  CASE j.status WHEN 'COMPLETED' THEN 'ok' ELSE 'error' END)",
                                  type), ==, 0);
  /* A FAILED job has exactly one dead letter, on jobs.dead for its exhausted retries; a
   * completed one has none. */
  g_assert_cmpint (count_of_type (conn,
                                  "SELECT count(*) FROM jobs j WHERE j.type = $1 AND j.status = 'FAILED'"
                                  " AND (SELECT count(*) FROM dead_letters d WHERE d.job_id = j.id"
                                  "      AND d.queue = 'jobs.dead' AND d.reason = 'retries_exhausted') <> 1",
                                  type), ==, 0);
  g_assert_cmpint (count_of_type (conn,
                                  "SELECT count(*) FROM dead_letters d JOIN jobs j ON j.id = d.job_id"
                                  " WHERE j.type = $1 AND (j.status <> 'FAILED' OR d.queue <> 'jobs.dead')",
                                  type), ==, 0);
  /* Some of each really happened, or the checks above proved nothing. */
  g_assert_cmpint (count_of_type (conn, "SELECT count(*) FROM jobs WHERE type = $1"
                                  " AND status = 'COMPLETED' AND attempts > 1", type), >, 0);
  g_assert_cmpint (count_of_type (conn, "SELECT count(*) FROM jobs WHERE type = $1"
                                  " AND status = 'FAILED'", type), >, 0);
}

/* GET /jobs/{id} of some jobs: validated, then attempts 1 .. n in order, then the terminal
 * event that matches the status; occurredAt never goes back. */
static void
assert_timelines (GPtrArray *accepted)
{
  guint step = MAX (accepted->len / TIMELINE_SAMPLE, 1);

  for (guint i = 0; i < accepted->len; i += step)
    {
      const char *id = accepted->pdata[i];
      JsonObject *job;
      JsonArray *events;
      g_autoptr (JsonNode) body = odd_it_get_job (it, id, &job, &events);
      const char *status = json_object_get_string_member (job, "status");
      gint64 attempts = json_object_get_int_member (job, "attempts");
      guint n = json_array_get_length (events);
      const char *previous_time = "";

      g_assert_cmpuint (n, ==, attempts + 2);
      for (guint e = 0; e < n; e++)
        {
          JsonObject *event = json_array_get_object_element (events, e);
          const char *type = odd_it_event_type (event);
          const char *at = json_object_get_string_member (event, "occurredAt");

          if (e == 0)
            g_assert_cmpstr (type, ==, "job.validated");
          else if (e == n - 1)
            g_assert_cmpstr (type, ==, g_str_equal (status, "COMPLETED") ? "job.completed"
                                                                         : "job.failed");
          else
            {
              JsonObject *metadata = json_object_get_object_member (event, "metadata");

              g_assert_cmpstr (type, ==, "job.executed");
              g_assert_nonnull (metadata);
              g_assert_cmpint (json_object_get_int_member (metadata, "attempt"), ==, e);
            }
          /* RFC 3339 UTC with milliseconds: compares as text */
          g_assert_cmpint (strcmp (previous_time, at), <=, 0);
          previous_time = at;
        }
    }
}

/* What a 503 promised: the job does not exist. */
static void
assert_refused_absent (PGconn         *conn,
                       OddItSubmitter *s)
{
  if (s->refused->len == 0)
    return;
  g_assert_cmpint (odd_it_count_in (conn, "SELECT count(*) FROM jobs WHERE id = ANY($1::uuid[])",
                                    s->refused), ==, 0);
}

static void
check_phase (OddItSubmitter *s)
{
  PGconn *conn;

  g_test_message ("%s: %u accepted, %u refused (503), %u ambiguous", s->type, s->accepted->len,
                  s->refused->len, s->ambiguous->len);
  g_assert_cmpuint (s->other, ==, 0);

  odd_it_assert_settled (it, s->accepted, 240);
  conn = odd_it_pg (it);
  /* every accepted job exactly once */
  g_assert_cmpint (odd_it_count_in (conn, "SELECT count(*) FROM job_events WHERE event_type = 'job.validated'"
                                    " AND job_id = ANY($1::uuid[])", s->accepted), ==, s->accepted->len);
  assert_refused_absent (conn, s);
  assert_counts (conn, s->type);
  assert_retries (conn, s->type);
  PQfinish (conn);
  assert_timelines (s->accepted);
}

/* Open (not yet terminal) jobs among the accepted ones. */
static gint64
open_jobs (OddItSubmitter *s)
{
  PGconn *conn = odd_it_pg (it);
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  gint64 open;

  g_mutex_lock (&s->lock);
  for (guint i = 0; i < s->accepted->len; i++)
    g_ptr_array_add (ids, g_strdup (s->accepted->pdata[i]));
  g_mutex_unlock (&s->lock);
  open = odd_it_count_in (conn, "SELECT count(*) FROM jobs WHERE status NOT IN ('COMPLETED', 'FAILED')"
                          " AND id = ANY($1::uuid[])", ids);
  PQfinish (conn);
  return open;
}

/* ---- the faults ---- */

static void
kill_replica_under_load (const char *type,
                         const char *replica)
{
  OddItSubmitter *s = odd_it_submitter_start (it, type, simulates);
  GPid pid;
  gint64 open;

  odd_it_submitter_wait_accepted (s, 150, 60);
  pid = odd_it_service_pid (it, replica);
  g_assert_cmpint (pid, >, 0);
  open = open_jobs (s);
  odd_it_kill (it, replica, SIGKILL);
  g_test_message ("%s (pid %d) killed after %u accepted, %" G_GINT64_FORMAT " of them not yet terminal",
                  replica, (int) pid, odd_it_submitter_accepted (s), open);
  g_assert_cmpint (open, >, 0);  /* mid-load, not after it */
  /* the other replicas carry on: jobs keep being accepted and done */
  odd_it_submitter_wait_accepted (s, odd_it_submitter_accepted (s) + 150, 60);
  odd_it_submitter_stop (s);
  odd_it_up (it);
  g_assert_cmpint (odd_it_service_pid (it, replica), >, 0);

  check_phase (s);
  odd_it_submitter_free (s);
}

static void
test_processor_kill (void)
{
  PGconn *conn;

  kill_replica_under_load ("rep-processor-kill", "processor-2");

  /* The replicas shared the work: jobs stored by more than one processor (each replica has
   * its own instance id). */
  conn = odd_it_pg (it);
  g_assert_cmpint (count_of_type (conn, "SELECT count(DISTINCT e.envelope->'producer'->>'instanceId')"
                                  " FROM job_events e JOIN jobs j ON j.id = e.job_id"
                                  " WHERE j.type = $1 AND e.event_type = 'job.validated'",
                                  "rep-processor-kill"), >=, 2);
  PQfinish (conn);
}

/* The replica that projects into Redis (ready); with an engine standing by for the event
 * store lock, the other one. */
static void
test_metrics_engine_kill (void)
{
  const char *replicas[] = { "metrics-engine", "metrics-engine-2" };
  const char *victim = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (replicas) && victim == NULL; i++)
    {
      g_autofree char *url = g_strconcat (odd_it_service_url (it, replicas[i]), "/readyz", NULL);
      g_autoptr (OddItResponse) r = odd_it_request ("GET", url, NULL, NULL, 0);

      if (r->status == 200)
        victim = replicas[i];
    }
  g_assert_nonnull (victim);
  kill_replica_under_load ("rep-metrics-engine-kill", victim);
}

static void
restart_under_load (const char *type,
                    const char *server)
{
  OddItSubmitter *s = odd_it_submitter_start (it, type, simulates);

  odd_it_submitter_wait_accepted (s, 150, 60);
  odd_it_restart (it, server);
  /* once it is back, the stack accepts again by itself */
  odd_it_submitter_wait_accepted (s, odd_it_submitter_accepted (s) + 150, 120);
  odd_it_submitter_stop (s);

  check_phase (s);
  odd_it_submitter_free (s);
}

static void
test_rabbitmq_restart (void)
{
  restart_under_load ("rep-rabbitmq-restart", ODD_IT_RABBITMQ);
}

static void
test_postgres_restart (void)
{
  restart_under_load ("rep-postgres-restart", ODD_IT_POSTGRES);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  it = odd_it_start_with_replicas (REPLICAS);
  if (!odd_it_can_inject_faults (it))
    {
      g_print ("1..0 # SKIP fault injection needs the local-stack fixture\n");
      odd_it_stop (it);
      return 0;
    }
  g_test_add_func ("/faults-replicas/processor-kill", test_processor_kill);
  g_test_add_func ("/faults-replicas/metrics-engine-kill", test_metrics_engine_kill);
  g_test_add_func ("/faults-replicas/rabbitmq-restart", test_rabbitmq_restart);
  g_test_add_func ("/faults-replicas/postgres-restart", test_postgres_restart);
  ret = g_test_run ();

  odd_it_stop (it);
  return ret;
}
