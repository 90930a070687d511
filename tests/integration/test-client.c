/* test-client.c: OddClient against a real stack (the fixture's)
 *
 * Jobs of known outcomes go in through the client (6 complete, 4 fail every attempt), then
 * everything a UI shows comes back through it and must match the stores: the counters, the
 * job list paged by cursor with filters, search by id prefix, type and error text, one job's
 * timeline, the retry of a FAILED job, and the dead letters listed and replayed.
 */
#define G_LOG_DOMAIN "test-client"

#include <string.h>

#include "odd-it.h"
#include "odd-client.h"
#include "odd-dead-letter-list.h"
#include "odd-job-list.h"

#define N_OK     6
#define N_DOOMED 4
#define N_JOBS   (N_OK + N_DOOMED)

static OddIt *it;
static OddClient *client;
static GPtrArray *ok_ids;
static GPtrArray *doomed_ids;

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *result;
}

static gboolean
all_terminal (OddIt   *self,
              gpointer data)
{
  PGconn *conn = odd_it_pg (self);
  gint64 done = odd_it_pg_int (conn, "SELECT count(*) FROM jobs WHERE status IN ('COMPLETED', 'FAILED')", NULL);

  PQfinish (conn);
  return done == GPOINTER_TO_INT (data);
}

static gboolean
stats_caught_up (OddIt   *self,
                 gpointer data)
{
  OddItStats stats;

  odd_it_get_stats (self, &stats);
  return stats.total == N_JOBS && stats.completed + stats.failed == N_JOBS && stats.in_flight == 0;
}

static GStrv
submit (const char *type,
        const char *payload_json,
        guint       count)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(JsonNode) payload = payload_json != NULL ? json_from_string (payload_json, NULL) : NULL;
  GStrv ids;

  odd_client_submit_jobs_async (client, type, payload, count, NULL, on_done, &result);
  ids = odd_client_submit_jobs_finish (client, wait_for (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (ids), ==, count);
  return ids;
}

/* The newest second of the last minute's history that has a queue sample shows at least
 * GPOINTER_TO_INT (data) messages in jobs.dead; every sample has the four queues. */
static gboolean
dead_letters_in_history (OddIt   *self,
                         gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(OddSeries) series = NULL;
  const OddSeriesPoint *points;
  const OddSeriesPoint *newest = NULL;
  guint n = 0;

  odd_client_get_series_async (client, 60, NULL, on_done, &result);
  series = odd_client_get_series_finish (client, wait_for (&result), &error);
  g_assert_no_error (error);
  points = odd_series_get_points (series, &n);
  for (guint i = 0; i < n; i++)
    {
      if (points[i].n_queues == 0)
        continue;
      g_assert_cmpuint (points[i].n_queues, ==, 4);
      g_assert_nonnull (odd_series_point_get_queue (&points[i], "jobs.failed.validation"));
      g_assert_nonnull (odd_series_point_get_queue (&points[i], "jobs.lifecycle"));
      g_assert_cmpint (odd_series_point_get_queue (&points[i], "jobs.created")->messages, ==, points[i].queue_depth);
      newest = &points[i];
    }
  return newest != NULL &&
         odd_series_point_get_queue (newest, "jobs.created")->consumers > 0 &&
         odd_series_point_get_queue (newest, "jobs.dead")->messages >= GPOINTER_TO_INT (data);
}

