#define G_LOG_DOMAIN "odd-service"

#include "odd-build-config.h"

#include "odd-service-lifecycle.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>

#include "odd-config.h"
#include "odd-contracts.h"
#include "odd-log.h"

typedef struct {
  gpointer                   part;
  GDestroyNotify             free_part;
  const OddServicePartFuncs *funcs;
  GThread                   *stopper;   /* runs funcs->stop during the drain */
} Part;

typedef enum {
  STATE_NEW,
  STATE_RUNNING,
  STATE_DRAINING,
  STATE_DONE,
} State;

struct _OddService
{
  GObject         parent_instance;

  char           *name;
  char           *bind;
  guint           port;
  guint           replica_port;  /* a second, private port of one replica; 0 = none */
  gboolean        reuse_port;    /* replicas share `port` (SO_REUSEPORT) */
  guint           grace_s;
  OddMetrics     *metrics;

  GPtrArray      *parts;         /* Part */
  OddHttpServer  *server;
  GMainLoop      *loop;
  GMainContext   *context;
  State           state;
  guint           in_flight;     /* HTTP requests started, not yet finished or aborted */
  guint           pending;       /* drains and stops not yet done */
  GCancellable   *cancellable;   /* cancelled when the grace is over */
  guint           grace_id;
  gboolean        grace_over;    /* the requests in flight are not waited for any longer */
  guint           signal_ids[2];
};

G_DEFINE_FINAL_TYPE (OddService, odd_service, G_TYPE_OBJECT)

static void
part_free (gpointer data)
{
  Part *part = data;

  /* A stop still running owns nothing of ours, but the part must outlive it. */
  if (part->stopper != NULL)
    g_thread_join (part->stopper);
  if (part->free_part != NULL)
    part->free_part (part->part);
  g_free (part);
}

static void
odd_service_dispose (GObject *object)
{
  OddService *self = ODD_SERVICE (object);

  for (guint i = 0; i < G_N_ELEMENTS (self->signal_ids); i++)
    g_clear_handle_id (&self->signal_ids[i], g_source_remove);
  g_clear_handle_id (&self->grace_id, g_source_remove);
  if (self->server != NULL)
    g_signal_handlers_disconnect_by_data (odd_http_server_get_soup (self->server), self);
  /* The server goes first: its handlers may use the parts. */
  g_clear_object (&self->server);
  g_clear_pointer (&self->parts, g_ptr_array_unref);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (odd_service_parent_class)->dispose (object);
}

static void
odd_service_finalize (GObject *object)
{
  OddService *self = ODD_SERVICE (object);

  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  /* Last: the parts and the server count into it. */
  g_clear_pointer (&self->metrics, odd_metrics_free);
  g_free (self->name);
  g_free (self->bind);

  G_OBJECT_CLASS (odd_service_parent_class)->finalize (object);
}

static void
odd_service_class_init (OddServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = odd_service_dispose;
  object_class->finalize = odd_service_finalize;
}

static void
odd_service_init (OddService *self)
{
  self->parts = g_ptr_array_new_with_free_func (part_free);
  self->bind = g_strdup ("127.0.0.1");
  self->grace_s = ODD_SERVICE_DEFAULT_GRACE_S;
  self->cancellable = g_cancellable_new ();
  self->context = g_main_context_ref_thread_default ();
  self->loop = g_main_loop_new (self->context, FALSE);
}

OddService *
odd_service_new (const char *name,
                 guint       default_port)
{
  OddService *self;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (default_port <= 65535, NULL);

  self = g_object_new (ODD_TYPE_SERVICE, NULL);
  self->name = g_strdup (name);
  self->port = default_port;
  return self;
}

/* ---- configuration ---------------------------------------------------------------------- */

