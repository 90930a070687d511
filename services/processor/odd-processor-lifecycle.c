#define G_LOG_DOMAIN "odd-processor-lifecycle"

#include "odd-processor-private.h"

#include <string.h>

/* What a job.created means given the stored row, what an attempt's end means, and the
 * events, dead letters, state changes and acks each decision makes. Nothing here touches a
 * connection: the worker writes, publishes and acks the resulting OddIteration in order. */

void
odd_outgoing_free (OddOutgoing *out)
{
  if (out == NULL)
    return;
  g_free (out->exchange);
  g_free (out->routing_key);
  g_free (out->message_id);
  g_free (out->correlation_id);
  g_free (out->type);
  g_free (out->body);
  g_free (out);
}

void
odd_iteration_init (OddIteration *it)
{
  it->outgoing = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_outgoing_free);
  it->acks = g_array_new (FALSE, FALSE, sizeof (guint64));
  it->dead_rows = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_dead_letter_row_free);
  it->dirty = g_ptr_array_new ();
  it->done = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_job_run_free);
}

void
odd_iteration_clear (OddIteration *it)
{
  g_clear_pointer (&it->outgoing, g_ptr_array_unref);
  g_clear_pointer (&it->acks, g_array_unref);
  g_clear_pointer (&it->dead_rows, g_ptr_array_unref);
  g_clear_pointer (&it->dirty, g_ptr_array_unref);
  g_clear_pointer (&it->done, g_ptr_array_unref);
}

void
odd_lifecycle_init (OddLifecycle      *self,
                    OddMetrics        *metrics,
                    const OddProducer *producer,
                    guint              max_attempts,
                    guint              retry_backoff_ms,
                    OddScheduler      *scheduler,
                    GHashTable        *runs)
{
  static const double work_buckets[] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
                                         10, 30, 60, 300, 600 };

  self->producer = *producer;
  self->events_per_message = ODD_LIFECYCLE_EVENTS_PER_MESSAGE;
  self->max_attempts = MAX (max_attempts, 1);
  self->retry_backoff_ms = retry_backoff_ms;
  self->scheduler = scheduler;
  self->runs = runs;

  self->completed = odd_metrics_counter (metrics, "processor_jobs_completed_total",
                                         "Jobs that reached COMPLETED", NULL);
  self->failed = odd_metrics_counter (metrics, "processor_jobs_failed_total",
                                      "Jobs that reached FAILED (retries exhausted)", NULL);
  self->refused = odd_metrics_counter (metrics, "processor_jobs_refused_total",
                                       "Valid jobs dead-lettered unprocessed (the database "
                                       "refused them, or they were redelivered too often)",
                                       NULL);
  self->retried = odd_metrics_counter (metrics, "processor_jobs_retried_total",
                                       "Failed attempts scheduled for another attempt", NULL);
  self->validation_failed = odd_metrics_counter (metrics, "processor_jobs_validation_failed_total",
                                                 "Messages dead-lettered as invalid or unparseable",
                                                 NULL);
  self->processing_seconds = odd_metrics_histogram (metrics, "processor_job_processing_seconds",
                                                    "Duration of one attempt",
                                                    work_buckets, G_N_ELEMENTS (work_buckets));
  self->event_messages = odd_metrics_counter (metrics, "processor_lifecycle_messages_total",
                                              "Messages sent to odd.events (an event batch or a "
                                              "single envelope each)", NULL);
  self->events = odd_metrics_counter (metrics, "processor_lifecycle_events_total",
                                      "Lifecycle envelopes sent to odd.events", NULL);
}

static gboolean
is_event (const OddOutgoing *out)
{
  return g_str_equal (out->exchange, ODD_EXCHANGE_EVENTS);
}

