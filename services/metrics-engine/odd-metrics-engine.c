#define G_LOG_DOMAIN "odd-metrics-engine"

#include "odd-metrics-engine.h"

#include <string.h>

#include "odd-aggregates.h"
#include "odd-event-store.h"
#include "odd-intake.h"
#include "odd-projection.h"
#include "odd-queue-sampler.h"

#define MAX_BACKOFF_MS     5000
#define POLL_MS            200   /* longest wait for a first delivery: bounds the stop latency */
#define CONFIRM_TIMEOUT_MS 10000
#define CONSUMER_CHANNEL   1
/* One jsonb parameter, and the batch's parsed events (several times their text): bounded
 * so that the engine stays small. A processor's event batch is at most 128 KiB; a larger
 * delivery is a batch of its own. */
#define MAX_BATCH_BYTES    (128 * 1024)

struct _OddMetricsEngine
{
  char              *rabbitmq_url;
  char              *postgres_url;
  char              *redis_url;
  guint              prefetch;
  guint              batch_wait_ms;
  guint              check_interval_ms;
  guint              replay_batch;
  guint              max_redeliveries;

  OddSchemaRegistry *registry;
  OddQueueSampler   *sampler;
  GThread           *worker;

  OddStopFlag       *stop;
  GMutex             lock;
  char              *not_ready;      /* NULL when ready */
  gint64             applied_seq;
  guint64            n_applied;

  OddCounter        *events_total;
  OddCounter        *messages;
  OddCounter        *duplicates;
  OddCounter        *invalid;
  OddCounter        *rebuilds;
  OddCounter        *replayed;
  OddGauge          *applied_gauge;
  OddHistogram      *batch_seconds;
  OddCounter        *jobs_submitted;
  OddCounter        *jobs_completed;
  OddCounter        *jobs_failed;
  OddHistogram      *job_latency;
};

/* Everything the worker thread owns. */
typedef struct {
  OddMetricsEngine        *engine;
  amqp_connection_state_t  consumer;
  amqp_connection_state_t  publisher;
  OddAmqpConfirms         *confirms;
  PGconn                  *pg;
  redisContext            *redis;
  gint64                   next_check;     /* monotonic time of the next watermark check */
  struct _Delivery        *held;           /* a redelivery read behind others: the next batch */
} Worker;

typedef struct _Delivery {
  guint64   tag;
  GBytes   *body;
  char     *message_id;
  gboolean  redelivered;
  char     *key;         /* a redelivered one: its key in message_deliveries */
  gint64    deliveries;  /* ... and its redeliveries counted so far */
} Delivery;

static void
delivery_free (Delivery *d)
{
  g_bytes_unref (d->body);
  g_free (d->message_id);
  g_free (d->key);
  g_free (d);
}

/* ---- configuration ---------------------------------------------------------------------- */

void
odd_metrics_engine_config_init (OddMetricsEngineConfig *config)
{
  *config = (OddMetricsEngineConfig) {
    .rabbitmq_url = ODD_DEFAULT_RABBITMQ_URL,
    .postgres_url = ODD_DEFAULT_POSTGRES_URL,
    .redis_url = ODD_DEFAULT_REDIS_URL,
    .prefetch = 500,
    .batch_wait_ms = 10,
    .check_interval_ms = 5000,
    .replay_batch = 5000,
    .sample_interval_ms = 1000,
    .max_redeliveries = ODD_DEFAULT_MAX_REDELIVERIES,
  };
}

gboolean
odd_metrics_engine_config_from_env (OddMetricsEngineConfig  *config,
                                    GError                 **error)
{
  gint64 prefetch, max_redeliveries;

  odd_metrics_engine_config_init (config);
  config->rabbitmq_url = odd_config_string ("RABBITMQ_URL", ODD_DEFAULT_RABBITMQ_URL);
  config->postgres_url = odd_config_string ("POSTGRES_URL", ODD_DEFAULT_POSTGRES_URL);
  config->redis_url = odd_config_string ("REDIS_URL", ODD_DEFAULT_REDIS_URL);
  if (!odd_config_int ("ODD_PREFETCH", 500, 1, 65535, &prefetch, error)
      || !odd_config_int ("ODD_MAX_REDELIVERIES", ODD_DEFAULT_MAX_REDELIVERIES, 1, 1000,
                          &max_redeliveries, error))
    return FALSE;
  config->prefetch = (guint) prefetch;
  config->max_redeliveries = (guint) max_redeliveries;
  return TRUE;
}

/* ---- shared state ----------------------------------------------------------------------- */

static gboolean
is_stopping (OddMetricsEngine *self)
{
  return odd_stop_flag_is_stopped (self->stop);
}

static void
set_not_ready (OddMetricsEngine *self,
               const char       *reason)
{
  g_mutex_lock (&self->lock);
  g_free (self->not_ready);
  self->not_ready = g_strdup (reason);
  g_mutex_unlock (&self->lock);
}

static void
set_applied_seq (OddMetricsEngine *self,
                 gint64            seq)
{
  g_mutex_lock (&self->lock);
  self->applied_seq = seq;
  g_mutex_unlock (&self->lock);
  odd_gauge_set (self->applied_gauge, NULL, (double) seq);
}

