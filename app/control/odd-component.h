/* odd-component.h: one supervised server (PostgreSQL, Redis, RabbitMQ) or service
 *
 * A component knows how to start itself detached, wait until it is ready, tell whether it
 * is running and healthy, and stop. All calls block (the stack runs them on a worker
 * thread) and honour their GCancellable.
 */
#pragma once

#include <gio/gio.h>

#include "odd-stack-paths.h"

G_BEGIN_DECLS

typedef enum
{
  ODD_COMPONENT_POSTGRES,
  ODD_COMPONENT_REDIS,
  ODD_COMPONENT_RABBITMQ,
  ODD_COMPONENT_SERVICE,
} OddComponentKind;

#define ODD_TYPE_COMPONENT (odd_component_get_type ())
G_DECLARE_FINAL_TYPE (OddComponent, odd_component, ODD, COMPONENT, GObject)

/* @name: "postgres", "redis", "rabbitmq", or the service name ("gateway", ...), whose
 * binary is odd-<name>. @port: the port of the component in @paths. */
OddComponent     *odd_component_new            (OddComponentKind     kind,
                                                const char          *name,
                                                OddPort              port,
                                                OddStackPaths       *paths);

/* Replica @replica (1-based) of a service: named @service for replica 1 (as a stack without
 * replicas has it), "<service>-<replica>" for the others, each with its own port
 * (odd_stack_paths_get_replica_port()), log and pid file. */
OddComponent     *odd_component_new_replica    (const char          *service,
                                                OddPort              port,
                                                guint                replica,
                                                OddStackPaths       *paths);

const char       *odd_component_get_name       (OddComponent        *self);
/* The service ("processor" for "processor-2"); the name itself for a server. */
const char       *odd_component_get_service    (OddComponent        *self);
guint             odd_component_get_replica    (OddComponent        *self);
OddComponentKind  odd_component_get_kind       (OddComponent        *self);
/* The port the component answers on by itself (its health probe): for a replica of a
 * service with a shared port, its private one. */
guint16           odd_component_get_port       (OddComponent        *self);
/* The URL clients use: postgresql://, redis://, amqp:// or http:// (for a shared port, the
 * one URL of all replicas) */
char             *odd_component_dup_url        (OddComponent        *self);
char             *odd_component_dup_log_file   (OddComponent        *self);

/* Extra KEY=VALUE environment for a service (replaces earlier calls). */
void              odd_component_set_env        (OddComponent        *self,
                                                const char * const  *env);

/* The pid of the running component, or 0 when it is not running. */
GPid              odd_component_get_pid        (OddComponent        *self);
/* Running and answering: TCP (servers) or GET /readyz = 200 (services). */
gboolean          odd_component_is_healthy     (OddComponent        *self,
                                                GCancellable        *cancellable);
/* Checks that the programs exist; the error names the package to install. */
gboolean          odd_component_check_programs (OddComponent        *self,
                                                GError             **error);
/* Starts the component (which must not be running) without waiting until it is ready
 * (PostgreSQL is the exception: pg_ctl waits, and the database odd is created). */
gboolean          odd_component_launch         (OddComponent        *self,
                                                GCancellable        *cancellable,
                                                GError             **error);
/* How long odd_component_start() waits: 60 s for servers, 30 s for services. */
guint             odd_component_ready_timeout_ms (OddComponent      *self);
/* Launches the component (which must not be running) and waits until it is ready. */
gboolean          odd_component_start          (OddComponent        *self,
                                                GCancellable        *cancellable,
                                                GError             **error);
/* Waits until a running component is ready (servers: accept connections; services:
 * /readyz = 200; a service with several replicas: /healthz = 200, since one may rightly
 * stand by). Fails early, with the end of the log, when the process dies. */
gboolean          odd_component_wait_ready     (OddComponent        *self,
                                                guint                timeout_ms,
                                                GCancellable        *cancellable,
                                                GError             **error);
/* The default length limits of jobs.created: jobs (max-length) and bytes (max-length-bytes).
 * $ODD_JOBS_CREATED_MAX_LENGTH and $ODD_JOBS_CREATED_MAX_BYTES (0 = no limit) override them
 * when the local stack starts RabbitMQ. */
#define ODD_DEFAULT_JOBS_CREATED_MAX_LENGTH 100000
#define ODD_DEFAULT_JOBS_CREATED_MAX_BYTES  G_GINT64_CONSTANT (1073741824)
/* The name of the RabbitMQ policy that holds them. */
#define ODD_JOBS_CREATED_POLICY             "odd-jobs-created-limit"

/* RabbitMQ (running): sets the policy ODD_JOBS_CREATED_POLICY on jobs.created: at most
 * @max_length ready jobs and @max_bytes bytes (0 = that bound off; both 0 clears the policy),
 * overflow reject-publish, so that a publisher's confirm becomes a nack instead of a queue
 * that grows without bound. A policy, unlike a queue argument, changes on a live broker. */
gboolean          odd_component_set_queue_limit (OddComponent       *self,
                                                 gint64              max_length,
                                                 gint64              max_bytes,
                                                 GCancellable       *cancellable,
                                                 GError            **error);

/* Stops the component; TRUE also when it was not running. */
gboolean          odd_component_stop           (OddComponent        *self,
                                                GError             **error);

G_END_DECLS
