/* odd-gateway-job.c: what makes a job acceptable, and the events the gateway builds for it
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-gateway"

#include "odd-build-config.h"

#include <string.h>

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
odd_gateway_check_job (OddSchemaRegistry *schemas,
                       JsonNode          *job,
                       JsonNode          *simulate)
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

  errors = odd_schema_registry_validate (schemas, "job", job, &error);
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
  if (simulate == NULL && payload != NULL && JSON_NODE_HOLDS_OBJECT (payload))
    simulate = json_object_get_member (json_node_get_object (payload), "simulate");
  if (simulate != NULL)
    {
      g_autoptr(GPtrArray) simulate_errors = NULL;

      simulate_errors = odd_schema_registry_validate (schemas, "simulation", simulate, &error);
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

/* Submissions: checked member by member, never expanded
 *
 * A document parsed by json-glib costs about a hundred times its text (1 MiB of zeros in an
 * array: 125 MB and 0.7 s). Only the top level of a submission and its payload.simulate are
 * parsed, with nested objects and arrays left empty (what the schemas check of them is their
 * type). Every member then travels as its original text, so the payload reaches
 * the database exactly as written: json-glib would have rewritten 0.1 as 0.10000000000000001. */

void
odd_gateway_submission_free (OddGatewaySubmission *submission)
{
  if (submission == NULL)
    return;
  g_free (submission->correlation_id);
  g_free (submission->malformed);
  g_free (submission->invalid);
  g_clear_pointer (&submission->details, json_node_unref);
  g_free (submission->job_id);
  g_free (submission->event_id);
  g_clear_pointer (&submission->envelope, g_bytes_unref);
  g_free (submission);
}

static const OddJsonMember *
find_member (GArray     *members,
             const char *name)
{
  /* the last one, as json-glib and PostgreSQL keep it */
  for (guint i = members->len; i > 0; i--)
    if (g_str_equal (g_array_index (members, OddJsonMember, i - 1).name, name))
      return &g_array_index (members, OddJsonMember, i - 1);
  return NULL;
}

/* payload.simulate of the submission, shallow; NULL when there is none. */
static JsonNode *
shallow_simulate (const char *data,
                  GArray     *members)
{
  const OddJsonMember *payload = find_member (members, "payload");
  g_autoptr(GArray) payload_members = NULL;
  g_autoptr(GArray) simulate_members = NULL;
  const OddJsonMember *simulate;
  const char *text;

  if (payload == NULL || (payload_members = odd_json_object_members (data + payload->offset, payload->length)) == NULL)
    return NULL;
  simulate = find_member (payload_members, "simulate");
  if (simulate == NULL)
    return NULL;

  text = data + payload->offset + simulate->offset;
  if ((simulate_members = odd_json_object_members (text, simulate->length)) != NULL)
    return odd_json_parse_shallow (text, simulate->length, simulate_members);
  if (*text == '[')
    {
      JsonNode *empty = json_node_new (JSON_NODE_ARRAY);

      json_node_take_array (empty, json_array_new ());
      return empty;
    }
  return odd_json_parse (text, (gssize) simulate->length, NULL);
}

static gboolean
refuse (OddGatewaySubmission *submission,
        const char           *path,
        const char           *message)
{
  submission->invalid = g_strdup ("Invalid job data");
  submission->details = odd_http_details_new (path, message);
  return FALSE;
}

static void
append_string (GString    *out,
               const char *value)
{
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = NULL;

  /* Nothing to escape (names and ids, nearly always): written as is, without a generator
   * (a GObject) per string. */
  for (const char *p = value; ; p++)
    {
      if (*p == '\0')
        {
          g_string_append_c (out, '"');
          g_string_append (out, value);
          g_string_append_c (out, '"');
          return;
        }
      if (*p == '"' || *p == '\\' || (guchar) *p < 0x20 || *p == 0x7f)
        break;
    }

  node = json_node_init_string (json_node_alloc (), value);
  text = odd_json_to_string (node);
  g_string_append (out, text);
}