gboolean
odd_service_load_config (OddService  *self,
                         GError     **error)
{
  gint64 port, replica_port, grace;
  const char *bind;

  g_return_val_if_fail (ODD_IS_SERVICE (self), FALSE);
  g_return_val_if_fail (self->state == STATE_NEW, FALSE);

  if (!odd_config_int ("PORT", self->port, 0, 65535, &port, error)
      || !odd_config_int ("ODD_REPLICA_PORT", 0, 0, 65535, &replica_port, error)
      || !odd_config_int ("ODD_SHUTDOWN_GRACE_S", ODD_SERVICE_DEFAULT_GRACE_S, 0, 3600, &grace, error))
    return FALSE;

  bind = odd_config_string ("ODD_BIND", "127.0.0.1");
  if (g_ascii_strcasecmp (bind, "localhost") == 0)
    bind = "127.0.0.1";
  if (!g_hostname_is_ip_address (bind))
    {
      g_set_error (error, ODD_CONFIG_ERROR, 0,
                   "ODD_BIND=\"%s\" is not an IP address: set it to one such as 127.0.0.1 "
                   "(this host only) or 0.0.0.0 (every interface)", bind);
      return FALSE;
    }

  g_free (self->bind);
  self->bind = g_strdup (bind);
  self->port = (guint) port;
  self->replica_port = (guint) replica_port;
  self->reuse_port = odd_config_bool ("ODD_REUSE_PORT", FALSE);
  self->grace_s = (guint) grace;
  return TRUE;
}

const char *
odd_service_get_name (OddService *self)
{
  g_return_val_if_fail (ODD_IS_SERVICE (self), NULL);
  return self->name;
}

const char *
odd_service_get_bind (OddService *self)
{
  g_return_val_if_fail (ODD_IS_SERVICE (self), NULL);
  return self->bind;
}

guint
odd_service_get_port (OddService *self)
{
  g_return_val_if_fail (ODD_IS_SERVICE (self), 0);
  return self->port;
}

guint
odd_service_get_grace (OddService *self)
{
  g_return_val_if_fail (ODD_IS_SERVICE (self), 0);
  return self->grace_s;
}

OddMetrics *
odd_service_get_metrics (OddService *self)
{
  g_return_val_if_fail (ODD_IS_SERVICE (self), NULL);

  if (self->metrics == NULL)
    self->metrics = odd_metrics_new (self->name);
  return self->metrics;
}

OddServiceExit
odd_service_exit_for_error (const GError *error)
{
  if (error != NULL && (error->domain == ODD_CONFIG_ERROR || error->domain == ODD_SCHEMA_ERROR))
    return ODD_SERVICE_EXIT_CONFIG;
  return ODD_SERVICE_EXIT_FAILURE;
}

OddSchemaRegistry *
odd_service_load_contracts (const char *const  *required,
                            GError            **error)
{
  g_autoptr(OddSchemaRegistry) registry = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *dir = odd_contracts_dir ();

  registry = odd_schema_registry_new_default (&local_error);
  for (guint i = 0; registry != NULL && required != NULL && required[i] != NULL; i++)
    if (!odd_schema_registry_has (registry, required[i]))
      {
        g_set_error (&local_error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_NOT_FOUND,
                     "no schema \"%s\" (set CONTRACTS_PATH to the folder that holds schemas/)",
                     required[i]);
        g_clear_object (&registry);
      }

  if (registry == NULL)
    {
      g_set_error (error, ODD_CONFIG_ERROR, 0, "cannot load the contracts from %s: %s",
                   dir, local_error->message);
      return NULL;
    }
  return g_steal_pointer (&registry);
}

/* ---- parts and server ------------------------------------------------------------------- */

void
odd_service_add_part (OddService                *self,
                      gpointer                   part,
                      GDestroyNotify             free_part,
                      const OddServicePartFuncs *funcs)
{
  Part *p;

  g_return_if_fail (ODD_IS_SERVICE (self));
  g_return_if_fail (funcs != NULL);
  g_return_if_fail ((funcs->drain_async == NULL) == (funcs->drain_finish == NULL));
  g_return_if_fail (self->state == STATE_NEW);

  p = g_new0 (Part, 1);
  p->part = part;
  p->free_part = free_part;
  p->funcs = funcs;
  g_ptr_array_add (self->parts, p);
}

static void maybe_finish (OddService *self);

