/* test-gateway-handlers.c: the gateway in-process, over real HTTP, against a real broker
 *
 * The gateway runs on port 0 on this thread's main context; requests go through an async
 * SoupSession on the same context. Cases that need RabbitMQ use $ODD_TEST_RABBITMQ_URL
 * (a vhost of their own: queues are purged) and skip without it; the rest point the gateway
 * at a closed port, which is itself a case (503 + Retry-After, /readyz 503).
 * The read model is a small SoupServer here that answers GET /jobs/{id} from a table.
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "test-gateway"

#include "odd-build-config.h"

#include <signal.h>
#include <string.h>

#include "odd-service.h"
#include "odd-gateway.h"
#include "odd-gateway-private.h"
#include "odd-test-util.h"

static const char *broker_url;        /* NULL: no broker, cases that need one skip */
static SoupSession *session;
static OddSchemaRegistry *registry;
static char *closed_url;              /* amqp:// URL of a port nobody listens on */
static char *closed_http_url;

/* ---- helpers: main loop, HTTP ---- */

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *expired = user_data;

  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

typedef gboolean (*Predicate) (gpointer data);

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the main context until @predicate holds; FALSE after @timeout_ms. A tick wakes
 * the loop so predicates that poll something outside it (the broker) are re-checked. */
static gboolean
wait_for (Predicate predicate,
          gpointer  data,
          guint     timeout_ms)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add (timeout_ms, timeout_cb, &expired);
  guint tick = g_timeout_add (20, tick_cb, NULL);

  while (!predicate (data) && !expired)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (tick);
  if (!expired)
    g_source_remove (id);

  return predicate (data);
}

static void
spin (guint ms)
{
  gboolean expired = FALSE;

  g_timeout_add (ms, timeout_cb, &expired);
  while (!expired)
    g_main_context_iteration (NULL, TRUE);
}

typedef struct {
  guint               status;
  char               *content_type;
  SoupMessageHeaders *headers;
  GBytes             *body;
  JsonNode           *json;
  char               *transport_error;
  gboolean            done;
} Response;

static void
response_free (Response *r)
{
  g_free (r->content_type);
  g_clear_pointer (&r->headers, soup_message_headers_unref);
  g_clear_pointer (&r->body, g_bytes_unref);
  g_clear_pointer (&r->json, json_node_unref);
  g_free (r->transport_error);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Response, response_free)

typedef struct {
  Response    *response;
  SoupMessage *msg;
} Call;

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Call *call = user_data;
  Response *r = call->response;
  g_autoptr(GError) error = NULL;

  r->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (r->body == NULL)
    {
      r->transport_error = g_strdup (error->message);
    }
  else
    {
      const char *type;
      gsize len;
      const char *data = g_bytes_get_data (r->body, &len);

      r->status = soup_message_get_status (call->msg);
      r->headers = soup_message_headers_ref (soup_message_get_response_headers (call->msg));
      type = soup_message_headers_get_content_type (r->headers, NULL);
      r->content_type = g_strdup (type);
      if (g_strcmp0 (type, "application/json") == 0)
        r->json = odd_json_parse (data, (gssize) len, NULL);
    }
  r->done = TRUE;
}

static gboolean
response_done (gpointer data)
{
  return ((Response *) data)->done;
}

static void
start_request (OddGateway         *gateway,
               const char         *method,
               const char         *path,
               const char         *content_type,
               const char         *body,
               gsize               len,
               const char *const  *headers,
               GCancellable       *cancellable,
               Response           *response,
               Call               *call)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s", odd_gateway_get_port (gateway), path);

  call->response = response;
  call->msg = soup_message_new (method, url);
  g_assert_nonnull (call->msg);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, len);

      soup_message_set_request_body_from_bytes (call->msg, content_type, bytes);
    }
  for (guint i = 0; headers != NULL && headers[i] != NULL; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (call->msg), headers[i], headers[i + 1]);

  soup_session_send_and_read_async (session, call->msg, G_PRIORITY_DEFAULT, cancellable, on_sent, call);
}

static Response *
request_full (OddGateway        *gateway,
              const char        *method,
              const char        *path,
              const char        *content_type,
              const char        *body,
              gsize              len,
              const char *const *headers)
{
  Response *response = g_new0 (Response, 1);
  Call call = { 0 };

  start_request (gateway, method, path, content_type, body, len, headers, NULL, response, &call);
  if (!wait_for (response_done, response, 30000))
    g_error ("%s %s: no answer in 30 s", method, path);
  g_object_unref (call.msg);
  if (response->transport_error != NULL)
    g_error ("%s %s: %s", method, path, response->transport_error);

  return response;
}

static Response *
request (OddGateway *gateway,
         const char *method,
         const char *path,
         const char *json)
{
  return request_full (gateway, method, path, json != NULL ? "application/json" : NULL,
                       json, json != NULL ? strlen (json) : 0, NULL);
}

static const char *
member_string (JsonNode   *node,
               const char *name)
{
  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_get_string_member_with_default (json_node_get_object (node), name, NULL);
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

      g_error ("not a valid %s: %s in %s", schema, text, json);
    }
}

/* An error answer: its status, JSON content type and the contract's error shape. */
static void
assert_error (Response   *r,
              guint       status,
              const char *error)
{
  if (r->status != status)
    {
      g_autofree char *body = g_strndup (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body));

      g_error ("answered %u, expected %u: %s", r->status, status, body);
    }
  g_assert_cmpstr (r->content_type, ==, "application/json");
  assert_valid ("error", r->json);
  if (error != NULL)
    g_assert_cmpstr (member_string (r->json, "error"), ==, error);
}

/* A detail mentions @needle in its path or message. */
static gboolean
details_mention (JsonNode   *json,
                 const char *needle)
{
  JsonObject *object = json_node_get_object (json);
  JsonArray *details;

  if (!json_object_has_member (object, "details"))
    return FALSE;
  details = json_object_get_array_member (object, "details");
  for (guint i = 0; i < json_array_get_length (details); i++)
    {
      JsonObject *d = json_array_get_object_element (details, i);

      if (strstr (json_object_get_string_member (d, "path"), needle) != NULL ||
          strstr (json_object_get_string_member (d, "message"), needle) != NULL)
        return TRUE;
    }

  return FALSE;
}

static guint
n_details (JsonNode *json)
{
  JsonObject *object = json_node_get_object (json);

  if (!json_object_has_member (object, "details"))
    return 0;
  return json_array_get_length (json_object_get_array_member (object, "details"));
}

/* ---- helpers: gateways ---- */