/* ---- connections ------------------------------------------------------------------------ */

static void
worker_disconnect (Worker *w)
{
  g_clear_pointer (&w->confirms, odd_amqp_confirms_free);
  g_clear_pointer (&w->held, delivery_free);
  g_clear_pointer (&w->publisher, odd_amqp_close);
  g_clear_pointer (&w->consumer, odd_amqp_close);
  g_clear_pointer (&w->redis, redisFree);
  /* Closing the session also ends an open transaction and releases the replay lock. */
  g_clear_pointer (&w->pg, PQfinish);
}

static gboolean
connect_pg (Worker  *w,
            GError **error)
{
  w->pg = odd_pg_connect (w->engine->postgres_url, error);
  if (w->pg == NULL)
    return FALSE;
  return odd_pg_migrate (w->pg, error);
}

static gboolean
connect_amqp (Worker  *w,
              GError **error)
{
  OddMetricsEngine *self = w->engine;

  w->publisher = odd_amqp_connect (self->rabbitmq_url, "metrics-engine dead letters", error);
  if (w->publisher == NULL)
    return FALSE;
  w->confirms = odd_amqp_confirms_new (w->publisher, 1, error);
  if (w->confirms == NULL)
    return FALSE;

  w->consumer = odd_amqp_connect (self->rabbitmq_url, "metrics-engine consumer", error);
  if (w->consumer == NULL)
    return FALSE;
  if (!odd_amqp_declare_topology (w->consumer, CONSUMER_CHANNEL, error))
    return FALSE;
  return odd_amqp_consume (w->consumer, CONSUMER_CHANNEL, ODD_QUEUE_LIFECYCLE,
                           (guint16) MIN (self->prefetch, G_MAXUINT16), error);
}

/* ---- replay ----------------------------------------------------------------------------- */

/* odd_projection_apply(), except that a script the server aborted (a key of the wrong type, out
 * of memory...) may have applied part of its increments: Redis does not roll scripts back. The
 * only exact way on is a rebuild, so the watermark is dropped and MISSING reported. */
static gboolean
apply (Worker               *w,
       OddAggregates        *aggregates,
       gint64                expect_prev,
       gint64                new_seq,
       OddProjectionResult  *result,
       GError              **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(redisReply) reply = NULL;

  if (odd_projection_apply (w->redis, aggregates, expect_prev, new_seq, result, &local_error))
    return TRUE;
  if (!g_error_matches (local_error, ODD_REDIS_ERROR, ODD_REDIS_ERROR_REPLY))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  odd_warning (NULL, "Redis refused the aggregates (%s): rebuilding them", local_error->message);
  reply = odd_redis_command (w->redis, error, "DEL %s", ODD_KEY_APPLIED_SEQ);
  if (reply == NULL)
    return FALSE;
  *result = ODD_PROJECTION_MISSING;
  return TRUE;
}

/* The watermark (@present FALSE when it is lost), then the store's max(seq): in this order, a
 * watermark another engine moves in between is never ahead of the max read after it. */
static gboolean
read_positions (Worker   *w,
                gint64   *applied,
                gboolean *present,
                gint64   *max_seq,
                GError  **error)
{
  return odd_projection_get_applied_seq (w->redis, applied, present, error)
         && odd_event_store_max_seq (w->pg, max_seq, error);
}

/* Brings Redis to the event store, holding the replay lock: rebuilds when the watermark is
 * missing (Redis lost its data) or ahead of the store (the store was reset), then applies every
 * committed event after the watermark, until there is none. Other engines keep applying their
 * own batches meanwhile; the watermark's compare-and-set orders the two. */
