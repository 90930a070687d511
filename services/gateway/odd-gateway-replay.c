/* odd-gateway-replay.c: POST /dlq/replay, moving dead letters back to jobs.created
 *
 * Runs on a worker thread with its own short-lived connection (librabbitmq connections are
 * not shared across threads): channel 1 takes messages with basic.get, channel 2 publishes
 * with confirms. A dead letter is acked only once its replacement is confirmed, so a crash
 * or a broker failure in between leaves it in its queue. Each queue is read at most as many
 * times as it had messages when the replay started, so requeued ones cannot loop.
 *
 * By ids ({"ids": [message key, ...]}, the keys GET /dlq lists): both queues are read until
 * every named letter is in hand, the others held unacked meanwhile; then the named ones are
 * replayed and everything else goes back in its place. If one is missing, nothing is replayed
 * (404). A letter taken by one replay is invisible to every other until it is acked or
 * returned, so two replays naming the same letter cannot both publish it; a crash between
 * publish and ack returns it, and its replacement then carries the same event id, which the
 * processor drops as a copy.
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
  guint64   delivery_tag;
  GBytes   *body;            /* what to publish; NULL when the message is kept or skipped */
  char     *event_id;
  char     *correlation_id;
  gboolean  skipped;         /* by ids: not one of them, returned at the end */
  gboolean  copy;            /* by ids: a second copy of a letter in hand, acked with it */
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
  JsonArray               *details;     /* one {queue, reason, jobId?, messageKey?} per kept one */
  GHashTable              *wanted;      /* by ids: key → GINT_TO_POINTER (found) */
  guint                    found;
  const char              *message_key; /* of the message being prepared */
} Replay;

OddGatewayReplay *
odd_gateway_replay_new (OddGateway *gateway,
                        const char *correlation_id)
{
  OddGatewayReplay *replay = g_new0 (OddGatewayReplay, 1);

  replay->gateway = g_object_ref (gateway);
  replay->limit = 100;
  replay->correlation_id = g_strdup (correlation_id);
  return replay;
}

static void
add_detail (JsonArray  *details,
            const char *path,
            const char *message)
{
  JsonObject *detail = json_object_new ();

  json_object_set_string_member (detail, "path", path);
  json_object_set_string_member (detail, "message", message);
  json_array_add_object_element (details, detail);
}

/* ids: 1 to ODD_GATEWAY_REPLAY_IDS_MAX distinct message keys (UUIDs, any case). */
static void
parse_ids (OddGatewayReplay *replay,
           JsonNode         *member,
           JsonArray        *details)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *ids;
  guint n;

  if (!JSON_NODE_HOLDS_ARRAY (member))
    {
      add_detail (details, "/ids", "must be an array of dead letter keys (messageKey in GET /dlq)");
      return;
    }
  ids = json_node_get_array (member);
  n = json_array_get_length (ids);
  if (n == 0)
    {
      add_detail (details, "/ids", "must name at least one dead letter");
      return;
    }
  if (n > ODD_GATEWAY_REPLAY_IDS_MAX)
    {
      g_autofree char *message = g_strdup_printf ("must name at most %d dead letters, not %u: "
                                                  "replay more in several requests",
                                                  ODD_GATEWAY_REPLAY_IDS_MAX, n);

      add_detail (details, "/ids", message);
      return;
    }

  replay->keys = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *element = json_array_get_element (ids, i);
      g_autofree char *path = g_strdup_printf ("/ids/%u", i);
      const char *text;
      char *key;

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING ||
          !odd_uuid_is_valid (text = json_node_get_string (element)))
        {
          add_detail (details, path, "must be a dead letter key: a UUID, as messageKey in GET /dlq");
          continue;
        }
      key = g_ascii_strdown (text, -1);
      g_ptr_array_add (replay->keys, key);
      if (!g_hash_table_add (seen, key))
        add_detail (details, path, "names the same dead letter as an earlier id");
    }
}