static OddGateway *
gateway_new_full (const char *rabbitmq_url,
                  const char *read_model_url,
                  const char *token,
                  guint       max_outstanding)
{
  OddGatewayConfig config = {
    .port = 0,
    .bind = (char *) "127.0.0.1",
    .rabbitmq_url = (char *) rabbitmq_url,
    .read_model_url = (char *) (read_model_url != NULL ? read_model_url : closed_http_url),
    .contracts_path = NULL,
    .max_outstanding = max_outstanding,
    .api_token = (char *) token,
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(OddGateway) gateway = NULL;

  gateway = odd_gateway_new (&config, &error);
  g_assert_no_error (error);
  odd_gateway_start (gateway, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (odd_gateway_get_port (gateway), >, 0);

  return g_steal_pointer (&gateway);
}

static gboolean
gateway_ready (gpointer data)
{
  g_autoptr(Response) r = request (data, "GET", "/readyz", NULL);

  if (r->status == 200)
    return TRUE;
  spin (50);
  return FALSE;
}

/* A gateway on the test broker, ready to publish. */
static OddGateway *
broker_gateway_new (const char *read_model_url,
                    guint       max_outstanding)
{
  OddGateway *gateway = gateway_new_full (broker_url, read_model_url, NULL, max_outstanding);

  if (!wait_for (gateway_ready, gateway, 15000))
    g_error ("the gateway did not connect to %s in 15 s", broker_url);

  return gateway;
}

static OddGateway *
offline_gateway_new (void)
{
  return gateway_new_full (closed_url, NULL, NULL, 64);
}

/* ---- helpers: broker ---- */

static amqp_connection_state_t
broker_connect (void)
{
  g_autoptr(GError) error = NULL;
  amqp_connection_state_t conn = odd_amqp_connect (broker_url, "gateway-test", &error);

  g_assert_no_error (error);
  odd_amqp_declare_topology (conn, 1, &error);
  g_assert_no_error (error);

  return conn;
}

static void
broker_purge (const char *queue)
{
  amqp_connection_state_t conn = broker_connect ();
  g_autoptr(GError) error = NULL;

  amqp_queue_purge (conn, 1, amqp_cstring_bytes (queue));
  odd_amqp_check_reply (amqp_get_rpc_reply (conn), "queue.purge", &error);
  g_assert_no_error (error);
  odd_amqp_close (conn);
}

static guint
broker_count (const char *queue)
{
  amqp_connection_state_t conn = broker_connect ();
  g_autoptr(GError) error = NULL;
  guint messages = 0, consumers = 0;

  odd_amqp_queue_stats (conn, 1, queue, &messages, &consumers, &error);
  g_assert_no_error (error);
  odd_amqp_close (conn);

  return messages;
}

static void
broker_publish_keyed (const char *queue,
                      const char *body,
                      const char *message_id)
{
  amqp_connection_state_t conn = broker_connect ();
  g_autoptr(GError) error = NULL;
  g_autoptr(OddAmqpConfirms) confirms = NULL;
  OddAmqpProps props = { .message_id = message_id };

  amqp_channel_open (conn, 2);
  odd_amqp_check_reply (amqp_get_rpc_reply (conn), "channel.open", &error);
  g_assert_no_error (error);
  confirms = odd_amqp_confirms_new (conn, 2, &error);
  g_assert_no_error (error);
  odd_amqp_confirms_publish (confirms, "", queue, &props, body, strlen (body), &error);
  g_assert_no_error (error);
  odd_amqp_confirms_wait (confirms, 5000, &error);
  g_assert_no_error (error);
  g_clear_pointer (&confirms, odd_amqp_confirms_free);
  odd_amqp_close (conn);
}

static void
broker_publish (const char *queue,
                const char *body)
{
  broker_publish_keyed (queue, body, NULL);
}

typedef struct {
  char     *message_id;
  char     *correlation_id;
  char     *content_type;
  char     *type;
  guint8    delivery_mode;
  JsonNode *body;
} Got;

static void
got_free (Got *got)
{
  g_free (got->message_id);
  g_free (got->correlation_id);
  g_free (got->content_type);
  g_free (got->type);
  g_clear_pointer (&got->body, json_node_unref);
  g_free (got);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Got, got_free)

static char *
bytes_dup (amqp_bytes_t bytes)
{
  return g_strndup (bytes.bytes, bytes.len);
}

/* basic.get with ack of one message of @queue; NULL when it is empty. */
static Got *
broker_get (const char *queue)
{
  amqp_connection_state_t conn = broker_connect ();
  g_autoptr(GError) error = NULL;
  amqp_rpc_reply_t reply;
  amqp_message_t message;
  amqp_basic_properties_t *p;
  Got *got;
  guint64 tag;

  reply = amqp_basic_get (conn, 1, amqp_cstring_bytes (queue), FALSE);
  odd_amqp_check_reply (reply, "basic.get", &error);
  g_assert_no_error (error);
  if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
    {
      odd_amqp_close (conn);
      return NULL;
    }
  tag = ((amqp_basic_get_ok_t *) reply.reply.decoded)->delivery_tag;
  reply = amqp_read_message (conn, 1, &message, 0);
  odd_amqp_check_reply (reply, "read message", &error);
  g_assert_no_error (error);

  got = g_new0 (Got, 1);
  p = &message.properties;
  if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
    got->message_id = bytes_dup (p->message_id);
  if (p->_flags & AMQP_BASIC_CORRELATION_ID_FLAG)
    got->correlation_id = bytes_dup (p->correlation_id);
  if (p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
    got->content_type = bytes_dup (p->content_type);
  if (p->_flags & AMQP_BASIC_TYPE_FLAG)
    got->type = bytes_dup (p->type);
  if (p->_flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
    got->delivery_mode = p->delivery_mode;
  got->body = odd_json_parse (message.body.bytes, (gssize) message.body.len, &error);
  g_assert_no_error (error);
  amqp_destroy_message (&message);
  g_assert_cmpint (amqp_basic_ack (conn, 1, tag, FALSE), ==, AMQP_STATUS_OK);
  odd_amqp_close (conn);

  return got;
}

#define SKIP_WITHOUT_BROKER()                                                  \
  G_STMT_START {                                                               \
    if (broker_url == NULL)                                                    \
      {                                                                        \
        g_test_skip ("no broker: set ODD_TEST_RABBITMQ_URL");                  \
        return;                                                                \
      }                                                                        \
  } G_STMT_END

/* ---- a read model double: GET /jobs/{id} from a table ---- */

typedef struct {
  SoupServer *server;
  GHashTable *answers;   /* id → (status << 0) stored as "status\njson" */
  char       *url;
} ReadModel;

static void
read_model_handler (SoupServer        *server,
                    SoupServerMessage *msg,
                    const char        *path,
                    GHashTable        *query,
                    gpointer           user_data)
{
  ReadModel *rm = user_data;
  const char *answer = NULL;

  if (g_str_has_prefix (path, "/jobs/"))
    answer = g_hash_table_lookup (rm->answers, path + strlen ("/jobs/"));

  if (answer == NULL)
    {
      soup_server_message_set_status (msg, 404, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                        "{\"error\":\"Job not found\"}", strlen ("{\"error\":\"Job not found\"}"));
      return;
    }

  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, answer, strlen (answer));
}

static ReadModel *
read_model_new (void)
{
  ReadModel *rm = g_new0 (ReadModel, 1);
  g_autoptr(GError) error = NULL;
  GSList *uris;

  rm->server = soup_server_new (NULL, NULL);
  rm->answers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  soup_server_add_handler (rm->server, "/jobs", read_model_handler, rm, NULL);
  soup_server_listen_local (rm->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (rm->server);
  rm->url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  return rm;
}

static void
read_model_free (ReadModel *rm)
{
  soup_server_disconnect (rm->server);
  g_object_unref (rm->server);
  g_hash_table_unref (rm->answers);
  g_free (rm->url);
  g_free (rm);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReadModel, read_model_free)

/* A job as GET /jobs/{id} returns it (contract job-detail). */
static void
read_model_add (ReadModel  *rm,
                const char *id,
                const char *status,
                int         generation)
{
  char *json = g_strdup_printf ("{\"job\":{\"id\":\"%s\",\"type\":\"retry-test\",\"status\":\"%s\","
                                "\"payload\":{\"n\":7,\"simulate\":{\"durationMs\":1}},\"attempts\":3,"
                                "\"generation\":%d,\"lastError\":\"boom\","
                                "\"createdAt\":\"2026-01-01T00:00:00.000Z\",\"updatedAt\":\"2026-01-01T00:00:01.000Z\","
                                "\"startedAt\":null,\"finishedAt\":null},\"events\":[]}",
                                id, status, generation);

  g_hash_table_replace (rm->answers, g_strdup (id), json);
}

/* ---- tests: configuration ---- */

static const char *const config_vars[] = {
  "PORT", "ODD_BIND", "RABBITMQ_URL", "READ_MODEL_URL", "CONTRACTS_PATH", "ODD_MAX_OUTSTANDING",
  "ODD_API_TOKEN", NULL
};

static void
test_config_defaults (void)
{
  g_auto(GStrv) saved = g_get_environ ();
  OddGatewayConfig config = { 0 };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; config_vars[i] != NULL; i++)
    g_unsetenv (config_vars[i]);

  g_assert_true (odd_gateway_config_load (&config, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (config.port, ==, 3000);
  g_assert_cmpstr (config.bind, ==, "127.0.0.1");
  g_assert_cmpstr (config.rabbitmq_url, ==, ODD_DEFAULT_RABBITMQ_URL);
  g_assert_cmpstr (config.read_model_url, ==, "http://127.0.0.1:8080");
  g_assert_cmpuint (config.max_outstanding, ==, 2048);
  g_assert_null (config.api_token);
  g_assert_null (config.contracts_path);

  g_setenv ("PORT", "3111", TRUE);
  g_setenv ("READ_MODEL_URL", "http://rm.example:8080/", TRUE);
  g_setenv ("ODD_API_TOKEN", "s3cret", TRUE);
  g_assert_true (odd_gateway_config_load (&config, &error));
  g_assert_cmpuint (config.port, ==, 3111);
  g_assert_cmpstr (config.read_model_url, ==, "http://rm.example:8080");
  g_assert_cmpstr (config.api_token, ==, "s3cret");
  odd_gateway_config_clear (&config);

  for (guint i = 0; config_vars[i] != NULL; i++)
    {
      const char *value = g_environ_getenv (saved, config_vars[i]);

      if (value != NULL)
        g_setenv (config_vars[i], value, TRUE);
      else
        g_unsetenv (config_vars[i]);
    }
}

static void
test_config_invalid (void)
{
  static const struct {
    const char *name;
    const char *value;
  } bad[] = {
    { "PORT", "http" },
    { "PORT", "70000" },
    { "PORT", "-1" },
    { "ODD_MAX_OUTSTANDING", "0" },
    { "ODD_MAX_OUTSTANDING", "lots" },
    { "ODD_BIND", "not an address" },
    { "RABBITMQ_URL", "http://127.0.0.1:5672/" },
    { "READ_MODEL_URL", "ftp://127.0.0.1/" },
    { "READ_MODEL_URL", "no url at all" },
    { "CONTRACTS_PATH", "/nonexistent/contracts" },
  };
  g_autofree char *saved_contracts = g_strdup (g_getenv ("CONTRACTS_PATH"));

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      OddGatewayConfig config = { 0 };
      g_autoptr(GError) error = NULL;
      g_autofree char *saved = g_strdup (g_getenv (bad[i].name));

      g_setenv (bad[i].name, bad[i].value, TRUE);
      g_assert_false (odd_gateway_config_load (&config, &error));
      g_assert_nonnull (error);
      /* The message names the variable, so the operator knows what to fix. */
      if (strstr (error->message, bad[i].name) == NULL)
        g_error ("%s=%s: the error does not name it: %s", bad[i].name, bad[i].value, error->message);
      if (saved != NULL)
        g_setenv (bad[i].name, saved, TRUE);
      else
        g_unsetenv (bad[i].name);
    }

  /* A contracts directory without the gateway's schemas is refused at construction. */
  {
    OddGatewayConfig config = { .contracts_path = (char *) "/nonexistent", .rabbitmq_url = closed_url };
    g_autoptr(GError) error = NULL;
    g_autoptr(OddGateway) gateway = odd_gateway_new (&config, &error);

    g_assert_null (gateway);
    g_assert_nonnull (error);
  }

  if (saved_contracts != NULL)
    g_setenv ("CONTRACTS_PATH", saved_contracts, TRUE);
}

/* ---- tests: service endpoints ---- */

static void
test_healthz_openapi_docs (void)
{
  g_autoptr(OddGateway) gateway = offline_gateway_new ();
  g_autoptr(Response) health = request (gateway, "GET", "/healthz", NULL);
  g_autoptr(Response) openapi = request (gateway, "GET", "/openapi.json", NULL);
  static const char *const paths[] = {
    "/jobs", "/jobs/{id}/retry", "/dlq/replay", "/healthz", "/readyz", "/metrics", "/docs", NULL
  };
  static const char *const docs_paths[] = { "/docs", "/docs/", NULL };
  JsonObject *doc, *info, *doc_paths, *jobs_responses;

  g_assert_cmpuint (health->status, ==, 200);
  g_assert_cmpstr (member_string (health->json, "status"), ==, "ok");
  g_assert_cmpstr (member_string (health->json, "version"), ==, ODD_VERSION);

  g_assert_cmpuint (openapi->status, ==, 200);
  doc = json_node_get_object (openapi->json);
  g_assert_cmpstr (json_object_get_string_member (doc, "openapi"), ==, "3.0.3");
  info = json_object_get_object_member (doc, "info");
  g_assert_cmpstr (json_object_get_string_member (info, "title"), ==, "Gateway API");
  g_assert_cmpstr (json_object_get_string_member (info, "version"), ==, ODD_VERSION);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (info, "contact"), "name"),
                   ==, "Odd Essentials");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (doc, "servers")), >=, 1);
  doc_paths = json_object_get_object_member (doc, "paths");
  for (guint i = 0; paths[i] != NULL; i++)
    if (!json_object_has_member (doc_paths, paths[i]))
      g_error ("OpenAPI misses %s", paths[i]);
  jobs_responses = json_object_get_object_member (
    json_object_get_object_member (json_object_get_object_member (doc_paths, "/jobs"), "post"), "responses");
  for (guint i = 0; i < 6; i++)
    g_assert_true (json_object_has_member (jobs_responses, (const char *[]) { "202", "400", "401", "413", "415", "503" }[i]));

  for (guint i = 0; docs_paths[i] != NULL; i++)
    {
      g_autoptr(Response) docs = request (gateway, "GET", docs_paths[i], NULL);
      g_autofree char *html = g_strndup (g_bytes_get_data (docs->body, NULL), g_bytes_get_size (docs->body));
      g_autofree char *lower = g_ascii_strdown (html, -1);

      g_assert_cmpuint (docs->status, ==, 200);
      g_assert_cmpstr (docs->content_type, ==, "text/html");
      g_assert_nonnull (strstr (html, "OpenAPI"));
      g_assert_nonnull (strstr (html, "/openapi.json"));
      /* Self-hosted: nothing is loaded from another host. */
      g_assert_null (strstr (lower, "<script src"));
      g_assert_null (strstr (lower, "<link rel=\"stylesheet\""));
      g_assert_null (strstr (lower, "unpkg"));
      g_assert_null (strstr (lower, "cdn"));
    }

  {
    g_autoptr(Response) r = request (gateway, "GET", "/docs/nothing", NULL);

    assert_error (r, 404, NULL);
  }
}

/* ---- tests: the malformed table ---- */

typedef struct {
  const char *name;
  const char *method;
  const char *path;          /* "%s" becomes a new uuid */
  const char *content_type;
  const char *body;          /* NULL: none, unless make_body */
  char     *(*make_body) (gsize *len);
  guint       status;
  const char *error;         /* expected "error", or NULL */
  const char *mentions;      /* a detail path or message contains it, or NULL */
  guint       min_details;
} Case;

static char *
body_too_large (gsize *len)
{
  /* A valid job padded to 1 MiB + 1: the limit is on bytes. */
  gsize n = ODD_GATEWAY_MAX_BODY_BYTES + 1;
  const char *head = "{\"type\":\"big\",\"payload\":{\"pad\":\"";
  char *body = g_malloc (n + 1);
  gsize h = strlen (head);

  memcpy (body, head, h);
  memset (body + h, 'x', n - h - 3);
  memcpy (body + n - 3, "\"}}", 3);
  body[n] = '\0';
  *len = n;
  return body;
}

