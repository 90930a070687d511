#define G_LOG_DOMAIN "odd-queue-sampler"

#include "odd-queue-sampler.h"

#include "odd-aggregates.h"
#include "odd-amqp.h"
#include "odd-log.h"
#include "odd-redis.h"
#include "odd-stop-flag.h"

const char *const odd_queue_sampler_queues[] = {
  ODD_QUEUE_JOBS_CREATED,
  ODD_QUEUE_LIFECYCLE,
  ODD_QUEUE_FAILED_VALIDATION,
  ODD_QUEUE_DEAD,
  NULL,
};

#define N_QUEUES 4
G_STATIC_ASSERT (G_N_ELEMENTS (odd_queue_sampler_queues) == N_QUEUES + 1);
#define MAX_BACKOFF_MS 5000

struct _OddQueueSampler
{
  char         *rabbitmq_url;
  char         *redis_url;
  guint         interval_ms;
  OddGauge     *messages_gauge;
  OddGauge     *consumers_gauge;
  GThread      *thread;
  OddStopFlag  *stop;
  GMutex        lock;
  guint64       n_samples;
};

OddQueueSampler *
odd_queue_sampler_new (const char *rabbitmq_url,
                       const char *redis_url,
                       OddMetrics *metrics,
                       guint       interval_ms)
{
  OddQueueSampler *self = g_new0 (OddQueueSampler, 1);

  self->rabbitmq_url = g_strdup (rabbitmq_url);
  self->redis_url = g_strdup (redis_url);
  self->interval_ms = MAX (interval_ms, 10);
  self->messages_gauge = odd_metrics_gauge (metrics, "odd_queue_messages",
                                            "Messages ready in a RabbitMQ queue", "queue");
  self->consumers_gauge = odd_metrics_gauge (metrics, "odd_queue_consumers",
                                             "Consumers of a RabbitMQ queue", "queue");
  g_mutex_init (&self->lock);
  self->stop = odd_stop_flag_new ();
  return self;
}

gboolean
odd_queue_sampler_write (redisContext  *ctx,
                         gint64         now,
                         const guint   *messages,
                         const guint   *consumers,
                         GError       **error)
{
  g_autofree char *sec = g_strdup_printf (ODD_KEY_SEC_PREFIX "%" G_GINT64_FORMAT, now);
  g_autofree char *depth = g_strdup_printf ("%u", messages[0]);
  g_autofree char *expire_at = g_strdup_printf ("%" G_GINT64_FORMAT, now + ODD_AGGREGATES_SEC_TTL);
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  const char *sec_argv[4 + 2 * N_QUEUES];
  const char *queues_argv[2 + 2 * N_QUEUES];
  guint n_commands = 3;

  /* The second's hash gets every queue's "<messages> <consumers>" in one HSET, so a second
   * always holds one whole sample: two engines sampling the same second overwrite each other's
   * (last write wins, each a true reading of that second), never mix them. */
  sec_argv[0] = "HSET";
  sec_argv[1] = sec;
  sec_argv[2] = ODD_SEC_FIELD_QUEUE_DEPTH;
  sec_argv[3] = depth;
  queues_argv[0] = "HSET";
  queues_argv[1] = ODD_KEY_QUEUES;
  for (guint i = 0; i < N_QUEUES; i++)
    {
      char *value = g_strdup_printf ("%u %u", messages[i], consumers[i]);
      char *field = g_strconcat (ODD_SEC_FIELD_QUEUE_PREFIX, odd_queue_sampler_queues[i], NULL);

      g_ptr_array_add (strings, value);
      g_ptr_array_add (strings, field);
      sec_argv[4 + 2 * i] = field;
      sec_argv[5 + 2 * i] = value;
      queues_argv[2 + 2 * i] = odd_queue_sampler_queues[i];
      queues_argv[3 + 2 * i] = value;
    }

  /* Pipelined: one round trip for the whole sample. */
  redisAppendCommandArgv (ctx, G_N_ELEMENTS (sec_argv), sec_argv, NULL);
  redisAppendCommand (ctx, "EXPIREAT %s %s", sec, expire_at);
  redisAppendCommandArgv (ctx, G_N_ELEMENTS (queues_argv), queues_argv, NULL);

  for (guint i = 0; i < n_commands; i++)
    {
      void *reply = NULL;
      gboolean failed;

      if (redisGetReply (ctx, &reply) != REDIS_OK)
        {
          g_set_error (error, ODD_REDIS_ERROR, 0, "redis: %s", ctx->errstr);
          return FALSE;
        }
      failed = ((redisReply *) reply)->type == REDIS_REPLY_ERROR;
      if (failed && error != NULL && *error == NULL)
        g_set_error (error, ODD_REDIS_ERROR, 0, "redis: %s", ((redisReply *) reply)->str);
      freeReplyObject (reply);
      if (failed)
        {
          /* Drain the rest of the pipeline before giving up, to keep the context in step. */
          for (guint j = i + 1; j < n_commands; j++)
            if (redisGetReply (ctx, &reply) == REDIS_OK)
              freeReplyObject (reply);
          return FALSE;
        }
    }
  return TRUE;
}

