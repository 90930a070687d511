#define G_LOG_DOMAIN "odd-control"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "odd-control-error.h"
#include "odd-process.h"

gboolean
odd_process_is_alive (GPid        pid,
                      const char *comm)
{
  g_autofree char *stat_path = NULL;
  g_autofree char *stat = NULL;
  const char *close_paren;

  if (pid <= 0)
    return FALSE;

  if (kill (pid, 0) != 0 && errno != EPERM)
    return FALSE;

  /* /proc/<pid>/stat is "pid (comm) state ...": a zombie has exited already; it only waits
   * for its parent (or a slow init) to reap it. */
  stat_path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  if (!g_file_get_contents (stat_path, &stat, NULL, NULL))
    return FALSE;

  close_paren = strrchr (stat, ')');
  if (close_paren == NULL || close_paren[1] != ' ')
    return FALSE;
  if (close_paren[2] == 'Z' || close_paren[2] == 'X')
    return FALSE;

  if (comm != NULL)
    {
      const char *open_paren = strchr (stat, '(');
      g_autofree char *name = NULL;

      if (open_paren == NULL || open_paren > close_paren)
        return FALSE;
      name = g_strndup (open_paren + 1, close_paren - open_paren - 1);
      if (*name == '\0' || !g_str_has_prefix (comm, name))
        return FALSE;
    }

  return TRUE;
}

GPid
odd_process_read_pid_file (const char *path)
{
  g_autofree char *text = NULL;
  gint64 pid;
  char *end = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;

  g_strstrip (text);
  pid = g_ascii_strtoll (text, &end, 10);
  if (end == text || pid <= 0 || pid > G_MAXINT)
    return 0;
  /* postmaster.pid has more lines after the pid; anything else must end here. */
  if (*end != '\0' && *end != '\n')
    return 0;

  return (GPid) pid;
}

gboolean
odd_process_write_pid_file (const char  *path,
                            GPid         pid,
                            GError     **error)
{
  g_autofree char *text = g_strdup_printf ("%d\n", (int) pid);

  return g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

int
odd_process_open_log (const char  *path,
                      GError     **error)
{
  int fd = g_open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot open log file %s: %s", path, g_strerror (saved_errno));
    }

  return fd;
}

static void
child_setup (gpointer user_data)
{
  /* A session of its own: no SIGHUP when the terminal of oddctl closes, and no SIGINT from
   * a Ctrl+C meant for oddctl. */
  setsid ();
}

GSubprocess *
odd_process_spawn (const char * const  *argv,
                   const char * const  *envp,
                   const char          *cwd,
                   const char          *log_file,
                   GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  int out_fd;
  int err_fd;

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);
  g_return_val_if_fail (log_file != NULL, NULL);

  out_fd = odd_process_open_log (log_file, error);
  if (out_fd < 0)
    return NULL;
  err_fd = dup (out_fd);
  if (err_fd < 0)
    {
      int saved_errno = errno;

      close (out_fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "dup: %s", g_strerror (saved_errno));
      return NULL;
    }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  if (envp != NULL)
    g_subprocess_launcher_set_environ (launcher, (char **) envp);
  if (cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, cwd);
  g_subprocess_launcher_take_stdout_fd (launcher, out_fd);
  g_subprocess_launcher_take_stderr_fd (launcher, err_fd);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);

  return g_subprocess_launcher_spawnv (launcher, argv, error);
}

char *
odd_process_argv_to_string (const char * const *argv)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; argv[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append_c (s, ' ');
      if (argv[i][0] == '\0' || strpbrk (argv[i], " \t\"'\\$") != NULL)
        {
          g_autofree char *quoted = g_shell_quote (argv[i]);

          g_string_append (s, quoted);
        }
      else
        g_string_append (s, argv[i]);
    }

  return g_string_free (s, FALSE);
}

typedef struct
{
  GMainLoop *loop;
  gboolean   done;
} RunWait;

static void
run_wait_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  RunWait *wait = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  wait->done = TRUE;
  g_main_loop_quit (wait->loop);
}