static char *
body_deep_arrays (gsize *len)
{
  GString *s = g_string_new ("{\"type\":\"deep\",\"payload\":{\"a\":");

  for (guint i = 0; i < 10000; i++)
    g_string_append_c (s, '[');
  for (guint i = 0; i < 10000; i++)
    g_string_append_c (s, ']');
  g_string_append (s, "}}");
  *len = s->len;
  return g_string_free (s, FALSE);
}

static char *
body_deep_objects (gsize *len)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < 10000; i++)
    g_string_append (s, "{\"a\":");
  g_string_append (s, "1");
  for (guint i = 0; i < 10000; i++)
    g_string_append_c (s, '}');
  *len = s->len;
  return g_string_free (s, FALSE);
}

/* One id more than a replay by ids takes. */
static char *
body_replay_101_ids (gsize *len)
{
  GString *s = g_string_new ("{\"ids\":[");

  for (guint i = 0; i <= ODD_GATEWAY_REPLAY_IDS_MAX; i++)
    {
      g_autofree char *id = odd_uuid_new ();

      g_string_append_printf (s, "%s\"%s\"", i > 0 ? "," : "", id);
    }
  g_string_append (s, "]}");
  *len = s->len;
  return g_string_free (s, FALSE);
}

static char *
body_bad_utf8 (gsize *len)
{
  static const char body[] = "{\"type\":\"bad-\xff\xfe-utf8\"}";

  *len = sizeof body - 1;
  return g_memdup2 (body, *len);
}

static char *
body_nul (gsize *len)
{
  static const char body[] = "{\"type\":\"nul\0byte\"}";

  *len = sizeof body - 1;
  return g_memdup2 (body, *len);
}

static char *
body_type_201 (gsize *len)
{
  g_autofree char *type = g_strnfill (201, 't');
  char *body = g_strdup_printf ("{\"type\":\"%s\"}", type);

  *len = strlen (body);
  return body;
}

static char *
body_nested_65 (gsize *len)
{
  /* the job, its payload and 63 arrays: 65 levels */
  GString *s = g_string_new ("{\"type\":\"t\",\"payload\":{\"a\":");

  for (guint i = 0; i < 63; i++)
    g_string_append (s, "[");
  for (guint i = 0; i < 63; i++)
    g_string_append (s, "]");
  g_string_append (s, "}}");
  *len = s->len;
  return g_string_free (s, FALSE);
}

#define JSON "application/json"
#define ID   "\"0d7c2a6e-5f1b-4c1e-9a7e-3c1f2b4d5e6f\""
#define AT   "\"2026-01-01T00:00:00.000Z\""
#define INVALID "Invalid job data"

static const Case cases[] = {
  /* media type, size, syntax */
  { "text-plain", "POST", "/jobs", "text/plain", "{\"type\":\"t\"}", NULL, 415 },
  { "form-urlencoded", "POST", "/jobs", "application/x-www-form-urlencoded", "type=t", NULL, 415 },
  { "no-content-type", "POST", "/jobs", NULL, "{\"type\":\"t\"}", NULL, 415 },
  { "too-large", "POST", "/jobs", JSON, NULL, body_too_large, 413 },
  { "truncated", "POST", "/jobs", JSON, "{\"type\":", NULL, 400 },
  { "empty-body", "POST", "/jobs", JSON, "", NULL, 400 },
  { "whitespace-body", "POST", "/jobs", JSON, "  \n ", NULL, 400 },
  { "trailing-garbage", "POST", "/jobs", JSON, "{\"type\":\"t\"} x", NULL, 400 },
  { "single-quotes", "POST", "/jobs", JSON, "{'type':'t'}", NULL, 400, "Malformed JSON" },
  { "hex-number", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":{\"n\":0x10}}", NULL, 400, "Malformed JSON" },
  { "comment", "POST", "/jobs", JSON, "{\"type\":\"t\" /* c */}", NULL, 400, "Malformed JSON" },
  { "infinite-number", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":{\"n\":1e999}}", NULL, 400, "Malformed JSON", "out of range" },
  { "raw-tab-in-string", "POST", "/jobs", JSON, "{\"type\":\"a\tb\"}", NULL, 400, "Malformed JSON", "control" },
  { "invalid-utf8", "POST", "/jobs", JSON, NULL, body_bad_utf8, 400 },
  { "nul-byte", "POST", "/jobs", JSON, NULL, body_nul, 400 },
  /* not an object */
  { "array", "POST", "/jobs", JSON, "[{\"type\":\"t\"}]", NULL, 400, INVALID },
  { "number", "POST", "/jobs", JSON, "42", NULL, 400, INVALID },
  { "string", "POST", "/jobs", JSON, "\"job\"", NULL, 400, INVALID },
  { "null", "POST", "/jobs", JSON, "null", NULL, 400, INVALID },
  { "boolean", "POST", "/jobs", JSON, "true", NULL, 400, INVALID },
  /* the job schema */
  { "missing-type", "POST", "/jobs", JSON, "{}", NULL, 400, INVALID, "type" },
  { "type-number", "POST", "/jobs", JSON, "{\"type\":7}", NULL, 400, INVALID, "/type" },
  { "type-null", "POST", "/jobs", JSON, "{\"type\":null}", NULL, 400, INVALID, "/type" },
  { "bad-uuid", "POST", "/jobs", JSON, "{\"id\":\"not-a-uuid\",\"type\":\"t\"}", NULL, 400, INVALID, "/id" },
  { "uuid-too-short", "POST", "/jobs", JSON, "{\"id\":\"0d7c2a6e-5f1b-4c1e-9a7e-3c1f2b4d5e6\",\"type\":\"t\"}", NULL, 400, INVALID, "/id" },
  { "id-number", "POST", "/jobs", JSON, "{\"id\":12,\"type\":\"t\"}", NULL, 400, INVALID, "/id" },
  /* what reaches the database is storable (job.json 2.0.0), and each 400 names its limit */
  { "type-201-characters", "POST", "/jobs", JSON, NULL, body_type_201, 400, INVALID, "must NOT have more than 200 characters" },
  { "created-year-0000", "POST", "/jobs", JSON, "{\"type\":\"t\",\"createdAt\":\"0000-12-31T23:59:59Z\"}", NULL, 400, INVALID,
    "must not be before 0001-01-01T00:00:00Z" },
  { "created-after-9999-in-utc", "POST", "/jobs", JSON, "{\"type\":\"t\",\"createdAt\":\"9999-12-31T23:30:00-01:00\"}", NULL, 400,
    INVALID, "must not be after 9999-12-31T23:59:59.999999Z" },
  { "duration-1e300", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":{\"simulate\":{\"durationMs\":1e300}}}", NULL, 400,
    INVALID, "must be <= 600000" },
  { "fail-attempts-2-pow-64", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":{\"simulate\":{\"failAttempts\":18446744073709551616}}}",
    NULL, 400, INVALID, "must be <= 100" },
  { "simulate-nested-big", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":{\"simulate\":{\"durationMs\":[0,0,0]}}}", NULL, 400,
    INVALID, "must be integer" },
  { "number-unstorable", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":{\"n\":1e-16384}}", NULL, 400, "Malformed JSON",
    "more than 16383 digits after the decimal point" },
  { "member-twice", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":{},\"payload\":{\"simulate\":5}}", NULL, 400, INVALID,
    "must appear only once" },
  { "nested-65", "POST", "/jobs", JSON, NULL, body_nested_65, 400, "Malformed JSON", "nested deeper than 64 levels" },
  /* a body where none is taken: refused before it is read */
  { "post-healthz", "POST", "/healthz", JSON, "{\"type\":\"t\"}", NULL, 405 },
  { "get-healthz-with-body", "GET", "/healthz", JSON, "{}", NULL, 413, "GET /healthz takes no request body" },
  { "bad-date", "POST", "/jobs", JSON, "{\"type\":\"t\",\"createdAt\":\"yesterday\"}", NULL, 400, INVALID, "/createdAt" },
  { "date-without-offset", "POST", "/jobs", JSON, "{\"type\":\"t\",\"createdAt\":\"2026-01-01T00:00:00\"}", NULL, 400, INVALID, "/createdAt" },
  { "date-impossible", "POST", "/jobs", JSON, "{\"type\":\"t\",\"createdAt\":\"2026-13-45T00:00:00Z\"}", NULL, 400, INVALID, "/createdAt" },
  { "status-completed", "POST", "/jobs", JSON, "{\"id\":" ID ",\"type\":\"t\",\"status\":\"COMPLETED\",\"createdAt\":" AT "}", NULL, 400, INVALID, "/status" },
  { "status-failed", "POST", "/jobs", JSON, "{\"type\":\"t\",\"status\":\"FAILED\"}", NULL, 400, INVALID, "PENDING" },
  { "status-bogus", "POST", "/jobs", JSON, "{\"type\":\"t\",\"status\":\"DONE\"}", NULL, 400, INVALID, "/status" },
  { "status-number", "POST", "/jobs", JSON, "{\"type\":\"t\",\"status\":123}", NULL, 400, INVALID, "/status" },
  { "payload-string", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":\"x\"}", NULL, 400, INVALID, "/payload" },
  { "payload-array", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":[1]}", NULL, 400, INVALID, "/payload" },
  { "metadata-string", "POST", "/jobs", JSON, "{\"type\":\"t\",\"metadata\":\"m\"}", NULL, 400, INVALID, "/metadata" },
  { "every-error", "POST", "/jobs", JSON,
    "{\"id\":\"x\",\"type\":1,\"status\":\"DONE\",\"createdAt\":\"now\",\"payload\":[]}", NULL, 400, INVALID, NULL, 5 },
  /* payload.simulate */
  { "simulate-failrate-2", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":{\"simulate\":{\"failRate\":2}}}", NULL, 400, INVALID, "/payload/simulate/failRate" },
  { "simulate-duration-negative", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":{\"simulate\":{\"durationMs\":-1}}}", NULL, 400, INVALID, "/payload/simulate/durationMs" },
  { "simulate-duration-huge", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":{\"simulate\":{\"durationMs\":600001}}}", NULL, 400, INVALID, "/payload/simulate/durationMs" },
  { "simulate-duration-string", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":{\"simulate\":{\"durationMs\":\"1\"}}}", NULL, 400, INVALID, "/payload/simulate/durationMs" },
  { "simulate-failattempts-101", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":{\"simulate\":{\"failAttempts\":101}}}", NULL, 400, INVALID, "/payload/simulate/failAttempts" },
  { "simulate-extra-key", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":{\"simulate\":{\"sleep\":1}}}", NULL, 400, INVALID, "/payload/simulate" },
  { "simulate-not-object", "POST", "/jobs", JSON, "{\"type\":\"t\",\"payload\":{\"simulate\":true}}", NULL, 400, INVALID, "/payload/simulate" },
  { "simulate-and-job-errors", "POST", "/jobs", JSON, "{\"type\":\"t\",\"status\":\"COMPLETED\",\"payload\":{\"simulate\":{\"failRate\":-1}}}", NULL, 400, INVALID, NULL, 2 },
  /* hostile shapes */
  { "deep-arrays-10000", "POST", "/jobs", JSON, NULL, body_deep_arrays, 400, "Malformed JSON", "nested" },
  { "deep-objects-10000", "POST", "/jobs", JSON, NULL, body_deep_objects, 400, "Malformed JSON", "nested" },
  { "trailing-slash-invalid", "POST", "/jobs/", JSON, "{}", NULL, 400, INVALID },
  /* routes and methods */
  { "get-jobs", "GET", "/jobs", NULL, NULL, NULL, 405 },
  { "put-jobs", "PUT", "/jobs", JSON, "{\"type\":\"t\"}", NULL, 405 },
  { "delete-jobs", "DELETE", "/jobs", NULL, NULL, NULL, 405 },
  { "post-openapi", "POST", "/openapi.json", JSON, "{}", NULL, 405 },
  { "unknown-route", "GET", "/no/such/path", NULL, NULL, NULL, 404 },
  { "unknown-under-jobs", "POST", "/jobs/%s/cancel", NULL, NULL, NULL, 404 },
  { "retry-bad-uuid", "POST", "/jobs/not-a-uuid/retry", NULL, NULL, NULL, 400, "Invalid job id", "/id" },
  { "retry-extra-segment", "POST", "/jobs/%s/retry/now", NULL, NULL, NULL, 404 },
  { "retry-get", "GET", "/jobs/%s/retry", NULL, NULL, NULL, 405 },
  { "replay-get", "GET", "/dlq/replay", NULL, NULL, NULL, 405 },
  { "replay-limit-0", "POST", "/dlq/replay", JSON, "{\"limit\":0}", NULL, 400, NULL, "/limit" },
  { "replay-limit-1001", "POST", "/dlq/replay", JSON, "{\"limit\":1001}", NULL, 400, NULL, "/limit" },
  { "replay-limit-string", "POST", "/dlq/replay", JSON, "{\"limit\":\"5\"}", NULL, 400, NULL, "/limit" },
  { "replay-limit-float", "POST", "/dlq/replay", JSON, "{\"limit\":2.5}", NULL, 400, NULL, "/limit" },
  { "replay-array", "POST", "/dlq/replay", JSON, "[]", NULL, 400 },
  { "replay-text", "POST", "/dlq/replay", "text/plain", "limit=5", NULL, 415 },
  { "replay-malformed", "POST", "/dlq/replay", JSON, "{", NULL, 400 },
  { "replay-ids-empty", "POST", "/dlq/replay", JSON, "{\"ids\":[]}", NULL, 400, NULL, "/ids" },
  { "replay-ids-string", "POST", "/dlq/replay", JSON, "{\"ids\":\"6f1c3a52-8c3e-4a0f-9d7b-0dd0b5e2c0aa\"}", NULL, 400, NULL, "/ids" },
  { "replay-ids-101", "POST", "/dlq/replay", JSON, NULL, body_replay_101_ids, 400, NULL, "/ids" },
  { "replay-ids-not-uuid", "POST", "/dlq/replay", JSON, "{\"ids\":[\"6f1c3a52-8c3e-4a0f-9d7b-0dd0b5e2c0aa\",\"7\"]}", NULL, 400, NULL, "/ids/1" },
  { "replay-ids-number", "POST", "/dlq/replay", JSON, "{\"ids\":[7]}", NULL, 400, NULL, "/ids/0" },
  { "replay-ids-duplicate", "POST", "/dlq/replay", JSON, "{\"ids\":[\"6f1c3a52-8c3e-4a0f-9d7b-0dd0b5e2c0aa\",\"6F1C3A52-8C3E-4A0F-9D7B-0DD0B5E2C0AA\"]}", NULL, 400, NULL, "/ids/1" },
  { "replay-ids-and-limit", "POST", "/dlq/replay", JSON, "{\"limit\":5,\"ids\":[\"6f1c3a52-8c3e-4a0f-9d7b-0dd0b5e2c0aa\"]}", NULL, 400, NULL, "" },
  { "replay-misspelt-ids", "POST", "/dlq/replay", JSON, "{\"id\":[\"6f1c3a52-8c3e-4a0f-9d7b-0dd0b5e2c0aa\"]}", NULL, 400, NULL, "/id" },
};

