#define G_LOG_DOMAIN "odd-control"

#include "odd-probe.h"

#include <string.h>

#define PROBE_TIMEOUT_S 2

static GSocketConnection *
probe_connect (guint16       port,
               GCancellable *cancellable)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GInetAddress) address = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) socket_address = g_inet_socket_address_new (address, port);

  /* A hung server must not hang the probe. */
  g_socket_client_set_timeout (client, PROBE_TIMEOUT_S);
  /* Loopback needs no proxy: asking libproxy for one (it reads /etc/services every time) was
   * most of a probe's CPU, and the status is probed every refresh. */
  g_socket_client_set_enable_proxy (client, FALSE);

  return g_socket_client_connect (client, G_SOCKET_CONNECTABLE (socket_address),
                                  cancellable, NULL);
}

gboolean
odd_probe_tcp (guint16       port,
               GCancellable *cancellable)
{
  g_autoptr(GSocketConnection) connection = probe_connect (port, cancellable);

  if (connection == NULL)
    return FALSE;

  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return TRUE;
}

guint
odd_probe_http_status (guint16       port,
                       const char   *path,
                       GCancellable *cancellable)
{
  g_autoptr(GSocketConnection) connection = probe_connect (port, cancellable);
  g_autofree char *request = NULL;
  char buffer[256];
  gsize got = 0;
  guint status = 0;
  GOutputStream *out;
  GInputStream *in;

  if (connection == NULL)
    return 0;

  /* HTTP/1.0 with Connection: close keeps this a single write and a single read. */
  request = g_strdup_printf ("GET %s HTTP/1.0\r\nHost: 127.0.0.1:%u\r\n"
                             "Connection: close\r\n\r\n", path, port);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  in = g_io_stream_get_input_stream (G_IO_STREAM (connection));

  if (g_output_stream_write_all (out, request, strlen (request), NULL, cancellable, NULL) &&
      g_input_stream_read_all (in, buffer, sizeof buffer - 1, &got, cancellable, NULL))
    {
      buffer[got] = '\0';
      /* "HTTP/1.x NNN reason" */
      if (g_str_has_prefix (buffer, "HTTP/") && got > 12 && buffer[8] == ' ')
        {
          guint64 value = g_ascii_strtoull (buffer + 9, NULL, 10);

          if (value >= 100 && value <= 599)
            status = (guint) value;
        }
    }

  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return status;
}

/* A StartupMessage (protocol 3.0) as user postgres; the first answer tells. An authentication
 * request or success means the server takes connections; an error means the same unless it is
 * 57P03 (cannot_connect_now: starting, recovering, stopping), as libpq's PQping() judges it.
 * In-process rather than pg_isready: forking this process every refresh cost more CPU than
 * everything else the app does while idle. */
gboolean
odd_probe_postgres (guint16       port,
                    GCancellable *cancellable)
{
  static const char params[] = "user\0postgres\0database\0postgres\0";
  static const guint8 terminate[] = { 'X', 0, 0, 0, 4 };
  g_autoptr(GSocketConnection) connection = probe_connect (port, cancellable);
  guint8 startup[8 + sizeof params];
  guint8 header[5];
  char body[512];
  guint32 length;
  gsize got = 0;
  gboolean ready = FALSE;
  GOutputStream *out;
  GInputStream *in;

  if (connection == NULL)
    return FALSE;
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  in = g_io_stream_get_input_stream (G_IO_STREAM (connection));

  /* Length (itself included), protocol 3.0, then the parameters and a closing NUL (params'
   * own terminator). */
  length = GUINT32_TO_BE ((guint32) sizeof startup);
  memcpy (startup, &length, 4);
  length = GUINT32_TO_BE (3u << 16);
  memcpy (startup + 4, &length, 4);
  memcpy (startup + 8, params, sizeof params);

  if (g_output_stream_write_all (out, startup, sizeof startup, NULL, cancellable, NULL) &&
      g_input_stream_read_all (in, header, sizeof header, &got, cancellable, NULL) && got == sizeof header)
    {
      memcpy (&length, header + 1, 4);
      length = GUINT32_FROM_BE (length);
      if (header[0] == 'R' || header[0] == 'v')
        ready = TRUE;
      else if (header[0] == 'E' && length > 4)
        {
          gsize want = MIN (length - 4, sizeof body - 1);

          /* Fields: a type byte and a NUL-terminated string each; 'C' is the SQLSTATE. */
          if (g_input_stream_read_all (in, body, want, &got, cancellable, NULL))
            {
              ready = TRUE;
              body[got] = '\0';
              for (gsize i = 0; i < got && body[i] != '\0'; i += strlen (body + i + 1) + 2)
                if (body[i] == 'C' && strcmp (body + i + 1, "57P03") == 0)
                  ready = FALSE;
            }
        }
      if (ready && header[0] != 'E')
        g_output_stream_write_all (out, terminate, sizeof terminate, NULL, cancellable, NULL);
    }

  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return ready;
}
