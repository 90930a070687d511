/* odd-chart.c: a time-series line chart widget
 *
 * SPDX-License-Identifier: MIT
 *
 * How a frame is drawn, and what is kept between frames:
 * - the value axis (horizontal grid lines, their labels) is a render node rebuilt only when the
 *   range, the size or the style changes;
 * - the series are rasterised once into an image that covers the visible window plus an
 *   eighth of it ahead ("the layer"), together with the time grid and its labels; while the
 *   window slides, a frame only translates the layer by whole device pixels. Points newer than
 *   the drawn ones are added to the image; other changes to the data, a new range or a window
 *   that slid past the layer draw it again;
 * - only the points in the layer's time span are read, and several points that fall into one
 *   device pixel column become its lowest and highest one;
 * - while live, a tick callback runs only when mapped, and sleeps in a timeout when the next
 *   pixel of movement is far away (long windows).
 */
#define G_LOG_DOMAIN "odd-chart"

#include "odd-chart-private.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

#define AXIS_GAP          8.0    /* between the value labels and the plot */
#define RIGHT_PAD         14.0
#define TIME_GAP          6.0    /* between the plot and the time labels */
#define LEGEND_GAP        6.0
#define VALUE_TICK_PX     44.0   /* least space between two grid lines */
#define TIME_TICK_PX      100.0  /* least space between two time labels */
#define LINE_WIDTH        1.75
#define LAYER_PAD         4.0    /* room above and below the plot for the line's width */
#define TAIL_MARGIN       16.0   /* the tail starts this far before the window's end */
#define AHEAD_FRACTION    0.125  /* the layer covers this much of the window ahead of its end */
#define SLEEP_US_PER_PX   50000  /* slower than this, the tick callback sleeps in a timeout */
#define DATA_PACED_MAX_PX 4.0    /* at most this far per sample interval, it scrolls with the data */
#define MAX_LAG           (10 * G_USEC_PER_SEC)
#define GAP_INTERVALS     5      /* a silence of this many sample intervals breaks the line */
#define HOVER_NEAR_PX     12.0

typedef struct {
  OddChart      *chart;
  char          *id;
  char          *label;
  char          *unit;
  OddChartColor  color;
  gboolean       color_auto;
  GArray        *points;         /* OddChartPoint, sorted by time, one per time */
  gint64         interval;       /* typical spacing of the newest samples, 0 if unknown */
  gboolean       visible;
  GtkWidget     *legend_button;
  GtkWidget     *legend_swatch;
  GtkWidget     *legend_label;
  /* What the widget's layer holds of this series, so that new points can be added to it. */
  gint64         drawn_until;
  double         drawn_x;
  double         drawn_y;
  gboolean       drawn_any;
} OddChartSeries;

/* Everything one drawing of the chart at one size needs; the widget keeps one, an export
 * makes its own. */
typedef struct {
  int              width;
  int              height;
  int              scale;
  double           legend_height;
  graphene_rect_t  plot;
  gint64           window;
  double           y_min;
  double           y_max;
  double           y_step;
  GskRenderNode   *value_axis;
  gboolean         layer_valid;
  gint64           layer_end;    /* the window's end when the layer was built */
  gint64           layer_start;
  gint64           layer_stop;
  cairo_surface_t *series_surface;  /* the series' pixels left of tail_px */
  cairo_surface_t *tail_surface;    /* and from tail_px on, where new points land */
  int              tail_px;         /* device pixels from the layer's left edge */
  GskRenderNode   *series_node;     /* paints both */
  graphene_rect_t  series_bounds;
  GskRenderNode   *time_grid;
  GPtrArray       *time_labels;   /* GskRenderNode, one per tick */
  GArray          *time_ticks;   /* gint64 */
  gint64           time_step;
  gboolean         has_data;
} ChartFrame;

struct _OddChart
{
  GtkWidget      parent_instance;

  GPtrArray     *series;
  GtkWidget     *legend;

  gint64         window;
  gboolean       live;
  gint64         end_time;       /* when not live; 0 follows the newest point */

  guint          tick_id;
  guint          wake_id;
  gint64         last_step_index;
  gint64         last_data_time; /* real time of the newest point's arrival (appended, touched) */

  gboolean       hovering;
  double         hover_x;

  ChartFrame     frame;
  gboolean       appended;       /* points added after the newest ones since the layer was drawn */
  gboolean       dark;
  GdkRGBA        fg;
  double         label_height;

  OddChartStats  stats;
};

enum {
  PROP_0,
  PROP_WINDOW,
  PROP_LIVE,
  PROP_END_TIME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (OddChart, odd_chart, GTK_TYPE_WIDGET)

/* The GNOME palette (libadwaita 1.2's named colours): a darker shade on light backgrounds, a
 * lighter one on dark. */
static const struct {
  const char *light;
  const char *dark;
} palette[] = {
  [ODD_CHART_COLOR_BLUE]   = { "#1c71d8", "#62a0ea" },
  [ODD_CHART_COLOR_GREEN]  = { "#26a269", "#57e389" },
  [ODD_CHART_COLOR_RED]    = { "#e01b24", "#ff7b63" },
  [ODD_CHART_COLOR_PURPLE] = { "#9141ac", "#c061cb" },
  [ODD_CHART_COLOR_ORANGE] = { "#e66100", "#ffa348" },
  [ODD_CHART_COLOR_YELLOW] = { "#c88800", "#f8e45c" },
  [ODD_CHART_COLOR_BROWN]  = { "#865e3c", "#cdab8f" },
};

static void odd_chart_invalidate (OddChart *self, gboolean axis_too);
static void odd_chart_update_ticking (OddChart *self);

/* ---------------------------------------------------------------------------------------- */
/* Axis arithmetic                                                                           */
/* ---------------------------------------------------------------------------------------- */

static double
nice_step (double span,
           guint  max_ticks)
{
  double raw, magnitude, norm;

  raw = span / MAX (max_ticks, 1);
  if (!(raw > 0) || !isfinite (raw))
    return 1;
  magnitude = pow (10, floor (log10 (raw)));
  norm = raw / magnitude;
  /* Rounding noise: 0.30000000000000004 / 0.1 must count as 3, not more. */
  if (norm <= 1 + 1e-9)
    return magnitude;
  if (norm <= 2 + 1e-9)
    return 2 * magnitude;
  if (norm <= 5 + 1e-9)
    return 5 * magnitude;
  return 10 * magnitude;
}

void
odd_chart_nice_value_axis (double  data_min,
                           double  data_max,
                           guint   max_ticks,
                           double *axis_min,
                           double *axis_max,
                           double *step)
{
  double lo = data_min, hi = data_max, s, span;

  /* A range beyond what a double can subtract would give inf; such values are clamped. */
  lo = CLAMP (lo, -1e300, 1e300);
  hi = CLAMP (hi, -1e300, 1e300);
  if (!isfinite (lo) || !isfinite (hi) || lo > hi)
    lo = hi = 0;
  if (lo > 0)
    lo = 0;
  if (hi < 0)
    hi = 0;
  if (lo == hi)
    hi = lo + 1;

  max_ticks = MAX (max_ticks, 1);
  span = hi - lo;
  for (;;)
    {
      s = nice_step (span, max_ticks);
      *axis_min = floor (lo / s + 1e-9) * s;
      *axis_max = ceil (hi / s - 1e-9) * s;
      /* Rounding both ends out can need one interval more than asked for. */
      if ((*axis_max - *axis_min) / s <= max_ticks + 1e-6 || s >= span * 2)
        break;
      span = s * (max_ticks + 1);
    }
  if (*axis_max <= *axis_min)
    *axis_max = *axis_min + s;
  *step = s;
}

gint64
odd_chart_nice_time_step (gint64 window,
                          guint  max_ticks)
{
  static const gint64 steps_s[] = {
    1, 2, 5, 10, 15, 30,
    60, 2 * 60, 5 * 60, 10 * 60, 15 * 60, 30 * 60,
    3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600,
  };

  max_ticks = MAX (max_ticks, 1);
  for (guint i = 0; i < G_N_ELEMENTS (steps_s); i++)
    if ((window + steps_s[i] * G_USEC_PER_SEC - 1) / (steps_s[i] * G_USEC_PER_SEC) <= max_ticks)
      return steps_s[i] * G_USEC_PER_SEC;
  return steps_s[G_N_ELEMENTS (steps_s) - 1] * G_USEC_PER_SEC;
}

/* "1.50" → "1.5", "2.00" → "2" */
static void
strip_zeros (char *s)
{
  char *dot = strchr (s, '.');
  char *end;

  if (dot == NULL)
    return;
  end = dot + strlen (dot) - 1;
  while (end > dot && *end == '0')
    *end-- = '\0';
  if (end == dot)
    *end = '\0';
}

static char *
with_minus (char *s)
{
  char *out;

  /* A typographic minus, as wide as a digit in tabular figures. */
  if (s[0] != '-')
    return s;
  out = g_strconcat ("−", s + 1, NULL);
  g_free (s);
  return out;
}

static char *
concat_take (char       *a,
             const char *b)
{
  char *out = g_strconcat (a, b, NULL);

  g_free (a);
  return out;
}

static char *
format_scaled (double value,
               int    decimals)
{
  static const struct { double factor; const char *suffix; } si[] = {
    { 1e18, "E" }, { 1e15, "P" }, { 1e12, "T" }, { 1e9, "G" }, { 1e6, "M" }, { 1e3, "k" },
  };
  double a = fabs (value);
  char *s;

  if (a >= 1e21)
    return with_minus (g_strdup_printf ("%.3g", value));
  for (guint i = 0; i < G_N_ELEMENTS (si); i++)
    if (a >= si[i].factor)
      {
        s = g_strdup_printf ("%.*f", CLAMP (decimals, 0, 3), value / si[i].factor);
        strip_zeros (s);
        return with_minus (concat_take (s, si[i].suffix));
      }
  return NULL;
}

char *
odd_chart_format_tick (double value,
                       double step)
{
  double a = fabs (value);
  char *s;
  int decimals;

  if (fabs (value) < step * 1e-9)
    return g_strdup ("0");
  if (a >= 1000)
    {
      /* The decimals the step needs at the value's own scale: 1.5k, 2M. */
      double factor = pow (1000, floor (log10 (a) / 3));

      decimals = (int) ceil (-log10 (step / factor) - 1e-9);
      return format_scaled (value, MAX (decimals, 0));
    }
  decimals = (int) ceil (-log10 (step) - 1e-9);
  if (decimals > 6)
    return with_minus (g_strdup_printf ("%.*e", MIN (decimals - (int) ceil (-log10 (a)), 3), value));
  s = g_strdup_printf ("%.*f", MAX (decimals, 0), value);
  strip_zeros (s);
  return with_minus (s);
}

char *
odd_chart_format_value (double value)
{
  double a = fabs (value);
  char *s;

  if (a >= 1e4)
    return format_scaled (value, 2);
  if (a >= 100 || a == 0)
    s = g_strdup_printf ("%.0f", value);
  else if (a >= 10)
    s = g_strdup_printf ("%.1f", value);
  else if (a >= 0.01)
    s = g_strdup_printf ("%.2f", value);
  else
    s = g_strdup_printf ("%.2e", value);
  if (strchr (s, 'e') == NULL)
    strip_zeros (s);
  return with_minus (s);
}

char *
odd_chart_format_time (gint64 time,
                       gint64 step)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (time / G_USEC_PER_SEC);
  g_autoptr(GDateTime) local = NULL;

  if (utc == NULL)
    return g_strdup ("");
  local = g_date_time_to_local (utc);
  /* Seconds only where the ticks are closer than a minute. */
  return g_date_time_format (local, step > 0 && step % (60 * G_USEC_PER_SEC) == 0 ? "%H:%M" : "%H:%M:%S");
}

/* ---------------------------------------------------------------------------------------- */
/* Series                                                                                    */
/* ---------------------------------------------------------------------------------------- */

