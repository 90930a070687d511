/* odd-gateway-handlers.c: the gateway's HTTP endpoints
 *
 * POST /jobs answers 202 only once the broker has confirmed the job.created event: until
 * then the message is paused, so a 202 always means the job is on a durable queue.
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-gateway"

#include "odd-build-config.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "odd-gateway-private.h"

/* The nice value of the threads that check POST /jobs bodies (the main loop keeps 0). */
#define CHECKER_NICE 10

/* A request that waits for the read model and/or a publisher confirm. */
typedef struct {
  OddGateway        *gateway;
  SoupServerMessage *msg;
  SoupMessage       *upstream;        /* the read-model request of a retry */
  char              *correlation_id;
  char              *job_id;
  char              *event_id;
  gint64             generation;      /* of a retry; -1 for a submission */
  gint64             published_at;    /* monotonic µs */
  gulong             disconnected_id;
  gboolean           disconnected;
} Pending;

static void
on_client_disconnected (SoupServerMessage *msg,
                        Pending           *pending)
{
  /* The publish goes on (it cannot be taken back); only the answer has nobody to go to. */
  pending->disconnected = TRUE;
}

static Pending *
pending_new (OddGateway        *gateway,
             SoupServerMessage *msg)
{
  Pending *pending = g_new0 (Pending, 1);

  pending->gateway = g_object_ref (gateway);
  pending->msg = g_object_ref (msg);
  pending->correlation_id = g_strdup (odd_http_correlation_id (msg));
  pending->generation = -1;
  pending->disconnected_id = g_signal_connect (msg, "disconnected",
                                               G_CALLBACK (on_client_disconnected), pending);
  soup_server_message_pause (msg);

  return pending;
}

/* Sends what was set on the message, unless the client is gone. */
static void
pending_free (Pending *pending)
{
  if (!pending->disconnected)
    soup_server_message_unpause (pending->msg);
  g_clear_signal_handler (&pending->disconnected_id, pending->msg);
  g_clear_object (&pending->msg);
  g_clear_object (&pending->upstream);
  g_clear_object (&pending->gateway);
  g_free (pending->correlation_id);
  g_free (pending->job_id);
  g_free (pending->event_id);
  g_free (pending);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pending, pending_free)

static void
set_retry_after (SoupServerMessage *msg)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", "1");
}

/* Answers an error and counts it as a rejected job with @reason (a fixed, bounded set). */
static void
reject (OddGateway        *self,
        SoupServerMessage *msg,
        const char        *correlation_id,
        const char        *reason,
        guint              status,
        const char        *error,
        JsonNode          *details)
{
  odd_counter_inc (self->jobs_rejected, reason);
  odd_info (correlation_id, "Job rejected (%s, %u): %s", reason, status, error);
  odd_http_reply_error (msg, status, error, details);
  if (status == SOUP_STATUS_SERVICE_UNAVAILABLE || status == SOUP_STATUS_GATEWAY_TIMEOUT)
    set_retry_after (msg);
}

/* Compares digests, not the strings, so the time taken says nothing about the token,
 * not even its length. */
static gboolean
token_equal (const char *given,
             const char *expected)
{
  guint8 a[32], b[32];
  gsize a_len = sizeof a, b_len = sizeof b;
  g_autoptr(GChecksum) ca = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GChecksum) cb = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 diff = 0;

  g_checksum_update (ca, (const guchar *) given, strlen (given));
  g_checksum_update (cb, (const guchar *) expected, strlen (expected));
  g_checksum_get_digest (ca, a, &a_len);
  g_checksum_get_digest (cb, b, &b_len);

  for (gsize i = 0; i < sizeof a; i++)
    diff |= a[i] ^ b[i];

  return diff == 0;
}

gboolean
odd_gateway_check_auth (OddGateway        *self,
                        SoupServerMessage *msg)
{
  const char *header;

  if (self->config.api_token == NULL)
    return TRUE;

  header = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");
  if (header != NULL && g_ascii_strncasecmp (header, "Bearer ", 7) == 0 &&
      token_equal (header + 7, self->config.api_token))
    return TRUE;

  /* The header is never logged: it may hold a near-miss of the real token. */
  reject (self, msg, odd_http_correlation_id (msg), "unauthorized", SOUP_STATUS_UNAUTHORIZED,
          "Missing or invalid bearer token", NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "WWW-Authenticate", "Bearer");

  return FALSE;
}

