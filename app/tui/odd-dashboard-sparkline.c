#define G_LOG_DOMAIN "odd-dashboard-sparkline"

#include <math.h>

#include "odd-dashboard-sparkline.h"

char *
odd_sparkline (const double *values,
               guint         n_values,
               guint         width,
               gboolean      unicode,
               double       *max_out)
{
  static const gunichar blocks[] = { 0x2581, 0x2582, 0x2583, 0x2584, 0x2585, 0x2586, 0x2587,
                                     0x2588 };
  static const char ascii[] = "_.:-=+*#";
  GString *out = g_string_new (NULL);
  guint shown = MIN (n_values, width);
  guint first = n_values - shown;
  double max = 0;

  for (guint i = first; i < n_values; i++)
    if (isfinite (values[i]) && values[i] > max)
      max = values[i];
  if (max_out != NULL)
    *max_out = max;

  for (guint i = shown; i < width; i++)
    g_string_append_c (out, ' ');

  for (guint i = first; i < n_values; i++)
    {
      double v = isfinite (values[i]) && values[i] > 0 ? values[i] : 0;
      /* Level 0 is only for zero: a small non-zero value still shows. */
      guint level = max > 0 && v > 0 ? 1 + (guint) floor (v / max * 6.999) : 0;

      level = MIN (level, 7);
      if (unicode)
        g_string_append_unichar (out, blocks[level]);
      else
        g_string_append_c (out, ascii[level]);
    }

  return g_string_free (out, FALSE);
}
