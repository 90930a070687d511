/* odd-processor-private.h: the pieces of the processor, shared by its files and its tests */
#pragma once

#include "odd-service.h"
#include "odd-processor.h"

G_BEGIN_DECLS

/* ---- simulated work (odd-processor-sim.c) ---- */

/* The deterministic draw of an attempt in [0, 1): a hash of "<jobId>/<generation>/<attempt>",
 * so a replay after a crash makes the same decision. */
double    odd_processor_draw             (const char          *job_id,
                                          int                  generation,
                                          int                  attempt);
/* TRUE when the attempt succeeds; else @error_message (nullable) gets why it failed. */
gboolean  odd_processor_attempt_outcome  (const char          *job_id,
                                          int                  generation,
                                          int                  attempt,
                                          const OddSimulation *simulation,
                                          char               **error_message);
/* Delay before attempt @attempt + 1 after attempt @attempt failed, in milliseconds:
 * @base_ms * 2^(attempt-1), capped at 30 s. */
guint     odd_processor_retry_backoff_ms (guint                base_ms,
                                          int                  attempt);

/* ---- timer heap of running attempts (odd-processor-scheduler.c) ---- */

typedef struct _OddScheduler OddScheduler;

OddScheduler *odd_scheduler_new      (void);
void          odd_scheduler_free     (OddScheduler *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddScheduler, odd_scheduler_free)
/* @due in monotonic microseconds; items due at the same time come out in insertion order. */
void          odd_scheduler_add      (OddScheduler *self,
                                      gint64        due,
                                      gpointer      data);
/* FALSE when empty. */
gboolean      odd_scheduler_next_due (OddScheduler *self,
                                      gint64       *due);
/* The earliest item due at or before @now, removed; NULL when none is. */
gpointer      odd_scheduler_pop_due  (OddScheduler *self,
                                      gint64        now);
guint         odd_scheduler_size     (OddScheduler *self);
void          odd_scheduler_clear    (OddScheduler *self);

/* ---- a job this processor works on (odd-processor-job.c) ---- */

typedef struct {
  char          *id;
  char          *type;
  JsonNode      *payload;         /* the job's payload object (the stored one) */
  JsonNode      *metadata;        /* the job's metadata from the message, nullable */
  char          *created_at;      /* RFC 3339 */
  char          *correlation_id;
  const char    *status;          /* static string */
  int            generation;
  int            attempts;        /* attempts finished */
  char          *last_error;
  OddSimulation  simulation;
  JsonNode      *original_event;  /* the envelope that started this run, for dead letters */
  GArray        *delivery_tags;   /* guint64: deliveries acked once the job is terminal */
  gint64         attempt_started; /* monotonic usec */

  /* What this iteration changed, written in one batched UPDATE. */
  gboolean       dirty;
  gboolean       started;
  gboolean       finished;
  int            old_generation;
} OddJobRun;

OddJobRun *odd_job_run_new      (const char *id);
void       odd_job_run_free     (OddJobRun  *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddJobRun, odd_job_run_free)
gboolean   odd_job_status_is_terminal (const char *status);
/* Canonical static string for a status name, NULL if unknown. */
const char *odd_job_status_intern     (const char *status);

/* ---- lifecycle events and dead letters (odd-processor-events.c) ---- */

/* "<jobId>/<generation>/<eventType>[/<attempt>]" (attempt 0 = none) */
char     *odd_processor_event_key   (const char *job_id,
                                     int         generation,
                                     const char *event_type,
                                     int         attempt);
/* uuidv5(ODD_EVENT_NAMESPACE, key) */
char     *odd_processor_event_id    (const char *job_id,
                                     int         generation,
                                     const char *event_type,
                                     int         attempt);

typedef struct {
  int         attempt;       /* 0 when the event is not about an attempt */
  const char *outcome;       /* "ok" / "error", job.executed only */
  const char *error;         /* job.executed with outcome error */
  const char *status;        /* payload.status */
  int         attempts;      /* payload.attempts */
  const char *last_error;    /* payload.lastError, nullable */
} OddEventDetails;

/* The full envelope of a lifecycle event of @run; @event_id gets its id. */
JsonNode *odd_processor_event_new   (const OddJobRun       *run,
                                     const char            *event_type,
                                     const OddEventDetails *details,
                                     const OddProducer     *producer,
                                     char                 **event_id);

/* dead-letter.json; @original_event is copied; @job_id nullable, @generation < 0 = unknown,
 * @sqlstate nullable (what PostgreSQL said when it refused the job). */
JsonNode *odd_processor_dead_letter_new (JsonNode   *original_event,
                                         const char *validation_error,
                                         const char *correlation_id,
                                         const char *reason,
                                         const char *queue,
                                         const char *job_id,
                                         int         generation,
                                         const char *sqlstate);