static OddGateway *table_gateway_instance;

/* Made on first use, after the configuration tests: those change the environment, which
 * must not happen while another thread (a publisher's) may read it. The table runs against
 * the broker when there is one (nothing in it may be accepted), else against a closed port. */
static OddGateway *
table_gateway (void)
{
  if (table_gateway_instance == NULL)
    table_gateway_instance = broker_url != NULL ? broker_gateway_new (NULL, 64) : offline_gateway_new ();
  return table_gateway_instance;
}

static void
test_malformed (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *path = NULL;
  g_autofree char *made = NULL;
  g_autoptr(Response) r = NULL;
  const char *body = c->body;
  gsize len = body != NULL ? strlen (body) : 0;

  if (strstr (c->path, "%s") != NULL)
    {
      g_autofree char *id = odd_uuid_new ();
      g_auto(GStrv) parts = g_strsplit (c->path, "%s", 2);

      path = g_strconcat (parts[0], id, parts[1], NULL);
    }
  else
    {
      path = g_strdup (c->path);
    }

  if (c->make_body != NULL)
    {
      made = c->make_body (&len);
      body = made;
    }

  r = request_full (table_gateway (), c->method, path, c->content_type, body, len, NULL);
  assert_error (r, c->status, c->error);
  if (c->mentions != NULL && !details_mention (r->json, c->mentions))
    {
      g_autofree char *json = odd_json_to_string (r->json);

      g_error ("%s: no detail mentions \"%s\": %s", c->name, c->mentions, json);
    }
  g_assert_cmpuint (n_details (r->json), >=, c->min_details);
}

/* A chunked body (no Content-Length) over the limit: dropped as it arrives, then 413. */
static void
test_too_large_chunked (void)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/jobs", odd_gateway_get_port (table_gateway ()));
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  gsize len = 3 * ODD_GATEWAY_MAX_BODY_BYTES;
  char *data = g_malloc (len);
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  Response response = { 0 };
  Call call = { .response = &response };

  memset (data, ' ', len);
  data[0] = '{';
  data[len - 1] = '}';
  stream = g_memory_input_stream_new_from_data (data, len, g_free);
  soup_message_set_request_body (msg, "application/json", stream, -1);
  g_assert_cmpint (soup_message_headers_get_encoding (soup_message_get_request_headers (msg)), ==,
                   SOUP_ENCODING_CHUNKED);

  /* Async: the gateway answers from this thread's main loop. */
  call.msg = msg;
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_sent, &call);
  g_assert_true (wait_for (response_done, &response, 30000));
  g_assert_null (response.transport_error);
  assert_error (&response, 413, NULL);

  g_free (response.content_type);
  g_clear_pointer (&response.headers, soup_message_headers_unref);
  g_clear_pointer (&response.body, g_bytes_unref);
  g_clear_pointer (&response.json, json_node_unref);
}

/* ---- tests: headers, auth, failures ---- */

static void
test_correlation_id (void)
{
  g_autoptr(OddGateway) gateway = offline_gateway_new ();
  const char *mine = "6f1c3a52-8c3e-4a0f-9d7b-0dd0b5e2c0aa";
  g_autoptr(Response) echoed = request_full (gateway, "POST", "/jobs", JSON, "{}", 2,
                                             (const char *[]) { "X-Correlation-Id", mine, NULL });
  g_autoptr(Response) replaced = request_full (gateway, "POST", "/jobs", JSON, "{}", 2,
                                               (const char *[]) { "X-Correlation-Id", "not-a-uuid", NULL });
  g_autoptr(Response) made = request (gateway, "GET", "/healthz", NULL);
  const char *value;

  g_assert_cmpstr (soup_message_headers_get_one (echoed->headers, "X-Correlation-Id"), ==, mine);

  value = soup_message_headers_get_one (replaced->headers, "X-Correlation-Id");
  g_assert_nonnull (value);
  g_assert_true (odd_uuid_is_valid (value));
  g_assert_cmpstr (value, !=, "not-a-uuid");

  value = soup_message_headers_get_one (made->headers, "X-Correlation-Id");
  g_assert_nonnull (value);
  g_assert_true (odd_uuid_is_valid (value));

  /* A browser on another origin may submit: the preflight is answered, answers carry CORS. */
  {
    g_autoptr(Response) preflight = request_full (gateway, "OPTIONS", "/jobs", NULL, NULL, 0,
                                                  (const char *[]) { "Origin", "http://localhost:8081",
                                                                     "Access-Control-Request-Method", "POST", NULL });

    g_assert_cmpuint (preflight->status, ==, 200);
    g_assert_cmpstr (soup_message_headers_get_one (preflight->headers, "Access-Control-Allow-Origin"), ==, "*");
    g_assert_nonnull (strstr (soup_message_headers_get_one (preflight->headers, "Access-Control-Allow-Headers"),
                              "Authorization"));
    g_assert_cmpstr (soup_message_headers_get_one (echoed->headers, "Access-Control-Allow-Origin"), ==, "*");
  }
}

static void
test_auth (void)
{
  g_autoptr(OddGateway) gateway = gateway_new_full (closed_url, NULL, "t0ken-for-tests", 64);
  static const char *const posts[] = { "/jobs", "/jobs/6f1c3a52-8c3e-4a0f-9d7b-0dd0b5e2c0aa/retry", "/dlq/replay", NULL };

  for (guint i = 0; posts[i] != NULL; i++)
    {
      g_autoptr(Response) none = request (gateway, "POST", posts[i], "{\"type\":\"t\"}");
      g_autoptr(Response) wrong = request_full (gateway, "POST", posts[i], JSON, "{\"type\":\"t\"}", 12,
                                                (const char *[]) { "Authorization", "Bearer t0ken-for-test", NULL });
      g_autoptr(Response) basic = request_full (gateway, "POST", posts[i], JSON, "{\"type\":\"t\"}", 12,
                                                (const char *[]) { "Authorization", "Basic dDA6a2Vu", NULL });

      assert_error (none, 401, NULL);
      g_assert_cmpstr (soup_message_headers_get_one (none->headers, "WWW-Authenticate"), ==, "Bearer");
      assert_error (wrong, 401, NULL);
      assert_error (basic, 401, NULL);
    }

  /* The right token gets past the check: here to validation and to the broker check. */
  {
    g_autoptr(Response) invalid = request_full (gateway, "POST", "/jobs", JSON, "{}", 2,
                                                (const char *[]) { "Authorization", "Bearer t0ken-for-tests", NULL });
    g_autoptr(Response) valid = request_full (gateway, "POST", "/jobs", JSON, "{\"type\":\"t\"}", 12,
                                              (const char *[]) { "Authorization", "bearer t0ken-for-tests", NULL });

    assert_error (invalid, 400, INVALID);
    assert_error (valid, 503, "Broker unavailable, job not accepted");
  }

  /* GETs stay open. */
  {
    g_autoptr(Response) health = request (gateway, "GET", "/healthz", NULL);
    g_autoptr(Response) openapi = request (gateway, "GET", "/openapi.json", NULL);

    g_assert_cmpuint (health->status, ==, 200);
    g_assert_cmpuint (openapi->status, ==, 200);
  }
}

static char *
metrics_text (OddGateway *gateway)
{
  g_autoptr(Response) r = request (gateway, "GET", "/metrics", NULL);

  g_assert_cmpuint (r->status, ==, 200);
  return g_strndup (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body));
}

