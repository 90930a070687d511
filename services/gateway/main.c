/* main.c: odd-gateway, the HTTP entry point of the Distributed Task Observatory
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-gateway"

#include "odd-service.h"
#include "odd-gateway.h"

/* The drain: no new jobs (503), the outstanding confirms awaited. */
static const OddServicePartFuncs gateway_funcs = {
  .drain_async = (void (*) (gpointer, GCancellable *, GAsyncReadyCallback, gpointer)) odd_gateway_shutdown_async,
  .drain_finish = (gboolean (*) (gpointer, GAsyncResult *, GError **)) odd_gateway_shutdown_finish,
};

static gboolean
setup (OddService  *service,
       GError     **error)
{
  OddGatewayConfig config = { 0 };
  g_autoptr(OddGateway) gateway = NULL;
  g_autoptr(GError) contracts_error = NULL;

  if (!odd_gateway_config_load (&config, error))
    return FALSE;
  gateway = odd_gateway_new (&config, &contracts_error);
  odd_gateway_config_clear (&config);
  if (gateway == NULL)
    {
      g_set_error (error, ODD_CONFIG_ERROR, 0, "cannot load the contracts: %s", contracts_error->message);
      return FALSE;
    }

  if (!odd_gateway_start (gateway, error)
      || !odd_service_serve (service, odd_gateway_get_server (gateway), error))
    return FALSE;

  odd_service_add_part (service, g_steal_pointer (&gateway), g_object_unref, &gateway_funcs);
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  return odd_service_main ("gateway", 3000,
                           "RABBITMQ_URL, READ_MODEL_URL, CONTRACTS_PATH, ODD_MAX_OUTSTANDING (2048), "
                           "ODD_API_TOKEN",
                           setup, argc, argv);
}