static void
answer_published (Pending      *pending,
                  GObject      *source,
                  GAsyncResult *result)
{
  OddGateway *self = pending->gateway;
  g_autoptr(GError) error = NULL;

  if (!odd_amqp_publisher_publish_finish (ODD_AMQP_PUBLISHER (source), result, &error))
    {
      gboolean full = g_error_matches (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_FULL);
      g_autoptr(JsonNode) details = odd_http_details_new ("", error->message);

      if (pending->disconnected)
        odd_info (pending->correlation_id, "Job %s not accepted and its client is gone: %s",
                  pending->job_id, error->message);

      /* A 503 promises that the job does not exist. A message that was sent but never
       * confirmed may be on the queue: say so (504), and the client resubmits the same id,
       * which the processor treats as the same job. */
      if (g_error_matches (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_UNCONFIRMED) ||
          g_error_matches (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_TIMEOUT))
        {
          reject (self, pending->msg, pending->correlation_id, "unconfirmed",
                  SOUP_STATUS_GATEWAY_TIMEOUT,
                  "Broker did not confirm the job; it may have been queued: resubmit it with the same id",
                  details);
          return;
        }

      /* The broker said no (jobs.created at its max-length, overflow reject-publish): the
       * job certainly does not exist, and the client should come back when the queue has
       * drained a little. */
      if (g_error_matches (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_REJECTED))
        {
          g_autofree char *retry_after = g_strdup_printf ("%d", ODD_GATEWAY_QUEUE_FULL_RETRY_AFTER_S);

          reject (self, pending->msg, pending->correlation_id, "queue_full",
                  SOUP_STATUS_SERVICE_UNAVAILABLE,
                  "Job queue full (the processors are behind), job not accepted: retry later",
                  details);
          soup_message_headers_replace (soup_server_message_get_response_headers (pending->msg),
                                        "Retry-After", retry_after);
          return;
        }

      reject (self, pending->msg, pending->correlation_id,
              full ? "overloaded" : "broker_unavailable",
              SOUP_STATUS_SERVICE_UNAVAILABLE,
              full ? "Gateway overloaded, job not accepted" : "Broker unavailable, job not accepted",
              details);
      return;
    }

  odd_histogram_observe (self->publish_confirm_seconds,
                         (g_get_monotonic_time () - pending->published_at) / (double) G_USEC_PER_SEC);
  odd_counter_inc (self->jobs_accepted, NULL);

  if (pending->disconnected)
    {
      /* Accepted all the same: the job is on the queue. */
      g_debug ("Job %s accepted (event %s), its client is gone", pending->job_id, pending->event_id);
      return;
    }

  odd_log (G_LOG_LEVEL_DEBUG, pending->correlation_id, "Job %s accepted (event %s)",
           pending->job_id, pending->event_id);
  if (odd_uuid_is_valid (pending->job_id) && odd_uuid_is_valid (pending->event_id))
    {
      /* Two UUIDs need no escaping: written directly, as the builder below would. */
      char *text = pending->generation >= 0
        ? g_strdup_printf ("{\"jobId\":\"%s\",\"eventId\":\"%s\",\"generation\":%" G_GINT64_FORMAT "}",
                           pending->job_id, pending->event_id, pending->generation)
        : g_strdup_printf ("{\"jobId\":\"%s\",\"eventId\":\"%s\"}", pending->job_id, pending->event_id);

      soup_server_message_set_status (pending->msg, SOUP_STATUS_ACCEPTED, NULL);
      soup_server_message_set_response (pending->msg, "application/json", SOUP_MEMORY_TAKE, text, strlen (text));
    }
  else
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) body = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "jobId");
      json_builder_add_string_value (builder, pending->job_id);
      json_builder_set_member_name (builder, "eventId");
      json_builder_add_string_value (builder, pending->event_id);
      if (pending->generation >= 0)
        {
          json_builder_set_member_name (builder, "generation");
          json_builder_add_int_value (builder, pending->generation);
        }
      json_builder_end_object (builder);
      body = json_builder_get_root (builder);
      odd_http_reply_json (pending->msg, SOUP_STATUS_ACCEPTED, body);
    }
}