static void
test_broker_down (void)
{
  g_autoptr(OddGateway) gateway = offline_gateway_new ();
  g_autoptr(Response) job = request (gateway, "POST", "/jobs", "{\"type\":\"t\"}");
  g_autoptr(Response) ready = request (gateway, "GET", "/readyz", NULL);
  g_autoptr(Response) health = request (gateway, "GET", "/healthz", NULL);
  g_autoptr(Response) invalid = request (gateway, "POST", "/jobs", "{\"type\":\"t\",\"id\":\"x\"}");
  g_autoptr(Response) replay = NULL;
  g_autofree char *metrics = NULL;

  assert_error (job, 503, "Broker unavailable, job not accepted");
  g_assert_cmpstr (soup_message_headers_get_one (job->headers, "Retry-After"), ==, "1");

  g_assert_cmpuint (ready->status, ==, 503);
  g_assert_cmpstr (member_string (ready->json, "status"), ==, "not_ready");
  g_assert_nonnull (member_string (ready->json, "reason"));
  g_assert_cmpuint (health->status, ==, 200);
  assert_error (invalid, 400, INVALID);

  replay = request (gateway, "POST", "/dlq/replay", NULL);
  assert_error (replay, 503, NULL);
  g_assert_cmpstr (soup_message_headers_get_one (replay->headers, "Retry-After"), ==, "1");

  metrics = metrics_text (gateway);
  g_assert_nonnull (strstr (metrics, "gateway_jobs_rejected_total{service=\"gateway\",reason=\"broker_unavailable\"} 1"));
  g_assert_nonnull (strstr (metrics, "gateway_jobs_rejected_total{service=\"gateway\",reason=\"invalid\"} 1"));
  g_assert_nonnull (strstr (metrics, "gateway_amqp_connected{service=\"gateway\"} 0"));
  /* Counted after validation: the valid job only. */
  g_assert_nonnull (strstr (metrics, "gateway_jobs_submitted_total{service=\"gateway\"} 1"));
  g_assert_null (strstr (metrics, "type=\""));
}

static void
test_retry_read_model (void)
{
  g_autoptr(ReadModel) rm = read_model_new ();
  g_autoptr(OddGateway) down = offline_gateway_new ();
  g_autoptr(OddGateway) gateway = gateway_new_full (closed_url, rm->url, NULL, 64);
  g_autofree char *unknown = odd_uuid_new ();
  g_autofree char *completed = odd_uuid_new ();
  g_autofree char *garbled = odd_uuid_new ();
  g_autofree char *failed = odd_uuid_new ();
  g_autofree char *path = NULL;

  read_model_add (rm, completed, "COMPLETED", 0);
  read_model_add (rm, failed, "FAILED", 0);
  g_hash_table_replace (rm->answers, g_strdup (garbled), g_strdup ("{\"job\":{\"status\":\"FAILED\"}}"));

  /* The read model is not there at all. */
  path = g_strdup_printf ("/jobs/%s/retry", unknown);
  {
    g_autoptr(Response) r = request (down, "POST", path, NULL);

    assert_error (r, 503, "Read model unavailable");
    g_assert_cmpstr (soup_message_headers_get_one (r->headers, "Retry-After"), ==, "1");
  }
  {
    g_autoptr(Response) r = request (gateway, "POST", path, NULL);

    assert_error (r, 404, "Job not found");
  }
  g_free (path);
  path = g_strdup_printf ("/jobs/%s/retry", completed);
  {
    g_autoptr(Response) r = request (gateway, "POST", path, NULL);

    assert_error (r, 409, "Only FAILED jobs can be retried");
    g_assert_true (details_mention (r->json, "is COMPLETED"));
    g_assert_true (details_mention (r->json, "/status"));
  }
  g_free (path);
  path = g_strdup_printf ("/jobs/%s/retry", garbled);
  {
    g_autoptr(Response) r = request (gateway, "POST", path, NULL);

    assert_error (r, 502, NULL);
  }
  /* Odd shapes from the read model are answered, never a crash or a critical. */
  {
    static const char *const shapes[] = {
      "{\"job\":{\"id\":{},\"status\":[],\"generation\":{}}}",
      "[1,2]",
      "\"FAILED\"",
      "not json at all",
      "{\"job\":{\"id\":\"00000000-0000-4000-8000-000000000000\",\"type\":\"t\",\"status\":\"FAILED\","
      "\"createdAt\":\"2026-01-01T00:00:00Z\",\"generation\":0}}",
      "{\"job\":{\"id\":\"%s\",\"type\":{},\"status\":\"FAILED\",\"createdAt\":\"2026-01-01T00:00:00Z\"}}",
    };

    for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
      {
        g_autofree char *id = odd_uuid_new ();
        g_autofree char *shape_path = g_strdup_printf ("/jobs/%s/retry", id);
        g_auto(GStrv) parts = g_strsplit (shapes[i], "%s", -1);
        g_autoptr(Response) r = NULL;

        g_hash_table_replace (rm->answers, g_strdup (id), g_strjoinv (id, parts));
        r = request (gateway, "POST", shape_path, NULL);
        if (r->status != 502 && r->status != 409)
          g_error ("read model answer %s: got %u", shapes[i], r->status);
        assert_error (r, r->status, NULL);
      }
  }
  /* A FAILED job with the broker down: nothing is accepted. */
  g_free (path);
  path = g_strdup_printf ("/jobs/%s/retry", failed);
  {
    g_autoptr(Response) r = request (gateway, "POST", path, NULL);

    assert_error (r, 503, "Broker unavailable, job not accepted");
  }
}

/* ---- tests with the broker ---- */

static void
test_broker_accepted (void)
{
  g_autoptr(OddGateway) gateway = NULL;
  const char *correlation_id = "0b8f7a2c-1d3e-4f5a-8b9c-0d1e2f3a4b5c";
  g_autoptr(Response) r = NULL;
  g_autoptr(Got) got = NULL;
  g_autofree char *metrics = NULL;
  JsonObject *envelope, *job;
  const char *job_id, *event_id;

  SKIP_WITHOUT_BROKER ();
  broker_purge (ODD_QUEUE_JOBS_CREATED);
  gateway = broker_gateway_new (NULL, 64);

  r = request_full (gateway, "POST", "/jobs", JSON,
                    "{\"type\":\"report\",\"payload\":{\"simulate\":{\"durationMs\":5}}}", 57,
                    (const char *[]) { "X-Correlation-Id", correlation_id, NULL });
  g_assert_cmpuint (r->status, ==, 202);
  assert_valid ("job-accepted", r->json);
  job_id = member_string (r->json, "jobId");
  event_id = member_string (r->json, "eventId");

  /* 202 only after the confirm: the message is on the queue by now. */
  got = broker_get (ODD_QUEUE_JOBS_CREATED);
  g_assert_nonnull (got);
  g_assert_cmpstr (got->message_id, ==, event_id);
  g_assert_cmpstr (got->correlation_id, ==, correlation_id);
  g_assert_cmpstr (got->content_type, ==, "application/json");
  g_assert_cmpstr (got->type, ==, "job.created");
  g_assert_cmpuint (got->delivery_mode, ==, 2);

  assert_valid ("event-envelope", got->body);
  envelope = json_node_get_object (got->body);
  g_assert_cmpstr (json_object_get_string_member (envelope, "eventType"), ==, "job.created");
  g_assert_cmpstr (json_object_get_string_member (envelope, "eventId"), ==, event_id);
  g_assert_cmpstr (json_object_get_string_member (envelope, "correlationId"), ==, correlation_id);
  g_assert_cmpstr (json_object_get_string_member (envelope, "idempotencyKey"), ==, job_id);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (envelope, "producer"), "service"),
                   ==, "gateway");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (envelope, "producer"), "version"),
                   ==, ODD_VERSION);
  assert_valid ("job", json_object_get_member (envelope, "payload"));
  job = json_object_get_object_member (envelope, "payload");
  g_assert_cmpstr (json_object_get_string_member (job, "id"), ==, job_id);
  g_assert_cmpstr (json_object_get_string_member (job, "status"), ==, "PENDING");
  g_assert_cmpstr (json_object_get_string_member (job, "type"), ==, "report");

  g_assert_null (broker_get (ODD_QUEUE_JOBS_CREATED));

  metrics = metrics_text (gateway);
  g_assert_nonnull (strstr (metrics, "gateway_jobs_accepted_total{service=\"gateway\"} 1"));
  g_assert_nonnull (strstr (metrics, "gateway_publish_confirm_seconds_count{service=\"gateway\"} 1"));
  g_assert_nonnull (strstr (metrics, "gateway_amqp_connected{service=\"gateway\"} 1"));
}

static void
test_broker_full_job (void)
{
  g_autoptr(OddGateway) gateway = NULL;
  g_autofree char *id = NULL;
  g_autofree char *body = NULL;
  g_autoptr(Response) r = NULL;
  g_autoptr(Got) got = NULL;
  JsonObject *job;

  SKIP_WITHOUT_BROKER ();
  broker_purge (ODD_QUEUE_JOBS_CREATED);
  gateway = broker_gateway_new (NULL, 64);

  /* Extra fields are allowed and kept, the client's id, createdAt and metadata too. */
  id = odd_uuid_new ();
  body = g_strdup_printf ("{\"id\":\"%s\",\"type\":\"data-processing\",\"status\":\"PENDING\","
                          "\"createdAt\":\"2026-01-02T03:04:05+02:00\",\"payload\":{\"task\":\"x\"},"
                          "\"metadata\":{\"by\":\"test\"},\"extraField\":\"kept\",\"anotherExtra\":42}", id);
  r = request (gateway, "POST", "/jobs/", body);
  g_assert_cmpuint (r->status, ==, 202);
  g_assert_cmpstr (member_string (r->json, "jobId"), ==, id);

  got = broker_get (ODD_QUEUE_JOBS_CREATED);
  g_assert_nonnull (got);
  job = json_object_get_object_member (json_node_get_object (got->body), "payload");
  g_assert_cmpstr (json_object_get_string_member (job, "id"), ==, id);
  g_assert_cmpstr (json_object_get_string_member (job, "createdAt"), ==, "2026-01-02T03:04:05+02:00");
  g_assert_cmpstr (json_object_get_string_member (job, "extraField"), ==, "kept");
  g_assert_cmpint (json_object_get_int_member (job, "anotherExtra"), ==, 42);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (job, "metadata"), "by"), ==, "test");
}

static void
test_broker_retry (void)
{
  g_autoptr(ReadModel) rm = NULL;
  g_autoptr(OddGateway) gateway = NULL;
  g_autofree char *id = odd_uuid_new ();
  g_autofree char *path = NULL;
  g_autofree char *key = NULL;
  g_autoptr(Response) r = NULL;
  g_autoptr(Response) again = NULL;
  g_autoptr(Got) got = NULL;
  JsonObject *envelope, *job;

  SKIP_WITHOUT_BROKER ();
  broker_purge (ODD_QUEUE_JOBS_CREATED);
  rm = read_model_new ();
  gateway = broker_gateway_new (rm->url, 64);
  read_model_add (rm, id, "FAILED", 2);

  path = g_strdup_printf ("/jobs/%s/retry", id);
  r = request (gateway, "POST", path, NULL);
  g_assert_cmpuint (r->status, ==, 202);
  assert_valid ("job-retry", r->json);
  g_assert_cmpstr (member_string (r->json, "jobId"), ==, id);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (r->json), "generation"), ==, 3);

  got = broker_get (ODD_QUEUE_JOBS_CREATED);
  g_assert_nonnull (got);
  assert_valid ("event-envelope", got->body);
  envelope = json_node_get_object (got->body);
  key = g_strdup_printf ("%s/retry/3", id);
  g_assert_cmpstr (json_object_get_string_member (envelope, "idempotencyKey"), ==, key);
  g_assert_cmpstr (json_object_get_string_member (envelope, "eventId"), ==, member_string (r->json, "eventId"));
  job = json_object_get_object_member (envelope, "payload");
  assert_valid ("job", json_object_get_member (envelope, "payload"));
  g_assert_cmpstr (json_object_get_string_member (job, "status"), ==, "PENDING");
  g_assert_cmpstr (json_object_get_string_member (job, "createdAt"), ==, "2026-01-01T00:00:00.000Z");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (job, "payload"), "n"), ==, 7);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (job, "metadata"), "retryGeneration"),
                   ==, 3);

  /* Asking again for the same generation makes the same event: the processor drops the copy. */
  again = request (gateway, "POST", path, NULL);
  g_assert_cmpuint (again->status, ==, 202);
  g_assert_cmpstr (member_string (again->json, "eventId"), ==, member_string (r->json, "eventId"));
}

