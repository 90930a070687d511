/* test-faults.c: crashes and restarts lose nothing and count nothing twice
 *
 * (a) RabbitMQ restarted while a thread submits: every 202 is terminal exactly once, every
 *     503 never became a job.
 * (b) processor SIGKILLed with jobs in flight, (c) metrics-engine SIGKILLed mid-run: after
 *     odd_it_up everything submitted is terminal and the counts agree exactly.
 * (d) Redis FLUSHALL: /stats comes back to the same numbers, rebuilt from the event store.
 */
#define G_LOG_DOMAIN "test-faults"

#include <signal.h>
#include <string.h>

#include "odd-it.h"
#include "odd-it-load.h"
#include "odd-contracts.h"

static OddIt *it;

static gint64
rows_now (void)
{
  PGconn *conn = odd_it_pg (it);
  gint64 n = odd_it_pg_int (conn, "SELECT count(*) FROM jobs", NULL);

  PQfinish (conn);
  return n;
}

/* ---- (a) ---- */

static void
test_rabbitmq_restart (void)
{
  OddItSubmitter *s;
  PGconn *conn;
  gint64 before = rows_now (), rows, landed;

  s = odd_it_submitter_start (it, "it-fault", NULL);
  odd_it_submitter_wait_accepted (s, 200, 60);
  odd_it_restart (it, ODD_IT_RABBITMQ);
  /* after the broker is back the gateway must accept again on its own */
  odd_it_submitter_wait_accepted (s, odd_it_submitter_accepted (s) + 200, 120);
  odd_it_submitter_stop (s);

  g_test_message ("rabbitmq restart: %u accepted, %u refused (503), %u ambiguous",
                  s->accepted->len, s->refused->len, s->ambiguous->len);
  g_assert_cmpuint (s->other, ==, 0);

  odd_it_assert_settled (it, s->accepted, 240);

  conn = odd_it_pg (it);
  /* a 503 is a promise that the job does not exist */
  if (s->refused->len > 0)
    {
      g_autofree char *refused = odd_it_uuid_array (s->refused);
      g_autoptr (GPtrArray) exist = odd_it_pg_column (conn, "SELECT id::text FROM jobs WHERE id = ANY($1::uuid[])",
                                                      refused);

      /* A publish whose connection died before its confirm may be on the queue: the gateway
       * must not call that one "not accepted" (503), only an in-doubt 5xx. */
      for (guint i = 0; i < exist->len; i++)
        g_test_message ("answered 503 but exists: job %s", (char *) exist->pdata[i]);
      g_assert_cmpuint (exist->len, ==, 0);
    }
  landed = s->ambiguous->len > 0
           ? odd_it_count_in (conn, "SELECT count(*) FROM jobs WHERE id = ANY($1::uuid[])", s->ambiguous)
           : 0;
  rows = odd_it_pg_int (conn, "SELECT count(*) FROM jobs", NULL);
  g_assert_cmpint (rows, ==, before + s->accepted->len + landed);
  /* each accepted job exactly once in the event store */
  g_assert_cmpint (odd_it_count_in (conn, "SELECT count(*) FROM job_events WHERE event_type = 'job.validated'"
                                    " AND job_id = ANY($1::uuid[])", s->accepted), ==, s->accepted->len);
  g_assert_cmpint (odd_it_count_in (conn, "SELECT count(*) FROM job_events WHERE event_type = 'job.completed'"
                                    " AND job_id = ANY($1::uuid[])", s->accepted), ==, s->accepted->len);
  PQfinish (conn);
  odd_it_submitter_free (s);
}

/* ---- (b), (c) ---- */

static void
kill_mid_run (const char *service)
{
  g_autoptr (GPtrArray) accepted = g_ptr_array_new_with_free_func (g_free);
  PGconn *conn;
  gint64 before = rows_now ();
  const guint n = 400;

  /* 200 ms each: with a prefetch of 200, many are executing when the kill lands */
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      guint status = odd_it_submit (it, id, "it-kill", i % 4 == 3 ? "{\"failAttempts\":1}"
                                                                 : "{\"durationMs\":200}");

      if (status != 202)
        g_error ("POST /jobs answered %u before the kill", status);
      g_ptr_array_add (accepted, g_steal_pointer (&id));
      if (i == n / 2)
        {
          gint64 open;

          /* the kill must land mid-run: some accepted jobs not yet terminal */
          conn = odd_it_pg (it);
          open = odd_it_count_in (conn, "SELECT count(*) FROM jobs WHERE status NOT IN ('COMPLETED', 'FAILED')"
                                  " AND id = ANY($1::uuid[])", accepted);
          PQfinish (conn);
          odd_it_kill (it, service, SIGKILL);
          g_test_message ("%s killed after %u submissions, %" G_GINT64_FORMAT " of them stored and"
                          " not yet terminal", service, i + 1, open);
          if (g_str_equal (service, ODD_IT_PROCESSOR))
            g_assert_cmpint (open, >, 0);
        }
    }
  odd_it_up (it);

  odd_it_assert_settled (it, accepted, 240);
  conn = odd_it_pg (it);
  g_assert_cmpint (odd_it_pg_int (conn, "SELECT count(*) FROM jobs", NULL), ==, before + n);
  g_assert_cmpint (odd_it_count_in (conn, "SELECT count(*) FROM jobs WHERE status = 'COMPLETED'"
                             " AND id = ANY($1::uuid[])", accepted), ==, n);
  g_assert_cmpint (odd_it_count_in (conn, "SELECT count(*) FROM job_events WHERE event_type = 'job.completed'"
                             " AND job_id = ANY($1::uuid[])", accepted), ==, n);
  PQfinish (conn);
}

static void
test_processor_kill (void)
{
  kill_mid_run (ODD_IT_PROCESSOR);
}

static void
test_metrics_engine_kill (void)
{
  kill_mid_run (ODD_IT_METRICS_ENGINE);
}

/* ---- (d) ---- */

typedef struct {
  OddItStats want;
} StatsTarget;

static gboolean
stats_equal (OddIt   *self,
             gpointer data)
{
  StatsTarget *t = data;
  OddItStats now;

  odd_it_get_stats (self, &now);
  return now.total == t->want.total && now.completed == t->want.completed
         && now.failed == t->want.failed && now.in_flight == t->want.in_flight;
}

static void
test_redis_flush (void)
{
  StatsTarget t;
  gint64 start;

  odd_it_get_stats (it, &t.want);
  g_assert_cmpint (t.want.total, >, 0);  /* something to lose */
  g_assert_cmpint (t.want.in_flight, ==, 0);

  odd_it_redis_command (it, "FLUSHALL");
  start = g_get_monotonic_time ();
  g_assert_true (odd_it_wait (it, stats_equal, &t, 30, 100));
  g_test_message ("/stats rebuilt %.2f s after FLUSHALL", (g_get_monotonic_time () - start) / 1e6);
  odd_it_assert_agreement (it, t.want.total);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  it = odd_it_start ();
  if (!odd_it_can_inject_faults (it))
    {
      /* TAP: a plan of zero tests with a reason is a skip */
      g_print ("1..0 # SKIP fault injection needs the local-stack fixture\n");
      odd_it_stop (it);
      return 0;
    }
  g_test_add_func ("/faults/rabbitmq-restart", test_rabbitmq_restart);
  g_test_add_func ("/faults/processor-kill", test_processor_kill);
  g_test_add_func ("/faults/metrics-engine-kill", test_metrics_engine_kill);
  g_test_add_func ("/faults/redis-flush", test_redis_flush);
  ret = g_test_run ();

  odd_it_stop (it);
  return ret;
}
