#define G_LOG_DOMAIN "odd-read-model"

#include <string.h>

#include "odd-build-config.h"
#include "odd-read-model-private.h"

G_DEFINE_TYPE (OddReadModel, odd_read_model, G_TYPE_OBJECT)

/* The longest reason of another service's /readyz that /alerts repeats. */
#define PROBE_REASON_MAX_CHARS 160

/* ---- configuration ---- */

OddReadModelConfig *
odd_read_model_config_new_from_env (void)
{
  OddReadModelConfig *config = g_new0 (OddReadModelConfig, 1);

  config->postgres_url = g_strdup (odd_config_string ("POSTGRES_URL", ODD_DEFAULT_POSTGRES_URL));
  config->redis_url = g_strdup (odd_config_string ("REDIS_URL", ODD_DEFAULT_REDIS_URL));
  config->rabbitmq_url = g_strdup (odd_config_string ("RABBITMQ_URL", ODD_DEFAULT_RABBITMQ_URL));
  /* Set but empty means "probe nothing", so read it raw rather than with a fallback. */
  config->service_urls = g_strdup (g_getenv ("ODD_SERVICE_URLS") != NULL
                                   ? g_getenv ("ODD_SERVICE_URLS")
                                   : ODD_READ_MODEL_DEFAULT_SERVICE_URLS);
  config->probe_interval_ms = 5000;
  config->probe_timeout_sec = 2;

  return config;
}

static void
config_clear (OddReadModelConfig *config)
{
  g_clear_pointer (&config->postgres_url, g_free);
  g_clear_pointer (&config->redis_url, g_free);
  g_clear_pointer (&config->rabbitmq_url, g_free);
  g_clear_pointer (&config->service_urls, g_free);
}

void
odd_read_model_config_free (OddReadModelConfig *config)
{
  if (config == NULL)
    return;
  config_clear (config);
  g_free (config);
}

static void
probe_free (gpointer data)
{
  OddServiceProbe *probe = data;

  g_free (probe->name);
  g_free (probe->url);
  g_free (probe->reason);
  g_free (probe);
}

/* "name=url,name=url" → probes; a bad entry is an error naming it. */
static GPtrArray *
parse_service_urls (const char  *text,
                    GError     **error)
{
  g_autoptr(GPtrArray) probes = g_ptr_array_new_with_free_func (probe_free);
  g_auto(GStrv) entries = g_strsplit (text ? text : "", ",", -1);

  for (guint i = 0; entries[i] != NULL; i++)
    {
      g_autofree char *entry = g_strstrip (g_strdup (entries[i]));
      g_autoptr(GUri) uri = NULL;
      const char *eq;
      OddServiceProbe *probe;
      g_autofree char *name = NULL;
      g_autofree char *url = NULL;

      if (entry[0] == '\0')
        continue;

      eq = strchr (entry, '=');
      if (eq != NULL)
        {
          name = g_strstrip (g_strndup (entry, eq - entry));
          url = g_strstrip (g_strdup (eq + 1));
        }
      if (name == NULL || name[0] == '\0' || url == NULL ||
          (uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL)) == NULL ||
          (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 &&
           g_strcmp0 (g_uri_get_scheme (uri), "https") != 0))
        {
          g_set_error (error, ODD_CONFIG_ERROR, 0,
                       "ODD_SERVICE_URLS: “%s” is not name=http://host:port", entry);
          return NULL;
        }

      /* Base URLs may end in '/'; the probe path is added once. */
      while (g_str_has_suffix (url, "/"))
        url[strlen (url) - 1] = '\0';

      probe = g_new0 (OddServiceProbe, 1);
      probe->name = g_steal_pointer (&name);
      probe->url = g_steal_pointer (&url);
      g_ptr_array_add (probes, probe);
    }

  return g_steal_pointer (&probes);
}

/* ---- dependency state ---- */

