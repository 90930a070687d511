/* bench-web-terminal.c: odd-web-terminal with many sessions at once
 *
 *   bench-web-terminal ODD_WEB_TERMINAL [--sessions N] [--keys K] [--interval-ms MS] [--command CMD]
 *
 * Starts the server (ODD_WEB_TERMINAL_COMMAND=CMD, default cat), opens N sessions over real
 * WebSockets, then types K keys into every session, one key every MS ms round-robin over the
 * sessions (open loop: a session has one key in flight at a time). Keystroke-to-echo is from
 * sending the input frame to the first output frame of that session after it (the PTY's echo).
 * Prints the latency percentiles and the server's RSS (VmRSS, VmHWM: the server process only,
 * not the programs in its PTYs) with all sessions open. */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  SoupWebsocketConnection *conn;
  gboolean                 attached;
  gint64                   sent_at;   /* 0 when no key is in flight */
} Session;

static GArray *latencies;   /* double, ms */
static guint   n_attached;
static guint   n_failed;

static void
on_message (SoupWebsocketConnection *conn,
            SoupWebsocketDataType    type,
            GBytes                  *message,
            gpointer                 user_data)
{
  Session *session = user_data;
  gsize len = 0;
  const char *text = g_bytes_get_data (message, &len);

  if (g_strstr_len (text, len, "\"type\":\"session\"") != NULL)
    {
      session->attached = TRUE;
      n_attached++;
    }
  else if (g_strstr_len (text, len, "\"type\":\"error\"") != NULL)
    {
      g_printerr ("error frame: %.*s\n", (int) len, text);
      n_failed++;
    }
  else if (session->sent_at != 0 && g_strstr_len (text, len, "\"type\":\"output\"") != NULL)
    {
      double ms = (g_get_monotonic_time () - session->sent_at) / 1000.0;

      g_array_append_val (latencies, ms);
      session->sent_at = 0;
    }
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Session *session = user_data;
  g_autoptr(GError) error = NULL;

  session->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (session->conn == NULL)
    {
      g_printerr ("connect: %s\n", error->message);
      n_failed++;
      return;
    }
  g_signal_connect (session->conn, "message", G_CALLBACK (on_message), session);
  soup_websocket_connection_send_text (session->conn, "{\"type\":\"start\",\"cols\":80,\"rows\":24}");
}

static void
iterate_until (gboolean *flag,
               guint     seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!*flag && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
on_tick (gpointer user_data)
{
  gboolean *tick = user_data;

  *tick = TRUE;
  return G_SOURCE_REMOVE;
}

static void
spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, on_tick, &done);
  iterate_until (&done, 60);
}

static guint64
status_kb (GPid        pid,
           const char *field)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (line = strstr (text, field)) == NULL)
    return 0;
  return g_ascii_strtoull (line + strlen (field) + 1, NULL, 10);
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
percentile (double p)
{
  guint i = (guint) (p / 100.0 * (latencies->len - 1) + 0.5);

  return g_array_index (latencies, double, MIN (i, latencies->len - 1));
}

