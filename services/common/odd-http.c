#define G_LOG_DOMAIN "odd-http"

#include "odd-http.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "odd-build-config.h"
#include "odd-config.h"
#include "odd-ids.h"
#include "odd-json.h"

#define DEFER_MAX_THREADS 8
/* libsoup reads a whole body before the handler runs; past this size it is read and
 * dropped instead of kept (the handler answers 413). */
#define DEFAULT_MAX_BODY  (1024 * 1024)

typedef struct {
  char           *path;
  gboolean        prefix;
  GStrv           methods;
  OddHttpHandler  handler;
  gpointer        user_data;
} Route;

struct _OddHttpServer {
  GObject           parent_instance;

  char             *service;
  OddMetrics       *metrics;
  OddMetrics       *owned_metrics;
  OddHttpReadyFunc  ready;
  gpointer          ready_data;
  gboolean          draining;     /* main context only, as /readyz */
  gboolean          cors;
  gsize             max_body;

  GPtrArray        *routes;
  SoupServer       *soup;
  GMainContext     *context;
  GThreadPool      *pool;
  guint             port;

  OddCounter       *requests_total;
  OddCounter       *responses_total;
  OddHistogram     *duration;

  char             *cors_methods;  /* Access-Control-Allow-Methods, made once from the routes */
  gboolean          cors_writes;   /* a route takes more than GET */
  GHashTable       *connections;   /* GSocket → Connection, see "Connection hygiene" */
  guint             sweep_id;
};

#define LISTEN_BACKLOG 1024
/* A request must be read in full within this time of its start, and a kept-alive connection
 * may stay idle this long between requests (see "Connection hygiene" below). */
#define REQUEST_READ_TIMEOUT_S 30

G_DEFINE_FINAL_TYPE (OddHttpServer, odd_http_server, G_TYPE_OBJECT)

enum {
  SIGNAL_REFUSED,
  SIGNAL_REQUEST_HEADERS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* What the server keeps of one request: one qdata entry under a quark looked up once (a
 * string key takes GLib's global quark lock on every get and set). */
typedef struct {
  gint64      start;            /* monotonic µs when its headers were in; 0 = unknown */
  Route      *route;            /* its pattern is the metrics label; NULL = unmatched */
  gboolean    routed;           /* route is set: the early handler ran */
  gsize       received;         /* bytes of a chunked body so far */
  char        correlation_id[36 + 1];   /* a UUID's text, "" until asked */
} RequestState;

static GQuark
request_state_quark (void)
{
  static GQuark quark;

  /* A race only stores the same value twice. */
  if (G_UNLIKELY (quark == 0))
    quark = g_quark_from_static_string ("odd-http-request");
  return quark;
}

static RequestState *
request_state (SoupServerMessage *msg)
{
  RequestState *state = g_object_get_qdata (G_OBJECT (msg), request_state_quark ());

  if (state == NULL)
    {
      state = g_new0 (RequestState, 1);
      g_object_set_qdata_full (G_OBJECT (msg), request_state_quark (), state, g_free);
    }
  return state;
}

static void
route_free (gpointer data)
{
  Route *route = data;

  g_free (route->path);
  g_strfreev (route->methods);
  g_free (route);
}

/* Replies */

void
odd_http_reply_text (SoupServerMessage *msg,
                     guint              status,
                     const char        *content_type,
                     const char        *body)
{
  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));

  soup_server_message_set_status (msg, status, NULL);
  if (body != NULL)
    soup_server_message_set_response (msg, content_type != NULL ? content_type : "text/plain; charset=utf-8",
                                      SOUP_MEMORY_COPY, body, strlen (body));
  else
    soup_server_message_set_response (msg, NULL, SOUP_MEMORY_STATIC, NULL, 0);
}

void
odd_http_reply_json (SoupServerMessage *msg,
                     guint              status,
                     JsonNode          *body)
{
  g_autoptr(JsonNode) null_node = NULL;
  char *text;

  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));

  if (body == NULL)
    body = null_node = json_node_new (JSON_NODE_NULL);
  /* odd_json_to_string(): raw nodes (exact payloads) keep their text, and no "1e+20.0" */
  text = odd_json_to_string (body);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, strlen (text));
}

static JsonNode *
error_node (const char *error,
            JsonNode   *details)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, error != NULL ? error : "Internal error");
  if (details != NULL)
    {
      json_builder_set_member_name (builder, "details");
      json_builder_add_value (builder, json_node_copy (details));
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

void
odd_http_reply_error (SoupServerMessage *msg,
                      guint              status,
                      const char        *error,
                      JsonNode          *details)
{
  g_autoptr(JsonNode) node = error_node (error, details);

  odd_http_reply_json (msg, status, node);
}

/* Correlation ids */

const char *
odd_http_correlation_id (SoupServerMessage *msg)
{
  RequestState *state;
  const char *header;

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), NULL);

  state = request_state (msg);
  if (state->correlation_id[0] != '\0')
    return state->correlation_id;

  /* Only a UUID is passed on: the id ends up in envelopes whose schema requires one. */
  header = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                         "X-Correlation-Id");
  if (header != NULL && odd_uuid_is_valid (header))
    g_strlcpy (state->correlation_id, header, sizeof state->correlation_id);
  else
    {
      g_autofree char *fresh = odd_uuid_new ();

      g_strlcpy (state->correlation_id, fresh, sizeof state->correlation_id);
    }
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "X-Correlation-Id", state->correlation_id);
  return state->correlation_id;
}

/* Built-in routes */

static JsonNode *
status_node (const char *status,
             const char *reason)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, status);
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, ODD_VERSION);
  if (reason != NULL)
    {
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, reason);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static void
handle_healthz (OddHttpServer     *self,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  g_autoptr(JsonNode) body = status_node ("ok", NULL);

  odd_http_reply_json (msg, SOUP_STATUS_OK, body);
}

