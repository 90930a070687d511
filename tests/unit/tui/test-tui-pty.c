#define G_LOG_DOMAIN "test-tui-pty"

/* odd-dashboard in a real pseudo-terminal: tmux runs it at a fixed size, sends keys and
 * captures the screen. Against a closed port (launcher) and a real local stack (dashboard,
 * new job, job detail and retry, resize, quit). */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "odd-test-stack.h"

static char *tmux_socket;
static char *tmux_path;
static char *dashboard;
static char *state_dir;
static OddTestStack *stack;
static SoupSession *http;

/* ---- tmux ---- */

static char *
tmuxv (const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_ptr_array_add (argv, tmux_path);
  g_ptr_array_add (argv, (gpointer) "-L");
  g_ptr_array_add (argv, tmux_socket);
  g_ptr_array_add (argv, (gpointer) "-f");
  g_ptr_array_add (argv, (gpointer) "/dev/null");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                     &status, &error))
    g_error ("tmux: %s", error->message);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("tmux %s failed: %s", args[0], err);
  return g_steal_pointer (&out);
}

#define tmux(...) tmuxv ((const char *[]) { __VA_ARGS__, NULL })

static void
keys (const char *key)
{
  g_free (tmux ("send-keys", "-t", "tui", key));
}

static void
type_text (const char *text)
{
  g_free (tmux ("send-keys", "-t", "tui", "-l", text));
}

static char *
capture (void)
{
  return tmux ("capture-pane", "-p", "-t", "tui");
}

/* Waits until the screen shows every one of @texts (NULL-terminated); returns the screen. */
static char *
wait_for_all (const char * const *texts,
              guint               seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;
  char *screen = NULL;

  for (;;)
    {
      gboolean all = TRUE;

      g_free (screen);
      screen = capture ();
      for (guint i = 0; texts[i] != NULL && all; i++)
        all = strstr (screen, texts[i]) != NULL;
      if (all)
        return screen;
      if (g_get_monotonic_time () > deadline)
        {
          g_test_message ("screen:\n%s", screen);
          g_error ("“%s” did not appear within %u s", texts[0], seconds);
        }
      g_usleep (100 * 1000);
    }
}

#define wait_for(seconds, ...) wait_for_all ((const char *[]) { __VA_ARGS__, NULL }, seconds)

/* Starts `sh -c 'echo before; env ... odd-dashboard; echo EXIT=$?; wait'` in a new session
 * of @cols x @rows, with the dashboard's stderr in @log unless it is NULL. The shell stays so
 * that the terminal after the exit can be checked. */
static void
start_dashboard_logged (int         cols,
                        int         rows,
                        const char *env,
                        const char *log)
{
  g_autofree char *x = g_strdup_printf ("%d", cols);
  g_autofree char *y = g_strdup_printf ("%d", rows);
  g_autofree char *quoted = log != NULL ? g_shell_quote (log) : NULL;
  g_autofree char *redirect = log != NULL ? g_strconcat (" 2>", quoted, NULL) : g_strdup ("");
  /* The shell then waits for this test program (see the "keep" session). */
  g_autofree char *command = g_strdup_printf ("echo before; env LANG=C.UTF-8 ODD_STATE_DIR=%s %s %s%s; "
                                              "echo EXIT=$?; exec tail --pid=%d -f /dev/null",
                                              state_dir, env, dashboard, redirect,
                                              (int) getpid ());

  g_free (tmux ("new-session", "-d", "-s", "tui", "-x", x, "-y", y, command));
}

static void
start_dashboard (int         cols,
                 int         rows,
                 const char *env)
{
  start_dashboard_logged (cols, rows, env, NULL);
}

static void
kill_session (void)
{
  g_free (tmux ("kill-session", "-t", "tui"));
}

static void
assert_quits_cleanly (gboolean alternate_screen)
{
  g_autofree char *screen = NULL;
  g_autofree char *alternate = NULL;

  keys ("q");
  screen = wait_for (5, "EXIT=0");
  g_test_message ("after quitting:\n%s", screen);
  /* Back on the normal screen, with what was there before; a terminal without an alternate
   * screen (TERM=linux) is wiped instead. */
  if (alternate_screen)
    g_assert_nonnull (strstr (screen, "before"));
  else
    {
      g_autofree char *text = g_strdup (screen);

      /* Nothing left but the shell's line. */
      g_assert_cmpstr (g_strstrip (text), ==, "EXIT=0");
    }
  g_assert_null (strstr (screen, "Distributed Task Observatory"));
  alternate = tmux ("display-message", "-p", "-t", "tui", "#{alternate_on}");
  g_assert_cmpstr (g_strstrip (alternate), ==, "0");
}

