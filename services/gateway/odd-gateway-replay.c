/* odd-gateway-replay.c: POST /dlq/replay, moving dead letters back to jobs.created
 *
 * Runs on a worker thread with its own short-lived connection (librabbitmq connections are
 * not shared across threads): channel 1 takes messages with basic.get, channel 2 publishes
 * with confirms. A dead letter is acked only once its replacement is confirmed, so a crash
 * or a broker failure in between leaves it in its queue. Each queue is read at most as many
 * times as it had messages when the replay started, so requeued ones cannot loop.
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-gateway"

#include "odd-build-config.h"

#include <string.h>

#include "odd-gateway-private.h"

#define GET_CHANNEL      1
#define PUBLISH_CHANNEL  2
#define BATCH            100
#define CONFIRM_TIMEOUT  5000

typedef struct {
  guint64  delivery_tag;
  GBytes  *body;            /* what to publish; NULL when the message is kept */
  char    *event_id;
  char    *correlation_id;
} Taken;

static void
taken_clear (Taken *taken)
{
  g_clear_pointer (&taken->body, g_bytes_unref);
  g_clear_pointer (&taken->event_id, g_free);
  g_clear_pointer (&taken->correlation_id, g_free);
}

typedef struct {
  OddGatewayReplay        *replay;
  amqp_connection_state_t  conn;
  OddAmqpConfirms         *confirms;
  guint                    remaining;   /* of the request's limit */
  guint                    replayed;
  GArray                  *kept_tags;   /* guint64: nacked with requeue at the end */
  JsonArray               *details;     /* one {queue, reason, jobId?} per kept message */
} Replay;

void
odd_gateway_replay_free (gpointer data)
{
  OddGatewayReplay *replay = data;

  g_clear_object (&replay->gateway);
  g_free (replay->correlation_id);
  g_free (replay);
}

static void
keep (Replay     *state,
      guint64     delivery_tag,
      const char *queue,
      const char *job_id,
      const char *reason)
{
  JsonObject *detail = json_object_new ();

  g_array_append_val (state->kept_tags, delivery_tag);
  json_object_set_string_member (detail, "queue", queue);
  json_object_set_string_member (detail, "reason", reason);
  if (job_id != NULL)
    json_object_set_string_member (detail, "jobId", job_id);
  json_array_add_object_element (state->details, detail);
}

/* The generation the dead job ran as: the processor writes it as the dead letter's top-level
 * "generation"; older letters only have it in the job or its retry metadata. */
static gint64
dead_generation (JsonObject *letter,
                 JsonObject *job)
{
  gint64 generation = 0;

  if (odd_json_get_int (letter, "generation", &generation) ||
      odd_json_get_int (job, "generation", &generation) ||
      odd_json_get_int (odd_json_get_object (job, "metadata"), "retryGeneration", &generation))
    return MAX (generation, 0);

  return 0;
}

static const char *
correlation_of (JsonObject *event,
                const char *fallback)
{
  const char *correlation_id = odd_json_get_string (event, "correlationId");

  return correlation_id != NULL && odd_uuid_is_valid (correlation_id) ? correlation_id : fallback;
}

/* jobs.dead: a job that exhausted its retries; replaying it starts its next generation. */
static void
prepare_dead (Replay     *state,
              Taken      *taken,
              JsonObject *letter)
{
  OddGateway *gateway = state->replay->gateway;
  JsonObject *event = odd_json_get_object (letter, "original_event");
  JsonObject *job = odd_json_get_object (event, "payload");
  g_autoptr(JsonNode) retry = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(JsonNode) envelope = NULL;
  g_autofree char *problem = NULL;
  g_autofree char *idempotency_key = NULL;
  g_autofree char *text = NULL;
  gint64 generation;
  gsize len;

  if (job == NULL)
    {
      keep (state, taken->delivery_tag, ODD_QUEUE_DEAD, NULL, "dead letter has no original_event.payload job");
      return;
    }

  generation = dead_generation (letter, job) + 1;
  retry = odd_gateway_new_retry_job (job, generation, &problem);
  if (retry != NULL)
    {
      errors = odd_gateway_check_job (gateway->schemas, retry, NULL);
      if (errors->len > 0)
        problem = odd_validation_errors_to_string (errors);
    }
  if (problem != NULL)
    {
      g_autofree char *reason = g_strdup_printf ("job cannot be retried: %s", problem);

      keep (state, taken->delivery_tag, ODD_QUEUE_DEAD, odd_json_get_string (job, "id"), reason);
      return;
    }

  idempotency_key = g_strdup_printf ("%s/retry/%" G_GINT64_FORMAT, odd_json_get_string (job, "id"), generation);
  /* Same name, same id as POST /jobs/{id}/retry would make: the two are the same retry. */
  taken->event_id = odd_uuid_v5 (ODD_EVENT_NAMESPACE, idempotency_key);
  taken->correlation_id = g_strdup (correlation_of (event, state->replay->correlation_id));
  envelope = odd_gateway_new_envelope (retry, taken->event_id, taken->correlation_id, idempotency_key);
  text = odd_json_to_string (envelope);
  len = strlen (text);
  taken->body = g_bytes_new_take (g_steal_pointer (&text), len);
}