static char *
job_created_envelope (const char *job_id,
                      const char *extra_payload)
{
  g_autofree char *event_id = odd_uuid_new ();
  g_autofree char *correlation_id = odd_uuid_new ();

  return g_strdup_printf ("{\"contractVersion\":\"1.0.0\",\"eventType\":\"job.created\",\"eventId\":\"%s\","
                          "\"occurredAt\":\"2026-01-01T00:00:00.000Z\","
                          "\"producer\":{\"service\":\"gateway\",\"instanceId\":\"t\",\"version\":\"0.1.0\"},"
                          "\"correlationId\":\"%s\",\"idempotencyKey\":\"%s\","
                          "\"payload\":{\"id\":\"%s\",\"type\":\"dlq-test\",\"status\":\"PENDING\","
                          "\"createdAt\":\"2026-01-01T00:00:00.000Z\",\"payload\":{%s}}}",
                          event_id, correlation_id, job_id, job_id, extra_payload);
}

static char *
dead_letter (const char *original_event,
             const char *reason,
             const char *queue,
             int         generation)
{
  return g_strdup_printf ("{\"original_event\":%s,\"validation_error\":\"test\","
                          "\"rejected_at\":\"2026-01-01T00:00:01Z\",\"correlation_id\":\"c\","
                          "\"service\":\"processor\",\"service_version\":\"0.1.0\",\"reason\":\"%s\","
                          "\"queue\":\"%s\",\"generation\":%d}",
                          original_event, reason, queue, generation);
}

typedef struct {
  const char *queue;
  guint       count;
} QueueCount;

static gboolean
queue_has (gpointer data)
{
  QueueCount *q = data;

  if (broker_count (q->queue) == q->count)
    return TRUE;
  spin (50);
  return FALSE;
}

static void
test_broker_dlq_replay (void)
{
  g_autoptr(OddGateway) gateway = NULL;
  g_autofree char *dead_id = odd_uuid_new ();
  g_autofree char *fixed_id = odd_uuid_new ();
  g_autofree char *dead_event = job_created_envelope (dead_id, "\"simulate\":{\"failAttempts\":9}");
  g_autofree char *fixed_event = job_created_envelope (fixed_id, "");
  g_autofree char *invalid_event = job_created_envelope ("not-a-uuid", "");
  g_autofree char *letter = NULL;
  g_autoptr(Response) r = NULL;
  g_autoptr(Response) none = NULL;
  gboolean seen_dead = FALSE, seen_fixed = FALSE;
  QueueCount kept = { ODD_QUEUE_FAILED_VALIDATION, 2 };
  QueueCount kept_dead = { ODD_QUEUE_DEAD, 1 };

  SKIP_WITHOUT_BROKER ();
  broker_purge (ODD_QUEUE_JOBS_CREATED);
  broker_purge (ODD_QUEUE_DEAD);
  broker_purge (ODD_QUEUE_FAILED_VALIDATION);
  gateway = broker_gateway_new (NULL, 64);

  letter = dead_letter (dead_event, "retries_exhausted", "jobs.created", 1);
  broker_publish (ODD_QUEUE_DEAD, letter);
  g_free (letter);
  letter = dead_letter (fixed_event, "invalid", "jobs.created", 0);
  broker_publish (ODD_QUEUE_FAILED_VALIDATION, letter);
  g_free (letter);
  letter = dead_letter (invalid_event, "invalid", "jobs.created", 0);
  broker_publish (ODD_QUEUE_FAILED_VALIDATION, letter);
  g_free (letter);
  letter = dead_letter ("\"{not json\"", "unparseable", "jobs.created", 0);
  broker_publish (ODD_QUEUE_FAILED_VALIDATION, letter);
  g_free (letter);
  /* A dead letter whose job is not a job: kept, not retried, no crash. */
  letter = dead_letter ("{\"payload\":{\"id\":{},\"type\":1,\"metadata\":\"m\"}}", "retries_exhausted",
                        "jobs.created", 0);
  broker_publish (ODD_QUEUE_DEAD, letter);

  r = request (gateway, "POST", "/dlq/replay", "{\"limit\":50}");
  g_assert_cmpuint (r->status, ==, 200);
  assert_valid ("dlq-replay", r->json);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (r->json), "replayed"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (r->json), "kept"), ==, 3);
  {
    JsonArray *details = json_object_get_array_member (json_node_get_object (r->json), "details");
    guint still_invalid = 0;

    g_assert_cmpuint (json_array_get_length (details), ==, 3);
    for (guint i = 0; i < 3; i++)
      if (strstr (json_object_get_string_member (json_array_get_object_element (details, i), "reason"),
                  "still invalid") != NULL)
        still_invalid++;
    g_assert_cmpuint (still_invalid, ==, 1);
  }

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(Got) got = broker_get (ODD_QUEUE_JOBS_CREATED);
      JsonObject *job;
      const char *id;

      g_assert_nonnull (got);
      assert_valid ("event-envelope", got->body);
      job = json_object_get_object_member (json_node_get_object (got->body), "payload");
      id = json_object_get_string_member (job, "id");
      if (g_str_equal (id, dead_id))
        {
          /* The dead job comes back as its next generation, its payload unchanged. */
          g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (job, "metadata"),
                                                       "retryGeneration"), ==, 2);
          g_assert_true (json_object_has_member (json_object_get_object_member (job, "payload"), "simulate"));
          seen_dead = TRUE;
        }
      else
        {
          g_assert_cmpstr (id, ==, fixed_id);
          seen_fixed = TRUE;
        }
    }
  g_assert_true (seen_dead && seen_fixed);
  g_assert_null (broker_get (ODD_QUEUE_JOBS_CREATED));

  /* The still-invalid ones are back in their queue; the retried dead one is gone. */
  g_assert_true (wait_for (queue_has, &kept, 5000));
  g_assert_true (wait_for (queue_has, &kept_dead, 5000));

  /* A second replay reads each kept one once and stops. */
  none = request (gateway, "POST", "/dlq/replay", NULL);
  g_assert_cmpuint (none->status, ==, 200);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (none->json), "replayed"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (none->json), "kept"), ==, 3);
  g_assert_true (wait_for (queue_has, &kept, 5000));
  broker_purge (ODD_QUEUE_FAILED_VALIDATION);
  broker_purge (ODD_QUEUE_DEAD);
}

/* A dead letter of a job that exhausted its retries, keyed like the processor's. */
static char *
publish_dead_job (const char *queue,
                  char      **job_id)
{
  g_autofree char *id = odd_uuid_new ();
  g_autofree char *event = job_created_envelope (id, "\"n\":1");
  g_autofree char *letter = dead_letter (event, g_str_equal (queue, ODD_QUEUE_DEAD) ? "retries_exhausted" : "invalid",
                                         "jobs.created", 0);
  char *key = odd_uuid_new ();

  broker_publish_keyed (queue, letter, key);
  *job_id = g_steal_pointer (&id);
  return key;
}

static const char *
created_job_id (Got *got)
{
  return json_object_get_string_member (json_object_get_object_member (json_node_get_object (got->body), "payload"), "id");
}

typedef struct {
  Response *responses;
  guint     n;
} Concurrent;

static gboolean
all_answered (gpointer data)
{
  Concurrent *c = data;

  for (guint i = 0; i < c->n; i++)
    if (!c->responses[i].done)
      return FALSE;
  return TRUE;
}

static void
test_broker_dlq_replay_ids (void)
{
  g_autoptr(OddGateway) gateway = NULL;
  g_autofree char *job1 = NULL, *job2 = NULL, *job3 = NULL, *job4 = NULL;
  g_autofree char *key1 = NULL, *key2 = NULL, *key3 = NULL, *key4 = NULL;
  g_autofree char *unknown = odd_uuid_new ();
  g_autofree char *body = NULL;
  g_autoptr(Response) r = NULL;
  g_autoptr(Response) again = NULL;
  g_autoptr(Response) partly = NULL;
  QueueCount two_dead = { ODD_QUEUE_DEAD, 2 };
  QueueCount one_dead = { ODD_QUEUE_DEAD, 1 };
  QueueCount no_invalid = { ODD_QUEUE_FAILED_VALIDATION, 0 };
  gboolean seen2 = FALSE, seen4 = FALSE;
  Response racing[4] = { 0 };
  Call calls[4] = { 0 };
  Concurrent all = { racing, G_N_ELEMENTS (racing) };
  guint won = 0, lost = 0;

  SKIP_WITHOUT_BROKER ();
  broker_purge (ODD_QUEUE_JOBS_CREATED);
  broker_purge (ODD_QUEUE_DEAD);
  broker_purge (ODD_QUEUE_FAILED_VALIDATION);
  gateway = broker_gateway_new (NULL, 64);

  key1 = publish_dead_job (ODD_QUEUE_DEAD, &job1);
  key2 = publish_dead_job (ODD_QUEUE_DEAD, &job2);
  key3 = publish_dead_job (ODD_QUEUE_DEAD, &job3);
  key4 = publish_dead_job (ODD_QUEUE_FAILED_VALIDATION, &job4);

  /* Two named ones, from both queues (one in upper case): exactly those go back. */
  {
    g_autofree char *upper = g_ascii_strup (key4, -1);

    body = g_strdup_printf ("{\"ids\":[\"%s\",\"%s\"]}", key2, upper);
  }
  r = request (gateway, "POST", "/dlq/replay", body);
  g_assert_cmpuint (r->status, ==, 200);
  assert_valid ("dlq-replay", r->json);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (r->json), "replayed"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (r->json), "kept"), ==, 0);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(Got) got = broker_get (ODD_QUEUE_JOBS_CREATED);

      g_assert_nonnull (got);
      seen2 |= g_str_equal (created_job_id (got), job2);
      seen4 |= g_str_equal (created_job_id (got), job4);
    }
  g_assert_true (seen2 && seen4);
  g_assert_null (broker_get (ODD_QUEUE_JOBS_CREATED));
  g_assert_true (wait_for (queue_has, &two_dead, 5000));
  g_assert_true (wait_for (queue_has, &no_invalid, 5000));

  /* Named again: it is not waiting any more. 404, nothing published. */
  again = request (gateway, "POST", "/dlq/replay", body);
  assert_error (again, 404, "Dead letters not found, none replayed");
  g_assert_true (details_mention (again->json, "/ids/0"));
  g_assert_null (broker_get (ODD_QUEUE_JOBS_CREATED));

  /* One known, one unknown: all or none, and the answer names the unknown one. */
  g_free (body);
  body = g_strdup_printf ("{\"ids\":[\"%s\",\"%s\"]}", key1, unknown);
  partly = request (gateway, "POST", "/dlq/replay", body);
  assert_error (partly, 404, NULL);
  g_assert_true (details_mention (partly->json, "/ids/1"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (partly->json), "details")), ==, 1);
  g_assert_null (broker_get (ODD_QUEUE_JOBS_CREATED));
  g_assert_true (wait_for (queue_has, &two_dead, 5000));

  /* Hostile: the same letter named by several requests at once is published once. */
  g_free (body);
  body = g_strdup_printf ("{\"ids\":[\"%s\"]}", key3);
  for (guint i = 0; i < G_N_ELEMENTS (racing); i++)
    start_request (gateway, "POST", "/dlq/replay", "application/json", body, strlen (body), NULL, NULL,
                   &racing[i], &calls[i]);
  g_assert_true (wait_for (all_answered, &all, 30000));
  for (guint i = 0; i < G_N_ELEMENTS (racing); i++)
    {
      g_assert_null (racing[i].transport_error);
      if (racing[i].status == 200)
        {
          g_assert_cmpint (json_object_get_int_member (json_node_get_object (racing[i].json), "replayed"), ==, 1);
          won++;
        }
      else
        {
          g_assert_cmpuint (racing[i].status, ==, 404);
          lost++;
        }
      g_object_unref (calls[i].msg);
      g_clear_pointer (&racing[i].content_type, g_free);
      g_clear_pointer (&racing[i].headers, soup_message_headers_unref);
      g_clear_pointer (&racing[i].body, g_bytes_unref);
      g_clear_pointer (&racing[i].json, json_node_unref);
    }
  g_assert_cmpuint (won, ==, 1);
  g_assert_cmpuint (lost, ==, G_N_ELEMENTS (racing) - 1);
  {
    g_autoptr(Got) got = broker_get (ODD_QUEUE_JOBS_CREATED);

    g_assert_nonnull (got);
    g_assert_cmpstr (created_job_id (got), ==, job3);
  }
  g_assert_null (broker_get (ODD_QUEUE_JOBS_CREATED));

  /* The one never named is still there, untouched. */
  g_assert_true (wait_for (queue_has, &one_dead, 5000));
  {
    g_autoptr(Got) left = broker_get (ODD_QUEUE_DEAD);

    g_assert_nonnull (left);
    g_assert_cmpstr (left->message_id, ==, key1);
  }
  broker_purge (ODD_QUEUE_DEAD);
}

