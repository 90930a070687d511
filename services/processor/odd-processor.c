#define G_LOG_DOMAIN "odd-processor"

#include "odd-processor-private.h"
#include "odd-build-config.h"

#include <string.h>

/* How the worker guarantees "nothing lost, nothing counted twice", per loop iteration:
 *   1. every state change of the iteration is committed in one PostgreSQL transaction;
 *   2. then every event and dead letter of the iteration is published and confirmed;
 *   3. only then are the deliveries whose job reached a terminal state acked.
 * A crash between any two steps leaves the delivery un-acked: the broker redelivers it,
 * the stored row says where the job was, and the deterministic event ids make every
 * re-emitted event a duplicate that the event store drops.
 *
 * No single message may stop the others:
 *  - a batch PostgreSQL refuses for its data (odd_pg_error_get_failure() says DATA: a type
 *    too long for its index, a date it cannot hold, a trigger that raises) is written again
 *    one message at a time; a message refused on its own is dead-lettered to jobs.dead with
 *    the reason and the SQLSTATE, and acked;
 *  - a redelivered message (the consumer crashed or lost a connection while holding it) is
 *    handled alone, its delivery counted in PostgreSQL before it is handled
 *    (odd-redelivery.h); past ODD_MAX_REDELIVERIES it is given up: dead-lettered to jobs.dead
 *    (redelivered_too_often) and acked, and a stored unfinished job is made FAILED. */

#define GATHER_USEC         (5 * 1000)
#define MAX_WAIT_USEC       (20 * 1000)
#define BACKOFF_MIN_MS      250
#define BACKOFF_MAX_MS      5000
#define CONFIRM_TIMEOUT_MS  30000
#define PUBLISHER_POLL_USEC G_USEC_PER_SEC

struct _OddProcessor {
  GObject             parent_instance;

  OddProcessorConfig  config;
  OddSchemaRegistry  *registry;
  OddMetrics         *metrics;
  OddProducer         producer;
  OddLifecycle        lifecycle;

  OddCounter         *processed;
  OddHistogram       *batch_size;
  OddHistogram       *commit_seconds;
  OddGauge           *in_flight_gauge;

  GThread            *thread;
  GMainContext       *owner_context;
  OddStopFlag        *stop;
  guint               in_flight;       /* atomic */

  GMutex              lock;
  char               *not_ready_reason; /* under lock */

  /* Worker thread only. */
  amqp_connection_state_t consumer;
  amqp_connection_state_t publisher;
  OddAmqpConfirms    *confirms;
  PGconn             *pg;
  gboolean            migrated;
  char               *consumer_tag;
  OddScheduler       *scheduler;
  GHashTable         *runs;             /* id -> OddJobRun */
  GArray             *unacked;          /* guint64: published, waiting for confirms */
  GArray             *outstanding;      /* guint64: every delivery not acked yet, ascending */
  gint64              publisher_polled;
  struct _Delivery   *held;             /* a redelivery read behind others: the next batch */
  GHashTable         *redelivered;      /* delivery tag -> its counted key, until acked */
};

G_DEFINE_FINAL_TYPE (OddProcessor, odd_processor, G_TYPE_OBJECT)

enum {
  SIGNAL_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- configuration ---- */

gboolean
odd_processor_config_from_env (OddProcessorConfig  *config,
                               GError             **error)
{
  gint64 prefetch, max_attempts, backoff, batch, max_redeliveries, events_per_message;

  memset (config, 0, sizeof *config);

  if (!odd_config_int ("ODD_PREFETCH", 200, 1, 65535, &prefetch, error)
      || !odd_config_int ("ODD_MAX_ATTEMPTS", 3, 1, 100, &max_attempts, error)
      || !odd_config_int ("ODD_RETRY_BACKOFF_MS", 100, 0, 30000, &backoff, error)
      || !odd_config_int ("ODD_BATCH_SIZE", 100, 1, 10000, &batch, error)
      || !odd_config_int ("ODD_MAX_REDELIVERIES", ODD_DEFAULT_MAX_REDELIVERIES, 1, 1000,
                          &max_redeliveries, error)
      || !odd_config_int ("ODD_EVENTS_PER_MESSAGE", ODD_LIFECYCLE_EVENTS_PER_MESSAGE, 1,
                          ODD_EVENT_BATCH_MAX_EVENTS, &events_per_message, error))
    return FALSE;

  config->rabbitmq_url = g_strdup (odd_config_string ("RABBITMQ_URL", ODD_DEFAULT_RABBITMQ_URL));
  config->postgres_url = g_strdup (odd_config_string ("POSTGRES_URL", ODD_DEFAULT_POSTGRES_URL));
  config->prefetch = (guint) prefetch;
  config->max_attempts = (guint) max_attempts;
  config->retry_backoff_ms = (guint) backoff;
  config->batch_size = (guint) batch;
  config->max_redeliveries = (guint) max_redeliveries;
  config->events_per_message = (guint) events_per_message;
  config->instance_id = g_strdup (odd_config_instance_id ());
  return TRUE;
}

void
odd_processor_config_clear (OddProcessorConfig *config)
{
  g_clear_pointer (&config->rabbitmq_url, g_free);
  g_clear_pointer (&config->postgres_url, g_free);
  g_clear_pointer (&config->instance_id, g_free);
}

/* ---- object ---- */

static void
odd_processor_finalize (GObject *object)
{
  OddProcessor *self = ODD_PROCESSOR (object);

  odd_processor_stop (self);
  odd_processor_config_clear (&self->config);
  g_clear_object (&self->registry);
  g_clear_pointer (&self->owner_context, g_main_context_unref);
  g_clear_pointer (&self->not_ready_reason, g_free);
  g_clear_pointer (&self->scheduler, odd_scheduler_free);
  g_clear_pointer (&self->runs, g_hash_table_unref);
  g_clear_pointer (&self->unacked, g_array_unref);
  g_clear_pointer (&self->outstanding, g_array_unref);
  g_clear_pointer (&self->redelivered, g_hash_table_unref);
  g_mutex_clear (&self->lock);
  odd_stop_flag_free (self->stop);

  G_OBJECT_CLASS (odd_processor_parent_class)->finalize (object);
}

static void
odd_processor_class_init (OddProcessorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = odd_processor_finalize;

  /* Emitted on the context that called odd_processor_start() once the worker exited. */
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 0);
}

