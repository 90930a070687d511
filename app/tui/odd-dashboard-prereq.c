#define G_LOG_DOMAIN "odd-dashboard-prereq"

#define _XOPEN_SOURCE_EXTENDED 1

#include <string.h>
#include <unistd.h>
#include <curses.h>

#include "odd-dashboard.h"

/* ---- the doctor view ---- */

static void
on_doctor_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  OddDash *dash = user_data;
  g_autoptr(GError) error = NULL;
  OddDoctorReport *report = odd_doctor_run_finish (ODD_DOCTOR (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  dash->doctor_running = FALSE;
  if (report == NULL)
    {
      odd_dash_set_flash (dash, TRUE, "The doctor failed: %s", error->message);
      return;
    }
  {
    /* The selection stays on its check when the checks run again. */
    g_autoptr(GPtrArray) before = odd_dash_prereq_fixable (dash);
    g_autofree char *selected_id = NULL;
    g_autoptr(GPtrArray) after = NULL;

    if (dash->prereq_selected >= 0 && (guint) dash->prereq_selected < before->len)
      selected_id = g_strdup (((OddDoctorCheck *) before->pdata[dash->prereq_selected])->id);
    g_clear_pointer (&dash->report, odd_doctor_report_unref);
    dash->report = report;
    dash->prereq_selected = 0;
    after = odd_dash_prereq_fixable (dash);
    for (guint i = 0; selected_id != NULL && i < after->len; i++)
      if (g_str_equal (((OddDoctorCheck *) after->pdata[i])->id, selected_id))
        dash->prereq_selected = (int) i;
  }
  odd_dash_queue_redraw (dash);
}

static void
run_doctor (OddDash *dash)
{
  if (dash->doctor_running)
    return;
  if (dash->doctor == NULL)
    dash->doctor = odd_doctor_new ();
  dash->doctor_running = TRUE;
  /* The checks run tools (docker info may take seconds): on a worker thread. */
  odd_doctor_run_async (dash->doctor, dash->cancellable, on_doctor_done, dash);
  odd_dash_queue_redraw (dash);
}

void
odd_dash_doctor_start (OddDash *dash)
{
  odd_dash_set_screen (dash, ODD_SCREEN_DOCTOR);
  run_doctor (dash);
}

static const char *
status_mark (OddDoctorStatus status)
{
  switch (status)
    {
    case ODD_DOCTOR_OK: return " OK ";
    case ODD_DOCTOR_WARN: return "WARN";
    case ODD_DOCTOR_FAIL:
    default: return "FAIL";
    }
}

static OddColor
status_color (OddDoctorStatus status)
{
  switch (status)
    {
    case ODD_DOCTOR_OK: return ODD_COLOR_GREEN;
    case ODD_DOCTOR_WARN: return ODD_COLOR_YELLOW;
    case ODD_DOCTOR_FAIL:
    default: return ODD_COLOR_RED;
    }
}

void
odd_dash_doctor_render (OddDash *dash,
                        OddGrid *grid)
{
  int y = 2;

  odd_grid_box (grid, 0, 0, grid->rows - 2, grid->cols, ODD_COLOR_CYAN, "Doctor");

  if (dash->report == NULL)
    {
      odd_grid_printf (grid, y, 2, -1, ODD_COLOR_YELLOW, ODD_ATTR_BOLD,
                       "%s Checking Docker, kubectl, kind, servers, ports, disk and memory…",
                       odd_dash_spinner (dash, grid));
      odd_dash_render_help_bar (dash, grid, "Esc Back  Q Quit");
      return;
    }

  odd_grid_printf (grid, 1, 2, grid->cols - 4, ODD_COLOR_DEFAULT, ODD_ATTR_DIM, "%s (%s)%s",
                   odd_doctor_report_get_os_name (dash->report),
                   odd_distro_to_string (odd_doctor_report_get_distro (dash->report)),
                   dash->doctor_running ? "  re-checking…" : "");

  for (guint i = 0; i < odd_doctor_report_get_checks (dash->report)->len && y < grid->rows - 4; i++)
    {
      OddDoctorCheck *check = odd_doctor_report_get_checks (dash->report)->pdata[i];
      int x = 2;

      x += odd_grid_printf (grid, y, x, -1, status_color (check->status), ODD_ATTR_BOLD, "[%s]",
                            status_mark (check->status)) + 1;
      odd_grid_print (grid, y, x, 18, ODD_COLOR_DEFAULT, ODD_ATTR_BOLD, check->name);
      odd_grid_print (grid, y, x + 19, grid->cols - x - 21, ODD_COLOR_DEFAULT, ODD_ATTR_NONE,
                      check->reason);
      y++;
    }

  if (odd_doctor_report_count (dash->report, ODD_DOCTOR_FAIL) > 0)
    odd_grid_print (grid, grid->rows - 4, 2, grid->cols - 4, ODD_COLOR_RED, ODD_ATTR_BOLD,
                    "Some prerequisites are missing: press Enter to fix them");
  else
    odd_grid_print (grid, grid->rows - 4, 2, grid->cols - 4, ODD_COLOR_GREEN, ODD_ATTR_BOLD,
                    "Nothing is missing");

  odd_dash_render_help_bar (dash, grid, "Enter Fix problems  R Re-check  Esc Back  Q Quit");
}

static void
leave (OddDash *dash)
{
  /* Back to where the doctor was opened; a launcher re-checks the connection. */
  if (dash->back == ODD_SCREEN_LAUNCHER)
    {
      dash->first_poll_done = FALSE;
      odd_dash_set_screen (dash, ODD_SCREEN_LOADING);
      odd_dash_poll (dash);
    }
  else
    odd_dash_set_screen (dash, dash->back);
}

void
odd_dash_doctor_key (OddDash *dash,
                     int      key,
                     gboolean is_char)
{
  int k = is_char && key < 128 ? g_ascii_tolower (key) : key;

  if (is_char && k == 27)
    leave (dash);
  else if (is_char && (k == 'q' || k == 3))
    odd_dash_quit (dash, 0);
  else if (is_char && k == 'r')
    run_doctor (dash);
  else if ((is_char && (k == '\r' || k == '\n' || k == 'p')) || (!is_char && key == KEY_ENTER))
    {
      if (dash->report != NULL)
        {
          dash->prereq_selected = 0;
          odd_dash_set_screen (dash, ODD_SCREEN_PREREQ);
        }
    }
}

/* ---- the prerequisite setup ---- */

GPtrArray *
odd_dash_prereq_fixable (OddDash *dash)
{
  GPtrArray *fixable = g_ptr_array_new ();

  for (guint i = 0; dash->report != NULL && i < odd_doctor_report_get_checks (dash->report)->len; i++)
    {
      OddDoctorCheck *check = odd_doctor_report_get_checks (dash->report)->pdata[i];

      if (check->status != ODD_DOCTOR_OK && check->fix != NULL)
        g_ptr_array_add (fixable, check);
    }
  return fixable;
}

static void
on_clipboard_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_subprocess_communicate_finish (G_SUBPROCESS (source), result, NULL, NULL, NULL);
}

