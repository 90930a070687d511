/* Integration tests of the read model against real PostgreSQL and Redis.
 *
 * ODD_TEST_POSTGRES_URL and ODD_TEST_REDIS_URL name servers to use (the test works in its own
 * database "<db>_read_model_test", and flushes the Redis database it is given). Without them
 * it is skipped: `meson test --setup servers` (what ./setup.sh test runs) gives it private
 * servers through the integration fixture. ODD_TEST_RABBITMQ_URL, when set, also checks the /queues fallback to RabbitMQ.
 *
 * Each read model runs in-process on port 0, on its own thread and main context, so that the
 * test can use a synchronous HTTP client; rows, events and keys are written directly.
 */
#include <math.h>
#include <string.h>

#include "odd-build-config.h"
#include "odd-service.h"
#include "odd-read-model.h"
#include "odd-read-model-cursor.h"
#include "odd-test-util.h"

/* Nothing listens on these (the helper's reserved range): "down" dependencies. */
#define DEAD_REDIS_URL    "redis://127.0.0.1:19379/0"
#define DEAD_POSTGRES_URL "postgresql://postgres@127.0.0.1:19432/odd_rm?connect_timeout=2"
#define DEAD_RABBITMQ_URL "amqp://guest:guest@127.0.0.1:19672/"

static char *pg_url;
static char *redis_url;
static const char *rabbitmq_url;
static OddSchemaRegistry *registry;
static SoupSession *session;
static PGconn *pg;
static redisContext *redis;

/* ---- a read model on its own thread ---- */

typedef struct {
  OddReadModelConfig config;
  gboolean           fake_service;  /* also run a service whose /readyz answers 503 */

  GThread           *thread;
  GMainContext      *context;
  GMainLoop         *loop;
  OddReadModel      *model;
  SoupServer        *fake;
  guint              port;

  GMutex             lock;
  GCond              cond;
  gboolean           started;
  GError            *error;
} Server;

static void
fake_readyz (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  static const char body[] = "{\"status\":\"not_ready\",\"version\":\"0.1.0\",\"reason\":\"RabbitMQ not connected\"}";

  soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, body, strlen (body));
}

static gpointer
server_thread (gpointer data)
{
  Server *s = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *urls = NULL;

  g_main_context_push_thread_default (s->context);

  if (s->fake_service)
    {
      GSList *uris;

      s->fake = soup_server_new (NULL, NULL);
      soup_server_add_handler (s->fake, "/readyz", fake_readyz, NULL, NULL);
      if (!soup_server_listen_local (s->fake, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
        g_error ("fake service: %s", error->message);
      uris = soup_server_get_uris (s->fake);
      urls = g_strdup_printf ("%s,fake=http://127.0.0.1:%d", s->config.service_urls,
                              g_uri_get_port (uris->data));
      g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
      g_free (s->config.service_urls);
      s->config.service_urls = g_steal_pointer (&urls);
    }

  s->model = odd_read_model_new (&s->config, &error);
  if (s->model != NULL && odd_read_model_start (s->model, "127.0.0.1", 0, &error))
    s->port = odd_read_model_get_port (s->model);

  g_mutex_lock (&s->lock);
  s->started = TRUE;
  s->error = g_steal_pointer (&error);
  g_cond_signal (&s->cond);
  g_mutex_unlock (&s->lock);

  if (s->port != 0)
    g_main_loop_run (s->loop);

  g_clear_object (&s->model);
  g_clear_object (&s->fake);
  /* Let cancelled probes and finished tasks drop their references. */
  for (int i = 0; i < 100 && g_main_context_iteration (s->context, FALSE); i++)
    ;
  g_main_context_pop_thread_default (s->context);
  return NULL;
}

static Server *
server_start (const char *postgres,
              const char *redis_address,
              const char *rabbitmq,
              const char *service_urls,
              gboolean    fake_service)
{
  Server *s = g_new0 (Server, 1);

  s->config.postgres_url = g_strdup (postgres);
  s->config.redis_url = g_strdup (redis_address);
  s->config.rabbitmq_url = g_strdup (rabbitmq);
  s->config.service_urls = g_strdup (service_urls);
  s->config.probe_interval_ms = 200;
  s->config.probe_timeout_sec = 2;
  s->fake_service = fake_service;
  s->context = g_main_context_new ();
  s->loop = g_main_loop_new (s->context, FALSE);
  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);

  s->thread = g_thread_new ("read-model", server_thread, s);
  g_mutex_lock (&s->lock);
  while (!s->started)
    g_cond_wait (&s->cond, &s->lock);
  g_mutex_unlock (&s->lock);

  g_assert_no_error (s->error);
  g_assert_cmpuint (s->port, >, 0);
  return s;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
server_stop (Server *s)
{
  g_main_context_invoke (s->context, quit_loop, s->loop);
  g_thread_join (s->thread);
  g_main_loop_unref (s->loop);
  g_main_context_unref (s->context);
  g_free (s->config.postgres_url);
  g_free (s->config.redis_url);
  g_free (s->config.rabbitmq_url);
  g_free (s->config.service_urls);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_free (s);
}

static Server *main_server;

/* ---- HTTP ---- */

typedef struct {
  guint               status;
  char               *body;
  gsize               len;
  char               *content_type;
  SoupMessageHeaders *headers;
  JsonNode           *json;
} Reply;

static void
reply_free (Reply *r)
{
  g_free (r->body);
  g_free (r->content_type);
  g_clear_pointer (&r->headers, soup_message_headers_unref);
  g_clear_pointer (&r->json, json_node_unref);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

static Reply *
request (Server     *s,
         const char *method,
         const char *path)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s", s->port, path);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  Reply *r = g_new0 (Reply, 1);
  const char *type;
  gconstpointer data;

  g_assert_nonnull (msg);
  bytes = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);

  r->status = soup_message_get_status (msg);
  data = g_bytes_get_data (bytes, &r->len);
  r->body = g_strndup (data, r->len);
  r->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  type = soup_message_headers_get_content_type (r->headers, NULL);
  r->content_type = g_strdup (type);

  if (g_strcmp0 (type, "application/json") == 0)
    {
      r->json = odd_json_parse (r->body, r->len, &error);
      g_assert_no_error (error);
    }
  return r;
}

static Reply *
get (Server     *s,
     const char *path)
{
  return request (s, "GET", path);
}

static void
assert_valid (const char *schema,
              JsonNode   *instance)
{
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (instance);
  errors = odd_schema_registry_validate (registry, schema, instance, &error);
  g_assert_no_error (error);
  if (errors->len > 0)
    {
      g_autofree char *text = odd_validation_errors_to_string (errors);
      g_autofree char *json = odd_json_to_string (instance);

      g_error ("%s does not validate against %s: %s", json, schema, text);
    }
}

/* A 200 JSON answer valid against @schema. */
static Reply *
get_ok (Server     *s,
        const char *path,
        const char *schema)
{
  Reply *r = get (s, path);

  if (r->status != 200)
    g_error ("GET %s: %u %s", path, r->status, r->body);
  g_assert_cmpstr (r->content_type, ==, "application/json");
  if (schema != NULL)
    assert_valid (schema, r->json);
  return r;
}

/* An error answer with @status, valid against error.json; returns the error text. */
static void
assert_error (Server     *s,
              const char *path,
              guint       status,
              const char *details_path)
{
  g_autoptr(Reply) r = get (s, path);
  JsonObject *o;

  if (r->status != status)
    g_error ("GET %s: expected %u, got %u %s", path, status, r->status, r->body);
  g_assert_cmpstr (r->content_type, ==, "application/json");
  assert_valid ("error", r->json);
  o = json_node_get_object (r->json);
  g_assert_cmpstr (json_object_get_string_member (o, "error"), !=, "");
  if (details_path != NULL)
    {
      JsonArray *details = json_object_get_array_member (o, "details");

      g_assert_nonnull (details);
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (details, 0), "path"),
                       ==, details_path);
    }
}

/* ---- data ---- */

static void
sql (const char *statement)
{
  g_autoptr(GError) error = NULL;

  odd_pg_exec (pg, statement, &error);
  g_assert_no_error (error);
}

static void
sql_params (const char        *statement,
            int                n,
            const char *const *params)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PGresult) res = odd_pg_query (pg, statement, n, params, &error);

  g_assert_no_error (error);
}

static void
redis_do (const char *format,
          ...)
{
  va_list args;
  redisReply *reply;

  va_start (args, format);
  reply = redisvCommand (redis, format, args);
  va_end (args);
  if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
    g_error ("redis %s: %s", format, reply ? reply->str : redis->errstr);
  freeReplyObject (reply);
}

static void
reset_data (void)
{
  sql ("TRUNCATE jobs, job_events, dead_letters RESTART IDENTITY");
  redis_do ("FLUSHDB");
}

static const char *const statuses[] = { "PENDING", "VALIDATED", "EXECUTING", "COMPLETED", "FAILED" };
static const char *const types[] = { "email", "report_50%", "resize" };

