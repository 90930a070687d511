#define G_LOG_DOMAIN "odd-read-model-handlers"

#include <gio/gio.h>
#include <string.h>

#include "odd-build-config.h"
#include "odd-read-model-private.h"
#include "odd-read-model-cursor.h"
#include "odd-read-model-docs.h"
#include "odd-read-model-openapi.h"
#include "odd-read-model-queries.h"

/* Limits of the list endpoints (also in the OpenAPI document). */
#define RECENT_DEFAULT 10
#define RECENT_MAX     100
#define PAGE_DEFAULT   50
#define PAGE_MAX       500
#define WINDOW_DEFAULT 300
#define WINDOW_MAX     3600
#define Q_MAX_LEN      200
#define TYPE_MAX_LEN   200

/* What a deferred request needs, parsed and validated on the main context. */
typedef struct {
  OddReadModel *self;
  char         *job_id;
  char         *status;
  char         *type;
  char         *q;
  char         *queue;
  gboolean      has_cursor;
  gboolean      ascending;
  gboolean      pending;
  gint64        cursor_usec;
  char         *cursor_id;
  guint         limit;
  guint         window;
} Request;

static Request *
request_new (OddReadModel *self)
{
  Request *request = g_new0 (Request, 1);

  request->self = g_object_ref (self);
  return request;
}

static void
request_free (gpointer data)
{
  Request *request = data;

  g_clear_object (&request->self);
  g_free (request->job_id);
  g_free (request->status);
  g_free (request->type);
  g_free (request->q);
  g_free (request->queue);
  g_free (request->cursor_id);
  g_free (request);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Request, request_free)

/* ---- parameters ---- */

/* An empty value ("?status=") means the same as an absent one: UIs send it for "any". */
static const char *
param (GHashTable *query,
       const char *name)
{
  const char *value = query != NULL ? g_hash_table_lookup (query, name) : NULL;

  return value != NULL && value[0] != '\0' ? value : NULL;
}

static void
reply_bad_param (SoupServerMessage *msg,
                 const char        *name,
                 const char        *message)
{
  g_autofree char *path = g_strconcat ("/", name, NULL);
  g_autofree char *error = g_strdup_printf ("Invalid query parameter “%s”", name);
  g_autoptr(JsonNode) details = odd_http_details_new (path, message);

  odd_http_reply_error (msg, SOUP_STATUS_BAD_REQUEST, error, details);
}

static gboolean
parse_uint (SoupServerMessage *msg,
            GHashTable        *query,
            const char        *name,
            guint              fallback,
            guint              max,
            guint             *out)
{
  const char *text = param (query, name);
  guint64 value;

  if (text == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (text, 10, 1, max, &value, NULL))
    {
      g_autofree char *message = g_strdup_printf ("must be an integer from 1 to %u", max);
      reply_bad_param (msg, name, message);
      return FALSE;
    }

  *out = (guint) value;
  return TRUE;
}

static gboolean
parse_uuid (SoupServerMessage  *msg,
            GHashTable         *query,
            const char         *name,
            char              **out)
{
  const char *text = param (query, name);

  if (text == NULL)
    return TRUE;
  if (!odd_uuid_is_valid (text))
    {
      reply_bad_param (msg, name, "must be a UUID");
      return FALSE;
    }

  *out = g_ascii_strdown (text, -1);
  return TRUE;
}

static gboolean
parse_text (SoupServerMessage  *msg,
            GHashTable         *query,
            const char         *name,
            gsize               max_len,
            char              **out)
{
  const char *text = param (query, name);

  if (text == NULL)
    return TRUE;
  if (strlen (text) > max_len || !g_utf8_validate (text, -1, NULL))
    {
      g_autofree char *message = g_strdup_printf ("must be UTF-8 of at most %zu bytes", max_len);
      reply_bad_param (msg, name, message);
      return FALSE;
    }

  *out = g_strdup (text);
  return TRUE;
}

