/* odd-envelope.c: jobs and event envelopes as the contracts define them */
#define G_LOG_DOMAIN "odd-envelope"

#include "odd-envelope.h"
#include "odd-ids.h"

#include <math.h>
#include <string.h>

/* json-glib's parser recurses once per nesting level; refusing absurd nesting before it
 * runs keeps a hostile body from exhausting the stack. The validator's own limit (64) is
 * lower and gives the client a schema error instead. */

/* json_node_copy() shares objects and arrays with the original; the callers here are promised
 * nodes of their own. */
static JsonNode *
deep_copy (JsonNode *node)
{
  JsonNode *copy;

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_object_new ();
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init_ordered (&iter, json_node_get_object (node));
      while (json_object_iter_next_ordered (&iter, &name, &member))
        json_object_set_member (object, name, deep_copy (member));
      copy = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (copy, object);
      return copy;
    }

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *source = json_node_get_array (node);
      guint length = json_array_get_length (source);
      JsonArray *array = json_array_sized_new (length);

      for (guint i = 0; i < length; i++)
        json_array_add_element (array, deep_copy (json_array_get_element (source, i)));
      copy = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (copy, array);
      return copy;
    }

  /* json_node_copy() would keep a sealed scalar sealed. */
  copy = json_node_alloc ();
  if (JSON_NODE_HOLDS_NULL (node))
    return json_node_init_null (copy);
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return json_node_init_string (copy, json_node_get_string (node));
    case G_TYPE_BOOLEAN:
      return json_node_init_boolean (copy, json_node_get_boolean (node));
    case G_TYPE_INT64:
      return json_node_init_int (copy, json_node_get_int (node));
    case G_TYPE_DOUBLE:
      return json_node_init_double (copy, json_node_get_double (node));
    default:
      json_node_free (copy);
      return json_node_copy (node);
    }
}

JsonNode *
odd_envelope_new (const char        *event_type,
                  const char        *event_id,
                  const char        *occurred_at,
                  const OddProducer *producer,
                  const char        *correlation_id,
                  const char        *idempotency_key,
                  JsonNode          *payload)
{
  JsonObject *envelope;
  JsonObject *producer_object;
  JsonNode *root;
  g_autofree char *new_event_id = NULL;
  g_autofree char *new_occurred_at = NULL;
  g_autofree char *new_correlation_id = NULL;

  g_return_val_if_fail (event_type != NULL, NULL);
  g_return_val_if_fail (producer != NULL, NULL);

  if (event_id == NULL)
    event_id = new_event_id = odd_uuid_new ();
  if (occurred_at == NULL)
    occurred_at = new_occurred_at = odd_time_now_rfc3339 ();
  if (correlation_id == NULL)
    correlation_id = new_correlation_id = odd_uuid_new ();
  /* The event id is unique per event, so it is a safe key when the caller has none. */
  if (idempotency_key == NULL)
    idempotency_key = event_id;

  /* Built with JsonObject directly: JsonBuilder costs several times more per envelope, and the
   * gateway builds one per request. */
  envelope = json_object_new ();
  json_object_set_string_member (envelope, "contractVersion", ODD_CONTRACT_VERSION);
  json_object_set_string_member (envelope, "eventType", event_type);
  json_object_set_string_member (envelope, "eventId", event_id);
  json_object_set_string_member (envelope, "occurredAt", occurred_at);

  producer_object = json_object_new ();
  json_object_set_string_member (producer_object, "service", producer->service ? producer->service : "unknown");
  json_object_set_string_member (producer_object, "instanceId",
                                 producer->instance_id ? producer->instance_id : "unknown");
  json_object_set_string_member (producer_object, "version", producer->version ? producer->version : "unknown");
  json_object_set_object_member (envelope, "producer", producer_object);

  json_object_set_string_member (envelope, "correlationId", correlation_id);
  json_object_set_string_member (envelope, "idempotencyKey", idempotency_key);
  if (payload != NULL)
    json_object_set_member (envelope, "payload", deep_copy (payload));
  else
    json_object_set_object_member (envelope, "payload", json_object_new ());

  root = json_node_init_object (json_node_alloc (), envelope);
  json_object_unref (envelope);
  return root;
}

