#define G_LOG_DOMAIN "odd-stop-flag"

#include "odd-stop-flag.h"

struct _OddStopFlag
{
  GMutex lock;
  GCond  cond;
  gint   stopped;    /* atomic: read without the lock on every loop iteration */
  guint  n_waiting;  /* under lock */
};

OddStopFlag *
odd_stop_flag_new (void)
{
  OddStopFlag *self = g_new0 (OddStopFlag, 1);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  return self;
}

void
odd_stop_flag_free (OddStopFlag *self)
{
  if (self == NULL)
    return;
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

void
odd_stop_flag_stop (OddStopFlag *self)
{
  g_return_if_fail (self != NULL);

  /* Set under the lock: a waiter between its check and g_cond_wait_until() cannot miss it. */
  g_mutex_lock (&self->lock);
  g_atomic_int_set (&self->stopped, 1);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
odd_stop_flag_reset (OddStopFlag *self)
{
  g_return_if_fail (self != NULL);

  g_atomic_int_set (&self->stopped, 0);
}

gboolean
odd_stop_flag_is_stopped (OddStopFlag *self)
{
  g_return_val_if_fail (self != NULL, TRUE);

  return g_atomic_int_get (&self->stopped) != 0;
}

gboolean
odd_stop_flag_wait (OddStopFlag *self,
                    guint        timeout_ms)
{
  gint64 deadline;
  gboolean stopped;

  g_return_val_if_fail (self != NULL, TRUE);

  deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_mutex_lock (&self->lock);
  self->n_waiting++;
  /* g_cond_wait_until() may wake spuriously: only a stop or the deadline ends the wait. */
  while (!g_atomic_int_get (&self->stopped) && g_cond_wait_until (&self->cond, &self->lock, deadline))
    ;
  stopped = g_atomic_int_get (&self->stopped) != 0;
  self->n_waiting--;
  g_mutex_unlock (&self->lock);
  return stopped;
}

guint
odd_stop_flag_get_n_waiting (OddStopFlag *self)
{
  guint n;

  g_return_val_if_fail (self != NULL, 0);

  g_mutex_lock (&self->lock);
  n = self->n_waiting;
  g_mutex_unlock (&self->lock);
  return n;
}