/* 250 jobs; pairs share created_at so that the id tie-break is exercised. */
static void
insert_jobs (guint n)
{
  sql ("BEGIN");
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      g_autofree char *age = g_strdup_printf ("%u", i / 2);
      const char *params[] = { id, types[i % 3], statuses[i % 5], age };

      sql_params ("INSERT INTO jobs (id, type, status, payload, attempts, created_at, updated_at) "
                  "VALUES ($1::uuid, $2, $3, '{\"n\":1}', 1, "
                  "timestamptz '2026-01-01 00:00:00.123456+00' - $4::int * interval '1 second', now())",
                  4, params);
    }
  sql ("COMMIT");
}

static char **
ids_in_order_by (const char *where,
                 const char *direction)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *query = g_strdup_printf ("SELECT id::text FROM jobs %s ORDER BY created_at %s, id %s",
                                            where ? where : "", direction, direction);
  g_autoptr(PGresult) res = odd_pg_query (pg, query, 0, NULL, &error);
  GStrvBuilder *builder = g_strv_builder_new ();
  char **ids;

  g_assert_no_error (error);
  for (int i = 0; i < PQntuples (res); i++)
    g_strv_builder_add (builder, PQgetvalue (res, i, 0));
  ids = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return ids;
}

static char **
ids_in_order (const char *where)
{
  return ids_in_order_by (where, "DESC");
}

static void
insert_event (const char *job_id,
              const char *event_type,
              const char *occurred_at)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) payload = NULL;
  g_autoptr(JsonNode) envelope = NULL;
  g_autofree char *name = g_strdup_printf ("%s/0/%s", job_id, event_type);
  g_autofree char *event_id = odd_uuid_v5 (ODD_EVENT_NAMESPACE, name);
  g_autofree char *text = NULL;
  OddProducer producer = { "processor", "test", ODD_VERSION };
  const char *params[5];

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, job_id);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "email");
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "COMPLETED");
  json_builder_set_member_name (builder, "createdAt");
  json_builder_add_string_value (builder, "2026-01-01T00:00:00.000Z");
  json_builder_end_object (builder);
  payload = json_builder_get_root (builder);

  envelope = odd_envelope_new (event_type, event_id, occurred_at, &producer, NULL, job_id, payload);
  text = odd_json_to_string (envelope);

  params[0] = event_id;
  params[1] = job_id;
  params[2] = event_type;
  params[3] = occurred_at;
  params[4] = text;
  sql_params ("INSERT INTO job_events (event_id, job_id, event_type, occurred_at, envelope) "
              "VALUES ($1::uuid, $2::uuid, $3, $4::timestamptz, $5::jsonb)", 5, params);
}

static const char *
member_string (JsonNode   *node,
               const char *name)
{
  return json_object_get_string_member (json_node_get_object (node), name);
}

/* The database of @url with "_read_model_test" appended, created when missing; returns its
 * connection string and frees @url. */
static char *
dedicated_database (char *url)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PGconn) admin = NULL;
  g_autoptr(PGresult) exists = NULL;
  g_autoptr(GString) conninfo = g_string_new (NULL);
  g_autofree char *name = NULL;
  PQconninfoOption *options;
  const char *params[1];

  options = PQconninfoParse (url, NULL);
  g_assert_nonnull (options);
  for (PQconninfoOption *o = options; o->keyword != NULL; o++)
    if (g_str_equal (o->keyword, "dbname"))
      name = g_strdup_printf ("%s_read_model_test", o->val ? o->val : "postgres");
  g_assert_nonnull (name);

  admin = odd_pg_connect (url, &error);
  g_assert_no_error (error);
  params[0] = name;
  exists = odd_pg_query (admin, "SELECT 1 FROM pg_database WHERE datname = $1", 1, params, &error);
  g_assert_no_error (error);
  if (PQntuples (exists) == 0)
    {
      char *ident = PQescapeIdentifier (admin, name, strlen (name));
      g_autofree char *create = g_strdup_printf ("CREATE DATABASE %s", ident);

      PQfreemem (ident);
      odd_pg_exec (admin, create, &error);
      g_assert_no_error (error);
    }

  /* key='value' form, with the database replaced. */
  for (PQconninfoOption *o = options; o->keyword != NULL; o++)
    {
      const char *value = g_str_equal (o->keyword, "dbname") ? name : o->val;
      g_autoptr(GString) quoted = NULL;

      if (value == NULL)
        continue;
      quoted = g_string_new (value);
      g_string_replace (quoted, "\\", "\\\\", 0);
      g_string_replace (quoted, "'", "\\'", 0);
      g_string_append_printf (conninfo, "%s='%s' ", o->keyword, quoted->str);
    }
  PQconninfoFree (options);
  g_free (url);

  return g_string_free (g_steal_pointer (&conninfo), FALSE);
}

/* ---- tests ---- */

#define REQUIRE_SERVERS() \
  G_STMT_START { \
    if (!odd_test_have_servers (ODD_TEST_POSTGRES | ODD_TEST_REDIS)) \
      return; \
  } G_STMT_END

static void
wait_ready (Server   *s,
            guint     expected_status)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(Reply) r = get (s, "/readyz");

      if (r->status == expected_status &&
          (expected_status == 200 || strstr (r->body, "starting") == NULL))
        return;
      if (g_get_monotonic_time () > deadline)
        g_error ("/readyz never answered %u: %u %s", expected_status, r->status, r->body);
      g_usleep (50 * 1000);
    }
}

static void
test_health (void)
{
  REQUIRE_SERVERS ();

  {
    g_autoptr(Reply) r = get_ok (main_server, "/health", "health");
    g_assert_cmpstr (member_string (r->json, "status"), ==, "ok");
    g_assert_cmpstr (member_string (r->json, "version"), ==, ODD_VERSION);
    g_assert_cmpuint (json_object_get_size (json_node_get_object (r->json)), ==, 2);
  }
  {
    g_autoptr(Reply) r = get_ok (main_server, "/healthz", "health");
    g_assert_cmpstr (member_string (r->json, "status"), ==, "ok");
  }

  wait_ready (main_server, 200);
  {
    g_autoptr(Reply) r = get_ok (main_server, "/readyz", "health");
    g_assert_cmpstr (member_string (r->json, "status"), ==, "ok");
  }
  {
    g_autoptr(Reply) r = get (main_server, "/metrics");
    g_assert_cmpuint (r->status, ==, 200);
    g_assert_nonnull (strstr (r->body, "read_model_dependency_up{service=\"read-model\",dependency=\"postgres\"} 1"));
    g_assert_nonnull (strstr (r->body, "http_requests_total{service=\"read-model\""));
  }
}

static void
test_http_conventions (void)
{
  REQUIRE_SERVERS ();

  /* CORS on every answer. */
  {
    g_autoptr(Reply) r = get_ok (main_server, "/health", NULL);
    g_assert_cmpstr (soup_message_headers_get_one (r->headers, "Access-Control-Allow-Origin"), ==, "*");
  }
  /* Preflight: 200, empty, with the allowed methods and headers. */
  {
    g_autoptr(Reply) r = request (main_server, "OPTIONS", "/jobs/recent");
    const char *methods;
    const char *headers;

    g_assert_cmpuint (r->status, ==, 200);
    g_assert_cmpuint (r->len, ==, 0);
    g_assert_cmpstr (soup_message_headers_get_one (r->headers, "Access-Control-Allow-Origin"), ==, "*");
    methods = soup_message_headers_get_one (r->headers, "Access-Control-Allow-Methods");
    headers = soup_message_headers_get_one (r->headers, "Access-Control-Allow-Headers");
    /* exactly the reference read model's values */
    g_assert_cmpstr (methods, ==, "GET, OPTIONS");
    g_assert_cmpstr (headers, ==, "Content-Type");
  }
  /* Read only: other methods are 405 JSON; unknown paths 404 JSON. */
  {
    const char *methods[] = { "POST", "PUT", "DELETE", "PATCH" };
    const char *paths[] = { "/stats", "/jobs", "/jobs/recent", "/dlq", "/alerts" };

    for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
      for (guint p = 0; p < G_N_ELEMENTS (paths); p++)
        {
          g_autoptr(Reply) r = request (main_server, methods[m], paths[p]);

          g_assert_cmpuint (r->status, ==, 405);
          g_assert_cmpstr (r->content_type, ==, "application/json");
          assert_valid ("error", r->json);
        }
  }
  assert_error (main_server, "/nothing-here", 404, NULL);
  assert_error (main_server, "/jobs/0b7f4d0e-3a8c-4d55-9a9e-2f0c1e5b7a11/retry", 404, NULL);
  assert_error (main_server, "/docs/other", 404, NULL);
}

