#define G_LOG_DOMAIN "odd-client"

#include <string.h>

#include "odd-client-private.h"

static const GEnumValue source_values[] = {
  { ODD_ENDPOINTS_SOURCE_DEFAULT, "ODD_ENDPOINTS_SOURCE_DEFAULT", "default" },
  { ODD_ENDPOINTS_SOURCE_ENV, "ODD_ENDPOINTS_SOURCE_ENV", "env" },
  { ODD_ENDPOINTS_SOURCE_STACK, "ODD_ENDPOINTS_SOURCE_STACK", "stack" },
  { ODD_ENDPOINTS_SOURCE_CLUSTER, "ODD_ENDPOINTS_SOURCE_CLUSTER", "cluster" },
  { 0, NULL, NULL },
};

static const GEnumValue service_values[] = {
  { ODD_SERVICE_GATEWAY, "ODD_SERVICE_GATEWAY", "gateway" },
  { ODD_SERVICE_READ_MODEL, "ODD_SERVICE_READ_MODEL", "read-model" },
  { ODD_SERVICE_PROCESSOR, "ODD_SERVICE_PROCESSOR", "processor" },
  { ODD_SERVICE_METRICS_ENGINE, "ODD_SERVICE_METRICS_ENGINE", "metrics-engine" },
  { 0, NULL, NULL },
};

GType
odd_endpoints_source_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    g_once_init_leave (&type_id, g_enum_register_static ("OddEndpointsSource", source_values));
  return type_id;
}

GType
odd_service_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    g_once_init_leave (&type_id, g_enum_register_static ("OddService", service_values));
  return type_id;
}

const char *
odd_service_to_string (OddService service)
{
  g_return_val_if_fail (service < ODD_SERVICE_LAST, NULL);
  return service_values[service].value_nick;
}

const char *
odd_service_describe (OddService service)
{
  static const char * const names[ODD_SERVICE_LAST] = {
    "the gateway", "the read model", "the processor", "the metrics engine",
  };

  g_return_val_if_fail (service < ODD_SERVICE_LAST, NULL);
  return names[service];
}

struct _OddEndpoints
{
  GObject             parent_instance;
  char               *urls[ODD_SERVICE_LAST];
  OddEndpointsSource  source;
  char               *api_token;
};

G_DEFINE_FINAL_TYPE (OddEndpoints, odd_endpoints, G_TYPE_OBJECT)

enum { PROP_0, PROP_READ_MODEL_URL, PROP_GATEWAY_URL, PROP_SOURCE, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void
odd_endpoints_finalize (GObject *object)
{
  OddEndpoints *self = ODD_ENDPOINTS (object);

  for (guint i = 0; i < ODD_SERVICE_LAST; i++)
    g_free (self->urls[i]);
  if (self->api_token != NULL)
    memset (self->api_token, 0, strlen (self->api_token));
  g_free (self->api_token);
  G_OBJECT_CLASS (odd_endpoints_parent_class)->finalize (object);
}

static void
odd_endpoints_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  OddEndpoints *self = ODD_ENDPOINTS (object);

