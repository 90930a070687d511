/* odd-local-stack.h: the local stack supervisor behind `oddctl local`
 *
 * Three servers (PostgreSQL, Redis, RabbitMQ) and the four services, run as detached
 * processes of the current user on loopback ports, with all state under one directory
 * (see odd-stack-paths.h). The async calls run on a worker thread; their progress callback
 * and completion run on the main context that was thread-default when they were called.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "odd-component.h"
#include "odd-control-error.h"
#include "odd-stack-paths.h"

G_BEGIN_DECLS

#define ODD_TYPE_LOCAL_STACK (odd_local_stack_get_type ())
G_DECLARE_FINAL_TYPE (OddLocalStack, odd_local_stack, ODD, LOCAL_STACK, GObject)

/* Component names in start order: rabbitmq, postgres, redis, processor, metrics-engine,
 * read-model, gateway, web-terminal (each service once: its first replica). */
const char * const *odd_local_stack_component_names (void);

OddLocalStack *odd_local_stack_new               (OddStackPaths        *paths);
/* Paths and ports from the environment (odd_stack_paths_new_from_env()). */
OddLocalStack *odd_local_stack_new_from_env      (GError              **error);

OddStackPaths *odd_local_stack_get_paths         (OddLocalStack        *self);
/* Only the three servers: `up` leaves the services out (for tests that run a service
 * themselves). Default FALSE. */
void           odd_local_stack_set_servers_only  (OddLocalStack        *self,
                                                  gboolean              servers_only);
/* Extra KEY=VALUE environment for the four services, applied over the inherited environment
 * and under the stack's own settings (PORT, *_URL, ODD_BIND). Takes effect at their next
 * start. */
void           odd_local_stack_set_service_env   (OddLocalStack        *self,
                                                  const char * const   *env);
/* Runs @replicas (1 .. ODD_STACK_MAX_REPLICAS) of @service (gateway, read-model, processor or
 * metrics-engine): replica 1 is named as the service, the others "<service>-<n>". Takes
 * effect at the next `up`, which also records it in stack.json (so later commands and the UIs
 * see it) and stops replicas beyond the count. Not while an up or down runs. */
gboolean       odd_local_stack_set_replicas      (OddLocalStack        *self,
                                                  const char           *service,
                                                  guint                 replicas,
                                                  GError              **error);
guint          odd_local_stack_get_replicas      (OddLocalStack        *self,
                                                  const char           *service);
/* FALSE when stack.json records other replica counts than this object has (an `oddctl local
 * up --replicas` since it was made): a UI then makes a new one to follow the stack. */
gboolean       odd_local_stack_replicas_match_saved (OddLocalStack     *self);
/* Every component's name in start order, replicas included ("processor", "processor-2"). */
GStrv          odd_local_stack_dup_names         (OddLocalStack        *self);
/* NULL (with a critical) for an unknown name; replica names are known. */
OddComponent  *odd_local_stack_get_component     (OddLocalStack        *self,
                                                  const char           *name);

/* Starts whatever is not running and healthy; leaves the rest alone. Cancelling stops
 * what this call started. */
void           odd_local_stack_up_async          (OddLocalStack        *self,
                                                  GCancellable         *cancellable,
                                                  OddProgressFunc       progress,
                                                  gpointer              progress_data,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
gboolean       odd_local_stack_up_finish         (OddLocalStack        *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);

/* Stops the services, then RabbitMQ, Redis and PostgreSQL. Data is kept. */
void           odd_local_stack_down_async        (OddLocalStack        *self,
                                                  GCancellable         *cancellable,
                                                  OddProgressFunc       progress,
                                                  gpointer              progress_data,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
gboolean       odd_local_stack_down_finish       (OddLocalStack        *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);

/* {"stateDir","portBase","replicas":{"processor":3,...},"components":[{"name","service",
 * "replica","url"(the one users know),"port"(its own: health, metrics),"pid"(null when not
 * running),"healthy","standby"(alive and not ready while another replica of its service is
 * ready: by design, not a fault),"log"}]} */
void           odd_local_stack_status_async      (OddLocalStack        *self,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
JsonNode      *odd_local_stack_status_finish     (OddLocalStack        *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);

/* Blocking forms of the above, for tests and tools; @progress runs in the calling thread. */
gboolean       odd_local_stack_up                (OddLocalStack        *self,
                                                  GCancellable         *cancellable,
                                                  OddProgressFunc       progress,
                                                  gpointer              progress_data,
                                                  GError              **error);
gboolean       odd_local_stack_down              (OddLocalStack        *self,
                                                  GCancellable         *cancellable,
                                                  OddProgressFunc       progress,
                                                  gpointer              progress_data,
                                                  GError              **error);
JsonNode      *odd_local_stack_status            (OddLocalStack        *self,
                                                  GCancellable         *cancellable);
/* Stops one component (blocking); `up` starts it again. */
gboolean       odd_local_stack_stop_component    (OddLocalStack        *self,
                                                  const char           *name,
                                                  GError              **error);

G_END_DECLS
