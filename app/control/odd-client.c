#define G_LOG_DOMAIN "odd-client"

#include <string.h>
#include <libsoup/soup.h>

#include "odd-build-config.h"
#include "odd-client-private.h"
#include "odd-schema.h"

/* How many POST /jobs of a burst are in flight at once: enough to keep the gateway busy, few
 * enough that a refusal stops the burst early. */
#define BURST_WINDOW 8

struct _OddClient
{
  GObject       parent_instance;
  SoupSession  *session;
  OddEndpoints *endpoints;
  guint         timeout;
  char         *user_agent;
};

G_DEFINE_FINAL_TYPE (OddClient, odd_client, G_TYPE_OBJECT)

enum { PROP_0, PROP_ENDPOINTS, PROP_TIMEOUT, PROP_USER_AGENT, N_PROPS };
static GParamSpec *properties[N_PROPS];

/* ---- the contract schemas: each loaded when first needed, then kept for the process ---- */

/* One registry per answer schema, loaded on first use: every schema loaded costs the terminal
 * dashboard memory, and it polls only five kinds of answer. A registry is immutable once
 * loaded, so validation needs no lock; the table does. */
static OddSchemaRegistry *
schema_registry (const char  *name,
                 GError     **error)
{
  static GMutex lock;
  static GHashTable *registries;  /* name → OddSchemaRegistry */
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&lock);
  OddSchemaRegistry *known;
  g_autoptr(OddSchemaRegistry) registry = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contracts = NULL;
  g_autofree char *file = NULL;
  g_autofree char *path = NULL;

  if (registries == NULL)
    registries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  known = g_hash_table_lookup (registries, name);
  if (known != NULL)
    return known;

  contracts = odd_contracts_dir ();
  file = g_strconcat (name, ".json", NULL);
  path = g_build_filename (contracts, "schemas", file, NULL);
  registry = odd_schema_registry_new ();
  if (!odd_schema_registry_load_file (registry, path, &local_error))
    {
      g_set_error (error, ODD_CLIENT_ERROR, ODD_CLIENT_ERROR_INVALID,
                   "The contract schema %s cannot be loaded (%s). Reinstall the Distributed "
                   "Task Observatory, or set CONTRACTS_PATH to its contracts directory.",
                   file, local_error->message);
      return NULL;
    }
  known = registry;
  g_hash_table_insert (registries, g_strdup (name), g_steal_pointer (&registry));
  return known;
}

/* ---- GObject ---- */

static SoupSession *
session_new (guint       timeout,
             const char *user_agent)
{
  const char *proxy = g_getenv ("http_proxy");
  const char *no_proxy = g_getenv ("no_proxy");
  g_auto(GStrv) ignore = NULL;
  g_autoptr(GProxyResolver) resolver = NULL;

  /* A proxy resolver of our own: the default one loads GIO modules (libproxy, the GNOME
   * settings through dconf) that cost the start time and memory of a small terminal tool.
   * The usual variables still apply. */
  if (proxy == NULL)
    proxy = g_getenv ("HTTP_PROXY");
  if (no_proxy == NULL)
    no_proxy = g_getenv ("NO_PROXY");
  ignore = g_strsplit (no_proxy != NULL && *no_proxy != '\0' ? no_proxy : "localhost,127.0.0.1,::1",
                       ",", -1);
  resolver = g_simple_proxy_resolver_new (proxy != NULL && *proxy != '\0' ? proxy : NULL,
                                          ignore);

  return soup_session_new_with_options ("timeout", timeout,
                                        "idle-timeout", 30,
                                        "user-agent", user_agent,
                                        "proxy-resolver", resolver,
                                        NULL);
}

static void
odd_client_constructed (GObject *object)
{
  OddClient *self = ODD_CLIENT (object);

  G_OBJECT_CLASS (odd_client_parent_class)->constructed (object);

  if (self->user_agent == NULL)
    self->user_agent = g_strdup ("odd-control/" ODD_VERSION);
  if (self->endpoints == NULL)
    self->endpoints = odd_endpoints_discover ();
  self->session = session_new (self->timeout, self->user_agent);
}

static void
odd_client_finalize (GObject *object)
{
  OddClient *self = ODD_CLIENT (object);

  g_clear_object (&self->session);
  g_clear_object (&self->endpoints);
  g_free (self->user_agent);
  G_OBJECT_CLASS (odd_client_parent_class)->finalize (object);
}