static void
on_published (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Pending *pending = user_data;
  g_autoptr(OddGateway) self = g_object_ref (pending->gateway);

  answer_published (pending, source, result);
  /* Answer first, then count it done: a shutdown waiting for this one must see it answered. */
  pending_free (pending);
  odd_gateway_outstanding_done (self);
}

/* Publishes the envelope text and answers from on_published(); takes @pending. */
static void
publish_envelope (OddGateway *self,
                  Pending    *pending,
                  GBytes     *envelope)
{
  OddAmqpProps props = {
    .message_id = pending->event_id,
    .correlation_id = pending->correlation_id,
    .type = "job.created",
  };

  self->outstanding++;
  pending->published_at = g_get_monotonic_time ();
  odd_amqp_publisher_publish_async (self->publisher, "", ODD_QUEUE_JOBS_CREATED, &props, envelope,
                                    NULL, on_published, pending);
}

/* FALSE (answered 503) when no job can be accepted now. */
static gboolean
check_can_publish (OddGateway        *self,
                   SoupServerMessage *msg,
                   const char        *correlation_id)
{
  if (self->shutting_down)
    {
      reject (self, msg, correlation_id, "overloaded", SOUP_STATUS_SERVICE_UNAVAILABLE,
              "Gateway shutting down, job not accepted", NULL);
      return FALSE;
    }

  /* Failing fast: a publish would only wait for a connection and time out. */
  if (self->publisher == NULL || !odd_amqp_publisher_is_connected (self->publisher))
    {
      g_autofree char *reason = self->publisher != NULL ? odd_amqp_publisher_dup_error (self->publisher) : NULL;
      g_autoptr(JsonNode) details = odd_http_details_new ("", reason != NULL ? reason : "not connected to RabbitMQ");

      reject (self, msg, correlation_id, "broker_unavailable", SOUP_STATUS_SERVICE_UNAVAILABLE,
              "Broker unavailable, job not accepted", details);
      return FALSE;
    }

  return TRUE;
}

static const char *
reason_for_status (guint status)
{
  switch (status)
    {
    case SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE:
      return "too_large";
    case SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE:
      return "unsupported_media";
    default:
      return "malformed";
    }
}

/* odd_http_read_json_body(); NULL (and @reason) when answered. */
static JsonNode *
read_strict_json (SoupServerMessage *msg,
                  gsize              max_bytes,
                  const char       **reason)
{
  JsonNode *body = odd_http_read_json_body (msg, max_bytes);

  if (body == NULL)
    *reason = reason_for_status (soup_server_message_get_status (msg));

  return body;
}

/* Bodies up to this size are checked one after another by the drainer, which takes each next
 * one from OddGateway.to_check: no thread woken per job. Larger ones, whose check takes
 * longer, get a checker of their own and hold up no small one. */
#define CHECK_QUEUE_MAX_BYTES (16 * 1024)

/* A submission on its way through the checks pool. */
typedef struct {
  Pending              *pending;
  GBytes               *body;
  OddGatewaySubmission *submission;
} Check;

static void
submission_checked (Check *check)
{
  Pending *pending = check->pending;
  OddGateway *self = pending->gateway;
  g_autoptr(OddGatewaySubmission) submission = g_steal_pointer (&check->submission);

  g_bytes_unref (check->body);
  g_free (check);

  if (pending->disconnected)
    {
      odd_info (pending->correlation_id, "Job not submitted: its client left while it was checked");
      pending_free (pending);
      return;
    }
  if (submission->malformed != NULL)
    {
      odd_counter_inc (self->jobs_rejected, "malformed");
      odd_info (pending->correlation_id, "Job rejected (malformed, 400): %s", submission->malformed);
      odd_http_reply_malformed (pending->msg, submission->malformed);
      pending_free (pending);
      return;
    }
  if (submission->invalid != NULL)
    {
      reject (self, pending->msg, pending->correlation_id, "invalid", SOUP_STATUS_BAD_REQUEST,
              submission->invalid, submission->details);
      pending_free (pending);
      return;
    }

  odd_counter_inc (self->jobs_submitted, NULL);
  if (pending->disconnected || !check_can_publish (self, pending->msg, pending->correlation_id))
    {
      pending_free (pending);
      return;
    }

  pending->job_id = g_steal_pointer (&submission->job_id);
  pending->event_id = g_steal_pointer (&submission->event_id);
  publish_envelope (self, pending, submission->envelope);
}

