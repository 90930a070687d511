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
