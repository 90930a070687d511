/* main.c: odd-metrics-engine (jobs.lifecycle → job_events → the Redis aggregates) */
#define G_LOG_DOMAIN "odd-metrics-engine"

#include "odd-intake.h"
#include "odd-metrics-engine.h"

static const OddServicePartFuncs engine_funcs = {
  .start = (void (*) (gpointer)) odd_metrics_engine_start,
  .stop = (void (*) (gpointer)) odd_metrics_engine_stop,
};

static char *
ready (gpointer engine)
{
  return odd_metrics_engine_dup_not_ready_reason (engine);
}

static gboolean
setup (OddService  *service,
       GError     **error)
{
  OddMetricsEngineConfig config;
  g_autoptr(OddSchemaRegistry) registry = NULL;
  g_autoptr(OddHttpServer) server = NULL;
  OddMetrics *metrics = odd_service_get_metrics (service);
  OddMetricsEngine *engine;

  if (!odd_metrics_engine_config_from_env (&config, error)
      || (registry = odd_service_load_contracts (NULL, error)) == NULL)
    return FALSE;

  engine = odd_metrics_engine_new (&config, metrics, registry);
  odd_service_add_part (service, engine, (GDestroyNotify) odd_metrics_engine_free, &engine_funcs);
  server = odd_http_server_new (odd_service_get_name (service), metrics, ready, engine);
  return odd_service_serve (service, server, error);
}

int
main (int   argc,
      char *argv[])
{
  return odd_service_main (ODD_METRICS_ENGINE_SERVICE, 8001,
                           "RABBITMQ_URL, POSTGRES_URL, REDIS_URL, ODD_PREFETCH (500)",
                           setup, argc, argv);
}