static gpointer
sampler_thread (gpointer data)
{
  OddQueueSampler *self = data;
  amqp_connection_state_t conn = NULL;
  redisContext *redis = NULL;
  guint backoff = 100;
  g_autofree char *last_error = NULL;

  while (!odd_stop_flag_is_stopped (self->stop))
    {
      g_autoptr(GError) error = NULL;
      guint messages[N_QUEUES] = { 0 };
      guint consumers[N_QUEUES] = { 0 };
      gboolean ok = TRUE;

      if (conn == NULL)
        {
          conn = odd_amqp_connect (self->rabbitmq_url, "metrics-engine queue sampler", &error);
          /* Passive declares close the channel when a queue is missing: make sure none is. */
          if (conn != NULL && !odd_amqp_declare_topology (conn, 1, &error))
            g_clear_pointer (&conn, odd_amqp_close);
          ok = conn != NULL;
        }
      if (ok && redis == NULL)
        {
          redis = odd_redis_connect (self->redis_url, &error);
          ok = redis != NULL;
        }

      for (guint i = 0; ok && i < N_QUEUES; i++)
        ok = odd_amqp_queue_stats (conn, 1, odd_queue_sampler_queues[i], &messages[i], &consumers[i],
                                   &error);
      if (ok)
        ok = odd_queue_sampler_write (redis, g_get_real_time () / G_USEC_PER_SEC, messages, consumers,
                                      &error);

      if (!ok)
        {
          /* Log a failure once, not every second while it lasts. */
          if (g_strcmp0 (last_error, error->message) != 0)
            {
              odd_warning (NULL, "queue sampler: %s", error->message);
              g_free (last_error);
              last_error = g_strdup (error->message);
            }
          g_clear_pointer (&conn, odd_amqp_close);
          g_clear_pointer (&redis, redisFree);
          if (odd_stop_flag_wait (self->stop, backoff))
            break;
          backoff = MIN (backoff * 2, MAX_BACKOFF_MS);
          continue;
        }

      if (last_error != NULL)
        {
          odd_info (NULL, "queue sampler: recovered");
          g_clear_pointer (&last_error, g_free);
        }
      backoff = 100;
      for (guint i = 0; i < N_QUEUES; i++)
        {
          odd_gauge_set (self->messages_gauge, odd_queue_sampler_queues[i], messages[i]);
          odd_gauge_set (self->consumers_gauge, odd_queue_sampler_queues[i], consumers[i]);
        }
      g_mutex_lock (&self->lock);
      self->n_samples++;
      g_mutex_unlock (&self->lock);

      if (odd_stop_flag_wait (self->stop, self->interval_ms))
        break;
    }

  g_clear_pointer (&conn, odd_amqp_close);
  g_clear_pointer (&redis, redisFree);
  return NULL;
}

void
odd_queue_sampler_start (OddQueueSampler *self)
{
  g_return_if_fail (self->thread == NULL);
  odd_stop_flag_reset (self->stop);
  self->thread = g_thread_new ("queue-sampler", sampler_thread, self);
}

void
odd_queue_sampler_stop (OddQueueSampler *self)
{
  if (self->thread == NULL)
    return;
  odd_stop_flag_stop (self->stop);
  g_thread_join (g_steal_pointer (&self->thread));
}

guint64
odd_queue_sampler_get_n_samples (OddQueueSampler *self)
{
  guint64 n;

  g_mutex_lock (&self->lock);
  n = self->n_samples;
  g_mutex_unlock (&self->lock);
  return n;
}

void
odd_queue_sampler_free (OddQueueSampler *self)
{
  if (self == NULL)
    return;
  odd_queue_sampler_stop (self);
  g_mutex_clear (&self->lock);
  odd_stop_flag_free (self->stop);
  g_free (self->rabbitmq_url);
  g_free (self->redis_url);
  g_free (self);
}