typedef struct {
  Response *responses;
  guint     n;
} Batch;

static gboolean
batch_done (gpointer data)
{
  Batch *batch = data;

  for (guint i = 0; i < batch->n; i++)
    if (!batch->responses[i].done)
      return FALSE;
  return TRUE;
}

static void
test_broker_overload (void)
{
  g_autoptr(OddGateway) gateway = NULL;
  enum { N = 200 };
  Response responses[N] = { { 0 } };
  Call calls[N] = { { 0 } };
  Batch batch = { responses, N };
  guint accepted = 0, overloaded = 0, queued = 0;
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *body = "{\"type\":\"burst\"}";
  g_autoptr(Got) got = NULL;

  SKIP_WITHOUT_BROKER ();
  broker_purge (ODD_QUEUE_JOBS_CREATED);
  /* One publish in flight at a time: a burst must get some 503s and lose nothing. */
  gateway = broker_gateway_new (NULL, 1);

  for (guint i = 0; i < N; i++)
    start_request (gateway, "POST", "/jobs", JSON, body, strlen (body), NULL, NULL, &responses[i], &calls[i]);
  g_assert_true (wait_for (batch_done, &batch, 60000));

  for (guint i = 0; i < N; i++)
    {
      Response *r = &responses[i];

      if (r->transport_error != NULL)
        g_error ("request %u of the burst failed: %s", i, r->transport_error);
      if (r->status == 202)
        {
          accepted++;
          g_hash_table_add (ids, g_strdup (member_string (r->json, "jobId")));
        }
      else
        {
          assert_error (r, 503, "Gateway overloaded, job not accepted");
          g_assert_cmpstr (soup_message_headers_get_one (r->headers, "Retry-After"), ==, "1");
          overloaded++;
        }
      g_object_unref (calls[i].msg);
      g_free (r->content_type);
      g_clear_pointer (&r->headers, soup_message_headers_unref);
      g_clear_pointer (&r->body, g_bytes_unref);
      g_clear_pointer (&r->json, json_node_unref);
    }
  g_test_message ("burst of %d with 1 outstanding: %u accepted, %u overloaded", N, accepted, overloaded);
  g_assert_cmpuint (accepted, >, 0);
  g_assert_cmpuint (accepted + overloaded, ==, N);

  /* Every 202 is on the queue, and nothing else. */
  while ((got = broker_get (ODD_QUEUE_JOBS_CREATED)) != NULL)
    {
      const char *id = json_object_get_string_member (
        json_object_get_object_member (json_node_get_object (got->body), "payload"), "id");

      g_assert_true (g_hash_table_contains (ids, id));
      queued++;
      g_clear_pointer (&got, got_free);
    }
  g_assert_cmpuint (queued, ==, accepted);
}

static gboolean
outstanding_zero (gpointer data)
{
  return odd_gateway_get_outstanding (data) == 0;
}

static void
test_broker_client_gone (void)
{
  g_autoptr(OddGateway) gateway = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Response response = { 0 };
  Call call = { 0 };
  const char *body = "{\"type\":\"gone\"}";

  SKIP_WITHOUT_BROKER ();
  broker_purge (ODD_QUEUE_JOBS_CREATED);
  gateway = broker_gateway_new (NULL, 64);

  /* The client hangs up while its job waits for the confirm. */
  start_request (gateway, "POST", "/jobs", JSON, body, strlen (body), NULL, cancellable, &response, &call);
  while (odd_gateway_get_outstanding (gateway) == 0 && !response.done)
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (cancellable);
  g_assert_true (wait_for (response_done, &response, 10000));
  g_assert_true (wait_for (outstanding_zero, gateway, 10000));
  g_object_unref (call.msg);
  g_free (response.transport_error);
  g_clear_pointer (&response.body, g_bytes_unref);
  g_clear_pointer (&response.headers, soup_message_headers_unref);
  g_clear_pointer (&response.json, json_node_unref);
  g_free (response.content_type);

  /* Still serving. */
  {
    g_autoptr(Response) r = request (gateway, "POST", "/jobs", body);

    g_assert_cmpuint (r->status, ==, 202);
  }
  broker_purge (ODD_QUEUE_JOBS_CREATED);
}

/* ---- a TCP proxy to the broker that can be cut, for the reconnect test ---- */

typedef struct {
  GSocketService *service;
  guint           port;
  guint16         upstream_port;
  GPtrArray      *streams;    /* GIOStream: both ends of every proxied connection */
  gboolean        cut;
} Proxy;

static void
on_spliced (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_io_stream_splice_finish (result, NULL);
}

static gboolean
on_proxy_incoming (GSocketService    *service,
                   GSocketConnection *connection,
                   GObject           *source_object,
                   gpointer           user_data)
{
  Proxy *proxy = user_data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) upstream = NULL;

  if (proxy->cut)
    return FALSE;   /* dropped: closes the client's connection */

  /* Synchronous, to loopback: the test's main loop may block this long. */
  upstream = g_socket_client_connect_to_host (client, "127.0.0.1", proxy->upstream_port, NULL, NULL);
  if (upstream == NULL)
    return FALSE;

  g_ptr_array_add (proxy->streams, g_object_ref (connection));
  g_ptr_array_add (proxy->streams, g_object_ref (upstream));
  g_io_stream_splice_async (G_IO_STREAM (connection), G_IO_STREAM (upstream),
                            G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                            G_PRIORITY_DEFAULT, NULL, on_spliced, NULL);
  return TRUE;
}

static Proxy *
proxy_new (const char *upstream_url)
{
  Proxy *proxy = g_new0 (Proxy, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = NULL;

  /* GUri knows amqp:// as a generic URI: the port is what matters. */
  uri = g_uri_parse (upstream_url, G_URI_FLAGS_NONE, &error);
  g_assert_no_error (error);
  proxy->upstream_port = g_uri_get_port (uri) > 0 ? (guint16) g_uri_get_port (uri) : 5672;
  proxy->streams = g_ptr_array_new_with_free_func (g_object_unref);
  proxy->service = g_socket_service_new ();
  proxy->port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (proxy->service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (proxy->service, "incoming", G_CALLBACK (on_proxy_incoming), proxy);
  g_socket_service_start (proxy->service);

  return proxy;
}

/* Drops every proxied connection and refuses new ones, like a broker gone away. */
static void
proxy_cut (Proxy *proxy)
{
  proxy->cut = TRUE;
  for (guint i = 0; i < proxy->streams->len; i++)
    g_io_stream_close (g_ptr_array_index (proxy->streams, i), NULL, NULL);
  g_ptr_array_set_size (proxy->streams, 0);
}

static void
proxy_free (Proxy *proxy)
{
  proxy_cut (proxy);
  g_socket_service_stop (proxy->service);
  g_socket_listener_close (G_SOCKET_LISTENER (proxy->service));
  g_object_unref (proxy->service);
  g_ptr_array_unref (proxy->streams);
  g_free (proxy);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Proxy, proxy_free)

/* The broker URL with its port replaced by the proxy's. */
static char *
via_proxy (const char *url,
           Proxy      *proxy)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_HAS_PASSWORD, NULL);
  g_autoptr(GUri) proxied = NULL;

  g_assert_nonnull (uri);
  proxied = g_uri_build_with_user (G_URI_FLAGS_HAS_PASSWORD, g_uri_get_scheme (uri),
                                   g_uri_get_user (uri), g_uri_get_password (uri), NULL,
                                   "127.0.0.1", (int) proxy->port, g_uri_get_path (uri), NULL, NULL);
  return g_uri_to_string (proxied);
}

static gboolean
gateway_not_ready (gpointer data)
{
  g_autoptr(Response) r = request (data, "GET", "/readyz", NULL);

  if (r->status == 503)
    return TRUE;
  spin (50);
  return FALSE;
}

static void
test_broker_reconnect (void)
{
  g_autoptr(Proxy) proxy = NULL;
  g_autoptr(OddGateway) gateway = NULL;
  g_autofree char *url = NULL;
  const char *body = "{\"type\":\"reconnect\"}";

  SKIP_WITHOUT_BROKER ();
  broker_purge (ODD_QUEUE_JOBS_CREATED);
  proxy = proxy_new (broker_url);
  url = via_proxy (broker_url, proxy);
  gateway = gateway_new_full (url, NULL, NULL, 64);
  if (!wait_for (gateway_ready, gateway, 15000))
    {
      g_autoptr(Response) r = request (gateway, "GET", "/readyz", NULL);
      g_autofree char *json = odd_json_to_string (r->json);

      g_error ("not ready through the proxy (%s): %s", url, json);
    }
  {
    g_autoptr(Response) r = request (gateway, "POST", "/jobs", body);

    g_assert_cmpuint (r->status, ==, 202);
  }

  /* The broker goes away: not ready, and jobs are refused rather than lost. */
  proxy_cut (proxy);
  g_assert_true (wait_for (gateway_not_ready, gateway, 15000));
  {
    g_autoptr(Response) r = request (gateway, "POST", "/jobs", body);
    g_autofree char *metrics = metrics_text (gateway);

    assert_error (r, 503, "Broker unavailable, job not accepted");
    g_assert_cmpstr (soup_message_headers_get_one (r->headers, "Retry-After"), ==, "1");
    g_assert_nonnull (strstr (metrics, "gateway_amqp_connected{service=\"gateway\"} 0"));
  }

  /* It comes back: the gateway reconnects by itself (the reference never did, 11.8). */
  proxy->cut = FALSE;
  g_assert_true (wait_for (gateway_ready, gateway, 30000));
  {
    g_autoptr(Response) r = request (gateway, "POST", "/jobs", body);

    g_assert_cmpuint (r->status, ==, 202);
  }
  g_assert_cmpuint (broker_count (ODD_QUEUE_JOBS_CREATED), ==, 2);
  broker_purge (ODD_QUEUE_JOBS_CREATED);
}