/* Every line at most @cols wide and exactly @rows lines. */
static void
assert_fits (const char *screen,
             int         cols,
             int         rows)
{
  g_auto(GStrv) lines = g_strsplit (screen, "\n", -1);
  guint n = g_strv_length (lines);

  /* capture-pane ends with a newline: one empty string after the last row. */
  g_assert_cmpuint (n, ==, (guint) rows + 1);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (g_utf8_strlen (lines[i], -1), <=, cols);
}

/* ---- HTTP ---- */

static JsonNode *
http_json (const char *method,
           const char *url,
           const char *body,
           guint      *status)
{
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  if (body != NULL)
    {
      g_autoptr(GBytes) request = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, "application/json", request);
    }
  bytes = soup_session_send_and_read (http, msg, NULL, &error);
  g_assert_no_error (error);
  *status = soup_message_get_status (msg);
  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                   (gssize) g_bytes_get_size (bytes), NULL))
    return NULL;
  return json_node_ref (json_parser_get_root (parser));
}

static char *
submit (const char *body)
{
  g_autofree char *url = g_strconcat (odd_test_stack_get_gateway_url (stack), "/jobs", NULL);
  guint status;
  g_autoptr(JsonNode) reply = http_json ("POST", url, body, &status);

  g_assert_cmpuint (status, ==, 202);
  return g_strdup (json_object_get_string_member (json_node_get_object (reply), "jobId"));
}

static JsonObject *
stats (JsonNode **keep)
{
  g_autofree char *url = g_strconcat (odd_test_stack_get_read_model_url (stack), "/stats", NULL);
  guint status;

  *keep = http_json ("GET", url, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  return json_node_get_object (*keep);
}

/* ---- tests ---- */

static void
test_launcher (void)
{
  /* A port that was free a moment ago: nothing answers there. */
  g_autoptr(GSocketListener) probe = g_socket_listener_new ();
  guint16 port = g_socket_listener_add_any_inet_port (probe, NULL, NULL);
  const char *terms[] = { "TERM=xterm-256color", "TERM=xterm", "TERM=linux NO_COLOR=1" };

  g_socket_listener_close (probe);
  for (guint i = 0; i < G_N_ELEMENTS (terms); i++)
    {
      g_autofree char *env = g_strdup_printf ("%s READ_MODEL_URL=http://127.0.0.1:%u "
                                              "GATEWAY_URL=http://127.0.0.1:%u", terms[i],
                                              port, port);
      g_autofree char *expected = g_strdup_printf ("No stack answers at http://127.0.0.1:%u", port);
      g_autofree char *screen = NULL;

      g_test_message ("%s", terms[i]);
      start_dashboard (80, 24, env);
      screen = wait_for (10, expected, "L  start the local stack", "Q Quit");
      assert_fits (screen, 80, 24);
      /* Keys are case-insensitive: D opens the doctor, Esc returns. */
      keys ("D");
      g_free (wait_for (20, "Doctor", "Docker CLI", "Free memory"));
      keys ("Escape");
      g_free (wait_for (10, expected));
      assert_quits_cleanly (!g_str_has_prefix (terms[i], "TERM=linux"));
      kill_session ();
    }
}

/* The pid of the process whose parent is @parent (the dashboard under the pane's shell). */
static GPid
child_of (GPid parent)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%s/stat", name);
      g_autofree char *stat = NULL;
      const char *after;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (path, &stat, NULL, NULL))
        continue;
      /* "pid (comm) state ppid ...": comm may hold spaces, so start after the last ')'. */
      after = strrchr (stat, ')');
      if (after != NULL && atoi (after + 4) == parent)
        return atoi (name);
    }
  return 0;
}

