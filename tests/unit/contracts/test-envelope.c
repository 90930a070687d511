/* test-envelope.c: envelopes, job completion, payload.simulate and the JSON helpers */
#define G_LOG_DOMAIN "test-envelope"

#include "odd-contracts.h"

#include <string.h>

static OddSchemaRegistry *registry;

static guint
error_count (const char *schema,
             JsonNode   *instance)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) errors = odd_schema_registry_validate (registry, schema, instance, &error);

  g_assert_no_error (error);
  if (errors->len > 0)
    {
      g_autofree char *text = odd_validation_errors_to_string (errors);
      g_test_message ("%s: %s", schema, text);
    }
  return errors->len;
}

static JsonNode *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = odd_json_parse (text, -1, &error);

  g_assert_no_error (error);
  return node;
}

static void
test_envelope_defaults (void)
{
  OddProducer producer = { "gateway", "gw-1", "0.1.0" };
  g_autoptr(JsonNode) job = parse ("{\"type\":\"report\",\"payload\":{\"n\":1}}");
  g_autoptr(JsonNode) full = odd_job_complete (job);
  g_autoptr(JsonNode) envelope = odd_envelope_new ("job.created", NULL, NULL, &producer, NULL, NULL, full);
  JsonObject *o = json_node_get_object (envelope);
  JsonObject *p = json_object_get_object_member (o, "producer");

  g_assert_cmpuint (error_count ("event-envelope", envelope), ==, 0);
  g_assert_cmpuint (error_count ("job", json_object_get_member (o, "payload")), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (o, "contractVersion"), ==, ODD_CONTRACT_VERSION);
  g_assert_cmpstr (json_object_get_string_member (o, "eventType"), ==, "job.created");
  g_assert_true (odd_uuid_is_valid (json_object_get_string_member (o, "eventId")));
  g_assert_true (odd_uuid_is_valid (json_object_get_string_member (o, "correlationId")));
  g_assert_cmpstr (json_object_get_string_member (o, "idempotencyKey"), ==,
                   json_object_get_string_member (o, "eventId"));
  g_assert_true (odd_time_parse_rfc3339 (json_object_get_string_member (o, "occurredAt"), NULL));
  g_assert_cmpstr (json_object_get_string_member (p, "service"), ==, "gateway");
  g_assert_cmpstr (json_object_get_string_member (p, "instanceId"), ==, "gw-1");
  g_assert_cmpstr (json_object_get_string_member (p, "version"), ==, "0.1.0");
}

static void
test_envelope_given_values (void)
{
  OddProducer producer = { "processor", "proc-1", "0.1.0" };
  g_autoptr(JsonNode) payload = parse ("{\"id\":\"3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b\",\"type\":\"t\","
                                       "\"status\":\"COMPLETED\",\"createdAt\":\"2026-01-02T03:04:05Z\","
                                       "\"payload\":{\"list\":[1,{\"deep\":true}]}}");
  g_autoptr(JsonNode) envelope = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  JsonObject *o;

  envelope = odd_envelope_new ("job.completed", "0b8e2a4c-6d1f-4a3b-9e5c-7f8a9b0c1d2e",
                               "2026-01-02T03:04:06.000Z", &producer,
                               "c0ffee00-1234-4abc-8def-0123456789ab", "job-1/0/job.completed", payload);
  o = json_node_get_object (envelope);
  g_assert_cmpuint (error_count ("event-envelope", envelope), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (o, "eventId"), ==, "0b8e2a4c-6d1f-4a3b-9e5c-7f8a9b0c1d2e");
  g_assert_cmpstr (json_object_get_string_member (o, "occurredAt"), ==, "2026-01-02T03:04:06.000Z");
  g_assert_cmpstr (json_object_get_string_member (o, "correlationId"), ==, "c0ffee00-1234-4abc-8def-0123456789ab");
  g_assert_cmpstr (json_object_get_string_member (o, "idempotencyKey"), ==, "job-1/0/job.completed");

  /* The payload is a copy: changing the original, even deep inside, leaves the envelope as it was. */
  before = odd_json_to_string (envelope);
  json_array_add_int_element (json_object_get_array_member (
                                json_object_get_object_member (json_node_get_object (payload), "payload"), "list"), 2);
  json_object_set_string_member (json_node_get_object (payload), "status", "FAILED");
  after = odd_json_to_string (envelope);
  g_assert_cmpstr (before, ==, after);
  g_assert_null (strchr (after, '\n'));
}

