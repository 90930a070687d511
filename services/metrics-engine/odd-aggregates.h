/* odd-aggregates.h: lifecycle events → Redis increments (a pure function)
 *
 * The Redis key space (docs/architecture.md) is a projection of job_events. Events are folded
 * into an OddAggregates: summed increments per key and hash field, the EXPIREAT of every
 * per-second bucket, the newest occurredAt, and job-level numbers for Prometheus. Nothing here
 * talks to a server, so the live path, the replay path and the unit tests share one fold.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "odd-latency-histogram.h"

G_BEGIN_DECLS

#define ODD_AGGREGATES_ERROR (odd_aggregates_error_quark ())
GQuark odd_aggregates_error_quark (void);

typedef enum {
  ODD_AGGREGATES_ERROR_INVALID,   /* a field the fold needs is missing or malformed */
} OddAggregatesError;

/* Seconds a metrics:sec:<t> bucket lives after its second <t>. */
#define ODD_AGGREGATES_SEC_TTL 3700

#define ODD_KEY_JOBS_TOTAL      "metrics:jobs:total"
#define ODD_KEY_JOBS_COMPLETED  "metrics:jobs:completed"
#define ODD_KEY_JOBS_FAILED     "metrics:jobs:failed"
#define ODD_KEY_JOBS_INFLIGHT   "metrics:jobs:inflight"
#define ODD_KEY_LAST_EVENT_TIME "metrics:last_event_time"
#define ODD_KEY_LATENCY         ODD_LATENCY_HISTOGRAM_KEY  /* "metrics:latency_us" */
#define ODD_KEY_APPLIED_SEQ     "metrics:applied_seq"
#define ODD_KEY_QUEUES          "metrics:queues"
#define ODD_KEY_TYPE_PREFIX     "metrics:type:"
#define ODD_KEY_SEC_PREFIX      "metrics:sec:"
/* The key space's format (odd-projection.c): an older one is rebuilt from the event store. */
#define ODD_KEY_FORMAT          "metrics:format"

/* Upper bounds (ms) of the Prometheus histogram odd_job_latency_seconds. Redis holds a finer
 * one (ODD_KEY_LATENCY, odd-latency-histogram.h) for the read-model's percentiles. */
#define ODD_AGGREGATES_N_LATENCY_BOUNDS 15
extern const guint odd_aggregates_latency_bounds_ms[ODD_AGGREGATES_N_LATENCY_BOUNDS];
extern const guint odd_aggregates_n_latency_bounds;

typedef enum {
  ODD_AGG_OP_INCRBY,    /* key += delta */
  ODD_AGG_OP_HINCRBY,   /* key[field] += delta */
  ODD_AGG_OP_EXPIREAT,  /* key expires at unix second delta */
} OddAggOpKind;

typedef struct {
  OddAggOpKind  kind;
  const char   *key;
  const char   *field;  /* NULL unless HINCRBY */
  gint64        value;
} OddAggOp;

typedef struct _OddAggregates OddAggregates;

/* @now_usec: wall clock; events whose second is older than ODD_AGGREGATES_SEC_TTL get no
 * per-second bucket (it would already have expired), nor do those more than that in the future. */
OddAggregates *odd_aggregates_new               (gint64          now_usec);
void           odd_aggregates_free              (OddAggregates  *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddAggregates, odd_aggregates_free)

/* Folds one envelope in (it should have passed the envelope and job schemas; what the fold
 * needs is checked again, so a bad row never crashes a replay). On error nothing is folded. */
gboolean       odd_aggregates_add               (OddAggregates  *self,
                                                 JsonObject     *envelope,
                                                 GError        **error);

guint          odd_aggregates_get_n_events      (OddAggregates  *self);
/* Summed delta of a plain counter key, or of a hash field (@field non-NULL); 0 when untouched. */
gint64         odd_aggregates_get               (OddAggregates  *self,
                                                 const char     *key,
                                                 const char     *field);
gboolean       odd_aggregates_has               (OddAggregates  *self,
                                                 const char     *key,
                                                 const char     *field);
/* EXPIREAT second of a per-second bucket key, or 0. */
gint64         odd_aggregates_get_expire_at     (OddAggregates  *self,
                                                 const char     *key);
/* Newest occurredAt folded so far as RFC 3339 (NULL when none). */
char          *odd_aggregates_dup_last_event_time (OddAggregates *self);

/* Every operation (GArray of OddAggOp; strings owned by @self). Fields touched with a net zero
 * delta are kept on purpose: whether a field exists must not depend on how events were
 * batched, so a rebuild reproduces the live key space exactly. */
GArray        *odd_aggregates_get_ops           (OddAggregates  *self);

/* Job-level numbers of the folded events, for the Prometheus counters. */
typedef struct {
  guint   events_by_type[5];  /* indexed by OddEventKind */
  guint   submitted;
  guint   completed;
  guint   failed;           /* job.failed events */
  guint   retried;          /* job.validated of a retry generation */
  GArray *latency_seconds;  /* double, one per job.completed with a readable createdAt */
} OddAggregatesStats;

typedef enum {
  ODD_EVENT_KIND_CREATED,
  ODD_EVENT_KIND_VALIDATED,
  ODD_EVENT_KIND_EXECUTED,
  ODD_EVENT_KIND_COMPLETED,
  ODD_EVENT_KIND_FAILED,
} OddEventKind;

const char               *odd_event_kind_to_string (OddEventKind kind);
const OddAggregatesStats *odd_aggregates_get_stats (OddAggregates *self);

G_END_DECLS
