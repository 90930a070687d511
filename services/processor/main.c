/* main.c: odd-processor (jobs.created → the simulated work → PostgreSQL and jobs.lifecycle) */
#define G_LOG_DOMAIN "odd-processor-main"

#include "odd-processor.h"

static const char *const required_schemas[] = { "event-envelope", "job", NULL };

static const OddServicePartFuncs processor_funcs = {
  .start = (void (*) (gpointer)) odd_processor_start,
  .stop = (void (*) (gpointer)) odd_processor_stop,
};

static char *
ready (gpointer processor)
{
  return odd_processor_dup_not_ready_reason (processor);
}

static gboolean
setup (OddService  *service,
       GError     **error)
{
  OddProcessorConfig config;
  g_autoptr(OddSchemaRegistry) registry = NULL;
  g_autoptr(OddHttpServer) server = NULL;
  OddMetrics *metrics = odd_service_get_metrics (service);
  OddProcessor *processor;

  if (!odd_processor_config_from_env (&config, error)
      || (registry = odd_service_load_contracts (required_schemas, error)) == NULL)
    return FALSE;

  processor = odd_processor_new (&config, registry, metrics);
  odd_processor_config_clear (&config);
  odd_service_add_part (service, processor, g_object_unref, &processor_funcs);
  server = odd_http_server_new (odd_service_get_name (service), metrics, ready, processor);
  return odd_service_serve (service, server, error);
}

int
main (int   argc,
      char *argv[])
{
  return odd_service_main ("processor", 8000,
                           "RABBITMQ_URL, POSTGRES_URL, ODD_PREFETCH (200), ODD_MAX_ATTEMPTS (3), "
                           "ODD_RETRY_BACKOFF_MS (100), ODD_BATCH_SIZE (100), ODD_EVENTS_PER_MESSAGE (500)",
                           setup, argc, argv);
}
