/* odd-bench: load generator for the gateway, with end-to-end latency from the event store
 *
 *   odd-bench closed --concurrency 64 --duration 10 --gateway URL [--postgres URL] [--json FILE]
 *   odd-bench open --rate 1000 --duration 10 --gateway URL [--postgres URL] [--json FILE]
 *
 * closed: N clients, each sends its next job as soon as the previous one is answered
 * (throughput). open: jobs are sent at a fixed rate whatever the answers do (latency under a
 * given load). In the open loop a job is due at start + k / rate; jobs wait in odd-bench's
 * own queue for one of --connections keep-alive connections (libsoup's queue gets slow with
 * thousands of messages), and both latencies are measured from the due time, so a slow
 * gateway cannot hide its backlog (no coordinated omission). More than --max-inflight due
 * jobs waiting is client overload: those are counted as not sent. Every job is a full Job with the client's createdAt,
 * so with --postgres the submit-to-completed latency is job.completed occurred_at − created_at
 * of exactly the jobs this run submitted (they share a job type unique to the run).
 */
#define G_LOG_DOMAIN "odd-bench"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <math.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include <libpq-fe.h>

typedef struct {
  /* options */
  gboolean     open_loop;
  int          concurrency;
  int          rate;
  int          duration_s;
  int          max_inflight;
  int          max_conns;
  int          settle_s;
  char        *gateway;
  char        *postgres;
  char        *json_path;

  /* run */
  SoupSession *session;
  GMainLoop   *loop;
  char        *type;          /* bench-<random>: marks this run's jobs */
  char        *url;
  gint64       start_us;
  gint64       end_us;
  gboolean     stopping;
  guint64      sent;
  guint64      inflight;      /* requests libsoup has */
  GQueue       due;           /* open loop: due times (monotonic µs) of jobs not yet sent */
  guint64      dropped;       /* open loop: due jobs not sent because max_inflight was reached */
  guint        to_send;       /* closed loop: answers whose client sends again */
  guint        idle_id;
  guint64      accepted;
  GHashTable  *errors;        /* status (0 = transport) → count */
  GHashTable  *transport;     /* transport error message → count */
  GArray      *latency_ms;    /* double, one per answer */
} Bench;

typedef struct {
  Bench       *bench;
  gint64       sent_us;
  SoupMessage *msg;
} Request;

static char *
rfc3339_at (gint64 now)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (now / G_USEC_PER_SEC);
  g_autofree char *s = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03dZ", s, (int) (now % G_USEC_PER_SEC / 1000));
}

static void send_one (Bench *b,
                      gint64 due_us);
static void dispatch (Bench *b);

static gboolean
on_idle_send (gpointer user_data)
{
  Bench *b = user_data;

  b->idle_id = 0;
  if (b->open_loop)
    dispatch (b);
  else
    for (; b->to_send > 0 && !b->stopping; b->to_send--)
      send_one (b, g_get_monotonic_time ());
  b->to_send = 0;
  return G_SOURCE_REMOVE;
}

static void
on_answer (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Request *req = user_data;
  Bench *b = req->bench;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  double ms = (g_get_monotonic_time () - req->sent_us) / 1000.0;
  guint status = body != NULL ? soup_message_get_status (msg) : 0;

  b->inflight--;
  g_array_append_val (b->latency_ms, ms);
  if (status == 202)
    b->accepted++;
  else
    {
      if (error != NULL)
        {
          gpointer n = g_hash_table_lookup (b->transport, error->message);

          g_hash_table_insert (b->transport, g_strdup (error->message),
                               GSIZE_TO_POINTER (GPOINTER_TO_SIZE (n) + 1));
        }
      gpointer key = GUINT_TO_POINTER (status);

      g_hash_table_insert (b->errors, key,
                           GSIZE_TO_POINTER (GPOINTER_TO_SIZE (g_hash_table_lookup (b->errors, key)) + 1));
    }
  g_object_unref (req->msg);
  g_free (req);

  /* Send the next one from an idle callback: inside this callback libsoup has not yet put
   * the connection back, and a message queued now would make it open a new one (one TCP
   * connection per request instead of keep-alive). */
  if (!b->stopping || b->open_loop)
    b->to_send++;
  if (b->to_send > 0 && b->idle_id == 0)
    b->idle_id = g_idle_add (on_idle_send, b);
  if (b->stopping && b->inflight == 0 && g_queue_is_empty (&b->due))
    g_main_loop_quit (b->loop);
}