/* What a client may read about a failed dependency: a short phrase, never the server's text
 * (it names hosts, users and tables, and PostgreSQL's DETAIL and HINT run over several
 * lines). The full text goes to the log. */
const char *
odd_read_model_dependency_reason (const GError *error)
{
  if (error == NULL)
    return NULL;
  if (error->domain == ODD_PG_ERROR)
    return error->code == ODD_PG_ERROR_CONNECT ? "cannot connect" : "query failed";
  if (error->domain == ODD_REDIS_ERROR)
    switch (error->code)
      {
      case ODD_REDIS_ERROR_CONNECT: return "cannot connect";
      case ODD_REDIS_ERROR_IO:      return "connection lost";
      case ODD_REDIS_ERROR_REPLY:   return "command refused";
      default:                      break;
      }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return "timed out";
  return "unavailable";
}

static void
note_dependency (OddReadModel       *self,
                 OddDependencyState *state,
                 const char         *label,
                 const GError       *error)
{
  gboolean was_ok;
  gboolean was_checked;

  g_mutex_lock (&self->lock);
  was_ok = state->ok;
  was_checked = state->checked;
  state->checked = TRUE;
  state->ok = (error == NULL);
  g_clear_pointer (&state->error, g_free);
  if (error != NULL)
    {
      state->error = g_strdup (odd_read_model_dependency_reason (error));
      if (state->down_since_usec == 0)
        state->down_since_usec = g_get_real_time ();
    }
  else
    state->down_since_usec = 0;
  g_mutex_unlock (&self->lock);

  odd_gauge_set (self->dependency_up, label, error == NULL ? 1 : 0);

  /* State changes are worth a line; the same failure on every request is not. */
  if (error != NULL && (was_ok || !was_checked))
    g_message ("%s unreachable: %s", label, error->message);
  else if (error == NULL && was_checked && !was_ok)
    g_message ("%s reachable again", label);
}

void
odd_read_model_note_pg (OddReadModel *self,
                        const GError *error)
{
  note_dependency (self, &self->pg, "postgres", error);
}

void
odd_read_model_note_redis (OddReadModel *self,
                           const GError *error)
{
  note_dependency (self, &self->redis, "redis", error);
}

static gboolean
ensure_schema (OddReadModel  *self,
               PGconn        *pg,
               GError       **error)
{
  gboolean ok = TRUE;

  if (g_atomic_int_get (&self->schema_ready))
    return TRUE;

  /* The migrations are idempotent and advisory-locked; the mutex only spares our own
   * workers from queueing on that lock. */
  g_mutex_lock (&self->migrate_lock);
  if (!g_atomic_int_get (&self->schema_ready))
    {
      g_autoptr(GError) local_error = NULL;

      ok = odd_pg_migrate (pg, &local_error);
      if (ok)
        {
          g_atomic_int_set (&self->schema_ready, TRUE);
          self->migrate_failure_logged = FALSE;
          g_debug ("database schema at version %d", odd_pg_schema_version ());
        }
      else
        {
          /* Said once per failure streak, not on every request that finds it so. */
          if (!self->migrate_failure_logged && PQstatus (pg) != CONNECTION_BAD)
            g_message ("cannot apply the database migrations: %s", local_error->message);
          self->migrate_failure_logged = (PQstatus (pg) != CONNECTION_BAD);
          g_propagate_error (error, g_steal_pointer (&local_error));
        }
    }
  g_mutex_unlock (&self->migrate_lock);

  return ok;
}

static void
set_result_error (OddHttpResult *result,
                  guint          status,
                  char          *error)
{
  result->status = status;
  result->error = error;
}