/* The checks done since the last call, in the order they were done: one wakeup of the main
 * loop (one source) for all the checks that finished meanwhile, not one per job. */
static gboolean
on_submissions_checked (gpointer user_data)
{
  OddGateway *self = user_data;
  g_autoptr(GPtrArray) checked = NULL;

  g_mutex_lock (&self->checked_lock);
  /* Swapped: the workers go on filling an empty array meanwhile. */
  checked = g_steal_pointer (&self->checked);
  self->checked = g_ptr_array_new ();
  g_mutex_unlock (&self->checked_lock);

  for (guint i = 0; i < checked->len; i++)
    submission_checked (g_ptr_array_index (checked, i));
  return G_SOURCE_REMOVE;
}

/* Hands @check back to the main loop. */
static void
return_checked (OddGateway *self,
                Check      *check)
{
  gboolean first;

  g_mutex_lock (&self->checked_lock);
  first = self->checked->len == 0;
  g_ptr_array_add (self->checked, check);
  g_mutex_unlock (&self->checked_lock);
  /* The first of a batch wakes the main loop; the others find it on its way. The source
   * holds the gateway: the check's own reference goes with the check. */
  if (first)
    g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, on_submissions_checked,
                                g_object_ref (self), g_object_unref);
}

/* Checks a large body on a thread of OddGateway.checks. */
void
odd_gateway_check_worker (gpointer data,
                          gpointer user_data)
{
  Check *check = data;
  OddGateway *self = user_data;
  static GPrivate niced;

  /* Linux gives each thread its own nice value: the checkers of large bodies yield the CPU to
   * the main loop, which answers /healthz and the broker's confirms meanwhile. */
  if (g_private_get (&niced) == NULL)
    {
      if (setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), CHECKER_NICE) != 0)
        g_debug ("Cannot lower the checkers' priority: %s", g_strerror (errno));
      g_private_set (&niced, GINT_TO_POINTER (TRUE));
    }

  check->submission = odd_gateway_submission_check (self->schemas, check->body,
                                                    check->pending->correlation_id);
  return_checked (self, check);
}

/* Checks small bodies on OddGateway.drainer, the first one given and then each next one
 * queued in OddGateway.to_check meanwhile, until none is left. Not niced: a small body takes
 * some ten microseconds to check, and every submission waits for it (at nice 10 on a busy
 * machine the wait for the CPU was 6 to 11 ms on average, the check 0.01 ms). */
void
odd_gateway_drain_worker (gpointer data,
                          gpointer user_data)
{
  Check *check = data;
  OddGateway *self = user_data;

  while (check != NULL)
    {
      check->submission = odd_gateway_submission_check (self->schemas, check->body,
                                                        check->pending->correlation_id);
      return_checked (self, check);

      g_mutex_lock (&self->checked_lock);
      if (self->to_check->len > 0)
        check = g_ptr_array_steal_index (self->to_check, 0);
      else
        {
          check = NULL;
          self->draining = FALSE;
        }
      g_mutex_unlock (&self->checked_lock);
    }
}

/* Gives @check to a checker: small bodies to the drainer (queued for it when it is already
 * draining), large ones to a checker of their own. */
static void
queue_check (OddGateway *self,
             Check      *check)
{
  gboolean start_drainer = FALSE;

  if (g_bytes_get_size (check->body) > CHECK_QUEUE_MAX_BYTES)
    {
      g_thread_pool_push (self->checks, check, NULL);
      return;
    }

  g_mutex_lock (&self->checked_lock);
  if (self->draining)
    g_ptr_array_add (self->to_check, check);
  else
    start_drainer = self->draining = TRUE;
  g_mutex_unlock (&self->checked_lock);
  if (start_drainer)
    g_thread_pool_push (self->drainer, check, NULL);
}

