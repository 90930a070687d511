#define G_LOG_DOMAIN "odd-processor-main"

#include "odd-processor.h"
#include "odd-build-config.h"

#include <glib-unix.h>

static char *
ready (gpointer data)
{
  return odd_processor_dup_not_ready_reason (data);
}

static gboolean
on_signal (gpointer data)
{
  odd_info (NULL, "stopping on signal");
  odd_processor_request_stop (data);
  return G_SOURCE_CONTINUE;
}

static void
on_finished (OddProcessor *processor,
             GMainLoop    *loop)
{
  g_main_loop_quit (loop);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(OddMetrics) metrics = NULL;
  g_autoptr(OddSchemaRegistry) registry = NULL;
  g_autoptr(OddHttpServer) server = NULL;
  g_autoptr(OddProcessor) processor = NULL;
  OddProcessorConfig config;

  odd_log_init ("processor");

  if (!odd_processor_config_from_env (&config, &error))
    {
      g_printerr ("odd-processor: %s\n", error->message);
      return 2;
    }

  registry = odd_schema_registry_new_default (&error);
  if (registry == NULL || !odd_schema_registry_has (registry, "event-envelope")
      || !odd_schema_registry_has (registry, "job"))
    {
      g_printerr ("odd-processor: cannot load the contract schemas: %s\n",
                  error != NULL ? error->message : "event-envelope or job is missing");
      odd_processor_config_clear (&config);
      return 2;
    }

  loop = g_main_loop_new (NULL, FALSE);
  metrics = odd_metrics_new ("processor");
  processor = odd_processor_new (&config, registry, metrics);
  server = odd_http_server_new ("processor", metrics, ready, processor);

  if (!odd_http_server_listen (server, config.bind, config.port, &error))
    {
      g_printerr ("odd-processor: cannot listen on %s:%u: %s\n", config.bind, config.port,
                  error->message);
      odd_processor_config_clear (&config);
      return 2;
    }

  odd_info (NULL, "odd-processor %s listening on %s:%u", ODD_VERSION, config.bind,
            odd_http_server_get_port (server));
  odd_processor_config_clear (&config);

  g_unix_signal_add (SIGTERM, on_signal, processor);
  g_unix_signal_add (SIGINT, on_signal, processor);
  g_signal_connect (processor, "finished", G_CALLBACK (on_finished), loop);

  odd_processor_start (processor);
  g_main_loop_run (loop);
  odd_processor_stop (processor);

  return 0;
}