static void
odd_client_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  OddClient *self = ODD_CLIENT (object);

  switch (prop_id)
    {
    case PROP_ENDPOINTS:
      g_value_set_object (value, self->endpoints);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;
    case PROP_USER_AGENT:
      g_value_set_string (value, self->user_agent);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_client_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  OddClient *self = ODD_CLIENT (object);

  switch (prop_id)
    {
    case PROP_ENDPOINTS:
      if (g_value_get_object (value) != NULL)
        odd_client_set_endpoints (self, g_value_get_object (value));
      break;
    case PROP_TIMEOUT:
      odd_client_set_timeout (self, g_value_get_uint (value));
      break;
    case PROP_USER_AGENT:
      g_free (self->user_agent);
      self->user_agent = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_client_class_init (OddClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = odd_client_constructed;
  object_class->finalize = odd_client_finalize;
  object_class->get_property = odd_client_get_property;
  object_class->set_property = odd_client_set_property;

  properties[PROP_ENDPOINTS] =
    g_param_spec_object ("endpoints", NULL, NULL, ODD_TYPE_ENDPOINTS,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL, 0, 3600, ODD_CLIENT_DEFAULT_TIMEOUT_S,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                       G_PARAM_STATIC_STRINGS);
  properties[PROP_USER_AGENT] =
    g_param_spec_string ("user-agent", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
odd_client_init (OddClient *self)
{
  self->timeout = ODD_CLIENT_DEFAULT_TIMEOUT_S;
}

OddClient *
odd_client_new (OddEndpoints *endpoints)
{
  g_return_val_if_fail (endpoints == NULL || ODD_IS_ENDPOINTS (endpoints), NULL);

  return g_object_new (ODD_TYPE_CLIENT, "endpoints", endpoints, NULL);
}

OddEndpoints *
odd_client_get_endpoints (OddClient *self)
{
  g_return_val_if_fail (ODD_IS_CLIENT (self), NULL);
  return self->endpoints;
}

void
odd_client_set_endpoints (OddClient    *self,
                          OddEndpoints *endpoints)
{
  g_return_if_fail (ODD_IS_CLIENT (self));
  g_return_if_fail (ODD_IS_ENDPOINTS (endpoints));

  if (self->endpoints != NULL && odd_endpoints_equal (self->endpoints, endpoints))
    return;
  g_set_object (&self->endpoints, endpoints);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENDPOINTS]);
}

guint
odd_client_get_timeout (OddClient *self)
{
  g_return_val_if_fail (ODD_IS_CLIENT (self), 0);
  return self->timeout;
}

void
odd_client_set_timeout (OddClient *self,
                        guint      seconds)
{
  g_return_if_fail (ODD_IS_CLIENT (self));

  if (self->timeout == seconds)
    return;
  self->timeout = seconds;
  if (self->session != NULL)
    g_object_set (self->session, "timeout", seconds, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

/* ---- one request: send, read, check the status and the shape ---- */

typedef struct
{
  OddService      service;
  OddEndpointsSource source;
  char           *base;
  char           *method;
  char           *path;
  char           *schema;
  guint           also_ok;    /* a non-2xx status whose body follows @schema */
  guint           timeout;
  guint           status;     /* of the answer */
  SoupMessage    *msg;
  GInputStream   *stream;     /* the answer's body as it comes */
  GByteArray     *answer;     /* what was read of it */
} Request;

static void
request_free (gpointer data)
{
  Request *request = data;

  g_free (request->base);
  g_free (request->method);
  g_free (request->path);
  g_free (request->schema);
  g_clear_object (&request->stream);
  g_clear_pointer (&request->answer, g_byte_array_unref);
  g_clear_object (&request->msg);
  g_free (request);
}

static char *
capitalize (const char *text)
{
  char *copy = g_strdup (text);

  copy[0] = g_ascii_toupper (copy[0]);
  return copy;
}

/* What the user can do when a service does not answer, by where its address came from. */
static const char *
start_hint (Request *request)
{
  switch (request->source)
    {
    case ODD_ENDPOINTS_SOURCE_ENV:
      return request->service == ODD_SERVICE_GATEWAY
             ? "Check GATEWAY_URL, or unset it to use the local stack."
             : "Check READ_MODEL_URL, or unset it to use the local stack.";
    case ODD_ENDPOINTS_SOURCE_CLUSTER:
      return "Check the kind cluster on the Stack page or with `oddctl cluster status`.";
    case ODD_ENDPOINTS_SOURCE_DEFAULT:
    case ODD_ENDPOINTS_SOURCE_STACK:
    default:
      return "Start the stack on the Stack page or with `oddctl local up`.";
    }
}

static GError *
transport_error (Request *request,
                 GError  *error)
{
  g_autofree char *who = capitalize (odd_service_describe (request->service));
  g_autofree char *url = g_strconcat (request->base, request->path, NULL);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) && request->timeout > 0)
    return odd_client_error_new (ODD_CLIENT_ERROR_TIMEOUT, 0, error->message, url,
                                 "%s at %s did not answer within %u s. It may be starting or "
                                 "overloaded: try again in a moment.",
                                 who, request->base, request->timeout);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return odd_client_error_new (ODD_CLIENT_ERROR_TIMEOUT, 0, error->message, url,
                                 "%s at %s did not answer in time (%s). It may be starting or "
                                 "overloaded: try again in a moment.",
                                 who, request->base, error->message);

  return odd_client_error_new (ODD_CLIENT_ERROR_UNREACHABLE, 0, error->message, url,
                               "%s at %s is not answering (%s). %s", who, request->base,
                               error->message, start_hint (request));
}

/* The "error" of an error body with its first detail, as the services write it. */
static char *
error_reason (guint     status,
              JsonNode *body)
{
  if (body != NULL && JSON_NODE_HOLDS_OBJECT (body))
    {
      JsonObject *object = json_node_get_object (body);
      const char *message = odd_json_get_string (object, "error");
      JsonNode *details = json_object_get_member (object, "details");

      if (message != NULL && details != NULL && JSON_NODE_HOLDS_ARRAY (details) &&
          json_array_get_length (json_node_get_array (details)) > 0 &&
          JSON_NODE_HOLDS_OBJECT (json_array_get_element (json_node_get_array (details), 0)))
        {
          JsonObject *first = json_array_get_object_element (json_node_get_array (details), 0);
          const char *path = odd_json_get_string (first, "path");
          const char *text = odd_json_get_string (first, "message");

          return g_strdup_printf ("%s: %s %s", message, path != NULL ? path : "",
                                  text != NULL ? text : "");
        }
      if (message != NULL)
        return g_strdup (message);
    }
  return g_strdup_printf ("HTTP %u %s", status, soup_status_get_phrase (status));
}

static GError *
status_error (Request  *request,
              guint     status,
              JsonNode *body)
{
  g_autofree char *who = capitalize (odd_service_describe (request->service));
  g_autofree char *url = g_strconcat (request->base, request->path, NULL);
  g_autofree char *reason = error_reason (status, body);
  OddClientError code;
  const char *advice;

  switch (status)
    {
    case SOUP_STATUS_NOT_FOUND:
      code = ODD_CLIENT_ERROR_NOT_FOUND;
      advice = "Check the id, or wait a moment: a new job takes a moment to be recorded.";
      break;
    case SOUP_STATUS_CONFLICT:
      code = ODD_CLIENT_ERROR_CONFLICT;
      advice = "Its current state does not allow this; reload it to see why.";
      break;
    case SOUP_STATUS_UNAUTHORIZED:
    case SOUP_STATUS_FORBIDDEN:
      code = ODD_CLIENT_ERROR_BAD_REQUEST;
      advice = "Set ODD_API_TOKEN to the gateway's token.";
      break;
    case SOUP_STATUS_SERVICE_UNAVAILABLE:
    case SOUP_STATUS_GATEWAY_TIMEOUT:
      code = ODD_CLIENT_ERROR_UNAVAILABLE;
      advice = "It runs but cannot serve now: check the health of the stack's components on "
               "the Stack page or with `oddctl local status`, then try again.";
      break;
    default:
      if (status >= 500)
        {
          code = ODD_CLIENT_ERROR_SERVER;
          advice = "Its log tells why (`oddctl local logs`).";
        }
      else
        {
          code = ODD_CLIENT_ERROR_BAD_REQUEST;
          advice = "Correct the request and send it again.";
        }
      break;
    }

  return odd_client_error_new (code, status, reason, url, "%s at %s %s %s %s with HTTP %u: "
                               "%s. %s", who, request->base, status >= 500 ? "failed" : "refused",
                               request->method, request->path, status, reason, advice);
}

static GError *
bad_answer (Request    *request,
            guint       status,
            const char *reason)
{
  g_autofree char *who = capitalize (odd_service_describe (request->service));
  g_autofree char *url = g_strconcat (request->base, request->path, NULL);

  return odd_client_error_new (ODD_CLIENT_ERROR_BAD_ANSWER, status, reason, url,
                               "%s at %s answered %s %s with something this program cannot "
                               "read: %s. Is it the Distributed Task Observatory's %s, of the "
                               "same version as this program?", who, request->base,
                               request->method, request->path, reason,
                               odd_service_to_string (request->service));
}

/* The whole answer is read: check its status and its shape. */
static void
answer_read (GTask  *task,
             GBytes *bytes)
{
  Request *request = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  OddSchemaRegistry *registry;
  const char *data;
  gsize size = 0;
  guint status;

  status = soup_message_get_status (request->msg);
  data = g_bytes_get_data (bytes, &size);
  if (size > 0)
    body = odd_json_parse (data, (gssize) size, &parse_error);

  if (!SOUP_STATUS_IS_SUCCESSFUL (status) && status != request->also_ok)
    {
      g_task_return_error (task, status_error (request, status, body));
      return;
    }
  if (body == NULL)
    {
      g_autofree char *reason = parse_error != NULL ? g_strdup (parse_error->message)
                                : g_strdup ("an empty body instead of JSON");

      g_task_return_error (task, bad_answer (request, status, reason));
      return;
    }

  /* The one place where an answer's shape is checked against its contract. */
  registry = schema_registry (request->schema, &error);
  if (registry == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  problems = odd_schema_registry_validate (registry, request->schema, body, &error);
  if (problems == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (problems->len > 0)
    {
      g_autofree char *list = odd_validation_errors_to_string (problems);
      g_autofree char *reason = g_strdup_printf ("the answer breaks %s.json: %s",
                                                 request->schema, list);

      g_task_return_error (task, bad_answer (request, status, reason));
      return;
    }

  request->status = status;
  g_task_return_pointer (task, g_steal_pointer (&body), (GDestroyNotify) json_node_unref);
}

static void read_more (GTask *task);

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Request *request = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  g_autoptr(GBytes) whole = NULL;

  if (chunk == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, transport_error (request, error));
      return;
    }
  if (g_bytes_get_size (chunk) > 0)
    {
      g_byte_array_append (request->answer, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
      /* A service that never stops talking must not eat this program's memory. */
      if (request->answer->len > ODD_CLIENT_ANSWER_MAX_BYTES)
        {
          g_autofree char *reason = g_strdup_printf ("an answer larger than %u MiB",
                                                     ODD_CLIENT_ANSWER_MAX_BYTES / (1024 * 1024));

          g_task_return_error (task, bad_answer (request, soup_message_get_status (request->msg),
                                                 reason));
          return;
        }
      read_more (g_steal_pointer (&task));
      return;
    }

  whole = g_byte_array_free_to_bytes (g_steal_pointer (&request->answer));
  answer_read (task, whole);
}

static void
read_more (GTask *task)
{
  Request *request = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (request->stream, 64 * 1024, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), on_read, task);
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  Request *request = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  request->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (request->stream == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, transport_error (request, error));
      g_object_unref (task);
      return;
    }
  request->answer = g_byte_array_new ();
  read_more (task);
}

/* @path_and_query is appended to the service's URL; values in it are already escaped. */
static void
send_async (OddClient           *self,
            OddService           service,
            const char          *method,
            const char          *path_and_query,
            JsonNode            *body,
            const char          *schema,
            guint                also_ok,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  const char *base = odd_endpoints_get_service_url (self->endpoints, service);
  const char *token = odd_endpoints_get_api_token (self->endpoints);
  g_autofree char *url = NULL;
  Request *request;

  g_task_set_source_tag (task, send_async);

  request = g_new0 (Request, 1);
  request->service = service;
  request->source = odd_endpoints_get_source (self->endpoints);
  request->base = g_strdup (base);
  request->method = g_strdup (method);
  request->path = g_strdup (path_and_query);
  request->schema = g_strdup (schema);
  request->also_ok = also_ok;
  request->timeout = self->timeout;
  g_task_set_task_data (task, request, request_free);

  if (base == NULL)
    {
      g_task_return_new_error (task, ODD_CLIENT_ERROR, ODD_CLIENT_ERROR_INVALID,
                               "The address of %s is not known: the kind cluster maps only the "
                               "gateway and the read model to this machine.",
                               odd_service_describe (service));
      return;
    }

  url = g_strconcat (base, path_and_query, NULL);
  request->msg = g_str_has_prefix (url, "http://") || g_str_has_prefix (url, "https://")
                 ? soup_message_new (method, url) : NULL;
  if (request->msg == NULL)
    {
      g_autofree char *who = capitalize (odd_service_describe (service));

      g_task_return_new_error (task, ODD_CLIENT_ERROR, ODD_CLIENT_ERROR_INVALID,
                               "%s's address “%s” is not an http:// URL. %s", who, base,
                               start_hint (request));
      return;
    }

  if (body != NULL)
    {
      g_autofree char *text = odd_json_to_string (body);
      gsize length = strlen (text);
      g_autoptr(GBytes) bytes = g_bytes_new_take (g_steal_pointer (&text), length);

      soup_message_set_request_body_from_bytes (request->msg, "application/json", bytes);
    }
  soup_message_headers_replace (soup_message_get_request_headers (request->msg), "Accept",
                                "application/json");
  if (token != NULL && service == ODD_SERVICE_GATEWAY)
    {
      g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (request->msg),
                                    "Authorization", bearer);
    }

  soup_session_send_async (self->session, request->msg, G_PRIORITY_DEFAULT, cancellable,
                           on_sent, g_steal_pointer (&task));
}