static void
submit_job (OddGateway        *self,
            SoupServerMessage *msg)
{
  const char *correlation_id = odd_http_correlation_id (msg);
  g_autoptr(GBytes) body = NULL;
  Check *check;

  if (!odd_gateway_check_auth (self, msg))
    return;

  body = odd_http_read_body (msg, ODD_GATEWAY_MAX_BODY_BYTES);
  if (body == NULL)
    {
      const char *reason = reason_for_status (soup_server_message_get_status (msg));

      /* Already answered; only count it. */
      odd_counter_inc (self->jobs_rejected, reason);
      odd_info (correlation_id, "Job rejected (%s, %u)", reason, soup_server_message_get_status (msg));
      return;
    }

  /* Checking costs time in proportion to the body: not on the main loop, which answers
   * every other request (/healthz included) meanwhile. */
  check = g_new0 (Check, 1);
  check->pending = pending_new (self, msg);
  check->body = g_steal_pointer (&body);
  queue_check (self, check);
}

static JsonObject *
job_of_read_model_answer (JsonNode *root)
{
  JsonObject *object;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  object = json_node_get_object (root);

  /* Both {job fields...} and {"job": {...}, "events": [...]} are understood. */
  return odd_json_get_object (object, "job") ?: object;
}

/* Replaces the payload of @retry by the text of the read model's answer (@data) for it. */
static void
set_raw_payload (JsonNode   *retry,
                 const char *data,
                 gsize       len)
{
  g_autoptr(GArray) members = odd_json_object_members (data, len);
  g_autoptr(GArray) job_members = NULL;
  const char *job = data;
  gsize job_len = len;

  if (members == NULL)
    return;
  /* {"job": {...}, "events": [...]} or the job's fields alone */
  for (guint i = 0; i < members->len; i++)
    {
      OddJsonMember *m = &g_array_index (members, OddJsonMember, i);

      if (g_str_equal (m->name, "job") && data[m->offset] == '{')
        {
          job = data + m->offset;
          job_len = m->length;
        }
    }
  job_members = job == data ? g_steal_pointer (&members) : odd_json_object_members (job, job_len);
  for (guint i = 0; i < job_members->len; i++)
    {
      OddJsonMember *m = &g_array_index (job_members, OddJsonMember, i);

      if (g_str_equal (m->name, "payload") && job[m->offset] == '{' &&
          json_object_has_member (json_node_get_object (retry), "payload"))
        json_object_set_member (json_node_get_object (retry), "payload",
                                odd_json_raw_new (job + m->offset, (gssize) m->length));
    }
}