static void
odd_processor_init (OddProcessor *self)
{
  g_mutex_init (&self->lock);
  self->stop = odd_stop_flag_new ();
  self->not_ready_reason = g_strdup ("starting");
  self->scheduler = odd_scheduler_new ();
  self->runs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                      (GDestroyNotify) odd_job_run_free);
  self->unacked = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->outstanding = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->redelivered = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
}

OddProcessor *
odd_processor_new (const OddProcessorConfig *config,
                   OddSchemaRegistry        *registry,
                   OddMetrics               *metrics)
{
  static const double batch_buckets[] = { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 };
  OddProcessor *self = g_object_new (ODD_TYPE_PROCESSOR, NULL);

  self->config.rabbitmq_url = g_strdup (config->rabbitmq_url);
  self->config.postgres_url = g_strdup (config->postgres_url);
  self->config.prefetch = MAX (config->prefetch, 1);
  self->config.max_attempts = MAX (config->max_attempts, 1);
  self->config.retry_backoff_ms = config->retry_backoff_ms;
  self->config.batch_size = MAX (config->batch_size, 1);
  self->config.max_redeliveries = config->max_redeliveries > 0 ? config->max_redeliveries
                                                               : ODD_DEFAULT_MAX_REDELIVERIES;
  self->config.instance_id = g_strdup (config->instance_id != NULL ? config->instance_id
                                                                   : odd_config_instance_id ());
  self->registry = g_object_ref (registry);
  self->metrics = metrics;
  self->producer.service = "processor";
  self->producer.instance_id = self->config.instance_id;
  self->producer.version = ODD_VERSION;

  self->processed = odd_metrics_counter (metrics, "processor_jobs_processed_total",
                                         "Messages taken from jobs.created", NULL);
  odd_lifecycle_init (&self->lifecycle, metrics, &self->producer, self->config.max_attempts,
                      self->config.retry_backoff_ms, self->scheduler, self->runs);
  if (config->events_per_message > 0)
    self->lifecycle.events_per_message = config->events_per_message;
  self->batch_size = odd_metrics_histogram (metrics, "processor_batch_size",
                                            "Deliveries handled per iteration",
                                            batch_buckets, G_N_ELEMENTS (batch_buckets));
  self->commit_seconds = odd_metrics_histogram (metrics, "processor_db_commit_seconds",
                                                "Duration of an iteration's transaction",
                                                odd_metrics_latency_buckets,
                                                odd_metrics_n_latency_buckets);
  self->in_flight_gauge = odd_metrics_gauge (metrics, "processor_in_flight",
                                             "Jobs running (waiting for an attempt)", NULL);
  return self;
}

static void
set_not_ready (OddProcessor *self,
               const char   *reason)
{
  g_mutex_lock (&self->lock);
  g_free (self->not_ready_reason);
  self->not_ready_reason = g_strdup (reason);
  g_mutex_unlock (&self->lock);
}

char *
odd_processor_dup_not_ready_reason (OddProcessor *self)
{
  char *reason;

  g_return_val_if_fail (ODD_IS_PROCESSOR (self), NULL);

  g_mutex_lock (&self->lock);
  reason = g_strdup (self->not_ready_reason);
  g_mutex_unlock (&self->lock);
  return reason;
}

guint
odd_processor_get_in_flight (OddProcessor *self)
{
  return (guint) g_atomic_int_get (&self->in_flight);
}

static gboolean
stopping (OddProcessor *self)
{
  return odd_stop_flag_is_stopped (self->stop);
}

static void
update_in_flight (OddProcessor *self)
{
  guint n = g_hash_table_size (self->runs);

  g_atomic_int_set (&self->in_flight, (gint) n);
  odd_gauge_set (self->in_flight_gauge, NULL, n);
}

