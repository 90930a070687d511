#define G_LOG_DOMAIN "odd-processor-events"

#include "odd-processor-private.h"
#include "odd-build-config.h"

char *
odd_processor_event_key (const char *job_id,
                         int         generation,
                         const char *event_type,
                         int         attempt)
{
  if (attempt > 0)
    return g_strdup_printf ("%s/%d/%s/%d", job_id, generation, event_type, attempt);
  return g_strdup_printf ("%s/%d/%s", job_id, generation, event_type);
}

char *
odd_processor_event_id (const char *job_id,
                        int         generation,
                        const char *event_type,
                        int         attempt)
{
  g_autofree char *key = odd_processor_event_key (job_id, generation, event_type, attempt);

  return odd_uuid_v5 (ODD_EVENT_NAMESPACE, key);
}

static JsonNode *
build_job (const OddJobRun       *run,
           const OddEventDetails *details,
           const char            *updated_at)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, run->id);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, run->type);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, details->status);
  json_builder_set_member_name (builder, "payload");
  if (run->payload != NULL)
    json_builder_add_value (builder, json_node_copy (run->payload));
  else
    {
      json_builder_begin_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_set_member_name (builder, "createdAt");
  json_builder_add_string_value (builder, run->created_at);
  json_builder_set_member_name (builder, "updatedAt");
  json_builder_add_string_value (builder, updated_at);
  json_builder_set_member_name (builder, "attempts");
  json_builder_add_int_value (builder, details->attempts);
  json_builder_set_member_name (builder, "generation");
  json_builder_add_int_value (builder, run->generation);
  /* Omitted rather than null: job.json may one day type it as a string. */
  if (details->last_error != NULL)
    {
      json_builder_set_member_name (builder, "lastError");
      json_builder_add_string_value (builder, details->last_error);
    }

  /* The job's own metadata, plus what this attempt was (job.executed). */
  json_builder_set_member_name (builder, "metadata");
  json_builder_begin_object (builder);
  if (run->metadata != NULL && JSON_NODE_HOLDS_OBJECT (run->metadata))
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *value;

      json_object_iter_init (&iter, json_node_get_object (run->metadata));
      while (json_object_iter_next (&iter, &name, &value))
        {
          if (details->attempt > 0
              && (g_str_equal (name, "attempt") || g_str_equal (name, "outcome")
                  || g_str_equal (name, "error")))
            continue;
          json_builder_set_member_name (builder, name);
          json_builder_add_value (builder, json_node_copy (value));
        }
    }
  if (details->attempt > 0)
    {
      json_builder_set_member_name (builder, "attempt");
      json_builder_add_int_value (builder, details->attempt);
      if (details->outcome != NULL)
        {
          json_builder_set_member_name (builder, "outcome");
          json_builder_add_string_value (builder, details->outcome);
        }
      if (details->error != NULL)
        {
          json_builder_set_member_name (builder, "error");
          json_builder_add_string_value (builder, details->error);
        }
    }
  json_builder_end_object (builder);

  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

JsonNode *
odd_processor_event_new (const OddJobRun       *run,
                         const char            *event_type,
                         const OddEventDetails *details,
                         const OddProducer     *producer,
                         char                 **event_id)
{
  g_autofree char *key = odd_processor_event_key (run->id, run->generation, event_type,
                                                  details->attempt);
  g_autofree char *id = odd_uuid_v5 (ODD_EVENT_NAMESPACE, key);
  g_autofree char *now = odd_time_now_rfc3339 ();
  g_autoptr(JsonNode) job = build_job (run, details, now);
  JsonNode *envelope;

  envelope = odd_envelope_new (event_type, id, now, producer, run->correlation_id, key, job);

  /* The attempt is also given at envelope level, for consumers that do not open the job. */
  if (details->attempt > 0)
    {
      JsonObject *metadata = json_object_new ();

      json_object_set_int_member (metadata, "attempt", details->attempt);
      if (details->outcome != NULL)
        json_object_set_string_member (metadata, "outcome", details->outcome);
      if (details->error != NULL)
        json_object_set_string_member (metadata, "error", details->error);
      json_object_set_object_member (json_node_get_object (envelope), "metadata", metadata);
    }

  if (event_id != NULL)
    *event_id = g_steal_pointer (&id);
  return envelope;
}

JsonNode *
odd_processor_dead_letter_new (JsonNode   *original_event,
                               const char *validation_error,
                               const char *correlation_id,
                               const char *reason,
                               const char *queue,
                               const char *job_id,
                               int         generation,
                               const char *sqlstate)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *now = odd_time_now_rfc3339 ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "original_event");
  if (original_event != NULL)
    json_builder_add_value (builder, json_node_copy (original_event));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "validation_error");
  json_builder_add_string_value (builder, validation_error);
  json_builder_set_member_name (builder, "rejected_at");
  json_builder_add_string_value (builder, now);
  json_builder_set_member_name (builder, "correlation_id");
  json_builder_add_string_value (builder, correlation_id != NULL ? correlation_id : "unknown");
  json_builder_set_member_name (builder, "service");
  json_builder_add_string_value (builder, "processor");
  json_builder_set_member_name (builder, "service_version");
  json_builder_add_string_value (builder, ODD_VERSION);
  json_builder_set_member_name (builder, "reason");
  json_builder_add_string_value (builder, reason);
  json_builder_set_member_name (builder, "queue");
  json_builder_add_string_value (builder, queue);
  if (job_id != NULL)
    {
      json_builder_set_member_name (builder, "job_id");
      json_builder_add_string_value (builder, job_id);
    }
  if (generation >= 0)
    {
      json_builder_set_member_name (builder, "generation");
      json_builder_add_int_value (builder, generation);
    }
  if (sqlstate != NULL)
    {
      json_builder_set_member_name (builder, "sqlstate");
      json_builder_add_string_value (builder, sqlstate);
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}
