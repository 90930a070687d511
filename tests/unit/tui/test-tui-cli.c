#define G_LOG_DOMAIN "test-tui-cli"

/* The odd-dashboard binary: options, exit codes, --once against a fake read model that
 * answers with the contract's golden fixtures, and doctor --json against the schema. */

#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "odd-schema.h"

static const char *dashboard;
static char *state_dir;

typedef struct
{
  gboolean  done;
  char     *out;
  char     *err;
  int       status;
} Run;

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &run->out, &run->err,
                                        &error);
  g_assert_no_error (error);
  run->status = g_subprocess_get_exit_status (G_SUBPROCESS (source));
  run->done = TRUE;
}

/* Runs odd-dashboard with @args and KEY=VALUE @env (NULL-terminated each) while this
 * process's main loop keeps serving the fake read model. */
static void
run_dashboard (const char * const *args,
               const char * const *env,
               Run                *run)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;

  g_subprocess_launcher_setenv (launcher, "ODD_STATE_DIR", state_dir, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "READ_MODEL_URL");
  g_subprocess_launcher_unsetenv (launcher, "GATEWAY_URL");
  g_subprocess_launcher_setenv (launcher, "LANG", "C.UTF-8", TRUE);
  for (guint i = 0; env != NULL && env[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (env[i], "=", 2);

      g_subprocess_launcher_setenv (launcher, kv[0], kv[1], TRUE);
    }

  g_ptr_array_add (argv, (gpointer) dashboard);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  memset (run, 0, sizeof *run);
  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, on_done, run);
  while (!run->done)
    g_main_context_iteration (NULL, TRUE);
}

static void
run_clear (Run *run)
{
  g_free (run->out);
  g_free (run->err);
}

#define ARGS(...) ((const char *[]) { __VA_ARGS__, NULL })

static void
test_options (void)
{
  Run run;

  run_dashboard (ARGS ("--help"), NULL, &run);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (g_str_has_prefix (run.out, "Usage: odd-dashboard [OPTIONS]\n"));
  g_assert_nonnull (strstr (run.out, "doctor [--json]"));
  g_assert_nonnull (strstr (run.out, "READ_MODEL_URL"));
  run_clear (&run);

  run_dashboard (ARGS ("-V"), NULL, &run);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (g_str_has_prefix (run.out, "odd-dashboard "));
  g_assert_nonnull (strstr (run.out, "\n  commit: "));
  g_assert_nonnull (strstr (run.out, "\n  built:  "));
  run_clear (&run);

  run_dashboard (ARGS ("--bogus"), NULL, &run);
  g_assert_cmpint (run.status, ==, 2);
  g_assert_cmpstr (run.err, ==, "Unknown option: --bogus\nRun 'odd-dashboard --help' for usage.\n");
  run_clear (&run);

  run_dashboard (ARGS ("--interval", "0"), NULL, &run);
  g_assert_cmpint (run.status, ==, 2);
  g_assert_nonnull (strstr (run.err, "Invalid --interval"));
  run_clear (&run);

  run_dashboard (ARGS ("--once", "--size", "80"), NULL, &run);
  g_assert_cmpint (run.status, ==, 2);
  run_clear (&run);

  /* Interactive needs a terminal; a pipe gets a clear error, not a broken screen. */
  run_dashboard (ARGS ("--interval", "2"), NULL, &run);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "needs a terminal"));
  run_clear (&run);
}

/* ---- a fake read model serving the golden fixtures ---- */

static void
serve_file (SoupServerMessage *msg,
            const char        *fixture)
{
  g_autofree char *path = g_build_filename (g_getenv ("CONTRACTS_PATH"), "fixtures", "golden",
                                            fixture, NULL);
  g_autofree char *body = NULL;
  gsize length;

  g_assert_true (g_file_get_contents (path, &body, &length, NULL));
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body, length);
}

/* Answers of the right status with the wrong shapes: OddClient refuses each against its
 * contract, the dashboard shows the rest and the reason, and never trips (G_DEBUG=fatal-warnings
 * makes a critical fatal in the child too). The jobs are of the right shape but hostile. */
static const struct { const char *path; const char *body; } garbage[] = {
  { "/stats", "{\"totalJobs\":0,\"completedJobs\":0,\"failedJobs\":2,\"inFlightJobs\":0,"
              "\"lastEventTime\":\"\",\"latencyMs\":{\"p50\":1,\"p95\":2,\"p99\":3}}" },
  { "/stats/series", "{\"points\":[1,\"x\",{\"completed\":\"y\",\"failed\":3}]}" },
  { "/queues", "{\"queues\":{\"a\":1}}" },
  { "/jobs/recent", "[{\"id\":\"abcdef12-0000-4000-8000-000000000000\",\"status\":\"FAILED\","
                    "\"createdAt\":\"2026-01-02T03:04:05Z\",\"type\":\"\\u001b]52;c;eA==\\u0007x\"}]" },
  { "/alerts", "{\"alerts\":[{\"name\":null},7]}" },
};