typedef struct _Delivery {
  guint64   tag;
  GBytes   *body;
  char     *correlation_id;
  gboolean  redelivered;
  gint64    deliveries;   /* counted deliveries of a redelivered message, else 0 */
} Delivery;

static void
delivery_free (Delivery *d)
{
  g_bytes_unref (d->body);
  g_free (d->correlation_id);
  g_free (d);
}

/* ---- connections ---- */

static void
disconnect (OddProcessor *self)
{
  /* Closing the consumer connection hands every un-acked delivery back to the broker:
   * that is the recovery, so in-memory runs are dropped with it. */
  g_clear_pointer (&self->confirms, odd_amqp_confirms_free);
  g_clear_pointer (&self->consumer, odd_amqp_close);
  g_clear_pointer (&self->publisher, odd_amqp_close);
  g_clear_pointer (&self->pg, PQfinish);
  g_clear_pointer (&self->consumer_tag, g_free);
  odd_scheduler_clear (self->scheduler);
  g_hash_table_remove_all (self->runs);
  g_array_set_size (self->unacked, 0);
  g_array_set_size (self->outstanding, 0);
  g_clear_pointer (&self->held, delivery_free);
  g_hash_table_remove_all (self->redelivered);
  update_in_flight (self);
}

static gboolean
start_consuming (OddProcessor  *self,
                 GError       **error)
{
  amqp_basic_consume_ok_t *ok;

  /* Our own basic.consume (not odd_amqp_consume()) to know the consumer tag for basic.cancel. */
  amqp_basic_qos (self->consumer, 1, 0, (guint16) MIN (self->config.prefetch, G_MAXUINT16), 0);
  if (!odd_amqp_check_reply (amqp_get_rpc_reply (self->consumer), "basic.qos", error))
    return FALSE;

  ok = amqp_basic_consume (self->consumer, 1, amqp_cstring_bytes (ODD_QUEUE_JOBS_CREATED),
                           amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  if (!odd_amqp_check_reply (amqp_get_rpc_reply (self->consumer), "basic.consume", error))
    return FALSE;

  self->consumer_tag = g_strndup (ok->consumer_tag.bytes, ok->consumer_tag.len);
  return TRUE;
}

static gboolean
connect_all (OddProcessor  *self,
             GError       **error)
{
  g_autofree char *publisher_name = g_strdup_printf ("odd-processor %s publisher",
                                                     self->config.instance_id);
  g_autofree char *consumer_name = g_strdup_printf ("odd-processor %s consumer",
                                                    self->config.instance_id);

  self->pg = odd_pg_connect (self->config.postgres_url, error);
  if (self->pg == NULL)
    return FALSE;
  if (!self->migrated)
    {
      if (!odd_pg_migrate (self->pg, error))
        return FALSE;
      self->migrated = TRUE;
    }

  /* Publishing and consuming on separate connections: a publisher blocked by the broker's
   * flow control must not stop the deliveries, and confirms never mix with deliveries. */
  self->publisher = odd_amqp_connect (self->config.rabbitmq_url, publisher_name, error);
  if (self->publisher == NULL)
    return FALSE;
  if (!odd_amqp_declare_topology (self->publisher, 1, error))
    return FALSE;
  self->confirms = odd_amqp_confirms_new (self->publisher, 1, error);
  if (self->confirms == NULL)
    return FALSE;

  self->consumer = odd_amqp_connect (self->config.rabbitmq_url, consumer_name, error);
  if (self->consumer == NULL)
    return FALSE;
  if (!start_consuming (self, error))
    return FALSE;

  self->publisher_polled = g_get_monotonic_time ();
  return TRUE;
}

/* librabbitmq only sends heartbeats from inside its calls: an idle publisher connection
 * would be closed by the broker, so poke it now and then. */
static gboolean
poll_publisher (OddProcessor  *self,
                GError       **error)
{
  struct timeval zero = { 0, 0 };
  amqp_frame_t frame;
  int status;

  if (odd_amqp_confirms_pending (self->confirms) > 0)
    return TRUE;

  for (;;)
    {
      status = amqp_simple_wait_frame_noblock (self->publisher, &frame, &zero);
      if (status == AMQP_STATUS_TIMEOUT)
        return TRUE;
      if (status != AMQP_STATUS_OK)
        {
          g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                       "publisher connection: %s", amqp_error_string2 (status));
          return FALSE;
        }
      if (frame.frame_type == AMQP_FRAME_METHOD
          && (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD
              || frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD))
        {
          g_set_error_literal (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                               "publisher connection closed by the broker");
          return FALSE;
        }
    }
}

/* ---- deliveries ---- */

