/* odd-stop-flag.h: the stop request worker threads wait on
 *
 * A worker loop checks odd_stop_flag_is_stopped() between steps and sleeps between retries
 * with odd_stop_flag_wait(), which returns as soon as odd_stop_flag_stop() is called from any
 * thread: a stop never waits out a backoff. One flag may be shared by several threads; a stop
 * wakes all of them.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OddStopFlag OddStopFlag;

OddStopFlag *odd_stop_flag_new        (void);
void         odd_stop_flag_free       (OddStopFlag *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddStopFlag, odd_stop_flag_free)

/* Sets the flag and wakes every thread in odd_stop_flag_wait(). Any thread, any number of times. */
void         odd_stop_flag_stop       (OddStopFlag *self);
/* Clears the flag, so that the workers can be started again. */
void         odd_stop_flag_reset      (OddStopFlag *self);
gboolean     odd_stop_flag_is_stopped (OddStopFlag *self);
/* Sleeps up to @timeout_ms unless a stop comes first. TRUE when stopped (already, or meanwhile). */
gboolean     odd_stop_flag_wait       (OddStopFlag *self,
                                       guint        timeout_ms);
/* Threads in odd_stop_flag_wait() right now (tests wait for a worker to be asleep). */
guint        odd_stop_flag_get_n_waiting (OddStopFlag *self);

G_END_DECLS
