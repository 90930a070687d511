/* odd-intake.h: one delivery of jobs.lifecycle, checked against the contracts
 *
 * A delivery holds one envelope (event-envelope.json) or an event batch (event-batch.json: an
 * array of envelopes). Each event in it is either valid (envelope schema, and job schema for
 * its payload) or a dead letter of its own (dead-letter.json) with reason "unparseable" or
 * "invalid": a bad element of a batch does not take the others with it.
 */
#pragma once

#include "odd-contracts.h"

G_BEGIN_DECLS

#define ODD_METRICS_ENGINE_SERVICE "metrics-engine"

typedef struct {
  gboolean  valid;
  JsonNode *envelope;        /* the parsed message; NULL when unparseable */
  char     *text;            /* the bytes of this event as delivered (a batch: its element),
                              * NUL-terminated: what the event store keeps when valid */
  gsize     text_len;
  gboolean  in_batch;        /* an element of an event batch */
  char     *event_id;        /* valid only */
  char     *reason;          /* "invalid" or "unparseable" (not valid only) */
  char     *error;           /* why it is not valid */
  char     *correlation_id;  /* the envelope's correlationId when it is a string, else NULL */
  char     *job_id;          /* payload.id when it is a UUID, else NULL */
} OddMeIntake;

void       odd_me_intake_free      (OddMeIntake        *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddMeIntake, odd_me_intake_free)

/* Checks one envelope. */
OddMeIntake *odd_me_intake_check   (OddSchemaRegistry  *registry,
                                    const void         *body,
                                    gsize               len);
/* Checks a delivery: a single envelope, or an event batch whose elements are checked one by
 * one. Appends one OddMeIntake per event to @intakes (a batch that is not a JSON array of 1 to
 * ODD_EVENT_BATCH_MAX_EVENTS values is one invalid intake); returns how many. */
guint      odd_me_intake_check_delivery (OddSchemaRegistry  *registry,
                                         const void         *body,
                                         gsize               len,
                                         GPtrArray          *intakes);
/* Marks @self not valid (e.g. the event store refused it) with @reason and @error. */
void       odd_me_intake_reject    (OddMeIntake        *self,
                                    const char         *reason,
                                    const char         *error);
/* The dead-letter message (dead-letter.json) for an event that is not valid.
 * @from_queue: the queue the delivery came from. */
JsonNode  *odd_me_intake_dead_letter (OddMeIntake        *self,
                                      const char         *from_queue);
/* The dead letter's message id: the same for every delivery of the same bytes. */
char      *odd_me_intake_dead_letter_id (OddMeIntake     *self);

G_END_DECLS