/* ---- message intake (odd-processor-intake.c) ---- */

typedef enum {
  ODD_INTAKE_JOB,          /* a valid job.created */
  ODD_INTAKE_DEAD_LETTER,  /* rejected; see reason and error */
} OddIntakeKind;

typedef struct {
  OddIntakeKind  kind;
  guint64        delivery_tag;
  /* ODD_INTAKE_JOB */
  JsonNode      *envelope;
  char          *job_id;
  char          *type;
  char          *created_at;       /* normalised RFC 3339 */
  char          *correlation_id;
  JsonNode      *payload;          /* the job's payload object, as its text (odd_json_raw_new), never NULL */
  JsonNode      *metadata;         /* nullable */
  int            retry_generation; /* metadata.retryGeneration, -1 when absent */
  /* ODD_INTAKE_DEAD_LETTER */
  const char    *reason;           /* "invalid" / "unparseable" (to jobs.failed.validation),
                                    * "storage_refused" / "redelivered_too_often" (jobs.dead) */
  char          *error;
  char          *sqlstate;         /* storage_refused: PostgreSQL's SQLSTATE, nullable */
  JsonNode      *original_event;   /* parsed JSON or the raw text as a string */
} OddProcessorIntake;

void       odd_processor_intake_free (OddProcessorIntake *intake);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddProcessorIntake, odd_processor_intake_free)

/* A dead letter of the raw message, for one not even parsed (it crashed its consumer while
 * being parsed, as far as anyone knows). */
OddProcessorIntake *odd_processor_intake_new_unhandled (const char *body,
                                     gsize       len,
                                     const char *amqp_correlation_id,
                                     guint64     delivery_tag,
                                     const char *reason,
                                     const char *error);
/* A valid job.created that cannot be processed after all becomes a dead letter: @reason is
 * static, @sqlstate nullable. */
void       odd_processor_intake_refuse (OddProcessorIntake  *intake,
                              const char *reason,
                              const char *error,
                              const char *sqlstate);

/* Parses and validates one message of jobs.created; never fails: what is not a valid
 * job.created becomes a dead letter. */
OddProcessorIntake *odd_processor_intake_parse (OddSchemaRegistry *registry,
                                                const char        *body,
                                                gsize              len,
                                                const char        *amqp_correlation_id,
                                                guint64            delivery_tag);

/* ---- database batches (odd-processor-batch.c) ---- */

typedef struct {
  char     *id;
  char     *type;
  const char *status;
  JsonNode *payload;
  char     *payload_text;   /* as PostgreSQL gives it back: every digit */
  int       attempts;
  int       generation;
  char     *last_error;
  char     *created_at;
  gint64    idle_ms;        /* since the row was last written (the database's clock) */
  gboolean  inserted;
} OddProcessorJobRow;

void       odd_processor_job_row_free (OddProcessorJobRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddProcessorJobRow, odd_processor_job_row_free)

/* Inserts the new jobs (status VALIDATED) and locks and returns the rows of all of @intakes
 * (OddProcessorIntake of kind JOB, distinct ids), as a hash table id -> OddProcessorJobRow. */
GHashTable *odd_processor_db_upsert   (PGconn     *conn,
                                       GPtrArray  *intakes,
                                       GError    **error);
/* Makes the stored job @job_id FAILED with @last_error unless it is terminal already; its row
 * as it is now, or NULL (no @error) when there is no such unfinished job. */
OddProcessorJobRow  *odd_processor_db_fail     (PGconn     *conn,
                                       const char *job_id,
                                       const char *last_error,
                                       GError    **error);
/* Writes the dirty state of @runs; returns the ids updated (a set). A run whose row moved on
 * (another generation) is not updated. */
GHashTable *odd_processor_db_update   (PGconn     *conn,
                                       GPtrArray  *runs,
                                       GError    **error);

typedef struct {
  char     *queue;
  char     *reason;
  char     *job_id;          /* nullable */
  char     *correlation_id;
  char     *message_key;     /* the dead letter's message id: one row per key and queue */
  JsonNode *message;
} OddDeadLetterRow;

void       odd_dead_letter_row_free   (OddDeadLetterRow *row);
/* Inserts dead letters, skipping ones already stored (a redelivered message). A message
 * PostgreSQL refuses keeps its original event as text. Call inside a transaction. */
gboolean    odd_processor_db_dead_letters (PGconn     *conn,
                                           GPtrArray  *rows,
                                           GError    **error);

/* ---- acks (odd-processor-acks.c) ---- */

