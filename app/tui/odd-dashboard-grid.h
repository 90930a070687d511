/* odd-dashboard-grid.h: the frame the dashboard draws into
 *
 * Every screen is drawn into this grid of cells; the terminal code copies it to ncurses and
 * --once prints it as text. So one drawing code serves the terminal, scripts and tests.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  ODD_COLOR_DEFAULT,
  ODD_COLOR_GREEN,
  ODD_COLOR_CYAN,
  ODD_COLOR_RED,
  ODD_COLOR_YELLOW,
  ODD_COLOR_BLUE,
  ODD_COLOR_MAGENTA,
  ODD_COLOR_LAST,
} OddColor;

typedef enum
{
  ODD_ATTR_NONE    = 0,
  ODD_ATTR_BOLD    = 1 << 0,
  ODD_ATTR_REVERSE = 1 << 1,
  ODD_ATTR_DIM     = 1 << 2,
} OddAttr;

typedef struct
{
  gunichar ch;     /* 0: the right half of a wide character */
  guint8   color;  /* OddColor */
  guint8   attrs;  /* OddAttr */
} OddCell;

typedef struct
{
  int       rows;
  int       cols;
  gboolean  unicode;  /* box drawing and block characters; else ASCII only */
  OddCell  *cells;
} OddGrid;

OddGrid *odd_grid_new      (int          rows,
                            int          cols,
                            gboolean     unicode);
void     odd_grid_free     (OddGrid     *grid);
void     odd_grid_resize   (OddGrid     *grid,
                            int          rows,
                            int          cols);
void     odd_grid_clear    (OddGrid     *grid);
OddCell *odd_grid_cell     (OddGrid     *grid,
                            int          y,
                            int          x);

/* Writes @text (UTF-8; control characters shown as '?') at @y,@x, at most @width columns
 * (-1: to the right edge). Returns the number of columns written. */
int      odd_grid_print    (OddGrid     *grid,
                            int          y,
                            int          x,
                            int          width,
                            OddColor     color,
                            OddAttr      attrs,
                            const char  *text);
int      odd_grid_printf   (OddGrid     *grid,
                            int          y,
                            int          x,
                            int          width,
                            OddColor     color,
                            OddAttr      attrs,
                            const char  *format,
                            ...) G_GNUC_PRINTF (7, 8);
/* Sets colour and attributes of a span without changing its characters. */
void     odd_grid_paint    (OddGrid     *grid,
                            int          y,
                            int          x,
                            int          width,
                            OddColor     color,
                            OddAttr      attrs);
void     odd_grid_fill     (OddGrid     *grid,
                            int          y,
                            int          x,
                            int          height,
                            int          width,
                            gunichar     ch,
                            OddColor     color,
                            OddAttr      attrs);
void     odd_grid_hline    (OddGrid     *grid,
                            int          y,
                            int          x,
                            int          width,
                            OddColor     color);
/* A frame with an optional title in its top edge; the inside is cleared. */
void     odd_grid_box      (OddGrid     *grid,
                            int          y,
                            int          x,
                            int          height,
                            int          width,
                            OddColor     color,
                            const char  *title);
/* The display width of @text (wide characters count 2). */
int      odd_text_width    (const char  *text);
/* The frame as text: one line per row, trailing spaces removed. */
char    *odd_grid_to_text  (OddGrid     *grid);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddGrid, odd_grid_free)

G_END_DECLS