/* createdAt is the due time: the job "arrived" then, whenever odd-bench could send it. */
static void
send_one (Bench *b,
          gint64 due_us)
{
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *now = rfc3339_at (g_get_real_time () - (g_get_monotonic_time () - due_us));
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", b->url);
  g_autoptr (GBytes) bytes = NULL;
  Request *req = g_new0 (Request, 1);
  char *body;

  body = g_strdup_printf ("{\"id\":\"%s\",\"type\":\"%s\",\"status\":\"PENDING\","
                          "\"createdAt\":\"%s\",\"payload\":{}}", id, b->type, now);
  bytes = g_bytes_new_take (body, strlen (body));
  soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  /* libsoup sends a POST on a fresh connection unless told it may be repeated; resending a
   * job with the same id is harmless (the processor treats it as the same job), and it keeps
   * the connections alive like any HTTP/1.1 client would */
  soup_message_add_flags (msg, SOUP_MESSAGE_IDEMPOTENT);

  req->bench = b;
  req->sent_us = due_us;
  req->msg = g_object_ref (msg);
  b->sent++;
  b->inflight++;
  soup_session_send_and_read_async (b->session, msg, G_PRIORITY_DEFAULT, NULL, on_answer, req);
}

static gboolean
on_stop (gpointer user_data)
{
  Bench *b = user_data;

  b->stopping = TRUE;
  b->end_us = g_get_monotonic_time ();
  if (b->inflight == 0 && g_queue_is_empty (&b->due))
    g_main_loop_quit (b->loop);
  return G_SOURCE_REMOVE;
}

/* Open loop: hands due jobs to free connections, oldest first. */
static void
dispatch (Bench *b)
{
  while (b->inflight < (guint64) b->max_conns && !g_queue_is_empty (&b->due))
    {
      gint64 *due = g_queue_pop_head (&b->due);

      send_one (b, *due);
      g_free (due);
    }
}

/* Open loop: every tick queue what the schedule says is due by now. */
static gboolean
on_tick (gpointer user_data)
{
  Bench *b = user_data;
  gint64 now = g_get_monotonic_time ();
  guint64 due;

  if (b->stopping)
    return G_SOURCE_REMOVE;
  due = (guint64) ((now - b->start_us) / 1e6 * b->rate);
  while (b->sent + b->dropped + g_queue_get_length (&b->due) < due)
    {
      guint64 k = b->sent + b->dropped + g_queue_get_length (&b->due);

      if (g_queue_get_length (&b->due) >= (guint) b->max_inflight)
        b->dropped++;
      else
        {
          gint64 *at = g_new (gint64, 1);

          *at = b->start_us + (gint64) (k * 1e6 / b->rate);
          g_queue_push_tail (&b->due, at);
        }
    }
  dispatch (b);
  return G_SOURCE_CONTINUE;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *sorted,
            double  p)
{
  guint idx;

  if (sorted->len == 0)
    return NAN;
  /* nearest rank */
  idx = (guint) ceil (p / 100.0 * sorted->len);
  idx = CLAMP (idx, 1, sorted->len) - 1;
  return g_array_index (sorted, double, idx);
}

static void
add_distribution (JsonBuilder *jb,
                  const char  *name,
                  GArray      *sorted)
{
  double sum = 0;

  for (guint i = 0; i < sorted->len; i++)
    sum += g_array_index (sorted, double, i);
  json_builder_set_member_name (jb, name);
  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "count");
  json_builder_add_int_value (jb, sorted->len);
  if (sorted->len > 0)
    {
      json_builder_set_member_name (jb, "mean");
      json_builder_add_double_value (jb, sum / sorted->len);
      json_builder_set_member_name (jb, "p50");
      json_builder_add_double_value (jb, percentile (sorted, 50));
      json_builder_set_member_name (jb, "p95");
      json_builder_add_double_value (jb, percentile (sorted, 95));
      json_builder_set_member_name (jb, "p99");
      json_builder_add_double_value (jb, percentile (sorted, 99));
      json_builder_set_member_name (jb, "max");
      json_builder_add_double_value (jb, g_array_index (sorted, double, sorted->len - 1));
    }
  json_builder_end_object (jb);
}

static PGresult *
pg_exec (PGconn     *conn,
         const char *sql,
         const char *param,
         GError    **error)
{
  const char *params[1] = { param };
  PGresult *res = PQexecParams (conn, sql, 1, NULL, params, NULL, NULL, 0);

  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "PostgreSQL: %s", PQerrorMessage (conn));
      PQclear (res);
      return NULL;
    }
  return res;
}

