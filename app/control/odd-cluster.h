/* odd-cluster.h: the Distributed Task Observatory on a local kind cluster
 *
 * `up` checks the prerequisites, creates the kind cluster "task-observatory" (its node maps
 * the gateway and the read-model to host ports, so they need no port-forward), builds the
 * services image, loads it into the node, applies services/deploy/overlays/kind, waits for
 * every workload and checks /readyz through the mapped ports. `status` reports nodes and
 * workloads, `forward_*` manages `kubectl port-forward` children for the other UIs (their pids
 * are kept in $XDG_STATE_HOME/odd/forwards.json), `down` stops the forwards and deletes the
 * cluster.
 *
 * Every tool runs from an argv vector (never a shell), found with odd_tools_find(); its output
 * is streamed line by line to the progress callback. The async calls run on a worker thread;
 * progress and completion run on the main context that was thread-default when they were
 * called. Cancelling kills the running child (its whole process group) and runs nothing more.
 *
 * Failures are ODD_CLUSTER_ERROR errors; odd_cluster_get_failure() then tells the step, a hint
 * and the exact remediation.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "odd-control-error.h"

G_BEGIN_DECLS

#define ODD_CLUSTER_ERROR (odd_cluster_error_quark ())
GQuark odd_cluster_error_quark (void);

typedef enum
{
  ODD_CLUSTER_ERROR_FAILED,             /* a step failed for another reason */
  ODD_CLUSTER_ERROR_TOOL_MISSING,       /* docker, kind or kubectl is not installed */
  ODD_CLUSTER_ERROR_DOCKER_NOT_RUNNING, /* the Docker daemon does not answer */
  ODD_CLUSTER_ERROR_DOCKER_PERMISSION,  /* no permission on the Docker socket */
  ODD_CLUSTER_ERROR_CLUSTER_EXISTS,     /* kind found leftovers of a cluster with that name */
  ODD_CLUSTER_ERROR_IMAGE_BUILD,        /* docker build failed */
  ODD_CLUSTER_ERROR_ROLLOUT_TIMEOUT,    /* a workload did not become ready in time */
  ODD_CLUSTER_ERROR_PORT_IN_USE,        /* a host port the cluster or a forward needs is taken */
  ODD_CLUSTER_ERROR_NO_CLUSTER,         /* the cluster does not exist */
  ODD_CLUSTER_ERROR_TIMEOUT,            /* a command or a health check took too long */
  ODD_CLUSTER_ERROR_INVALID,            /* bad configuration or an unknown forward name */
} OddClusterError;

#define ODD_CLUSTER_DEFAULT_NAME "task-observatory"

#define ODD_TYPE_CLUSTER (odd_cluster_get_type ())
G_DECLARE_FINAL_TYPE (OddCluster, odd_cluster, ODD, CLUSTER, GObject)

/* Configuration from the environment:
 *   ODD_SOURCE_DIR               source tree holding services/deploy/Dockerfile (default: the
 *                                tree this library was built from, when it exists)
 *   ODD_DEPLOY_DIR               the kustomize tree (default $ODD_SOURCE_DIR/services/deploy,
 *                                else the installed share/odd/deploy)
 *   XDG_STATE_HOME               state: $XDG_STATE_HOME/odd (default ~/.local/state/odd)
 *   ODD_CLUSTER_GATEWAY_PORT     host port of the gateway (3000)
 *   ODD_CLUSTER_READ_MODEL_PORT  host port of the read-model (8080)
 *   ODD_CLUSTER_ROLLOUT_TIMEOUT  seconds each workload may take to become ready (300)
 *   ODD_CLUSTER_FORWARD_PORTS    local ports of forwards, e.g. grafana=13002,prometheus=19090
 * An invalid number is an error naming the variable. */
OddCluster    *odd_cluster_new_from_env          (GError             **error);

const char    *odd_cluster_get_name              (OddCluster          *self);
/* kind-<name>: every kubectl call names it, the current context is never changed. */
const char    *odd_cluster_get_context           (OddCluster          *self);
const char    *odd_cluster_get_state_dir         (OddCluster          *self);
const char    *odd_cluster_get_deploy_dir        (OddCluster          *self);
/* odd-services:<project version> */
const char    *odd_cluster_get_image             (OddCluster          *self);
guint16        odd_cluster_get_gateway_port      (OddCluster          *self);
guint16        odd_cluster_get_read_model_port   (OddCluster          *self);

void           odd_cluster_set_state_dir         (OddCluster          *self,
                                                  const char          *dir);