/* A /stats of the wrong shape: the launcher says why the read model cannot be used. */
static const char bad_stats[] = "{\"totalJobs\":\"many\",\"completedJobs\":null,\"failedJobs\":2.5,"
                                 "\"latencyMs\":5,\"lastEventTime\":{}}";

static void
on_request (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  if (GPOINTER_TO_INT (user_data) == 2 && g_str_equal (path, "/stats"))
    {
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                        bad_stats, strlen (bad_stats));
      return;
    }
  if (user_data != NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
        if (g_str_equal (path, garbage[i].path))
          {
            soup_server_message_set_status (msg, 200, NULL);
            soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                              garbage[i].body, strlen (garbage[i].body));
            return;
          }
      soup_server_message_set_status (msg, 404, NULL);
      return;
    }

  if (g_str_equal (path, "/stats"))
    serve_file (msg, "stats--full.json");
  else if (g_str_equal (path, "/stats/series"))
    serve_file (msg, "stats-series--two-points.json");
  else if (g_str_equal (path, "/queues"))
    serve_file (msg, "queues--basic.json");
  else if (g_str_equal (path, "/jobs/recent"))
    serve_file (msg, "jobs-recent--two.json");
  else if (g_str_equal (path, "/alerts"))
    serve_file (msg, "alerts--one.json");
  else
    soup_server_message_set_status (msg, 404, NULL);
}

static char *
fake_read_model_full (SoupServer **out,
                      int          broken)
{
  g_autoptr(GError) error = NULL;
  SoupServer *server = soup_server_new (NULL, NULL);
  GSList *uris;
  char *url;

  soup_server_add_handler (server, NULL, on_request, broken ? GINT_TO_POINTER (broken) : NULL, NULL);
  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  *out = server;
  return url;
}

static char *
fake_read_model (SoupServer **out)
{
  return fake_read_model_full (out, 0);
}

static JsonObject *
load_fixture (const char *fixture,
              JsonParser *parser)
{
  g_autofree char *path = g_build_filename (g_getenv ("CONTRACTS_PATH"), "fixtures", "golden",
                                            fixture, NULL);

  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_once_dashboard (void)
{
  g_autoptr(SoupServer) server = NULL;
  g_autofree char *url = fake_read_model (&server);
  g_autofree char *rm = g_strdup_printf ("READ_MODEL_URL=%s", url);
  g_autoptr(JsonParser) stats_parser = json_parser_new ();
  g_autoptr(JsonParser) jobs_parser = json_parser_new ();
  JsonObject *stats = load_fixture ("stats--full.json", stats_parser);
  g_autofree char *expected = NULL;
  g_auto(GStrv) lines = NULL;
  JsonArray *jobs;
  Run run;
  g_autofree char *jobs_path = g_build_filename (g_getenv ("CONTRACTS_PATH"), "fixtures",
                                                 "golden", "jobs-recent--two.json", NULL);

  g_assert_true (json_parser_load_from_file (jobs_parser, jobs_path, NULL));
  jobs = json_node_get_array (json_parser_get_root (jobs_parser));

  run_dashboard (ARGS ("--once"), ARGS (rm, "GATEWAY_URL=http://127.0.0.1:1"), &run);
  g_test_message ("%s", run.out);
  g_assert_cmpint (run.status, ==, 0);

  /* The numbers are the read model's, to the digit. */
  expected = g_strdup_printf ("Total %" G_GINT64_FORMAT "  Completed %" G_GINT64_FORMAT
                              "  Failed %" G_GINT64_FORMAT "  In flight %" G_GINT64_FORMAT
                              "  Throughput %.2f/s",
                              json_object_get_int_member (stats, "totalJobs"),
                              json_object_get_int_member (stats, "completedJobs"),
                              json_object_get_int_member (stats, "failedJobs"),
                              json_object_get_int_member (stats, "inFlightJobs"),
                              json_object_get_double_member (stats, "throughputPerSec"));
  g_assert_nonnull (strstr (run.out, expected));
  for (guint i = 0; i < json_array_get_length (jobs); i++)
    {
      JsonObject *job = json_array_get_object_element (jobs, i);
      g_autofree char *prefix = g_strndup (json_object_get_string_member (job, "id"), 8);

      g_assert_nonnull (strstr (run.out, prefix));
      g_assert_nonnull (strstr (run.out, json_object_get_string_member (job, "status")));
    }
  g_assert_nonnull (strstr (run.out, "Alerts (1)"));
  g_assert_nonnull (strstr (run.out, "JobFailureRateHigh [processor]"));
  lines = g_strsplit (run.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 25);
  run_clear (&run);

  run_dashboard (ARGS ("--dump", "--size=120x40"), ARGS (rm), &run);
  g_assert_cmpint (run.status, ==, 0);
  g_strfreev (lines);
  lines = g_strsplit (run.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 41);
  g_assert_nonnull (strstr (run.out, "Total 12"));
  run_clear (&run);
}

static void
test_once_garbage (void)
{
  g_autoptr(SoupServer) server = NULL;
  g_autofree char *url = fake_read_model_full (&server, 1);
  g_autofree char *rm = g_strdup_printf ("READ_MODEL_URL=%s", url);
  Run run;

  run_dashboard (ARGS ("--once"), ARGS (rm, "GATEWAY_URL=http://127.0.0.1:1"), &run);
  g_test_message ("%s\n%s", run.out, run.err);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.err, ==, "");
  g_assert_nonnull (strstr (run.out, "Total 0  Completed 0  Failed 2  In flight 0"));
  /* A job type carrying a terminal escape (here OSC 52) is shown, not obeyed. */
  g_assert_nonnull (strstr (run.out, "?]52;c;eA==?x"));
  g_assert_null (strchr (run.out, '\033'));
  /* The alerts broke their contract: none shown, the reason instead. */
  g_assert_nonnull (strstr (run.out, "Alerts (0)"));
  g_assert_nonnull (strstr (run.out, "alerts unavailable: the answer"));
  run_clear (&run);

  /* A /stats of the wrong shape: the read model is not usable, the launcher says why. */
  g_clear_object (&server);
  g_free (url);
  g_free (rm);
  url = fake_read_model_full (&server, 2);
  rm = g_strdup_printf ("READ_MODEL_URL=%s", url);
  run_dashboard (ARGS ("--once"), ARGS (rm, "GATEWAY_URL=http://127.0.0.1:1"), &run);
  g_test_message ("%s\n%s", run.out, run.err);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.err, ==, "");
  g_assert_nonnull (strstr (run.out, "read model: the answer breaks stats.json"));
  run_clear (&run);
}

