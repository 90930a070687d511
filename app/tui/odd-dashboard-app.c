#define G_LOG_DOMAIN "odd-dashboard"

#include <errno.h>
#include <signal.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>

#include "odd-dashboard.h"

static void
ui_entries_free (gpointer data)
{
  odd_ui_entry_free (data);
}

OddDash *
odd_dash_new (void)
{
  OddDash *dash = g_new0 (OddDash, 1);

  dash->interval_ms = 1000;
  dash->program = "odd-dashboard";
  dash->loop = g_main_loop_new (NULL, FALSE);
  dash->cancellable = g_cancellable_new ();
  dash->sources = g_ptr_array_new ();
  dash->queues = g_ptr_array_new_with_free_func (g_object_unref);
  dash->jobs = g_ptr_array_new_with_free_func (g_object_unref);
  dash->alerts = g_ptr_array_new_with_free_func (g_object_unref);
  dash->uis = g_ptr_array_new_with_free_func (ui_entries_free);
  dash->log = g_ptr_array_new_with_free_func (g_free);
  dash->op_remedy = g_ptr_array_new_with_free_func (g_free);
  dash->child_output = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < ODD_FIELD_LAST; i++)
    dash->new_job.fields[i] = g_string_new (NULL);
  dash->screen = ODD_SCREEN_LOADING;
  dash->back = ODD_SCREEN_LAUNCHER;
  dash->no_color = g_getenv ("NO_COLOR") != NULL && *g_getenv ("NO_COLOR") != '\0';
  dash->frame_log = g_strdup (g_getenv ("ODD_DASHBOARD_FRAME_LOG"));
  odd_dash_client_init (dash);
  odd_dash_use_endpoints (dash, odd_client_get_endpoints (dash->client));

  return dash;
}

void
odd_dash_free (OddDash *dash)
{
  if (dash == NULL)
    return;

  g_cancellable_cancel (dash->cancellable);
  odd_dash_stop_polling (dash);
  g_clear_handle_id (&dash->redraw_id, g_source_remove);
  g_clear_handle_id (&dash->animation_id, g_source_remove);
  g_clear_handle_id (&dash->stdin_id, g_source_remove);
  for (guint i = 0; i < dash->sources->len; i++)
    g_source_remove (GPOINTER_TO_UINT (dash->sources->pdata[i]));
  g_ptr_array_unref (dash->sources);
  if (dash->child != NULL)
    g_subprocess_force_exit (dash->child);
  g_clear_object (&dash->child);
  g_free (dash->child_command);
  g_ptr_array_unref (dash->child_output);

  odd_dash_new_job_clear (dash);
  for (guint i = 0; i < ODD_FIELD_LAST; i++)
    g_string_free (dash->new_job.fields[i], TRUE);
  odd_dash_detail_clear (dash);

  g_clear_object (&dash->client);
  g_clear_object (&dash->cancellable);
  g_clear_object (&dash->op_cancellable);
  g_clear_object (&dash->stack);
  g_clear_object (&dash->cluster);
  g_clear_object (&dash->doctor);
  g_clear_pointer (&dash->report, odd_doctor_report_unref);
  g_clear_pointer (&dash->grid, odd_grid_free);
  g_clear_pointer (&dash->loop, g_main_loop_unref);
  g_clear_object (&dash->stats);
  g_clear_object (&dash->series);
  g_ptr_array_unref (dash->queues);
  g_ptr_array_unref (dash->jobs);
  g_ptr_array_unref (dash->alerts);
  g_ptr_array_unref (dash->uis);
  g_ptr_array_unref (dash->log);
  g_ptr_array_unref (dash->op_remedy);
  g_free (dash->read_model_url);
  g_free (dash->gateway_url);
  g_free (dash->flash);
  g_free (dash->frame_log);
  g_free (dash->poll_error);
  g_free (dash->alerts_error);
  g_free (dash->ui_message);
  g_free (dash->op_step);
  g_free (dash->op_error);
  g_free (dash);
}

