#define G_LOG_DOMAIN "odd-read-model-cursor"

#include <gio/gio.h>
#include <string.h>

#include "odd-ids.h"
#include "odd-read-model-cursor.h"

/* Long enough for any int64 and a UUID, short enough to refuse junk early. */
#define MAX_CURSOR_LEN 128

/* The times a job can have (RFC 3339 years 0001..9999): PostgreSQL's arithmetic on anything
 * further failed as a 500. */
#define MIN_CURSOR_USEC G_GINT64_CONSTANT (-62135596800000000)  /* 0001-01-01T00:00:00Z */
#define MAX_CURSOR_USEC G_GINT64_CONSTANT (253402300799999999)  /* 9999-12-31T23:59:59.999999Z */

char *
odd_jobs_cursor_encode (gint64      created_usec,
                        const char *job_id)
{
  g_autofree char *plain = g_strdup_printf ("%" G_GINT64_FORMAT "|%s", created_usec, job_id);
  char *encoded = g_base64_encode ((const guchar *) plain, strlen (plain));
  char *p;

  /* base64url: safe in a query string without percent-encoding. */
  for (p = encoded; *p != '\0'; p++)
    {
      if (*p == '+')
        *p = '-';
      else if (*p == '/')
        *p = '_';
      else if (*p == '=')
        {
          *p = '\0';
          break;
        }
    }

  return encoded;
}

gboolean
odd_jobs_cursor_decode (const char  *cursor,
                        gint64      *created_usec,
                        char       **job_id,
                        GError     **error)
{
  g_autoptr(GString) padded = NULL;
  g_autofree guchar *decoded = NULL;
  g_autofree char *plain = NULL;
  g_auto(GStrv) parts = NULL;
  gsize len = 0;
  gint64 usec;

  g_return_val_if_fail (cursor != NULL, FALSE);

  len = strlen (cursor);
  if (len == 0 || len > MAX_CURSOR_LEN || len % 4 == 1)
    goto invalid;

  /* g_base64_decode() skips characters it does not know, so check the alphabet first. */
  padded = g_string_sized_new (len + 3);
  for (const char *p = cursor; *p != '\0'; p++)
    {
      if (g_ascii_isalnum (*p))
        g_string_append_c (padded, *p);
      else if (*p == '-')
        g_string_append_c (padded, '+');
      else if (*p == '_')
        g_string_append_c (padded, '/');
      else
        goto invalid;
    }
  while (padded->len % 4 != 0)
    g_string_append_c (padded, '=');

  decoded = g_base64_decode (padded->str, &len);
  if (decoded == NULL || len == 0 || memchr (decoded, '\0', len) != NULL)
    goto invalid;
  plain = g_strndup ((const char *) decoded, len);

  parts = g_strsplit (plain, "|", -1);
  if (g_strv_length (parts) != 2)
    goto invalid;
  if (!g_ascii_string_to_signed (parts[0], 10, G_MININT64, G_MAXINT64, &usec, NULL))
    goto invalid;
  if (!odd_uuid_is_valid (parts[1]))
    goto invalid;
  if (usec < MIN_CURSOR_USEC || usec > MAX_CURSOR_USEC)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "cursor is out of range: its time must lie between "
                           "0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z "
                           "(pass nextCursor unchanged)");
      return FALSE;
    }

  *created_usec = usec;
  *job_id = g_ascii_strdown (parts[1], -1);
  return TRUE;

invalid:
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "cursor is not a value returned as nextCursor");
  return FALSE;
}