/* One message of @events[from, to): the envelope itself when it is alone, else their array. */
static OddOutgoing *
event_message (GPtrArray *events,
               guint      from,
               guint      to)
{
  OddOutgoing *first = g_ptr_array_index (events, from);
  /* A batch of several jobs' events belongs to no one correlation. */
  const char *correlation_id = first->correlation_id;
  g_autoptr(GChecksum) ids = NULL;
  OddOutgoing *out;
  GString *body;

  if (to - from == 1)
    {
      /* taken, its slot left empty: the indexes of the others stay */
      events->pdata[from] = NULL;
      return first;
    }

  out = g_new0 (OddOutgoing, 1);
  body = g_string_sized_new (ODD_LIFECYCLE_MESSAGE_MAX_BYTES / 4);
  /* The id of a batch is that of its events: the same batch sent again has the same id. */
  ids = g_checksum_new (G_CHECKSUM_SHA256);
  g_string_append_c (body, '[');
  for (guint i = from; i < to; i++)
    {
      OddOutgoing *e = g_ptr_array_index (events, i);

      if (i > from)
        g_string_append_c (body, ',');
      g_string_append (body, e->body);
      g_checksum_update (ids, (const guchar *) e->message_id, -1);
      if (g_strcmp0 (correlation_id, e->correlation_id) != 0)
        correlation_id = NULL;
    }
  g_string_append_c (body, ']');

  out->exchange = g_strdup (first->exchange);
  out->routing_key = g_strdup (ODD_EVENT_BATCH_ROUTING_KEY);
  out->type = g_strdup (ODD_EVENT_BATCH_TYPE);
  out->correlation_id = g_strdup (correlation_id);
  out->message_id = odd_uuid_v5 (ODD_EVENT_NAMESPACE, g_checksum_get_string (ids));
  out->body = g_string_free (body, FALSE);
  return out;
}

void
odd_lifecycle_pack_events (OddLifecycle *self,
                           OddIteration *it)
{
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_outgoing_free);
  guint max_events = CLAMP (self->events_per_message, 1, ODD_EVENT_BATCH_MAX_EVENTS);
  g_autofree OddOutgoing **all = NULL;
  gsize n_all = 0;
  guint from = 0;
  gsize bytes = 1;   /* '[' and ']', and a ',' or the ']' after each envelope */

  /* The dead letters stay first, in their order; the events follow, in theirs. */
  all = (OddOutgoing **) g_ptr_array_steal (it->outgoing, &n_all);
  for (gsize i = 0; i < n_all; i++)
    g_ptr_array_add (is_event (all[i]) ? events : it->outgoing, all[i]);

  odd_counter_add (self->events, NULL, events->len);
  for (guint i = 0; i <= events->len; i++)
    {
      gsize size = i < events->len ? strlen (((OddOutgoing *) events->pdata[i])->body) + 1 : 0;

      if (i > from && (i == events->len || i - from == max_events
                       || bytes + size > ODD_LIFECYCLE_MESSAGE_MAX_BYTES))
        {
          g_ptr_array_add (it->outgoing, event_message (events, from, i));
          odd_counter_inc (self->event_messages, NULL);
          from = i;
          bytes = 1;
        }
      bytes += size;
    }
}

static void
queue_message (OddIteration *it,
               const char   *exchange,
               const char   *routing_key,
               const char   *message_id,
               const char   *correlation_id,
               const char   *type,
               JsonNode     *body)
{
  OddOutgoing *out = g_new0 (OddOutgoing, 1);

  out->exchange = g_strdup (exchange);
  out->routing_key = g_strdup (routing_key);
  out->message_id = g_strdup (message_id);
  out->correlation_id = g_strdup (correlation_id);
  out->type = g_strdup (type);
  out->body = odd_json_to_string (body);
  g_ptr_array_add (it->outgoing, out);
}

static void
emit (OddLifecycle          *self,
      OddIteration          *it,
      const OddJobRun       *run,
      const char            *event_type,
      const OddEventDetails *details)
{
  g_autofree char *event_id = NULL;
  g_autoptr(JsonNode) envelope = odd_processor_event_new (run, event_type, details,
                                                          &self->producer, &event_id);

  queue_message (it, ODD_EXCHANGE_EVENTS, event_type, event_id, run->correlation_id,
                 event_type, envelope);
}

static void
emit_validated (OddLifecycle    *self,
                OddIteration    *it,
                const OddJobRun *run)
{
  OddEventDetails details = { 0, NULL, NULL, "VALIDATED", 0, NULL };

  emit (self, it, run, "job.validated", &details);
}

static void
emit_executed (OddLifecycle    *self,
               OddIteration    *it,
               const OddJobRun *run,
               int              attempt,
               gboolean         ok,
               const char      *error,
               const char      *status)
{
  OddEventDetails details = { attempt, ok ? "ok" : "error", ok ? NULL : error, status, attempt,
                              ok ? NULL : error };

  emit (self, it, run, "job.executed", &details);
}

