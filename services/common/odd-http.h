/* odd-http.h: the libsoup server every service runs
 *
 * OddHttpServer wraps a SoupServer on the thread-default main context and adds what every
 * service answers the same way: /healthz, /readyz, /metrics, request metrics
 * (http_requests_total{route}, http_responses_total{code}, http_request_duration_seconds{route},
 * where route is the registered pattern, never the raw path), X-Correlation-Id echo,
 * JSON errors for unknown routes (404) and methods (405 + Allow), optional CORS.
 * Handlers run on the main context. Work that blocks (database, Redis) goes through
 * odd_http_server_defer(), which pauses the message, runs the work on a thread pool and
 * answers from the main context.
 */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include "odd-metrics.h"

G_BEGIN_DECLS

#define ODD_TYPE_HTTP_SERVER (odd_http_server_get_type ())
G_DECLARE_FINAL_TYPE (OddHttpServer, odd_http_server, ODD, HTTP_SERVER, GObject)

/* Returns NULL (ready) or a reason it is not ready. Called on the main context. */
typedef char *(*OddHttpReadyFunc) (gpointer user_data);

/* @path: the request path; @query: the decoded query parameters, NULL when there are none. */
typedef void (*OddHttpHandler) (OddHttpServer     *server,
                                SoupServerMessage *msg,
                                const char        *path,
                                GHashTable        *query,
                                gpointer           user_data);

OddHttpServer *odd_http_server_new        (const char        *service,
                                           OddMetrics        *metrics,
                                           OddHttpReadyFunc   ready,
                                           gpointer           ready_data);
/* From now on /readyz answers 503 with the reason "draining", whatever the ready function says:
 * the service is stopping (odd-service-lifecycle.c calls it on SIGTERM), so clients that still
 * hold a connection, and load balancers probing over one, stop sending it work. */
void           odd_http_server_set_draining (OddHttpServer   *self);
gboolean       odd_http_server_is_draining  (OddHttpServer   *self);
/* Also answers OPTIONS preflights and sets Access-Control-Allow-* on every answer. */
void           odd_http_server_set_cors   (OddHttpServer     *self,
                                           gboolean           cors);
/* The largest request body read (default 1 MiB), on every path. A longer Content-Length gets
 * 413 before any of the body is read, a chunked body 413 the moment it passes the limit; a
 * body sent to a path or method that takes none gets 404, 405 or 413 unread. Such answers
 * close the connection and emit OddHttpServer::refused. odd_http_read_json_body()'s own
 * @max_bytes still applies below this. */
void           odd_http_server_set_max_body (OddHttpServer   *self,
                                             gsize            max_bytes);
/* @path: exact path, or a prefix when it ends in '/' ("/jobs/" matches "/jobs/123/retry").
 * @methods: NULL-terminated list, e.g. (const char *[]) {"GET", NULL}; other methods get 405. */
void           odd_http_server_add_route  (OddHttpServer     *self,
                                           const char        *path,
                                           const char *const *methods,
                                           OddHttpHandler     handler,
                                           gpointer           user_data);
gboolean       odd_http_server_listen     (OddHttpServer     *self,
                                           const char        *host,
                                           guint              port,
                                           GError           **error);
/* odd_http_server_listen() sets SO_REUSEPORT when $ODD_REUSE_PORT is true. The _full form:
 * @reuse_port sets SO_REUSEPORT so that replicas of the service share the port.
 * May be called again for a further port: odd_http_server_get_port() stays the first. */
gboolean       odd_http_server_listen_full (OddHttpServer    *self,
                                           const char        *host,
                                           guint              port,
                                           gboolean           reuse_port,
                                           GError           **error);
guint          odd_http_server_get_port   (OddHttpServer     *self);
SoupServer    *odd_http_server_get_soup   (OddHttpServer     *self);
OddMetrics    *odd_http_server_get_metrics (OddHttpServer    *self);

/* The request's correlation id: its valid X-Correlation-Id or a new UUID (also echoed). */
const char    *odd_http_correlation_id    (SoupServerMessage *msg);

/* The reply helpers never take ownership of @body / @details (the caller unrefs them). */
void           odd_http_reply_json        (SoupServerMessage *msg,
                                           guint              status,
                                           JsonNode          *body);
void           odd_http_reply_error       (SoupServerMessage *msg,
                                           guint              status,
                                           const char        *error,
                                           JsonNode          *details);
void           odd_http_reply_text        (SoupServerMessage *msg,
                                           guint              status,
                                           const char        *content_type,
                                           const char        *body);

/* [{"path": @path, "message": @message}]: details of an error with one cause. */
JsonNode      *odd_http_details_new       (const char        *path,
                                           const char        *message);

/* What a deferred worker produces; set either body, or error (+ optional details).
 * Everything set here is owned by the result and freed after the answer (json_node_unref,
 * g_free). status 0 means 200 with a body, 500 with an error. */
typedef struct {
  guint     status;
  JsonNode *body;
  char     *error;
  JsonNode *details;
  char     *retry_after;  /* optional Retry-After header */
} OddHttpResult;

typedef void (*OddHttpWorkFunc) (gpointer       data,
                                 OddHttpResult *result);

/* Pauses @msg, runs @func(@data, result) on a worker thread, then answers from the main
 * context. Worker threads keep their own connections (see odd_pg_thread_conn()). */
void           odd_http_server_defer      (OddHttpServer     *self,
                                           SoupServerMessage *msg,
                                           OddHttpWorkFunc    func,
                                           gpointer           data,
                                           GDestroyNotify     destroy);

/* The request body, after the checks odd_http_read_json_body() makes before parsing (415,
 * 413, 400 for empty or not UTF-8: answered, and NULL returned). */
GBytes        *odd_http_read_body         (SoupServerMessage *msg,
                                           gsize              max_bytes);
/* 400 "Malformed JSON" with @problem (odd_json_parse()'s message) as its detail. */
void           odd_http_reply_malformed   (SoupServerMessage *msg,
                                           const char        *problem);

/* Parses the request body as JSON, answering 415 (content type), 413 (> @max_bytes) or
 * 400 (empty, not UTF-8, malformed) itself and returning NULL in those cases.
 * Returns a new node (json_node_unref it). */
JsonNode      *odd_http_read_json_body    (SoupServerMessage *msg,
                                           gsize              max_bytes);

G_END_DECLS