/* Plans the basic.acks of the deliveries @tags (sorted here) given @outstanding, every
 * delivery of the channel not acked yet, ascending. *@multiple_tag (0: none) is the last of
 * the two or more oldest outstanding deliveries that are all among @tags: one ack with
 * multiple=true covers them, and no delivery that is not acked now. @singles gets the other
 * tags, each once, to ack one by one. @outstanding loses every tag of @tags. */
void odd_processor_plan_acks (GArray  *outstanding,
                              GArray  *tags,
                              guint64 *multiple_tag,
                              GArray  *singles);

/* ---- decisions of the lifecycle (odd-processor-lifecycle.c) ---- */

typedef struct {
  char *exchange;
  char *routing_key;
  char *message_id;
  char *correlation_id;
  char *type;
  char *body;
} OddOutgoing;

void odd_outgoing_free (OddOutgoing *out);

/* Everything one loop iteration decided, applied in order: @dirty written and @dead_rows
 * inserted in one transaction, then @outgoing published and confirmed, then @acks sent. */
typedef struct {
  GPtrArray *outgoing;   /* OddOutgoing */
  GArray    *acks;       /* guint64 delivery tags */
  GPtrArray *dead_rows;  /* OddDeadLetterRow */
  GPtrArray *dirty;      /* OddJobRun, borrowed (owned by the runs table or by @done) */
  GPtrArray *done;       /* OddJobRun, owned: finished with this iteration */
} OddIteration;

void odd_iteration_init  (OddIteration *it);
void odd_iteration_clear (OddIteration *it);

/* Bounds of one lifecycle message: events (ODD_EVENTS_PER_MESSAGE) and bytes, so that a
 * batch stays far below the broker's message size limit and the consumer's batch bound. */
#define ODD_LIFECYCLE_EVENTS_PER_MESSAGE 500
#define ODD_LIFECYCLE_MESSAGE_MAX_BYTES  (128 * 1024)

typedef struct {
  OddProducer   producer;
  guint         events_per_message; /* 1 = every envelope its own message, as before batches */
  guint         max_attempts;
  guint         retry_backoff_ms;
  OddScheduler *scheduler;   /* borrowed: attempts waiting for their time */
  GHashTable   *runs;        /* borrowed: id -> OddJobRun, the running jobs */
  OddCounter   *completed;
  OddCounter   *failed;
  OddCounter   *refused;
  OddCounter   *retried;
  OddCounter   *validation_failed;
  OddHistogram *processing_seconds;
  OddCounter   *event_messages;
  OddCounter   *events;
} OddLifecycle;

/* Registers the lifecycle metrics in @metrics. */
void odd_lifecycle_init           (OddLifecycle      *self,
                                   OddMetrics        *metrics,
                                   const OddProducer *producer,
                                   guint              max_attempts,
                                   guint              retry_backoff_ms,
                                   OddScheduler      *scheduler,
                                   GHashTable        *runs);
/* @run (taken) got @intake and its stored @row: starts it (into runs and the scheduler),
 * starts a retry generation, or re-emits its end (into @it->done). */
void odd_lifecycle_start_run      (OddLifecycle       *self,
                                   OddIteration       *it,
                                   OddJobRun          *run,
                                   OddProcessorIntake *intake,
                                   OddProcessorJobRow *row,
                                   gint64              now);
/* The attempt of @run (popped from the scheduler) is due at @now. */
void odd_lifecycle_finish_attempt (OddLifecycle      *self,
                                   OddIteration      *it,
                                   OddJobRun         *run,
                                   gint64             now);
/* @run (taken) is a job whose delivery kept failing its consumer; its stored @row has just been
 * made FAILED with last_error @why. Emits the events of a failed job, dead-letters the
 * delivery (redelivered_too_often) and acks it. */
void odd_lifecycle_give_up        (OddLifecycle      *self,
                                   OddIteration      *it,
                                   OddJobRun         *run,
                                   OddProcessorIntake         *intake,
                                   OddProcessorJobRow         *row,
                                   const char        *why);
/* Packs the lifecycle envelopes @it publishes into event batches (event-batch.json): one
 * message per events_per_message envelopes and ODD_LIFECYCLE_MESSAGE_MAX_BYTES, in the order
 * they were emitted; an envelope alone stays a single-envelope message. Call once, when the
 * iteration has decided everything. */
void odd_lifecycle_pack_events    (OddLifecycle      *self,
                                   OddIteration      *it);
/* Dead-letters a message that is not a valid job.created, or one that cannot be processed
 * (see OddProcessorIntake.reason); acks @intake's delivery and the @more_tags (nullable: other
 * deliveries of the same job). */
void odd_lifecycle_reject         (OddLifecycle      *self,
                                   OddIteration      *it,
                                   OddProcessorIntake         *intake,
                                   GArray            *more_tags);

G_END_DECLS
