/* odd-queue-sampler.h: RabbitMQ queue depths, once a second, into Redis and Prometheus
 *
 * Its own thread, AMQP connection and Redis context, so a slow broker never delays the event
 * batches. Writes HSET metrics:sec:<now> queue_depth <jobs.created ready messages> and
 * queue:<name> "<messages> <consumers>" per queue (the history of /stats/series), the hash
 * metrics:queues (name → "<messages> <consumers>") for the read model's /queues, and the gauges
 * odd_queue_messages{queue} and odd_queue_consumers{queue}.
 */
#pragma once

#include <hiredis/hiredis.h>

#include "odd-metrics.h"

G_BEGIN_DECLS

typedef struct _OddQueueSampler OddQueueSampler;

/* The queues sampled, NULL-terminated. */
extern const char *const odd_queue_sampler_queues[];

OddQueueSampler *odd_queue_sampler_new   (const char      *rabbitmq_url,
                                          const char      *redis_url,
                                          OddMetrics      *metrics,
                                          guint            interval_ms);
void             odd_queue_sampler_start (OddQueueSampler *self);
/* Stops and joins the thread; safe to call twice. */
void             odd_queue_sampler_stop  (OddQueueSampler *self);
void             odd_queue_sampler_free  (OddQueueSampler *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddQueueSampler, odd_queue_sampler_free)

/* Samples written so far (for tests and /readyz details). */
guint64          odd_queue_sampler_get_n_samples (OddQueueSampler *self);

/* Writes one sample (@messages and @consumers indexed like odd_queue_sampler_queues) taken at
 * unix second @now. */
gboolean         odd_queue_sampler_write (redisContext    *ctx,
                                          gint64           now,
                                          const guint     *messages,
                                          const guint     *consumers,
                                          GError         **error);

G_END_DECLS
