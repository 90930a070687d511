#define G_LOG_DOMAIN "odd-client"

#include "odd-client-private.h"

static const GEnumValue job_status_values[] = {
  { ODD_JOB_STATUS_UNKNOWN, "ODD_JOB_STATUS_UNKNOWN", "unknown" },
  { ODD_JOB_STATUS_PENDING, "ODD_JOB_STATUS_PENDING", "PENDING" },
  { ODD_JOB_STATUS_VALIDATED, "ODD_JOB_STATUS_VALIDATED", "VALIDATED" },
  { ODD_JOB_STATUS_EXECUTING, "ODD_JOB_STATUS_EXECUTING", "EXECUTING" },
  { ODD_JOB_STATUS_COMPLETED, "ODD_JOB_STATUS_COMPLETED", "COMPLETED" },
  { ODD_JOB_STATUS_FAILED, "ODD_JOB_STATUS_FAILED", "FAILED" },
  { 0, NULL, NULL },
};

GType
odd_job_status_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    g_once_init_leave (&type_id, g_enum_register_static ("OddJobStatus", job_status_values));
  return type_id;
}

const char *
odd_job_status_to_string (OddJobStatus status)
{
  if (status <= ODD_JOB_STATUS_UNKNOWN || status > ODD_JOB_STATUS_FAILED)
    return NULL;
  return job_status_values[status].value_nick;
}

OddJobStatus
odd_job_status_from_string (const char *text)
{
  for (guint i = ODD_JOB_STATUS_PENDING; text != NULL && i <= ODD_JOB_STATUS_FAILED; i++)
    if (g_str_equal (text, job_status_values[i].value_nick))
      return (OddJobStatus) i;
  return ODD_JOB_STATUS_UNKNOWN;
}

struct _OddJob
{
  GObject       parent_instance;
  char         *id;
  char         *job_type;
  OddJobStatus  status;
  /* A list holds many summaries: their times are kept as microseconds (NO_TIME when absent)
   * and made GDateTimes only when asked for. */
  gint64        created_usec;
  gint64        updated_usec;
  GDateTime    *created_at;
  GDateTime    *updated_at;
  gint64        attempts;
  gboolean      is_detail;
  gint64        generation;
  char         *last_error;
  GDateTime    *started_at;
  GDateTime    *finished_at;
  JsonNode     *payload;
  GListStore   *events;
};

G_DEFINE_FINAL_TYPE (OddJob, odd_job, G_TYPE_OBJECT)

#define NO_TIME G_MININT64