/* @name absent: @fallback; else one of the two words. */
static gboolean
parse_choice (SoupServerMessage *msg,
              GHashTable        *query,
              const char        *name,
              const char        *yes,
              const char        *no,
              gboolean           fallback,
              gboolean          *out)
{
  const char *text = param (query, name);

  if (text == NULL)
    *out = fallback;
  else if (g_str_equal (text, yes))
    *out = TRUE;
  else if (g_str_equal (text, no))
    *out = FALSE;
  else
    {
      g_autofree char *message = g_strdup_printf ("must be %s or %s", yes, no);

      reply_bad_param (msg, name, message);
      return FALSE;
    }
  return TRUE;
}

/* ---- helpers for workers ---- */

static void
set_body (OddHttpResult *result,
          JsonNode      *body)
{
  result->status = SOUP_STATUS_OK;
  result->body = body;
}

static JsonNode *
wrap (const char *member,
      JsonNode   *node)
{
  JsonObject *object = json_object_new ();
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);

  json_object_set_member (object, member, node);
  json_node_take_object (root, object);
  return root;
}

/* ---- running reads on the worker threads ---- */

typedef JsonNode *(*PgRead)    (PGconn       *pg,
                                Request      *request,
                                GError      **error);
typedef JsonNode *(*RedisRead) (redisContext *redis,
                                Request      *request,
                                GError      **error);

/* A connection that broke since its last use (a server restart) fails its first query; the
 * second attempt runs on a fresh one, so a restart costs no failed request. */
static void
run_pg_read (Request       *request,
             OddHttpResult *result,
             PgRead         read)
{
  for (guint attempt = 0;; attempt++)
    {
      g_autoptr(GError) error = NULL;
      PGconn *pg;
      JsonNode *body;

      pg = odd_read_model_pg_conn (request->self, result);
      if (pg == NULL)
        return;

      body = read (pg, request, &error);
      if (body != NULL)
        {
          set_body (result, body);
          return;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          result->status = SOUP_STATUS_NOT_FOUND;
          result->error = g_strdup (error->message);
          return;
        }
      if (attempt == 0 && PQstatus (pg) == CONNECTION_BAD)
        continue;

      odd_read_model_pg_failed (request->self, pg, error, result);
      return;
    }
}

static void
run_redis_read (Request       *request,
                OddHttpResult *result,
                RedisRead      read)
{
  for (guint attempt = 0;; attempt++)
    {
      g_autoptr(GError) error = NULL;
      redisContext *redis;
      JsonNode *body;

      redis = odd_read_model_redis_conn (request->self, result);
      if (redis == NULL)
        return;

      body = read (redis, request, &error);
      if (body != NULL)
        {
          odd_read_model_note_redis (request->self, NULL);
          set_body (result, body);
          return;
        }
      if (attempt == 0 && redis->err != 0)
        continue;

      odd_read_model_redis_failed (request->self, redis, error, result);
      return;
    }
}

#define DEFINE_WORK(name, runner, read) \
  static void \
  name (gpointer       data, \
        OddHttpResult *result) \
  { \
    runner (data, result, read); \
  }

static JsonNode *
read_stats (redisContext  *redis,
            Request       *request,
            GError       **error)
{
  return odd_read_model_query_stats (redis, g_get_real_time () / G_USEC_PER_SEC, error);
}

static JsonNode *
read_series (redisContext  *redis,
             Request       *request,
             GError       **error)
{
  return odd_read_model_query_series (redis, g_get_real_time () / G_USEC_PER_SEC,
                                      request->window, error);
}

static JsonNode *
read_recent (PGconn   *pg,
             Request  *request,
             GError  **error)
{
  return odd_read_model_query_recent_jobs (pg, request->limit, error);
}

static JsonNode *
read_job (PGconn   *pg,
          Request  *request,
          GError  **error)
{
  return odd_read_model_query_job (pg, request->job_id, error);
}

static JsonNode *
read_jobs (PGconn   *pg,
           Request  *request,
           GError  **error)
{
  OddJobsQuery query = {
    .status = request->status,
    .type = request->type,
    .q = request->q,
    .has_cursor = request->has_cursor,
    .cursor_usec = request->cursor_usec,
    .cursor_id = request->cursor_id,
    .ascending = request->ascending,
    .limit = request->limit,
  };

  return odd_read_model_query_jobs (pg, &query, error);
}

