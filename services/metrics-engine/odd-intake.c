#define G_LOG_DOMAIN "odd-intake"

#include "odd-intake.h"

#include <string.h>

#include "odd-build-config.h"

void
odd_me_intake_free (OddMeIntake *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->envelope, json_node_unref);
  g_free (self->text);
  g_free (self->event_id);
  g_free (self->reason);
  g_free (self->error);
  g_free (self->correlation_id);
  g_free (self->job_id);
  g_free (self);
}

void
odd_me_intake_reject (OddMeIntake *self,
                      const char  *reason,
                      const char  *error)
{
  self->valid = FALSE;
  g_free (self->reason);
  self->reason = g_strdup (reason);
  g_free (self->error);
  self->error = g_strdup (error);
}

static const char *
string_member (JsonObject *object,
               const char *member)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* Prefixes every error path with @prefix ("/payload"), so paths point into the envelope. */
static char *
errors_to_string (GPtrArray  *errors,
                  const char *prefix)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < errors->len; i++)
    {
      const OddValidationError *e = errors->pdata[i];

      if (i > 0)
        g_string_append (out, "; ");
      g_string_append_printf (out, "%s%s: %s", prefix, e->path, e->message);
    }
  if (out->len == 0)
    g_string_append (out, "unknown error");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static OddMeIntake *
intake_new (const void *body,
            gsize       len)
{
  OddMeIntake *self = g_new0 (OddMeIntake, 1);

  /* A copy of the bytes as they are, NULs included: the dead letter and its id need them. */
  self->text = g_malloc (len + 1);
  memcpy (self->text, body, len);
  self->text[len] = '\0';
  self->text_len = len;
  return self;
}

OddMeIntake *
odd_me_intake_check (OddSchemaRegistry *registry,
                     const void        *body,
                     gsize              len)
{
  g_autoptr(OddMeIntake) self = intake_new (body, len);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  JsonObject *object = NULL;
  JsonObject *payload = NULL;
  JsonNode *payload_node;
  const char *job_id;

  /* Invalid UTF-8 and NUL bytes cannot be stored as jsonb: refuse them up front. */
  if (len == 0 || !g_utf8_validate (body, len, NULL) || memchr (body, '\0', len) != NULL)
    {
      odd_me_intake_reject (self, "unparseable", len == 0 ? "empty message" : "not UTF-8 text");
      return g_steal_pointer (&self);
    }
  self->envelope = odd_json_parse (body, len, &error);
  if (self->envelope == NULL)
    {
      odd_me_intake_reject (self, "unparseable", error->message);
      return g_steal_pointer (&self);
    }

  if (JSON_NODE_HOLDS_OBJECT (self->envelope))
    object = json_node_get_object (self->envelope);
  self->correlation_id = g_strdup (string_member (object, "correlationId"));
  payload_node = object ? json_object_get_member (object, "payload") : NULL;
  if (payload_node != NULL && JSON_NODE_HOLDS_OBJECT (payload_node))
    payload = json_node_get_object (payload_node);
  job_id = string_member (payload, "id");
  if (job_id != NULL && odd_uuid_is_valid (job_id))
    self->job_id = g_ascii_strdown (job_id, -1);

  errors = odd_schema_registry_validate (registry, "event-envelope", self->envelope, &error);
  if (errors == NULL)
    {
      odd_me_intake_reject (self, "invalid", error->message);
      return g_steal_pointer (&self);
    }
  if (errors->len > 0)
    {
      g_autofree char *text = errors_to_string (errors, "");
      g_autofree char *message = g_strconcat ("Envelope validation failed: ", text, NULL);

      odd_me_intake_reject (self, "invalid", message);
      return g_steal_pointer (&self);
    }
  g_clear_pointer (&errors, g_ptr_array_unref);

  /* Every event type is "job.*": its payload is a Job. */
  errors = odd_schema_registry_validate (registry, "job", payload_node, &error);
  if (errors == NULL)
    {
      odd_me_intake_reject (self, "invalid", error->message);
      return g_steal_pointer (&self);
    }
  if (errors->len > 0)
    {
      g_autofree char *text = errors_to_string (errors, "/payload");
      g_autofree char *message = g_strconcat ("Payload validation failed: ", text, NULL);

      odd_me_intake_reject (self, "invalid", message);
      return g_steal_pointer (&self);
    }

  self->valid = TRUE;
  self->event_id = g_ascii_strdown (string_member (object, "eventId"), -1);
  /* The store keeps self->text, the delivered text itself (checked UTF-8 without NULs above):
   * no second serialisation. */
  return g_steal_pointer (&self);
}