static void
test_once_launcher (void)
{
  g_autoptr(GSocketListener) probe = g_socket_listener_new ();
  guint16 port = g_socket_listener_add_any_inet_port (probe, NULL, NULL);
  g_autofree char *rm = g_strdup_printf ("READ_MODEL_URL=http://127.0.0.1:%u", port);
  g_autofree char *expected = g_strdup_printf ("No stack answers at http://127.0.0.1:%u", port);
  Run run;

  g_socket_listener_close (probe);
  run_dashboard (ARGS ("--once"), ARGS (rm, "NO_COLOR=1"), &run);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, expected));
  g_assert_nonnull (strstr (run.out, "L  start the local stack"));
  /* Plain text: no escape sequences in a dump. */
  g_assert_null (strchr (run.out, '\033'));
  run_clear (&run);

  /* Without UTF-8 the frame is ASCII. */
  run_dashboard (ARGS ("--once"), ARGS (rm, "LANG=C", "LC_ALL=C"), &run);
  for (const char *p = run.out; *p != '\0'; p++)
    g_assert_cmpint ((guchar) *p, <, 128);
  g_assert_nonnull (strstr (run.out, "* No stack answers"));
  run_clear (&run);
}

static void
test_doctor_json (void)
{
  g_autoptr(OddSchemaRegistry) schemas = odd_schema_registry_new_default (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  Run run;

  run_dashboard (ARGS ("doctor", "--json"), NULL, &run);
  g_assert_true (run.status == 0 || run.status == 1);
  g_assert_true (json_parser_load_from_data (parser, run.out, -1, &error));
  problems = odd_schema_registry_validate (schemas, "doctor", json_parser_get_root (parser), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (problems->len, ==, 0);
  root = json_node_get_object (json_parser_get_root (parser));
  /* The exit status follows the report. */
  g_assert_cmpint (run.status, ==, json_object_get_boolean_member (root, "ok") ? 0 : 1);
  run_clear (&run);

  run_dashboard (ARGS ("doctor"), NULL, &run);
  g_assert_true (g_str_has_prefix (run.out, "odd-dashboard doctor\n====================\n\n[OK] Platform: "));
  run_clear (&run);
}

int
main (int    argc,
      char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  dashboard = argc > 1 ? argv[1] : g_getenv ("ODD_DASHBOARD");
  if (dashboard == NULL)
    {
      g_test_skip ("no odd-dashboard given");
      return g_test_run ();
    }
  state_dir = g_dir_make_tmp ("test-tui-cli-XXXXXX", NULL);

  g_test_add_func ("/tui/cli/options", test_options);
  g_test_add_func ("/tui/cli/once-dashboard", test_once_dashboard);
  g_test_add_func ("/tui/cli/once-launcher", test_once_launcher);
  g_test_add_func ("/tui/cli/once-wrong-shapes", test_once_garbage);
  g_test_add_func ("/tui/cli/doctor-json", test_doctor_json);

  rc = g_test_run ();
  g_rmdir (state_dir);
  g_free (state_dir);
  return rc;
}