/* The checked body; @status gets the HTTP status (for also_ok answers). */
static JsonNode *
send_finish (OddClient     *self,
             GAsyncResult  *result,
             guint         *status,
             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  if (status != NULL)
    *status = ((Request *) g_task_get_task_data (G_TASK (result)))->status;
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- the public calls: one request, one conversion ---- */

typedef gpointer (*ConvertFunc) (JsonNode  *body,
                                 guint      status,
                                 gpointer   data,
                                 GError   **error);

typedef struct
{
  ConvertFunc     convert;
  gpointer        data;
  GDestroyNotify  result_free;
} Conversion;

static void
on_converted (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Conversion *conversion = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = NULL;
  gpointer value;
  guint status = 0;

  body = send_finish (ODD_CLIENT (source), result, &status, &error);
  if (body == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  value = conversion->convert (body, status, conversion->data, &error);
  if (value == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, value, conversion->result_free);
}

static void
call_async (OddClient           *self,
            gpointer             source_tag,
            OddService           service,
            const char          *method,
            const char          *path_and_query,
            JsonNode            *body,
            const char          *schema,
            guint                also_ok,
            ConvertFunc          convert,
            gpointer             convert_data,
            GDestroyNotify       result_free,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Conversion *conversion = g_new0 (Conversion, 1);

  g_task_set_source_tag (task, source_tag);
  conversion->convert = convert;
  conversion->data = convert_data;
  conversion->result_free = result_free;
  g_task_set_task_data (task, conversion, g_free);
  send_async (self, service, method, path_and_query, body, schema, also_ok, cancellable,
              on_converted, task);
}

static gpointer
call_finish (OddClient     *self,
             GAsyncResult  *result,
             gpointer       source_tag,
             GError       **error)
{
  g_return_val_if_fail (ODD_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Each element of an array member (or of the array itself when @member is NULL). */
typedef gpointer (*ItemFunc) (JsonObject *object);

static GPtrArray *
items_of (JsonNode   *body,
          const char *member,
          ItemFunc    item)
{
  JsonNode *node = member != NULL ? json_object_get_member (json_node_get_object (body), member) : body;
  JsonArray *array = json_node_get_array (node);
  GPtrArray *items = g_ptr_array_new_full (json_array_get_length (array), g_object_unref);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_OBJECT (element))
        g_ptr_array_add (items, item (json_node_get_object (element)));
    }
  return items;
}

/* GET /stats */

static gpointer
convert_stats (JsonNode *body, guint status, gpointer data, GError **error)
{
  return odd_stats_new_from_json (json_node_get_object (body));
}

void
odd_client_get_stats_async (OddClient           *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (ODD_IS_CLIENT (self));

  call_async (self, odd_client_get_stats_async, ODD_SERVICE_READ_MODEL, "GET", "/stats", NULL,
              "stats", 0, convert_stats, NULL, g_object_unref, cancellable, callback, user_data);
}

OddStats *
odd_client_get_stats_finish (OddClient     *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return call_finish (self, result, odd_client_get_stats_async, error);
}

/* GET /stats/series */

static gpointer
convert_series (JsonNode *body, guint status, gpointer data, GError **error)
{
  return odd_series_new_from_json (json_node_get_object (body));
}

void
odd_client_get_series_async (OddClient           *self,
                             guint                window_s,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autofree char *path = NULL;

  g_return_if_fail (ODD_IS_CLIENT (self));
  g_return_if_fail (window_s >= 1 && window_s <= ODD_CLIENT_SERIES_WINDOW_MAX);

  path = g_strdup_printf ("/stats/series?window=%u", window_s);
  call_async (self, odd_client_get_series_async, ODD_SERVICE_READ_MODEL, "GET", path, NULL,
              "stats-series", 0, convert_series, NULL, g_object_unref, cancellable, callback,
              user_data);
}

OddSeries *
odd_client_get_series_finish (OddClient     *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return call_finish (self, result, odd_client_get_series_async, error);
}

/* GET /queues */

static gpointer
convert_queues (JsonNode *body, guint status, gpointer data, GError **error)
{
  return items_of (body, "queues", (ItemFunc) odd_queue_new_from_json);
}

void
odd_client_get_queues_async (OddClient           *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (ODD_IS_CLIENT (self));

  call_async (self, odd_client_get_queues_async, ODD_SERVICE_READ_MODEL, "GET", "/queues", NULL,
              "queues", 0, convert_queues, NULL, (GDestroyNotify) g_ptr_array_unref, cancellable,
              callback, user_data);
}

GPtrArray *
odd_client_get_queues_finish (OddClient     *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return call_finish (self, result, odd_client_get_queues_async, error);
}

/* GET /alerts */

static gpointer
convert_alerts (JsonNode *body, guint status, gpointer data, GError **error)
{
  return items_of (body, "alerts", (ItemFunc) odd_alert_new_from_json);
}

void
odd_client_get_alerts_async (OddClient           *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (ODD_IS_CLIENT (self));

  call_async (self, odd_client_get_alerts_async, ODD_SERVICE_READ_MODEL, "GET", "/alerts", NULL,
              "alerts", 0, convert_alerts, NULL, (GDestroyNotify) g_ptr_array_unref, cancellable,
              callback, user_data);
}

GPtrArray *
odd_client_get_alerts_finish (OddClient     *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return call_finish (self, result, odd_client_get_alerts_async, error);
}

/* GET /jobs/recent */

static gpointer
convert_recent (JsonNode *body, guint status, gpointer data, GError **error)
{
  return items_of (body, NULL, (ItemFunc) odd_job_new_from_summary);
}

void
odd_client_get_recent_jobs_async (OddClient           *self,
                                  guint                limit,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autofree char *path = NULL;

  g_return_if_fail (ODD_IS_CLIENT (self));
  g_return_if_fail (limit >= 1 && limit <= ODD_CLIENT_RECENT_MAX);

  path = g_strdup_printf ("/jobs/recent?limit=%u", limit);
  call_async (self, odd_client_get_recent_jobs_async, ODD_SERVICE_READ_MODEL, "GET", path, NULL,
              "jobs-recent", 0, convert_recent, NULL, (GDestroyNotify) g_ptr_array_unref,
              cancellable, callback, user_data);
}

GPtrArray *
odd_client_get_recent_jobs_finish (OddClient     *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  return call_finish (self, result, odd_client_get_recent_jobs_async, error);
}

/* GET /jobs and GET /dlq: a page of items with a cursor or a total */

typedef struct
{
  GPtrArray *items;
  char      *cursor;
  gint64     total;
} Page;

static void
page_free (gpointer data)
{
  Page *page = data;

  g_clear_pointer (&page->items, g_ptr_array_unref);
  g_free (page->cursor);
  g_free (page);
}

static gpointer
convert_jobs_page (JsonNode *body, guint status, gpointer data, GError **error)
{
  Page *page = g_new0 (Page, 1);

  page->items = items_of (body, "items", (ItemFunc) odd_job_new_from_summary);
  page->cursor = g_strdup (odd_json_get_string (json_node_get_object (body), "nextCursor"));
  return page;
}

static void
append_param (GString    *path,
              const char *name,
              const char *value)
{
  g_autofree char *escaped = NULL;

  if (value == NULL || *value == '\0')
    return;
  escaped = g_uri_escape_string (value, NULL, FALSE);
  g_string_append_printf (path, "%c%s=%s", strchr (path->str, '?') != NULL ? '&' : '?', name,
                          escaped);
}

void
odd_client_search_jobs_async (OddClient           *self,
                              OddJobStatus         status,
                              const char          *job_type,
                              const char          *text,
                              const char          *cursor,
                              gboolean             ascending,
                              guint                limit,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GString) path = g_string_new ("/jobs");
  g_autofree char *limit_text = NULL;

  g_return_if_fail (ODD_IS_CLIENT (self));
  g_return_if_fail (status <= ODD_JOB_STATUS_FAILED);
  g_return_if_fail (limit >= 1 && limit <= ODD_CLIENT_JOBS_PAGE_MAX);

  limit_text = g_strdup_printf ("%u", limit);
  append_param (path, "status", odd_job_status_to_string (status));
  append_param (path, "type", job_type);
  append_param (path, "q", text);
  append_param (path, "cursor", cursor);
  append_param (path, "order", ascending ? "asc" : NULL);
  append_param (path, "limit", limit_text);
  call_async (self, odd_client_search_jobs_async, ODD_SERVICE_READ_MODEL, "GET", path->str, NULL,
              "jobs-page", 0, convert_jobs_page, NULL, page_free, cancellable, callback,
              user_data);
}

GPtrArray *
odd_client_search_jobs_finish (OddClient     *self,
                               GAsyncResult  *result,
                               char         **next_cursor,
                               GError       **error)
{
  Page *page = call_finish (self, result, odd_client_search_jobs_async, error);
  GPtrArray *items;

  if (page == NULL)
    return NULL;
  if (next_cursor != NULL)
    *next_cursor = g_steal_pointer (&page->cursor);
  items = g_steal_pointer (&page->items);
  page_free (page);
  return items;
}

static gpointer
convert_dlq (JsonNode *body, guint status, gpointer data, GError **error)
{
  Page *page = g_new0 (Page, 1);

  page->items = items_of (body, "items", (ItemFunc) odd_dead_letter_new_from_json);
  page->total = odd_client_json_int (json_node_get_object (body), "total", 0);
  return page;
}

void
odd_client_get_dead_letters_async (OddClient           *self,
                                   const char          *queue,
                                   gboolean             pending,
                                   guint                limit,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GString) path = g_string_new ("/dlq");
  g_autofree char *limit_text = NULL;

  g_return_if_fail (ODD_IS_CLIENT (self));
  g_return_if_fail (limit >= 1 && limit <= ODD_CLIENT_DLQ_LIMIT_MAX);

  limit_text = g_strdup_printf ("%u", limit);
  append_param (path, "queue", queue);
  append_param (path, "state", pending ? "pending" : NULL);
  append_param (path, "limit", limit_text);
  call_async (self, odd_client_get_dead_letters_async, ODD_SERVICE_READ_MODEL, "GET", path->str,
              NULL, "dlq", 0, convert_dlq, NULL, page_free, cancellable, callback, user_data);
}

