#define G_LOG_DOMAIN "test-intake"

#include <string.h>

#include "odd-intake.h"

static OddSchemaRegistry *registry;

static const char *const valid_event =
  "{\"contractVersion\":\"1.0.0\",\"eventType\":\"job.completed\","
  "\"eventId\":\"8E0C1B2A-3D4F-5A6B-8C7D-9E0F1A2B3C4D\",\"occurredAt\":\"2026-01-02T03:04:05.678Z\","
  "\"producer\":{\"service\":\"processor\",\"instanceId\":\"p1\",\"version\":\"0.1.0\"},"
  "\"correlationId\":\"0b8e8e52-1c3a-4b0e-9e3f-1d2c3b4a5f60\",\"idempotencyKey\":\"k\","
  "\"payload\":{\"id\":\"1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b\",\"type\":\"render\","
  "\"status\":\"COMPLETED\",\"createdAt\":\"2026-01-02T03:04:05Z\",\"attempts\":1,\"generation\":0}}";

static void
assert_dead_letter_valid (OddMeIntake *intake,
                          const char  *body,
                          gsize        len)
{
  g_autoptr(JsonNode) message = odd_me_intake_dead_letter (intake, body, len, "jobs.lifecycle");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) errors = odd_schema_registry_validate (registry, "dead-letter", message, &error);
  JsonObject *object = json_node_get_object (message);

  g_assert_no_error (error);
  if (errors->len > 0)
    g_error ("dead letter does not match dead-letter.json: %s", odd_validation_errors_to_string (errors));
  g_assert_cmpstr (json_object_get_string_member (object, "service"), ==, "metrics-engine");
  g_assert_cmpstr (json_object_get_string_member (object, "reason"), ==, intake->reason);
  g_assert_cmpstr (json_object_get_string_member (object, "queue"), ==, "jobs.lifecycle");
  g_assert_cmpstr (json_object_get_string_member (object, "validation_error"), ==, intake->error);
}

static void
test_valid (void)
{
  g_autoptr(OddMeIntake) intake = odd_me_intake_check (registry, valid_event, strlen (valid_event));
  g_autoptr(JsonNode) stored = NULL;

  g_assert_true (intake->valid);
  g_assert_null (intake->reason);
  /* Ids are normalised to lower case, as PostgreSQL prints uuids. */
  g_assert_cmpstr (intake->event_id, ==, "8e0c1b2a-3d4f-5a6b-8c7d-9e0f1a2b3c4d");
  g_assert_cmpstr (intake->job_id, ==, "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b");
  g_assert_cmpstr (intake->correlation_id, ==, "0b8e8e52-1c3a-4b0e-9e3f-1d2c3b4a5f60");
  stored = odd_json_parse (intake->text, -1, NULL);
  g_assert_nonnull (stored);
  g_assert_true (json_node_equal (stored, intake->envelope));
}

static void
test_unparseable (void)
{
  static const char *const bodies[] = { "{\"eventType\": ", "", "not json", "\xff\xfe{}" };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(OddMeIntake) intake = odd_me_intake_check (registry, bodies[i], strlen (bodies[i]));
      g_autoptr(JsonNode) message = NULL;

      g_assert_false (intake->valid);
      g_assert_cmpstr (intake->reason, ==, "unparseable");
      g_assert_nonnull (intake->error);
      assert_dead_letter_valid (intake, bodies[i], strlen (bodies[i]));
      message = odd_me_intake_dead_letter (intake, bodies[i], strlen (bodies[i]), "jobs.lifecycle");
      /* The raw text is kept (as valid UTF-8) so an operator can see what arrived. */
      g_assert_true (JSON_NODE_HOLDS_VALUE (json_object_get_member (json_node_get_object (message),
                                                                     "original_event")));
    }

  /* A NUL byte cannot go into jsonb: refused before parsing. */
  {
    static const char body[] = "{\"a\":1}\0xyz";
    g_autoptr(OddMeIntake) intake = odd_me_intake_check (registry, body, sizeof body - 1);

    g_assert_false (intake->valid);
    g_assert_cmpstr (intake->reason, ==, "unparseable");
    assert_dead_letter_valid (intake, body, sizeof body - 1);
  }
}

static void
test_invalid_envelope (void)
{
  g_autoptr(JsonNode) node = odd_json_parse (valid_event, -1, NULL);
  g_autofree char *text = NULL;
  g_autoptr(OddMeIntake) intake = NULL;

  json_object_remove_member (json_node_get_object (node), "producer");
  json_object_set_string_member (json_node_get_object (node), "eventId", "nope");
  text = odd_json_to_string (node);
  intake = odd_me_intake_check (registry, text, strlen (text));

  g_assert_false (intake->valid);
  g_assert_cmpstr (intake->reason, ==, "invalid");
  g_assert_true (g_str_has_prefix (intake->error, "Envelope validation failed: "));
  g_assert_nonnull (strstr (intake->error, "producer"));
  g_assert_nonnull (strstr (intake->error, "/eventId"));
  /* Still known, for the dead_letters row. */
  g_assert_cmpstr (intake->job_id, ==, "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b");
  assert_dead_letter_valid (intake, text, strlen (text));
}

static void
test_invalid_payload (void)
{
  g_autoptr(JsonNode) node = odd_json_parse (valid_event, -1, NULL);
  JsonObject *payload = json_object_get_object_member (json_node_get_object (node), "payload");
  g_autofree char *text = NULL;
  g_autoptr(OddMeIntake) intake = NULL;

  json_object_set_string_member (payload, "status", "DONE");
  json_object_set_string_member (payload, "id", "not-a-uuid");
  text = odd_json_to_string (node);
  intake = odd_me_intake_check (registry, text, strlen (text));

  g_assert_false (intake->valid);
  g_assert_cmpstr (intake->reason, ==, "invalid");
  g_assert_true (g_str_has_prefix (intake->error, "Payload validation failed: "));
  g_assert_nonnull (strstr (intake->error, "/payload/status"));
  g_assert_nonnull (strstr (intake->error, "/payload/id"));
  g_assert_null (intake->job_id);
  assert_dead_letter_valid (intake, text, strlen (text));
}

static void
test_not_an_object (void)
{
  static const char body[] = "[1, 2, 3]";
  g_autoptr(OddMeIntake) intake = odd_me_intake_check (registry, body, strlen (body));

  g_assert_false (intake->valid);
  g_assert_cmpstr (intake->reason, ==, "invalid");
  g_assert_null (intake->correlation_id);
  assert_dead_letter_valid (intake, body, strlen (body));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  registry = odd_schema_registry_new_default (&error);
  g_assert_no_error (error);

  g_test_add_func ("/intake/valid", test_valid);
  g_test_add_func ("/intake/unparseable", test_unparseable);
  g_test_add_func ("/intake/invalid-envelope", test_invalid_envelope);
  g_test_add_func ("/intake/invalid-payload", test_invalid_payload);
  g_test_add_func ("/intake/not-an-object", test_not_an_object);

  ret = g_test_run ();
  g_clear_object (&registry);
  return ret;
}
