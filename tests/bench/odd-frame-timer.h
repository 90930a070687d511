/* odd-frame-timer.h: the time of each frame a GdkFrameClock paints, for the GUI benchmarks
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A frame is timed from the clock's before-paint (before its tick callbacks and layout) to its
 * after-paint: update, layout, the window's snapshot, its rendering and the copy to the X
 * server. Beside the wall time, the main thread's CPU time: on a loaded machine the wall time
 * of a frame mostly measures the wait for a CPU, this does not. */
typedef struct {
  gint64  started;
  gint64  started_cpu;
  double  last_ms;
  double  last_cpu_ms;
  gint64  last_end;      /* monotonic µs of the newest after-paint */
  guint   frames;
  GArray *ms;            /* when recording: each frame's wall ms */
  GArray *cpu_ms;        /* each frame's CPU ms */
  GArray *interval_ms;   /* from one frame's end to the next's */
} OddFrameTimer;

void    odd_frame_timer_attach  (OddFrameTimer *timer,
                                 GdkFrameClock *clock);
/* Starts keeping each frame's times (dropping those kept before); stops with FALSE. */
void    odd_frame_timer_record  (OddFrameTimer *timer,
                                 gboolean       record);
void    odd_frame_timer_clear   (OddFrameTimer *timer);

/* The @fraction quantile (0..1) of @values, which it sorts; 0 when empty. */
double  odd_frame_quantile      (GArray        *values,
                                 double         fraction);

G_END_DECLS