static void
handle_readyz (OddHttpServer     *self,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  g_autofree char *reason = self->draining ? g_strdup ("draining")
                           : self->ready != NULL ? self->ready (self->ready_data) : NULL;
  g_autoptr(JsonNode) body = status_node (reason == NULL ? "ok" : "not_ready", reason);

  odd_http_reply_json (msg, reason == NULL ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE, body);
}

static void
handle_metrics (OddHttpServer     *self,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  char *text = odd_metrics_render (self->metrics);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4; charset=utf-8",
                                    SOUP_MEMORY_TAKE, text, strlen (text));
}

/* Routing */

static Route *
find_route (OddHttpServer *self,
            const char    *path)
{
  Route *best = NULL;

  for (guint i = 0; i < self->routes->len; i++)
    {
      Route *route = g_ptr_array_index (self->routes, i);

      if (!route->prefix)
        {
          if (strcmp (route->path, path) == 0)
            return route;
        }
      else if (g_str_has_prefix (path, route->path)
               && (best == NULL || strlen (route->path) > strlen (best->path)))
        best = route;
    }

  if (best == NULL)
    {
      /* "/jobs/" also answers "/jobs" unless that is a route of its own. */
      for (guint i = 0; i < self->routes->len; i++)
        {
          Route *route = g_ptr_array_index (self->routes, i);
          gsize len = strlen (route->path);

          if (route->prefix && len > 1 && strncmp (route->path, path, len - 1) == 0
              && path[len - 1] == '\0')
            return route;
        }
    }
  return best;
}

static gboolean
route_allows (Route      *route,
              const char *method)
{
  for (guint i = 0; route->methods[i] != NULL; i++)
    {
      if (strcmp (route->methods[i], method) == 0)
        return TRUE;
      /* HEAD is GET without a body; libsoup drops the body itself. */
      if (strcmp (method, "HEAD") == 0 && strcmp (route->methods[i], "GET") == 0)
        return TRUE;
    }
  return FALSE;
}

static void
set_cors_headers (OddHttpServer     *self,
                  SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  /* Advertise what the routes really take: a read-only service says "GET, OPTIONS" and
   * "Content-Type", exactly as the reference read model did, so its clients see no change.
   * Made once; adding a route clears it. */
  if (self->cors_methods == NULL)
    {
      static const char *const known[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };
      GString *methods = g_string_new (NULL);

      self->cors_writes = FALSE;
      for (guint k = 0; k < G_N_ELEMENTS (known); k++)
        {
          gboolean used = FALSE;

          for (guint i = 0; i < self->routes->len && !used; i++)
            {
              Route *route = g_ptr_array_index (self->routes, i);

              used = g_strv_contains ((const char *const *) route->methods, known[k]);
            }
          if (!used)
            continue;
          g_string_append_printf (methods, "%s, ", known[k]);
          self->cors_writes |= strcmp (known[k], "GET") != 0;
        }
      g_string_append (methods, "OPTIONS");
      self->cors_methods = g_string_free (methods, FALSE);
    }

  soup_message_headers_replace (headers, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace (headers, "Access-Control-Allow-Methods", self->cors_methods);
  soup_message_headers_replace (headers, "Access-Control-Allow-Headers",
                                self->cors_writes ? "Content-Type, X-Correlation-Id, Authorization"
                                                  : "Content-Type");
  soup_message_headers_replace (headers, "Access-Control-Expose-Headers", "X-Correlation-Id");
  soup_message_headers_replace (headers, "Access-Control-Max-Age", "600");
}

static void request_done      (OddHttpServer     *self,
                               SoupServerMessage *msg,
                               gboolean           aborted);
static void forget_connection (OddHttpServer     *self,
                               GSocket           *socket);

static void
reply_too_large (OddHttpServer     *self,
                 SoupServerMessage *msg)
{
  g_autofree char *error = g_strdup_printf ("Request body is larger than %" G_GSIZE_FORMAT " bytes",
                                            self->max_body);

  odd_http_reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, error, NULL);
}

static void
reply_not_found (SoupServerMessage *msg,
                 const char        *path)
{
  g_autofree char *error = g_strdup_printf ("Not found: %s", path);

  odd_http_reply_error (msg, SOUP_STATUS_NOT_FOUND, error, NULL);
}

static void
reply_not_allowed (OddHttpServer     *self,
                   SoupServerMessage *msg,
                   Route             *route,
                   const char        *path)
{
  g_autofree char *error = g_strdup_printf ("Method not allowed: %s %s",
                                            soup_server_message_get_method (msg), path);
  g_autoptr(GString) allow = g_string_new (NULL);

  for (guint i = 0; route->methods[i] != NULL; i++)
    {
      if (allow->len > 0)
        g_string_append (allow, ", ");
      g_string_append (allow, route->methods[i]);
      if (strcmp (route->methods[i], "GET") == 0)
        g_string_append (allow, ", HEAD");
    }
  if (self->cors)
    g_string_append (allow, allow->len > 0 ? ", OPTIONS" : "OPTIONS");
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allow->str);
  odd_http_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, error, NULL);
}

/* Answering before the body is read
 *
 * libsoup reads a request's whole body before it writes any answer, even one an early handler
 * set. A refusal that does not depend on the body (too large, no such route, a method or a
 * path that takes no body) is therefore written here, on the connection taken from libsoup,
 * which is then closed: the body is never read, whatever its size. After the answer the
 * input is drained for a moment (at most LINGER_BYTES, LINGER_MS): closing a socket with
 * unread input resets the connection, and the client could lose the answer. */

#define LINGER_BYTES (4 * 1024 * 1024)
#define LINGER_MS    2000

typedef struct {
  GIOStream    *stream;
  GBytes       *answer;
  GCancellable *cancellable;
  guint         timeout_id;
  gsize         drained;
  guint8        buffer[16 * 1024];
} Unread;

