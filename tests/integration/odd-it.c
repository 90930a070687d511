#define G_LOG_DOMAIN "odd-it"

#include "odd-it.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <string.h>
#include <libsoup/soup.h>
#include <hiredis/hiredis.h>

#include "odd-contracts.h"
#include "odd-it-stack.h"

struct _OddIt
{
  OddItStack *stack;
};

/* ---- stack ---- */

OddIt *
odd_it_start (void)
{
  return odd_it_start_with_replicas (NULL);
}

OddIt *
odd_it_start_with_replicas (const char *replicas)
{
  g_autoptr (GError) error = NULL;
  OddIt *it = g_new0 (OddIt, 1);

  it->stack = odd_it_stack_start_with_replicas (replicas, &error);
  g_assert_no_error (error);
  g_assert_nonnull (it->stack);
  g_test_message ("stack: gateway %s, read-model %s, postgres %s, redis %s",
                  odd_it_gateway_url (it), odd_it_read_model_url (it),
                  odd_it_postgres_url (it), odd_it_redis_url (it));
  return it;
}

void
odd_it_stop (OddIt *it)
{
  if (it == NULL)
    return;
  odd_it_stack_stop (it->stack);
  g_free (it);
}

const char *
odd_it_service_url (OddIt      *it,
                    const char *name)
{
  return odd_it_stack_url (it->stack, name);
}

void
odd_it_set_queue_limit (OddIt  *it,
                        gint64  max_length)
{
  g_autoptr (GError) error = NULL;

  odd_it_stack_set_queue_limit (it->stack, max_length, &error);
  g_assert_no_error (error);
}

/* ---- RabbitMQ ---- */

static void
assert_amqp_reply (amqp_rpc_reply_t  reply,
                   const char       *what)
{
  if (reply.reply_type != AMQP_RESPONSE_NORMAL)
    g_error ("RabbitMQ %s failed (reply type %d, library error %d)", what,
             (int) reply.reply_type, reply.library_error);
}

