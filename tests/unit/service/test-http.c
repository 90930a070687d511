#include <string.h>
#include "odd-http.h"
#include "odd-ids.h"
#include "odd-build-config.h"

typedef struct {
  OddMetrics    *metrics;
  OddHttpServer *server;
  SoupSession   *session;
  char          *ready_reason;
  GThread       *main_thread;
  /* Handlers of /slow?together in flight now, and the most at once. */
  GMutex         lock;
  GCond          cond;
  guint          in_flight;
  guint          most_in_flight;
  gboolean       gave_up;
} Fixture;

typedef struct {
  guint               status;
  char               *body;
  SoupMessageHeaders *headers;
} Response;

static void
response_free (Response *r)
{
  g_free (r->body);
  g_clear_pointer (&r->headers, soup_message_headers_unref);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Response, response_free)

static char *
ready_func (gpointer user_data)
{
  Fixture *f = user_data;

  return g_strdup (f->ready_reason);
}

static void
handle_echo (OddHttpServer     *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  g_autoptr(JsonNode) body = odd_http_read_json_body (msg, 64);

  if (body == NULL)
    return;  /* answered already */
  odd_http_reply_json (msg, 201, body);
}

static void
handle_item (OddHttpServer     *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, path);
  json_builder_set_member_name (b, "correlationId");
  json_builder_add_string_value (b, odd_http_correlation_id (msg));
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  odd_http_reply_json (msg, 200, node);
}

typedef struct {
  Fixture *fixture;
  gboolean fail;
  gboolean together;
} WorkData;

/* Counts the handlers in flight. Each waits until it has seen two run at once: a pool that
 * runs one handler at a time never gets there (the 10 s only stop such a test). */
static void
meet_another_handler (Fixture *f)
{
  gint64 give_up = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_mutex_lock (&f->lock);
  f->in_flight++;
  f->most_in_flight = MAX (f->most_in_flight, f->in_flight);
  g_cond_broadcast (&f->cond);
  while (f->most_in_flight < 2 && !f->gave_up)
    if (!g_cond_wait_until (&f->cond, &f->lock, give_up))
      f->gave_up = TRUE;
  f->in_flight--;
  g_mutex_unlock (&f->lock);
}

static void
work (gpointer       data,
      OddHttpResult *result)
{
  WorkData *w = data;
  g_autoptr(JsonBuilder) b = json_builder_new ();

  if (w->together)
    meet_another_handler (w->fixture);
  else
    g_usleep (20000);
  if (w->fail)
    {
      result->status = 503;
      result->error = g_strdup ("Database unavailable");
      result->retry_after = g_strdup ("2");
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "offMainThread");
  json_builder_add_boolean_value (b, g_thread_self () != w->fixture->main_thread);
  json_builder_end_object (b);
  result->body = json_builder_get_root (b);
}

static void
handle_deferred (OddHttpServer     *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  WorkData *w = g_new0 (WorkData, 1);

  w->fixture = user_data;
  w->fail = query != NULL && g_hash_table_contains (query, "fail");
  w->together = query != NULL && g_hash_table_contains (query, "together");
  odd_http_server_defer (server, msg, work, w, g_free);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  static const char *const post[] = { "POST", NULL };
  static const char *const get[] = { "GET", NULL };

  f->main_thread = g_thread_self ();
  g_mutex_init (&f->lock);
  g_cond_init (&f->cond);
  f->metrics = odd_metrics_new ("test");
  f->server = odd_http_server_new ("test", f->metrics, ready_func, f);
  odd_http_server_add_route (f->server, "/echo", post, handle_echo, f);
  odd_http_server_add_route (f->server, "/items/", get, handle_item, f);
  odd_http_server_add_route (f->server, "/slow", get, handle_deferred, f);
  g_assert_true (odd_http_server_listen (f->server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (odd_http_server_get_port (f->server), >, 0);
  f->session = soup_session_new ();
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->session);
  g_clear_object (&f->server);
  g_clear_pointer (&f->metrics, odd_metrics_free);
  g_free (f->ready_reason);
  /* let libsoup finish closing its sockets */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_mutex_clear (&f->lock);
  g_cond_clear (&f->cond);
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GBytes **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_assert_no_error (error);
}

static Response *
request (Fixture    *f,
         const char *method,
         const char *path,
         const char *content_type,
         const char *body,
         gssize      body_len,
         const char *header_name,
         const char *header_value)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s", odd_http_server_get_port (f->server), path);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  GBytes *bytes = NULL;
  Response *r = g_new0 (Response, 1);

  if (body != NULL)
    {
      g_autoptr(GBytes) req = g_bytes_new (body, body_len < 0 ? strlen (body) : (gsize) body_len);

      soup_message_set_request_body_from_bytes (msg, content_type, req);
    }
  if (header_name != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), header_name, header_value);

  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL, on_sent, &bytes);
  while (bytes == NULL)
    g_main_context_iteration (NULL, TRUE);

  r->status = soup_message_get_status (msg);
  r->body = g_bytes_get_size (bytes) > 0
            ? g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes))
            : g_strdup ("");
  r->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  g_bytes_unref (bytes);
  return r;
}

