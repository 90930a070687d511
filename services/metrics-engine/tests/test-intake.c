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
assert_dead_letter_valid (OddMeIntake *intake)
{
  g_autoptr(JsonNode) message = odd_me_intake_dead_letter (intake, "jobs.lifecycle");
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
      assert_dead_letter_valid (intake);
      message = odd_me_intake_dead_letter (intake, "jobs.lifecycle");
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
    assert_dead_letter_valid (intake);
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
  assert_dead_letter_valid (intake);
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
  assert_dead_letter_valid (intake);
}

static void
test_not_an_object (void)
{
  static const char body[] = "[1, 2, 3]";
  g_autoptr(OddMeIntake) intake = odd_me_intake_check (registry, body, strlen (body));

  g_assert_false (intake->valid);
  g_assert_cmpstr (intake->reason, ==, "invalid");
  g_assert_null (intake->correlation_id);
  assert_dead_letter_valid (intake);
}

/* The events of a delivery, checked. */
static GPtrArray *
check_delivery (const char *body,
                gsize       len)
{
  GPtrArray *intakes = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_me_intake_free);
  guint n = odd_me_intake_check_delivery (registry, body, len, intakes);

  g_assert_cmpuint (n, ==, intakes->len);
  return intakes;
}

/* An old producer's message, one envelope, is still one valid event. */
static void
test_single_envelope_delivery (void)
{
  g_autoptr(GPtrArray) intakes = check_delivery (valid_event, strlen (valid_event));
  OddMeIntake *intake;

  g_assert_cmpuint (intakes->len, ==, 1);
  intake = intakes->pdata[0];
  g_assert_true (intake->valid);
  g_assert_false (intake->in_batch);
  g_assert_cmpstr (intake->text, ==, valid_event);
}

static void
test_batch_one_bad_event (void)
{
  g_autoptr(JsonNode) node = odd_json_parse (valid_event, -1, NULL);
  JsonObject *object = json_node_get_object (node);
  g_autofree char *bad = NULL;
  g_autofree char *second = NULL;
  g_autofree char *body = NULL;
  g_autofree char *bad_id = NULL;
  g_autofree char *body_digest = NULL;
  g_autofree char *body_id = NULL;
  g_autoptr(GPtrArray) intakes = NULL;
  g_autoptr(JsonNode) message = NULL;
  JsonNode *original;
  OddMeIntake *intake;

  json_object_set_string_member (json_object_get_object_member (object, "payload"), "status", "DONE");
  bad = odd_json_to_string (node);
  /* Another valid event, whose number must keep its digits in the event store. */
  json_object_set_string_member (json_object_get_object_member (object, "payload"), "status", "COMPLETED");
  json_object_set_string_member (object, "eventId", "9d3c5b7a-1e2f-5a4b-8c6d-0e1f2a3b4c5d");
  json_object_set_member (json_object_get_object_member (object, "payload"), "payload",
                          odd_json_raw_new ("{\"ratio\":0.10}", -1));
  second = odd_json_to_string (node);
  body = g_strdup_printf (" [ %s ,\n%s,%s ] ", valid_event, bad, second);
  intakes = check_delivery (body, strlen (body));

  g_assert_cmpuint (intakes->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_true (((OddMeIntake *) intakes->pdata[i])->in_batch);

  intake = intakes->pdata[0];
  g_assert_true (intake->valid);
  g_assert_cmpstr (intake->text, ==, valid_event);
  g_assert_cmpstr (intake->event_id, ==, "8e0c1b2a-3d4f-5a6b-8c7d-9e0f1a2b3c4d");

  /* The bad one alone is a dead letter, of itself and not of its batch. */
  intake = intakes->pdata[1];
  g_assert_false (intake->valid);
  g_assert_cmpstr (intake->reason, ==, "invalid");
  g_assert_nonnull (strstr (intake->error, "/payload/status"));
  g_assert_cmpstr (intake->text, ==, bad);
  g_assert_cmpstr (intake->job_id, ==, "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b");
  assert_dead_letter_valid (intake);
  message = odd_me_intake_dead_letter (intake, "jobs.lifecycle");
  original = json_object_get_member (json_node_get_object (message), "original_event");
  g_assert_true (JSON_NODE_HOLDS_OBJECT (original));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (json_node_get_object (original),
                                                                                 "payload"), "status"), ==, "DONE");
  bad_id = odd_me_intake_dead_letter_id (intake);
  body_digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, body, -1);
  body_id = odd_uuid_v5 (ODD_EVENT_NAMESPACE, body_digest);
  g_assert_cmpstr (bad_id, !=, body_id);
  {
    /* the same bad event on its own would be the same dead letter */
    g_autoptr(OddMeIntake) alone = odd_me_intake_check (registry, bad, strlen (bad));
    g_autofree char *alone_id = odd_me_intake_dead_letter_id (alone);

    g_assert_cmpstr (alone_id, ==, bad_id);
  }

  intake = intakes->pdata[2];
  g_assert_true (intake->valid);
  g_assert_cmpstr (intake->text, ==, second);
  g_assert_nonnull (strstr (intake->text, "\"ratio\":0.10}"));
}