static void
test_empty (void)
{
  REQUIRE_SERVERS ();
  reset_data ();

  /* Fresh system: empty lists are [], never null; missing counters are 0. */
  {
    g_autoptr(Reply) r = get_ok (main_server, "/jobs/recent", "jobs-recent");
    g_assert_cmpstr (r->body, ==, "[]");
  }
  {
    g_autoptr(Reply) r = get_ok (main_server, "/events", "events");
    g_assert_cmpstr (r->body, ==, "[]");
  }
  {
    g_autoptr(Reply) r = get_ok (main_server, "/jobs", "jobs-page");
    g_assert_cmpstr (r->body, ==, "{\"items\":[],\"nextCursor\":null}");
  }
  {
    g_autoptr(Reply) r = get_ok (main_server, "/dlq", "dlq");
    g_assert_cmpstr (r->body, ==, "{\"items\":[],\"total\":0}");
  }
  {
    g_autoptr(Reply) r = get_ok (main_server, "/stats", "stats");
    JsonObject *o = json_node_get_object (r->json);

    g_assert_cmpint (json_object_get_int_member (o, "totalJobs"), ==, 0);
    g_assert_cmpint (json_object_get_int_member (o, "completedJobs"), ==, 0);
    g_assert_cmpint (json_object_get_int_member (o, "failedJobs"), ==, 0);
    g_assert_cmpint (json_object_get_int_member (o, "inFlightJobs"), ==, 0);
    g_assert_cmpstr (json_object_get_string_member (o, "lastEventTime"), ==, "");
    g_assert_cmpfloat (json_object_get_double_member (o, "throughputPerSec"), ==, 0.0);
    g_assert_cmpuint (json_object_get_size (json_object_get_object_member (o, "byType")), ==, 0);
  }
  {
    g_autoptr(Reply) r = get_ok (main_server, "/stats/series?window=5", "stats-series");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (r->json), "points")), ==, 5);
  }
  {
    g_autoptr(Reply) r = get_ok (main_server, "/alerts", "alerts");
    g_assert_cmpstr (r->body, ==, "{\"alerts\":[]}");
  }
}

static GPtrArray *
walk_pages (const char *filter,
            guint       limit)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *cursor = NULL;
  guint pages = 0;

  do
    {
      g_autofree char *path = g_strdup_printf ("/jobs?limit=%u%s%s%s", limit, filter ? filter : "",
                                               cursor ? "&cursor=" : "", cursor ? cursor : "");
      g_autoptr(Reply) r = get_ok (main_server, path, "jobs-page");
      JsonObject *o = json_node_get_object (r->json);
      JsonArray *items = json_object_get_array_member (o, "items");
      JsonNode *next = json_object_get_member (o, "nextCursor");

      g_assert_cmpuint (json_array_get_length (items), <=, limit);
      for (guint i = 0; i < json_array_get_length (items); i++)
        g_ptr_array_add (ids, g_strdup (json_object_get_string_member (json_array_get_object_element (items, i), "id")));

      g_clear_pointer (&cursor, g_free);
      if (!JSON_NODE_HOLDS_NULL (next))
        {
          /* A cursor is only handed out when a full page was returned. */
          g_assert_cmpuint (json_array_get_length (items), ==, limit);
          cursor = g_strdup (json_node_get_string (next));
        }
      g_assert_cmpuint (++pages, <, 1000);
    }
  while (cursor != NULL);

  return ids;
}

static void
assert_same_ids (GPtrArray   *got,
                 char *const *expected)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_cmpuint (got->len, ==, g_strv_length ((char **) expected));
  for (guint i = 0; i < got->len; i++)
    {
      /* No duplicates, no gaps, and the order of (created_at desc, id desc). */
      g_assert_true (g_hash_table_add (seen, g_ptr_array_index (got, i)));
      g_assert_cmpstr (g_ptr_array_index (got, i), ==, expected[i]);
    }
}

static void
test_jobs_pagination (void)
{
  REQUIRE_SERVERS ();
  reset_data ();
  insert_jobs (250);

  {
    g_auto(GStrv) expected = ids_in_order (NULL);
    g_autoptr(GPtrArray) got = walk_pages (NULL, 100);

    assert_same_ids (got, expected);
  }
  /* Page sizes that do and do not divide the total. */
  {
    g_auto(GStrv) expected = ids_in_order (NULL);
    g_autoptr(GPtrArray) got = walk_pages (NULL, 7);

    assert_same_ids (got, expected);
  }
  {
    g_auto(GStrv) expected = ids_in_order (NULL);
    g_autoptr(GPtrArray) got = walk_pages (NULL, 125);

    assert_same_ids (got, expected);
  }
  /* Filters page the same way. */
  {
    g_auto(GStrv) expected = ids_in_order ("WHERE status = 'FAILED' AND type = 'resize'");
    g_autoptr(GPtrArray) got = walk_pages ("&status=FAILED&type=resize", 4);

    g_assert_cmpuint (got->len, >, 4);
    assert_same_ids (got, expected);
  }
  /* Oldest first, by the same kind of cursor, with and without filters. */
  {
    g_auto(GStrv) expected = ids_in_order_by (NULL, "ASC");
    g_autoptr(GPtrArray) got = walk_pages ("&order=asc", 7);

    assert_same_ids (got, expected);
  }
  {
    g_auto(GStrv) expected = ids_in_order_by ("WHERE status = 'FAILED'", "ASC");
    g_autoptr(GPtrArray) got = walk_pages ("&order=asc&status=FAILED", 9);

    g_assert_cmpuint (got->len, >, 9);
    assert_same_ids (got, expected);
  }
  {
    g_auto(GStrv) expected = ids_in_order (NULL);
    g_autoptr(GPtrArray) got = walk_pages ("&order=desc", 100);

    assert_same_ids (got, expected);
  }
  assert_error (main_server, "/jobs?order=ASC", 400, "/order");
  assert_error (main_server, "/jobs?order=newest", 400, "/order");
  /* Default limit 50. */
  {
    g_autoptr(Reply) r = get_ok (main_server, "/jobs", "jobs-page");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (r->json), "items")), ==, 50);
  }
}

static guint
count_items (const char *path)
{
  g_autoptr(Reply) r = get_ok (main_server, path, "jobs-page");

  return json_array_get_length (json_object_get_array_member (json_node_get_object (r->json), "items"));
}

static void
test_jobs_filters (void)
{
  g_autoptr(Reply) some = NULL;
  const char *id;

  REQUIRE_SERVERS ();
  reset_data ();
  insert_jobs (250);

  g_assert_cmpuint (count_items ("/jobs?status=FAILED&limit=500"), ==, 50);
  g_assert_cmpuint (count_items ("/jobs?status=COMPLETED&limit=500"), ==, 50);
  g_assert_cmpuint (count_items ("/jobs?type=resize&limit=500"), ==, 83);
  g_assert_cmpuint (count_items ("/jobs?type=report_50%25&limit=500"), ==, 83);
  g_assert_cmpuint (count_items ("/jobs?type=report&limit=500"), ==, 0);
  /* An empty value means "any". */
  g_assert_cmpuint (count_items ("/jobs?status=&type=&q=&limit=500"), ==, 250);

  /* q: case-insensitive substring of the type ... */
  g_assert_cmpuint (count_items ("/jobs?q=EMAI&limit=500"), ==, 84);
  g_assert_cmpuint (count_items ("/jobs?q=50%25&limit=500"), ==, 83);
  /* ... where % and _ are literal, not wildcards ("rt%" and "e_a" would match as patterns). */
  g_assert_cmpuint (count_items ("/jobs?q=rt%25&limit=500"), ==, 0);
  g_assert_cmpuint (count_items ("/jobs?q=e_a&limit=500"), ==, 0);
  g_assert_cmpuint (count_items ("/jobs?q=t_5&limit=500"), ==, 83);
  g_assert_cmpuint (count_items ("/jobs?q=%27%3B%20DROP%20TABLE%20jobs%3B--&limit=500"), ==, 0);

  /* ... or of the id, in any case. */
  some = get_ok (main_server, "/jobs/recent?limit=1", "jobs-recent");
  id = json_object_get_string_member (json_array_get_object_element (json_node_get_array (some->json), 0), "id");
  {
    g_autofree char *upper = g_ascii_strup (id + 9, 9);
    g_autofree char *path = g_strdup_printf ("/jobs?q=%s", upper);
    g_autoptr(Reply) r = get_ok (main_server, path, "jobs-page");
    JsonArray *items = json_object_get_array_member (json_node_get_object (r->json), "items");

    g_assert_cmpuint (json_array_get_length (items), >=, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (items, 0), "id"), ==, id);
  }

  /* ... or of the last error: what a user remembers of a failure. */
  sql ("UPDATE jobs SET last_error = 'simulated failure: Disk quota exceeded' "
       "WHERE id IN (SELECT id FROM jobs WHERE status = 'FAILED' ORDER BY id LIMIT 3)");
  g_assert_cmpuint (count_items ("/jobs?q=disk%20QUOTA&limit=500"), ==, 3);
  g_assert_cmpuint (count_items ("/jobs?q=disk%20QUOTA&status=COMPLETED&limit=500"), ==, 0);

  /* Combined filters. */
  {
    g_autoptr(Reply) r = get_ok (main_server, "/jobs?status=PENDING&type=email&limit=500", "jobs-page");
    JsonArray *items = json_object_get_array_member (json_node_get_object (r->json), "items");

    g_assert_cmpuint (json_array_get_length (items), >, 0);
    for (guint i = 0; i < json_array_get_length (items); i++)
      {
        JsonObject *job = json_array_get_object_element (items, i);

        g_assert_cmpstr (json_object_get_string_member (job, "status"), ==, "PENDING");
        g_assert_cmpstr (json_object_get_string_member (job, "type"), ==, "email");
      }
  }

  /* Bad input: 400 naming the parameter. */
  assert_error (main_server, "/jobs?status=DONE", 400, "/status");
  assert_error (main_server, "/jobs?status=failed", 400, "/status");
  assert_error (main_server, "/jobs?limit=0", 400, "/limit");
  assert_error (main_server, "/jobs?limit=501", 400, "/limit");
  assert_error (main_server, "/jobs?limit=ten", 400, "/limit");
  assert_error (main_server, "/jobs?cursor=garbage!", 400, "/cursor");
  assert_error (main_server, "/jobs?cursor=MTIzNDU", 400, "/cursor");
  /* Well formed but beyond any job's time: PostgreSQL's arithmetic on it was a 500. */
  {
    g_autofree char *far = odd_jobs_cursor_encode (G_MAXINT64, "0b7f4d0e-3a8c-4d55-9a9e-2f0c1e5b7a11");
    g_autofree char *before = odd_jobs_cursor_encode (G_MININT64, "0b7f4d0e-3a8c-4d55-9a9e-2f0c1e5b7a11");
    g_autofree char *last = odd_jobs_cursor_encode (G_GINT64_CONSTANT (253402300799999999),
                                                    "0b7f4d0e-3a8c-4d55-9a9e-2f0c1e5b7a11");
    g_autofree char *path = g_strconcat ("/jobs?cursor=", far, NULL);
    g_autofree char *path_before = g_strconcat ("/jobs?cursor=", before, NULL);
    g_autofree char *path_last = g_strconcat ("/jobs?cursor=", last, NULL);
    g_autoptr(Reply) r = NULL;
    JsonArray *details;

    assert_error (main_server, path, 400, "/cursor");
    assert_error (main_server, path_before, 400, "/cursor");
    r = get (main_server, path);
    details = json_object_get_array_member (json_node_get_object (r->json), "details");
    g_assert_nonnull (strstr (json_object_get_string_member (json_array_get_object_element (details, 0),
                                                             "message"),
                              "9999-12-31T23:59:59.999999Z"));
    /* The edge itself is a cursor like any other. */
    g_clear_pointer (&r, reply_free);
    r = get_ok (main_server, path_last, "jobs-page");
  }
  {
    g_autofree char *long_q = g_strnfill (201, 'x');
    g_autofree char *path = g_strdup_printf ("/jobs?q=%s", long_q);

    assert_error (main_server, path, 400, "/q");
  }
}