PGconn *
odd_read_model_pg_conn (OddReadModel  *self,
                        OddHttpResult *result)
{
  g_autoptr(GError) error = NULL;
  PGconn *pg;

  pg = odd_pg_thread_conn (self->config.postgres_url, &error);
  if (pg == NULL)
    {
      odd_read_model_note_pg (self, error);
      set_result_error (result, SOUP_STATUS_SERVICE_UNAVAILABLE,
                        g_strdup_printf ("Database unavailable: %s",
                                         odd_read_model_dependency_reason (error)));
      return NULL;
    }

  if (!ensure_schema (self, pg, &error))
    {
      if (PQstatus (pg) == CONNECTION_BAD)
        {
          odd_read_model_note_pg (self, error);
          set_result_error (result, SOUP_STATUS_SERVICE_UNAVAILABLE,
                            g_strdup_printf ("Database unavailable: %s",
                                             odd_read_model_dependency_reason (error)));
        }
      else
        set_result_error (result, SOUP_STATUS_SERVICE_UNAVAILABLE,
                          g_strdup ("Database schema not ready"));
      return NULL;
    }

  odd_read_model_note_pg (self, NULL);
  return pg;
}

void
odd_read_model_pg_failed (OddReadModel  *self,
                          PGconn        *pg,
                          const GError  *error,
                          OddHttpResult *result)
{
  if (pg == NULL || PQstatus (pg) == CONNECTION_BAD)
    {
      odd_read_model_note_pg (self, error);
      set_result_error (result, SOUP_STATUS_SERVICE_UNAVAILABLE,
                        g_strdup ("Database unavailable: connection lost"));
      return;
    }

  /* Tables dropped under us (a reset database): migrate again on the next request. */
  if (strstr (error->message, "does not exist") != NULL)
    {
      g_atomic_int_set (&self->schema_ready, FALSE);
      set_result_error (result, SOUP_STATUS_SERVICE_UNAVAILABLE,
                        g_strdup ("Database schema not ready"));
      return;
    }

  g_warning ("database query failed: %s", error->message);
  set_result_error (result, SOUP_STATUS_INTERNAL_SERVER_ERROR, g_strdup ("Database query failed"));
}

redisContext *
odd_read_model_redis_conn (OddReadModel  *self,
                           OddHttpResult *result)
{
  g_autoptr(GError) error = NULL;
  redisContext *redis;

  redis = odd_redis_thread_conn (self->config.redis_url, &error);
  if (redis == NULL)
    {
      odd_read_model_note_redis (self, error);
      set_result_error (result, SOUP_STATUS_SERVICE_UNAVAILABLE,
                        g_strdup_printf ("Redis unavailable: %s",
                                         odd_read_model_dependency_reason (error)));
      return NULL;
    }

  return redis;
}

void
odd_read_model_redis_failed (OddReadModel  *self,
                             redisContext  *redis,
                             const GError  *error,
                             OddHttpResult *result)
{
  if (redis == NULL || redis->err != 0)
    {
      odd_read_model_note_redis (self, error);
      set_result_error (result, SOUP_STATUS_SERVICE_UNAVAILABLE,
                        g_strdup_printf ("Redis unavailable: %s",
                                         odd_read_model_dependency_reason (error)));
      return;
    }

  g_warning ("redis query failed: %s", error->message);
  set_result_error (result, SOUP_STATUS_INTERNAL_SERVER_ERROR, g_strdup ("Redis query failed"));
}

/* A copy of @text that lives as long as @strings (the snapshot outlives the lock). */
static const char *
keep (GPtrArray  *strings,
      const char *text)
{
  if (text == NULL)
    return NULL;
  g_ptr_array_add (strings, g_strdup (text));
  return g_ptr_array_index (strings, strings->len - 1);
}