void
odd_dash_copy_to_clipboard (OddDash    *dash,
                            const char *text)
{
  const char *tool = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GSubprocess) proc = NULL;

  /* OSC 52 reaches the clipboard of the terminal the user sits at, even over SSH. */
  odd_dash_term_osc52 (dash, text);

  if (g_getenv ("WAYLAND_DISPLAY") != NULL && (path = g_find_program_in_path ("wl-copy")) != NULL)
    tool = "wl-copy";
  else if (g_getenv ("DISPLAY") != NULL && (path = g_find_program_in_path ("xclip")) != NULL)
    tool = "xclip";

  if (tool != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
      const char *argv_wl[] = { path, NULL };
      const char *argv_x[] = { path, "-selection", "clipboard", NULL };

      proc = g_subprocess_newv (g_str_equal (tool, "xclip") ? argv_x : argv_wl,
                                G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                G_SUBPROCESS_FLAGS_STDERR_SILENCE, NULL);
      if (proc != NULL)
        g_subprocess_communicate_async (proc, bytes, NULL, on_clipboard_done, NULL);
    }

  odd_dash_set_flash (dash, FALSE, "%s Copied to the clipboard (OSC 52%s%s)",
                      dash->grid != NULL && dash->grid->unicode ? "✓" : "OK",
                      tool != NULL ? " and " : "", tool != NULL ? tool : "");
}