static void
test_submit_and_stats (void)
{
  g_auto(GStrv) ok = submit ("ct-ok", NULL, N_OK);
  g_auto(GStrv) doomed = submit ("ct-doomed", "{\"simulate\":{\"failAttempts\":5}}", N_DOOMED);
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(OddStats) stats = NULL;
  gint64 submitted = 0, completed = 0, failed = 0;
  OddItStats expected;

  for (guint i = 0; ok[i] != NULL; i++)
    g_ptr_array_add (ok_ids, g_strdup (ok[i]));
  for (guint i = 0; doomed[i] != NULL; i++)
    g_ptr_array_add (doomed_ids, g_strdup (doomed[i]));

  g_assert_true (odd_it_wait (it, all_terminal, GINT_TO_POINTER (N_JOBS), 120, 250));
  g_assert_true (odd_it_wait (it, stats_caught_up, NULL, 60, 250));

  odd_client_get_stats_async (client, NULL, on_done, &result);
  stats = odd_client_get_stats_finish (client, wait_for (&result), &error);
  g_assert_no_error (error);
  odd_it_get_stats (it, &expected);
  g_assert_cmpint (odd_stats_get_total (stats), ==, N_JOBS);
  g_assert_cmpint (odd_stats_get_completed (stats), ==, N_OK);
  g_assert_cmpint (odd_stats_get_failed (stats), ==, N_DOOMED);
  g_assert_cmpint (odd_stats_get_total (stats), ==, expected.total);
  g_assert_cmpint (odd_stats_get_failed (stats), ==, expected.failed);
  g_assert_true (odd_stats_get_type_counts (stats, "ct-doomed", &submitted, &completed, &failed));
  g_assert_cmpint (submitted, ==, N_DOOMED);
  g_assert_cmpint (failed, ==, N_DOOMED);

  /* The per-second history, latency included, from the metrics-engine through Redis and the
   * read model: every second in which jobs completed has its percentiles, no other has. */
  {
    g_autoptr(OddSeries) series = NULL;
    g_autoptr(GAsyncResult) series_result = NULL;
    const OddSeriesPoint *points;
    gint64 completed_sum = 0;
    guint n = 0, with_latency = 0;

    odd_client_get_series_async (client, 600, NULL, on_done, &series_result);
    series = odd_client_get_series_finish (client, wait_for (&series_result), &error);
    g_assert_no_error (error);
    points = odd_series_get_points (series, &n);
    for (guint i = 0; i < n; i++)
      {
        completed_sum += points[i].completed;
        g_assert_cmpint (points[i].has_latency, ==, points[i].completed > 0);
        if (!points[i].has_latency)
          continue;
        with_latency++;
        g_assert_cmpfloat (points[i].p50, >, 0);
        g_assert_cmpfloat (points[i].p50, <=, points[i].p95);
        g_assert_cmpfloat (points[i].p95, <=, points[i].p99);
      }
    g_assert_cmpint (completed_sum, ==, N_OK);
    g_assert_cmpuint (with_latency, >, 0);
  }

  /* The queue depths of each second, from the metrics-engine's sampler: the doomed jobs' dead
   * letters wait in jobs.dead, and the processor consumes jobs.created. */
  g_assert_true (odd_it_wait (it, dead_letters_in_history, GINT_TO_POINTER (N_DOOMED), 30, 250));
}

