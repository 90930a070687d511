/* test-client.c: OddClient against recorded answers, good and bad
 *
 * A SoupServer in the test serves what a broken or hostile service could answer: wrong shapes,
 * garbage, error statuses with and without a body, an answer that never comes, and nothing at
 * all (a closed port). Each must give its ODD_CLIENT_ERROR with a clear message and no crash;
 * the good answers must become the right typed results, and the list models must page.
 */
#define G_LOG_DOMAIN "odd-test"

#include <string.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "odd-client.h"
#include "odd-dead-letter-list.h"
#include "odd-job-list.h"

#define JOB_A "0b6c3e52-8c3e-4a0f-9d7b-0dd0b5e2c001"
#define JOB_B "1b6c3e52-8c3e-4a0f-9d7b-0dd0b5e2c002"
#define JOB_C "2b6c3e52-8c3e-4a0f-9d7b-0dd0b5e2c003"
#define EVENT_ID "6f1c3a52-8c3e-4a0f-9d7b-0dd0b5e2c0aa"
#define CORRELATION_ID "7f1c3a52-8c3e-4a0f-9d7b-0dd0b5e2c0bb"

/* One recorded answer: a status and a body, or no answer at all (@hang). */
typedef struct
{
  const char *method;
  const char *path;
  guint       status;
  const char *body;
  gboolean    hang;
} Answer;

typedef struct
{
  SoupServer   *server;
  char         *url;
  OddClient    *client;
  GPtrArray    *answers;   /* Answer *, the last added for a path wins */
  GPtrArray    *requests;  /* char *: "METHOD /path?query body" of each request */
  GPtrArray    *hung;      /* SoupServerMessage, paused forever */
  char         *authorization;  /* of the last request */
  GAsyncResult *result;
} Fixture;

static void
answer (Fixture    *f,
        const char *method,
        const char *path,
        guint       status,
        const char *body)
{
  Answer *a = g_new0 (Answer, 1);

  a->method = method;
  a->path = path;
  a->status = status;
  a->body = body;
  g_ptr_array_add (f->answers, a);
}

static void
hang (Fixture    *f,
      const char *method,
      const char *path)
{
  Answer *a = g_new0 (Answer, 1);

  a->method = method;
  a->path = path;
  a->hang = TRUE;
  g_ptr_array_add (f->answers, a);
}

