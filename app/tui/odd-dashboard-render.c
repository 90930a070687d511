#define G_LOG_DOMAIN "odd-dashboard-render"

#include <string.h>

#include "odd-build-config.h"
#include "odd-dashboard.h"

static const char * const logo[] = {
  "  ___  ___  ___  ",
  " / _ \\|   \\|   \\ ",
  "| (_) | |) | |) |",
  " \\___/|___/|___/ ",
};

const char *
odd_dash_spinner (OddDash *dash,
                  OddGrid *grid)
{
  static const char * const braille[] = { "⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏" };
  static const char * const ascii[] = { "|", "/", "-", "\\" };

  if (grid->unicode)
    return braille[dash->frame % G_N_ELEMENTS (braille)];
  return ascii[dash->frame % G_N_ELEMENTS (ascii)];
}

OddColor
odd_dash_status_color (const char *status)
{
  if (g_strcmp0 (status, "COMPLETED") == 0)
    return ODD_COLOR_GREEN;
  if (g_strcmp0 (status, "FAILED") == 0)
    return ODD_COLOR_RED;
  if (g_strcmp0 (status, "PENDING") == 0)
    return ODD_COLOR_YELLOW;
  if (g_strcmp0 (status, "EXECUTING") == 0 || g_strcmp0 (status, "VALIDATED") == 0)
    return ODD_COLOR_CYAN;
  return ODD_COLOR_DEFAULT;
}

void
odd_dash_render_centered (OddGrid    *grid,
                          int         y,
                          OddColor    color,
                          OddAttr     attrs,
                          const char *text)
{
  int width = odd_text_width (text);

  odd_grid_print (grid, y, MAX (0, (grid->cols - width) / 2), -1, color, attrs, text);
}

void
odd_dash_render_modal (OddGrid    *grid,
                       int         height,
                       int         width,
                       OddColor    color,
                       const char *title,
                       int        *y,
                       int        *x)
{
  width = MIN (width, grid->cols - 2);
  height = MIN (height, grid->rows - 2);
  *y = MAX (0, (grid->rows - height) / 2);
  *x = MAX (0, (grid->cols - width) / 2);
  odd_grid_box (grid, *y, *x, height, width, color, title);
}

int
odd_dash_render_wrapped (OddGrid    *grid,
                         int         y,
                         int         x,
                         int         width,
                         int         max_rows,
                         OddColor    color,
                         OddAttr     attrs,
                         const char *text)
{
  const char *p = text;
  int rows = 0;

  /* Breaks at the last space that fits, else mid-word (URLs, commands). */
  while (p != NULL && *p != '\0' && rows < max_rows && width > 0)
    {
      const char *end = p;
      const char *space = NULL;
      int cols = 0;

      while (*end != '\0' && cols < width)
        {
          if (*end == ' ')
            space = end;
          cols += g_unichar_iswide (g_utf8_get_char (end)) ? 2 : 1;
          end = g_utf8_next_char (end);
        }
      if (*end != '\0' && *end != ' ' && space != NULL && space > p)
        end = space;
      {
        g_autofree char *line = g_strndup (p, end - p);

        odd_grid_print (grid, y + rows, x, width, color, attrs, line);
      }
      rows++;
      p = end;
      while (*p == ' ')
        p++;
    }
  return rows;
}

void
odd_dash_render_help_bar (OddDash    *dash,
                          OddGrid    *grid,
                          const char *keys)
{
  g_autofree char *version = g_strdup_printf (" v%s ", ODD_VERSION);
  int row = grid->rows - 1;
  int vwidth = odd_text_width (version);
  g_autoptr(GString) text = g_string_new (keys);

  if (!grid->unicode)
    g_string_replace (text, "↑↓", "Up/Dn", 0);

  odd_grid_fill (grid, row, 0, 1, grid->cols, ' ', ODD_COLOR_DEFAULT, ODD_ATTR_REVERSE);
  odd_grid_print (grid, row, 1, grid->cols - 2, ODD_COLOR_DEFAULT, ODD_ATTR_REVERSE, text->str);
  /* The version only where the keys leave room for it. */
  if (grid->cols >= odd_text_width (text->str) + vwidth + 3)
    odd_grid_print (grid, row, grid->cols - vwidth, vwidth, ODD_COLOR_DEFAULT,
                    ODD_ATTR_REVERSE, version);
}

