/* odd-intake.h: one delivery of jobs.lifecycle, checked against the contracts
 *
 * A delivery is either a valid lifecycle event (envelope schema, and job schema for its
 * payload) or a dead letter (dead-letter.json) with reason "unparseable" or "invalid".
 */
#pragma once

#include "odd-contracts.h"

G_BEGIN_DECLS

#define ODD_METRICS_ENGINE_SERVICE "metrics-engine"

typedef struct {
  gboolean  valid;
  JsonNode *envelope;        /* the parsed message; NULL when unparseable */
  char     *text;            /* the JSON text of a valid delivery, what the event store keeps */
  char     *event_id;        /* valid only */
  char     *reason;          /* "invalid" or "unparseable" (not valid only) */
  char     *error;           /* why it is not valid */
  char     *correlation_id;  /* the envelope's correlationId when it is a string, else NULL */
  char     *job_id;          /* payload.id when it is a UUID, else NULL */
} OddMeIntake;

void       odd_me_intake_free      (OddMeIntake        *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddMeIntake, odd_me_intake_free)

OddMeIntake *odd_me_intake_check   (OddSchemaRegistry  *registry,
                                    const void         *body,
                                    gsize               len);
/* Marks @self not valid (e.g. the event store refused it) with @reason and @error. */
void       odd_me_intake_reject    (OddMeIntake        *self,
                                    const char         *reason,
                                    const char         *error);
/* The dead-letter message (dead-letter.json) for a delivery that is not valid.
 * @from_queue: the queue the delivery came from. */
JsonNode  *odd_me_intake_dead_letter (OddMeIntake        *self,
                                      const void         *body,
                                      gsize               len,
                                      const char         *from_queue);

G_END_DECLS
