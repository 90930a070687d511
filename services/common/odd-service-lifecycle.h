/* odd-service-lifecycle.h: the one lifecycle of the four services
 *
 * A service's main() is odd_service_main(): it sets up the locale and the logs, reads the
 * common configuration (PORT, ODD_BIND, ODD_SHUTDOWN_GRACE_S), calls the service's setup
 * (its own configuration, its objects, its HTTP server), starts the parts and runs the main
 * loop. On SIGTERM or SIGINT it drains:
 *   1. /readyz answers 503 "draining" (on connections still open) and the HTTP server stops
 *      accepting connections (the listening sockets are shut down);
 *   2. every part is asked to stop at once: parts with a drain (the gateway's outstanding
 *      confirms) run it on the main context, parts with worker threads are stopped and joined
 *      off the main thread, so requests in flight are still answered meanwhile;
 *   3. when the requests in flight and the drains are done, or ODD_SHUTDOWN_GRACE_S has passed
 *      (then the drains are cancelled and the log names what was left), the server closes its
 *      connections and the process exits.
 * Worker threads are always joined: their steps are bounded by their own timeouts.
 *
 * Exit status: ODD_SERVICE_EXIT_OK after a signal, ODD_SERVICE_EXIT_FAILURE when the service
 * cannot run (the port is taken, setup failed), ODD_SERVICE_EXIT_CONFIG for an invalid
 * configuration (ODD_CONFIG_ERROR, contracts that cannot be loaded) or command line.
 */
#pragma once

#include <gio/gio.h>

#include "odd-contracts.h"
#include "odd-http.h"
#include "odd-metrics.h"

G_BEGIN_DECLS

typedef enum {
  ODD_SERVICE_EXIT_OK      = 0,
  ODD_SERVICE_EXIT_FAILURE = 1,
  ODD_SERVICE_EXIT_CONFIG  = 2,
} OddServiceExit;

#define ODD_SERVICE_DEFAULT_GRACE_S 5

#define ODD_TYPE_SERVICE (odd_service_get_type ())
G_DECLARE_FINAL_TYPE (OddService, odd_service, ODD, SERVICE, GObject)

/* What the lifecycle does with a part of a service (an engine, a processor, a gateway);
 * every function is optional and gets the part as its first argument. */
typedef struct {
  /* At start, on the main thread: starts the part's worker threads. */
  void     (*start)        (gpointer             part);
  /* During the drain, on a thread of its own: asks the workers to stop, then joins them. */
  void     (*stop)         (gpointer             part);
  /* During the drain, on the main context; @cancellable is cancelled when the grace is over. */
  void     (*drain_async)  (gpointer             part,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data);
  gboolean (*drain_finish) (gpointer             part,
                            GAsyncResult        *result,
                            GError             **error);
} OddServicePartFuncs;

/* Builds the service on @service: reads its own configuration (failing with ODD_CONFIG_ERROR
 * naming the variable), makes its parts and its server, and registers them. */
typedef gboolean (*OddServiceSetupFunc) (OddService  *service,
                                         GError     **error);

/* @name: "gateway", "processor"…: the log's service field, the metrics' and the program's name
 * (odd-@name). @default_port: PORT when unset. */
OddService    *odd_service_new             (const char                *name,
                                            guint                      default_port);
/* Reads PORT, ODD_BIND and ODD_SHUTDOWN_GRACE_S. */
gboolean       odd_service_load_config     (OddService                *self,
                                            GError                   **error);
const char    *odd_service_get_name        (OddService                *self);
const char    *odd_service_get_bind        (OddService                *self);
/* PORT, or the port listened on once listening (PORT=0 takes any free port). */
guint          odd_service_get_port        (OddService                *self);
guint          odd_service_get_grace       (OddService                *self);
/* A metrics registry named for the service, for parts that do not make their own. */
OddMetrics    *odd_service_get_metrics     (OddService                *self);

/* Adds @part (owned: @free_part is called after the service stopped). @funcs must be static. */
void           odd_service_add_part        (OddService                *self,
                                            gpointer                   part,
                                            GDestroyNotify             free_part,
                                            const OddServicePartFuncs *funcs);
/* The server to drain. Listens on ODD_BIND:PORT, unless @server already listens (services
 * whose start listens take odd_service_get_bind/port). */
gboolean       odd_service_serve           (OddService                *self,
                                            OddHttpServer             *server,
                                            GError                   **error);

/* Starts the parts, and drains on SIGTERM/SIGINT (odd_service_stop()). Returns the exit status. */
int            odd_service_run             (OddService                *self);
/* What SIGTERM does: starts the drain; odd_service_run() returns when it is done. */
void           odd_service_stop            (OddService                *self);
/* TRUE from the start of the drain. */
gboolean       odd_service_is_stopping     (OddService                *self);

/* The whole main() of a service. @variables: the service's own environment variables, for
 * the usage text. */
int            odd_service_main            (const char                *name,
                                            guint                      default_port,
                                            const char                *variables,
                                            OddServiceSetupFunc        setup,
                                            int                        argc,
                                            char                     **argv);

/* The contracts' schemas (CONTRACTS_PATH, else the installed ones) with every schema of
 * @required (NULL-terminated, may be NULL); else an ODD_CONFIG_ERROR that says where it looked. */
OddSchemaRegistry *odd_service_load_contracts (const char *const     *required,
                                               GError               **error);

/* The exit status for a failed setup: ODD_SERVICE_EXIT_CONFIG for a configuration error. */
OddServiceExit odd_service_exit_for_error  (const GError              *error);

G_END_DECLS