static JsonObject *
json_object_of (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static void
assert_json_error (Response   *r,
                   guint       status,
                   const char *error)
{
  g_autoptr(JsonObject) obj = NULL;

  g_assert_cmpuint (r->status, ==, status);
  g_assert_cmpstr (soup_message_headers_get_content_type (r->headers, NULL), ==, "application/json");
  obj = json_object_of (r->body);
  if (error != NULL)
    g_assert_cmpstr (json_object_get_string_member (obj, "error"), ==, error);
  else
    g_assert_true (json_object_has_member (obj, "error"));
}

static void
test_not_found_and_method (Fixture *f, gconstpointer data)
{
  g_autoptr(Response) nf = request (f, "GET", "/x", NULL, NULL, 0, NULL, NULL);
  g_autoptr(Response) nf2 = request (f, "GET", "/healthz/extra", NULL, NULL, 0, NULL, NULL);
  g_autoptr(Response) method = request (f, "POST", "/healthz", "application/json", "{}", -1, NULL, NULL);
  g_autoptr(Response) method2 = request (f, "GET", "/echo", NULL, NULL, 0, NULL, NULL);

  assert_json_error (nf, 404, "Not found: /x");
  assert_json_error (nf2, 404, "Not found: /healthz/extra");
  assert_json_error (method, 405, NULL);
  g_assert_cmpstr (soup_message_headers_get_one (method->headers, "Allow"), ==, "GET, HEAD");
  assert_json_error (method2, 405, NULL);
  g_assert_cmpstr (soup_message_headers_get_one (method2->headers, "Allow"), ==, "POST");
  /* no CORS unless asked for */
  g_assert_null (soup_message_headers_get_one (nf->headers, "Access-Control-Allow-Origin"));
}

static void
test_prefix_routes (Fixture *f, gconstpointer data)
{
  g_autoptr(Response) item = request (f, "GET", "/items/42/detail", NULL, NULL, 0, NULL, NULL);
  g_autoptr(Response) bare = request (f, "GET", "/items", NULL, NULL, 0, NULL, NULL);
  g_autoptr(JsonObject) obj = NULL;

  g_assert_cmpuint (item->status, ==, 200);
  obj = json_object_of (item->body);
  g_assert_cmpstr (json_object_get_string_member (obj, "path"), ==, "/items/42/detail");
  g_assert_cmpuint (bare->status, ==, 200);
}

static void
test_health_ready_metrics (Fixture *f, gconstpointer data)
{
  g_autoptr(Response) health = request (f, "GET", "/healthz", NULL, NULL, 0, NULL, NULL);
  g_autoptr(Response) ready = request (f, "GET", "/readyz", NULL, NULL, 0, NULL, NULL);
  g_autoptr(Response) not_ready = NULL;
  g_autoptr(Response) metrics = NULL;
  g_autoptr(Response) head = NULL;
  g_autoptr(JsonObject) obj = NULL;
  g_autoptr(JsonObject) obj2 = NULL;
  g_autoptr(JsonObject) obj3 = NULL;

  g_assert_cmpuint (health->status, ==, 200);
  obj = json_object_of (health->body);
  g_assert_cmpstr (json_object_get_string_member (obj, "status"), ==, "ok");
  g_assert_cmpstr (json_object_get_string_member (obj, "version"), ==, ODD_VERSION);

  g_assert_cmpuint (ready->status, ==, 200);
  obj2 = json_object_of (ready->body);
  g_assert_cmpstr (json_object_get_string_member (obj2, "status"), ==, "ok");

  f->ready_reason = g_strdup ("RabbitMQ not connected");
  not_ready = request (f, "GET", "/readyz", NULL, NULL, 0, NULL, NULL);
  g_assert_cmpuint (not_ready->status, ==, 503);
  obj3 = json_object_of (not_ready->body);
  g_assert_cmpstr (json_object_get_string_member (obj3, "status"), ==, "not_ready");
  g_assert_cmpstr (json_object_get_string_member (obj3, "version"), ==, ODD_VERSION);
  g_assert_cmpstr (json_object_get_string_member (obj3, "reason"), ==, "RabbitMQ not connected");

  head = request (f, "HEAD", "/healthz", NULL, NULL, 0, NULL, NULL);
  g_assert_cmpuint (head->status, ==, 200);
  g_assert_cmpstr (head->body, ==, "");

  metrics = request (f, "GET", "/metrics", NULL, NULL, 0, NULL, NULL);
  g_assert_cmpuint (metrics->status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_one (metrics->headers, "Content-Type"), ==,
                   "text/plain; version=0.0.4; charset=utf-8");
  g_assert_nonnull (strstr (metrics->body, "http_requests_total{service=\"test\",route=\"/healthz\"} 2\n"));
  g_assert_nonnull (strstr (metrics->body, "http_requests_total{service=\"test\",route=\"/readyz\"} 2\n"));
  g_assert_nonnull (strstr (metrics->body, "http_responses_total{service=\"test\",code=\"503\"} 1\n"));
  g_assert_nonnull (strstr (metrics->body,
                            "http_request_duration_seconds_count{service=\"test\",route=\"/healthz\"} 2\n"));
  g_assert_nonnull (strstr (metrics->body, "process_resident_memory_bytes{service=\"test\"}"));
}

/* A draining server is not ready, whatever its ready function says, and says why. */
static void
test_draining_not_ready (Fixture *f, gconstpointer data)
{
  g_autoptr(Response) before = request (f, "GET", "/readyz", NULL, NULL, 0, NULL, NULL);
  g_autoptr(Response) after = NULL;
  g_autoptr(Response) health = NULL;
  g_autoptr(JsonObject) obj = NULL;

  g_assert_cmpuint (before->status, ==, 200);
  g_assert_false (odd_http_server_is_draining (f->server));

  odd_http_server_set_draining (f->server);
  g_assert_true (odd_http_server_is_draining (f->server));
  after = request (f, "GET", "/readyz", NULL, NULL, 0, NULL, NULL);
  g_assert_cmpuint (after->status, ==, 503);
  obj = json_object_of (after->body);
  g_assert_cmpstr (json_object_get_string_member (obj, "status"), ==, "not_ready");
  g_assert_cmpstr (json_object_get_string_member (obj, "reason"), ==, "draining");

  /* Alive all the same: liveness must not restart a pod that is draining. */
  health = request (f, "GET", "/healthz", NULL, NULL, 0, NULL, NULL);
  g_assert_cmpuint (health->status, ==, 200);
}

static void
test_route_label_bounded (Fixture *f, gconstpointer data)
{
  g_autofree char *text = NULL;

  for (int i = 0; i < 5; i++)
    {
      g_autofree char *path = g_strdup_printf ("/items/%d", i);
      g_autofree char *missing = g_strdup_printf ("/nothing/%d", i);
      g_autoptr(Response) a = request (f, "GET", path, NULL, NULL, 0, NULL, NULL);
      g_autoptr(Response) b = request (f, "GET", missing, NULL, NULL, 0, NULL, NULL);
    }
  text = odd_metrics_render (f->metrics);
  g_assert_nonnull (strstr (text, "http_requests_total{service=\"test\",route=\"/items/\"} 5\n"));
  g_assert_nonnull (strstr (text, "http_requests_total{service=\"test\",route=\"unmatched\"} 5\n"));
  g_assert_null (strstr (text, "/items/3"));
  g_assert_null (strstr (text, "/nothing"));
}

static void
test_correlation (Fixture *f, gconstpointer data)
{
  const char *valid = "0B8B1F0E-8A7C-4A54-9B6B-4A1F2A3C4D5E";
  g_autoptr(Response) kept = request (f, "GET", "/items/1", NULL, NULL, 0, "X-Correlation-Id", valid);
  g_autoptr(Response) replaced = request (f, "GET", "/items/1", NULL, NULL, 0, "X-Correlation-Id", "not-a-uuid");
  g_autoptr(Response) fresh = request (f, "GET", "/x", NULL, NULL, 0, NULL, NULL);
  g_autoptr(JsonObject) obj = json_object_of (kept->body);
  g_autoptr(JsonObject) obj2 = json_object_of (replaced->body);
  const char *echoed = soup_message_headers_get_one (replaced->headers, "X-Correlation-Id");

  g_assert_cmpstr (soup_message_headers_get_one (kept->headers, "X-Correlation-Id"), ==, valid);
  g_assert_cmpstr (json_object_get_string_member (obj, "correlationId"), ==, valid);
  g_assert_true (odd_uuid_is_valid (echoed));
  g_assert_cmpstr (json_object_get_string_member (obj2, "correlationId"), ==, echoed);
  /* even errors carry one */
  g_assert_true (odd_uuid_is_valid (soup_message_headers_get_one (fresh->headers, "X-Correlation-Id")));
}

static void
test_cors (Fixture *f, gconstpointer data)
{
  g_autoptr(Response) preflight = NULL;
  g_autoptr(Response) get = NULL;

  odd_http_server_set_cors (f->server, TRUE);
  preflight = request (f, "OPTIONS", "/echo", NULL, NULL, 0, "Origin", "http://example.test");
  g_assert_cmpuint (preflight->status, ==, 200);
  g_assert_cmpstr (preflight->body, ==, "");
  g_assert_cmpstr (soup_message_headers_get_one (preflight->headers, "Access-Control-Allow-Origin"), ==, "*");
  g_assert_cmpstr (soup_message_headers_get_one (preflight->headers, "Access-Control-Allow-Methods"), ==,
                   "GET, POST, OPTIONS");
  g_assert_cmpstr (soup_message_headers_get_one (preflight->headers, "Access-Control-Allow-Headers"), ==,
                   "Content-Type, X-Correlation-Id, Authorization");

  get = request (f, "GET", "/healthz", NULL, NULL, 0, NULL, NULL);
  g_assert_cmpuint (get->status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_one (get->headers, "Access-Control-Allow-Origin"), ==, "*");
}

static void
test_defer (Fixture *f, gconstpointer data)
{
  g_autoptr(Response) ok = request (f, "GET", "/slow", NULL, NULL, 0, NULL, NULL);
  g_autoptr(Response) fail = request (f, "GET", "/slow?fail=1", NULL, NULL, 0, NULL, NULL);
  g_autoptr(JsonObject) obj = json_object_of (ok->body);

  g_assert_cmpuint (ok->status, ==, 200);
  g_assert_true (json_object_get_boolean_member (obj, "offMainThread"));
  g_assert_true (odd_uuid_is_valid (soup_message_headers_get_one (ok->headers, "X-Correlation-Id")));
  assert_json_error (fail, 503, "Database unavailable");
  g_assert_cmpstr (soup_message_headers_get_one (fail->headers, "Retry-After"), ==, "2");
}

static void
on_sent_count (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  guint *answered = user_data;
  g_autoptr(SoupMessage) msg = g_object_ref (soup_session_get_async_result_message (SOUP_SESSION (source), result));
  g_autoptr(GBytes) bytes = soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);

  g_assert_nonnull (bytes);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  (*answered)++;
}