static void
unread_close (Unread *unread)
{
  g_clear_handle_id (&unread->timeout_id, g_source_remove);
  g_io_stream_close (unread->stream, NULL, NULL);
  g_object_unref (unread->stream);
  g_object_unref (unread->cancellable);
  g_bytes_unref (unread->answer);
  g_free (unread);
}

static gboolean
on_linger_timeout (gpointer user_data)
{
  Unread *unread = user_data;

  unread->timeout_id = 0;
  g_cancellable_cancel (unread->cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_drained (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Unread *unread = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0 || (unread->drained += (gsize) n) >= LINGER_BYTES)
    {
      unread_close (unread);
      return;
    }
  g_input_stream_read_async (g_io_stream_get_input_stream (unread->stream), unread->buffer,
                             sizeof unread->buffer, G_PRIORITY_LOW, unread->cancellable,
                             on_drained, unread);
}

static void
on_answer_written (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Unread *unread = user_data;
  GSocket *socket = g_object_get_data (G_OBJECT (unread->stream), "GSocket");

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL))
    {
      unread_close (unread);
      return;
    }
  /* FIN after the answer; the client sees its end while we drain what it still sends. */
  if (socket != NULL)
    g_socket_shutdown (socket, FALSE, TRUE, NULL);
  unread->timeout_id = g_timeout_add (LINGER_MS, on_linger_timeout, unread);
  g_input_stream_read_async (g_io_stream_get_input_stream (unread->stream), unread->buffer,
                             sizeof unread->buffer, G_PRIORITY_LOW, unread->cancellable,
                             on_drained, unread);
}

static GBytes *
serialize_answer (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  guint status = soup_server_message_get_status (msg);
  g_autoptr(GBytes) content = soup_message_body_flatten (body);
  g_autofree char *length = g_strdup_printf ("%" G_GSIZE_FORMAT, g_bytes_get_size (content));
  GString *text = g_string_new (NULL);
  SoupMessageHeadersIter iter;
  const char *name, *value;

  soup_message_headers_replace (headers, "Connection", "close");
  soup_message_headers_replace (headers, "Content-Length", length);
  g_string_append_printf (text, "HTTP/1.1 %u %s\r\n", status, soup_status_get_phrase (status));
  soup_message_headers_iter_init (&iter, headers);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    g_string_append_printf (text, "%s: %s\r\n", name, value);
  g_string_append (text, "\r\n");
  g_string_append_len (text, g_bytes_get_data (content, NULL), (gssize) g_bytes_get_size (content));

  return g_string_free_to_bytes (text);
}

/* Sends the answer set on @msg without reading its body, then closes the connection. */
static void
answer_unread (OddHttpServer     *self,
               SoupServerMessage *msg)
{
  g_autoptr(SoupServerMessage) keep = g_object_ref (msg);
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  Unread *unread;
  GIOStream *stream;

  g_signal_emit (self, signals[SIGNAL_REFUSED], 0, msg);

  /* "Expect: 100-continue": libsoup answers without reading, and the client sends no body. */
  if (soup_message_headers_get_expectations (request_headers) & SOUP_EXPECTATION_CONTINUE)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
      return;
    }

  unread = g_new0 (Unread, 1);
  unread->answer = serialize_answer (msg);
  unread->cancellable = g_cancellable_new ();
  /* The Unread below owns the connection from now on, and closes it. */
  forget_connection (self, soup_server_message_get_socket (msg));
  request_done (self, msg, FALSE);

  /* libsoup emits no request-finished for a stolen connection: counted just above. */
  stream = soup_server_message_steal_connection (msg);
  if (stream == NULL)
    {
      g_object_unref (unread->cancellable);
      g_bytes_unref (unread->answer);
      g_free (unread);
      return;
    }
  unread->stream = stream;
  g_output_stream_write_all_async (g_io_stream_get_output_stream (stream),
                                   g_bytes_get_data (unread->answer, NULL),
                                   g_bytes_get_size (unread->answer),
                                   G_PRIORITY_DEFAULT, NULL, on_answer_written, unread);
}

static void
on_got_chunk (SoupServerMessage *msg,
              GBytes            *chunk,
              gpointer           user_data)
{
  OddHttpServer *self = user_data;
  RequestState *state = request_state (msg);

  state->received += g_bytes_get_size (chunk);
  /* A chunked body has no length up front: refused the moment it is too big. */
  if (state->received > self->max_body)
    {
      g_signal_handlers_disconnect_by_func (msg, on_got_chunk, self);
      reply_too_large (self, msg);
      answer_unread (self, msg);
    }
}

/* A body framed two ways (RFC 9112 section 6.3) is how requests are smuggled past a proxy
 * that reads the framing the other way; libsoup picks one silently (chunked, or the last of
 * two lengths), so such a request is refused. libsoup joins repeated headers with ", ". */
static gboolean
has_ambiguous_framing (SoupMessageHeaders *headers)
{
  const char *length = soup_message_headers_get_list (headers, "Content-Length");

  if (length == NULL)
    return FALSE;

  return strchr (length, ',') != NULL ||
         soup_message_headers_get_list (headers, "Transfer-Encoding") != NULL;
}

/* GET, HEAD, OPTIONS and DELETE carry no body here. */
static gboolean
route_takes_body (Route *route)
{
  static const char *const with_body[] = { "POST", "PUT", "PATCH", NULL };

  for (guint i = 0; route->methods[i] != NULL; i++)
    if (g_strv_contains (with_body, route->methods[i]))
      return TRUE;
  return FALSE;
}