static void
test_sigterm (void)
{
  g_autofree char *pane = NULL;
  g_autofree char *screen = NULL;
  g_autofree char *alternate = NULL;
  GPid pid = 0;

  start_dashboard (80, 24, "TERM=xterm-256color READ_MODEL_URL=http://127.0.0.1:1");
  g_free (wait_for (10, "L  start the local stack"));
  pane = tmux ("display-message", "-p", "-t", "tui", "#{pane_pid}");
  for (int i = 0; i < 50 && pid == 0; i++)
    {
      pid = child_of (atoi (pane));
      g_usleep (100 * 1000);
    }
  g_assert_cmpint (pid, >, 0);
  g_assert_cmpint (kill (pid, SIGTERM), ==, 0);
  /* 128 + SIGTERM: ended by the signal; the terminal is restored all the same. */
  screen = wait_for (5, "EXIT=143");
  g_assert_nonnull (strstr (screen, "before"));
  g_assert_null (strstr (screen, "start the local stack"));
  alternate = tmux ("display-message", "-p", "-t", "tui", "#{alternate_on}");
  g_assert_cmpstr (g_strstrip (alternate), ==, "0");
  kill_session ();
}

/* Whether @pid is gone (or a zombie: its shell died with the terminal). */
static gboolean
process_gone (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *after;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  after = strrchr (stat, ')');
  return after != NULL && after[2] == 'Z';
}

/* Closing the terminal (tmux kills the pane: the pty hangs up) ends the dashboard without a
 * GLib critical or warning. With setsid, the dashboard gets no SIGHUP and learns of it from
 * its input only: the path where the input watch was removed twice. */
static void
test_terminal_closed (void)
{
  const char *launchers[] = { "", "setsid" };

  for (guint i = 0; i < G_N_ELEMENTS (launchers); i++)
    {
      g_autofree char *log = g_build_filename (g_get_tmp_dir (), "odd-tui-hangup-XXXXXX", NULL);
      g_autofree char *env = NULL;
      g_autofree char *pane = NULL;
      g_autofree char *errors = NULL;
      GPid pid = 0;
      int fd;

      fd = g_mkstemp (log);
      g_assert_cmpint (fd, >=, 0);
      close (fd);
      env = g_strdup_printf ("TERM=xterm-256color READ_MODEL_URL=http://127.0.0.1:1 "
                             "G_DEBUG= %s", launchers[i]);
      g_test_message ("closing the terminal of: %s odd-dashboard", launchers[i]);
      start_dashboard_logged (80, 24, env, log);
      g_free (wait_for (10, "L  start the local stack"));
      pane = tmux ("display-message", "-p", "-t", "tui", "#{pane_pid}");
      for (int n = 0; n < 50 && pid == 0; n++)
        {
          pid = child_of (atoi (pane));
          g_usleep (100 * 1000);
        }
      g_assert_cmpint (pid, >, 0);

      kill_session ();
      for (int n = 0; n < 100 && !process_gone (pid); n++)
        g_usleep (100 * 1000);
      g_assert_true (process_gone (pid));

      g_assert_true (g_file_get_contents (log, &errors, NULL, NULL));
      g_test_message ("stderr: %s", errors);
      g_assert_null (strstr (errors, "CRITICAL"));
      g_assert_null (strstr (errors, "WARNING"));
      g_unlink (log);
    }
}

/* The doctor and the prerequisite setup, on a Fedora whose kind is too old. PATH holds only
 * the fake kind, so running a fix reaches no real tool (sudo, curl: "not found"). */
