/* odd-envelope.h: jobs and event envelopes as the contracts define them */
#pragma once

#include <json-glib/json-glib.h>

#include "odd-json.h"

G_BEGIN_DECLS

#define ODD_CONTRACT_VERSION "1.0.0"

/* Several envelopes in one message (contract event-batch.json): a JSON array of them, sent to
 * odd.events with this routing key and AMQP type. At most ODD_EVENT_BATCH_MAX_EVENTS of them
 * (the schema's maxItems). */
#define ODD_EVENT_BATCH_ROUTING_KEY "job.batch"
#define ODD_EVENT_BATCH_TYPE        "event-batch"
#define ODD_EVENT_BATCH_MAX_EVENTS  1000

typedef struct {
  const char *service;
  const char *instance_id;
  const char *version;
} OddProducer;

/* Builds an envelope (contract event-envelope.json). @payload is deep-copied (NULL = {}).
 * @event_id and @correlation_id may be NULL: new UUIDs are made. @occurred_at NULL = now.
 * @idempotency_key NULL = the event id. The result is a new, mutable node. */
JsonNode *odd_envelope_new (const char        *event_type,
                            const char        *event_id,
                            const char        *occurred_at,
                            const OddProducer *producer,
                            const char        *correlation_id,
                            const char        *idempotency_key,
                            JsonNode          *payload);

/* Completes a short job submission {type, payload?} into a Job: fills id (new uuid),
 * status PENDING and createdAt (now) where they are absent. Returns a new node (a deep copy;
 * @submission is not changed); a non-object is returned copied as is, for the validator to reject. */
JsonNode *odd_job_complete (JsonNode *submission);

/* payload.simulate of a job (docs/architecture.md), with defaults for what is absent. */
typedef struct {
  guint  duration_ms;
  double fail_rate;
  guint  fail_attempts;
} OddSimulation;

/* FALSE with a message in @error_message when payload.simulate is present but malformed. */
gboolean  odd_job_get_simulation (JsonObject    *job,
                                  OddSimulation *simulation,
                                  char         **error_message);

G_END_DECLS