/* A frame that is not a delivery arrived on the consumer channel. */
static gboolean
handle_consumer_frame (OddProcessor  *self,
                       GError       **error)
{
  struct timeval zero = { 0, 0 };
  amqp_frame_t frame;
  int status;

  status = amqp_simple_wait_frame_noblock (self->consumer, &frame, &zero);
  if (status == AMQP_STATUS_TIMEOUT)
    return TRUE;
  if (status != AMQP_STATUS_OK)
    {
      g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                   "consumer connection: %s", amqp_error_string2 (status));
      return FALSE;
    }
  if (frame.frame_type != AMQP_FRAME_METHOD)
    return TRUE;

  switch (frame.payload.method.id)
    {
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD:
      g_set_error_literal (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                           "consumer connection closed by the broker");
      return FALSE;
    case AMQP_BASIC_CANCEL_METHOD:
      /* The broker cancelled us (queue deleted): reconnecting re-declares and re-consumes. */
      g_set_error_literal (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                           "the broker cancelled the consumer of " ODD_QUEUE_JOBS_CREATED);
      return FALSE;
    default:
      return TRUE;
    }
}

static gboolean
read_deliveries (OddProcessor  *self,
                 gint64         first_wait,
                 GPtrArray     *deliveries,
                 GError       **error)
{
  gint64 gather_deadline = 0;

  if (self->held != NULL)
    {
      /* A redelivery handled alone (see the top of the file). */
      g_ptr_array_add (deliveries, g_steal_pointer (&self->held));
      return TRUE;
    }

  while (deliveries->len < self->config.batch_size)
    {
      amqp_envelope_t envelope;
      amqp_rpc_reply_t reply;
      struct timeval tv;
      gint64 wait;

      if (deliveries->len == 0)
        wait = first_wait;
      else
        wait = MAX (0, gather_deadline - g_get_monotonic_time ());

      tv.tv_sec = wait / G_USEC_PER_SEC;
      tv.tv_usec = wait % G_USEC_PER_SEC;

      amqp_maybe_release_buffers (self->consumer);
      reply = amqp_consume_message (self->consumer, &envelope, &tv, 0);

      if (reply.reply_type == AMQP_RESPONSE_NORMAL)
        {
          Delivery *d = g_new0 (Delivery, 1);
          amqp_basic_properties_t *props = &envelope.message.properties;

          d->tag = envelope.delivery_tag;
          /* A channel numbers its deliveries upwards: appending keeps the order. */
          g_array_append_val (self->outstanding, d->tag);
          d->redelivered = envelope.redelivered != 0;
          d->body = g_bytes_new (envelope.message.body.bytes, envelope.message.body.len);
          if (props->_flags & AMQP_BASIC_CORRELATION_ID_FLAG)
            d->correlation_id = g_strndup (props->correlation_id.bytes, props->correlation_id.len);
          amqp_destroy_envelope (&envelope);

          if (d->redelivered)
            {
              /* Alone in its batch: if it is what crashes us, only it is counted. */
              if (deliveries->len > 0)
                self->held = d;
              else
                g_ptr_array_add (deliveries, d);
              return TRUE;
            }
          g_ptr_array_add (deliveries, d);

          if (deliveries->len == 1)
            gather_deadline = g_get_monotonic_time () + GATHER_USEC;
          continue;
        }

      if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
          && reply.library_error == AMQP_STATUS_TIMEOUT)
        return TRUE;

      if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
          && reply.library_error == AMQP_STATUS_UNEXPECTED_STATE)
        {
          if (!handle_consumer_frame (self, error))
            return FALSE;
          continue;
        }

      return odd_amqp_check_reply (reply, "basic.consume", error);
    }

  return TRUE;
}

/* Upserts @intakes. When PostgreSQL refuses the batch for its data, the transaction (which
 * holds nothing else yet) starts over and the jobs are upserted one at a time: each one
 * refused on its own is dead-lettered, and leaves @intakes and @pending. */
