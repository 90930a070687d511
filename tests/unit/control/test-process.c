#define G_LOG_DOMAIN "odd-test"

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "odd-control-error.h"
#include "odd-process.h"
#include "odd-probe.h"

static char *
make_tmp (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("odd-process-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir, name, NULL);

      g_unlink (child);
    }
  g_rmdir (dir);
}

static void
test_pid_file (void)
{
  g_autofree char *dir = make_tmp ();
  g_autofree char *file = g_build_filename (dir, "x.pid", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (odd_process_read_pid_file (file), ==, 0);
  g_assert_true (odd_process_write_pid_file (file, 4242, &error));
  g_assert_no_error (error);
  g_assert_cmpint (odd_process_read_pid_file (file), ==, 4242);

  /* postmaster.pid: the pid, then more lines. */
  g_assert_true (g_file_set_contents (file, "77\n/data\n1700000000\n", -1, NULL));
  g_assert_cmpint (odd_process_read_pid_file (file), ==, 77);

  g_assert_true (g_file_set_contents (file, "garbage", -1, NULL));
  g_assert_cmpint (odd_process_read_pid_file (file), ==, 0);
  g_assert_true (g_file_set_contents (file, "12abc", -1, NULL));
  g_assert_cmpint (odd_process_read_pid_file (file), ==, 0);
  g_assert_true (g_file_set_contents (file, "-3", -1, NULL));
  g_assert_cmpint (odd_process_read_pid_file (file), ==, 0);

  remove_dir (dir);
}

static void
test_is_alive (void)
{
  g_autofree char *comm = NULL;
  g_autofree char *path = g_strdup_printf ("/proc/%d/comm", (int) getpid ());

  g_assert_true (g_file_get_contents (path, &comm, NULL, NULL));
  g_strstrip (comm);

  g_assert_true (odd_process_is_alive (getpid (), NULL));
  g_assert_true (odd_process_is_alive (getpid (), comm));
  /* A reused pid running another program does not count. */
  g_assert_false (odd_process_is_alive (getpid (), "redis-server"));
  g_assert_false (odd_process_is_alive (0, NULL));
  g_assert_false (odd_process_is_alive (-1, NULL));
}

/* The program that wrote @pid_file is gone. On a busy machine the timeout may have ended
 * it before it wrote the file: gone as well. */
static void
assert_gone (const char *pid_file)
{
  GPid pid = odd_process_read_pid_file (pid_file);

  if (pid == 0)
    g_test_message ("%s: ended before it wrote its pid", pid_file);
  g_assert_false (odd_process_is_alive (pid, NULL));
}

static void
test_run_and_log (void)
{
  g_autofree char *dir = make_tmp ();
  g_autofree char *log = g_build_filename (dir, "x.log", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *tail = NULL;
  const char *echo[] = { "/bin/sh", "-c", "echo one; echo two; echo three >&2", NULL };
  const char *fail[] = { "/bin/sh", "-c", "echo broken; exit 3", NULL };
  g_autofree char *slow_pid = g_build_filename (dir, "slow.pid", NULL);
  g_autofree char *stubborn_pid = g_build_filename (dir, "stubborn.pid", NULL);
  /* They would run for an hour: only the timeout ends them (or meson's, should it not). */
  const char *slow[] = { "/bin/sh", "-c", "echo $$ > \"$0\"; exec /bin/sleep 3600", slow_pid, NULL };
  const char *missing[] = { "/nonexistent/program", NULL };
  const char *stubborn[] = { "/bin/sh", "-c", "echo $$ > \"$0\"; trap '' TERM; while :; do sleep 0.1; done",
                             stubborn_pid, NULL };

  g_assert_true (odd_process_run (echo, NULL, dir, log, 10000, NULL, &error));
  g_assert_no_error (error);
  tail = odd_process_log_tail (log, 2);
  g_assert_cmpstr (tail, ==, "two\nthree\n");
  g_clear_pointer (&tail, g_free);
  tail = odd_process_log_tail (log, 10);
  g_assert_cmpstr (tail, ==, "one\ntwo\nthree\n");
  g_clear_pointer (&tail, g_free);

  /* A failure names the command and quotes the log. */
  g_assert_false (odd_process_run (fail, NULL, dir, log, 10000, NULL, &error));
  g_assert_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "exit status 3"));
  g_assert_nonnull (strstr (error->message, "broken"));
  g_clear_error (&error);

  /* A timeout ends the program. */
  g_assert_false (odd_process_run (slow, NULL, dir, log, 300, NULL, &error));
  g_assert_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_TIMEOUT);
  assert_gone (slow_pid);
  g_clear_error (&error);

  /* One that ignores SIGTERM is killed after the grace period. */
  g_assert_false (odd_process_run (stubborn, NULL, dir, log, 200, NULL, &error));
  g_assert_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_TIMEOUT);
  assert_gone (stubborn_pid);
  g_clear_error (&error);

  g_assert_false (odd_process_run (missing, NULL, dir, log, 1000, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  tail = odd_process_log_tail ("/nonexistent/log", 5);
  g_assert_cmpstr (tail, ==, "");

  remove_dir (dir);
}

static gboolean
cancel_later (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

typedef struct {
  GCancellable *cancellable;
  const char   *pid_file;
} CancelWhenRunning;

/* Cancels once the program runs (it wrote its pid file). */
static gpointer
cancel_thread (gpointer user_data)
{
  CancelWhenRunning *c = user_data;

  while (odd_process_read_pid_file (c->pid_file) == 0)
    g_usleep (10 * 1000);
  cancel_later (c->cancellable);
  return NULL;
}

static void
test_run_cancel (void)
{
  g_autofree char *dir = make_tmp ();
  g_autofree char *log = g_build_filename (dir, "x.log", NULL);
  g_autofree char *pid_file = g_build_filename (dir, "slow.pid", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  /* An hour, and a timeout of an hour: only the cancellation ends it. */
  const char *slow[] = { "/bin/sh", "-c", "echo $$ > \"$0\"; exec /bin/sleep 3600", pid_file, NULL };
  CancelWhenRunning cancel = { cancellable, pid_file };
  GThread *thread;

  thread = g_thread_new ("cancel", cancel_thread, &cancel);
  g_assert_false (odd_process_run (slow, NULL, dir, log, 3600 * 1000, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_gone (pid_file);
  g_thread_join (thread);

  remove_dir (dir);
}

static void
test_spawn_terminate (void)
{
  g_autofree char *dir = make_tmp ();
  g_autofree char *log = g_build_filename (dir, "x.log", NULL);
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  /* Ignores SIGTERM: terminate must fall back to SIGKILL. */
  const char *stubborn[] = { "/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.1; done", NULL };
  GPid pid;

  child = odd_process_spawn (stubborn, NULL, dir, log, &error);
  g_assert_no_error (error);
  pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (child), NULL, 10);
  g_assert_true (odd_process_is_alive (pid, "sh"));
  /* Its own session: a Ctrl+C at our terminal does not reach it. */
  g_assert_cmpint (getsid (pid), ==, pid);

  g_assert_true (odd_process_terminate (pid, "sh", 300, &error));
  g_assert_no_error (error);
  g_assert_false (odd_process_is_alive (pid, "sh"));

  remove_dir (dir);
}

static void
test_probe_closed_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 port;

  /* Listen, learn the port, close: nothing answers there afterwards. */
  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (odd_probe_tcp (port, NULL));
  g_socket_listener_close (listener);
  g_assert_false (odd_probe_tcp (port, NULL));
  g_assert_cmpuint (odd_probe_http_status (port, "/readyz", NULL), ==, 0);
}

/* A one-connection PostgreSQL stand-in: it checks the StartupMessage and answers @answer. */
typedef struct {
  GSocketListener *listener;
  const guint8    *answer;
  gsize            answer_len;
  gboolean         startup_ok;
} FakePostgres;

static gpointer
fake_postgres_serve (gpointer data)
{
  FakePostgres *fake = data;
  g_autoptr(GSocketConnection) connection = g_socket_listener_accept (fake->listener, NULL, NULL, NULL);
  guint8 message[256];
  gsize got = 0;
  guint32 length;

  g_assert_nonnull (connection);
  g_assert_true (g_input_stream_read_all (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                                          message, 8, &got, NULL, NULL));
  memcpy (&length, message, 4);
  length = GUINT32_FROM_BE (length);
  g_assert_cmpuint (length, >, 8);
  g_assert_cmpuint (length, <=, sizeof message);
  g_assert_true (g_input_stream_read_all (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                                          message + 8, length - 8, &got, NULL, NULL));
  /* Protocol 3.0, user postgres, and the closing NUL. */
  fake->startup_ok = message[4] == 0 && message[5] == 3 && message[6] == 0 && message[7] == 0 &&
                     memcmp (message + 8, "user\0postgres\0", 14) == 0 && message[length - 1] == 0;
  if (fake->answer_len > 0)
    g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)), fake->answer,
                               fake->answer_len, NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return NULL;
}

static gboolean
probe_fake_postgres (const guint8 *answer,
                     gsize         answer_len)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  FakePostgres fake = { listener, answer, answer_len, FALSE };
  GThread *thread;
  guint16 port;
  gboolean ready;

  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  thread = g_thread_new ("fake-postgres", fake_postgres_serve, &fake);
  ready = odd_probe_postgres (port, NULL);
  g_thread_join (thread);
  g_assert_true (fake.startup_ok);
  return ready;
}

