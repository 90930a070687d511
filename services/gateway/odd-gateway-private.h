/* odd-gateway-private.h: what the gateway's files share, not for other users */
#pragma once

#include "odd-service.h"
#include "odd-gateway.h"

G_BEGIN_DECLS

/* A full jobs.created (the broker nacks under its max-length policy) is answered 503 with
 * this Retry-After, and /readyz says not ready for as long after the last nack (or until a
 * publish is confirmed again). */
#define ODD_GATEWAY_QUEUE_FULL_RETRY_AFTER_S 5

struct _OddGateway
{
  GObject            parent_instance;

  OddGatewayConfig   config;
  OddSchemaRegistry *schemas;
  OddMetrics        *metrics;
  OddHttpServer     *http;
  OddAmqpPublisher  *publisher;
  SoupSession       *read_model;   /* for /jobs/{id}/retry */
  GMainContext      *context;      /* where the service runs */
  GThreadPool       *checks;       /* large POST /jobs bodies are checked there */
  GThreadPool       *drainer;      /* one thread, its own: checks the small ones */
  GMutex             checked_lock; /* for the three below */
  GPtrArray         *checked;      /* checks done, for the main loop */
  GPtrArray         *to_check;     /* small bodies for the checker that is draining */
  gboolean           draining;     /* the drainer takes to_check's next until it is empty */

  OddCounter        *jobs_submitted;
  OddCounter        *jobs_accepted;
  OddCounter        *jobs_rejected;
  OddHistogram      *publish_confirm_seconds;
  OddGauge          *amqp_connected;

  guint              outstanding;
  gboolean           started;
  gboolean           shutting_down;
  gboolean           shutdown_draining;
  GTask             *shutdown_task;
  guint              shutdown_timeout_id;
  GCancellable      *shutdown_cancellable;
  gulong             shutdown_cancelled_id;
};

/* odd-gateway-handlers.c */
void      odd_gateway_add_routes         (OddGateway        *self);
/* Called after each publish completes, so shutdown can notice the last one. */
void      odd_gateway_outstanding_done   (OddGateway        *self);

/* The checks pool's and the drainer's functions: check a POST /jobs body (a large one; the
 * small ones), then answer or publish it from the gateway's context. */
void      odd_gateway_check_worker       (gpointer           data,
                                          gpointer           user_data);
void      odd_gateway_drain_worker       (gpointer           data,
                                          gpointer           user_data);

/* Rejects (401) a POST without the right bearer token; TRUE when it may go on. */
gboolean  odd_gateway_check_auth         (OddGateway        *self,
                                          SoupServerMessage *msg);

/* odd-gateway-job.c */
/* Checks a job (after odd_job_complete) for submission: the job schema, payload.simulate
 * (@simulate, or the job's own when NULL) against the simulation schema, status PENDING and
 * bounded nesting. Returns every problem as OddValidationError (empty when acceptable). */
GPtrArray *odd_gateway_check_job         (OddSchemaRegistry *schemas,
                                          JsonNode          *job,
                                          JsonNode          *simulate);

/* A POST /jobs body, checked (on any thread) and, when acceptable, made into its
 * job.created envelope. */
typedef struct {
  char      *correlation_id;
  char      *malformed;      /* not JSON: odd_json_parse()'s message */
  char      *invalid;        /* not a job: the error, with details */
  JsonNode  *details;
  char      *job_id;         /* acceptable: the job, its event and the envelope's text */
  char      *event_id;
  GBytes    *envelope;
} OddGatewaySubmission;

/* Never expands the body: see odd-gateway-job.c. */
OddGatewaySubmission *odd_gateway_submission_check (OddSchemaRegistry *schemas,
                                                    GBytes            *body,
                                                    const char        *correlation_id);
void       odd_gateway_submission_free   (OddGatewaySubmission *submission);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddGatewaySubmission, odd_gateway_submission_free)

/* The job.created envelope for @job (its payload) as the gateway produces it. */
JsonNode  *odd_gateway_new_envelope      (JsonNode          *job,
                                          const char        *event_id,
                                          const char        *correlation_id,
                                          const char        *idempotency_key);

/* A retry of a FAILED job: {id, type, status PENDING, createdAt, payload,
 * metadata.retryGeneration = generation + 1}; NULL with @error_message when @failed_job lacks
 * what a job needs. */
JsonNode  *odd_gateway_new_retry_job     (JsonObject        *failed_job,
                                          gint64             next_generation,
                                          char             **error_message);

/* odd-gateway-replay.c: POST /dlq/replay, on a worker thread */

/* At most this many dead letters named in one request. */
#define ODD_GATEWAY_REPLAY_IDS_MAX 100

typedef struct {
  OddGateway *gateway;   /* a reference */
  guint       limit;     /* count mode: the oldest @limit letters */
  GPtrArray  *keys;      /* id mode (then non-NULL): the message keys of the letters */
  char       *correlation_id;
} OddGatewayReplay;

OddGatewayReplay *odd_gateway_replay_new (OddGateway        *gateway,
                                          const char        *correlation_id);
/* Reads a request body ({"limit": n} or {"ids": [key, ...]}) into @replay; FALSE with the
 * 400's @details when it is not one. */
gboolean  odd_gateway_replay_parse       (OddGatewayReplay  *replay,
                                          JsonNode          *body,
                                          JsonNode         **details);
void      odd_gateway_replay_free        (gpointer           data);
void      odd_gateway_replay_run         (gpointer           data,
                                          OddHttpResult     *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddGatewayReplay, odd_gateway_replay_free)

G_END_DECLS