static GHashTable *
upsert_isolating (OddProcessor  *self,
                  OddIteration  *it,
                  GPtrArray     *intakes,
                  GHashTable    *pending,
                  GError       **error)
{
  g_autoptr(GError) batch_error = NULL;
  g_autoptr(GHashTable) rows = NULL;

  rows = odd_processor_db_upsert (self->pg, intakes, &batch_error);
  if (rows != NULL)
    return g_steal_pointer (&rows);
  if (odd_pg_error_get_failure (batch_error) != ODD_PG_FAILURE_DATA)
    {
      g_propagate_error (error, g_steal_pointer (&batch_error));
      return NULL;
    }

  odd_info (NULL, "PostgreSQL refused a batch of %u job(s) (SQLSTATE %s: %s); writing them one "
            "at a time", intakes->len, odd_pg_error_get_sqlstate (batch_error),
            batch_error->message);
  if (!odd_pg_exec (self->pg, "ROLLBACK", error) || !odd_pg_exec (self->pg, "BEGIN", error))
    return NULL;

  rows = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                (GDestroyNotify) odd_processor_job_row_free);
  for (guint i = 0; i < intakes->len;)
    {
      OddProcessorIntake *intake = g_ptr_array_index (intakes, i);
      g_autoptr(GPtrArray) one = g_ptr_array_new ();
      g_autoptr(GHashTable) one_row = NULL;
      g_autoptr(GError) one_error = NULL;
      g_autoptr(OddJobRun) run = NULL;
      g_autofree char *why = NULL;
      GHashTableIter iter;
      gpointer value;

      g_ptr_array_add (one, intake);
      if (!odd_pg_exec (self->pg, "SAVEPOINT one_job", error))
        return NULL;
      one_row = odd_processor_db_upsert (self->pg, one, &one_error);
      if (one_row != NULL)
        {
          if (!odd_pg_exec (self->pg, "RELEASE SAVEPOINT one_job", error))
            return NULL;
          g_hash_table_iter_init (&iter, one_row);
          while (g_hash_table_iter_next (&iter, NULL, &value))
            {
              OddProcessorJobRow *row = value;

              g_hash_table_iter_steal (&iter);
              g_hash_table_replace (rows, row->id, row);
            }
          i++;
          continue;
        }

      if (odd_pg_error_get_failure (one_error) != ODD_PG_FAILURE_DATA
          || !odd_pg_exec (self->pg, "ROLLBACK TO SAVEPOINT one_job", NULL))
        {
          g_propagate_error (error, g_steal_pointer (&one_error));
          return NULL;
        }

      /* The same data would be refused again on every redelivery: it goes to the dead
       * letters with what PostgreSQL said, and every delivery of the job is acked. */
      why = g_strdup_printf ("PostgreSQL refused the job: %s", one_error->message);
      g_hash_table_steal_extended (pending, intake->job_id, NULL, (gpointer *) &run);
      odd_processor_intake_refuse (intake, "storage_refused", why, odd_pg_error_get_sqlstate (one_error));
      odd_lifecycle_reject (&self->lifecycle, it, intake,
                            run != NULL ? run->delivery_tags : NULL);
      g_ptr_array_remove_index (intakes, i);
    }

  return g_steal_pointer (&rows);
}

/* @intake (a valid job) kept failing its consumer. A stored, unfinished job is made FAILED
 * (events of a failed job, replayable by POST /jobs/{id}/retry); either way the delivery is
 * dead-lettered (redelivered_too_often) and acked. A redelivery is alone in its batch
 * (read_deliveries()), so nothing else shares this transaction. */
static gboolean
give_up (OddProcessor  *self,
         OddIteration  *it,
         OddProcessorIntake     *intake,
         const char    *why,
         GError       **error)
{
  g_autoptr(GError) fail_error = NULL;
  g_autoptr(OddProcessorJobRow) row = NULL;

  if (!odd_pg_exec (self->pg, "SAVEPOINT give_up", error))
    return FALSE;
  row = odd_processor_db_fail (self->pg, intake->job_id, why, &fail_error);
  if (fail_error != NULL)
    {
      /* Whatever keeps failing may be what refuses this too: the dead letter still goes. */
      if (odd_pg_error_get_failure (fail_error) == ODD_PG_FAILURE_CONNECTION
          || !odd_pg_exec (self->pg, "ROLLBACK TO SAVEPOINT give_up", NULL))
        {
          g_propagate_error (error, g_steal_pointer (&fail_error));
          return FALSE;
        }
      odd_warning (intake->correlation_id, "job %s not marked FAILED: %s", intake->job_id,
                   fail_error->message);
    }
  else if (!odd_pg_exec (self->pg, "RELEASE SAVEPOINT give_up", error))
    return FALSE;

  if (row != NULL)
    {
      OddJobRun *run = odd_job_run_new (intake->job_id);

      g_array_append_val (run->delivery_tags, intake->delivery_tag);
      odd_lifecycle_give_up (&self->lifecycle, it, run, intake, row, why);
      return TRUE;
    }

  odd_processor_intake_refuse (intake, "redelivered_too_often", why, NULL);
  odd_lifecycle_reject (&self->lifecycle, it, intake, NULL);
  return TRUE;
}