GPtrArray *
odd_client_get_dead_letters_finish (OddClient     *self,
                                    GAsyncResult  *result,
                                    gint64        *total,
                                    GError       **error)
{
  Page *page = call_finish (self, result, odd_client_get_dead_letters_async, error);
  GPtrArray *items;

  if (page == NULL)
    return NULL;
  if (total != NULL)
    *total = page->total;
  items = g_steal_pointer (&page->items);
  page_free (page);
  return items;
}

/* GET /jobs/{id} */

static gpointer
convert_job (JsonNode *body, guint status, gpointer data, GError **error)
{
  return odd_job_new_from_detail (json_node_get_object (body));
}

void
odd_client_get_job_async (OddClient           *self,
                          const char          *job_id,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autofree char *path = NULL;

  g_return_if_fail (ODD_IS_CLIENT (self));
  g_return_if_fail (job_id != NULL);

  if (!odd_uuid_is_valid (job_id))
    {
      g_task_report_new_error (self, callback, user_data, odd_client_get_job_async,
                               ODD_CLIENT_ERROR, ODD_CLIENT_ERROR_INVALID,
                               "“%s” is not a job id: a job id is a UUID such as "
                               "0b6c3e52-8c3e-4a0f-9d7b-0dd0b5e2c001.", job_id);
      return;
    }
  path = g_strconcat ("/jobs/", job_id, NULL);
  call_async (self, odd_client_get_job_async, ODD_SERVICE_READ_MODEL, "GET", path, NULL,
              "job-detail", 0, convert_job, NULL, g_object_unref, cancellable, callback,
              user_data);
}