static void
on_request (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  Fixture *f = user_data;
  const char *method = soup_server_message_get_method (msg);
  GUri *uri = soup_server_message_get_uri (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autofree char *body_text = body->length > 0 ? g_strndup (body->data, body->length) : NULL;

  g_free (f->authorization);
  f->authorization = g_strdup (soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                             "Authorization"));
  g_ptr_array_add (f->requests, g_strdup_printf ("%s %s%s%s%s%s", method, path,
                                                 g_uri_get_query (uri) != NULL ? "?" : "",
                                                 g_uri_get_query (uri) != NULL ? g_uri_get_query (uri) : "",
                                                 body_text != NULL ? " " : "",
                                                 body_text != NULL ? body_text : ""));

  for (guint i = f->answers->len; i > 0; i--)
    {
      Answer *a = f->answers->pdata[i - 1];
      g_autofree char *full = g_strconcat (path, g_uri_get_query (uri) != NULL ? "?" : "",
                                           g_uri_get_query (uri) != NULL ? g_uri_get_query (uri) : "",
                                           NULL);

      if (!g_str_equal (a->method, method) ||
          (!g_str_equal (a->path, path) && !g_str_equal (a->path, full)))
        continue;
      if (a->hang)
        {
          soup_server_message_pause (msg);
          g_ptr_array_add (f->hung, g_object_ref (msg));
          return;
        }
      soup_server_message_set_status (msg, a->status, NULL);
      if (a->body != NULL)
        soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                          a->body, strlen (a->body));
      return;
    }
  soup_server_message_set_status (msg, 404, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                    "{\"error\":\"Not found\"}", strlen ("{\"error\":\"Not found\"}"));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddEndpoints) endpoints = NULL;
  GSList *uris;
  g_autofree char *uri_text = NULL;

  f->answers = g_ptr_array_new_with_free_func (g_free);
  f->requests = g_ptr_array_new_with_free_func (g_free);
  f->hung = g_ptr_array_new_with_free_func (g_object_unref);
  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, NULL, on_request, f, NULL);
  soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (f->server);
  uri_text = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  /* Without the trailing slash, as OddEndpoints keeps it. */
  if (g_str_has_suffix (uri_text, "/"))
    uri_text[strlen (uri_text) - 1] = '\0';
  f->url = g_strdup (uri_text);

  /* The same fake answers both as the read model and as the gateway. */
  endpoints = odd_endpoints_new (f->url, f->url, ODD_ENDPOINTS_SOURCE_STACK);
  f->client = g_object_new (ODD_TYPE_CLIENT, "endpoints", endpoints, "timeout", 1, NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  for (guint i = 0; i < f->hung->len; i++)
    soup_server_message_unpause (f->hung->pdata[i]);
  g_clear_object (&f->client);
  g_ptr_array_unref (f->hung);
  soup_server_disconnect (f->server);
  g_clear_object (&f->server);
  g_clear_object (&f->result);
  g_ptr_array_unref (f->answers);
  g_ptr_array_unref (f->requests);
  g_free (f->url);
  g_free (f->authorization);
  /* Let libsoup close what it still holds before the next test. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Fixture *f = user_data;

  f->result = g_object_ref (result);
}

static GAsyncResult *
wait_result (Fixture *f)
{
  g_clear_object (&f->result);
  while (f->result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return f->result;
}

static OddStats *
get_stats (Fixture  *f,
           GError  **error)
{
  g_clear_object (&f->result);
  odd_client_get_stats_async (f->client, NULL, on_done, f);
  return odd_client_get_stats_finish (f->client, wait_result (f), error);
}

#define STATS_OK "{\"totalJobs\":10,\"completedJobs\":7,\"failedJobs\":2,\"inFlightJobs\":1," \
                 "\"lastEventTime\":\"2026-01-02T03:04:05.678Z\",\"throughputPerSec\":2.5," \
                 "\"latencyMs\":{\"p50\":12,\"p95\":40.5,\"p99\":80}," \
                 "\"byType\":{\"email\":{\"submitted\":6,\"completed\":5,\"failed\":1}," \
                 "\"alpha\":{\"submitted\":4,\"completed\":2,\"failed\":1}}}"

static void
test_stats (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddStats) stats = NULL;
  const char * const *types;
  gint64 submitted = 0, completed = 0, failed = 0;

  answer (f, "GET", "/stats", 200, STATS_OK);
  stats = get_stats (f, &error);
  g_assert_no_error (error);
  g_assert_cmpint (odd_stats_get_total (stats), ==, 10);
  g_assert_cmpint (odd_stats_get_completed (stats), ==, 7);
  g_assert_cmpint (odd_stats_get_failed (stats), ==, 2);
  g_assert_cmpint (odd_stats_get_in_flight (stats), ==, 1);
  g_assert_cmpfloat (odd_stats_get_throughput (stats), ==, 2.5);
  g_assert_cmpfloat (odd_stats_get_p50 (stats), ==, 12);
  g_assert_cmpfloat (odd_stats_get_p95 (stats), ==, 40.5);
  g_assert_cmpfloat (odd_stats_get_p99 (stats), ==, 80);
  g_assert_cmpstr (odd_stats_get_last_event_time (stats), ==, "2026-01-02T03:04:05.678Z");
  types = odd_stats_get_job_types (stats);
  g_assert_cmpuint (g_strv_length ((GStrv) types), ==, 2);
  g_assert_cmpstr (types[0], ==, "alpha");
  g_assert_cmpstr (types[1], ==, "email");
  g_assert_true (odd_stats_get_type_counts (stats, "email", &submitted, &completed, &failed));
  g_assert_cmpint (submitted, ==, 6);
  g_assert_cmpint (completed, ==, 5);
  g_assert_cmpint (failed, ==, 1);
  g_assert_false (odd_stats_get_type_counts (stats, "nope", NULL, NULL, NULL));
}

static void
assert_client_error (const GError *error,
                     OddClientError code,
                     const char    *in_message)
{
  g_assert_error (error, ODD_CLIENT_ERROR, (gint) code);
  g_test_message ("%s", error->message);
  if (in_message != NULL && strstr (error->message, in_message) == NULL)
    g_error ("“%s” is not in “%s”", in_message, error->message);
}

/* Answers that break the contract: each a BAD_ANSWER naming what is wrong. */
static void
test_wrong_shapes (Fixture       *f,
                   gconstpointer  data)
{
  static const struct { const char *body; const char *why; } cases[] = {
    { "{\"totalJobs\":\"ten\",\"completedJobs\":0,\"failedJobs\":0,\"inFlightJobs\":0,\"lastEventTime\":\"\"}",
      "/totalJobs: must be integer" },
    { "{\"completedJobs\":0,\"failedJobs\":0,\"inFlightJobs\":0,\"lastEventTime\":\"\"}",
      "must have required property 'totalJobs'" },
    { "[1,2,3]", "must be object" },
    { "null", "must be object" },
    { "{\"totalJobs\":-1,\"completedJobs\":0,\"failedJobs\":0,\"inFlightJobs\":0,\"lastEventTime\":\"\"}",
      "must be >= 0" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(OddStats) stats = NULL;

      answer (f, "GET", "/stats", 200, cases[i].body);
      stats = get_stats (f, &error);
      g_assert_null (stats);
      assert_client_error (error, ODD_CLIENT_ERROR_BAD_ANSWER, cases[i].why);
      g_assert_nonnull (strstr (error->message, "stats.json"));
      g_assert_nonnull (strstr (error->message, "GET /stats"));
      g_assert_cmpuint (odd_client_error_get_status (error), ==, 200);
    }
}

static void
test_garbage (Fixture       *f,
              gconstpointer  data)
{
  static const char * const bodies[] = {
    "{not json", "<html><body>502 Bad Gateway</body></html>", "{\"totalJobs\": 1e999}",
    "\xff\xfe garbage", "",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(OddStats) stats = NULL;

      answer (f, "GET", "/stats", 200, bodies[i]);
      stats = get_stats (f, &error);
      g_assert_null (stats);
      assert_client_error (error, ODD_CLIENT_ERROR_BAD_ANSWER, "cannot read");
      g_assert_nonnull (odd_client_error_get_reason (error));
    }
}

static void
test_server_error (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) bare = NULL;
  g_autoptr(GError) unavailable = NULL;
  g_autoptr(OddStats) stats = NULL;

  answer (f, "GET", "/stats", 500, "{\"error\":\"Redis unavailable\",\"details\":[{\"path\":\"/redis\",\"message\":\"connection refused\"}]}");
  stats = get_stats (f, &error);
  g_assert_null (stats);
  assert_client_error (error, ODD_CLIENT_ERROR_SERVER, "Redis unavailable: /redis connection refused");
  g_assert_cmpuint (odd_client_error_get_status (error), ==, 500);
  g_assert_cmpstr (odd_client_error_get_reason (error), ==, "Redis unavailable: /redis connection refused");
  g_assert_true (g_str_has_suffix (odd_client_error_get_url (error), "/stats"));

  /* No body, or not the error shape: the status speaks. */
  answer (f, "GET", "/stats", 502, "<html>bad gateway</html>");
  stats = get_stats (f, &bare);
  assert_client_error (bare, ODD_CLIENT_ERROR_SERVER, "HTTP 502 Bad Gateway");

  answer (f, "GET", "/stats", 503, "{\"error\":\"Redis unavailable\"}");
  stats = get_stats (f, &unavailable);
  assert_client_error (unavailable, ODD_CLIENT_ERROR_UNAVAILABLE, "oddctl local status");
}

/* A body past the cap: refused, not read to the end of memory. */
static void
test_oversized (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddStats) stats = NULL;
  gsize size = ODD_CLIENT_ANSWER_MAX_BYTES + 1;
  char *huge = g_malloc (size + 1);

  /* A JSON string that never ends within the cap. */
  memset (huge, 'x', size);
  huge[0] = '"';
  huge[size] = '\0';
  answer (f, "GET", "/stats", 200, huge);
  odd_client_set_timeout (f->client, 30);
  stats = get_stats (f, &error);
  g_assert_null (stats);
  assert_client_error (error, ODD_CLIENT_ERROR_BAD_ANSWER, "an answer larger than 32 MiB");
  g_free (huge);
}