static gboolean
replay (Worker  *w,
        GError **error)
{
  OddMetricsEngine *self = w->engine;
  guint64 n_replayed = 0;
  guint contended = 0;
  gint64 applied = 0;

  /* A pass ends in a rebuild; one that keeps losing its watermark (FLUSHALL after FLUSHALL)
   * gives up and is retried by the caller's backoff. */
  for (guint pass = 0; pass < 5; pass++)
    {
      gboolean present = FALSE;
      gboolean restart = FALSE;
      gint64 max_seq = 0;

      if (!read_positions (w, &applied, &present, &max_seq, error))
        return FALSE;

      if (!present || applied > max_seq)
        {
          if (present)
            odd_info (NULL, "metrics:applied_seq %" G_GINT64_FORMAT " is ahead of the event store (%"
                      G_GINT64_FORMAT "): rebuilding the aggregates", applied, max_seq);
          else
            odd_info (NULL, "metrics:applied_seq is missing: rebuilding the aggregates from the "
                      "event store (max seq %" G_GINT64_FORMAT ")", max_seq);
          if (!odd_projection_reset (w->redis, error))
            return FALSE;
          odd_counter_inc (self->rebuilds, NULL);
          applied = 0;
        }

      while (!restart)
        {
          g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
          g_autoptr(GPtrArray) envelopes = g_ptr_array_new_with_free_func (g_free);
          g_autoptr(OddAggregates) aggregates = odd_aggregates_new (g_get_real_time ());
          OddProjectionResult result;
          gint64 last;

          /* Each applied batch is complete in Redis: a SIGTERM may end a long rebuild between
           * two of them, and the next engine goes on from the watermark. */
          if (is_stopping (self))
            {
              g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   "stopping: the replay goes on in the next engine");
              return FALSE;
            }

          /* Every committed seq: a later one is visible only once every earlier one is
           * committed (ODD_PG_EVENT_STORE_LOCK_KEY), so nothing below @last comes later. */
          if (!odd_event_store_read_after (w->pg, applied, self->replay_batch, seqs, envelopes, error))
            return FALSE;
          if (seqs->len == 0)
            break;

          for (guint i = 0; i < envelopes->len; i++)
            {
              g_autoptr(GError) local_error = NULL;
              g_autoptr(JsonNode) node = odd_json_parse (envelopes->pdata[i], -1, &local_error);

              if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)
                  || !odd_aggregates_add (aggregates, json_node_get_object (node), &local_error))
                odd_info (NULL, "replay: event seq %" G_GINT64_FORMAT " skipped: %s",
                          g_array_index (seqs, gint64, i),
                          local_error ? local_error->message : "not an object");
            }

          last = g_array_index (seqs, gint64, seqs->len - 1);
          if (!apply (w, aggregates, applied, last, &result, error))
            return FALSE;
          switch (result)
            {
            case ODD_PROJECTION_APPLIED:
              applied = last;
              n_replayed += seqs->len;
              odd_counter_add (self->replayed, NULL, seqs->len);
              set_applied_seq (self, applied);
              break;
            case ODD_PROJECTION_ALREADY:
            case ODD_PROJECTION_GAP:
              {
                gboolean still = FALSE;

                /* Another engine applied its own batch meanwhile (or someone set the
                 * watermark): go on from where it is now. */
                if (++contended > 10000)
                  {
                    g_set_error_literal (error, ODD_REDIS_ERROR, 0,
                                         "metrics:applied_seq keeps changing under the replay");
                    return FALSE;
                  }
                if (!odd_projection_get_applied_seq (w->redis, &applied, &still, error))
                  return FALSE;
                restart = !still;
              }
              break;
            case ODD_PROJECTION_MISSING:
            default:
              restart = TRUE;
              break;
            }
        }

      if (restart)
        {
          odd_info (NULL, "replay: the watermark vanished at seq %" G_GINT64_FORMAT ", starting over",
                    applied);
          continue;
        }

      if (n_replayed > 0)
        odd_info (NULL, "replayed %" G_GUINT64_FORMAT " events; metrics:applied_seq is %"
                  G_GINT64_FORMAT, n_replayed, applied);
      set_applied_seq (self, applied);
      return TRUE;
    }

  g_set_error_literal (error, ODD_REDIS_ERROR, 0,
                       "metrics:applied_seq keeps vanishing under the replay (Redis flushed again and again?)");
  return FALSE;
}

/* replay() by one engine at a time (ODD_EVENT_STORE_REPLAY_LOCK_KEY): a rebuild deletes every
 * metrics:* key, which must not meet another engine's replay writing them. When another engine
 * holds the lock, nothing is done: it replays what this one stored as well, and whatever
 * commits after its last read is taken by the next check (check_interval_ms). */
static gboolean
catch_up (Worker  *w,
          GError **error)
{
  gboolean acquired = FALSE;

  if (!odd_event_store_try_replay_lock (w->pg, &acquired, error))
    return FALSE;
  if (!acquired)
    return TRUE;
  if (!replay (w, error))
    {
      /* The connection is closed next, which releases the lock in any case. */
      odd_event_store_replay_unlock (w->pg, NULL);
      return FALSE;
    }
  return odd_event_store_replay_unlock (w->pg, error);
}

/* ---- one batch -------------------------------------------------------------------------- */

