/* odd-stack-monitor.h: the stack the app shows and controls (local stack or kind cluster)
 *
 * Wraps OddLocalStack and OddCluster of libodd-control for the windows: polls their status on
 * a timer (never on the main thread: the control library's async calls), keeps components,
 * workloads and port-forwards as GListModels of OddStackEntry, runs `up` and `down` with
 * their progress stream, and knows the endpoints (read model, gateway) the terminal's
 * dashboard talks to. One monitor per application.
 *
 * A status probes every component, so it is asked every :refresh-interval only while a view
 * that shows the components watches the monitor (odd_stack_monitor_watch()); unwatched, every
 * :unwatched-interval, for the state alone.
 */
#pragma once

#include <gio/gio.h>

#include "odd-cluster.h"
#include "odd-local-stack.h"
#include "odd-stack-entry.h"

G_BEGIN_DECLS

typedef enum
{
  ODD_STACK_KIND_LOCAL,
  ODD_STACK_KIND_KIND,
} OddStackKind;

GType odd_stack_kind_get_type (void) G_GNUC_CONST;
#define ODD_TYPE_STACK_KIND (odd_stack_kind_get_type ())

typedef enum
{
  ODD_STACK_STATE_UNKNOWN,   /* no status yet, or the status failed */
  ODD_STACK_STATE_STOPPED,   /* nothing runs */
  ODD_STACK_STATE_PARTIAL,   /* some components run, or some are not healthy */
  ODD_STACK_STATE_RUNNING,   /* everything runs and is healthy */
} OddStackState;

GType odd_stack_state_get_type (void) G_GNUC_CONST;
#define ODD_TYPE_STACK_STATE (odd_stack_state_get_type ())

#define ODD_TYPE_STACK_MONITOR (odd_stack_monitor_get_type ())
G_DECLARE_FINAL_TYPE (OddStackMonitor, odd_stack_monitor, ODD, STACK_MONITOR, GObject)

/* The local stack and the cluster from the environment (ODD_STATE_DIR, ODD_PORT_BASE,
 * ODD_TOOLS_DIR, ... as oddctl reads them). */
OddStackMonitor *odd_stack_monitor_new                (void);

OddStackKind     odd_stack_monitor_get_kind           (OddStackMonitor *self);
/* Switching kind while an operation runs is refused (a warning-free no-op). */
void             odd_stack_monitor_set_kind           (OddStackMonitor *self,
                                                       OddStackKind     kind);
OddStackState    odd_stack_monitor_get_state          (OddStackMonitor *self);
/* An up or down is running. */
gboolean         odd_stack_monitor_get_busy           (OddStackMonitor *self);
/* The running operation is an up (else a down). */
gboolean         odd_stack_monitor_get_starting       (OddStackMonitor *self);
/* 0..1 of the running operation */
double           odd_stack_monitor_get_fraction       (OddStackMonitor *self);
/* The last progress message ("redis: ready on port 18001") */
const char      *odd_stack_monitor_get_step_message   (OddStackMonitor *self);
/* The last failure (of an operation or of the status), or NULL */
const char      *odd_stack_monitor_get_error          (OddStackMonitor *self);
/* What to do about it (commands, the log to read), or NULL */
const char      *odd_stack_monitor_get_remediation    (OddStackMonitor *self);
/* Where the stack lives, one line ("~/.local/state/odd/local · ports 18000–18007") */
const char      *odd_stack_monitor_get_location       (OddStackMonitor *self);

/* OddStackEntry: the local stack's components or the cluster's workloads. */
GListModel      *odd_stack_monitor_get_components     (OddStackMonitor *self);
/* OddStackEntry: every forward target of the cluster, healthy when forwarded (empty for the
 * local stack). */
GListModel      *odd_stack_monitor_get_forwards       (OddStackMonitor *self);

/* Effective endpoints: the override when set, else the current stack's. */
const char      *odd_stack_monitor_get_read_model_url (OddStackMonitor *self);
const char      *odd_stack_monitor_get_gateway_url    (OddStackMonitor *self);

/* Counted: while watched, the status comes every :refresh-interval; the first watch asks for
 * one at once unless one just came. */
void             odd_stack_monitor_watch              (OddStackMonitor *self);
void             odd_stack_monitor_unwatch            (OddStackMonitor *self);
gboolean         odd_stack_monitor_get_watched        (OddStackMonitor *self);

void             odd_stack_monitor_start              (OddStackMonitor *self);
void             odd_stack_monitor_stop               (OddStackMonitor *self);
void             odd_stack_monitor_cancel             (OddStackMonitor *self);
/* Asks for a status now (coalesced with one already running). */
void             odd_stack_monitor_refresh            (OddStackMonitor *self);
void             odd_stack_monitor_forward_start      (OddStackMonitor *self,
                                                       const char      *name);
void             odd_stack_monitor_forward_stop       (OddStackMonitor *self,
                                                       const char      *name);

/* For tests and special setups; NULL (with the reason in :error) when the environment is
 * invalid. */
OddLocalStack   *odd_stack_monitor_get_local_stack    (OddStackMonitor *self);
OddCluster      *odd_stack_monitor_get_cluster        (OddStackMonitor *self);

G_END_DECLS