static void
series_free (OddChartSeries *series)
{
  g_clear_pointer (&series->id, g_free);
  g_clear_pointer (&series->label, g_free);
  g_clear_pointer (&series->unit, g_free);
  g_clear_pointer (&series->points, g_array_unref);
  g_free (series);
}

static OddChartSeries *
find_series (OddChart   *self,
             const char *id)
{
  for (guint i = 0; i < self->series->len; i++)
    {
      OddChartSeries *series = g_ptr_array_index (self->series, i);

      if (g_str_equal (series->id, id))
        return series;
    }
  return NULL;
}

static void
series_rgba (OddChart             *self,
             const OddChartSeries *series,
             GdkRGBA              *rgba)
{
  OddChartColor color = CLAMP (series->color, ODD_CHART_COLOR_BLUE, ODD_CHART_COLOR_BROWN);

  gdk_rgba_parse (rgba, self->dark ? palette[color].dark : palette[color].light);
}

static OddChartColor
next_free_color (OddChart *self)
{
  for (OddChartColor c = ODD_CHART_COLOR_BLUE; c <= ODD_CHART_COLOR_BROWN; c++)
    {
      gboolean used = FALSE;

      for (guint i = 0; i < self->series->len && !used; i++)
        used = ((OddChartSeries *) g_ptr_array_index (self->series, i))->color == c;
      if (!used)
        return c;
    }
  return ODD_CHART_COLOR_BLUE + self->series->len % ODD_CHART_COLOR_BROWN;
}

/* Index of the first point at or after time. */
static guint
lower_bound (GArray *points,
             gint64  time)
{
  guint lo = 0, hi = points->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (points, OddChartPoint, mid).time < time)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static int
compare_points (gconstpointer a,
                gconstpointer b)
{
  gint64 ta = ((const OddChartPoint *) a)->time;
  gint64 tb = ((const OddChartPoint *) b)->time;

  return ta < tb ? -1 : ta > tb;
}

static void
series_update_interval (OddChartSeries *series)
{
  GArray *p = series->points;
  gint64 diffs[64];
  guint n = 0;

  /* The median spacing of the newest samples: robust to one late or missing sample. */
  for (guint i = p->len; i > 1 && n < G_N_ELEMENTS (diffs); i--)
    diffs[n++] = g_array_index (p, OddChartPoint, i - 1).time - g_array_index (p, OddChartPoint, i - 2).time;
  if (n == 0)
    {
      series->interval = 0;
      return;
    }
  for (guint i = 1; i < n; i++)
    for (guint j = i; j > 0 && diffs[j - 1] > diffs[j]; j--)
      {
        gint64 t = diffs[j];
        diffs[j] = diffs[j - 1];
        diffs[j - 1] = t;
      }
  series->interval = diffs[n / 2];
}

static void
series_trim (OddChartSeries *series)
{
  if (series->points->len > ODD_CHART_MAX_POINTS)
    g_array_remove_range (series->points, 0, series->points->len - ODD_CHART_MAX_POINTS);
}

/* ---------------------------------------------------------------------------------------- */
/* Time and geometry                                                                         */
/* ---------------------------------------------------------------------------------------- */

static gint64
newest_time (OddChart        *self,
             OddChartSeries **newest_series)
{
  gint64 newest = G_MININT64;

  for (guint i = 0; i < self->series->len; i++)
    {
      OddChartSeries *series = g_ptr_array_index (self->series, i);

      if (series->points->len > 0 && series->visible)
        {
          gint64 t = g_array_index (series->points, OddChartPoint, series->points->len - 1).time;

          if (t > newest)
            {
              newest = t;
              if (newest_series)
                *newest_series = series;
            }
        }
    }
  return newest;
}

static gint64
current_end (OddChart *self)
{
  OddChartSeries *newest_series = NULL;
  gint64 newest = newest_time (self, &newest_series);

  if (self->live)
    {
      /* One sample behind the clock, so that the newest sample slides in from the right edge
       * instead of appearing some way inside it. */
      gint64 lag = newest_series ? CLAMP (newest_series->interval, 0, MAX_LAG) : 0;

      return g_get_real_time () - lag;
    }
  if (self->end_time != 0)
    return self->end_time;
  return newest != G_MININT64 ? newest : g_get_real_time ();
}

static double
x_for_time (const ChartFrame *frame,
            gint64            start,
            gint64            time)
{
  return frame->plot.origin.x + (double) (time - start) / frame->window * frame->plot.size.width;
}

static double
y_for_value (const ChartFrame *frame,
             double            value)
{
  double f = (value - frame->y_min) / (frame->y_max - frame->y_min);

  /* Keep far-off values finite: cairo misbehaves with coordinates beyond ±2²³. */
  f = CLAMP (f, -100, 100);
  return frame->plot.origin.y + frame->plot.size.height * (1 - f);
}

static PangoLayout *
create_label (OddChart   *self,
              const char *text,
              gboolean    small,
              gboolean    bold)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  PangoAttrList *attrs = pango_attr_list_new ();

  pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum=1"));
  if (small)
    pango_attr_list_insert (attrs, pango_attr_scale_new (0.83));
  if (bold)
    pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  return layout;
}

static const char *
axis_unit (OddChart *self)
{
  for (guint i = 0; i < self->series->len; i++)
    {
      OddChartSeries *series = g_ptr_array_index (self->series, i);

      if (series->visible && series->unit != NULL && series->unit[0] != '\0')
        return series->unit;
    }
  return NULL;
}

static void
frame_clear (ChartFrame *frame)
{
  g_clear_pointer (&frame->value_axis, gsk_render_node_unref);
  g_clear_pointer (&frame->time_grid, gsk_render_node_unref);
  g_clear_pointer (&frame->time_labels, g_ptr_array_unref);
  g_clear_pointer (&frame->series_node, gsk_render_node_unref);
  g_clear_pointer (&frame->series_surface, cairo_surface_destroy);
  g_clear_pointer (&frame->tail_surface, cairo_surface_destroy);
  g_clear_pointer (&frame->time_ticks, g_array_unref);
  frame->layer_valid = FALSE;
}

static void
visible_range (OddChart *self,
               gint64    start,
               gint64    end,
               double   *min,
               double   *max,
               gboolean *has_data)
{
  *min = INFINITY;
  *max = -INFINITY;
  *has_data = FALSE;

  for (guint i = 0; i < self->series->len; i++)
    {
      OddChartSeries *series = g_ptr_array_index (self->series, i);
      GArray *p = series->points;
      guint first, last;

      if (!series->visible || p->len == 0)
        continue;
      first = lower_bound (p, start);
      last = lower_bound (p, end + 1);
      if (first < last)
        *has_data = TRUE;
      /* The neighbours just outside draw the segments that enter the window. */
      if (first > 0)
        first--;
      if (last < p->len)
        last++;
      for (guint k = first; k < last; k++)
        {
          double v = g_array_index (p, OddChartPoint, k).value;

          *min = MIN (*min, v);
          *max = MAX (*max, v);
        }
    }
  if (*min > *max)
    *min = *max = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Building the cached parts                                                                 */
/* ---------------------------------------------------------------------------------------- */

static GdkRGBA
fg_alpha (OddChart *self,
          double    alpha)
{
  GdkRGBA c = self->fg;

  c.alpha *= alpha;
  return c;
}

static void
build_value_axis (OddChart   *self,
                  ChartFrame *frame)
{
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  GdkRGBA grid = fg_alpha (self, self->dark ? 0.11 : 0.09);
  GdkRGBA zero = fg_alpha (self, self->dark ? 0.28 : 0.22);
  GdkRGBA text = fg_alpha (self, 0.6);
  const char *unit = axis_unit (self);
  guint n = (guint) llround ((frame->y_max - frame->y_min) / frame->y_step);

  for (guint i = 0; i <= n; i++)
    {
      double v = frame->y_min + i * frame->y_step;
      double y = round (y_for_value (frame, v) * frame->scale) / frame->scale;
      g_autofree char *label = odd_chart_format_tick (v, frame->y_step);
      g_autoptr(PangoLayout) layout = create_label (self, label, TRUE, FALSE);
      int w, h;

      gtk_snapshot_append_color (snapshot, fabs (v) < frame->y_step * 1e-9 ? &zero : &grid,
                                 &GRAPHENE_RECT_INIT (frame->plot.origin.x, y - 0.5,
                                                      frame->plot.size.width, 1));
      pango_layout_get_pixel_size (layout, &w, &h);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (frame->plot.origin.x - AXIS_GAP - w,
                                                              y - h / 2.0));
      gtk_snapshot_append_layout (snapshot, layout, &text);
      gtk_snapshot_restore (snapshot);
    }

  if (unit != NULL)
    {
      g_autoptr(PangoLayout) layout = create_label (self, unit, TRUE, FALSE);
      int w, h;

      /* The unit sits at the right end of the legend's row. */
      pango_layout_get_pixel_size (layout, &w, &h);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot,
                              &GRAPHENE_POINT_INIT (frame->plot.origin.x + frame->plot.size.width - w,
                                                    MAX (0, (frame->legend_height - LEGEND_GAP - h) / 2)));
      gtk_snapshot_append_layout (snapshot, layout, &text);
      gtk_snapshot_restore (snapshot);
    }

  g_clear_pointer (&frame->value_axis, gsk_render_node_unref);
  frame->value_axis = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  self->stats.n_axis_builds++;
}

typedef struct {
  double x;
  double y;
} Vertex;

static void
path_from (cairo_t      *cr,
           const Vertex *v,
           guint         n)
{
  cairo_move_to (cr, v[0].x, v[0].y);
  for (guint i = 1; i < n; i++)
    cairo_line_to (cr, v[i].x, v[i].y);
}

/* The area under a line: without antialiasing, which is several times faster and invisible
 * here (the line covers the top edge, the bottom one is straight), and lets the areas of
 * points added later tile without seams. */
static void
draw_run_fill (cairo_t       *cr,
               const Vertex  *v,
               guint          n,
               const GdkRGBA *color,
               double         alpha,
               double         base_y)
{
  if (n < 2)
    return;
  cairo_save (cr);
  cairo_set_antialias (cr, CAIRO_ANTIALIAS_NONE);
  path_from (cr, v, n);
  cairo_line_to (cr, v[n - 1].x, base_y);
  cairo_line_to (cr, v[0].x, base_y);
  cairo_close_path (cr);
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, alpha);
  cairo_fill (cr);
  cairo_restore (cr);
}

/* dense: more than one vertex per two pixels, where the joins cannot be seen and cairo's fast
 * antialiasing looks the same at a quarter of the cost. */
static void
draw_run_line (cairo_t       *cr,
               const Vertex  *v,
               guint          n,
               const GdkRGBA *color,
               gboolean       dense)
{
  cairo_save (cr);
  gdk_cairo_set_source_rgba (cr, color);
  if (n == 1)
    {
      /* A lone sample has no segment: show it as a dot. */
      cairo_arc (cr, v[0].x, v[0].y, LINE_WIDTH * 1.25, 0, 2 * G_PI);
      cairo_fill (cr);
      cairo_restore (cr);
      return;
    }
  cairo_set_line_width (cr, LINE_WIDTH);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_line_join (cr, dense ? CAIRO_LINE_JOIN_BEVEL : CAIRO_LINE_JOIN_ROUND);
  if (dense)
    cairo_set_antialias (cr, CAIRO_ANTIALIAS_FAST);
  path_from (cr, v, n);
  cairo_stroke (cr);
  cairo_restore (cr);
}

typedef struct {
  guint first;
  guint min;
  guint max;
  guint last;
  guint count;
} Column;

/* A device pixel column's points as at most two vertices in time order: its lowest and
 * highest, which is all a column of pixels can show. */
static void
emit_column (const ChartFrame *frame,
             GArray           *points,
             const Column     *column,
             gint64            layer_start,
             GArray           *vertices)
{
  guint idx[2];
  double px_per_us = frame->plot.size.width / frame->window;

  if (column->count <= 2)
    {
      idx[0] = column->first;
      idx[1] = column->last;
    }
  else
    {
      idx[0] = MIN (column->min, column->max);
      idx[1] = MAX (column->min, column->max);
    }
  for (guint e = 0; e < 2; e++)
    if (e == 0 || idx[e] != idx[e - 1])
      {
        const OddChartPoint *pt = &g_array_index (points, OddChartPoint, idx[e]);
        Vertex vx = { (double) (pt->time - layer_start) * px_per_us,
                      y_for_value (frame, pt->value) - frame->plot.origin.y + LAYER_PAD };

        g_array_append_val (vertices, vx);
      }
}