static void
emit_terminal (OddLifecycle    *self,
               OddIteration    *it,
               const OddJobRun *run)
{
  gboolean completed = g_str_equal (run->status, "COMPLETED");
  OddEventDetails details = { 0, NULL, NULL, run->status, run->attempts,
                              completed ? NULL : run->last_error };

  emit (self, it, run, completed ? "job.completed" : "job.failed", &details);
}

static void
dead_letter_retries_exhausted (OddLifecycle    *self,
                               OddIteration    *it,
                               const OddJobRun *run,
                               gboolean         store)
{
  g_autofree char *error = g_strdup_printf ("retries exhausted after %d attempts: %s",
                                            run->attempts,
                                            run->last_error != NULL ? run->last_error : "failed");
  g_autoptr(JsonNode) message = odd_processor_dead_letter_new (run->original_event, error,
                                                               run->correlation_id,
                                                               "retries_exhausted",
                                                               ODD_QUEUE_JOBS_CREATED,
                                                               run->id, run->generation, NULL);
  g_autofree char *message_id = odd_processor_event_id (run->id, run->generation,
                                                        "dead-letter", 0);

  queue_message (it, "", ODD_QUEUE_DEAD, message_id, run->correlation_id, "dead-letter",
                 message);

  if (store)
    {
      OddDeadLetterRow *row = g_new0 (OddDeadLetterRow, 1);

      row->queue = g_strdup (ODD_QUEUE_DEAD);
      row->reason = g_strdup ("retries_exhausted");
      row->job_id = g_strdup (run->id);
      row->correlation_id = g_strdup (run->correlation_id);
      row->message_key = g_strdup (message_id);
      row->message = g_steal_pointer (&message);
      g_ptr_array_add (it->dead_rows, row);
    }
}

/* Re-emits what a run of this generation already emitted (same ids): after a crash between
 * commit and publish these events may never have left. */
static void
emit_history (OddLifecycle    *self,
              OddIteration    *it,
              const OddJobRun *run,
              int              attempts,
              gboolean         terminal)
{
  emit_validated (self, it, run);

  for (int attempt = 1; attempt <= attempts; attempt++)
    {
      g_autofree char *error = NULL;
      gboolean last = attempt == attempts;
      gboolean ok = terminal && last && g_str_equal (run->status, "COMPLETED");
      const char *status = terminal && last ? run->status : "EXECUTING";

      if (!ok)
        {
          /* The decision is deterministic, so the message is the one sent the first time. */
          if (odd_processor_attempt_outcome (run->id, run->generation, attempt,
                                             &run->simulation, &error))
            error = g_strdup (run->last_error != NULL ? run->last_error : "failed");
        }
      emit_executed (self, it, run, attempt, ok, error, status);
    }
}

/* ---- state changes ---- */

static void
mark_dirty (OddIteration *it,
            OddJobRun    *run)
{
  if (!run->dirty)
    {
      run->dirty = TRUE;
      g_ptr_array_add (it->dirty, run);
    }
}

static void
schedule_attempt (OddLifecycle *self,
                  OddJobRun    *run,
                  gint64        now,
                  gint64        delay_usec)
{
  run->attempt_started = now + delay_usec;
  odd_scheduler_add (self->scheduler,
                     now + delay_usec + (gint64) run->simulation.duration_ms * 1000, run);
}

static void
ack_run (OddIteration *it,
         OddJobRun    *run)
{
  g_array_append_vals (it->acks, run->delivery_tags->data, run->delivery_tags->len);
  g_array_set_size (run->delivery_tags, 0);
}