typedef struct {
  GArray *e2e_ms;           /* sorted */
  guint64 completed;
  guint64 failed;           /* jobs of the run that ended in job.failed */
  double  settle_s;
  double  throughput;       /* completed / (last completion − first createdAt) */
} EndToEnd;

/* Waits until every accepted job of the run is terminal, its job.completed or job.failed
 * stored (or the settle time ends), then reads the latencies of the completed ones from the
 * event store. */
static gboolean
end_to_end (Bench     *b,
            EndToEnd  *out,
            GError   **error)
{
  PGconn *conn = PQconnectdb (b->postgres);
  gint64 start = g_get_monotonic_time ();
  PGresult *res;
  static const char count_sql[] =
    "SELECT count(DISTINCT j.id), count(DISTINCT j.id) FILTER (WHERE e.event_type = 'job.failed')"
    " FROM job_events e JOIN jobs j ON j.id = e.job_id"
    " WHERE j.type = $1 AND e.event_type IN ('job.completed', 'job.failed')";
  static const char latency_sql[] =
    "SELECT extract(epoch FROM (e.occurred_at - j.created_at)) * 1000,"
    " extract(epoch FROM (max(e.occurred_at) OVER () - min(j.created_at) OVER ()))"
    " FROM job_events e JOIN jobs j ON j.id = e.job_id"
    " WHERE j.type = $1 AND e.event_type = 'job.completed'";

  if (PQstatus (conn) != CONNECTION_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "PostgreSQL %s: %s", b->postgres,
                   PQerrorMessage (conn));
      PQfinish (conn);
      return FALSE;
    }

  for (;;)
    {
      guint64 done;

      res = pg_exec (conn, count_sql, b->type, error);
      if (res == NULL)
        {
          PQfinish (conn);
          return FALSE;
        }
      done = g_ascii_strtoull (PQgetvalue (res, 0, 0), NULL, 10);
      out->failed = g_ascii_strtoull (PQgetvalue (res, 0, 1), NULL, 10);
      PQclear (res);
      if (done >= b->accepted)
        break;
      if (g_get_monotonic_time () - start > (gint64) b->settle_s * G_USEC_PER_SEC)
        {
          g_printerr ("odd-bench: only %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                      " jobs terminal after %d s\n", done, b->accepted, b->settle_s);
          break;
        }
      g_usleep (200 * 1000);
    }
  out->settle_s = (g_get_monotonic_time () - start) / 1e6;

  res = pg_exec (conn, latency_sql, b->type, error);
  if (res == NULL)
    {
      PQfinish (conn);
      return FALSE;
    }
  out->e2e_ms = g_array_sized_new (FALSE, FALSE, sizeof (double), PQntuples (res));
  for (int i = 0; i < PQntuples (res); i++)
    {
      double ms = g_ascii_strtod (PQgetvalue (res, i, 0), NULL);

      g_array_append_val (out->e2e_ms, ms);
    }
  out->completed = PQntuples (res);
  out->throughput = 0;
  if (PQntuples (res) > 0)
    {
      double span = g_ascii_strtod (PQgetvalue (res, 0, 1), NULL);

      if (span > 0)
        out->throughput = out->completed / span;
    }
  PQclear (res);
  PQfinish (conn);
  g_array_sort (out->e2e_ms, compare_double);
  return TRUE;
}

static int
compare_uint (gconstpointer a,
              gconstpointer b)
{
  guint x = GPOINTER_TO_UINT (*(gconstpointer *) a), y = GPOINTER_TO_UINT (*(gconstpointer *) b);

  return x < y ? -1 : x > y;
}