void
odd_it_publish_raw (OddIt      *it,
                    const char *queue,
                    const void *body,
                    gsize       len)
{
  const char *url = odd_it_stack_url (it->stack, "rabbitmq");
  g_autofree char *copy = g_strdup (url);
  struct amqp_connection_info info;
  amqp_connection_state_t conn = amqp_new_connection ();
  amqp_socket_t *socket = amqp_tcp_socket_new (conn);
  amqp_basic_properties_t props = { 0 };
  amqp_frame_t frame;

  g_assert_cmpint (amqp_parse_url (copy, &info), ==, AMQP_STATUS_OK);
  g_assert_cmpint (amqp_socket_open (socket, info.host, info.port), ==, AMQP_STATUS_OK);
  /* "amqp://host:port/" names the vhost "" for librabbitmq; RabbitMQ's default is "/". */
  assert_amqp_reply (amqp_login (conn, info.vhost[0] != '\0' ? info.vhost : "/", 0, 131072, 0,
                                 AMQP_SASL_METHOD_PLAIN,
                                 info.user, info.password), "login");
  amqp_channel_open (conn, 1);
  assert_amqp_reply (amqp_get_rpc_reply (conn), "channel.open");
  amqp_confirm_select (conn, 1);
  assert_amqp_reply (amqp_get_rpc_reply (conn), "confirm.select");

  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
  props.delivery_mode = 2;
  props.content_type = amqp_cstring_bytes ("application/json");
  g_assert_cmpint (amqp_basic_publish (conn, 1, amqp_cstring_bytes (""), amqp_cstring_bytes (queue),
                                       1, 0, &props, (amqp_bytes_t) { len, (void *) body }),
                   ==, AMQP_STATUS_OK);
  /* The broker has it once it confirms. */
  g_assert_cmpint (amqp_simple_wait_frame (conn, &frame), ==, AMQP_STATUS_OK);
  g_assert_cmpint (frame.frame_type, ==, AMQP_FRAME_METHOD);
  g_assert_cmpuint (frame.payload.method.id, ==, AMQP_BASIC_ACK_METHOD);

  amqp_channel_close (conn, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close (conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection (conn);
}

const char *
odd_it_gateway_url (OddIt *it)
{
  return odd_it_stack_url (it->stack, ODD_IT_GATEWAY);
}

const char *
odd_it_read_model_url (OddIt *it)
{
  return odd_it_stack_url (it->stack, ODD_IT_READ_MODEL);
}

const char *
odd_it_postgres_url (OddIt *it)
{
  return odd_it_stack_url (it->stack, ODD_IT_POSTGRES);
}

const char *
odd_it_redis_url (OddIt *it)
{
  return odd_it_stack_url (it->stack, ODD_IT_REDIS);
}

void
odd_it_kill (OddIt      *it,
             const char *name,
             int         signum)
{
  g_autoptr (GError) error = NULL;

  odd_it_stack_kill (it->stack, name, signum, &error);
  g_assert_no_error (error);
}

void
odd_it_restart (OddIt      *it,
                const char *name)
{
  g_autoptr (GError) error = NULL;

  odd_it_stack_restart (it->stack, name, &error);
  g_assert_no_error (error);
}

GPid
odd_it_service_pid (OddIt      *it,
                    const char *name)
{
  return odd_it_stack_pid (it->stack, name);
}

gboolean
odd_it_can_inject_faults (OddIt *it)
{
  return odd_it_stack_can_inject_faults (it->stack);
}

int
odd_it_count_fds (OddIt      *it,
                  const char *name)
{
  GPid pid = odd_it_stack_pid (it->stack, name);
  g_autofree char *path = NULL;
  g_autoptr (GDir) dir = NULL;
  int n = 0;

  if (pid <= 0)
    return -1;
  path = g_strdup_printf ("/proc/%d/fd", (int) pid);
  dir = g_dir_open (path, 0, NULL);
  if (dir == NULL)
    return -1;
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

void
odd_it_up (OddIt *it)
{
  g_autoptr (GError) error = NULL;

  odd_it_stack_up (it->stack, &error);
  g_assert_no_error (error);
}

/* ---- HTTP ---- */

void
odd_it_response_free (OddItResponse *response)
{
  if (response == NULL)
    return;
  g_free (response->transport_error);
  g_free (response->content_type);
  g_free (response->retry_after);
  g_clear_pointer (&response->body, g_bytes_unref);
  g_clear_pointer (&response->json, json_node_unref);
  g_free (response);
}

static GPrivate session_key = G_PRIVATE_INIT (g_object_unref);

/* libsoup sessions belong to one thread; the fault tests submit from a second one. */
static SoupSession *
thread_session (void)
{
  SoupSession *session = g_private_get (&session_key);

  if (session == NULL)
    {
      session = soup_session_new_with_options ("timeout", 60,
                                               "idle-timeout", 30,
                                               "max-conns-per-host", 4,
                                               NULL);
      g_private_set (&session_key, session);
    }
  return session;
}

OddItResponse *
odd_it_request (const char *method,
                const char *url,
                const char *content_type,
                const void *body,
                gsize       body_len)
{
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  OddItResponse *response = g_new0 (OddItResponse, 1);
  const char *ctype;

  msg = soup_message_new (method, url);
  g_assert_nonnull (msg);
  if (body != NULL)
    {
      g_autoptr (GBytes) request = g_bytes_new (body, body_len);

      soup_message_set_request_body_from_bytes (msg, content_type, request);
    }

  bytes = soup_session_send_and_read (thread_session (), msg, NULL, &error);
  if (bytes == NULL)
    {
      response->transport_error = g_strdup (error->message);
      /* A server may answer early (413) and close while we still send: keep its status. */
      response->status = soup_message_get_status (msg);
      return response;
    }

  response->status = soup_message_get_status (msg);
  ctype = soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL);
  response->content_type = g_strdup (ctype);
  response->retry_after = g_strdup (soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                                  "Retry-After"));
  response->body = g_steal_pointer (&bytes);

  if (g_bytes_get_size (response->body) > 0)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      gsize len;
      const char *data = g_bytes_get_data (response->body, &len);

      if (json_parser_load_from_data (parser, data, len, NULL))
        response->json = json_node_ref (json_parser_get_root (parser));
    }
  return response;
}

char *
odd_it_url (const char *base,
            const char *path_format,
            ...)
{
  va_list args;
  g_autofree char *path = NULL;

  va_start (args, path_format);
  path = g_strdup_vprintf (path_format, args);
  va_end (args);
  return g_strconcat (base, path, NULL);
}

JsonNode *
odd_it_get_json (const char *base,
                 const char *path)
{
  g_autofree char *url = g_strconcat (base, path, NULL);
  g_autoptr (OddItResponse) r = odd_it_request ("GET", url, NULL, NULL, 0);

  if (r->status != 200 || r->json == NULL)
    g_error ("GET %s: %u %s %.*s", url, r->status,
             r->transport_error ? r->transport_error : "",
             r->body ? (int) MIN (g_bytes_get_size (r->body), 300) : 0,
             r->body ? (const char *) g_bytes_get_data (r->body, NULL) : "");
  return json_node_ref (r->json);
}