static void
test_jobs_recent (void)
{
  REQUIRE_SERVERS ();
  reset_data ();
  insert_jobs (30);

  {
    g_auto(GStrv) expected = ids_in_order (NULL);
    g_autoptr(Reply) r = get_ok (main_server, "/jobs/recent", "jobs-recent");
    JsonArray *jobs = json_node_get_array (r->json);

    g_assert_cmpuint (json_array_get_length (jobs), ==, 10);
    for (guint i = 0; i < 10; i++)
      {
        JsonObject *job = json_array_get_object_element (jobs, i);
        gint64 t;

        g_assert_cmpstr (json_object_get_string_member (job, "id"), ==, expected[i]);
        g_assert_true (odd_time_parse_rfc3339 (json_object_get_string_member (job, "createdAt"), &t));
        g_assert_true (g_str_has_suffix (json_object_get_string_member (job, "createdAt"), "Z"));
        g_assert_cmpint (json_object_get_int_member (job, "attempts"), ==, 1);
        g_assert_true (json_object_has_member (job, "updatedAt"));
      }
    /* Milliseconds, UTC: the first job was made at 00:00:00.123456. */
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (jobs, 0), "createdAt"),
                     ==, "2026-01-01T00:00:00.123Z");
  }
  {
    g_autoptr(Reply) r = get_ok (main_server, "/jobs/recent?limit=3", "jobs-recent");
    g_assert_cmpuint (json_array_get_length (json_node_get_array (r->json)), ==, 3);
  }
  {
    g_autoptr(Reply) r = get_ok (main_server, "/jobs/recent?limit=100", "jobs-recent");
    g_assert_cmpuint (json_array_get_length (json_node_get_array (r->json)), ==, 30);
  }
  assert_error (main_server, "/jobs/recent?limit=101", 400, "/limit");
  assert_error (main_server, "/jobs/recent?limit=-1", 400, "/limit");
}

static void
test_job_detail_and_events (void)
{
  g_autofree char *job = odd_uuid_new ();
  g_autofree char *other = odd_uuid_new ();

  REQUIRE_SERVERS ();
  reset_data ();

  {
    const char *params[] = { job };

    sql_params ("INSERT INTO jobs (id, type, status, payload, attempts, generation, last_error, "
                "created_at, updated_at, started_at, finished_at) VALUES ($1::uuid, 'email', 'COMPLETED', "
                "'{\"to\":\"a@example.com\",\"simulate\":{\"durationMs\":5}}', 2, 0, 'boom', "
                "'2026-01-01 00:00:00+00', '2026-01-01 00:00:03+00', '2026-01-01 00:00:01+00', "
                "'2026-01-01 00:00:03.5+00')", 1, params);
  }
  /* Inserted out of order: the answers sort them. */
  insert_event (job, "job.completed", "2026-01-01T00:00:03.500Z");
  insert_event (job, "job.validated", "2026-01-01T00:00:00.100Z");
  insert_event (job, "job.executed", "2026-01-01T00:00:02.000Z");
  insert_event (other, "job.validated", "2026-01-01T00:00:05.000Z");

  {
    g_autofree char *path = g_strdup_printf ("/jobs/%s", job);
    g_autoptr(Reply) r = get_ok (main_server, path, "job-detail");
    JsonObject *o = json_node_get_object (r->json);
    JsonObject *j = json_object_get_object_member (o, "job");
    JsonArray *events = json_object_get_array_member (o, "events");

    g_assert_cmpstr (json_object_get_string_member (j, "id"), ==, job);
    g_assert_cmpstr (json_object_get_string_member (j, "status"), ==, "COMPLETED");
    g_assert_cmpint (json_object_get_int_member (j, "attempts"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (j, "generation"), ==, 0);
    g_assert_cmpstr (json_object_get_string_member (j, "lastError"), ==, "boom");
    g_assert_cmpstr (json_object_get_string_member (j, "createdAt"), ==, "2026-01-01T00:00:00.000Z");
    g_assert_cmpstr (json_object_get_string_member (j, "startedAt"), ==, "2026-01-01T00:00:01.000Z");
    g_assert_cmpstr (json_object_get_string_member (j, "finishedAt"), ==, "2026-01-01T00:00:03.500Z");
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (j, "payload"), "to"),
                     ==, "a@example.com");

    g_assert_cmpuint (json_array_get_length (events), ==, 3);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (events, 0), "eventType"), ==, "job.validated");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (events, 1), "eventType"), ==, "job.executed");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (events, 2), "eventType"), ==, "job.completed");
  }
  /* Upper-case ids name the same job. */
  {
    g_autofree char *upper = g_ascii_strup (job, -1);
    g_autofree char *path = g_strdup_printf ("/jobs/%s", upper);
    g_autoptr(Reply) r = get_ok (main_server, path, "job-detail");
  }
  /* A job that has events but no row yet is still not found: the row is the job. */
  {
    g_autofree char *path = g_strdup_printf ("/jobs/%s", other);
    g_autoptr(Reply) r = get (main_server, path);

    g_assert_cmpuint (r->status, ==, 404);
    g_assert_cmpstr (r->body, ==, "{\"error\":\"Job not found\"}");
  }
  assert_error (main_server, "/jobs/not-a-uuid", 400, "/id");
  assert_error (main_server, "/jobs/0b7f4d0e3a8c4d559a9e2f0c1e5b7a11", 400, "/id");

  /* /events: newest first, all jobs or one. */
  {
    g_autoptr(Reply) r = get_ok (main_server, "/events", "events");
    JsonArray *events = json_node_get_array (r->json);

    g_assert_cmpuint (json_array_get_length (events), ==, 4);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (events, 0), "idempotencyKey"), ==, other);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (events, 3), "eventType"), ==, "job.validated");
  }
  {
    g_autofree char *path = g_strdup_printf ("/events?jobId=%s", job);
    g_autoptr(Reply) r = get_ok (main_server, path, "events");
    JsonArray *events = json_node_get_array (r->json);

    g_assert_cmpuint (json_array_get_length (events), ==, 3);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (events, 0), "eventType"), ==, "job.completed");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (events, 2), "eventType"), ==, "job.validated");
  }
  {
    g_autofree char *path = g_strdup_printf ("/events?jobId=%s&limit=2", job);
    g_autoptr(Reply) r = get_ok (main_server, path, "events");

    g_assert_cmpuint (json_array_get_length (json_node_get_array (r->json)), ==, 2);
  }
  {
    g_autofree char *unknown = odd_uuid_new ();
    g_autofree char *path = g_strdup_printf ("/events?jobId=%s", unknown);
    g_autoptr(Reply) r = get_ok (main_server, path, "events");

    g_assert_cmpstr (r->body, ==, "[]");
  }
  assert_error (main_server, "/events?jobId=42", 400, "/jobId");
  assert_error (main_server, "/events?limit=501", 400, "/limit");
}