JsonNode *
odd_job_complete (JsonNode *submission)
{
  JsonNode *job;
  JsonObject *object;

  g_return_val_if_fail (submission != NULL, NULL);

  job = deep_copy (submission);
  /* Not an object: left as is, for the validator to reject with a proper message. */
  if (!JSON_NODE_HOLDS_OBJECT (job))
    return job;

  object = json_node_get_object (job);
  if (!json_object_has_member (object, "id"))
    {
      g_autofree char *id = odd_uuid_new ();
      json_object_set_string_member (object, "id", id);
    }
  if (!json_object_has_member (object, "status"))
    json_object_set_string_member (object, "status", "PENDING");
  if (!json_object_has_member (object, "createdAt"))
    {
      g_autofree char *now = odd_time_now_rfc3339 ();
      json_object_set_string_member (object, "createdAt", now);
    }

  return job;
}

static gboolean
get_bounded_number (JsonObject  *simulate,
                    const char  *name,
                    gboolean     integer,
                    double       maximum,
                    double      *value,
                    char       **error_message)
{
  JsonNode *node = json_object_get_member (simulate, name);
  double d;

  if (node == NULL)
    return TRUE;

  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    d = (double) json_node_get_int (node);
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_DOUBLE)
    d = json_node_get_double (node);
  else
    d = NAN;

  if (isnan (d) || (integer && floor (d) != d) || d < 0 || d > maximum)
    {
      if (error_message != NULL)
        *error_message = g_strdup_printf ("payload.simulate.%s must be %s between 0 and %g",
                                          name, integer ? "an integer" : "a number", maximum);
      return FALSE;
    }

  *value = d;
  return TRUE;
}

gboolean
odd_job_get_simulation (JsonObject    *job,
                        OddSimulation *simulation,
                        char         **error_message)
{
  JsonNode *payload;
  JsonNode *simulate_node;
  JsonObject *simulate;
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  double duration = 0, rate = 0, attempts = 0;

  g_return_val_if_fail (job != NULL, FALSE);
  g_return_val_if_fail (simulation != NULL, FALSE);

  simulation->duration_ms = 0;
  simulation->fail_rate = 0.0;
  simulation->fail_attempts = 0;

  payload = json_object_get_member (job, "payload");
  if (payload == NULL || !JSON_NODE_HOLDS_OBJECT (payload))
    return TRUE;

  simulate_node = json_object_get_member (json_node_get_object (payload), "simulate");
  if (simulate_node == NULL)
    return TRUE;

  /* Same rules as contracts/schemas/simulation.json; test-envelope checks they agree. */
  if (!JSON_NODE_HOLDS_OBJECT (simulate_node))
    {
      if (error_message != NULL)
        *error_message = g_strdup ("payload.simulate must be an object");
      return FALSE;
    }
  simulate = json_node_get_object (simulate_node);

  json_object_iter_init_ordered (&iter, simulate);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    if (strcmp (name, "durationMs") != 0 && strcmp (name, "failRate") != 0 &&
        strcmp (name, "failAttempts") != 0)
      {
        if (error_message != NULL)
          *error_message = g_strdup_printf ("payload.simulate has an unknown field '%s' "
                                            "(known: durationMs, failRate, failAttempts)", name);
        return FALSE;
      }

  if (!get_bounded_number (simulate, "durationMs", TRUE, 600000, &duration, error_message) ||
      !get_bounded_number (simulate, "failRate", FALSE, 1, &rate, error_message) ||
      !get_bounded_number (simulate, "failAttempts", TRUE, 100, &attempts, error_message))
    return FALSE;

  simulation->duration_ms = (guint) duration;
  simulation->fail_rate = rate;
  simulation->fail_attempts = (guint) attempts;
  return TRUE;
}