static void
on_read_model_job (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(Pending) pending = user_data;
  OddGateway *self = pending->gateway;
  SoupServerMessage *msg = pending->msg;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) retry = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(JsonNode) envelope = NULL;
  g_autofree char *idempotency_key = NULL;
  g_autofree char *problem = NULL;
  g_autofree char *envelope_text = NULL;
  g_autoptr(GBytes) envelope_bytes = NULL;
  gsize envelope_len;
  JsonObject *job;
  const char *status;
  gint64 generation = 0;
  guint upstream_status;
  gsize len;
  const char *data;

  bytes = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (bytes == NULL)
    {
      g_autoptr(JsonNode) details = odd_http_details_new ("", error->message);

      odd_info (pending->correlation_id, "Retry of %s: read model unreachable: %s",
                pending->job_id, error->message);
      odd_http_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "Read model unavailable", details);
      set_retry_after (msg);
      return;
    }

  upstream_status = soup_message_get_status (pending->upstream);
  if (upstream_status == SOUP_STATUS_NOT_FOUND)
    {
      odd_http_reply_error (msg, SOUP_STATUS_NOT_FOUND, "Job not found", NULL);
      return;
    }
  if (!SOUP_STATUS_IS_SUCCESSFUL (upstream_status))
    {
      g_autofree char *message = g_strdup_printf ("the read model answered %u", upstream_status);
      g_autoptr(JsonNode) details = odd_http_details_new ("", message);

      odd_http_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "Read model unavailable", details);
      set_retry_after (msg);
      return;
    }

  data = g_bytes_get_data (bytes, &len);
  root = odd_json_parse (data, len, &error);
  job = job_of_read_model_answer (root);
  if (job == NULL)
    {
      g_autoptr(JsonNode) details = odd_http_details_new ("", error != NULL ? error->message : "not a JSON object");

      odd_http_reply_error (msg, SOUP_STATUS_BAD_GATEWAY, "Read model returned an unusable job", details);
      return;
    }

  /* Never retry another job than the one asked for, whatever the read model says. */
  if (g_ascii_strcasecmp (odd_json_get_string (job, "id") ?: "", pending->job_id) != 0)
    {
      g_autoptr(JsonNode) details = odd_http_details_new ("/id", "the read model answered with another job");

      odd_http_reply_error (msg, SOUP_STATUS_BAD_GATEWAY, "Read model returned an unusable job", details);
      return;
    }

  status = odd_json_get_string (job, "status");
  if (g_strcmp0 (status, "FAILED") != 0)
    {
      g_autofree char *message = g_strdup_printf ("is %s", status != NULL ? status : "missing");
      g_autoptr(JsonNode) details = odd_http_details_new ("/status", message);

      odd_http_reply_error (msg, SOUP_STATUS_CONFLICT, "Only FAILED jobs can be retried", details);
      return;
    }

  if (!odd_json_get_int (job, "generation", &generation) || generation < 0)
    generation = 0;

  retry = odd_gateway_new_retry_job (job, generation + 1, &problem);
  if (retry != NULL)
    {
      errors = odd_gateway_check_job (self->schemas, retry, NULL);
      if (errors->len > 0)
        problem = odd_validation_errors_to_string (errors);
    }
  if (problem != NULL)
    {
      g_autoptr(JsonNode) details = odd_http_details_new ("", problem);

      odd_http_reply_error (msg, SOUP_STATUS_BAD_GATEWAY, "Read model returned an unusable job", details);
      return;
    }

  if (!check_can_publish (self, msg, pending->correlation_id))
    return;

  pending->generation = generation + 1;
  idempotency_key = g_strdup_printf ("%s/retry/%" G_GINT64_FORMAT, pending->job_id, pending->generation);
  /* A name-based id: asking twice for the same retry makes the same event. */
  pending->event_id = odd_uuid_v5 (ODD_EVENT_NAMESPACE, idempotency_key);
  /* The payload exactly as stored, not as json-glib would write its numbers back. */
  set_raw_payload (retry, data, len);
  envelope = odd_gateway_new_envelope (retry, pending->event_id, pending->correlation_id, idempotency_key);
  envelope_text = odd_json_to_string (envelope);
  envelope_len = strlen (envelope_text);
  envelope_bytes = g_bytes_new_take (g_steal_pointer (&envelope_text), envelope_len);
  odd_info (pending->correlation_id, "Retrying job %s as generation %" G_GINT64_FORMAT,
            pending->job_id, pending->generation);
  publish_envelope (self, g_steal_pointer (&pending), envelope_bytes);
}

static void
retry_job (OddGateway        *self,
           SoupServerMessage *msg,
           const char        *job_id)
{
  const char *correlation_id = odd_http_correlation_id (msg);
  g_autofree char *url = NULL;
  Pending *pending;

  if (!odd_gateway_check_auth (self, msg))
    return;

  if (!odd_uuid_is_valid (job_id))
    {
      g_autoptr(JsonNode) details = odd_http_details_new ("/id", "must be a UUID");

      odd_http_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "Invalid job id", details);
      return;
    }

  if (self->shutting_down)
    {
      odd_http_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "Gateway shutting down", NULL);
      set_retry_after (msg);
      return;
    }

  pending = pending_new (self, msg);
  pending->job_id = g_ascii_strdown (job_id, -1);
  url = g_strdup_printf ("%s/jobs/%s", self->config.read_model_url, pending->job_id);
  pending->upstream = soup_message_new (SOUP_METHOD_GET, url);
  soup_message_headers_replace (soup_message_get_request_headers (pending->upstream),
                                "Accept", "application/json");
  soup_message_headers_replace (soup_message_get_request_headers (pending->upstream),
                                "X-Correlation-Id", correlation_id);
  soup_session_send_and_read_async (self->read_model, pending->upstream, G_PRIORITY_DEFAULT,
                                    NULL, on_read_model_job, pending);
}