static gboolean
run_wait_quit (gpointer user_data)
{
  RunWait *wait = user_data;

  g_main_loop_quit (wait->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
run_wait_cancelled (GCancellable *cancellable,
                    gpointer      user_data)
{
  return run_wait_quit (user_data);
}

gboolean
odd_process_run (const char * const  *argv,
                 const char * const  *envp,
                 const char          *cwd,
                 const char          *log_file,
                 guint                timeout_ms,
                 GCancellable        *cancellable,
                 GError             **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GSource) timeout = NULL;
  g_autoptr(GSource) cancel_source = NULL;
  g_autofree char *command = odd_process_argv_to_string (argv);
  RunWait wait = { 0 };

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* A private context: this runs on worker threads and must not dispatch anything of the
   * caller's. GSubprocess completes the wait on the thread-default context of the call. */
  g_main_context_push_thread_default (context);

  subprocess = odd_process_spawn (argv, envp, cwd, log_file, error);
  if (subprocess == NULL)
    {
      g_main_context_pop_thread_default (context);
      return FALSE;
    }

  loop = g_main_loop_new (context, FALSE);
  wait.loop = loop;
  timeout = g_timeout_source_new (timeout_ms);
  g_source_set_callback (timeout, run_wait_quit, &wait, NULL);
  g_source_attach (timeout, context);
  if (cancellable != NULL)
    {
      cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (cancel_source, G_SOURCE_FUNC (run_wait_cancelled), &wait, NULL);
      g_source_attach (cancel_source, context);
    }
  /* No cancellable on the wait itself: it must complete, so that nothing refers to this
   * stack frame once the function returns. */
  g_subprocess_wait_async (subprocess, NULL, run_wait_done, &wait);
  g_main_loop_run (loop);
  g_source_destroy (timeout);
  if (cancel_source != NULL)
    g_source_destroy (cancel_source);

  if (!wait.done)
    {
      /* Timed out or cancelled: do not leave it behind. SIGTERM first, so that it can clean
       * up (initdb removes its half-made cluster; runuser passes the signal on), then
       * SIGKILL after a grace period. */
      g_autoptr(GSource) grace = g_timeout_source_new (5000);

      g_subprocess_send_signal (subprocess, SIGTERM);
      g_source_set_callback (grace, run_wait_quit, &wait, NULL);
      g_source_attach (grace, context);
      g_main_loop_run (loop);
      g_source_destroy (grace);
      if (!wait.done)
        g_subprocess_force_exit (subprocess);
      while (!wait.done)
        g_main_context_iteration (context, TRUE);
      g_main_context_pop_thread_default (context);

      if (!g_cancellable_set_error_if_cancelled (cancellable, error))
        g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_TIMEOUT,
                     "`%s` did not finish within %u s", command, timeout_ms / 1000);
      return FALSE;
    }
  g_main_context_pop_thread_default (context);

  if (g_subprocess_get_if_exited (subprocess) && g_subprocess_get_exit_status (subprocess) == 0)
    return TRUE;

  {
    g_autofree char *tail = odd_process_log_tail (log_file, 15);

    if (g_subprocess_get_if_exited (subprocess))
      g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_FAILED,
                   "`%s` failed with exit status %d; end of %s:\n%s",
                   command, g_subprocess_get_exit_status (subprocess), log_file, tail);
    else
      g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_FAILED,
                   "`%s` was killed by signal %d; end of %s:\n%s",
                   command, g_subprocess_get_term_sig (subprocess), log_file, tail);
  }

  return FALSE;
}

gboolean
odd_process_wait_gone (GPid        pid,
                       const char *comm,
                       guint       timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (odd_process_is_alive (pid, comm))
    {
      if (g_get_monotonic_time () >= deadline)
        return FALSE;
      g_usleep (50 * 1000);
    }

  return TRUE;
}

gboolean
odd_process_terminate (GPid         pid,
                       const char  *comm,
                       guint        timeout_ms,
                       GError     **error)
{
  if (!odd_process_is_alive (pid, comm))
    return TRUE;

  if (kill (pid, SIGTERM) != 0 && errno != ESRCH)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot stop process %d: %s", (int) pid, g_strerror (saved_errno));
      return FALSE;
    }

  if (odd_process_wait_gone (pid, comm, timeout_ms))
    return TRUE;

  g_debug ("process %d ignored SIGTERM for %u ms, killing it", (int) pid, timeout_ms);
  kill (pid, SIGKILL);
  if (odd_process_wait_gone (pid, comm, 2000))
    return TRUE;

  g_set_error (error, ODD_CONTROL_ERROR, ODD_CONTROL_ERROR_FAILED,
               "Process %d did not exit after SIGKILL", (int) pid);
  return FALSE;
}

char *
odd_process_log_tail (const char *path,
                      guint       lines)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  gsize start;
  guint seen = 0;

  if (!g_file_get_contents (path, &text, &len, NULL) || len == 0)
    return g_strdup ("");

  /* Ignore a trailing newline, then walk back @lines line breaks. */
  start = len;
  if (text[start - 1] == '\n')
    start--;
  while (start > 0)
    {
      if (text[start - 1] == '\n' && ++seen == lines)
        break;
      start--;
    }

  return g_strdup (text + start);
}

gboolean
odd_process_sleep (guint          ms,
                   GCancellable  *cancellable,
                   GError       **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      gint64 left;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      left = deadline - g_get_monotonic_time ();
      g_usleep (MIN (left, 50 * 1000));
    }

  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}