static JsonNode *
read_events (PGconn   *pg,
             Request  *request,
             GError  **error)
{
  return odd_read_model_query_events (pg, request->job_id, request->limit, error);
}

static JsonNode *
read_dlq (PGconn   *pg,
          Request  *request,
          GError  **error)
{
  return odd_read_model_query_dlq (pg, request->queue, request->pending, request->limit, error);
}

DEFINE_WORK (stats_work, run_redis_read, read_stats)
DEFINE_WORK (series_work, run_redis_read, read_series)
DEFINE_WORK (recent_work, run_pg_read, read_recent)
DEFINE_WORK (job_work, run_pg_read, read_job)
DEFINE_WORK (jobs_work, run_pg_read, read_jobs)
DEFINE_WORK (events_work, run_pg_read, read_events)
DEFINE_WORK (dlq_work, run_pg_read, read_dlq)

/* ---- /health (compat: always ok, the reference's UIs poll it) ---- */

static void
handle_health (OddHttpServer     *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "ok");
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, ODD_VERSION);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  odd_http_reply_json (msg, SOUP_STATUS_OK, body);
}

/* ---- /stats ---- */


static void
handle_stats (OddHttpServer     *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  odd_http_server_defer (server, msg, stats_work, request_new (user_data), request_free);
}

/* ---- /stats/series ---- */


static void
handle_series (OddHttpServer     *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  g_autoptr(Request) request = request_new (user_data);

  if (!parse_uint (msg, query, "window", WINDOW_DEFAULT, WINDOW_MAX, &request->window))
    return;
  odd_http_server_defer (server, msg, series_work, g_steal_pointer (&request), request_free);
}

/* ---- /jobs/recent, /jobs/{id}, /jobs ---- */




static void
handle_jobs_list (OddHttpServer     *server,
                  SoupServerMessage *msg,
                  GHashTable        *query,
                  OddReadModel      *self)
{
  g_autoptr(Request) request = request_new (self);
  const char *status = param (query, "status");
  const char *cursor = param (query, "cursor");

  if (status != NULL && !odd_job_status_is_valid (status))
    {
      reply_bad_param (msg, "status",
                       "must be one of PENDING, VALIDATED, EXECUTING, COMPLETED, FAILED");
      return;
    }
  request->status = g_strdup (status);

  if (cursor != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!odd_jobs_cursor_decode (cursor, &request->cursor_usec, &request->cursor_id, &error))
        {
          reply_bad_param (msg, "cursor", error->message);
          return;
        }
      request->has_cursor = TRUE;
    }

  if (!parse_text (msg, query, "type", TYPE_MAX_LEN, &request->type) ||
      !parse_text (msg, query, "q", Q_MAX_LEN, &request->q) ||
      !parse_uint (msg, query, "limit", PAGE_DEFAULT, PAGE_MAX, &request->limit) ||
      !parse_choice (msg, query, "order", "asc", "desc", FALSE, &request->ascending))
    return;

  odd_http_server_defer (server, msg, jobs_work, g_steal_pointer (&request), request_free);
}

static void
handle_jobs (OddHttpServer     *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  OddReadModel *self = user_data;
  const char *rest;
  g_autoptr(Request) request = NULL;

  if (g_str_equal (path, "/jobs"))
    {
      handle_jobs_list (server, msg, query, self);
      return;
    }

  /* The prefix route: /jobs/recent or /jobs/{id}; nothing deeper lives here. */
  rest = path + strlen ("/jobs/");
  if (rest[0] == '\0' || strchr (rest, '/') != NULL)
    {
      odd_http_reply_error (msg, SOUP_STATUS_NOT_FOUND, "Not found", NULL);
      return;
    }

  request = request_new (self);

  if (g_str_equal (rest, "recent"))
    {
      if (!parse_uint (msg, query, "limit", RECENT_DEFAULT, RECENT_MAX, &request->limit))
        return;
      odd_http_server_defer (server, msg, recent_work, g_steal_pointer (&request), request_free);
      return;
    }

  if (!odd_uuid_is_valid (rest))
    {
      g_autoptr(JsonNode) details = odd_http_details_new ("/id", "must be a UUID");

      odd_http_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "Invalid job id", details);
      return;
    }

  request->job_id = g_ascii_strdown (rest, -1);
  odd_http_server_defer (server, msg, job_work, g_steal_pointer (&request), request_free);
}

