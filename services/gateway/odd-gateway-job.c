/* odd-gateway-job.c: what makes a job acceptable, and the events the gateway builds for it
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-gateway"

#include "odd-build-config.h"

#include "odd-gateway-private.h"

/* Deeper documents are refused: every consumer (json-glib, PostgreSQL jsonb) recurses. */
#define MAX_NESTING 64

static void
add_error (GPtrArray  *errors,
           const char *path,
           const char *message)
{
  OddValidationError *error = g_new0 (OddValidationError, 1);

  error->path = g_strdup (path);
  error->message = g_strdup (message);
  g_ptr_array_add (errors, error);
}

/* Finds the first place nested deeper than MAX_NESTING; the recursion stops there, so it is
 * bounded whatever the document. */
static gboolean
find_too_deep (JsonNode *node,
               guint     depth,
               GString  *path)
{
  if (depth > MAX_NESTING)
    return TRUE;

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, &name, &member))
        {
          gsize len = path->len;

          g_string_append_c (path, '/');
          /* JSON pointer escaping: ~ then / */
          for (const char *p = name; *p != '\0'; p++)
            {
              if (*p == '~')
                g_string_append (path, "~0");
              else if (*p == '/')
                g_string_append (path, "~1");
              else
                g_string_append_c (path, *p);
            }
          if (find_too_deep (member, depth + 1, path))
            return TRUE;
          g_string_truncate (path, len);
        }
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      guint n = json_array_get_length (array);

      for (guint i = 0; i < n; i++)
        {
          gsize len = path->len;

          g_string_append_printf (path, "/%u", i);
          if (find_too_deep (json_array_get_element (array, i), depth + 1, path))
            return TRUE;
          g_string_truncate (path, len);
        }
    }

  return FALSE;
}

GPtrArray *
odd_gateway_check_job (OddGateway *self,
                       JsonNode   *job)
{
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) deep_path = g_string_new (NULL);
  JsonObject *object;
  JsonNode *payload;

  if (find_too_deep (job, 0, deep_path))
    {
      g_autofree char *message = g_strdup_printf ("is nested deeper than %d levels", MAX_NESTING);

      /* Nothing else is checked: the validator would walk the same depth. */
      errors = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_validation_error_free);
      add_error (errors, deep_path->str, message);
      return g_steal_pointer (&errors);
    }

  errors = odd_schema_registry_validate (self->schemas, "job", job, &error);
  if (errors == NULL)
    {
      /* The schemas were checked at start; this is a broken contracts directory. */
      errors = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_validation_error_free);
      add_error (errors, "", error->message);
      return g_steal_pointer (&errors);
    }

  if (!JSON_NODE_HOLDS_OBJECT (job))
    return g_steal_pointer (&errors);
  object = json_node_get_object (job);

  if (json_object_has_member (object, "status") &&
      JSON_NODE_HOLDS_VALUE (json_object_get_member (object, "status")) &&
      json_node_get_value_type (json_object_get_member (object, "status")) == G_TYPE_STRING)
    {
      const char *status = json_object_get_string_member (object, "status");
      static const char *const statuses[] = { "VALIDATED", "EXECUTING", "COMPLETED", "FAILED", NULL };

      /* Other values are already reported by the schema's enum. */
      if (g_strv_contains (statuses, status))
        {
          g_autofree char *message = g_strdup_printf ("must be PENDING on submission, not %s", status);

          add_error (errors, "/status", message);
        }
    }

  payload = json_object_get_member (object, "payload");
  if (payload != NULL && JSON_NODE_HOLDS_OBJECT (payload) &&
      json_object_has_member (json_node_get_object (payload), "simulate"))
    {
      JsonNode *simulate = json_object_get_member (json_node_get_object (payload), "simulate");
      g_autoptr(GPtrArray) simulate_errors = NULL;

      simulate_errors = odd_schema_registry_validate (self->schemas, "simulation", simulate, &error);
      if (simulate_errors == NULL)
        {
          add_error (errors, "/payload/simulate", error->message);
        }
      else
        {
          for (guint i = 0; i < simulate_errors->len; i++)
            {
              OddValidationError *e = g_ptr_array_index (simulate_errors, i);
              g_autofree char *path = g_strconcat ("/payload/simulate", e->path, NULL);

              add_error (errors, path, e->message);
            }
        }
    }

  return g_steal_pointer (&errors);
}

JsonNode *
odd_gateway_new_envelope (JsonNode   *job,
                          const char *event_id,
                          const char *correlation_id,
                          const char *idempotency_key)
{
  OddProducer producer = {
    .service = "gateway",
    .instance_id = odd_config_instance_id (),
    .version = ODD_VERSION,
  };

  return odd_envelope_new ("job.created", event_id, NULL, &producer,
                           correlation_id, idempotency_key, job);
}

JsonNode *
odd_gateway_new_retry_job (JsonObject  *failed_job,
                           gint64       next_generation,
                           char       **error_message)
{
  g_autoptr(JsonObject) job = json_object_new ();
  g_autoptr(JsonObject) metadata = json_object_new ();
  JsonNode *root;
  static const char *const required[] = { "id", "type", "createdAt", NULL };

  for (guint i = 0; required[i] != NULL; i++)
    {
      JsonNode *member = json_object_get_member (failed_job, required[i]);

      if (member == NULL || !JSON_NODE_HOLDS_VALUE (member) ||
          json_node_get_value_type (member) != G_TYPE_STRING)
        {
          *error_message = g_strdup_printf ("the job has no string \"%s\"", required[i]);
          return NULL;
        }
    }

  json_object_set_string_member (job, "id", json_object_get_string_member (failed_job, "id"));
  json_object_set_string_member (job, "type", json_object_get_string_member (failed_job, "type"));
  json_object_set_string_member (job, "status", "PENDING");
  /* The original createdAt: the job's age and latency count from its first submission. */
  json_object_set_string_member (job, "createdAt", json_object_get_string_member (failed_job, "createdAt"));
  if (json_object_has_member (failed_job, "payload") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (failed_job, "payload")))
    json_object_set_member (job, "payload", json_object_dup_member (failed_job, "payload"));

  json_object_set_int_member (metadata, "retryGeneration", next_generation);
  json_object_set_object_member (job, "metadata", g_steal_pointer (&metadata));

  root = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (root, g_steal_pointer (&job));

  return root;
}