static void
test_defer_many (Fixture *f, gconstpointer data)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/slow?together=1", odd_http_server_get_port (f->server));
  guint answered = 0;

  g_clear_object (&f->session);
  f->session = soup_session_new_with_options ("max-conns", 32, "max-conns-per-host", 32, NULL);
  for (int i = 0; i < 32; i++)
    {
      g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);

      soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL, on_sent_count, &answered);
    }
  while (answered < 32)
    g_main_context_iteration (NULL, TRUE);
  /* Handlers ran side by side, and never more than the pool's threads. */
  g_test_message ("at most %u handlers in flight at once", f->most_in_flight);
  g_assert_false (f->gave_up);
  g_assert_cmpuint (f->most_in_flight, >=, 2);
  g_assert_cmpuint (f->most_in_flight, <=, 8);
}

static void
test_defer_client_gone (Fixture *f, gconstpointer data)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(Response) after = NULL;
  gint64 until;

  for (int i = 0; i < 3; i++)
    {
      g_autoptr(GSocketConnection) conn = g_socket_client_connect_to_host (client, "127.0.0.1",
                                                                           odd_http_server_get_port (f->server),
                                                                           NULL, &error);
      const char *req = "GET /slow HTTP/1.1\r\nHost: test\r\n\r\n";

      g_assert_no_error (error);
      g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), req, strlen (req),
                                 NULL, NULL, &error);
      g_assert_no_error (error);
      /* let the server read and pause it, then vanish before the worker answers */
      until = g_get_monotonic_time () + 5000;
      while (g_get_monotonic_time () < until)
        g_main_context_iteration (NULL, FALSE);
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    }
  until = g_get_monotonic_time () + 200000;
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);

  after = request (f, "GET", "/healthz", NULL, NULL, 0, NULL, NULL);
  g_assert_cmpuint (after->status, ==, 200);
}

