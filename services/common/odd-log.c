#define G_LOG_DOMAIN "odd-log"

#include "odd-log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The writer is process wide; these are set once by odd_log_init() and read by any thread. */
static GMutex    log_lock;
static char     *log_service;
static gboolean  log_json = TRUE;

static const char *
level_name (GLogLevelFlags level)
{
  /* Names log collectors understand; g_message() is the everyday "info" of GLib code. */
  if (level & G_LOG_LEVEL_ERROR)
    return "fatal";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "error";
  if (level & G_LOG_LEVEL_WARNING)
    return "warn";
  if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
    return "info";
  return "debug";
}

static void
append_json_string (GString    *out,
                    const char *str,
                    gssize      len)
{
  g_autofree char *valid = NULL;

  if (len < 0)
    len = strlen (str);
  /* A message may carry bytes from the network: never emit invalid UTF-8 into a JSON line. */
  if (!g_utf8_validate (str, len, NULL))
    {
      valid = g_utf8_make_valid (str, len);
      str = valid;
      len = strlen (valid);
    }

  g_string_append_c (out, '"');
  for (gssize i = 0; i < len; i++)
    {
      guchar c = (guchar) str[i];

      switch (c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (c < 0x20 || c == 0x7f)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, (char) c);
        }
    }
  g_string_append_c (out, '"');
}

static char *
timestamp_now (gboolean full)
{
  gint64 now = g_get_real_time ();
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (now / G_USEC_PER_SEC);
  g_autofree char *base = g_date_time_format (dt, full ? "%Y-%m-%dT%H:%M:%S" : "%H:%M:%S");

  return g_strdup_printf ("%s.%03d%s", base, (int) ((now % G_USEC_PER_SEC) / 1000),
                          full ? "Z" : "");
}

static GLogWriterOutput
odd_log_writer (GLogLevelFlags   log_level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  const char *message = NULL;
  const char *domain = NULL;
  const char *correlation_id = NULL;
  gssize message_len = -1;
  g_autofree char *ts = NULL;
  g_autoptr(GString) line = g_string_sized_new (256);

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        {
          message = fields[i].value;
          message_len = fields[i].length;
        }
      else if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "CORRELATION_ID") == 0)
        correlation_id = fields[i].value;
    }

  /* Debug output follows G_MESSAGES_DEBUG as usual; info and up always go out, because
   * the services report their normal operation at info level. */
  if ((log_level & G_LOG_LEVEL_DEBUG) && g_log_writer_default_would_drop (log_level, domain))
    return G_LOG_WRITER_HANDLED;

  if (message == NULL)
    message = "";

  g_mutex_lock (&log_lock);

  ts = timestamp_now (log_json);
  if (log_json)
    {
      g_string_append (line, "{\"ts\":\"");
      g_string_append (line, ts);
      g_string_append (line, "\",\"level\":\"");
      g_string_append (line, level_name (log_level));
      g_string_append (line, "\",\"service\":");
      append_json_string (line, log_service != NULL ? log_service : g_get_prgname () ? g_get_prgname () : "odd", -1);
      g_string_append (line, ",\"msg\":");
      append_json_string (line, message, message_len);
      if (correlation_id != NULL && *correlation_id != '\0')
        {
          g_string_append (line, ",\"correlationId\":");
          append_json_string (line, correlation_id, -1);
        }
      g_string_append (line, "}\n");
    }
  else
    {
      g_string_append_printf (line, "%s %-5s %s", ts, level_name (log_level),
                              log_service != NULL ? log_service : "odd");
      if (domain != NULL)
        g_string_append_printf (line, " (%s)", domain);
      if (correlation_id != NULL && *correlation_id != '\0')
        g_string_append_printf (line, " [%s]", correlation_id);
      g_string_append (line, ": ");
      if (message_len < 0)
        g_string_append (line, message);
      else
        g_string_append_len (line, message, message_len);
      g_string_append_c (line, '\n');
    }

  /* One write per line under the lock: lines from several threads never interleave. */
  fwrite (line->str, 1, line->len, stderr);
  fflush (stderr);

  g_mutex_unlock (&log_lock);

  return G_LOG_WRITER_HANDLED;
}

void
odd_log_init (const char *service)
{
  static gsize installed = 0;
  const char *format = g_getenv ("ODD_LOG_FORMAT");
  gboolean json;

  if (g_strcmp0 (format, "text") == 0)
    json = FALSE;
  else if (g_strcmp0 (format, "json") == 0)
    json = TRUE;
  else
    json = !isatty (STDERR_FILENO);

  g_mutex_lock (&log_lock);
  g_free (log_service);
  log_service = g_strdup (service);
  log_json = json;
  g_mutex_unlock (&log_lock);

  /* GLib allows one writer per process; a second init only changes the settings. */
  if (g_once_init_enter (&installed))
    {
      g_log_set_writer_func (odd_log_writer, NULL, NULL);
      g_once_init_leave (&installed, 1);
    }
}

void
odd_log (GLogLevelFlags  level,
         const char     *correlation_id,
         const char     *format,
         ...)
{
  g_autofree char *message = NULL;
  va_list args;
  GLogField fields[4];
  gsize n = 0;

  /* A debug line nobody asked for costs nothing, not even its formatting (it is on hot
   * paths: the gateway logs every accepted job at debug level). */
  if ((level & G_LOG_LEVEL_DEBUG) && g_log_writer_default_would_drop (level, "odd"))
    return;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  fields[n++] = (GLogField) { "GLIB_DOMAIN", "odd", -1 };
  fields[n++] = (GLogField) { "MESSAGE", message, -1 };
  fields[n++] = (GLogField) { "PRIORITY",
                              (level & G_LOG_LEVEL_ERROR) ? "3" :
                              (level & G_LOG_LEVEL_CRITICAL) ? "4" :
                              (level & G_LOG_LEVEL_WARNING) ? "4" :
                              (level & G_LOG_LEVEL_DEBUG) ? "7" : "6", -1 };
  if (correlation_id != NULL)
    fields[n++] = (GLogField) { "CORRELATION_ID", correlation_id, -1 };

  g_log_structured_array (level, fields, n);
}