/* The points of one series between start and stop as vertices in layer coordinates, split
 * into runs where the data has a gap (run_ends: the index after each run's last vertex). The
 * last point read is remembered in the series when track is set. */
static void
series_vertices (OddChart         *self,
                 ChartFrame       *frame,
                 OddChartSeries   *series,
                 gint64            layer_start,
                 gint64            layer_stop,
                 GArray           *vertices,
                 GArray           *run_ends,
                 gboolean          track)
{
  GArray *p = series->points;
  guint first = lower_bound (p, layer_start);
  guint last = lower_bound (p, layer_stop + 1);
  gint64 gap = series->interval > 0 ? series->interval * GAP_INTERVALS : G_MAXINT64;
  double px_per_dev = frame->plot.size.width / frame->window * frame->scale;
  gint64 column_index = G_MININT64;
  Column column = { 0 };
  gint64 prev_time = 0;
  gboolean have_column = FALSE;

  if (first > 0)
    first--;
  if (last < p->len)
    last++;
  self->stats.n_points_drawn += last - first;

  for (guint k = first; k < last; k++)
    {
      const OddChartPoint *pt = &g_array_index (p, OddChartPoint, k);
      gint64 col = (gint64) floor ((double) (pt->time - layer_start) * px_per_dev);

      if (have_column && pt->time - prev_time > gap)
        {
          emit_column (frame, p, &column, layer_start, vertices);
          g_array_append_val (run_ends, vertices->len);
          have_column = FALSE;
        }
      if (!have_column || col != column_index)
        {
          if (have_column)
            emit_column (frame, p, &column, layer_start, vertices);
          column_index = col;
          column = (Column) { k, k, k, k, 1 };
          have_column = TRUE;
        }
      else
        {
          column.last = k;
          column.count++;
          if (pt->value < g_array_index (p, OddChartPoint, column.min).value)
            column.min = k;
          if (pt->value > g_array_index (p, OddChartPoint, column.max).value)
            column.max = k;
        }
      prev_time = pt->time;
    }
  if (have_column)
    {
      emit_column (frame, p, &column, layer_start, vertices);
      g_array_append_val (run_ends, vertices->len);
    }
  if (track)
    {
      series->drawn_any = have_column;
      if (have_column)
        {
          const OddChartPoint *pt = &g_array_index (p, OddChartPoint, last - 1);

          series->drawn_until = pt->time;
          series->drawn_x = (double) (pt->time - layer_start) * frame->plot.size.width / frame->window;
          series->drawn_y = y_for_value (frame, pt->value) - frame->plot.origin.y + LAYER_PAD;
        }
    }
}

static double
fill_alpha (OddChart *self)
{
  return self->dark ? 0.11 : 0.08;
}

static double
layer_base_y (const ChartFrame *frame)
{
  return y_for_value (frame, CLAMP (0, frame->y_min, frame->y_max)) - frame->plot.origin.y + LAYER_PAD;
}

/* The node that shows the layer's pixels as they are now. A cairo node that paints the image
 * surface rather than a texture: GTK 4.8's cairo renderer converts a texture's pixels one by
 * one on every frame, while cairo blits an image surface (and keeps a copy-on-write snapshot
 * of it, so later additions to the surface do not reach this node). */
static void
update_series_node (ChartFrame *frame)
{
  cairo_t *cr;

  g_clear_pointer (&frame->series_node, gsk_render_node_unref);
  frame->series_node = gsk_cairo_node_new (&frame->series_bounds);
  cr = gsk_cairo_node_get_draw_context (frame->series_node);
  cairo_translate (cr, frame->series_bounds.origin.x, frame->series_bounds.origin.y);
  cairo_scale (cr, 1.0 / frame->scale, 1.0 / frame->scale);
  if (frame->tail_surface != NULL)
    {
      /* Left of the tail only: its own (cleared) part would cost a composite of nothing. */
      cairo_rectangle (cr, 0, 0, frame->tail_px, cairo_image_surface_get_height (frame->series_surface));
      cairo_clip (cr);
    }
  cairo_set_source_surface (cr, frame->series_surface, 0, 0);
  cairo_paint (cr);
  if (frame->tail_surface != NULL)
    {
      cairo_reset_clip (cr);
      cairo_set_source_surface (cr, frame->tail_surface, frame->tail_px, 0);
      cairo_paint (cr);
    }
  cairo_destroy (cr);
}

/* Moves the layer's pixels from a little before the window's end (where the newest drawn
 * point is) into a surface of their own, the tail, before any node holds the layer: new
 * points are drawn into the tail, so the copy-on-write snapshot the next node takes copies
 * the tail (an eighth of the layer) and not the whole layer (a megabyte a chart a second). */
static void
split_tail (ChartFrame *frame)
{
  int w = cairo_image_surface_get_width (frame->series_surface);
  int h = cairo_image_surface_get_height (frame->series_surface);
  cairo_t *cr;

  frame->tail_px = CLAMP ((int) floor ((frame->plot.size.width - TAIL_MARGIN) * frame->scale), 0, w - 1);
  frame->tail_surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w - frame->tail_px, h);
  cr = cairo_create (frame->tail_surface);
  cairo_set_operator (cr, CAIRO_OPERATOR_SOURCE);
  cairo_set_source_surface (cr, frame->series_surface, -frame->tail_px, 0);
  cairo_paint (cr);
  cairo_destroy (cr);
  cr = cairo_create (frame->series_surface);
  cairo_set_operator (cr, CAIRO_OPERATOR_CLEAR);
  cairo_rectangle (cr, frame->tail_px, 0, w - frame->tail_px, h);
  cairo_fill (cr);
  cairo_destroy (cr);
}

static void
build_series_layer (OddChart   *self,
                      ChartFrame *frame,
                      gint64      layer_start,
                      gint64      layer_stop,
                      gboolean    track)
{
  g_autoptr(GArray) vertices = g_array_new (FALSE, FALSE, sizeof (Vertex));
  g_autoptr(GArray) run_ends = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GArray) series_ends = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GArray) series_dense = g_array_new (FALSE, FALSE, sizeof (gboolean));
  double width = ceil (frame->plot.size.width * (1 + AHEAD_FRACTION));
  double height = frame->plot.size.height + 2 * LAYER_PAD;
  int w = (int) ceil (width * frame->scale);
  int h = (int) ceil (height * frame->scale);
  double base_y = layer_base_y (frame);
  cairo_t *cr;

  g_clear_pointer (&frame->series_node, gsk_render_node_unref);
  g_clear_pointer (&frame->series_surface, cairo_surface_destroy);
  g_clear_pointer (&frame->tail_surface, cairo_surface_destroy);
  frame->layer_start = layer_start;
  frame->layer_stop = layer_stop;
  frame->series_bounds = GRAPHENE_RECT_INIT (frame->plot.origin.x, frame->plot.origin.y - LAYER_PAD,
                                              (double) w / frame->scale, (double) h / frame->scale);
  if (w <= 0 || h <= 0)
    return;

  for (guint i = 0; i < self->series->len; i++)
    {
      OddChartSeries *series = g_ptr_array_index (self->series, i);
      guint before = vertices->len;
      gboolean dense;

      if (series->visible)
        series_vertices (self, frame, series, layer_start, layer_stop, vertices, run_ends, track);
      else if (track)
        series->drawn_any = FALSE;
      dense = vertices->len - before > width / 2;
      g_array_append_val (series_ends, run_ends->len);
      g_array_append_val (series_dense, dense);
    }

  frame->series_surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  cr = cairo_create (frame->series_surface);
  cairo_scale (cr, frame->scale, frame->scale);

  /* All areas first, then all lines, so that no area covers another series' line. */
  for (guint pass = 0; pass < 2; pass++)
    {
      guint run = 0, start = 0;

      for (guint i = 0; i < self->series->len; i++)
        {
          OddChartSeries *series = g_ptr_array_index (self->series, i);
          guint series_end = g_array_index (series_ends, guint, i);
          GdkRGBA color;

          series_rgba (self, series, &color);
          for (; run < series_end; run++)
            {
              guint end = g_array_index (run_ends, guint, run);
              const Vertex *v = &g_array_index (vertices, Vertex, start);

              if (pass == 0)
                draw_run_fill (cr, v, end - start, &color, fill_alpha (self), base_y);
              else
                draw_run_line (cr, v, end - start, &color, g_array_index (series_dense, gboolean, i));
              start = end;
            }
        }
    }
  cairo_destroy (cr);
  split_tail (frame);
  update_series_node (frame);
}

/* A cairo context on the tail (clip_left FALSE) or on the layer left of it, in the layer's
 * logical coordinates. */
static cairo_t *
layer_context (ChartFrame *frame,
               gboolean    left_of_tail)
{
  cairo_t *cr = cairo_create (left_of_tail ? frame->series_surface : frame->tail_surface);

  if (left_of_tail)
    {
      /* The tail's pixels are the tail's: nothing is drawn twice where they meet. */
      cairo_rectangle (cr, 0, 0, frame->tail_px, cairo_image_surface_get_height (frame->series_surface));
      cairo_clip (cr);
    }
  else
    cairo_translate (cr, -frame->tail_px, 0);
  cairo_scale (cr, frame->scale, frame->scale);
  return cr;
}

/* Adds the points that came after the newest drawn ones to the layer; the rest stays. New
 * points land in the tail; the rest of the layer is drawn on (and then copied once by its
 * snapshot) only for a line that starts left of the tail (a series that was silent). */
static void
append_to_layer (OddChart   *self,
                 ChartFrame *frame)
{
  double px_per_us = frame->plot.size.width / frame->window;
  double base_y = layer_base_y (frame);
  double tail_x = (double) frame->tail_px / frame->scale;
  gboolean changed = FALSE;
  cairo_t *contexts[2] = { NULL, NULL };  /* tail, left of it */

  if (frame->series_surface == NULL || frame->tail_surface == NULL)
    return;
  for (guint i = 0; i < self->series->len; i++)
    {
      OddChartSeries *series = g_ptr_array_index (self->series, i);
      GArray *p = series->points;
      gint64 gap = series->interval > 0 ? series->interval * GAP_INTERVALS : G_MAXINT64;
      GdkRGBA color;
      guint k;

      if (!series->visible)
        continue;
      series_rgba (self, series, &color);
      k = series->drawn_any ? lower_bound (p, series->drawn_until + 1) : lower_bound (p, frame->layer_start);
      for (; k < p->len; k++)
        {
          const OddChartPoint *pt = &g_array_index (p, OddChartPoint, k);
          gboolean joined;
          double left;
          Vertex v[2];

          if (pt->time > frame->layer_stop)
            break;
          v[1] = (Vertex) { (double) (pt->time - frame->layer_start) * px_per_us,
                            y_for_value (frame, pt->value) - frame->plot.origin.y + LAYER_PAD };
          v[0] = (Vertex) { series->drawn_x, series->drawn_y };
          joined = series->drawn_any && pt->time - series->drawn_until <= gap;
          left = (joined ? MIN (v[0].x, v[1].x) : v[1].x) - 2 * LINE_WIDTH;
          for (guint c = 0; c < 2; c++)
            {
              if (c == 1 && left >= tail_x)
                break;
              if (contexts[c] == NULL)
                contexts[c] = layer_context (frame, c == 1);
              if (joined)
                {
                  draw_run_fill (contexts[c], v, 2, &color, fill_alpha (self), base_y);
                  draw_run_line (contexts[c], v, 2, &color, FALSE);
                }
              else
                draw_run_line (contexts[c], &v[1], 1, &color, FALSE);
            }
          series->drawn_any = TRUE;
          series->drawn_until = pt->time;
          series->drawn_x = v[1].x;
          series->drawn_y = v[1].y;
          self->stats.n_points_drawn++;
          changed = TRUE;
        }
    }
  for (guint c = 0; c < 2; c++)
    g_clear_pointer (&contexts[c], cairo_destroy);
  if (changed)
    update_series_node (frame);
}