static void
render_flash (OddDash *dash,
              OddGrid *grid)
{
  if (dash->flash == NULL)
    return;
  odd_grid_fill (grid, grid->rows - 2, 0, 1, grid->cols, ' ', ODD_COLOR_DEFAULT, ODD_ATTR_NONE);
  odd_grid_print (grid, grid->rows - 2, 1, grid->cols - 2,
                  dash->flash_error ? ODD_COLOR_RED : ODD_COLOR_GREEN, ODD_ATTR_BOLD,
                  dash->flash);
}

void
odd_dash_render_logo (OddGrid *grid,
                      int      y)
{
  for (guint i = 0; i < G_N_ELEMENTS (logo); i++)
    odd_dash_render_centered (grid, y + (int) i, ODD_COLOR_GREEN, ODD_ATTR_BOLD, logo[i]);
}

static void
render_loading (OddDash *dash,
                OddGrid *grid)
{
  static const char * const messages[] = { "Connecting to services", "Fetching statistics",
                                           "Loading job data", "Checking alerts" };
  g_autofree char *line = g_strdup_printf ("%s %s%.*s", odd_dash_spinner (dash, grid),
                                           messages[(dash->frame / 3) % 4],
                                           (int) (dash->frame % 4) + 1, "....");
  int top = MAX (0, grid->rows / 2 - 5);

  odd_dash_render_logo (grid, top);
  odd_dash_render_centered (grid, top + 6, ODD_COLOR_YELLOW, ODD_ATTR_BOLD, line);
  odd_dash_render_centered (grid, top + 8, ODD_COLOR_DEFAULT, ODD_ATTR_DIM,
                            "Distributed Task Observatory");
  odd_dash_render_centered (grid, top + 9, ODD_COLOR_DEFAULT, ODD_ATTR_DIM,
                            dash->read_model_url);
  odd_dash_render_help_bar (dash, grid, "Q Quit");
}

void
odd_dash_render (OddDash *dash,
                 OddGrid *grid)
{
  odd_grid_clear (grid);

  if (grid->rows < ODD_DASH_MIN_ROWS || grid->cols < ODD_DASH_MIN_COLS)
    {
      g_autofree char *text = g_strdup_printf ("Terminal too small: %dx%d (needs %dx%d)",
                                               grid->cols, grid->rows, ODD_DASH_MIN_COLS,
                                               ODD_DASH_MIN_ROWS);

      odd_grid_print (grid, grid->rows / 2, 0, -1, ODD_COLOR_YELLOW, ODD_ATTR_BOLD, text);
      odd_grid_print (grid, grid->rows / 2 + 1, 0, -1, ODD_COLOR_DEFAULT, ODD_ATTR_NONE,
                      "Q quits");
      return;
    }

  switch (dash->screen)
    {
    case ODD_SCREEN_LOADING:
      render_loading (dash, grid);
      break;
    case ODD_SCREEN_LAUNCHER:
      odd_dash_launcher_render (dash, grid);
      break;
    case ODD_SCREEN_PROGRESS:
    case ODD_SCREEN_SHUTDOWN:
      odd_dash_progress_render (dash, grid);
      break;
    case ODD_SCREEN_DASHBOARD:
      odd_dash_render_dashboard (dash, grid);
      break;
    case ODD_SCREEN_DETAIL:
      odd_dash_detail_render (dash, grid);
      break;
    case ODD_SCREEN_NEW_JOB:
      odd_dash_render_dashboard (dash, grid);
      odd_dash_new_job_render (dash, grid);
      break;
    case ODD_SCREEN_UIS:
      odd_dash_render_dashboard (dash, grid);
      odd_dash_uis_render (dash, grid);
      break;
    case ODD_SCREEN_DOCTOR:
      odd_dash_doctor_render (dash, grid);
      break;
    case ODD_SCREEN_PREREQ:
      odd_dash_prereq_render (dash, grid);
      break;
    default:
      break;
    }

  render_flash (dash, grid);
}