OddJob *
odd_client_get_job_finish (OddClient     *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  return call_finish (self, result, odd_client_get_job_async, error);
}

/* GET /readyz */

static gpointer
convert_health (JsonNode *body, guint status, gpointer data, GError **error)
{
  return odd_health_new_from_json (GPOINTER_TO_UINT (data), json_node_get_object (body));
}

void
odd_client_get_health_async (OddClient           *self,
                             OddService           service,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (ODD_IS_CLIENT (self));
  g_return_if_fail (service < ODD_SERVICE_LAST);

  call_async (self, odd_client_get_health_async, service, "GET", "/readyz", NULL, "health",
              SOUP_STATUS_SERVICE_UNAVAILABLE, convert_health, GUINT_TO_POINTER (service),
              g_object_unref, cancellable, callback, user_data);
}

OddHealth *
odd_client_get_health_finish (OddClient     *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return call_finish (self, result, odd_client_get_health_async, error);
}

/* POST /jobs/{id}/retry */

static gpointer
convert_retry (JsonNode *body, guint status, gpointer data, GError **error)
{
  gint64 *generation = g_new (gint64, 1);

  *generation = odd_client_json_int (json_node_get_object (body), "generation", 0);
  return generation;
}

void
odd_client_retry_job_async (OddClient           *self,
                            const char          *job_id,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autofree char *path = NULL;

  g_return_if_fail (ODD_IS_CLIENT (self));
  g_return_if_fail (job_id != NULL);

  if (!odd_uuid_is_valid (job_id))
    {
      g_task_report_new_error (self, callback, user_data, odd_client_retry_job_async,
                               ODD_CLIENT_ERROR, ODD_CLIENT_ERROR_INVALID,
                               "“%s” is not a job id: a job id is a UUID.", job_id);
      return;
    }
  path = g_strdup_printf ("/jobs/%s/retry", job_id);
  call_async (self, odd_client_retry_job_async, ODD_SERVICE_GATEWAY, "POST", path, NULL,
              "job-retry", 0, convert_retry, NULL, g_free, cancellable, callback, user_data);
}