static void
build_time_axis (OddChart   *self,
                 ChartFrame *frame,
                 gint64      layer_start,
                 gint64      layer_stop)
{
  g_autoptr(GtkSnapshot) grid = gtk_snapshot_new ();
  GdkRGBA line = fg_alpha (self, self->dark ? 0.07 : 0.055);
  GdkRGBA text = fg_alpha (self, 0.6);
  guint max_ticks = (guint) MAX (1, floor (frame->plot.size.width / TIME_TICK_PX));
  gint64 step = odd_chart_nice_time_step (frame->window, max_ticks);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  /* Ticks fall on whole steps of local time: 10:15, not 10:14 UTC+1 shifted. */
  gint64 offset = g_date_time_get_utc_offset (now);
  gint64 t = (layer_start + offset) / step * step - offset - step;

  if (frame->time_ticks == NULL)
    frame->time_ticks = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_array_set_size (frame->time_ticks, 0);
  frame->time_step = step;
  g_clear_pointer (&frame->time_labels, g_ptr_array_unref);
  frame->time_labels = g_ptr_array_new_with_free_func ((GDestroyNotify) gsk_render_node_unref);

  for (; t <= layer_stop + step; t += step)
    {
      double x = round (x_for_time (frame, layer_start, t) * frame->scale) / frame->scale;
      g_autofree char *label = odd_chart_format_time (t, step);
      g_autoptr(PangoLayout) layout = create_label (self, label, TRUE, FALSE);
      g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
      GskRenderNode *node;
      int w, h;

      g_array_append_val (frame->time_ticks, t);
      gtk_snapshot_append_color (grid, &line,
                                 &GRAPHENE_RECT_INIT (x - 0.5, frame->plot.origin.y, 1, frame->plot.size.height));
      pango_layout_get_pixel_size (layout, &w, &h);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (round (x - w / 2.0),
                                                              frame->plot.origin.y + frame->plot.size.height + TIME_GAP));
      gtk_snapshot_append_layout (snapshot, layout, &text);
      node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
      if (node != NULL)
        g_ptr_array_add (frame->time_labels, node);
    }

  g_clear_pointer (&frame->time_grid, gsk_render_node_unref);
  frame->time_grid = gtk_snapshot_free_to_node (g_steal_pointer (&grid));
}

/* Brings the frame up to date for a drawing with the window ending at end; rebuilds only what
 * changed. */
static void
frame_prepare (OddChart   *self,
               ChartFrame *frame,
               int         width,
               int         height,
               int         scale,
               double      legend_height,
               gint64      end)
{
  double data_min, data_max, y_min, y_max, y_step, plot_h, label_w = 0;
  guint max_ticks;
  gint64 start = end - self->window;

  if (frame->width != width || frame->height != height || frame->scale != scale ||
      frame->legend_height != legend_height || frame->window != self->window)
    {
      frame_clear (frame);
      frame->width = width;
      frame->height = height;
      frame->scale = scale;
      frame->legend_height = legend_height;
      frame->window = self->window;
    }

  plot_h = height - legend_height - self->label_height / 2 - self->label_height - TIME_GAP;
  plot_h = MAX (plot_h, 1);
  max_ticks = (guint) CLAMP (floor (plot_h / VALUE_TICK_PX), 1, 8);
  visible_range (self, start, end, &data_min, &data_max, &frame->has_data);
  odd_chart_nice_value_axis (data_min, data_max, max_ticks, &y_min, &y_max, &y_step);

  if (frame->value_axis == NULL || y_min != frame->y_min || y_max != frame->y_max || y_step != frame->y_step)
    {
      guint n;

      frame->y_min = y_min;
      frame->y_max = y_max;
      frame->y_step = y_step;
      n = (guint) llround ((y_max - y_min) / y_step);
      for (guint i = 0; i <= n; i++)
        {
          g_autofree char *label = odd_chart_format_tick (y_min + i * y_step, y_step);
          g_autoptr(PangoLayout) layout = create_label (self, label, TRUE, FALSE);
          int w;

          pango_layout_get_pixel_size (layout, &w, NULL);
          label_w = MAX (label_w, w);
        }
      frame->plot = GRAPHENE_RECT_INIT (MAX (label_w, 16) + AXIS_GAP,
                                        legend_height + self->label_height / 2,
                                        MAX (1, width - MAX (label_w, 16) - AXIS_GAP - RIGHT_PAD),
                                        plot_h);
      build_value_axis (self, frame);
      frame->layer_valid = FALSE;
    }

  if (frame->layer_valid &&
      (end < frame->layer_end || end > frame->layer_end + (gint64) (self->window * AHEAD_FRACTION)))
    frame->layer_valid = FALSE;

  if (!frame->layer_valid)
    {
      gint64 layer_start = end - self->window;
      gint64 layer_stop = end + (gint64) (self->window * AHEAD_FRACTION);

      self->stats.n_points_drawn = 0;
      build_series_layer (self, frame, layer_start, layer_stop, frame == &self->frame);
      build_time_axis (self, frame, layer_start, layer_stop);
      frame->layer_end = end;
      frame->layer_valid = TRUE;
      self->stats.n_layer_builds++;
      if (frame == &self->frame)
        self->appended = FALSE;
    }
  else if (frame == &self->frame && self->appended)
    {
      append_to_layer (self, frame);
      self->appended = FALSE;
      self->stats.n_layer_appends++;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Drawing a frame                                                                           */
/* ---------------------------------------------------------------------------------------- */

static double
frame_shift (const ChartFrame *frame,
             gint64            end)
{
  double shift = (double) (end - frame->layer_end) / frame->window * frame->plot.size.width;

  /* Whole device pixels keep the lines crisp while they slide. */
  return round (shift * frame->scale) / frame->scale;
}

static void
draw_swatch (GtkSnapshot   *snapshot,
             double         cx,
             double         cy,
             double         radius,
             const GdkRGBA *color,
             gboolean       filled)
{
  GskRoundedRect outer;

  gsk_rounded_rect_init_from_rect (&outer, &GRAPHENE_RECT_INIT (cx - radius, cy - radius, 2 * radius, 2 * radius), radius);
  if (filled)
    {
      gtk_snapshot_push_rounded_clip (snapshot, &outer);
      gtk_snapshot_append_color (snapshot, color, &outer.bounds);
      gtk_snapshot_pop (snapshot);
    }
  else
    {
      const GdkRGBA colors[4] = { *color, *color, *color, *color };
      const float widths[4] = { 1.5, 1.5, 1.5, 1.5 };

      gtk_snapshot_append_border (snapshot, &outer, widths, colors);
    }
}

/* The legend of an exported image (the widget's legend is made of buttons). */
static void
draw_export_legend (OddChart    *self,
                    ChartFrame  *frame,
                    GtkSnapshot *snapshot)
{
  double x = frame->plot.origin.x;

  for (guint i = 0; i < self->series->len; i++)
    {
      OddChartSeries *series = g_ptr_array_index (self->series, i);
      g_autoptr(PangoLayout) layout = NULL;
      GdkRGBA color;
      int w, h;

      if (!series->visible)
        continue;
      series_rgba (self, series, &color);
      layout = create_label (self, series->label, FALSE, FALSE);
      pango_layout_get_pixel_size (layout, &w, &h);
      draw_swatch (snapshot, x + 5, (frame->legend_height - LEGEND_GAP) / 2, 5, &color, TRUE);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x + 16, (frame->legend_height - LEGEND_GAP - h) / 2));
      gtk_snapshot_append_layout (snapshot, layout, &self->fg);
      gtk_snapshot_restore (snapshot);
      x += 16 + w + 18;
    }
}

static gboolean
hover_state (OddChart   *self,
             ChartFrame *frame,
             gint64      end,
             gint64     *hover_time)
{
  gint64 start = end - self->window;
  gint64 t, best = G_MININT64;
  double tolerance;

  if (!self->hovering || frame->plot.size.width <= 1 ||
      self->hover_x < frame->plot.origin.x - 1 ||
      self->hover_x > frame->plot.origin.x + frame->plot.size.width + 1)
    return FALSE;

  t = start + (gint64) ((self->hover_x - frame->plot.origin.x) / frame->plot.size.width * self->window);
  tolerance = HOVER_NEAR_PX / frame->plot.size.width * self->window;

  /* The crosshair snaps to the nearest sample of any shown series. */
  for (guint i = 0; i < self->series->len; i++)
    {
      OddChartSeries *series = g_ptr_array_index (self->series, i);
      GArray *p = series->points;
      guint k;

      if (!series->visible || p->len == 0)
        continue;
      k = lower_bound (p, t);
      for (guint j = (k > 0 ? k - 1 : 0); j <= k && j < p->len; j++)
        {
          gint64 pt = g_array_index (p, OddChartPoint, j).time;

          if (pt < start || pt > end)
            continue;
          if (best == G_MININT64 || llabs (pt - t) < llabs (best - t))
            best = pt;
        }
    }
  if (best == G_MININT64 || llabs (best - t) > MAX (tolerance, 0) + self->window / 2)
    return FALSE;
  *hover_time = best;
  return TRUE;
}

/* The sample of a series shown at a hovered time: the one at that time, or the nearest within
 * its own sample interval. */
static gboolean
series_point_near (OddChartSeries *series,
                   gint64          time,
                   gint64          tolerance,
                   OddChartPoint  *out)
{
  GArray *p = series->points;
  guint k = lower_bound (p, time);
  const OddChartPoint *best = NULL;

  for (guint j = (k > 0 ? k - 1 : 0); j <= k && j < p->len; j++)
    {
      const OddChartPoint *pt = &g_array_index (p, OddChartPoint, j);

      if (best == NULL || llabs (pt->time - time) < llabs (best->time - time))
        best = pt;
    }
  if (best == NULL || llabs (best->time - time) > MAX (tolerance, series->interval / 2))
    return FALSE;
  *out = *best;
  return TRUE;
}