static void
test_prereq (void)
{
  g_autofree char *bin = g_build_filename (state_dir, "..", "fakebin", NULL);
  g_autofree char *kind = g_build_filename (bin, "kind", NULL);
  g_autofree char *release = g_build_filename (state_dir, "..", "os-release", NULL);
  g_autofree char *env = NULL;
  g_autofree char *screen = NULL;

  g_assert_cmpint (g_mkdir_with_parents (bin, 0755), ==, 0);
  g_assert_true (g_file_set_contents (kind, "#!/bin/sh\necho 'kind v0.17.0 go1.19 linux/amd64'\n",
                                      -1, NULL));
  g_assert_cmpint (g_chmod (kind, 0755), ==, 0);
  g_assert_true (g_file_set_contents (release, "ID=fedora\nPRETTY_NAME=\"Fedora Linux 39\"\n",
                                      -1, NULL));
  env = g_strdup_printf ("TERM=xterm-256color READ_MODEL_URL=http://127.0.0.1:1 PATH=%s "
                         "ODD_DOCTOR_OS_RELEASE=%s", bin, release);

  start_dashboard (80, 24, env);
  g_free (wait_for (10, "L  start the local stack"));
  keys ("d");
  screen = wait_for (30, "[FAIL] kind", "0.17.0 is older than 0.20.0", "Fedora Linux 39 (fedora)",
                     "press Enter to fix them");
  keys ("Enter");
  g_free (screen);
  screen = wait_for (5, "Prerequisites setup", "Fix what is missing", "Docker CLI", "[>]");
  g_assert_nonnull (strstr (screen, "sudo dnf install -y moby-engine"));

  /* Down to kind: its command is the upstream download at the minimum version. */
  for (int i = 0; i < 6; i++)
    {
      g_autofree char *now = capture ();

      if (strstr (now, "[>] kind") != NULL)
        break;
      keys ("Down");
      g_usleep (150 * 1000);
    }
  g_free (screen);
  screen = wait_for (5, "[>] kind", "kind.sigs.k8s.io/dl/v0.20.0/kind-linux-");
  keys ("C");
  g_free (wait_for (5, "Copied to the clipboard (OSC 52"));

  /* Run it: the output streams in, the exit status is told, the checks run again. */
  keys ("Enter");
  g_free (screen);
  screen = wait_for (15, "Exit status 127", "not found");
  g_free (wait_for (30, "[>] kind"));
  keys ("Escape");
  g_free (wait_for (5, "─ Doctor ─"));
  keys ("Escape");
  g_free (wait_for (10, "L  start the local stack"));
  assert_quits_cleanly (TRUE);
  kill_session ();
}

static char *
stack_env (void)
{
  return g_strdup_printf ("TERM=xterm-256color READ_MODEL_URL=%s GATEWAY_URL=%s",
                          odd_test_stack_get_read_model_url (stack),
                          odd_test_stack_get_gateway_url (stack));
}

static void
wait_pipeline_idle (gint64 expected_done)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(JsonNode) keep = NULL;
      JsonObject *s = stats (&keep);
      gint64 done = json_object_get_int_member (s, "completedJobs") +
                    json_object_get_int_member (s, "failedJobs");

      if (done >= expected_done && json_object_get_int_member (s, "inFlightJobs") == 0)
        return;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (200 * 1000);
    }
}

static char *failed_id;

static void
test_dashboard_numbers (void)
{
  g_autofree char *env = stack_env ();
  g_autofree char *ok1 = submit ("{\"type\":\"tui-ok\",\"payload\":{\"simulate\":{\"durationMs\":5}}}");
  g_autofree char *ok2 = submit ("{\"type\":\"tui-ok\",\"payload\":{\"simulate\":{\"durationMs\":5}}}");
  g_autofree char *screen = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *prefix1 = g_strndup (ok1, 8);
  g_autofree char *prefix2 = g_strndup (ok2, 8);
  g_autoptr(JsonNode) keep = NULL;
  JsonObject *s;

  failed_id = submit ("{\"type\":\"tui-doomed\",\"payload\":{\"simulate\":{\"failRate\":1}}}");
  wait_pipeline_idle (3);

  start_dashboard (80, 24, env);
  screen = wait_for (15, "Total 3", "tui-doomed", prefix1, prefix2);
  /* Exactly the numbers the read model gives. */
  s = stats (&keep);
  expected = g_strdup_printf ("Total %" G_GINT64_FORMAT "  Completed %" G_GINT64_FORMAT
                              "  Failed %" G_GINT64_FORMAT "  In flight %" G_GINT64_FORMAT,
                              json_object_get_int_member (s, "totalJobs"),
                              json_object_get_int_member (s, "completedJobs"),
                              json_object_get_int_member (s, "failedJobs"),
                              json_object_get_int_member (s, "inFlightJobs"));
  g_test_message ("expected: %s\nscreen:\n%s", expected, screen);
  g_assert_nonnull (strstr (screen, expected));
  g_assert_nonnull (strstr (screen, "Total 3  Completed 2  Failed 1  In flight 0"));
  g_assert_nonnull (strstr (screen, "jobs.created"));
  g_assert_nonnull (strstr (screen, "● live"));
  assert_fits (screen, 80, 24);
}