/* ---- /events ---- */


static void
handle_events (OddHttpServer     *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  g_autoptr(Request) request = request_new (user_data);

  if (!parse_uuid (msg, query, "jobId", &request->job_id) ||
      !parse_uint (msg, query, "limit", PAGE_DEFAULT, PAGE_MAX, &request->limit))
    return;
  odd_http_server_defer (server, msg, events_work, g_steal_pointer (&request), request_free);
}

/* ---- /queues ---- */

static void
queues_work (gpointer       data,
             OddHttpResult *result)
{
  Request *request = data;
  OddReadModel *self = request->self;
  g_autoptr(GError) redis_error = NULL;
  g_autoptr(GError) amqp_error = NULL;
  redisContext *redis;
  JsonNode *body = NULL;

  /* The metrics-engine samples the broker every few seconds; its hash expires when it stops
   * sampling, and only then is RabbitMQ asked directly. */
  redis = odd_redis_thread_conn (self->config.redis_url, &redis_error);
  if (redis != NULL)
    body = odd_read_model_query_queues_redis (redis, g_get_real_time () / G_USEC_PER_SEC,
                                              &redis_error);
  if (body != NULL)
    {
      set_body (result, body);
      return;
    }
  if (redis_error != NULL)
    g_debug ("queue sample unavailable: %s", redis_error->message);

  body = odd_read_model_query_queues_amqp (self->config.rabbitmq_url, &amqp_error);
  if (body == NULL)
    {
      /* The broker's text (host, user, its reply) is for the log only. */
      g_message ("queue statistics unavailable: %s", amqp_error->message);
      result->status = SOUP_STATUS_SERVICE_UNAVAILABLE;
      result->error = g_strdup ("Queue statistics unavailable: RabbitMQ unreachable");
      return;
    }
  set_body (result, body);
}

static void
handle_queues (OddHttpServer     *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  odd_http_server_defer (server, msg, queues_work, request_new (user_data), request_free);
}

/* ---- /dlq ---- */


static void
handle_dlq (OddHttpServer     *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  g_autoptr(Request) request = request_new (user_data);
  const char *queue = param (query, "queue");

  if (queue != NULL && !odd_dead_letter_queue_is_valid (queue))
    {
      reply_bad_param (msg, "queue", "must be " ODD_QUEUE_FAILED_VALIDATION " or " ODD_QUEUE_DEAD);
      return;
    }
  request->queue = g_strdup (queue);

  if (!parse_uint (msg, query, "limit", PAGE_DEFAULT, PAGE_MAX, &request->limit) ||
      !parse_choice (msg, query, "state", "pending", "all", FALSE, &request->pending))
    return;
  odd_http_server_defer (server, msg, dlq_work, g_steal_pointer (&request), request_free);
}

/* ---- /alerts ---- */

/* Both reads retry once on a fresh connection, like run_pg_read(): an alert list must neither
 * hide an outage nor invent one after a server restart. */