static void
on_jobs (OddHttpServer     *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  OddGateway *self = user_data;
  g_autofree char *id = NULL;

  if (g_str_equal (path, "/jobs") || g_str_equal (path, "/jobs/"))
    {
      submit_job (self, msg);
      return;
    }

  /* /jobs/{id}/retry */
  if (g_str_has_prefix (path, "/jobs/") && g_str_has_suffix (path, "/retry"))
    {
      gsize len = strlen (path) - strlen ("/jobs/") - strlen ("/retry");

      if (strlen (path) >= strlen ("/jobs//retry"))
        {
          id = g_strndup (path + strlen ("/jobs/"), len);
          if (strchr (id, '/') == NULL)
            {
              retry_job (self, msg, id);
              return;
            }
        }
    }

  odd_http_reply_error (msg, SOUP_STATUS_NOT_FOUND, "Not found", NULL);
}

static void
on_dlq_replay (OddHttpServer     *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  OddGateway *self = user_data;
  SoupMessageBody *request_body = soup_server_message_get_request_body (msg);
  g_autoptr(OddGatewayReplay) replay = odd_gateway_replay_new (self, odd_http_correlation_id (msg));

  if (!odd_gateway_check_auth (self, msg))
    return;

  if (request_body != NULL && request_body->length > 0)
    {
      const char *reason = NULL;
      g_autoptr(JsonNode) body = read_strict_json (msg, 64 * 1024, &reason);
      g_autoptr(JsonNode) details = NULL;

      if (body == NULL)
        return;
      if (!odd_gateway_replay_parse (replay, body, &details))
        {
          odd_http_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "Invalid replay request", details);
          return;
        }
    }

  if (self->shutting_down)
    {
      odd_http_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "Gateway shutting down", NULL);
      set_retry_after (msg);
      return;
    }

  odd_http_server_defer (self->http, msg, odd_gateway_replay_run, g_steal_pointer (&replay),
                         odd_gateway_replay_free);
}

static void
on_openapi (OddHttpServer     *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  OddGateway *self = user_data;
  g_autoptr(JsonNode) document = odd_gateway_openapi_document (odd_gateway_get_port (self));

  odd_http_reply_json (msg, SOUP_STATUS_OK, document);
}

static void
on_docs (OddHttpServer     *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  if (!g_str_equal (path, "/docs") && !g_str_equal (path, "/docs/"))
    {
      odd_http_reply_error (msg, SOUP_STATUS_NOT_FOUND, "Not found", NULL);
      return;
    }

  odd_http_reply_text (msg, SOUP_STATUS_OK, "text/html; charset=utf-8", odd_gateway_docs_html ());
}

/* The shared body limit of OddHttpServer answered a submission before reading it: count it. */
static void
on_refused (OddHttpServer     *server,
            SoupServerMessage *msg,
            gpointer           user_data)
{
  OddGateway *self = user_data;
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));

  if (soup_server_message_get_status (msg) == SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE &&
      g_strcmp0 (soup_server_message_get_method (msg), SOUP_METHOD_POST) == 0 &&
      (g_str_has_prefix (path, "/jobs") || g_str_has_prefix (path, "/dlq/")))
    {
      odd_counter_inc (self->jobs_rejected, "too_large");
      odd_info (odd_http_correlation_id (msg), "Job rejected (too_large, 413) before its body was read");
    }
}

void
odd_gateway_add_routes (OddGateway *self)
{
  static const char *const post[] = { "POST", NULL };
  static const char *const get[] = { "GET", "HEAD", NULL };

  odd_http_server_add_route (self->http, "/jobs", post, on_jobs, self);
  odd_http_server_add_route (self->http, "/jobs/", post, on_jobs, self);
  odd_http_server_add_route (self->http, "/dlq/replay", post, on_dlq_replay, self);
  odd_http_server_add_route (self->http, "/openapi.json", get, on_openapi, self);
  odd_http_server_add_route (self->http, "/docs", get, on_docs, self);
  odd_http_server_add_route (self->http, "/docs/", get, on_docs, self);

  /* No early handler of its own: libsoup keeps one per path, and one on "/" would replace
   * OddHttpServer's, which holds the body limit on every path. */
  odd_http_server_set_max_body (self->http, ODD_GATEWAY_MAX_BODY_BYTES);
  g_signal_connect_object (self->http, "refused", G_CALLBACK (on_refused), self, 0);
}