gboolean
odd_client_retry_job_finish (OddClient     *self,
                             GAsyncResult  *result,
                             gint64        *generation,
                             GError       **error)
{
  g_autofree gint64 *value = call_finish (self, result, odd_client_retry_job_async, error);

  if (value == NULL)
    return FALSE;
  if (generation != NULL)
    *generation = *value;
  return TRUE;
}

/* POST /jobs, a burst of them */

typedef struct
{
  JsonNode *body;
  guint     count;
  guint     sent;
  guint     answered;
  guint     in_flight;
  GStrv     ids;     /* by submission index */
  GError   *error;   /* the first refusal */
} Burst;

static void
burst_free (gpointer data)
{
  Burst *burst = data;

  json_node_unref (burst->body);
  g_strfreev (burst->ids);
  g_clear_error (&burst->error);
  g_free (burst);
}

static void burst_send_more (GTask *task);

typedef struct
{
  GTask *task;
  guint  index;
} BurstItem;

static void
on_burst_sent (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  BurstItem *item = user_data;
  g_autoptr(GTask) task = item->task;
  Burst *burst = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = send_finish (ODD_CLIENT (source), result, NULL, &error);

  burst->in_flight--;
  if (body != NULL)
    {
      burst->ids[item->index] = g_strdup (odd_json_get_string (json_node_get_object (body), "jobId"));
      burst->answered++;
    }
  else if (burst->error == NULL)
    burst->error = g_steal_pointer (&error);
  g_free (item);

  if (burst->error == NULL && burst->sent < burst->count)
    {
      burst_send_more (task);
      return;
    }
  if (burst->in_flight > 0)
    return;

  if (burst->error != NULL)
    {
      GError *first = g_steal_pointer (&burst->error);

      if (burst->count > 1 && !g_error_matches (first, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&first, "%u of %u jobs were accepted, then: ", burst->answered,
                        burst->count);
      g_task_return_error (task, first);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&burst->ids), (GDestroyNotify) g_strfreev);
}