/* Sets the answer to a request that is refused whatever its body; FALSE when it may go on. */
static gboolean
refuse_from_headers (OddHttpServer     *self,
                     SoupServerMessage *msg,
                     Route             *route,
                     const char        *path,
                     gboolean           has_body)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *method = soup_server_message_get_method (msg);

  if (has_ambiguous_framing (headers))
    {
      odd_http_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                            "Ambiguous request framing (Content-Length with Transfer-Encoding, or twice)",
                            NULL);
      /* Whatever follows on this connection may be a smuggled request: read none of it. */
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
      return TRUE;
    }
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (headers) > (goffset) self->max_body)
    {
      reply_too_large (self, msg);
      return TRUE;
    }
  /* Without a body these are answered after the (empty) read, as usual. */
  if (!has_body)
    return FALSE;
  if (route == NULL)
    {
      reply_not_found (msg, path);
      return TRUE;
    }
  if (self->cors && strcmp (method, "OPTIONS") == 0)
    {
      odd_http_reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "A preflight request takes no body", NULL);
      return TRUE;
    }
  if (!route_allows (route, method))
    {
      reply_not_allowed (self, msg, route, path);
      return TRUE;
    }
  if (!route_takes_body (route))
    {
      g_autofree char *error = g_strdup_printf ("%s %s takes no request body", method, path);

      odd_http_reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, error, NULL);
      return TRUE;
    }

  return FALSE;
}

/* Runs once the headers are in, before libsoup reads the body. */
static void
early_callback (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  OddHttpServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);
  gboolean has_body = encoding == SOUP_ENCODING_CHUNKED ||
                      (encoding == SOUP_ENCODING_CONTENT_LENGTH && soup_message_headers_get_content_length (headers) > 0);
  Route *route = find_route (self, path);
  RequestState *state = request_state (msg);

  state->start = g_get_monotonic_time ();
  /* The route's pattern is the metrics label: raw paths carry ids and would be unbounded. */
  state->route = route;
  state->routed = TRUE;
  odd_http_correlation_id (msg);
  if (self->cors)
    set_cors_headers (self, msg);
  g_signal_emit (self, signals[SIGNAL_REQUEST_HEADERS], 0, msg);

  if (refuse_from_headers (self, msg, route, path, has_body))
    {
      if (has_body)
        answer_unread (self, msg);
      return;
    }

  if (encoding == SOUP_ENCODING_CHUNKED)
    g_signal_connect_object (msg, "got-chunk", G_CALLBACK (on_got_chunk), self, 0);
}

static void
server_callback (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  OddHttpServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  RequestState *state = request_state (msg);
  Route *route;

  /* The early handler has done this from the headers (it always runs first, but be safe). */
  if (!state->routed)
    {
      state->start = g_get_monotonic_time ();
      odd_http_correlation_id (msg);
      if (self->cors)
        set_cors_headers (self, msg);
      state->route = find_route (self, path);
      state->routed = TRUE;
    }
  route = state->route;

  if (self->cors && strcmp (method, "OPTIONS") == 0)
    {
      odd_http_reply_text (msg, SOUP_STATUS_OK, NULL, NULL);
      return;
    }

  if (route == NULL)
    {
      reply_not_found (msg, path);
      return;
    }

  if (!route_allows (route, method))
    {
      reply_not_allowed (self, msg, route, path);
      return;
    }

  route->handler (self, msg, path, query, route->user_data);
}

static void
request_done (OddHttpServer     *self,
              SoupServerMessage *msg,
              gboolean           aborted)
{
  RequestState *state = g_object_get_qdata (G_OBJECT (msg), request_state_quark ());
  /* Requests libsoup refused before our handler (a malformed request line) have no route. */
  const char *route = state != NULL && state->route != NULL ? state->route->path : "unmatched";
  gint64 start = state != NULL ? state->start : 0;
  char code[16];

  if (aborted)
    g_strlcpy (code, "aborted", sizeof code);
  else
    g_snprintf (code, sizeof code, "%u", soup_server_message_get_status (msg));

  odd_counter_inc (self->requests_total, route);
  odd_counter_inc (self->responses_total, code);
  if (start != 0)
    odd_histogram_observe_labelled (self->duration, route,
                                    (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC);
}

static void
on_request_finished (SoupServer        *server,
                     SoupServerMessage *msg,
                     gpointer           user_data)
{
  request_done (user_data, msg, FALSE);
}

static void
on_request_aborted (SoupServer        *server,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  request_done (user_data, msg, TRUE);
}

/* Deferred work */

typedef struct {
  OddHttpServer     *server;
  SoupServerMessage *msg;
  OddHttpWorkFunc    func;
  gpointer           data;
  GDestroyNotify     destroy;
  OddHttpResult      result;
  gulong             disconnected_id;
  gboolean           disconnected;
} DeferJob;

static void
defer_job_free (DeferJob *job)
{
  if (job->disconnected_id != 0)
    g_signal_handler_disconnect (job->msg, job->disconnected_id);
  if (job->destroy != NULL)
    job->destroy (job->data);
  g_clear_pointer (&job->result.body, json_node_unref);
  g_clear_pointer (&job->result.details, json_node_unref);
  g_free (job->result.error);
  g_free (job->result.retry_after);
  g_object_unref (job->msg);
  g_object_unref (job->server);
  g_free (job);
}

static void
on_deferred_disconnected (SoupServerMessage *msg,
                          gpointer           user_data)
{
  DeferJob *job = user_data;

  job->disconnected = TRUE;
  g_debug ("Client went away during deferred work on %s",
           g_uri_get_path (soup_server_message_get_uri (msg)));
}

static gboolean
defer_finish (gpointer user_data)
{
  DeferJob *job = user_data;
  OddHttpResult *result = &job->result;

  /* The client may have gone while the worker ran; unpausing then would touch freed I/O. */
  if (!job->disconnected)
    {
      if (result->retry_after != NULL)
        soup_message_headers_replace (soup_server_message_get_response_headers (job->msg),
                                      "Retry-After", result->retry_after);
      if (result->error != NULL)
        odd_http_reply_error (job->msg, result->status != 0 ? result->status : SOUP_STATUS_INTERNAL_SERVER_ERROR,
                              result->error, result->details);
      else if (result->body != NULL)
        odd_http_reply_json (job->msg, result->status != 0 ? result->status : SOUP_STATUS_OK, result->body);
      else if (result->status != 0)
        odd_http_reply_text (job->msg, result->status, NULL, NULL);
      else
        odd_http_reply_error (job->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "No result", NULL);
      soup_server_message_unpause (job->msg);
    }

  defer_job_free (job);
  return G_SOURCE_REMOVE;
}

static void
defer_worker (gpointer data,
              gpointer user_data)
{
  DeferJob *job = data;

  job->func (job->data, &job->result);
  g_main_context_invoke (job->server->context, defer_finish, job);
}

void
odd_http_server_defer (OddHttpServer     *self,
                       SoupServerMessage *msg,
                       OddHttpWorkFunc    func,
                       gpointer           data,
                       GDestroyNotify     destroy)
{
  DeferJob *job;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (ODD_IS_HTTP_SERVER (self));
  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));
  g_return_if_fail (func != NULL);

  job = g_new0 (DeferJob, 1);
  job->server = g_object_ref (self);
  job->msg = g_object_ref (msg);
  job->func = func;
  job->data = data;
  job->destroy = destroy;
  job->disconnected_id = g_signal_connect (msg, "disconnected",
                                           G_CALLBACK (on_deferred_disconnected), job);

  soup_server_message_pause (msg);
  if (!g_thread_pool_push (self->pool, job, &error))
    {
      /* No thread could be made: answer now rather than leave the client hanging. */
      odd_http_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, error->message, NULL);
      soup_server_message_unpause (msg);
      defer_job_free (job);
    }
}