void
odd_dash_use_endpoints (OddDash      *dash,
                        OddEndpoints *endpoints)
{
  g_object_ref (endpoints);
  odd_client_set_endpoints (dash->client, endpoints);
  g_free (dash->read_model_url);
  g_free (dash->gateway_url);
  dash->read_model_url = g_strdup (odd_endpoints_get_read_model_url (endpoints));
  dash->gateway_url = g_strdup (odd_endpoints_get_gateway_url (endpoints));
  dash->endpoints = odd_endpoints_get_source (endpoints);
  g_object_unref (endpoints);
}

void
odd_dash_set_endpoints (OddDash            *dash,
                        const char         *read_model_url,
                        const char         *gateway_url,
                        OddEndpointsSource  source)
{
  g_autoptr(OddEndpoints) endpoints = odd_endpoints_new (read_model_url, gateway_url, source);

  odd_dash_use_endpoints (dash, endpoints);
}

void
odd_dash_resolve_endpoints (OddDash *dash)
{
  g_autoptr(OddEndpoints) endpoints = odd_endpoints_discover ();

  odd_dash_use_endpoints (dash, endpoints);
}

void
odd_dash_set_screen (OddDash   *dash,
                     OddScreen  screen)
{
  if (dash->screen != screen)
    g_clear_pointer (&dash->flash, g_free);
  dash->screen = screen;
  odd_dash_queue_redraw (dash);
}

void
odd_dash_set_flash (OddDash    *dash,
                    gboolean    error,
                    const char *format,
                    ...)
{
  va_list args;

  g_free (dash->flash);
  va_start (args, format);
  dash->flash = g_strdup_vprintf (format, args);
  va_end (args);
  dash->flash_error = error;
  odd_dash_queue_redraw (dash);
}

void
odd_dash_log_append (GPtrArray  *log,
                     const char *line)
{
  g_autofree char *copy = g_strdup (line);

  g_strchomp (copy);
  g_ptr_array_add (log, g_steal_pointer (&copy));
  if (log->len > ODD_DASH_LOG_LINES)
    g_ptr_array_remove_range (log, 0, log->len - ODD_DASH_LOG_LINES);
}

void
odd_dash_quit (OddDash *dash,
               int      exit_code)
{
  dash->exit_code = exit_code;
  dash->quitting = TRUE;
  g_cancellable_cancel (dash->cancellable);

  /* A stack or cluster half started is stopped by its own cancellation; wait for it. A
   * stack being stopped is left to finish stopping. */
  if (dash->op != ODD_OP_NONE && !dash->op_done && dash->op_cancellable != NULL)
    {
      if (dash->op != ODD_OP_STACK_DOWN)
        g_cancellable_cancel (dash->op_cancellable);
      odd_dash_set_flash (dash, FALSE, dash->op == ODD_OP_STACK_DOWN
                          ? "Quitting once the stack has stopped…"
                          : "Cancelling: stopping what was started…");
      return;
    }
  if (dash->child != NULL)
    g_subprocess_send_signal (dash->child, SIGTERM);

  g_main_loop_quit (dash->loop);
}

static gboolean is_animated (OddDash *dash);
static gboolean on_animation (gpointer user_data);

static gboolean
redraw_now (gpointer user_data)
{
  OddDash *dash = user_data;

  dash->redraw_id = 0;
  if (dash->term_active)
    {
      odd_dash_render (dash, dash->grid);
      odd_dash_term_flush (dash);
    }
  return G_SOURCE_REMOVE;
}

void
odd_dash_queue_redraw (OddDash *dash)
{
  /* Many changes in one main loop turn make one frame. */
  if (dash->term_active && dash->redraw_id == 0)
    dash->redraw_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE - 10, redraw_now, dash, NULL);
  if (dash->term_active && dash->animation_id == 0 && is_animated (dash))
    dash->animation_id = g_timeout_add (100, on_animation, dash);
}

static gboolean
is_animated (OddDash *dash)
{
  return dash->screen == ODD_SCREEN_LOADING ||
         (dash->screen == ODD_SCREEN_PROGRESS && !dash->op_done) ||
         (dash->screen == ODD_SCREEN_SHUTDOWN && !dash->op_done) ||
         dash->doctor_running || dash->child != NULL ||
         dash->new_job.state == ODD_FORM_SUBMITTING ||
         dash->detail.retrying;
}