static gpointer
load_registry (gpointer data)
{
  g_autoptr (GError) error = NULL;
  OddSchemaRegistry *registry = odd_schema_registry_new_default (&error);

  g_assert_no_error (error);
  return registry;
}

void
odd_it_assert_valid (const char *schema_name,
                     JsonNode   *instance)
{
  static GOnce once = G_ONCE_INIT;
  OddSchemaRegistry *registry = g_once (&once, load_registry, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) errors = odd_schema_registry_validate (registry, schema_name, instance, &error);

  g_assert_no_error (error);
  if (errors->len > 0)
    {
      g_autofree char *text = odd_validation_errors_to_string (errors);
      g_autofree char *json = json_to_string (instance, FALSE);

      g_error ("answer breaks contract %s.json: %s\n%.500s", schema_name, text, json);
    }
}

/* ---- jobs ---- */

char *
odd_it_job_body (const char *job_id,
                 const char *type,
                 const char *simulate_json)
{
  g_autofree char *now = odd_time_now_rfc3339 ();

  if (simulate_json != NULL)
    return g_strdup_printf ("{\"id\":\"%s\",\"type\":\"%s\",\"status\":\"PENDING\","
                            "\"createdAt\":\"%s\",\"payload\":{\"simulate\":%s}}",
                            job_id, type, now, simulate_json);
  return g_strdup_printf ("{\"id\":\"%s\",\"type\":\"%s\",\"status\":\"PENDING\","
                          "\"createdAt\":\"%s\",\"payload\":{}}",
                          job_id, type, now);
}

guint
odd_it_submit (OddIt      *it,
               const char *job_id,
               const char *type,
               const char *simulate_json)
{
  g_autofree char *body = odd_it_job_body (job_id, type, simulate_json);
  g_autofree char *url = g_strconcat (odd_it_gateway_url (it), "/jobs", NULL);
  g_autoptr (OddItResponse) r = odd_it_request ("POST", url, "application/json",
                                                body, strlen (body));

  if (r->status == 202)
    {
      JsonObject *o;

      /* contract job-accepted.json: exactly jobId + eventId, both UUIDs */
      g_assert_nonnull (r->json);
      odd_it_assert_valid ("job-accepted", r->json);
      o = json_node_get_object (r->json);
      g_assert_cmpstr (json_object_get_string_member_with_default (o, "jobId", ""), ==, job_id);
      g_assert_true (odd_uuid_is_valid (json_object_get_string_member_with_default (o, "eventId", "")));
      g_assert_cmpuint (json_object_get_size (o), ==, 2);
    }
  return r->status;
}

/* ---- read-model views ---- */

static gint64
member_int (JsonObject *o,
            const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    g_error ("/stats has no number %s", name);
  return json_node_get_int (n);
}

void
odd_it_get_stats (OddIt      *it,
                  OddItStats *stats)
{
  g_autoptr (JsonNode) body = odd_it_get_json (odd_it_read_model_url (it), "/stats");
  JsonObject *o;

  odd_it_assert_valid ("stats", body);
  o = json_node_get_object (body);
  stats->total = member_int (o, "totalJobs");
  stats->completed = member_int (o, "completedJobs");
  stats->failed = member_int (o, "failedJobs");
  stats->in_flight = member_int (o, "inFlightJobs");
}

JsonArray *
odd_it_list_items (JsonNode *body)
{
  JsonObject *o;

  if (JSON_NODE_HOLDS_ARRAY (body))
    return json_node_get_array (body);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (body));
  o = json_node_get_object (body);
  if (!json_object_has_member (o, "items")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "items")))
    g_error ("list answer without an array of items");
  return json_object_get_array_member (o, "items");
}

