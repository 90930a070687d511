/* main.c: odd-gateway, the HTTP entry point of the Distributed Task Observatory
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-gateway"

#include "odd-build-config.h"

#include <glib-unix.h>
#include <locale.h>

#include "odd-service.h"
#include "odd-gateway.h"

typedef struct {
  GMainLoop  *loop;
  OddGateway *gateway;
  gboolean    stopping;
} App;

static void
on_shutdown (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  if (!odd_gateway_shutdown_finish (ODD_GATEWAY (source), result, &error) && error != NULL)
    g_message ("Shutdown: %s", error->message);
  g_main_loop_quit (app->loop);
}

static gboolean
on_signal (gpointer user_data)
{
  App *app = user_data;

  if (!app->stopping)
    {
      app->stopping = TRUE;
      g_message ("Stopping: no new jobs, waiting for outstanding confirms");
      odd_gateway_shutdown_async (app->gateway, NULL, on_shutdown, app);
    }

  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  OddGatewayConfig config = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(OddGateway) gateway = NULL;
  App app = { 0 };
  guint sigterm_id, sigint_id;

  setlocale (LC_ALL, "");
  odd_log_init ("gateway");

  if (argc > 1)
    {
      g_printerr ("Usage: %s\nConfigured by PORT, ODD_BIND, RABBITMQ_URL, READ_MODEL_URL, CONTRACTS_PATH, "
                  "ODD_MAX_OUTSTANDING and ODD_API_TOKEN.\n", argv[0]);
      return 2;
    }

  if (!odd_gateway_config_load (&config, &error))
    {
      g_printerr ("odd-gateway: invalid configuration: %s\n", error->message);
      return 2;
    }

  gateway = odd_gateway_new (&config, &error);
  odd_gateway_config_clear (&config);
  if (gateway == NULL)
    {
      g_printerr ("odd-gateway: cannot load the contracts: %s\n", error->message);
      return 2;
    }

  if (!odd_gateway_start (gateway, &error))
    {
      g_printerr ("odd-gateway: cannot start: %s\n", error->message);
      return 1;
    }
  g_message ("Gateway %s listening on port %u", ODD_VERSION, odd_gateway_get_port (gateway));

  loop = g_main_loop_new (NULL, FALSE);
  app.loop = loop;
  app.gateway = gateway;
  sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &app);
  sigint_id = g_unix_signal_add (SIGINT, on_signal, &app);

  g_main_loop_run (loop);

  g_source_remove (sigterm_id);
  g_source_remove (sigint_id);
  g_message ("Gateway stopped");

  return 0;
}
