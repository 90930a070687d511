/* odd-alerts.h: the alert rules of GET /alerts, as a pure function of a snapshot
 *
 * The read model gathers a snapshot (per-second buckets from Redis, recent dead letters from
 * PostgreSQL, service probes, its own connections) and odd_alerts_evaluate() turns it into
 * alerts; no I/O here, so every rule is unit-testable with made-up numbers.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Rule parameters (docs/runbooks.md describes each alert). */
#define ODD_ALERT_FAILURE_WINDOW_SEC      300
#define ODD_ALERT_FAILURE_MIN_TERMINAL    20
#define ODD_ALERT_FAILURE_WARNING         0.05
#define ODD_ALERT_FAILURE_CRITICAL        0.20
#define ODD_ALERT_BACKLOG_WINDOW_SEC      60
#define ODD_ALERT_BACKLOG_THRESHOLD       100
#define ODD_ALERT_DEAD_LETTER_WINDOW_SEC  300

/* One metrics:sec:<t> hash; -1 where the field is absent. */
typedef struct {
  gint64 submitted;
  gint64 completed;
  gint64 failed;
  gint64 queue_depth;
} OddSecondBucket;

typedef struct {
  const char *name;        /* "gateway" */
  gboolean    probed;      /* FALSE until the first probe finished: no verdict yet */
  gboolean    ready;
  const char *reason;      /* why not ready (nullable) */
  gint64      since_usec;  /* start of the current not-ready streak */
} OddServiceState;

typedef struct {
  gint64                 now_usec;

  /* The read model's own dependencies. */
  gboolean               pg_ok;
  const char            *pg_error;
  gint64                 pg_down_since_usec;
  gboolean               redis_ok;
  const char            *redis_error;
  gint64                 redis_down_since_usec;

  /* Per-second buckets, oldest first: seconds[i] is unix second first_second + i.
   * Meaningful only when redis_ok. */
  const OddSecondBucket *seconds;
  guint                  n_seconds;
  gint64                 first_second;

  /* Dead letters with dead_at in the last ODD_ALERT_DEAD_LETTER_WINDOW_SEC (when pg_ok). */
  gint64                 dead_letters_recent;
  gint64                 dead_letters_oldest_usec;

  const OddServiceState *services;
  guint                  n_services;
} OddAlertSnapshot;

/* A JSON array of {name, severity, service, summary, since, runbook}, critical first. */
JsonNode *odd_alerts_evaluate (const OddAlertSnapshot *snapshot);

G_END_DECLS
