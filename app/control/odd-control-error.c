#define G_LOG_DOMAIN "odd-control"

#include "odd-control-error.h"

G_DEFINE_QUARK (odd-control-error-quark, odd_control_error)

const char *
odd_progress_status_to_string (OddProgressStatus status)
{
  switch (status)
    {
    case ODD_PROGRESS_RUNNING:
      return "running";
    case ODD_PROGRESS_OK:
      return "ok";
    case ODD_PROGRESS_SKIPPED:
      return "skipped";
    case ODD_PROGRESS_FAILED:
      return "failed";
    default:
      return "unknown";
    }
}

typedef struct
{
  OddProgressFunc    func;
  gpointer           data;
  char              *step;
  OddProgressStatus  status;
  char              *message;
  double             fraction;
} ProgressEvent;

static void
progress_event_free (gpointer user_data)
{
  ProgressEvent *event = user_data;

  g_free (event->step);
  g_free (event->message);
  g_free (event);
}

static gboolean
progress_event_dispatch (gpointer user_data)
{
  ProgressEvent *event = user_data;

  event->func (event->step, event->status, event->message, event->fraction, event->data);
  return G_SOURCE_REMOVE;
}

void
odd_progress_emit (OddProgressFunc    func,
                   gpointer           user_data,
                   GMainContext      *context,
                   const char        *step,
                   OddProgressStatus  status,
                   const char        *message,
                   double             fraction)
{
  ProgressEvent *event;
  g_autoptr(GSource) source = NULL;

  if (func == NULL)
    return;
  if (context == NULL)
    {
      func (step, status, message, fraction, user_data);
      return;
    }

  event = g_new0 (ProgressEvent, 1);
  event->func = func;
  event->data = user_data;
  event->step = g_strdup (step);
  event->status = status;
  event->message = g_strdup (message);
  event->fraction = fraction;
  /* Always through a source, never g_main_context_invoke(): that would run the callback
   * right here, on the worker thread, whenever nobody holds the context at this moment.
   * Same priority as the GTask completion and attached before it: the caller sees every
   * progress event before the result. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, progress_event_dispatch, event, progress_event_free);
  g_source_set_static_name (source, "[odd-control] progress");
  g_source_attach (source, context);
}
