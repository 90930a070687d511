#define G_LOG_DOMAIN "odd-processor-job"

#include "odd-processor-private.h"

static const char *const statuses[] = { "PENDING", "VALIDATED", "EXECUTING", "COMPLETED", "FAILED" };

OddJobRun *
odd_job_run_new (const char *id)
{
  OddJobRun *run = g_new0 (OddJobRun, 1);

  run->id = g_strdup (id);
  run->status = "VALIDATED";
  run->delivery_tags = g_array_new (FALSE, FALSE, sizeof (guint64));
  return run;
}

void
odd_job_run_free (OddJobRun *run)
{
  if (run == NULL)
    return;
  g_free (run->id);
  g_free (run->type);
  g_clear_pointer (&run->payload, json_node_unref);
  g_clear_pointer (&run->metadata, json_node_unref);
  g_free (run->created_at);
  g_free (run->correlation_id);
  g_free (run->last_error);
  g_clear_pointer (&run->original_event, json_node_unref);
  g_array_unref (run->delivery_tags);
  g_free (run);
}

gboolean
odd_job_status_is_terminal (const char *status)
{
  return g_strcmp0 (status, "COMPLETED") == 0 || g_strcmp0 (status, "FAILED") == 0;
}

const char *
odd_job_status_intern (const char *status)
{
  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    if (g_strcmp0 (status, statuses[i]) == 0)
      return statuses[i];
  return NULL;
}