static void
test_max_body (Fixture *f, gconstpointer data)
{
  g_autofree char *big = g_strnfill (5000, 'x');
  g_autoptr(Response) too_long = NULL;
  g_autoptr(Response) after = NULL;
  g_autoptr(Response) chunked_resp = NULL;
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/echo", odd_http_server_get_port (f->server));
  g_autoptr(SoupMessage) chunked = soup_message_new ("POST", url);
  g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_data (big, 5000, NULL);
  GBytes *bytes = NULL;

  odd_http_server_set_max_body (f->server, 1000);
  too_long = request (f, "POST", "/echo", "application/json", big, -1, NULL, NULL);
  assert_json_error (too_long, 413, "Request body is larger than 1000 bytes");
  g_assert_true (odd_uuid_is_valid (soup_message_headers_get_one (too_long->headers, "X-Correlation-Id")));

  /* no length up front: chunked */
  soup_message_set_request_body (chunked, "application/json", stream, -1);
  soup_session_send_and_read_async (f->session, chunked, G_PRIORITY_DEFAULT, NULL, on_sent, &bytes);
  while (bytes == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (soup_message_get_status (chunked), ==, 413);
  g_bytes_unref (bytes);

  after = request (f, "GET", "/healthz", NULL, NULL, 0, NULL, NULL);
  g_assert_cmpuint (after->status, ==, 200);
}

static void
test_json_body (Fixture *f, gconstpointer data)
{
  g_autoptr(Response) ok = request (f, "POST", "/echo", "application/json; charset=utf-8", "{\"a\":1}", -1, NULL, NULL);
  g_autoptr(Response) media = request (f, "POST", "/echo", "text/plain", "{\"a\":1}", -1, NULL, NULL);
  g_autoptr(Response) big = request (f, "POST", "/echo", "application/json",
                                     "{\"a\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
                                     -1, NULL, NULL);
  g_autoptr(Response) empty = request (f, "POST", "/echo", "application/json", "", 0, NULL, NULL);
  g_autoptr(Response) malformed = request (f, "POST", "/echo", "application/json", "{\"a\":", -1, NULL, NULL);
  g_autoptr(Response) utf8 = request (f, "POST", "/echo", "application/json", "{\"a\":\"\xff\xfe\"}", -1, NULL, NULL);
  g_autoptr(Response) nul = request (f, "POST", "/echo", "application/json", "{\"a\":1}\0", 8, NULL, NULL);
  g_autoptr(JsonObject) obj = NULL;
  g_autoptr(JsonObject) bad = NULL;

  g_assert_cmpuint (ok->status, ==, 201);
  obj = json_object_of (ok->body);
  g_assert_cmpint (json_object_get_int_member (obj, "a"), ==, 1);

  assert_json_error (media, 415, "Content-Type must be application/json");
  assert_json_error (big, 413, NULL);
  assert_json_error (empty, 400, "Request body is empty");
  assert_json_error (malformed, 400, NULL);
  bad = json_object_of (malformed->body);
  g_assert_cmpstr (json_object_get_string_member (bad, "error"), ==, "Malformed JSON");
  g_assert_true (g_str_has_prefix (json_object_get_string_member (
                   json_array_get_object_element (json_object_get_array_member (bad, "details"), 0), "message"),
                 "at byte "));
  assert_json_error (utf8, 400, "Request body is not valid UTF-8 text");
  assert_json_error (nul, 400, NULL);
}

/* Sends @request_text raw and reads until the server closes (or 10 s pass), serving the
 * server's main loop meanwhile. The request may announce more body than it sends. */
static char *
raw_exchange (Fixture    *f,
              const char *request_text,
              gsize       len)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) reply = g_string_new (NULL);
  GSocket *socket;
  gint64 until = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  conn = g_socket_client_connect_to_host (client, "127.0.0.1", odd_http_server_get_port (f->server),
                                          NULL, &error);
  g_assert_no_error (error);
  socket = g_socket_connection_get_socket (conn);
  g_assert_cmpint (g_socket_send (socket, request_text, len, NULL, &error), ==, (gssize) len);
  g_socket_set_blocking (socket, FALSE);

  while (g_get_monotonic_time () < until)
    {
      char buf[4096];
      g_autoptr(GError) read_error = NULL;
      gssize n;

      g_main_context_iteration (NULL, FALSE);
      n = g_socket_receive (socket, buf, sizeof buf, NULL, &read_error);
      if (n == 0 || (n < 0 && !g_error_matches (read_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)))
        return g_string_free (g_steal_pointer (&reply), FALSE);
      if (n > 0)
        g_string_append_len (reply, buf, n);
      else
        g_usleep (1000);
    }
  g_assert_not_reached ();
}

