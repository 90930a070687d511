#define G_LOG_DOMAIN "odd-dashboard-input"

#define _XOPEN_SOURCE_EXTENDED 1

#include <curses.h>

#include "odd-dashboard.h"

#define CTRL(c) ((c) & 0x1f)

/* Keys are case-insensitive (the reference took only lower case on its dashboard). */
static int
fold (int      key,
      gboolean is_char)
{
  return is_char && key < 128 ? g_ascii_tolower (key) : key;
}

static void
dashboard_key (OddDash *dash,
               int      key,
               gboolean is_char)
{
  int k = fold (key, is_char);

  if (is_char && (k == 'q' || k == CTRL ('c')))
    {
      odd_dash_quit (dash, 0);
      return;
    }
  if (is_char && k == CTRL ('q'))
    {
      odd_dash_shutdown (dash);
      return;
    }
  if (is_char && k == 'r')
    {
      odd_dash_poll (dash);
      odd_dash_set_flash (dash, FALSE, "Refreshing…");
      return;
    }
  if (is_char && k == 'n')
    {
      odd_dash_new_job_open (dash);
      return;
    }
  if (is_char && k == 'u')
    {
      odd_dash_uis_open (dash);
      return;
    }
  if (is_char && k == 'd')
    {
      dash->back = ODD_SCREEN_DASHBOARD;
      odd_dash_doctor_start (dash);
      return;
    }
  if ((!is_char && key == KEY_UP) || (is_char && k == 'k'))
    {
      if (dash->selected > 0)
        dash->selected--;
      odd_dash_queue_redraw (dash);
      return;
    }
  if ((!is_char && key == KEY_DOWN) || (is_char && k == 'j'))
    {
      if (dash->selected + 1 < (int) dash->jobs->len)
        dash->selected++;
      odd_dash_queue_redraw (dash);
      return;
    }
  if ((!is_char && (key == KEY_ENTER)) || (is_char && (k == '\r' || k == '\n')))
    {
      if (dash->selected >= 0 && (guint) dash->selected < dash->jobs->len)
        odd_dash_detail_open (dash, odd_job_get_id (dash->jobs->pdata[dash->selected]));
      return;
    }
}

void
odd_dash_handle_key (OddDash *dash,
                     int      key,
                     gboolean is_char)
{
  int k = fold (key, is_char);

  /* ^C quits from anywhere, text fields included (raw mode makes it a key, not a signal). */
  if (is_char && key == CTRL ('c'))
    {
      odd_dash_quit (dash, 0);
      return;
    }

  /* Too small to draw a screen: only quitting makes sense. */
  if (dash->grid != NULL &&
      (dash->grid->rows < ODD_DASH_MIN_ROWS || dash->grid->cols < ODD_DASH_MIN_COLS))
    {
      if (is_char && (k == 'q' || k == CTRL ('c')))
        odd_dash_quit (dash, 0);
      return;
    }

  switch (dash->screen)
    {
    case ODD_SCREEN_LOADING:
      if (is_char && (k == 'q' || k == CTRL ('c')))
        odd_dash_quit (dash, 0);
      break;
    case ODD_SCREEN_LAUNCHER:
      odd_dash_launcher_key (dash, key, is_char);
      break;
    case ODD_SCREEN_PROGRESS:
    case ODD_SCREEN_SHUTDOWN:
      odd_dash_progress_key (dash, key, is_char);
      break;
    case ODD_SCREEN_DASHBOARD:
      dashboard_key (dash, key, is_char);
      break;
    case ODD_SCREEN_DETAIL:
      odd_dash_detail_key (dash, key, is_char);
      break;
    case ODD_SCREEN_NEW_JOB:
      odd_dash_new_job_key (dash, key, is_char);
      break;
    case ODD_SCREEN_UIS:
      odd_dash_uis_key (dash, key, is_char);
      break;
    case ODD_SCREEN_DOCTOR:
      odd_dash_doctor_key (dash, key, is_char);
      break;
    case ODD_SCREEN_PREREQ:
      odd_dash_prereq_key (dash, key, is_char);
      break;
    default:
      break;
    }
}
