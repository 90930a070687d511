/* odd-frame-timer.c: the time of each frame a GdkFrameClock paints
 *
 * SPDX-License-Identifier: MIT
 */
#include "odd-frame-timer.h"

#include <time.h>

static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void
on_before_paint (GdkFrameClock *clock,
                 OddFrameTimer *timer)
{
  timer->started = g_get_monotonic_time ();
  timer->started_cpu = thread_cpu_us ();
}

static void
on_after_paint (GdkFrameClock *clock,
                OddFrameTimer *timer)
{
  gint64 now = g_get_monotonic_time ();

  if (timer->started == 0)
    return;
  timer->last_ms = (now - timer->started) / 1000.0;
  timer->last_cpu_ms = (thread_cpu_us () - timer->started_cpu) / 1000.0;
  timer->started = 0;
  timer->frames++;
  if (timer->ms != NULL)
    {
      g_array_append_val (timer->ms, timer->last_ms);
      g_array_append_val (timer->cpu_ms, timer->last_cpu_ms);
      if (timer->last_end != 0)
        {
          double interval = (now - timer->last_end) / 1000.0;

          g_array_append_val (timer->interval_ms, interval);
        }
    }
  timer->last_end = now;
}

void
odd_frame_timer_attach (OddFrameTimer *timer,
                        GdkFrameClock *clock)
{
  /* After GTK's own before-paint handler, before nothing of the frame has run yet. */
  g_signal_connect (clock, "before-paint", G_CALLBACK (on_before_paint), timer);
  g_signal_connect_after (clock, "after-paint", G_CALLBACK (on_after_paint), timer);
}

void
odd_frame_timer_clear (OddFrameTimer *timer)
{
  g_clear_pointer (&timer->ms, g_array_unref);
  g_clear_pointer (&timer->cpu_ms, g_array_unref);
  g_clear_pointer (&timer->interval_ms, g_array_unref);
}

void
odd_frame_timer_record (OddFrameTimer *timer,
                        gboolean       record)
{
  odd_frame_timer_clear (timer);
  if (!record)
    return;
  timer->ms = g_array_new (FALSE, FALSE, sizeof (double));
  timer->cpu_ms = g_array_new (FALSE, FALSE, sizeof (double));
  timer->interval_ms = g_array_new (FALSE, FALSE, sizeof (double));
  timer->last_end = 0;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

double
odd_frame_quantile (GArray *values,
                    double  fraction)
{
  guint i;

  if (values == NULL || values->len == 0)
    return 0;
  g_array_sort (values, compare_doubles);
  i = (guint) (fraction * values->len);
  return g_array_index (values, double, MIN (i, values->len - 1));
}
