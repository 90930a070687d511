#define G_LOG_DOMAIN "odd-read-model"

#include <glib-unix.h>
#include <stdlib.h>

#include "odd-build-config.h"
#include "odd-service.h"
#include "odd-read-model.h"

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddReadModelConfig) config = NULL;
  g_autoptr(OddReadModel) model = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  gint64 port;

  g_set_prgname ("odd-read-model");
  odd_log_init ("read-model");

  if (!odd_config_int ("PORT", 8080, 0, 65535, &port, &error))
    {
      g_printerr ("odd-read-model: %s\n", error->message);
      return EXIT_FAILURE;
    }

  config = odd_read_model_config_new_from_env ();
  model = odd_read_model_new (config, &error);
  if (model == NULL ||
      !odd_read_model_start (model, odd_config_string ("ODD_BIND", "127.0.0.1"), port, &error))
    {
      g_printerr ("odd-read-model: %s\n", error->message);
      return EXIT_FAILURE;
    }

  g_message ("read-model %s (%s) listening on %s:%u", ODD_VERSION, ODD_COMMIT,
             odd_config_string ("ODD_BIND", "127.0.0.1"), odd_read_model_get_port (model));

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_main_loop_run (loop);

  g_message ("read-model stopping");
  return EXIT_SUCCESS;
}
