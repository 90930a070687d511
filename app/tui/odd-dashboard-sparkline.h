/* odd-dashboard-sparkline.h: a row of block characters for a series of counts */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The last @width values of @values (fewer: left-padded with blanks) scaled to the largest
 * one: eight levels ▁..█ (or " .:-=+*#" when @unicode is FALSE); 0 is the lowest level,
 * unless every value is 0, which is a flat baseline. Returns UTF-8 of @width characters.
 * @max_out (nullable) receives the largest value shown. */
char *odd_sparkline (const double *values,
                     guint         n_values,
                     guint         width,
                     gboolean      unicode,
                     double       *max_out);

G_END_DECLS