static void
report (Bench    *b,
        EndToEnd *e2e)
{
  g_autoptr (JsonBuilder) jb = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GPtrArray) codes = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key, value;
  double elapsed = (b->end_us - b->start_us) / 1e6;
  double accepted_per_s = b->accepted / elapsed;
  struct rusage usage;
  double client_cpu = 0;

  /* odd-bench competes with the stack for the CPUs: say how much it took */
  if (getrusage (RUSAGE_SELF, &usage) == 0)
    client_cpu = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec
                 + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;

  g_hash_table_iter_init (&iter, b->errors);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (codes, key);
  g_array_sort (b->latency_ms, compare_double);
  g_ptr_array_sort (codes, compare_uint);

  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "mode");
  json_builder_add_string_value (jb, b->open_loop ? "open" : "closed");
  json_builder_set_member_name (jb, b->open_loop ? "rate" : "concurrency");
  json_builder_add_int_value (jb, b->open_loop ? b->rate : b->concurrency);
  json_builder_set_member_name (jb, "durationS");
  json_builder_add_double_value (jb, elapsed);
  json_builder_set_member_name (jb, "sent");
  json_builder_add_int_value (jb, b->sent);
  json_builder_set_member_name (jb, "dropped");
  json_builder_add_int_value (jb, b->dropped);
  json_builder_set_member_name (jb, "accepted");
  json_builder_add_int_value (jb, b->accepted);
  json_builder_set_member_name (jb, "acceptedPerSec");
  json_builder_add_double_value (jb, accepted_per_s);
  json_builder_set_member_name (jb, "clientCpuS");
  json_builder_add_double_value (jb, client_cpu);
  json_builder_set_member_name (jb, "errors");
  json_builder_begin_object (jb);
  for (guint i = 0; i < codes->len; i++)
    {
      guint code = GPOINTER_TO_UINT (codes->pdata[i]);
      g_autofree char *name = code == 0 ? g_strdup ("transport") : g_strdup_printf ("%u", code);

      json_builder_set_member_name (jb, name);
      json_builder_add_int_value (jb, GPOINTER_TO_SIZE (g_hash_table_lookup (b->errors, codes->pdata[i])));
    }
  json_builder_end_object (jb);
  add_distribution (jb, "httpLatencyMs", b->latency_ms);
  if (e2e != NULL)
    {
      json_builder_set_member_name (jb, "endToEnd");
      json_builder_begin_object (jb);
      json_builder_set_member_name (jb, "completed");
      json_builder_add_int_value (jb, e2e->completed);
      json_builder_set_member_name (jb, "failed");
      json_builder_add_int_value (jb, e2e->failed);
      json_builder_set_member_name (jb, "settleS");
      json_builder_add_double_value (jb, e2e->settle_s);
      json_builder_set_member_name (jb, "completedPerSec");
      json_builder_add_double_value (jb, e2e->throughput);
      add_distribution (jb, "latencyMs", e2e->e2e_ms);
      json_builder_end_object (jb);
    }
  json_builder_end_object (jb);
  root = json_builder_get_root (jb);

  g_print ("odd-bench %s %s %d, %.1f s against %s\n",
           b->open_loop ? "open" : "closed", b->open_loop ? "rate" : "concurrency",
           b->open_loop ? b->rate : b->concurrency, elapsed, b->gateway);
  g_print ("  sent %" G_GUINT64_FORMAT ", accepted %" G_GUINT64_FORMAT " (%.0f/s)",
           b->sent, b->accepted, accepted_per_s);
  if (b->dropped > 0)
    g_print (", not sent (client at max in-flight) %" G_GUINT64_FORMAT, b->dropped);
  g_print ("; odd-bench used %.1f s of CPU\n", client_cpu);
  for (guint i = 0; i < codes->len; i++)
    g_print ("  errors %u: %" G_GSIZE_FORMAT "\n", GPOINTER_TO_UINT (codes->pdata[i]),
             GPOINTER_TO_SIZE (g_hash_table_lookup (b->errors, codes->pdata[i])));
  if (b->latency_ms->len > 0)
    g_print ("  HTTP latency ms: p50 %.2f  p95 %.2f  p99 %.2f  max %.2f\n",
             percentile (b->latency_ms, 50), percentile (b->latency_ms, 95),
             percentile (b->latency_ms, 99),
             g_array_index (b->latency_ms, double, b->latency_ms->len - 1));
  g_hash_table_iter_init (&iter, b->transport);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_print ("  transport error x%" G_GSIZE_FORMAT ": %s\n", GPOINTER_TO_SIZE (value), (char *) key);
  if (e2e != NULL && e2e->e2e_ms->len > 0)
    g_print ("  submit-to-completed ms (%" G_GUINT64_FORMAT " jobs, %.0f completed/s):"
             " p50 %.1f  p95 %.1f  p99 %.1f  max %.1f\n",
             e2e->completed, e2e->throughput, percentile (e2e->e2e_ms, 50),
             percentile (e2e->e2e_ms, 95), percentile (e2e->e2e_ms, 99),
             g_array_index (e2e->e2e_ms, double, e2e->e2e_ms->len - 1));

  if (b->json_path != NULL)
    {
      g_autoptr (GError) error = NULL;

      json_generator_set_root (gen, root);
      json_generator_set_pretty (gen, TRUE);
      if (!json_generator_to_file (gen, b->json_path, &error))
        g_printerr ("odd-bench: %s\n", error->message);
    }
}