int
main (int   argc,
      char *argv[])
{
  int sessions = 100;
  int keys = 20;
  int interval_ms = 5;
  g_autofree char *command = NULL;
  GOptionEntry entries[] = {
    { "sessions", 0, 0, G_OPTION_ARG_INT, &sessions, "sessions at once", "N" },
    { "keys", 0, 0, G_OPTION_ARG_INT, &keys, "keys per session", "K" },
    { "interval-ms", 0, 0, G_OPTION_ARG_INT, &interval_ms, "ms between two keys (any session)", "MS" },
    { "command", 0, 0, G_OPTION_ARG_STRING, &command, "program in each PTY (default cat)", "CMD" },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("ODD_WEB_TERMINAL");
  g_autoptr(GError) error = NULL;
  /* The server's log (a line per session) would drown the figures. */
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(GSocketListener) probe = g_socket_listener_new ();
  g_autoptr(SoupSession) http = NULL;
  g_autofree char *port = NULL;
  g_autofree char *caps = NULL;
  Session *all;
  GPid pid;
  guint64 rss_kb, hwm_kb;
  guint total_keys;
  gboolean complete;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || argc != 2 || sessions < 1 || keys < 1)
    {
      g_printerr ("%s\n", error != NULL ? error->message : "usage: bench-web-terminal ODD_WEB_TERMINAL [options]");
      return 2;
    }

  port = g_strdup_printf ("%u", g_socket_listener_add_any_inet_port (probe, NULL, NULL));
  g_socket_listener_close (probe);
  caps = g_strdup_printf ("%d", sessions);
  g_subprocess_launcher_setenv (launcher, "PORT", port, TRUE);
  g_subprocess_launcher_setenv (launcher, "ODD_WEB_TERMINAL_COMMAND", command != NULL ? command : "cat", TRUE);
  g_subprocess_launcher_setenv (launcher, "ODD_WT_GLOBAL_CAP", caps, TRUE);
  g_subprocess_launcher_setenv (launcher, "ODD_WT_PER_CLIENT_CAP", caps, TRUE);
  server = g_subprocess_launcher_spawn (launcher, &error, argv[1], NULL);
  if (server == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  pid = (GPid) atoi (g_subprocess_get_identifier (server));
  spin (500);

  http = soup_session_new_with_options ("max-conns", sessions + 10, "max-conns-per-host", sessions + 10, NULL);
  latencies = g_array_new (FALSE, FALSE, sizeof (double));
  all = g_new0 (Session, sessions);
  for (int i = 0; i < sessions; i++)
    {
      g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%s/ws", port);
      g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);

      soup_session_websocket_connect_async (http, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                            on_connected, &all[i]);
    }
  for (gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
       n_attached + n_failed < (guint) sessions && g_get_monotonic_time () < end;)
    g_main_context_iteration (NULL, TRUE);
  if (n_attached < (guint) sessions)
    {
      g_printerr ("only %u of %d sessions started\n", n_attached, sessions);
      g_subprocess_send_signal (server, SIGTERM);
      return 1;
    }
  spin (1000);

  total_keys = (guint) sessions * keys;
  for (guint k = 0; k < total_keys; k++)
    {
      Session *session = &all[k % sessions];
      char frame[64];

      /* One key in flight per session: a late echo is waited for, not overlapped. */
      for (gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
           session->sent_at != 0 && g_get_monotonic_time () < end;)
        g_main_context_iteration (NULL, TRUE);
      g_snprintf (frame, sizeof frame, "{\"type\":\"input\",\"data\":\"%c\"}", 'a' + (int) (k % 26));
      session->sent_at = g_get_monotonic_time ();
      soup_websocket_connection_send_text (session->conn, frame);
      spin (interval_ms);
    }
  spin (1000);
  rss_kb = status_kb (pid, "VmRSS:");
  hwm_kb = status_kb (pid, "VmHWM:");

  g_array_sort (latencies, compare_double);
  printf ("sessions %d, keys %u (echoed %u), one key every %d ms, command %s\n",
          sessions, total_keys, latencies->len, interval_ms, command != NULL ? command : "cat");
  if (latencies->len > 0)
    printf ("keystroke to echo: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
            percentile (50), percentile (90), percentile (99),
            g_array_index (latencies, double, latencies->len - 1));
  printf ("server RSS with %d sessions: %.1f MB (peak %.1f MB)\n", sessions, rss_kb / 1024.0, hwm_kb / 1024.0);

  for (int i = 0; i < sessions; i++)
    if (all[i].conn != NULL)
      {
        g_signal_handlers_disconnect_by_data (all[i].conn, &all[i]);
        g_object_unref (all[i].conn);
      }
  g_free (all);
  {
    gint64 stop_start = g_get_monotonic_time ();

    g_subprocess_send_signal (server, SIGTERM);
    g_subprocess_wait (server, NULL, NULL);
    printf ("SIGTERM to exit with %d sessions: %.0f ms (status %d)\n", sessions,
            (g_get_monotonic_time () - stop_start) / 1000.0, g_subprocess_get_exit_status (server));
  }
  complete = latencies->len == total_keys;
  g_array_unref (latencies);
  return complete ? 0 : 1;
}