static void
test_new_job (void)
{
  g_autofree char *screen = NULL;
  g_autofree char *url = NULL;
  g_autofree char *prefix = NULL;
  const char *created;
  char id[37];
  guint status = 0;
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  keys ("n");
  g_free (wait_for (5, "─ New job ─", "Job type"));
  type_text ("tui-made");
  keys ("Tab");
  type_text ("5");
  keys ("Enter");
  screen = wait_for (10, "Job created: ");
  created = strstr (screen, "Job created: ") + strlen ("Job created: ");
  g_strlcpy (id, created, sizeof id);
  g_assert_true (g_uuid_string_is_valid (id));

  /* The read model has it... */
  url = g_strdup_printf ("%s/jobs/%s", odd_test_stack_get_read_model_url (stack), id);
  for (;;)
    {
      g_autoptr(JsonNode) job = http_json ("GET", url, NULL, &status);

      if (status == 200)
        {
          JsonObject *o = json_object_get_object_member (json_node_get_object (job), "job");

          g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "tui-made");
          break;
        }
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (100 * 1000);
    }

  /* ...and the dashboard shows it. */
  keys ("x");
  prefix = g_strndup (id, 8);
  g_free (screen);
  screen = wait_for (10, prefix, "tui-made", "Total 4");
  g_assert_null (strstr (screen, "─ New job ─"));
}

static void
test_detail_and_retry (void)
{
  g_autofree char *prefix = g_strndup (failed_id, 8);
  g_autofree char *selected = g_strdup_printf (">%s", prefix);
  g_autofree char *url = g_strdup_printf ("%s/jobs/%s", odd_test_stack_get_read_model_url (stack),
                                          failed_id);
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  g_autofree char *screen = NULL;

  /* Walk the selection to the failed job. */
  for (int i = 0; i < 10; i++)
    {
      g_autofree char *now = capture ();

      if (strstr (now, selected) != NULL)
        break;
      keys ("Down");
      g_usleep (150 * 1000);
    }
  g_free (wait_for (5, selected));
  keys ("Enter");
  screen = wait_for (10, "Timeline", "job.failed", "tui-doomed", "R Retry");
  keys ("r");
  g_free (wait_for (10, "Retry accepted"));

  /* The gateway really started the next generation. */
  for (;;)
    {
      guint status;
      g_autoptr(JsonNode) job = http_json ("GET", url, NULL, &status);
      JsonObject *o = json_object_get_object_member (json_node_get_object (job), "job");

      if (json_object_get_int_member (o, "generation") >= 1)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (100 * 1000);
    }
  keys ("Escape");
  g_free (wait_for (5, "Recent jobs"));
}

/* The UI launcher lists the registry with the gateway and read model this dashboard uses. */
static void
test_uis (void)
{
  g_autofree char *docs = g_strdup_printf ("(%s/docs)", odd_test_stack_get_gateway_url (stack));
  g_autofree char *screen = NULL;

  keys ("U");
  screen = wait_for (5, "Launch UI", "Gateway API Docs", docs, "Grafana");
  keys ("c");
  g_free (wait_for (5, "Copied to the clipboard"));
  keys ("Escape");
  g_free (wait_for (5, "Recent jobs"));
}