gboolean
odd_gateway_replay_parse (OddGatewayReplay  *replay,
                          JsonNode          *body,
                          JsonNode         **details)
{
  g_autoptr(JsonArray) problems = json_array_new ();
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  gboolean has_limit = FALSE;

  g_return_val_if_fail (replay != NULL && body != NULL, FALSE);

  if (!JSON_NODE_HOLDS_OBJECT (body))
    add_detail (problems, "", "must be a JSON object");
  else
    {
      json_object_iter_init (&iter, json_node_get_object (body));
      while (json_object_iter_next (&iter, &name, &member))
        {
          if (g_str_equal (name, "limit"))
            {
              has_limit = TRUE;
              if (!JSON_NODE_HOLDS_VALUE (member) || json_node_get_value_type (member) != G_TYPE_INT64 ||
                  json_node_get_int (member) < 1 || json_node_get_int (member) > 1000)
                add_detail (problems, "/limit", "must be an integer from 1 to 1000");
              else
                replay->limit = (guint) json_node_get_int (member);
            }
          else if (g_str_equal (name, "ids"))
            parse_ids (replay, member, problems);
          else
            {
              /* A misspelt "ids" must not replay the oldest hundred instead. */
              g_autofree char *path = g_strdup_printf ("/%s", name);

              add_detail (problems, path, "unknown member: the body has \"ids\" or \"limit\"");
            }
        }
      if (has_limit && json_object_has_member (json_node_get_object (body), "ids"))
        add_detail (problems, "", "give \"ids\" or \"limit\", not both");
    }

  if (json_array_get_length (problems) == 0)
    return TRUE;
  *details = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (*details, g_steal_pointer (&problems));
  return FALSE;
}

void
odd_gateway_replay_free (gpointer data)
{
  OddGatewayReplay *replay = data;

  g_clear_object (&replay->gateway);
  g_clear_pointer (&replay->keys, g_ptr_array_unref);
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
  if (state->message_key != NULL)
    json_object_set_string_member (detail, "messageKey", state->message_key);
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
  g_autofree char *key = NULL;

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
  if (message.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
    {
      g_autofree char *raw = g_strndup (message.properties.message_id.bytes,
                                        message.properties.message_id.len);

      key = g_ascii_strdown (raw, -1);
    }

  if (state->wanted != NULL)
    {
      gpointer found = NULL;

      /* Not one of the named letters: only its tag is kept, to give it back. */
      if (key == NULL || !g_hash_table_lookup_extended (state->wanted, key, NULL, &found))
        {
          amqp_destroy_message (&message);
          taken->skipped = TRUE;
          return TRUE;
        }
      if (GPOINTER_TO_INT (found))
        {
          /* The same letter twice in the queue (a redelivered publish): one replay for both. */
          amqp_destroy_message (&message);
          taken->copy = TRUE;
          return TRUE;
        }
      g_hash_table_insert (state->wanted, g_strdup (key), GINT_TO_POINTER (TRUE));
      state->found++;
    }

  node = odd_json_parse (message.body.bytes, (gssize) message.body.len, &parse_error);
  amqp_destroy_message (&message);

  state->message_key = key;
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    keep (state, taken->delivery_tag, queue, NULL, "dead letter is not a JSON object");
  else if (g_str_equal (queue, ODD_QUEUE_DEAD))
    prepare_dead (state, taken, json_node_get_object (node));
  else
    prepare_invalid (state, taken, json_node_get_object (node));
  state->message_key = NULL;

  return TRUE;
}

static gboolean
nack_requeue (Replay   *state,
              guint64   delivery_tag,
              GError  **error)
{
  int status = amqp_basic_nack (state->conn, GET_CHANNEL, delivery_tag, FALSE, TRUE);

  if (status != AMQP_STATUS_OK)
    {
      g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                   "basic.nack: %s", amqp_error_string2 (status));
      return FALSE;
    }
  return TRUE;
}

static gboolean
ack (Replay   *state,
     guint64   delivery_tag,
     GError  **error)
{
  int status = amqp_basic_ack (state->conn, GET_CHANNEL, delivery_tag, FALSE);

  if (status != AMQP_STATUS_OK)
    {
      g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                   "basic.ack: %s", amqp_error_string2 (status));
      return FALSE;
    }
  return TRUE;
}

/* Publishes the batch's replacements, waits for their confirms, then acks their letters (and
 * the copies of them). */
static gboolean
publish_batch (Replay   *state,
               GArray   *batch,
               GError  **error)
{
  gboolean any = FALSE;

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
      any = TRUE;
    }

  if (any && !odd_amqp_confirms_wait (state->confirms, CONFIRM_TIMEOUT, error))
    return FALSE;

  for (guint i = 0; i < batch->len; i++)
    {
      Taken *taken = &g_array_index (batch, Taken, i);

      if (taken->body == NULL && !taken->copy)
        continue;
      if (!ack (state, taken->delivery_tag, error))
        return FALSE;
      if (taken->body != NULL)
        state->replayed++;
    }

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

      if (!publish_batch (state, batch, error))
        return FALSE;

      amqp_maybe_release_buffers (state->conn);
      budget -= MIN (budget, batch->len);
      state->remaining -= MIN (state->remaining, batch->len);
      if (empty)
        break;
    }

  return TRUE;
}