/* Runs the attempt of @run that is due now. */
void
odd_lifecycle_finish_attempt (OddLifecycle *self,
                              OddIteration *it,
                              OddJobRun    *run,
                              gint64        now)
{
  g_autofree char *error = NULL;
  int attempt = run->attempts + 1;
  gboolean ok;

  ok = odd_processor_attempt_outcome (run->id, run->generation, attempt, &run->simulation,
                                      &error);
  odd_histogram_observe (self->processing_seconds,
                         (double) MAX (0, now - run->attempt_started) / G_USEC_PER_SEC);

  run->attempts = attempt;
  mark_dirty (it, run);

  if (ok)
    {
      run->status = "COMPLETED";
      run->finished = TRUE;
      emit_executed (self, it, run, attempt, TRUE, NULL, run->status);
      emit_terminal (self, it, run);
      odd_counter_inc (self->completed, NULL);
      odd_log (G_LOG_LEVEL_DEBUG, run->correlation_id, "job %s completed on attempt %d",
               run->id, attempt);
    }
  else
    {
      g_free (run->last_error);
      run->last_error = g_steal_pointer (&error);

      if (attempt < (int) self->max_attempts)
        {
          guint delay = odd_processor_retry_backoff_ms (self->retry_backoff_ms, attempt);

          run->status = "EXECUTING";
          emit_executed (self, it, run, attempt, FALSE, run->last_error, run->status);
          schedule_attempt (self, run, now, (gint64) delay * 1000);
          odd_counter_inc (self->retried, NULL);
          odd_log (G_LOG_LEVEL_DEBUG, run->correlation_id,
                   "job %s: attempt %d failed (%s), next in %u ms", run->id, attempt,
                   run->last_error, delay);
          return;
        }

      run->status = "FAILED";
      run->finished = TRUE;
      emit_executed (self, it, run, attempt, FALSE, run->last_error, run->status);
      emit_terminal (self, it, run);
      dead_letter_retries_exhausted (self, it, run, TRUE);
      odd_counter_inc (self->failed, NULL);
      odd_info (run->correlation_id, "job %s failed after %d attempts: %s", run->id, attempt,
                run->last_error);
    }

  /* Terminal: the deliveries are acked after the commit and the confirms. */
  ack_run (it, run);
  g_hash_table_steal (self->runs, run->id);
  g_ptr_array_add (it->done, run);
}

/* @run takes what @row stores and @intake carries. */
static void
run_fill (OddJobRun *run,
          OddProcessorIntake *intake,
          OddProcessorJobRow *row)
{
  g_autofree char *sim_error = NULL;

  run->type = g_strdup (row->type);
  /* Events carry the stored text: parsed, its numbers would be rewritten by json-glib. */
  run->payload = row->payload_text != NULL ? odd_json_raw_new (row->payload_text, -1)
                                           : json_node_ref (row->payload);
  run->created_at = g_strdup (row->created_at);
  run->correlation_id = g_strdup (intake->correlation_id);
  run->metadata = intake->metadata != NULL ? json_node_ref (intake->metadata) : NULL;
  run->original_event = json_node_ref (intake->envelope);
  run->status = row->status;
  run->generation = row->generation;
  run->old_generation = row->generation;
  run->attempts = row->attempts;
  run->last_error = g_strdup (row->last_error);

  /* The stored payload decides, so every redelivery of a job runs the same simulation. */
  {
    g_autoptr(JsonObject) job = json_object_new ();

    json_object_set_member (job, "payload", json_node_ref (row->payload));
    if (!odd_job_get_simulation (job, &run->simulation, &sim_error))
      memset (&run->simulation, 0, sizeof run->simulation);
  }
}

/* Decides what a job.created means given the stored row, and starts or finishes @run. */
void
odd_lifecycle_start_run (OddLifecycle *self,
                         OddIteration *it,
                         OddJobRun    *run,
                         OddProcessorIntake    *intake,
                         OddProcessorJobRow    *row,
                         gint64        now)
{
  run_fill (run, intake, row);

  if (odd_job_status_is_terminal (row->status))
    {
      if (g_str_equal (row->status, "FAILED") && intake->retry_generation == row->generation + 1)
        {
          /* A retry: a new generation of the job, with fresh attempts. */
          run->generation = row->generation + 1;
          run->attempts = 0;
          g_clear_pointer (&run->last_error, g_free);
          run->status = "EXECUTING";
          run->started = TRUE;
          run->finished = FALSE;
          mark_dirty (it, run);
          emit_validated (self, it, run);
          odd_info (run->correlation_id, "job %s: retry as generation %d", run->id,
                    run->generation);
          g_hash_table_insert (self->runs, run->id, run);
          schedule_attempt (self, run, now, 0);
          return;
        }

      /* Already done: say so again (same event ids) and let the delivery go. */
      emit_history (self, it, run, run->attempts, TRUE);
      emit_terminal (self, it, run);
      if (g_str_equal (run->status, "FAILED"))
        dead_letter_retries_exhausted (self, it, run, FALSE);
      ack_run (it, run);
      g_ptr_array_add (it->done, run);
      return;
    }

  /* New, or resumed after a crash (here or on another replica): attempts already recorded
   * are not run again, and the backoff a failed one set is still owed, counted from the
   * row's last write (unfinished with attempts means the last attempt failed). */
  emit_history (self, it, run, run->attempts, FALSE);
  run->status = "EXECUTING";
  run->started = TRUE;
  mark_dirty (it, run);
  g_hash_table_insert (self->runs, run->id, run);
  {
    gint64 owed_ms = 0;

    if (row->attempts > 0)
      owed_ms = MAX (0, (gint64) odd_processor_retry_backoff_ms (self->retry_backoff_ms,
                                                                  row->attempts) - row->idle_ms);
    schedule_attempt (self, run, now, owed_ms * 1000);
  }
}