static void
set_seconds (gint64      from,
             gint64      to,
             const char *field,
             gint64      value)
{
  for (gint64 t = from; t <= to; t++)
    redis_do ("HSET metrics:sec:%lld %s %lld", (long long) t, field, (long long) value);
}

static void
test_stats (void)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  REQUIRE_SERVERS ();
  reset_data ();

  redis_do ("MSET metrics:jobs:total 250 metrics:jobs:completed 120 metrics:jobs:failed 30 "
            "metrics:jobs:inflight 100 metrics:last_event_time 2026-01-01T00:00:03.500Z");
  /* 10 jobs in [10, 10.1) ms, 80 in [100, 110) ms, 10 in [1000, 1100) ms. An older engine's
   * coarse histogram (metrics:latency) is not read. */
  redis_do ("HSET metrics:latency_us 10000 10 100000 80 1000000 10");
  redis_do ("HSET metrics:latency 1 1000 +Inf 1000");
  redis_do ("HSET metrics:type:email submitted 84 completed 40 failed 10");
  redis_do ("HSET metrics:type:resize submitted 83 completed 80");
  /* 2 completions a second, wide enough around now that the 60 s window is always full. */
  set_seconds (now - 80, now + 20, "completed", 2);

  {
    g_autoptr(Reply) r = get_ok (main_server, "/stats", "stats");
    JsonObject *o = json_node_get_object (r->json);
    JsonObject *latency = json_object_get_object_member (o, "latencyMs");
    JsonObject *by_type = json_object_get_object_member (o, "byType");
    JsonObject *resize;

    g_assert_cmpint (json_object_get_int_member (o, "totalJobs"), ==, 250);
    g_assert_cmpint (json_object_get_int_member (o, "completedJobs"), ==, 120);
    g_assert_cmpint (json_object_get_int_member (o, "failedJobs"), ==, 30);
    g_assert_cmpint (json_object_get_int_member (o, "inFlightJobs"), ==, 100);
    g_assert_cmpstr (json_object_get_string_member (o, "lastEventTime"), ==, "2026-01-01T00:00:03.500Z");
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "throughputPerSec"), 2.0, 1e-9);
    /* Nearest rank (50th, 95th, 99th of 100), each bucket's value to the microsecond. */
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (latency, "p50"),
                                    round (odd_latency_histogram_bucket_value_ms (100000) * 1000) / 1000,
                                    1e-9);
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (latency, "p95"),
                                    round (odd_latency_histogram_bucket_value_ms (1000000) * 1000) / 1000,
                                    1e-9);
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (latency, "p99"),
                                    round (odd_latency_histogram_bucket_value_ms (1000000) * 1000) / 1000,
                                    1e-9);
    g_assert_cmpuint (json_object_get_size (by_type), ==, 2);
    g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (by_type, "email"), "failed"), ==, 10);
    resize = json_object_get_object_member (by_type, "resize");
    g_assert_cmpint (json_object_get_int_member (resize, "completed"), ==, 80);
    /* Absent hash fields are 0. */
    g_assert_cmpint (json_object_get_int_member (resize, "failed"), ==, 0);
  }

  /* At most 100 types. */
  for (guint i = 0; i < 150; i++)
    redis_do ("HSET metrics:type:t%03u submitted 1", i);
  {
    g_autoptr(Reply) r = get_ok (main_server, "/stats", "stats");
    JsonObject *by_type = json_object_get_object_member (json_node_get_object (r->json), "byType");

    g_assert_cmpuint (json_object_get_size (by_type), ==, 100);
  }
}

static void
test_series (void)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  REQUIRE_SERVERS ();
  reset_data ();

  set_seconds (now - 100, now + 20, "completed", 3);
  set_seconds (now - 100, now + 20, "queue_depth", 7);
  redis_do ("HSET metrics:latency_us 7000 4");

  {
    g_autoptr(Reply) r = get_ok (main_server, "/stats/series?window=60", "stats-series");
    JsonObject *o = json_node_get_object (r->json);
    JsonArray *points = json_object_get_array_member (o, "points");
    gint64 from;
    gint64 to;

    g_assert_cmpuint (json_array_get_length (points), ==, 60);
    g_assert_true (odd_time_parse_rfc3339 (json_object_get_string_member (o, "from"), &from));
    g_assert_true (odd_time_parse_rfc3339 (json_object_get_string_member (o, "to"), &to));
    g_assert_cmpint (to - from, ==, 59 * G_USEC_PER_SEC);
    g_assert_cmpint (json_object_get_int_member (o, "step"), ==, 1);
    /* Four jobs in [7, 7.1) ms: within 5 % of each. */
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (json_object_get_object_member (o, "latencyMs"), "p50"),
                                    round (odd_latency_histogram_bucket_value_ms (7000) * 1000) / 1000, 1e-9);

    for (guint i = 0; i < 60; i++)
      {
        JsonObject *p = json_array_get_object_element (points, i);
        gint64 t;

        g_assert_true (odd_time_parse_rfc3339 (json_object_get_string_member (p, "t"), &t));
        g_assert_cmpint (t, ==, from + (gint64) i * G_USEC_PER_SEC);
        g_assert_cmpint (json_object_get_int_member (p, "completed"), ==, 3);
        g_assert_cmpint (json_object_get_int_member (p, "queueDepth"), ==, 7);
        /* Absent fields are zero-filled. */
        g_assert_cmpint (json_object_get_int_member (p, "submitted"), ==, 0);
      }
  }
  {
    g_autoptr(Reply) r = get_ok (main_server, "/stats/series", "stats-series");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (r->json), "points")), ==, 300);
  }
  {
    g_autoptr(Reply) r = get_ok (main_server, "/stats/series?window=3600", "stats-series");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (r->json), "points")), ==, 3600);
  }
  assert_error (main_server, "/stats/series?window=0", 400, "/window");
  assert_error (main_server, "/stats/series?window=3601", 400, "/window");
}

/* The per-second latency histograms of the metrics-engine (lat:<bucket> fields of
 * metrics:sec:<t>) give each point its percentiles; a second without any has none. */
static void
test_series_latency (void)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  double fast = round (odd_latency_histogram_bucket_value_ms (100000) * 1000) / 1000;
  double slow = round (odd_latency_histogram_bucket_value_ms (1000000) * 1000) / 1000;
  guint with_latency = 0;

  REQUIRE_SERVERS ();
  reset_data ();

  /* 8 jobs in [100, 110) ms and 2 in [1, 1.1) s in each of 11 seconds. */
  for (gint64 t = now - 40; t <= now - 30; t++)
    redis_do ("HSET metrics:sec:%lld completed 10 " ODD_LATENCY_HISTOGRAM_SECOND_PREFIX "100000 8 "
              ODD_LATENCY_HISTOGRAM_SECOND_PREFIX "1000000 2", (long long) t);
  /* One job in [7, 7.1) ms; fields that are no bucket are skipped. */
  redis_do ("HSET metrics:sec:%lld completed 1 " ODD_LATENCY_HISTOGRAM_SECOND_PREFIX "7000 1 "
            ODD_LATENCY_HISTOGRAM_SECOND_PREFIX "7001 5 " ODD_LATENCY_HISTOGRAM_SECOND_PREFIX "x 3",
            (long long) (now - 20));

  {
    g_autoptr(Reply) r = get_ok (main_server, "/stats/series?window=60", "stats-series");
    JsonArray *points = json_object_get_array_member (json_node_get_object (r->json), "points");

    for (guint i = 0; i < json_array_get_length (points); i++)
      {
        JsonObject *p = json_array_get_object_element (points, i);
        JsonObject *latency = json_object_has_member (p, "latencyMs")
                              ? json_object_get_object_member (p, "latencyMs") : NULL;
        gint64 t;

        g_assert_true (odd_time_parse_rfc3339 (json_object_get_string_member (p, "t"), &t));
        t /= G_USEC_PER_SEC;
        if (t >= now - 40 && t <= now - 30)
          {
            g_assert_nonnull (latency);
            g_assert_cmpint (json_object_get_int_member (p, "completed"), ==, 10);
            /* Nearest rank of 10: the 5th is fast, the 10th (95th and 99th) slow. */
            g_assert_cmpfloat_with_epsilon (json_object_get_double_member (latency, "p50"), fast, 1e-9);
            g_assert_cmpfloat_with_epsilon (json_object_get_double_member (latency, "p95"), slow, 1e-9);
            g_assert_cmpfloat_with_epsilon (json_object_get_double_member (latency, "p99"), slow, 1e-9);
            with_latency++;
          }
        else if (t == now - 20)
          {
            g_assert_nonnull (latency);
            g_assert_cmpfloat_with_epsilon (json_object_get_double_member (latency, "p99"),
                                            round (odd_latency_histogram_bucket_value_ms (7000) * 1000) / 1000, 1e-9);
            with_latency++;
          }
        else
          g_assert_null (latency);
      }
    g_assert_cmpuint (with_latency, ==, 12);
    /* Written to the microsecond, not with json-glib's 17 digits. */
    g_assert_null (strstr (r->body, "00000000"));
    g_assert_null (strstr (r->body, "99999999"));
  }
}