static gboolean
publish_dead_letters (Worker     *w,
                      GPtrArray  *intakes,
                      GError    **error)
{
  OddMetricsEngine *self = w->engine;
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) message_ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) rejected = g_ptr_array_new ();

  for (guint i = 0; i < intakes->len; i++)
    {
      OddMeIntake *intake = intakes->pdata[i];
      g_autoptr(JsonNode) message = NULL;
      g_autofree char *text = NULL;
      g_autofree char *message_id = NULL;
      OddAmqpProps props;

      if (intake->valid)
        continue;

      message = odd_me_intake_dead_letter (intake, ODD_QUEUE_LIFECYCLE);
      text = odd_json_to_string (message);
      /* Same event, same id: a redelivered reject can be recognised downstream. */
      message_id = odd_me_intake_dead_letter_id (intake);
      /* Only a well-formed id goes into the property: AMQP short strings stop at 255 bytes,
       * and a reject that cannot be published would come back forever. */
      props = (OddAmqpProps) { message_id,
                               odd_uuid_is_valid (intake->correlation_id) ? intake->correlation_id : NULL,
                               "dead-letter" };
      if (!odd_amqp_confirms_publish (w->confirms, "", ODD_QUEUE_FAILED_VALIDATION, &props,
                                      text, strlen (text), error))
        return FALSE;
      odd_info (intake->correlation_id, "dead letter (%s) to %s: %s", intake->reason,
                ODD_QUEUE_FAILED_VALIDATION, intake->error);
      g_ptr_array_add (messages, g_steal_pointer (&text));
      g_ptr_array_add (message_ids, g_steal_pointer (&message_id));
      g_ptr_array_add (rejected, intake);
    }

  if (rejected->len == 0)
    return TRUE;
  if (!odd_amqp_confirms_wait (w->confirms, CONFIRM_TIMEOUT_MS, error))
    return FALSE;

  for (guint i = 0; i < rejected->len; i++)
    {
      OddMeIntake *intake = rejected->pdata[i];
      g_autoptr(GError) local_error = NULL;

      if (!odd_event_store_dead_letter (w->pg, ODD_QUEUE_FAILED_VALIDATION, intake->reason,
                                        intake->job_id, intake->correlation_id,
                                        message_ids->pdata[i], messages->pdata[i], &local_error))
        {
          /* The message is safely on the queue; only a broken connection is worth a retry
           * (the row is stored once per message, so the retry adds no second one). */
          if (odd_pg_error_get_failure (local_error) == ODD_PG_FAILURE_CONNECTION)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          odd_warning (intake->correlation_id, "dead_letters row not stored: %s", local_error->message);
        }
      odd_counter_inc (self->invalid, NULL);
    }
  return TRUE;
}

/* Stores the valid events in one transaction under the event store lock; sets @seqs (0 =
 * duplicate) and @prev, the store's max(seq) before them: (@prev, highest new seq] are exactly
 * the new events. Events the database refuses (a value jsonb or timestamptz cannot hold)
 * become invalid instead of blocking the queue. @isolate (an event batch that keeps failing
 * its consumer): each event is stored alone, and one the database refuses for any reason but
 * a lost connection is dead-lettered, so that the others of its batch are counted. */
static gboolean
store_events (Worker     *w,
              GPtrArray  *valid,
              gboolean    isolate,
              GArray     *seqs,
              gint64     *prev,
              GError    **error)
{
  g_autoptr(GPtrArray) texts = g_ptr_array_new ();
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();
  g_autoptr(GError) batch_error = NULL;

  for (guint i = 0; i < valid->len; i++)
    {
      g_ptr_array_add (texts, ((OddMeIntake *) valid->pdata[i])->text);
      g_ptr_array_add (ids, ((OddMeIntake *) valid->pdata[i])->event_id);
    }

  if (isolate)
    odd_info (NULL, "an event batch keeps failing its consumer; storing its %u events one by one",
              valid->len);
  else
    {
      if (!odd_event_store_begin (w->pg, prev, error))
        return FALSE;
      if (odd_event_store_insert (w->pg, texts, ids, seqs, &batch_error)
          && odd_event_store_commit (w->pg, &batch_error))
        return TRUE;
      odd_event_store_rollback (w->pg);
      /* A broken connection, a failure that may pass next time (timeout, deadlock, resources),
       * or rows that cannot be matched: reconnect, the redelivery squares it. Only the data's
       * fault is worth isolating. */
      if (odd_pg_error_get_failure (batch_error) != ODD_PG_FAILURE_DATA
          || batch_error->domain == G_IO_ERROR)
        {
          g_propagate_error (error, g_steal_pointer (&batch_error));
          return FALSE;
        }
      odd_info (NULL, "batch insert refused (%s); storing the events one by one", batch_error->message);
      g_array_set_size (seqs, 0);
    }

  /* In one new transaction, each event behind a savepoint: what the store takes is still one
   * run of seqs after @prev. */
  if (!odd_event_store_begin (w->pg, prev, error))
    return FALSE;
  for (guint i = 0; i < valid->len; i++)
    {
      OddMeIntake *intake = valid->pdata[i];
      g_autoptr(GPtrArray) one = g_ptr_array_new ();
      g_autoptr(GPtrArray) one_id = g_ptr_array_new ();
      g_autoptr(GError) local_error = NULL;
      guint before = seqs->len;

      g_ptr_array_add (one, intake->text);
      g_ptr_array_add (one_id, intake->event_id);
      if (!odd_pg_exec (w->pg, "SAVEPOINT one_event", error))
        goto failed;
      if (odd_event_store_insert (w->pg, one, one_id, seqs, &local_error))
        {
          if (!odd_pg_exec (w->pg, "RELEASE SAVEPOINT one_event", error))
            goto failed;
        }
      else
        {
          g_autofree char *why = NULL;
          OddPgFailure failure = odd_pg_error_get_failure (local_error);

          if (local_error->domain == G_IO_ERROR || failure == ODD_PG_FAILURE_CONNECTION
              || (!isolate && failure != ODD_PG_FAILURE_DATA)
              || !odd_pg_exec (w->pg, "ROLLBACK TO SAVEPOINT one_event", NULL))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              goto failed;
            }
          why = g_strdup_printf ("%sEvent store refused the event (SQLSTATE %s): %s",
                                 isolate ? "Its event batch keeps failing its consumer; stored "
                                           "alone, " : "",
                                 odd_pg_error_get_sqlstate (local_error), local_error->message);
          odd_me_intake_reject (intake, isolate && failure != ODD_PG_FAILURE_DATA
                                        ? "redelivered_too_often" : "invalid", why);
          /* Whatever the store refused must not go into dead_letters.message either: keep the
           * raw text (a JSON string) as the original event. */
          g_clear_pointer (&intake->envelope, json_node_unref);
          g_array_set_size (seqs, before + 1);
          g_array_index (seqs, gint64, before) = 0;
        }
    }
  if (odd_event_store_commit (w->pg, error))
    return TRUE;