/* By ids: reads @queue once through (or until every named letter is in hand). */
static gboolean
take_named (Replay      *state,
            const char  *queue,
            GArray      *batch,
            GArray      *skipped_tags,
            GError     **error)
{
  guint ready = 0;
  guint consumers = 0;

  if (!odd_amqp_queue_stats (state->conn, GET_CHANNEL, queue, &ready, &consumers, error))
    return FALSE;

  for (guint i = 0; i < ready && state->found < g_hash_table_size (state->wanted); i++)
    {
      Taken taken = { 0 };

      if (!get_one (state, queue, &taken, error))
        {
          taken_clear (&taken);
          return FALSE;
        }
      if (taken.delivery_tag == 0)
        break;
      if (taken.skipped)
        g_array_append_val (skipped_tags, taken.delivery_tag);
      else
        g_array_append_val (batch, taken);
      amqp_maybe_release_buffers (state->conn);
    }

  return TRUE;
}

static gboolean
replay_named (Replay      *state,
              GError     **error)
{
  g_autoptr(GArray) batch = g_array_new (FALSE, TRUE, sizeof (Taken));
  g_autoptr(GArray) skipped_tags = g_array_new (FALSE, FALSE, sizeof (guint64));
  gboolean complete;

  g_array_set_clear_func (batch, (GDestroyNotify) taken_clear);

  if (!take_named (state, ODD_QUEUE_DEAD, batch, skipped_tags, error) ||
      !take_named (state, ODD_QUEUE_FAILED_VALIDATION, batch, skipped_tags, error))
    return FALSE;

  complete = state->found == g_hash_table_size (state->wanted);
  if (complete)
    {
      if (!publish_batch (state, batch, error))
        return FALSE;
    }
  else
    {
      /* All or nothing: what was taken goes back, kept ones included. */
      for (guint i = 0; i < batch->len; i++)
        if (!nack_requeue (state, g_array_index (batch, Taken, i).delivery_tag, error))
          return FALSE;
      g_array_set_size (state->kept_tags, 0);
    }

  for (guint i = 0; i < skipped_tags->len; i++)
    if (!nack_requeue (state, g_array_index (skipped_tags, guint64, i), error))
      return FALSE;

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

  if (state->wanted != NULL)
    {
      if (!replay_named (state, error))
        return FALSE;
    }
  else if (!replay_queue (state, ODD_QUEUE_DEAD, error) ||
           !replay_queue (state, ODD_QUEUE_FAILED_VALIDATION, error))
    return FALSE;

  /* The kept ones go back to their queue, in their place. */
  for (guint i = 0; i < state->kept_tags->len; i++)
    if (!nack_requeue (state, g_array_index (state->kept_tags, guint64, i), error))
      return FALSE;

  return TRUE;
}

/* The 404 of a replay by ids that did not find them all. */
static void
set_missing (Replay        *state,
             OddHttpResult *result)
{
  GPtrArray *keys = state->replay->keys;
  JsonArray *details = json_array_new ();

  for (guint i = 0; i < keys->len; i++)
    if (!GPOINTER_TO_INT (g_hash_table_lookup (state->wanted, keys->pdata[i])))
      {
        g_autofree char *path = g_strdup_printf ("/ids/%u", i);

        add_detail (details, path, "no dead letter with this key waits in jobs.dead or "
                    "jobs.failed.validation: it was replayed already, or another replay holds it now");
      }

  result->status = SOUP_STATUS_NOT_FOUND;
  result->error = g_strdup ("Dead letters not found, none replayed");
  result->details = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (result->details, details);
  odd_info (state->replay->correlation_id, "DLQ replay by ids: %u of %u not found, none replayed",
            json_array_get_length (details), keys->len);
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
  if (replay->keys != NULL)
    {
      state.wanted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      for (guint i = 0; i < replay->keys->len; i++)
        g_hash_table_insert (state.wanted, g_strdup (replay->keys->pdata[i]), GINT_TO_POINTER (FALSE));
    }

  state.conn = odd_amqp_connect (gateway->config.rabbitmq_url, "gateway-dlq-replay", &error);
  ok = state.conn != NULL && replay_all (&state, &error);

  g_clear_pointer (&state.confirms, odd_amqp_confirms_free);
  /* Closing returns whatever is still unacked (on failure) to its queue. */
  g_clear_pointer (&state.conn, odd_amqp_close);

  if (ok && state.wanted != NULL && state.found < g_hash_table_size (state.wanted))
    set_missing (&state, result);
  else if (ok)
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
  g_clear_pointer (&state.wanted, g_hash_table_unref);
}
