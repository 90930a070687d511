#define G_LOG_DOMAIN "odd-client"

#include "odd-client-private.h"

struct _OddDeadLetter
{
  GObject    parent_instance;
  gint64     id;
  char      *queue;
  char      *reason;
  char      *job_id;
  char      *correlation_id;
  char      *message_key;
  GDateTime *dead_at;
  GDateTime *replayed_at;
  char      *error;
  JsonNode  *message;
};

G_DEFINE_FINAL_TYPE (OddDeadLetter, odd_dead_letter, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ID,
  PROP_QUEUE,
  PROP_REASON,
  PROP_JOB_ID,
  PROP_CORRELATION_ID,
  PROP_MESSAGE_KEY,
  PROP_DEAD_AT,
  PROP_REPLAYED_AT,
  PROP_ERROR,
  PROP_MESSAGE,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

static void
odd_dead_letter_finalize (GObject *object)
{
  OddDeadLetter *self = ODD_DEAD_LETTER (object);

  g_free (self->queue);
  g_free (self->reason);
  g_free (self->job_id);
  g_free (self->correlation_id);
  g_free (self->message_key);
  g_clear_pointer (&self->dead_at, g_date_time_unref);
  g_clear_pointer (&self->replayed_at, g_date_time_unref);
  g_free (self->error);
  g_clear_pointer (&self->message, json_node_unref);
  G_OBJECT_CLASS (odd_dead_letter_parent_class)->finalize (object);
}

static void
odd_dead_letter_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  OddDeadLetter *self = ODD_DEAD_LETTER (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_int64 (value, self->id);
      break;
    case PROP_QUEUE:
      g_value_set_string (value, self->queue);
      break;
    case PROP_REASON:
      g_value_set_string (value, self->reason);
      break;
    case PROP_JOB_ID:
      g_value_set_string (value, self->job_id);
      break;
    case PROP_CORRELATION_ID:
      g_value_set_string (value, self->correlation_id);
      break;
    case PROP_MESSAGE_KEY:
      g_value_set_string (value, self->message_key);
      break;
    case PROP_DEAD_AT:
      g_value_set_boxed (value, self->dead_at);
      break;
    case PROP_REPLAYED_AT:
      g_value_set_boxed (value, self->replayed_at);
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    case PROP_MESSAGE:
      g_value_set_boxed (value, self->message);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_dead_letter_class_init (OddDeadLetterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = odd_dead_letter_finalize;
  object_class->get_property = odd_dead_letter_get_property;

  properties[PROP_ID] = g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_QUEUE] = g_param_spec_string ("queue", NULL, NULL, NULL, flags);
  properties[PROP_REASON] = g_param_spec_string ("reason", NULL, NULL, NULL, flags);
  properties[PROP_JOB_ID] = g_param_spec_string ("job-id", NULL, NULL, NULL, flags);
  properties[PROP_CORRELATION_ID] = g_param_spec_string ("correlation-id", NULL, NULL, NULL, flags);
  properties[PROP_MESSAGE_KEY] = g_param_spec_string ("message-key", NULL, NULL, NULL, flags);
  properties[PROP_DEAD_AT] = g_param_spec_boxed ("dead-at", NULL, NULL, G_TYPE_DATE_TIME, flags);
  properties[PROP_REPLAYED_AT] = g_param_spec_boxed ("replayed-at", NULL, NULL, G_TYPE_DATE_TIME, flags);
  properties[PROP_ERROR] = g_param_spec_string ("error", NULL, NULL, NULL, flags);
  properties[PROP_MESSAGE] = g_param_spec_boxed ("message", NULL, NULL, JSON_TYPE_NODE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
odd_dead_letter_init (OddDeadLetter *self)
{
}

OddDeadLetter *
odd_dead_letter_new_from_json (JsonObject *object)
{
  OddDeadLetter *self;
  JsonNode *message;

  g_return_val_if_fail (object != NULL, NULL);

  self = g_object_new (ODD_TYPE_DEAD_LETTER, NULL);
  self->id = odd_client_json_int (object, "id", 0);
  self->queue = odd_client_json_strdup (object, "queue");
  self->reason = odd_client_json_strdup (object, "reason");
  self->job_id = odd_client_json_strdup (object, "jobId");
  self->correlation_id = odd_client_json_strdup (object, "correlationId");
  self->message_key = odd_client_json_strdup (object, "messageKey");
  self->dead_at = odd_client_json_time (object, "deadAt");
  self->replayed_at = odd_client_json_time (object, "replayedAt");
  message = json_object_get_member (object, "message");
  if (message != NULL && JSON_NODE_HOLDS_OBJECT (message))
    {
      self->message = json_node_copy (message);
      self->error = odd_client_json_strdup (json_node_get_object (message), "validation_error");
    }
  return self;
}

#define GETTER(type, name, fallback) \
  type \
  odd_dead_letter_get_##name (OddDeadLetter *self) \
  { \
    g_return_val_if_fail (ODD_IS_DEAD_LETTER (self), fallback); \
    return self->name; \
  }

GETTER (gint64, id, 0)
GETTER (const char *, queue, NULL)
GETTER (const char *, message_key, NULL)
GETTER (const char *, reason, NULL)
GETTER (const char *, job_id, NULL)
GETTER (const char *, correlation_id, NULL)
GETTER (GDateTime *, dead_at, NULL)
GETTER (GDateTime *, replayed_at, NULL)
GETTER (const char *, error, NULL)
GETTER (JsonNode *, message, NULL)

/* ---- OddReplayResult ---- */

G_DEFINE_BOXED_TYPE (OddReplayResult, odd_replay_result, odd_replay_result_copy,
                     odd_replay_result_free)

OddReplayResult *
odd_replay_result_copy (const OddReplayResult *result)
{
  OddReplayResult *copy;

  g_return_val_if_fail (result != NULL, NULL);

  copy = g_new0 (OddReplayResult, 1);
  copy->replayed = result->replayed;
  copy->kept = result->kept;
  copy->reasons = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; result->reasons != NULL && i < result->reasons->len; i++)
    g_ptr_array_add (copy->reasons, g_strdup (result->reasons->pdata[i]));
  return copy;
}

void
odd_replay_result_free (OddReplayResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->reasons, g_ptr_array_unref);
  g_free (result);
}
