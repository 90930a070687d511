/* test-new-job.c: what the New Job dialog accepts, and what it says otherwise */
#define G_LOG_DOMAIN "test-new-job"

#include <string.h>

#include "odd-new-job.h"

static void
test_payload (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) payload = NULL;
  g_autofree char *text = NULL;

  /* Empty: an object with only the simulation. */
  payload = odd_new_job_build_payload ("demo", "  ", 250, 0.5, &error);
  g_assert_no_error (error);
  text = json_to_string (payload, FALSE);
  g_assert_cmpstr (text, ==, "{\"simulate\":{\"durationMs\":250,\"failRate\":0.5}}");
  g_clear_pointer (&payload, json_node_unref);
  g_clear_pointer (&text, g_free);

  /* The user's members stay as they are. */
  payload = odd_new_job_build_payload (" demo ", "{\"order\": 42, \"items\": [1, 2]}", 0, 0, &error);
  g_assert_no_error (error);
  text = json_to_string (payload, FALSE);
  g_assert_cmpstr (text, ==, "{\"order\":42,\"items\":[1,2],\"simulate\":{\"durationMs\":0,\"failRate\":0.0}}");
}

static void
test_refused (void)
{
  static const struct {
    const char *type, *payload;
    guint duration;
    double fail_rate;
    int code;
    const char *says;
  } cases[] = {
    { "", "{}", 0, 0, G_IO_ERROR_INVALID_ARGUMENT, "Give the job a type" },
    { "a\tb", "{}", 0, 0, G_IO_ERROR_INVALID_ARGUMENT, "control characters" },
    { "demo", "{\"order\": ", 0, 0, G_IO_ERROR_INVALID_DATA, "not JSON" },
    { "demo", "[1, 2]", 0, 0, G_IO_ERROR_INVALID_DATA, "must be a JSON object" },
    { "demo", "{\"simulate\": {}}", 0, 0, G_IO_ERROR_INVALID_DATA, "not as “simulate”" },
    /* Out of the contract's range (the dialog's fields cannot get there; the contract says so). */
    { "demo", "{}", 700000, 0, G_IO_ERROR_INVALID_DATA, "breaks the contract" },
    { "demo", "{}", 0, 1.5, G_IO_ERROR_INVALID_DATA, "breaks the contract" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) payload = odd_new_job_build_payload (cases[i].type, cases[i].payload, cases[i].duration,
                                                               cases[i].fail_rate, &error);

      g_assert_null (payload);
      g_assert_error (error, G_IO_ERROR, cases[i].code);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].says));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/new-job/payload", test_payload);
  g_test_add_func ("/new-job/refused", test_refused);
  return g_test_run ();
}
