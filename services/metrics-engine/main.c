#define G_LOG_DOMAIN "odd-metrics-engine"

#include <glib-unix.h>
#include <stdlib.h>

#include "odd-build-config.h"
#include "odd-intake.h"
#include "odd-metrics-engine.h"

static char *
ready_cb (gpointer user_data)
{
  return odd_metrics_engine_dup_not_ready_reason (user_data);
}

static gboolean
quit_cb (gpointer user_data)
{
  odd_info (NULL, "stopping: finishing the current batch");
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddMetrics) metrics = NULL;
  g_autoptr(OddSchemaRegistry) registry = NULL;
  g_autoptr(OddMetricsEngine) engine = NULL;
  g_autoptr(OddHttpServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  OddMetricsEngineConfig config;
  gint64 port;

  odd_log_init (ODD_METRICS_ENGINE_SERVICE);

  if (!odd_config_int ("PORT", 8001, 0, 65535, &port, &error)
      || !odd_metrics_engine_config_from_env (&config, &error)
      || (registry = odd_schema_registry_new_default (&error)) == NULL)
    {
      g_printerr ("odd-metrics-engine: %s\n", error->message);
      return EXIT_FAILURE;
    }

  metrics = odd_metrics_new (ODD_METRICS_ENGINE_SERVICE);
  engine = odd_metrics_engine_new (&config, metrics, registry);
  server = odd_http_server_new (ODD_METRICS_ENGINE_SERVICE, metrics, ready_cb, engine);
  if (!odd_http_server_listen (server, odd_config_string ("ODD_BIND", "127.0.0.1"), port, &error))
    {
      g_printerr ("odd-metrics-engine: %s\n", error->message);
      return EXIT_FAILURE;
    }
  odd_info (NULL, "odd-metrics-engine %s listening on port %u", ODD_VERSION,
            odd_http_server_get_port (server));

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  odd_metrics_engine_start (engine);
  g_main_loop_run (loop);

  odd_metrics_engine_stop (engine);
  odd_info (NULL, "stopped");
  return EXIT_SUCCESS;
}