static void
test_timeout (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddStats) stats = NULL;

  hang (f, "GET", "/stats");
  stats = get_stats (f, &error);
  g_assert_null (stats);
  assert_client_error (error, ODD_CLIENT_ERROR_TIMEOUT, "did not answer within 1 s");
  g_assert_nonnull (strstr (error->message, f->url));
}

static void
test_refused (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(OddEndpoints) endpoints = NULL;
  g_autoptr(OddClient) client = NULL;
  g_autofree char *url = NULL;
  Fixture f = { 0 };
  guint16 port;

  /* A port that was just free: nothing listens there any more. */
  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);
  url = g_strdup_printf ("http://127.0.0.1:%u", port);

  endpoints = odd_endpoints_new (url, url, ODD_ENDPOINTS_SOURCE_STACK);
  client = odd_client_new (endpoints);
  odd_client_get_stats_async (client, NULL, on_done, &f);
  g_assert_null (odd_client_get_stats_finish (client, wait_result (&f), &error));
  assert_client_error (error, ODD_CLIENT_ERROR_UNREACHABLE, "is not answering");
  g_assert_nonnull (strstr (error->message, url));
  g_assert_nonnull (strstr (error->message, "Start the stack on the Stack page or with `oddctl local up`."));
  g_assert_cmpuint (odd_client_error_get_status (error), ==, 0);
  g_clear_error (&error);

  /* From READ_MODEL_URL: the hint names the variable. */
  g_clear_object (&endpoints);
  endpoints = odd_endpoints_new (url, url, ODD_ENDPOINTS_SOURCE_ENV);
  odd_client_set_endpoints (client, endpoints);
  odd_client_get_stats_async (client, NULL, on_done, &f);
  g_assert_null (odd_client_get_stats_finish (client, wait_result (&f), &error));
  assert_client_error (error, ODD_CLIENT_ERROR_UNREACHABLE, "Check READ_MODEL_URL");
  g_clear_object (&f.result);
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  hang (f, "GET", "/stats");
  odd_client_set_timeout (f->client, 60);
  odd_client_get_stats_async (f->client, cancellable, on_done, f);
  while (f->hung->len == 0)
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (cancellable);
  g_assert_null (odd_client_get_stats_finish (f->client, wait_result (f), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_bad_arguments (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) retry_error = NULL;
  g_autoptr(GError) health_error = NULL;
  g_autoptr(GError) url_error = NULL;
  g_autoptr(OddEndpoints) bad = odd_endpoints_new ("localhost:8080", "ftp://x", ODD_ENDPOINTS_SOURCE_ENV);

  odd_client_get_job_async (f->client, "../../etc/passwd", NULL, on_done, f);
  g_assert_null (odd_client_get_job_finish (f->client, wait_result (f), &error));
  assert_client_error (error, ODD_CLIENT_ERROR_INVALID, "is not a job id");

  odd_client_retry_job_async (f->client, "x", NULL, on_done, f);
  g_assert_false (odd_client_retry_job_finish (f->client, wait_result (f), NULL, &retry_error));
  assert_client_error (retry_error, ODD_CLIENT_ERROR_INVALID, "is not a job id");

  /* Endpoints for the read model and gateway only: the processor's address is unknown. */
  odd_client_get_health_async (f->client, ODD_SERVICE_PROCESSOR, NULL, on_done, f);
  g_assert_null (odd_client_get_health_finish (f->client, wait_result (f), &health_error));
  assert_client_error (health_error, ODD_CLIENT_ERROR_INVALID, "The address of the processor is not known");

  odd_client_set_endpoints (f->client, bad);
  odd_client_get_stats_async (f->client, NULL, on_done, f);
  g_assert_null (odd_client_get_stats_finish (f->client, wait_result (f), &url_error));
  assert_client_error (url_error, ODD_CLIENT_ERROR_INVALID, "is not an http:// URL");
  g_assert_cmpuint (f->requests->len, ==, 0);
}

#define SUMMARY(id, status, created) \
  "{\"id\":\"" id "\",\"type\":\"email\",\"status\":\"" status "\",\"createdAt\":\"" created "\",\"attempts\":1}"

static void
test_recent_and_queues (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(GPtrArray) queues = NULL;
  g_autoptr(GPtrArray) alerts = NULL;
  OddJob *job;

  answer (f, "GET", "/jobs/recent", 200, "[" SUMMARY (JOB_A, "FAILED", "2026-01-02T03:04:05.678Z") ","
                                         SUMMARY (JOB_B, "COMPLETED", "2026-01-02T03:04:04.000Z") "]");
  odd_client_get_recent_jobs_async (f->client, 50, NULL, on_done, f);
  jobs = odd_client_get_recent_jobs_finish (f->client, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (jobs->len, ==, 2);
  job = jobs->pdata[0];
  g_assert_cmpstr (odd_job_get_id (job), ==, JOB_A);
  g_assert_cmpstr (odd_job_get_job_type (job), ==, "email");
  g_assert_cmpint (odd_job_get_status (job), ==, ODD_JOB_STATUS_FAILED);
  g_assert_cmpint (odd_job_get_attempts (job), ==, 1);
  g_assert_false (odd_job_is_detail (job));
  g_assert_null (odd_job_get_events (job));
  g_assert_cmpint (g_date_time_to_unix (odd_job_get_created_at (job)), ==, 1767323045);
  g_assert_cmpstr (((char **) f->requests->pdata)[0], ==, "GET /jobs/recent?limit=50");

  answer (f, "GET", "/queues", 200, "{\"queues\":[{\"name\":\"jobs.created\",\"messages\":3,\"consumers\":1}]}");
  odd_client_get_queues_async (f->client, NULL, on_done, f);
  queues = odd_client_get_queues_finish (f->client, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (queues->len, ==, 1);
  g_assert_cmpstr (odd_queue_get_name (queues->pdata[0]), ==, "jobs.created");
  g_assert_cmpint (odd_queue_get_messages (queues->pdata[0]), ==, 3);
  g_assert_cmpint (odd_queue_get_consumers (queues->pdata[0]), ==, 1);

  answer (f, "GET", "/alerts", 200, "{\"alerts\":[{\"name\":\"HighFailureRate\",\"severity\":\"critical\","
                                    "\"service\":\"processor\",\"summary\":\"40% failed\",\"since\":"
                                    "\"2026-01-02T03:04:05.678Z\",\"runbook\":\"docs/runbooks.md#x\"}]}");
  odd_client_get_alerts_async (f->client, NULL, on_done, f);
  alerts = odd_client_get_alerts_finish (f->client, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (alerts->len, ==, 1);
  g_assert_cmpstr (odd_alert_get_name (alerts->pdata[0]), ==, "HighFailureRate");
  g_assert_true (odd_alert_is_critical (alerts->pdata[0]));
  g_assert_cmpstr (odd_alert_get_summary (alerts->pdata[0]), ==, "40% failed");
}

static void
test_series (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddSeries) series = NULL;
  const OddSeriesPoint *points;
  guint n = 0;

  answer (f, "GET", "/stats/series", 200,
          "{\"from\":\"2026-01-02T03:04:00.000Z\",\"to\":\"2026-01-02T03:04:02.000Z\",\"step\":1,"
          "\"points\":[{\"t\":\"2026-01-02T03:04:00.000Z\",\"submitted\":5,\"completed\":4,\"failed\":1,\"queueDepth\":2},"
          "{\"t\":\"2026-01-02T03:04:01.000Z\",\"submitted\":0,\"completed\":3,\"failed\":0,\"queueDepth\":0,"
          "\"latencyMs\":{\"p50\":10.5,\"p95\":250,\"p99\":1021.739},"
          "\"queues\":{\"jobs.dead\":{\"messages\":4,\"consumers\":0},\"jobs.created\":{\"messages\":0,\"consumers\":2}}},"
          "{\"t\":\"2026-01-02T03:04:02.000Z\",\"submitted\":0,\"completed\":0,\"failed\":0,\"queueDepth\":7,"
          "\"queues\":{\"jobs.created\":{\"messages\":7,\"consumers\":1}}}],"
          "\"latencyMs\":{\"p50\":1,\"p95\":2,\"p99\":3}}");
  odd_client_get_series_async (f->client, 120, NULL, on_done, f);
  series = odd_client_get_series_finish (f->client, wait_result (f), &error);
  g_assert_no_error (error);
  points = odd_series_get_points (series, &n);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpint (points[0].time, ==, G_GINT64_CONSTANT (1767323040) * G_USEC_PER_SEC);
  g_assert_cmpint (points[0].submitted, ==, 5);
  g_assert_cmpint (points[0].failed, ==, 1);
  g_assert_cmpint (points[0].queue_depth, ==, 2);
  g_assert_cmpint (points[1].time - points[0].time, ==, G_USEC_PER_SEC);
  /* The second point's own percentiles; the first has none. */
  g_assert_false (points[0].has_latency);
  g_assert_cmpfloat (points[0].p99, ==, 0);
  g_assert_true (points[1].has_latency);
  g_assert_cmpfloat (points[1].p50, ==, 10.5);
  g_assert_cmpfloat (points[1].p95, ==, 250);
  g_assert_cmpfloat (points[1].p99, ==, 1021.739);
  /* Queue samples: none in the first second, sorted by name in the others. */
  g_assert_cmpuint (points[0].n_queues, ==, 0);
  g_assert_null (odd_series_point_get_queue (&points[0], "jobs.created"));
  g_assert_cmpuint (points[1].n_queues, ==, 2);
  g_assert_cmpstr (points[1].queues[0].name, ==, "jobs.created");
  g_assert_cmpint (points[1].queues[0].consumers, ==, 2);
  g_assert_cmpint (odd_series_point_get_queue (&points[1], "jobs.dead")->messages, ==, 4);
  g_assert_null (odd_series_point_get_queue (&points[1], "jobs.lifecycle"));
  g_assert_cmpuint (points[2].n_queues, ==, 1);
  g_assert_cmpint (odd_series_point_get_queue (&points[2], "jobs.created")->messages, ==, 7);
  g_assert_cmpint (points[2].queue_depth, ==, 7);
  g_assert_cmpfloat (odd_series_get_p99 (series), ==, 3);
  g_assert_cmpstr (((char **) f->requests->pdata)[0], ==, "GET /stats/series?window=120");
}

#define ENVELOPE(type, when, status, metadata) \
  "{\"contractVersion\":\"1.0.0\",\"eventType\":\"" type "\",\"eventId\":\"" EVENT_ID "\"," \
  "\"occurredAt\":\"" when "\",\"producer\":{\"service\":\"processor\",\"instanceId\":\"p1\"," \
  "\"version\":\"1\"},\"correlationId\":\"" CORRELATION_ID "\",\"idempotencyKey\":\"k\"," \
  "\"payload\":{\"status\":\"" status "\"}" metadata "}"

static void
test_job_detail (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) missing = NULL;
  g_autoptr(OddJob) job = NULL;
  g_autoptr(OddJobEvent) second = NULL;
  GListModel *events;

  answer (f, "GET", "/jobs/" JOB_A, 200,
          "{\"job\":{\"id\":\"" JOB_A "\",\"type\":\"email\",\"status\":\"FAILED\",\"payload\":{\"to\":\"x\"},"
          "\"attempts\":3,\"generation\":0,\"lastError\":\"simulated failure\","
          "\"createdAt\":\"2026-01-02T03:04:05.000Z\",\"updatedAt\":\"2026-01-02T03:04:07.500Z\","
          "\"startedAt\":\"2026-01-02T03:04:05.100Z\",\"finishedAt\":null},"
          "\"events\":[" ENVELOPE ("job.created", "2026-01-02T03:04:05.000Z", "PENDING", "") ","
          ENVELOPE ("job.failed", "2026-01-02T03:04:07.500Z", "FAILED",
                    ",\"metadata\":{\"attempt\":3,\"outcome\":\"dead\",\"error\":\"simulated failure\"}") "]}");
  odd_client_get_job_async (f->client, JOB_A, NULL, on_done, f);
  job = odd_client_get_job_finish (f->client, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_true (odd_job_is_detail (job));
  g_assert_cmpstr (odd_job_get_last_error (job), ==, "simulated failure");
  g_assert_cmpint (odd_job_get_attempts (job), ==, 3);
  g_assert_null (odd_job_get_finished_at (job));
  g_assert_nonnull (odd_job_get_started_at (job));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (odd_job_get_payload (job)));

  events = odd_job_get_events (job);
  g_assert_cmpuint (g_list_model_get_n_items (events), ==, 2);
  g_assert_true (g_list_model_get_item_type (events) == ODD_TYPE_JOB_EVENT);
  second = g_list_model_get_item (events, 1);
  g_assert_cmpstr (odd_job_event_get_event_type (second), ==, "job.failed");
  g_assert_cmpstr (odd_job_event_get_status (second), ==, "FAILED");
  g_assert_cmpint (odd_job_event_get_attempt (second), ==, 3);
  g_assert_cmpstr (odd_job_event_get_outcome (second), ==, "dead");
  g_assert_cmpstr (odd_job_event_get_error (second), ==, "simulated failure");
  g_assert_cmpstr (odd_job_event_get_producer (second), ==, "processor");
  g_assert_cmpint (odd_job_event_get_duration (second), ==, 2500 * 1000);

  /* A 404 from the read model. */
  answer (f, "GET", "/jobs/" JOB_B, 404, "{\"error\":\"Job not found\"}");
  odd_client_get_job_async (f->client, JOB_B, NULL, on_done, f);
  g_assert_null (odd_client_get_job_finish (f->client, wait_result (f), &missing));
  assert_client_error (missing, ODD_CLIENT_ERROR_NOT_FOUND, "Job not found");
}

static void
on_loaded (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Fixture *f = user_data;

  f->result = g_object_ref (result);
}

static void
test_job_list (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddJobList) list = odd_job_list_new (f->client);
  g_autoptr(OddJob) third = NULL;
  guint changes = 0;

  answer (f, "GET", "/jobs?status=FAILED&q=0b6c&limit=2", 200,
          "{\"items\":[" SUMMARY (JOB_A, "FAILED", "2026-01-02T03:04:05.000Z") ","
          SUMMARY (JOB_B, "FAILED", "2026-01-02T03:04:04.000Z") "],\"nextCursor\":\"c1\"}");
  answer (f, "GET", "/jobs?status=FAILED&q=0b6c&cursor=c1&limit=2", 200,
          "{\"items\":[" SUMMARY (JOB_C, "FAILED", "2026-01-02T03:04:03.000Z") "],\"nextCursor\":null}");

  g_signal_connect_swapped (list, "notify::n-items", G_CALLBACK (g_atomic_int_inc), &changes);

  odd_job_list_set_status (list, ODD_JOB_STATUS_FAILED);
  odd_job_list_set_text (list, "0b6c");
  odd_job_list_set_page_size (list, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
  g_assert_true (odd_job_list_get_has_more (list));

  /* Two calls while one load runs: one request, both answered. */
  odd_job_list_load_more_async (list, NULL, on_loaded, f);
  g_assert_true (odd_job_list_get_loading (list));
  odd_job_list_load_more_async (list, NULL, NULL, NULL);
  g_assert_true (odd_job_list_load_more_finish (list, wait_result (f), &error));
  g_assert_no_error (error);
  while (odd_job_list_get_loading (list))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 2);
  g_assert_true (odd_job_list_get_has_more (list));
  g_assert_cmpuint (f->requests->len, ==, 1);

  odd_job_list_load_more_async (list, NULL, on_loaded, f);
  g_assert_true (odd_job_list_load_more_finish (list, wait_result (f), &error));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);
  g_assert_false (odd_job_list_get_has_more (list));
  third = g_list_model_get_item (G_LIST_MODEL (list), 2);
  g_assert_cmpstr (odd_job_get_id (third), ==, JOB_C);
  g_assert_cmpstr (((char **) f->requests->pdata)[1], ==, "GET /jobs?status=FAILED&q=0b6c&cursor=c1&limit=2");
  g_assert_cmpuint (changes, ==, 2);

  /* The end: no more requests. */
  odd_job_list_load_more_async (list, NULL, on_loaded, f);
  g_assert_true (odd_job_list_load_more_finish (list, wait_result (f), &error));
  g_assert_cmpuint (f->requests->len, ==, 2);

  /* A new filter empties the list and starts at the top again. */
  odd_job_list_set_text (list, "zz");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
  g_assert_true (odd_job_list_get_has_more (list));
}