/* jobs.failed.validation: a job.created the processor refused; it goes back only if the
 * current schemas accept it (they may have been fixed since). */
static void
prepare_invalid (Replay     *state,
                 Taken      *taken,
                 JsonObject *letter)
{
  OddGateway *gateway = state->replay->gateway;
  JsonNode *event_node = json_object_get_member (letter, "original_event");
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *event;
  JsonNode *payload;
  const char *event_type;
  g_autofree char *text = NULL;
  gsize len;

  if (event_node == NULL || !JSON_NODE_HOLDS_OBJECT (event_node))
    {
      keep (state, taken->delivery_tag, ODD_QUEUE_FAILED_VALIDATION, NULL, "original event is not a JSON object");
      return;
    }
  event = json_node_get_object (event_node);
  payload = json_object_get_member (event, "payload");

  event_type = odd_json_get_string (event, "eventType");
  if (g_strcmp0 (event_type, "job.created") != 0)
    {
      g_autofree char *reason = g_strdup_printf ("only job.created events are replayed, not %s",
                                                 event_type != NULL ? event_type : "an event without eventType");

      keep (state, taken->delivery_tag, ODD_QUEUE_FAILED_VALIDATION, NULL, reason);
      return;
    }

  errors = odd_schema_registry_validate (gateway->schemas, "event-envelope", event_node, &error);
  if (errors != NULL && errors->len == 0 && payload != NULL)
    {
      g_clear_pointer (&errors, g_ptr_array_unref);
      errors = odd_gateway_check_job (gateway->schemas, payload, NULL);
    }
  if (errors == NULL || errors->len > 0)
    {
      g_autofree char *problems = errors != NULL ? odd_validation_errors_to_string (errors) : g_strdup (error->message);
      g_autofree char *reason = g_strdup_printf ("still invalid: %s", problems);
      JsonObject *job = payload != NULL && JSON_NODE_HOLDS_OBJECT (payload) ? json_node_get_object (payload) : NULL;

      keep (state, taken->delivery_tag, ODD_QUEUE_FAILED_VALIDATION, odd_json_get_string (job, "id"), reason);
      return;
    }

  /* Unchanged: same event id and idempotency key, so a consumer that did see it drops it. */
  taken->event_id = g_strdup (odd_json_get_string (event, "eventId"));
  taken->correlation_id = g_strdup (odd_json_get_string (event, "correlationId"));
  text = odd_json_to_string (event_node);
  len = strlen (text);
  taken->body = g_bytes_new_take (g_steal_pointer (&text), len);
}

/* basic.get of one message; FALSE on error, TRUE with @taken->delivery_tag 0 when empty. */
static gboolean
get_one (Replay      *state,
         const char  *queue,
         Taken       *taken,
         GError     **error)
{
  amqp_rpc_reply_t reply;
  amqp_message_t message;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) parse_error = NULL;

  reply = amqp_basic_get (state->conn, GET_CHANNEL, amqp_cstring_bytes (queue), FALSE);
  if (!odd_amqp_check_reply (reply, "basic.get", error))
    return FALSE;
  if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
    return TRUE;

  /* Copied now: the decoded method lives in a buffer the next read reuses. */
  taken->delivery_tag = ((amqp_basic_get_ok_t *) reply.reply.decoded)->delivery_tag;

  reply = amqp_read_message (state->conn, GET_CHANNEL, &message, 0);
  if (!odd_amqp_check_reply (reply, "basic.get content", error))
    return FALSE;
  node = odd_json_parse (message.body.bytes, (gssize) message.body.len, &parse_error);
  amqp_destroy_message (&message);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      keep (state, taken->delivery_tag, queue, NULL, "dead letter is not a JSON object");
      return TRUE;
    }

  if (g_str_equal (queue, ODD_QUEUE_DEAD))
    prepare_dead (state, taken, json_node_get_object (node));
  else
    prepare_invalid (state, taken, json_node_get_object (node));

  return TRUE;
}

/* Takes up to @budget messages of @queue in batches: publish a batch, wait for its confirms,
 * then ack its dead letters. */