static void
assert_raw_answer (const char *reply,
                   guint       status,
                   const char *error_part)
{
  g_autofree char *status_line = g_strdup_printf ("HTTP/1.1 %u ", status);
  const char *body = strstr (reply, "\r\n\r\n");
  g_autoptr(JsonObject) object = NULL;

  g_test_message ("%s", reply);
  g_assert_true (g_str_has_prefix (reply, status_line));
  g_assert_nonnull (strstr (reply, "Connection: close"));
  g_assert_nonnull (strstr (reply, "Content-Type: application/json"));
  g_assert_nonnull (body);
  object = json_object_of (body + 4);
  g_assert_nonnull (strstr (json_object_get_string_member (object, "error"), error_part));
}

/* Refused from the headers alone: the body is never read (most of it is never even sent), on
 * built-in paths as on the service's own. */
static void
test_refused_unread (Fixture *f, gconstpointer data)
{
  const char *huge = "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: 300000000\r\n\r\n{\"a\":";
  const char *huge_echo = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          "Content-Length: 300000000\r\n\r\n";
  const char *post_health = "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n";
  const char *get_with_body = "GET /items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n";
  const char *chunked_health = "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "10\r\n0123456789abcdef\r\n";
  const char *unknown = "PUT /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
  /* curl asks first for big uploads: the refusal is the answer, no 100 Continue */
  const char *expect = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Expect: 100-continue\r\nContent-Length: 300000000\r\n\r\n";
  g_autofree char *a = raw_exchange (f, huge, strlen (huge));
  g_autofree char *b = raw_exchange (f, huge_echo, strlen (huge_echo));
  g_autofree char *c = raw_exchange (f, post_health, strlen (post_health));
  g_autofree char *d = raw_exchange (f, get_with_body, strlen (get_with_body));
  g_autofree char *e = raw_exchange (f, chunked_health, strlen (chunked_health));
  g_autofree char *u = raw_exchange (f, unknown, strlen (unknown));
  g_autofree char *x = raw_exchange (f, expect, strlen (expect));
  g_autoptr(Response) metrics = NULL;
  g_autoptr(Response) after = NULL;

  assert_raw_answer (a, 413, "Request body is larger than 1048576 bytes");
  assert_raw_answer (b, 413, "Request body is larger than 1048576 bytes");
  assert_raw_answer (c, 405, "Method not allowed: POST /healthz");
  g_assert_nonnull (strstr (c, "Allow: GET, HEAD"));
  assert_raw_answer (d, 413, "GET /items/1 takes no request body");
  assert_raw_answer (e, 405, "Method not allowed: POST /healthz");
  assert_raw_answer (u, 404, "Not found: /nowhere");
  assert_raw_answer (x, 413, "Request body is larger than 1048576 bytes");
  g_assert_null (strstr (x, "100 Continue"));
  g_assert_nonnull (strstr (a, "X-Correlation-Id: "));

  /* counted like any other answer, and the server goes on */
  metrics = request (f, "GET", "/metrics", NULL, NULL, 0, NULL, NULL);
  g_assert_nonnull (strstr (metrics->body, "http_responses_total{service=\"test\",code=\"413\"} 4"));
  g_assert_nonnull (strstr (metrics->body, "http_requests_total{service=\"test\",route=\"/healthz\"} 3"));
  after = request (f, "GET", "/healthz", NULL, NULL, 0, NULL, NULL);
  g_assert_cmpuint (after->status, ==, 200);
}