static void
draw_hover (OddChart    *self,
            ChartFrame  *frame,
            GtkSnapshot *snapshot,
            gint64       end)
{
  gint64 start = end - self->window;
  gint64 time;
  gint64 tolerance;
  g_autoptr(PangoLayout) title = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) colors = g_array_new (FALSE, FALSE, sizeof (GdkRGBA));
  g_autofree char *time_text = NULL;
  GdkRGBA line = fg_alpha (self, 0.4);
  GdkRGBA background, border, shadow;
  double cx, box_w, box_h, name_w = 0, value_w = 0, row_h = 0, bx, by;
  int tw, th;
  GskRoundedRect box;

  if (!hover_state (self, frame, end, &time))
    return;

  cx = round (x_for_time (frame, start, time) * frame->scale) / frame->scale;
  tolerance = (gint64) (HOVER_NEAR_PX / frame->plot.size.width * self->window);
  gtk_snapshot_append_color (snapshot, &line,
                             &GRAPHENE_RECT_INIT (cx - 0.5, frame->plot.origin.y, 1, frame->plot.size.height));

  background = self->dark ? (GdkRGBA) { 0.22, 0.22, 0.22, 0.97 } : (GdkRGBA) { 1, 1, 1, 0.97 };
  border = fg_alpha (self, 0.14);
  shadow = (GdkRGBA) { 0, 0, 0, self->dark ? 0.45 : 0.14 };

  for (guint i = 0; i < self->series->len; i++)
    {
      OddChartSeries *series = g_ptr_array_index (self->series, i);
      OddChartPoint pt;
      g_autofree char *value = NULL;
      g_autofree char *value_unit = NULL;
      PangoLayout *name_layout, *value_layout;
      GdkRGBA color;
      int w, h;
      double y;

      if (!series->visible || !series_point_near (series, time, tolerance, &pt))
        continue;
      series_rgba (self, series, &color);
      y = y_for_value (frame, pt.value);
      if (y >= frame->plot.origin.y - LAYER_PAD && y <= frame->plot.origin.y + frame->plot.size.height + LAYER_PAD)
        {
          draw_swatch (snapshot, x_for_time (frame, start, pt.time), y, 5.5, &background, TRUE);
          draw_swatch (snapshot, x_for_time (frame, start, pt.time), y, 4, &color, TRUE);
        }

      value = odd_chart_format_value (pt.value);
      value_unit = series->unit && series->unit[0] ? g_strdup_printf ("%s %s", value, series->unit) : g_strdup (value);
      name_layout = create_label (self, series->label, FALSE, FALSE);
      value_layout = create_label (self, value_unit, FALSE, TRUE);
      pango_layout_get_pixel_size (name_layout, &w, &h);
      name_w = MAX (name_w, w);
      row_h = MAX (row_h, h);
      pango_layout_get_pixel_size (value_layout, &w, &h);
      value_w = MAX (value_w, w);
      g_ptr_array_add (names, name_layout);
      g_ptr_array_add (values, value_layout);
      g_array_append_val (colors, color);
    }

  time_text = odd_chart_format_time (time, 1);
  title = create_label (self, time_text, TRUE, FALSE);
  pango_layout_get_pixel_size (title, &tw, &th);
  box_w = MAX (tw, 18 + name_w + 24 + value_w) + 2 * 12;
  box_h = 8 + th + 6 + names->len * (row_h + 2) + 8;
  bx = cx + 14;
  if (bx + box_w > frame->width - 2)
    bx = cx - 14 - box_w;
  bx = MAX (bx, 2);
  by = frame->plot.origin.y + 6;

  gsk_rounded_rect_init_from_rect (&box, &GRAPHENE_RECT_INIT (bx, by, box_w, box_h), 8);
  gtk_snapshot_append_outset_shadow (snapshot, &box, &shadow, 0, 2, 0, 8);
  gtk_snapshot_push_rounded_clip (snapshot, &box);
  gtk_snapshot_append_color (snapshot, &background, &box.bounds);
  gtk_snapshot_pop (snapshot);
  gtk_snapshot_append_border (snapshot, &box, (float[4]) { 1, 1, 1, 1 },
                              (GdkRGBA[4]) { border, border, border, border });

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (bx + 12, by + 8));
  {
    GdkRGBA dim = fg_alpha (self, 0.7);

    gtk_snapshot_append_layout (snapshot, title, &dim);
  }
  gtk_snapshot_restore (snapshot);

  for (guint i = 0; i < names->len; i++)
    {
      double ry = by + 8 + th + 6 + i * (row_h + 2);
      int w;

      draw_swatch (snapshot, bx + 12 + 5, ry + row_h / 2, 5, &g_array_index (colors, GdkRGBA, i), TRUE);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (bx + 12 + 18, ry));
      gtk_snapshot_append_layout (snapshot, g_ptr_array_index (names, i), &self->fg);
      gtk_snapshot_restore (snapshot);
      /* Values right-aligned: with tabular figures their digits line up. */
      pango_layout_get_pixel_size (g_ptr_array_index (values, i), &w, NULL);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (bx + box_w - 12 - w, ry));
      gtk_snapshot_append_layout (snapshot, g_ptr_array_index (values, i), &self->fg);
      gtk_snapshot_restore (snapshot);
    }
}

static void
frame_snapshot (OddChart    *self,
                ChartFrame  *frame,
                GtkSnapshot *snapshot,
                gint64       end,
                gboolean     with_hover)
{
  double shift = frame_shift (frame, end);

  gtk_snapshot_append_node (snapshot, frame->value_axis);

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (frame->plot.origin.x, frame->plot.origin.y - LAYER_PAD,
                                                         frame->plot.size.width, frame->plot.size.height + 2 * LAYER_PAD));
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (-shift, 0));
  if (frame->time_grid != NULL)
    gtk_snapshot_append_node (snapshot, frame->time_grid);
  if (frame->series_node != NULL)
    gtk_snapshot_append_node (snapshot, frame->series_node);
  gtk_snapshot_pop (snapshot);

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, frame->plot.origin.y + frame->plot.size.height,
                                                         frame->width, frame->height - frame->plot.origin.y - frame->plot.size.height));
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (-shift, 0));
  /* Only whole labels: one that slides past an edge goes at once instead of being cut. */
  for (guint i = 0; frame->time_labels != NULL && i < frame->time_labels->len; i++)
    {
      GskRenderNode *label = g_ptr_array_index (frame->time_labels, i);
      graphene_rect_t bounds;

      gsk_render_node_get_bounds (label, &bounds);
      if (bounds.origin.x - shift >= 0 && bounds.origin.x + bounds.size.width - shift <= frame->width)
        gtk_snapshot_append_node (snapshot, label);
    }
  gtk_snapshot_pop (snapshot);

  if (!frame->has_data)
    {
      g_autoptr(PangoLayout) layout = create_label (self, _("No data in this time window"), FALSE, FALSE);
      GdkRGBA dim = fg_alpha (self, 0.55);
      int w, h;

      pango_layout_get_pixel_size (layout, &w, &h);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (frame->plot.origin.x + (frame->plot.size.width - w) / 2,
                                                              frame->plot.origin.y + (frame->plot.size.height - h) / 2));
      gtk_snapshot_append_layout (snapshot, layout, &dim);
      gtk_snapshot_restore (snapshot);
    }

  if (with_hover)
    draw_hover (self, frame, snapshot, end);
}

/* ---------------------------------------------------------------------------------------- */
/* GtkWidget                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static double
legend_row_height (OddChart *self)
{
  int h = 0;

  if (gtk_widget_should_layout (self->legend))
    gtk_widget_measure (self->legend, GTK_ORIENTATION_VERTICAL, -1, NULL, &h, NULL, NULL);
  return h + LEGEND_GAP;
}

static void
odd_chart_measure (GtkWidget      *widget,
                   GtkOrientation  orientation,
                   int             for_size,
                   int            *minimum,
                   int            *natural,
                   int            *minimum_baseline,
                   int            *natural_baseline)
{
  OddChart *self = ODD_CHART (widget);
  int legend_min = 0, legend_nat = 0;

  gtk_widget_measure (self->legend, orientation, -1, &legend_min, &legend_nat, NULL, NULL);
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = MAX (legend_min, 160);
      *natural = MAX (legend_nat, 480);
    }
  else
    {
      *minimum = legend_min + LEGEND_GAP + 120;
      *natural = legend_nat + LEGEND_GAP + 240;
    }
}

static void
odd_chart_size_allocate (GtkWidget *widget,
                         int        width,
                         int        height,
                         int        baseline)
{
  OddChart *self = ODD_CHART (widget);
  int legend_min = 0, legend_nat = 0, h = 0;
  int unit_w = 0;
  const char *unit = axis_unit (self);

  if (unit != NULL)
    {
      g_autoptr(PangoLayout) layout = create_label (self, unit, TRUE, FALSE);

      pango_layout_get_pixel_size (layout, &unit_w, NULL);
      unit_w += 12;
    }
  gtk_widget_measure (self->legend, GTK_ORIENTATION_HORIZONTAL, -1, &legend_min, &legend_nat, NULL, NULL);
  gtk_widget_measure (self->legend, GTK_ORIENTATION_VERTICAL, -1, NULL, &h, NULL, NULL);
  /* The legend on the left of the top row, the axis' unit (drawn) on its right. */
  gtk_widget_allocate (self->legend,
                       MAX (legend_min, MIN (legend_nat, width - unit_w)), h, -1,
                       gsk_transform_translate (NULL, &GRAPHENE_POINT_INIT (0, 0)));
  odd_chart_update_ticking (self);
}

static void
odd_chart_snapshot (GtkWidget   *widget,
                    GtkSnapshot *snapshot)
{
  OddChart *self = ODD_CHART (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  gint64 end = current_end (self);

  if (width <= 0 || height <= 0)
    return;

  self->stats.n_snapshots++;
  gtk_widget_snapshot_child (widget, self->legend, snapshot);
  frame_prepare (self, &self->frame, width, height, gtk_widget_get_scale_factor (widget),
                 legend_row_height (self), end);
  frame_snapshot (self, &self->frame, snapshot, end, TRUE);
}

/* Returns whether anything the drawing uses changed. */
static gboolean
update_style (OddChart *self)
{
  AdwStyleManager *manager = adw_style_manager_get_for_display (gtk_widget_get_display (GTK_WIDGET (self)));
  g_autoptr(PangoLayout) layout = NULL;
  gboolean dark = self->dark;
  GdkRGBA fg = self->fg;
  double label_height = self->label_height;
  int h;

  self->dark = adw_style_manager_get_dark (manager);
#if GTK_CHECK_VERSION (4, 10, 0)
  gtk_widget_get_color (GTK_WIDGET (self), &self->fg);
#else
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &self->fg);
#endif
  layout = create_label (self, "0", TRUE, FALSE);
  pango_layout_get_pixel_size (layout, NULL, &h);
  self->label_height = h;
  return dark != self->dark || !gdk_rgba_equal (&fg, &self->fg) || label_height != self->label_height;
}

static void
odd_chart_css_changed (GtkWidget         *widget,
                       GtkCssStyleChange *change)
{
  OddChart *self = ODD_CHART (widget);

  GTK_WIDGET_CLASS (odd_chart_parent_class)->css_changed (widget, change);
  /* The window's focus changes the style too (backdrop); most such changes leave the chart's
   * colours and font alone, and then the cached drawing stays. */
  if (update_style (self))
    odd_chart_invalidate (self, TRUE);
}

static void
on_dark_changed (OddChart *self)
{
  if (update_style (self))
    odd_chart_invalidate (self, TRUE);
  for (guint i = 0; i < self->series->len; i++)
    gtk_widget_queue_draw (((OddChartSeries *) g_ptr_array_index (self->series, i))->legend_swatch);
}

static void schedule_step (OddChart *self);

static gboolean
on_wake (gpointer data)
{
  OddChart *self = data;

  self->wake_id = 0;
  schedule_step (self);
  return G_SOURCE_REMOVE;
}

/* The time between two scrolling frames: the largest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ µs
 * that is no longer than a device pixel's time. Charts of a window's length whose plots are
 * nearly as wide (a page's column of charts, whose value labels differ) get the same one and
 * so scroll in the same frames: one repaint for all of them instead of one each. A step moves
 * a chart by a pixel or, now and then, none. */
gint64
odd_chart_scroll_quantum (double us_per_px)
{
  static const double mantissas[] = { 8, 6, 5, 4, 3, 2.5, 2, 1.5, 1.2, 1 };
  double decade;

  if (!(us_per_px >= 1))
    return 1;
  decade = pow (10, floor (log10 (us_per_px)));
  for (guint i = 0; i < G_N_ELEMENTS (mantissas); i++)
    if (mantissas[i] * decade <= us_per_px * (1 + 1e-9))
      return MAX ((gint64) (mantissas[i] * decade), 1);
  return MAX ((gint64) decade, 1);
}

/* Queues a drawing when the chart is due to move; returns how long it may sleep until the
 * next step (µs), or -1 to be asked again next frame. */