static void
test_job_list_reset_while_loading (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddJobList) list = odd_job_list_new (f->client);

  hang (f, "GET", "/jobs");
  odd_client_set_timeout (f->client, 60);
  odd_job_list_load_more_async (list, NULL, on_loaded, f);
  while (f->hung->len == 0)
    g_main_context_iteration (NULL, TRUE);
  odd_job_list_set_job_type (list, "email");
  g_assert_false (odd_job_list_load_more_finish (list, wait_result (f), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (odd_job_list_get_loading (list));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
}

static void
test_dead_letters (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddDeadLetterList) list = odd_dead_letter_list_new (f->client);
  g_autoptr(OddDeadLetter) letter = NULL;

  answer (f, "GET", "/dlq", 200,
          "{\"items\":[{\"id\":7,\"queue\":\"jobs.dead\",\"reason\":\"retries_exhausted\",\"jobId\":\"" JOB_A "\","
          "\"correlationId\":null,\"deadAt\":\"2026-01-02T03:04:05.000Z\",\"replayedAt\":null,"
          "\"message\":{\"validation_error\":\"simulated failure\"}}],\"total\":12}");
  odd_dead_letter_list_set_queue (list, "jobs.dead");
  odd_dead_letter_list_refresh_async (list, NULL, on_loaded, f);
  g_assert_true (odd_dead_letter_list_refresh_finish (list, wait_result (f), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 1);
  g_assert_cmpint (odd_dead_letter_list_get_total (list), ==, 12);
  letter = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_cmpint (odd_dead_letter_get_id (letter), ==, 7);
  g_assert_cmpstr (odd_dead_letter_get_job_id (letter), ==, JOB_A);
  g_assert_null (odd_dead_letter_get_correlation_id (letter));
  g_assert_null (odd_dead_letter_get_replayed_at (letter));
  g_assert_cmpstr (odd_dead_letter_get_error (letter), ==, "simulated failure");
  g_assert_cmpstr (((char **) f->requests->pdata)[0], ==, "GET /dlq?queue=jobs.dead&limit=500");
}

static void
test_health (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) bare_error = NULL;
  g_autoptr(OddHealth) ready = NULL;
  g_autoptr(OddHealth) not_ready = NULL;

  answer (f, "GET", "/readyz", 200, "{\"status\":\"ok\",\"version\":\"1.2.3\"}");
  odd_client_get_health_async (f->client, ODD_SERVICE_GATEWAY, NULL, on_done, f);
  ready = odd_client_get_health_finish (f->client, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_true (odd_health_is_ready (ready));
  g_assert_cmpstr (odd_health_get_version (ready), ==, "1.2.3");
  g_assert_null (odd_health_get_reason (ready));

  /* Not ready is an answer, with its reason. */
  answer (f, "GET", "/readyz", 503, "{\"status\":\"not_ready\",\"version\":\"1.2.3\",\"reason\":\"RabbitMQ not connected yet\"}");
  odd_client_get_health_async (f->client, ODD_SERVICE_READ_MODEL, NULL, on_done, f);
  not_ready = odd_client_get_health_finish (f->client, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_false (odd_health_is_ready (not_ready));
  g_assert_cmpint (odd_health_get_service (not_ready), ==, ODD_SERVICE_READ_MODEL);
  g_assert_cmpstr (odd_health_get_reason (not_ready), ==, "RabbitMQ not connected yet");

  /* A 503 without a health body is an error. */
  answer (f, "GET", "/readyz", 503, "{\"error\":\"shutting down\"}");
  odd_client_get_health_async (f->client, ODD_SERVICE_GATEWAY, NULL, on_done, f);
  g_assert_null (odd_client_get_health_finish (f->client, wait_result (f), &bare_error));
  assert_client_error (bare_error, ODD_CLIENT_ERROR_BAD_ANSWER, "health.json");
}

static void
test_submit_burst (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) refused = NULL;
  g_autoptr(JsonNode) payload = json_from_string ("{\"simulate\":{\"durationMs\":5}}", NULL);
  g_auto(GStrv) ids = NULL;

  answer (f, "POST", "/jobs", 202, "{\"jobId\":\"" JOB_A "\",\"eventId\":\"" EVENT_ID "\"}");
  odd_client_submit_jobs_async (f->client, "email", payload, 20, NULL, on_done, f);
  ids = odd_client_submit_jobs_finish (f->client, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (ids), ==, 20);
  g_assert_cmpstr (ids[19], ==, JOB_A);
  g_assert_cmpuint (f->requests->len, ==, 20);
  g_assert_cmpstr (((char **) f->requests->pdata)[0], ==,
                   "POST /jobs {\"type\":\"email\",\"payload\":{\"simulate\":{\"durationMs\":5}}}");

  answer (f, "POST", "/jobs", 400, "{\"error\":\"Invalid job data\",\"details\":[{\"path\":\"/type\",\"message\":\"must match pattern\"}]}");
  odd_client_submit_jobs_async (f->client, "bad type", NULL, 3, NULL, on_done, f);
  g_assert_null (odd_client_submit_jobs_finish (f->client, wait_result (f), &refused));
  assert_client_error (refused, ODD_CLIENT_ERROR_BAD_REQUEST, "0 of 3 jobs were accepted, then: ");
  g_assert_nonnull (strstr (refused->message, "Invalid job data: /type must match pattern"));
  g_assert_cmpstr (odd_client_error_get_reason (refused), ==, "Invalid job data: /type must match pattern");
}

/* ODD_API_TOKEN goes to the gateway as a bearer token, never to the read model. */
static void
test_api_token (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddEndpoints) with_token = odd_endpoints_with_api_token (odd_client_get_endpoints (f->client), "s3cret");
  g_autoptr(OddStats) stats = NULL;
  g_auto(GStrv) ids = NULL;

  odd_client_set_endpoints (f->client, with_token);
  answer (f, "POST", "/jobs", 202, "{\"jobId\":\"" JOB_A "\",\"eventId\":\"" EVENT_ID "\"}");
  odd_client_submit_jobs_async (f->client, "email", NULL, 1, NULL, on_done, f);
  ids = odd_client_submit_jobs_finish (f->client, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (f->authorization, ==, "Bearer s3cret");

  answer (f, "GET", "/stats", 200, STATS_OK);
  stats = get_stats (f, &error);
  g_assert_no_error (error);
  g_assert_null (f->authorization);
}

static void
test_retry_and_replay (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) conflict = NULL;
  g_autoptr(OddReplayResult) one = NULL;
  g_autoptr(OddReplayResult) all = NULL;
  gint64 generation = 0;

  answer (f, "POST", "/jobs/" JOB_A "/retry", 202, "{\"jobId\":\"" JOB_A "\",\"eventId\":\"" EVENT_ID "\",\"generation\":2}");
  odd_client_retry_job_async (f->client, JOB_A, NULL, on_done, f);
  g_assert_true (odd_client_retry_job_finish (f->client, wait_result (f), &generation, &error));
  g_assert_cmpint (generation, ==, 2);

  answer (f, "POST", "/jobs/" JOB_B "/retry", 409, "{\"error\":\"Only FAILED jobs can be retried\",\"details\":[{\"path\":\"/status\",\"message\":\"is COMPLETED\"}]}");
  odd_client_retry_job_async (f->client, JOB_B, NULL, on_done, f);
  g_assert_false (odd_client_retry_job_finish (f->client, wait_result (f), NULL, &conflict));
  assert_client_error (conflict, ODD_CLIENT_ERROR_CONFLICT, "Only FAILED jobs can be retried: /status is COMPLETED");

  answer (f, "POST", "/dlq/replay", 200, "{\"replayed\":1,\"kept\":0,\"details\":[]}");
  odd_client_replay_dead_letters_async (f->client, 1, NULL, on_done, f);
  one = odd_client_replay_dead_letters_finish (f->client, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (one->replayed, ==, 1);
  g_assert_cmpstr (((char **) f->requests->pdata)[f->requests->len - 1], ==, "POST /dlq/replay {\"limit\":1}");

  /* All: a full batch asks again; a short one ends. */
  answer (f, "POST", "/dlq/replay", 200, "{\"replayed\":999,\"kept\":1,\"details\":[{\"queue\":\"jobs.failed.validation\",\"reason\":\"still invalid: /type\"}]}");
  odd_client_replay_dead_letters_async (f->client, 0, NULL, on_done, f);
  while (f->requests->len < 4)
    g_main_context_iteration (NULL, TRUE);
  answer (f, "POST", "/dlq/replay", 200, "{\"replayed\":5,\"kept\":1,\"details\":[{\"queue\":\"jobs.failed.validation\",\"reason\":\"still invalid: /type\"}]}");
  all = odd_client_replay_dead_letters_finish (f->client, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->requests->len, ==, 5);
  g_assert_cmpuint (all->replayed, ==, 1004);
  g_assert_cmpuint (all->kept, ==, 1);
  g_assert_cmpuint (all->reasons->len, ==, 1);
  g_assert_cmpstr (all->reasons->pdata[0], ==, "jobs.failed.validation: still invalid: /type");
  g_assert_cmpstr (((char **) f->requests->pdata)[4], ==, "POST /dlq/replay {\"limit\":1000}");
}

/* ---- endpoint discovery: the TUI's precedence rules ---- */

static void
test_endpoints (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("odd-endpoints-XXXXXX", &error);
  g_autoptr(OddStackPaths) paths = NULL;
  g_autoptr(OddEndpoints) defaults = NULL;
  g_autoptr(OddEndpoints) env = NULL;
  g_autoptr(OddEndpoints) stack = NULL;
  g_autoptr(OddEndpoints) gw_only = NULL;
  g_autoptr(OddEndpoints) cluster = NULL;
  g_autoptr(OddEndpoints) followed = NULL;
  g_autoptr(OddEndpoints) kept = NULL;
  g_autofree char *stack_json = NULL;

  g_assert_no_error (error);
  g_setenv ("ODD_STATE_DIR", tmp, TRUE);
  g_unsetenv ("READ_MODEL_URL");
  g_unsetenv ("GATEWAY_URL");
  g_unsetenv ("ODD_API_TOKEN");

  defaults = odd_endpoints_discover ();
  g_assert_cmpstr (odd_endpoints_get_read_model_url (defaults), ==, "http://localhost:8080");
  g_assert_cmpstr (odd_endpoints_get_gateway_url (defaults), ==, "http://localhost:3000");
  g_assert_cmpint (odd_endpoints_get_source (defaults), ==, ODD_ENDPOINTS_SOURCE_DEFAULT);
  g_assert_null (odd_endpoints_get_service_url (defaults, ODD_SERVICE_PROCESSOR));

  g_setenv ("READ_MODEL_URL", "http://rm.example:1/", TRUE);
  g_setenv ("GATEWAY_URL", "http://gw.example:2", TRUE);
  env = odd_endpoints_discover ();
  g_assert_cmpstr (odd_endpoints_get_read_model_url (env), ==, "http://rm.example:1");
  g_assert_cmpstr (odd_endpoints_get_gateway_url (env), ==, "http://gw.example:2");
  g_assert_cmpint (odd_endpoints_get_source (env), ==, ODD_ENDPOINTS_SOURCE_ENV);

  /* A running stack's stack.json; an empty variable counts as unset. */
  paths = odd_stack_paths_new (tmp, 21000);
  g_assert_true (odd_stack_paths_save (paths, &error));
  g_setenv ("READ_MODEL_URL", "", TRUE);
  g_unsetenv ("GATEWAY_URL");
  stack = odd_endpoints_discover ();
  g_assert_cmpint (odd_endpoints_get_source (stack), ==, ODD_ENDPOINTS_SOURCE_STACK);
  {
    g_autofree char *rm = odd_stack_paths_http_url (paths, ODD_PORT_READ_MODEL);
    g_autofree char *processor = odd_stack_paths_http_url (paths, ODD_PORT_PROCESSOR);

    g_assert_cmpstr (odd_endpoints_get_read_model_url (stack), ==, rm);
    g_assert_cmpstr (odd_endpoints_get_service_url (stack, ODD_SERVICE_PROCESSOR), ==, processor);
  }

  /* GATEWAY_URL alone: the gateway from the environment, the rest from the stack, and the
   * source is the stack (as the TUI always did). */
  g_setenv ("GATEWAY_URL", "http://gw.example:2", TRUE);
  gw_only = odd_endpoints_discover ();
  g_assert_cmpstr (odd_endpoints_get_gateway_url (gw_only), ==, "http://gw.example:2");
  g_assert_cmpint (odd_endpoints_get_source (gw_only), ==, ODD_ENDPOINTS_SOURCE_STACK);

  /* Starting a cluster: followed unless the environment chose. */
  cluster = odd_endpoints_new_for_cluster (18080, 13000);
  g_assert_cmpstr (odd_endpoints_get_read_model_url (cluster), ==, "http://127.0.0.1:18080");
  g_assert_cmpstr (odd_endpoints_get_gateway_url (cluster), ==, "http://127.0.0.1:13000");
  g_assert_null (odd_endpoints_get_service_url (cluster, ODD_SERVICE_METRICS_ENGINE));
  followed = odd_endpoints_follow (stack, cluster);
  g_assert_true (followed == cluster);
  kept = odd_endpoints_follow (env, cluster);
  g_assert_true (kept == env);

  stack_json = odd_stack_paths_stack_json (paths);
  g_unlink (stack_json);
  g_rmdir (tmp);
  g_unsetenv ("GATEWAY_URL");
  g_unsetenv ("READ_MODEL_URL");
  g_unsetenv ("ODD_STATE_DIR");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* First, while no thread runs yet: it sets environment variables. */
  g_test_add_func ("/client/endpoints", test_endpoints);

#define ADD(path, func) g_test_add ("/client/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("stats", test_stats);
  ADD ("wrong-shapes", test_wrong_shapes);
  ADD ("garbage", test_garbage);
  ADD ("server-error", test_server_error);
  ADD ("timeout", test_timeout);
  ADD ("oversized", test_oversized);
  ADD ("cancel", test_cancel);
  ADD ("bad-arguments", test_bad_arguments);
  ADD ("recent-queues-alerts", test_recent_and_queues);
  ADD ("series", test_series);
  ADD ("job-detail", test_job_detail);
  ADD ("job-list", test_job_list);
  ADD ("job-list-reset-while-loading", test_job_list_reset_while_loading);
  ADD ("dead-letters", test_dead_letters);
  ADD ("health", test_health);
  ADD ("submit-burst", test_submit_burst);
  ADD ("retry-and-replay", test_retry_and_replay);
  ADD ("api-token", test_api_token);
#undef ADD
  g_test_add_func ("/client/refused", test_refused);

  return g_test_run ();
}