void
odd_read_model_snapshot_states (OddReadModel     *self,
                                OddAlertSnapshot *snapshot,
                                GArray           *services,
                                GPtrArray        *strings)
{
  g_mutex_lock (&self->lock);

  snapshot->pg_ok = self->pg.ok;
  snapshot->pg_error = keep (strings, self->pg.error);
  snapshot->pg_down_since_usec = self->pg.down_since_usec;
  snapshot->redis_ok = self->redis.ok;
  snapshot->redis_error = keep (strings, self->redis.error);
  snapshot->redis_down_since_usec = self->redis.down_since_usec;

  for (guint i = 0; i < self->probes->len; i++)
    {
      OddServiceProbe *probe = g_ptr_array_index (self->probes, i);
      OddServiceState state = {
        .name = keep (strings, probe->name),
        .probed = probe->probed,
        .ready = probe->ready,
        .reason = keep (strings, probe->reason),
        .since_usec = probe->since_usec,
      };

      g_array_append_val (services, state);
    }

  g_mutex_unlock (&self->lock);

  snapshot->services = (const OddServiceState *) services->data;
  snapshot->n_services = services->len;
}

/* ---- /readyz and the self-check ---- */

static char *
ready_func (gpointer user_data)
{
  OddReadModel *self = user_data;
  g_autoptr(GString) reason = g_string_new (NULL);

  g_mutex_lock (&self->lock);
  if (!self->pg.checked || !self->redis.checked)
    g_string_append (reason, "starting: dependencies not checked yet");
  else
    {
      if (!self->pg.ok)
        g_string_append_printf (reason, "PostgreSQL unavailable: %s", self->pg.error);
      else if (!g_atomic_int_get (&self->schema_ready))
        g_string_append (reason, "database schema not migrated yet");
      if (!self->redis.ok)
        g_string_append_printf (reason, "%sRedis unavailable: %s",
                                reason->len > 0 ? "; " : "", self->redis.error);
    }
  g_mutex_unlock (&self->lock);

  if (reason->len == 0)
    return NULL;
  return g_string_free (g_steal_pointer (&reason), FALSE);
}

static gboolean
check_pg (OddReadModel  *self,
          GError       **error)
{
  /* A second attempt on a fresh connection: after a restart the old one fails once. */
  for (guint attempt = 0;; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(PGresult) res = NULL;
      PGconn *pg;

      pg = odd_pg_thread_conn (self->config.postgres_url, error);
      if (pg == NULL)
        return FALSE;
      res = odd_pg_query (pg, "SELECT 1", 0, NULL, &local_error);
      if (res != NULL)
        {
          /* The database may be back before anything else asks: migrate now. */
          if (!ensure_schema (self, pg, &local_error))
            g_debug ("migrations not applied yet: %s", local_error->message);
          return TRUE;
        }
      if (attempt > 0 || PQstatus (pg) != CONNECTION_BAD)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
}

static gboolean
check_redis (OddReadModel  *self,
             GError       **error)
{
  for (guint attempt = 0;; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(redisReply) reply = NULL;
      redisContext *redis;

      redis = odd_redis_thread_conn (self->config.redis_url, error);
      if (redis == NULL)
        return FALSE;
      reply = odd_redis_command (redis, &local_error, "PING");
      if (reply != NULL)
        return TRUE;
      if (attempt > 0 || redis->err == 0)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
}

static void
self_check_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  OddReadModel *self = source_object;
  g_autoptr(GError) pg_error = NULL;
  g_autoptr(GError) redis_error = NULL;

  check_pg (self, &pg_error);
  odd_read_model_note_pg (self, pg_error);
  check_redis (self, &redis_error);
  odd_read_model_note_redis (self, redis_error);

  g_task_return_boolean (task, TRUE);
}

static void
self_check_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  OddReadModel *self = ODD_READ_MODEL (source);

  self->self_check_in_flight = FALSE;
}

static void
start_self_check (OddReadModel *self)
{
  g_autoptr(GTask) task = NULL;

  if (self->self_check_in_flight)
    return;
  self->self_check_in_flight = TRUE;

  task = g_task_new (self, NULL, self_check_done, NULL);
  g_task_set_source_tag (task, start_self_check);
  g_task_run_in_thread (task, self_check_thread);
}

/* ---- probes of the other services ---- */

typedef struct {
  OddReadModel    *self;
  OddServiceProbe *probe;
  SoupMessage     *msg;
} ProbeCall;

