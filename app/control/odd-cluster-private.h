/* odd-cluster-private.h: the pieces of OddCluster shared by its files */
#pragma once

#include "odd-cluster.h"

G_BEGIN_DECLS

/* One running operation (up, down, status, forward): where progress goes and what the
 * current step is. Lives on the worker thread. */
typedef struct
{
  OddCluster      *cluster;
  OddProgressFunc  func;
  gpointer         data;
  GMainContext    *context;     /* NULL: call func directly (blocking forms) */
  GCancellable    *cancellable;
  const char      *step;
  double           fraction;
  char            *deploy_dir;  /* up: the kustomize tree in use (a writable copy if need be) */
} OddClusterOp;

void      odd_cluster_op_report        (OddClusterOp       *op,
                                        OddProgressStatus   status,
                                        const char         *format,
                                        ...) G_GNUC_PRINTF (3, 4);

/* How a command ended. */
typedef struct
{
  int       exit_status;  /* meaningful when !timed_out */
  gboolean  timed_out;
  char     *output;       /* everything it printed (stdout and stderr), capped */
  char     *tail;         /* its last lines, for error messages */
} OddClusterResult;

void      odd_cluster_result_clear     (OddClusterResult   *result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (OddClusterResult, odd_cluster_result_clear)

/* Runs @argv in its own process group, stdout and stderr merged; every line goes to the
 * progress stream when @stream is set. At @timeout_s, or when the op is cancelled, the whole
 * group gets SIGTERM, then SIGKILL 2 s later. FALSE (with @error) only when it could not
 * start or was cancelled; a timeout or a failing exit status is in @result. */
gboolean  odd_cluster_run              (OddClusterOp       *op,
                                        const char * const *argv,
                                        guint               timeout_s,
                                        gboolean            stream,
                                        OddClusterResult   *result,
                                        GError            **error);

/* Remedies: what a failure means and what to do, keyed by error code. */
OddClusterError odd_cluster_classify   (const char         *output,
                                        OddClusterError     fallback);
/* Sets @error and the cluster's failure record (step, hint, remediation) from @code.
 * @subject is what the message is about (a tool, a port, a workload). */
void      odd_cluster_fail             (OddClusterOp       *op,
                                        OddClusterError     code,
                                        const char         *subject,
                                        const char         *detail,
                                        GError            **error);
void      odd_cluster_set_failure      (OddCluster         *self,
                                        JsonObject         *failure);
/* Records a cancellation or another error that has no remedy of its own. */
void      odd_cluster_fail_plain       (OddClusterOp       *op,
                                        const GError       *error);

/* Configuration read by the other files. */
const char *odd_cluster_get_tool_path  (OddCluster         *self,
                                        const char         *tool);
gboolean  odd_cluster_find_tools       (OddClusterOp       *op,
                                        const char * const *tools,
                                        GError            **error);
char     *odd_cluster_forwards_file    (OddCluster         *self);
guint16   odd_cluster_get_forward_port (OddCluster         *self,
                                        const char         *name,
                                        guint16             default_port);

/* Forwards (odd-cluster-forwards.c). */
JsonNode *odd_cluster_forward_start_run (OddClusterOp      *op,
                                         const char        *name,
                                         GError           **error);

G_END_DECLS