static void
test_resize (void)
{
  g_autofree char *big = NULL;
  g_autofree char *small = NULL;
  g_autofree char *tiny = NULL;
  g_autofree char *back = NULL;
  g_auto(GStrv) lines = NULL;

  g_free (tmux ("resize-window", "-t", "tui", "-x", "100", "-y", "30"));
  big = wait_for (5, "Total 4", "Recent jobs");
  /* The header's right end moved to the new edge. */
  lines = g_strsplit (big, "\n", -1);
  for (int i = 0; i < 30 && g_utf8_strlen (lines[0], -1) < 95; i++)
    {
      g_usleep (100 * 1000);
      g_strfreev (lines);
      g_free (big);
      big = capture ();
      lines = g_strsplit (big, "\n", -1);
    }
  g_assert_cmpint (g_utf8_strlen (lines[0], -1), >=, 95);
  assert_fits (big, 100, 30);

  g_free (tmux ("resize-window", "-t", "tui", "-x", "70", "-y", "20"));
  g_usleep (500 * 1000);
  small = wait_for (5, "Total 4");
  assert_fits (small, 70, 20);
  {
    g_auto(GStrv) rows = g_strsplit (small, "\n", -1);

    /* No leftovers of the wider frame: the help bar is the last row. */
    g_assert_true (g_str_has_prefix (rows[19], " Q Quit"));
    g_assert_true (g_str_has_prefix (rows[0], " Distributed Task Observatory"));
  }

  g_free (tmux ("resize-window", "-t", "tui", "-x", "40", "-y", "10"));
  tiny = wait_for (5, "Terminal too small: 40x10");

  g_free (tmux ("resize-window", "-t", "tui", "-x", "80", "-y", "24"));
  back = wait_for (5, "Total 4", "Recent jobs");
  assert_fits (back, 80, 24);
}

static void
test_quit (void)
{
  assert_quits_cleanly (TRUE);
  kill_session ();
}

static gboolean
port_free (guint16 port)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);

  return g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                        G_SOCKET_PROTOCOL_TCP, NULL, NULL, NULL);
}

/* A port base (19000..19320, the range for private servers) whose ports are all free. */
static int
free_port_base (void)
{
  const int offsets[] = { 432, 379, 672, 673, 300, 80, 100, 101 };

  for (int base = 19000 + g_random_int_range (0, 33) * 10, n = 0; n < 33; n++, base += 10)
    {
      gboolean all = TRUE;

      if (base > 19320)
        base = 19000;
      for (guint i = 0; i < G_N_ELEMENTS (offsets) && all; i++)
        all = port_free ((guint16) (base + offsets[i]));
      if (all)
        return base;
    }
  return 0;
}

static int launched_base;
static GSubprocess *reaper;

static void
own_session (gpointer data)
{
  setsid ();
}

/* The integration fixture's reaper stops the stack that L started if this program dies
 * before it could (a failed assertion aborts). */
static void
start_reaper (int base)
{
#ifdef ODD_TUI_REAPER
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                               G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autofree char *base_text = g_strdup_printf ("%d", base);
  const char *argv[] = { ODD_TUI_REAPER, state_dir, base_text, NULL };

  if (!g_file_test (ODD_TUI_REAPER, G_FILE_TEST_IS_EXECUTABLE))
    return;
  g_subprocess_launcher_set_child_setup (launcher, own_session, NULL, NULL);
  reaper = g_subprocess_launcher_spawnv (launcher, argv, NULL);
#endif
}

/* No stack: L starts the local stack with live progress, a key opens its dashboard, ^Q stops
 * it again. */
static void
test_launch_and_stop (void)
{
  g_autofree char *env = NULL;
  g_autofree char *screen = NULL;
  g_autofree char *stack_json = g_build_filename (state_dir, "stack.json", NULL);

  launched_base = free_port_base ();
  if (launched_base == 0)
    {
      g_test_skip ("no free port base in 19000..19320");
      return;
    }
  start_reaper (launched_base);
  env = g_strdup_printf ("TERM=xterm-256color ODD_PORT_BASE=%d", launched_base);
  start_dashboard (80, 24, env);
  g_free (wait_for (10, "L  start the local stack"));
  keys ("l");
  g_free (wait_for (10, "Local stack setup", "Starting the local stack"));
  screen = wait_for (180, "Done in", "Any key: open the dashboard");
  g_assert_nonnull (strstr (screen, "ok   gateway"));
  g_assert_true (g_file_test (stack_json, G_FILE_TEST_EXISTS));

  keys ("x");
  g_free (screen);
  screen = wait_for (15, "Total 0", "● live");
  keys ("C-q");
  g_free (screen);
  screen = wait_for (120, "Stopping the local stack", "Done in", "Any key: exit");
  keys ("x");
  g_free (wait_for (5, "EXIT=0"));
  kill_session ();
}