/* The metrics-engine's queue samples (queue:<name> fields of metrics:sec:<t>) give a point its
 * "queues"; a second without a sample has none, and a sample this reader does not understand
 * is left out, never made a zero. */
static void
test_series_queues (void)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint with_queues = 0;

  REQUIRE_SERVERS ();
  reset_data ();

  for (gint64 t = now - 40; t <= now - 30; t++)
    {
      g_autofree char *created = g_strdup_printf ("%lld 1", (long long) (t - now + 50));

      redis_do ("HSET metrics:sec:%lld queue_depth %lld " ODD_SEC_FIELD_QUEUE_PREFIX "jobs.created %s "
                ODD_SEC_FIELD_QUEUE_PREFIX "jobs.dead %s", (long long) t, (long long) (t - now + 50), created, "3 0");
    }
  /* A second with counters but no sample; one whose only sample is garbage; one with a
   * garbled queue next to a good one. */
  redis_do ("HSET metrics:sec:%lld completed 4", (long long) (now - 20));
  redis_do ("HSET metrics:sec:%lld " ODD_SEC_FIELD_QUEUE_PREFIX "jobs.created %s", (long long) (now - 19), "many 1");
  redis_do ("HSET metrics:sec:%lld " ODD_SEC_FIELD_QUEUE_PREFIX "jobs.created %s " ODD_SEC_FIELD_QUEUE_PREFIX
            "jobs.lifecycle %s", (long long) (now - 18), "-1 0", "5 2");

  {
    g_autoptr(Reply) r = get_ok (main_server, "/stats/series?window=60", "stats-series");
    JsonArray *points = json_object_get_array_member (json_node_get_object (r->json), "points");

    for (guint i = 0; i < json_array_get_length (points); i++)
      {
        JsonObject *p = json_array_get_object_element (points, i);
        JsonObject *queues = json_object_has_member (p, "queues")
                             ? json_object_get_object_member (p, "queues") : NULL;
        gint64 t;

        g_assert_true (odd_time_parse_rfc3339 (json_object_get_string_member (p, "t"), &t));
        t /= G_USEC_PER_SEC;
        if (t >= now - 40 && t <= now - 30)
          {
            JsonObject *created, *dead;

            g_assert_nonnull (queues);
            g_assert_cmpuint (json_object_get_size (queues), ==, 2);
            created = json_object_get_object_member (queues, "jobs.created");
            dead = json_object_get_object_member (queues, "jobs.dead");
            g_assert_cmpint (json_object_get_int_member (created, "messages"), ==, t - now + 50);
            g_assert_cmpint (json_object_get_int_member (created, "consumers"), ==, 1);
            g_assert_cmpint (json_object_get_int_member (dead, "messages"), ==, 3);
            g_assert_cmpint (json_object_get_int_member (dead, "consumers"), ==, 0);
            /* queueDepth (1.0) stays jobs.created's ready messages. */
            g_assert_cmpint (json_object_get_int_member (p, "queueDepth"), ==, t - now + 50);
            with_queues++;
          }
        else if (t == now - 18)
          {
            g_assert_nonnull (queues);
            g_assert_cmpuint (json_object_get_size (queues), ==, 1);
            g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (queues, "jobs.lifecycle"),
                                                         "messages"), ==, 5);
            with_queues++;
          }
        else
          {
            g_assert_null (queues);
            if (t == now - 20)
              g_assert_cmpint (json_object_get_int_member (p, "completed"), ==, 4);
          }
      }
    g_assert_cmpuint (with_queues, ==, 12);
    /* Sorted by name, as /queues. */
    g_assert_nonnull (strstr (r->body, "\"queues\":{\"jobs.created\":{\"messages\":10,\"consumers\":1},"
                                       "\"jobs.dead\":{\"messages\":3,\"consumers\":0}}"));
  }
}

/* A rate is written to the thousandth: 19 jobs in the last minute are 0.317 a second. */
static void
test_stats_precision (void)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  REQUIRE_SERVERS ();
  reset_data ();

  set_seconds (now - 50, now - 32, "completed", 1);
  {
    g_autoptr(Reply) r = get_ok (main_server, "/stats", "stats");

    g_assert_nonnull (strstr (r->body, "\"throughputPerSec\":0.317,"));
  }
}

static void
test_queues (void)
{
  REQUIRE_SERVERS ();
  reset_data ();

  /* The metrics-engine's sample wins while it is fresh (a queue_depth in the last seconds);
   * values this reader does not understand are skipped. */
  redis_do ("HSET metrics:queues jobs.created %s jobs.dead %s jobs.lifecycle %s", "12 1", "0 0", "garbage");
  redis_do ("HSET metrics:sec:%lld queue_depth 12", (long long) (g_get_real_time () / G_USEC_PER_SEC - 2));
  {
    g_autoptr(Reply) r = get_ok (main_server, "/queues", "queues");
    JsonArray *queues = json_object_get_array_member (json_node_get_object (r->json), "queues");
    JsonObject *created;

    g_assert_cmpuint (json_array_get_length (queues), ==, 2);
    created = json_array_get_object_element (queues, 0);
    g_assert_cmpstr (json_object_get_string_member (created, "name"), ==, "jobs.created");
    g_assert_cmpint (json_object_get_int_member (created, "messages"), ==, 12);
    g_assert_cmpint (json_object_get_int_member (created, "consumers"), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (queues, 1), "name"), ==, "jobs.dead");
  }

  /* A leftover sample (the metrics-engine stopped) or none: RabbitMQ is asked directly. */
  redis_do ("FLUSHDB");
  redis_do ("HSET metrics:queues jobs.created %s", "99 9");
  redis_do ("HSET metrics:sec:%lld queue_depth 99", (long long) (g_get_real_time () / G_USEC_PER_SEC - 30));
  if (rabbitmq_url != NULL)
    {
      g_autoptr(GError) error = NULL;
      amqp_connection_state_t conn = odd_amqp_connect (rabbitmq_url, "read-model test", &error);
      g_autoptr(Reply) r = NULL;
      JsonArray *queues;

      g_assert_no_error (error);
      odd_amqp_declare_topology (conn, 1, &error);
      g_assert_no_error (error);
      odd_amqp_close (conn);

      r = get_ok (main_server, "/queues", "queues");
      queues = json_object_get_array_member (json_node_get_object (r->json), "queues");
      g_assert_cmpuint (json_array_get_length (queues), ==, 4);
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (queues, 0), "name"), ==, "jobs.created");
      /* The broker's own numbers, not the stale 99. */
      g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (queues, 0), "messages"), !=, 99);
    }
  else
    {
      /* The main read model then points at a closed port. */
      assert_error (main_server, "/queues", 503, NULL);
    }
}

static void
insert_dead_letter (const char *queue,
                    const char *reason,
                    const char *job_id,
                    const char *age,
                    gboolean    replayed)
{
  const char *params[] = { queue, reason, job_id, age, replayed ? "t" : "f" };

  sql_params ("INSERT INTO dead_letters (queue, reason, job_id, correlation_id, message, dead_at, replayed_at) "
              "VALUES ($1, $2, $3::uuid, 'c0ffee00-0000-4000-8000-000000000000', "
              "jsonb_build_object('reason', $2::text), now() - $4::interval, "
              "CASE WHEN $5::bool THEN now() END)", 5, params);
}

static void
test_dlq (void)
{
  g_autofree char *job = odd_uuid_new ();

  REQUIRE_SERVERS ();
  reset_data ();

  insert_dead_letter ("jobs.dead", "retries_exhausted", job, "1 hour", TRUE);
  insert_dead_letter ("jobs.failed.validation", "invalid", NULL, "20 minutes", FALSE);
  insert_dead_letter ("jobs.dead", "retries_exhausted", job, "10 seconds", FALSE);

  {
    g_autoptr(Reply) r = get_ok (main_server, "/dlq", "dlq");
    JsonObject *o = json_node_get_object (r->json);
    JsonArray *items = json_object_get_array_member (o, "items");
    JsonObject *newest;
    JsonObject *oldest;

    g_assert_cmpint (json_object_get_int_member (o, "total"), ==, 3);
    g_assert_cmpuint (json_array_get_length (items), ==, 3);
    newest = json_array_get_object_element (items, 0);
    g_assert_cmpint (json_object_get_int_member (newest, "id"), ==, 3);
    g_assert_cmpstr (json_object_get_string_member (newest, "jobId"), ==, job);
    g_assert_true (json_node_is_null (json_object_get_member (newest, "replayedAt")));
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (newest, "message"), "reason"),
                     ==, "retries_exhausted");
    g_assert_true (json_node_is_null (json_object_get_member (json_array_get_object_element (items, 1), "jobId")));
    oldest = json_array_get_object_element (items, 2);
    g_assert_false (json_node_is_null (json_object_get_member (oldest, "replayedAt")));
  }
  {
    g_autoptr(Reply) r = get_ok (main_server, "/dlq?queue=jobs.dead&limit=1", "dlq");
    JsonObject *o = json_node_get_object (r->json);

    g_assert_cmpint (json_object_get_int_member (o, "total"), ==, 2);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "items")), ==, 1);
  }
  assert_error (main_server, "/dlq?queue=jobs.created", 400, "/queue");
  assert_error (main_server, "/dlq?limit=0", 400, "/limit");
  assert_error (main_server, "/dlq?state=replayed", 400, "/state");
}