static void
on_shutdown_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  int *state = user_data;
  g_autoptr(GError) error = NULL;

  *state = odd_gateway_shutdown_finish (ODD_GATEWAY (source), result, &error) ? 1 : 2;
  g_assert_no_error (error);
}

static gboolean
int_set (gpointer data)
{
  return *(int *) data != 0;
}

static void
test_broker_shutdown (void)
{
  g_autoptr(OddGateway) gateway = NULL;
  Response response = { 0 };
  Call call = { 0 };
  const char *body = "{\"type\":\"last\"}";
  int state = 0;

  SKIP_WITHOUT_BROKER ();
  broker_purge (ODD_QUEUE_JOBS_CREATED);
  gateway = broker_gateway_new (NULL, 64);

  /* A job in flight when the signal comes still gets its 202. */
  start_request (gateway, "POST", "/jobs", JSON, body, strlen (body), NULL, NULL, &response, &call);
  while (odd_gateway_get_outstanding (gateway) == 0 && !response.done)
    g_main_context_iteration (NULL, TRUE);
  odd_gateway_shutdown_async (gateway, NULL, on_shutdown_done, &state);
  g_assert_true (wait_for (response_done, &response, 10000));
  g_assert_true (wait_for (int_set, &state, 10000));
  g_assert_cmpint (state, ==, 1);
  g_assert_null (response.transport_error);
  g_assert_cmpuint (response.status, ==, 202);
  g_assert_cmpuint (broker_count (ODD_QUEUE_JOBS_CREATED), ==, 1);

  g_object_unref (call.msg);
  g_clear_pointer (&response.body, g_bytes_unref);
  g_clear_pointer (&response.headers, soup_message_headers_unref);
  g_clear_pointer (&response.json, json_node_unref);
  g_free (response.content_type);
  broker_purge (ODD_QUEUE_JOBS_CREATED);
}

static void
test_shutdown_idle (void)
{
  g_autoptr(OddGateway) gateway = offline_gateway_new ();
  int state = 0;

  odd_gateway_shutdown_async (gateway, NULL, on_shutdown_done, &state);
  g_assert_true (wait_for (int_set, &state, 5000));
  g_assert_cmpint (state, ==, 1);
}

/* ---- the binary: exit codes and signals ---- */

static char *
gateway_binary (void)
{
  const char *build_dir = g_getenv ("ODD_BUILD_DIR");

  if (build_dir == NULL)
    return NULL;
  return g_build_filename (build_dir, "services", "gateway", "odd-gateway", NULL);
}

static void
test_binary (void)
{
  g_autofree char *binary = gateway_binary ();
  g_autoptr(GError) error = NULL;

  if (binary == NULL || !g_file_test (binary, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("no odd-gateway binary (ODD_BUILD_DIR)");
      return;
    }

  /* Invalid configuration: a clear message naming the variable, exit status 2. */
  {
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GSubprocess) process = NULL;
    g_autofree char *err = NULL;

    g_subprocess_launcher_setenv (launcher, "ODD_MAX_OUTSTANDING", "many", TRUE);
    process = g_subprocess_launcher_spawn (launcher, &error, binary, NULL);
    g_assert_no_error (error);
    g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, &err, &error);
    g_assert_no_error (error);
    g_assert_true (g_subprocess_get_if_exited (process));
    g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 2);
    g_assert_nonnull (strstr (err, "ODD_MAX_OUTSTANDING"));
  }

  /* Runs, answers, and leaves with status 0 on SIGTERM. */
  {
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GSubprocess) process = NULL;
    g_autoptr(GDataInputStream) lines = NULL;
    g_autofree char *line = NULL;
    g_autofree char *url = NULL;
    const char *at;
    guint port = 0;

    g_subprocess_launcher_setenv (launcher, "PORT", "0", TRUE);
    g_subprocess_launcher_setenv (launcher, "RABBITMQ_URL", closed_url, TRUE);
    g_subprocess_launcher_setenv (launcher, "ODD_LOG_FORMAT", "text", TRUE);
    process = g_subprocess_launcher_spawn (launcher, &error, binary, NULL);
    g_assert_no_error (error);
    lines = g_data_input_stream_new (g_subprocess_get_stderr_pipe (process));
    while (port == 0)
      {
        g_free (line);
        line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
        g_assert_no_error (error);
        if (line == NULL)
          g_error ("odd-gateway ended before it listened");
        if ((at = strstr (line, "listening on port ")) != NULL)
          port = (guint) g_ascii_strtoull (at + strlen ("listening on port "), NULL, 10);
      }

    {
      g_autoptr(SoupMessage) msg = NULL;
      g_autoptr(GBytes) body = NULL;

      url = g_strdup_printf ("http://127.0.0.1:%u/healthz", port);
      msg = soup_message_new ("GET", url);
      body = soup_session_send_and_read (session, msg, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
    }

    g_subprocess_send_signal (process, SIGTERM);
    g_subprocess_wait (process, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (g_subprocess_get_if_exited (process));
    g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  }
}

/* An accepted submission is sent as written: its payload's text unchanged, whatever json-glib
 * would make of its numbers, and the members odd_job_complete() adds. A 1 MiB body of zeros
 * is checked without being expanded. */
static void
test_submission_exact (void)
{
  g_autoptr(GError) error = NULL;
  OddSchemaRegistry *schemas = registry;
  const char *payload = "{\"n\":1e19,\"d\":0.1,\"big\":123456789012345678901234567890, \"s\":\"\\u00e9\",\"simulate\":{\"failAttempts\":5}}";
  g_autofree char *text = g_strdup_printf ("{\"type\":\"exact\",\"payload\":%s}", payload);
  g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
  g_autoptr(OddGatewaySubmission) submission = NULL;
  g_autoptr(JsonNode) envelope = NULL;
  g_autofree char *expected = NULL;
  const char *envelope_text;
  JsonObject *job;
  GString *zeros = g_string_new ("{\"type\":\"zeros\",\"payload\":{\"z\":[0");
  g_autoptr(GBytes) zeros_body = NULL;
  g_autoptr(OddGatewaySubmission) zeros_submission = NULL;

  g_assert_no_error (error);
  submission = odd_gateway_submission_check (schemas, body, "3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b");
  g_assert_null (submission->malformed);
  g_assert_null (submission->invalid);
  envelope_text = g_bytes_get_data (submission->envelope, NULL);
  expected = g_strdup_printf ("\"payload\":{\"type\":\"exact\",\"payload\":%s,\"id\":\"%s\",\"status\":\"PENDING\",\"createdAt\":",
                              payload, submission->job_id);
  g_assert_nonnull (strstr (envelope_text, expected));
  envelope = odd_json_parse (envelope_text, (gssize) g_bytes_get_size (submission->envelope), &error);
  g_assert_no_error (error);
  assert_valid ("event-envelope", envelope);
  assert_valid ("job", json_object_get_member (json_node_get_object (envelope), "payload"));
  job = json_object_get_object_member (json_node_get_object (envelope), "payload");
  g_assert_cmpstr (json_object_get_string_member (job, "id"), ==, submission->job_id);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (envelope), "eventId"), ==, submission->event_id);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (envelope), "idempotencyKey"), ==, submission->job_id);

  while (zeros->len < ODD_GATEWAY_MAX_BODY_BYTES - 16)
    g_string_append (zeros, ",0");
  g_string_append (zeros, "]}}");
  zeros_body = g_bytes_new_take (zeros->str, zeros->len);
  g_string_free (zeros, FALSE);
  zeros_submission = odd_gateway_submission_check (schemas, zeros_body, "3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b");
  g_assert_null (zeros_submission->malformed);
  g_assert_null (zeros_submission->invalid);
  g_assert_cmpuint (g_bytes_get_size (zeros_submission->envelope), >, ODD_GATEWAY_MAX_BODY_BYTES - 16);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  gboolean no_broker = FALSE;
  int ret;

  /* Our own flag, removed before g_test_init() sees it. */
  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--no-broker"))
        {
          no_broker = TRUE;
          memmove (&argv[i], &argv[i + 1], (argc - i) * sizeof (char *));
          argc--;
          i--;
        }
    }

  g_test_init (&argc, &argv, NULL);

  broker_url = no_broker ? NULL : g_getenv ("ODD_TEST_RABBITMQ_URL");
  if (broker_url != NULL && *broker_url == '\0')
    broker_url = NULL;

  registry = odd_schema_registry_new_default (&error);
  g_assert_no_error (error);
  /* Many connections at once: the gateway raises its listen backlog for such bursts. */
  session = soup_session_new_with_options ("timeout", 30, "max-conns", 200, "max-conns-per-host", 200, NULL);
  closed_url = g_strdup_printf ("amqp://guest:guest@127.0.0.1:%u/", odd_test_free_port ());
  closed_http_url = g_strdup_printf ("http://127.0.0.1:%u", odd_test_free_port ());

  g_test_add_func ("/gateway/config/defaults", test_config_defaults);
  g_test_add_func ("/gateway/config/invalid", test_config_invalid);
  g_test_add_func ("/gateway/healthz-openapi-docs", test_healthz_openapi_docs);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/gateway/malformed/%s", cases[i].name);

      g_test_add_data_func (name, &cases[i], test_malformed);
    }
  g_test_add_func ("/gateway/too-large-chunked", test_too_large_chunked);
  g_test_add_func ("/gateway/submission-exact", test_submission_exact);
  g_test_add_func ("/gateway/correlation-id", test_correlation_id);
  g_test_add_func ("/gateway/auth", test_auth);
  g_test_add_func ("/gateway/broker-down", test_broker_down);
  g_test_add_func ("/gateway/retry/read-model", test_retry_read_model);
  g_test_add_func ("/gateway/shutdown/idle", test_shutdown_idle);
  g_test_add_func ("/gateway/binary", test_binary);
  g_test_add_func ("/gateway/broker/accepted", test_broker_accepted);
  g_test_add_func ("/gateway/broker/full-job", test_broker_full_job);
  g_test_add_func ("/gateway/broker/retry", test_broker_retry);
  g_test_add_func ("/gateway/broker/dlq-replay", test_broker_dlq_replay);
  g_test_add_func ("/gateway/broker/dlq-replay-ids", test_broker_dlq_replay_ids);
  g_test_add_func ("/gateway/broker/overload", test_broker_overload);
  g_test_add_func ("/gateway/broker/client-gone", test_broker_client_gone);
  g_test_add_func ("/gateway/broker/shutdown", test_broker_shutdown);
  g_test_add_func ("/gateway/broker/reconnect", test_broker_reconnect);

  ret = g_test_run ();

  g_clear_object (&table_gateway_instance);
  g_clear_object (&session);
  g_clear_object (&registry);
  g_free (closed_url);
  g_free (closed_http_url);

  return ret;
}
