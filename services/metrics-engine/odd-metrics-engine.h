/* odd-metrics-engine.h: the metrics-engine service (jobs.lifecycle → job_events → Redis)
 *
 * A worker thread owns every connection it uses (librabbitmq, libpq and hiredis handles are
 * single-threaded): it consumes jobs.lifecycle in batches, stores the events in job_events
 * (deduplicated by eventId), applies the new ones to the Redis aggregates under the
 * metrics:applied_seq watermark, and only then acks. Invalid deliveries become dead letters.
 * Any number of engines may run side by side (docs/architecture.md, "Replicas"): each stores
 * its batches under a transaction lock that makes seqs commit in order, applies them when the
 * watermark is where they start, and otherwise leaves them to a catch-up from the store, which
 * one engine at a time runs. The main thread only answers HTTP.
 */
#pragma once

#include "odd-service.h"

G_BEGIN_DECLS

typedef struct {
  const char *rabbitmq_url;
  const char *postgres_url;
  const char *redis_url;
  guint       prefetch;           /* ODD_PREFETCH: also the largest batch (500) */
  guint       batch_wait_ms;      /* how long a batch gathers after its first delivery (10) */
  guint       check_interval_ms;  /* how often the watermark is checked against the store (5000) */
  guint       replay_batch;       /* events per replay step (5000) */
  guint       sample_interval_ms; /* queue sampler period (1000); 0 = no sampler */
  guint       max_redeliveries;   /* ODD_MAX_REDELIVERIES: a message redelivered more often is
                                   * dead-lettered unapplied (5) */
} OddMetricsEngineConfig;

/* The defaults above, URLs from the architecture's defaults. */
void odd_metrics_engine_config_init (OddMetricsEngineConfig *config);
/* Fills @config from PORT-less env (RABBITMQ_URL, POSTGRES_URL, REDIS_URL, ODD_PREFETCH,
 * ODD_MAX_REDELIVERIES).
 * The strings point into the environment. */
gboolean odd_metrics_engine_config_from_env (OddMetricsEngineConfig  *config,
                                             GError                 **error);

typedef struct _OddMetricsEngine OddMetricsEngine;

/* @metrics and @registry must outlive the engine. */
OddMetricsEngine *odd_metrics_engine_new        (const OddMetricsEngineConfig *config,
                                                 OddMetrics                   *metrics,
                                                 OddSchemaRegistry            *registry);
void              odd_metrics_engine_start      (OddMetricsEngine             *self);
/* Lets the worker finish its batch, then joins it (and the sampler). Safe to call twice. */
void              odd_metrics_engine_stop       (OddMetricsEngine             *self);
void              odd_metrics_engine_free       (OddMetricsEngine             *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddMetricsEngine, odd_metrics_engine_free)

/* NULL when the worker is connected to RabbitMQ, PostgreSQL and Redis and caught up; else why
 * not. Any thread. */
char             *odd_metrics_engine_dup_not_ready_reason (OddMetricsEngine *self);
/* The watermark the worker last applied (or read), -1 before the first catch-up. */
gint64            odd_metrics_engine_get_applied_seq      (OddMetricsEngine *self);
/* Events stored and applied by the live path so far (not replays). */
guint64           odd_metrics_engine_get_n_applied        (OddMetricsEngine *self);

G_END_DECLS
