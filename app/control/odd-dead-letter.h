/* odd-dead-letter.h: one stored dead letter of GET /dlq (dlq.json), and what a replay did */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define ODD_TYPE_DEAD_LETTER (odd_dead_letter_get_type ())
G_DECLARE_FINAL_TYPE (OddDeadLetter, odd_dead_letter, ODD, DEAD_LETTER, GObject)

OddDeadLetter *odd_dead_letter_new_from_json      (JsonObject    *object);

/* Properties "id", "queue", "reason", "job-id", "correlation-id", "message-key", "dead-at",
 * "replayed-at", "error", "message". */
gint64         odd_dead_letter_get_id             (OddDeadLetter *self);
/* "jobs.dead" or "jobs.failed.validation" */
const char    *odd_dead_letter_get_queue          (OddDeadLetter *self);
/* "invalid", "unparseable", "retries_exhausted" */
const char    *odd_dead_letter_get_reason         (OddDeadLetter *self);
/* NULL when not known. */
const char    *odd_dead_letter_get_job_id         (OddDeadLetter *self);
const char    *odd_dead_letter_get_correlation_id (OddDeadLetter *self);
/* The key POST /dlq/replay names the letter by (its message id); NULL from an older read model. */
const char    *odd_dead_letter_get_message_key    (OddDeadLetter *self);
GDateTime     *odd_dead_letter_get_dead_at        (OddDeadLetter *self);
/* NULL until replayed. */
GDateTime     *odd_dead_letter_get_replayed_at    (OddDeadLetter *self);
/* The message's validation_error (why it died), NULL when none. */
const char    *odd_dead_letter_get_error          (OddDeadLetter *self);
/* The dead-letter message (dead-letter.json). */
JsonNode      *odd_dead_letter_get_message        (OddDeadLetter *self);

/* The answer of POST /dlq/replay (dlq-replay.json), summed over the requests of one call. */
typedef struct
{
  guint      replayed;  /* moved back to jobs.created */
  guint      kept;      /* left in their queue */
  GPtrArray *reasons;   /* char *: why each kept one was kept ("jobs.dead: ...") */
} OddReplayResult;

#define ODD_TYPE_REPLAY_RESULT (odd_replay_result_get_type ())
GType            odd_replay_result_get_type  (void) G_GNUC_CONST;
OddReplayResult *odd_replay_result_copy      (const OddReplayResult *result);
void             odd_replay_result_free      (OddReplayResult       *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddReplayResult, odd_replay_result_free)

G_END_DECLS
