/* odd-stack-paths.h: where a local stack keeps its state and which ports it uses
 *
 * Everything of one stack lives under one state directory ($ODD_STATE_DIR, else
 * $XDG_STATE_HOME/odd/local, else ~/.local/state/odd/local): data, logs, pid files and
 * stack.json, which records the ports so later commands find a running stack.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define ODD_STACK_DEFAULT_PORT_BASE 18000
/* The largest offset below, so that base + offset stays a valid port. */
#define ODD_STACK_MAX_PORT_OFFSET   673

typedef enum
{
  ODD_PORT_POSTGRES,
  ODD_PORT_REDIS,
  ODD_PORT_RABBITMQ,
  ODD_PORT_RABBITMQ_DIST,
  ODD_PORT_GATEWAY,
  ODD_PORT_READ_MODEL,
  ODD_PORT_PROCESSOR,
  ODD_PORT_METRICS_ENGINE,
  ODD_PORT_WEB_TERMINAL,
  ODD_PORT_LAST,
} OddPort;

typedef struct _OddStackPaths OddStackPaths;

/* Replicas of one service in a local stack: 1 ..  this. */
#define ODD_STACK_MAX_REPLICAS      16

int            odd_stack_port_offset            (OddPort              port);
const char    *odd_stack_port_name              (OddPort              port);

/* Whether several replicas of the service on @port share that port (SO_REUSEPORT: the kernel
 * spreads connections), as the stateless gateway and read-model do, each with a private port
 * of its own besides for its health and metrics. */
gboolean       odd_stack_port_is_shared         (OddPort              port);
/* The service of a port that may run replicas (gateway, read-model, processor,
 * metrics-engine), by its name; ODD_PORT_LAST when @name is none of them. */
OddPort        odd_stack_port_for_service       (const char          *name);
/* Parses "processor=3,metrics-engine=2" into @counts (indexed by OddPort; entries not named
 * are left alone). The error says what is wrong and how to write it. */
gboolean       odd_stack_parse_replicas         (const char          *spec,
                                                 guint                counts[ODD_PORT_LAST],
                                                 GError             **error);

/* $ODD_STATE_DIR, else $XDG_STATE_HOME/odd/local, else ~/.local/state/odd/local. */
char          *odd_stack_default_state_dir      (void);

OddStackPaths *odd_stack_paths_new              (const char          *state_dir,
                                                 int                  port_base);
/* The state dir from the environment; the port base from $ODD_PORT_BASE, else from the
 * stack.json of that dir (the running stack), else 18000. An invalid $ODD_PORT_BASE is an
 * error naming the variable. */
OddStackPaths *odd_stack_paths_new_from_env     (GError             **error);
/* Reads stack.json of @state_dir (ports, PostgreSQL dir and replica counts). */
OddStackPaths *odd_stack_paths_load             (const char          *state_dir,
                                                 GError             **error);
OddStackPaths *odd_stack_paths_ref              (OddStackPaths       *self);
void           odd_stack_paths_unref            (OddStackPaths       *self);

const char    *odd_stack_paths_get_state_dir    (OddStackPaths       *self);
int            odd_stack_paths_get_port_base    (OddStackPaths       *self);
guint16        odd_stack_paths_get_port         (OddStackPaths       *self,
                                                 OddPort              port);
/* How many replicas of the service on @port the stack runs (1 for anything else). */
guint          odd_stack_paths_get_replicas     (OddStackPaths       *self,
                                                 OddPort              port);
void           odd_stack_paths_set_replicas     (OddStackPaths       *self,
                                                 OddPort              port,
                                                 guint                replicas);
/* The port replica @replica (1-based) of the service on @port answers on by itself (its
 * /readyz and /metrics): for a shared port a private one (+310.. gateway, +150.. read-model),
 * else the service's port for replica 1 and +110.. (processor), +130.. (metrics-engine) for
 * the others. */
guint16        odd_stack_paths_get_replica_port (OddStackPaths       *self,
                                                 OddPort              port,
                                                 guint                replica);

/* The PostgreSQL cluster directory (data/ and the socket dir). Under the state dir unless
 * set otherwise (as root the postgres user may not reach the state dir). */
const char    *odd_stack_paths_get_postgres_dir (OddStackPaths       *self);
void           odd_stack_paths_set_postgres_dir (OddStackPaths       *self,
                                                 const char          *dir);

/* Where the cluster lives as root when the postgres user cannot reach the state dir:
 * <this>/<first 12 hex digits of the state dir's SHA-256>. */
#define ODD_STACK_ROOT_POSTGRES_DIR "/var/lib/odd/local-postgres"

/* As root (PostgreSQL then runs as the postgres user), moves the cluster directory to
 * ODD_STACK_ROOT_POSTGRES_DIR when the postgres user cannot reach it and it holds no cluster
 * yet; *@moved_from is then the directory it had (else it stays NULL). */
gboolean       odd_stack_paths_ensure_postgres_reachable (OddStackPaths  *self,
                                                          char          **moved_from,
                                                          GError        **error);

char          *odd_stack_paths_component_dir    (OddStackPaths       *self,
                                                 const char          *name);
char          *odd_stack_paths_log_file         (OddStackPaths       *self,
                                                 const char          *name);
char          *odd_stack_paths_pid_file         (OddStackPaths       *self,
                                                 const char          *name);
char          *odd_stack_paths_stack_json       (OddStackPaths       *self);

char          *odd_stack_paths_postgres_url     (OddStackPaths       *self);
char          *odd_stack_paths_redis_url        (OddStackPaths       *self);
char          *odd_stack_paths_rabbitmq_url     (OddStackPaths       *self);
/* http://127.0.0.1:<port> for ODD_PORT_GATEWAY .. ODD_PORT_METRICS_ENGINE */
char          *odd_stack_paths_http_url         (OddStackPaths       *self,
                                                 OddPort              port);
/* The Erlang node name, unique per port base so that several stacks coexist. */
char          *odd_stack_paths_rabbitmq_node    (OddStackPaths       *self);

/* Creates the state dir, logs/ and run/. */
gboolean       odd_stack_paths_ensure_dirs      (OddStackPaths       *self,
                                                 GError             **error);
JsonNode      *odd_stack_paths_to_json          (OddStackPaths       *self);
/* Writes stack.json atomically. */
gboolean       odd_stack_paths_save             (OddStackPaths       *self,
                                                 GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddStackPaths, odd_stack_paths_unref)

G_END_DECLS