void
odd_lifecycle_give_up (OddLifecycle *self,
                       OddIteration *it,
                       OddJobRun    *run,
                       OddProcessorIntake    *intake,
                       OddProcessorJobRow    *row,
                       const char   *why)
{
  run_fill (run, intake, row);

  /* What it emitted before the loop, then its end: a job like any failed one, for the
   * event store and /stats, and replayable as one (POST /jobs/{id}/retry). */
  emit_history (self, it, run, run->attempts, FALSE);
  emit_terminal (self, it, run);
  odd_info (run->correlation_id, "job %s failed: %s", run->id, why);

  odd_processor_intake_refuse (intake, "redelivered_too_often", why, NULL);
  odd_lifecycle_reject (self, it, intake, run->delivery_tags);
  g_array_set_size (run->delivery_tags, 0);
  g_ptr_array_add (it->done, run);
}

void
odd_lifecycle_reject (OddLifecycle *self,
                      OddIteration *it,
                      OddProcessorIntake    *intake,
                      GArray       *more_tags)
{
  g_autoptr(JsonNode) message = NULL;
  g_autofree char *body = NULL;
  g_autofree char *key = NULL;
  g_autofree char *message_id = NULL;
  OddDeadLetterRow *row;
  /* What never was a valid job.created failed validation; a valid one that cannot be
   * stored or keeps crashing its consumer is dead. */
  gboolean invalid = g_str_equal (intake->reason, "invalid")
                     || g_str_equal (intake->reason, "unparseable");
  const char *queue = invalid ? ODD_QUEUE_FAILED_VALIDATION : ODD_QUEUE_DEAD;

  message = odd_processor_dead_letter_new (intake->original_event, intake->error,
                                           intake->correlation_id, intake->reason,
                                           ODD_QUEUE_JOBS_CREATED, intake->job_id, -1,
                                           intake->sqlstate);

  /* Same message, same id: a consumer of the queue can drop redelivered copies, and
   * dead_letters stores it once. */
  body = odd_json_to_string (intake->original_event);
  key = g_compute_checksum_for_string (G_CHECKSUM_SHA256, body, -1);
  message_id = odd_uuid_v5 (ODD_EVENT_NAMESPACE, key);

  odd_info (intake->correlation_id, "dead-lettering a message of %s to %s (%s%s%s): %s",
            ODD_QUEUE_JOBS_CREATED, queue, intake->reason,
            intake->sqlstate != NULL ? ", SQLSTATE " : "",
            intake->sqlstate != NULL ? intake->sqlstate : "", intake->error);
  queue_message (it, "", queue, message_id,
                 intake->correlation_id != NULL ? intake->correlation_id : "unknown",
                 "dead-letter", message);

  row = g_new0 (OddDeadLetterRow, 1);
  row->queue = g_strdup (queue);
  row->reason = g_strdup (intake->reason);
  row->job_id = g_strdup (intake->job_id);
  row->correlation_id = g_strdup (intake->correlation_id != NULL ? intake->correlation_id
                                                                 : "unknown");
  row->message_key = g_strdup (message_id);
  row->message = g_steal_pointer (&message);
  g_ptr_array_add (it->dead_rows, row);

  g_array_append_val (it->acks, intake->delivery_tag);
  if (more_tags != NULL)
    for (guint i = 0; i < more_tags->len; i++)
      if (g_array_index (more_tags, guint64, i) != intake->delivery_tag)
        g_array_append_val (it->acks, g_array_index (more_tags, guint64, i));
  odd_counter_inc (invalid ? self->validation_failed : self->refused, NULL);
}
