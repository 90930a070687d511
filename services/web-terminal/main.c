/* main.c: odd-web-terminal (odd-dashboard in a browser) */
#define G_LOG_DOMAIN "odd-web-terminal"

#include "odd-web-terminal.h"

static void
drain_async (gpointer             part,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  odd_web_terminal_drain_async (part, cancellable, callback, user_data);
}

static gboolean
drain_finish (gpointer       part,
              GAsyncResult  *result,
              GError       **error)
{
  return odd_web_terminal_drain_finish (part, result, error);
}

/* The sessions' programs are hung up during the drain, while the server still answers. */
static const OddServicePartFuncs terminal_funcs = {
  .drain_async = drain_async,
  .drain_finish = drain_finish,
};

static gboolean
setup (OddService  *service,
       GError     **error)
{
  OddWtConfig *config = odd_wt_config_new_from_env (error);
  g_autoptr(OddWebTerminal) terminal = NULL;

  if (config == NULL || (terminal = odd_web_terminal_new (config, error)) == NULL
      || !odd_web_terminal_start (terminal, odd_service_get_bind (service),
                                  odd_service_get_port (service), error)
      || !odd_service_serve (service, odd_web_terminal_get_server (terminal), error))
    return FALSE;

  odd_service_add_part (service, g_steal_pointer (&terminal), g_object_unref, &terminal_funcs);
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  return odd_service_main ("web-terminal", 9000,
                           "ODD_WEB_TERMINAL_COMMAND, ODD_WT_TOKEN, ODD_WT_READ_ONLY, "
                           "ODD_WT_IDLE_TIMEOUT_S, ODD_WT_GRACE_S, ODD_WT_HANDSHAKE_S, "
                           "ODD_WT_PER_CLIENT_CAP, ODD_WT_GLOBAL_CAP, ODD_WT_QUEUE_BYTES, "
                           "ODD_WT_RING_BYTES, ODD_WT_MAX_FRAME_BYTES, ODD_WT_TRUSTED_PROXIES, "
                           "ODD_WT_ALLOWED_ORIGINS, ODD_WT_FAULTS, READ_MODEL_URL, GATEWAY_URL",
                           setup, argc, argv);
}
