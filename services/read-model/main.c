/* main.c: odd-read-model (the GET-only query API of the UIs) */
#define G_LOG_DOMAIN "odd-read-model"

#include "odd-service.h"
#include "odd-read-model.h"

/* Nothing to start or stop: its checks and probes run on the main context, and the lifecycle
 * waits for the requests in flight. */
static const OddServicePartFuncs model_funcs = { 0 };

static gboolean
setup (OddService  *service,
       GError     **error)
{
  g_autoptr(OddReadModelConfig) config = odd_read_model_config_new_from_env ();
  g_autoptr(OddReadModel) model = odd_read_model_new (config, error);

  if (model == NULL
      || !odd_read_model_start (model, odd_service_get_bind (service), odd_service_get_port (service), error)
      || !odd_service_serve (service, odd_read_model_get_server (model), error))
    return FALSE;

  odd_service_add_part (service, g_steal_pointer (&model), g_object_unref, &model_funcs);
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  return odd_service_main ("read-model", 8080,
                           "POSTGRES_URL, REDIS_URL, RABBITMQ_URL, ODD_SERVICE_URLS",
                           setup, argc, argv);
}