/* What cannot be split into events is one dead letter, kept as it came. */
static void
test_batch_refused_whole (void)
{
  static const char *const unparseable[] = { "[", "[{\"a\":1},", "[\"nul\\u0000\"]", "[\"\xff\"]" };
  g_autoptr(GString) too_many = g_string_new ("[");

  for (guint i = 0; i < G_N_ELEMENTS (unparseable); i++)
    {
      g_autoptr(GPtrArray) intakes = check_delivery (unparseable[i], strlen (unparseable[i]));
      OddMeIntake *intake = intakes->pdata[0];

      g_assert_cmpuint (intakes->len, ==, 1);
      g_assert_false (intake->valid);
      g_assert_cmpstr (intake->reason, ==, "unparseable");
      g_assert_true (g_str_has_prefix (intake->error, "Event batch: "));
      g_assert_cmpstr (intake->text, ==, unparseable[i]);
      assert_dead_letter_valid (intake);
    }

  for (guint i = 0; i <= ODD_EVENT_BATCH_MAX_EVENTS; i++)
    g_string_append (too_many, i > 0 ? ",{}" : "{}");
  g_string_append_c (too_many, ']');
  for (const char *const *body = (const char *const[]) { "[ ]", too_many->str, NULL }; *body != NULL; body++)
    {
      g_autoptr(GPtrArray) intakes = check_delivery (*body, strlen (*body));
      OddMeIntake *intake = intakes->pdata[0];

      g_assert_cmpuint (intakes->len, ==, 1);
      g_assert_false (intake->valid);
      g_assert_cmpstr (intake->reason, ==, "invalid");
      g_assert_nonnull (strstr (intake->error, "allows 1 to 1000"));
      assert_dead_letter_valid (intake);
    }

  {
    /* elements that are no envelopes: each its own dead letter */
    g_autoptr(GPtrArray) intakes = check_delivery ("[1, \"x\"]", 8);

    g_assert_cmpuint (intakes->len, ==, 2);
    for (guint i = 0; i < 2; i++)
      {
        g_assert_false (((OddMeIntake *) intakes->pdata[i])->valid);
        g_assert_cmpstr (((OddMeIntake *) intakes->pdata[i])->reason, ==, "invalid");
        assert_dead_letter_valid (intakes->pdata[i]);
      }
    g_assert_cmpstr (((OddMeIntake *) intakes->pdata[1])->text, ==, "\"x\"");
  }
}

/* The contract's golden batch is what the intake takes, and its bound is the schema's. */
static void
test_golden_batch (void)
{
  g_autofree char *contracts = odd_contracts_dir ();
  g_autofree char *path = g_build_filename (contracts, "fixtures", "golden", "event-batch--one-job.json", NULL);
  g_autofree char *schema_path = g_build_filename (contracts, "schemas", "event-batch.json", NULL);
  g_autofree char *text = NULL;
  g_autofree char *schema_text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) intakes = NULL;
  g_autoptr(JsonNode) schema = NULL;
  gsize len;

  g_file_get_contents (path, &text, &len, &error);
  g_assert_no_error (error);
  intakes = check_delivery (text, len);
  g_assert_cmpuint (intakes->len, ==, 3);
  for (guint i = 0; i < intakes->len; i++)
    {
      OddMeIntake *intake = intakes->pdata[i];

      if (!intake->valid)
        g_error ("golden batch element %u: %s", i, intake->error);
    }

  g_file_get_contents (schema_path, &schema_text, NULL, &error);
  g_assert_no_error (error);
  schema = odd_json_parse (schema_text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (schema), "maxItems"), ==,
                   ODD_EVENT_BATCH_MAX_EVENTS);
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
  g_test_add_func ("/intake/single-envelope-delivery", test_single_envelope_delivery);
  g_test_add_func ("/intake/batch-one-bad-event", test_batch_one_bad_event);
  g_test_add_func ("/intake/batch-refused-whole", test_batch_refused_whole);
  g_test_add_func ("/intake/golden-batch", test_golden_batch);

  ret = g_test_run ();
  g_clear_object (&registry);
  return ret;
}