/* Request bodies */

/* [{"path": @path, "message": @message}]: the details of an error with one cause. */
JsonNode *
odd_http_details_new (const char *path,
                      const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "path");
  json_builder_add_string_value (builder, path);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  json_builder_end_array (builder);

  return json_builder_get_root (builder);
}

GBytes *
odd_http_read_body (SoupServerMessage *msg,
                    gsize              max_bytes)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  const char *content_type = soup_message_headers_get_content_type (headers, NULL);
  g_autoptr(GBytes) bytes = NULL;
  const char *data;
  gsize len;

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), NULL);

  if (content_type == NULL || g_ascii_strcasecmp (content_type, "application/json") != 0)
    {
      odd_http_reply_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                            "Content-Type must be application/json", NULL);
      return NULL;
    }

  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
      && soup_message_headers_get_content_length (headers) > (goffset) max_bytes)
    {
      g_autofree char *error_text = g_strdup_printf ("Request body is larger than %" G_GSIZE_FORMAT " bytes",
                                                     max_bytes);

      odd_http_reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, error_text, NULL);
      return NULL;
    }

  bytes = soup_message_body_flatten (body);
  /* The caller holds the text now; the message need not keep a second copy until it ends. */
  soup_message_body_truncate (body);
  data = g_bytes_get_data (bytes, &len);
  /* Chunked bodies have no Content-Length: check what actually arrived too. */
  if (len > max_bytes)
    {
      g_autofree char *error_text = g_strdup_printf ("Request body is larger than %" G_GSIZE_FORMAT " bytes",
                                                     max_bytes);

      odd_http_reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, error_text, NULL);
      return NULL;
    }
  if (len == 0)
    {
      odd_http_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "Request body is empty", NULL);
      return NULL;
    }
  /* JSON text must be UTF-8 (RFC 8259); say so plainly rather than as a parse error. */
  if (!g_utf8_validate (data, len, NULL) || memchr (data, '\0', len) != NULL)
    {
      odd_http_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "Request body is not valid UTF-8 text", NULL);
      return NULL;
    }

  return g_steal_pointer (&bytes);
}

void
odd_http_reply_malformed (SoupServerMessage *msg,
                          const char        *problem)
{
  g_autoptr(JsonNode) details = NULL;

  if (g_str_has_prefix (problem, "not valid JSON: "))
    problem += strlen ("not valid JSON: ");
  details = odd_http_details_new ("", problem);
  odd_http_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "Malformed JSON", details);
}

JsonNode *
odd_http_read_json_body (SoupServerMessage *msg,
                         gsize              max_bytes)
{
  g_autoptr(GBytes) bytes = odd_http_read_body (msg, max_bytes);
  g_autoptr(GError) error = NULL;
  JsonNode *root;
  const char *data;
  gsize len;

  if (bytes == NULL)
    return NULL;

  data = g_bytes_get_data (bytes, &len);
  /* odd_json_parse() also refuses what json-glib would wrongly accept (comments, 1e999...). */
  root = odd_json_parse (data, len, &error);
  if (root == NULL)
    {
      odd_http_reply_malformed (msg, error->message);
      return NULL;
    }

  return root;
}

/* Connection hygiene: read deadlines and idle connections
 *
 * libsoup 3.2.3 has no server-side timeouts, and when a client closes a kept-alive connection
 * between two requests it drops the connection without closing its socket (fixed upstream in
 * 3.3): the descriptor stays in CLOSE_WAIT for the life of the process, and after `ulimit -n`
 * such connections (20,000 curl calls) the service stops accepting. So every connection is
 * tracked (self->connections) with what it is doing since when, and one sweep a second:
 * - closes a connection whose request is not read REQUEST_READ_TIMEOUT_S after it started;
 * - closes a connection idle between two requests for REQUEST_READ_TIMEOUT_S;
 * - watches the socket of a connection idle for IDLE_WATCH_AFTER_S, so that the client's
 *   hang-up (EOF) closes it at once.
 * A busy keep-alive connection thus costs no source at all per request (per-request timeout
 * and socket sources each cost an allocation and a wakeup of the main loop; with them this
 * was a third of the gateway's main-thread time per job). Closing a GSocket twice is
 * harmless, and a closed GSocket is never read again, so this is safe whether or not libsoup
 * would have closed it itself. */

