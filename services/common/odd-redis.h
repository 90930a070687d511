/* odd-redis.h: Redis helpers (hiredis 0.14) */
#pragma once

#include <glib.h>
#include <hiredis/hiredis.h>

G_BEGIN_DECLS

#define ODD_REDIS_ERROR (odd_redis_error_quark ())
GQuark odd_redis_error_quark (void);

/* Added: the error codes. */
typedef enum {
  ODD_REDIS_ERROR_CONNECT,  /* bad URL, unreachable, AUTH or SELECT refused */
  ODD_REDIS_ERROR_IO,       /* the connection broke; the context is unusable */
  ODD_REDIS_ERROR_REPLY,    /* the server answered with an error */
} OddRedisError;

/* Fields of the per-second hash metrics:sec:<t> that the metrics-engine's queue sampler writes
 * and the read model's /stats/series reads (docs/architecture.md): the ready messages of
 * jobs.created, and per queue "<messages> <consumers>" under "queue:<name>". */
#define ODD_SEC_FIELD_QUEUE_DEPTH  "queue_depth"
#define ODD_SEC_FIELD_QUEUE_PREFIX "queue:"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (redisContext, redisFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (redisReply, freeReplyObject)

/* Accepts redis://[:password@]host:port[/db] and the reference's host:port. 5 s timeouts. */
redisContext *odd_redis_connect        (const char    *url,
                                        GError       **error);
/* NULL + error on I/O errors and on REDIS_REPLY_ERROR replies. */
redisReply   *odd_redis_command        (redisContext  *ctx,
                                        GError       **error,
                                        const char    *format,
                                        ...);
redisReply   *odd_redis_command_argv   (redisContext  *ctx,
                                        int            argc,
                                        const char   **argv,
                                        const size_t  *argvlen,
                                        GError       **error);
/* A context owned by the calling thread, reconnected when broken. */
redisContext *odd_redis_thread_conn    (const char    *url,
                                        GError       **error);

G_END_DECLS