static void
test_envelope_sealed_payload (void)
{
  OddProducer producer = { "gateway", "gw-1", "0.1.0" };
  g_autoptr(JsonNode) payload = parse ("{\"a\":{\"b\":[1]}}");
  g_autoptr(JsonNode) envelope = NULL;
  JsonObject *copy;

  json_node_seal (payload);
  envelope = odd_envelope_new ("job.created", NULL, NULL, &producer, NULL, NULL, payload);
  /* The copy is the caller's to change. */
  copy = json_object_get_object_member (json_node_get_object (envelope), "payload");
  json_object_set_int_member (copy, "added", 1);
  json_array_add_int_element (json_object_get_array_member (json_object_get_object_member (copy, "a"), "b"), 2);
  g_assert_false (json_object_has_member (json_node_get_object (payload), "added"));
}

static void
test_job_complete (void)
{
  g_autoptr(JsonNode) submission = parse ("{\"type\":\"report\"}");
  g_autoptr(JsonNode) job = odd_job_complete (submission);
  g_autoptr(JsonNode) given = parse ("{\"id\":\"3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b\",\"type\":\"r\","
                                     "\"status\":\"VALIDATED\",\"createdAt\":\"2026-01-02T03:04:05Z\"}");
  g_autoptr(JsonNode) kept = odd_job_complete (given);
  g_autoptr(JsonNode) array = parse ("[1]");
  g_autoptr(JsonNode) not_object = odd_job_complete (array);
  g_autofree char *given_text = odd_json_to_string (given);
  g_autofree char *kept_text = odd_json_to_string (kept);
  g_autoptr(JsonNode) sealed = parse ("{\"type\":\"x\"}");
  g_autoptr(JsonNode) from_sealed = NULL;
  JsonObject *o = json_node_get_object (job);

  g_assert_cmpuint (error_count ("job", job), ==, 0);
  g_assert_true (odd_uuid_is_valid (json_object_get_string_member (o, "id")));
  g_assert_cmpstr (json_object_get_string_member (o, "status"), ==, "PENDING");
  g_assert_true (odd_time_parse_rfc3339 (json_object_get_string_member (o, "createdAt"), NULL));
  /* The submission itself is untouched. */
  g_assert_cmpuint (json_object_get_size (json_node_get_object (submission)), ==, 1);

  g_assert_cmpstr (given_text, ==, kept_text);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (not_object));

  json_node_seal (sealed);
  from_sealed = odd_job_complete (sealed);
  g_assert_cmpuint (error_count ("job", from_sealed), ==, 0);
}

static gboolean
simulation (const char    *payload_json,
            OddSimulation *sim,
            char         **message)
{
  g_autoptr(JsonNode) job = parse (payload_json);

  return odd_job_get_simulation (json_node_get_object (job), sim, message);
}

static void
test_simulation (void)
{
  OddSimulation sim;
  struct {
    const char *json;
    const char *message_part;
  } bad[] = {
    { "{\"payload\":{\"simulate\":5}}", "must be an object" },
    { "{\"payload\":{\"simulate\":{\"sleep\":1}}}", "unknown field 'sleep'" },
    { "{\"payload\":{\"simulate\":{\"durationMs\":600001}}}", "durationMs must be an integer between 0 and 600000" },
    { "{\"payload\":{\"simulate\":{\"durationMs\":-1}}}", "durationMs" },
    { "{\"payload\":{\"simulate\":{\"durationMs\":1.5}}}", "durationMs" },
    { "{\"payload\":{\"simulate\":{\"durationMs\":\"10\"}}}", "durationMs" },
    { "{\"payload\":{\"simulate\":{\"failRate\":1.01}}}", "failRate must be a number between 0 and 1" },
    { "{\"payload\":{\"simulate\":{\"failRate\":null}}}", "failRate" },
    { "{\"payload\":{\"simulate\":{\"failAttempts\":101}}}", "failAttempts must be an integer between 0 and 100" },
  };

  g_assert_true (simulation ("{}", &sim, NULL));
  g_assert_cmpuint (sim.duration_ms, ==, 0);
  g_assert_cmpfloat (sim.fail_rate, ==, 0.0);
  g_assert_cmpuint (sim.fail_attempts, ==, 0);
  g_assert_true (simulation ("{\"payload\":[]}", &sim, NULL));
  g_assert_true (simulation ("{\"payload\":{\"other\":1}}", &sim, NULL));

  g_assert_true (simulation ("{\"payload\":{\"simulate\":{\"durationMs\":250,\"failRate\":0.25,\"failAttempts\":2}}}",
                             &sim, NULL));
  g_assert_cmpuint (sim.duration_ms, ==, 250);
  g_assert_cmpfloat (sim.fail_rate, ==, 0.25);
  g_assert_cmpuint (sim.fail_attempts, ==, 2);

  g_assert_true (simulation ("{\"payload\":{\"simulate\":{\"durationMs\":600000.0,\"failRate\":1}}}", &sim, NULL));
  g_assert_cmpuint (sim.duration_ms, ==, 600000);
  g_assert_cmpfloat (sim.fail_rate, ==, 1.0);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *message = NULL;

      g_test_message ("%s", bad[i].json);
      g_assert_false (simulation (bad[i].json, &sim, &message));
      g_assert_nonnull (message);
      g_assert_nonnull (strstr (message, bad[i].message_part));
    }
  /* error_message may be NULL */
  g_assert_false (simulation (bad[0].json, &sim, NULL));
}

