#define G_LOG_DOMAIN "odd-test-util"

#include "odd-test-util.h"

#include <gio/gio.h>

guint16
odd_test_free_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (socket);
  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

gboolean
odd_test_have_servers (OddTestServers needed)
{
  static const struct {
    OddTestServers  server;
    const char     *variable;
  } servers[] = {
    { ODD_TEST_POSTGRES, "ODD_TEST_POSTGRES_URL" },
    { ODD_TEST_REDIS, "ODD_TEST_REDIS_URL" },
    { ODD_TEST_RABBITMQ, "ODD_TEST_RABBITMQ_URL" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    {
      const char *url = g_getenv (servers[i].variable);

      if ((needed & servers[i].server) != 0 && (url == NULL || *url == '\0'))
        {
          g_autofree char *reason = g_strdup_printf ("%s is not set: run the test with "
                                                     "`meson test --setup servers`, which gives "
                                                     "it private servers", servers[i].variable);

          g_test_skip (reason);
          return FALSE;
        }
    }

  return TRUE;
}