static gboolean
on_animation (gpointer user_data)
{
  OddDash *dash = user_data;

  /* Only spinners need frames between polls: an idle dashboard wakes once a second. */
  if (!is_animated (dash))
    {
      dash->animation_id = 0;
      return G_SOURCE_REMOVE;
    }
  dash->frame++;
  odd_dash_queue_redraw (dash);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_stdin (int          fd,
          GIOCondition condition,
          gpointer     user_data)
{
  OddDash *dash = user_data;

  if (condition & (G_IO_HUP | G_IO_ERR | G_IO_NVAL))
    {
      /* The terminal went away: nobody is left to read the screen. The watch ends here, so
       * the teardown must not remove it again. */
      dash->stdin_id = 0;
      odd_dash_quit (dash, 1);
      return G_SOURCE_REMOVE;
    }

  odd_dash_term_read_keys (dash);
  return G_SOURCE_CONTINUE;
}

static gboolean
quit_on_signal (OddDash *dash,
                int      signum)
{
  /* A second signal while cancelling does not wait any longer. */
  if (dash->quitting)
    g_main_loop_quit (dash->loop);
  else
    odd_dash_quit (dash, 128 + signum);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sigterm (gpointer user_data)
{
  return quit_on_signal (user_data, SIGTERM);
}

static gboolean
on_sigint (gpointer user_data)
{
  return quit_on_signal (user_data, SIGINT);
}

static gboolean
on_sighup (gpointer user_data)
{
  return quit_on_signal (user_data, SIGHUP);
}

static gboolean
on_winch (gpointer user_data)
{
  OddDash *dash = user_data;

  odd_dash_term_resize (dash);
  odd_dash_queue_redraw (dash);
  return G_SOURCE_CONTINUE;
}

static void
add_source (OddDash *dash,
            guint    id)
{
  g_ptr_array_add (dash->sources, GUINT_TO_POINTER (id));
}

int
odd_dash_run (OddDash *dash)
{
  g_autoptr(GError) error = NULL;

  /* GLib's handlers first: ncurses then leaves SIGWINCH to us and we resize in the loop. */
  add_source (dash, g_unix_signal_add (SIGWINCH, on_winch, dash));
  add_source (dash, g_unix_signal_add (SIGTERM, on_sigterm, dash));
  add_source (dash, g_unix_signal_add (SIGINT, on_sigint, dash));
  add_source (dash, g_unix_signal_add (SIGHUP, on_sighup, dash));

  if (!odd_dash_term_start (dash, &error))
    {
      fprintf (stderr, "%s: %s\n", dash->program, error->message);
      return 1;
    }

  dash->stdin_id = g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, dash);

  /* The first frame before anything else: the requests go out after it. */
  odd_dash_set_screen (dash, ODD_SCREEN_LOADING);
  g_clear_handle_id (&dash->redraw_id, g_source_remove);
  redraw_now (dash);
  odd_dash_start_polling (dash);

  g_main_loop_run (dash->loop);

  odd_dash_term_stop (dash);
  return dash->exit_code;
}

static gboolean
on_once_deadline (gpointer user_data)
{
  gboolean *expired = user_data;

  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

char *
odd_dash_render_once (OddDash *dash,
                      int      rows,
                      int      cols)
{
  g_autoptr(OddGrid) grid = NULL;
  const char *codeset = NULL;
  gboolean expired = FALSE;
  gboolean unicode;
  guint deadline;

  g_get_charset (&codeset);
  unicode = codeset != NULL && (g_ascii_strcasecmp (codeset, "UTF-8") == 0 ||
                                g_ascii_strcasecmp (codeset, "utf8") == 0);
  grid = odd_grid_new (rows, cols, unicode);

  odd_dash_poll (dash);
  /* Every request has a 2 s timeout; the deadline only guards against a bug. */
  deadline = g_timeout_add_seconds (ODD_DASH_HTTP_TIMEOUT_S * 3, on_once_deadline, &expired);
  while (dash->pending > 0 && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (deadline);

  odd_dash_render (dash, grid);
  return odd_grid_to_text (grid);
}