void           odd_cluster_set_source_dir        (OddCluster          *self,
                                                  const char          *dir);
void           odd_cluster_set_deploy_dir        (OddCluster          *self,
                                                  const char          *dir);
void           odd_cluster_set_ports             (OddCluster          *self,
                                                  guint16              gateway,
                                                  guint16              read_model);
void           odd_cluster_set_rollout_timeout   (OddCluster          *self,
                                                  guint                seconds);
/* The local port of forward @name (one of odd_cluster_forward_names()); also from
 * ODD_CLUSTER_FORWARD_PORTS=grafana=13002,prometheus=19090,... */
void           odd_cluster_set_forward_port      (OddCluster          *self,
                                                  const char          *name,
                                                  guint16              port);
/* How long `up` polls /readyz through the mapped ports (default 60 s). */
void           odd_cluster_set_verify_timeout    (OddCluster          *self,
                                                  guint                seconds);

/* The kind configuration `up` creates the cluster with (host port mappings). */
char          *odd_cluster_dup_kind_config       (OddCluster          *self);

/* After a failed operation: {"step","error","hint","remediation":[...]}, else NULL. Only
 * valid on the thread that finished the operation, until the next one starts. */
JsonObject    *odd_cluster_get_failure           (OddCluster          *self);

void           odd_cluster_up_async              (OddCluster          *self,
                                                  GCancellable        *cancellable,
                                                  OddProgressFunc      progress,
                                                  gpointer             progress_data,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
gboolean       odd_cluster_up_finish             (OddCluster          *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);

/* Stops every forward, then deletes the cluster (a missing cluster is not an error). */
void           odd_cluster_down_async            (OddCluster          *self,
                                                  GCancellable        *cancellable,
                                                  OddProgressFunc      progress,
                                                  gpointer             progress_data,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
gboolean       odd_cluster_down_finish           (OddCluster          *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);

/* {"cluster","context","exists","nodes":[{"name","ready"}],"workloads":[{"kind","name",
 * "ready","desired","restarts","autoscaler"?:{"min","max","current","desired"},
 * "disruptionsAllowed"?}],"forwards":[...],"urls":{"gateway","readModel"}}: "autoscaler" when a
 * HorizontalPodAutoscaler scales the workload, "disruptionsAllowed" (pods a node drain may evict
 * now) when a PodDisruptionBudget selects its pods. */
void           odd_cluster_status_async          (OddCluster          *self,
                                                  GCancellable        *cancellable,
                                                  OddProgressFunc      progress,
                                                  gpointer             progress_data,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
JsonNode      *odd_cluster_status_finish         (OddCluster          *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);

/* Forward targets: grafana (svc/grafana 3000 → 127.0.0.1:3002), prometheus (9090),
 * alertmanager (9093), rabbitmq (management UI, 15672). */
const char * const *odd_cluster_forward_names    (void);

/* Starts `kubectl port-forward` for @name (detached; it outlives this process), records it
 * and waits until its local port accepts connections. An alive forward of that name is left
 * alone. */
void           odd_cluster_forward_start_async   (OddCluster          *self,
                                                  const char          *name,
                                                  GCancellable        *cancellable,
                                                  OddProgressFunc      progress,
                                                  gpointer             progress_data,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
/* The forward record: {"name","pid","localPort","target","url","log"} */
JsonNode      *odd_cluster_forward_start_finish  (OddCluster          *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);

/* The recorded forwards that still run ({"forwards":[records]}); stale records (process gone,
 * or its pid reused by another program) are removed from forwards.json. */
JsonNode      *odd_cluster_forward_list          (OddCluster          *self,
                                                  GError             **error);
/* Stops the forward @name, or all of them when @name is NULL; returns how many stopped
 * (-1 on error). An unknown or already stopped name is not an error. */
int            odd_cluster_forward_stop          (OddCluster          *self,
                                                  const char          *name,
                                                  GError             **error);

/* Blocking forms, for tests and tools; @progress runs in the calling thread. */
gboolean       odd_cluster_up                    (OddCluster          *self,
                                                  GCancellable        *cancellable,
                                                  OddProgressFunc      progress,
                                                  gpointer             progress_data,
                                                  GError             **error);
gboolean       odd_cluster_down                  (OddCluster          *self,
                                                  GCancellable        *cancellable,
                                                  OddProgressFunc      progress,
                                                  gpointer             progress_data,
                                                  GError             **error);

G_END_DECLS