/* A chunked body is refused the moment it passes the limit, not once it ends. */
static void
test_chunked_refused_at_limit (Fixture *f, gconstpointer data)
{
  g_autoptr(GString) req = g_string_new ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                         "Transfer-Encoding: chunked\r\n\r\n");
  g_autofree char *reply = NULL;
  guint refused = 0;

  g_signal_connect_swapped (f->server, "refused", G_CALLBACK (g_atomic_int_inc), &refused);
  odd_http_server_set_max_body (f->server, 1000);
  for (guint i = 0; i < 3; i++)
    {
      g_string_append (req, "200\r\n");
      for (guint k = 0; k < 0x200; k++)
        g_string_append_c (req, ' ');
      g_string_append (req, "\r\n");
    }
  /* no last chunk: the body never ends */
  reply = raw_exchange (f, req->str, req->len);
  assert_raw_answer (reply, 413, "Request body is larger than 1000 bytes");
  g_assert_cmpuint (refused, ==, 1);
}

static void
on_request_headers (OddHttpServer     *server,
                    SoupServerMessage *msg,
                    GPtrArray         *paths)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  /* the headers are in, the answer is not set yet */
  g_assert_nonnull (soup_message_headers_get_one (headers, "Host"));
  g_assert_cmpuint (soup_server_message_get_status (msg), ==, 0);
  g_ptr_array_add (paths, g_strdup (g_uri_get_path (soup_server_message_get_uri (msg))));
}