/* Whatever a failed test left running is stopped. */
static void
stop_launched_stack (void)
{
  g_autoptr(OddStackPaths) paths = NULL;
  g_autoptr(OddLocalStack) local = NULL;

  if (launched_base == 0)
    return;
  paths = odd_stack_paths_load (state_dir, NULL);
  if (paths == NULL)
    return;
  local = odd_local_stack_new (paths);
  odd_local_stack_down (local, NULL, NULL, NULL, NULL);
  if (reaper != NULL)
    {
      GOutputStream *in = g_subprocess_get_stdin_pipe (reaper);

      g_output_stream_write_all (in, "done\n", 5, NULL, NULL, NULL);
      g_output_stream_close (in, NULL, NULL);
      g_subprocess_wait (reaper, NULL, NULL);
      g_clear_object (&reaper);
    }
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;
  int rc;

  g_test_init (&argc, &argv, NULL);

  /* argv[1]: the odd-dashboard binary (meson passes it), else $ODD_DASHBOARD. */
  dashboard = g_strdup (argc > 1 ? argv[1] : g_getenv ("ODD_DASHBOARD"));
  tmux_path = g_find_program_in_path ("tmux");
  if (tmux_path == NULL)
    {
      /* ./setup.sh test installs tmux and lists it here: then a skip would hide a gap. */
      g_autofree char *required = g_strdup_printf (" %s ", g_getenv ("ODD_TEST_REQUIRED_TOOLS") ?: "");

      if (strstr (required, " tmux ") != NULL)
        {
          printf ("Bail out! tmux is not on PATH although it was installed for the tests\n");
          return 1;
        }
    }
  if (dashboard == NULL || tmux_path == NULL)
    {
      /* g_test_skip() outside a test case prints a plan without the reason. */
      printf ("1..0 # SKIP %s\n", tmux_path == NULL ? "tmux is not installed: apt-get install tmux"
                                                    : "no odd-dashboard given (argument or $ODD_DASHBOARD)");
      return 0;
    }

  /* A private tmux server, whatever the caller runs in. */
  g_unsetenv ("TMUX");
  tmp = g_dir_make_tmp ("test-tui-pty-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("TMUX_TMPDIR", tmp, TRUE);
  tmux_socket = g_strdup_printf ("odd-tui-%d", (int) getpid ());
  state_dir = g_build_filename (tmp, "state", NULL);
  http = soup_session_new_with_options ("timeout", 10, NULL);
  /* A session that outlives the tests' ones: the server does not exit between them. */
  {
    /* When this program ends, however it ends, the server goes with every dashboard in it. */
    g_autofree char *keep = g_strdup_printf ("tail --pid=%d -f /dev/null; tmux -L %s kill-server",
                                             (int) getpid (), tmux_socket);

    g_free (tmux ("new-session", "-d", "-s", "keep", keep));
  }

  g_test_add_func ("/tui/pty/launcher-without-stack", test_launcher);
  g_test_add_func ("/tui/pty/sigterm-restores-the-terminal", test_sigterm);
  g_test_add_func ("/tui/pty/closing-the-terminal", test_terminal_closed);
  g_test_add_func ("/tui/pty/doctor-and-prerequisite-setup", test_prereq);

  stack = odd_test_stack_start (&error);
  if (stack == NULL)
    g_error ("the local stack did not start: %s", error->message);

  g_test_add_func ("/tui/pty/dashboard-numbers", test_dashboard_numbers);
  g_test_add_func ("/tui/pty/new-job", test_new_job);
  g_test_add_func ("/tui/pty/detail-and-retry", test_detail_and_retry);
  g_test_add_func ("/tui/pty/ui-launcher", test_uis);
  g_test_add_func ("/tui/pty/resize", test_resize);
  g_test_add_func ("/tui/pty/quit", test_quit);
  g_test_add_func ("/tui/pty/launch-and-stop-the-local-stack", test_launch_and_stop);

  rc = g_test_run ();
  stop_launched_stack ();

  {
    const char *argv_kill[] = { tmux_path, "-L", tmux_socket, "kill-server", NULL };
    const char *argv_rm[] = { "/bin/rm", "-rf", tmp, NULL };

    g_spawn_sync (NULL, (char **) argv_kill, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
                  NULL, NULL, NULL);
    g_spawn_sync (NULL, (char **) argv_rm, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, NULL,
                  NULL);
  }
  odd_test_stack_stop (stack);
  g_clear_object (&http);
  g_free (failed_id);
  return rc;
}