static void
burst_send_more (GTask *task)
{
  OddClient *self = g_task_get_source_object (task);
  Burst *burst = g_task_get_task_data (task);

  while (burst->in_flight < BURST_WINDOW && burst->sent < burst->count)
    {
      BurstItem *item = g_new0 (BurstItem, 1);

      item->task = g_object_ref (task);
      item->index = burst->sent++;
      burst->in_flight++;
      send_async (self, ODD_SERVICE_GATEWAY, "POST", "/jobs", burst->body, "job-accepted", 0,
                  g_task_get_cancellable (task), on_burst_sent, item);
    }
}

void
odd_client_submit_jobs_async (OddClient           *self,
                              const char          *job_type,
                              JsonNode            *payload,
                              guint                count,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  Burst *burst;

  g_return_if_fail (ODD_IS_CLIENT (self));
  g_return_if_fail (job_type != NULL);
  g_return_if_fail (payload == NULL || JSON_NODE_HOLDS_OBJECT (payload));
  g_return_if_fail (count >= 1);

  /* The short submission: the gateway fills in id, status and createdAt. */
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, job_type);
  if (payload != NULL)
    {
      json_builder_set_member_name (builder, "payload");
      json_builder_add_value (builder, json_node_copy (payload));
    }
  json_builder_end_object (builder);

  burst = g_new0 (Burst, 1);
  burst->body = json_builder_get_root (builder);
  burst->count = count;
  burst->ids = g_new0 (char *, count + 1);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, odd_client_submit_jobs_async);
  g_task_set_task_data (task, burst, burst_free);
  burst_send_more (task);
}

GStrv
odd_client_submit_jobs_finish (OddClient     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return call_finish (self, result, odd_client_submit_jobs_async, error);
}

/* POST /dlq/replay, once or until nothing is left */

