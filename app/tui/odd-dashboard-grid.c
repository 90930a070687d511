#define G_LOG_DOMAIN "odd-dashboard-grid"

#include <stdarg.h>

#include "odd-dashboard-grid.h"

OddGrid *
odd_grid_new (int      rows,
              int      cols,
              gboolean unicode)
{
  OddGrid *grid = g_new0 (OddGrid, 1);

  grid->unicode = unicode;
  odd_grid_resize (grid, rows, cols);
  return grid;
}

void
odd_grid_free (OddGrid *grid)
{
  if (grid == NULL)
    return;
  g_free (grid->cells);
  g_free (grid);
}

void
odd_grid_resize (OddGrid *grid,
                 int      rows,
                 int      cols)
{
  grid->rows = MAX (rows, 1);
  grid->cols = MAX (cols, 1);
  g_free (grid->cells);
  grid->cells = g_new0 (OddCell, (gsize) grid->rows * grid->cols);
  odd_grid_clear (grid);
}

void
odd_grid_clear (OddGrid *grid)
{
  for (int i = 0; i < grid->rows * grid->cols; i++)
    grid->cells[i] = (OddCell) { ' ', ODD_COLOR_DEFAULT, ODD_ATTR_NONE };
}

OddCell *
odd_grid_cell (OddGrid *grid,
               int      y,
               int      x)
{
  if (y < 0 || x < 0 || y >= grid->rows || x >= grid->cols)
    return NULL;
  return &grid->cells[y * grid->cols + x];
}

static int
char_width (gunichar ch)
{
  if (g_unichar_iszerowidth (ch))
    return 0;
  return g_unichar_iswide (ch) ? 2 : 1;
}

int
odd_text_width (const char *text)
{
  int width = 0;

  for (const char *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char (p))
    width += char_width (g_utf8_get_char (p));
  return width;
}

int
odd_grid_print (OddGrid    *grid,
                int         y,
                int         x,
                int         width,
                OddColor    color,
                OddAttr     attrs,
                const char *text)
{
  int limit;
  int col = x;

  if (text == NULL || y < 0 || y >= grid->rows || x >= grid->cols)
    return 0;
  limit = width < 0 ? grid->cols : MIN (grid->cols, x + width);

  /* Invalid UTF-8 from a server is shown, not trusted. */
  if (!g_utf8_validate (text, -1, NULL))
    text = "(invalid text)";

  for (const char *p = text; *p != '\0' && col < limit; p = g_utf8_next_char (p))
    {
      gunichar ch = g_utf8_get_char (p);
      int w;
      OddCell *cell;

      if (g_unichar_iscntrl (ch))
        ch = '?';
      if (!grid->unicode && ch > 0x7e)
        ch = '?';
      w = char_width (ch);
      if (w == 0)
        continue;
      if (col + w > limit)
        break;
      if (col >= 0 && (cell = odd_grid_cell (grid, y, col)) != NULL)
        *cell = (OddCell) { ch, color, attrs };
      if (w == 2 && (cell = odd_grid_cell (grid, y, col + 1)) != NULL)
        *cell = (OddCell) { 0, color, attrs };
      col += w;
    }

  return col - x;
}

int
odd_grid_printf (OddGrid    *grid,
                 int         y,
                 int         x,
                 int         width,
                 OddColor    color,
                 OddAttr     attrs,
                 const char *format,
                 ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  return odd_grid_print (grid, y, x, width, color, attrs, text);
}

void
odd_grid_paint (OddGrid  *grid,
                int       y,
                int       x,
                int       width,
                OddColor  color,
                OddAttr   attrs)
{
  for (int i = 0; i < width; i++)
    {
      OddCell *cell = odd_grid_cell (grid, y, x + i);

      if (cell != NULL)
        {
          cell->color = color;
          cell->attrs = attrs;
        }
    }
}

void
odd_grid_fill (OddGrid  *grid,
               int       y,
               int       x,
               int       height,
               int       width,
               gunichar  ch,
               OddColor  color,
               OddAttr   attrs)
{
  for (int r = y; r < y + height; r++)
    for (int c = x; c < x + width; c++)
      {
        OddCell *cell = odd_grid_cell (grid, r, c);

        if (cell != NULL)
          *cell = (OddCell) { ch, color, attrs };
      }
}

void
odd_grid_hline (OddGrid  *grid,
                int       y,
                int       x,
                int       width,
                OddColor  color)
{
  odd_grid_fill (grid, y, x, 1, width, grid->unicode ? 0x2500 : '-', color, ODD_ATTR_NONE);
}

void
odd_grid_box (OddGrid    *grid,
              int         y,
              int         x,
              int         height,
              int         width,
              OddColor    color,
              const char *title)
{
  gunichar h = grid->unicode ? 0x2500 : '-';
  gunichar v = grid->unicode ? 0x2502 : '|';
  gunichar tl = grid->unicode ? 0x250c : '+';
  gunichar tr = grid->unicode ? 0x2510 : '+';
  gunichar bl = grid->unicode ? 0x2514 : '+';
  gunichar br = grid->unicode ? 0x2518 : '+';

  if (height < 2 || width < 2)
    return;

  odd_grid_fill (grid, y, x, height, width, ' ', ODD_COLOR_DEFAULT, ODD_ATTR_NONE);
  odd_grid_fill (grid, y, x + 1, 1, width - 2, h, color, ODD_ATTR_NONE);
  odd_grid_fill (grid, y + height - 1, x + 1, 1, width - 2, h, color, ODD_ATTR_NONE);
  odd_grid_fill (grid, y + 1, x, height - 2, 1, v, color, ODD_ATTR_NONE);
  odd_grid_fill (grid, y + 1, x + width - 1, height - 2, 1, v, color, ODD_ATTR_NONE);
  odd_grid_fill (grid, y, x, 1, 1, tl, color, ODD_ATTR_NONE);
  odd_grid_fill (grid, y, x + width - 1, 1, 1, tr, color, ODD_ATTR_NONE);
  odd_grid_fill (grid, y + height - 1, x, 1, 1, bl, color, ODD_ATTR_NONE);
  odd_grid_fill (grid, y + height - 1, x + width - 1, 1, 1, br, color, ODD_ATTR_NONE);

  if (title != NULL && width > 6)
    {
      g_autofree char *padded = g_strdup_printf (" %s ", title);

      odd_grid_print (grid, y, x + 2, width - 4, color, ODD_ATTR_BOLD, padded);
    }
}

char *
odd_grid_to_text (OddGrid *grid)
{
  GString *out = g_string_new (NULL);

  for (int y = 0; y < grid->rows; y++)
    {
      gsize line_start = out->len;
      gsize content_end = out->len;

      for (int x = 0; x < grid->cols; x++)
        {
          gunichar ch = grid->cells[y * grid->cols + x].ch;

          if (ch == 0)
            continue;
          g_string_append_unichar (out, ch);
          if (ch != ' ')
            content_end = out->len;
        }
      g_string_truncate (out, MAX (content_end, line_start));
      g_string_append_c (out, '\n');
    }

  return g_string_free (out, FALSE);
}