static void
probe_call_free (ProbeCall *call)
{
  g_clear_object (&call->msg);
  g_clear_object (&call->self);
  g_free (call);
}

static char *
reason_from_answer (SoupMessage *msg,
                    GBytes      *body)
{
  g_autoptr(JsonNode) node = NULL;
  gsize len = 0;
  const char *data = body ? g_bytes_get_data (body, &len) : NULL;

  if (data != NULL && len > 0 && (node = odd_json_parse (data, len, NULL)) != NULL &&
      JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);
      const char *reason = json_object_get_string_member_with_default (object, "reason", NULL);

      if (reason != NULL)
        {
          /* Shown in /alerts: one line of bounded length, whatever the service said. */
          g_autofree char *line = g_strndup (reason, strcspn (reason, "\r\n"));
          gboolean cut = g_utf8_validate (line, -1, NULL) &&
                         g_utf8_strlen (line, -1) > PROBE_REASON_MAX_CHARS;

          if (cut)
            *g_utf8_offset_to_pointer (line, PROBE_REASON_MAX_CHARS) = '\0';
          return g_strdup_printf ("HTTP %u: %s%s", soup_message_get_status (msg), line,
                                  cut ? "…" : "");
        }
    }

  return g_strdup_printf ("HTTP %u", soup_message_get_status (msg));
}

static void
probe_done (GObject      *source,
            GAsyncResult *res,
            gpointer      user_data)
{
  ProbeCall *call = user_data;
  OddReadModel *self = call->self;
  OddServiceProbe *probe = call->probe;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *reason = NULL;
  gboolean ready;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), res, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      probe_call_free (call);
      return;
    }

  if (body == NULL)
    reason = g_strdup (error->message);
  else if (soup_message_get_status (call->msg) != SOUP_STATUS_OK)
    reason = reason_from_answer (call->msg, body);
  ready = (reason == NULL);

  g_mutex_lock (&self->lock);
  probe->in_flight = FALSE;
  if (ready)
    probe->since_usec = 0;
  else if (probe->since_usec == 0)
    probe->since_usec = g_get_real_time ();
  if (ready != probe->ready || !probe->probed)
    g_debug ("%s is %s%s%s", probe->name, ready ? "ready" : "not ready",
             ready ? "" : ": ", ready ? "" : reason);
  probe->probed = TRUE;
  probe->ready = ready;
  g_free (probe->reason);
  probe->reason = g_steal_pointer (&reason);
  g_mutex_unlock (&self->lock);

  odd_gauge_set (self->service_ready, probe->name, ready ? 1 : 0);
  probe_call_free (call);
}

static void
start_probes (OddReadModel *self)
{
  for (guint i = 0; i < self->probes->len; i++)
    {
      OddServiceProbe *probe = g_ptr_array_index (self->probes, i);
      g_autofree char *url = g_strconcat (probe->url, "/readyz", NULL);
      ProbeCall *call;
      gboolean busy;

      g_mutex_lock (&self->lock);
      busy = probe->in_flight;
      probe->in_flight = TRUE;
      g_mutex_unlock (&self->lock);
      if (busy)
        continue;

      call = g_new0 (ProbeCall, 1);
      call->self = g_object_ref (self);
      call->probe = probe;
      call->msg = soup_message_new (SOUP_METHOD_GET, url);
      soup_session_send_and_read_async (self->probe_session, call->msg, G_PRIORITY_DEFAULT,
                                        self->cancellable, probe_done, call);
    }
}

static gboolean
tick (gpointer user_data)
{
  OddReadModel *self = user_data;

  start_self_check (self);
  start_probes (self);
  return G_SOURCE_CONTINUE;
}

/* ---- object ---- */

