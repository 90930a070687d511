/* odd-read-model-cursor.h: the opaque keyset cursor of GET /jobs
 *
 * The cursor is base64url (no padding) of "<created_at in unix microseconds>|<job id>": the
 * last row of a page, so the next page starts strictly after it in (created_at desc, id desc).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char     *odd_jobs_cursor_encode (gint64       created_usec,
                                  const char  *job_id);
/* FALSE + G_IO_ERROR_INVALID_ARGUMENT when @cursor is not one that encode made. */
gboolean  odd_jobs_cursor_decode (const char  *cursor,
                                  gint64      *created_usec,
                                  char       **job_id,
                                  GError     **error);

G_END_DECLS