/* odd_job_get_simulation() and simulation.json must agree on every simulation fixture. */
static void
test_simulation_matches_schema (void)
{
  g_autofree char *contracts = odd_contracts_dir ();
  const char *kinds[] = { "golden", "negative" };
  guint checked = 0;

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autofree char *dir_path = g_build_filename (contracts, "fixtures", kinds[k], NULL);
      g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
      const char *name;

      g_assert_nonnull (dir);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = NULL;
          g_autofree char *text = NULL;
          g_autofree char *job_text = NULL;
          g_autofree char *message = NULL;
          g_autoptr(JsonNode) simulate = NULL;
          g_autoptr(JsonNode) job = NULL;
          OddSimulation sim;
          gboolean schema_ok, helper_ok;

          if (!g_str_has_prefix (name, "simulation--"))
            continue;
          path = g_build_filename (dir_path, name, NULL);
          g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
          simulate = parse (text);
          schema_ok = error_count ("simulation", simulate) == 0;
          job_text = g_strdup_printf ("{\"payload\":{\"simulate\":%s}}", text);
          job = parse (job_text);
          helper_ok = odd_job_get_simulation (json_node_get_object (job), &sim, &message);
          g_test_message ("%s: schema %d, helper %d (%s)", name, schema_ok, helper_ok, message ? message : "");
          g_assert_cmpint (schema_ok, ==, helper_ok);
          g_assert_cmpint (schema_ok, ==, k == 0);
          checked++;
        }
    }
  g_assert_cmpuint (checked, >=, 4);
}

static void
test_json_parse (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *deep = NULL;
  g_autofree char *brackets = NULL;
  const char *bad[] = { "", "   ", "{", "{\"a\":}", "[1,]", "nul", "{\"a\":1} x" };

  node = odd_json_parse ("{\"a\":[1,2]} trailing", 11, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  g_clear_pointer (&node, json_node_unref);

  node = odd_json_parse ("  \"text\"  ", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_node_get_string (node), ==, "text");
  g_clear_pointer (&node, json_node_unref);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("bad: '%s'", bad[i]);
      node = odd_json_parse (bad[i], -1, &error);
      g_assert_null (node);
      g_assert_nonnull (error);
      g_assert_true (error->domain == JSON_PARSER_ERROR);
      g_clear_error (&error);
    }

  /* A hostile body: a million open brackets is refused quickly, not a stack overflow. */
  deep = g_strnfill (1000000, '[');
  node = odd_json_parse (deep, -1, &error);
  g_assert_null (node);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "nested deeper"));
  g_clear_error (&error);

  /* Brackets inside strings do not count. */
  g_free (deep);
  brackets = g_strnfill (2000, '[');
  deep = g_strdup_printf ("[\"%s\\\"\"]", brackets);
  node = odd_json_parse (deep, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (node));
}

static void
test_json_to_string (void)
{
  g_autoptr(JsonNode) node = parse ("{\n  \"a\" : [ 1, 2 ],\n  \"b\" : \"x\\ny\"\n}");
  g_autofree char *text = odd_json_to_string (node);

  g_assert_cmpstr (text, ==, "{\"a\":[1,2],\"b\":\"x\\ny\"}");
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  registry = odd_schema_registry_new_default (&error);
  g_assert_no_error (error);

  g_test_add_func ("/envelope/defaults", test_envelope_defaults);
  g_test_add_func ("/envelope/given-values", test_envelope_given_values);
  g_test_add_func ("/envelope/sealed-payload", test_envelope_sealed_payload);
  g_test_add_func ("/envelope/job-complete", test_job_complete);
  g_test_add_func ("/envelope/simulation", test_simulation);
  g_test_add_func ("/envelope/simulation-matches-schema", test_simulation_matches_schema);
  g_test_add_func ("/envelope/json-parse", test_json_parse);
  g_test_add_func ("/envelope/json-to-string", test_json_to_string);

  status = g_test_run ();
  g_clear_object (&registry);
  return status;
}
