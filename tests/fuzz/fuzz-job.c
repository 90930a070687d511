/* fuzz-job.c: the gateway's POST /jobs intake, without the HTTP and the broker
 *
 * The same steps as submit_job() in odd-gateway-handlers.c after odd_http_read_body():
 * odd_gateway_submission_check(). Properties: no crash, leak or critical; a job the gateway
 * accepts makes an envelope that is strict JSON, passes the event-envelope contract, carries
 * a job the job contract accepts in full (the processor checks it again) with a
 * payload.simulate the processor can read (else the processor would dead-letter a job that
 * got a 202), and carries the payload exactly as it was written.
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-fuzz-job"

#include <string.h>

#include "odd-gateway-private.h"
#include "odd-fuzz.h"

static OddSchemaRegistry *registry;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *schemas = NULL;

  odd_fuzz_init ();
  schemas = g_build_filename (odd_fuzz_contracts_dir (), "schemas", NULL);
  registry = odd_schema_registry_new ();
  if (!odd_schema_registry_load_dir (registry, schemas, &error))
    g_error ("cannot load the schemas: %s", error->message);
  return 0;
}

/* The text of member @name of the object written in @text, NULL when absent. */
static char *
member_text (const char *text,
             gsize       len,
             const char *name)
{
  g_autoptr(GArray) members = odd_json_object_members (text, len);
  char *found = NULL;

  for (guint i = 0; members != NULL && i < members->len; i++)
    {
      OddJsonMember *m = &g_array_index (members, OddJsonMember, i);

      if (g_str_equal (m->name, name))
        {
          g_free (found);
          found = g_strndup (text + m->offset, m->length);
        }
    }
  return found;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const char *text = (const char *) data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(OddGatewaySubmission) submission = NULL;
  g_autoptr(JsonNode) reparsed = NULL;
  g_autoptr(GPtrArray) envelope_errors = NULL;
  g_autoptr(GPtrArray) job_errors = NULL;
  g_autofree char *simulation_error = NULL;
  g_autofree char *job_text = NULL;
  g_autofree char *sent_payload = NULL;
  g_autofree char *carried_payload = NULL;
  OddSimulation simulation;
  const char *envelope;
  gsize envelope_len;
  JsonObject *job;

  /* odd_http_read_body() refuses these before */
  if (size == 0 || !g_utf8_validate (text, (gssize) size, NULL) || memchr (text, '\0', size) != NULL)
    return 0;

  body = g_bytes_new (data, size);
  submission = odd_gateway_submission_check (registry, body, "3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b");
  if (submission->malformed != NULL || submission->invalid != NULL)
    {
      g_assert (submission->envelope == NULL);
      if (submission->details != NULL)
        {
          g_autofree char *details_text = odd_json_to_string (submission->details);

          g_assert (details_text != NULL);
        }
      return 0;
    }

  /* Accepted: what happens next must not fail. */
  g_assert (odd_uuid_is_valid (submission->job_id));
  envelope = g_bytes_get_data (submission->envelope, &envelope_len);
  reparsed = odd_json_parse (envelope, (gssize) envelope_len, NULL);
  if (reparsed == NULL)
    g_error ("an accepted job makes an envelope that is not strict JSON: %.*s", (int) envelope_len, envelope);

  envelope_errors = odd_schema_registry_validate (registry, "event-envelope", reparsed, NULL);
  if (envelope_errors->len > 0)
    {
      g_autofree char *why = odd_validation_errors_to_string (envelope_errors);

      g_error ("an accepted job makes an invalid envelope: %s: %.*s", why, (int) envelope_len, envelope);
    }

  job = json_object_get_object_member (json_node_get_object (reparsed), "payload");
  job_errors = odd_schema_registry_validate (registry, "job", json_object_get_member (json_node_get_object (reparsed), "payload"), NULL);
  if (job_errors->len > 0)
    {
      g_autofree char *why = odd_validation_errors_to_string (job_errors);

      g_error ("the processor would refuse an accepted job: %s: %.*s", why, (int) envelope_len, envelope);
    }
  if (!odd_job_get_simulation (job, &simulation, &simulation_error))
    g_error ("an accepted job has a simulation the processor refuses: %s: %.*s", simulation_error,
             (int) envelope_len, envelope);

  /* the payload travels as written */
  job_text = member_text (envelope, envelope_len, "payload");
  sent_payload = member_text (text, size, "payload");
  carried_payload = member_text (job_text, strlen (job_text), "payload");
  g_assert (g_strcmp0 (sent_payload, carried_payload) == 0);

  return 0;
}