/* Every page of @list until the end; asserts no job twice. */
static GHashTable *
load_all (OddJobList *list)
{
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  while (odd_job_list_get_has_more (list))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GAsyncResult) result = NULL;

      odd_job_list_load_more_async (list, NULL, on_done, &result);
      g_assert_true (odd_job_list_load_more_finish (list, wait_for (&result), &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
    {
      g_autoptr(OddJob) job = g_list_model_get_item (G_LIST_MODEL (list), i);

      g_assert_false (g_hash_table_contains (seen, odd_job_get_id (job)));
      g_hash_table_add (seen, g_strdup (odd_job_get_id (job)));
    }
  return seen;
}

static void
test_job_list (void)
{
  g_autoptr(OddJobList) list = odd_job_list_new (client);
  g_autoptr(GHashTable) all = NULL;
  g_autoptr(GHashTable) failed = NULL;
  g_autoptr(GHashTable) by_type = NULL;
  g_autoptr(GHashTable) by_prefix = NULL;
  g_autoptr(GHashTable) by_text = NULL;
  g_autoptr(GHashTable) by_error = NULL;
  g_autofree char *prefix = NULL;

  /* Pages of 3: four requests, every job once. */
  odd_job_list_set_page_size (list, 3);
  all = load_all (list);
  g_assert_cmpuint (g_hash_table_size (all), ==, N_JOBS);
  for (guint i = 0; i < ok_ids->len; i++)
    g_assert_true (g_hash_table_contains (all, ok_ids->pdata[i]));

  odd_job_list_set_status (list, ODD_JOB_STATUS_FAILED);
  failed = load_all (list);
  g_assert_cmpuint (g_hash_table_size (failed), ==, N_DOOMED);
  for (guint i = 0; i < doomed_ids->len; i++)
    g_assert_true (g_hash_table_contains (failed, doomed_ids->pdata[i]));

  odd_job_list_set_status (list, ODD_JOB_STATUS_UNKNOWN);
  odd_job_list_set_job_type (list, "ct-ok");
  by_type = load_all (list);
  g_assert_cmpuint (g_hash_table_size (by_type), ==, N_OK);

  /* Search: by the first characters of an id, and by part of the type. */
  odd_job_list_set_job_type (list, NULL);
  prefix = g_strndup (doomed_ids->pdata[0], 8);
  odd_job_list_set_text (list, prefix);
  by_prefix = load_all (list);
  g_assert_true (g_hash_table_contains (by_prefix, doomed_ids->pdata[0]));
  odd_job_list_set_text (list, "doom");
  by_text = load_all (list);
  g_assert_cmpuint (g_hash_table_size (by_text), ==, N_DOOMED);

  /* And by the error text ("simulated failure: attempt 3 of the first 5 that fail"). */
  odd_job_list_set_text (list, "FIRST 5 THAT FAIL");
  by_error = load_all (list);
  g_assert_cmpuint (g_hash_table_size (by_error), ==, N_DOOMED);
  for (guint i = 0; i < doomed_ids->len; i++)
    g_assert_true (g_hash_table_contains (by_error, doomed_ids->pdata[i]));
}

static OddJob *
get_job (const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  OddJob *job;

  odd_client_get_job_async (client, id, NULL, on_done, &result);
  job = odd_client_get_job_finish (client, wait_for (&result), &error);
  g_assert_no_error (error);
  return job;
}

static void
test_timeline (void)
{
  g_autoptr(OddJob) job = get_job (doomed_ids->pdata[0]);
  GListModel *events = odd_job_get_events (job);
  g_autoptr(GString) types = g_string_new (NULL);
  guint n_failed = 0;
  gint64 n_executed = 0;

  g_assert_cmpint (odd_job_get_status (job), ==, ODD_JOB_STATUS_FAILED);
  g_assert_nonnull (odd_job_get_last_error (job));
  g_assert_nonnull (events);
  g_assert_cmpuint (g_list_model_get_n_items (events), >=, 3);
  for (guint i = 0; i < g_list_model_get_n_items (events); i++)
    {
      g_autoptr(OddJobEvent) event = g_list_model_get_item (events, i);

      g_string_append_printf (types, " %s", odd_job_event_get_event_type (event));
      g_assert_cmpint (odd_job_event_get_duration (event), >=, 0);
      g_assert_nonnull (odd_job_event_get_occurred_at (event));
      /* Each attempt is one job.executed, numbered, with its outcome and error. */
      if (g_str_equal (odd_job_event_get_event_type (event), "job.executed"))
        {
          n_executed++;
          g_assert_cmpint (odd_job_event_get_attempt (event), ==, n_executed);
          g_assert_cmpstr (odd_job_event_get_outcome (event), ==, "error");
          g_assert_nonnull (odd_job_event_get_error (event));
        }
      n_failed += g_str_equal (odd_job_event_get_event_type (event), "job.failed");
    }
  g_test_message ("timeline:%s", types->str);
  g_assert_cmpuint (n_failed, ==, 1);
  g_assert_cmpint (n_executed, ==, odd_job_get_attempts (job));
}

static gboolean
generation_done (OddIt   *self,
                 gpointer data)
{
  PGconn *conn = odd_it_pg (self);
  gint64 n = odd_it_pg_int (conn, "SELECT count(*) FROM jobs WHERE id = $1::uuid AND generation = 1 "
                                  "AND status = 'FAILED'", data);

  PQfinish (conn);
  return n == 1;
}

static void
test_retry (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) refused = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) refused_result = NULL;
  g_autoptr(OddJob) job = NULL;
  gint64 generation = 0;

  odd_client_retry_job_async (client, doomed_ids->pdata[1], NULL, on_done, &result);
  g_assert_true (odd_client_retry_job_finish (client, wait_for (&result), &generation, &error));
  g_assert_no_error (error);
  g_assert_cmpint (generation, ==, 1);
  /* Its simulation still fails: it ends FAILED again, as generation 1. */
  g_assert_true (odd_it_wait (it, generation_done, doomed_ids->pdata[1], 60, 100));
  job = get_job (doomed_ids->pdata[1]);
  g_assert_cmpint (odd_job_get_generation (job), ==, 1);

  /* A COMPLETED job is refused with the gateway's reason. */
  odd_client_retry_job_async (client, ok_ids->pdata[0], NULL, on_done, &refused_result);
  g_assert_false (odd_client_retry_job_finish (client, wait_for (&refused_result), NULL, &refused));
  g_assert_error (refused, ODD_CLIENT_ERROR, ODD_CLIENT_ERROR_CONFLICT);
  g_assert_cmpuint (odd_client_error_get_status (refused), ==, 409);
  g_test_message ("%s", refused->message);
}

