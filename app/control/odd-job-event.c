#define G_LOG_DOMAIN "odd-client"

#include "odd-client-private.h"

struct _OddJobEvent
{
  GObject    parent_instance;
  char      *event_type;
  char      *event_id;
  GDateTime *occurred_at;
  char      *producer;
  char      *status;
  gint64     attempt;
  char      *outcome;
  char      *error;
  gint64     duration;
  JsonNode  *envelope;
};

G_DEFINE_FINAL_TYPE (OddJobEvent, odd_job_event, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_EVENT_TYPE,
  PROP_EVENT_ID,
  PROP_OCCURRED_AT,
  PROP_PRODUCER,
  PROP_STATUS,
  PROP_ATTEMPT,
  PROP_OUTCOME,
  PROP_ERROR,
  PROP_DURATION,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

static void
odd_job_event_finalize (GObject *object)
{
  OddJobEvent *self = ODD_JOB_EVENT (object);

  g_free (self->event_type);
  g_free (self->event_id);
  g_clear_pointer (&self->occurred_at, g_date_time_unref);
  g_free (self->producer);
  g_free (self->status);
  g_free (self->outcome);
  g_free (self->error);
  g_clear_pointer (&self->envelope, json_node_unref);
  G_OBJECT_CLASS (odd_job_event_parent_class)->finalize (object);
}

static void
odd_job_event_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  OddJobEvent *self = ODD_JOB_EVENT (object);

  switch (prop_id)
    {
    case PROP_EVENT_TYPE:
      g_value_set_string (value, self->event_type);
      break;
    case PROP_EVENT_ID:
      g_value_set_string (value, self->event_id);
      break;
    case PROP_OCCURRED_AT:
      g_value_set_boxed (value, self->occurred_at);
      break;
    case PROP_PRODUCER:
      g_value_set_string (value, self->producer);
      break;
    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;
    case PROP_ATTEMPT:
      g_value_set_int64 (value, self->attempt);
      break;
    case PROP_OUTCOME:
      g_value_set_string (value, self->outcome);
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    case PROP_DURATION:
      g_value_set_int64 (value, self->duration);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_job_event_class_init (OddJobEventClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = odd_job_event_finalize;
  object_class->get_property = odd_job_event_get_property;

  properties[PROP_EVENT_TYPE] = g_param_spec_string ("event-type", NULL, NULL, NULL, flags);
  properties[PROP_EVENT_ID] = g_param_spec_string ("event-id", NULL, NULL, NULL, flags);
  properties[PROP_OCCURRED_AT] = g_param_spec_boxed ("occurred-at", NULL, NULL, G_TYPE_DATE_TIME, flags);
  properties[PROP_PRODUCER] = g_param_spec_string ("producer", NULL, NULL, NULL, flags);
  properties[PROP_STATUS] = g_param_spec_string ("status", NULL, NULL, NULL, flags);
  properties[PROP_ATTEMPT] = g_param_spec_int64 ("attempt", NULL, NULL, -1, G_MAXINT64, -1, flags);
  properties[PROP_OUTCOME] = g_param_spec_string ("outcome", NULL, NULL, NULL, flags);
  properties[PROP_ERROR] = g_param_spec_string ("error", NULL, NULL, NULL, flags);
  properties[PROP_DURATION] = g_param_spec_int64 ("duration", NULL, NULL, G_MININT64, G_MAXINT64, 0, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
odd_job_event_init (OddJobEvent *self)
{
  self->attempt = -1;
}

OddJobEvent *
odd_job_event_new_from_json (JsonObject  *envelope,
                             OddJobEvent *previous)
{
  OddJobEvent *self;
  JsonObject *metadata;
  JsonNode *node;

  g_return_val_if_fail (envelope != NULL, NULL);
  g_return_val_if_fail (previous == NULL || ODD_IS_JOB_EVENT (previous), NULL);

  self = g_object_new (ODD_TYPE_JOB_EVENT, NULL);
  self->event_type = odd_client_json_strdup (envelope, "eventType");
  self->event_id = odd_client_json_strdup (envelope, "eventId");
  self->occurred_at = odd_client_json_time (envelope, "occurredAt");
  self->producer = odd_client_json_strdup (odd_json_get_object (envelope, "producer"), "service");
  self->status = odd_client_json_strdup (odd_json_get_object (envelope, "payload"), "status");
  if (self->status == NULL)
    self->status = g_strdup ("");

  /* Lifecycle events carry the attempt, outcome and error next to the envelope. */
  metadata = odd_json_get_object (envelope, "metadata");
  node = metadata != NULL ? json_object_get_member (metadata, "attempt") : NULL;
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node))
    self->attempt = json_node_get_int (node);
  self->outcome = odd_client_json_strdup (metadata, "outcome");
  self->error = odd_client_json_strdup (metadata, "error");

  if (previous != NULL && previous->occurred_at != NULL && self->occurred_at != NULL)
    self->duration = g_date_time_difference (self->occurred_at, previous->occurred_at);

  self->envelope = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (self->envelope, envelope);
  return self;
}

#define GETTER(type, name, fallback) \
  type \
  odd_job_event_get_##name (OddJobEvent *self) \
  { \
    g_return_val_if_fail (ODD_IS_JOB_EVENT (self), fallback); \
    return self->name; \
  }

GETTER (const char *, event_type, NULL)
GETTER (const char *, event_id, NULL)
GETTER (GDateTime *, occurred_at, NULL)
GETTER (const char *, producer, NULL)
GETTER (const char *, status, "")
GETTER (gint64, attempt, -1)
GETTER (const char *, outcome, NULL)
GETTER (const char *, error, NULL)
GETTER (gint64, duration, 0)
GETTER (JsonNode *, envelope, NULL)
