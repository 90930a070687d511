#define G_LOG_DOMAIN "odd-client"

#include "odd-client-private.h"

struct _OddHealth
{
  GObject     parent_instance;
  OddService  service;
  gboolean    ready;
  char       *version;
  char       *reason;
};

G_DEFINE_FINAL_TYPE (OddHealth, odd_health, G_TYPE_OBJECT)

enum { PROP_0, PROP_SERVICE, PROP_READY, PROP_VERSION, PROP_REASON, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void
odd_health_finalize (GObject *object)
{
  OddHealth *self = ODD_HEALTH (object);

  g_free (self->version);
  g_free (self->reason);
  G_OBJECT_CLASS (odd_health_parent_class)->finalize (object);
}

static void
odd_health_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  OddHealth *self = ODD_HEALTH (object);

  switch (prop_id)
    {
    case PROP_SERVICE:
      g_value_set_enum (value, self->service);
      break;
    case PROP_READY:
      g_value_set_boolean (value, self->ready);
      break;
    case PROP_VERSION:
      g_value_set_string (value, self->version);
      break;
    case PROP_REASON:
      g_value_set_string (value, self->reason);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_health_class_init (OddHealthClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = odd_health_finalize;
  object_class->get_property = odd_health_get_property;

  properties[PROP_SERVICE] = g_param_spec_enum ("service", NULL, NULL, ODD_TYPE_SERVICE,
                                                ODD_SERVICE_GATEWAY, flags);
  properties[PROP_READY] = g_param_spec_boolean ("ready", NULL, NULL, FALSE, flags);
  properties[PROP_VERSION] = g_param_spec_string ("version", NULL, NULL, NULL, flags);
  properties[PROP_REASON] = g_param_spec_string ("reason", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
odd_health_init (OddHealth *self)
{
}

OddHealth *
odd_health_new_from_json (OddService  service,
                          JsonObject *object)
{
  OddHealth *self;

  g_return_val_if_fail (object != NULL, NULL);
  g_return_val_if_fail (service < ODD_SERVICE_LAST, NULL);

  self = g_object_new (ODD_TYPE_HEALTH, NULL);
  self->service = service;
  self->ready = g_strcmp0 (odd_json_get_string (object, "status"), "ok") == 0;
  self->version = odd_client_json_strdup (object, "version");
  if (!self->ready)
    {
      self->reason = odd_client_json_strdup (object, "reason");
      if (self->reason == NULL)
        self->reason = g_strdup ("not ready");
    }
  return self;
}

OddService
odd_health_get_service (OddHealth *self)
{
  g_return_val_if_fail (ODD_IS_HEALTH (self), ODD_SERVICE_GATEWAY);
  return self->service;
}

gboolean
odd_health_is_ready (OddHealth *self)
{
  g_return_val_if_fail (ODD_IS_HEALTH (self), FALSE);
  return self->ready;
}

const char *
odd_health_get_version (OddHealth *self)
{
  g_return_val_if_fail (ODD_IS_HEALTH (self), NULL);
  return self->version;
}

const char *
odd_health_get_reason (OddHealth *self)
{
  g_return_val_if_fail (ODD_IS_HEALTH (self), NULL);
  return self->reason;
}
