#define G_LOG_DOMAIN "odd-processor-sim"

#include "odd-processor-private.h"

#define ODD_RETRY_BACKOFF_CAP_MS 30000

double
odd_processor_draw (const char *job_id,
                    int         generation,
                    int         attempt)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *name = g_strdup_printf ("%s/%d/%d", job_id, generation, attempt);
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  guint64 bits = 0;

  g_checksum_update (checksum, (const guchar *) name, -1);
  g_checksum_get_digest (checksum, digest, &digest_len);

  for (guint i = 0; i < 8; i++)
    bits = (bits << 8) | digest[i];

  /* 53 bits fill a double's mantissa exactly: uniform in [0, 1), never 1. */
  return (double) (bits >> 11) / (double) (G_GUINT64_CONSTANT (1) << 53);
}

gboolean
odd_processor_attempt_outcome (const char          *job_id,
                               int                  generation,
                               int                  attempt,
                               const OddSimulation *simulation,
                               char               **error_message)
{
  if (attempt <= (int) simulation->fail_attempts)
    {
      if (error_message != NULL)
        *error_message = g_strdup_printf ("simulated failure: attempt %d of the first %u that fail",
                                          attempt, simulation->fail_attempts);
      return FALSE;
    }

  if (simulation->fail_rate > 0.0
      && odd_processor_draw (job_id, generation, attempt) < simulation->fail_rate)
    {
      if (error_message != NULL)
        *error_message = g_strdup_printf ("simulated failure: failRate %g on attempt %d",
                                          simulation->fail_rate, attempt);
      return FALSE;
    }

  if (error_message != NULL)
    *error_message = NULL;
  return TRUE;
}

guint
odd_processor_retry_backoff_ms (guint base_ms,
                                int   attempt)
{
  guint64 delay = base_ms;

  for (int i = 1; i < attempt && delay < ODD_RETRY_BACKOFF_CAP_MS; i++)
    delay *= 2;

  return (guint) MIN (delay, ODD_RETRY_BACKOFF_CAP_MS);
}