const char *
odd_it_next_cursor (JsonNode *body)
{
  JsonNode *n;

  if (!JSON_NODE_HOLDS_OBJECT (body))
    return NULL;
  /* contract jobs-page.json: a string, or null on the last page */
  n = json_object_get_member (json_node_get_object (body), "nextCursor");
  if (n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return NULL;
}

GHashTable *
odd_it_list_jobs (OddIt      *it,
                  const char *status,
                  guint       page_size)
{
  GHashTable *ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *cursor = NULL;
  guint pages = 0;

  do
    {
      g_autofree char *path = NULL;
      g_autoptr (JsonNode) body = NULL;
      JsonArray *items;
      const char *next;

      if (cursor != NULL)
        {
          g_autofree char *escaped = g_uri_escape_string (cursor, NULL, FALSE);

          path = g_strdup_printf ("/jobs?status=%s&limit=%u&cursor=%s", status, page_size, escaped);
        }
      else
        path = g_strdup_printf ("/jobs?status=%s&limit=%u", status, page_size);
      body = odd_it_get_json (odd_it_read_model_url (it), path);
      odd_it_assert_valid ("jobs-page", body);
      items = odd_it_list_items (body);
      g_assert_cmpuint (json_array_get_length (items), <=, page_size);

      for (guint i = 0; i < json_array_get_length (items); i++)
        {
          JsonObject *job = json_array_get_object_element (items, i);
          const char *id = json_object_get_string_member (job, "id");

          g_assert_cmpstr (json_object_get_string_member (job, "status"), ==, status);
          if (!g_hash_table_add (ids, g_strdup (id)))
            g_error ("GET /jobs?status=%s listed %s twice", status, id);
        }

      next = odd_it_next_cursor (body);
      g_clear_pointer (&cursor, g_free);
      if (next != NULL && *next != '\0' && json_array_get_length (items) > 0)
        cursor = g_strdup (next);
      g_assert_cmpuint (++pages, <, 100000);
    }
  while (cursor != NULL);

  return ids;
}

JsonNode *
odd_it_get_job (OddIt       *it,
                const char  *id,
                JsonObject **job,
                JsonArray  **timeline)
{
  g_autofree char *path = g_strdup_printf ("/jobs/%s", id);
  JsonNode *body = odd_it_get_json (odd_it_read_model_url (it), path);
  JsonObject *o;

  /* contract job-detail.json: {"job": {...}, "events": [envelope, ...]} */
  odd_it_assert_valid ("job-detail", body);
  o = json_node_get_object (body);
  *job = json_object_get_object_member (o, "job");
  *timeline = json_object_get_array_member (o, "events");
  return body;
}

const char *
odd_it_event_type (JsonObject *event)
{
  return json_object_get_string_member_with_default (event, "eventType", "");
}

/* ---- PostgreSQL ---- */

PGconn *
odd_it_pg (OddIt *it)
{
  PGconn *conn = PQconnectdb (odd_it_postgres_url (it));

  if (PQstatus (conn) != CONNECTION_OK)
    g_error ("PostgreSQL %s: %s", odd_it_postgres_url (it), PQerrorMessage (conn));
  return conn;
}

static PGresult *
pg_query (PGconn     *conn,
          const char *sql,
          const char *param)
{
  const char *params[1] = { param };
  PGresult *res = PQexecParams (conn, sql, param != NULL ? 1 : 0, NULL,
                                param != NULL ? params : NULL, NULL, NULL, 0);

  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    g_error ("%s: %s", sql, PQerrorMessage (conn));
  return res;
}

gint64
odd_it_pg_int (PGconn     *conn,
               const char *sql,
               const char *param)
{
  PGresult *res = pg_query (conn, sql, param);
  gint64 value;

  g_assert_cmpint (PQntuples (res), ==, 1);
  value = PQgetisnull (res, 0, 0) ? 0 : g_ascii_strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return value;
}

GPtrArray *
odd_it_pg_column (PGconn     *conn,
                  const char *sql,
                  const char *param)
{
  PGresult *res = pg_query (conn, sql, param);
  GPtrArray *column = g_ptr_array_new_with_free_func (g_free);

  for (int i = 0; i < PQntuples (res); i++)
    g_ptr_array_add (column, g_strdup (PQgetvalue (res, i, 0)));
  PQclear (res);
  return column;
}

/* ---- Redis ---- */

void
odd_it_redis_command (OddIt      *it,
                      const char *command)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) error = NULL;
  redisContext *ctx;
  redisReply *reply;
  const char *path;
  int db = 0;

  uri = g_uri_parse (odd_it_redis_url (it), G_URI_FLAGS_NONE, &error);
  g_assert_no_error (error);
  path = g_uri_get_path (uri);
  if (path != NULL && path[0] == '/' && path[1] != '\0')
    db = atoi (path + 1);

  ctx = redisConnect (g_uri_get_host (uri), g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 6379);
  g_assert_nonnull (ctx);
  if (ctx->err)
    g_error ("redis %s: %s", odd_it_redis_url (it), ctx->errstr);
  reply = redisCommand (ctx, "SELECT %d", db);
  g_assert_nonnull (reply);
  freeReplyObject (reply);
  reply = redisCommand (ctx, command);
  g_assert_nonnull (reply);
  if (reply->type == REDIS_REPLY_ERROR)
    g_error ("redis %s: %s", command, reply->str);
  freeReplyObject (reply);
  redisFree (ctx);
}