failed:
  odd_event_store_rollback (w->pg);
  return FALSE;
}

static int
compare_seq (gconstpointer a,
             gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

typedef struct {
  gint64     seq;
  OddMeIntake *intake;
} NewEvent;

/* The acked redelivered messages are done: their counts go. */
static void
forget_redeliveries (Worker    *w,
                     GPtrArray *deliveries)
{
  g_autoptr(GPtrArray) keys = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < deliveries->len; i++)
    if (((Delivery *) deliveries->pdata[i])->key != NULL)
      g_ptr_array_add (keys, ((Delivery *) deliveries->pdata[i])->key);
  /* A count left behind only makes that message's next crash loop shorter, and fades. */
  if (keys->len > 0 && !odd_redelivery_forget (w->pg, keys, &error))
    odd_warning (NULL, "delivery counts not cleared: %s", error->message);
}

static gboolean
process_batch (Worker     *w,
               GPtrArray  *deliveries,
               GError    **error)
{
  OddMetricsEngine *self = w->engine;
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GPtrArray) intakes = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_me_intake_free);
  g_autoptr(GPtrArray) valid = g_ptr_array_new ();
  g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) fresh = g_array_new (FALSE, FALSE, sizeof (NewEvent));
  guint n_duplicates = 0;
  gboolean isolate = FALSE;
  guint64 last_tag;
  gint64 prev = 0;

  odd_counter_add (self->messages, NULL, deliveries->len);
  for (guint i = 0; i < deliveries->len; i++)
    {
      Delivery *d = deliveries->pdata[i];
      gsize len;
      const void *body = g_bytes_get_data (d->body, &len);
      guint first = intakes->len;

      /* Outside any transaction: the count survives whatever happens next. */
      if (d->redelivered)
        {
          d->key = odd_redelivery_key (body != NULL ? body : "", len);
          if (!odd_redelivery_count (w->pg, d->key, &d->deliveries, error))
            return FALSE;
        }

      odd_me_intake_check_delivery (self->registry, body, len, intakes);
      for (guint k = first; k < intakes->len; k++)
        {
          OddMeIntake *intake = intakes->pdata[k];

          /* A batch gets one more delivery, its events stored one by one (a redelivered
           * delivery is alone in its consumer batch): only what fails then is given up. */
          if (intake->valid && intake->in_batch
              && d->deliveries == (gint64) self->max_redeliveries + 1)
            isolate = TRUE;
          else if (intake->valid && d->deliveries > (gint64) self->max_redeliveries)
            {
              g_autofree char *why = g_strdup_printf ("redelivered %" G_GINT64_FORMAT " times without "
                                                      "being stored: it keeps failing its consumer "
                                                      "(ODD_MAX_REDELIVERIES is %u)",
                                                      d->deliveries, self->max_redeliveries);

              odd_me_intake_reject (intake, "redelivered_too_often", why);
            }
          if (intake->valid)
            g_ptr_array_add (valid, intake);
        }
    }

  /* 1. The event store first: once committed, nothing below can lose the events. */
  if (valid->len > 0 && !store_events (w, valid, isolate, seqs, &prev, error))
    return FALSE;
  for (guint i = 0; i < valid->len; i++)
    {
      OddMeIntake *intake = valid->pdata[i];
      gint64 seq = g_array_index (seqs, gint64, i);

      if (!intake->valid)
        continue;
      if (seq > 0)
        {
          NewEvent e = { seq, intake };
          g_array_append_val (fresh, e);
        }
      else
        n_duplicates++;
    }
  g_array_sort (fresh, compare_seq);

  /* 2. Dead letters, confirmed by the broker before their deliveries are acked. */
  if (!publish_dead_letters (w, intakes, error))
    return FALSE;

  /* 3. The new events to Redis, atomically with the watermark. */
  if (fresh->len > 0)
    {
      g_autoptr(OddAggregates) aggregates = odd_aggregates_new (g_get_real_time ());
      gint64 last = g_array_index (fresh, NewEvent, fresh->len - 1).seq;
      OddProjectionResult result;
      const OddAggregatesStats *stats;

      for (guint i = 0; i < fresh->len; i++)
        {
          NewEvent *e = &g_array_index (fresh, NewEvent, i);
          g_autoptr(GError) local_error = NULL;

          if (!odd_aggregates_add (aggregates, json_node_get_object (e->intake->envelope), &local_error))
            odd_warning (e->intake->correlation_id, "event %s not aggregated: %s",
                         e->intake->event_id, local_error->message);
        }
      if (!apply (w, aggregates, prev, last, &result, error))
        return FALSE;
      if (result == ODD_PROJECTION_APPLIED)
        set_applied_seq (self, last);
      else if (result != ODD_PROJECTION_ALREADY)
        {
          /* Redis is not where this batch starts (another engine's batch, committed before,
           * is not applied yet; or Redis lost its data): the store has every event. */
          g_debug ("live batch: %s; catching up from the event store",
                   odd_projection_result_to_string (result));
          if (!catch_up (w, error))
            return FALSE;
        }

      stats = odd_aggregates_get_stats (aggregates);
      for (OddEventKind k = ODD_EVENT_KIND_CREATED; k <= ODD_EVENT_KIND_FAILED; k++)
        if (stats->events_by_type[k] > 0)
          odd_counter_add (self->events_total, odd_event_kind_to_string (k), stats->events_by_type[k]);
      if (stats->submitted > 0)
        odd_counter_add (self->jobs_submitted, NULL, stats->submitted);
      if (stats->completed > 0)
        odd_counter_add (self->jobs_completed, NULL, stats->completed);
      if (stats->failed > 0)
        odd_counter_add (self->jobs_failed, NULL, stats->failed);
      for (guint i = 0; i < stats->latency_seconds->len; i++)
        odd_histogram_observe (self->job_latency, g_array_index (stats->latency_seconds, double, i));

      g_mutex_lock (&self->lock);
      self->n_applied += fresh->len;
      g_mutex_unlock (&self->lock);
    }
  if (n_duplicates > 0)
    odd_counter_add (self->duplicates, NULL, n_duplicates);

  /* 4. Everything in the batch is stored, applied or dead-lettered: ack it all at once. */
  last_tag = ((Delivery *) deliveries->pdata[deliveries->len - 1])->tag;
  if (amqp_basic_ack (w->consumer, CONSUMER_CHANNEL, last_tag, 1) != AMQP_STATUS_OK)
    {
      g_set_error_literal (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED, "basic.ack failed");
      return FALSE;
    }
  forget_redeliveries (w, deliveries);

  odd_histogram_observe (self->batch_seconds, (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
  return TRUE;
}

/* ---- consuming -------------------------------------------------------------------------- */

/* 1 = a delivery in @out, 0 = nothing within @timeout_ms, -1 = error. */
static int
consume_one (Worker    *w,
             guint      timeout_ms,
             Delivery **out,
             GError   **error)
{
  struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
  amqp_envelope_t envelope;
  amqp_rpc_reply_t ret;

  amqp_maybe_release_buffers (w->consumer);
  ret = amqp_consume_message (w->consumer, &envelope, &tv, 0);

  if (ret.reply_type == AMQP_RESPONSE_NORMAL)
    {
      Delivery *d = g_new0 (Delivery, 1);

      d->tag = envelope.delivery_tag;
      d->redelivered = envelope.redelivered != 0;
      d->body = g_bytes_new (envelope.message.body.bytes, envelope.message.body.len);
      amqp_destroy_envelope (&envelope);
      *out = d;
      return 1;
    }

  if (ret.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && ret.library_error == AMQP_STATUS_TIMEOUT)
    return 0;

  if (ret.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
      && ret.library_error == AMQP_STATUS_UNEXPECTED_STATE)
    {
      /* A frame other than a delivery is waiting: find out whether the broker closed on us. */
      amqp_frame_t frame;

      if (amqp_simple_wait_frame (w->consumer, &frame) != AMQP_STATUS_OK)
        {
          g_set_error_literal (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED, "consumer connection lost");
          return -1;
        }
      if (frame.frame_type == AMQP_FRAME_METHOD)
        switch (frame.payload.method.id)
          {
          case AMQP_CHANNEL_CLOSE_METHOD:
          case AMQP_CONNECTION_CLOSE_METHOD:
            g_set_error_literal (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                                 "the broker closed the consumer channel");
            return -1;
          case AMQP_BASIC_CANCEL_METHOD:
            g_set_error_literal (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                                 "the broker cancelled the consumer (queue deleted?)");
            return -1;
          default:
            break;
          }
      return 0;
    }

  odd_amqp_check_reply (ret, "consume " ODD_QUEUE_LIFECYCLE, error);
  if (error != NULL && *error == NULL)
    g_set_error_literal (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED, "consumer connection lost");
  return -1;
}

/* Keeps the idle dead-letter connection alive: librabbitmq only sends heartbeats, and notices
 * the broker's, inside its own calls. */
static gboolean
pump_publisher (Worker  *w,
                GError **error)
{
  struct timeval zero = { 0, 0 };
  amqp_frame_t frame;
  int status;

  if (odd_amqp_confirms_pending (w->confirms) > 0)
    return TRUE;
  status = amqp_simple_wait_frame_noblock (w->publisher, &frame, &zero);
  if (status == AMQP_STATUS_TIMEOUT)
    return TRUE;
  if (status == AMQP_STATUS_OK && frame.frame_type == AMQP_FRAME_METHOD
      && frame.payload.method.id != AMQP_CHANNEL_CLOSE_METHOD
      && frame.payload.method.id != AMQP_CONNECTION_CLOSE_METHOD)
    return TRUE;
  g_set_error_literal (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED, "dead-letter connection lost");
  return FALSE;
}

/* One iteration: a periodic watermark check, then at most one batch. */
static gboolean
worker_step (Worker  *w,
             GError **error)
{
  OddMetricsEngine *self = w->engine;
  g_autoptr(GPtrArray) deliveries = g_ptr_array_new_with_free_func ((GDestroyNotify) delivery_free);
  Delivery *d = NULL;
  gint64 deadline;
  gsize bytes;
  int r;

  if (g_get_monotonic_time () >= w->next_check)
    {
      w->next_check = g_get_monotonic_time () + (gint64) self->check_interval_ms * 1000;
      if (!pump_publisher (w, error))
        return FALSE;
      /* What a replica that died between its commit and its apply left behind, a batch whose
       * catch-up found another engine replaying, a lost or flushed Redis. */
      if (!catch_up (w, error))
        return FALSE;
    }

  /* A redelivered message is handled alone, counted before (see the processor): a message
   * that keeps failing this worker is dead-lettered instead of stopping it for good. */
  if (w->held != NULL)
    {
      g_ptr_array_add (deliveries, g_steal_pointer (&w->held));
      return process_batch (w, deliveries, error);
    }

  r = consume_one (w, POLL_MS, &d, error);
  if (r <= 0)
    return r == 0;
  g_ptr_array_add (deliveries, d);
  bytes = g_bytes_get_size (d->body);

  deadline = g_get_monotonic_time () + (gint64) self->batch_wait_ms * 1000;
  while (!d->redelivered && deliveries->len < self->prefetch && bytes < MAX_BATCH_BYTES)
    {
      gint64 left = MAX (0, deadline - g_get_monotonic_time ());

      r = consume_one (w, (guint) ((left + 999) / 1000), &d, error);
      if (r < 0)
        return FALSE;
      if (r == 0)
        break;
      if (d->redelivered)
        {
          w->held = d;
          break;
        }
      g_ptr_array_add (deliveries, d);
      bytes += g_bytes_get_size (d->body);
    }

  return process_batch (w, deliveries, error);
}

static gpointer
worker_thread (gpointer data)
{
  OddMetricsEngine *self = data;
  Worker w = { .engine = self };
  guint backoff = 100;
  g_autofree char *last_warning = NULL;

  while (!is_stopping (self))
    {
      g_autoptr(GError) error = NULL;
      const char *stage = "PostgreSQL";
      gboolean ok;

      ok = connect_pg (&w, &error);
      if (ok)
        {
          stage = "Redis";
          w.redis = odd_redis_connect (self->redis_url, &error);
          ok = w.redis != NULL;
        }
      if (ok)
        {
          stage = "catch-up";
          /* Before consuming: a long replay must not starve the consumer's heartbeats. */
          ok = catch_up (&w, &error);
        }
      if (ok)
        {
          stage = "RabbitMQ";
          ok = connect_amqp (&w, &error);
        }

      if (ok)
        {
          odd_info (NULL, "consuming %s (prefetch %u); metrics:applied_seq %" G_GINT64_FORMAT "%s",
                    ODD_QUEUE_LIFECYCLE, self->prefetch,
                    odd_metrics_engine_get_applied_seq (self),
                    last_warning ? " (recovered)" : "");
          g_clear_pointer (&last_warning, g_free);
          set_not_ready (self, NULL);
          backoff = 100;
          w.next_check = g_get_monotonic_time () + (gint64) self->check_interval_ms * 1000;
          while (!is_stopping (self) && (ok = worker_step (&w, &error)))
            ;
          stage = "worker";
        }

      worker_disconnect (&w);
      if (ok || is_stopping (self))
        break;

      {
        g_autofree char *reason = g_strdup_printf ("%s: %s", stage, error->message);

        /* Once per distinct failure, not at every retry while an outage lasts. */
        if (g_strcmp0 (reason, last_warning) != 0)
          odd_warning (NULL, "%s; reconnecting (backoff up to %u ms)", reason, MAX_BACKOFF_MS);
        set_not_ready (self, reason);
        g_free (last_warning);
        last_warning = g_steal_pointer (&reason);
      }
      if (odd_stop_flag_wait (self->stop, backoff))
        break;
      backoff = MIN (backoff * 2, MAX_BACKOFF_MS);
    }

  worker_disconnect (&w);
  set_not_ready (self, "stopped");
  return NULL;
}

/* ---- public ----------------------------------------------------------------------------- */

OddMetricsEngine *
odd_metrics_engine_new (const OddMetricsEngineConfig *config,
                        OddMetrics                   *metrics,
                        OddSchemaRegistry            *registry)
{
  static const double batch_buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };
  double latency_buckets[ODD_AGGREGATES_N_LATENCY_BOUNDS];
  OddMetricsEngine *self = g_new0 (OddMetricsEngine, 1);

  self->rabbitmq_url = g_strdup (config->rabbitmq_url);
  self->postgres_url = g_strdup (config->postgres_url);
  self->redis_url = g_strdup (config->redis_url);
  self->prefetch = MAX (config->prefetch, 1);
  self->max_redeliveries = config->max_redeliveries > 0 ? config->max_redeliveries
                                                        : ODD_DEFAULT_MAX_REDELIVERIES;
  self->batch_wait_ms = config->batch_wait_ms;
  self->check_interval_ms = MAX (config->check_interval_ms, 100);
  self->replay_batch = MAX (config->replay_batch, 1);
  self->registry = g_object_ref (registry);
  self->applied_seq = -1;
  self->not_ready = g_strdup ("starting");
  g_mutex_init (&self->lock);
  self->stop = odd_stop_flag_new ();

  for (guint i = 0; i < odd_aggregates_n_latency_bounds; i++)
    latency_buckets[i] = odd_aggregates_latency_bounds_ms[i] / 1000.0;

  self->events_total = odd_metrics_counter (metrics, "metrics_engine_events_total",
                                            "Lifecycle events stored and aggregated, by eventType", "type");
  self->messages = odd_metrics_counter (metrics, "metrics_engine_messages_total",
                                        "Deliveries of jobs.lifecycle (one event or an event batch each)",
                                        NULL);
  self->duplicates = odd_metrics_counter (metrics, "metrics_engine_events_duplicate_total",
                                          "Deliveries of events already stored (dropped)", NULL);
  self->invalid = odd_metrics_counter (metrics, "metrics_engine_events_invalid_total",
                                       "Deliveries dead-lettered as invalid or unparseable", NULL);
  self->rebuilds = odd_metrics_counter (metrics, "metrics_engine_rebuilds_total",
                                        "Rebuilds of the Redis aggregates from job_events", NULL);
  self->replayed = odd_metrics_counter (metrics, "metrics_engine_replayed_events_total",
                                        "Events replayed from job_events into Redis", NULL);
  self->applied_gauge = odd_metrics_gauge (metrics, "metrics_engine_applied_seq",
                                           "Highest job_events.seq applied to Redis", NULL);
  self->batch_seconds = odd_metrics_histogram (metrics, "metrics_engine_batch_seconds",
                                               "Time to store, aggregate and ack one batch",
                                               batch_buckets, G_N_ELEMENTS (batch_buckets));
  self->jobs_submitted = odd_metrics_counter (metrics, "odd_jobs_submitted_total",
                                              "Jobs submitted (first job.validated)", NULL);
  self->jobs_completed = odd_metrics_counter (metrics, "odd_jobs_completed_total",
                                              "Jobs completed (job.completed)", NULL);
  self->jobs_failed = odd_metrics_counter (metrics, "odd_jobs_failed_total",
                                           "Jobs failed after their last attempt (job.failed)", NULL);
  self->job_latency = odd_metrics_histogram (metrics, "odd_job_latency_seconds",
                                             "Submit-to-completed time of jobs",
                                             latency_buckets, ODD_AGGREGATES_N_LATENCY_BOUNDS);

  if (config->sample_interval_ms > 0)
    self->sampler = odd_queue_sampler_new (config->rabbitmq_url, config->redis_url, metrics,
                                           config->sample_interval_ms);
  return self;
}

