#define G_LOG_DOMAIN "odd-stack-entry"

#include "odd-stack-entry.h"

struct _OddStackEntry
{
  GObject              parent_instance;
  char                *name;
  OddStackEntryHealth  health;
  char                *detail;
  guint                port;
  char                *url;
};

G_DEFINE_TYPE (OddStackEntry, odd_stack_entry, G_TYPE_OBJECT)

/* g_set_str() is GLib 2.76. */
static gboolean
replace_string (char       **field,
                const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

G_DEFINE_ENUM_TYPE (OddStackEntryHealth, odd_stack_entry_health,
  G_DEFINE_ENUM_VALUE (ODD_STACK_ENTRY_STOPPED, "stopped"),
  G_DEFINE_ENUM_VALUE (ODD_STACK_ENTRY_UNHEALTHY, "unhealthy"),
  G_DEFINE_ENUM_VALUE (ODD_STACK_ENTRY_HEALTHY, "healthy"),
  G_DEFINE_ENUM_VALUE (ODD_STACK_ENTRY_STANDBY, "standby"))

enum
{
  PROP_0,
  PROP_NAME,
  PROP_HEALTH,
  PROP_DETAIL,
  PROP_PORT,
  PROP_URL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
odd_stack_entry_finalize (GObject *object)
{
  OddStackEntry *self = ODD_STACK_ENTRY (object);

  g_free (self->name);
  g_free (self->detail);
  g_free (self->url);

  G_OBJECT_CLASS (odd_stack_entry_parent_class)->finalize (object);
}

static void
odd_stack_entry_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  OddStackEntry *self = ODD_STACK_ENTRY (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_HEALTH:
      g_value_set_enum (value, self->health);
      break;
    case PROP_DETAIL:
      g_value_set_string (value, self->detail);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_stack_entry_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  OddStackEntry *self = ODD_STACK_ENTRY (object);

  switch (prop_id)
    {
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_stack_entry_class_init (OddStackEntryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = odd_stack_entry_finalize;
  object_class->get_property = odd_stack_entry_get_property;
  object_class->set_property = odd_stack_entry_set_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HEALTH] =
    g_param_spec_enum ("health", NULL, NULL, ODD_TYPE_STACK_ENTRY_HEALTH, ODD_STACK_ENTRY_STOPPED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DETAIL] =
    g_param_spec_string ("detail", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
odd_stack_entry_init (OddStackEntry *self)
{
}

OddStackEntry *
odd_stack_entry_new (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  return g_object_new (ODD_TYPE_STACK_ENTRY, "name", name, NULL);
}

const char *
odd_stack_entry_get_name (OddStackEntry *self)
{
  g_return_val_if_fail (ODD_IS_STACK_ENTRY (self), NULL);
  return self->name;
}

OddStackEntryHealth
odd_stack_entry_get_health (OddStackEntry *self)
{
  g_return_val_if_fail (ODD_IS_STACK_ENTRY (self), ODD_STACK_ENTRY_STOPPED);
  return self->health;
}

const char *
odd_stack_entry_get_detail (OddStackEntry *self)
{
  g_return_val_if_fail (ODD_IS_STACK_ENTRY (self), NULL);
  return self->detail;
}

guint
odd_stack_entry_get_port (OddStackEntry *self)
{
  g_return_val_if_fail (ODD_IS_STACK_ENTRY (self), 0);
  return self->port;
}

const char *
odd_stack_entry_get_url (OddStackEntry *self)
{
  g_return_val_if_fail (ODD_IS_STACK_ENTRY (self), NULL);
  return self->url;
}

void
odd_stack_entry_set_health (OddStackEntry       *self,
                            OddStackEntryHealth  health)
{
  g_return_if_fail (ODD_IS_STACK_ENTRY (self));

  if (self->health == health)
    return;
  self->health = health;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HEALTH]);
}

void
odd_stack_entry_set_detail (OddStackEntry *self,
                            const char    *detail)
{
  g_return_if_fail (ODD_IS_STACK_ENTRY (self));

  if (replace_string (&self->detail, detail))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DETAIL]);
}

void
odd_stack_entry_set_port (OddStackEntry *self,
                          guint          port)
{
  g_return_if_fail (ODD_IS_STACK_ENTRY (self));

  if (self->port == port)
    return;
  self->port = port;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
}

void
odd_stack_entry_set_url (OddStackEntry *self,
                         const char    *url)
{
  g_return_if_fail (ODD_IS_STACK_ENTRY (self));

  if (replace_string (&self->url, url))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URL]);
}