int
main (int   argc,
      char *argv[])
{
  Bench b = {
    .concurrency = 64,
    .rate = 1000,
    .duration_s = 10,
    .max_inflight = 512,
    .max_conns = 64,
    .settle_s = 180,
  };
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *suffix = NULL;
  EndToEnd e2e = { 0 };
  gboolean have_e2e = FALSE;
  GOptionEntry entries[] = {
    { "concurrency", 'c', 0, G_OPTION_ARG_INT, &b.concurrency, "closed: concurrent clients (64)", "N" },
    { "rate", 'r', 0, G_OPTION_ARG_INT, &b.rate, "open: jobs per second (1000)", "N" },
    { "duration", 'd', 0, G_OPTION_ARG_INT, &b.duration_s, "seconds of load (10)", "S" },
    { "max-inflight", 0, 0, G_OPTION_ARG_INT, &b.max_inflight, "open: cap on due jobs waiting for a connection; beyond it one is counted as not sent (512)", "N" },
    { "connections", 0, 0, G_OPTION_ARG_INT, &b.max_conns, "open: keep-alive connections (64)", "N" },
    { "settle", 0, 0, G_OPTION_ARG_INT, &b.settle_s, "seconds to wait for completions (180)", "S" },
    { "gateway", 'g', 0, G_OPTION_ARG_STRING, &b.gateway, "gateway URL (http://127.0.0.1:3000)", "URL" },
    { "postgres", 'p', 0, G_OPTION_ARG_STRING, &b.postgres, "PostgreSQL URL: measure submit-to-completed", "URL" },
    { "json", 'j', 0, G_OPTION_ARG_FILENAME, &b.json_path, "write the results as JSON", "FILE" },
    { NULL }
  };

  ctx = g_option_context_new ("closed|open - load the gateway with jobs");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("odd-bench: %s\n", error->message);
      return 2;
    }
  if (argc != 2 || (g_strcmp0 (argv[1], "closed") != 0 && g_strcmp0 (argv[1], "open") != 0))
    {
      g_printerr ("odd-bench: say closed or open (see --help)\n");
      return 2;
    }
  b.open_loop = g_str_equal (argv[1], "open");
  if (b.concurrency < 1 || b.rate < 1 || b.duration_s < 1 || b.max_inflight < 1 || b.max_conns < 1 ||
      b.settle_s < 0)
    {
      g_printerr ("odd-bench: --concurrency, --rate, --duration and --max-inflight must be positive\n");
      return 2;
    }
  if (b.gateway == NULL)
    b.gateway = g_strdup ("http://127.0.0.1:3000");

  suffix = g_uuid_string_random ();
  suffix[8] = '\0';
  b.type = g_strdup_printf ("bench-%s", suffix);
  b.url = g_strconcat (b.gateway, "/jobs", NULL);
  b.errors = g_hash_table_new (g_direct_hash, g_direct_equal);
  b.transport = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  b.latency_ms = g_array_sized_new (FALSE, FALSE, sizeof (double), 1 << 16);
  b.loop = g_main_loop_new (NULL, FALSE);
  g_queue_init (&b.due);
  /* one keep-alive connection per closed-loop client; the open loop may need many */
  b.session = soup_session_new_with_options ("max-conns", b.open_loop ? b.max_conns : b.concurrency,
                                             "max-conns-per-host", b.open_loop ? b.max_conns : b.concurrency,
                                             "timeout", 30,
                                             NULL);

  b.start_us = g_get_monotonic_time ();
  if (b.open_loop)
    g_timeout_add (5, on_tick, &b);  /* due times stay exact; a 1 ms tick costs the client more CPU than the requests */
  else
    for (int i = 0; i < b.concurrency; i++)
      send_one (&b, g_get_monotonic_time ());
  g_timeout_add (b.duration_s * 1000, on_stop, &b);
  g_main_loop_run (b.loop);

  if (b.postgres != NULL)
    {
      if (!end_to_end (&b, &e2e, &error))
        {
          g_printerr ("odd-bench: %s\n", error->message);
          return 1;
        }
      have_e2e = TRUE;
    }
  report (&b, have_e2e ? &e2e : NULL);

  g_clear_pointer (&e2e.e2e_ms, g_array_unref);
  g_object_unref (b.session);
  g_main_loop_unref (b.loop);
  g_hash_table_unref (b.errors);
  g_hash_table_unref (b.transport);
  g_array_unref (b.latency_ms);
  g_free (b.type);
  g_free (b.url);
  g_free (b.gateway);
  g_free (b.postgres);
  g_free (b.json_path);
  return b.accepted > 0 ? 0 : 1;
}
