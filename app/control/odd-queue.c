#define G_LOG_DOMAIN "odd-client"

#include "odd-client-private.h"

struct _OddQueue
{
  GObject  parent_instance;
  char    *name;
  gint64   messages;
  gint64   consumers;
};

G_DEFINE_FINAL_TYPE (OddQueue, odd_queue, G_TYPE_OBJECT)

enum { PROP_0, PROP_NAME, PROP_MESSAGES, PROP_CONSUMERS, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void
odd_queue_finalize (GObject *object)
{
  OddQueue *self = ODD_QUEUE (object);

  g_free (self->name);
  G_OBJECT_CLASS (odd_queue_parent_class)->finalize (object);
}

static void
odd_queue_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  OddQueue *self = ODD_QUEUE (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_MESSAGES:
      g_value_set_int64 (value, self->messages);
      break;
    case PROP_CONSUMERS:
      g_value_set_int64 (value, self->consumers);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_queue_class_init (OddQueueClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = odd_queue_finalize;
  object_class->get_property = odd_queue_get_property;

  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MESSAGES] = g_param_spec_int64 ("messages", NULL, NULL, 0, G_MAXINT64, 0,
                                                  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CONSUMERS] = g_param_spec_int64 ("consumers", NULL, NULL, 0, G_MAXINT64, 0,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
odd_queue_init (OddQueue *self)
{
}

OddQueue *
odd_queue_new_from_json (JsonObject *object)
{
  OddQueue *self;

  g_return_val_if_fail (object != NULL, NULL);
  g_return_val_if_fail (odd_json_get_string (object, "name") != NULL, NULL);

  self = g_object_new (ODD_TYPE_QUEUE, NULL);
  self->name = odd_client_json_strdup (object, "name");
  self->messages = odd_client_json_int (object, "messages", 0);
  self->consumers = odd_client_json_int (object, "consumers", 0);
  return self;
}

const char *
odd_queue_get_name (OddQueue *self)
{
  g_return_val_if_fail (ODD_IS_QUEUE (self), NULL);
  return self->name;
}

gint64
odd_queue_get_messages (OddQueue *self)
{
  g_return_val_if_fail (ODD_IS_QUEUE (self), 0);
  return self->messages;
}

gint64
odd_queue_get_consumers (OddQueue *self)
{
  g_return_val_if_fail (ODD_IS_QUEUE (self), 0);
  return self->consumers;
}

gboolean
odd_queue_name_is_dead_letter (const char *name)
{
  g_return_val_if_fail (name != NULL, FALSE);

  return g_str_has_prefix (name, "jobs.dead") || g_str_has_prefix (name, "jobs.failed");
}