  switch (prop_id)
    {
    case PROP_READ_MODEL_URL:
      g_value_set_string (value, self->urls[ODD_SERVICE_READ_MODEL]);
      break;
    case PROP_GATEWAY_URL:
      g_value_set_string (value, self->urls[ODD_SERVICE_GATEWAY]);
      break;
    case PROP_SOURCE:
      g_value_set_enum (value, self->source);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_endpoints_class_init (OddEndpointsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = odd_endpoints_finalize;
  object_class->get_property = odd_endpoints_get_property;

  properties[PROP_READ_MODEL_URL] = g_param_spec_string ("read-model-url", NULL, NULL, NULL, flags);
  properties[PROP_GATEWAY_URL] = g_param_spec_string ("gateway-url", NULL, NULL, NULL, flags);
  properties[PROP_SOURCE] = g_param_spec_enum ("source", NULL, NULL, ODD_TYPE_ENDPOINTS_SOURCE,
                                               ODD_ENDPOINTS_SOURCE_DEFAULT, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
odd_endpoints_init (OddEndpoints *self)
{
}

static char *
strip_slash (const char *url)
{
  char *copy = g_strdup (url);
  gsize len = copy != NULL ? strlen (copy) : 0;

  /* Paths are appended as "/stats", so no trailing slash. */
  while (len > 0 && copy[len - 1] == '/')
    copy[--len] = '\0';
  return copy;
}

static OddEndpoints *
endpoints_new (const char * const  urls[ODD_SERVICE_LAST],
               OddEndpointsSource  source,
               const char         *api_token)
{
  OddEndpoints *self = g_object_new (ODD_TYPE_ENDPOINTS, NULL);

  for (guint i = 0; i < ODD_SERVICE_LAST; i++)
    self->urls[i] = strip_slash (urls[i]);
  self->source = source;
  self->api_token = api_token != NULL && *api_token != '\0' ? g_strdup (api_token) : NULL;
  return self;
}

OddEndpoints *
odd_endpoints_new (const char         *read_model_url,
                   const char         *gateway_url,
                   OddEndpointsSource  source)
{
  const char *urls[ODD_SERVICE_LAST] = { NULL };

  g_return_val_if_fail (read_model_url != NULL, NULL);
  g_return_val_if_fail (gateway_url != NULL, NULL);

  urls[ODD_SERVICE_READ_MODEL] = read_model_url;
  urls[ODD_SERVICE_GATEWAY] = gateway_url;
  return endpoints_new (urls, source, NULL);
}

static const char *
non_empty_env (const char *name)
{
  const char *value = g_getenv (name);

  return value != NULL && *value != '\0' ? value : NULL;
}

OddEndpoints *
odd_endpoints_discover (void)
{
  const char *rm = non_empty_env ("READ_MODEL_URL");
  const char *gw = non_empty_env ("GATEWAY_URL");
  const char *urls[ODD_SERVICE_LAST] = { NULL };
  char *stack_urls[ODD_SERVICE_LAST] = { NULL };
  g_autoptr(OddStackPaths) paths = NULL;
  OddEndpointsSource source;
  OddEndpoints *self;

  if (rm == NULL || gw == NULL)
    {
      /* A stack.json means a local stack was started here: follow its ports. */
      g_autofree char *state_dir = odd_stack_default_state_dir ();

      paths = odd_stack_paths_load (state_dir, NULL);
    }

  if (paths != NULL)
    {
      stack_urls[ODD_SERVICE_GATEWAY] = odd_stack_paths_http_url (paths, ODD_PORT_GATEWAY);
      stack_urls[ODD_SERVICE_READ_MODEL] = odd_stack_paths_http_url (paths, ODD_PORT_READ_MODEL);
      stack_urls[ODD_SERVICE_PROCESSOR] = odd_stack_paths_http_url (paths, ODD_PORT_PROCESSOR);
      stack_urls[ODD_SERVICE_METRICS_ENGINE] = odd_stack_paths_http_url (paths, ODD_PORT_METRICS_ENGINE);
    }

  urls[ODD_SERVICE_READ_MODEL] = rm != NULL ? rm : paths != NULL ? stack_urls[ODD_SERVICE_READ_MODEL]
                                 : ODD_ENDPOINTS_DEFAULT_READ_MODEL_URL;
  urls[ODD_SERVICE_GATEWAY] = gw != NULL ? gw : paths != NULL ? stack_urls[ODD_SERVICE_GATEWAY]
                              : ODD_ENDPOINTS_DEFAULT_GATEWAY_URL;
  /* The other two only when they belong to the same stack as the read model. */
  if (rm == NULL && paths != NULL)
    {
      urls[ODD_SERVICE_PROCESSOR] = stack_urls[ODD_SERVICE_PROCESSOR];
      urls[ODD_SERVICE_METRICS_ENGINE] = stack_urls[ODD_SERVICE_METRICS_ENGINE];
    }
  source = rm != NULL ? ODD_ENDPOINTS_SOURCE_ENV
           : paths != NULL ? ODD_ENDPOINTS_SOURCE_STACK : ODD_ENDPOINTS_SOURCE_DEFAULT;

  self = endpoints_new (urls, source, non_empty_env ("ODD_API_TOKEN"));
  for (guint i = 0; i < ODD_SERVICE_LAST; i++)
    g_free (stack_urls[i]);
  return self;
}

OddEndpoints *
odd_endpoints_new_for_stack (OddStackPaths *paths)
{
  char *urls[ODD_SERVICE_LAST] = { NULL };
  OddEndpoints *self;

  g_return_val_if_fail (paths != NULL, NULL);

  urls[ODD_SERVICE_GATEWAY] = odd_stack_paths_http_url (paths, ODD_PORT_GATEWAY);
  urls[ODD_SERVICE_READ_MODEL] = odd_stack_paths_http_url (paths, ODD_PORT_READ_MODEL);
  urls[ODD_SERVICE_PROCESSOR] = odd_stack_paths_http_url (paths, ODD_PORT_PROCESSOR);
  urls[ODD_SERVICE_METRICS_ENGINE] = odd_stack_paths_http_url (paths, ODD_PORT_METRICS_ENGINE);
  self = endpoints_new ((const char * const *) urls, ODD_ENDPOINTS_SOURCE_STACK,
                        non_empty_env ("ODD_API_TOKEN"));
  for (guint i = 0; i < ODD_SERVICE_LAST; i++)
    g_free (urls[i]);
  return self;
}

OddEndpoints *
odd_endpoints_new_for_cluster (guint16 read_model_port,
                               guint16 gateway_port)
{
  g_autofree char *rm = g_strdup_printf ("http://127.0.0.1:%u", read_model_port);
  g_autofree char *gw = g_strdup_printf ("http://127.0.0.1:%u", gateway_port);
  const char *urls[ODD_SERVICE_LAST] = { NULL };

  urls[ODD_SERVICE_READ_MODEL] = rm;
  urls[ODD_SERVICE_GATEWAY] = gw;
  return endpoints_new (urls, ODD_ENDPOINTS_SOURCE_CLUSTER, non_empty_env ("ODD_API_TOKEN"));
}

OddEndpoints *
odd_endpoints_follow (OddEndpoints *self,
                      OddEndpoints *started)
{
  g_return_val_if_fail (ODD_IS_ENDPOINTS (self), NULL);
  g_return_val_if_fail (ODD_IS_ENDPOINTS (started), NULL);

  /* Explicit READ_MODEL_URL / GATEWAY_URL still win. */
  return g_object_ref (self->source == ODD_ENDPOINTS_SOURCE_ENV ? self : started);
}

const char *
odd_endpoints_get_read_model_url (OddEndpoints *self)
{
  g_return_val_if_fail (ODD_IS_ENDPOINTS (self), NULL);
  return self->urls[ODD_SERVICE_READ_MODEL];
}

const char *
odd_endpoints_get_gateway_url (OddEndpoints *self)
{
  g_return_val_if_fail (ODD_IS_ENDPOINTS (self), NULL);
  return self->urls[ODD_SERVICE_GATEWAY];
}

const char *
odd_endpoints_get_service_url (OddEndpoints *self,
                               OddService    service)
{
  g_return_val_if_fail (ODD_IS_ENDPOINTS (self), NULL);
  g_return_val_if_fail (service < ODD_SERVICE_LAST, NULL);
  return self->urls[service];
}

OddEndpointsSource
odd_endpoints_get_source (OddEndpoints *self)
{
  g_return_val_if_fail (ODD_IS_ENDPOINTS (self), ODD_ENDPOINTS_SOURCE_DEFAULT);
  return self->source;
}

const char *
odd_endpoints_get_api_token (OddEndpoints *self)
{
  g_return_val_if_fail (ODD_IS_ENDPOINTS (self), NULL);
  return self->api_token;
}

OddEndpoints *
odd_endpoints_with_api_token (OddEndpoints *self,
                              const char   *token)
{
  g_return_val_if_fail (ODD_IS_ENDPOINTS (self), NULL);
  return endpoints_new ((const char * const *) self->urls, self->source, token);
}

gboolean
odd_endpoints_equal (OddEndpoints *a,
                     OddEndpoints *b)
{
  g_return_val_if_fail (ODD_IS_ENDPOINTS (a), FALSE);
  g_return_val_if_fail (ODD_IS_ENDPOINTS (b), FALSE);

  for (guint i = 0; i < ODD_SERVICE_LAST; i++)
    if (g_strcmp0 (a->urls[i], b->urls[i]) != 0)
      return FALSE;
  return a->source == b->source && g_strcmp0 (a->api_token, b->api_token) == 0;
}
