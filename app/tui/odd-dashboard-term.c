#define G_LOG_DOMAIN "odd-dashboard-term"

#define _XOPEN_SOURCE_EXTENDED 1

#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>
#include <curses.h>

#include "odd-dashboard.h"

/* For the paths that end the program without going through the main loop (a crash, exit()
 * from a library): the terminal is restored there too. */
static gboolean term_is_active;

static void
restore_terminal (void)
{
  if (term_is_active)
    {
      term_is_active = FALSE;
      endwin ();
    }
}

static void
on_fatal_signal (int signum)
{
  restore_terminal ();
  signal (signum, SIG_DFL);
  raise (signum);
}

static short
pair_for (OddColor color)
{
  return color == ODD_COLOR_DEFAULT ? 0 : (short) color;
}

gboolean
odd_dash_term_start (OddDash  *dash,
                     GError  **error)
{
  static gboolean atexit_done;
  const char *codeset = nl_langinfo (CODESET);
  const char *term = g_getenv ("TERM");
  gboolean unicode;

  if (!isatty (STDIN_FILENO) || !isatty (STDOUT_FILENO))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "needs a terminal (for a text frame use --once)");
      return FALSE;
    }
  if (term == NULL || *term == '\0' || g_str_equal (term, "dumb"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "TERM=%s cannot show the dashboard (try TERM=xterm-256color, or --once)",
                   term != NULL ? term : "");
      return FALSE;
    }

  /* Esc alone should not wait a second for an escape sequence. */
  if (g_getenv ("ESCDELAY") == NULL)
    set_escdelay (25);

  if (newterm (NULL, stdout, stdin) == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "cannot initialise the terminal TERM=%s", term);
      return FALSE;
    }
  term_is_active = TRUE;
  dash->term_active = TRUE;
  if (!atexit_done)
    {
      atexit (restore_terminal);
      atexit_done = TRUE;
    }
  signal (SIGSEGV, on_fatal_signal);
  signal (SIGABRT, on_fatal_signal);
  signal (SIGBUS, on_fatal_signal);
  signal (SIGFPE, on_fatal_signal);

  /* raw: ^Q and ^C come as keys (^Q stops the stack, ^C quits like q). */
  raw ();
  noecho ();
  nonl ();
  keypad (stdscr, TRUE);
  nodelay (stdscr, TRUE);
  curs_set (0);
  leaveok (stdscr, TRUE);

  if (!dash->no_color && has_colors ())
    {
      start_color ();
      use_default_colors ();
      init_pair (ODD_COLOR_GREEN, COLOR_GREEN, -1);
      init_pair (ODD_COLOR_CYAN, COLOR_CYAN, -1);
      init_pair (ODD_COLOR_RED, COLOR_RED, -1);
      init_pair (ODD_COLOR_YELLOW, COLOR_YELLOW, -1);
      init_pair (ODD_COLOR_BLUE, COLOR_BLUE, -1);
      init_pair (ODD_COLOR_MAGENTA, COLOR_MAGENTA, -1);
    }
  else
    dash->no_color = TRUE;

  /* The Linux console's font lacks most block and braille characters. */
  unicode = codeset != NULL && g_str_equal (codeset, "UTF-8") && !g_str_equal (term, "linux");
  dash->grid = odd_grid_new (LINES, COLS, unicode);

  return TRUE;
}

void
odd_dash_term_stop (OddDash *dash)
{
  const char *rmcup;

  if (!dash->term_active)
    return;
  dash->term_active = FALSE;

  /* Without an alternate screen (TERM=linux) the last frame would stay under the shell
   * prompt: wipe it. */
  rmcup = tigetstr ((char *) "rmcup");
  if (rmcup == NULL || rmcup == (char *) -1)
    {
      erase ();
      refresh ();
      move (0, 0);
      refresh ();
    }
  restore_terminal ();
}

/* The grid follows ncurses' idea of the size; the old picture is forgotten. */
static void
sync_grid (OddDash *dash)
{
  if (dash->grid->rows != LINES || dash->grid->cols != COLS)
    odd_grid_resize (dash->grid, LINES, COLS);
  clearok (curscr, TRUE);
}