static gint64
step (OddChart *self)
{
  OddChartSeries *newest_series = NULL;
  double plot_w = self->frame.plot.size.width;
  double us_per_px;
  gint64 now, index, quantum, interval;

  if (plot_w <= 1)
    return -1;
  now = g_get_real_time ();
  us_per_px = (double) self->window / (plot_w * MAX (gtk_widget_get_scale_factor (GTK_WIDGET (self)), 1));
  newest_time (self, &newest_series);
  interval = newest_series != NULL ? CLAMP (newest_series->interval, 0, MAX_LAG) : 0;

  if (interval > 0 && self->last_data_time != 0 && interval / us_per_px <= DATA_PACED_MAX_PX)
    {
      /* A few pixels a sample: each step comes with the new points, in the frame that draws
       * them (one frame a sample for every chart of a page fed together). Should they stop
       * coming, the chart still slides, a sample interval at a time. */
      gint64 due = self->last_data_time + interval + interval / 4;

      if (now < due)
        return due - now;
      self->last_data_time = now;
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return interval;
    }

  /* Steps on the clock, not on the window's end: the ends of charts lag by their own sample
   * intervals, and their steps would fall apart. */
  quantum = odd_chart_scroll_quantum (us_per_px);
  index = now / quantum;
  if (index != self->last_step_index)
    {
      self->last_step_index = index;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  /* Long windows move a pixel every few hundred milliseconds or more: sleep until the next
   * step, which every chart with this quantum shares. */
  return quantum > SLEEP_US_PER_PX ? (index + 1) * quantum - now : -1;
}

static gboolean
on_tick (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       data)
{
  OddChart *self = ODD_CHART (widget);
  gint64 wait_us = step (self);

  if (wait_us < 0)
    return G_SOURCE_CONTINUE;
  self->tick_id = 0;
  self->wake_id = g_timeout_add ((guint) CLAMP (wait_us / 1000 + 1, 1, 60000), on_wake, self);
  return G_SOURCE_REMOVE;
}

/* Sleeps in a timeout when the next step is far, else ticks with the frame clock. */
static void
schedule_step (OddChart *self)
{
  gint64 wait_us = step (self);

  if (wait_us < 0)
    self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), on_tick, NULL, NULL);
  else
    self->wake_id = g_timeout_add ((guint) CLAMP (wait_us / 1000 + 1, 1, 60000), on_wake, self);
}

static void
odd_chart_update_ticking (OddChart *self)
{
  gboolean want = self->live && gtk_widget_get_mapped (GTK_WIDGET (self)) &&
                  newest_time (self, NULL) != G_MININT64;

  if (want && self->tick_id == 0 && self->wake_id == 0)
    schedule_step (self);
  else if (!want)
    {
      if (self->tick_id != 0)
        gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
      g_clear_handle_id (&self->wake_id, g_source_remove);
    }
}

static void
odd_chart_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (odd_chart_parent_class)->map (widget);
  odd_chart_update_ticking (ODD_CHART (widget));
}

static void
odd_chart_unmap (GtkWidget *widget)
{
  OddChart *self = ODD_CHART (widget);

  GTK_WIDGET_CLASS (odd_chart_parent_class)->unmap (widget);
  odd_chart_update_ticking (self);
  /* Nothing is drawn while hidden: let the cached pixels go too. */
  frame_clear (&self->frame);
}

static void
on_motion (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           OddChart                 *self)
{
  odd_chart_hover_at (self, x);
}

static void
on_leave (GtkEventControllerMotion *controller,
          OddChart                 *self)
{
  odd_chart_hover_at (self, -1);
}

/* The shown sample time just before (direction < 0) or after the given one, or the newest. */
static gboolean
adjacent_sample (OddChart *self,
                 gint64    start,
                 gint64    end,
                 gint64    from,
                 int       direction,
                 gint64   *out)
{
  gboolean found = FALSE;

  for (guint i = 0; i < self->series->len; i++)
    {
      OddChartSeries *series = g_ptr_array_index (self->series, i);
      GArray *p = series->points;
      guint k;
      gint64 t;

      if (!series->visible || p->len == 0)
        continue;
      if (direction == 0)
        k = lower_bound (p, end + 1) - 1;
      else if (direction < 0)
        k = lower_bound (p, from) - 1;
      else
        k = lower_bound (p, from + 1);
      if (k >= p->len)  /* also wraps from -1 */
        continue;
      t = g_array_index (p, OddChartPoint, k).time;
      if (t < start || t > end)
        continue;
      /* The nearest one that way; with no way given, the newest. */
      if (!found || (direction > 0 ? t < *out : t > *out))
        *out = t;
      found = TRUE;
    }
  return found;
}

/* Left and Right walk the crosshair over the samples, Escape hides it. */
static gboolean
on_key_pressed (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                OddChart              *self)
{
  ChartFrame *frame = &self->frame;
  gint64 end = current_end (self), start = end - self->window, now = 0, next;
  int direction;

  switch (keyval)
    {
    case GDK_KEY_Left:
    case GDK_KEY_KP_Left:
      direction = -1;
      break;
    case GDK_KEY_Right:
    case GDK_KEY_KP_Right:
      direction = 1;
      break;
    case GDK_KEY_Escape:
      if (!self->hovering)
        return FALSE;
      odd_chart_hover_at (self, -1);
      return TRUE;
    default:
      return FALSE;
    }
  if (frame->plot.size.width <= 1)
    return FALSE;
  if (!hover_state (self, frame, end, &now))
    direction = 0;
  if (!adjacent_sample (self, start, end, now, direction, &next))
    return direction != 0;
  odd_chart_hover_at (self, x_for_time (frame, start, next));
  return TRUE;
}