typedef struct
{
  guint            limit;    /* 0: all */
  GStrv            keys;     /* by key: the letters, sent ODD_CLIENT_REPLAY_KEYS_MAX at a time */
  guint            sent;     /* of @keys */
  OddReplayResult *result;
} Replay;

static void
replay_free (gpointer data)
{
  Replay *replay = data;

  odd_replay_result_free (replay->result);
  g_strfreev (replay->keys);
  g_free (replay);
}

static void replay_send (GTask *task);

static void
on_replayed (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Replay *replay = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = send_finish (ODD_CLIENT (source), result, NULL, &error);
  JsonObject *object;
  JsonNode *details;
  guint replayed, kept;

  if (body == NULL)
    {
      if (replay->result->replayed > 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, "%u dead letters were replayed, then: ", replay->result->replayed);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  object = json_node_get_object (body);
  replayed = (guint) odd_client_json_int (object, "replayed", 0);
  kept = (guint) odd_client_json_int (object, "kept", 0);
  replay->result->replayed += replayed;

  /* Kept letters go back to their queue and are met again by the next request: only the
   * last request's count and reasons describe what is left. */
  replay->result->kept = kept;
  g_ptr_array_set_size (replay->result->reasons, 0);
  details = json_object_get_member (object, "details");
  for (guint i = 0; details != NULL && JSON_NODE_HOLDS_ARRAY (details) &&
                    i < json_array_get_length (json_node_get_array (details)); i++)
    {
      JsonNode *node = json_array_get_element (json_node_get_array (details), i);
      JsonObject *detail = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *queue = odd_json_get_string (detail, "queue");
      const char *job_id = odd_json_get_string (detail, "jobId");
      g_autoptr(GString) line = g_string_new (queue != NULL ? queue : "dead letter");

      if (job_id != NULL)
        g_string_append_printf (line, " (job %s)", job_id);
      g_string_append_printf (line, ": %s", odd_json_get_string (detail, "reason"));
      g_ptr_array_add (replay->result->reasons, g_string_free (g_steal_pointer (&line), FALSE));
    }

  /* By key: again while keys are left. "All": again while a request used its whole batch
   * moving letters. */
  if ((replay->keys != NULL && replay->keys[replay->sent] != NULL) ||
      (replay->keys == NULL && replay->limit == 0 && replayed > 0 &&
       replayed + kept >= ODD_CLIENT_REPLAY_BATCH_MAX))
    {
      replay_send (g_steal_pointer (&task));
      return;
    }
  g_task_return_pointer (task, odd_replay_result_copy (replay->result),
                         (GDestroyNotify) odd_replay_result_free);
}

static void
replay_send (GTask *task)
{
  Replay *replay = g_task_get_task_data (task);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;

  json_builder_begin_object (builder);
  if (replay->keys != NULL)
    {
      json_builder_set_member_name (builder, "ids");
      json_builder_begin_array (builder);
      for (guint n = 0; n < ODD_CLIENT_REPLAY_KEYS_MAX && replay->keys[replay->sent] != NULL; n++)
        json_builder_add_string_value (builder, replay->keys[replay->sent++]);
      json_builder_end_array (builder);
    }
  else
    {
      json_builder_set_member_name (builder, "limit");
      json_builder_add_int_value (builder, replay->limit > 0 ? replay->limit : ODD_CLIENT_REPLAY_BATCH_MAX);
    }
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  send_async (g_task_get_source_object (task), ODD_SERVICE_GATEWAY, "POST", "/dlq/replay", body,
              "dlq-replay", 0, g_task_get_cancellable (task), on_replayed, task);
}

/* Both replays are one kind of task with one finish: by a limit or by message keys. */
static void
replay_start (OddClient           *self,
              Replay              *replay,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  GTask *task;

  replay->result = g_new0 (OddReplayResult, 1);
  replay->result->reasons = g_ptr_array_new_with_free_func (g_free);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, odd_client_replay_dead_letters_async);
  g_task_set_task_data (task, replay, replay_free);
  replay_send (task);
}

void
odd_client_replay_dead_letters_async (OddClient           *self,
                                      guint                limit,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  Replay *replay;

  g_return_if_fail (ODD_IS_CLIENT (self));
  g_return_if_fail (limit <= ODD_CLIENT_REPLAY_BATCH_MAX);

  replay = g_new0 (Replay, 1);
  replay->limit = limit;
  replay_start (self, replay, cancellable, callback, user_data);
}

OddReplayResult *
odd_client_replay_dead_letters_finish (OddClient     *self,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  return call_finish (self, result, odd_client_replay_dead_letters_async, error);
}

void
odd_client_replay_dead_letters_by_key_async (OddClient           *self,
                                             const char * const  *keys,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data)
{
  Replay *replay;

  g_return_if_fail (ODD_IS_CLIENT (self));
  g_return_if_fail (keys != NULL && keys[0] != NULL);

  replay = g_new0 (Replay, 1);
  replay->keys = g_strdupv ((char **) keys);
  replay_start (self, replay, cancellable, callback, user_data);
}

OddReplayResult *
odd_client_replay_dead_letters_by_key_finish (OddClient     *self,
                                              GAsyncResult  *result,
                                              GError       **error)
{
  return call_finish (self, result, odd_client_replay_dead_letters_async, error);
}