static gboolean
is_batch (const char *body,
          gsize       len)
{
  for (gsize p = 0; p < len; p++)
    if (!g_ascii_isspace (body[p]))
      return body[p] == '[';
  return FALSE;
}

guint
odd_me_intake_check_delivery (OddSchemaRegistry *registry,
                              const void        *body,
                              gsize              len,
                              GPtrArray         *intakes)
{
  g_autoptr(OddMeIntake) whole = NULL;
  g_autoptr(GArray) elements = NULL;
  g_autofree char *syntax_error = NULL;

  if (!is_batch (body, len))
    {
      g_ptr_array_add (intakes, odd_me_intake_check (registry, body, len));
      return 1;
    }

  /* A batch its elements cannot be told apart in is one dead letter, kept as text. */
  whole = intake_new (body, len);
  whole->in_batch = TRUE;
  if (!g_utf8_validate (body, len, NULL) || memchr (body, '\0', len) != NULL)
    odd_me_intake_reject (whole, "unparseable", "Event batch: not UTF-8 text");
  else if (!odd_json_check_strict (body, len, &syntax_error))
    {
      g_autofree char *message = g_strconcat ("Event batch: ", syntax_error, NULL);

      odd_me_intake_reject (whole, "unparseable", message);
    }
  else
    {
      elements = odd_json_array_elements (body, len, ODD_EVENT_BATCH_MAX_EVENTS);
      if (elements->len == 0 || elements->len > ODD_EVENT_BATCH_MAX_EVENTS)
        {
          g_autofree char *message = elements->len == 0
            ? g_strdup_printf ("Event batch of no events: event-batch.json allows 1 to %u",
                               ODD_EVENT_BATCH_MAX_EVENTS)
            : g_strdup_printf ("Event batch of more than %u events: event-batch.json allows 1 to %u",
                               ODD_EVENT_BATCH_MAX_EVENTS, ODD_EVENT_BATCH_MAX_EVENTS);

          odd_me_intake_reject (whole, "invalid", message);
          g_clear_pointer (&elements, g_array_unref);
        }
    }
  if (elements == NULL)
    {
      g_ptr_array_add (intakes, g_steal_pointer (&whole));
      return 1;
    }

  for (guint i = 0; i < elements->len; i++)
    {
      const OddJsonSpan *span = &g_array_index (elements, OddJsonSpan, i);
      OddMeIntake *intake = odd_me_intake_check (registry, (const char *) body + span->offset,
                                                 span->length);

      intake->in_batch = TRUE;
      g_ptr_array_add (intakes, intake);
    }
  return elements->len;
}

char *
odd_me_intake_dead_letter_id (OddMeIntake *self)
{
  g_autofree char *digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                                         (const guchar *) self->text,
                                                         self->text_len);

  return odd_uuid_v5 (ODD_EVENT_NAMESPACE, digest);
}

JsonNode *
odd_me_intake_dead_letter (OddMeIntake *self,
                           const char  *from_queue)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *now = odd_time_now_rfc3339 ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "original_event");
  if (self->envelope != NULL)
    json_builder_add_value (builder, json_node_copy (self->envelope));
  else
    {
      /* Unparseable: keep the text, made valid UTF-8 and without NULs so it fits in jsonb. */
      g_autofree char *copy = g_memdup2 (self->text, self->text_len + 1);
      g_autofree char *text = NULL;

      for (gsize i = 0; i < self->text_len; i++)
        if (copy[i] == '\0')
          copy[i] = '?';
      text = g_utf8_make_valid (copy, self->text_len);
      json_builder_add_string_value (builder, text);
    }
  json_builder_set_member_name (builder, "validation_error");
  json_builder_add_string_value (builder, self->error ? self->error : "unknown error");
  json_builder_set_member_name (builder, "rejected_at");
  json_builder_add_string_value (builder, now);
  json_builder_set_member_name (builder, "correlation_id");
  json_builder_add_string_value (builder, self->correlation_id ? self->correlation_id : "unknown");
  json_builder_set_member_name (builder, "service");
  json_builder_add_string_value (builder, ODD_METRICS_ENGINE_SERVICE);
  json_builder_set_member_name (builder, "service_version");
  json_builder_add_string_value (builder, ODD_VERSION);
  json_builder_set_member_name (builder, "reason");
  json_builder_add_string_value (builder, self->reason ? self->reason : "invalid");
  json_builder_set_member_name (builder, "queue");
  json_builder_add_string_value (builder, from_queue);
  if (self->job_id != NULL)
    {
      json_builder_set_member_name (builder, "job_id");
      json_builder_add_string_value (builder, self->job_id);
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}