/* ---- waiting ---- */

guint
odd_it_time_scale (void)
{
  const char *scale = g_getenv ("ODD_IT_TIME_SCALE");

  /* sanitizer builds run the services several times slower (tests/sanitize.sh sets it) */
  return scale != NULL ? CLAMP (g_ascii_strtoll (scale, NULL, 10), 1, 100) : 1;
}

gboolean
odd_it_wait (OddIt         *it,
             OddItCondition condition,
             gpointer       data,
             guint          timeout_s,
             guint          poll_ms)
{
  gint64 deadline = g_get_monotonic_time () + odd_it_time_scale () * timeout_s * G_USEC_PER_SEC;

  for (;;)
    {
      if (condition (it, data))
        return TRUE;
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_usleep (poll_ms * 1000);
    }
}

/* ---- agreement ---- */

gint64
odd_it_assert_agreement (OddIt  *it,
                         gint64  expected_total)
{
  PGconn *conn = odd_it_pg (it);
  OddItStats stats;
  gint64 rows, completed, failed, open, generations;
  gint64 validated, validated_jobs, ev_completed, ev_failed, dup, wrong_terminal;

  rows = odd_it_pg_int (conn, "SELECT count(*) FROM jobs", NULL);
  completed = odd_it_pg_int (conn, "SELECT count(*) FROM jobs WHERE status = 'COMPLETED'", NULL);
  failed = odd_it_pg_int (conn, "SELECT count(*) FROM jobs WHERE status = 'FAILED'", NULL);
  open = odd_it_pg_int (conn, "SELECT count(*) FROM jobs WHERE status NOT IN ('COMPLETED', 'FAILED')", NULL);
  generations = odd_it_pg_int (conn, "SELECT coalesce(sum(generation + 1), 0) FROM jobs", NULL);

  if (expected_total >= 0)
    g_assert_cmpint (rows, ==, expected_total);
  g_assert_cmpint (open, ==, 0);
  g_assert_cmpint (completed + failed, ==, rows);

  /* /stats is a projection of job_events: it must say exactly what the tables say. */
  odd_it_get_stats (it, &stats);
  g_assert_cmpint (stats.total, ==, rows);
  g_assert_cmpint (stats.completed, ==, completed);
  g_assert_cmpint (stats.failed, ==, failed);
  g_assert_cmpint (stats.in_flight, ==, 0);

  /* The event store: one job.validated per job generation, one terminal event per generation,
   * and the newest generation's terminal event is the row's status. */
  validated = odd_it_pg_int (conn, "SELECT count(*) FROM job_events WHERE event_type = 'job.validated'", NULL);
  validated_jobs = odd_it_pg_int (conn, "SELECT count(DISTINCT job_id) FROM job_events WHERE event_type = 'job.validated'", NULL);
  ev_completed = odd_it_pg_int (conn, "SELECT count(*) FROM job_events WHERE event_type = 'job.completed'", NULL);
  ev_failed = odd_it_pg_int (conn, "SELECT count(*) FROM job_events WHERE event_type = 'job.failed'", NULL);
  g_assert_cmpint (validated_jobs, ==, rows);
  g_assert_cmpint (validated, ==, generations);
  g_assert_cmpint (ev_completed + ev_failed, ==, generations);
  g_assert_cmpint (ev_completed, ==, completed);  /* a completed generation is never retried */
  g_assert_cmpint (ev_failed, ==, failed + (generations - rows));

  /* No event stored twice under another id: one per (job, generation, type[, attempt]). */
  dup = odd_it_pg_int (conn,
                       "SELECT count(*) FROM (SELECT job_id, event_type,"
                       " envelope->'payload'->>'generation' g,"
                       " coalesce(envelope->'payload'->>'attempts', '') a, count(*) n"
                       " FROM job_events GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d", NULL);
  g_assert_cmpint (dup, ==, 0);

  wrong_terminal = odd_it_pg_int (conn,
                                  "SELECT count(*) FROM jobs j WHERE NOT EXISTS ("
                                  " SELECT 1 FROM job_events e WHERE e.job_id = j.id"
                                  " AND e.event_type = CASE j.status WHEN 'COMPLETED' THEN 'job.completed'"
                                  " ELSE 'job.failed' END"
                                  " AND (e.envelope->'payload'->>'generation')::int = j.generation)", NULL);
  g_assert_cmpint (wrong_terminal, ==, 0);

  PQfinish (conn);
  return failed;
}