void
odd_metrics_engine_start (OddMetricsEngine *self)
{
  g_return_if_fail (self->worker == NULL);

  odd_stop_flag_reset (self->stop);
  self->worker = g_thread_new ("metrics-worker", worker_thread, self);
  if (self->sampler != NULL)
    odd_queue_sampler_start (self->sampler);
}

void
odd_metrics_engine_stop (OddMetricsEngine *self)
{
  odd_stop_flag_stop (self->stop);
  if (self->worker != NULL)
    g_thread_join (g_steal_pointer (&self->worker));
  if (self->sampler != NULL)
    odd_queue_sampler_stop (self->sampler);
}

void
odd_metrics_engine_free (OddMetricsEngine *self)
{
  if (self == NULL)
    return;
  odd_metrics_engine_stop (self);
  g_clear_pointer (&self->sampler, odd_queue_sampler_free);
  g_object_unref (self->registry);
  g_mutex_clear (&self->lock);
  odd_stop_flag_free (self->stop);
  g_free (self->not_ready);
  g_free (self->rabbitmq_url);
  g_free (self->postgres_url);
  g_free (self->redis_url);
  g_free (self);
}

char *
odd_metrics_engine_dup_not_ready_reason (OddMetricsEngine *self)
{
  char *reason;

  g_mutex_lock (&self->lock);
  reason = g_strdup (self->not_ready);
  g_mutex_unlock (&self->lock);
  return reason;
}

gint64
odd_metrics_engine_get_applied_seq (OddMetricsEngine *self)
{
  gint64 seq;

  g_mutex_lock (&self->lock);
  seq = self->applied_seq;
  g_mutex_unlock (&self->lock);
  return seq;
}

guint64
odd_metrics_engine_get_n_applied (OddMetricsEngine *self)
{
  guint64 n;

  g_mutex_lock (&self->lock);
  n = self->n_applied;
  g_mutex_unlock (&self->lock);
  return n;
}