#define SWEEP_INTERVAL_S   1
#define IDLE_WATCH_AFTER_S 1

typedef enum {
  CONNECTION_READING,    /* a request has started and is not read yet */
  CONNECTION_HANDLING,   /* read, not answered yet: no deadline of ours */
  CONNECTION_IDLE,       /* answered, the next request has not started */
} ConnectionState;

typedef struct {
  GSocket         *socket;   /* a reference */
  ConnectionState  state;
  gint64           since;    /* monotonic µs */
  GSource         *watch;    /* readable watch while idle, or NULL */
} Connection;

static void
connection_unwatch (Connection *conn)
{
  if (conn->watch != NULL)
    {
      g_source_destroy (conn->watch);
      g_clear_pointer (&conn->watch, g_source_unref);
    }
}

static void
connection_free (gpointer data)
{
  Connection *conn = data;

  connection_unwatch (conn);
  g_object_unref (conn->socket);
  g_free (conn);
}

static void
close_socket (GSocket    *socket,
              const char *why)
{
  if (g_socket_is_closed (socket))
    return;
  g_debug ("Closing a connection: %s", why);
  g_socket_shutdown (socket, TRUE, TRUE, NULL);
  g_socket_close (socket, NULL);
}

static void
forget_connection (OddHttpServer *self,
                   GSocket       *socket)
{
  if (socket != NULL)
    g_hash_table_remove (self->connections, socket);
}

/* Readable between two requests: the next request, or EOF. */
static gboolean
on_idle_socket (GSocket      *socket,
                GIOCondition  condition,
                gpointer      user_data)
{
  OddHttpServer *self = user_data;
  Connection *conn = g_hash_table_lookup (self->connections, socket);
  char byte;
  gssize n = -1;

  if (!g_socket_is_closed (socket))
    {
      /* Peek: the next request's bytes stay for libsoup. */
      n = recv (g_socket_get_fd (socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return G_SOURCE_CONTINUE;
    }

  if (n <= 0)
    {
      close_socket (socket, "closed by the client");
      /* Frees the watch: this source is destroyed, not dispatched again. */
      forget_connection (self, socket);
    }
  else if (conn != NULL)
    {
      /* A request is coming: libsoup reads it, request-started follows. */
      g_clear_pointer (&conn->watch, g_source_unref);
    }
  return G_SOURCE_REMOVE;
}

static gboolean
on_sweep (gpointer user_data)
{
  OddHttpServer *self = user_data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  Connection *conn;

  g_hash_table_iter_init (&iter, self->connections);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conn))
    {
      gint64 age = now - conn->since;

      if (g_socket_is_closed (conn->socket))
        {
          g_hash_table_iter_remove (&iter);
          continue;
        }
      switch (conn->state)
        {
        case CONNECTION_READING:
          if (age >= REQUEST_READ_TIMEOUT_S * G_USEC_PER_SEC)
            {
              close_socket (conn->socket, "the request was not read in time");
              g_hash_table_iter_remove (&iter);
            }
          break;

        case CONNECTION_IDLE:
          if (age >= REQUEST_READ_TIMEOUT_S * G_USEC_PER_SEC)
            {
              close_socket (conn->socket, "idle");
              g_hash_table_iter_remove (&iter);
            }
          else if (age >= IDLE_WATCH_AFTER_S * G_USEC_PER_SEC && conn->watch == NULL)
            {
              conn->watch = g_socket_create_source (conn->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
              g_source_set_callback (conn->watch, G_SOURCE_FUNC (on_idle_socket), self, NULL);
              g_source_attach (conn->watch, self->context);
            }
          break;

        case CONNECTION_HANDLING:
          break;
        }
    }

  if (g_hash_table_size (self->connections) > 0)
    return G_SOURCE_CONTINUE;
  self->sweep_id = 0;
  return G_SOURCE_REMOVE;
}

static void
track_connection (OddHttpServer     *self,
                  SoupServerMessage *msg,
                  ConnectionState    state)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  Connection *conn;

  if (socket == NULL)
    return;

  conn = g_hash_table_lookup (self->connections, socket);
  if (conn == NULL)
    {
      if (g_socket_is_closed (socket))
        return;
      conn = g_new0 (Connection, 1);
      conn->socket = g_object_ref (socket);
      g_hash_table_insert (self->connections, socket, conn);
    }
  connection_unwatch (conn);
  conn->state = state;
  conn->since = g_get_monotonic_time ();

  if (self->sweep_id == 0)
    {
      /* Runs only while there are connections: an unused service does not wake up. */
      self->sweep_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, SWEEP_INTERVAL_S,
                                                   on_sweep, self, NULL);
    }
}

static void
on_request_started (SoupServer        *server,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  /* A request is being read: the idle watch gives way to the read deadline. */
  track_connection (user_data, msg, CONNECTION_READING);
}

static void
on_request_read (SoupServer        *server,
                 SoupServerMessage *msg,
                 gpointer           user_data)
{
  track_connection (user_data, msg, CONNECTION_HANDLING);
}

static void
on_response_done (SoupServer        *server,
                  SoupServerMessage *msg,
                  gpointer           user_data)
{
  OddHttpServer *self = user_data;
  GSocket *socket = soup_server_message_get_socket (msg);

  if (socket == NULL || g_socket_is_closed (socket))
    forget_connection (self, socket);
  else
    track_connection (self, msg, CONNECTION_IDLE);
}

