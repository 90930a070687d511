/* odd-read-model-private.h: what the service object shares with its handlers */
#pragma once

#include "odd-service.h"
#include "odd-alerts.h"
#include "odd-read-model.h"

G_BEGIN_DECLS

typedef struct {
  char     *name;
  char     *url;         /* base URL; /readyz is appended */
  gboolean  probed;
  gboolean  ready;
  char     *reason;
  gint64    since_usec;  /* start of the current not-ready streak */
  gboolean  in_flight;
} OddServiceProbe;

typedef struct {
  gboolean  ok;
  gboolean  checked;
  char     *error;
  gint64    down_since_usec;
} OddDependencyState;

struct _OddReadModel
{
  GObject             parent_instance;

  OddReadModelConfig  config;
  OddMetrics         *metrics;
  OddHttpServer      *server;
  OddGauge           *dependency_up;
  OddGauge           *service_ready;

  SoupSession        *probe_session;
  GCancellable       *cancellable;
  guint               tick_id;
  gboolean            self_check_in_flight;

  int                 schema_ready;  /* atomic */
  GMutex              migrate_lock;  /* guards the migration and what follows */
  gboolean            migrate_failure_logged;

  GMutex              lock;          /* guards what follows: workers read it for alerts */
  GPtrArray          *probes;        /* OddServiceProbe */
  OddDependencyState  pg;
  OddDependencyState  redis;
};

void           odd_read_model_register_handlers (OddReadModel   *self);

/* Worker-thread helpers. Each returns NULL after filling @result with the 503 to answer. */
PGconn        *odd_read_model_pg_conn           (OddReadModel   *self,
                                                 OddHttpResult  *result);
redisContext  *odd_read_model_redis_conn        (OddReadModel   *self,
                                                 OddHttpResult  *result);
/* Fills @result for a failed query: 503 when the connection broke, else 500. */
void           odd_read_model_pg_failed         (OddReadModel   *self,
                                                 PGconn         *pg,
                                                 const GError   *error,
                                                 OddHttpResult  *result);
void           odd_read_model_redis_failed      (OddReadModel   *self,
                                                 redisContext   *redis,
                                                 const GError   *error,
                                                 OddHttpResult  *result);

/* A one-line phrase for a client ("cannot connect", "connection lost", ...) in place of a
 * dependency's own error text, which only the log gets. NULL for NULL. */
const char    *odd_read_model_dependency_reason (const GError   *error);

/* Records the outcome of using a dependency (NULL error = it worked). Any thread. */
void           odd_read_model_note_pg           (OddReadModel   *self,
                                                 const GError   *error);
void           odd_read_model_note_redis        (OddReadModel   *self,
                                                 const GError   *error);

/* Fills the dependency and service fields of @snapshot with copies owned by @strings. */
void           odd_read_model_snapshot_states   (OddReadModel     *self,
                                                 OddAlertSnapshot *snapshot,
                                                 GArray           *services,
                                                 GPtrArray        *strings);

G_END_DECLS