static gboolean
handle_deliveries (OddProcessor  *self,
                   OddIteration  *it,
                   GPtrArray     *deliveries,
                   gint64         now,
                   GError       **error)
{
  g_autoptr(GPtrArray) intakes = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_processor_intake_free);
  g_autoptr(GHashTable) pending = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                         (GDestroyNotify) odd_job_run_free);
  g_autoptr(GHashTable) pending_index = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) rows = NULL;

  for (guint i = 0; i < deliveries->len; i++)
    {
      Delivery *d = g_ptr_array_index (deliveries, i);
      gsize len;
      const char *body = g_bytes_get_data (d->body, &len);
      g_autoptr(OddProcessorIntake) intake = NULL;
      g_autofree char *too_often = NULL;
      OddJobRun *run;

      odd_counter_inc (self->processed, NULL);
      if (d->deliveries > (gint64) self->config.max_redeliveries)
        too_often = g_strdup_printf ("redelivered %" G_GINT64_FORMAT " times without being "
                                     "processed: it keeps failing its consumer "
                                     "(ODD_MAX_REDELIVERIES is %u)",
                                     d->deliveries, self->config.max_redeliveries);

      /* Giving up below failed too (or parsing is what crashes): not even parsed. */
      if (d->deliveries > (gint64) self->config.max_redeliveries + 1)
        {
          intake = odd_processor_intake_new_unhandled (body != NULL ? body : "", len, d->correlation_id,
                                             d->tag, "redelivered_too_often", too_often);
          odd_lifecycle_reject (&self->lifecycle, it, intake, NULL);
          continue;
        }

      intake = odd_processor_intake_parse (self->registry, body != NULL ? body : "", len,
                                 d->correlation_id, d->tag);

      if (intake->kind == ODD_INTAKE_DEAD_LETTER)
        {
          odd_lifecycle_reject (&self->lifecycle, it, intake, NULL);
          continue;
        }

      /* A second delivery of a job this processor already runs rides along with it. */
      run = g_hash_table_lookup (self->runs, intake->job_id);
      if (run != NULL)
        {
          g_array_append_val (run->delivery_tags, intake->delivery_tag);
          continue;
        }

      /* A crash loop ends here: the job is not handled again. */
      if (too_often != NULL)
        {
          if (!give_up (self, it, intake, too_often, error))
            return FALSE;
          continue;
        }

      run = g_hash_table_lookup (pending, intake->job_id);
      if (run != NULL)
        {
          guint index = GPOINTER_TO_UINT (g_hash_table_lookup (pending_index, intake->job_id));
          OddProcessorIntake *first = g_ptr_array_index (intakes, index);

          g_array_append_val (run->delivery_tags, intake->delivery_tag);
          /* After a crash the original job.created and a retry of it can come back in one
           * batch: the retry is the one that decides. */
          if (intake->retry_generation > first->retry_generation)
            {
              g_hash_table_replace (pending_index, intake->job_id, GUINT_TO_POINTER (index));
              odd_processor_intake_free (g_ptr_array_steal_index (intakes, index));
              g_ptr_array_insert (intakes, (int) index, g_steal_pointer (&intake));
            }
          continue;
        }

      run = odd_job_run_new (intake->job_id);
      g_array_append_val (run->delivery_tags, intake->delivery_tag);
      g_hash_table_insert (pending, run->id, run);
      g_hash_table_insert (pending_index, run->id, GUINT_TO_POINTER (intakes->len));
      g_ptr_array_add (intakes, g_steal_pointer (&intake));
    }

  if (intakes->len == 0)
    return TRUE;

  rows = upsert_isolating (self, it, intakes, pending, error);
  if (rows == NULL)
    return FALSE;

  for (guint i = 0; i < intakes->len; i++)
    {
      OddProcessorIntake *intake = g_ptr_array_index (intakes, i);
      OddProcessorJobRow *row = g_hash_table_lookup (rows, intake->job_id);
      OddJobRun *run;

      if (row == NULL)
        {
          g_set_error (error, ODD_PG_ERROR, ODD_PG_ERROR_QUERY,
                       "job %s: no row after the upsert", intake->job_id);
          return FALSE;
        }

      g_hash_table_steal_extended (pending, intake->job_id, NULL, (gpointer *) &run);
      odd_lifecycle_start_run (&self->lifecycle, it, run, intake, row, now);
    }

  return TRUE;
}

/* Counts the delivery of a redelivered message, committed before it is handled. */
static gboolean
count_redelivery (OddProcessor  *self,
                  Delivery      *d,
                  GError       **error)
{
  gsize len;
  const void *body = g_bytes_get_data (d->body, &len);
  g_autofree char *key = odd_redelivery_key (body != NULL ? body : "", len);
  gint64 *tag;

  if (!odd_redelivery_count (self->pg, key, &d->deliveries, error))
    return FALSE;
  if (d->deliveries > 1)
    odd_info (d->correlation_id, "message %.12s… redelivered %" G_GINT64_FORMAT " times "
              "(limit ODD_MAX_REDELIVERIES=%u)", key, d->deliveries,
              self->config.max_redeliveries);

  tag = g_new (gint64, 1);
  *tag = (gint64) d->tag;
  g_hash_table_replace (self->redelivered, tag, g_steal_pointer (&key));
  return TRUE;
}

/* ---- one iteration ---- */

static gboolean
publish_all (OddProcessor  *self,
             OddIteration  *it,
             GError       **error)
{
  for (guint i = 0; i < it->outgoing->len; i++)
    {
      OddOutgoing *out = g_ptr_array_index (it->outgoing, i);
      OddAmqpProps props = { out->message_id, out->correlation_id, out->type };

      if (!odd_amqp_confirms_publish (self->confirms, out->exchange, out->routing_key, &props,
                                      out->body, strlen (out->body), error))
        return FALSE;
    }
  return TRUE;
}

/* The redelivered messages among the acked ones are done: their counts go. */
static void
forget_redeliveries (OddProcessor *self)
{
  g_autoptr(GPtrArray) keys = NULL;
  g_autoptr(GError) error = NULL;

  if (g_hash_table_size (self->redelivered) == 0)
    return;

  keys = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < self->unacked->len; i++)
    {
      gint64 tag = (gint64) g_array_index (self->unacked, guint64, i);
      const char *key = g_hash_table_lookup (self->redelivered, &tag);

      if (key != NULL)
        {
          g_ptr_array_add (keys, g_strdup (key));
          g_hash_table_remove (self->redelivered, &tag);
        }
    }
  /* A count left behind only makes that message's next crash loop shorter, and fades. */
  if (keys->len > 0 && !odd_redelivery_forget (self->pg, keys, &error))
    odd_warning (NULL, "delivery counts not cleared: %s", error->message);
}

