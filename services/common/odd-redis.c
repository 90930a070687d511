#define G_LOG_DOMAIN "odd-redis"

#include "odd-redis.h"

#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (odd-redis-error-quark, odd_redis_error)

#define REDIS_TIMEOUT_SEC 5

typedef struct {
  char *host;
  int   port;
  char *user;
  char *password;
  int   db;
} RedisAddress;

static void
redis_address_clear (RedisAddress *addr)
{
  g_clear_pointer (&addr->host, g_free);
  g_clear_pointer (&addr->user, g_free);
  if (addr->password != NULL)
    memset (addr->password, 0, strlen (addr->password));
  g_clear_pointer (&addr->password, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RedisAddress, redis_address_clear)

static gboolean
parse_url (const char    *url,
           RedisAddress  *addr,
           GError       **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *full = NULL;
  const char *path;

  /* The reference passed bare host:port; give it a scheme so one parser handles both. */
  if (strstr (url, "://") == NULL)
    full = g_strconcat ("redis://", url, NULL);
  else
    full = g_strdup (url);

  uri = g_uri_parse (full, G_URI_FLAGS_HAS_PASSWORD, &local_error);
  if (uri == NULL)
    {
      g_set_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_CONNECT,
                   "Invalid Redis URL: %s", local_error->message);
      return FALSE;
    }
  if (g_strcmp0 (g_uri_get_scheme (uri), "redis") != 0)
    {
      g_set_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_CONNECT,
                   "Invalid Redis URL: scheme \"%s\" is not supported (use redis://)",
                   g_uri_get_scheme (uri));
      return FALSE;
    }
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_CONNECT, "Invalid Redis URL: no host");
      return FALSE;
    }

  addr->host = g_strdup (g_uri_get_host (uri));
  addr->port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 6379;
  if (g_uri_get_user (uri) != NULL && *g_uri_get_user (uri) != '\0')
    addr->user = g_strdup (g_uri_get_user (uri));
  if (g_uri_get_password (uri) != NULL && *g_uri_get_password (uri) != '\0')
    addr->password = g_strdup (g_uri_get_password (uri));
  /* redis://secret@host: a lone user part is the password, as redis-cli reads it. */
  if (addr->password == NULL && addr->user != NULL)
    {
      addr->password = g_steal_pointer (&addr->user);
    }

  addr->db = 0;
  path = g_uri_get_path (uri);
  if (path != NULL && path[0] == '/' && path[1] != '\0')
    {
      char *end = NULL;
      gint64 db = g_ascii_strtoll (path + 1, &end, 10);

      if (end == NULL || *end != '\0' || db < 0 || db > 65535)
        {
          g_set_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_CONNECT,
                       "Invalid Redis URL: database \"%s\" is not a number", path + 1);
          return FALSE;
        }
      addr->db = (int) db;
    }

  return TRUE;
}

redisContext *
odd_redis_connect (const char  *url,
                   GError     **error)
{
  g_auto(RedisAddress) addr = { 0 };
  g_autoptr(redisContext) ctx = NULL;
  struct timeval timeout = { REDIS_TIMEOUT_SEC, 0 };

  g_return_val_if_fail (url != NULL, NULL);

  if (!parse_url (url, &addr, error))
    return NULL;

  ctx = redisConnectWithTimeout (addr.host, addr.port, timeout);
  if (ctx == NULL || ctx->err != 0)
    {
      g_set_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_CONNECT,
                   "Cannot connect to Redis at %s:%d: %s", addr.host, addr.port,
                   ctx != NULL ? ctx->errstr : "out of memory");
      return NULL;
    }
  /* Every later read and write is bounded too: a stalled server gives an error, not a hang. */
  if (redisSetTimeout (ctx, timeout) != REDIS_OK)
    {
      g_set_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_CONNECT,
                   "Cannot set Redis timeouts: %s", ctx->errstr);
      return NULL;
    }

  if (addr.password != NULL)
    {
      g_autoptr(redisReply) reply = NULL;
      g_autoptr(GError) local_error = NULL;

      if (addr.user != NULL)
        reply = odd_redis_command (ctx, &local_error, "AUTH %s %s", addr.user, addr.password);
      else
        reply = odd_redis_command (ctx, &local_error, "AUTH %s", addr.password);
      if (reply == NULL)
        {
          g_set_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_CONNECT,
                       "Redis authentication failed: %s", local_error->message);
          return NULL;
        }
    }

  if (addr.db != 0)
    {
      g_autoptr(redisReply) reply = NULL;
      g_autoptr(GError) local_error = NULL;

      reply = odd_redis_command (ctx, &local_error, "SELECT %d", addr.db);
      if (reply == NULL)
        {
          g_set_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_CONNECT,
                       "Cannot select Redis database %d: %s", addr.db, local_error->message);
          return NULL;
        }
    }

  return g_steal_pointer (&ctx);
}

static redisReply *
check_reply (redisContext  *ctx,
             redisReply    *reply,
             GError       **error)
{
  if (reply == NULL)
    {
      /* hiredis marks the context failed; odd_redis_thread_conn() reconnects next time. */
      g_set_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_IO,
                   "Redis I/O error: %s", ctx->errstr[0] != '\0' ? ctx->errstr : "connection lost");
      return NULL;
    }
  if (reply->type == REDIS_REPLY_ERROR)
    {
      g_set_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_REPLY,
                   "Redis error: %.*s", (int) reply->len, reply->str);
      freeReplyObject (reply);
      return NULL;
    }
  return reply;
}

redisReply *
odd_redis_command (redisContext  *ctx,
                   GError       **error,
                   const char    *format,
                   ...)
{
  va_list args;
  void *reply;

  g_return_val_if_fail (ctx != NULL, NULL);
  g_return_val_if_fail (format != NULL, NULL);

  if (ctx->err != 0)
    {
      g_set_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_IO,
                   "Redis connection is broken: %s", ctx->errstr);
      return NULL;
    }

  va_start (args, format);
  reply = redisvCommand (ctx, format, args);
  va_end (args);

  return check_reply (ctx, reply, error);
}

redisReply *
odd_redis_command_argv (redisContext  *ctx,
                        int            argc,
                        const char   **argv,
                        const size_t  *argvlen,
                        GError       **error)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  g_return_val_if_fail (argc > 0 && argv != NULL, NULL);

  if (ctx->err != 0)
    {
      g_set_error (error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_IO,
                   "Redis connection is broken: %s", ctx->errstr);
      return NULL;
    }

  return check_reply (ctx, redisCommandArgv (ctx, argc, argv, argvlen), error);
}

static void
free_context (gpointer data)
{
  redisFree (data);
}

/* url → redisContext of the current thread; freed when the thread exits. */
static GPrivate thread_contexts = G_PRIVATE_INIT ((GDestroyNotify) g_hash_table_unref);

redisContext *
odd_redis_thread_conn (const char  *url,
                       GError     **error)
{
  GHashTable *contexts = g_private_get (&thread_contexts);
  redisContext *ctx;

  g_return_val_if_fail (url != NULL, NULL);

  if (contexts == NULL)
    {
      contexts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_context);
      g_private_set (&thread_contexts, contexts);
    }

  ctx = g_hash_table_lookup (contexts, url);
  if (ctx != NULL && ctx->err == 0)
    return ctx;
  /* A failed hiredis context is never usable again: replace it. */
  g_hash_table_remove (contexts, url);

  ctx = odd_redis_connect (url, error);
  if (ctx == NULL)
    return NULL;
  g_hash_table_insert (contexts, g_strdup (url), ctx);
  return ctx;
}