/* One request-headers per request, answered or refused from its headers alike. */
static void
test_request_headers (Fixture *f, gconstpointer data)
{
  const char *huge = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: 300000000\r\n\r\n";
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(Response) health = NULL;
  g_autoptr(Response) missing = NULL;
  g_autofree char *refused = NULL;

  g_signal_connect (f->server, "request-headers", G_CALLBACK (on_request_headers), paths);
  health = request (f, "GET", "/healthz", NULL, NULL, 0, NULL, NULL);
  missing = request (f, "GET", "/nowhere", NULL, NULL, 0, NULL, NULL);
  refused = raw_exchange (f, huge, strlen (huge));

  g_assert_cmpuint (health->status, ==, 200);
  g_assert_cmpuint (missing->status, ==, 404);
  assert_raw_answer (refused, 413, "Request body is larger than");
  g_assert_cmpuint (paths->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (paths, 0), ==, "/healthz");
  g_assert_cmpstr (g_ptr_array_index (paths, 1), ==, "/nowhere");
  g_assert_cmpstr (g_ptr_array_index (paths, 2), ==, "/echo");
  g_signal_handlers_disconnect_by_func (f->server, on_request_headers, paths);
}

static guint
status_of (Fixture *f,
           guint    port,
           const char *path)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  GBytes *bytes = NULL;

  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL, on_sent, &bytes);
  while (bytes == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_bytes_unref (bytes);
  return soup_message_get_status (msg);
}