static void
on_response_aborted (SoupServer        *server,
                     SoupServerMessage *msg,
                     gpointer           user_data)
{
  GSocket *socket = soup_server_message_get_socket (msg);

  /* The connection is gone; libsoup may not close its socket. */
  if (socket != NULL)
    close_socket (socket, "aborted");
  forget_connection (user_data, socket);
}

/* The object */

static void
odd_http_server_dispose (GObject *object)
{
  OddHttpServer *self = ODD_HTTP_SERVER (object);

  if (self->soup != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->soup, self);
      soup_server_disconnect (self->soup);
      g_clear_object (&self->soup);
    }
  /* Deferred jobs hold a reference, so by now no job is queued or running. */
  if (self->pool != NULL)
    {
      g_thread_pool_free (self->pool, FALSE, TRUE);
      self->pool = NULL;
    }
  g_clear_handle_id (&self->sweep_id, g_source_remove);
  g_clear_pointer (&self->connections, g_hash_table_unref);

  G_OBJECT_CLASS (odd_http_server_parent_class)->dispose (object);
}

static void
odd_http_server_finalize (GObject *object)
{
  OddHttpServer *self = ODD_HTTP_SERVER (object);

  g_ptr_array_unref (self->routes);
  g_free (self->cors_methods);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->owned_metrics, odd_metrics_free);
  g_free (self->service);

  G_OBJECT_CLASS (odd_http_server_parent_class)->finalize (object);
}

static void
odd_http_server_class_init (OddHttpServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = odd_http_server_dispose;
  object_class->finalize = odd_http_server_finalize;

  /**
   * OddHttpServer::refused:
   * @msg: the request, its answer set
   *
   * A request was answered from its headers, before its body was read (too large, or a path
   * or method that takes no body). No handler sees it.
   */
  signals[SIGNAL_REFUSED] = g_signal_new ("refused", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                          SOUP_TYPE_SERVER_MESSAGE);

  /**
   * OddHttpServer::request-headers:
   * @msg: the request, its headers read, its body not yet
   *
   * Emitted once per request, before any answer or refusal: one handler on the server
   * instead of a handler on every message's "got-headers".
   */
  signals[SIGNAL_REQUEST_HEADERS] = g_signal_new ("request-headers", G_TYPE_FROM_CLASS (klass),
                                                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                  G_TYPE_NONE, 1, SOUP_TYPE_SERVER_MESSAGE);
}

static void
odd_http_server_init (OddHttpServer *self)
{
  self->routes = g_ptr_array_new_with_free_func (route_free);
  self->connections = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, connection_free);
  self->max_body = DEFAULT_MAX_BODY;
  self->context = g_main_context_ref_thread_default ();
}

OddHttpServer *
odd_http_server_new (const char       *service,
                     OddMetrics       *metrics,
                     OddHttpReadyFunc  ready,
                     gpointer          ready_data)
{
  OddHttpServer *self;
  g_autofree char *server_header = NULL;
  static const char *const get[] = { "GET", NULL };

  g_return_val_if_fail (service != NULL, NULL);

  self = g_object_new (ODD_TYPE_HTTP_SERVER, NULL);
  self->service = g_strdup (service);
  if (metrics == NULL)
    metrics = self->owned_metrics = odd_metrics_new (service);
  self->metrics = metrics;
  self->ready = ready;
  self->ready_data = ready_data;

  self->requests_total = odd_metrics_counter (metrics, "http_requests_total",
                                              "HTTP requests by route pattern", "route");
  self->responses_total = odd_metrics_counter (metrics, "http_responses_total",
                                               "HTTP responses by status code", "code");
  self->duration = odd_metrics_histogram_labelled (metrics, "http_request_duration_seconds",
                                                   "HTTP request duration by route pattern", "route",
                                                   odd_metrics_latency_buckets,
                                                   odd_metrics_n_latency_buckets);

  server_header = g_strdup_printf ("odd-%s/%s", service, ODD_VERSION);
  self->soup = soup_server_new ("server-header", server_header, NULL);
  soup_server_add_early_handler (self->soup, "/", early_callback, self, NULL);
  soup_server_add_handler (self->soup, "/", server_callback, self, NULL);
  g_signal_connect (self->soup, "request-finished", G_CALLBACK (on_request_finished), self);
  g_signal_connect (self->soup, "request-aborted", G_CALLBACK (on_request_aborted), self);
  g_signal_connect (self->soup, "request-started", G_CALLBACK (on_request_started), self);
  g_signal_connect (self->soup, "request-read", G_CALLBACK (on_request_read), self);
  /* An answer before the body was read (413) never emits request-read. */
  g_signal_connect (self->soup, "request-finished", G_CALLBACK (on_response_done), self);
  g_signal_connect (self->soup, "request-aborted", G_CALLBACK (on_response_aborted), self);

  /* Not exclusive: threads are made on demand, up to the cap, and shared with nothing else. */
  self->pool = g_thread_pool_new (defer_worker, self, DEFER_MAX_THREADS, FALSE, NULL);

  odd_http_server_add_route (self, "/healthz", get, handle_healthz, NULL);
  odd_http_server_add_route (self, "/readyz", get, handle_readyz, NULL);
  odd_http_server_add_route (self, "/metrics", get, handle_metrics, NULL);

  return self;
}

void
odd_http_server_set_draining (OddHttpServer *self)
{
  g_return_if_fail (ODD_IS_HTTP_SERVER (self));
  self->draining = TRUE;
}

gboolean
odd_http_server_is_draining (OddHttpServer *self)
{
  g_return_val_if_fail (ODD_IS_HTTP_SERVER (self), FALSE);
  return self->draining;
}

void
odd_http_server_set_cors (OddHttpServer *self,
                          gboolean       cors)
{
  g_return_if_fail (ODD_IS_HTTP_SERVER (self));

  self->cors = !!cors;
}