/* Acks the deliveries of self->unacked. The oldest outstanding deliveries, when all of them
 * are among those, go in one basic.ack multiple=true (odd_processor_plan_acks()): a frame,
 * and work for the broker, for a whole run of jobs instead of one per job. */
static gboolean
ack_deliveries (OddProcessor  *self,
                GError       **error)
{
  g_autoptr(GArray) singles = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint64 multiple_tag;
  int status = AMQP_STATUS_OK;

  odd_processor_plan_acks (self->outstanding, self->unacked, &multiple_tag, singles);
  if (multiple_tag != 0)
    status = amqp_basic_ack (self->consumer, 1, multiple_tag, 1);
  for (guint i = 0; i < singles->len && status == AMQP_STATUS_OK; i++)
    status = amqp_basic_ack (self->consumer, 1, g_array_index (singles, guint64, i), 0);
  if (status != AMQP_STATUS_OK)
    {
      g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                   "basic.ack: %s", amqp_error_string2 (status));
      return FALSE;
    }
  return TRUE;
}

/* Waits for the confirms of everything published so far, then acks the deliveries that
 * were waiting for them. */
static gboolean
flush_acks (OddProcessor  *self,
            GError       **error)
{
  if (self->unacked->len == 0)
    return TRUE;

  if (odd_amqp_confirms_pending (self->confirms) > 0
      && !odd_amqp_confirms_wait (self->confirms, CONFIRM_TIMEOUT_MS, error))
    return FALSE;

  if (!ack_deliveries (self, error))
    return FALSE;
  forget_redeliveries (self);
  g_array_set_size (self->unacked, 0);
  self->publisher_polled = g_get_monotonic_time ();
  return TRUE;
}

static gboolean
commit_state (OddProcessor  *self,
              OddIteration  *it,
              GError       **error)
{
  g_autoptr(GHashTable) updated = NULL;

  updated = odd_processor_db_update (self->pg, it->dirty, error);
  if (updated == NULL)
    return FALSE;

  for (guint i = 0; i < it->dirty->len; i++)
    {
      OddJobRun *run = g_ptr_array_index (it->dirty, i);

      /* Only another processor working on the same job (a copy of its message, or this
       * one's deliveries redelivered to it while this one was cut off) moves a row under
       * us: start over from what is stored. */
      if (!g_hash_table_contains (updated, run->id))
        {
          g_set_error (error, ODD_PG_ERROR, ODD_PG_ERROR_CONFLICT,
                       "job %s changed under this processor (generation %d expected)",
                       run->id, run->old_generation);
          return FALSE;
        }
    }

  if (!odd_processor_db_dead_letters (self->pg, it->dead_rows, error))
    return FALSE;

  return odd_pg_exec (self->pg, "COMMIT", error);
}

static gboolean
iterate (OddProcessor  *self,
         GError       **error)
{
  g_autoptr(GPtrArray) deliveries = g_ptr_array_new_with_free_func ((GDestroyNotify) delivery_free);
  OddIteration it;
  gint64 now, next_due, wait, tx_start;
  gboolean ok = FALSE;

  now = g_get_monotonic_time ();
  wait = MAX_WAIT_USEC;
  if (odd_scheduler_next_due (self->scheduler, &next_due))
    wait = CLAMP (next_due - now, 0, MAX_WAIT_USEC);
  /* Acks waiting for confirms go out as soon as nothing else is there to overlap them. */
  if (self->unacked->len > 0)
    wait = 0;

  if (!read_deliveries (self, wait, deliveries, error))
    return FALSE;

  now = g_get_monotonic_time ();
  if (deliveries->len == 0
      && !(odd_scheduler_next_due (self->scheduler, &next_due) && next_due <= now))
    {
      if (self->unacked->len > 0)
        return flush_acks (self, error);
      if (now - self->publisher_polled >= PUBLISHER_POLL_USEC)
        {
          self->publisher_polled = now;
          return poll_publisher (self, error);
        }
      return TRUE;
    }

  if (deliveries->len > 0)
    odd_histogram_observe (self->batch_size, deliveries->len);

  /* Outside the transaction, so that the count survives whatever happens next. */
  if (deliveries->len == 1
      && ((Delivery *) g_ptr_array_index (deliveries, 0))->redelivered
      && !count_redelivery (self, g_ptr_array_index (deliveries, 0), error))
    return FALSE;

  odd_iteration_init (&it);
  tx_start = g_get_monotonic_time ();

  if (!odd_pg_exec (self->pg, "BEGIN", error))
    goto out;

  if (!handle_deliveries (self, &it, deliveries, now, error))
    goto out;

  /* Every attempt due now, including those of jobs started above with no duration: their
   * whole run lands in this one transaction. */
  for (;;)
    {
      OddJobRun *run = odd_scheduler_pop_due (self->scheduler, now);

      if (run == NULL)
        break;
      odd_lifecycle_finish_attempt (&self->lifecycle, &it, run, now);
    }

  if (!commit_state (self, &it, error))
    goto out;
  odd_histogram_observe (self->commit_seconds,
                         (double) (g_get_monotonic_time () - tx_start) / G_USEC_PER_SEC);

  for (guint i = 0; i < it.dirty->len; i++)
    {
      OddJobRun *run = g_ptr_array_index (it.dirty, i);

      run->dirty = run->started = run->finished = FALSE;
      run->old_generation = run->generation;
    }

  /* The previous iteration's confirms had this iteration's reading and transaction to
   * arrive: waiting for them only now overlaps the broker's disk with ours. */
  if (!flush_acks (self, error))
    goto out;
  odd_lifecycle_pack_events (&self->lifecycle, &it);
  if (!publish_all (self, &it, error))
    goto out;
  g_array_append_vals (self->unacked, it.acks->data, it.acks->len);
  ok = TRUE;

out:
  odd_iteration_clear (&it);
  update_in_flight (self);
  return ok;
}

