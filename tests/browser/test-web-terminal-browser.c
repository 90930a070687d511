/* test-web-terminal-browser.c: odd-web-terminal's page in Debian's chromium
 *
 * A local stack with a few jobs, odd-web-terminal running the real odd-dashboard against it,
 * and web-terminal.mjs (playwright-core driving /usr/bin/chromium) for each scenario: the
 * dashboard renders and takes keys, a reload finds the same session, the fallback shows the
 * read model's numbers, a server with a token asks for it. Screenshots go to the build directory (tests/browser/screenshots). */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>

#include "odd-build-config.h"
#include "odd-test-stack.h"

static OddTestStack *stack;
static SoupSession  *http;
static char         *page_url;
static char         *token_page_url;

#define TOKEN "browser-test-token"

static JsonObject *
get_json (const char *url,
          JsonNode  **keep)
{
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) bytes = soup_session_send_and_read (http, msg, NULL, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();

  if (bytes == NULL || soup_message_get_status (msg) != 200 ||
      !json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL))
    return NULL;
  *keep = json_node_ref (json_parser_get_root (parser));
  return json_node_get_object (*keep);
}

static gint64
total_jobs (void)
{
  g_autofree char *url = g_strconcat (odd_test_stack_get_read_model_url (stack), "/stats", NULL);
  g_autoptr(JsonNode) keep = NULL;
  JsonObject *stats = get_json (url, &keep);

  return stats != NULL ? json_object_get_int_member (stats, "totalJobs") : -1;
}

static void
submit_jobs (guint n)
{
  g_autofree char *url = g_strconcat (odd_test_stack_get_gateway_url (stack), "/jobs", NULL);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
      g_autoptr(GBytes) body = g_bytes_new_static ("{\"type\":\"browser-check\",\"payload\":{}}", 37);
      g_autoptr(GBytes) reply = NULL;

      soup_message_set_request_body_from_bytes (msg, "application/json", body);
      reply = soup_session_send_and_read (http, msg, NULL, NULL);
      g_assert_cmpuint (soup_message_get_status (msg), ==, 202);
    }
  for (guint tries = 0; total_jobs () < n && tries < 300; tries++)
    g_usleep (100 * 1000);
  g_assert_cmpint (total_jobs (), >=, n);
}

static guint
free_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, NULL);

  g_socket_listener_close (listener);
  return port;
}

/* @token: ODD_WT_TOKEN, or NULL. Sets *@url_out. */
static GSubprocess *
start_web_terminal (const char  *token,
                    char       **url_out)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *program = g_build_filename (ODD_BUILD_DIR, "services", "web-terminal", "odd-web-terminal", NULL);
  guint port = free_port ();
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_subprocess_launcher_setenv (launcher, "PORT", port_text, TRUE);
  g_subprocess_launcher_setenv (launcher, "READ_MODEL_URL", odd_test_stack_get_read_model_url (stack), TRUE);
  g_subprocess_launcher_setenv (launcher, "GATEWAY_URL", odd_test_stack_get_gateway_url (stack), TRUE);
  g_subprocess_launcher_setenv (launcher, "ODD_WT_FAULTS", "1", TRUE);
  if (token != NULL)
    g_subprocess_launcher_setenv (launcher, "ODD_WT_TOKEN", token, TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, program, NULL);
  g_assert_no_error (error);

  *url_out = g_strdup_printf ("http://127.0.0.1:%u/", port);
  for (guint tries = 0; tries < 100; tries++)
    {
      g_autofree char *url = g_strconcat (*url_out, "readyz", NULL);
      g_autoptr(JsonNode) keep = NULL;

      if (get_json (url, &keep) != NULL)
        return process;
      g_usleep (100 * 1000);
    }
  g_error ("odd-web-terminal did not become ready at %s", *url_out);
}

static void
run_scenario (const char *url,
              const char *scenario,
              const char *argument)
{
  g_autofree char *script = g_build_filename (ODD_SOURCE_DIR, "tests", "browser", "web-terminal.mjs", NULL);
  g_autofree char *shots = g_build_filename (ODD_BUILD_DIR, "tests", "browser", "screenshots", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) node = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_mkdir_with_parents (shots, 0755);
  node = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                           "node", script, url, scenario, shots, argument, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (node, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("%s%s", out, err);
  if (!g_subprocess_get_successful (node))
    g_error ("%s failed:\n%s%s", scenario, out, err);
}

static void
test_dashboard (void)
{
  run_scenario (page_url, "dashboard", NULL);
}

static void
test_reload (void)
{
  run_scenario (page_url, "reload", NULL);
}

static void
test_fallback (void)
{
  g_autofree char *total = g_strdup_printf ("%" G_GINT64_FORMAT, total_jobs ());

  g_assert_cmpstr (total, !=, "0");
  run_scenario (page_url, "fallback", total);
}

static void
test_auth (void)
{
  run_scenario (token_page_url, "auth", TOKEN);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *modules = g_build_filename (ODD_SOURCE_DIR, "tests", "browser", "node_modules",
                                               "playwright-core", NULL);
  g_autofree char *node = g_find_program_in_path ("node");
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(GSubprocess) token_server = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  if (node == NULL || !g_file_test ("/usr/bin/chromium", G_FILE_TEST_IS_EXECUTABLE) ||
      !g_file_test (modules, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("needs node, /usr/bin/chromium and tests/browser/node_modules "
                   "(apt-get install chromium; npm ci --prefix tests/browser)");
      return g_test_run ();
    }

  g_test_add_func ("/web-terminal-browser/dashboard", test_dashboard);
  g_test_add_func ("/web-terminal-browser/reload", test_reload);
  g_test_add_func ("/web-terminal-browser/fallback", test_fallback);
  g_test_add_func ("/web-terminal-browser/auth", test_auth);

  stack = odd_test_stack_start (&error);
  g_assert_no_error (error);
  http = soup_session_new_with_options ("timeout", 10, NULL);
  submit_jobs (3);
  server = start_web_terminal (NULL, &page_url);
  token_server = start_web_terminal (TOKEN, &token_page_url);

  status = g_test_run ();

  g_subprocess_send_signal (server, SIGTERM);
  g_subprocess_send_signal (token_server, SIGTERM);
  g_subprocess_wait (server, NULL, NULL);
  g_subprocess_wait (token_server, NULL, NULL);
  g_clear_object (&http);
  g_clear_pointer (&stack, odd_test_stack_stop);
  g_free (page_url);
  g_free (token_page_url);
  return status;
}