void
odd_http_server_set_max_body (OddHttpServer *self,
                              gsize          max_bytes)
{
  g_return_if_fail (ODD_IS_HTTP_SERVER (self));

  self->max_body = MAX (max_bytes, 1);
}

void
odd_http_server_add_route (OddHttpServer     *self,
                           const char        *path,
                           const char *const *methods,
                           OddHttpHandler     handler,
                           gpointer           user_data)
{
  Route *route;

  g_return_if_fail (ODD_IS_HTTP_SERVER (self));
  g_return_if_fail (path != NULL && path[0] == '/');
  g_return_if_fail (methods != NULL && methods[0] != NULL);
  g_return_if_fail (handler != NULL);

  g_clear_pointer (&self->cors_methods, g_free);
  /* Adding a path again replaces it, so a service may answer /healthz its own way. */
  for (guint i = 0; i < self->routes->len; i++)
    {
      Route *existing = g_ptr_array_index (self->routes, i);

      if (strcmp (existing->path, path) == 0)
        {
          g_strfreev (existing->methods);
          existing->methods = g_strdupv ((char **) methods);
          existing->handler = handler;
          existing->user_data = user_data;
          return;
        }
    }

  route = g_new0 (Route, 1);
  route->path = g_strdup (path);
  route->prefix = g_str_has_suffix (path, "/") && strlen (path) > 1;
  route->methods = g_strdupv ((char **) methods);
  route->handler = handler;
  route->user_data = user_data;
  g_ptr_array_add (self->routes, route);
}

/* A listening socket with SO_REUSEPORT: several processes of the same user bind the same
 * port and the kernel spreads new connections over them (replicas of a stateless service). */
static GSocket *
listen_socket_reuse_port (GSocketAddress  *address,
                          GError         **error)
{
  g_autoptr(GSocket) socket = NULL;
  struct sockaddr_storage native;

  socket = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  if (!g_socket_set_option (socket, SOL_SOCKET, SO_REUSEADDR, 1, error) ||
      !g_socket_set_option (socket, SOL_SOCKET, SO_REUSEPORT, 1, error))
    return NULL;
  /* Not g_socket_bind(): it clears SO_REUSEPORT on a stream socket (GLib 2.74). */
  if (!g_socket_address_to_native (address, &native, sizeof native, error))
    return NULL;
  if (bind (g_socket_get_fd (socket), (struct sockaddr *) &native,
            g_socket_address_get_native_size (address)) != 0)
    {
      int saved_errno = errno;
      g_autofree char *text = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address));

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Error binding to address %s: %s", text, g_strerror (saved_errno));
      return NULL;
    }
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_listen (socket, error))
    return NULL;

  return g_steal_pointer (&socket);
}

gboolean
odd_http_server_listen (OddHttpServer  *self,
                        const char     *host,
                        guint           port,
                        GError        **error)
{
  /* $ODD_REUSE_PORT: replicas of the service share the port (see odd-service-lifecycle.c). */
  return odd_http_server_listen_full (self, host, port, odd_config_bool ("ODD_REUSE_PORT", FALSE),
                                      error);
}

gboolean
odd_http_server_listen_full (OddHttpServer  *self,
                             const char     *host,
                             guint           port,
                             gboolean        reuse_port,
                             GError        **error)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  gboolean first = FALSE;
  GSList *listeners;
  GSList *uris;

  g_return_val_if_fail (ODD_IS_HTTP_SERVER (self), FALSE);

  if (host == NULL || *host == '\0' || g_ascii_strcasecmp (host, "localhost") == 0)
    host = "127.0.0.1";
  address = g_inet_address_new_from_string (host);
  if (address == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot listen on \"%s\": not an IP address", host);
      return FALSE;
    }
  if (port > 65535)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Port %u is out of range", port);
      return FALSE;
    }
  socket_address = g_inet_socket_address_new (address, port);
  listeners = soup_server_get_listeners (self->soup);
  first = listeners == NULL;
  g_slist_free (listeners);
  if (reuse_port)
    {
      g_autoptr(GSocket) socket = listen_socket_reuse_port (socket_address, error);

      if (socket == NULL || !soup_server_listen_socket (self->soup, socket, 0, error))
        return FALSE;
    }
  else
    {
      if (!soup_server_listen (self->soup, socket_address, 0, error))
        return FALSE;

      /* GLib listens with a backlog of 10: a burst of new connections (64 clients starting
       * at once) overflows it and the kernel drops their SYNs, which costs those clients a
       * 1 s retransmit. Linux takes a second listen() on a listening socket as a new
       * backlog; not g_socket_set_listen_backlog(), which GSocket refuses once listening. */
      listeners = soup_server_get_listeners (self->soup);
      for (GSList *l = listeners; l != NULL; l = l->next)
        if (listen (g_socket_get_fd (l->data), LISTEN_BACKLOG) < 0)
          g_debug ("Cannot raise the listen backlog: %s", g_strerror (errno));
      g_slist_free (listeners);
    }

  /* The port of the first listener is the service's (a replica's private one comes after). */
  if (first)
    {
      uris = soup_server_get_uris (self->soup);
      for (GSList *l = uris; l != NULL; l = l->next)
        if (g_uri_get_port (l->data) > 0)
          self->port = g_uri_get_port (l->data);
      g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
    }

  return TRUE;
}

guint
odd_http_server_get_port (OddHttpServer *self)
{
  g_return_val_if_fail (ODD_IS_HTTP_SERVER (self), 0);
  return self->port;
}

SoupServer *
odd_http_server_get_soup (OddHttpServer *self)
{
  g_return_val_if_fail (ODD_IS_HTTP_SERVER (self), NULL);
  return self->soup;
}

OddMetrics *
odd_http_server_get_metrics (OddHttpServer *self)
{
  g_return_val_if_fail (ODD_IS_HTTP_SERVER (self), NULL);
  return self->metrics;
}
