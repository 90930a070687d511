#define G_LOG_DOMAIN "odd-processor-intake"

#include "odd-processor-private.h"

#include <string.h>

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z in Unix microseconds. */
#define MIN_CREATED_USEC G_GINT64_CONSTANT (-62135596800000000)
#define MAX_CREATED_USEC G_GINT64_CONSTANT (253402300799999999)

void
odd_processor_intake_free (OddProcessorIntake *intake)
{
  if (intake == NULL)
    return;
  g_clear_pointer (&intake->envelope, json_node_unref);
  g_free (intake->job_id);
  g_free (intake->type);
  g_free (intake->created_at);
  g_free (intake->correlation_id);
  g_clear_pointer (&intake->payload, json_node_unref);
  g_clear_pointer (&intake->metadata, json_node_unref);
  g_free (intake->error);
  g_free (intake->sqlstate);
  g_clear_pointer (&intake->original_event, json_node_unref);
  g_free (intake);
}

void
odd_processor_intake_refuse (OddProcessorIntake  *intake,
                   const char *reason,
                   const char *error,
                   const char *sqlstate)
{
  g_return_if_fail (intake != NULL);

  if (intake->kind == ODD_INTAKE_JOB)
    {
      intake->kind = ODD_INTAKE_DEAD_LETTER;
      intake->original_event = g_steal_pointer (&intake->envelope);
    }
  intake->reason = reason;
  g_free (intake->error);
  intake->error = g_strdup (error);
  g_free (intake->sqlstate);
  intake->sqlstate = g_strdup (sqlstate);
}

/* The raw body as a JSON string: valid UTF-8 and without NUL, which PostgreSQL's jsonb
 * cannot store. */
static JsonNode *
raw_body_node (const char *body,
               gsize       len)
{
  g_autoptr(GString) copy = g_string_sized_new (len);
  g_autofree char *text = NULL;
  JsonNode *node;

  for (gsize i = 0; i < len; i++)
    {
      if (body[i] == '\0')
        g_string_append_unichar (copy, 0xFFFD);
      else
        g_string_append_c (copy, body[i]);
    }
  text = g_utf8_make_valid (copy->str, (gssize) copy->len);

  node = json_node_new (JSON_NODE_VALUE);
  json_node_set_string (node, text);
  return node;
}

/* payload.payload of the envelope @body as it is written there: stored as written, the
 * numbers keep every digit (json-glib would write 0.1 back as 0.10000000000000001). */
static JsonNode *
raw_payload (const char *body,
             gsize       len)
{
  g_autoptr(GArray) envelope = odd_json_object_members (body, len);
  g_autoptr(GArray) job = NULL;
  const char *job_text = NULL;
  gsize job_len = 0;
  JsonNode *raw = NULL;

  for (guint i = 0; envelope != NULL && i < envelope->len; i++)
    {
      OddJsonMember *m = &g_array_index (envelope, OddJsonMember, i);

      if (g_str_equal (m->name, "payload"))
        {
          job_text = body + m->offset;
          job_len = m->length;
        }
    }
  if (job_text == NULL || (job = odd_json_object_members (job_text, job_len)) == NULL)
    return NULL;
  /* the last copy, as json-glib keeps it */
  for (guint i = 0; i < job->len; i++)
    {
      OddJsonMember *m = &g_array_index (job, OddJsonMember, i);

      if (g_str_equal (m->name, "payload") && job_text[m->offset] == '{')
        {
          g_clear_pointer (&raw, json_node_unref);
          raw = odd_json_raw_new (job_text + m->offset, (gssize) m->length);
        }
    }
  return raw;
}

static OddProcessorIntake *
dead_letter (guint64     delivery_tag,
             const char *reason,
             char       *error,
             JsonNode   *original_event,
             const char *correlation_id,
             const char *job_id)
{
  OddProcessorIntake *intake = g_new0 (OddProcessorIntake, 1);

  intake->kind = ODD_INTAKE_DEAD_LETTER;
  intake->delivery_tag = delivery_tag;
  intake->reason = reason;
  intake->error = error;
  intake->original_event = original_event;
  intake->correlation_id = g_strdup (correlation_id);
  intake->job_id = odd_uuid_is_valid (job_id) ? g_ascii_strdown (job_id, -1) : NULL;
  intake->retry_generation = -1;
  return intake;
}

OddProcessorIntake *
odd_processor_intake_new_unhandled (const char *body,
                          gsize       len,
                          const char *amqp_correlation_id,
                          guint64     delivery_tag,
                          const char *reason,
                          const char *error)
{
  return dead_letter (delivery_tag, reason, g_strdup (error), raw_body_node (body, len),
                      amqp_correlation_id, NULL);
}

static const char *
object_string (JsonObject *object,
               const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static JsonObject *
object_object (JsonObject *object,
               const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_node_get_object (node);
}

static int
retry_generation (JsonObject *metadata)
{
  JsonNode *node = metadata != NULL ? json_object_get_member (metadata, "retryGeneration") : NULL;
  gint64 value;

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE)
    return -1;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    value = json_node_get_int (node);
  else if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    {
      double d = json_node_get_double (node);

      /* Converting a double out of gint64's range is undefined behaviour (1e300). */
      if (!(d >= 1 && d <= G_MAXINT))
        return -1;
      value = (gint64) d;
    }
  else
    return -1;
  return value >= 1 && value <= G_MAXINT ? (int) value : -1;
}