G_DEFINE_QUARK (odd-service-in-flight, in_flight)

static void
on_request_done (SoupServer        *server,
                 SoupServerMessage *msg,
                 gpointer           user_data)
{
  OddService *self = user_data;

  if (g_object_steal_qdata (G_OBJECT (msg), in_flight_quark ()) != NULL && self->in_flight > 0)
    self->in_flight--;
  maybe_finish (self);
}

/* A WebSocket upgrade is answered with its 101: libsoup then hands the connection over and
 * never finishes the request (the web terminal's sessions drain on their own). */
static void
on_wrote_informational (SoupServerMessage *msg,
                        gpointer           user_data)
{
  if (soup_server_message_get_status (msg) == SOUP_STATUS_SWITCHING_PROTOCOLS)
    on_request_done (NULL, msg, user_data);
}

/* In flight from its headers on: a connection that was opened but has sent nothing is no
 * work of ours, and is not waited for. Told by the server's one handler, not by a handler
 * connected on every message (two closures a request). */
static void
on_request_headers (OddHttpServer     *server,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  OddService *self = user_data;

  if (g_object_get_qdata (G_OBJECT (msg), in_flight_quark ()) == NULL)
    {
      g_object_set_qdata (G_OBJECT (msg), in_flight_quark (), GINT_TO_POINTER (1));
      self->in_flight++;
    }
  /* Only an upgrade can be answered with a 101. */
  if (soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Upgrade") != NULL)
    g_signal_connect_object (msg, "wrote-informational", G_CALLBACK (on_wrote_informational), self, 0);
}

gboolean
odd_service_serve (OddService     *self,
                   OddHttpServer  *server,
                   GError        **error)
{
  SoupServer *soup;

  g_return_val_if_fail (ODD_IS_SERVICE (self), FALSE);
  g_return_val_if_fail (ODD_IS_HTTP_SERVER (server), FALSE);
  g_return_val_if_fail (self->server == NULL, FALSE);

  self->server = g_object_ref (server);
  soup = odd_http_server_get_soup (server);
  g_signal_connect (server, "request-headers", G_CALLBACK (on_request_headers), self);
  g_signal_connect (soup, "request-finished", G_CALLBACK (on_request_done), self);
  g_signal_connect (soup, "request-aborted", G_CALLBACK (on_request_done), self);

  /* The gateway and the read-model listen by themselves, with ODD_REUSE_PORT honoured by
   * odd_http_server_listen(); the others here. */
  if (odd_http_server_get_port (server) == 0
      && !odd_http_server_listen_full (server, self->bind, self->port, self->reuse_port, error))
    {
      g_prefix_error (error, "cannot listen on %s:%u: ", self->bind, self->port);
      return FALSE;
    }
  /* A replica sharing its port answers here by itself: its health and metrics. */
  if (self->replica_port != 0
      && !odd_http_server_listen_full (server, self->bind, self->replica_port, FALSE, error))
    {
      g_prefix_error (error, "cannot listen on %s:%u (ODD_REPLICA_PORT): ", self->bind,
                      self->replica_port);
      return FALSE;
    }
  self->port = odd_http_server_get_port (server);
  return TRUE;
}

/* Refuses new connections; the ones already accepted keep going until the drain is done. */
static void
stop_accepting (OddService *self)
{
  GSList *listeners;

  if (self->server == NULL)
    return;

  listeners = soup_server_get_listeners (odd_http_server_get_soup (self->server));
  for (GSList *l = listeners; l != NULL; l = l->next)
    {
      g_autoptr(GError) error = NULL;

      /* Shut down, not closed: the descriptor stays libsoup's until it disconnects, so no
       * other file can take its number meanwhile. Linux then refuses new connections and
       * fails the pending accept, which removes libsoup's watch. Elsewhere, close it. */
      if (!g_socket_shutdown (l->data, TRUE, FALSE, &error))
        {
          g_debug ("Cannot shut the listener down (%s); closing it", error->message);
          g_socket_close (l->data, NULL);
        }
    }
  g_slist_free (listeners);
}

/* ---- the drain -------------------------------------------------------------------------- */

static void
finish (OddService *self)
{
  self->state = STATE_DONE;
  g_clear_handle_id (&self->grace_id, g_source_remove);
  /* Every answer is written: close the kept-alive connections. */
  if (self->server != NULL)
    soup_server_disconnect (odd_http_server_get_soup (self->server));
  g_main_loop_quit (self->loop);
}

static void
maybe_finish (OddService *self)
{
  if (self->state == STATE_DRAINING && self->pending == 0
      && (self->in_flight == 0 || self->grace_over))
    finish (self);
}

typedef struct {
  OddService *service;   /* a reference */
  Part       *part;
} DrainCall;

static void
on_part_drained (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  DrainCall *call = user_data;
  OddService *self = call->service;
  g_autoptr(GError) error = NULL;

  if (!call->part->funcs->drain_finish (call->part->part, result, &error) && error != NULL)
    g_message ("%s: drain incomplete: %s", self->name, error->message);
  g_return_if_fail (self->pending > 0);
  self->pending--;
  maybe_finish (self);
  g_object_unref (self);
  g_free (call);
}

static gboolean
on_part_stopped (gpointer user_data)
{
  OddService *self = user_data;

  g_return_val_if_fail (self->pending > 0, G_SOURCE_REMOVE);
  self->pending--;
  maybe_finish (self);
  return G_SOURCE_REMOVE;
}

typedef struct {
  OddService *service;  /* a reference, released on the main context */
  Part       *part;
} StopCall;

static gpointer
stop_thread (gpointer data)
{
  StopCall *call = data;

  call->part->funcs->stop (call->part->part);
  g_main_context_invoke_full (call->service->context, G_PRIORITY_DEFAULT, on_part_stopped,
                              call->service, g_object_unref);
  g_free (call);
  return NULL;
}

static gboolean
on_grace_over (gpointer user_data)
{
  OddService *self = user_data;

  self->grace_id = 0;
  g_message ("%s: still draining after %u s (%u request(s) in flight, %u part(s) busy); "
             "cancelling the drain, the worker threads finish their step",
             self->name, self->grace_s, self->in_flight, self->pending);
  self->grace_over = TRUE;
  /* The drains end at once; the stops end when their worker's step does. */
  g_cancellable_cancel (self->cancellable);
  maybe_finish (self);
  return G_SOURCE_REMOVE;
}

void
odd_service_stop (OddService *self)
{
  g_return_if_fail (ODD_IS_SERVICE (self));

  if (self->state != STATE_RUNNING)
    return;

  self->state = STATE_DRAINING;
  g_message ("%s: stopping: not ready, no new connections, finishing the work in flight (at most %u s)",
             self->name, self->grace_s);
  /* Not ready first: a connection kept alive may still ask. */
  if (self->server != NULL)
    odd_http_server_set_draining (self->server);
  stop_accepting (self);

  for (guint i = 0; i < self->parts->len; i++)
    {
      Part *part = g_ptr_array_index (self->parts, i);

      if (part->funcs->drain_async != NULL)
        {
          DrainCall *call = g_new0 (DrainCall, 1);

          call->service = g_object_ref (self);
          call->part = part;
          self->pending++;
          part->funcs->drain_async (part->part, self->cancellable, on_part_drained, call);
        }
      if (part->funcs->stop != NULL)
        {
          StopCall *call = g_new0 (StopCall, 1);

          call->service = g_object_ref (self);
          call->part = part;
          self->pending++;
          part->stopper = g_thread_new ("odd-service-stop", stop_thread, call);
        }
    }

  if (self->grace_s > 0)
    {
      self->grace_id = g_timeout_add_seconds (self->grace_s, on_grace_over, self);
      maybe_finish (self);
    }
  else
    on_grace_over (self);
}

gboolean
odd_service_is_stopping (OddService *self)
{
  g_return_val_if_fail (ODD_IS_SERVICE (self), FALSE);
  return self->state >= STATE_DRAINING;
}

static gboolean
on_signal (gpointer user_data)
{
  odd_service_stop (user_data);
  /* Stays installed: a second signal during the drain is not the default "terminate now". */
  return G_SOURCE_CONTINUE;
}

int
odd_service_run (OddService *self)
{
  g_return_val_if_fail (ODD_IS_SERVICE (self), ODD_SERVICE_EXIT_FAILURE);
  g_return_val_if_fail (self->state == STATE_NEW, ODD_SERVICE_EXIT_FAILURE);

  self->signal_ids[0] = g_unix_signal_add (SIGTERM, on_signal, self);
  self->signal_ids[1] = g_unix_signal_add (SIGINT, on_signal, self);
  self->state = STATE_RUNNING;

  for (guint i = 0; i < self->parts->len; i++)
    {
      Part *part = g_ptr_array_index (self->parts, i);

      if (part->funcs->start != NULL)
        part->funcs->start (part->part);
    }

  if (self->server != NULL)
    {
      if (self->replica_port != 0)
        g_message ("odd-%s %s listening on port %u%s and %u (%s)", self->name, ODD_VERSION,
                   self->port, self->reuse_port ? " (shared)" : "", self->replica_port, self->bind);
      else
        g_message ("odd-%s %s listening on port %u%s (%s)", self->name, ODD_VERSION, self->port,
                   self->reuse_port ? " (shared)" : "", self->bind);
    }

  g_main_loop_run (self->loop);

  /* The stops have all reported back, so their threads are ending: join them. */
  for (guint i = 0; i < self->parts->len; i++)
    {
      Part *part = g_ptr_array_index (self->parts, i);

      if (part->stopper != NULL)
        g_thread_join (g_steal_pointer (&part->stopper));
    }
  for (guint i = 0; i < G_N_ELEMENTS (self->signal_ids); i++)
    g_clear_handle_id (&self->signal_ids[i], g_source_remove);

  g_message ("%s: stopped", self->name);
  return ODD_SERVICE_EXIT_OK;
}

/* ---- main() ------------------------------------------------------------------------------ */

static void
print_usage (FILE       *out,
             const char *name,
             guint       default_port,
             const char *variables)
{
  fprintf (out,
           "Usage: odd-%s\n"
           "Configured by the environment: PORT (%u), ODD_BIND (127.0.0.1), "
           "ODD_SHUTDOWN_GRACE_S (%d), ODD_REUSE_PORT (0), ODD_REPLICA_PORT (none)%s%s.\n"
           "Exit status: 0 stopped by SIGTERM/SIGINT, 1 cannot run, 2 invalid configuration.\n",
           name, default_port, ODD_SERVICE_DEFAULT_GRACE_S,
           variables != NULL ? ", " : "", variables != NULL ? variables : "");
}

int
odd_service_main (const char           *name,
                  guint                 default_port,
                  const char           *variables,
                  OddServiceSetupFunc   setup,
                  int                   argc,
                  char                **argv)
{
  g_autoptr(OddService) service = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strdup_printf ("odd-%s", name);

  g_return_val_if_fail (name != NULL && setup != NULL, ODD_SERVICE_EXIT_FAILURE);

  setlocale (LC_ALL, "");
  g_set_prgname (prgname);
  odd_log_init (name);

  if (argc == 2 && (g_strcmp0 (argv[1], "--help") == 0 || g_strcmp0 (argv[1], "-h") == 0))
    {
      print_usage (stdout, name, default_port, variables);
      return ODD_SERVICE_EXIT_OK;
    }
  if (argc > 1)
    {
      g_printerr ("%s: takes no arguments\n", prgname);
      print_usage (stderr, name, default_port, variables);
      return ODD_SERVICE_EXIT_CONFIG;
    }

  service = odd_service_new (name, default_port);
  if (!odd_service_load_config (service, &error) || !setup (service, &error))
    {
      OddServiceExit status = odd_service_exit_for_error (error);

      g_printerr ("%s: %s: %s\n", prgname,
                  status == ODD_SERVICE_EXIT_CONFIG ? "invalid configuration" : "cannot start",
                  error->message);
      return status;
    }

  return odd_service_run (service);
}