/* Replicas share a port with SO_REUSEPORT, and each answers alone on a second one. */
static void
test_reuse_port (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  OddMetrics *metrics_a = odd_metrics_new ("a");
  OddMetrics *metrics_b = odd_metrics_new ("b");
  OddMetrics *metrics_c = odd_metrics_new ("c");
  OddHttpServer *a = odd_http_server_new ("a", metrics_a, ready_func, f);
  OddHttpServer *b = odd_http_server_new ("b", metrics_b, ready_func, f);
  OddHttpServer *c = odd_http_server_new ("c", metrics_c, ready_func, f);
  GSList *uris;
  guint shared, own = 0;

  g_assert_true (odd_http_server_listen_full (a, "127.0.0.1", 0, TRUE, &error));
  g_assert_no_error (error);
  shared = odd_http_server_get_port (a);
  g_assert_true (odd_http_server_listen_full (b, "127.0.0.1", shared, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (odd_http_server_get_port (b), ==, shared);
  /* without SO_REUSEPORT the port is taken */
  g_assert_false (odd_http_server_listen_full (c, "127.0.0.1", shared, FALSE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_clear_error (&error);

  /* a second listener keeps the first port as the server's */
  g_assert_true (odd_http_server_listen_full (b, "127.0.0.1", 0, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (odd_http_server_get_port (b), ==, shared);
  uris = soup_server_get_uris (odd_http_server_get_soup (b));
  for (GSList *l = uris; l != NULL; l = l->next)
    if ((guint) g_uri_get_port (l->data) != shared)
      own = (guint) g_uri_get_port (l->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_assert_cmpuint (own, >, 0);

  g_assert_cmpuint (status_of (f, shared, "/healthz"), ==, 200);
  g_assert_cmpuint (status_of (f, own, "/healthz"), ==, 200);
  /* a gone, the shared port still answers: b has it */
  g_object_unref (a);
  g_assert_cmpuint (status_of (f, shared, "/healthz"), ==, 200);

  g_object_unref (b);
  g_object_unref (c);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  odd_metrics_free (metrics_a);
  odd_metrics_free (metrics_b);
  odd_metrics_free (metrics_c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, func) g_test_add ("/http/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("not-found-and-method", test_not_found_and_method);
  ADD ("prefix-routes", test_prefix_routes);
  ADD ("health-ready-metrics", test_health_ready_metrics);
  ADD ("draining-not-ready", test_draining_not_ready);
  ADD ("route-label-bounded", test_route_label_bounded);
  ADD ("correlation", test_correlation);
  ADD ("cors", test_cors);
  ADD ("defer", test_defer);
  ADD ("defer-many", test_defer_many);
  ADD ("defer-client-gone", test_defer_client_gone);
  ADD ("max-body", test_max_body);
  ADD ("json-body", test_json_body);
  ADD ("refused-unread", test_refused_unread);
  ADD ("chunked-refused-at-limit", test_chunked_refused_at_limit);
  ADD ("request-headers", test_request_headers);
  ADD ("reuse-port", test_reuse_port);
#undef ADD
  return g_test_run ();
}