static void
odd_chart_dispose (GObject *object)
{
  OddChart *self = ODD_CHART (object);

  if (self->tick_id != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
  self->tick_id = 0;
  g_clear_handle_id (&self->wake_id, g_source_remove);
  g_clear_pointer (&self->legend, gtk_widget_unparent);
  frame_clear (&self->frame);
  G_OBJECT_CLASS (odd_chart_parent_class)->dispose (object);
}

static void
odd_chart_finalize (GObject *object)
{
  OddChart *self = ODD_CHART (object);

  g_clear_pointer (&self->series, g_ptr_array_unref);
  G_OBJECT_CLASS (odd_chart_parent_class)->finalize (object);
}

static void
odd_chart_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  OddChart *self = ODD_CHART (object);

  switch (prop_id)
    {
    case PROP_WINDOW:
      g_value_set_double (value, odd_chart_get_window (self));
      break;
    case PROP_LIVE:
      g_value_set_boolean (value, self->live);
      break;
    case PROP_END_TIME:
      g_value_set_int64 (value, odd_chart_get_end_time (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_chart_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  OddChart *self = ODD_CHART (object);

  switch (prop_id)
    {
    case PROP_WINDOW:
      odd_chart_set_window (self, g_value_get_double (value));
      break;
    case PROP_LIVE:
      odd_chart_set_live (self, g_value_get_boolean (value));
      break;
    case PROP_END_TIME:
      odd_chart_set_end_time (self, g_value_get_int64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_chart_class_init (OddChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = odd_chart_dispose;
  object_class->finalize = odd_chart_finalize;
  object_class->get_property = odd_chart_get_property;
  object_class->set_property = odd_chart_set_property;

  widget_class->measure = odd_chart_measure;
  widget_class->size_allocate = odd_chart_size_allocate;
  widget_class->snapshot = odd_chart_snapshot;
  widget_class->css_changed = odd_chart_css_changed;
  widget_class->map = odd_chart_map;
  widget_class->unmap = odd_chart_unmap;

  /**
   * OddChart:window: the visible span of time, in seconds.
   */
  properties[PROP_WINDOW] =
    g_param_spec_double ("window", NULL, NULL, 1, 366 * 24 * 3600.0, 300,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * OddChart:live: the window ends at the clock and slides with it.
   */
  properties[PROP_LIVE] =
    g_param_spec_boolean ("live", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * OddChart:end-time: where the window ends when not live (µs since the epoch; 0 follows the
   * newest point).
   */
  properties[PROP_END_TIME] =
    g_param_spec_int64 ("end-time", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "chart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
odd_chart_init (OddChart *self)
{
  GtkEventController *motion, *key;

  self->series = g_ptr_array_new_with_free_func ((GDestroyNotify) series_free);
  self->window = 300 * G_USEC_PER_SEC;
  self->live = TRUE;
  self->last_step_index = G_MININT64;

  self->legend = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 2);
  gtk_widget_add_css_class (self->legend, "legend");
  gtk_widget_set_parent (self->legend, GTK_WIDGET (self));

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "enter", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), key);
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);

  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                           G_CALLBACK (on_dark_changed), self, G_CONNECT_SWAPPED);
  (void) update_style (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Public API                                                                                */
/* ---------------------------------------------------------------------------------------- */

/**
 * odd_chart_new:
 *
 * Returns: a chart with no series, a window of 5 minutes, live.
 */
GtkWidget *
odd_chart_new (void)
{
  return g_object_new (ODD_TYPE_CHART, NULL);
}

static void
odd_chart_invalidate (OddChart *self,
                      gboolean  axis_too)
{
  self->frame.layer_valid = FALSE;
  if (axis_too)
    g_clear_pointer (&self->frame.value_axis, gsk_render_node_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* What a screen reader says the chart shows; the page that holds it gives it a label. */
static void
update_description (OddChart *self)
{
  g_autoptr(GString) shown = g_string_new (NULL);
  g_autofree char *description = NULL;
  const char *unit = axis_unit (self);

  for (guint i = 0; i < self->series->len; i++)
    {
      OddChartSeries *series = g_ptr_array_index (self->series, i);

      if (!series->visible)
        continue;
      if (shown->len > 0)
        g_string_append (shown, ", ");
      g_string_append (shown, series->label);
    }
  if (shown->len == 0)
    description = g_strdup (_("No series shown"));
  else if (unit != NULL)
    /* Translators: "Submitted, Completed in jobs/s over the last 300 seconds" */
    description = g_strdup_printf (_("%s in %s over the last %.0f seconds"), shown->str, unit,
                                   (double) self->window / G_USEC_PER_SEC);
  else
    description = g_strdup_printf (_("%s over the last %.0f seconds"), shown->str,
                                   (double) self->window / G_USEC_PER_SEC);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description, -1);
}

static void
legend_update (OddChartSeries *series)
{
  g_autofree char *tip = g_strdup_printf (series->visible ? _("Hide “%s”") : _("Show “%s”"), series->label);

  gtk_widget_set_tooltip_text (series->legend_button, tip);
  if (series->visible)
    gtk_widget_remove_css_class (series->legend_label, "dim-label");
  else
    gtk_widget_add_css_class (series->legend_label, "dim-label");
  gtk_accessible_update_state (GTK_ACCESSIBLE (series->legend_button),
                               GTK_ACCESSIBLE_STATE_PRESSED, series->visible ? GTK_ACCESSIBLE_TRISTATE_TRUE
                                                                             : GTK_ACCESSIBLE_TRISTATE_FALSE,
                               -1);
  gtk_widget_queue_draw (series->legend_swatch);
  update_description (series->chart);
}

static void
draw_legend_swatch (GtkDrawingArea *area,
                    cairo_t        *cr,
                    int             width,
                    int             height,
                    gpointer        data)
{
  OddChartSeries *series = data;
  GdkRGBA color;
  double r = MIN (width, height) / 2.0 - 1;

  series_rgba (series->chart, series, &color);
  gdk_cairo_set_source_rgba (cr, &color);
  cairo_arc (cr, width / 2.0, height / 2.0, r, 0, 2 * G_PI);
  if (series->visible)
    cairo_fill (cr);
  else
    {
      cairo_set_line_width (cr, 1.5);
      cairo_new_path (cr);
      cairo_arc (cr, width / 2.0, height / 2.0, r - 0.75, 0, 2 * G_PI);
      cairo_stroke (cr);
    }
}

static void
on_legend_clicked (GtkButton      *button,
                   OddChartSeries *series)
{
  odd_chart_set_series_visible (series->chart, series->id, !series->visible);
}

/**
 * odd_chart_add_series:
 * @id: the name the other calls use
 * @label: shown in the legend and the hover
 * @unit: (nullable): of the values, e.g. "jobs/s"; the value axis shows the first shown one
 *
 * Adds an empty, shown series in the next free palette colour; an existing @id is relabelled.
 */
void
odd_chart_add_series (OddChart   *self,
                      const char *id,
                      const char *label,
                      const char *unit)
{
  OddChartSeries *series;
  GtkWidget *box;

  g_return_if_fail (ODD_IS_CHART (self));
  g_return_if_fail (id != NULL);
  g_return_if_fail (label != NULL);

  series = find_series (self, id);
  if (series != NULL)
    {
      g_free (series->label);
      g_free (series->unit);
      series->label = g_strdup (label);
      series->unit = g_strdup (unit);
      gtk_label_set_label (GTK_LABEL (series->legend_label), label);
      legend_update (series);
      odd_chart_invalidate (self, TRUE);
      gtk_widget_queue_allocate (GTK_WIDGET (self));
      return;
    }

  series = g_new0 (OddChartSeries, 1);
  series->chart = self;
  series->id = g_strdup (id);
  series->label = g_strdup (label);
  series->unit = g_strdup (unit);
  series->points = g_array_new (FALSE, FALSE, sizeof (OddChartPoint));
  series->visible = TRUE;
  series->color = next_free_color (self);
  series->color_auto = TRUE;

  series->legend_button = gtk_button_new ();
  gtk_widget_add_css_class (series->legend_button, "flat");
  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  series->legend_swatch = gtk_drawing_area_new ();
  gtk_drawing_area_set_content_width (GTK_DRAWING_AREA (series->legend_swatch), 12);
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (series->legend_swatch), 12);
  gtk_widget_set_valign (series->legend_swatch, GTK_ALIGN_CENTER);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (series->legend_swatch), draw_legend_swatch, series, NULL);
  series->legend_label = gtk_label_new (label);
  {
    /* A legend reads as text, not as the bold of a button. */
    PangoAttrList *attrs = pango_attr_list_new ();

    pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_NORMAL));
    gtk_label_set_attributes (GTK_LABEL (series->legend_label), attrs);
    pango_attr_list_unref (attrs);
  }
  gtk_box_append (GTK_BOX (box), series->legend_swatch);
  gtk_box_append (GTK_BOX (box), series->legend_label);
  gtk_button_set_child (GTK_BUTTON (series->legend_button), box);
  g_signal_connect (series->legend_button, "clicked", G_CALLBACK (on_legend_clicked), series);
  gtk_box_append (GTK_BOX (self->legend), series->legend_button);

  g_ptr_array_add (self->series, series);
  legend_update (series);
  odd_chart_invalidate (self, TRUE);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

/**
 * odd_chart_set_series_color:
 *
 * Gives the series one of the palette's colours (%ODD_CHART_COLOR_AUTO: a free one).
 */
void
odd_chart_set_series_color (OddChart      *self,
                            const char    *id,
                            OddChartColor  color)
{
  OddChartSeries *series;

  g_return_if_fail (ODD_IS_CHART (self));
  g_return_if_fail (id != NULL);
  g_return_if_fail (color <= ODD_CHART_COLOR_BROWN);

  series = find_series (self, id);
  g_return_if_fail (series != NULL);
  if (color == ODD_CHART_COLOR_AUTO)
    {
      series->color = ODD_CHART_COLOR_AUTO;
      color = next_free_color (self);
    }
  series->color = color;
  series->color_auto = FALSE;
  gtk_widget_queue_draw (series->legend_swatch);
  odd_chart_invalidate (self, FALSE);
}

/**
 * odd_chart_remove_series:
 *
 * Returns: whether a series of that id was there
 */
gboolean
odd_chart_remove_series (OddChart   *self,
                         const char *id)
{
  OddChartSeries *series;

  g_return_val_if_fail (ODD_IS_CHART (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  series = find_series (self, id);
  if (series == NULL)
    return FALSE;
  gtk_box_remove (GTK_BOX (self->legend), series->legend_button);
  g_ptr_array_remove (self->series, series);
  update_description (self);
  odd_chart_invalidate (self, TRUE);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  odd_chart_update_ticking (self);
  return TRUE;
}

/* appended: the only change is points after the series' newest one, which the next frame
 * can add to the layer instead of drawing it all again. */
static void
data_changed (OddChart       *self,
              OddChartSeries *series,
              gboolean        appended)
{
  series_update_interval (series);
  if (appended && self->frame.layer_valid)
    self->appended = TRUE;
  else
    self->frame.layer_valid = FALSE;
  if (appended)
    {
      /* A scroll that waits for the data starts waiting again from here. */
      self->last_data_time = g_get_real_time ();
      if (self->wake_id != 0)
        g_clear_handle_id (&self->wake_id, g_source_remove);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  odd_chart_update_ticking (self);
}

/**
 * odd_chart_set_points:
 * @points: (array length=n_points): in any order
 *
 * Replaces the series' points. Points that are not finite (NaN, ±inf) are not drawable and
 * are left out; of several points at one time the last one counts; beyond
 * %ODD_CHART_MAX_POINTS the oldest are left out.
 */
void
odd_chart_set_points (OddChart            *self,
                      const char          *id,
                      const OddChartPoint *points,
                      gsize                n_points)
{
  OddChartSeries *series;
  GArray *p;
  gboolean sorted = TRUE;
  guint skipped = 0, out = 0;

  g_return_if_fail (ODD_IS_CHART (self));
  g_return_if_fail (id != NULL);
  g_return_if_fail (points != NULL || n_points == 0);

  series = find_series (self, id);
  g_return_if_fail (series != NULL);

  p = series->points;
  g_array_set_size (p, 0);
  for (gsize i = 0; i < n_points; i++)
    {
      if (!isfinite (points[i].value))
        {
          skipped++;
          continue;
        }
      if (p->len > 0 && points[i].time <= g_array_index (p, OddChartPoint, p->len - 1).time)
        sorted = FALSE;
      g_array_append_val (p, points[i]);
    }
  if (skipped > 0)
    g_debug ("series %s: %u points without a finite value left out", id, skipped);

  if (!sorted)
    {
      /* A stable sort keeps the given order among equal times, so the last one wins below. */
      g_array_sort (p, compare_points);
    }
  for (guint i = 0; i < p->len; i++)
    {
      if (out > 0 && g_array_index (p, OddChartPoint, out - 1).time == g_array_index (p, OddChartPoint, i).time)
        out--;
      g_array_index (p, OddChartPoint, out++) = g_array_index (p, OddChartPoint, i);
    }
  g_array_set_size (p, out);
  series_trim (series);
  data_changed (self, series, FALSE);
}

/**
 * odd_chart_append_point:
 *
 * Adds one point: usually the newest; an older one is put in its place, one at an existing
 * time replaces that point's value (a bucket that filled up). A value that is not finite is
 * left out.
 */
void
odd_chart_append_point (OddChart   *self,
                        const char *id,
                        gint64      time,
                        double      value)
{
  OddChartSeries *series;
  OddChartPoint point = { time, value };
  GArray *p;

  g_return_if_fail (ODD_IS_CHART (self));
  g_return_if_fail (id != NULL);

  series = find_series (self, id);
  g_return_if_fail (series != NULL);
  if (!isfinite (value))
    {
      g_debug ("series %s: a point without a finite value left out", id);
      return;
    }

  p = series->points;
  if (p->len == 0 || time > g_array_index (p, OddChartPoint, p->len - 1).time)
    {
      g_array_append_val (p, point);
      if (p->len <= ODD_CHART_MAX_POINTS)
        {
          data_changed (self, series, TRUE);
          return;
        }
    }
  else
    {
      guint k = lower_bound (p, time);

      if (k < p->len && g_array_index (p, OddChartPoint, k).time == time)
        g_array_index (p, OddChartPoint, k).value = value;
      else
        g_array_insert_val (p, k, point);
    }
  series_trim (series);
  data_changed (self, series, FALSE);
}

/**
 * odd_chart_touch:
 *
 * A chart with no new points (no latency in a second without completed jobs) would otherwise
 * slide on the clock, a frame of its own every few hundred milliseconds.
 */
void
odd_chart_touch (OddChart *self)
{
  g_return_if_fail (ODD_IS_CHART (self));

  self->last_data_time = g_get_real_time ();
  g_clear_handle_id (&self->wake_id, g_source_remove);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  odd_chart_update_ticking (self);
}

/**
 * odd_chart_clear:
 *
 * Drops every series' points; the series stay.
 */
void
odd_chart_clear (OddChart *self)
{
  g_return_if_fail (ODD_IS_CHART (self));

  for (guint i = 0; i < self->series->len; i++)
    {
      OddChartSeries *series = g_ptr_array_index (self->series, i);

      g_array_set_size (series->points, 0);
      series->interval = 0;
    }
  odd_chart_invalidate (self, FALSE);
  odd_chart_update_ticking (self);
}

gsize
odd_chart_get_n_points (OddChart   *self,
                        const char *id)
{
  OddChartSeries *series;

  g_return_val_if_fail (ODD_IS_CHART (self), 0);
  g_return_val_if_fail (id != NULL, 0);

  series = find_series (self, id);
  return series ? series->points->len : 0;
}

void
odd_chart_set_series_visible (OddChart   *self,
                              const char *id,
                              gboolean    visible)
{
  OddChartSeries *series;

  g_return_if_fail (ODD_IS_CHART (self));
  g_return_if_fail (id != NULL);

  series = find_series (self, id);
  g_return_if_fail (series != NULL);
  visible = !!visible;
  if (series->visible == visible)
    return;
  series->visible = visible;
  legend_update (series);
  /* The axis unit and range may belong to another series now. */
  odd_chart_invalidate (self, TRUE);
  gtk_widget_queue_allocate (GTK_WIDGET (self));
  odd_chart_update_ticking (self);
}

gboolean
odd_chart_get_series_visible (OddChart   *self,
                              const char *id)
{
  OddChartSeries *series;

  g_return_val_if_fail (ODD_IS_CHART (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  series = find_series (self, id);
  return series != NULL && series->visible;
}

/**
 * odd_chart_set_window:
 * @seconds: the span the chart shows, at least 1 s
 */
void
odd_chart_set_window (OddChart *self,
                      double    seconds)
{
  gint64 window;

  g_return_if_fail (ODD_IS_CHART (self));
  g_return_if_fail (seconds >= 1 && seconds <= 366 * 24 * 3600.0);

  window = (gint64) (seconds * G_USEC_PER_SEC);
  if (window == self->window)
    return;
  self->window = window;
  self->last_step_index = G_MININT64;
  update_description (self);
  odd_chart_invalidate (self, TRUE);
  /* A shorter window may need the fast tick instead of the sleepy one. */
  g_clear_handle_id (&self->wake_id, g_source_remove);
  odd_chart_update_ticking (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WINDOW]);
}

double
odd_chart_get_window (OddChart *self)
{
  g_return_val_if_fail (ODD_IS_CHART (self), 0);

  return (double) self->window / G_USEC_PER_SEC;
}

void
odd_chart_set_live (OddChart *self,
                    gboolean  live)
{
  g_return_if_fail (ODD_IS_CHART (self));

  live = !!live;
  if (self->live == live)
    return;
  self->live = live;
  odd_chart_update_ticking (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LIVE]);
}

gboolean
odd_chart_get_live (OddChart *self)
{
  g_return_val_if_fail (ODD_IS_CHART (self), FALSE);

  return self->live;
}

/**
 * odd_chart_set_end_time:
 * @end_time: µs since the epoch, or 0 to follow the newest point
 *
 * Pins the window's end (and stops following the clock).
 */
void
odd_chart_set_end_time (OddChart *self,
                        gint64    end_time)
{
  g_return_if_fail (ODD_IS_CHART (self));
  g_return_if_fail (end_time >= 0);

  g_object_freeze_notify (G_OBJECT (self));
  odd_chart_set_live (self, FALSE);
  if (self->end_time != end_time)
    {
      self->end_time = end_time;
      gtk_widget_queue_draw (GTK_WIDGET (self));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_END_TIME]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * odd_chart_get_end_time:
 *
 * Returns: where the window ends now (µs since the epoch)
 */
gint64
odd_chart_get_end_time (OddChart *self)
{
  g_return_val_if_fail (ODD_IS_CHART (self), 0);

  return current_end (self);
}

/* The widget's frame, brought up to date for queries made between two drawings. */
static ChartFrame *
query_frame (OddChart *self,
             gint64   *end)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));

  if (width <= 0 || height <= 0)
    return NULL;
  *end = current_end (self);
  frame_prepare (self, &self->frame, width, height, gtk_widget_get_scale_factor (GTK_WIDGET (self)),
                 legend_row_height (self), *end);
  return &self->frame;
}

/**
 * odd_chart_point_at_x:
 * @x: in widget coordinates
 * @point: (out): the series' sample nearest to the time at @x
 *
 * Returns: whether the series has a sample in the window
 */
gboolean
odd_chart_point_at_x (OddChart      *self,
                      const char    *id,
                      double         x,
                      OddChartPoint *point)
{
  OddChartSeries *series;
  ChartFrame *frame;
  gint64 end, start, t;
  GArray *p;
  guint k;
  const OddChartPoint *best = NULL;

  g_return_val_if_fail (ODD_IS_CHART (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);
  g_return_val_if_fail (point != NULL, FALSE);

  series = find_series (self, id);
  if (series == NULL || (frame = query_frame (self, &end)) == NULL)
    return FALSE;
  start = end - self->window;
  t = start + (gint64) llround ((x - frame->plot.origin.x) / frame->plot.size.width * self->window);
  p = series->points;
  k = lower_bound (p, t);
  for (guint j = (k > 0 ? k - 1 : 0); j <= k && j < p->len; j++)
    {
      const OddChartPoint *pt = &g_array_index (p, OddChartPoint, j);

      if (pt->time < start || pt->time > end)
        continue;
      if (best == NULL || llabs (pt->time - t) < llabs (best->time - t))
        best = pt;
    }
  if (best == NULL)
    return FALSE;
  *point = *best;
  return TRUE;
}

/**
 * odd_chart_value_at_pixel:
 * @y: in widget coordinates
 * @value: (out): the value axis' value at @y
 *
 * Returns: whether @y is within the plot
 */
gboolean
odd_chart_value_at_pixel (OddChart *self,
                          double    y,
                          double   *value)
{
  ChartFrame *frame;
  gint64 end;

  g_return_val_if_fail (ODD_IS_CHART (self), FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  if ((frame = query_frame (self, &end)) == NULL)
    return FALSE;
  *value = frame->y_min + (frame->plot.origin.y + frame->plot.size.height - y) / frame->plot.size.height *
           (frame->y_max - frame->y_min);
  return y >= frame->plot.origin.y && y <= frame->plot.origin.y + frame->plot.size.height;
}

/**
 * odd_chart_pixel_for_point:
 * @x: (out) (optional):
 * @y: (out) (optional):
 *
 * Returns: whether the point is inside the plot
 */
gboolean
odd_chart_pixel_for_point (OddChart *self,
                           gint64    time,
                           double    value,
                           double   *x,
                           double   *y)
{
  ChartFrame *frame;
  gint64 end;
  double px, py;

  g_return_val_if_fail (ODD_IS_CHART (self), FALSE);

  if ((frame = query_frame (self, &end)) == NULL)
    return FALSE;
  px = x_for_time (frame, end - self->window, time);
  py = y_for_value (frame, value);
  if (x)
    *x = px;
  if (y)
    *y = py;
  return time >= end - self->window && time <= end && value >= frame->y_min && value <= frame->y_max;
}

void
odd_chart_get_value_range (OddChart *self,
                           double   *min,
                           double   *max,
                           double   *step)
{
  ChartFrame *frame;
  gint64 end;

  g_return_if_fail (ODD_IS_CHART (self));

  frame = query_frame (self, &end);
  if (min)
    *min = frame ? frame->y_min : 0;
  if (max)
    *max = frame ? frame->y_max : 1;
  if (step)
    *step = frame ? frame->y_step : 1;
}

void
odd_chart_hover_at (OddChart *self,
                    double    x)
{
  g_return_if_fail (ODD_IS_CHART (self));

  if (x < 0 && !self->hovering)
    return;
  self->hovering = x >= 0;
  self->hover_x = x;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/**
 * odd_chart_get_hover_time:
 * @time: (out): the sample time the crosshair stands on
 *
 * Returns: whether the crosshair is shown
 */
gboolean
odd_chart_get_hover_time (OddChart *self,
                          gint64   *time)
{
  ChartFrame *frame;
  gint64 end;

  g_return_val_if_fail (ODD_IS_CHART (self), FALSE);
  g_return_val_if_fail (time != NULL, FALSE);

  if ((frame = query_frame (self, &end)) == NULL)
    return FALSE;
  return hover_state (self, frame, end, time);
}

/**
 * odd_chart_get_hover_point:
 * @point: (out): the series' sample the hover box shows
 *
 * Returns: whether the hover box shows one for this series
 */
gboolean
odd_chart_get_hover_point (OddChart      *self,
                           const char    *id,
                           OddChartPoint *point)
{
  OddChartSeries *series;
  ChartFrame *frame;
  gint64 end, time;

  g_return_val_if_fail (ODD_IS_CHART (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);
  g_return_val_if_fail (point != NULL, FALSE);

  series = find_series (self, id);
  if (series == NULL || !series->visible || (frame = query_frame (self, &end)) == NULL ||
      !hover_state (self, frame, end, &time))
    return FALSE;
  return series_point_near (series, time, (gint64) (HOVER_NEAR_PX / frame->plot.size.width * self->window), point);
}

/**
 * odd_chart_render_png:
 * @width: of the image, in pixels
 * @height: of the image, in pixels
 *
 * Draws the window as shown (the shown series, their legend, both axes) on the style's
 * background, whether or not the widget is on screen.
 *
 * Returns: (transfer full): the PNG's bytes, or %NULL with @error set
 */
GBytes *
odd_chart_render_png (OddChart  *self,
                      int        width,
                      int        height,
                      GError   **error)
{
  ChartFrame frame = { 0 };
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GBytes) pixels = NULL;
  g_autoptr(PangoLayout) probe = NULL;
  cairo_surface_t *surface;
  cairo_t *cr;
  GdkRGBA background;
  gint64 end;
  int legend_h;
  OddChartStats saved = self->stats;

  g_return_val_if_fail (ODD_IS_CHART (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (width < 100 || height < 80 || width > 8192 || height > 8192)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("A chart image must be 100×80 to 8192×8192 pixels, not %d×%d"), width, height);
      return NULL;
    }

  probe = create_label (self, "Ag", FALSE, FALSE);
  pango_layout_get_pixel_size (probe, NULL, &legend_h);
  end = current_end (self);
  snapshot = gtk_snapshot_new ();
  /* The background the chart is seen on: libadwaita's view colours. */
  background = self->dark ? (GdkRGBA) { 0.118, 0.118, 0.118, 1 } : (GdkRGBA) { 1, 1, 1, 1 };
  gtk_snapshot_append_color (snapshot, &background, &GRAPHENE_RECT_INIT (0, 0, width, height));
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (12, 12));
  frame_prepare (self, &frame, width - 24, height - 24, 1, legend_h + 8 + LEGEND_GAP, end);
  draw_export_legend (self, &frame, snapshot);
  frame_snapshot (self, &frame, snapshot, end, FALSE);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  frame_clear (&frame);
  self->stats = saved;

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cr = cairo_create (surface);
  gsk_render_node_draw (node, cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Could not draw the chart: %s"),
                   cairo_status_to_string (cairo_surface_status (surface)));
      cairo_surface_destroy (surface);
      return NULL;
    }
  pixels = g_bytes_new_with_free_func (cairo_image_surface_get_data (surface),
                                       (gsize) cairo_image_surface_get_stride (surface) * height,
                                       (GDestroyNotify) cairo_surface_destroy, surface);
  texture = gdk_memory_texture_new (width, height, GDK_MEMORY_DEFAULT, pixels,
                                    cairo_image_surface_get_stride (surface));
  return gdk_texture_save_to_png_bytes (texture);
}

static void
csv_field (GString    *csv,
           const char *text)
{
  if (strpbrk (text, ",\"\r\n") == NULL)
    {
      g_string_append (csv, text);
      return;
    }
  g_string_append_c (csv, '"');
  for (const char *c = text; *c; c++)
    {
      if (*c == '"')
        g_string_append_c (csv, '"');
      g_string_append_c (csv, *c);
    }
  g_string_append_c (csv, '"');
}

/**
 * odd_chart_write_csv:
 *
 * Writes the shown series' points in the visible window: a header row ("time", then each
 * series' label and unit), one row per time at which any series has a point (empty cells
 * where a series has none), times in RFC 3339 UTC with milliseconds.
 *
 * Returns: (transfer full): the CSV text
 */
GBytes *
odd_chart_write_csv (OddChart *self)
{
  g_autoptr(GString) csv = g_string_new ("time");
  g_autoptr(GPtrArray) shown = g_ptr_array_new ();
  g_autofree guint *cursor = NULL;
  gint64 end, start;

  g_return_val_if_fail (ODD_IS_CHART (self), NULL);

  end = current_end (self);
  start = end - self->window;
  for (guint i = 0; i < self->series->len; i++)
    {
      OddChartSeries *series = g_ptr_array_index (self->series, i);
      g_autofree char *title = NULL;

      if (!series->visible)
        continue;
      g_ptr_array_add (shown, series);
      title = series->unit && series->unit[0] ? g_strdup_printf ("%s (%s)", series->label, series->unit)
                                              : g_strdup (series->label);
      g_string_append_c (csv, ',');
      csv_field (csv, title);
    }
  g_string_append (csv, "\r\n");

  /* A merge of the sorted series: each row is the smallest time any of them has next. */
  cursor = g_new0 (guint, MAX (shown->len, 1));
  for (guint i = 0; i < shown->len; i++)
    cursor[i] = lower_bound (((OddChartSeries *) g_ptr_array_index (shown, i))->points, start);
  for (;;)
    {
      gint64 t = G_MAXINT64;
      g_autoptr(GDateTime) dt = NULL;
      g_autofree char *stamp = NULL;

      for (guint i = 0; i < shown->len; i++)
        {
          GArray *p = ((OddChartSeries *) g_ptr_array_index (shown, i))->points;

          if (cursor[i] < p->len && g_array_index (p, OddChartPoint, cursor[i]).time <= end)
            t = MIN (t, g_array_index (p, OddChartPoint, cursor[i]).time);
        }
      if (t == G_MAXINT64)
        break;

      dt = g_date_time_new_from_unix_utc (t / G_USEC_PER_SEC);
      stamp = dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S") : g_strdup ("");
      g_string_append_printf (csv, "%s.%03dZ", stamp, (int) ((t % G_USEC_PER_SEC + G_USEC_PER_SEC) % G_USEC_PER_SEC / 1000));
      for (guint i = 0; i < shown->len; i++)
        {
          GArray *p = ((OddChartSeries *) g_ptr_array_index (shown, i))->points;

          g_string_append_c (csv, ',');
          if (cursor[i] < p->len && g_array_index (p, OddChartPoint, cursor[i]).time == t)
            {
              char buf[G_ASCII_DTOSTR_BUF_SIZE];

              g_string_append (csv, g_ascii_dtostr (buf, sizeof buf, g_array_index (p, OddChartPoint, cursor[i]).value));
              cursor[i]++;
            }
        }
      g_string_append (csv, "\r\n");
    }
  return g_string_free_to_bytes (g_steal_pointer (&csv));
}

void
odd_chart_get_stats (OddChart      *self,
                     OddChartStats *stats)
{
  g_return_if_fail (ODD_IS_CHART (self));
  g_return_if_fail (stats != NULL);

  *stats = self->stats;
}

gboolean
odd_chart_is_ticking (OddChart *self)
{
  g_return_val_if_fail (ODD_IS_CHART (self), FALSE);

  return self->tick_id != 0 || self->wake_id != 0;
}

const gint64 *
odd_chart_get_time_ticks (OddChart *self,
                          gint64   *step,
                          guint    *n_ticks)
{
  ChartFrame *frame;
  gint64 end;

  g_return_val_if_fail (ODD_IS_CHART (self), NULL);
  g_return_val_if_fail (n_ticks != NULL, NULL);

  frame = query_frame (self, &end);
  if (frame == NULL || frame->time_ticks == NULL)
    {
      *n_ticks = 0;
      return NULL;
    }
  if (step)
    *step = frame->time_step;
  *n_ticks = frame->time_ticks->len;
  return (const gint64 *) (gpointer) frame->time_ticks->data;
}