static void read_next_line (OddDash *dash, GDataInputStream *stream);

static void
on_child_line (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  OddDash *dash = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                      result, NULL, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (line == NULL)
    {
      /* EOF (or an unreadable pipe): the exit status comes from wait. */
      if (error != NULL)
        odd_dash_log_append (dash->child_output, error->message);
      g_object_unref (source);
      return;
    }
  odd_dash_log_append (dash->child_output, line);
  odd_dash_queue_redraw (dash);
  read_next_line (dash, G_DATA_INPUT_STREAM (source));
}

static void
read_next_line (OddDash          *dash,
                GDataInputStream *stream)
{
  g_data_input_stream_read_line_async (stream, G_PRIORITY_DEFAULT, dash->cancellable,
                                       on_child_line, dash);
}

static void
on_child_exited (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  OddDash *dash = user_data;
  g_autoptr(GError) error = NULL;
  GSubprocess *child = G_SUBPROCESS (source);

  if (!g_subprocess_wait_finish (child, result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (g_subprocess_get_if_exited (child) && g_subprocess_get_exit_status (child) == 0)
    odd_dash_set_flash (dash, FALSE, "%s Done: %s", dash->grid != NULL && dash->grid->unicode
                        ? "✓" : "OK", dash->child_command);
  else if (g_subprocess_get_if_exited (child))
    odd_dash_set_flash (dash, TRUE, "%s Exit status %d (C copies the command to run it in "
                        "a terminal)", dash->grid != NULL && dash->grid->unicode ? "✗" : "x",
                        g_subprocess_get_exit_status (child));
  else
    odd_dash_set_flash (dash, TRUE, "Stopped by signal %d", g_subprocess_get_term_sig (child));

  g_clear_object (&dash->child);
  /* See what the command changed. */
  run_doctor (dash);
}

static void
run_fix (OddDash    *dash,
         const char *command)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autofree char *script = NULL;
  const char *sudo_shim;

  if (dash->child != NULL)
    {
      odd_dash_set_flash (dash, TRUE, "A command is still running");
      return;
    }

  /* There is no terminal for a password prompt: sudo must not ask (-n) and says so when
   * it would. As root without sudo, the commands run directly. */
  if (geteuid () == 0)
    sudo_shim = "sudo() { if command -v sudo >/dev/null; then command sudo -n \"$@\"; "
                "else \"$@\"; fi; }; ";
  else
    sudo_shim = "sudo() { command sudo -n \"$@\"; }; ";
  script = g_strconcat (sudo_shim, command, NULL);

  g_ptr_array_set_size (dash->child_output, 0);
  odd_dash_log_append (dash->child_output, command);
  g_free (dash->child_command);
  dash->child_command = g_strdup (command);

  {
    const char *argv[] = { "/bin/sh", "-c", script, NULL };

    dash->child = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                     G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  }
  if (dash->child == NULL)
    {
      odd_dash_set_flash (dash, TRUE, "Cannot run it: %s", error->message);
      return;
    }

  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (dash->child));
  read_next_line (dash, g_object_ref (lines));
  g_subprocess_wait_async (dash->child, dash->cancellable, on_child_exited, dash);
  odd_dash_set_flash (dash, FALSE, "Running: %s", command);
}