/* The job.created envelope, written out: its members, then the job as it was sent (each
 * member's text as written) with what odd_job_complete() added. Built as one string, the body
 * is copied once: through JsonNodes and json-glib's writer it would be several times over. */
static GBytes *
envelope_text (OddGatewaySubmission *submission,
               const char           *data,
               gsize                 len,
               GArray               *members,
               GHashTable           *names,
               JsonObject           *completed)
{
  g_autoptr(JsonNode) envelope = NULL;
  g_autofree char *head = NULL;
  GString *out;
  static const char *const added[] = { "id", "status", "createdAt", NULL };
  gboolean first = TRUE;

  /* The job id is the idempotency key: a resubmission of the same job is recognisable. */
  envelope = odd_gateway_new_envelope (NULL, submission->event_id, submission->correlation_id,
                                       submission->job_id);
  json_object_remove_member (json_node_get_object (envelope), "payload");
  head = odd_json_to_string (envelope);

  out = g_string_sized_new (strlen (head) + len + 256);
  g_string_append_len (out, head, (gssize) strlen (head) - 1);   /* without its '}' */
  g_string_append (out, ",\"payload\":{");
  for (guint i = 0; i < members->len; i++)
    {
      OddJsonMember *member = &g_array_index (members, OddJsonMember, i);

      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      append_string (out, member->name);
      g_string_append_c (out, ':');
      g_string_append_len (out, data + member->offset, (gssize) member->length);
    }
  for (guint i = 0; added[i] != NULL; i++)
    {
      if (g_hash_table_contains (names, added[i]))
        continue;
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      append_string (out, added[i]);
      g_string_append_c (out, ':');
      append_string (out, json_object_get_string_member (completed, added[i]));
    }
  g_string_append (out, "}}");

  return g_string_free_to_bytes (out);
}

static gboolean
check_submission (OddGatewaySubmission *submission,
                  OddSchemaRegistry    *schemas,
                  const char           *data,
                  gsize                 len)
{
  g_autofree char *problem = NULL;
  g_autoptr(GArray) members = NULL;
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(JsonNode) skeleton = NULL;
  g_autoptr(JsonNode) job = NULL;
  g_autoptr(JsonNode) simulate = NULL;
  g_autoptr(GPtrArray) errors = NULL;

  if (!odd_json_check_strict_depth (data, len, MAX_NESTING, &problem))
    {
      submission->malformed = g_steal_pointer (&problem);
      return FALSE;
    }
  members = odd_json_object_members (data, len);
  if (members == NULL)
    return refuse (submission, "", "must be a JSON object");
  for (guint i = 0; i < members->len; i++)
    {
      const char *name = g_array_index (members, OddJsonMember, i).name;

      /* Readers differ on which copy counts; the job would not mean one thing. */
      if (!g_hash_table_add (names, (gpointer) name))
        {
          g_autofree char *path = g_strconcat ("/", name, NULL);

          return refuse (submission, path, "must appear only once");
        }
    }

  /* A short submission {type, payload?} becomes a full PENDING job; a full one is unchanged. */
  skeleton = odd_json_parse_shallow (data, len, members);
  job = odd_job_complete (skeleton);
  simulate = shallow_simulate (data, members);
  errors = odd_gateway_check_job (schemas, job, simulate);
  if (errors->len > 0)
    {
      submission->invalid = g_strdup ("Invalid job data");
      submission->details = odd_validation_errors_to_json (errors);
      return FALSE;
    }

  submission->job_id = g_strdup (json_object_get_string_member (json_node_get_object (job), "id"));
  submission->event_id = odd_uuid_new ();
  submission->envelope = envelope_text (submission, data, len, members, names, json_node_get_object (job));

  return TRUE;
}

OddGatewaySubmission *
odd_gateway_submission_check (OddSchemaRegistry *schemas,
                              GBytes            *body,
                              const char        *correlation_id)
{
  OddGatewaySubmission *submission = g_new0 (OddGatewaySubmission, 1);
  gsize len;
  const char *data = g_bytes_get_data (body, &len);

  submission->correlation_id = g_strdup (correlation_id);
  check_submission (submission, schemas, data, len);

  return submission;
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