/* Appends the errors of @instance against @schema_name, their paths under @prefix. */
static void
validate_into (OddSchemaRegistry *registry,
               const char        *schema_name,
               JsonNode          *instance,
               const char        *prefix,
               GString           *errors)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = NULL;

  if (!odd_schema_registry_has (registry, schema_name))
    return;

  found = odd_schema_registry_validate (registry, schema_name, instance, &error);
  if (found == NULL)
    {
      g_string_append_printf (errors, "%s%s", errors->len > 0 ? "; " : "", error->message);
      return;
    }

  for (guint i = 0; i < found->len; i++)
    {
      OddValidationError *e = g_ptr_array_index (found, i);

      g_string_append_printf (errors, "%s%s%s: %s", errors->len > 0 ? "; " : "",
                              prefix, e->path, e->message);
    }
}

OddProcessorIntake *
odd_processor_intake_parse (OddSchemaRegistry *registry,
                            const char        *body,
                            gsize              len,
                            const char        *amqp_correlation_id,
                            guint64            delivery_tag)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GString) errors = g_string_new (NULL);
  JsonObject *envelope, *job, *payload, *metadata, *simulate;
  const char *correlation_id, *job_id, *event_type, *created_at;
  OddProcessorIntake *intake;
  gint64 created_usec;

  if (memchr (body, '\0', len) != NULL)
    return dead_letter (delivery_tag, "unparseable",
                        g_strdup ("the message contains a NUL byte"),
                        raw_body_node (body, len), amqp_correlation_id, NULL);

  root = odd_json_parse (body, (gssize) len, &error);
  if (root == NULL)
    return dead_letter (delivery_tag, "unparseable",
                        g_strdup_printf ("not JSON: %s", error->message),
                        raw_body_node (body, len), amqp_correlation_id, NULL);

  envelope = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  job = object_object (envelope, "payload");
  correlation_id = object_string (envelope, "correlationId");
  if (correlation_id == NULL)
    correlation_id = amqp_correlation_id;
  job_id = object_string (job, "id");

  validate_into (registry, "event-envelope", root, "", errors);
  if (errors->len == 0)
    {
      event_type = object_string (envelope, "eventType");
      if (g_strcmp0 (event_type, "job.created") != 0)
        g_string_append_printf (errors, "/eventType: expected job.created on this queue, got %s",
                                event_type);
    }
  if (errors->len == 0)
    validate_into (registry, "job", json_object_get_member (envelope, "payload"), "/payload",
                   errors);
  payload = object_object (job, "payload");
  simulate = object_object (payload, "simulate");
  if (errors->len == 0 && simulate != NULL)
    validate_into (registry, "simulation", json_object_get_member (payload, "simulate"),
                   "/payload/payload/simulate", errors);
  if (errors->len == 0 && payload != NULL && json_object_has_member (payload, "simulate")
      && simulate == NULL)
    g_string_append (errors, "/payload/payload/simulate: must be an object");
  if (errors->len == 0)
    {
      OddSimulation simulation;
      g_autofree char *message = NULL;

      if (!odd_job_get_simulation (job, &simulation, &message))
        g_string_append_printf (errors, "/payload/payload/simulate: %s", message);
    }
  created_at = object_string (job, "createdAt");
  if (errors->len == 0 && !odd_time_parse_rfc3339 (created_at, &created_usec))
    g_string_append (errors, "/payload/createdAt: not an RFC 3339 date-time");
  /* In UTC, as it is stored and sent on: 9999-12-31T23:59:59-01:00 is year 10000, which
   * PostgreSQL stores but no RFC 3339 reader takes back (every event of the job would be
   * refused downstream); year 0 PostgreSQL refuses. */
  else if (errors->len == 0
           && (created_usec < MIN_CREATED_USEC || created_usec > MAX_CREATED_USEC))
    g_string_append (errors, "/payload/createdAt: must be from 0001-01-01T00:00:00Z to "
                             "9999-12-31T23:59:59.999Z once in UTC");

  if (errors->len > 0)
    return dead_letter (delivery_tag, "invalid", g_string_free (g_steal_pointer (&errors), FALSE),
                        g_steal_pointer (&root), correlation_id, job_id);

  metadata = object_object (job, "metadata");

  intake = g_new0 (OddProcessorIntake, 1);
  intake->kind = ODD_INTAKE_JOB;
  intake->delivery_tag = delivery_tag;
  intake->job_id = g_ascii_strdown (job_id, -1);
  intake->type = g_strdup (object_string (job, "type"));
  /* Normalised, so PostgreSQL accepts whatever the validator accepted. */
  intake->created_at = odd_time_format_rfc3339 (created_usec);
  intake->correlation_id = g_strdup (correlation_id);
  if (payload != NULL)
    intake->payload = raw_payload (body, len);
  if (intake->payload == NULL && payload != NULL)
    intake->payload = json_node_copy (json_object_get_member (job, "payload"));
  if (intake->payload == NULL)
    {
      intake->payload = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (intake->payload, json_object_new ());
    }
  if (metadata != NULL)
    intake->metadata = json_node_copy (json_object_get_member (job, "metadata"));
  /* A retry is asked in the job's metadata (or, leniently, the envelope's). */
  intake->retry_generation = retry_generation (metadata);
  if (intake->retry_generation < 0)
    intake->retry_generation = retry_generation (object_object (envelope, "metadata"));
  intake->envelope = g_steal_pointer (&root);
  return intake;
}