static gint64
dlq_total (const char *path)
{
  g_autoptr(Reply) r = get_ok (main_server, path, "dlq");

  return json_object_get_int_member (json_node_get_object (r->json), "total");
}

/* state=pending: a letter leaves once its job runs a later generation than the one that died
 * (replay or retry); a failed-validation letter once its job is stored at all. */
static void
test_dlq_pending (void)
{
  g_autofree char *dead_job = odd_uuid_new ();
  g_autofree char *invalid_job = odd_uuid_new ();
  g_autofree char *old_letter_job = odd_uuid_new ();
  const char *dead_params[] = { dead_job };
  const char *invalid_params[] = { invalid_job };
  const char *old_params[] = { old_letter_job };

  REQUIRE_SERVERS ();
  reset_data ();

  /* Died as generation 1 (top-level "generation", as the processor writes it). */
  sql_params ("INSERT INTO jobs (id, type, status, generation) VALUES ($1::uuid, 't', 'FAILED', 1)", 1, dead_params);
  sql_params ("INSERT INTO dead_letters (queue, reason, job_id, message, message_key) "
              "VALUES ('jobs.dead', 'retries_exhausted', $1::uuid, '{\"generation\": 1}', "
              "'8d7c1e2a-0f3b-4c5d-9e6f-7a8b9c0d1e2f')", 1, dead_params);
  /* An older letter with the generation only in its job's retry metadata (2, text: ignored). */
  sql_params ("INSERT INTO jobs (id, type, status, generation) VALUES ($1::uuid, 't', 'FAILED', 0)", 1, old_params);
  sql_params ("INSERT INTO dead_letters (queue, reason, job_id, message) "
              "VALUES ('jobs.dead', 'retries_exhausted', $1::uuid, "
              "'{\"generation\": \"x\", \"original_event\": {\"payload\": {\"metadata\": {\"retryGeneration\": 2}}}}')",
              1, old_params);
  sql_params ("INSERT INTO dead_letters (queue, reason, job_id, message) "
              "VALUES ('jobs.failed.validation', 'invalid', $1::uuid, '{}')", 1, invalid_params);

  g_assert_cmpint (dlq_total ("/dlq?state=pending"), ==, 3);
  g_assert_cmpint (dlq_total ("/dlq?state=all"), ==, 3);
  {
    g_autoptr(Reply) r = get_ok (main_server, "/dlq?queue=jobs.dead&limit=500", "dlq");
    JsonArray *items = json_object_get_array_member (json_node_get_object (r->json), "items");
    gboolean keyed = FALSE;

    for (guint i = 0; i < json_array_get_length (items); i++)
      {
        const char *key = json_object_get_string_member (json_array_get_object_element (items, i), "messageKey");

        g_assert_true (odd_uuid_is_valid (key));
        keyed |= g_str_equal (key, "8d7c1e2a-0f3b-4c5d-9e6f-7a8b9c0d1e2f");
      }
    g_assert_true (keyed);
  }

  /* The dead job runs again as generation 2: its letter is settled. */
  sql_params ("UPDATE jobs SET generation = 2, status = 'PENDING' WHERE id = $1::uuid", 1, dead_params);
  g_assert_cmpint (dlq_total ("/dlq?state=pending"), ==, 2);
  g_assert_cmpint (dlq_total ("/dlq?state=pending&queue=jobs.dead"), ==, 1);
  g_assert_cmpint (dlq_total ("/dlq"), ==, 3);

  /* Generation 2 of the old one is still the one that died; 3 settles it. */
  sql_params ("UPDATE jobs SET generation = 2 WHERE id = $1::uuid", 1, old_params);
  g_assert_cmpint (dlq_total ("/dlq?state=pending&queue=jobs.dead"), ==, 1);
  sql_params ("UPDATE jobs SET generation = 3 WHERE id = $1::uuid", 1, old_params);
  g_assert_cmpint (dlq_total ("/dlq?state=pending&queue=jobs.dead"), ==, 0);

  /* The invalid one, replayed once valid, is stored as a job. */
  sql_params ("INSERT INTO jobs (id, type, status) VALUES ($1::uuid, 't', 'PENDING')", 1, invalid_params);
  g_assert_cmpint (dlq_total ("/dlq?state=pending"), ==, 0);
  g_assert_cmpint (dlq_total ("/dlq?state=all"), ==, 3);
}

static JsonObject *
find_alert (JsonNode   *body,
            const char *name,
            const char *service)
{
  JsonArray *alerts = json_object_get_array_member (json_node_get_object (body), "alerts");

  for (guint i = 0; i < json_array_get_length (alerts); i++)
    {
      JsonObject *a = json_array_get_object_element (alerts, i);

      if (g_str_equal (json_object_get_string_member (a, "name"), name) &&
          (service == NULL || g_str_equal (json_object_get_string_member (a, "service"), service)))
        return a;
    }
  return NULL;
}

/* Polls /alerts until @name (for @service) is present, for the probes to come in. */
static Reply *
wait_alert (Server     *s,
            const char *name,
            const char *service)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  for (;;)
    {
      Reply *r = get_ok (s, "/alerts", "alerts");

      if (find_alert (r->json, name, service) != NULL)
        return r;
      if (g_get_monotonic_time () > deadline)
        g_error ("alert %s (%s) never came: %s", name, service ? service : "any", r->body);
      reply_free (r);
      g_usleep (50 * 1000);
    }
}

static void
test_alerts (void)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr(Reply) r = NULL;
  Server *probed;
  JsonObject *a;

  REQUIRE_SERVERS ();
  reset_data ();

  /* 27 % of 220 jobs failed in the last minutes: critical. */
  set_seconds (now - 100, now - 21, "completed", 2);
  set_seconds (now - 20, now - 1, "failed", 3);
  /* jobs.created grows from 50 to 250 over the last minute. */
  for (gint64 t = now - 50; t <= now + 10; t++)
    redis_do ("HSET metrics:sec:%lld queue_depth %lld", (long long) t, (long long) (50 + (t - now + 50) * 3));
  insert_dead_letter ("jobs.dead", "retries_exhausted", NULL, "30 seconds", FALSE);
  /* Older than five minutes: not "growing". */
  insert_dead_letter ("jobs.dead", "retries_exhausted", NULL, "10 minutes", FALSE);

  /* A dead gateway and a service that answers 503. */
  probed = server_start (pg_url, redis_url, DEAD_RABBITMQ_URL, "gateway=http://127.0.0.1:1/", TRUE);
  r = wait_alert (probed, "ServiceNotReady", "fake");
  g_clear_pointer (&r, reply_free);
  r = wait_alert (probed, "ServiceNotReady", "gateway");

  a = find_alert (r->json, "ServiceNotReady", "fake");
  g_assert_nonnull (a);
  g_assert_cmpstr (json_object_get_string_member (a, "severity"), ==, "critical");
  g_assert_nonnull (strstr (json_object_get_string_member (a, "summary"), "HTTP 503: RabbitMQ not connected"));

  a = find_alert (r->json, "FailureRateHigh", "processor");
  g_assert_nonnull (a);
  g_assert_cmpstr (json_object_get_string_member (a, "severity"), ==, "critical");

  a = find_alert (r->json, "QueueBacklogGrowing", NULL);
  g_assert_nonnull (a);
  g_assert_cmpstr (json_object_get_string_member (a, "runbook"), ==, "docs/runbooks.md#queue-backlog-growing");

  a = find_alert (r->json, "DeadLettersGrowing", NULL);
  g_assert_nonnull (a);
  g_assert_nonnull (strstr (json_object_get_string_member (a, "summary"), "1 message "));

  g_assert_null (find_alert (r->json, "DatabaseDown", NULL));
  g_assert_null (find_alert (r->json, "ServiceNotReady", "read-model"));
  /* Critical ones first. */
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (
                     json_object_get_array_member (json_node_get_object (r->json), "alerts"), 0), "severity"),
                   ==, "critical");

  server_stop (probed);
}

