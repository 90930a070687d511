/* odd-control-error.h: the error domain and progress reporting of libodd-control */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ODD_CONTROL_ERROR (odd_control_error_quark ())
GQuark odd_control_error_quark (void);

typedef enum
{
  ODD_CONTROL_ERROR_FAILED,          /* a component did not start or stop */
  ODD_CONTROL_ERROR_MISSING_PROGRAM, /* a server or service binary is not installed */
  ODD_CONTROL_ERROR_TIMEOUT,         /* a component did not get ready in time */
  ODD_CONTROL_ERROR_INVALID,         /* bad configuration or unknown component */
  ODD_CONTROL_ERROR_BUSY,            /* another operation runs on this stack */
} OddControlError;

typedef enum
{
  ODD_PROGRESS_RUNNING,  /* the step started */
  ODD_PROGRESS_OK,       /* the step finished */
  ODD_PROGRESS_SKIPPED,  /* nothing to do (already running, already stopped) */
  ODD_PROGRESS_FAILED,   /* the step failed; the operation reports the error */
} OddProgressStatus;

const char *odd_progress_status_to_string (OddProgressStatus status);

/* @step: a component name or a phase ("prepare"); @fraction: 0..1 of the whole operation.
 * Called on the main context that was thread-default when the operation began. */
typedef void (*OddProgressFunc) (const char        *step,
                                 OddProgressStatus  status,
                                 const char        *message,
                                 double             fraction,
                                 gpointer           user_data);

/* Delivers one progress event to @func: at once when @context is NULL (blocking calls),
 * else from an idle source on @context, so a worker thread can report to the caller. */
void        odd_progress_emit             (OddProgressFunc    func,
                                           gpointer           user_data,
                                           GMainContext      *context,
                                           const char        *step,
                                           OddProgressStatus  status,
                                           const char        *message,
                                           double             fraction);

G_END_DECLS