void
odd_dash_term_resize (OddDash *dash)
{
  struct winsize ws;

  if (!dash->term_active)
    return;
  /* resizeterm() queues a KEY_RESIZE; calling it only on a real change keeps that key from
   * bringing us back here forever. */
  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0 &&
      (ws.ws_row != LINES || ws.ws_col != COLS))
    resizeterm (ws.ws_row, ws.ws_col);
  sync_grid (dash);
}

static attr_t
attrs_for (OddDash  *dash,
           OddCell  *cell)
{
  attr_t attrs = A_NORMAL;

  if (cell->attrs & ODD_ATTR_BOLD)
    attrs |= A_BOLD;
  if (cell->attrs & ODD_ATTR_REVERSE)
    attrs |= A_REVERSE;
  if (cell->attrs & ODD_ATTR_DIM)
    attrs |= A_DIM;
  if (dash->no_color && cell->color == ODD_COLOR_RED)
    attrs |= A_BOLD;  /* failures stay visible without colour */
  return attrs;
}

void
odd_dash_term_flush (OddDash *dash)
{
  OddGrid *grid = dash->grid;
  wchar_t *run = g_new (wchar_t, grid->cols + 1);

  if (grid->rows != LINES || grid->cols != COLS)
    {
      g_free (run);
      odd_dash_term_resize (dash);
      odd_dash_render (dash, dash->grid);
      grid = dash->grid;
      run = g_new (wchar_t, grid->cols + 1);
    }

  erase ();
  for (int y = 0; y < grid->rows; y++)
    {
      int x = 0;

      while (x < grid->cols)
        {
          OddCell *first = odd_grid_cell (grid, y, x);
          int start = x;
          int n = 0;

          while (x < grid->cols)
            {
              OddCell *cell = odd_grid_cell (grid, y, x);

              if (cell->color != first->color || cell->attrs != first->attrs)
                break;
              if (cell->ch != 0)
                run[n++] = (wchar_t) cell->ch;
              x++;
            }
          run[n] = 0;
          attr_set (attrs_for (dash, first), dash->no_color ? 0 : pair_for (first->color), NULL);
          /* The bottom-right cell makes addnwstr return ERR (no room to move the cursor
           * on); the character is drawn all the same. */
          mvaddnwstr (y, start, run, n);
        }
    }
  attr_set (A_NORMAL, 0, NULL);
  refresh ();
  g_free (run);

  /* tests/bench/tui-bench.sh: when the first frame reached the terminal (wall clock, ns). */
  if (dash->frame_log != NULL)
    {
      g_autofree char *line = g_strdup_printf ("%" G_GINT64_FORMAT "000\n", g_get_real_time ());

      g_file_set_contents (dash->frame_log, line, -1, NULL);
      g_clear_pointer (&dash->frame_log, g_free);
    }
}

void
odd_dash_term_read_keys (OddDash *dash)
{
  wint_t ch;
  int rc;

  while (dash->term_active && (rc = get_wch (&ch)) != ERR)
    {
      if (rc == KEY_CODE_YES && ch == KEY_RESIZE)
        {
          sync_grid (dash);
          odd_dash_queue_redraw (dash);
          continue;
        }
      odd_dash_handle_key (dash, (int) ch, rc != KEY_CODE_YES);
    }
}

void
odd_dash_term_osc52 (OddDash    *dash,
                     const char *text)
{
  g_autofree char *encoded = g_base64_encode ((const guchar *) text, strlen (text));
  const char *tmux = g_getenv ("TMUX");

  if (!dash->term_active)
    return;

  /* Inside tmux the sequence is passed through to the outer terminal. */
  if (tmux != NULL && *tmux != '\0')
    fprintf (stdout, "\033Ptmux;\033\033]52;c;%s\a\033\\", encoded);
  else
    fprintf (stdout, "\033]52;c;%s\a", encoded);
  fflush (stdout);
}