enum
{
  PROP_0,
  PROP_ID,
  PROP_JOB_TYPE,
  PROP_STATUS,
  PROP_CREATED_AT,
  PROP_UPDATED_AT,
  PROP_ATTEMPTS,
  PROP_IS_DETAIL,
  PROP_GENERATION,
  PROP_LAST_ERROR,
  PROP_STARTED_AT,
  PROP_FINISHED_AT,
  PROP_PAYLOAD,
  PROP_EVENTS,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

static void
odd_job_finalize (GObject *object)
{
  OddJob *self = ODD_JOB (object);

  g_free (self->id);
  g_free (self->job_type);
  g_clear_pointer (&self->created_at, g_date_time_unref);
  g_clear_pointer (&self->updated_at, g_date_time_unref);
  g_free (self->last_error);
  g_clear_pointer (&self->started_at, g_date_time_unref);
  g_clear_pointer (&self->finished_at, g_date_time_unref);
  g_clear_pointer (&self->payload, json_node_unref);
  g_clear_object (&self->events);
  G_OBJECT_CLASS (odd_job_parent_class)->finalize (object);
}

static void
odd_job_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  OddJob *self = ODD_JOB (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_JOB_TYPE:
      g_value_set_string (value, self->job_type);
      break;
    case PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;
    case PROP_CREATED_AT:
      g_value_set_boxed (value, odd_job_get_created_at (self));
      break;
    case PROP_UPDATED_AT:
      g_value_set_boxed (value, odd_job_get_updated_at (self));
      break;
    case PROP_ATTEMPTS:
      g_value_set_int64 (value, self->attempts);
      break;
    case PROP_IS_DETAIL:
      g_value_set_boolean (value, self->is_detail);
      break;
    case PROP_GENERATION:
      g_value_set_int64 (value, self->generation);
      break;
    case PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;
    case PROP_STARTED_AT:
      g_value_set_boxed (value, self->started_at);
      break;
    case PROP_FINISHED_AT:
      g_value_set_boxed (value, self->finished_at);
      break;
    case PROP_PAYLOAD:
      g_value_set_boxed (value, self->payload);
      break;
    case PROP_EVENTS:
      g_value_set_object (value, self->events);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_job_class_init (OddJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = odd_job_finalize;
  object_class->get_property = odd_job_get_property;

  properties[PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, flags);
  properties[PROP_JOB_TYPE] = g_param_spec_string ("job-type", NULL, NULL, NULL, flags);
  properties[PROP_STATUS] = g_param_spec_enum ("status", NULL, NULL, ODD_TYPE_JOB_STATUS,
                                               ODD_JOB_STATUS_UNKNOWN, flags);
  properties[PROP_CREATED_AT] = g_param_spec_boxed ("created-at", NULL, NULL, G_TYPE_DATE_TIME, flags);
  properties[PROP_UPDATED_AT] = g_param_spec_boxed ("updated-at", NULL, NULL, G_TYPE_DATE_TIME, flags);
  properties[PROP_ATTEMPTS] = g_param_spec_int64 ("attempts", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_IS_DETAIL] = g_param_spec_boolean ("is-detail", NULL, NULL, FALSE, flags);
  properties[PROP_GENERATION] = g_param_spec_int64 ("generation", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_LAST_ERROR] = g_param_spec_string ("last-error", NULL, NULL, NULL, flags);
  properties[PROP_STARTED_AT] = g_param_spec_boxed ("started-at", NULL, NULL, G_TYPE_DATE_TIME, flags);
  properties[PROP_FINISHED_AT] = g_param_spec_boxed ("finished-at", NULL, NULL, G_TYPE_DATE_TIME, flags);
  properties[PROP_PAYLOAD] = g_param_spec_boxed ("payload", NULL, NULL, JSON_TYPE_NODE, flags);
  properties[PROP_EVENTS] = g_param_spec_object ("events", NULL, NULL, G_TYPE_LIST_MODEL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
odd_job_init (OddJob *self)
{
}

static gint64
json_time_usec (JsonObject *object,
                const char *name)
{
  g_autoptr(GDateTime) time = odd_client_json_time (object, name);

  return time != NULL ? g_date_time_to_unix (time) * G_USEC_PER_SEC + g_date_time_get_microsecond (time) : NO_TIME;
}

static GDateTime *
time_of_usec (gint64 usec)
{
  gint64 seconds = usec / G_USEC_PER_SEC - (usec % G_USEC_PER_SEC < 0);
  g_autoptr(GDateTime) whole = NULL;

  if (usec == NO_TIME)
    return NULL;
  whole = g_date_time_new_from_unix_utc (seconds);
  return whole != NULL ? g_date_time_add (whole, usec - seconds * G_USEC_PER_SEC) : NULL;
}

static OddJob *
job_new (JsonObject *object)
{
  OddJob *self;

  g_return_val_if_fail (object != NULL, NULL);
  g_return_val_if_fail (odd_json_get_string (object, "id") != NULL, NULL);
  g_return_val_if_fail (odd_json_get_string (object, "type") != NULL, NULL);

  self = g_object_new (ODD_TYPE_JOB, NULL);
  self->id = odd_client_json_strdup (object, "id");
  self->job_type = odd_client_json_strdup (object, "type");
  self->status = odd_job_status_from_string (odd_json_get_string (object, "status"));
  self->created_usec = json_time_usec (object, "createdAt");
  self->updated_usec = json_time_usec (object, "updatedAt");
  self->attempts = MAX (odd_client_json_int (object, "attempts", 0), 0);
  return self;
}

OddJob *
odd_job_new_from_summary (JsonObject *summary)
{
  return job_new (summary);
}

OddJob *
odd_job_new_from_detail (JsonObject *detail)
{
  JsonObject *object;
  JsonNode *payload;
  JsonNode *events;
  OddJob *self;

  g_return_val_if_fail (detail != NULL, NULL);

  object = odd_json_get_object (detail, "job");
  self = job_new (object);
  if (self == NULL)
    return NULL;

  self->is_detail = TRUE;
  self->generation = MAX (odd_client_json_int (object, "generation", 0), 0);
  self->last_error = odd_client_json_strdup (object, "lastError");
  self->started_at = odd_client_json_time (object, "startedAt");
  self->finished_at = odd_client_json_time (object, "finishedAt");
  payload = json_object_get_member (object, "payload");
  if (payload != NULL && JSON_NODE_HOLDS_OBJECT (payload))
    self->payload = json_node_copy (payload);

  self->events = g_list_store_new (ODD_TYPE_JOB_EVENT);
  events = json_object_get_member (detail, "events");
  if (events != NULL && JSON_NODE_HOLDS_ARRAY (events))
    {
      JsonArray *array = json_node_get_array (events);
      g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
      OddJobEvent *previous = NULL;

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *node = json_array_get_element (array, i);
          OddJobEvent *event;

          if (!JSON_NODE_HOLDS_OBJECT (node))
            continue;
          event = odd_job_event_new_from_json (json_node_get_object (node), previous);
          g_ptr_array_add (items, event);
          previous = event;
        }
      g_list_store_splice (self->events, 0, 0, items->pdata, items->len);
    }
  return self;
}

#define GETTER(type, name, fallback) \
  type \
  odd_job_get_##name (OddJob *self) \
  { \
    g_return_val_if_fail (ODD_IS_JOB (self), fallback); \
    return self->name; \
  }

GETTER (const char *, id, NULL)
GETTER (const char *, job_type, NULL)
GETTER (OddJobStatus, status, ODD_JOB_STATUS_UNKNOWN)
GDateTime *
odd_job_get_created_at (OddJob *self)
{
  g_return_val_if_fail (ODD_IS_JOB (self), NULL);

  if (self->created_at == NULL)
    self->created_at = time_of_usec (self->created_usec);
  return self->created_at;
}

GDateTime *
odd_job_get_updated_at (OddJob *self)
{
  g_return_val_if_fail (ODD_IS_JOB (self), NULL);

  if (self->updated_at == NULL)
    self->updated_at = time_of_usec (self->updated_usec);
  return self->updated_at;
}

gint64
odd_job_get_created_usec (OddJob *self)
{
  g_return_val_if_fail (ODD_IS_JOB (self), 0);
  return self->created_usec != NO_TIME ? self->created_usec : 0;
}
GETTER (gint64, attempts, 0)
GETTER (gint64, generation, 0)
GETTER (const char *, last_error, NULL)
GETTER (GDateTime *, started_at, NULL)
GETTER (GDateTime *, finished_at, NULL)
GETTER (JsonNode *, payload, NULL)

gboolean
odd_job_is_detail (OddJob *self)
{
  g_return_val_if_fail (ODD_IS_JOB (self), FALSE);
  return self->is_detail;
}

GListModel *
odd_job_get_events (OddJob *self)
{
  g_return_val_if_fail (ODD_IS_JOB (self), NULL);
  return self->events != NULL ? G_LIST_MODEL (self->events) : NULL;
}
