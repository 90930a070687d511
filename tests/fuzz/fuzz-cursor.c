/* fuzz-cursor.c: the read model's GET /jobs?cursor= decoder
 *
 * Properties: decoding arbitrary text never crashes; what decodes has a valid UUID, and
 * encoding the decoded values decodes to the same values again.
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-fuzz-cursor"

#include <gio/gio.h>

#include "odd-ids.h"
#include "odd-read-model-cursor.h"
#include "odd-fuzz.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  odd_fuzz_init ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  /* The cursor comes from a query string: libsoup hands it over NUL-terminated. */
  g_autofree char *cursor = g_strndup ((const char *) data, size);
  g_autofree char *job_id = NULL;
  g_autoptr(GError) error = NULL;
  gint64 usec = 0;

  if (!odd_jobs_cursor_decode (cursor, &usec, &job_id, &error))
    {
      g_assert (job_id == NULL);
      g_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT));
      return 0;
    }

  g_assert (odd_uuid_is_valid (job_id));

  {
    g_autofree char *encoded = odd_jobs_cursor_encode (usec, job_id);
    g_autofree char *job_id2 = NULL;
    gint64 usec2 = 0;

    if (!odd_jobs_cursor_decode (encoded, &usec2, &job_id2, NULL))
      g_error ("a cursor we made does not decode: %s", encoded);
    g_assert (usec2 == usec);
    g_assert (g_strcmp0 (job_id2, job_id) == 0);
  }

  return 0;
}
