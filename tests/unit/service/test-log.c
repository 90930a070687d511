#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include "odd-log.h"

/* Runs @func with stderr redirected to a file and returns what it wrote. */
static char *
capture_stderr (void (*func) (void))
{
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  int fd = g_file_open_tmp ("odd-log-XXXXXX", &path, &error);
  int saved;
  char *contents = NULL;

  g_assert_no_error (error);
  fflush (stderr);
  saved = dup (STDERR_FILENO);
  g_assert_cmpint (dup2 (fd, STDERR_FILENO), >=, 0);
  func ();
  fflush (stderr);
  g_assert_cmpint (dup2 (saved, STDERR_FILENO), >=, 0);
  close (saved);
  close (fd);
  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_unlink (path);
  return contents;
}

static JsonObject *
parse_line (const char *line)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

static void
emit_json (void)
{
  g_setenv ("ODD_LOG_FORMAT", "json", TRUE);
  odd_log_init ("test-svc");
  g_message ("plain \"quoted\" line\nwith newline and tab\t and \x01 control");
  odd_info ("0b8b1f0e-8a7c-4a54-9b6b-4a1f2a3c4d5e", "with %s", "correlation");
  odd_log (G_LOG_LEVEL_INFO, NULL, "invalid utf8 \xff\xfe end");
  g_debug ("hidden debug");
}

static void
test_json_lines (void)
{
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(JsonObject) first = NULL;
  g_autoptr(JsonObject) second = NULL;
  g_autoptr(JsonObject) third = NULL;
  g_autoptr(GRegex) ts = g_regex_new ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$", 0, 0, NULL);

  g_unsetenv ("G_MESSAGES_DEBUG");
  out = capture_stderr (emit_json);
  lines = g_strsplit (out, "\n", -1);
  /* three lines, then the empty string after the final newline; the debug line is dropped */
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  g_assert_cmpstr (lines[3], ==, "");

  first = parse_line (lines[0]);
  g_assert_cmpstr (json_object_get_string_member (first, "level"), ==, "info");
  g_assert_cmpstr (json_object_get_string_member (first, "service"), ==, "test-svc");
  g_assert_cmpstr (json_object_get_string_member (first, "msg"), ==,
                   "plain \"quoted\" line\nwith newline and tab\t and \x01 control");
  g_assert_true (g_regex_match (ts, json_object_get_string_member (first, "ts"), 0, NULL));
  g_assert_false (json_object_has_member (first, "correlationId"));

  second = parse_line (lines[1]);
  g_assert_cmpstr (json_object_get_string_member (second, "msg"), ==, "with correlation");
  g_assert_cmpstr (json_object_get_string_member (second, "correlationId"), ==,
                   "0b8b1f0e-8a7c-4a54-9b6b-4a1f2a3c4d5e");

  third = parse_line (lines[2]);
  g_assert_true (g_utf8_validate (json_object_get_string_member (third, "msg"), -1, NULL));
  g_assert_true (g_str_has_prefix (json_object_get_string_member (third, "msg"), "invalid utf8 "));
}

static void
emit_debug_text (void)
{
  g_setenv ("ODD_LOG_FORMAT", "text", TRUE);
  g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  odd_log_init ("text-svc");
  g_debug ("now visible");
  odd_warning ("abc", "careful");
  g_unsetenv ("G_MESSAGES_DEBUG");
  g_setenv ("ODD_LOG_FORMAT", "json", TRUE);
  odd_log_init ("test-svc");
}

static void
test_text_and_debug (void)
{
  g_autofree char *out = NULL;

  /* odd_warning is a structured warning: fatal under G_DEBUG=fatal-warnings, so lift that here. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  out = capture_stderr (emit_debug_text);
  g_assert_nonnull (strstr (out, "debug text-svc: now visible\n"));
  g_assert_nonnull (strstr (out, "warn  text-svc (odd) [abc]: careful"));
  g_assert_null (strstr (out, "{\""));
}

static gpointer
thread_logger (gpointer data)
{
  for (int i = 0; i < 200; i++)
    odd_info (NULL, "thread %d line %d", GPOINTER_TO_INT (data), i);
  return NULL;
}

static void
emit_threads (void)
{
  GThread *threads[4];

  g_setenv ("ODD_LOG_FORMAT", "json", TRUE);
  odd_log_init ("test-svc");
  for (int i = 0; i < 4; i++)
    threads[i] = g_thread_new ("logger", thread_logger, GINT_TO_POINTER (i));
  for (int i = 0; i < 4; i++)
    g_thread_join (threads[i]);
}

static void
test_threads (void)
{
  g_autofree char *out = capture_stderr (emit_threads);
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);

  g_assert_cmpuint (g_strv_length (lines), ==, 801);
  for (guint i = 0; i < 800; i++)
    {
      g_autoptr(JsonObject) obj = parse_line (lines[i]);
      g_assert_true (g_str_has_prefix (json_object_get_string_member (obj, "msg"), "thread "));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/log/json-lines", test_json_lines);
  g_test_add_func ("/log/text-and-debug", test_text_and_debug);
  g_test_add_func ("/log/threads", test_threads);
  return g_test_run ();
}