/* ---- the worker thread ---- */

static gboolean
emit_finished (gpointer data)
{
  OddProcessor *self = data;

  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
  return G_SOURCE_REMOVE;
}

static gpointer
worker (gpointer data)
{
  OddProcessor *self = data;
  guint backoff = BACKOFF_MIN_MS;
  gboolean connected = FALSE;

  while (!stopping (self))
    {
      g_autoptr(GError) error = NULL;

      if (!connected)
        {
          if (!connect_all (self, &error))
            {
              g_autofree char *reason = g_strdup_printf ("not connected: %s", error->message);

              odd_warning (NULL, "%s; retrying in %u ms", reason, backoff);
              set_not_ready (self, reason);
              disconnect (self);
              odd_stop_flag_wait (self->stop, backoff);
              backoff = MIN (backoff * 2, BACKOFF_MAX_MS);
              continue;
            }

          connected = TRUE;
          backoff = BACKOFF_MIN_MS;
          set_not_ready (self, NULL);
          odd_info (NULL, "connected to PostgreSQL and RabbitMQ; consuming %s (prefetch %u)",
                    ODD_QUEUE_JOBS_CREATED, self->config.prefetch);
        }

      if (!iterate (self, &error))
        {
          g_autofree char *reason = g_strdup_printf ("connection lost: %s", error->message);

          /* Un-acked deliveries go back to the broker; PostgreSQL says where each job was. */
          odd_warning (NULL, "%s; reconnecting in %u ms", reason, backoff);
          set_not_ready (self, reason);
          disconnect (self);
          connected = FALSE;
          odd_stop_flag_wait (self->stop, backoff);
          backoff = MIN (backoff * 2, BACKOFF_MAX_MS);
        }
    }

  if (connected)
    {
      g_autoptr(GError) error = NULL;

      /* What the last iteration published and committed is acked once confirmed. */
      if (!flush_acks (self, &error))
        odd_warning (NULL, "last acks not sent (%s): those deliveries will be redelivered",
                     error->message);

      /* Stop the deliveries first; the iteration in progress was finished above. Running
       * jobs stay un-acked and the broker gives them to the next processor. */
      if (self->consumer_tag != NULL)
        {
          amqp_basic_cancel (self->consumer, 1, amqp_cstring_bytes (self->consumer_tag));
          amqp_get_rpc_reply (self->consumer);
        }
      odd_info (NULL, "stopping with %u job(s) still running; they will be redelivered",
                g_hash_table_size (self->runs));
    }
  disconnect (self);
  set_not_ready (self, "stopped");

  /* Hands the thread's reference over to the "finished" emission. */
  g_main_context_invoke_full (self->owner_context, G_PRIORITY_DEFAULT, emit_finished,
                              self, g_object_unref);
  return NULL;
}

void
odd_processor_start (OddProcessor *self)
{
  g_return_if_fail (ODD_IS_PROCESSOR (self));
  g_return_if_fail (self->thread == NULL);

  g_clear_pointer (&self->owner_context, g_main_context_unref);
  self->owner_context = g_main_context_ref_thread_default ();
  odd_stop_flag_reset (self->stop);
  /* The thread owns a reference: the object outlives its worker. */
  self->thread = g_thread_new ("odd-processor", worker, g_object_ref (self));
}

void
odd_processor_request_stop (OddProcessor *self)
{
  g_return_if_fail (ODD_IS_PROCESSOR (self));

  odd_stop_flag_stop (self->stop);
}

void
odd_processor_stop (OddProcessor *self)
{
  g_return_if_fail (ODD_IS_PROCESSOR (self));

  if (self->thread == NULL)
    return;
  odd_processor_request_stop (self);
  g_thread_join (g_steal_pointer (&self->thread));
}
