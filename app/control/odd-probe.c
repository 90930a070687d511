#define G_LOG_DOMAIN "odd-control"

#include "odd-probe.h"

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