static void
odd_read_model_dispose (GObject *object)
{
  OddReadModel *self = ODD_READ_MODEL (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_object (&self->server);
  g_clear_object (&self->probe_session);

  G_OBJECT_CLASS (odd_read_model_parent_class)->dispose (object);
}

static void
odd_read_model_finalize (GObject *object)
{
  OddReadModel *self = ODD_READ_MODEL (object);

  config_clear (&self->config);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->probes, g_ptr_array_unref);
  g_clear_pointer (&self->pg.error, g_free);
  g_clear_pointer (&self->redis.error, g_free);
  g_clear_pointer (&self->metrics, odd_metrics_free);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->migrate_lock);

  G_OBJECT_CLASS (odd_read_model_parent_class)->finalize (object);
}

static void
odd_read_model_class_init (OddReadModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = odd_read_model_dispose;
  object_class->finalize = odd_read_model_finalize;
}

static void
odd_read_model_init (OddReadModel *self)
{
  g_mutex_init (&self->lock);
  g_mutex_init (&self->migrate_lock);
  self->cancellable = g_cancellable_new ();
}

OddReadModel *
odd_read_model_new (const OddReadModelConfig  *config,
                    GError                   **error)
{
  g_autoptr(OddReadModel) self = NULL;
  g_autoptr(GPtrArray) probes = NULL;

  g_return_val_if_fail (config != NULL, NULL);

  probes = parse_service_urls (config->service_urls, error);
  if (probes == NULL)
    return NULL;

  self = g_object_new (ODD_TYPE_READ_MODEL, NULL);
  self->config.postgres_url = g_strdup (config->postgres_url ? config->postgres_url : ODD_DEFAULT_POSTGRES_URL);
  self->config.redis_url = g_strdup (config->redis_url ? config->redis_url : ODD_DEFAULT_REDIS_URL);
  self->config.rabbitmq_url = g_strdup (config->rabbitmq_url ? config->rabbitmq_url : ODD_DEFAULT_RABBITMQ_URL);
  self->config.service_urls = g_strdup (config->service_urls ? config->service_urls : "");
  self->config.probe_interval_ms = config->probe_interval_ms ? config->probe_interval_ms : 5000;
  self->config.probe_timeout_sec = config->probe_timeout_sec ? config->probe_timeout_sec : 2;
  self->probes = g_steal_pointer (&probes);

  self->metrics = odd_metrics_new ("read-model");
  self->dependency_up = odd_metrics_gauge (self->metrics, "read_model_dependency_up",
                                           "1 when the read model reaches the dependency",
                                           "dependency");
  self->service_ready = odd_metrics_gauge (self->metrics, "read_model_service_ready",
                                           "1 when the probed service's /readyz answered 200",
                                           "target");

  self->server = odd_http_server_new ("read-model", self->metrics, ready_func, self);
  odd_http_server_set_cors (self->server, TRUE);
  odd_read_model_register_handlers (self);

  return g_steal_pointer (&self);
}

gboolean
odd_read_model_start (OddReadModel  *self,
                      const char    *host,
                      guint          port,
                      GError       **error)
{
  g_return_val_if_fail (ODD_IS_READ_MODEL (self), FALSE);

  if (!odd_http_server_listen (self->server, host, port, error))
    return FALSE;

  self->probe_session = soup_session_new_with_options ("timeout", self->config.probe_timeout_sec,
                                                       "user-agent", "odd-read-model/" ODD_VERSION,
                                                       NULL);
  /* The first self-check, right away, also applies the migrations: on a worker thread, so
   * that an unreachable database delays nothing (it is retried on every check and request). */
  tick (self);
  self->tick_id = g_timeout_add (self->config.probe_interval_ms, tick, self);

  return TRUE;
}

guint
odd_read_model_get_port (OddReadModel *self)
{
  g_return_val_if_fail (ODD_IS_READ_MODEL (self), 0);

  return odd_http_server_get_port (self->server);
}

OddHttpServer *
odd_read_model_get_server (OddReadModel *self)
{
  g_return_val_if_fail (ODD_IS_READ_MODEL (self), NULL);

  return self->server;
}
