#define G_LOG_DOMAIN "odd-cluster"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "odd-cluster-private.h"

/* ------------------------------------------------------------------------------------ */
/* Progress: straight to the callback, or queued to the caller's context */

void
odd_cluster_op_report (OddClusterOp      *op,
                       OddProgressStatus  status,
                       const char        *format,
                       ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  odd_progress_emit (op->func, op->data, op->context, op->step, status, message, op->fraction);
}

/* ------------------------------------------------------------------------------------ */
/* Children */

void
odd_cluster_result_clear (OddClusterResult *result)
{
  g_clear_pointer (&result->output, g_free);
  g_clear_pointer (&result->tail, g_free);
}

#define OUTPUT_CAP (8 * 1024 * 1024)
#define TAIL_LINES 15

typedef struct
{
  OddClusterOp     *op;
  GMainLoop        *loop;
  GDataInputStream *lines;
  GCancellable     *read_cancellable;
  gboolean          stream;
  GPid              pgid;
  GString          *output;
  GQueue            tail;
  gboolean          eof;
  gboolean          exited;
  gboolean          killed;
  gboolean          timed_out;
  gboolean          cancelled;
  GSource          *kill_source;
  GSource          *drain_source;
} Child;

static void
child_setup (gpointer user_data)
{
  /* Its own process group: a tool that is a script (or that starts helpers) is stopped
   * with everything it started. */
  setpgid (0, 0);
}

static void
child_quit_if_done (Child *child)
{
  if (child->eof && child->exited)
    g_main_loop_quit (child->loop);
}

static gboolean
on_kill_hard (gpointer user_data)
{
  Child *child = user_data;

  if (!child->exited && child->pgid > 0)
    kill (-child->pgid, SIGKILL);
  return G_SOURCE_REMOVE;
}

static void
child_kill (Child *child)
{
  if (child->killed)
    return;
  child->killed = TRUE;
  /* pgid 0 would be our own group. */
  if (!child->exited && child->pgid > 0)
    kill (-child->pgid, SIGTERM);
  child->kill_source = g_timeout_source_new (2000);
  g_source_set_callback (child->kill_source, on_kill_hard, child, NULL);
  g_source_attach (child->kill_source, g_main_loop_get_context (child->loop));
}

static gboolean
on_timeout (gpointer user_data)
{
  Child *child = user_data;

  child->timed_out = TRUE;
  child_kill (child);
  return G_SOURCE_REMOVE;
}

static gboolean
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  Child *child = user_data;

  child->cancelled = TRUE;
  child_kill (child);
  return G_SOURCE_REMOVE;
}

/* A helper it left behind may hold the pipe open after the tool exited: stop reading. */
static gboolean
on_drain_timeout (gpointer user_data)
{
  Child *child = user_data;

  g_cancellable_cancel (child->read_cancellable);
  return G_SOURCE_REMOVE;
}

static void on_line (GObject *source, GAsyncResult *result, gpointer user_data);

static void
read_next_line (Child *child)
{
  g_data_input_stream_read_line_async (child->lines, G_PRIORITY_DEFAULT,
                                       child->read_cancellable, on_line, child);
}

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Child *child = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  gsize length = 0;

  line = g_data_input_stream_read_line_finish (child->lines, result, &length, &error);
  if (line == NULL)
    {
      child->eof = TRUE;
      child_quit_if_done (child);
      return;
    }

  /* Tools that redraw a line (docker's progress) end it with \r. */
  g_strchomp (line);
  if (child->output->len < OUTPUT_CAP)
    {
      g_string_append (child->output, line);
      g_string_append_c (child->output, '\n');
    }
  if (*line != '\0')
    {
      g_queue_push_tail (&child->tail, g_strdup (line));
      if (g_queue_get_length (&child->tail) > TAIL_LINES)
        g_free (g_queue_pop_head (&child->tail));
      if (child->stream)
        odd_cluster_op_report (child->op, ODD_PROGRESS_RUNNING, "%s", line);
    }

  read_next_line (child);
}

static void
on_exited (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Child *child = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  child->exited = TRUE;
  if (!child->eof)
    {
      child->drain_source = g_timeout_source_new (2000);
      g_source_set_callback (child->drain_source, on_drain_timeout, child, NULL);
      g_source_attach (child->drain_source, g_main_loop_get_context (child->loop));
    }
  child_quit_if_done (child);
}

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

gboolean
odd_cluster_run (OddClusterOp       *op,
                 const char * const *argv,
                 guint               timeout_s,
                 gboolean            stream,
                 OddClusterResult   *result,
                 GError            **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GSource) timeout_source = NULL;
  g_autoptr(GSource) cancel_source = NULL;
  g_autofree char *command = NULL;
  Child child = { 0 };
  GString *tail;

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, FALSE);

  memset (result, 0, sizeof *result);
  if (g_cancellable_set_error_if_cancelled (op->cancellable, error))
    return FALSE;

  g_main_context_push_thread_default (context);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  subprocess = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (subprocess == NULL)
    {
      g_main_context_pop_thread_default (context);
      return FALSE;
    }

  child.op = op;
  child.loop = g_main_loop_new (context, FALSE);
  child.stream = stream;
  /* NULL when it exited (and was reaped) already: there is nothing left to kill then. */
  if (g_subprocess_get_identifier (subprocess) != NULL)
    child.pgid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (subprocess), NULL, 10);
  child.output = g_string_new (NULL);
  child.read_cancellable = g_cancellable_new ();
  g_queue_init (&child.tail);
  child.lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (subprocess));
  g_data_input_stream_set_newline_type (child.lines, G_DATA_STREAM_NEWLINE_TYPE_ANY);

  read_next_line (&child);
  g_subprocess_wait_async (subprocess, NULL, on_exited, &child);
  if (timeout_s > 0)
    {
      timeout_source = g_timeout_source_new_seconds (timeout_s);
      g_source_set_callback (timeout_source, on_timeout, &child, NULL);
      g_source_attach (timeout_source, context);
    }
  if (op->cancellable != NULL)
    {
      cancel_source = g_cancellable_source_new (op->cancellable);
      g_source_set_callback (cancel_source, G_SOURCE_FUNC (on_cancelled), &child, NULL);
      g_source_attach (cancel_source, context);
    }

  g_main_loop_run (child.loop);

  if (timeout_source != NULL)
    g_source_destroy (timeout_source);
  if (cancel_source != NULL)
    g_source_destroy (cancel_source);
  destroy_source (&child.kill_source);
  destroy_source (&child.drain_source);
  /* The loop ends only at EOF and exit, so no read or wait is pending any more. */
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);

  tail = g_string_new (NULL);
  for (GList *l = child.tail.head; l != NULL; l = l->next)
    g_string_append_printf (tail, "%s%s", tail->len > 0 ? "\n" : "", (char *) l->data);
  g_queue_clear_full (&child.tail, g_free);

  result->timed_out = child.timed_out;
  result->exit_status = g_subprocess_get_if_exited (subprocess)
                        ? g_subprocess_get_exit_status (subprocess) : 128 + g_subprocess_get_term_sig (subprocess);
  result->output = g_string_free (child.output, FALSE);
  result->tail = g_string_free (tail, FALSE);

  g_clear_object (&child.lines);
  g_clear_object (&child.read_cancellable);
  g_clear_pointer (&child.loop, g_main_loop_unref);

  if (child.cancelled)
    {
      command = g_strjoinv (" ", (char **) argv);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled; stopped “%s”", command);
      return FALSE;
    }

  return TRUE;
}