static gboolean
replay_queue (Replay      *state,
              const char  *queue,
              GError     **error)
{
  guint ready = 0;
  guint consumers = 0;
  guint budget;

  if (!odd_amqp_queue_stats (state->conn, GET_CHANNEL, queue, &ready, &consumers, error))
    return FALSE;
  budget = MIN (ready, state->remaining);

  while (budget > 0)
    {
      g_autoptr(GArray) batch = g_array_new (FALSE, TRUE, sizeof (Taken));
      guint n = MIN (budget, BATCH);
      gboolean empty = FALSE;

      g_array_set_clear_func (batch, (GDestroyNotify) taken_clear);

      /* All gets first, then all publishes: no RPC on channel 1 while confirms are due on 2. */
      for (guint i = 0; i < n; i++)
        {
          Taken taken = { 0 };

          if (!get_one (state, queue, &taken, error))
            {
              taken_clear (&taken);
              return FALSE;
            }
          if (taken.delivery_tag == 0)
            {
              empty = TRUE;
              break;
            }
          g_array_append_val (batch, taken);
        }

      for (guint i = 0; i < batch->len; i++)
        {
          Taken *taken = &g_array_index (batch, Taken, i);
          OddAmqpProps props = {
            .message_id = taken->event_id,
            .correlation_id = taken->correlation_id,
            .type = "job.created",
          };
          gsize len;
          const void *data;

          if (taken->body == NULL)
            continue;
          data = g_bytes_get_data (taken->body, &len);
          if (!odd_amqp_confirms_publish (state->confirms, "", ODD_QUEUE_JOBS_CREATED, &props,
                                          data, len, error))
            return FALSE;
        }

      if (!odd_amqp_confirms_wait (state->confirms, CONFIRM_TIMEOUT, error))
        return FALSE;

      for (guint i = 0; i < batch->len; i++)
        {
          Taken *taken = &g_array_index (batch, Taken, i);
          int status;

          if (taken->body == NULL)
            continue;
          status = amqp_basic_ack (state->conn, GET_CHANNEL, taken->delivery_tag, FALSE);
          if (status != AMQP_STATUS_OK)
            {
              g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                           "basic.ack: %s", amqp_error_string2 (status));
              return FALSE;
            }
          state->replayed++;
        }

      amqp_maybe_release_buffers (state->conn);
      budget -= MIN (budget, batch->len);
      state->remaining -= MIN (state->remaining, batch->len);
      if (empty)
        break;
    }

  return TRUE;
}

static gboolean
replay_all (Replay      *state,
            GError     **error)
{
  amqp_channel_open (state->conn, PUBLISH_CHANNEL);
  if (!odd_amqp_check_reply (amqp_get_rpc_reply (state->conn), "channel.open", error))
    return FALSE;

  state->confirms = odd_amqp_confirms_new (state->conn, PUBLISH_CHANNEL, error);
  if (state->confirms == NULL)
    return FALSE;

  /* A fresh broker may not have the queues yet; passive declares would close the channel. */
  if (!odd_amqp_declare_topology (state->conn, GET_CHANNEL, error))
    return FALSE;

  if (!replay_queue (state, ODD_QUEUE_DEAD, error) ||
      !replay_queue (state, ODD_QUEUE_FAILED_VALIDATION, error))
    return FALSE;

  /* The kept ones go back to their queue, in their place. */
  for (guint i = 0; i < state->kept_tags->len; i++)
    {
      int status = amqp_basic_nack (state->conn, GET_CHANNEL,
                                    g_array_index (state->kept_tags, guint64, i), FALSE, TRUE);

      if (status != AMQP_STATUS_OK)
        {
          g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                       "basic.nack: %s", amqp_error_string2 (status));
          return FALSE;
        }
    }

  return TRUE;
}

void
odd_gateway_replay_run (gpointer       data,
                        OddHttpResult *result)
{
  OddGatewayReplay *replay = data;
  OddGateway *gateway = replay->gateway;
  Replay state = { 0 };
  g_autoptr(GError) error = NULL;
  gboolean ok;

  state.replay = replay;
  state.remaining = replay->limit;
  state.kept_tags = g_array_new (FALSE, FALSE, sizeof (guint64));
  state.details = json_array_new ();

  state.conn = odd_amqp_connect (gateway->config.rabbitmq_url, "gateway-dlq-replay", &error);
  ok = state.conn != NULL && replay_all (&state, &error);

  g_clear_pointer (&state.confirms, odd_amqp_confirms_free);
  /* Closing returns whatever is still unacked (on failure) to its queue. */
  g_clear_pointer (&state.conn, odd_amqp_close);

  if (ok)
    {
      g_autoptr(JsonObject) body = json_object_new ();

      json_object_set_int_member (body, "replayed", state.replayed);
      json_object_set_int_member (body, "kept", state.kept_tags->len);
      json_object_set_array_member (body, "details", g_steal_pointer (&state.details));
      result->status = SOUP_STATUS_OK;
      result->body = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (result->body, g_steal_pointer (&body));
      odd_info (replay->correlation_id, "DLQ replay: %u replayed, %u kept",
                state.replayed, state.kept_tags->len);
    }
  else
    {
      g_autofree char *message = g_strdup_printf ("%s (%u replayed before the error)",
                                                  error->message, state.replayed);
      JsonObject *detail = json_object_new ();
      JsonArray *details = json_array_new ();

      json_object_set_string_member (detail, "path", "");
      json_object_set_string_member (detail, "message", message);
      json_array_add_object_element (details, detail);

      result->status = SOUP_STATUS_SERVICE_UNAVAILABLE;
      result->error = g_strdup ("Broker unavailable, replay stopped");
      result->details = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (result->details, details);
      result->retry_after = g_strdup ("1");
      odd_info (replay->correlation_id, "DLQ replay failed: %s", message);
    }

  g_array_unref (state.kept_tags);
  g_clear_pointer (&state.details, json_array_unref);
}