static void
test_dead_letters (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) replay_result = NULL;
  g_autoptr(OddDeadLetterList) list = odd_dead_letter_list_new (client);
  g_autoptr(OddReplayResult) replay = NULL;
  g_autoptr(GHashTable) dead_jobs = g_hash_table_new (g_str_hash, g_str_equal);

  odd_dead_letter_list_refresh_async (list, NULL, on_done, &result);
  g_assert_true (odd_dead_letter_list_refresh_finish (list, wait_for (&result), &error));
  g_assert_no_error (error);
  g_assert_cmpint (odd_dead_letter_list_get_total (list), >=, N_DOOMED);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
    {
      g_autoptr(OddDeadLetter) letter = g_list_model_get_item (G_LIST_MODEL (list), i);

      g_assert_cmpstr (odd_dead_letter_get_reason (letter), ==, "retries_exhausted");
      if (odd_dead_letter_get_job_id (letter) != NULL)
        g_hash_table_add (dead_jobs, (gpointer) odd_dead_letter_get_job_id (letter));
    }
  for (guint i = 0; i < doomed_ids->len; i++)
    g_assert_true (g_hash_table_contains (dead_jobs, doomed_ids->pdata[i]));

  /* All of them back to jobs.created: each runs another generation. */
  odd_client_replay_dead_letters_async (client, 0, NULL, on_done, &replay_result);
  replay = odd_client_replay_dead_letters_finish (client, wait_for (&replay_result), &error);
  g_assert_no_error (error);
  g_test_message ("replay: %u replayed, %u kept", replay->replayed, replay->kept);
  g_assert_cmpuint (replay->replayed, >=, N_DOOMED);
  g_assert_cmpuint (replay->kept, ==, 0);
}

static void
test_health (void)
{
  for (OddService service = ODD_SERVICE_GATEWAY; service <= ODD_SERVICE_READ_MODEL; service++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(OddHealth) health = NULL;

      odd_client_get_health_async (client, service, NULL, on_done, &result);
      health = odd_client_get_health_finish (client, wait_for (&result), &error);
      g_assert_no_error (error);
      g_assert_true (odd_health_is_ready (health));
      g_assert_nonnull (odd_health_get_version (health));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(OddEndpoints) endpoints = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  it = odd_it_start ();
  endpoints = odd_endpoints_new (odd_it_read_model_url (it), odd_it_gateway_url (it),
                                 ODD_ENDPOINTS_SOURCE_STACK);
  client = g_object_new (ODD_TYPE_CLIENT, "endpoints", endpoints, "timeout", 30, NULL);
  ok_ids = g_ptr_array_new_with_free_func (g_free);
  doomed_ids = g_ptr_array_new_with_free_func (g_free);

  g_test_add_func ("/client/health", test_health);
  g_test_add_func ("/client/submit-and-stats", test_submit_and_stats);
  g_test_add_func ("/client/job-list", test_job_list);
  g_test_add_func ("/client/timeline", test_timeline);
  g_test_add_func ("/client/retry", test_retry);
  g_test_add_func ("/client/dead-letters", test_dead_letters);
  ret = g_test_run ();

  g_clear_object (&client);
  g_ptr_array_unref (ok_ids);
  g_ptr_array_unref (doomed_ids);
  odd_it_stop (it);
  return ret;
}