static void
test_redis_down (void)
{
  Server *s;

  REQUIRE_SERVERS ();
  reset_data ();

  s = server_start (pg_url, DEAD_REDIS_URL, DEAD_RABBITMQ_URL, "", FALSE);

  /* An outage is a 503, never zeros. */
  assert_error (s, "/stats", 503, NULL);
  assert_error (s, "/stats/series", 503, NULL);
  {
    g_autoptr(Reply) r = get (s, "/stats");
    g_assert_nonnull (strstr (member_string (r->json, "error"), "Redis unavailable"));
  }
  /* No sample in Redis and no RabbitMQ: nothing to report. */
  assert_error (s, "/queues", 503, NULL);

  wait_ready (s, 503);
  {
    g_autoptr(Reply) r = get (s, "/readyz");

    g_assert_cmpuint (r->status, ==, 503);
    assert_valid ("health", r->json);
    g_assert_cmpstr (member_string (r->json, "status"), ==, "not_ready");
    /* A phrase of ours; hiredis' own text is for the log. */
    g_assert_cmpstr (member_string (r->json, "reason"), ==, "Redis unavailable: cannot connect");
  }
  /* Liveness and PostgreSQL reads are unaffected. */
  {
    g_autoptr(Reply) r = get_ok (s, "/healthz", "health");
  }
  {
    g_autoptr(Reply) r = get_ok (s, "/jobs/recent", "jobs-recent");
  }
  {
    g_autoptr(Reply) r = wait_alert (s, "ServiceNotReady", "read-model");
    JsonObject *a = find_alert (r->json, "ServiceNotReady", "read-model");

    g_assert_nonnull (strstr (json_object_get_string_member (a, "summary"), "Redis"));
    g_assert_null (find_alert (r->json, "DatabaseDown", NULL));
  }

  server_stop (s);
}

/* What libpq, hiredis and librabbitmq say about a failure, which only the log may show. */
static void
assert_no_server_text (const char *body)
{
  const char *server_text[] = { "connection to server", "Connection refused", "Is the server",
                                "DETAIL", "HINT", "\\n", "\\t" };

  for (guint i = 0; i < G_N_ELEMENTS (server_text); i++)
    if (strstr (body, server_text[i]) != NULL)
      g_error ("“%s” in %s", server_text[i], body);
}

static void
test_postgres_down (void)
{
  Server *s;

  REQUIRE_SERVERS ();
  reset_data ();

  s = server_start (DEAD_POSTGRES_URL, redis_url, DEAD_RABBITMQ_URL, "", FALSE);

  {
    g_autoptr(Reply) r = get (s, "/jobs/recent");

    g_assert_cmpuint (r->status, ==, 503);
    assert_valid ("error", r->json);
    g_assert_nonnull (strstr (member_string (r->json, "error"), "Database unavailable"));
  }
  assert_error (s, "/jobs", 503, NULL);
  assert_error (s, "/jobs/0b7f4d0e-3a8c-4d55-9a9e-2f0c1e5b7a11", 503, NULL);
  assert_error (s, "/events", 503, NULL);
  assert_error (s, "/dlq", 503, NULL);
  /* Input is still checked first. */
  assert_error (s, "/jobs?status=nope", 400, "/status");
  /* Redis reads still work. */
  {
    g_autoptr(Reply) r = get_ok (s, "/stats", "stats");
  }

  wait_ready (s, 503);
  {
    g_autoptr(Reply) r = wait_alert (s, "DatabaseDown", "postgres");
    JsonObject *a = find_alert (r->json, "DatabaseDown", "postgres");

    g_assert_cmpstr (json_object_get_string_member (a, "severity"), ==, "critical");
    g_assert_cmpstr (json_object_get_string_member (a, "runbook"), ==, "docs/runbooks.md#database-down");
    g_assert_nonnull (find_alert (r->json, "ServiceNotReady", "read-model"));
    /* No libpq text ("connection to server at ... failed", its hints on further lines). */
    assert_no_server_text (r->body);
  }
  {
    g_autoptr(Reply) r = get (s, "/readyz");

    g_assert_cmpuint (r->status, ==, 503);
    g_assert_cmpstr (member_string (r->json, "reason"), ==, "PostgreSQL unavailable: cannot connect");
  }
  {
    g_autoptr(Reply) r = get (s, "/jobs/recent");

    g_assert_cmpstr (member_string (r->json, "error"), ==, "Database unavailable: cannot connect");
  }

  server_stop (s);
}

static void
test_openapi_and_docs (void)
{
  REQUIRE_SERVERS ();

  {
    g_autoptr(Reply) r = get_ok (main_server, "/openapi.json", NULL);
    JsonObject *o = json_node_get_object (r->json);
    JsonObject *paths = json_object_get_object_member (o, "paths");

    g_assert_cmpstr (json_object_get_string_member (o, "openapi"), ==, "3.0.3");
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "info"), "title"),
                     ==, "Read Model API");
    g_assert_true (json_object_has_member (paths, "/stats"));
    g_assert_true (json_object_has_member (paths, "/jobs/recent"));
    g_assert_true (json_object_has_member (paths, "/events"));
    g_assert_true (json_object_has_member (paths, "/health"));
  }
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(Reply) r = get (main_server, i == 0 ? "/docs" : "/docs/");

      g_assert_cmpuint (r->status, ==, 200);
      g_assert_true (g_str_has_prefix (r->content_type, "text/html"));
      g_assert_nonnull (strstr (r->body, "<!DOCTYPE html>"));
      g_assert_nonnull (strstr (r->body, "/openapi.json"));
    }
}

static void
test_schema_not_ready (void)
{
  Server *s;

  REQUIRE_SERVERS ();

  /* A fresh database: the read model migrates it itself and answers normally. */
  sql ("DROP TABLE IF EXISTS jobs, job_events, dead_letters, message_deliveries, schema_migrations");
  s = server_start (pg_url, redis_url, DEAD_RABBITMQ_URL, "", FALSE);
  {
    g_autoptr(Reply) r = get_ok (s, "/jobs/recent", "jobs-recent");
    g_assert_cmpstr (r->body, ==, "[]");
  }

  /* Tables dropped under a running read model: 503 JSON, then migrated again on the next use. */
  sql ("DROP TABLE IF EXISTS jobs, job_events, dead_letters, message_deliveries, schema_migrations");
  {
    g_autoptr(Reply) r = get (s, "/jobs/recent");

    g_assert_cmpuint (r->status, ==, 503);
    g_assert_cmpstr (r->body, ==, "{\"error\":\"Database schema not ready\"}");
  }
  {
    g_autoptr(Reply) r = get_ok (s, "/jobs/recent", "jobs-recent");
    g_assert_cmpstr (r->body, ==, "[]");
  }
  server_stop (s);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* libpq's application_name: the full path would be truncated with a NOTICE. */
  g_set_prgname ("test-read-model-integration");

  pg_url = g_strdup (g_getenv ("ODD_TEST_POSTGRES_URL"));
  redis_url = g_strdup (g_getenv ("ODD_TEST_REDIS_URL"));
  rabbitmq_url = g_getenv ("ODD_TEST_RABBITMQ_URL");

  if (pg_url != NULL && *pg_url != '\0' && redis_url != NULL && *redis_url != '\0')
    {
      g_autoptr(GError) error = NULL;

      registry = odd_schema_registry_new_default (&error);
      g_assert_no_error (error);
      session = soup_session_new_with_options ("timeout", 30, NULL);

      /* Tables are truncated and dropped here: never in a database another test uses. */
      pg_url = dedicated_database (pg_url);
      pg = odd_pg_connect (pg_url, &error);
      g_assert_no_error (error);
      odd_pg_migrate (pg, &error);
      g_assert_no_error (error);
      redis = odd_redis_connect (redis_url, &error);
      g_assert_no_error (error);
      reset_data ();

      main_server = server_start (pg_url, redis_url, rabbitmq_url ? rabbitmq_url : DEAD_RABBITMQ_URL,
                                  "", FALSE);
    }

  g_test_add_func ("/read-model/integration/health", test_health);
  g_test_add_func ("/read-model/integration/http-conventions", test_http_conventions);
  g_test_add_func ("/read-model/integration/empty", test_empty);
  g_test_add_func ("/read-model/integration/jobs/pagination", test_jobs_pagination);
  g_test_add_func ("/read-model/integration/jobs/filters", test_jobs_filters);
  g_test_add_func ("/read-model/integration/jobs/recent", test_jobs_recent);
  g_test_add_func ("/read-model/integration/jobs/detail-and-events", test_job_detail_and_events);
  g_test_add_func ("/read-model/integration/stats", test_stats);
  g_test_add_func ("/read-model/integration/stats-series", test_series);
  g_test_add_func ("/read-model/integration/stats-series-latency", test_series_latency);
  g_test_add_func ("/read-model/integration/stats-series-queues", test_series_queues);
  g_test_add_func ("/read-model/integration/stats-precision", test_stats_precision);
  g_test_add_func ("/read-model/integration/queues", test_queues);
  g_test_add_func ("/read-model/integration/dlq", test_dlq);
  g_test_add_func ("/read-model/integration/dlq-pending", test_dlq_pending);
  g_test_add_func ("/read-model/integration/alerts", test_alerts);
  g_test_add_func ("/read-model/integration/redis-down", test_redis_down);
  g_test_add_func ("/read-model/integration/postgres-down", test_postgres_down);
  g_test_add_func ("/read-model/integration/openapi-and-docs", test_openapi_and_docs);
  g_test_add_func ("/read-model/integration/schema-not-ready", test_schema_not_ready);

  ret = g_test_run ();

  if (main_server != NULL)
    {
      server_stop (main_server);
      g_clear_pointer (&pg, PQfinish);
      g_clear_pointer (&redis, redisFree);
      g_clear_object (&session);
      g_clear_object (&registry);
    }
  g_free (pg_url);
  g_free (redis_url);

  return ret;
}
