/* fuzz-job.c: the gateway's POST /jobs intake, without the HTTP and the broker
 *
 * The same steps as submit_job() in odd-gateway-handlers.c: strict parse, odd_job_complete(),
 * odd_gateway_check_job(), the job.created envelope. Properties: no crash, leak or critical;
 * a job the gateway accepts makes an envelope that passes the event-envelope contract, and its
 * payload.simulate is one the processor can read (else the processor would dead-letter a job
 * that got a 202).
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-fuzz-job"

#include "odd-gateway-private.h"
#include "odd-fuzz.h"

static OddGateway *gateway;
static OddSchemaRegistry *registry;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GError) error = NULL;
  OddGatewayConfig config = {
    .port = 0,
    .bind = (char *) "127.0.0.1",
    .rabbitmq_url = (char *) "amqp://guest:guest@127.0.0.1:1/",
    .read_model_url = (char *) "http://127.0.0.1:1",
    .contracts_path = NULL,
    .max_outstanding = 16,
    .api_token = NULL,
  };

  odd_fuzz_init ();
  config.contracts_path = (char *) odd_fuzz_contracts_dir ();
  /* Nothing listens or connects until odd_gateway_start(), which is never called. */
  gateway = odd_gateway_new (&config, &error);
  if (gateway == NULL)
    g_error ("cannot make a gateway: %s", error->message);
  registry = odd_schema_registry_new_default (&error);
  if (registry == NULL)
    g_error ("cannot load the schemas: %s", error->message);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) job = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(JsonNode) envelope = NULL;
  g_autoptr(GPtrArray) envelope_errors = NULL;
  g_autofree char *event_id = NULL;
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) reparsed = NULL;
  g_autofree char *simulation_error = NULL;
  OddSimulation simulation;
  JsonObject *object;

  body = odd_json_parse ((const char *) data, (gssize) size, NULL);
  if (body == NULL || !JSON_NODE_HOLDS_OBJECT (body))
    return 0;

  job = odd_job_complete (body);
  errors = odd_gateway_check_job (gateway, job);
  g_assert (errors != NULL);
  if (errors->len > 0)
    {
      g_autoptr(JsonNode) details = odd_validation_errors_to_json (errors);
      g_autofree char *details_text = odd_json_to_string (details);

      g_assert (details_text != NULL);
      return 0;
    }

  /* Accepted: what happens next must not fail. */
  object = json_node_get_object (job);
  g_assert (odd_uuid_is_valid (json_object_get_string_member (object, "id")));

  event_id = odd_uuid_new ();
  envelope = odd_gateway_new_envelope (job, event_id, event_id,
                                       json_object_get_string_member (object, "id"));
  text = odd_json_to_string (envelope);
  reparsed = odd_json_parse (text, -1, NULL);
  if (reparsed == NULL)
    g_error ("an accepted job makes an envelope that is not strict JSON: %s", text);

  envelope_errors = odd_schema_registry_validate (registry, "event-envelope", reparsed, NULL);
  if (envelope_errors->len > 0)
    {
      g_autofree char *why = odd_validation_errors_to_string (envelope_errors);

      g_error ("an accepted job makes an invalid envelope: %s: %s", why, text);
    }

  if (!odd_job_get_simulation (json_node_get_object (json_object_get_member (json_node_get_object (reparsed), "payload")),
                               &simulation, &simulation_error))
    g_error ("an accepted job has a simulation the processor refuses: %s: %s", simulation_error, text);

  return 0;
}