static gboolean
snapshot_dead_letters (OddReadModel      *self,
                       OddAlertSnapshot  *snapshot,
                       GError           **error)
{
  for (guint attempt = 0;; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      PGconn *pg;

      pg = odd_pg_thread_conn (self->config.postgres_url, error);
      if (pg == NULL)
        return FALSE;
      if (odd_read_model_query_recent_dead_letters (pg, ODD_ALERT_DEAD_LETTER_WINDOW_SEC,
                                                    &snapshot->dead_letters_recent,
                                                    &snapshot->dead_letters_oldest_usec,
                                                    &local_error))
        return TRUE;
      if (PQstatus (pg) != CONNECTION_BAD)
        {
          /* Reachable but without the table yet: no dead letters to speak of. */
          g_debug ("dead letters unavailable: %s", local_error->message);
          return TRUE;
        }
      if (attempt > 0)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
}

static GArray *
snapshot_seconds (OddReadModel  *self,
                  gint64         first_second,
                  guint          n,
                  GError       **error)
{
  for (guint attempt = 0;; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      redisContext *redis;
      GArray *seconds;

      redis = odd_redis_thread_conn (self->config.redis_url, error);
      if (redis == NULL)
        return NULL;
      seconds = odd_read_model_query_seconds (redis, first_second, n, &local_error);
      if (seconds != NULL)
        return seconds;
      if (attempt > 0 || redis->err == 0)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
}

static void
alerts_work (gpointer       data,
             OddHttpResult *result)
{
  Request *request = data;
  OddReadModel *self = request->self;
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) services = g_array_new (FALSE, TRUE, sizeof (OddServiceState));
  g_autoptr(GArray) seconds = NULL;
  g_autoptr(GError) pg_error = NULL;
  g_autoptr(GError) redis_error = NULL;
  OddAlertSnapshot snapshot = { 0 };

  snapshot.now_usec = g_get_real_time ();
  snapshot.first_second = snapshot.now_usec / G_USEC_PER_SEC - ODD_ALERT_FAILURE_WINDOW_SEC + 1;

  /* Fresh checks of both dependencies rather than the periodic check's last word. */
  snapshot_dead_letters (self, &snapshot, &pg_error);
  odd_read_model_note_pg (self, pg_error);

  seconds = snapshot_seconds (self, snapshot.first_second, ODD_ALERT_FAILURE_WINDOW_SEC, &redis_error);
  if (seconds != NULL)
    {
      snapshot.seconds = (const OddSecondBucket *) seconds->data;
      snapshot.n_seconds = seconds->len;
    }
  odd_read_model_note_redis (self, redis_error);

  /* After the notes, so that the down-since times include this request's observations. */
  odd_read_model_snapshot_states (self, &snapshot, services, strings);
  snapshot.pg_ok = (pg_error == NULL);
  snapshot.redis_ok = (redis_error == NULL);

  set_body (result, wrap ("alerts", odd_alerts_evaluate (&snapshot)));
}

static void
handle_alerts (OddHttpServer     *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  odd_http_server_defer (server, msg, alerts_work, request_new (user_data), request_free);
}

/* ---- /openapi.json and /docs ---- */

static void
handle_openapi (OddHttpServer     *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  g_autoptr(JsonNode) document = odd_read_model_openapi ();

  odd_http_reply_json (msg, SOUP_STATUS_OK, document);
}

static void
handle_docs (OddHttpServer     *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  if (!g_str_equal (path, "/docs") && !g_str_equal (path, "/docs/"))
    {
      odd_http_reply_error (msg, SOUP_STATUS_NOT_FOUND, "Not found", NULL);
      return;
    }

  odd_http_reply_text (msg, SOUP_STATUS_OK, "text/html; charset=utf-8", odd_read_model_docs_html ());
}

void
odd_read_model_register_handlers (OddReadModel *self)
{
  static const char *const get[] = { "GET", NULL };
  OddHttpServer *server = self->server;

  odd_http_server_add_route (server, "/health", get, handle_health, self);
  odd_http_server_add_route (server, "/stats", get, handle_stats, self);
  odd_http_server_add_route (server, "/stats/series", get, handle_series, self);
  odd_http_server_add_route (server, "/jobs", get, handle_jobs, self);
  /* Its own route (exact routes win over prefixes) gives it its own metrics label. */
  odd_http_server_add_route (server, "/jobs/recent", get, handle_jobs, self);
  odd_http_server_add_route (server, "/jobs/", get, handle_jobs, self);
  odd_http_server_add_route (server, "/events", get, handle_events, self);
  odd_http_server_add_route (server, "/queues", get, handle_queues, self);
  odd_http_server_add_route (server, "/dlq", get, handle_dlq, self);
  odd_http_server_add_route (server, "/alerts", get, handle_alerts, self);
  odd_http_server_add_route (server, "/openapi.json", get, handle_openapi, self);
  odd_http_server_add_route (server, "/docs", get, handle_docs, self);
  odd_http_server_add_route (server, "/docs/", get, handle_docs, self);
}