void
odd_dash_prereq_render (OddDash *dash,
                        OddGrid *grid)
{
  g_autoptr(GPtrArray) fixable = odd_dash_prereq_fixable (dash);
  int y = 2, x = 2;
  int width = grid->cols - 4;

  odd_grid_box (grid, 0, 0, grid->rows - 2, grid->cols, ODD_COLOR_CYAN, "Prerequisites setup");

  if (fixable->len == 0)
    {
      odd_grid_printf (grid, y, x, width, ODD_COLOR_GREEN, ODD_ATTR_BOLD,
                       "%s Nothing to fix%s", grid->unicode ? "✓" : "OK",
                       dash->doctor_running ? " (re-checking…)" : "");
      odd_dash_render_help_bar (dash, grid, "R Re-check  Esc Back  Q Quit");
      return;
    }

  odd_grid_print (grid, 1, x, width, ODD_COLOR_DEFAULT, ODD_ATTR_BOLD,
                  dash->doctor_running ? "Fix what is missing (re-checking…)"
                  : "Fix what is missing:");
  dash->prereq_selected = CLAMP (dash->prereq_selected, 0, (int) fixable->len - 1);
  for (guint i = 0; i < fixable->len && y < grid->rows / 2; i++)
    {
      OddDoctorCheck *check = fixable->pdata[i];
      gboolean selected = (int) i == dash->prereq_selected;
      int cx = x;

      cx += odd_grid_print (grid, y, cx, -1, ODD_COLOR_CYAN,
                            selected ? ODD_ATTR_BOLD : ODD_ATTR_NONE, selected ? "[>] " : "[ ] ");
      cx += odd_grid_printf (grid, y, cx, 18, status_color (check->status), ODD_ATTR_BOLD, "%-18s",
                             check->name);
      odd_grid_print (grid, y, cx + 1, grid->cols - cx - 3, ODD_COLOR_DEFAULT, ODD_ATTR_DIM,
                      check->reason);
      y++;
    }

  y++;
  {
    OddDoctorCheck *check = fixable->pdata[dash->prereq_selected];

    odd_grid_print (grid, y++, x, width, ODD_COLOR_DEFAULT, ODD_ATTR_NONE,
                    check->fix_on_host ? "Command (run it on the host, outside the sandbox: C copies it):"
                                       : "Command:");
    odd_grid_printf (grid, y++, x, width, ODD_COLOR_YELLOW, ODD_ATTR_BOLD, "  %s", check->fix);
  }

  y++;
  odd_grid_hline (grid, y, 1, grid->cols - 2, ODD_COLOR_DEFAULT);
  odd_grid_printf (grid, y++, x, -1, ODD_COLOR_DEFAULT, ODD_ATTR_BOLD, " Output%s ",
                   dash->child != NULL ? " (running)" : "");
  {
    int rows = grid->rows - 3 - y;

    for (int i = 0; i < rows && (guint) i < dash->child_output->len; i++)
      {
        guint index = dash->child_output->len - MIN ((guint) rows, dash->child_output->len) + (guint) i;

        odd_grid_print (grid, y + i, x, width, ODD_COLOR_DEFAULT, ODD_ATTR_NONE,
                        dash->child_output->pdata[index]);
      }
  }

  odd_dash_render_help_bar (dash, grid,
                            "↑↓ Select  Enter Run it  C Copy  R Re-check  Esc Back  Q Quit");
}

void
odd_dash_prereq_key (OddDash *dash,
                     int      key,
                     gboolean is_char)
{
  int k = is_char && key < 128 ? g_ascii_tolower (key) : key;
  g_autoptr(GPtrArray) fixable = odd_dash_prereq_fixable (dash);
  OddDoctorCheck *selected = NULL;

  if (fixable->len > 0)
    selected = fixable->pdata[CLAMP (dash->prereq_selected, 0, (int) fixable->len - 1)];

  if (is_char && k == 27)
    odd_dash_set_screen (dash, ODD_SCREEN_DOCTOR);
  else if (is_char && (k == 'q' || k == 3))
    odd_dash_quit (dash, 0);
  else if (is_char && k == 'r')
    run_doctor (dash);
  else if ((!is_char && key == KEY_UP) || (is_char && k == 'k'))
    {
      dash->prereq_selected = MAX (0, dash->prereq_selected - 1);
      odd_dash_queue_redraw (dash);
    }
  else if ((!is_char && key == KEY_DOWN) || (is_char && k == 'j'))
    {
      dash->prereq_selected = MIN ((int) fixable->len - 1, dash->prereq_selected + 1);
      odd_dash_queue_redraw (dash);
    }
  else if (is_char && k == 'c' && selected != NULL)
    odd_dash_copy_to_clipboard (dash, selected->fix);
  else if (((is_char && (k == '\r' || k == '\n')) || (!is_char && key == KEY_ENTER)) &&
           selected != NULL && !selected->fix_on_host)  /* a host's fix never runs in the sandbox */
    run_fix (dash, selected->fix);
}
