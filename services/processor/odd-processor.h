/* odd-processor.h: the job processor (consumes jobs.created, runs the simulated work,
 * records the job in PostgreSQL and emits its lifecycle events)
 *
 * One worker thread owns every AMQP and PostgreSQL connection (librabbitmq and libpq
 * connections are not thread-safe); the main thread only serves HTTP and reads the
 * thread-safe readiness state and metrics.
 */
#pragma once

#include <glib-object.h>
#include "odd-service.h"

G_BEGIN_DECLS

typedef struct {
  char  *rabbitmq_url;
  char  *postgres_url;
  guint  prefetch;
  guint  max_attempts;
  guint  retry_backoff_ms;
  guint  batch_size;
  guint  max_redeliveries;   /* a message delivered more often is dead-lettered unhandled */
  guint  events_per_message; /* lifecycle envelopes per odd.events message (0 = default) */
  char  *instance_id;
} OddProcessorConfig;

/* Reads RABBITMQ_URL, POSTGRES_URL, ODD_PREFETCH, ODD_MAX_ATTEMPTS, ODD_RETRY_BACKOFF_MS,
 * ODD_BATCH_SIZE, ODD_EVENTS_PER_MESSAGE (PORT and ODD_BIND are the service lifecycle's). */
gboolean odd_processor_config_from_env (OddProcessorConfig *config,
                                        GError            **error);
void     odd_processor_config_clear    (OddProcessorConfig *config);

#define ODD_TYPE_PROCESSOR (odd_processor_get_type ())
G_DECLARE_FINAL_TYPE (OddProcessor, odd_processor, ODD, PROCESSOR, GObject)

/* Registers the processor_* metrics in @metrics. */
OddProcessor *odd_processor_new        (const OddProcessorConfig *config,
                                        OddSchemaRegistry        *registry,
                                        OddMetrics               *metrics);
/* Starts the worker thread. "finished" is emitted on the thread-default main context of
 * the caller once the worker has stopped. */
void          odd_processor_start      (OddProcessor             *self);
/* Asks the worker to stop consuming, finish its iteration (commit, publish, ack) and exit. */
void          odd_processor_request_stop (OddProcessor           *self);
/* Requests a stop and waits for the worker thread. */
void          odd_processor_stop       (OddProcessor             *self);
/* NULL when the worker is connected to PostgreSQL and RabbitMQ, else why not. Any thread. */
char         *odd_processor_dup_not_ready_reason (OddProcessor   *self);
/* Jobs currently running (waiting for an attempt). Any thread. */
guint         odd_processor_get_in_flight (OddProcessor          *self);

G_END_DECLS