static void
test_probe_postgres (void)
{
  /* AuthenticationOk, and a request for a password: both take connections. */
  static const guint8 auth_ok[] = { 'R', 0, 0, 0, 8, 0, 0, 0, 0 };
  static const guint8 auth_md5[] = { 'R', 0, 0, 0, 12, 0, 0, 0, 5, 1, 2, 3, 4 };
  /* ErrorResponse: S FATAL, C 57P03 (starting up), M text. */
  static const guint8 starting[] = { 'E', 0, 0, 0, 45, 'S', 'F', 'A', 'T', 'A', 'L', 0, 'C', '5', '7', 'P', '0', '3', 0,
                                     'M', 't', 'h', 'e', ' ', 'd', 'a', 't', 'a', 'b', 'a', 's', 'e', ' ', 'i', 's', ' ',
                                     's', 't', 'a', 'r', 't', 'i', 'n', 'g', 0, 0 };
  /* Another error (no such role): the server itself is up, as pg_isready says. */
  static const guint8 no_role[] = { 'E', 0, 0, 0, 22, 'S', 'F', 'A', 'T', 'A', 'L', 0, 'C', '2', '8', '0', '0', '0', 0,
                                    'M', 'x', 0, 0 };
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 port;

  g_assert_true (probe_fake_postgres (auth_ok, sizeof auth_ok));
  g_assert_true (probe_fake_postgres (auth_md5, sizeof auth_md5));
  g_assert_false (probe_fake_postgres (starting, sizeof starting));
  g_assert_true (probe_fake_postgres (no_role, sizeof no_role));
  /* Something that closes without a word is no PostgreSQL ready for connections. */
  g_assert_false (probe_fake_postgres (NULL, 0));
  /* Nothing listening. */
  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);
  g_assert_false (odd_probe_postgres (port, NULL));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/control/process/pid-file", test_pid_file);
  g_test_add_func ("/control/process/is-alive", test_is_alive);
  g_test_add_func ("/control/process/run-and-log", test_run_and_log);
  g_test_add_func ("/control/process/run-cancel", test_run_cancel);
  g_test_add_func ("/control/process/spawn-terminate", test_spawn_terminate);
  g_test_add_func ("/control/process/probe-closed-port", test_probe_closed_port);
  g_test_add_func ("/control/process/probe-postgres", test_probe_postgres);

  return g_test_run ();
}
